//! Async twins of `Condition` (ASYNC_SEMANTICS.md §3, ACOND-1 … ACOND-11) and of a thread's
//! join: `Condition::acquire_async`, `ConditionGuard::wait_async` / `wait_for_async`,
//! `ThreadHandle::join_async` and `Thread::join_async`, with threads and tasks waiting on one
//! condition (one FIFO).
//!
//! Cannot hold for a thread-safe, runtime-agnostic library (§9), on purpose:
//! * ACOND-6 / ACOND-7: a cancelled asyncio `wait()` re-acquires the lock before it raises.
//!   Rust has no async Drop: a dropped `wait_async` leaves the lock released (the guard moved
//!   into the future). Tested as the port's rule (`dropped_*` tests below).
//! * ACOND-2: waiting or notifying without the lock cannot be written: only a guard has
//!   `wait_async` and `notify`. A condition over an RLock has no `wait_async` at all (a
//!   compile_fail doctest on `Condition` checks it).
//! * ACOND-9: spurious wake-ups are allowed (documented), but a dropped waiter that was not
//!   notified does not notify anyone: only a notification it was handed is passed on.
//! * ACOND-1: `Condition::new()` is over an RLock, as threading's; `Condition::with_value`
//!   and `Condition::with_lock(Arc<Lock>)` are asyncio's Condition (the only async-capable
//!   ones).
//!
//! Skipped, [PY]: ACOND-11 (exception identity, repr, loop binding).

mod common;

use common::task::*;
use common::*;
use gilfree::{Condition, Lock, Thread};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Instant;

/// A thread blocked in `wait()` on `cond`, once `n_waiting` reaches `queued`; returns after
/// it was notified (it records `id` into `order`).
fn blocked_waiter(
    cond: &Arc<Condition<Lock<u32>>>,
    order: &Arc<Mutex<Vec<&'static str>>>,
    id: &'static str,
    queued: usize,
) -> thread::JoinHandle<()> {
    let (cond2, order) = (Arc::clone(cond), Arc::clone(order));
    let h = thread::spawn(move || {
        let mut g = cond2.acquire();
        g.wait();
        order.lock().unwrap().push(id);
    });
    poll_until("the thread to wait", || cond.n_waiting() == queued);
    h
}

/// ACOND-1: a condition over a shared `Lock` uses that lock: `acquire_async` locks it, and
/// `async with cond` / `async with lock` exclude each other.
#[test]
fn acquire_async_takes_the_shared_lock() {
    with_watchdog(|| {
        let lock = Arc::new(Lock::new());
        let cond = Condition::with_lock(Arc::clone(&lock));
        futures::executor::block_on(async {
            let g = cond.acquire_async().await;
            assert!(lock.locked());
            assert!(lock.try_acquire().is_none());
            drop(g);
            assert!(!lock.locked());
            let held = lock.acquire_async().await;
            let mut acquire = pin!(cond.acquire_async());
            let (f, w) = flag();
            assert!(poll_once(acquire.as_mut(), &w).is_pending());
            drop(held);
            assert!(woken(&f), "the release wakes the queued acquire");
            assert!(poll_once(acquire.as_mut(), &w).is_ready());
        });
    });
}

/// ACOND-3: `wait_async` releases the lock while it waits (a thread takes it and notifies),
/// and returns only once it has re-acquired it, after the notifier released.
#[test]
fn wait_async_releases_waits_and_reacquires() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0u32));
        let (f, w) = flag();
        let guard = futures::executor::block_on(cond.acquire_async());
        let mut wait = pin!(guard.wait_async());
        assert!(poll_once(wait.as_mut(), &w).is_pending());
        assert_eq!(cond.n_waiting(), 1);
        assert!(!cond.lock().locked(), "released while waiting");
        let mut notifier = cond.try_acquire().expect("free while the task waits");
        *notifier = 7;
        notifier.notify_one();
        assert_eq!(cond.n_waiting(), 0, "a notified waiter no longer counts");
        // Woken when the notifier releases the lock: woken now, it would only block on it.
        assert!(!woken(&f));
        // The notifier still holds the lock: the notified task cannot return yet.
        assert!(poll_once(wait.as_mut(), &w).is_pending());
        drop(notifier);
        assert!(woken(&f));
        match poll_once(wait.as_mut(), &w) {
            Poll::Ready(g) => {
                assert_eq!(*g, 7);
                assert!(cond.lock().locked());
            }
            Poll::Pending => panic!("the lock was free: the wait returns"),
        }
        assert!(!cond.lock().locked());
    });
}

