//! Integration tests for `gilfree::Condition` (SEMANTICS.md §3, COND-1 … COND-13).
//!
//! Not tested here, on purpose:
//! * COND-3 (`wait()` without holding the lock → RuntimeError) and COND-4 (`notify()` without
//!   holding the lock → RuntimeError) cannot be written: `wait*` and `notify*` are methods of
//!   `ConditionGuard`, which exists only while the lock is held, and the guard is `!Send`, so
//!   it cannot reach a thread that does not hold the lock. The misuse does not compile.
//! * COND-14 is Python-only (`notifyAll` alias, repr).

mod common;

use common::*;
use gilfree::{Condition, Lock, RLock};
use std::collections::VecDeque;
use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// COND-1: the default lock is an RLock: acquire twice, release twice.
#[test]
fn default_condition_is_reentrant() {
    let cond = Condition::new();
    assert!(!cond.lock().locked());
    let a = cond.acquire();
    let b = cond.acquire();
    let c = cond.try_acquire().expect("re-entry never fails");
    let d = cond
        .acquire_timeout(Duration::ZERO)
        .expect("re-entry never fails");
    assert_eq!(cond.lock().recursion_count(), 4);
    assert!(cond.lock().is_owned());
    on_other_thread(|| assert!(cond.try_acquire().is_none()));
    drop(d);
    drop(c);
    drop(b);
    assert!(cond.lock().locked());
    on_other_thread(|| assert!(cond.try_acquire().is_none()));
    drop(a);
    assert!(!cond.lock().locked());
    on_other_thread(|| assert!(cond.try_acquire().is_some()));

    let default_cond: Condition = Condition::default();
    assert!(!default_cond.lock().locked());
}

/// COND-1: the RLock API is reachable through the condition, and the condition's guards and
/// the RLock's own levels count together.
#[test]
fn default_condition_exposes_its_rlock() {
    let cond = Condition::new();
    assert!(cond.lock().release().is_err()); // RLOCK-2 through the condition
    let guard = cond.acquire();
    cond.lock().acquire().detach();
    assert_eq!(cond.lock().recursion_count(), 2);
    assert!(on_other_thread(|| cond.lock().release()).is_err()); // RLOCK-3
    cond.lock().release().unwrap();
    assert_eq!(cond.lock().recursion_count(), 1);
    drop(guard);
    assert!(!cond.lock().locked());
}

/// COND-1 / LOCK-10: a non-owner's timed acquire of the condition times out.
#[test]
fn default_condition_timed_acquire_by_non_owner_times_out() {
    let cond = Condition::new();
    let _held = cond.acquire();
    on_other_thread(|| {
        let start = Instant::now();
        let guard = cond.acquire_timeout(T);
        let elapsed = start.elapsed();
        assert!(guard.is_none());
        assert_timeout(elapsed, T);
    });
}

/// COND-2: `with_lock(Arc<Lock>)` locks the shared lock, and is locked out by it.
#[test]
fn with_shared_lock_uses_that_lock() {
    let lock = Arc::new(Lock::new());
    let cond = Condition::with_lock(Arc::clone(&lock));
    let guard = cond.acquire();
    assert!(lock.locked());
    assert!(cond.lock().locked());
    assert!(lock.try_acquire().is_none());
    drop(guard);
    assert!(!lock.locked());

    // Held through the lock itself: the condition cannot be acquired.
    lock.acquire().detach();
    assert!(cond.try_acquire().is_none());
    on_other_thread(|| {
        let start = Instant::now();
        assert!(cond.acquire_timeout(T).is_none());
        assert_timeout(start.elapsed(), T);
    });
    lock.release().unwrap();
    let guard = cond.try_acquire();
    assert!(guard.is_some());
    assert!(lock.locked());
}

