//! Integration tests for `Semaphore` and `BoundedSemaphore` (SEMANTICS.md §4: SEM-*, BSEM-*).
//!
//! Compile-time behaviours, not testable at run time:
//! * SEM-1 (negative initial value): the value is a `usize`, so `Semaphore::new(-1)` does not
//!   compile. `Semaphore::new(0)` is valid and tested below.
//! * SEM-9 (`acquire(blocking=False, timeout=t)` is a ValueError): the three forms are three
//!   methods (`acquire`, `try_acquire`, `acquire_timeout`), so the bad combination cannot be
//!   written.
//! * SEM-11 (a negative timeout acts like 0): a `Duration` cannot be negative; the closest
//!   value, `Duration::ZERO`, is tested under SEM-10.

mod common;

use common::*;
use gilfree::{BoundedSemaphore, Semaphore, ValueError};
use proptest::prelude::*;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

static_assertions::assert_impl_all!(Semaphore: Send, Sync, std::fmt::Debug, Default);
static_assertions::assert_impl_all!(BoundedSemaphore: Send, Sync, std::fmt::Debug, Default);
static_assertions::assert_impl_all!(gilfree::SemaphoreGuard<'static>: Send, Sync, std::fmt::Debug);

/// SEM-1: `Semaphore(0)` is valid (negative values do not compile, see the module docs).
#[test]
fn sem1_zero_initial_value_is_valid() {
    let sem = Semaphore::new(0);
    assert_eq!(sem.value(), 0);
    assert!(sem.try_acquire().is_none());
    let bsem = BoundedSemaphore::new(0);
    assert_eq!(bsem.value(), 0);
    assert_eq!(bsem.initial_value(), 0);
    assert!(bsem.try_acquire().is_none());
}

/// SEM-1: values above `Semaphore::MAX_VALUE` are refused (the Rust counterpart of an
/// out-of-range initial value).
#[test]
#[should_panic(expected = "MAX_VALUE")]
fn sem1_initial_value_above_max_panics() {
    let _ = Semaphore::new(Semaphore::MAX_VALUE + 1);
}

/// SEM-1: the same limit for `BoundedSemaphore`.
#[test]
#[should_panic(expected = "MAX_VALUE")]
fn sem1_bounded_initial_value_above_max_panics() {
    let _ = BoundedSemaphore::new(Semaphore::MAX_VALUE + 1);
}

/// SEM-2: the default value is 1; a second acquire blocks until a release.
#[test]
fn sem2_default_value_is_one() {
    let sem = Arc::new(Semaphore::default());
    assert_eq!(sem.value(), 1);
    let first = sem.acquire();
    assert_eq!(sem.value(), 0);

    let started = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let h = {
        let (sem, started, done) = (Arc::clone(&sem), Arc::clone(&started), Arc::clone(&done));
        thread::spawn(move || {
            started.store(true, Ordering::SeqCst);
            sem.acquire().detach();
            done.store(true, Ordering::SeqCst);
        })
    };
    poll_until("the second acquirer to start", || {
        started.load(Ordering::SeqCst)
    });
    let_threads_block_after(BLOCK_LEAD, 1);
    assert!(!done.load(Ordering::SeqCst), "second acquire did not block");
    drop(first);
    join_within(h);
    assert!(done.load(Ordering::SeqCst));
    assert_eq!(sem.value(), 0);

    let bsem = BoundedSemaphore::default();
    assert_eq!(bsem.value(), 1);
    assert_eq!(bsem.initial_value(), 1);
}

/// SEM-3: `Semaphore(k)` allows k acquires without blocking.
#[test]
fn sem3_k_acquires_without_blocking() {
    for k in 0..10 {
        let sem = Semaphore::new(k);
        let guards: Vec<_> = (0..k)
            .map(|_| sem.acquire_timeout(DEADLINE).expect("acquire blocked"))
            .collect();
        assert_eq!(sem.value(), 0);
        assert!(sem.try_acquire().is_none());
        drop(guards);
        assert_eq!(sem.value(), k);

        let bsem = BoundedSemaphore::new(k);
        for _ in 0..k {
            bsem.acquire().detach();
        }
        assert_eq!(bsem.value(), 0);
        assert!(bsem.try_acquire().is_none());
    }
}

/// SEM-4: non-blocking acquire succeeds while the value is > 0, fails at 0, and succeeds again
/// after a release.
#[test]
fn sem4_try_acquire() {
    let sem = Semaphore::new(2);
    let a = sem.try_acquire();
    assert!(a.is_some());
    let b = sem.try_acquire();
    assert!(b.is_some());
    assert!(sem.try_acquire().is_none());
    assert_eq!(sem.value(), 0);
    drop(a);
    let c = sem.try_acquire();
    assert!(c.is_some());
    assert!(sem.try_acquire().is_none());
    drop((b, c));
    assert_eq!(sem.value(), 2);

    let bsem = BoundedSemaphore::new(2);
    bsem.try_acquire().expect("first").detach();
    bsem.try_acquire().expect("second").detach();
    assert!(bsem.try_acquire().is_none());
    bsem.release(1).unwrap();
    assert!(bsem.try_acquire().is_some());
}

/// SEM-4, SEM-10: a failed `try_acquire` / `acquire_timeout` leaves the value unchanged (it
/// must not hand back a permit it never took).
#[test]
fn sem4_failed_try_acquire_leaves_value_unchanged() {
    let sem = Semaphore::new(0);
    assert!(sem.try_acquire().is_none());
    assert_eq!(sem.value(), 0, "a failed try_acquire added a permit");
    assert!(sem.acquire_timeout(Duration::ZERO).is_none());
    assert_eq!(sem.value(), 0, "a failed acquire_timeout added a permit");
    assert!(sem.acquire_timeout(Duration::from_millis(1)).is_none());
    assert_eq!(sem.value(), 0, "a failed acquire_timeout added a permit");

    let bsem = BoundedSemaphore::new(1);
    bsem.acquire().detach();
    assert!(bsem.try_acquire().is_none());
    assert_eq!(bsem.value(), 0, "a failed try_acquire added a permit");
    assert!(bsem.acquire_timeout(Duration::ZERO).is_none());
    assert_eq!(bsem.value(), 0, "a failed acquire_timeout added a permit");
}

/// SEM-5: `Semaphore(4)` with 1 taken, 5 threads each trying twice: exactly 3 successes and 7
/// failures.
#[test]
fn sem5_contended_try_acquire() {
    for _ in 0..20 {
        let sem = Arc::new(Semaphore::new(4));
        sem.acquire().detach();
        let start = Arc::new(std::sync::Barrier::new(5));
        let handles: Vec<_> = (0..5)
            .map(|_| {
                let (sem, start) = (Arc::clone(&sem), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    let mut results = Vec::new();
                    for _ in 0..2 {
                        match sem.try_acquire() {
                            Some(g) => {
                                g.detach();
                                results.push(true);
                            }
                            None => results.push(false),
                        }
                    }
                    results
                })
            })
            .collect();
        let results: Vec<bool> = handles.into_iter().flat_map(join_within).collect();
        assert_eq!(results.len(), 10);
        assert_eq!(results.iter().filter(|&&r| r).count(), 3);
        assert_eq!(results.iter().filter(|&&r| !r).count(), 7);
        assert_eq!(sem.value(), 0);
    }
}

