#!/usr/bin/env python3
"""CPython twins of gilfree's criterion benches (benches/*.rs), for "gilfree vs CPython" ratios.

Every workload here runs the same loop as a gilfree benchmark, with the same item counts,
thread counts and meaning of one iteration, on CPython's own `threading`, `queue`,
`collections` and `concurrent.futures`. Each result is the median of several repeats, in
nanoseconds per iteration, under the Rust benchmark's id with its `gilfree_` function prefix
replaced by `cpython_`:

    Rust  uncontended/lock/gilfree_Lock                ->  uncontended/lock/cpython_Lock
    Rust  queue_mpmc_bounded1024/gilfree_Queue/2p2c    ->  queue_mpmc_bounded1024/cpython_Queue/2p2c

so that `join.py` pairs them mechanically. What one iteration is (same as the Rust bench):

* threading.rs
  - uncontended/lock, uncontended/rlock, uncontended/semaphore: one acquire + release pair.
  - contended/lock/{2,4}threads: one lock + counter increment + unlock, N threads sharing the
    total (time per operation, summed over all threads: wall time / total operations).
  - no_waiters: one notify / notify_all (lock held, nobody waiting); one Event.set() when
    already set; one set() + clear(); one release() + non-blocking acquire().
  - handoff/event, handoff/condition: one round trip between two threads (one turn each).
  - barrier/rounds/{2,4}threads: one round (every thread passes the barrier once).
* thread.rs
  - thread/spawn_join: one Thread created, started and joined (plain and named "bench").
* queue.rs (threaded groups: at least 100,000 messages per timed run, as in Rust)
  - queue_spsc_bounded1024: one message through a Queue(1024), 1 producer / 1 consumer.
  - queue_mpmc_bounded1024/<P>p<C>c: one message, P producers / C consumers (QUEUE_MPMC=2x2,1x3
    picks the shapes, default 2x2, as in Rust).
  - simple_queue_spsc: one message through a SimpleQueue, 1 producer / 1 consumer.
  - queue_uncontended: one put + get pair in one thread (Queue(1024), Queue(0) i.e. unbounded,
    SimpleQueue, LifoQueue(1024), PriorityQueue(1024)).
* collections.rs
  - deque_uncontended: one append + popleft pair; one append to a full deque(maxlen=1024).
  - deque_contended_2threads: one append + popleft pair, 2 threads sharing the total.
  - set_read_heavy_{2,4}threads: one operation (90% contains, 5% add, 5% discard, keys uniform
    over 0..20,000, set prefilled with the 10,000 even keys), N threads; the op streams are
    the Rust bench's own xorshift64 streams (same seeds), precomputed outside the timed region.
  - set_uncontended/<impl>/contains: one membership test on a present key;
    set_uncontended/<impl>/add_discard: one add + discard pair on an absent key.
  The twin of gilfree's thread-safe Set is a built-in `set` behind a `threading.Lock`
  (`cpython_Set`); `cpython_set_bare` is the same workload on a bare `set`, relying on the GIL
  (or, on free-threaded builds, on the set's own per-object lock).
* futures.rs (a ThreadPoolExecutor with the CPU count as workers, or FUTURES_WORKERS; all
  workers started and warmed up before any timing)
  - pool_empty_tasks, pool_1us_tasks, pool_10us_tasks: one task, run in batches of 10,000
    (submit all, then every .result(), results summed and checked); the task spins a busy loop
    calibrated to ~0, ~1 or ~10 us at start-up (Python bytecode, never a sleep).
  - submit_result_latency: one trivial task submitted and its result awaited.
  - map_100k: one whole `list(executor.map(lambda x: x * 2, range(100_000)))`.

Python-only extras (no Rust twin; join.py shows them with "—" for gilfree):
  uncontended/lock/cpython_Lock_with (`with lock: pass`; the twin itself calls bound
  `acquire(); release()`, CPython's cheapest form: on 3.11 `with` costs about twice as much),
  uncontended/rlock/cpython_RLock_reentrant (acquire + release while already holding it once),
  no_waiters/cpython_Event_is_set, no_waiters/cpython_Event_wait_already_set,
  set_read_heavy_{2,4}threads/cpython_set_bare, set_uncontended/cpython_set_bare/{contains,add_discard}.

Skipped (no sensible CPython twin):
  * every peer function (parking_lot_*, std_*, crossbeam_*, flume_*, dashmap_*, rayon_*,
    threadpool_*): they are other Rust crates, not gilfree; join.py shows the fastest of them
    beside each row as the "best Rust peer".
  * pool_*_tasks/std_thread_spawn: an OS thread per task is a peer of the pool, not gilfree's
    API; thread/spawn_join/cpython_Thread already measures what a CPython thread costs.
  * benches/opencl.rs: GPU offload, nothing in CPython's standard library to compare with.

Timing: single-thread workloads use `timeit` (the iteration count found by autorange, then
scaled to the mode's time per repeat; the statement's names are locals of timeit's loop);
threaded ones time `run(n)` with `time.perf_counter` like the Rust `iter_custom` helpers: the
threads are started outside the timed region, wait on a `threading.Barrier`, and the clock
stops once all are joined. Neither subtracts the loop's own overhead (timeit's empty-loop
cost is recorded under machine.timeit_empty_loop_ns for reference).

Usage:
    python3 benches/python/bench.py                 # --quick (default): < 3 min on 2 cores
    python3 benches/python/bench.py --full          # more repeats, longer runs
    python3 benches/python/bench.py --json target/cpython-bench.json
    python3 benches/python/bench.py --only queue    # ids containing "queue" (a regex)
    python3 benches/python/bench.py --list          # the ids, nothing run
"""