/// COND-2: over a plain Lock the condition is not reentrant (LOCK-12).
#[test]
fn with_shared_lock_is_not_reentrant() {
    let lock = Lock::new();
    let cond = Condition::with_lock(&lock);
    let _guard = cond.acquire();
    assert!(lock.locked());
    assert!(cond.try_acquire().is_none());
    let start = Instant::now();
    assert!(cond.acquire_timeout(T).is_none());
    assert_timeout(start.elapsed(), T);
}

/// COND-2 / COND-5 / COND-7: a wait on a condition over a shared Lock releases that lock while
/// waiting (other code can take the lock itself) and holds it again afterwards.
#[test]
fn with_shared_lock_wait_releases_and_reacquires_it() {
    with_watchdog(|| {
        let lock = Arc::new(Lock::new());
        let cond = Arc::new(Condition::with_lock(Arc::clone(&lock)));
        let waiter = {
            let (lock, cond) = (Arc::clone(&lock), Arc::clone(&cond));
            thread::spawn(move || {
                let mut guard = cond.acquire();
                let notified = guard.wait_timeout(LONG);
                assert!(notified);
                assert!(lock.locked());
            })
        };
        poll_until("the waiter to wait", || cond.n_waiting() == 1);
        // The plain lock is free while the waiter waits.
        let direct = lock.acquire_timeout(Duration::from_secs(10));
        assert!(direct.is_some());
        drop(direct);
        cond.acquire().notify_one();
        waiter.join().unwrap();
        assert!(!lock.locked());
    });
}

/// COND-2 / COND-8 with `with_lock(Arc<RLock>)`: the condition shares the RLock's levels, and a
/// wait releases and restores them all, including levels taken through the RLock itself.
#[test]
fn with_shared_rlock_wait_releases_and_restores_every_level() {
    with_watchdog(|| {
        let rlock = Arc::new(RLock::new());
        let cond = Arc::new(Condition::with_lock(Arc::clone(&rlock)));
        let waiter = {
            let (rlock, cond) = (Arc::clone(&rlock), Arc::clone(&cond));
            thread::spawn(move || {
                let mut guard = cond.acquire();
                assert!(rlock.is_owned());
                assert_eq!(rlock.recursion_count(), 1);
                let direct = rlock.acquire();
                let _again = cond.acquire();
                assert_eq!(rlock.recursion_count(), 3);
                assert!(guard.wait_timeout(LONG));
                assert!(rlock.is_owned());
                assert_eq!(rlock.recursion_count(), 3);
                drop(direct);
                assert_eq!(rlock.recursion_count(), 2);
            })
        };
        poll_until("the waiter to wait", || cond.n_waiting() == 1);
        {
            // The RLock is completely free: this thread takes it at depth 1.
            let guard = rlock
                .acquire_timeout(Duration::from_secs(10))
                .expect("wait released every level");
            assert_eq!(rlock.recursion_count(), 1);
            let cond_guard = cond.acquire();
            assert_eq!(rlock.recursion_count(), 2);
            cond_guard.notify_one();
            drop(guard);
        }
        waiter.join().unwrap();
        assert!(!rlock.locked());
    });
}

/// COND-2 with an owned RLock passed to `with_lock`.
#[test]
fn with_owned_rlock() {
    let cond = Condition::with_lock(RLock::new());
    let a = cond.acquire();
    let b = cond.acquire();
    assert_eq!(cond.lock().recursion_count(), 2);
    drop((b, a));
    assert!(!cond.lock().locked());
}

