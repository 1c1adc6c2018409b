//! A walk through every gilfree primitive, in the order *Learning Concurrency in Python*
//! meets them: `cargo run --release --example tour`.
//!
//! Each section is one function, named after the Python type it mirrors, and prints what a
//! reader should notice — usually the primitive's `Debug` output, which shows its state the
//! way Python's `repr()` does. Every claim printed is also asserted, so the tour doubles as a
//! smoke test: if a primitive misbehaves, the tour panics.
//!
//! It starts with `Thread` and `Timer` (the book's first chapters), goes through the
//! synchronisation primitives and the data structures threads communicate through (`Set`, the
//! queues, `Deque`), and ends with the book's "Executors and Pools": `ThreadPoolExecutor` and
//! its `Future`s (`examples/executor_patterns.rs` shows every part of it), then the book's
//! "Event-Driven Programming": the same objects awaited from async tasks. The later sections
//! use `std::thread::scope` where "start them all, then join them all" reads best. The last one
//! is the book's last chapter, the GPU: with the `opencl` feature it runs one small kernel
//! through `gilfree::opencl`; without it, it says how to turn the feature on.

use gilfree::futures::as_completed;
use gilfree::threading;
use gilfree::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Deque, Empty, Event, FutureError,
    FutureState, GetError, JoinError, LifoQueue, Lock, PriorityQueue, PutError, Queue, RLock,
    Semaphore, Set, ShutDown, SimpleQueue, Thread, ThreadPoolExecutor, Timer,
};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A short timeout for the "nobody will come" demonstrations: long enough to measure, short
/// enough that the whole tour stays well under two seconds.
const SHORT: Duration = Duration::from_millis(50);

fn main() {
    let started = Instant::now();
    // One entry per section; later parts of the book (threads, queues, executors) append here.
    let sections: &[(&str, fn())] = &[
        ("Thread — threading.Thread", thread_section),
        ("Timer — threading.Timer", timer),
        ("Lock — threading.Lock", lock),
        ("RLock — threading.RLock", rlock),
        ("Condition — threading.Condition", condition),
        ("Semaphore — threading.Semaphore", semaphore),
        (
            "BoundedSemaphore — threading.BoundedSemaphore",
            bounded_semaphore,
        ),
        ("Event — threading.Event", event),
        ("Barrier — threading.Barrier", barrier),
        // The book's "Communication between threads": sets, queues, then deques.
        ("Set — set", set),
        ("Queue — queue.Queue, LifoQueue, PriorityQueue", queue),
        ("SimpleQueue — queue.SimpleQueue", simple_queue),
        ("Deque — collections.deque", deque),
        // The book's "Executors and Pools".
        (
            "ThreadPoolExecutor, Future — concurrent.futures",
            thread_pool_executor,
        ),
        // The book's "Event-Driven Programming": the same objects, awaited from async tasks.
        ("async twins — asyncio, on the same objects", async_twins),
        // The book's "Using the GPU".
        ("GPU offload (feature `opencl`) — PyOpenCL", gpu_offload),
    ];
    for (title, run) in sections {
        println!("\n== {title} ==");
        run();
    }
    println!(
        "\ntour finished in {:.0?}: every section's assertions held",
        started.elapsed()
    );
}

/// Polls `ready` until it holds, panicking after 10 s. Used only to let a thread reach a
/// blocking call before the tour inspects the primitive it blocks on — never for correctness.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// `threading.Thread`: names, is_alive, join with a timeout, enumerate, the value (or the
/// panic) back from join.
fn thread_section() {
    let main = threading::current_thread();
    println!("this is {main:?}");
    assert_eq!(main, threading::main_thread());

    let go = Arc::new(Event::new());
    let worker = Thread::builder()
        .name("worker")
        .spawn({
            let go = Arc::clone(&go);
            move || {
                go.wait();
                threading::current_thread().name().len()
            }
        })
        .expect("spawn");
    println!("started {worker:?}; alive: {}", worker.is_alive());
    assert!(worker.is_alive());
    let names: Vec<String> = threading::enumerate().iter().map(|t| t.name()).collect();
    println!(
        "enumerate(): {names:?} (active_count() = {})",
        threading::active_count()
    );
    assert!(names.contains(&"worker".to_owned()));
    let waited = worker.join_timeout(SHORT).expect("not a self-join");
    println!("join_timeout({SHORT:?}) while it waits: {waited} — it is still alive");
    assert!(!waited && worker.is_alive());
    go.set();
    let value = worker.join().expect("worker returned");
    println!("after go.set(): join() returned its value {value} (\"worker\".len())");
    assert_eq!(value, 6);

    let doomed = Thread::builder()
        .name("doomed")
        .spawn(|| -> u8 { panic!("a panic in a thread comes back from join()") })
        .expect("spawn");
    match doomed.join() {
        Err(err @ JoinError::Panicked { .. }) => {
            println!("the panic above is expected; join() gave back: {err}")
        }
        other => panic!("expected the panic back, got {other:?}"),
    }
    let me = threading::current_thread();
    println!(
        "current_thread().join() = {:?} — an error, not a deadlock",
        me.join()
    );
    assert!(me.join().is_err());
}

