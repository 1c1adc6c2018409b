//! A walk through every gilfree primitive, in the order *Learning Concurrency in Python*
//! meets them: `cargo run --release --example tour`.
//!
//! Each section is one function, named after the Python type it mirrors, and prints what a
//! reader should notice — usually the primitive's `Debug` output, which shows its state the
//! way Python's `repr()` does. Every claim printed is also asserted, so the tour doubles as a
//! smoke test: if a primitive misbehaves, the tour panics.
//!
//! It starts with `Thread` and `Timer` (the book's first chapters); the later sections use
//! `std::thread::scope` where "start them all, then join them all" reads best.

use gilfree::threading;
use gilfree::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, JoinError, Lock, RLock,
    Semaphore, Thread, Timer,
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