/// Runs COND-5's scenario once: five waiters, `notify(3)` wakes exactly three, `notify(5)` the
/// other two; each wait returns true, and only after the notifier has released the lock.
fn notify_n_scenario(cond: &Arc<Condition>, timed: bool) {
    const N: usize = 5;
    let released = Arc::new(AtomicBool::new(false));
    let woken = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..N)
        .map(|_| {
            let (cond, released, woken) =
                (Arc::clone(cond), Arc::clone(&released), Arc::clone(&woken));
            thread::spawn(move || {
                let mut guard = cond.acquire();
                let notified = if timed {
                    guard.wait_timeout(LONG)
                } else {
                    guard.wait();
                    true
                };
                assert!(notified, "wait timed out instead of being notified");
                assert!(
                    released.load(Ordering::SeqCst),
                    "wait returned before the notifier released the lock"
                );
                assert!(cond.lock().is_owned());
                woken.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    poll_until("5 waiters", || cond.n_waiting() == N);

    let guard = cond.acquire();
    guard.notify(3);
    assert_eq!(cond.n_waiting(), N - 3);
    let_threads_block(3);
    assert_eq!(
        woken.load(Ordering::SeqCst),
        0,
        "woken while the lock is held"
    );
    released.store(true, Ordering::SeqCst);
    drop(guard);
    poll_until("3 waiters to return", || woken.load(Ordering::SeqCst) == 3);
    let_threads_block(N as u32);
    assert_eq!(
        woken.load(Ordering::SeqCst),
        3,
        "notify(3) woke more than 3"
    );
    assert_eq!(cond.n_waiting(), N - 3);

    released.store(false, Ordering::SeqCst);
    let guard = cond.acquire();
    guard.notify(5);
    assert_eq!(cond.n_waiting(), 0);
    let_threads_block(2);
    assert_eq!(
        woken.load(Ordering::SeqCst),
        3,
        "woken while the lock is held"
    );
    released.store(true, Ordering::SeqCst);
    drop(guard);
    for w in waiters {
        w.join().unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), N);
    assert_eq!(cond.n_waiting(), 0);
    assert!(!cond.lock().locked());
}

/// COND-5: run twice on the same condition, to check that its state is reused correctly.
#[test]
fn notify_n_wakes_exactly_n_twice() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::new());
        notify_n_scenario(&cond, true);
        notify_n_scenario(&cond, false);
    });
}

/// COND-5: `notify_all` wakes every waiter.
#[test]
fn notify_all_wakes_everyone() {
    with_watchdog(|| {
        const N: usize = 4;
        let cond = Arc::new(Condition::with_value(0usize));
        let waiters: Vec<_> = (0..N)
            .map(|_| {
                let cond = Arc::clone(&cond);
                thread::spawn(move || {
                    let mut guard = cond.acquire();
                    assert!(guard.wait_timeout(LONG));
                    *guard += 1;
                })
            })
            .collect();
        poll_until("all waiters", || cond.n_waiting() == N);
        cond.acquire().notify_all();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*cond.acquire(), N);
        assert_eq!(cond.n_waiting(), 0);
    });
}

/// COND-6: with no notify, `wait_timeout` returns false after about the timeout (several
/// threads at once).
#[test]
fn wait_timeout_without_notify_returns_false() {
    let cond = Condition::new();
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut guard = cond.acquire();
                let start = Instant::now();
                let notified = guard.wait_timeout(T);
                let elapsed = start.elapsed();
                assert!(!notified);
                assert_timeout(elapsed, T);
            });
        }
    });
    assert_eq!(cond.n_waiting(), 0);
    assert!(!cond.lock().locked());
}

/// COND-6 on a condition over a data-carrying Lock.
#[test]
fn wait_timeout_without_notify_returns_false_with_value() {
    let cond = Condition::with_value(7);
    let mut guard = cond.acquire();
    let start = Instant::now();
    assert!(!guard.wait_timeout(T));
    assert_timeout(start.elapsed(), T);
    assert_eq!(*guard, 7);
}

/// COND-7: after a timeout, the lock is held again by the waiter.
#[test]
fn lock_is_reacquired_after_timeout() {
    let cond = Condition::new();
    let mut guard = cond.acquire();
    assert!(!guard.wait_timeout(Duration::from_millis(20)));
    assert!(cond.lock().is_owned());
    assert_eq!(cond.lock().recursion_count(), 1);
    on_other_thread(|| assert!(cond.try_acquire().is_none()));

    let lock = Lock::new();
    let cond = Condition::with_lock(&lock);
    let mut guard = cond.acquire();
    assert!(!guard.wait_timeout(Duration::from_millis(20)));
    assert!(lock.locked());
    on_other_thread(|| assert!(lock.try_acquire().is_none()));
    drop(guard);
    assert!(!lock.locked());
}