/// `threading.Timer`: runs once after an interval, unless cancelled first.
fn timer() {
    let rang = Arc::new(Event::new());
    let started = Instant::now();
    let alarm = Timer::start(SHORT, {
        let rang = Arc::clone(&rang);
        move || rang.set()
    });
    assert!(rang.wait_timeout(Duration::from_secs(10)));
    println!("{alarm:?} fired after {:.0?}", started.elapsed());
    assert!(!alarm.cancel(), "too late to cancel");
    alarm.join().expect("alarm ran");

    let never = Timer::start(Duration::from_secs(3600), || unreachable!("cancelled"));
    let stopped = never.cancel();
    println!("an hour-long timer: cancel() = {stopped}; its thread ends at once");
    assert!(stopped);
    never.join().expect("cancelled timer ends");
}

/// `threading.Lock`: mutual exclusion, non-blocking and timed acquire, and a release from a
/// thread that did not acquire.
fn lock() {
    // Python:  with counter_lock: counter += 1
    // gilfree: the lock owns the counter, so forgetting the lock does not compile.
    let counter = Lock::with_value(0u64);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    *counter.acquire() += 1;
                }
            });
        }
    });
    println!("4 threads x 10_000 `with lock: counter += 1` -> {counter:?}");
    assert_eq!(*counter.acquire(), 40_000);

    // acquire(blocking=False) and acquire(timeout=0.05) while another thread holds the lock.
    let held = counter.acquire();
    println!("held by main: {counter:?}");
    thread::scope(|s| {
        s.spawn(|| {
            assert!(counter.try_acquire().is_none());
            let t = Instant::now();
            assert!(counter.acquire_timeout(SHORT).is_none());
            let waited = t.elapsed();
            assert!(waited >= SHORT.mul_f64(0.6), "gave up too early: {waited:?}");
            println!(
                "other thread: try_acquire() -> None, acquire_timeout({SHORT:?}) -> None after {waited:.0?}"
            );
        });
    });
    drop(held);

    // Python's Lock is not owned: one thread may acquire, another release. That is allowed on
    // the data-less Lock (there is no `&mut T` a stray release could expose).
    let gate = Lock::new();
    gate.acquire().detach(); // `gate.acquire()` without `with`: stays locked
    assert!(gate.locked());
    let released = thread::scope(|s| s.spawn(|| gate.release()).join().unwrap());
    assert!(released.is_ok() && !gate.locked());
    let again = gate
        .release()
        .expect_err("releasing an unlocked lock must fail");
    println!(
        "acquired in main, released by another thread -> {gate:?}; release() again -> {again}"
    );
}

/// `threading.RLock`: the owner may re-enter; other threads see it as locked.
fn rlock() {
    let rlock = RLock::new();
    // Python: with rlock: with rlock: with rlock: ...
    let outer = rlock.acquire();
    let middle = rlock.acquire();
    let inner = rlock.acquire();
    assert!(rlock.is_owned());
    assert_eq!(rlock.recursion_count(), 3);
    println!(
        "owner, 3 levels deep: is_owned()={}, recursion_count()={} -> {rlock:?}",
        rlock.is_owned(),
        rlock.recursion_count()
    );
    thread::scope(|s| {
        s.spawn(|| {
            assert!(!rlock.is_owned());
            assert_eq!(rlock.recursion_count(), 0);
            assert!(rlock.try_acquire().is_none());
            let err = rlock.release().expect_err("a non-owner cannot release");
            println!(
                "other thread: is_owned()=false, recursion_count()=0, try_acquire() -> None, release() -> {err}"
            );
        });
    });
    drop((inner, middle));
    assert!(rlock.locked() && rlock.recursion_count() == 1);
    drop(outer);
    assert!(!rlock.locked());
    println!("after the outermost `with` ends: {rlock:?}");
}

