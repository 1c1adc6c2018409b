//! Integration tests for `Barrier` (SEMANTICS.md §6: BAR-*).
//!
//! `Barrier(-1)` (BAR-1) cannot be written: `parties` is a `usize`.

mod common;

use common::*;
use gilfree::{Barrier, BrokenBarrierError, RuntimeError};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

static_assertions::assert_impl_all!(Barrier: Send, Sync, std::fmt::Debug);
static_assertions::assert_impl_all!(BrokenBarrierError: Send, Sync, std::error::Error, Copy);

/// Starts a thread running `f` on the barrier and waits until the barrier counts one more
/// waiter than before.
fn spawn_waiter<R: Send + 'static>(
    b: &Arc<Barrier>,
    f: impl FnOnce(&Barrier) -> R + Send + 'static,
) -> JoinHandle<R> {
    let before = b.n_waiting();
    let h = {
        let b = Arc::clone(b);
        thread::spawn(move || f(&b))
    };
    poll_until("the thread to wait on the barrier", || {
        b.n_waiting() == before + 1
    });
    h
}

/// Runs `parties` threads through `rounds` rounds and checks lockstep: no thread passes wait #k
/// before all have reached it, and each round hands out the indices 0..parties once each.
fn lockstep(b: &Arc<Barrier>, rounds: usize) {
    let parties = b.parties();
    let arrived: Arc<Vec<AtomicUsize>> =
        Arc::new((0..rounds).map(|_| AtomicUsize::new(0)).collect());
    let handles: Vec<_> = (0..parties)
        .map(|_| {
            let (b, arrived) = (Arc::clone(b), Arc::clone(&arrived));
            thread::spawn(move || {
                let mut indices = Vec::with_capacity(rounds);
                for (round, count) in arrived.iter().enumerate() {
                    count.fetch_add(1, Ordering::SeqCst);
                    let index = b.wait().expect("barrier broke");
                    let now = count.load(Ordering::SeqCst);
                    assert_eq!(now, parties, "passed wait #{round} with {now} arrived");
                    indices.push(index);
                }
                indices
            })
        })
        .collect();
    let per_thread: Vec<Vec<usize>> = handles.into_iter().map(join_within).collect();
    for round in 0..rounds {
        let mut indices: Vec<usize> = per_thread.iter().map(|v| v[round]).collect();
        indices.sort_unstable();
        assert_eq!(indices, (0..parties).collect::<Vec<_>>(), "round {round}");
    }
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.broken());
}

/// BAR-1: `Barrier::new(0)` panics ("parties must be > 0").
#[test]
#[should_panic(expected = "parties must be > 0")]
fn bar1_new_zero_panics() {
    let _ = Barrier::new(0);
}

/// BAR-1: `try_new(0)` and `builder(0)` give ValueError "parties must be > 0".
#[test]
fn bar1_try_new_and_builder_zero_are_value_errors() {
    let err = Barrier::try_new(0).unwrap_err();
    assert_eq!(err.message(), "parties must be > 0");
    let err = Barrier::builder(0).build().unwrap_err();
    assert_eq!(err.message(), "parties must be > 0");
    let err = Barrier::builder(0)
        .action(|| {})
        .timeout(T)
        .build()
        .unwrap_err();
    assert_eq!(err.message(), "parties must be > 0");
    assert_eq!(Barrier::try_new(3).unwrap().parties(), 3);
    assert_eq!(Barrier::builder(2).build().unwrap().parties(), 2);
}

/// BAR-2: 5 threads pass 10 rounds in lockstep; afterwards `n_waiting` is 0 and the barrier
/// is not broken.
#[test]
fn bar2_lockstep_ten_rounds() {
    let b = Arc::new(Barrier::new(5));
    lockstep(&b, 10);
}

/// BAR-14: threads arriving for round k+1 while round k drains wait for the drain: lockstep
/// and per-round indices hold over many quick rounds.
#[test]
fn bar14_next_round_waits_for_the_drain() {
    let b = Arc::new(Barrier::new(4));
    lockstep(&b, 500);
    let b = Arc::new(Barrier::new(2));
    lockstep(&b, 500);
}