/// COND-7: after a notify, the lock is held again by the waiter (and the waiter gets the
/// value the notifier wrote).
#[test]
fn lock_is_reacquired_after_notify() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0));
        let waiter = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                let mut guard = cond.acquire();
                assert!(guard.wait_timeout(LONG));
                assert!(cond.lock().locked());
                assert!(cond.try_acquire().is_none());
                assert_eq!(*guard, 1);
                *guard = 2;
            })
        };
        poll_until("the waiter", || cond.n_waiting() == 1);
        {
            let mut guard = cond.acquire();
            *guard = 1;
            guard.notify_one();
        }
        waiter.join().unwrap();
        assert!(!cond.lock().locked());
        assert_eq!(*cond.acquire(), 2);
    });
}

/// COND-8: waiting on an RLock held three levels deep frees it completely (another thread
/// acquires it meanwhile) and restores the count of 3 afterwards.
#[test]
fn wait_on_recursively_held_rlock_releases_all_levels() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::new());
        let other_got_it = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (cond, other_got_it) = (Arc::clone(&cond), Arc::clone(&other_got_it));
            thread::spawn(move || {
                let _one = cond.acquire();
                let _two = cond.acquire();
                let mut three = cond.acquire();
                assert_eq!(cond.lock().recursion_count(), 3);
                assert!(three.wait_timeout(LONG));
                assert!(other_got_it.load(Ordering::SeqCst));
                assert!(cond.lock().is_owned());
                assert_eq!(cond.lock().recursion_count(), 3);
                drop(three);
                assert_eq!(cond.lock().recursion_count(), 2);
            })
        };
        poll_until("the waiter", || cond.n_waiting() == 1);
        {
            let guard = cond
                .acquire_timeout(Duration::from_secs(10))
                .expect("wait released every level");
            assert_eq!(cond.lock().recursion_count(), 1);
            other_got_it.store(true, Ordering::SeqCst);
            guard.notify_one();
        }
        waiter.join().unwrap();
        assert!(!cond.lock().locked());
    });
}

/// COND-8: the same after a timeout: the count of 3 is restored.
#[test]
fn timed_out_wait_restores_recursion_count() {
    let cond = Condition::new();
    let _one = cond.acquire();
    let _two = cond.acquire();
    let mut three = cond.acquire();
    assert!(!three.wait_timeout(Duration::from_millis(20)));
    assert_eq!(cond.lock().recursion_count(), 3);
    assert!(cond.lock().is_owned());
}

/// COND-9: a predicate that is already true returns at once, called once, without waiting.
#[test]
fn wait_for_true_predicate_returns_at_once() {
    let cond = Condition::with_value(5);
    let mut guard = cond.acquire();
    let mut calls = 0;
    let start = Instant::now();
    assert!(guard.wait_for(|v| {
        calls += 1;
        *v == 5
    }));
    assert_eq!(calls, 1);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(cond.n_waiting(), 0);
}

/// COND-9: the predicate is checked before waiting and re-checked after every wake-up; the
/// first true value is returned.
#[test]
fn wait_for_rechecks_after_each_wakeup() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0));
        let waiter = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                let mut guard = cond.acquire();
                let mut seen = Vec::new();
                let result = guard.wait_for(|v| {
                    seen.push(*v);
                    *v >= 3
                });
                assert!(result);
                assert_eq!(*guard, 3);
                seen
            })
        };
        for _ in 0..3 {
            poll_until("the waiter to wait", || cond.n_waiting() == 1);
            let mut guard = cond.acquire();
            *guard += 1;
            guard.notify_one();
        }
        // Checked at 0 before waiting, then once after each of the three wake-ups.
        assert_eq!(waiter.join().unwrap(), [0, 1, 2, 3]);
    });
}

