//! Fault injection: `threading` — every place it runs user code.
//!
//! * `Condition::wait_for` predicates: one that panics leaves the lock released by the guard's
//!   unwind and passes on a wake-up it was given (no lost wake-up); one that re-enters the
//!   condition (acquires the default `RLock` again and notifies) wakes the others.
//! * Barrier actions: one that panics breaks the barrier (BAR-12); one that calls
//!   `n_waiting()`, `abort()` or `wait()` on its own barrier breaks it or panics clearly instead
//!   of hanging.
//! * Timer functions: one that panics still ends the timer (`join` returns, `is_alive()` is
//!   false) and spares the other timers; one that cancels or joins its own timer gets "too
//!   late" and an error.
//! * `Thread` targets: one that panics (THR-17); a detached thread whose value or panic payload
//!   panics on drop (std would abort the process); a refused spawn whose captures panic on drop.
//! * The `Drop` of a value guarded by `Lock<T>`, `RLock<T>` or a `Condition`'s `Lock<T>` that
//!   panics: the lock is released on unwind.
//!
//! `Event` and the semaphores run no user code. Every wait is bounded (`DEADLINE`, `LONG`,
//! `join_within`), and each test runs under a watchdog.

use super::common::*;
use gilfree::threading::{self, Thread};
use gilfree::{Barrier, BrokenBarrierError, Condition, JoinError, Lock, RLock, Timer};
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, panic_any};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock, Weak};
use std::thread;
use std::time::Duration;

/// Panics in its `Drop` (unless already unwinding, which would abort the test binary), and
/// counts its drops.
struct PanicsOnDrop(Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        if !thread::panicking() {
            panic!("PanicsOnDrop");
        }
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

// ---------------------------------------------------------------------------------------------
// Condition::wait_for predicates

/// A predicate that panics — on its first check, or after a wake-up — leaves the condition's
/// lock released once the guard unwinds: another thread acquires it at once.
#[test]
fn a_panicking_predicate_leaves_the_lock_released() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(0_u32));
        let first = catch_unwind(AssertUnwindSafe(|| {
            cond.acquire().wait_for(|_| panic!("predicate"));
        }));
        assert!(first.is_err());
        assert!(on_other_thread(|| cond.try_acquire().is_some()));

        let waiter = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                catch_unwind(AssertUnwindSafe(|| {
                    cond.acquire().wait_for_timeout(
                        |n| {
                            assert!(*n == 0, "predicate after the wake-up");
                            false
                        },
                        LONG,
                    )
                }))
                .is_err()
            })
        };
        poll_until("the waiter to wait", || cond.n_waiting() == 1);
        {
            let mut n = cond.acquire();
            *n = 1;
            n.notify_one();
        }
        assert!(join_within(waiter), "the predicate did not panic");
        let n = cond.acquire_timeout(AT_ONCE).expect("the lock stayed held");
        assert_eq!(*n, 1);
    });
}

/// COND-5 (issue 14, "no lost wake-up"): `notify_one` picks the longest waiter; when its
/// predicate panics after that wake-up, the wake-up passes on to the next waiter, whose
/// predicate is now true, instead of being lost with the panicking one.
#[test]
fn a_panicking_predicate_passes_its_wake_up_on() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::with_value(false));
        let doomed = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                catch_unwind(AssertUnwindSafe(|| {
                    cond.acquire().wait_for_timeout(
                        |ready| {
                            assert!(!*ready, "doomed predicate");
                            false
                        },
                        LONG,
                    )
                }))
                .is_err()
            })
        };
        poll_until("the doomed waiter to wait", || cond.n_waiting() == 1);
        let patient = {
            let cond = Arc::clone(&cond);
            // Bounded by `join_within` (10 s), well before this timeout, whose final check of
            // the predicate would return true anyway (COND-10).
            thread::spawn(move || cond.acquire().wait_for_timeout(|ready| *ready, LONG))
        };
        poll_until("the patient waiter to wait", || cond.n_waiting() == 2);
        {
            let mut ready = cond.acquire();
            *ready = true;
            ready.notify_one();
        }
        assert!(join_within(doomed), "the doomed predicate did not panic");
        assert!(
            join_within(patient),
            "the wake-up died with the panicking predicate"
        );
        assert_eq!(cond.n_waiting(), 0);
    });
}