/// SEM-6: `Semaphore(7)` with 1 taken and 10 threads acquiring twice each: exactly 6 pass at
/// first, then each `release(1)` lets exactly one more through.
#[test]
fn sem6_blocking_acquire_contended() {
    let sem = Arc::new(Semaphore::new(7));
    sem.acquire().detach();
    let passed = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (sem, passed) = (Arc::clone(&sem), Arc::clone(&passed));
            thread::spawn(move || {
                for _ in 0..2 {
                    sem.acquire().detach();
                    passed.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Observes `passed` until it reaches `expected`, checking it never goes past it and the
    // value never exceeds the permits not yet taken.
    let reach = |expected: usize, max_value: usize| {
        poll_until("the expected number of acquires", || {
            let now = passed.load(Ordering::SeqCst);
            assert!(
                now <= expected,
                "{now} acquires passed, expected {expected}"
            );
            let value = sem.value();
            assert!(value <= max_value, "value {value}, at most {max_value}");
            now == expected
        });
    };

    reach(6, 6);
    let_threads_block_after(BLOCK_LEAD, 10);
    assert_eq!(
        passed.load(Ordering::SeqCst),
        6,
        "a 7th acquire passed with no permit"
    );
    assert_eq!(sem.value(), 0);

    for expected in 7..=20 {
        sem.release(1).unwrap();
        reach(expected, 1);
        assert_eq!(sem.value(), 0);
    }
    for h in handles {
        join_within(h);
    }
    assert_eq!(passed.load(Ordering::SeqCst), 20);
    assert_eq!(sem.value(), 0);
}

/// SEM-7: `release(n)` adds n permits and wakes up to n waiters: `release(7)` lets exactly 7 of
/// 10 blocked threads through.
#[test]
fn sem7_multirelease() {
    let sem = Arc::new(Semaphore::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let passed = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (sem, started, passed) =
                (Arc::clone(&sem), Arc::clone(&started), Arc::clone(&passed));
            thread::spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                sem.acquire().detach();
                passed.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    poll_until("all acquirers to start", || {
        started.load(Ordering::SeqCst) == 10
    });
    let_threads_block_after(BLOCK_LEAD, 10);
    assert_eq!(passed.load(Ordering::SeqCst), 0);

    sem.release(7).unwrap();
    poll_until("7 acquirers to pass", || {
        let now = passed.load(Ordering::SeqCst);
        assert!(now <= 7, "{now} passed after release(7)");
        now == 7
    });
    let_threads_block_after(BLOCK_LEAD, 3);
    assert_eq!(passed.load(Ordering::SeqCst), 7);
    assert_eq!(sem.value(), 0);

    sem.release(3).unwrap();
    for h in handles {
        join_within(h);
    }
    assert_eq!(passed.load(Ordering::SeqCst), 10);
    assert_eq!(sem.value(), 0);
}

/// SEM-7: `release(n)` without waiters adds n to the value.
#[test]
fn sem7_release_n_adds_n() {
    let sem = Semaphore::new(1);
    sem.release(3).unwrap();
    assert_eq!(sem.value(), 4);
    let bsem = BoundedSemaphore::new(5);
    for _ in 0..5 {
        bsem.acquire().detach();
    }
    bsem.release(3).unwrap();
    assert_eq!(bsem.value(), 3);
    bsem.release(2).unwrap();
    assert_eq!(bsem.value(), 5);
}

/// SEM-8: `release(0)` is a ValueError ("n must be one or more") and changes nothing.
#[test]
fn sem8_release_zero_is_value_error() {
    let sem = Semaphore::new(2);
    let err: ValueError = sem.release(0).unwrap_err();
    assert_eq!(err.message(), "n must be one or more");
    assert!(err.to_string().contains("n must be one or more"));
    assert_eq!(sem.value(), 2);

    let bsem = BoundedSemaphore::new(2);
    bsem.acquire().detach();
    let err = bsem.release(0).unwrap_err();
    assert_eq!(err.message(), "n must be one or more");
    assert_eq!(bsem.value(), 1);
}

/// SEM-10: a timed acquire succeeds while the value is > 0 and fails after about its timeout
/// at 0; `Duration::ZERO` tries once (the closest thing to SEM-11's negative timeout).
#[test]
fn sem10_acquire_timeout() {
    let sem = Semaphore::new(2);
    let a = sem.acquire_timeout(Duration::from_millis(5));
    assert!(a.is_some());
    let b = sem.acquire_timeout(Duration::ZERO);
    assert!(b.is_some());
    assert!(sem.acquire_timeout(Duration::from_millis(5)).is_none());

    let start = Instant::now();
    assert!(sem.acquire_timeout(Duration::ZERO).is_none());
    assert!(
        start.elapsed() < AT_ONCE,
        "a zero timeout waited {:?}",
        start.elapsed()
    );

    let start = Instant::now();
    assert!(sem.acquire_timeout(T).is_none());
    assert_timeout(start.elapsed(), T);
    assert_eq!(sem.value(), 0);

    let bsem = BoundedSemaphore::new(0);
    let start = Instant::now();
    assert!(bsem.acquire_timeout(T).is_none());
    assert_timeout(start.elapsed(), T);
    assert_eq!(bsem.value(), 0);
}

/// SEM-10: a timed acquire returns as soon as another thread releases, long before its
/// timeout; `Duration::MAX` waits like a blocking acquire.
#[test]
fn sem10_timed_acquire_woken_by_release() {
    for timeout in [Duration::from_secs(60), Duration::MAX] {
        let sem = Arc::new(Semaphore::new(0));
        let started = Arc::new(AtomicBool::new(false));
        let h = {
            let (sem, started) = (Arc::clone(&sem), Arc::clone(&started));
            thread::spawn(move || {
                started.store(true, Ordering::SeqCst);
                let start = Instant::now();
                let got = sem.acquire_timeout(timeout).map(|g| g.detach()).is_some();
                (got, start.elapsed())
            })
        };
        poll_until("the acquirer to start", || started.load(Ordering::SeqCst));
        let_threads_block_after(BLOCK_LEAD, 1);
        assert!(
            !h.is_finished(),
            "acquire_timeout({timeout:?}) returned at value 0"
        );
        sem.release(1).unwrap();
        let (got, elapsed) = join_within(h);
        assert!(got);
        assert!(elapsed < DEADLINE);
        assert_eq!(sem.value(), 0);
    }
}

/// SEM-12: the guard gives the permit back when dropped, also when the holder panics; nested
/// guards in `Semaphore(2)` use both permits.
#[test]
fn sem12_guard_returns_permit_on_drop_and_panic() {
    let sem = Semaphore::new(2);
    {
        let _outer = sem.acquire();
        assert_eq!(sem.value(), 1);
        {
            let _inner = sem.acquire();
            assert_eq!(sem.value(), 0);
            assert!(sem.try_acquire().is_none());
        }
        assert_eq!(sem.value(), 1);
    }
    assert_eq!(sem.value(), 2);

    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let _permit = sem.acquire();
        let _second = sem.acquire();
        assert_eq!(sem.value(), 0);
        panic!("failure while holding permits");
    }));
    assert!(result.is_err());
    assert_eq!(sem.value(), 2);

    let bsem = BoundedSemaphore::new(1);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let _permit = bsem.acquire();
        assert_eq!(bsem.value(), 0);
        panic!("failure while holding a permit");
    }));
    assert!(result.is_err());
    assert_eq!(bsem.value(), 1);

    // A permit held by a thread that panics is given back as that thread unwinds.
    let sem = Arc::new(Semaphore::new(1));
    let h = {
        let sem = Arc::clone(&sem);
        thread::spawn(move || {
            let _permit = sem.acquire();
            panic!("failure in another thread");
        })
    };
    poll_until("the panicking thread to finish", || h.is_finished());
    assert!(h.join().is_err());
    assert_eq!(sem.value(), 1);
}