/// COND-9: the predicate may mutate the protected value (it receives `&mut T`).
#[test]
fn wait_for_predicate_gets_the_value_mutably() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(VecDeque::new()));
        let consumer = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                let mut taken = None;
                let mut guard = cond.acquire();
                assert!(guard.wait_for(|q| {
                    taken = q.pop_front();
                    taken.is_some()
                }));
                assert!(guard.is_empty());
                taken
            })
        };
        {
            let mut guard = cond.acquire();
            guard.push_back("item");
            guard.notify_one();
        }
        assert_eq!(consumer.join().unwrap(), Some("item"));
    });
}

/// COND-10: the timeout is a total deadline, not per wait: a stream of notifies that never
/// makes the predicate true does not extend it, and the last (false) value is returned.
#[test]
fn wait_for_timeout_is_a_total_deadline() {
    with_watchdog(|| {
        let t = Duration::from_millis(200);
        let cond = Arc::new(Condition::new());
        let stop = Arc::new(AtomicBool::new(false));
        let notifier = {
            let (cond, stop) = (Arc::clone(&cond), Arc::clone(&stop));
            thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(20);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    if cond.n_waiting() > 0 {
                        cond.acquire().notify_all();
                    }
                    thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let mut guard = cond.acquire();
        let mut calls = 0;
        let start = Instant::now();
        let result = guard.wait_for_timeout(
            |_| {
                calls += 1;
                false
            },
            t,
        );
        let elapsed = start.elapsed();
        drop(guard);
        stop.store(true, Ordering::SeqCst);
        notifier.join().unwrap();
        assert!(!result);
        assert_timeout(elapsed, t);
        // Woken at least once by the notifier, and the predicate was re-checked each time.
        assert!(calls >= 3, "predicate called {calls} times");
    });
}

/// COND-10: after the timeout the predicate is evaluated once more, and its value returned:
/// a change made without a notify is seen.
#[test]
fn wait_for_timeout_returns_the_last_predicate_value() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(false));
        let setter = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                poll_until("the waiter", || cond.n_waiting() == 1);
                *cond.acquire() = true; // no notify
            })
        };
        let mut guard = cond.acquire();
        let start = Instant::now();
        let result = guard.wait_for_timeout(|ready| *ready, T);
        let elapsed = start.elapsed();
        assert!(result, "the final check sees the change");
        assert_timeout(elapsed, T);
        drop(guard);
        setter.join().unwrap();
    });
}

/// COND-10: with nothing changing, the last value is false after about the timeout.
#[test]
fn wait_for_timeout_false_after_timeout() {
    let cond = Condition::with_value(0);
    let mut guard = cond.acquire();
    let mut calls = 0;
    let start = Instant::now();
    let result = guard.wait_for_timeout(
        |v| {
            calls += 1;
            *v > 0
        },
        T,
    );
    assert!(!result);
    assert_timeout(start.elapsed(), T);
    // Once before the wait, once after it timed out.
    assert_eq!(calls, 2);
}

/// COND-11: `wait_timeout(ZERO)` returns false at once, without releasing the lock.
#[test]
fn zero_timeout_wait_returns_false_at_once() {
    let cond = Condition::new();
    let _outer = cond.acquire();
    let mut guard = cond.acquire();
    let start = Instant::now();
    assert!(!guard.wait_timeout(Duration::ZERO));
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(cond.n_waiting(), 0);
    assert_eq!(cond.lock().recursion_count(), 2);
    on_other_thread(|| assert!(cond.try_acquire().is_none()));
}

/// COND-11 / COND-10: `wait_for_timeout(pred, ZERO)` checks the predicate, does not block,
/// and returns the value of a second check.
#[test]
fn zero_timeout_wait_for_checks_twice() {
    let cond = Condition::with_value(());
    let mut guard = cond.acquire();
    let mut calls = 0;
    let start = Instant::now();
    let result = guard.wait_for_timeout(
        |_| {
            calls += 1;
            calls == 2
        },
        Duration::ZERO,
    );
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(calls, 2);
    assert!(result);
}

