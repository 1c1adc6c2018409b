#!/usr/bin/env python3
"""Print the medians and the gilfree/peer ratios of `cargo bench` (benches threading, thread,
queue, collections, futures, opencl).

Usage: python3 benches/ratios.py [CRITERION_DIR]   (default: target/criterion)

Reads every <id>/new/estimates.json (criterion's latest run) under CRITERION_DIR, takes the
point estimate of the median, and prints one table of medians and one of ratios against the
targets in DESIGN.md ("Performance rules"). Every ratio compares two benchmarks of the same
criterion group, hence of the same run. Standard library only.

The benches and their groups:
  threading    uncontended/*, contended/lock/*, no_waiters, handoff/*, barrier/rounds/*
  thread       thread/spawn_join
  queue        queue_spsc_bounded1024, queue_mpmc_bounded1024 (ids <peer>/<P>p<C>c, one per
               shape in QUEUE_MPMC, default 2p2c), simple_queue_spsc, queue_uncontended
               (threaded groups: time per message)
  collections  deque_uncontended, deque_contended_2threads, set_read_heavy_{2,4}threads,
               set_uncontended (ids <peer>/contains, <peer>/add_discard)
  futures      pool_empty_tasks, pool_1us_tasks, pool_10us_tasks (time per task),
               submit_result_latency (per round trip), map_100k (per whole map)
  opencl       opencl_vector_add/<n>, opencl_saxpy/<n> (ids device, end_to_end, pool; n 1e6,
               1e7, and 1e8 with GILFREE_BENCH_FULL=1), opencl_primes/<n> (ids end_to_end,
               pool; n 10,000, or 1,000,000 with GILFREE_BENCH_FULL=1); time per whole run.
               Needs `--features opencl`. Its ratios (OpenCL / pool) have no target: a table of
               their own says which side was faster.

A row may carry an aim beside its target: a ratio above the aim but within the target is
"ok (above aim)", not a miss. A row with only an aim is informational ("aim met"/"above aim").
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


# (label, numerator id, denominator id, maximum ratio or None for information only[, aim])
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

# queue: Queue bounded(1024) <= 2 x crossbeam-channel, aiming at <= 1; SimpleQueue <= 1.5 x std
# mpsc. Time per message in the threaded groups.
Q = "queue_spsc_bounded1024"
RATIOS += [
    ("Queue(1024) / crossbeam bounded (SPSC)",
     f"{Q}/gilfree_Queue", f"{Q}/crossbeam_bounded", 2.0, 1.0),
    ("Queue(1024) / flume bounded (SPSC)",
     f"{Q}/gilfree_Queue", f"{Q}/flume_bounded", None),
    ("Queue(1024) / std mpsc sync_channel (SPSC)",
     f"{Q}/gilfree_Queue", f"{Q}/std_mpsc_sync_channel", None),
    ("Queue(1024) / Mutex<VecDeque>+Condvar (SPSC)",
     f"{Q}/gilfree_Queue", f"{Q}/parking_lot_Mutex_VecDeque_Condvar", None),
]
Q_MPMC = "queue_mpmc_bounded1024"
MPMC_SHAPES = ["2p2c"]  # the default; other shapes found in the results are added in main()


def mpmc_rows(shape):
    return [
        (f"Queue(1024) / crossbeam bounded (MPMC {shape})",
         f"{Q_MPMC}/gilfree_Queue/{shape}", f"{Q_MPMC}/crossbeam_bounded/{shape}", 2.0, 1.0),
        (f"Queue(1024) / flume bounded (MPMC {shape})",
         f"{Q_MPMC}/gilfree_Queue/{shape}", f"{Q_MPMC}/flume_bounded/{shape}", None),
        (f"Queue(1024) / Mutex<VecDeque>+Condvar (MPMC {shape})",
         f"{Q_MPMC}/gilfree_Queue/{shape}",
         f"{Q_MPMC}/parking_lot_Mutex_VecDeque_Condvar/{shape}", None),
    ]


MPMC_AT = len(RATIOS)  # where main() inserts the rows of extra shapes
for shape in MPMC_SHAPES:
    RATIOS += mpmc_rows(shape)
Q = "simple_queue_spsc"
RATIOS += [
    ("SimpleQueue / std mpsc channel (SPSC)",
     f"{Q}/gilfree_SimpleQueue", f"{Q}/std_mpsc_channel", 1.5),
    ("SimpleQueue / crossbeam unbounded (SPSC)",
     f"{Q}/gilfree_SimpleQueue", f"{Q}/crossbeam_unbounded", None),
    ("SimpleQueue / flume unbounded (SPSC)",
     f"{Q}/gilfree_SimpleQueue", f"{Q}/flume_unbounded", None),
]
Q = "queue_uncontended"
RATIOS += [
    ("Queue(1024) / crossbeam bounded (put+get, 1 thread)",
     f"{Q}/gilfree_Queue", f"{Q}/crossbeam_bounded", None),
    ("Queue(1024) / Mutex<VecDeque>+Condvar (put+get, 1 thread)",
     f"{Q}/gilfree_Queue", f"{Q}/parking_lot_Mutex_VecDeque_Condvar", None),
    ("Queue(1024) / bare Mutex<VecDeque> (put+get, 1 thread)",
     f"{Q}/gilfree_Queue", f"{Q}/parking_lot_Mutex_VecDeque", None),
    ("SimpleQueue / crossbeam bounded (put+get, 1 thread)",
     f"{Q}/gilfree_SimpleQueue", f"{Q}/crossbeam_bounded", None),
    ("LifoQueue / Queue (put+get, 1 thread)",
     f"{Q}/gilfree_LifoQueue", f"{Q}/gilfree_Queue", None),
    ("PriorityQueue / Queue (put+get, 1 thread)",
     f"{Q}/gilfree_PriorityQueue", f"{Q}/gilfree_Queue", None),
]
del Q

# collections: Deque <= 1.25 x parking_lot Mutex<VecDeque>; Set read-heavy at 2 threads no
# slower than Mutex<HashSet>, aiming at DashSet. Time per operation (deque: per pair).
RATIOS += [
    ("Deque / parking_lot Mutex<VecDeque> (append+pop_left)",
     "deque_uncontended/gilfree_Deque", "deque_uncontended/parking_lot_Mutex_VecDeque", 1.25),
    ("Deque / std Mutex<VecDeque> (append+pop_left)",
     "deque_uncontended/gilfree_Deque", "deque_uncontended/std_Mutex_VecDeque", None),
    ("Deque(maxlen 1024) / parking_lot Mutex<VecDeque> (evicting append)",
     "deque_uncontended/gilfree_Deque_maxlen1024_append",
     "deque_uncontended/parking_lot_Mutex_VecDeque_maxlen1024_append", 1.25),
    ("Deque / parking_lot Mutex<VecDeque> (contended, 2 threads)",
     "deque_contended_2threads/gilfree_Deque",
     "deque_contended_2threads/parking_lot_Mutex_VecDeque", 1.25),
    ("Deque / std Mutex<VecDeque> (contended, 2 threads)",
     "deque_contended_2threads/gilfree_Deque", "deque_contended_2threads/std_Mutex_VecDeque",
     None),
]
for n in (2, 4):
    G = f"set_read_heavy_{n}threads"
    limit = 1.0 if n == 2 else None
    RATIOS += [
        (f"Set / parking_lot Mutex<HashSet> (read-heavy, {n} threads)",
         f"{G}/gilfree_Set", f"{G}/parking_lot_Mutex_HashSet", limit),
        (f"Set / std Mutex<HashSet> (read-heavy, {n} threads)",
         f"{G}/gilfree_Set", f"{G}/std_Mutex_HashSet", limit),
        (f"Set / parking_lot RwLock<HashSet> (read-heavy, {n} threads)",
         f"{G}/gilfree_Set", f"{G}/parking_lot_RwLock_HashSet", None),
        (f"Set / DashSet (read-heavy, {n} threads)",
         f"{G}/gilfree_Set", f"{G}/dashmap_DashSet", None, 1.0 if n == 2 else None),
    ]
del G, limit
for op in ("contains", "add_discard"):
    RATIOS += [
        (f"Set / parking_lot Mutex<HashSet> ({op}, 1 thread)",
         f"set_uncontended/gilfree_Set/{op}", f"set_uncontended/parking_lot_Mutex_HashSet/{op}",
         None),
        (f"Set / DashSet ({op}, 1 thread)",
         f"set_uncontended/gilfree_Set/{op}", f"set_uncontended/dashmap_DashSet/{op}", None),
    ]

# futures: ThreadPoolExecutor, pools of the same size. Tiny tasks: no slower than the
# threadpool crate, and at least 0.8 x rayon's throughput (<= 1.25 x its time per task);
# submit -> result round trip no slower than threadpool's execute + channel recv.
G = "pool_empty_tasks"
RATIOS += [
    ("ThreadPoolExecutor / threadpool execute+channel (empty tasks)",
     f"{G}/gilfree_ThreadPoolExecutor", f"{G}/threadpool_execute_channel", 1.0),
    ("ThreadPoolExecutor / rayon spawn+channel (empty tasks)",
     f"{G}/gilfree_ThreadPoolExecutor", f"{G}/rayon_spawn_channel", 1.25),
    ("ThreadPoolExecutor / std::thread::spawn per task (empty tasks)",
     f"{G}/gilfree_ThreadPoolExecutor", f"{G}/std_thread_spawn", None),
]
for us in (1, 10):
    G = f"pool_{us}us_tasks"
    RATIOS += [
        (f"ThreadPoolExecutor / threadpool execute+channel ({us} us tasks)",
         f"{G}/gilfree_ThreadPoolExecutor", f"{G}/threadpool_execute_channel", None),
        (f"ThreadPoolExecutor / rayon spawn+channel ({us} us tasks)",
         f"{G}/gilfree_ThreadPoolExecutor", f"{G}/rayon_spawn_channel", None),
        (f"ThreadPoolExecutor / std::thread::spawn per task ({us} us tasks)",
         f"{G}/gilfree_ThreadPoolExecutor", f"{G}/std_thread_spawn", None),
    ]
G = "submit_result_latency"
RATIOS += [
    ("submit+result / threadpool execute+recv (round trip)",
     f"{G}/gilfree_submit_result", f"{G}/threadpool_execute_recv", 1.0),
    ("submit+result / rayon spawn+recv (round trip)",
     f"{G}/gilfree_submit_result", f"{G}/rayon_spawn_recv", None),
]
G = "map_100k"
RATIOS += [
    ("ThreadPoolExecutor.map / threadpool execute+reorder (100k items)",
     f"{G}/gilfree_map", f"{G}/threadpool_execute_reorder", None),
    ("ThreadPoolExecutor.map / rayon par_iter (100k items)",
     f"{G}/gilfree_map", f"{G}/rayon_par_iter", None),
]
del G, us

# opencl: the OpenClExecutor beside a ThreadPoolExecutor doing the same work on the host (one
# chunk per worker). Time ratios, OpenCL / pool: below 1 the OpenCL variant was faster. No
# targets; the sizes found in the results beyond these defaults are added in main().
OPENCL_VECTOR_SIZES = [1_000_000, 10_000_000]
OPENCL_PRIME_COUNTS = [10_000]


def opencl_rows(kernel, n):
    """The (label, numerator id, denominator id) rows of group opencl_<kernel>/<n>."""
    G = f"opencl_{kernel}/{n}"
    name = kernel.replace("_", " ")
    variants = ["end_to_end"] if kernel == "primes" else ["device", "end_to_end"]
    return [(f"{name} {v} / pool (n={n:,})", f"{G}/{v}", f"{G}/pool") for v in variants]


def opencl_sizes(medians, kernel, defaults):
    """The default sizes and those found in the results, in increasing order."""
    prefix = f"opencl_{kernel}/"
    found = set()
    for key in medians:
        if key.startswith(prefix) and key.endswith("/pool"):
            size = key[len(prefix):-len("/pool")]
            if size.isdigit():
                found.add(int(size))
    return sorted(set(defaults) | found)


def faster_text(ratio):
    if ratio is None:
        return "missing"
    if ratio < 1:
        return f"OpenCL, {1 / ratio:.2f}x"
    if ratio > 1:
        return f"pool, {ratio:.2f}x"
    return "same"


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


def verdict(value, limit, strict=False, aim=None):
    if value is None:
        return "missing"
    if limit is None:
        if aim is None:
            return "info"
        return "aim met" if value <= aim else "above aim"
    ok = value < limit if strict else value <= limit
    if not ok:
        return "MISSED"
    return "ok (above aim)" if aim is not None and value > aim else "ok"


def limit_and_aim(row):
    """A RATIOS row's (limit, aim); the aim is optional."""
    return row[3], row[4] if len(row) > 4 else None


