//! Integration tests for `gilfree::Lock` (SEMANTICS.md §1, LOCK-1 … LOCK-15).
//!
//! Not tested here, on purpose:
//! * LOCK-6 (`acquire(blocking=False, timeout=t)` → ValueError) and LOCK-7 (negative timeout →
//!   ValueError) cannot be written in Rust: the three acquire forms are three methods, and a
//!   `Duration` cannot be negative. The compiler rejects both misuses.
//! * LOCK-8 (`timeout > TIMEOUT_MAX` → OverflowError) has no Rust counterpart: every `Duration`
//!   is accepted, and one too large for the clock means "forever" (checked below with
//!   `Duration::MAX`).
//! * LOCK-16 is Python-only (repr format, weakref, fork, subclassing); the Rust stand-in, a
//!   `Debug` impl that shows the state, is checked instead.

mod common;

use common::*;
use gilfree::{Lock, LockGuard, RuntimeError};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// LOCK-1
#[test]
fn new_lock_is_unlocked_and_acquire_release_toggle_locked() {
    let lock = Lock::new();
    assert!(!lock.locked());
    let guard = lock.acquire();
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());

    // Python's explicit acquire()/release() pair.
    lock.acquire().detach();
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());

    let default_lock: Lock = Lock::default();
    assert!(!default_lock.locked());
}

/// LOCK-1: the data-carrying lock follows the same state machine.
#[test]
fn with_value_lock_protects_its_value() {
    let mut lock = Lock::with_value(vec![1u8]);
    assert!(!lock.locked());
    {
        let mut guard = lock.acquire();
        assert!(lock.locked());
        guard.push(2);
    }
    assert!(!lock.locked());
    lock.get_mut().push(3);
    assert_eq!(*lock.acquire(), [1, 2, 3]);
    assert_eq!(lock.into_inner(), vec![1, 2, 3]);
}

/// LOCK-2
#[test]
fn try_acquire_on_free_lock_succeeds() {
    let lock = Lock::new();
    let guard = lock.try_acquire();
    assert!(guard.is_some());
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());
}

/// LOCK-3
#[test]
fn try_acquire_on_lock_held_by_another_thread_fails_at_once() {
    let lock = Lock::new();
    let _held = lock.acquire();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            assert!(lock.try_acquire().is_none());
            assert!(start.elapsed() < Duration::from_secs(1));
        });
    });
    assert!(lock.locked());
}

/// LOCK-3: also for the holder itself (the lock is not reentrant).
#[test]
fn try_acquire_by_holder_fails() {
    let lock = Lock::with_value(0);
    let _held = lock.acquire();
    assert!(lock.try_acquire().is_none());
}

/// LOCK-4: five threads blocked in `acquire()` all get the lock, one after the other.
#[test]
fn contended_acquire_lets_every_waiter_in() {
    with_watchdog(|| {
        const N: usize = 5;
        let lock = Arc::new(Lock::with_value(0usize));
        let started = Arc::new(AtomicUsize::new(0));
        let holder = lock.acquire();
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let (lock, started) = (Arc::clone(&lock), Arc::clone(&started));
                thread::spawn(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let mut count = lock.acquire();
                    *count += 1;
                })
            })
            .collect();
        poll_until("all threads to start", || {
            started.load(Ordering::SeqCst) == N
        });
        let_threads_block(N as u32);
        // Nobody got in while the lock was held.
        assert_eq!(*holder, 0);
        drop(holder);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*lock.acquire(), N);
        assert!(!lock.locked());
    });
}

/// LOCK-4: the same with the data-less lock, released by `release()` rather than a guard.
#[test]
fn contended_acquire_after_explicit_release() {
    with_watchdog(|| {
        const N: usize = 5;
        let lock = Arc::new(Lock::new());
        let got_it = Arc::new(AtomicUsize::new(0));
        lock.acquire().detach();
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let (lock, got_it) = (Arc::clone(&lock), Arc::clone(&got_it));
                thread::spawn(move || {
                    let _guard = lock.acquire();
                    got_it.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        let_threads_block(N as u32);
        assert_eq!(got_it.load(Ordering::SeqCst), 0);
        lock.release().unwrap();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(got_it.load(Ordering::SeqCst), N);
        assert!(!lock.locked());
    });
}

/// LOCK-5: the guard is `with lock:`; it releases when the body panics (catch_unwind).
#[test]
fn guard_releases_when_the_body_panics() {
    let lock = Lock::with_value(1);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut guard = lock.acquire();
        *guard = 2;
        assert!(lock.locked());
        panic!("boom");
    }));
    assert!(result.is_err());
    assert!(!lock.locked());
    // No poisoning: the value written before the panic is there, and the lock still works.
    thread::scope(|s| {
        s.spawn(|| assert_eq!(*lock.try_acquire().expect("lock is free"), 2));
    });
}