import argparse
import collections
import concurrent.futures
import json
import os
import platform
import queue
import re
import statistics
import sys
import sysconfig
import threading
import time
import timeit

perf_counter = time.perf_counter

# ---------------------------------------------------------------------------------------------
# Modes

MODES = {
    # seconds per timed repeat (single-thread / threaded), repeats (single-thread / threaded)
    "quick": dict(micro_s=0.05, micro_reps=5, thread_s=0.1, thread_reps=3),
    "full": dict(micro_s=0.5, micro_reps=15, thread_s=0.5, thread_reps=10),
}
MODE = MODES["quick"]

# Constants shared with the Rust benches.
CAP = 1024  # queue.rs: the bound of every bounded queue
MIN_MESSAGES = 100_000  # queue.rs: the fewest messages one timed run passes
MAXLEN = 1024  # collections.rs: the bounded deque
KEYS = 20_000  # collections.rs: keys are drawn from 0..KEYS
PREFILL = 10_000  # collections.rs: the set starts with the even keys
BATCH = 10_000  # futures.rs: tasks per batch
MAP_ITEMS = 100_000  # futures.rs: items per map
M64 = (1 << 64) - 1


def share(total, n, i):
    """Thread i's share of `total` operations split over n threads (the shares sum to total)."""
    return total // n + (1 if i < total % n else 0)


# ---------------------------------------------------------------------------------------------
# Measurement helpers


def timed_threads(n, work):
    """Runs work(i) on n threads started together; returns the seconds from the common start
    until the last one was joined. An exception in a thread is re-raised here."""
    start_line = threading.Barrier(n + 1)
    errors = []

    def body(i):
        try:
            start_line.wait()
            work(i)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    start_line.wait()
    start = perf_counter()
    for t in threads:
        t.join()
    elapsed = perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


class Result:
    def __init__(self, samples_ns, iters):
        self.samples_ns = samples_ns
        self.iters = iters
        self.median = statistics.median(samples_ns)


def micro(stmt, setup="pass", env=None):
    """ns per execution of `stmt` (a single-thread workload), median over the mode's repeats."""
    timer = timeit.Timer(stmt, setup=setup, globals=env or {})
    number, took = timer.autorange()  # also the warm-up
    number = max(1, int(number * MODE["micro_s"] / max(took, 1e-9)))
    times = timer.repeat(repeat=MODE["micro_reps"], number=number)
    return Result([t / number * 1e9 for t in times], number)


def threaded(run, n0=1, n_min=1, n_max=10**9):
    """ns per iteration of run(n) -> seconds for n iterations: n is grown from n0 until a run
    takes about the mode's time per repeat (the probing runs are the warm-up)."""
    target = MODE["thread_s"]
    n = max(n0, n_min)
    while True:
        took = run(n)
        if took >= target / 3 or n >= n_max:
            break
        n = min(n_max, n * 4 if took < target / 30 else int(n * target / max(took, 1e-9)) + 1)
    n = max(n_min, min(n_max, int(n * target / max(took, 1e-9))))
    samples = [run(n) / n * 1e9 for _ in range(MODE["thread_reps"])]
    return Result(samples, n)


