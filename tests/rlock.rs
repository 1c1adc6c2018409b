//! Integration tests for `gilfree::RLock` (SEMANTICS.md §2, RLOCK-1 … RLOCK-8, and the Lock
//! behaviours an RLock inherits: LOCK-1 … LOCK-5, LOCK-9, LOCK-10).
//!
//! Not tested here, on purpose:
//! * LOCK-6 / LOCK-7 and RLOCK-7 (argument validation of `acquire(blocking, timeout)`): the
//!   invalid combinations cannot be written in Rust (three methods, a non-negative `Duration`).
//! * RLOCK-6 (`_release_save()` on an unowned lock → RuntimeError): the hook is private, and
//!   the only caller, `Condition::wait`, needs a `ConditionGuard`, which exists only while the
//!   calling thread holds the lock — the misuse does not compile. The release-all/restore
//!   behaviour itself is COND-8, in `tests/condition.rs`.
//! * RLOCK-9 is Python-only (constructor arguments, repr).

mod common;

use common::*;
use gilfree::RLock;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// LOCK-1 (inherited)
#[test]
fn new_rlock_is_unlocked_and_acquire_release_toggle_locked() {
    let lock = RLock::new();
    assert!(!lock.locked());
    assert!(!lock.is_owned());
    let guard = lock.acquire();
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());

    lock.acquire().detach();
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());

    let default_lock: RLock = RLock::default();
    assert!(!default_lock.locked());
}

/// LOCK-2 (inherited)
#[test]
fn try_acquire_on_free_rlock_succeeds() {
    let lock = RLock::new();
    let guard = lock.try_acquire();
    assert!(guard.is_some());
    assert!(lock.is_owned());
    drop(guard);
    assert!(!lock.locked());
}

/// LOCK-3 (inherited): a non-owner's try fails at once while another thread holds it.
#[test]
fn try_acquire_by_non_owner_fails_at_once() {
    let lock = RLock::new();
    let _held = lock.acquire();
    on_other_thread(|| {
        let start = Instant::now();
        assert!(lock.try_acquire().is_none());
        assert!(lock.acquire_timeout(Duration::ZERO).is_none());
        assert!(start.elapsed() < Duration::from_secs(1));
    });
    assert_eq!(lock.recursion_count(), 1);
}

/// LOCK-4 (inherited): five blocked threads all get the RLock after the holder releases.
#[test]
fn contended_acquire_lets_every_waiter_in() {
    with_watchdog(|| {
        const N: usize = 5;
        let lock = Arc::new(RLock::new());
        let started = Arc::new(AtomicUsize::new(0));
        let got_it = Arc::new(AtomicUsize::new(0));
        let outer = lock.acquire();
        let inner = lock.acquire();
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let (lock, started, got_it) =
                    (Arc::clone(&lock), Arc::clone(&started), Arc::clone(&got_it));
                thread::spawn(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let _a = lock.acquire();
                    let _b = lock.acquire(); // re-entry by the new owner
                    assert_eq!(lock.recursion_count(), 2);
                    got_it.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        poll_until("all threads to start", || {
            started.load(Ordering::SeqCst) == N
        });
        let_threads_block(N as u32);
        assert_eq!(got_it.load(Ordering::SeqCst), 0);
        drop(inner);
        // Still held at depth 1: nobody may enter yet.
        let_threads_block(N as u32);
        assert_eq!(got_it.load(Ordering::SeqCst), 0);
        drop(outer);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(got_it.load(Ordering::SeqCst), N);
        assert!(!lock.locked());
    });
}

/// LOCK-5 (inherited): guards release when the body panics, every level of them.
#[test]
fn guards_release_when_the_body_panics() {
    let lock = RLock::new();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let _a = lock.acquire();
        let _b = lock.acquire();
        let _c = lock.acquire();
        assert_eq!(lock.recursion_count(), 3);
        panic!("boom");
    }));
    assert!(result.is_err());
    assert!(!lock.locked());
    assert_eq!(lock.recursion_count(), 0);
    on_other_thread(|| assert!(lock.try_acquire().is_some()));
}

/// LOCK-5 (inherited): a thread that panics while holding the RLock releases it.
#[test]
fn guard_releases_when_its_thread_panics() {
    let lock = Arc::new(RLock::new());
    let panicker = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            let _a = lock.acquire();
            let _b = lock.acquire();
            panic!("thread dies holding the lock twice");
        })
    };
    assert!(panicker.join().is_err());
    assert!(!lock.locked());
    let guard = lock.acquire_timeout(Duration::from_secs(10));
    assert!(guard.is_some());
    assert_eq!(lock.recursion_count(), 1);
}

/// LOCK-9 (inherited): a timed acquire of a free RLock returns at once; so does re-entry.
#[test]
fn timed_acquire_of_free_or_owned_rlock_does_not_wait() {
    let lock = RLock::new();
    let timeout = Duration::from_secs(5);
    let start = Instant::now();
    let a = lock.acquire_timeout(timeout);
    let b = lock.acquire_timeout(timeout);
    let c = lock.acquire_timeout(Duration::MAX);
    assert!(a.is_some() && b.is_some() && c.is_some());
    assert!(start.elapsed() < timeout.mul_f64(0.6));
    assert_eq!(lock.recursion_count(), 3);
}