/// LOCK-5: a thread that panics while holding the lock releases it.
#[test]
fn guard_releases_when_its_thread_panics() {
    let lock = Arc::new(Lock::new());
    let panicker = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            let _guard = lock.acquire();
            panic!("thread dies holding the lock");
        })
    };
    assert!(panicker.join().is_err());
    assert!(!lock.locked());
    let guard = lock.acquire_timeout(Duration::from_secs(10));
    assert!(guard.is_some(), "another thread can acquire afterwards");
}

/// LOCK-5: the guard releases at the end of the scope.
#[test]
fn guard_releases_at_end_of_scope() {
    let lock = Lock::new();
    {
        let _guard = lock.acquire();
        assert!(lock.locked());
    }
    assert!(!lock.locked());
    thread::scope(|s| {
        s.spawn(|| assert!(lock.try_acquire().is_some()));
    });
}

/// LOCK-9: a timed acquire of a free lock returns at once.
#[test]
fn timed_acquire_of_free_lock_does_not_wait() {
    let lock = Lock::new();
    let timeout = Duration::from_secs(5);
    let start = Instant::now();
    let guard = lock.acquire_timeout(timeout);
    assert!(guard.is_some());
    assert!(
        start.elapsed() < timeout.mul_f64(0.6),
        "took {:?}",
        start.elapsed()
    );
    assert!(lock.locked());
}

/// LOCK-9 / LOCK-15: `Duration::MAX` on a free lock returns at once (no overflow panic).
#[test]
fn duration_max_on_free_lock_returns_at_once() {
    let lock = Lock::with_value(3);
    let start = Instant::now();
    let guard = lock.acquire_timeout(Duration::MAX).expect("free lock");
    assert_eq!(*guard, 3);
    assert!(start.elapsed() < Duration::from_secs(3));
}

/// LOCK-8 (Rust form): a timeout too large for the clock waits until the lock is released,
/// instead of overflowing; so does a huge but representable one.
#[test]
fn huge_timeouts_wait_for_the_release() {
    with_watchdog(|| {
        for timeout in [Duration::MAX, Duration::from_secs(u64::MAX / 4)] {
            let lock = Lock::new();
            let released = AtomicBool::new(false);
            lock.acquire().detach();
            thread::scope(|s| {
                s.spawn(|| {
                    let_threads_block(1);
                    released.store(true, Ordering::SeqCst);
                    lock.release().unwrap();
                });
                let guard = lock.acquire_timeout(timeout);
                assert!(guard.is_some(), "{timeout:?}");
                assert!(released.load(Ordering::SeqCst), "{timeout:?}");
            });
            assert!(!lock.locked());
        }
    });
}

/// LOCK-10: a timed acquire of a held lock gives up after about the timeout.
#[test]
fn timed_acquire_of_held_lock_times_out() {
    let lock = Lock::new();
    let _held = lock.acquire();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            let guard = lock.acquire_timeout(T);
            let elapsed = start.elapsed();
            assert!(guard.is_none());
            assert_timeout(elapsed, T);
        });
    });
    assert!(lock.locked());
}

/// LOCK-10: several threads time out on the same held lock, each after about the timeout.
#[test]
fn concurrent_timed_acquires_all_time_out() {
    let lock = Lock::with_value(());
    let _held = lock.acquire();
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let start = Instant::now();
                assert!(lock.acquire_timeout(T).is_none());
                assert_timeout(start.elapsed(), T);
            });
        }
    });
    assert!(lock.locked());
}