/// SEM-12: the guard's Debug output shows the semaphore's value; `detach` keeps the permit.
#[test]
fn sem12_guard_debug_and_detach() {
    let sem = Semaphore::new(3);
    let g = sem.acquire();
    assert!(format!("{g:?}").contains("value: 2"), "{g:?}");
    g.detach();
    assert_eq!(sem.value(), 2);
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 3);
}

/// SEM-13: an unbounded semaphore may be released past its initial value.
#[test]
fn sem13_unbounded_release_past_initial_value() {
    let sem = Semaphore::new(1);
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 2);
    sem.acquire_timeout(DEADLINE).expect("first").detach();
    sem.acquire_timeout(DEADLINE).expect("second").detach();
    assert!(sem.try_acquire().is_none());

    // A guard dropped after an explicit release also raises the value past the initial one.
    let sem = Semaphore::new(1);
    let g = sem.acquire();
    sem.release(1).unwrap();
    drop(g);
    assert_eq!(sem.value(), 2);
}

/// SEM-13: the value is capped at `Semaphore::MAX_VALUE`; a release past it is a ValueError
/// and changes nothing.
#[test]
fn sem13_release_past_max_value_is_refused() {
    let sem = Semaphore::new(Semaphore::MAX_VALUE);
    assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    assert!(sem.release(1).is_err());
    assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    sem.acquire().detach();
    assert!(sem.release(2).is_err());
    assert_eq!(sem.value(), Semaphore::MAX_VALUE - 1);
    sem.release(1).unwrap();
    assert_eq!(sem.value(), Semaphore::MAX_VALUE);
}