# ---------------------------------------------------------------------------------------------
# The benchmarks: a registry of (id, function returning a Result)

BENCHES = []


def bench(bench_id):
    def register(f):
        BENCHES.append((bench_id, f))
        return f

    return register


# ---- threading.rs: uncontended acquire + release ---------------------------------------------


@bench("uncontended/lock/cpython_Lock")
def _():
    return micro("a(); r()", "a = L.acquire; r = L.release", {"L": threading.Lock()})


@bench("uncontended/lock/cpython_Lock_with")
def _():
    # The idiomatic guard form (`with lock:`), which the lock-protected workloads below use.
    return micro("with L: pass", env={"L": threading.Lock()})


@bench("uncontended/rlock/cpython_RLock")
def _():
    return micro("a(); r()", "a = L.acquire; r = L.release", {"L": threading.RLock()})


@bench("uncontended/rlock/cpython_RLock_reentrant")
def _():
    rlock = threading.RLock()
    rlock.acquire()  # held once by this thread: the timed pair is the second level
    try:
        return micro("a(); r()", "a = L.acquire; r = L.release", {"L": rlock})
    finally:
        rlock.release()


@bench("uncontended/semaphore/cpython_Semaphore")
def _():
    return micro("a(); r()", "a = S.acquire; r = S.release", {"S": threading.Semaphore(1)})


@bench("uncontended/semaphore/cpython_BoundedSemaphore")
def _():
    sem = threading.BoundedSemaphore(1)
    return micro("a(); r()", "a = S.acquire; r = S.release", {"S": sem})


# ---- threading.rs: contended lock, N threads increment one shared counter -------------------


def contended_lock(threads):
    def run(n):
        lock = threading.Lock()
        counter = [0]

        def work(i):
            lk = lock
            c = counter
            for _ in range(share(n, threads, i)):
                with lk:
                    c[0] += 1

        elapsed = timed_threads(threads, work)
        assert counter[0] == n, "lost updates"
        return elapsed

    return threaded(run, n0=10_000)


for _threads in (2, 4):
    bench(f"contended/lock/{_threads}threads/cpython_Lock")(
        lambda threads=_threads: contended_lock(threads)
    )


# ---- threading.rs: notify / set / release with nobody waiting ---------------------------------


def _held_condition():
    cond = threading.Condition()  # RLock underneath, as gilfree's Condition::new()
    cond.acquire()
    return cond


@bench("no_waiters/cpython_Condition_notify_one")
def _():
    cond = _held_condition()
    try:
        return micro("n()", "n = C.notify", {"C": cond})
    finally:
        cond.release()


@bench("no_waiters/cpython_Condition_notify_all")
def _():
    cond = _held_condition()
    try:
        return micro("n()", "n = C.notify_all", {"C": cond})
    finally:
        cond.release()


def _set_event():
    event = threading.Event()
    event.set()
    return event


@bench("no_waiters/cpython_Event_set_already_set")
def _():
    return micro("s()", "s = E.set", {"E": _set_event()})


@bench("no_waiters/cpython_Event_set_clear")
def _():
    return micro("s(); c()", "s = E.set; c = E.clear", {"E": _set_event()})


@bench("no_waiters/cpython_Event_is_set")
def _():
    return micro("i()", "i = E.is_set", {"E": _set_event()})


@bench("no_waiters/cpython_Event_wait_already_set")
def _():
    return micro("w()", "w = E.wait", {"E": _set_event()})


@bench("no_waiters/cpython_Semaphore_release_try_acquire")
def _():
    sem = threading.Semaphore(0)
    sem.release()
    assert sem.acquire(False) and not sem.acquire(False)
    return micro("r(); a(False)", "r = S.release; a = S.acquire", {"S": sem})


@bench("no_waiters/cpython_BoundedSemaphore_release_try_acquire")
def _():
    bsem = threading.BoundedSemaphore(1)
    bsem.acquire()
    return micro("r(); a(False)", "r = S.release; a = S.acquire", {"S": bsem})