/// `threading.Condition`: a consumer sleeps until the producer has put something in the shared
/// deque — the book's producer/consumer, with `None` as the "no more items" sentinel.
fn condition() {
    let items = Condition::with_value(VecDeque::<Option<u32>>::new());
    let total = thread::scope(|s| {
        let consumer = s.spawn(|| {
            let mut total = 0;
            loop {
                let mut queue = items.acquire(); // with cond:
                queue.wait_for(|q| !q.is_empty()); //   cond.wait_for(lambda: q)
                match queue.pop_front().unwrap() {
                    Some(item) => total += item,
                    None => return total,
                }
            }
        });
        // Let the consumer get to its wait, so the notify below really wakes somebody.
        wait_until("the consumer waits", || items.n_waiting() == 1);
        println!("consumer asleep in wait_for: {items:?}");
        for item in (1..=10).map(Some).chain([None]) {
            let mut queue = items.acquire();
            queue.push_back(item);
            queue.notify_one(); // cond.notify()
        }
        consumer.join().unwrap()
    });
    assert_eq!(total, (1..=10).sum::<u32>());
    println!("producer sent 1..=10 then None; consumer summed {total}");

    let t = Instant::now();
    let notified = items.acquire().wait_timeout(SHORT);
    assert!(!notified);
    println!(
        "wait_timeout({SHORT:?}) with nobody to notify -> {notified} after {:.0?}",
        t.elapsed()
    );
}

/// `threading.Semaphore`: at most `value` threads inside at once; `release(n)` adds n permits.
fn semaphore() {
    // Python: pool = Semaphore(2); with pool: use_the_resource()
    let pool = Semaphore::new(2);
    let inside = AtomicUsize::new(0);
    let most_inside = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                let _permit = pool.acquire();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most_inside.fetch_max(now, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(10)); // simulated work with the resource
                inside.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    let most = most_inside.load(Ordering::SeqCst);
    assert!((1..=2).contains(&most));
    println!("6 threads through Semaphore(2): at most {most} inside at once; now {pool:?}");

    // release(n) wakes up to n waiters at once: three threads block on an empty semaphore.
    let gate = Semaphore::new(0);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| gate.acquire().detach()); // each keeps the permit it got
        }
        gate.release(3).unwrap();
    });
    assert_eq!(gate.value(), 0);
    let err = gate.release(0).expect_err("release(0) is a ValueError");
    println!("release(3) let 3 blocked threads through -> {gate:?}; release(0) -> {err}");
}

/// `threading.BoundedSemaphore`: like Semaphore, but releasing more than was acquired is a bug
/// it reports — and then nothing changes.
fn bounded_semaphore() {
    let slots = BoundedSemaphore::new(2);
    {
        let _slot = slots.acquire();
        println!("one slot taken: {slots:?}");
    }
    let err = slots.release(1).expect_err("over-release must be refused");
    assert_eq!(slots.value(), slots.initial_value());
    println!("extra release(1) -> {err}; still {slots:?}");
}

/// `threading.Event`: a start gun that many threads wait on, and a timed wait that gives up.
fn event() {
    let start = Event::new();
    let started = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                start.wait(); // start.wait()
                started.fetch_add(1, Ordering::SeqCst);
            });
        }
        // No worker can get past wait() before the gun.
        assert_eq!(started.load(Ordering::SeqCst), 0);
        start.set();
    });
    assert_eq!(started.load(Ordering::SeqCst), 4);
    println!("4 workers waited for the start gun, then all ran -> {start:?}");

    let never = Event::new();
    let t = Instant::now();
    let fired = never.wait_timeout(SHORT);
    let waited = t.elapsed();
    assert!(!fired && waited >= SHORT.mul_f64(0.6));
    println!("wait_timeout({SHORT:?}) on an unset event -> {fired} after {waited:.0?}");
}