/// SEM-14: there is no ownership: N threads acquire (and detach), N other threads release.
#[test]
fn sem14_any_thread_may_release() {
    const N: usize = 8;
    // Acquirers block on Semaphore(0) until the releasers come.
    let sem = Arc::new(Semaphore::new(0));
    let acquirers: Vec<_> = (0..N)
        .map(|_| {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().detach())
        })
        .collect();
    let releasers: Vec<_> = (0..N)
        .map(|_| {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.release(1))
        })
        .collect();
    for h in releasers {
        join_within(h).unwrap();
    }
    for h in acquirers {
        join_within(h);
    }
    assert_eq!(sem.value(), 0);

    // And the other way round: acquired in some threads, given back by others.
    let sem = Arc::new(Semaphore::new(N));
    let acquirers: Vec<_> = (0..N)
        .map(|_| {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().detach())
        })
        .collect();
    for h in acquirers {
        join_within(h);
    }
    assert_eq!(sem.value(), 0);
    let releasers: Vec<_> = (0..N)
        .map(|_| {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.release(1))
        })
        .collect();
    for h in releasers {
        join_within(h).unwrap();
    }
    assert_eq!(sem.value(), N);
}

/// SEM-14, BSEM-1: for limits 1..9, `limit` threads acquire a BoundedSemaphore and `limit` other
/// threads release it; then one more release is a ValueError.
#[test]
fn bsem1_limit_with_foreign_releases() {
    for limit in 1..10 {
        let bsem = Arc::new(BoundedSemaphore::new(limit));
        let acquirers: Vec<_> = (0..limit)
            .map(|_| {
                let bsem = Arc::clone(&bsem);
                thread::spawn(move || bsem.acquire().detach())
            })
            .collect();
        for h in acquirers {
            join_within(h);
        }
        assert_eq!(bsem.value(), 0);
        let releasers: Vec<_> = (0..limit)
            .map(|_| {
                let bsem = Arc::clone(&bsem);
                thread::spawn(move || bsem.release(1))
            })
            .collect();
        for h in releasers {
            join_within(h).unwrap();
        }
        assert_eq!(bsem.value(), limit);
        let err = bsem.release(1).unwrap_err();
        assert_eq!(err.message(), "Semaphore released too many times");
        assert_eq!(bsem.value(), limit);
    }
}