/// LOCK-11: after a timed-out acquire the lock still works.
#[test]
fn lock_works_after_a_timed_out_acquire() {
    let lock = Lock::new();
    lock.acquire().detach();
    thread::scope(|s| {
        s.spawn(|| assert!(lock.acquire_timeout(Duration::from_millis(20)).is_none()));
    });
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
    let again = lock.try_acquire();
    assert!(again.is_some());
    drop(again);
    assert!(!lock.locked());
}

/// LOCK-11 / LOCK-4: threads that time out while another thread sleeps in `acquire()` do not
/// swallow the wake-up meant for it.
#[test]
fn timed_out_waiters_do_not_steal_the_wakeup_of_a_blocked_waiter() {
    with_watchdog(|| {
        let lock = Arc::new(Lock::new());
        let got_it = Arc::new(AtomicBool::new(false));
        lock.acquire().detach();
        let blocked = {
            let (lock, got_it) = (Arc::clone(&lock), Arc::clone(&got_it));
            thread::spawn(move || {
                let _guard = lock.acquire();
                got_it.store(true, Ordering::SeqCst);
            })
        };
        thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..5 {
                        assert!(lock.acquire_timeout(Duration::from_millis(10)).is_none());
                    }
                });
            }
        });
        assert!(!got_it.load(Ordering::SeqCst));
        lock.release().unwrap();
        blocked.join().unwrap();
        assert!(got_it.load(Ordering::SeqCst));
        assert!(!lock.locked());
    });
}

/// LOCK-12: the holder's second timed acquire times out.
#[test]
fn lock_is_not_reentrant() {
    let lock = Lock::new();
    let _held = lock.acquire();
    let start = Instant::now();
    let again = lock.acquire_timeout(T);
    let elapsed = start.elapsed();
    assert!(again.is_none());
    assert_timeout(elapsed, T);
    assert!(lock.locked());
}

/// LOCK-12: the holder's second blocking acquire waits until another thread releases.
#[test]
fn holders_second_acquire_blocks_until_another_thread_releases() {
    with_watchdog(|| {
        let lock = Lock::new();
        let released = AtomicBool::new(false);
        lock.acquire().detach();
        thread::scope(|s| {
            s.spawn(|| {
                let_threads_block(1);
                released.store(true, Ordering::SeqCst);
                lock.release().unwrap();
            });
            let guard = lock.acquire();
            assert!(
                released.load(Ordering::SeqCst),
                "the second acquire returned before the release"
            );
            assert!(lock.locked());
            drop(guard);
        });
        assert!(!lock.locked());
    });
}

/// LOCK-13: a lock acquired on one thread may be released by another (detach + release).
#[test]
fn another_thread_may_release() {
    let lock = Arc::new(Lock::new());
    {
        let lock = Arc::clone(&lock);
        thread::spawn(move || lock.acquire().detach())
            .join()
            .unwrap();
    }
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
}

/// LOCK-13: a release from a third thread wakes a thread blocked in `acquire()`.
#[test]
fn release_from_third_thread_wakes_a_blocked_acquirer() {
    with_watchdog(|| {
        let lock = Lock::new();
        let got_it = AtomicBool::new(false);
        lock.acquire().detach();
        thread::scope(|s| {
            s.spawn(|| {
                let guard = lock.acquire();
                got_it.store(true, Ordering::SeqCst);
                guard.detach(); // left for the main thread to release
            });
            let_threads_block(1);
            assert!(!got_it.load(Ordering::SeqCst));
            s.spawn(|| lock.release().unwrap());
        });
        assert!(got_it.load(Ordering::SeqCst));
        assert!(lock.locked());
        lock.release().unwrap();
        assert!(!lock.locked());
    });
}

/// LOCK-13: `LockGuard<()>` is `Send`: a guard dropped on another thread releases the lock.
#[test]
fn guard_dropped_on_another_thread_releases() {
    let lock = Lock::new();
    let guard: LockGuard<'_, ()> = lock.acquire();
    thread::scope(|s| {
        s.spawn(move || drop(guard));
    });
    assert!(!lock.locked());
}

