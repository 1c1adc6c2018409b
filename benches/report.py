#!/usr/bin/env python3
"""BENCHMARKS.md and the contention charts, from one run of `bash benches/run`.

Standard library only. Three subcommands, which benches/run calls in this order:

  python3 benches/report.py machine --mode quick --out target/benchmarks/machine.json
      Describes the machine (CPU model, cores, memory, OS), the toolchain (rustc, cargo,
      python3), the tree (commit, dirty or not) and the peers' versions (Cargo.lock); prints
      it and writes it as JSON. Run at the start, so the commit is the one measured.

  python3 benches/report.py syscalls --bin EXE --out target/benchmarks/syscalls.json
      Runs EXE (the contention bench) once per operation of its syscall probe
      (GILFREE_SYSCALL_PROBE=<op>, 1,000,000 iterations on one thread, no other thread) under
      `strace -f -c`, and subtracts the `none` baseline (same objects, no iteration): what is
      left is the syscalls the operations made.

  python3 benches/report.py report --out BENCHMARKS.md --charts benches/charts
      Reads criterion's results (--criterion, default $CRITERION_HOME or target/criterion),
      bench.py's JSON (--python, default target/cpython-bench.json), and the files the two
      subcommands above and benches/run wrote in target/benchmarks (machine.json,
      syscalls.json, steps.tsv, logs/); writes the markdown report and one SVG line chart per
      contention curve (linked from the report by a path relative to it).

The ratios, targets and verdicts come from benches/ratios.py (imported): ratio_rows (its
table of gilfree/peer pairs), ISSUE_TARGETS (the performance issue's targets), verdict. The
CPython pairing comes from benches/python/join.py (imported): a gilfree_X benchmark is paired
with bench.py's cpython_X of the same group, and a workload without a ratios.py peer is shown
beside its best Rust peer (join.py's rule).
"""

import argparse
import datetime
import html
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "python"))
import join  # noqa: E402  (benches/python/join.py)
import ratios  # noqa: E402  (benches/ratios.py)

OUT_DIR = os.path.join(ROOT, "target", "benchmarks")
DASH = "—"

# The Rust peers whose versions the report shows (from Cargo.lock).
PEER_CRATES = ["parking_lot", "crossbeam-channel", "flume", "dashmap", "rayon", "threadpool",
               "ocl", "criterion"]


# ---------------------------------------------------------------------------------------------
# Small helpers