/// LOCK-10 / RLOCK-8: a timed acquire from a non-owner gives up after about the timeout.
#[test]
fn timed_acquire_by_non_owner_times_out() {
    let lock = RLock::new();
    let _held = lock.acquire();
    on_other_thread(|| {
        let start = Instant::now();
        let guard = lock.acquire_timeout(T);
        let elapsed = start.elapsed();
        assert!(guard.is_none());
        assert_timeout(elapsed, T);
        assert!(!lock.is_owned());
    });
    assert!(lock.is_owned());
    assert_eq!(lock.recursion_count(), 1);
}

/// RLOCK-8 / LOCK-11: after a timed-out acquire, the RLock works normally.
#[test]
fn rlock_works_after_a_timed_out_acquire() {
    let lock = RLock::new();
    let held = lock.acquire();
    on_other_thread(|| assert!(lock.acquire_timeout(Duration::from_millis(20)).is_none()));
    drop(held);
    assert!(!lock.locked());
    on_other_thread(|| {
        let guard = lock.try_acquire();
        assert!(guard.is_some());
        assert_eq!(lock.recursion_count(), 1);
    });
    assert!(!lock.locked());
}

/// RLOCK-1: the owner re-acquires without blocking; the lock is free only at depth 0.
#[test]
fn owner_reacquires_and_lock_frees_at_depth_zero() {
    let lock = RLock::new();
    let a = lock.acquire();
    let b = lock.try_acquire().expect("re-entry never fails");
    let c = lock
        .acquire_timeout(Duration::ZERO)
        .expect("re-entry never fails");
    assert_eq!(lock.recursion_count(), 3);
    drop(c);
    drop(b);
    assert!(lock.locked());
    on_other_thread(|| assert!(lock.try_acquire().is_none()));
    drop(a);
    assert!(!lock.locked());
    on_other_thread(|| assert!(lock.try_acquire().is_some()));
}

/// RLOCK-1: detached levels must each be released once.
#[test]
fn detach_and_release_pairs() {
    let lock = RLock::new();
    for _ in 0..3 {
        lock.acquire().detach();
    }
    assert_eq!(lock.recursion_count(), 3);
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.release(), Ok(()));
    assert!(lock.locked());
    assert_eq!(lock.recursion_count(), 1);
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
    assert_eq!(lock.recursion_count(), 0);
    // One release too many (RLOCK-2).
    assert!(lock.release().is_err());
}

/// RLOCK-1: guards and detached levels mix; the lock frees when the last level goes.
#[test]
fn guards_and_detached_levels_mix() {
    let lock = RLock::new();
    let guard = lock.acquire();
    lock.acquire().detach();
    assert_eq!(lock.recursion_count(), 2);
    lock.release().unwrap();
    assert_eq!(lock.recursion_count(), 1);
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());
}

/// RLOCK-2: releasing an unacquired RLock is a RuntimeError, also after the count is back at 0.
#[test]
fn release_of_unacquired_rlock_is_runtime_error() {
    let lock = RLock::new();
    let err = lock.release().unwrap_err();
    assert_eq!(err.message(), "cannot release un-acquired lock");
    assert!(err.to_string().contains("cannot release un-acquired lock"));

    lock.acquire().detach();
    lock.acquire().detach();
    lock.release().unwrap();
    lock.release().unwrap();
    assert_eq!(
        lock.release().map_err(|e| e.message()),
        Err("cannot release un-acquired lock")
    );
    assert!(!lock.locked());
    // The failed releases changed nothing.
    assert!(lock.try_acquire().is_some());
}

/// RLOCK-3: a non-owner cannot release, even while another thread holds the lock.
#[test]
fn release_by_non_owner_is_runtime_error() {
    let lock = RLock::new();
    lock.acquire().detach();
    lock.acquire().detach();
    let err = on_other_thread(|| lock.release()).unwrap_err();
    assert_eq!(err.message(), "cannot release un-acquired lock");
    // The owner's levels are untouched.
    assert!(lock.locked());
    assert_eq!(lock.recursion_count(), 2);
    lock.release().unwrap();
    lock.release().unwrap();
    assert!(!lock.locked());
}

/// RLOCK-3: a non-owner's failed release does not let it (or anyone else) in.
#[test]
fn non_owner_release_does_not_unlock() {
    let lock = RLock::new();
    let _held = lock.acquire();
    on_other_thread(|| {
        assert!(lock.release().is_err());
        assert!(lock.try_acquire().is_none());
    });
    assert!(lock.locked());
}

