#!/usr/bin/env python3
"""Print the medians and the gilfree/peer ratios of `cargo bench` (benches threading, thread,
queue, collections, futures, opencl).

Usage: python3 benches/ratios.py [--issue] [CRITERION_DIR]
       (default: $CRITERION_HOME if set, else target/criterion; `bash benches/run` keeps its
       results in target/benchmarks/criterion)

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

`--issue` adds one more table: the performance issue's targets (ISSUE_TARGETS below: Lock,
RLock, Queue, pool, Set, Barrier, including the contention curves of benches/contention.rs),
the ones benches/report.py writes into BENCHMARKS.md. This file is also imported as a module by
benches/report.py: load_medians, ratio_rows, verdict and ISSUE_TARGETS are shared.
"""

import json
import os
import re
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


# Async twins (benches/asyncio.rs): issue 16's targets, time ratios in one run. tokio's mpsc has
# one receiver, so it appears in the SPSC group only.
AQS, AQM = "async_queue_spsc_bounded1024", "async_queue_mpmc_bounded1024"
RATIOS += [
    ("async Queue(1024) / async-channel bounded (SPSC)",
     f"{AQS}/gilfree_Queue", f"{AQS}/async_channel_bounded", 1.0),
    ("async Queue(1024) / tokio mpsc (SPSC)", f"{AQS}/gilfree_Queue", f"{AQS}/tokio_mpsc", None),
    ("async Queue(1024) / flume bounded, async (SPSC)",
     f"{AQS}/gilfree_Queue", f"{AQS}/flume_bounded_async", None),
    ("async Queue(1024) / async-channel bounded (MPMC 2x2)",
     f"{AQM}/gilfree_Queue", f"{AQM}/async_channel_bounded", 1.0),
    ("async Queue(1024) / flume bounded, async (MPMC 2x2)",
     f"{AQM}/gilfree_Queue", f"{AQM}/flume_bounded_async", None),
    ("Lock::acquire_async / tokio Mutex (uncontended)",
     "async_lock_uncontended/gilfree_Lock", "async_lock_uncontended/tokio_Mutex", 1.0),
    ("Lock::acquire_async / async-lock Mutex (uncontended)",
     "async_lock_uncontended/gilfree_Lock", "async_lock_uncontended/async_lock_Mutex", None),
    ("await pool.submit / tokio spawn_blocking (round trip)",
     "async_pool_round_trip/gilfree_ThreadPoolExecutor",
     "async_pool_round_trip/tokio_spawn_blocking", 1.0),
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


def ratio_rows(medians):
    """RATIOS, with the rows of the MPMC shapes found in `medians` beyond the default ones
    (run with QUEUE_MPMC=PxC,...) inserted beside the default shape's."""
    prefix = f"{Q_MPMC}/gilfree_Queue/"
    extra = sorted({k[len(prefix):] for k in medians if k.startswith(prefix)} - set(MPMC_SHAPES))
    ratios = list(RATIOS)
    at = MPMC_AT + len(MPMC_SHAPES) * len(mpmc_rows(""))
    for shape in extra:
        ratios[at:at] = mpmc_rows(shape)
        at += len(mpmc_rows(shape))
    return ratios


# The performance issue's targets, as maxima of the time ratio gilfree / peer (a throughput
# target "gilfree >= x * peer" is a time ratio <= 1/x), each over every criterion group that
# matches `groups` (a regex on the whole group id) and holds both functions, with the same
# parameter (MPMC shape) on both sides. The contention curves' groups (benches/contention.rs)
# count too: Lock's at 2 threads and more (1 thread is not contended), the others at every
# count. "No syscall when nobody waits" and ">= 10x CPython" are not ratios of two criterion
# results: benches/report.py checks them (strace counts; bench.py's medians).
# (key, the target as the issue words it, groups, gilfree function, peer function, max ratio)
ISSUE_TARGETS = [
    ("lock_uncontended", "Lock <= 1.05 x parking_lot Mutex, uncontended",
     r"uncontended/lock", "gilfree_Lock", "parking_lot_Mutex", 1.05),
    ("lock_contended", "Lock >= 1.0 x parking_lot Mutex's throughput, contended",
     r"contended/lock/\d+threads|contention_lock/(?:[2-9]|[1-9]\d+)threads",
     "gilfree_Lock", "parking_lot_Mutex", 1.0),
    ("rlock", "RLock <= 1.1 x parking_lot ReentrantMutex",
     r"uncontended/rlock", "gilfree_RLock", "parking_lot_ReentrantMutex", 1.1),
    ("queue", "Queue <= 1.0 x crossbeam-channel, SPSC and MPMC",
     r"queue_spsc_bounded1024|queue_mpmc_bounded1024|contention_queue/\d+threads",
     "gilfree_Queue", "crossbeam_bounded", 1.0),
    ("pool", "pool, tiny tasks: >= 0.8 x rayon's throughput",
     r"pool_empty_tasks|pool_1us_tasks|contention_pool(?:_1us)?/\d+threads",
     "gilfree_ThreadPoolExecutor", "rayon_spawn_channel", 1.25),
    ("set", "Set >= DashSet's throughput, read-heavy",
     r"set_read_heavy_\d+threads|contention_set/\d+threads", "gilfree_Set", "dashmap_DashSet",
     1.0),
    ("barrier", "Barrier >= std Barrier's throughput",
     r"barrier/rounds/\d+threads", "gilfree_Barrier", "std_Barrier", 1.0),
    ("async_queue", "async Queue <= 1.0 x async-channel, SPSC and MPMC",
     r"async_queue_spsc_bounded1024|async_queue_mpmc_bounded1024",
     "gilfree_Queue", "async_channel_bounded", 1.0),
    ("async_lock", "Lock::acquire_async <= 1.0 x tokio's Mutex, uncontended",
     r"async_lock_uncontended", "gilfree_Lock", "tokio_Mutex", 1.0),
    ("async_pool", "awaiting a pool result <= 1.0 x tokio's spawn_blocking",
     r"async_pool_round_trip", "gilfree_ThreadPoolExecutor", "tokio_spawn_blocking", 1.0),
]
ISSUE_NO_SYSCALL = "no syscall when nobody waits"
ISSUE_CPYTHON_SPEEDUP = 10.0  # ">= 10x CPython on every workload"


def issue_pairs(medians):
    """[(key, text, gilfree id, peer id, max ratio)] for every ISSUE_TARGETS comparison whose
    gilfree side is in `medians`, in ISSUE_TARGETS order, then by id (the peer may be missing)."""
    out = []
    for key, text, groups, ours, peer, limit in ISSUE_TARGETS:
        pattern = re.compile(rf"({groups})/{re.escape(ours)}(/[^/]+)?")
        found = []
        for full_id in medians:
            m = pattern.fullmatch(full_id)
            if m:
                found.append((full_id, f"{m.group(1)}/{peer}{m.group(2) or ''}"))
        for num, den in sorted(found, key=lambda p: natural_key(p[0])):
            out.append((key, text, num, den, limit))
    return out


def issue_target(num, den):
    """The ISSUE_TARGETS row (key, text, limit) that compares benchmark `num` with `den`."""
    for key, text, groups, ours, peer, limit in ISSUE_TARGETS:
        m = re.fullmatch(rf"({groups})/{re.escape(ours)}(/[^/]+)?", num)
        if m and den == f"{m.group(1)}/{peer}{m.group(2) or ''}":
            return key, text, limit
    return None


def natural_key(text):
    """Sorts "x/10threads" after "x/2threads"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def main():
    args = sys.argv[1:]
    issue = "--issue" in args
    args = [a for a in args if a != "--issue"]
    root = args[0] if args else (os.environ.get("CRITERION_HOME")
                                 or os.path.join("target", "criterion"))
    medians = load_medians(root)
    if not medians:
        sys.exit(f"no criterion results (*/new/estimates.json) under {root}")

    width = max(len(k) for k in medians)
    print(f"Medians ({root})")
    print(f"{'benchmark':<{width}}  median")
    for key in sorted(medians):
        print(f"{key:<{width}}  {fmt_time(medians[key])}")

    ratios = ratio_rows(medians)

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

    if issue:
        print()
        pairs = issue_pairs(medians)
        head = "issue target: gilfree vs peer (median / median, same group)"
        label_w = max([len(head)] + [len(f"{num} vs {den}") for _, _, num, den, _ in pairs])
        print(f"{head:<{label_w}}  {'value':>7}  target   verdict")
        for key, text, num, den, limit in pairs:
            a, b = medians.get(num), medians.get(den)
            ratio = a / b if a is not None and b else None
            v = verdict(ratio, limit)
            missed += v == "MISSED"
            shown = f"{ratio:7.2f}" if ratio is not None else f"{'-':>7}"
            label = f"{num} vs {den}"
            print(f"{label:<{label_w}}  {shown}  <= {limit:<4g}  {v}  ({text})")

    print()
    print(f"{missed} target(s) missed")


if __name__ == "__main__":
    main()