/// BAR-3: each thread of a round gets a distinct index, the indices summing to 0+..+N-1; the
/// last to arrive gets parties-1 (and, as documented, the index is the arrival order).
#[test]
fn bar3_distinct_indices_last_gets_parties_minus_one() {
    const N: usize = 5;
    let b = Arc::new(Barrier::new(N));
    // Start the threads one at a time so the arrival order is known.
    let handles: Vec<_> = (0..N - 1).map(|_| spawn_waiter(&b, |b| b.wait())).collect();
    assert_eq!(b.n_waiting(), N - 1);
    assert_eq!(b.wait(), Ok(N - 1));
    let indices: Vec<usize> = handles
        .into_iter()
        .map(|h| join_within(h).unwrap())
        .collect();
    assert_eq!(indices, (0..N - 1).collect::<Vec<_>>());

    // Unordered arrivals: distinct indices, summing to 0+..+N-1.
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let b = Arc::clone(&b);
            thread::spawn(move || b.wait_timeout(DEADLINE * 6).unwrap())
        })
        .collect();
    let mut indices: Vec<usize> = handles.into_iter().map(join_within).collect();
    assert_eq!(indices.iter().sum::<usize>(), (0..N).sum::<usize>());
    indices.sort_unstable();
    assert_eq!(indices, (0..N).collect::<Vec<_>>());
}

/// BAR-4: the action runs exactly once per round, in the last thread to arrive, before any
/// thread is released: every thread sees its effect when `wait` returns.
#[test]
fn bar4_action_runs_once_per_round_before_release() {
    const N: usize = 5;
    const ROUNDS: usize = 10;
    let runs = Arc::new(AtomicUsize::new(0));
    let ran_in = Arc::new(Mutex::new(Vec::<ThreadId>::new()));
    let b = {
        let (runs, ran_in) = (Arc::clone(&runs), Arc::clone(&ran_in));
        Arc::new(
            Barrier::builder(N)
                .action(move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    ran_in.lock().unwrap().push(thread::current().id());
                })
                .build()
                .unwrap(),
        )
    };
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let (b, runs) = (Arc::clone(&b), Arc::clone(&runs));
            thread::spawn(move || {
                let mut last_in = Vec::new();
                for round in 0..ROUNDS {
                    let index = b.wait().unwrap();
                    assert_eq!(runs.load(Ordering::SeqCst), round + 1, "round {round}");
                    if index == N - 1 {
                        last_in.push(round);
                    }
                }
                (thread::current().id(), last_in)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(join_within).collect();
    assert_eq!(runs.load(Ordering::SeqCst), ROUNDS);
    let ran_in = ran_in.lock().unwrap().clone();
    assert_eq!(ran_in.len(), ROUNDS);
    for (round, action_thread) in ran_in.iter().enumerate() {
        let last: Vec<ThreadId> = results
            .iter()
            .filter(|(_, rounds)| rounds.contains(&round))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(last, [*action_thread], "round {round}");
    }
}

/// BAR-5: `abort` breaks the barrier: current waiters and every later wait get
/// BrokenBarrierError, and `broken()` is true.
#[test]
fn bar5_abort_breaks_current_and_later_waits() {
    let b = Arc::new(Barrier::new(3));
    let a = spawn_waiter(&b, |b| b.wait());
    let c = spawn_waiter(&b, |b| b.wait_timeout(DEADLINE * 6));
    assert!(!b.broken());
    b.abort();
    assert_eq!(join_within(a), Err(BrokenBarrierError));
    assert_eq!(join_within(c), Err(BrokenBarrierError));
    assert!(b.broken());
    assert_eq!(b.wait(), Err(BrokenBarrierError));
    let start = Instant::now();
    assert_eq!(b.wait_timeout(DEADLINE), Err(BrokenBarrierError));
    assert!(
        start.elapsed() < AT_ONCE,
        "a wait on a broken barrier blocked"
    );
    assert_eq!(b.wait_timeout(Duration::ZERO), Err(BrokenBarrierError));
    assert_eq!(b.n_waiting(), 0);
    assert!(b.broken());
}

/// BAR-5: one of the threads aborts instead of waiting; the other N-1 get BrokenBarrierError.
#[test]
fn bar5_abort_by_a_party() {
    const N: usize = 5;
    let b = Arc::new(Barrier::new(N));
    let handles: Vec<_> = (0..N - 1)
        .map(|_| {
            let b = Arc::clone(&b);
            thread::spawn(move || b.wait())
        })
        .collect();
    poll_until("N-1 waiters", || b.n_waiting() == N - 1);
    b.abort();
    for h in handles {
        assert_eq!(join_within(h), Err(BrokenBarrierError));
    }
    assert!(b.broken());
}

/// BAR-5: an action may abort the barrier (it runs without the internal lock): every waiter of
/// that round, the one that ran the action included, gets BrokenBarrierError.
#[test]
fn bar5_abort_from_the_action() {
    let slot: Arc<OnceLock<Weak<Barrier>>> = Arc::new(OnceLock::new());
    let b = {
        let slot = Arc::clone(&slot);
        Arc::new(
            Barrier::builder(2)
                .action(move || slot.get().unwrap().upgrade().unwrap().abort())
                .build()
                .unwrap(),
        )
    };
    slot.set(Arc::downgrade(&b)).unwrap();
    let a = spawn_waiter(&b, |b| b.wait());
    assert_eq!(b.wait(), Err(BrokenBarrierError));
    assert_eq!(join_within(a), Err(BrokenBarrierError));
    assert!(b.broken());
}

/// BAR-6: `reset` while threads wait makes them fail with BrokenBarrierError; the barrier is
/// then usable (not broken) and all N threads pass the next wait.
#[test]
fn bar6_reset_while_waiting() {
    const N: usize = 3;
    let b = Arc::new(Barrier::new(N));
    let handles: Vec<_> = (0..N - 1)
        .map(|_| spawn_waiter(&b, |b| (b.wait(), b.wait())))
        .collect();
    b.reset();
    assert!(!b.broken());
    // Both fail, then wait again in the fresh round.
    poll_until("the reset waiters to wait again", || b.n_waiting() == N - 1);
    assert!(!b.broken());
    assert_eq!(b.wait(), Ok(N - 1));
    for h in handles {
        let (first, second) = join_within(h);
        assert_eq!(first, Err(BrokenBarrierError));
        let second = second.expect("the round after reset() broke");
        assert!(second < N - 1);
    }
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.broken());
}