/// LOCK-14: releasing an unlocked lock is a RuntimeError.
#[test]
fn release_of_unlocked_lock_is_runtime_error() {
    let lock = Lock::new();
    let err: RuntimeError = lock.release().unwrap_err();
    assert_eq!(err.message(), "release unlocked lock");
    assert!(err.to_string().contains("release unlocked lock"));
    assert!(err.to_string().contains("RuntimeError"));
    assert!(!lock.locked());

    // Also the second of two releases after one acquire.
    lock.acquire().detach();
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(
        lock.release().map_err(|e| e.message()),
        Err("release unlocked lock")
    );
    assert!(!lock.locked());
}

/// LOCK-14: a failed release changes nothing; the lock keeps working.
#[test]
fn failed_release_leaves_lock_usable() {
    let lock = Lock::new();
    assert!(lock.release().is_err());
    assert!(lock.release().is_err());
    let guard = lock.try_acquire().expect("still free");
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());
}

/// LOCK-15: `Duration::ZERO` tries once: success on a free lock …
#[test]
fn zero_timeout_on_free_lock_acquires() {
    let lock = Lock::new();
    let guard = lock.acquire_timeout(Duration::ZERO);
    assert!(guard.is_some());
    assert!(lock.locked());
}

/// LOCK-15: … and an immediate failure on a held one.
#[test]
fn zero_timeout_on_held_lock_fails_at_once() {
    let lock = Lock::new();
    let _held = lock.acquire();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            assert!(lock.acquire_timeout(Duration::ZERO).is_none());
            assert!(start.elapsed() < Duration::from_secs(1));
        });
    });
    // The holder trying again with ZERO fails too (not reentrant).
    assert!(lock.acquire_timeout(Duration::ZERO).is_none());
}

/// LOCK-4 / LOCK-13 (mutual exclusion): 4 threads × 10 000 increments lose no update.
#[test]
fn mutual_exclusion_stress_with_value() {
    with_watchdog(|| {
        const THREADS: usize = 4;
        const ITERS: usize = 10_000;
        let counter = Arc::new(Lock::with_value(0usize));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    for _ in 0..ITERS {
                        let mut guard = counter.acquire();
                        // A read-modify-write split in two, so a second holder would lose it.
                        let seen = *guard;
                        thread::yield_now();
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(!counter.locked());
        assert_eq!(*counter.acquire(), THREADS * ITERS);
    });
}

/// LOCK-1 … LOCK-4 (mutual exclusion): the data-less lock never admits two holders, whichever
/// of the acquire forms each thread uses.
#[test]
fn mutual_exclusion_stress_mixed_acquire_forms() {
    with_watchdog(|| {
        const ITERS: usize = 5_000;
        let lock = Arc::new(Lock::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..4)
            .map(|form| {
                let (lock, inside, total) =
                    (Arc::clone(&lock), Arc::clone(&inside), Arc::clone(&total));
                thread::spawn(move || {
                    for _ in 0..ITERS {
                        let guard = match form {
                            0 => lock.acquire(),
                            1 => loop {
                                if let Some(g) = lock.try_acquire() {
                                    break g;
                                }
                                thread::yield_now();
                            },
                            2 => loop {
                                if let Some(g) = lock.acquire_timeout(Duration::from_micros(50)) {
                                    break g;
                                }
                            },
                            _ => lock.acquire_timeout(Duration::MAX).unwrap(),
                        };
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        total.fetch_add(1, Ordering::Relaxed);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        drop(guard);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(total.load(Ordering::SeqCst), 4 * ITERS);
        assert!(!lock.locked());
    });
}

/// LOCK-16 (Rust form): `Debug` shows whether the lock is held, and the value when free.
#[test]
fn debug_output_shows_locked_state() {
    let lock = Lock::with_value(42);
    let free = format!("{lock:?}");
    assert!(free.contains("locked: false"), "{free}");
    assert!(free.contains("42"), "{free}");
    let guard = lock.acquire();
    let held = format!("{lock:?}");
    assert!(held.contains("locked: true"), "{held}");
    let guard_dbg = format!("{guard:?}");
    assert!(guard_dbg.contains("42"), "{guard_dbg}");
    drop(guard);
    // Formatting a free lock must not leave it locked.
    assert!(!lock.locked());

    let unit = Lock::new();
    unit.acquire().detach();
    assert!(format!("{unit:?}").contains("locked: true"));
    unit.release().unwrap();
    assert!(format!("{unit:?}").contains("locked: false"));
}