/// BSEM-1: releasing a BoundedSemaphore above its initial value is a ValueError, right after
/// construction and after a balanced acquire/release, and changes nothing.
#[test]
fn bsem1_release_past_initial_value_is_refused() {
    let bsem = BoundedSemaphore::new(3);
    let err = bsem.release(1).unwrap_err();
    assert_eq!(err.message(), "Semaphore released too many times");
    assert!(
        err.to_string()
            .contains("Semaphore released too many times")
    );
    assert_eq!(bsem.value(), 3);

    drop(bsem.acquire());
    assert!(bsem.release(1).is_err());
    assert_eq!(bsem.value(), 3);

    bsem.acquire().detach();
    bsem.release(1).unwrap();
    assert!(bsem.release(1).is_err());
    assert_eq!(bsem.value(), 3);
    assert_eq!(bsem.initial_value(), 3);
}

/// BSEM-1: the bound check and its message do not depend on the initial value, also when the
/// initial value is `Semaphore::MAX_VALUE`.
#[test]
fn bsem1_release_past_initial_value_at_max_value() {
    let bsem = BoundedSemaphore::new(Semaphore::MAX_VALUE);
    let err = bsem.release(1).unwrap_err();
    assert_eq!(err.message(), "Semaphore released too many times");
    assert_eq!(bsem.value(), Semaphore::MAX_VALUE);
}