# ---- threading.rs: handoff, two threads take turns (time per round trip) ----------------------


@bench("handoff/event/cpython_Event_pair")
def _():
    def run(rounds):
        ping, pong = threading.Event(), threading.Event()

        def work(side):
            if side == 0:
                for _ in range(rounds):
                    ping.set()
                    pong.wait()
                    pong.clear()
            else:
                for _ in range(rounds):
                    ping.wait()
                    ping.clear()
                    pong.set()

        elapsed = timed_threads(2, work)
        assert not ping.is_set() and not pong.is_set()
        return elapsed

    return threaded(run, n0=200)


@bench("handoff/condition/cpython_Condition")
def _():
    def run(rounds):
        # Over a Lock, as gilfree's Condition::with_value (a Lock<u64>) in the Rust bench.
        cond = threading.Condition(threading.Lock())
        turn = [0]

        def work(side):
            c = cond
            t = turn
            ready = lambda: t[0] % 2 == side  # noqa: E731
            for _ in range(rounds):
                with c:
                    c.wait_for(ready)
                    t[0] += 1
                    c.notify()

        elapsed = timed_threads(2, work)
        assert turn[0] == 2 * rounds
        return elapsed

    return threaded(run, n0=200)


# ---- threading.rs: barrier, N threads pass R rounds (time per round) --------------------------


def barrier_rounds(threads):
    def run(rounds):
        barrier = threading.Barrier(threads)
        leaders = [0] * threads

        def work(i):
            w = barrier.wait
            k = 0
            for _ in range(rounds):
                if w() == 0:  # exactly one thread per round gets index 0
                    k += 1
            leaders[i] = k

        elapsed = timed_threads(threads, work)
        assert sum(leaders) == rounds
        return elapsed

    return threaded(run, n0=200)


for _threads in (2, 4):
    bench(f"barrier/rounds/{_threads}threads/cpython_Barrier")(
        lambda threads=_threads: barrier_rounds(threads)
    )


# ---- thread.rs: spawn + join -------------------------------------------------------------------


def _one():
    return 1


@bench("thread/spawn_join/cpython_Thread")
def _():
    return micro("t = T(target=f); t.start(); t.join()", env={"T": threading.Thread, "f": _one})


@bench("thread/spawn_join/cpython_Thread_named")
def _():
    return micro(
        "t = T(target=f, name='bench'); t.start(); t.join()",
        env={"T": threading.Thread, "f": _one},
    )


# ---- queue.rs: producers and consumers, time per message --------------------------------------