/// BAR-7: an aborted barrier can be reset and then works normally; `reset` without waiters
/// returns it to its initial state.
#[test]
fn bar7_abort_then_reset_works_again() {
    let b = Arc::new(Barrier::new(3));
    b.abort();
    assert!(b.broken());
    b.reset();
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
    lockstep(&b, 3);

    // Broken with waiters, then reset after they left.
    let a = spawn_waiter(&b, |b| b.wait());
    b.abort();
    assert_eq!(join_within(a), Err(BrokenBarrierError));
    assert!(b.broken());
    b.reset();
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
    lockstep(&b, 3);

    // reset() on a fresh barrier changes nothing.
    b.reset();
    assert!(!b.broken());
    lockstep(&b, 1);
}

/// BAR-8: a waiter whose timeout passes breaks the barrier; every waiter fails, including one
/// without a timeout and one with a long timeout.
#[test]
fn bar8_timeout_breaks_the_barrier_for_all() {
    let b = Arc::new(Barrier::new(4));
    let untimed = spawn_waiter(&b, |b| b.wait());
    let long = spawn_waiter(&b, |b| {
        let start = Instant::now();
        (b.wait_timeout(Duration::from_secs(60)), start.elapsed())
    });
    let start = Instant::now();
    assert_eq!(b.wait_timeout(T), Err(BrokenBarrierError));
    assert_timeout(start.elapsed(), T);
    assert!(b.broken());
    assert_eq!(join_within(untimed), Err(BrokenBarrierError));
    let (result, elapsed) = join_within(long);
    assert_eq!(result, Err(BrokenBarrierError));
    assert!(
        elapsed < DEADLINE,
        "the long waiter ran into its own timeout"
    );
    assert_eq!(b.n_waiting(), 0);
}

