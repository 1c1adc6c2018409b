#!/usr/bin/env python3
"""Joins criterion's results for gilfree with bench.py's CPython results into one markdown table.

    python3 benches/python/join.py --python target/cpython-bench.json
    python3 benches/python/join.py --python target/cpython-bench.json --estimate mean

Criterion keeps one folder per benchmark under target/criterion: the group name with every
`/` (and `?"\\*<>:|^`) turned into `_`, then the function id, then the parameter if any, e.g.
`uncontended_lock/gilfree_Lock/new/` or `queue_mpmc_bounded1024/gilfree_Queue/2p2c/new/`.
Each `new/` holds `benchmark.json` (the real `group_id`, `function_id`, `value_str` and
`full_id`) and `estimates.json` (point estimates in ns per iteration). This script walks every
`new/benchmark.json`, so it needs no knowledge of the folder names.

A row is a gilfree benchmark `group/gilfree_X[/param]`, paired with the CPython result
`group/cpython_X[/param]`; CPython-only ids (no gilfree twin, or that Rust bench not run) get
a row of their own. The "best Rust peer" is the fastest non-gilfree function of the same group
and parameter (parking_lot, std, crossbeam, flume, dashmap, rayon, threadpool). A missing value
is printed as "—"; nothing missing makes the script fail.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DASH = "—"

# The Rust groups in the order the bench files define them (rows of unknown groups go last).
GROUP_ORDER = [
    # threading.rs
    "uncontended/lock", "uncontended/rlock", "uncontended/semaphore",
    "contended/lock/2threads", "contended/lock/4threads",
    "no_waiters", "handoff/event", "handoff/condition",
    "barrier/rounds/2threads", "barrier/rounds/4threads",
    # thread.rs
    "thread/spawn_join",
    # queue.rs
    "queue_spsc_bounded1024", "queue_mpmc_bounded1024", "simple_queue_spsc", "queue_uncontended",
    # collections.rs
    "deque_uncontended", "deque_contended_2threads",
    "set_read_heavy_2threads", "set_read_heavy_4threads", "set_uncontended",
    # futures.rs
    "pool_empty_tasks", "pool_1us_tasks", "pool_10us_tasks", "submit_result_latency", "map_100k",
]


def load_criterion(root, estimate):
    """{full_id: (group_id, function_id, value_str or "", ns)} from every new/benchmark.json."""
    out = {}
    if not os.path.isdir(root):
        return out
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        try:
            with open(os.path.join(dirpath, "benchmark.json")) as fh:
                meta = json.load(fh)
            with open(os.path.join(dirpath, "estimates.json")) as fh:
                est = json.load(fh)
            ns = est[estimate]["point_estimate"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"join.py: skipping {dirpath}: {e}", file=sys.stderr)
            continue
        group, function = meta.get("group_id"), meta.get("function_id")
        if not group or not function:
            continue
        value = meta.get("value_str") or ""
        full_id = meta.get("full_id") or "/".join(p for p in (group, function, value) if p)
        out[full_id] = (group, function, value, float(ns))
    return out


def load_python(path):
    if not path:
        return {}, {}
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as e:
        print(f"join.py: no CPython results ({path}: {e})", file=sys.stderr)
        return {}, {}
    results = doc.get("results") or {}
    return {k: float(v) for k, v in results.items() if isinstance(v, (int, float))}, doc.get(
        "machine"
    ) or {}


def split_python_id(py_id):
    """'group/with/slashes/cpython_X[/param]' -> (group, 'X', param)."""
    parts = py_id.split("/")
    for i, part in enumerate(parts):
        if part.startswith("cpython_"):
            return "/".join(parts[:i]), part[len("cpython_"):], "/".join(parts[i + 1:])
    return None


def make_id(group, function, value):
    return "/".join(p for p in (group, function, value) if p)


def fmt_ns(ns):
    if ns is None:
        return DASH
    if ns >= 100_000:
        return f"{ns:,.0f}"
    if ns >= 100:
        return f"{ns:.0f}"
    if ns >= 10:
        return f"{ns:.1f}"
    return f"{ns:.2f}"


def fmt_ratio(num, den):
    if num is None or den is None or den <= 0:
        return DASH
    r = num / den
    return f"{r:.1f}×" if r >= 10 else f"{r:.2f}×"


def pair_rows(rust, py):
    """rows: {(group, name, param): {"rust": ns, "py": ns}}, name being the X of gilfree_X /
    cpython_X; peers: {(group, param): [(ns, function)]}, every non-gilfree Rust function.
    `rust` is load_criterion's answer, `py` load_python's first."""
    rows = {}
    peers = {}
    for group, function, value, ns in rust.values():
        if function.startswith("gilfree_"):
            rows.setdefault((group, function[len("gilfree_"):], value), {})["rust"] = ns
        else:
            peers.setdefault((group, value), []).append((ns, function))
    for py_id, ns in py.items():
        key = split_python_id(py_id)
        if key is None:
            continue
        rows.setdefault(key, {})["py"] = ns
    return rows, peers


def op_suffix(name):
    """'Condition_notify_one' -> '_notify_one', 'Deque' -> '': what a row does to its type."""
    return "_" + name.split("_", 1)[1] if "_" in name else ""


def peers_of(key, rows, peers):
    """The peers [(ns, function)] of one row of pair_rows: those whose name ends with the
    row's operation suffix (the longest suffix of the group that matches wins), else those of
    the plain rows."""
    group, name, value = key
    suffixes = {op_suffix(n) for (g, n, v) in rows if (g, v) == (group, value)} - {""}
    by_suffix = {}
    for ns, function in peers.get((group, value), []):
        match = max((x for x in suffixes if function.endswith(x)), key=len, default="")
        by_suffix.setdefault(match, []).append((ns, function))
    return by_suffix.get(op_suffix(name)) or by_suffix.get("", [])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--criterion",
                    default=os.environ.get("CRITERION_HOME")
                    or os.path.join(ROOT, "target", "criterion"),
                    help="criterion's output folder (default: $CRITERION_HOME, else "
                         "target/criterion)")
    ap.add_argument("--python", default=os.path.join(ROOT, "target", "cpython-bench.json"),
                    help="bench.py's --json output (default: target/cpython-bench.json)")
    ap.add_argument("--estimate", default="median", choices=["median", "mean", "slope"],
                    help="which criterion point estimate to use (default: median)")
    args = ap.parse_args()

    rust = load_criterion(args.criterion, args.estimate)
    py, machine = load_python(args.python)

    rows, peers = pair_rows(rust, py)

    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    # Within a group: bench.py's order (the Rust bench's), then Rust-only rows as found.
    py_order = {split_python_id(k): i for i, k in enumerate(py)}
    first_seen = {k: len(py_order) + i for i, k in enumerate(rows)}

    def sort_key(key):
        return (order.get(key[0], len(order)), key[0], py_order.get(key, first_seen[key]))

    if machine:
        gil = "free-threaded" if machine.get("free_threaded_build") else "GIL"
        print(f"CPython: {machine.get('implementation', '?')} {machine.get('python_version', '?')}"
              f" ({gil}), {machine.get('cpu_count', '?')} CPUs, {machine.get('platform', '?')}; "
              f"gilfree: criterion {args.estimate} estimates from {args.criterion}")
        print()
    print("| workload | gilfree (ns) | CPython (ns) | CPython/gilfree speed-up | best Rust peer (ns) |")
    print("|---|---:|---:|---:|---|")
    for key in sorted(rows, key=sort_key):
        group, name, value = key
        row = rows[key]
        workload = make_id(group, name, value)
        rust_ns, py_ns = row.get("rust"), row.get("py")
        best = min(peers_of(key, rows, peers), default=None)
        peer = f"{best[1]} {fmt_ns(best[0])}" if best else DASH
        print(f"| {workload} | {fmt_ns(rust_ns)} | {fmt_ns(py_ns)} | "
              f"{fmt_ratio(py_ns, rust_ns)} | {peer} |")
    if not rows:
        print(f"| (no results: run cargo bench and bench.py first) | {DASH} | {DASH} | {DASH} | {DASH} |")


if __name__ == "__main__":
    main()
