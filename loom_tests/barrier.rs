//! Models of `Barrier`: generations, abort and reset.

use crate::check_bounded;
use gilfree::__loom::threading::Barrier;
use gilfree::__loom::{model, model_with_timeouts};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::time::Duration;

const ROUNDS: usize = 2;

/// One party: for each round, counts itself in, waits, then checks that everyone was counted
/// in before anyone got out (BAR-2) and claims its index, which nobody else may hold in the
/// same round (BAR-3).
fn party(barrier: &Barrier, arrived: &[AtomicUsize; ROUNDS], indices: &[AtomicUsize; ROUNDS]) {
    for round in 0..ROUNDS {
        arrived[round].fetch_add(1, Ordering::Relaxed);
        let index = barrier.wait().expect("nobody breaks this barrier");
        assert!(index < barrier.parties());
        assert_eq!(
            arrived[round].load(Ordering::Relaxed),
            barrier.parties(),
            "BAR-2: out of round {round} before everyone arrived"
        );
        let bit = 1 << index;
        let before = indices[round].fetch_or(bit, Ordering::Relaxed);
        assert_eq!(
            before & bit,
            0,
            "BAR-3: index {index} twice in round {round}"
        );
    }
}

/// BAR-2, BAR-3, BAR-14: three parties (the main thread and two others) pass two rounds in
/// lockstep, each round handing out the indices 0, 1 and 2 once; a thread racing ahead into
/// round 2 waits for round 1 to drain.
#[test]
fn three_parties_pass_two_rounds_in_lockstep() {
    check_bounded(2, || {
        let barrier = Arc::new(Barrier::new(3));
        let arrived = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let indices = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let others: Vec<_> = (0..2)
            .map(|_| {
                let (barrier, arrived, indices) = (
                    Arc::clone(&barrier),
                    Arc::clone(&arrived),
                    Arc::clone(&indices),
                );
                thread::spawn(move || party(&barrier, &arrived, &indices))
            })
            .collect();
        party(&barrier, &arrived, &indices);
        for other in others {
            other.join().unwrap();
        }
        for round in indices.iter() {
            assert_eq!(round.load(Ordering::Relaxed), 0b111);
        }
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// BAR-5, BAR-7: `abort()` while a party waits (or before it arrives) breaks the barrier: the
/// waiter gets `BrokenBarrierError`. After `reset()` a full round passes.
#[test]
fn abort_breaks_a_waiter_and_reset_repairs() {
    model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let waiter = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || barrier.wait())
        };
        barrier.abort();
        assert!(
            waiter.join().unwrap().is_err(),
            "BAR-5: the waiter is let out"
        );
        assert!(barrier.broken());
        assert!(barrier.wait().is_err(), "BAR-5: later waits fail at once");
        barrier.reset();
        assert!(!barrier.broken());
        let partner = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || barrier.wait())
        };
        let mine = barrier.wait().expect("BAR-7: works again after reset");
        let theirs = partner.join().unwrap().expect("BAR-7");
        assert_eq!(mine + theirs, 1, "indices 0 and 1");
    });
}

/// BAR-6: `reset()` while a party waits lets it out with `BrokenBarrierError`; the barrier is
/// then usable at once: the same party and the resetting thread pass the next round together,
/// even when the resetting thread arrives before the reset round has drained (BAR-14).
#[test]
fn reset_breaks_a_waiter_then_the_barrier_works() {
    model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let waiter = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                assert!(barrier.wait().is_err(), "BAR-6: reset lets the waiter out");
                barrier.wait().expect("BAR-6: usable after the reset")
            })
        };
        // Reset only once the waiter is counted in: a reset before it arrives would be a no-op.
        while barrier.n_waiting() == 0 {
            thread::yield_now();
        }
        barrier.reset();
        let mine = barrier.wait().expect("BAR-6: usable after the reset");
        let theirs = waiter.join().unwrap();
        assert_eq!(mine + theirs, 1, "indices 0 and 1");
        assert!(!barrier.broken());
    });
}

/// BAR-4, BAR-8, BAR-12's sibling (timeouts fire): a party's `wait_timeout` races the last
/// arrival, whose action runs with the barrier's lock released. The two parties always agree:
/// both pass (the action ran exactly once, before either got out) or both get
/// `BrokenBarrierError` (the timeout broke the barrier, and it stays broken).
#[test]
fn wait_timeout_races_the_last_arrival() {
    model_with_timeouts(|| {
        let actions = Arc::new(AtomicUsize::new(0));
        let barrier = {
            let actions = Arc::clone(&actions);
            Arc::new(
                Barrier::builder(2)
                    .action(move || {
                        actions.fetch_add(1, Ordering::Relaxed);
                    })
                    .build()
                    .unwrap(),
            )
        };
        let timed = {
            let (barrier, actions) = (Arc::clone(&barrier), Arc::clone(&actions));
            thread::spawn(move || {
                let passed = barrier.wait_timeout(Duration::from_secs(1));
                if passed.is_ok() {
                    assert_eq!(
                        actions.load(Ordering::Relaxed),
                        1,
                        "BAR-4: action ran first"
                    );
                }
                passed
            })
        };
        // The last party arrives late: it looks at the barrier first.
        assert!(barrier.n_waiting() <= 1);
        let last = barrier.wait();
        let timed = timed.join().unwrap();
        assert_eq!(last.is_ok(), timed.is_ok(), "{last:?} / {timed:?}");
        match (last, timed) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a + b, 1, "indices 0 and 1");
                assert_eq!(actions.load(Ordering::Relaxed), 1);
                assert!(!barrier.broken());
            }
            _ => {
                assert!(actions.load(Ordering::Relaxed) <= 1);
                assert!(
                    barrier.broken(),
                    "BAR-8: a timeout leaves the barrier broken"
                );
            }
        }
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// ABAR-7: two tasks each join a `Barrier(2)` (polled once by hand) and drop their wait: one
/// may trip the round with the other, or one may leave before the other arrives. Either way
/// the barrier ends unbroken with nobody counted in, and a later round still trips.
#[test]
fn dropped_parties_leave_the_barrier_unbroken_and_empty() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};
    check_bounded(3, || {
        let barrier = Arc::new(Barrier::new(2));
        let parties: Vec<_> = (0..2)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let mut wait = pin!(barrier.wait_async());
                    let _ = wait.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                })
            })
            .collect();
        for party in parties {
            party.join().unwrap();
        }
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// ABAR-7, ABAR-8: a task party is dropped while `reset()` runs: whichever comes first, the
/// barrier ends filling, not broken, and a thread and a task then pass a round (a reset left
/// waiting for the dropped party would deadlock).
#[test]
fn a_party_dropped_during_reset_leaves_the_barrier_usable() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};
    check_bounded(2, || {
        let barrier = Arc::new(Barrier::new(2));
        let dropped = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut wait = pin!(barrier.wait_async());
                let pending = wait
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_pending();
                assert!(pending, "alone in a barrier of two");
            })
        };
        barrier.reset();
        dropped.join().unwrap();
        assert!(!barrier.broken());
        let task = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || gilfree::__loom::block_on(barrier.wait_async()))
        };
        let mine = barrier.wait().unwrap();
        let theirs = task.join().unwrap().unwrap();
        assert_eq!(mine + theirs, 1);
    });
}