/// BAR-4, BAR-8: once every party has arrived, the round is complete: a waiter whose timeout
/// passes while the last arriver is still running the action does not break the barrier, and
/// every thread passes (CPython runs the action under the barrier's lock, so the waiter's
/// `wait_for` re-checks the state only after the action and sees the round released).
#[test]
fn bar8_timeout_during_the_action_does_not_break_a_full_round() {
    // The waiter's timeout: long enough that the last party surely arrives before it passes.
    const WAITER_TIMEOUT: Duration = Duration::from_secs(1);
    let waiter_start: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let b = {
        let waiter_start = Arc::clone(&waiter_start);
        Arc::new(
            Barrier::builder(2)
                .action(move || {
                    // A slow action: outlasts the other party's timeout.
                    let deadline = *waiter_start.get().unwrap() + WAITER_TIMEOUT + T * 3;
                    while Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(5));
                    }
                })
                .build()
                .unwrap(),
        )
    };
    let a = {
        let waiter_start = Arc::clone(&waiter_start);
        spawn_waiter(&b, move |b| {
            waiter_start.set(Instant::now()).unwrap();
            b.wait_timeout(WAITER_TIMEOUT)
        })
    };
    assert_eq!(b.wait(), Ok(1), "the round broke while its action ran");
    assert_eq!(join_within(a), Ok(0));
    assert!(!b.broken());
}

/// BAR-8: waiters with timeouts (long, short): both get BrokenBarrierError when the short one
/// expires, the timed-out one after about its timeout.
#[test]
fn bar8_two_timed_waiters() {
    let b = Arc::new(Barrier::new(3));
    let long = spawn_waiter(&b, |b| {
        let start = Instant::now();
        (b.wait_timeout(Duration::from_secs(60)), start.elapsed())
    });
    let short = {
        let b = Arc::clone(&b);
        thread::spawn(move || {
            let start = Instant::now();
            (b.wait_timeout(T), start.elapsed())
        })
    };
    let (result, elapsed) = join_within(short);
    assert_eq!(result, Err(BrokenBarrierError));
    assert_timeout(elapsed, T);
    let (result, elapsed) = join_within(long);
    assert_eq!(result, Err(BrokenBarrierError));
    assert!(
        elapsed < DEADLINE,
        "the long waiter ran into its own timeout"
    );
    assert!(b.broken());
}

/// BAR-9: the builder's timeout is the default for `wait()`; a per-call timeout overrides it.
#[test]
fn bar9_builder_timeout_is_the_default() {
    assert_eq!(Barrier::new(2).timeout(), None);

    let b = Barrier::builder(2).timeout(T).build().unwrap();
    assert_eq!(b.timeout(), Some(T));
    let start = Instant::now();
    assert_eq!(b.wait(), Err(BrokenBarrierError));
    assert_timeout(start.elapsed(), T);
    assert!(b.broken());

    // A shorter per-call timeout wins over a long default.
    let b = Barrier::builder(2)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(b.wait_timeout(T), Err(BrokenBarrierError));
    assert_timeout(start.elapsed(), T);

    // A longer per-call timeout wins over a short default.
    let b = Arc::new(Barrier::builder(2).timeout(T).build().unwrap());
    let a = spawn_waiter(&b, |b| b.wait_timeout(Duration::from_secs(60)));
    thread::sleep(T * 3); // let the default timeout pass, had it been applied
    assert!(!b.broken(), "the default timeout overrode wait_timeout's");
    assert_eq!(b.wait_timeout(Duration::from_secs(60)), Ok(1));
    assert_eq!(join_within(a), Ok(0));
}