def target_text(limit, aim):
    parts = []
    if limit is not None:
        parts.append(f"<= {limit:g}")
    if aim is not None:
        parts.append(f"aim {aim:g}")
    return ", ".join(parts) if parts else "-"


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

    # MPMC shapes other than the default ones, run with QUEUE_MPMC=PxC,...
    prefix = f"{Q_MPMC}/gilfree_Queue/"
    extra = sorted({k[len(prefix):] for k in medians if k.startswith(prefix)} - set(MPMC_SHAPES))
    ratios = list(RATIOS)
    at = MPMC_AT + len(MPMC_SHAPES) * len(mpmc_rows(""))
    for shape in extra:
        ratios[at:at] = mpmc_rows(shape)
        at += len(mpmc_rows(shape))

    print()
    label_w = max(len(r[0]) for r in ratios)
    target_w = max(len(target_text(*limit_and_aim(r))) for r in ratios)
    print(f"{'ratio (median / median, same group)':<{label_w}}  {'value':>7}  "
          f"{'target':<{target_w}}  verdict")
    missed = 0
    for row in ratios:
        label, num, den = row[:3]
        limit, aim = limit_and_aim(row)
        a, b = medians.get(num), medians.get(den)
        ratio = a / b if a is not None and b else None
        v = verdict(ratio, limit, aim=aim)
        missed += v == "MISSED"
        shown = f"{ratio:7.2f}" if ratio is not None else f"{'-':>7}"
        target = target_text(limit, aim)
        print(f"{label:<{label_w}}  {shown}  {target:<{target_w}}  {v}")

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
    opencl = []
    for kernel, defaults in (("vector_add", OPENCL_VECTOR_SIZES),
                             ("saxpy", OPENCL_VECTOR_SIZES),
                             ("primes", OPENCL_PRIME_COUNTS)):
        for n in opencl_sizes(medians, kernel, defaults):
            opencl += opencl_rows(kernel, n)
    label_w = max(len("OpenCL / ThreadPoolExecutor (median / median, same group)"),
                  max(len(r[0]) for r in opencl))
    print(f"{'OpenCL / ThreadPoolExecutor (median / median, same group)':<{label_w}}  "
          f"{'value':>7}  faster, by")
    for label, num, den in opencl:
        a, b = medians.get(num), medians.get(den)
        ratio = a / b if a is not None and b else None
        shown = f"{ratio:7.2f}" if ratio is not None else f"{'-':>7}"
        print(f"{label:<{label_w}}  {shown}  {faster_text(ratio)}")

    print()
    print(f"{missed} target(s) missed")


if __name__ == "__main__":
    main()