/// A predicate that re-enters its condition — acquires the default `RLock` again and notifies
/// everyone — neither deadlocks nor loses the notification: the other waiter returns once the
/// lock is released.
#[test]
fn a_predicate_that_notifies_wakes_the_others() {
    with_watchdog(|| {
        let cond = Arc::new(Condition::new());
        let ready = Arc::new(AtomicBool::new(false));
        let other = {
            let (cond, ready) = (Arc::clone(&cond), Arc::clone(&ready));
            thread::spawn(move || {
                cond.acquire()
                    .wait_for_timeout(|_| ready.load(SeqCst), DEADLINE)
            })
        };
        poll_until("the other waiter to wait", || cond.n_waiting() == 1);
        let mut guard = cond.acquire();
        let seen = guard.wait_for(|_| {
            assert_eq!(cond.n_waiting(), 1);
            ready.store(true, SeqCst);
            cond.acquire().notify_all(); // re-entrant: this thread owns the RLock
            true
        });
        assert!(seen);
        drop(guard);
        assert!(join_within(other), "the re-entrant notify was lost");
        assert!(!cond.lock().locked());
    });
}

/// A predicate over a `Condition::with_value` (a non-reentrant `Lock<T>`) cannot take the lock
/// again; `try_acquire` says so instead of deadlocking, and the lock is still held by the
/// waiter throughout.
#[test]
fn a_predicate_cannot_retake_a_plain_lock() {
    with_watchdog(|| {
        let cond = Condition::with_value(3_u32);
        let mut n = cond.acquire();
        assert!(n.wait_for(|n| {
            assert!(cond.try_acquire().is_none());
            *n == 3
        }));
    });
}

// ---------------------------------------------------------------------------------------------
// Barrier actions

/// BAR-12: an action that panics breaks the barrier: the other waiters get
/// `BrokenBarrierError`, the last arriver the action's own panic, nothing hangs; after
/// `reset()` (BAR-7) the barrier works again.
#[test]
fn a_panicking_action_breaks_the_barrier() {
    with_watchdog(|| {
        let fail = Arc::new(AtomicBool::new(true));
        let barrier = {
            let fail = Arc::clone(&fail);
            Arc::new(
                Barrier::builder(3)
                    .action(move || {
                        if fail.load(SeqCst) {
                            panic_any("action");
                        }
                    })
                    .build()
                    .unwrap(),
            )
        };
        let parties: Vec<_> = (0..3)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || catch_unwind(AssertUnwindSafe(|| barrier.wait_timeout(LONG))))
            })
            .collect();
        let (mut broken, mut panicked) = (0, 0);
        for party in parties {
            match join_within(party) {
                Ok(Err(BrokenBarrierError)) => broken += 1,
                Err(payload) => {
                    assert_eq!(payload.downcast_ref::<&str>(), Some(&"action"));
                    panicked += 1;
                }
                Ok(Ok(index)) => panic!("passed a broken round with index {index}"),
            }
        }
        assert_eq!((broken, panicked), (2, 1));
        assert!(barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        barrier.reset();
        fail.store(false, SeqCst);
        let again: Vec<_> = (0..3)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || barrier.wait_timeout(LONG))
            })
            .collect();
        let mut indices: Vec<usize> = again.into_iter().map(|h| join_within(h).unwrap()).collect();
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
    });
}

/// A barrier whose action receives the barrier itself (through a `Weak`, set after `build`).
fn barrier_with_action(
    parties: usize,
    action: impl Fn(&Barrier) + Send + Sync + 'static,
) -> Arc<Barrier> {
    let me: Arc<OnceLock<Weak<Barrier>>> = Arc::new(OnceLock::new());
    let barrier = {
        let me = Arc::clone(&me);
        Arc::new(
            Barrier::builder(parties)
                .action(move || {
                    let barrier = me.get().and_then(Weak::upgrade).expect("set after build");
                    action(&barrier);
                })
                .build()
                .unwrap(),
        )
    };
    me.set(Arc::downgrade(&barrier)).unwrap();
    barrier
}