/// BAR-10: `Barrier(1).wait()` returns 0 at once, every time; the action runs each time.
#[test]
fn bar10_single_party() {
    let b = Barrier::new(1);
    for _ in 0..10 {
        assert_eq!(b.wait(), Ok(0));
    }
    assert_eq!(b.wait_timeout(Duration::ZERO), Ok(0));
    let start = Instant::now();
    assert_eq!(b.wait_timeout(DEADLINE), Ok(0));
    assert!(start.elapsed() < AT_ONCE, "took {:?}", start.elapsed());
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.broken());

    let runs = Arc::new(AtomicUsize::new(0));
    let b = {
        let runs = Arc::clone(&runs);
        Barrier::builder(1)
            .action(move || {
                runs.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    for round in 1..=10 {
        assert_eq!(b.wait(), Ok(0));
        assert_eq!(runs.load(Ordering::SeqCst), round);
    }
}

/// BAR-11: `n_waiting` counts the threads blocked in the filling round (2 of 3), and is 0 once
/// the barrier is broken; `parties` is the constructor value; Debug shows the state.
#[test]
fn bar11_n_waiting_parties_and_debug() {
    let b = Arc::new(Barrier::new(3));
    assert_eq!(b.parties(), 3);
    assert_eq!(b.n_waiting(), 0);
    let first = spawn_waiter(&b, |b| b.wait());
    assert_eq!(b.n_waiting(), 1);
    let second = spawn_waiter(&b, |b| b.wait());
    assert_eq!(b.n_waiting(), 2);
    let s = format!("{b:?}");
    assert!(
        s.contains("parties: 3") && s.contains("n_waiting: 2"),
        "{s}"
    );
    assert!(s.contains("broken: false"), "{s}");

    b.abort();
    assert_eq!(b.n_waiting(), 0);
    assert_eq!(join_within(first), Err(BrokenBarrierError));
    assert_eq!(join_within(second), Err(BrokenBarrierError));
    assert_eq!(b.n_waiting(), 0);
    let s = format!("{b:?}");
    assert!(
        s.contains("n_waiting: 0") && s.contains("broken: true"),
        "{s}"
    );
    assert_eq!(b.parties(), 3);

    b.reset();
    lockstep(&b, 1);
    assert_eq!(b.n_waiting(), 0);
    assert_eq!(b.parties(), 3);
}

/// BAR-12: a panicking action: the thread that ran it panics with the action's payload, the
/// others get BrokenBarrierError and the barrier is broken (until reset).
#[test]
fn bar12_panicking_action_breaks_the_barrier() {
    let fail = Arc::new(AtomicBool::new(true));
    let runs = Arc::new(AtomicUsize::new(0));
    let b = {
        let (fail, runs) = (Arc::clone(&fail), Arc::clone(&runs));
        Arc::new(
            Barrier::builder(3)
                .action(move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    if fail.load(Ordering::SeqCst) {
                        panic!("the action failed");
                    }
                })
                .build()
                .unwrap(),
        )
    };
    let a = spawn_waiter(&b, |b| b.wait());
    let c = spawn_waiter(&b, |b| b.wait());
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| b.wait()));
    let payload = outcome.expect_err("the last arriver's wait did not panic");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the action failed"));
    assert_eq!(join_within(a), Err(BrokenBarrierError));
    assert_eq!(join_within(c), Err(BrokenBarrierError));
    assert!(b.broken());
    assert_eq!(b.n_waiting(), 0);
    assert_eq!(b.wait(), Err(BrokenBarrierError));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // After reset, with the action no longer failing, rounds pass again.
    fail.store(false, Ordering::SeqCst);
    b.reset();
    assert!(!b.broken());
    lockstep(&b, 2);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

/// BAR-13: `wait_timeout(ZERO)` by a thread that is not last breaks the barrier at once.
#[test]
fn bar13_zero_timeout_breaks_at_once() {
    let b = Arc::new(Barrier::new(3));
    let a = spawn_waiter(&b, |b| b.wait());
    let start = Instant::now();
    assert_eq!(b.wait_timeout(Duration::ZERO), Err(BrokenBarrierError));
    assert!(start.elapsed() < AT_ONCE, "took {:?}", start.elapsed());
    assert!(b.broken());
    assert_eq!(join_within(a), Err(BrokenBarrierError));

    // Alone, too.
    let b = Barrier::new(2);
    let start = Instant::now();
    assert_eq!(b.wait_timeout(Duration::ZERO), Err(BrokenBarrierError));
    assert!(start.elapsed() < AT_ONCE, "took {:?}", start.elapsed());
    assert!(b.broken());

    // The last arriver with a zero timeout just completes the round.
    let b = Arc::new(Barrier::new(2));
    let a = spawn_waiter(&b, |b| b.wait());
    assert_eq!(b.wait_timeout(Duration::ZERO), Ok(1));
    assert_eq!(join_within(a), Ok(0));
    assert!(!b.broken());
}

/// BAR-15: BrokenBarrierError converts into RuntimeError (it subclasses it in Python), so `?`
/// works in a function returning RuntimeError; it is a std error with a message.
#[test]
fn bar15_broken_barrier_error_is_a_runtime_error() {
    fn pass(b: &Barrier) -> Result<usize, RuntimeError> {
        Ok(b.wait()?)
    }
    let b = Barrier::new(2);
    b.abort();
    let err: RuntimeError = pass(&b).unwrap_err();
    assert!(!err.message().is_empty());
    assert_eq!(err, RuntimeError::from(BrokenBarrierError));
    assert!(
        BrokenBarrierError
            .to_string()
            .contains("BrokenBarrierError")
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(BrokenBarrierError);
    assert!(boxed.to_string().contains("broken"));
    assert_eq!(pass(&Barrier::new(1)), Ok(0));
}