/// `threading.Barrier`: threads meet round after round; an action runs once per round; abort()
/// breaks the barrier for everyone waiting.
fn barrier() {
    // Python: Barrier(3, action=lambda: print("round done"))
    let rounds = Arc::new(AtomicUsize::new(0));
    let meeting = {
        let rounds = Arc::clone(&rounds);
        Barrier::builder(3)
            .action(move || {
                let round = rounds.fetch_add(1, Ordering::SeqCst) + 1;
                println!("  action: round {round} complete, all 3 threads arrived");
            })
            .build()
            .unwrap()
    };
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..3 {
                    meeting.wait().unwrap();
                }
            });
        }
    });
    assert_eq!(rounds.load(Ordering::SeqCst), 3);

    // abort(): a thread waiting for a partner that never comes gets BrokenBarrierError.
    let pair = Barrier::new(2);
    let outcome = thread::scope(|s| {
        let lonely = s.spawn(|| pair.wait());
        wait_until("the lonely thread waits", || pair.n_waiting() == 1);
        pair.abort();
        lonely.join().unwrap()
    });
    assert_eq!(outcome, Err(BrokenBarrierError));
    assert!(pair.broken());
    println!("abort() while one thread waited -> it got {outcome:?}; now {pair:?}");
}

/// `set`: threads adding at once, each value new to exactly one `add`; snapshots of one moment.
fn set() {
    // Python: with seen_lock: if x not in seen: seen.add(x); new = True
    // gilfree: add() is that whole test-and-add, atomically; true for the first caller only.
    let seen = Set::new();
    let firsts = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..4 {
            let (seen, firsts) = (&seen, &firsts);
            s.spawn(move || {
                // Overlapping ranges: 0..500, 250..750, 500..1000, 750..1250.
                for n in t * 250..t * 250 + 500 {
                    if seen.add(n) {
                        firsts.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let firsts = firsts.load(Ordering::Relaxed);
    println!(
        "4 threads add overlapping ranges (2000 adds): {firsts} returned true, len() = {}",
        seen.len()
    );
    assert_eq!(firsts, 1250);
    assert_eq!(seen.len(), 1250);

    // A snapshot locks every shard at once: while one thread adds 0, 1, 2, … in order, every
    // snapshot is some prefix 0..k, never a set with a gap.
    const ADDS: u32 = 40_000;
    let counting = Set::new();
    let sizes = thread::scope(|s| {
        s.spawn(|| (0..ADDS).for_each(|n| assert!(counting.add(n))));
        let mut sizes = Vec::new();
        loop {
            let snapshot = counting.to_hash_set();
            let k = snapshot.len() as u32;
            assert!(
                (0..k).all(|n| snapshot.contains(&n)),
                "a snapshot with a gap"
            );
            sizes.push(k);
            if k == ADDS {
                break sizes;
            }
        }
    });
    let midway = sizes.iter().filter(|&&k| 0 < k && k < ADDS).count();
    println!(
        "snapshots while a thread added 0..{ADDS} in order ({midway} of them mid-way): each a prefix 0..k, never a set with a gap"
    );

    let small: Set<&str> = ["lock", "queue"].into_iter().collect();
    let copy = small.to_hash_set();
    small.clear();
    let err = small.remove("lock").unwrap_err();
    println!(
        "a snapshot outlives clear(): {} items; remove(\"lock\") now -> {err}",
        copy.len()
    );
    assert_eq!(copy.len(), 2);
    assert!(
        !small.discard("queue"),
        "discard of a missing item is no error"
    );
}

/// `queue.Queue` and friends: three orders, a bounded queue that hands the item back,
/// task_done/join, and Python 3.13's shutdown.
fn queue() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for n in [3, 1, 4, 1, 5] {
        fifo.put(n).unwrap();
        lifo.put(n).unwrap();
        prio.put(n).unwrap();
    }
    let orders: [Vec<i32>; 3] = [
        fifo.try_iter().collect(),
        lifo.try_iter().collect(),
        prio.try_iter().collect(),
    ];
    println!(
        "put 3 1 4 1 5 -> Queue gets {:?}, LifoQueue {:?}, PriorityQueue {:?}",
        orders[0], orders[1], orders[2]
    );
    assert_eq!(orders, [[3, 1, 4, 1, 5], [5, 1, 4, 1, 3], [1, 1, 3, 4, 5]]);

    let bounded = Queue::new(1);
    bounded.put("first").unwrap();
    let err = bounded.put_nowait("second").unwrap_err();
    assert_eq!(err, PutError::Full("second"));
    println!(
        "{bounded:?}: put_nowait(\"second\") -> {err:?}, and {:?} comes back",
        err.into_inner()
    );

    // The worker pool: join() returns once every item put was task_done()'d; then shutdown()
    // ends the workers' `while let Ok(..) = q.get()` loops.
    let jobs = Queue::new(0);
    let total = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while let Ok(n) = jobs.get() {
                    total.fetch_add(n, Ordering::Relaxed);
                    jobs.task_done().unwrap();
                }
            });
        }
        for n in 1..=100 {
            jobs.put(n).unwrap();
        }
        jobs.join();
        // task_done() came after each addition: the total is complete when join() returns.
        assert_eq!(total.load(Ordering::Relaxed), 5050);
        println!("3 workers, 100 jobs: join() returned with the sum complete (5050); {jobs:?}");
        jobs.shutdown(false);
    });
    assert_eq!(jobs.put(0), Err(ShutDown(0)));
    assert_eq!(jobs.get_nowait(), Err(GetError::ShutDown));
    println!(
        "after shutdown(): the workers' get() gave Err(ShutDown), so they ended; put() is refused too"
    );

    let backlog = Queue::new(0);
    for n in 0..5 {
        backlog.put(n).unwrap();
    }
    backlog.shutdown(true);
    backlog.join(); // the discarded items' tasks count as done: returns at once
    println!("shutdown(immediate=True) with 5 queued: discarded, join() released -> {backlog:?}");
    assert!(backlog.empty() && backlog.unfinished_tasks() == 0);
}