def run(cmd, **kw):
    """A command's stdout, stripped, or None when it cannot run or fails."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT, **kw)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def load_json(path):
    text = read(path) if path else None
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def fmt_time(ns):
    if ns is None:
        return DASH
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    if ns >= 100:
        return f"{ns:.0f} ns"
    return f"{ns:.1f} ns"


def fmt_ratio(r, digits=2):
    if r is None:
        return DASH
    return f"{r:.1f}×" if r >= 10 else f"{r:.{digits}f}×"


def fmt_limit(limit):
    return f"≤ {limit:g}"


def md_escape(text):
    return text.replace("|", "\\|")


# ---------------------------------------------------------------------------------------------
# machine


def cpu_model():
    text = read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith(("model name", "hardware", "cpu model")):
            return line.split(":", 1)[1].strip()
    lscpu = run(["lscpu"]) or ""
    for line in lscpu.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def lscpu_fields():
    out = {}
    for line in (run(["lscpu"]) or "").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def memory_gib():
    for line in (read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / (1 << 20), 1)
    return None


def os_name():
    for line in (read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return platform.system()


def lock_versions():
    """{crate: [versions]} from Cargo.lock."""
    versions = {}
    name = None
    for line in (read(os.path.join(ROOT, "Cargo.lock")) or "").splitlines():
        line = line.strip()
        if line == "[[package]]":
            name = None
        elif line.startswith("name = "):
            name = line.split("=", 1)[1].strip().strip('"')
        elif line.startswith("version = ") and name:
            versions.setdefault(name, []).append(line.split("=", 1)[1].strip().strip('"'))
    return versions


def package_version():
    m = re.search(r'(?ms)^\[package\].*?^version\s*=\s*"([^"]+)"',
                  read(os.path.join(ROOT, "Cargo.toml")) or "")
    return m.group(1) if m else None


def opencl_platforms():
    out = run(["clinfo", "-l"]) if shutil.which("clinfo") else None
    return [line.strip() for line in out.splitlines()] if out else []


def machine(mode):
    fields = lscpu_fields()
    try:
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=normal"],
                                capture_output=True, text=True, check=True, cwd=ROOT).stdout
    except (OSError, subprocess.CalledProcessError):
        status = None
    changed = [line[3:] for line in status.splitlines() if line.strip()] if status else []
    versions = lock_versions()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mode": mode,
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "threads_per_core": fields.get("Thread(s) per core"),
        "cores_per_socket": fields.get("Core(s) per socket"),
        "sockets": fields.get("Socket(s)"),
        "hypervisor": fields.get("Hypervisor vendor"),
        "memory_gib": memory_gib(),
        "os": os_name(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "rustc": run(["rustc", "-V"]),
        "cargo": run(["cargo", "-V"]),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "gilfree": package_version(),
        "commit": run(["git", "rev-parse", "HEAD"]),
        "commit_subject": run(["git", "log", "-1", "--format=%s"]),
        "dirty": bool(changed) if status is not None else None,
        "changed_files": changed,
        "crates": {name: versions.get(name, []) for name in PEER_CRATES},
        "opencl": opencl_platforms(),
        "loadavg_start": (read("/proc/loadavg") or "").split()[:3],
    }


def print_machine(m):
    print(f"machine: {m['cpu_model']}, {m['cpus']} CPUs"
          + (f" ({m['sockets']} socket(s) x {m['cores_per_socket']} core(s) x "
             f"{m['threads_per_core']} thread(s))" if m.get("cores_per_socket") else "")
          + (f", {m['memory_gib']} GiB" if m.get("memory_gib") else ""))
    print(f"os:      {m['os']}, kernel {m['kernel']} ({m['arch']})")
    print(f"tools:   {m['rustc']}; {m['cargo']}; {m['python']}")
    dirty = {True: f"dirty, {len(m['changed_files'])} changed", False: "clean",
             None: "unknown"}[m["dirty"]]
    print(f"tree:    gilfree {m['gilfree']} at {(m['commit'] or '?')[:12]} ({dirty})")
    print("crates:  " + ", ".join(f"{k} {'/'.join(v) or '-'}" for k, v in m["crates"].items()))
    print(f"opencl:  {'; '.join(m['opencl']) or 'no platform'}")
    print(f"load:    {' '.join(m['loadavg_start'])} (1, 5, 15 min), mode {m['mode']}")


def cmd_machine(args):
    m = machine(args.mode)
    print_machine(m)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            json.dump(m, fh, indent=2)
            fh.write("\n")


# ---------------------------------------------------------------------------------------------
# syscalls


def strace_counts(path):
    """{syscall: calls} from an `strace -c -o path` summary."""
    counts = {}
    for line in (read(path) or "").splitlines():
        parts = line.split()
        if len(parts) < 5 or not parts[3].isdigit() or parts[-1] == "total":
            continue
        counts[parts[-1]] = counts.get(parts[-1], 0) + int(parts[3])
    return counts


def cmd_syscalls(args):
    listing = run([args.bin], env={**os.environ, "GILFREE_SYSCALL_PROBE": "list"})
    if not listing:
        sys.exit(f"report.py syscalls: {args.bin} lists no probe operations")
    ops = [line.split("\t", 1) for line in listing.splitlines() if "\t" in line]
    doc = {"ops_per_run": args.ops, "strace": run(["strace", "-V"]), "results": []}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for op, what in ops:
            out = os.path.join(tmp, op)
            env = {**os.environ, "GILFREE_SYSCALL_PROBE": op, "GILFREE_SYSCALL_OPS": str(args.ops)}
            probe = subprocess.run(["strace", "-f", "-c", "-o", out, args.bin], env=env,
                                   capture_output=True, text=True)
            if probe.returncode != 0:
                sys.exit(f"report.py syscalls: probe {op} failed:\n{probe.stdout}{probe.stderr}")
            m = re.search(r"in ([\d.]+) ms", probe.stdout)
            counts[op] = (what, strace_counts(out), float(m.group(1)) if m else None)
    base = counts.get("none", ("", {}, None))[1]
    for op, (what, c, ms) in counts.items():
        if op == "none":
            continue
        delta = {k: c.get(k, 0) - base.get(k, 0) for k in set(c) | set(base)}
        delta = {k: v for k, v in sorted(delta.items()) if v}
        doc["results"].append({
            "op": op,
            "what": what,
            "futex": c.get("futex", 0),
            "futex_baseline": base.get("futex", 0),
            "futex_delta": c.get("futex", 0) - base.get("futex", 0),
            "total": sum(c.values()),
            "total_baseline": sum(base.values()),
            "total_delta": sum(c.values()) - sum(base.values()),
            "delta_by_syscall": delta,
            "ns_per_op_under_strace": ms * 1e6 / args.ops if ms is not None else None,
        })
        r = doc["results"][-1]
        print(f"  {op:<22} futex {r['futex_delta']:>8}  all syscalls {r['total_delta']:>8}  "
              f"(beyond the baseline, in {args.ops:,} ops)")
    doc["baseline"] = base
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")


# ---------------------------------------------------------------------------------------------
# report: the data


def load_criterion(root):
    """{full_id: {"group", "function", "value", "ns", "elements"}} (median point estimates)."""
    medians = ratios.load_medians(root) if os.path.isdir(root) else {}
    meta = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        info = load_json(os.path.join(dirpath, "benchmark.json")) or {}
        full_id = info.get("full_id")
        if full_id in medians:
            tp = info.get("throughput") or {}
            meta[full_id] = {
                "group": info.get("group_id") or "",
                "function": info.get("function_id") or "",
                "value": info.get("value_str") or "",
                "ns": medians[full_id],
                "elements": tp.get("Elements") if isinstance(tp, dict) else None,
            }
    for full_id, ns in medians.items():  # no benchmark.json: split the id as best we can
        if full_id not in meta:
            group, _, function = full_id.rpartition("/")
            meta[full_id] = {"group": group, "function": function, "value": "", "ns": ns,
                             "elements": None}
    return meta


class Data:
    def __init__(self, criterion_dir, python_json):
        self.bench = load_criterion(criterion_dir)
        self.medians = {k: v["ns"] for k, v in self.bench.items()}
        py_doc = load_json(python_json) or {}
        self.py = {k: float(v) for k, v in (py_doc.get("results") or {}).items()
                   if isinstance(v, (int, float))}
        self.py_machine = py_doc.get("machine") or {}
        self.py_mode = py_doc.get("mode")
        rust = {k: (v["group"], v["function"], v["value"], v["ns"]) for k, v in self.bench.items()}
        self.rows, self.peers = join.pair_rows(rust, self.py)
        self.ratio_rows = ratios.ratio_rows(self.medians)

    def cpython_of(self, full_id):
        b = self.bench.get(full_id)
        if not b or not b["function"].startswith("gilfree_"):
            return None
        return self.py.get(join.make_id(b["group"], "cpython_" + b["function"][8:], b["value"]))


# ---------------------------------------------------------------------------------------------
# report: the per-area tables

# (title, what one iteration is, does a gilfree benchmark (group, function) belong here)
AREAS = [
    ("Lock, RLock, Semaphore",
     "uncontended: one acquire + release; contended: one lock + increment + unlock, all "
     "threads together (time per operation, summed over the threads)",
     lambda g, f: g.startswith("uncontended/") or g.startswith("contended/lock/")),
    ("Condition, Event",
     "no_waiters: one notify / set / release + try_acquire with nobody waiting; handoff: one "
     "round trip between two threads",
     lambda g, f: g == "no_waiters" or g.startswith("handoff/")),
    ("Barrier", "one round: every thread passes the barrier once",
     lambda g, f: g.startswith("barrier/")),
    ("Thread", "one thread created, started and joined",
     lambda g, f: g.startswith("thread/")),
    ("Queue (LifoQueue, PriorityQueue)",
     "threaded groups: one message (1 producer / 1 consumer, or P / C); queue_uncontended: one "
     "put + get on one thread",
     lambda g, f: (g.startswith(("queue_spsc", "queue_mpmc"))
                   or (g == "queue_uncontended" and f != "gilfree_SimpleQueue"))),
    ("SimpleQueue", "one message (1 producer / 1 consumer); put + get on one thread",
     lambda g, f: g == "simple_queue_spsc" or (g == "queue_uncontended"
                                               and f == "gilfree_SimpleQueue")),
    ("Deque", "one append + pop_left pair (or one evicting append)",
     lambda g, f: g.startswith("deque_")),
    ("Set", "one operation: read-heavy is 90% contains / 5% add / 5% discard over N threads",
     lambda g, f: g.startswith("set_")),
    ("ThreadPoolExecutor and Future",
     "pool_*: one task (batches of 10,000, submit all then await all); latency: one submit + "
     "result; map_100k: one whole map of 100,000 items",
     lambda g, f: g.startswith("pool_") or g in ("submit_result_latency", "map_100k")),
    ("Async twins (tasks on tokio)",
     "async_queue: one message through put_async/get_async between tokio tasks (2 workers); "
     "async_lock_uncontended: one acquire_async + release; async_pool_round_trip: one "
     "`pool.submit(f).await` (the peer: `spawn_blocking(f).await`)",
     lambda g, f: g.startswith("async_")),
]


def group_rank(group):
    order = {g: i for i, g in enumerate(join.GROUP_ORDER)}
    return order.get(group, len(order)), ratios.natural_key(group)


class Verdicts:
    """Every target check the report makes, for the summary table."""

    def __init__(self):
        self.checks = {}  # key -> list of (where, value, ok)

    def add(self, key, where, value, ok):
        self.checks.setdefault(key, []).append((where, value, ok))


def target_cells(data, verdicts, num, den, with_cpython=True):
    """(target text, verdict text) of one gilfree/peer row, recording the checks made."""
    ours, peer = data.medians.get(num), data.medians.get(den) if den else None
    ratio = ours / peer if ours is not None and peer else None
    targets, misses, checked = [], [], False
    issue = ratios.issue_target(num, den) if den else None
    if issue:
        key, _text, limit = issue
        targets.append(fmt_limit(limit))
        if ratio is not None:
            checked = True
            ok = ratio <= limit
            verdicts.add(key, num, ratio, ok)
            if not ok:
                misses.append("peer")
    elif den:
        row = next((r for r in data.ratio_rows if r[1] == num and r[2] == den), None)
        limit = row[3] if row else None
        if limit is not None:
            targets.append(f"{fmt_limit(limit)} (ratios.py)")
            if ratio is not None:
                checked = True
                if ratio > limit:
                    misses.append("peer, ratios.py")
    py = data.cpython_of(num) if with_cpython else None
    if py is not None and ours:
        targets.append(f"CPython ≥ {ratios.ISSUE_CPYTHON_SPEEDUP:g}×")
        checked = True
        if py / ours < ratios.ISSUE_CPYTHON_SPEEDUP:
            misses.append("CPython")
    if not targets:
        return DASH, "info" if ratio is not None else DASH
    if not checked:
        return "; ".join(targets), "missing"
    return "; ".join(targets), ("**MISSED** (" + ", ".join(misses) + ")") if misses else "met"


def area_table(data, verdicts, select):
    ids = [k for k, b in data.bench.items()
           if b["function"].startswith("gilfree_") and select(b["group"], b["function"])]
    if not ids:
        return None
    ratio_order = {}
    for i, r in enumerate(data.ratio_rows):
        ratio_order.setdefault(r[1], i)

    def key(full_id):
        b = data.bench[full_id]
        return (group_rank(b["group"]), ratio_order.get(full_id, len(ratio_order)),
                ratios.natural_key(full_id))

    lines = ["| workload | gilfree | Rust peer | peer | gilfree/peer | CPython | "
             "CPython/gilfree | target | verdict |",
             "|---|---:|---|---:|---:|---:|---:|---|---|"]
    for num in sorted(ids, key=key):
        b = data.bench[num]
        ours = b["ns"]
        dens = [r[2] for r in data.ratio_rows if r[1] == num]
        label = None
        if not dens:  # no ratios.py row: the best Rust peer, by join.py's rule
            jkey = (b["group"], b["function"][len("gilfree_"):], b["value"])
            best = min(join.peers_of(jkey, data.rows, data.peers), default=None)
            if best:
                dens = [join.make_id(b["group"], best[1], b["value"])]
                label = "best: "
        if not dens:
            dens = [None]
        py = data.cpython_of(num)
        speedup = py / ours if py is not None and ours else None
        for first, den in zip([True] + [False] * len(dens), dens):
            peer_ns = data.medians.get(den) if den else None
            peer_fn = data.bench[den]["function"] if den in data.bench else (
                den.split("/")[-2 if b["value"] else -1] if den else DASH)
            ratio = ours / peer_ns if ours is not None and peer_ns else None
            # The CPython check goes with the workload's first row; the others say "″".
            target, verdict = target_cells(data, verdicts, num, den, with_cpython=first)
            workload = join.make_id(b["group"], b["function"], b["value"])
            ditto = "″"
            lines.append(
                f"| `{md_escape(workload)}` | {fmt_time(ours) if first else ditto} | "
                f"{(label or '') + peer_fn} | {fmt_time(peer_ns)} | {fmt_ratio(ratio)} | "
                f"{fmt_time(py) if first else ditto} | "
                f"{fmt_ratio(speedup, 1) if first else ditto} | {target} | {verdict} |")
    return "\n".join(lines)


def cpython_checks(data, verdicts):
    """Every gilfree workload with a CPython twin: one check of the >= 10x speed-up."""
    for full_id, b in sorted(data.bench.items()):
        py = data.cpython_of(full_id)
        if py is not None and b["ns"]:
            speedup = py / b["ns"]
            verdicts.add("cpython", full_id, speedup, speedup >= ratios.ISSUE_CPYTHON_SPEEDUP)


def opencl_table(data):
    rows = []
    for kernel, defaults in (("vector_add", ratios.OPENCL_VECTOR_SIZES),
                             ("saxpy", ratios.OPENCL_VECTOR_SIZES),
                             ("primes", ratios.OPENCL_PRIME_COUNTS)):
        for n in ratios.opencl_sizes(data.medians, kernel, defaults):
            rows += ratios.opencl_rows(kernel, n)
    rows = [r for r in rows if r[1] in data.medians or r[2] in data.medians]
    if not rows:
        return None
    lines = ["| workload | OpenCL | pool (ThreadPoolExecutor) | OpenCL/pool | faster, by |",
             "|---|---:|---:|---:|---|"]
    for label, num, den in rows:
        a, b = data.medians.get(num), data.medians.get(den)
        ratio = a / b if a is not None and b else None
        lines.append(f"| {label} | {fmt_time(a)} | {fmt_time(b)} | {fmt_ratio(ratio)} | "
                     f"{ratios.faster_text(ratio)} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# report: contention curves and their SVG charts

# (file stem, title, group prefix, implementations in legend order, ISSUE_TARGETS peer)
CURVES = [
    ("lock", "Lock: N threads increment one counter", "contention_lock",
     ["gilfree_Lock", "parking_lot_Mutex", "std_Mutex"], "parking_lot_Mutex"),
    ("queue", "Queue(1024): N/2 producers, N/2 consumers", "contention_queue",
     ["gilfree_Queue", "crossbeam_bounded", "flume_bounded"], "crossbeam_bounded"),
    ("set", "Set: 90% contains, 10% add/discard", "contention_set",
     ["gilfree_Set", "dashmap_DashSet", "parking_lot_RwLock_HashSet", "std_Mutex_HashSet"],
     "dashmap_DashSet"),
    ("pool", "Pool of N workers: empty tasks from one submitter", "contention_pool",
     ["gilfree_ThreadPoolExecutor", "rayon_spawn_channel", "threadpool_execute_channel"],
     "rayon_spawn_channel"),
    ("pool_1us", "Pool of N workers: ~1 µs tasks from one submitter", "contention_pool_1us",
     ["gilfree_ThreadPoolExecutor", "rayon_spawn_channel", "threadpool_execute_channel"],
     "rayon_spawn_channel"),
]
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def curve_points(data, prefix, impls):
    """{impl: {threads: Mops/s}} from the groups <prefix>/<N>threads."""
    pattern = re.compile(re.escape(prefix) + r"/(\d+)threads")
    points = {impl: {} for impl in impls}
    for b in data.bench.values():
        m = pattern.fullmatch(b["group"])
        if m and b["function"] in points and b["ns"]:
            elements = b["elements"] or 1
            points[b["function"]][int(m.group(1))] = elements * 1e3 / b["ns"]
    return points


def nice_step(span, ticks=5):
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) for about `ticks` ticks."""
    raw = max(span, 1e-9) / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def svg_chart(title, subtitle, points, impls):
    """A line chart: x = threads (log2 scale), y = Mops/s from 0; one line per implementation."""
    W, H = 720, 440
    left, right, top, bottom = 70, 20, 58, 110
    pw, ph = W - left - right, H - top - bottom
    xs = sorted({n for p in points.values() for n in p})
    ymax = max([v for p in points.values() for v in p.values()] or [1.0])
    step = nice_step(ymax * 1.05)
    ytop = step * math.ceil(ymax * 1.05 / step)
    lo, hi = (math.log2(xs[0]), math.log2(xs[-1])) if xs else (0, 1)

    pad = 24  # keeps the first and last points off the frame

    def x_of(n):
        if hi == lo:
            return left + pw / 2
        return left + pad + (math.log2(n) - lo) / (hi - lo) * (pw - 2 * pad)

    def y_of(v):
        return top + ph - v / ytop * ph

    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="16" '
           f'font-weight="bold">{e(title)}</text>',
           f'<text x="{W / 2}" y="40" text-anchor="middle" fill="#555">{e(subtitle)}</text>']
    # Grid and y ticks.
    v = 0.0
    while v <= ytop + step / 1000:
        y = y_of(v)
        label = f"{v:g}" if step >= 1 else f"{v:.{max(0, -math.floor(math.log10(step)) + 1)}f}"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                   f'stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{e(label)}</text>')
        v += step
    # x ticks.
    for n in xs:
        x = x_of(n)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" '
                   f'stroke="#f0f0f0"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{n}</text>')
    # Axes and their labels.
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" '
               f'stroke="#333"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 38}" text-anchor="middle">'
               f'threads (log scale)</text>')
    out.append(f'<text x="18" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {top + ph / 2})">throughput (Mops/s, higher is '
               f'better)</text>')
    # Lines.
    for i, impl in enumerate(impls):
        pts = sorted(points.get(impl, {}).items())
        if not pts:
            continue
        color = COLORS[i % len(COLORS)]
        width = 3 if impl.startswith("gilfree_") else 2
        path = " ".join(f"{x_of(n):.1f},{y_of(v):.1f}" for n, v in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                   f'stroke-width="{width}"/>')
        for n, v in pts:
            out.append(f'<circle cx="{x_of(n):.1f}" cy="{y_of(v):.1f}" r="4" fill="{color}">'
                       f'<title>{e(impl)}, {n} threads: {v:.3g} Mops/s</title></circle>')
    # Legend, under the plot.
    lx, ly = left, top + ph + 62
    for i, impl in enumerate(impls):
        if not points.get(impl):
            continue
        color = COLORS[i % len(COLORS)]
        col, row = i % 2, i // 2
        x, y = lx + col * (pw / 2), ly + row * 20
        out.append(f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 24:.1f}" y2="{y - 4}" '
                   f'stroke="{color}" stroke-width="3"/>')
        out.append(f'<circle cx="{x + 12:.1f}" cy="{y - 4}" r="4" fill="{color}"/>')
        out.append(f'<text x="{x + 32:.1f}" y="{y}">{e(impl)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def curve_table(data, verdicts, prefix, impls, peer):
    points = curve_points(data, prefix, impls)
    threads = sorted({n for p in points.values() for n in p})
    if not threads:
        return None
    head = "| threads | " + " | ".join(f"{impl} (Mops/s)" for impl in impls)
    head += f" | gilfree/{peer} (time) | target | verdict |"
    lines = [head, "|---:|" + "---:|" * len(impls) + "---:|---|---|"]
    ours_fn = impls[0]
    for n in threads:
        num = f"{prefix}/{n}threads/{ours_fn}"
        den = f"{prefix}/{n}threads/{peer}"
        a, b = data.medians.get(num), data.medians.get(den)
        ratio = a / b if a is not None and b else None
        cells = [f"{points[impl][n]:.3g}" if n in points[impl] else DASH for impl in impls]
        issue = ratios.issue_target(num, den)
        if issue and ratio is not None:
            key, _text, limit = issue
            ok = ratio <= limit
            verdicts.add(key, num, ratio, ok)
            target, verdict = fmt_limit(limit), "met" if ok else "**MISSED**"
        elif issue:
            target, verdict = fmt_limit(issue[2]), "missing"
        else:
            target, verdict = DASH, "info"
        lines.append(f"| {n} | " + " | ".join(cells)
                     + f" | {fmt_ratio(ratio)} | {target} | {verdict} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# report: the document


def steps_table(path):
    text = read(path)
    if not text:
        return None, None
    lines = ["| step | seconds | status |", "|---|---:|---|"]
    total = 0.0
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            lines.append(f"| {md_escape(parts[0])} | {float(parts[1]):.0f} | {parts[2]} |")
            total += float(parts[1])
    return "\n".join(lines), total


def machine_table(m, data, opencl_device):
    if not m:
        return "(no machine.json: run `bash benches/run`)"
    cores = f"{m['cpus']} logical CPUs"
    if m.get("cores_per_socket"):
        cores += (f" ({m['sockets']} socket(s) × {m['cores_per_socket']} core(s) × "
                  f"{m['threads_per_core']} thread(s))")
    if m.get("hypervisor"):
        cores += f", under {m['hypervisor']}"
    dirty = {True: f"**dirty** ({len(m['changed_files'])} file(s) changed or untracked: "
                   + ", ".join(f"`{f}`" for f in m["changed_files"][:12])
                   + (", …" if len(m["changed_files"]) > 12 else "") + ")",
             False: "clean", None: "unknown"}[m.get("dirty")]
    py = data.py_machine
    cpython = DASH
    if py:
        gil = "free-threaded" if py.get("free_threaded_build") else "GIL build"
        cpython = (f"{py.get('implementation', '?')} {py.get('python_version', '?')} ({gil}, "
                   f"switch interval {py.get('switch_interval_s', '?')} s, "
                   f"{py.get('workers', '?')} pool workers), bench.py `--{data.py_mode}`")
    crates = ", ".join(f"{k} {'/'.join(v) or DASH}" for k, v in m["crates"].items())
    rows = [
        ("date (UTC)", m["date"]),
        ("mode", f"`{m['mode']}`"),
        ("CPU", m["cpu_model"]),
        ("cores", cores),
        ("memory", f"{m['memory_gib']} GiB" if m.get("memory_gib") else DASH),
        ("OS", f"{m['os']}, Linux {m['kernel']} ({m['arch']})"),
        ("rustc", f"`{m['rustc']}`"),
        ("cargo", f"`{m['cargo']}`"),
        ("gilfree", f"{m['gilfree']}, commit `{(m['commit'] or '?')[:12]}` "
                    f"({md_escape(m.get('commit_subject') or '')}), tree {dirty}"),
        ("Rust peers (Cargo.lock)", crates),
        ("CPython", cpython),
        ("OpenCL", opencl_device or ("; ".join(m["opencl"]) if m.get("opencl") else
                                     "no platform: skipped")),
        ("load average", f"{' '.join(m['loadavg_start'])} at the start"
                         + (f", {' '.join(m['loadavg_end'])} at the end"
                            if m.get("loadavg_end") else "")),
    ]
    return "\n".join(["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])


def syscalls_section(doc, verdicts):
    if not doc:
        return ("Not checked in this run (no `strace`: install it, or run as root so that "
                "`benches/run` installs it).")
    n = doc["ops_per_run"]
    lines = [f"`strace -f -c` over {n:,} iterations of each operation on one thread, no other "
             "thread alive (`GILFREE_SYSCALL_PROBE=<op>` mode of `benches/contention.rs`), "
             "minus a baseline run that builds the same objects and runs no iteration "
             f"({sum(doc.get('baseline', {}).values())} syscalls, "
             f"{doc.get('baseline', {}).get('futex', 0)} of them futex). Target: no futex "
             "call, and no syscall at all, per operation (≤ 10 beyond the baseline in the "
             "whole run allows for one-time set-up).", "",
             "| operation | what one iteration does | futex calls | per op | all syscalls | "
             "per op | ns/op (under strace) | verdict |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in doc["results"]:
        ok = r["futex_delta"] <= 10 and r["total_delta"] <= 10
        verdicts.add("no_syscall", r["op"], r["total_delta"] / n, ok)
        extra = ""
        if r["delta_by_syscall"]:
            extra = " (" + ", ".join(f"{k} {v}" for k, v in r["delta_by_syscall"].items()) + ")"
        ns = r.get("ns_per_op_under_strace")
        lines.append(
            f"| `{r['op']}` | {r['what']} | {r['futex_delta']} | {r['futex_delta'] / n:.2g} | "
            f"{r['total_delta']}{extra} | {r['total_delta'] / n:.2g} | "
            f"{f'{ns:.1f}' if ns is not None else DASH} | {'met' if ok else '**MISSED**'} |")
    return "\n".join(lines)


def targets_table(verdicts):
    lines = ["| target (issue) | comparisons | met | worst | verdict |",
             "|---|---:|---:|---|---|"]
    missed_total = 0
    entries = [(key, text, limit) for key, text, _g, _o, _p, limit in ratios.ISSUE_TARGETS]
    entries.append(("no_syscall", ratios.ISSUE_NO_SYSCALL, None))
    entries.append(("cpython", f"≥ {ratios.ISSUE_CPYTHON_SPEEDUP:g}× CPython on every workload",
                    None))
    for key, text, limit in entries:
        checks = verdicts.checks.get(key, [])
        met = sum(ok for _, _, ok in checks)
        if not checks:
            worst, verdict = DASH, "not measured"
        else:
            if key == "cpython":
                where, value, _ = min(checks, key=lambda c: c[1])
                worst = f"{fmt_ratio(value, 1)} at `{where}`"
            elif key == "no_syscall":
                where, value, _ = max(checks, key=lambda c: c[1])
                worst = f"{value:.2g} syscalls/op at `{where}`"
            else:
                where, value, _ = max(checks, key=lambda c: c[1])
                worst = f"{value:.2f} at `{where}`"
            verdict = "met" if met == len(checks) else "**MISSED**"
            missed_total += met != len(checks)
        shown = text.replace(" x ", " × ").replace(">=", "≥").replace("<=", "≤")
        if limit is not None:
            shown += f" (time ratio {fmt_limit(limit)})"
        lines.append(f"| {shown} | {len(checks)} | {met} | {worst} | {verdict} |")
    return "\n".join(lines), missed_total


def opencl_device_from_log(logs):
    text = read(os.path.join(logs, "opencl.log")) if logs else None
    if not text:
        return None
    m = re.search(r"opencl bench: device (.+)", text)
    return m.group(1).strip() if m else None


def cmd_report(args):
    data = Data(args.criterion, args.python)
    if not data.bench:
        sys.exit(f"report.py: no criterion results under {args.criterion}")
    m = load_json(args.machine)
    if m is not None:
        m["loadavg_end"] = (read("/proc/loadavg") or "").split()[:3]
    syscalls = load_json(args.syscalls)
    verdicts = Verdicts()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    charts_rel = os.path.relpath(os.path.abspath(args.charts), out_dir).replace(os.sep, "/")
    mode = (m or {}).get("mode") or "quick"
    command = "bash benches/run" + (" --full" if mode == "full" else "")

    doc = []
    w = doc.append
    w("# gilfree benchmarks")
    w("")
    w(f"Generated by `{command} --write` on {(m or {}).get('date', '?')} "
      f"({'quick' if mode != 'full' else 'full'} mode); do not edit by hand: rerun the command. "
      "Every number below comes from that one run: criterion's median for the Rust benches, "
      "bench.py's median of its repeats for CPython. Ratios compare two medians of the same "
      "criterion group, measured one after the other in the same process. The machine is "
      "shared and noisy (see the load average below), so differences of a few percent are "
      "within the noise; rerun before drawing conclusions from a close call.")
    w("")
    w("## Reproduce")
    w("")
    w("```sh")
    w("bash benches/run            # quick mode: the whole suite in under 10 minutes on 2 cores")
    w("bash benches/run --write    # the same, then copies the report here (BENCHMARKS.md) and "
      "the charts to benches/charts/")
    w("bash benches/run --full     # big machines: 3x the samples and measurement time, "
      "contention curves at 1-32 threads")
    w("```")
    w("")
    w("`benches/run` prints the machine, builds and runs every criterion bench (`threading`, "
      "`thread`, `queue`, `collections`, `futures`, `contention`, and `opencl` with "
      "`--features opencl` when `clinfo -l` shows an OpenCL platform), runs the CPython twins "
      "(`benches/python/bench.py`, same mode), counts the syscalls of the no-waiter operations "
      "under `strace`, and writes this report with `benches/report.py` to "
      "`target/benchmarks/BENCHMARKS.md` (and here with `--write`). Criterion's results go to "
      "`target/benchmarks/criterion` (emptied first, so that nothing from an older run is "
      "reported); each bench's output is in `target/benchmarks/logs/`. "
      "`GILFREE_BENCH_THREADS=1,2,4,8` picks the contention curves' thread counts. "
      "`python3 benches/ratios.py --issue target/benchmarks/criterion` prints the same ratios "
      "as plain text.")
    steps, total = steps_table(args.steps)
    if steps:
        w("")
        w(f"This run's steps, {total / 60:.1f} minutes in all (the report itself takes a "
          "second):")
        w("")
        w(steps)
    w("")
    w("## How to read the tables")
    w("")
    w("* **gilfree**, **peer**, **CPython**: median time of one iteration (the unit is given "
      "per area: one operation, message, round trip, task...). The CPython twin is "
      "`benches/python/bench.py`'s `cpython_X` for gilfree's `gilfree_X` (see "
      "`benches/python/README.md` for where the two are not like-for-like: the GIL above all).")
    w("* **gilfree/peer**: the time ratio, gilfree's median over the peer's. Below 1× gilfree "
      "is faster. A throughput target such as \"≥ 0.8 × rayon\" is a time ratio ≤ 1.25.")
    w("* **CPython/gilfree**: how many times faster gilfree is than CPython.")
    w("* **target**: the issue's target for that comparison (Lock ≤ 1.05 × parking_lot "
      "uncontended and ≥ 1.0 × contended; RLock ≤ 1.1 × ReentrantMutex; Queue ≤ 1.0 × "
      "crossbeam-channel SPSC/MPMC; pool tiny tasks ≥ 0.8 × rayon; Set ≥ DashSet read-heavy; "
      "Barrier ≥ std; ≥ 10× CPython on every workload), or `benches/ratios.py`'s own limit, "
      "marked (ratios.py), where the issue sets none. A peer marked \"best:\" is the fastest "
      "Rust peer of the same group, shown where ratios.py pairs the workload with none.")
    w("* **verdict**: met, **MISSED** (which part), or info (nothing to meet).")
    w("")
    w("## Machine")
    w("")
    w(machine_table(m, data, opencl_device_from_log(args.logs)))

    # Every table computes its verdicts; the summary comes first in the document.
    body = []
    for title, unit, select in AREAS:
        table = area_table(data, verdicts, select)
        body += [f"### {title}", "", f"One iteration: {unit}.", "",
                 table or "(not measured in this run)", ""]
    cl = opencl_table(data)
    body += ["### OpenCL", ""]
    if cl:
        body += ["`OpenClExecutor` beside a `ThreadPoolExecutor` doing the same work on the host "
                 "(one chunk per worker); time per whole run. No target: the table says which "
                 "side was faster (`device`: buffers already on the device; `end_to_end`: "
                 "upload, run, download).", "", cl, ""]
    else:
        body += ["Not measured in this run (no OpenCL platform, or `--features opencl` not "
                 "built).", ""]
    cpython_checks(data, verdicts)

    curves = ["## Contention curves", "",
              "Throughput against threads (`benches/contention.rs`): every point is one "
              "criterion group `contention_<primitive>/<N>threads`, its implementations "
              "measured one after the other. Mops/s = million operations (increments, "
              "messages, set operations, tasks) per second, from the median time per "
              "operation. On a machine with fewer cores than threads, the points beyond the "
              "core count measure oversubscription: how a primitive behaves when its holder "
              "is descheduled.", ""]
    os.makedirs(args.charts, exist_ok=True)
    subtitle = (f"{(m or {}).get('cpu_model', '?')}, {(m or {}).get('cpus', '?')} CPUs; "
                f"{mode} mode; commit {((m or {}).get('commit') or '?')[:10]}"
                + (" (dirty tree)" if (m or {}).get("dirty") else ""))
    for stem, title, prefix, impls, peer in CURVES:
        table = curve_table(data, verdicts, prefix, impls, peer)
        curves += [f"### {title}", ""]
        if not table:
            curves += ["(not measured in this run)", ""]
            continue
        points = curve_points(data, prefix, impls)
        with open(os.path.join(args.charts, f"{stem}.svg"), "w") as fh:
            fh.write(svg_chart(title, subtitle, points, impls))
        curves += [f"![{title}]({charts_rel}/{stem}.svg)", "", table, ""]

    sys_section = syscalls_section(syscalls, verdicts)
    targets, missed = targets_table(verdicts)

    w("")
    w("## Targets")
    w("")
    w(f"{missed} of {len(ratios.ISSUE_TARGETS) + 2} targets missed in this run. Each line "
      "counts every comparison the target covers (the tables below and the contention curves); "
      "\"worst\" is the comparison furthest from the target.")
    w("")
    w(targets)
    w("")
    w("## Results per primitive")
    w("")
    doc += body
    w("## No syscall when nobody waits")
    w("")
    w(sys_section)
    w("")
    doc += curves
    w("## CPython, every workload")
    w("")
    w("`python3 benches/python/join.py --criterion target/benchmarks/criterion` prints every "
      "paired workload (CPython-only variants included, such as `with lock:`) in one table; "
      "the tables above show the ones with a gilfree twin.")
    w("")
    notes = read(args.notes) if args.notes else None
    if notes:
        w("## Notes on the missed targets")
        w("")
        w(notes.strip())
        w("")
    text = "\n".join(doc).rstrip() + "\n"
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(f"report.py: wrote {args.out} and {len(CURVES)} charts in {args.charts}; "
          f"{missed} target(s) missed")


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("machine", help="describe the machine, toolchain and tree")
    p.add_argument("--mode", default="quick", choices=["quick", "full"])
    p.add_argument("--out", help="write it as JSON here")
    p.set_defaults(func=cmd_machine)

    p = sub.add_parser("syscalls", help="count the probe's syscalls under strace")
    p.add_argument("--bin", required=True, help="the contention bench's executable")
    p.add_argument("--ops", type=int, default=1_000_000, help="iterations per operation")
    p.add_argument("--out", default=os.path.join(OUT_DIR, "syscalls.json"))
    p.set_defaults(func=cmd_syscalls)

    p = sub.add_parser("report", help="write the markdown report and the SVG charts")
    p.add_argument("--criterion", default=os.environ.get("CRITERION_HOME")
                   or os.path.join(ROOT, "target", "criterion"))
    p.add_argument("--python", default=os.path.join(ROOT, "target", "cpython-bench.json"))
    p.add_argument("--machine", default=os.path.join(OUT_DIR, "machine.json"))
    p.add_argument("--syscalls", default=os.path.join(OUT_DIR, "syscalls.json"))
    p.add_argument("--steps", default=os.path.join(OUT_DIR, "steps.tsv"))
    p.add_argument("--logs", default=os.path.join(OUT_DIR, "logs"))
    p.add_argument("--out", default=os.path.join(OUT_DIR, "BENCHMARKS.md"))
    p.add_argument("--charts", default=os.path.join(OUT_DIR, "charts"))
    p.add_argument("--notes", default=os.path.join(HERE, "notes.md"),
                   help="hand-written notes appended to the report ('' for none)")
    p.set_defaults(func=cmd_report)

    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