/// ACOND-4: `notify(n)` wakes the `n` oldest waiters not notified yet, threads and tasks alike,
/// in the order they started waiting; a second notify under the same hold skips the ones
/// already notified.
#[test]
fn notify_n_wakes_the_oldest_across_kinds() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0u32));
        let order = Arc::new(Mutex::new(Vec::new()));
        // Queue: task A, thread B, task C, thread D.
        let (fa, wa) = flag();
        let (fc, wc) = flag();
        let ga = cond.acquire();
        let mut a = Box::pin(ga.wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let b = blocked_waiter(&cond, &order, "B", 2);
        let gc = cond.acquire();
        let mut c = Box::pin(gc.wait_async());
        assert!(poll_once(c.as_mut(), &wc).is_pending());
        let d = blocked_waiter(&cond, &order, "D", 4);

        let g = cond.acquire();
        g.notify(2);
        assert_eq!(cond.n_waiting(), 2);
        assert!(!woken(&fa), "woken when the lock is released");
        drop(g);
        assert!(woken(&fa), "A, the oldest, is notified");
        assert!(!woken(&fc), "C is behind B");
        join_within(b);
        assert!(!d.is_finished());
        assert!(poll_once(a.as_mut(), &wa).is_ready());

        let g = cond.acquire();
        g.notify(1);
        g.notify(1); // skips C, already notified: D
        assert_eq!(cond.n_waiting(), 0);
        drop(g);
        assert!(woken(&fc));
        join_within(d);
        assert!(poll_once(c.as_mut(), &wc).is_ready());
        assert_eq!(*order.lock().unwrap(), ["B", "D"]);
        // notify(0) and a notify with nobody waiting do nothing.
        cond.acquire().notify(0);
        cond.acquire().notify_all();
    });
}

/// ACOND-5: `wait_for_async` returns at once, without waiting, when the predicate holds; else
/// it waits through notifications until it does, and returns the guard with it true.
#[test]
fn wait_for_async_checks_first_and_after_every_wake_up() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(3u32));
        let g = cond.acquire();
        let mut ready = pin!(g.wait_for_async(|n| *n == 3));
        assert!(poll_once(ready.as_mut(), Waker::noop()).is_ready());
        assert!(!cond.lock().locked());

        let calls = Arc::new(AtomicUsize::new(0));
        let worker = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                poll_until("the task to wait", || cond.n_waiting() == 1);
                for _ in 0..3 {
                    let mut n = cond.acquire();
                    *n += 1;
                    n.notify_all(); // 4 and 5 do not satisfy the predicate: it waits again
                }
            })
        };
        let calls2 = Arc::clone(&calls);
        let n = futures::executor::block_on(async {
            let g = cond.acquire_async().await;
            let g = g
                .wait_for_async(move |n| {
                    calls2.fetch_add(1, Ordering::SeqCst);
                    *n == 6
                })
                .await;
            *g
        });
        assert_eq!(n, 6);
        assert!(calls.load(Ordering::SeqCst) >= 2);
        join_within(worker);
    });
}

/// ACOND-8 (woken before it ran), with ACOND-6 as ported: a task notified but dropped before
/// it saw the notification passes it to the next waiter (a thread), and leaves the lock
/// released.
#[test]
fn dropped_wait_woken_unseen_forwards_the_notification() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0u32));
        let order = Arc::new(Mutex::new(Vec::new()));
        let (fa, wa) = flag();
        let mut a = Box::pin(cond.acquire().wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let b = blocked_waiter(&cond, &order, "B", 2);
        cond.acquire().notify_one();
        assert!(woken(&fa), "the task, the oldest, is notified");
        assert!(!b.is_finished());
        drop(a); // never saw it
        join_within(b); // hangs (and fails in 10 s) if the notification was lost
        assert!(
            !cond.lock().locked(),
            "a dropped wait leaves the lock released"
        );
        assert_eq!(cond.n_waiting(), 0);
    });
}