def transfer(make, producers, consumers):
    """run(n) for `threaded`: producers send n messages in all through a fresh queue, consumers
    receive exactly n; at least MIN_MESSAGES per timed run, scaled back to n (as in Rust)."""

    def run(iters):
        n = max(iters, MIN_MESSAGES)
        q = make()
        received = [0] * consumers

        def work(i):
            if i < producers:
                put = q.put
                for v in range(share(n, producers, i)):
                    put(v)
            else:
                get = q.get
                s = 0
                for _ in range(share(n, consumers, i - producers)):
                    s += get()
                received[i - producers] = s

        elapsed = timed_threads(producers + consumers, work)
        sent = sum(k * (k - 1) // 2 for k in (share(n, producers, i) for i in range(producers)))
        assert sum(received) == sent, "messages lost or duplicated"
        return elapsed * iters / n

    return threaded(run, n0=MIN_MESSAGES)


@bench("queue_spsc_bounded1024/cpython_Queue")
def _():
    return transfer(lambda: queue.Queue(CAP), 1, 1)


def mpmc_shapes():
    """QUEUE_MPMC=PxC[,PxC...], default 2x2 (as in benches/queue.rs)."""
    spec = os.environ.get("QUEUE_MPMC")
    if not spec:
        return [(2, 2)]
    shapes = []
    for shape in spec.split(","):
        p, c = (int(x) for x in shape.strip().split("x"))
        assert p > 0 and c > 0, "QUEUE_MPMC: at least one of each"
        shapes.append((p, c))
    return shapes


for _p, _c in mpmc_shapes():
    bench(f"queue_mpmc_bounded1024/cpython_Queue/{_p}p{_c}c")(
        lambda p=_p, c=_c: transfer(lambda: queue.Queue(CAP), p, c)
    )


@bench("simple_queue_spsc/cpython_SimpleQueue")
def _():
    return transfer(queue.SimpleQueue, 1, 1)


# ---- queue.rs: one thread, put + get pairs -----------------------------------------------------

for _name, _make in [
    ("cpython_Queue", lambda: queue.Queue(CAP)),
    ("cpython_Queue_unbounded", lambda: queue.Queue(0)),
    ("cpython_SimpleQueue", queue.SimpleQueue),
    ("cpython_LifoQueue", lambda: queue.LifoQueue(CAP)),
    ("cpython_PriorityQueue", lambda: queue.PriorityQueue(CAP)),
]:
    bench(f"queue_uncontended/{_name}")(
        lambda make=_make: micro("p(1); g()", "p = Q.put; g = Q.get", {"Q": make()})
    )


# ---- collections.rs: deque ---------------------------------------------------------------------


@bench("deque_uncontended/cpython_Deque")
def _():
    return micro("a(1); p()", "a = D.append; p = D.popleft", {"D": collections.deque()})


@bench("deque_uncontended/cpython_Deque_maxlen1024_append")
def _():
    dq = collections.deque(range(MAXLEN), maxlen=MAXLEN)
    return micro("a(1)", "a = D.append", {"D": dq})


@bench("deque_contended_2threads/cpython_Deque")
def _():
    threads = 2

    def run(n):
        dq = collections.deque()

        def work(i):
            a, p = dq.append, dq.popleft
            for v in range(share(n, threads, i)):
                a(v)
                p()  # raises IndexError if it found the deque empty

        elapsed = timed_threads(threads, work)
        assert not dq, "appends and pops do not match"
        return elapsed

    return threaded(run, n0=10_000)


# ---- collections.rs: set -----------------------------------------------------------------------


def xorshift_stream(seed, ops):
    """The Rust bench's per-thread op stream: [(kind, key)], kind 0 contains, 1 add, 2 discard."""
    out = []
    x = seed
    for _ in range(ops):
        x ^= (x << 13) & M64
        x ^= x >> 7
        x ^= (x << 17) & M64
        pct = (x >> 40) % 100
        out.append((0 if pct < 90 else 1 if pct < 95 else 2, x % KEYS))
    return out


def thread_seed(i):
    return 0x9E3779B97F4A7C15 ^ (((i + 1) * 0xD1B54A32D192ED03) & M64)


def prefilled_set():
    return set(range(0, KEYS, 2)[:PREFILL])


_STREAMS = {}


def stream(i, ops):
    """Thread i's first `ops` operations (cached: the same prefix every run, as in Rust)."""
    have = _STREAMS.get(i)
    if have is None or len(have) < ops:
        have = _STREAMS[i] = xorshift_stream(thread_seed(i), max(ops, 2 * len(have or ())))
    return have if len(have) == ops else have[:ops]


def read_heavy(threads, locked):
    s = prefilled_set()  # built once per benchmark and reused, as in Rust
    lock = threading.Lock()

    def run(n):
        streams = [stream(i, share(n, threads, i)) for i in range(threads)]

        def work_locked(i):
            lk, add, discard = lock, s.add, s.discard
            for kind, key in streams[i]:
                if kind == 0:
                    with lk:
                        key in s  # noqa: B015 - the membership test is the workload
                elif kind == 1:
                    with lk:
                        add(key)
                else:
                    with lk:
                        discard(key)

        def work_bare(i):
            add, discard = s.add, s.discard
            for kind, key in streams[i]:
                if kind == 0:
                    key in s  # noqa: B015
                elif kind == 1:
                    add(key)
                else:
                    discard(key)

        return timed_threads(threads, work_locked if locked else work_bare)

    return threaded(run, n0=20_000)


for _threads in (2, 4):
    bench(f"set_read_heavy_{_threads}threads/cpython_Set")(
        lambda threads=_threads: read_heavy(threads, locked=True)
    )
    bench(f"set_read_heavy_{_threads}threads/cpython_set_bare")(
        lambda threads=_threads: read_heavy(threads, locked=False)
    )


def set_contains(locked):
    s = prefilled_set()
    lock = threading.Lock()
    start = [0]

    def run(n):
        # n membership tests on present keys, cycling over the even keys as in Rust.
        first = start[0]
        keys = [(first + 2 * j) % KEYS for j in range(n)]
        start[0] = (first + 2 * n) % KEYS
        t0 = perf_counter()
        if locked:
            for k in keys:
                with lock:
                    hit = k in s
                if not hit:
                    raise AssertionError("a present key was not found")
        else:
            for k in keys:
                if k not in s:
                    raise AssertionError("a present key was not found")
        return perf_counter() - t0

    return threaded(run, n0=10_000)


def set_add_discard(locked):
    s = prefilled_set()
    lock = threading.Lock()
    start = [0]

    def run(n):
        # n add + discard pairs on keys the set does not hold (it ends as it started).
        first = start[0]
        keys = [KEYS + (first + j) % KEYS for j in range(n)]
        start[0] = (first + n) % KEYS
        add, discard = s.add, s.discard
        t0 = perf_counter()
        if locked:
            for k in keys:
                with lock:
                    add(k)
                with lock:
                    discard(k)
        else:
            for k in keys:
                add(k)
                discard(k)
        elapsed = perf_counter() - t0
        assert len(s) == PREFILL
        return elapsed

    return threaded(run, n0=10_000)


for _impl, _locked in (("cpython_Set", True), ("cpython_set_bare", False)):
    bench(f"set_uncontended/{_impl}/contains")(lambda locked=_locked: set_contains(locked))
    bench(f"set_uncontended/{_impl}/add_discard")(lambda locked=_locked: set_add_discard(locked))


# ---- futures.rs: ThreadPoolExecutor ------------------------------------------------------------


def spin(rounds):
    """`rounds` steps of a busy loop (rotate left 5, xor), as futures.rs's spin."""
    x = 0x9E3779B97F4A7C15
    for _ in range(rounds):
        x = (((x << 5) | (x >> 59)) & M64) ^ 0x5DEECE66D
    return x


def task(rounds, i):
    if rounds:
        spin(rounds)
    return i


_ROUNDS_PER_US = None


def rounds_per_us():
    """spin rounds in ~1 us: the fastest of a few trials, computed once."""
    global _ROUNDS_PER_US
    if _ROUNDS_PER_US is None:
        trial = 200_000
        best = min(timeit.repeat(lambda: spin(trial), number=1, repeat=7))
        _ROUNDS_PER_US = max(1, round(trial / (best * 1e6)))
    return _ROUNDS_PER_US


def workers():
    env = os.environ.get("FUTURES_WORKERS")
    if env:
        n = int(env)
        assert n > 0, "FUTURES_WORKERS: a positive number of workers"
        return n
    if hasattr(os, "process_cpu_count"):  # 3.13+
        return os.process_cpu_count() or 2
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 2
    return os.cpu_count() or 2


_POOL = None


def pool():
    """The executor, built once with every worker started, and warmed up."""
    global _POOL
    if _POOL is None:
        n = workers()
        ex = concurrent.futures.ThreadPoolExecutor(max_workers=n)
        # Workers start lazily, one per submit while none is idle: tasks that wait for each
        # other start them all (as in futures.rs).
        gate = threading.Barrier(n)
        for f in [ex.submit(gate.wait) for _ in range(n)]:
            f.result()
        started = getattr(ex, "_threads", None)  # private, but there from 3.8 to 3.13
        assert started is None or len(started) == n, "not every worker started"
        futs = [ex.submit(task, 0, i) for i in range(BATCH)]
        assert sum(f.result() for f in futs) == BATCH * (BATCH - 1) // 2
        assert ex.submit(_one).result() == 1
        # (map is warmed up and checked by map_100k's own first, untimed run.)
        _POOL = ex
    return _POOL


def pool_throughput(micros):
    ex = pool()
    rounds = micros * rounds_per_us()
    expected = BATCH * (BATCH - 1) // 2

    def run(iters):
        # Whole batches of BATCH tasks, scaled back to `iters` (futures.rs's per_task).
        batches = max(1, -(-iters // BATCH))
        submit = ex.submit
        t0 = perf_counter()
        for _ in range(batches):
            futs = [submit(task, rounds, i) for i in range(BATCH)]
            assert sum(f.result() for f in futs) == expected
        return (perf_counter() - t0) * iters / (batches * BATCH)

    return threaded(run, n0=BATCH, n_min=BATCH)


for _group, _micros in (("pool_empty_tasks", 0), ("pool_1us_tasks", 1), ("pool_10us_tasks", 10)):
    bench(f"{_group}/cpython_ThreadPoolExecutor")(lambda micros=_micros: pool_throughput(micros))


@bench("submit_result_latency/cpython_submit_result")
def _():
    return micro("s(f).result()", "s = X.submit", {"X": pool(), "f": _one})


@bench("map_100k/cpython_map")
def _():
    ex = pool()
    double = lambda x: x * 2  # noqa: E731
    items = range(MAP_ITEMS)

    def run(n):
        t0 = perf_counter()
        for _ in range(n):
            out = list(ex.map(double, items))
        elapsed = perf_counter() - t0
        assert len(out) == MAP_ITEMS and out[-1] == 2 * (MAP_ITEMS - 1)
        return elapsed

    return threaded(run, n0=1)


# ---------------------------------------------------------------------------------------------
# Machine description and main


def machine(elapsed_s=None):
    gil = getattr(sys, "_is_gil_enabled", None)
    info = {
        "python_version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "python_build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil() if gil else True,
        "switch_interval_s": sys.getswitchinterval(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "workers": workers(),
        "timeit_empty_loop_ns": timeit.Timer("pass").timeit(1_000_000) / 1e6 * 1e9,
    }
    if _ROUNDS_PER_US is not None:
        info["spin_rounds_per_us"] = _ROUNDS_PER_US
    if elapsed_s is not None:
        info["bench_wall_s"] = round(elapsed_s, 1)
    return info


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def main():
    global MODE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", dest="mode", const="quick",
                      help="few repeats, short runs (default; < 3 min on 2 cores)")
    mode.add_argument("--full", action="store_const", dest="mode", const="full",
                      help="more repeats, longer runs")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    ap.add_argument("--only", metavar="REGEX", help="run only the ids matching REGEX")
    ap.add_argument("--list", action="store_true", help="list the ids and exit")
    args = ap.parse_args()
    MODE = MODES[args.mode or "quick"]

    selected = [(i, f) for i, f in BENCHES if not args.only or re.search(args.only, i)]
    if args.list:
        for bench_id, _ in selected:
            print(bench_id)
        return

    m = machine()
    print(f"CPython benches, {args.mode or 'quick'} mode: {m['implementation']} "
          f"{m['python_version']} ({'free-threaded' if m['free_threaded_build'] else 'GIL'}"
          f"{'' if m['gil_enabled'] else ', GIL off'}), {m['cpu_count']} CPUs, "
          f"{m['workers']} pool workers", flush=True)
    width = max((len(i) for i, _ in selected), default=10)
    print(f"{'id':<{width}}  {'median':>11}  {'min':>11}  {'max':>11}  {'iters/rep':>10}")
    results, details = {}, {}
    start = perf_counter()
    for bench_id, f in selected:
        t0 = perf_counter()
        try:
            r = f()
        except Exception as e:  # keep going: one broken workload must not lose the rest
            print(f"{bench_id:<{width}}  FAILED: {type(e).__name__}: {e}", flush=True)
            continue
        results[bench_id] = r.median
        details[bench_id] = {
            "median_ns": r.median,
            "min_ns": min(r.samples_ns),
            "max_ns": max(r.samples_ns),
            "repeats": len(r.samples_ns),
            "iters_per_repeat": r.iters,
            "wall_s": round(perf_counter() - t0, 2),
        }
        print(f"{bench_id:<{width}}  {fmt_ns(r.median):>11}  {fmt_ns(min(r.samples_ns)):>11}  "
              f"{fmt_ns(max(r.samples_ns)):>11}  {r.iters:>10}", flush=True)
    elapsed = perf_counter() - start
    if _POOL is not None:
        _POOL.shutdown()
    print(f"done: {len(results)}/{len(selected)} workloads in {elapsed:.1f} s")
    if args.json:
        doc = {
            "machine": machine(elapsed),
            "mode": args.mode or "quick",
            "results": results,
            "details": details,
        }
        parent = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(parent, exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2, sort_keys=False)
            fh.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