/// RLOCK-4: the recursion count tracks the depth, and reads 0 from a non-owner.
#[test]
fn recursion_count_counts_levels_and_is_zero_for_non_owners() {
    let lock = RLock::new();
    assert_eq!(lock.recursion_count(), 0);
    let a = lock.acquire();
    assert_eq!(lock.recursion_count(), 1);
    let b = lock.acquire();
    assert_eq!(lock.recursion_count(), 2);
    lock.acquire().detach();
    assert_eq!(lock.recursion_count(), 3);
    assert_eq!(on_other_thread(|| lock.recursion_count()), 0);
    lock.release().unwrap();
    assert_eq!(lock.recursion_count(), 2);
    drop(b);
    assert_eq!(lock.recursion_count(), 1);
    assert_eq!(on_other_thread(|| lock.recursion_count()), 0);
    drop(a);
    assert_eq!(lock.recursion_count(), 0);
}

/// RLOCK-4: while another thread holds it, this thread reads 0, and its own count once it
/// takes over.
#[test]
fn recursion_count_from_waiting_thread() {
    with_watchdog(|| {
        let lock = Arc::new(RLock::new());
        let held = Arc::new(AtomicBool::new(false));
        let release = Arc::new(AtomicBool::new(false));
        let owner = {
            let (lock, held, release) =
                (Arc::clone(&lock), Arc::clone(&held), Arc::clone(&release));
            thread::spawn(move || {
                let _a = lock.acquire();
                let _b = lock.acquire();
                held.store(true, Ordering::SeqCst);
                poll_until("the release signal", || release.load(Ordering::SeqCst));
                assert_eq!(lock.recursion_count(), 2);
            })
        };
        poll_until("the owner to hold the lock", || held.load(Ordering::SeqCst));
        assert!(lock.locked());
        assert_eq!(lock.recursion_count(), 0);
        assert!(!lock.is_owned());
        release.store(true, Ordering::SeqCst);
        let guard = lock.acquire();
        assert_eq!(lock.recursion_count(), 1);
        drop(guard);
        owner.join().unwrap();
    });
}

/// RLOCK-5: `is_owned` is true only on the owning thread.
#[test]
fn is_owned_only_for_the_owner() {
    let lock = RLock::new();
    assert!(!lock.is_owned());
    let guard = lock.acquire();
    assert!(lock.is_owned());
    assert!(!on_other_thread(|| lock.is_owned()));
    drop(guard);
    assert!(!lock.is_owned());
    // Ownership passes to the next thread that acquires.
    on_other_thread(|| {
        let _g = lock.acquire();
        assert!(lock.is_owned());
    });
    assert!(!lock.is_owned());
}

/// RLOCK-1: `with_value` guards of the same thread alias the value; a `RefCell` inside allows
/// mutation on re-entry.
#[test]
fn with_value_refcell_reentry() {
    let log = RLock::with_value(RefCell::new(Vec::new()));
    fn record(log: &RLock<RefCell<Vec<&'static str>>>, level: usize) {
        let guard = log.acquire();
        assert_eq!(log.recursion_count(), level);
        guard.borrow_mut().push("enter");
        if level < 3 {
            record(log, level + 1);
        }
        guard.borrow_mut().push("leave");
        assert_eq!(log.recursion_count(), level);
    }
    record(&log, 1);
    assert!(!log.locked());
    let mut log = log;
    assert_eq!(log.get_mut().borrow().len(), 6);
    assert_eq!(
        log.into_inner().into_inner(),
        ["enter", "enter", "enter", "leave", "leave", "leave"]
    );
}

/// RLOCK-1 / LOCK-4 (mutual exclusion): re-entrant increments from 4 threads lose nothing.
#[test]
fn mutual_exclusion_stress_with_reentry() {
    with_watchdog(|| {
        const THREADS: usize = 4;
        const ITERS: usize = 5_000;
        let counter = Arc::new(RLock::with_value(RefCell::new(0usize)));
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    for _ in 0..ITERS {
                        let outer = if i % 2 == 0 {
                            counter.acquire()
                        } else {
                            loop {
                                if let Some(g) = counter.acquire_timeout(Duration::from_micros(50))
                                {
                                    break g;
                                }
                            }
                        };
                        let inner = counter.acquire();
                        let seen = *inner.borrow();
                        thread::yield_now();
                        *outer.borrow_mut() = seen + 1;
                        assert_eq!(counter.recursion_count(), 2);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(!counter.locked());
        assert_eq!(*counter.acquire().borrow(), THREADS * ITERS);
    });
}

/// RLOCK-4 / RLOCK-5 (Rust form of the repr): `Debug` shows the state, owner and count.
#[test]
fn debug_output_shows_state() {
    let lock = RLock::with_value(5);
    let free = format!("{lock:?}");
    assert!(free.contains("locked: false"), "{free}");
    assert!(free.contains("count: 0"), "{free}");
    let _a = lock.acquire();
    let _b = lock.acquire();
    let held = format!("{lock:?}");
    assert!(held.contains("locked: true"), "{held}");
    assert!(held.contains("count: 2"), "{held}");
    assert!(format!("{:?}", _b).contains('5'));
}