/// ACOND-8 (while re-acquiring the lock), ACOND-7 as ported: a task that saw the notification
/// but is dropped while it waits for the lock passes the notification to the next waiter,
/// and the lock is not re-acquired for it.
#[test]
fn dropped_wait_while_reacquiring_forwards_the_notification() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0u32));
        let order = Arc::new(Mutex::new(Vec::new()));
        let (fa, wa) = flag();
        let mut a = Box::pin(cond.acquire().wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let b = blocked_waiter(&cond, &order, "B", 2);
        let g = cond.acquire();
        g.notify_one();
        assert!(!woken(&fa), "woken when the lock is released");
        // Saw the notification; the lock is held by the notifier: queued for the lock.
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        assert_eq!(cond.n_waiting(), 1, "only B still waits for a notification");
        drop(a);
        drop(g);
        join_within(b);
        assert!(!cond.lock().locked());
        assert_eq!(cond.n_waiting(), 0);
    });
}

/// ACOND-9 as ported: a dropped wait that was never notified notifies nobody, and leaves no
/// trace in the queue; the other waiters keep waiting for a real notification.
#[test]
fn dropped_wait_not_notified_just_leaves() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0u32));
        let (fa, wa) = flag();
        let (fb, wb) = flag();
        let mut a = Box::pin(cond.acquire().wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let mut b = Box::pin(cond.acquire().wait_async());
        assert!(poll_once(b.as_mut(), &wb).is_pending());
        drop(a);
        assert_eq!(cond.n_waiting(), 1);
        assert!(!woken(&fa) && !woken(&fb));
        assert!(!cond.lock().locked());
        cond.acquire().notify_one();
        assert!(woken(&fb));
        assert!(poll_once(b.as_mut(), &wb).is_ready());
        // Dropped before its first poll: the guard inside releases the lock.
        drop(cond.acquire().wait_async());
        assert!(!cond.lock().locked());
    });
}

/// ACOND-10 as ported: a runtime timeout drops the wait; the lock is then released (not
/// re-acquired as in asyncio), the waiter gone, and the condition keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_timeout_drops_the_wait() {
    let cond = Arc::new(Condition::with_value(0u32));
    let start = Instant::now();
    let g = cond.acquire_async().await;
    let out = tokio::time::timeout(T, g.wait_async()).await;
    assert!(out.is_err());
    assert_timeout(start.elapsed(), T);
    assert!(!cond.lock().locked());
    assert_eq!(cond.n_waiting(), 0);
    let g = cond.acquire_async().await;
    assert!(
        tokio::time::timeout(T, g.wait_for_async(|n| *n == 0))
            .await
            .is_ok()
    );
}

/// ACOND-3, ACOND-4, ACOND-5 on tokio's multi-thread runtime: spawned tasks (which move
/// between workers while they wait, holding a `Send` guard) and threads consume items from
/// one condition; every item is taken once, and nobody sleeps forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_and_threads_share_one_condition_on_tokio() {
    const ITEMS: u32 = 400;
    const EACH: u32 = 4;
    let cond = Arc::new(Condition::with_value((0u32, 0u32))); // (available, taken)
    let consume = |n: &mut (u32, u32)| {
        n.0 -= 1;
        n.1 += 1;
    };
    let mut tasks = Vec::new();
    for _ in 0..EACH {
        let cond = Arc::clone(&cond);
        tasks.push(tokio::spawn(async move {
            let mut got = 0;
            loop {
                let mut g = cond
                    .acquire_async()
                    .await
                    .wait_for_async(|n| n.0 > 0 || n.1 == ITEMS)
                    .await;
                if g.0 == 0 {
                    return got;
                }
                consume(&mut g);
                got += 1;
                if g.1 == ITEMS {
                    g.notify_all();
                }
            }
        }));
    }
    let threads: Vec<_> = (0..EACH)
        .map(|_| {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                let mut got = 0;
                loop {
                    let mut g = cond.acquire();
                    assert!(g.wait_for_timeout(|n| n.0 > 0 || n.1 == ITEMS, LONG));
                    if g.0 == 0 {
                        return got;
                    }
                    consume(&mut g);
                    got += 1;
                    if g.1 == ITEMS {
                        g.notify_all();
                    }
                }
            })
        })
        .collect();
    let producer = {
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            for _ in 0..ITEMS {
                let mut g = cond.acquire();
                g.0 += 1;
                g.notify_one();
            }
        })
    };
    let mut total = 0;
    for t in tasks {
        total += tokio::time::timeout(LONG, t).await.unwrap().unwrap();
    }
    let threads_total =
        tokio::task::spawn_blocking(move || threads.into_iter().map(join_within).sum::<u32>())
            .await
            .unwrap();
    producer.join().unwrap();
    assert_eq!(total + threads_total, ITEMS);
    assert_eq!(*cond.acquire(), (0, ITEMS));
}