/// `queue.SimpleQueue`: unbounded FIFO; put never blocks or fails; no task tracking.
fn simple_queue() {
    let q = SimpleQueue::new();
    let got: Vec<u32> = thread::scope(|s| {
        s.spawn(|| (0..1000).for_each(|n| q.put(n)));
        (0..1000).map(|_| q.get()).collect()
    });
    assert!(got.iter().copied().eq(0..1000));
    println!("one producer, 1000 puts: get() received them all, in order -> {q:?}");
    let t = Instant::now();
    let nothing = q.get_timeout(SHORT);
    let waited = t.elapsed();
    assert_eq!(nothing, Err(Empty));
    assert!(waited >= SHORT.mul_f64(0.6));
    println!("get_timeout({SHORT:?}) on the empty queue -> {nothing:?} after {waited:.0?}");
}

/// `collections.deque`: both ends, maxlen eviction (the evicted item comes back), rotate.
fn deque() {
    let recent = Deque::with_maxlen(3);
    let evicted: Vec<Option<u32>> = (1..=5).map(|n| recent.append(n)).collect();
    println!("deque(maxlen=3), append 1..=5: evicted {evicted:?} -> {recent:?}");
    assert_eq!(evicted, [None, None, None, Some(1), Some(2)]);
    assert_eq!(recent.to_vec(), [3, 4, 5]);
    assert_eq!(
        recent.append_left(0),
        Some(5),
        "append_left evicts from the right"
    );

    let ring: Deque<char> = "abcde".chars().collect();
    ring.rotate(2);
    assert_eq!(ring.to_vec(), ['d', 'e', 'a', 'b', 'c']);
    println!("deque('abcde').rotate(2) -> {ring:?}");
    ring.rotate(-3);
    assert_eq!(ring.to_vec(), ['b', 'c', 'd', 'e', 'a']);
    println!("then rotate(-3) -> {ring:?}");

    // Many threads on one deque, no lock of our own: every method is atomic.
    let log = Deque::with_maxlen(100);
    let pushed_out = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..4 {
            let (log, pushed_out) = (&log, &pushed_out);
            s.spawn(move || {
                for n in 0..1000 {
                    if log.append((t, n)).is_some() {
                        pushed_out.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let pushed_out = pushed_out.load(Ordering::Relaxed);
    println!(
        "4 threads x 1000 appends into deque(maxlen=100): {} kept, {pushed_out} handed back as evicted",
        log.len()
    );
    assert_eq!((log.len(), pushed_out), (100, 3900));
}

/// `concurrent.futures.ThreadPoolExecutor`: submit returns a Future; map keeps input order;
/// as_completed yields in completion order; a task's panic comes back in its future; a queued
/// task can be cancelled.
fn thread_pool_executor() {
    // with ThreadPoolExecutor(max_workers=3) as pool:
    let pool = ThreadPoolExecutor::new(3);
    let fut = pool.submit(|| (1..=20u64).sum::<u64>());
    assert_eq!(fut.result(), Ok(&210));
    println!(
        "submit(sum(1..=20)).result() -> {:?}; {fut:?}",
        fut.result()
    );
    println!("workers start lazily: {pool:?}");
    assert!(pool.worker_count() <= 1);

    // Work that takes different times: map() keeps input order, as_completed() does not.
    let work_ms = [60u64, 10, 35];
    let finished = Arc::new(Lock::with_value(Vec::new()));
    let work = {
        let finished = Arc::clone(&finished);
        move |ms: u64| {
            thread::sleep(Duration::from_millis(ms)); // the work
            finished.acquire().push(ms); // the task's last act: the order they finish in
            ms
        }
    };
    let mapped: Vec<u64> = pool
        .map(work.clone(), work_ms)
        .map(Result::unwrap)
        .collect();
    finished.acquire().clear();
    let futures = work_ms.map(|ms| {
        let work = work.clone();
        pool.submit(move || work(ms))
    });
    let completed: Vec<u64> = as_completed(&futures, None)
        .map(|f| *f.unwrap().result().unwrap())
        .collect();
    println!(
        "work of {work_ms:?} ms: map() -> {mapped:?} (input order), as_completed() -> {completed:?} (completion order)"
    );
    assert_eq!(mapped, work_ms);
    assert_eq!(completed, *finished.acquire());

    // A panic inside a task is the task's exception: stored, and the worker lives on.
    let boom = pool.submit(|| -> u32 { panic!("a panic in a task comes back from result()") });
    let err = boom.result().expect_err("the task panicked");
    println!("the panic above is expected; result() gave back: {err}");
    assert!(matches!(err, FutureError::Panicked { .. }));
    assert_eq!(
        pool.submit(|| 2 + 2).result(),
        Ok(&4),
        "the pool still works"
    );

    // cancel(): a queued task can be cancelled; a running one cannot.
    let single = ThreadPoolExecutor::new(1);
    let (started, gate) = (Arc::new(Event::new()), Arc::new(Event::new()));
    let busy = single.submit({
        let (started, gate) = (Arc::clone(&started), Arc::clone(&gate));
        move || {
            started.set();
            gate.wait_timeout(Duration::from_secs(10))
        }
    });
    let queued = single.submit(|| -> u8 { unreachable!("cancelled before it ran") });
    assert!(started.wait_timeout(Duration::from_secs(10)));
    let (stopped, too_late) = (queued.cancel(), busy.cancel());
    println!(
        "one worker, busy: cancel() on the queued task -> {stopped} ({:?}), on the running one -> {too_late}",
        queued.state()
    );
    assert!(stopped && !too_late);
    assert_eq!(queued.result(), Err(FutureError::Cancelled));
    gate.set();
    assert_eq!(busy.result(), Ok(&true));
    assert_eq!(busy.state(), FutureState::Finished);
    drop(single); // the end of its `with` block: waits for the worker, never runs the cancelled task
}

/// The book's "Event-Driven Programming" without asyncio's separate world: every wait above has
/// an `…_async` twin on the same object, so a thread and a task share one Lock, one Event, one
/// Queue. The tasks here run on `futures::executor::block_on`; `examples/event_driven.rs` does
/// the same on tokio, with a loopback server.
fn async_twins() {
    use futures::executor::block_on;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    // One Lock: a thread uses acquire(), a task awaits acquire_async(); no update is lost.
    let counter = Lock::with_value(0u32);
    thread::scope(|s| {
        s.spawn(|| (0..1000).for_each(|_| *counter.acquire() += 1));
        block_on(async {
            for _ in 0..1000 {
                *counter.acquire_async().await += 1; // async with lock: counter += 1
            }
        });
    });
    assert_eq!(*counter.acquire(), 2000);
    println!("a thread (acquire) and a task (acquire_async), 1000 increments each -> {counter:?}");

    // One Event: set by a thread, awaited by a task.
    let ready = Event::new();
    thread::scope(|s| {
        s.spawn(|| ready.set());
        block_on(ready.wait_async()); // await event.wait()
    });
    println!("a task awaited an Event that a thread set -> {ready:?}");

    // One bounded Queue: a producer thread blocks in put() while a task awaits get_async().
    let queue = Queue::new(2);
    let total = thread::scope(|s| {
        s.spawn(|| {
            for item in 1..=100u32 {
                queue.put(item).unwrap();
            }
            queue.shutdown(false); // the task's get_async then returns ShutDown
        });
        block_on(async {
            let mut total = 0;
            while let Ok(item) = queue.get_async().await {
                total += item;
            }
            total
        })
    });
    assert_eq!(total, 5050);
    println!("thread put 1..=100 into Queue(2), a task summed them with get_async -> {total}");

    // Cancel-safe: a get_async dropped while it waits (what a runtime's timeout does) takes
    // nothing with it; the item put afterwards is still there.
    let queue = Queue::new(0);
    {
        let mut get = pin!(queue.get_async());
        let pending = get.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(pending.is_pending());
        println!("a get_async polled once on an empty queue is waiting: {queue:?}");
    } // dropped here, as tokio::time::timeout would drop it
    queue.put("kept").unwrap();
    assert_eq!(queue.get_nowait(), Ok("kept"));
    println!("dropped while waiting, then put(\"kept\"): get_nowait() -> \"kept\" (nothing lost)");

    // A pool's Future is awaitable: Python's `await loop.run_in_executor(pool, f)`.
    let pool = ThreadPoolExecutor::new(2);
    let squares: Vec<u64> = block_on(async {
        let mut out = Vec::new();
        for n in 1..=4u64 {
            out.push(pool.submit(move || n * n).await.unwrap());
        }
        out
    });
    assert_eq!(squares, [1, 4, 9, 16]);
    println!("pool.submit(f).await for n in 1..=4 -> {squares:?}");
}

/// PyOpenCL's `ElementwiseKernel` on an `OpenClExecutor`, whose futures are the pool's `Future`.
/// A machine without an OpenCL driver gets a note instead (the tour still passes).
#[cfg(feature = "opencl")]
fn gpu_offload() {
    use gilfree::opencl::{OpenClError, OpenClExecutor};

    // ctx = cl.create_some_context(): a GPU if there is one, else the CPU (POCL);
    // GILFREE_OPENCL_DEVICE chooses another.
    let exec = match OpenClExecutor::new() {
        Ok(exec) => exec,
        Err(err @ OpenClError::NoPlatform { .. }) => {
            println!("no OpenCL driver on this machine ({err}); skipped.");
            println!(
                "to get one on the CPU (Debian/Ubuntu): apt install pocl-opencl-icd ocl-icd-opencl-dev"
            );
            return;
        }
        Err(err) => panic!("cannot open an OpenCL device: {err}"),
    };
    println!("OpenClExecutor::new() chose {}", exec.device());
    // ElementwiseKernel(ctx, "const int *x, int *y", "y[i] = x[i] * x[i]")
    // Kernel source is C that Rust cannot check, so building it is `unsafe`.
    // SAFETY: the operation indexes `x` and `y` at `i` only, which gilfree keeps below both
    // buffers' lengths.
    let square = unsafe { exec.elementwise("const int *x, int *y", "y[i] = x[i] * x[i]") }
        .expect("the kernel builds");
    // list(map(square, range(1, 9))) on the device: copy in, one work item per i, copy out;
    // `fut` is the same gilfree::Future a ThreadPoolExecutor returns.
    let fut = exec.map(&square, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let squares: Vec<i32> = fut.into_result().expect("the kernel runs");
    println!("exec.map(`y[i] = x[i] * x[i]`, [1..=8]) -> {squares:?}");
    assert_eq!(squares, [1, 4, 9, 16, 25, 36, 49, 64]);
    println!(
        "examples/gpu_vector_add.rs and gpu_primes.rs show the rest: buffers, timings, reductions"
    );
}

/// Without the feature, the GPU section only says where to find it.
#[cfg(not(feature = "opencl"))]
fn gpu_offload() {
    println!(
        "built without the `opencl` feature; to run kernels on a GPU (or the CPU, with POCL): \
         cargo run --release --features opencl --example gpu_vector_add"
    );
}