/// An action that reads `n_waiting()` (every party is in, BAR-11) and then `abort()`s its own
/// barrier: every party, the one that ran the action included, gets `BrokenBarrierError` (the
/// action runs outside the barrier's lock, so `abort` takes effect; see the barrier's
/// "Differences from Python").
#[test]
fn an_action_that_reads_n_waiting_and_aborts() {
    with_watchdog(|| {
        let seen = counter();
        let barrier = {
            let seen = Arc::clone(&seen);
            barrier_with_action(2, move |b| {
                seen.store(b.n_waiting(), SeqCst);
                b.abort();
            })
        };
        let other = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || barrier.wait_timeout(LONG))
        };
        let mine = barrier.wait_timeout(LONG);
        assert_eq!(mine, Err(BrokenBarrierError));
        assert_eq!(join_within(other), Err(BrokenBarrierError));
        assert_eq!(seen.load(SeqCst), 2);
        assert!(barrier.broken());
    });
}

/// An action that calls `wait` on its own barrier would wait for itself for ever (in Python
/// too: the action runs under the barrier's lock). Here it panics with a clear message; the
/// panic breaks the barrier like any panicking action (BAR-12): the last arriver gets the
/// panic, the others `BrokenBarrierError`, and nothing hangs — even with a timeout, which the
/// re-entrant call would otherwise never reach.
#[test]
fn an_action_that_waits_on_its_own_barrier_panics() {
    with_watchdog(|| {
        let barrier = barrier_with_action(2, |b| {
            let _ = b.wait_timeout(T);
        });
        let other = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || catch_unwind(AssertUnwindSafe(|| barrier.wait_timeout(LONG))))
        };
        let_threads_block(1);
        let mine = thread::spawn({
            let barrier = Arc::clone(&barrier);
            move || catch_unwind(AssertUnwindSafe(|| barrier.wait_timeout(LONG)))
        });
        let results = [join_within(other), join_within(mine)];
        let mut broken = 0;
        for r in results {
            match r {
                Ok(Err(BrokenBarrierError)) => broken += 1,
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| payload.downcast_ref::<&str>().copied())
                        .unwrap_or_default();
                    assert!(message.contains("own action"), "{message:?}");
                }
                Ok(Ok(index)) => panic!("passed with index {index}"),
            }
        }
        assert_eq!(broken, 1);
        assert!(barrier.broken());
    });
}

// ---------------------------------------------------------------------------------------------
// Timer functions

/// A timer function that panics: `join` returns the panic, the timer is finished and dead, and
/// another timer started at the same time fires as usual.
#[test]
fn a_panicking_timer_function() {
    with_watchdog(|| {
        let fired = counter();
        let doomed = Timer::start(Duration::ZERO, || panic!("timer"));
        let fine = {
            let fired = Arc::clone(&fired);
            Timer::start(Duration::ZERO, move || {
                fired.fetch_add(1, SeqCst);
            })
        };
        assert_eq!(doomed.join_timeout(DEADLINE), Ok(true));
        assert!(!doomed.is_alive());
        assert!(doomed.finished());
        assert!(!doomed.cancel(), "cancelled after it ran");
        match doomed.join() {
            Err(JoinError::Panicked { message, .. }) => assert_eq!(message, "timer"),
            other => panic!("expected the timer's panic, got {other:?}"),
        }
        assert_eq!(fine.join_timeout(DEADLINE), Ok(true));
        fine.join().unwrap();
        assert_eq!(fired.load(SeqCst), 1);
    });
}

/// A timer function that reaches its own timer: `cancel()` is too late (TMR-3: it is
/// running), `finished()` is still false, `join_timeout` is refused (THR-7) instead of waiting
/// for itself; the timer then ends normally.
#[test]
fn a_timer_function_that_cancels_and_joins_itself() {
    with_watchdog(|| {
        let me: Arc<OnceLock<Timer>> = Arc::new(OnceLock::new());
        let (tx, rx) = std::sync::mpsc::channel();
        let timer = {
            let me = Arc::clone(&me);
            Timer::start(Duration::ZERO, move || {
                poll_until("the timer to be stored", || me.get().is_some());
                let timer = me.get().unwrap();
                let seen = (
                    timer.cancel(),
                    timer.finished(),
                    timer.join_timeout(LONG).map_err(|e| e.message().to_owned()),
                );
                tx.send(seen).unwrap();
            })
        };
        assert!(me.set(timer).is_ok());
        let (cancelled, finished, joined) = rx.recv_timeout(DEADLINE).unwrap();
        assert!(!cancelled, "cancelled while running");
        assert!(!finished);
        assert_eq!(joined, Err("cannot join current thread".to_owned()));
        let timer = me.get().unwrap();
        assert_eq!(timer.join_timeout(DEADLINE), Ok(true));
        assert!(timer.finished());
    });
}

// ---------------------------------------------------------------------------------------------
// Thread targets and their values