/// ACOND-4, ACOND-5 on `futures::executor::ThreadPool`: tasks wait for permits, a thread
/// hands out one per `notify(1)`; every task gets one.
#[test]
fn tasks_on_a_futures_thread_pool() {
    with_watchdog(|| {
        const TASKS: usize = 6;
        let pool = futures::executor::ThreadPool::builder()
            .pool_size(2)
            .create()
            .unwrap();
        // A semaphore built on the condition: every task waits for a permit; the thread hands
        // out one permit per `notify(1)`, after all tasks queued. A lost notification hangs a
        // task (and fails the test).
        let cond = Arc::new(Condition::with_value(0usize));
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..TASKS {
            let (cond, tx) = (Arc::clone(&cond), tx.clone());
            pool.spawn_ok(async move {
                let mut g = cond
                    .acquire_async()
                    .await
                    .wait_for_async(|permits| *permits > 0)
                    .await;
                *g -= 1;
                drop(g);
                tx.send(()).unwrap();
            });
        }
        poll_until("every task to wait", || cond.n_waiting() == TASKS);
        for _ in 0..TASKS {
            let mut g = cond.acquire();
            *g += 1;
            g.notify(1);
        }
        for _ in 0..TASKS {
            rx.recv_timeout(DEADLINE).expect("every task returns");
        }
        assert_eq!(*cond.acquire(), 0);
    });
}

/// Thread join: `join_async` returns the function's value (and its panic as the same
/// `JoinError`), on tokio and on `futures::executor`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_async_returns_the_value_or_the_panic() {
    let go = Arc::new(gilfree::Event::new());
    let t = {
        let go = Arc::clone(&go);
        Thread::spawn(move || {
            go.wait();
            41 + 1
        })
    };
    let h = t.handle().clone();
    let joined = tokio::spawn(t.join_async());
    let by_handle = tokio::spawn(async move { h.join_async().await });
    go.set();
    assert_eq!(joined.await.unwrap().unwrap(), 42);
    by_handle.await.unwrap().unwrap();

    let t = Thread::spawn(|| -> u8 { panic!("boom") });
    match futures::executor::block_on(t.join_async()) {
        Err(gilfree::JoinError::Panicked { message, .. }) => assert_eq!(message, "boom"),
        other => panic!("expected the panic, got {other:?}"),
    }
}

/// Thread join: threads in `join_timeout` and tasks in `join_async` wait on one list; the
/// thread's end wakes them all; a dropped `join_async` loses nothing (the thread can still be
/// joined, its value is there); joining from the thread itself fails at the first poll.
#[test]
fn joiners_of_both_kinds_are_woken_by_the_end() {
    with_watchdog(|| {
        let go = Arc::new(gilfree::Event::new());
        let t = {
            let go = Arc::clone(&go);
            Thread::spawn(move || {
                go.wait();
                gilfree::threading::current_thread()
            })
        };
        let h = t.handle().clone();
        let (f, w) = flag();
        let mut task = Box::pin(h.join_async());
        assert!(poll_once(task.as_mut(), &w).is_pending());
        let mut dropped = Box::pin(h.join_async());
        assert!(poll_once(dropped.as_mut(), Waker::noop()).is_pending());
        drop(dropped);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let h = h.clone();
                thread::spawn(move || h.join_timeout(LONG))
            })
            .collect();
        // Still running: a timed join times out, within CPython's bounds.
        let start = Instant::now();
        assert_eq!(h.join_timeout(T), Ok(false));
        assert_timeout(start.elapsed(), T);
        go.set();
        for th in threads {
            assert_eq!(join_within(th), Ok(true));
        }
        poll_until("the task to be woken", || woken(&f));
        assert!(matches!(poll_once(task.as_mut(), &w), Poll::Ready(Ok(()))));
        let me = t.join().unwrap();
        assert_eq!(me, h);

        // A task driven on the thread it joins: an error, not a deadlock.
        let t = Thread::spawn(|| {
            let me = gilfree::threading::current_thread();
            futures::executor::block_on(me.join_async())
        });
        let err = t.join().unwrap().unwrap_err();
        assert_eq!(err.message(), "cannot join current thread");
    });
}