/// BSEM-1: a guard dropped after its permit was already returned by an explicit release
/// leaves the value at the bound (documented difference: a destructor cannot fail).
#[test]
fn bsem1_guard_drop_at_bound_leaves_value() {
    let bsem = BoundedSemaphore::new(1);
    let g = bsem.acquire();
    bsem.release(1).unwrap();
    drop(g);
    assert_eq!(bsem.value(), 1);
    assert!(bsem.release(1).is_err());
}

/// BSEM-2: `release(n)` checks `value + n > initial` as a whole; on failure the value is
/// unchanged (no partial release).
#[test]
fn bsem2_release_n_is_all_or_nothing() {
    let bsem = BoundedSemaphore::new(2);
    bsem.acquire().detach();
    assert_eq!(bsem.value(), 1);
    let err = bsem.release(2).unwrap_err();
    assert_eq!(err.message(), "Semaphore released too many times");
    assert_eq!(bsem.value(), 1);
    bsem.release(1).unwrap();
    assert_eq!(bsem.value(), 2);

    let bsem = BoundedSemaphore::new(5);
    for _ in 0..3 {
        bsem.acquire().detach();
    }
    assert!(bsem.release(4).is_err());
    assert_eq!(bsem.value(), 2);
    bsem.release(3).unwrap();
    assert_eq!(bsem.value(), 5);
}

/// BSEM-3: `BoundedSemaphore(0).release()` is a ValueError.
#[test]
fn bsem3_zero_bound_refuses_release() {
    let bsem = BoundedSemaphore::new(0);
    let err = bsem.release(1).unwrap_err();
    assert_eq!(err.message(), "Semaphore released too many times");
    assert_eq!(bsem.value(), 0);
    assert!(bsem.try_acquire().is_none());
}

/// BSEM-4: a BoundedSemaphore(3) caps concurrency: at most 3 of 10 threads are inside at once
/// (and, with the first three made to overlap, exactly 3).
#[test]
fn bsem4_caps_concurrency() {
    let bsem = Arc::new(BoundedSemaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let entered = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (bsem, inside, most, entered) = (
                Arc::clone(&bsem),
                Arc::clone(&inside),
                Arc::clone(&most),
                Arc::clone(&entered),
            );
            thread::spawn(move || {
                let _permit = bsem.acquire();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                if entered.fetch_add(1, Ordering::SeqCst) < 3 {
                    // The first three entrants stay until all three are inside.
                    poll_until("three threads inside", || most.load(Ordering::SeqCst) >= 3);
                } else {
                    thread::yield_now();
                }
                assert!(bsem.value() <= 3);
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in handles {
        join_within(h);
    }
    assert_eq!(most.load(Ordering::SeqCst), 3);
    assert_eq!(inside.load(Ordering::SeqCst), 0);
    assert_eq!(bsem.value(), 3);
}

/// SEM-15: Debug shows the value, and for a BoundedSemaphore the initial value too.
#[test]
fn sem15_debug_shows_value_and_initial() {
    let sem = Semaphore::new(3);
    sem.acquire().detach();
    let s = format!("{sem:?}");
    assert!(s.contains("Semaphore"), "{s}");
    assert!(s.contains("value: 2"), "{s}");

    let bsem = BoundedSemaphore::new(3);
    bsem.acquire().detach();
    let s = format!("{bsem:?}");
    assert!(s.contains("BoundedSemaphore"), "{s}");
    assert!(s.contains("value: 2"), "{s}");
    assert!(s.contains("initial: 3"), "{s}");
}

#[derive(Clone, Copy, Debug)]
enum Op {
    /// `try_acquire()`, detaching the permit on success.
    TryAcquire,
    /// `acquire_timeout(Duration::ZERO)`, detaching the permit on success.
    AcquireZero,
    /// `release(n)`.
    Release(usize),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::TryAcquire),
        1 => Just(Op::AcquireZero),
        4 => (0usize..4).prop_map(Op::Release),
    ]
}

fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op_strategy(), 0..64)
}