/// THR-17: a target that panics ends its thread: `join` returns the panic (Rust's panic hook
/// has printed it, naming the thread, as Python's `excepthook` prints "Exception in thread"),
/// and the thread is neither alive nor listed.
#[test]
fn a_panicking_target() {
    with_watchdog(|| {
        let t = Thread::builder()
            .name("panicking-target")
            .spawn(|| -> u32 { panic!("target") })
            .unwrap();
        assert_eq!(t.join_timeout(DEADLINE), Ok(true));
        assert!(!t.is_alive());
        assert!(!threading::enumerate().contains(t.handle()));
        let err = t.join().unwrap_err();
        assert_eq!(err.message(), "target");
        assert!(err.to_string().contains("panicking-target"), "{err}");
    });
}

/// A detached thread (its `Thread` dropped) whose value panics on drop, and one whose panic
/// payload does: std would abort the process when it drops the unjoined result; gilfree
/// drops it under `catch_unwind` (the hook prints the panic) and the process goes on.
#[test]
fn a_detached_thread_whose_value_or_payload_panics_on_drop() {
    with_watchdog(|| {
        let drops = counter();
        let value = {
            let drops = Arc::clone(&drops);
            Thread::spawn(move || PanicsOnDrop(drops))
        };
        let payload = {
            let drops = Arc::clone(&drops);
            Thread::spawn(move || -> () { panic_any(PanicsOnDrop(drops)) })
        };
        let handles = [value.handle().clone(), payload.handle().clone()];
        drop(value);
        drop(payload);
        poll_until("the detached results to be dropped", || {
            drops.load(SeqCst) == 2
        });
        for h in handles {
            assert_eq!(h.join_timeout(DEADLINE), Ok(true));
        }
    });
}

/// A spawn the operating system refuses drops the closure unrun; when a capture panics in
/// that `Drop`, the panic comes out of `spawn`, and the refused thread is still not left in
/// the registry.
#[test]
#[cfg(target_pointer_width = "64")]
fn a_refused_spawn_whose_captures_panic_on_drop() {
    with_watchdog(|| {
        let drops = counter();
        let bomb = PanicsOnDrop(Arc::clone(&drops));
        let spawned = catch_unwind(AssertUnwindSafe(|| {
            Thread::builder()
                .name("refused-with-a-bomb")
                .stack_size(1 << 60)
                .spawn(move || drop(bomb))
        }));
        assert_eq!(drops.load(SeqCst), 1);
        assert!(spawned.is_err(), "the capture's panic was swallowed");
        assert!(
            !threading::enumerate()
                .iter()
                .any(|t| t.name() == "refused-with-a-bomb"),
            "the refused thread is still registered"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// Drop of a guarded value

/// Replacing a value guarded by `Lock<T>`, `RLock<T>` (two levels deep) or a condition's
/// `Lock<T>` whose old value panics in `Drop`: the lock is released by the unwinding guards,
/// another thread acquires it at once, and the new value is in place.
#[test]
fn a_guarded_value_that_panics_on_drop() {
    with_watchdog(|| {
        let drops = counter();
        let bomb = || Some(PanicsOnDrop(Arc::clone(&drops)));

        let lock = Lock::with_value(bomb());
        assert!(catch_unwind(AssertUnwindSafe(|| *lock.acquire() = None)).is_err());
        assert!(!lock.locked());
        assert!(on_other_thread(|| lock
            .acquire_timeout(AT_ONCE)
            .is_some_and(|g| g.is_none())));

        let rlock = RLock::with_value(RefCell::new(bomb()));
        let replaced = catch_unwind(AssertUnwindSafe(|| {
            let _outer = rlock.acquire();
            let inner = rlock.acquire();
            *inner.borrow_mut() = None;
        }));
        assert!(replaced.is_err());
        assert_eq!(rlock.recursion_count(), 0);
        assert!(!rlock.locked());
        assert!(on_other_thread(|| rlock.acquire_timeout(AT_ONCE).is_some()));
        assert!(rlock.acquire().borrow().is_none());

        let cond = Condition::with_value(bomb());
        assert!(catch_unwind(AssertUnwindSafe(|| *cond.acquire() = None)).is_err());
        assert!(on_other_thread(|| cond
            .acquire_timeout(AT_ONCE)
            .is_some_and(|g| g.is_none())));

        assert_eq!(drops.load(SeqCst), 3);
    });
}