/// An executor whose `wake` polls the task at once, on the waking thread (legal, if unusual).
struct InlineTask {
    future: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    again: AtomicBool,
    done: AtomicBool,
}

impl InlineTask {
    fn spawn(future: impl Future<Output = ()> + Send + 'static) -> Arc<Self> {
        let task = Arc::new(InlineTask {
            future: Mutex::new(Some(Box::pin(future))),
            again: AtomicBool::new(false),
            done: AtomicBool::new(false),
        });
        task.run();
        task
    }

    fn run(self: &Arc<Self>) {
        self.again.store(true, Ordering::SeqCst);
        while self.again.load(Ordering::SeqCst) {
            // A wake from inside the poll: the poller loops instead.
            let Ok(mut slot) = self.future.try_lock() else {
                return;
            };
            self.again.store(false, Ordering::SeqCst);
            if let Some(future) = slot.as_mut() {
                let waker = Waker::from(Arc::clone(self));
                if future
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready()
                {
                    *slot = None;
                    self.done.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

impl Wake for InlineTask {
    fn wake(self: Arc<Self>) {
        self.run();
    }
}

/// A condition's wait releases its lock after leaving the waiter list's internal lock: the
/// release wakes the lock's waiters, and a waker may run the woken task on the spot (here, a
/// task that re-acquires the lock, finds its predicate false and waits on the same condition
/// again). Before, the release ran under the list's lock and the inline poll deadlocked on it.
#[test]
fn a_wake_that_polls_the_task_inline_does_not_deadlock_a_condition_wait() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0u32));
        let task = {
            let cond = Arc::clone(&cond);
            InlineTask::spawn(async move {
                let guard = cond.acquire_async().await;
                drop(guard.wait_for_async(|v| *v >= 2).await);
            })
        };
        assert!(!task.done.load(Ordering::SeqCst), "the task waits for 2");
        let mut guard = cond.acquire();
        *guard = 1;
        guard.notify_one(); // the task wakes and queues for the lock (held here)
        // Releases the lock: the task runs inline, re-acquires, sees 1 and waits again.
        assert!(!guard.wait_timeout(std::time::Duration::from_millis(20)));
        *guard = 2;
        guard.notify_all();
        drop(guard); // the task re-acquires inline, sees 2 and finishes
        assert!(task.done.load(Ordering::SeqCst));
    });
}

/// A task's `Waker` is user code, and may take the lock the task waits for: `notify` runs
/// with the condition's lock held, so its wake-ups must wait for the notifier's release
/// (and the release of a lock a `wait_async` re-acquires must wake with nothing held).
/// Here each waker takes and releases the condition's lock before waking its task; a
/// wake-up given under the lock deadlocks (the watchdog fails the test). Two tasks count up
/// in turn with a thread, each step one notify.
#[test]
fn wakers_that_take_the_conditions_lock_are_woken_after_its_release() {
    const STEPS: u32 = 3_000;
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0u32));
        let pool = futures::executor::ThreadPool::builder()
            .pool_size(2)
            .create()
            .unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        // Turn `k` of every 3 steps is task k's (1 or 2); the thread's is 0.
        for k in 1..=2u32 {
            let (cond, done_tx) = (Arc::clone(&cond), done_tx.clone());
            let touch = using(&cond, |cond| drop(cond.acquire()));
            pool.spawn_ok(touching(
                async move {
                    let mut g = cond.acquire_async().await;
                    while *g < STEPS {
                        g = g.wait_for_async(|n| *n >= STEPS || *n % 3 == k).await;
                        if *g < STEPS {
                            *g += 1;
                            g.notify_all();
                        }
                    }
                    done_tx.send(()).unwrap();
                },
                touch,
            ));
        }
        let mut g = cond.acquire();
        while *g < STEPS {
            g.wait_for(|n| *n >= STEPS || *n % 3 == 0);
            if *g < STEPS {
                *g += 1;
                g.notify_all();
            }
        }
        drop(g);
        for _ in 0..2 {
            done_rx.recv().unwrap();
        }
        assert_eq!(*cond.acquire(), STEPS);
    });
}