/// The reference model: a plain counter, with an optional bound.
struct Model {
    value: u64,
    bound: Option<u64>,
}

impl Model {
    fn try_acquire(&mut self) -> bool {
        if self.value > 0 {
            self.value -= 1;
            true
        } else {
            false
        }
    }

    fn release(&mut self, n: usize) -> Result<(), &'static str> {
        let n = n as u64;
        if n == 0 {
            return Err("n must be one or more");
        }
        if self.bound.is_some_and(|bound| self.value + n > bound) {
            return Err("Semaphore released too many times");
        }
        self.value += n;
        Ok(())
    }
}

proptest! {
    // No regression files: this crate's tests/ is shared with other suites.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// SEM-4, SEM-7, SEM-8, SEM-13: single-threaded, a Semaphore behaves like a counter.
    #[test]
    fn prop_semaphore_matches_model(k in 0usize..6, ops in ops_strategy()) {
        let sem = Semaphore::new(k);
        let mut model = Model { value: k as u64, bound: None };
        for op in ops {
            match op {
                Op::TryAcquire => {
                    let got = sem.try_acquire().map(|g| g.detach()).is_some();
                    prop_assert_eq!(got, model.try_acquire(), "{:?}", op);
                }
                Op::AcquireZero => {
                    let got = sem.acquire_timeout(Duration::ZERO).map(|g| g.detach()).is_some();
                    prop_assert_eq!(got, model.try_acquire(), "{:?}", op);
                }
                Op::Release(n) => {
                    let got = sem.release(n).map_err(|e| e.message());
                    prop_assert_eq!(got, model.release(n), "{:?}", op);
                }
            }
            prop_assert_eq!(sem.value() as u64, model.value, "after {:?}", op);
        }
    }

    /// BSEM-1, BSEM-2, BSEM-3, SEM-8: single-threaded, a BoundedSemaphore behaves like a counter
    /// that refuses (unchanged) any release taking it above its initial value.
    #[test]
    fn prop_bounded_semaphore_matches_model(k in 0usize..6, ops in ops_strategy()) {
        let sem = BoundedSemaphore::new(k);
        let mut model = Model { value: k as u64, bound: Some(k as u64) };
        for op in ops {
            match op {
                Op::TryAcquire => {
                    let got = sem.try_acquire().map(|g| g.detach()).is_some();
                    prop_assert_eq!(got, model.try_acquire(), "{:?}", op);
                }
                Op::AcquireZero => {
                    let got = sem.acquire_timeout(Duration::ZERO).map(|g| g.detach()).is_some();
                    prop_assert_eq!(got, model.try_acquire(), "{:?}", op);
                }
                Op::Release(n) => {
                    let got = sem.release(n).map_err(|e| e.message());
                    prop_assert_eq!(got, model.release(n), "{:?}", op);
                }
            }
            prop_assert_eq!(sem.value() as u64, model.value, "after {:?}", op);
            prop_assert_eq!(sem.initial_value(), k);
        }
    }
}
