#!/usr/bin/env python3
"""Print the medians and the gilfree/peer ratios of `cargo bench` (benches threading, thread).

Usage: python3 benches/ratios.py [CRITERION_DIR]   (default: target/criterion)

Reads every <id>/new/estimates.json (criterion's latest run) under CRITERION_DIR, takes the
point estimate of the median, and prints one table of medians and one of ratios against the
targets in DESIGN.md ("Performance rules"). Every ratio compares two benchmarks of the same
criterion group, hence of the same run. Standard library only.
"""

import json
import os
import sys


def load_medians(root):
    """Map criterion's full benchmark id (e.g. "uncontended/lock/gilfree_Lock") to its median
    in nanoseconds."""
    medians = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in filenames:
            continue
        with open(os.path.join(dirpath, "estimates.json")) as f:
            median = json.load(f)["median"]["point_estimate"]
        full_id = None
        meta = os.path.join(dirpath, "benchmark.json")
        if os.path.exists(meta):
            with open(meta) as f:
                full_id = json.load(f).get("full_id")
        if full_id is None:
            # Fall back on the directory name (criterion writes '/' in ids as '_').
            full_id = os.path.relpath(os.path.dirname(dirpath), root)
        medians[full_id] = median
    return medians


def fmt_time(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.2f} ns"


# (label, numerator id, denominator id, maximum ratio or None for information only)
RATIOS = [
    ("Lock / parking_lot Mutex (uncontended)",
     "uncontended/lock/gilfree_Lock", "uncontended/lock/parking_lot_Mutex", 1.25),
    ("Lock / std Mutex (uncontended)",
     "uncontended/lock/gilfree_Lock", "uncontended/lock/std_Mutex", None),
    ("RLock / parking_lot ReentrantMutex (uncontended)",
     "uncontended/rlock/gilfree_RLock", "uncontended/rlock/parking_lot_ReentrantMutex", 1.25),
    ("Semaphore / parking_lot Mutex (uncontended)",
     "uncontended/semaphore/gilfree_Semaphore", "uncontended/semaphore/parking_lot_Mutex", None),
    ("BoundedSemaphore / parking_lot Mutex (uncontended)",
     "uncontended/semaphore/gilfree_BoundedSemaphore",
     "uncontended/semaphore/parking_lot_Mutex", None),
]
for n in (2, 4):
    RATIOS += [
        (f"Lock / parking_lot Mutex (contended, {n} threads)",
         f"contended/lock/{n}threads/gilfree_Lock",
         f"contended/lock/{n}threads/parking_lot_Mutex", 1.25),
        (f"Lock / std Mutex (contended, {n} threads)",
         f"contended/lock/{n}threads/gilfree_Lock", f"contended/lock/{n}threads/std_Mutex", None),
    ]
RATIOS += [
    ("Event pair / parking_lot Mutex+Condvar (handoff)",
     "handoff/event/gilfree_Event_pair", "handoff/event/parking_lot_Mutex_Condvar", None),
    ("Event pair / std Mutex+Condvar (handoff)",
     "handoff/event/gilfree_Event_pair", "handoff/event/std_Mutex_Condvar", None),
    ("Condition / parking_lot Mutex+Condvar (handoff)",
     "handoff/condition/gilfree_Condition", "handoff/condition/parking_lot_Mutex_Condvar", None),
    ("Condition / std Mutex+Condvar (handoff)",
     "handoff/condition/gilfree_Condition", "handoff/condition/std_Mutex_Condvar", None),
]
for n in (2, 4):
    RATIOS.append(
        (f"Barrier / std Barrier ({n} threads, per round)",
         f"barrier/rounds/{n}threads/gilfree_Barrier",
         f"barrier/rounds/{n}threads/std_Barrier", 1.0))

RATIOS += [
    # Thread-N names come from a counter; std's unnamed threads are the fair peer, and the
    # named pair shows the cost of the OS-level name.
    ("Thread / std::thread (spawn + join)",
     "thread/spawn_join/gilfree_Thread", "thread/spawn_join/std_thread_named", 1.1),
    ("Thread named / std::thread named (spawn + join)",
     "thread/spawn_join/gilfree_Thread_named", "thread/spawn_join/std_thread_named", 1.1),
    ("Thread / unnamed std::thread (spawn + join)",
     "thread/spawn_join/gilfree_Thread", "thread/spawn_join/std_thread", None),
]

# (id, maximum nanoseconds or None): absolute times of calls that must not block or sleep.
NO_WAITERS = [
    ("no_waiters/gilfree_Condition_notify_one", 20.0),
    ("no_waiters/gilfree_Condition_notify_all", 20.0),
    ("no_waiters/parking_lot_Condvar_notify_one", None),
    ("no_waiters/parking_lot_Condvar_notify_all", None),
    ("no_waiters/std_Condvar_notify_one", None),
    ("no_waiters/std_Condvar_notify_all", None),
    ("no_waiters/gilfree_Event_set_already_set", 20.0),
    ("no_waiters/gilfree_Event_set_clear", 20.0),
    ("no_waiters/gilfree_Semaphore_release_try_acquire", 20.0),
    ("no_waiters/gilfree_BoundedSemaphore_release_try_acquire", 20.0),
]


def verdict(value, limit, strict=False):
    if value is None:
        return "missing"
    if limit is None:
        return "info"
    ok = value < limit if strict else value <= limit
    return "ok" if ok else "MISSED"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join("target", "criterion")
    medians = load_medians(root)
    if not medians:
        sys.exit(f"no criterion results (*/new/estimates.json) under {root}")

    width = max(len(k) for k in medians)
    print(f"Medians ({root})")
    print(f"{'benchmark':<{width}}  median")
    for key in sorted(medians):
        print(f"{key:<{width}}  {fmt_time(medians[key])}")

    print()
    label_w = max(len(r[0]) for r in RATIOS)
    print(f"{'ratio (median / median, same group)':<{label_w}}  {'value':>7}  target  verdict")
    missed = 0
    for label, num, den, limit in RATIOS:
        a, b = medians.get(num), medians.get(den)
        ratio = a / b if a is not None and b else None
        v = verdict(ratio, limit)
        missed += v == "MISSED"
        shown = f"{ratio:7.2f}" if ratio is not None else f"{'-':>7}"
        target = f"<= {limit:g}" if limit is not None else "-"
        print(f"{label:<{label_w}}  {shown}  {target:<6}  {v}")

    print()
    id_w = max(len(k) for k, _ in NO_WAITERS)
    print(f"{'no waiters (absolute)':<{id_w}}  {'median':>9}  target   verdict")
    for key, limit in NO_WAITERS:
        ns = medians.get(key)
        v = verdict(ns, limit, strict=True)
        missed += v == "MISSED"
        target = f"< {limit:g} ns" if limit is not None else "-"
        print(f"{key:<{id_w}}  {fmt_time(ns):>9}  {target:<7}  {v}")

    print()
    print(f"{missed} target(s) missed")


if __name__ == "__main__":
    main()