/// COND-12: a notify with nobody waiting is not remembered.
#[test]
fn notify_without_waiters_is_not_remembered() {
    let cond = Condition::new();
    {
        let guard = cond.acquire();
        guard.notify_one();
        guard.notify(3);
        guard.notify(0);
        guard.notify_all();
    }
    let mut guard = cond.acquire();
    let start = Instant::now();
    assert!(!guard.wait_timeout(Duration::from_millis(50)));
    assert_timeout(start.elapsed(), Duration::from_millis(50));
}

/// COND-12: `notify(0)` wakes nobody, even with a waiter.
#[test]
fn notify_zero_wakes_nobody() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::new());
        let waiter = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                let mut guard = cond.acquire();
                let start = Instant::now();
                let notified = guard.wait_timeout(Duration::from_millis(300));
                (notified, start.elapsed())
            })
        };
        poll_until("the waiter", || cond.n_waiting() == 1);
        {
            let guard = cond.acquire();
            guard.notify(0);
            assert_eq!(cond.n_waiting(), 1);
        }
        let (notified, elapsed) = waiter.join().unwrap();
        assert!(!notified);
        assert_timeout(elapsed, Duration::from_millis(300));
    });
}

/// COND-13: waiters are woken in the order they started waiting.
#[test]
fn waiters_are_woken_in_fifo_order() {
    with_watchdog(|| {
        const N: usize = 5;
        let cond = Arc::new(Condition::new());
        let order = Arc::new(Lock::with_value(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..N {
            let (cond2, order2) = (Arc::clone(&cond), Arc::clone(&order));
            waiters.push(thread::spawn(move || {
                let mut guard = cond2.acquire();
                assert!(guard.wait_timeout(LONG));
                order2.acquire().push(i);
            }));
            // Let waiter i enter before waiter i + 1 starts.
            poll_until("the next waiter", || cond.n_waiting() == i + 1);
        }
        for woken in 1..=N {
            cond.acquire().notify_one();
            poll_until("the woken waiter", || order.acquire().len() == woken);
        }
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*order.acquire(), (0..N).collect::<Vec<_>>());
    });
}

/// COND-13 with `notify(n)`: the n longest waiters are the ones woken.
#[test]
fn notify_n_wakes_the_longest_waiters() {
    with_watchdog(|| {
        const N: usize = 4;
        let cond = Arc::new(Condition::with_value(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..N {
            let cond2 = Arc::clone(&cond);
            waiters.push(thread::spawn(move || {
                let mut guard = cond2.acquire();
                let notified = guard.wait_timeout(LONG);
                guard.push(i);
                notified
            }));
            poll_until("the next waiter", || cond.n_waiting() == i + 1);
        }
        cond.acquire().notify(2);
        poll_until("two woken", || cond.acquire().len() == 2);
        {
            let mut woken = cond.acquire().clone();
            woken.sort_unstable();
            assert_eq!(woken, [0, 1]);
        }
        cond.acquire().notify_all();
        for w in waiters {
            assert!(w.join().unwrap());
        }
        let mut all = cond.acquire().clone();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2, 3]);
    });
}

/// COND-5 / COND-9: producers and consumers sharing one bounded queue move 10 000 items with
/// nothing lost or duplicated.
#[test]
fn producer_consumer_moves_every_item() {
    with_watchdog(|| {
        const ITEMS: usize = 10_000;
        const CAPACITY: usize = 16;
        const PRODUCERS: usize = 2;
        const CONSUMERS: usize = 2;
        // `None` is the end-of-stream marker: one per consumer.
        let cond = Arc::new(Condition::with_value(VecDeque::<Option<usize>>::new()));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let cond = Arc::clone(&cond);
                thread::spawn(move || {
                    for item in (p..ITEMS).step_by(PRODUCERS) {
                        let mut queue = cond.acquire();
                        queue.wait_for(|q| q.len() < CAPACITY);
                        queue.push_back(Some(item));
                        queue.notify_all();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let cond = Arc::clone(&cond);
                thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        let mut queue = cond.acquire();
                        queue.wait_for(|q| !q.is_empty());
                        let item = queue.pop_front().unwrap();
                        queue.notify_all();
                        match item {
                            Some(i) => got.push(i),
                            None => return got,
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        for _ in 0..CONSUMERS {
            let mut queue = cond.acquire();
            queue.push_back(None);
            queue.notify_all();
        }
        let mut all: Vec<usize> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..ITEMS).collect::<Vec<_>>());
        assert_eq!(cond.n_waiting(), 0);
        let cond = Arc::into_inner(cond).expect("every thread is done");
        assert!(cond.into_inner().is_empty());
    });
}

/// COND-5 / COND-6: with notifies racing timeouts, a waiter reports `true` only for a notify
/// it consumed: never more `true`s than notified waiters, and nobody is left queued.
#[test]
fn notify_racing_timeouts_never_over_reports() {
    with_watchdog(|| {
        const WAITERS: usize = 3;
        const ROUNDS: usize = 100;
        const NOTIFIES: usize = 150;
        let cond = Arc::new(Condition::new());
        let trues = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..WAITERS)
            .map(|i| {
                let (cond, trues) = (Arc::clone(&cond), Arc::clone(&trues));
                thread::spawn(move || {
                    for r in 0..ROUNDS {
                        let mut guard = cond.acquire();
                        let t = Duration::from_micros(200 + 100 * ((i + r) % 5) as u64);
                        if guard.wait_timeout(t) {
                            trues.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        let mut woken = 0;
        for _ in 0..NOTIFIES {
            let guard = cond.acquire();
            // Waiters join the queue only while holding the lock, which this thread holds, so
            // the count can only shrink (by timeouts) until the notify.
            if cond.n_waiting() > 0 {
                woken += 1;
            }
            guard.notify_one();
            drop(guard);
            // Pacing only, so that waiters also time out between notifies; nothing waits on it.
            thread::sleep(Duration::from_micros(300));
        }
        for w in waiters {
            w.join().unwrap();
        }
        let trues = trues.load(Ordering::SeqCst);
        assert!(
            trues <= woken,
            "{trues} waits returned true for {woken} notifies"
        );
        assert_eq!(cond.n_waiting(), 0);
        assert!(!cond.lock().locked());
    });
}

/// COND-14 (Rust form of the repr): `Debug` shows the lock state and the number of waiters.
#[test]
fn debug_output_shows_state() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::new());
        let idle = format!("{cond:?}");
        assert!(idle.contains("locked: false"), "{idle}");
        assert!(idle.contains("n_waiting: 0"), "{idle}");
        let waiter = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                let mut guard = cond.acquire();
                assert!(guard.wait_timeout(LONG));
            })
        };
        poll_until("the waiter", || cond.n_waiting() == 1);
        let guard = cond.acquire();
        let busy = format!("{cond:?}");
        assert!(busy.contains("locked: true"), "{busy}");
        assert!(busy.contains("n_waiting: 1"), "{busy}");
        assert!(format!("{guard:?}").contains("n_waiting: 1"));
        guard.notify_one();
        drop(guard);
        waiter.join().unwrap();
    });
}

/// COND-3 (runtime form): the guard's level can be released behind its back through
/// `cond.lock().release()`. Waiting then must fail, as Python raises RuntimeError "cannot wait
/// on un-acquired lock", and must leave the condition and its lock intact.
#[test]
fn wait_after_level_released_behind_the_guard_fails_cleanly() {
    let cond = Condition::new();
    let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let mut guard = cond.acquire();
        cond.lock().release().unwrap(); // the level the guard stands for is gone
        guard.wait_timeout(Duration::from_millis(10))
    }));
    assert!(result.is_err(), "waiting without owning the lock must fail");
    assert_eq!(cond.n_waiting(), 0, "the failed wait left a phantom waiter");
    assert!(!cond.lock().locked(), "the failed wait left the lock held");
}
