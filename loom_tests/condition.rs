//! Models of `Condition`: notify versus wait, re-entrant locks, and notify versus timeout.

use crate::{check_bounded, check_with_timeouts};
use gilfree::__loom::model;
use gilfree::__loom::threading::{Condition, Lock};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use std::time::Duration;

/// A waiter for a flag kept under the condition's lock; returns after `wait_for` does.
fn spawn_flag_waiter(cond: &Arc<Condition<Lock<bool>>>) -> thread::JoinHandle<()> {
    let cond = Arc::clone(cond);
    thread::spawn(move || {
        let mut guard = cond.acquire();
        assert!(guard.wait_for(|ready| *ready));
        assert!(
            *guard,
            "COND-7: wait_for returns holding the lock, flag set"
        );
    })
}

/// COND-7, COND-9: a waiter checks a flag and sleeps; the notifier sets the flag and calls
/// `notify_one` under the lock. Whichever comes first, the waiter returns: a notify that found
/// the waiter between its check and its sleep would be lost, and loom would report a deadlock.
#[test]
fn notify_one_is_never_lost() {
    model(|| {
        let cond = Arc::new(Condition::with_value(false));
        let waiter = spawn_flag_waiter(&cond);
        {
            let mut guard = cond.acquire();
            *guard = true;
            guard.notify_one();
        }
        waiter.join().unwrap();
        assert_eq!(cond.n_waiting(), 0);
        assert!(!cond.lock().locked());
    });
}

/// COND-5, COND-9: `notify_all` wakes both waiters, whenever each of them went to sleep.
#[test]
fn notify_all_wakes_every_waiter() {
    check_bounded(4, || {
        let cond = Arc::new(Condition::with_value(false));
        let waiters = [spawn_flag_waiter(&cond), spawn_flag_waiter(&cond)];
        {
            let mut guard = cond.acquire();
            *guard = true;
            guard.notify_all();
        }
        for waiter in waiters {
            waiter.join().unwrap();
        }
        assert_eq!(cond.n_waiting(), 0);
    });
}

/// COND-1, COND-8: the waiter holds the default (re-entrant) lock twice; `wait` releases both
/// levels, so the notifier can acquire it (otherwise: deadlock), and restores both before
/// returning.
#[test]
fn wait_releases_every_level_of_an_rlock() {
    model(|| {
        let cond = Arc::new(Condition::new());
        let ready = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (cond, ready) = (Arc::clone(&cond), Arc::clone(&ready));
            thread::spawn(move || {
                let _outer = cond.acquire();
                let mut inner = cond.acquire();
                assert_eq!(cond.lock().recursion_count(), 2);
                assert!(inner.wait_for(|_| ready.load(Ordering::Relaxed)));
                assert!(cond.lock().is_owned());
                assert_eq!(cond.lock().recursion_count(), 2);
            })
        };
        {
            let guard = cond.acquire();
            assert_eq!(cond.lock().recursion_count(), 1);
            ready.store(true, Ordering::Relaxed);
            guard.notify_one();
        }
        waiter.join().unwrap();
        assert!(!cond.lock().locked());
        assert_eq!(cond.n_waiting(), 0);
    });
}

/// COND-6, COND-7, COND-13 (timeouts fire): a timed waiter, queued before or after an untimed
/// one, races a single `notify_one`. If the timed waiter reports a notify, the notify had been
/// issued; it returns holding the lock either way. A timed waiter that reports a timeout never
/// took the notify: the untimed waiter must then get it (or see the flag) — if the notify were
/// swallowed, the untimed waiter would sleep for ever. Only when the timed waiter did take it
/// does the notifier send a second one.
#[test]
fn wait_timeout_races_notify_one() {
    check_with_timeouts(3, || {
        let cond = Arc::new(Condition::with_value(false));
        let timed = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                let mut guard = cond.acquire();
                let woke = guard.wait_timeout(Duration::from_secs(1));
                assert!(cond.lock().locked(), "COND-7: returns holding the lock");
                if woke {
                    assert!(*guard, "woken by a notify that was never issued");
                }
                woke
            })
        };
        let untimed = spawn_flag_waiter(&cond);
        {
            let mut guard = cond.acquire();
            *guard = true;
            guard.notify_one();
        }
        if timed.join().unwrap() {
            cond.acquire().notify_one();
        }
        untimed.join().unwrap();
        assert_eq!(cond.n_waiting(), 0);
        assert!(!cond.lock().locked());
    });
}

/// COND-5, COND-6 (timeouts fire): two timed waiters and one `notify_one`: at most one of them
/// reports a notify, whatever the timing; both return holding the lock, and both leave the
/// queue.
#[test]
fn one_notify_wakes_at_most_one_timed_waiter() {
    check_with_timeouts(3, || {
        let cond = Arc::new(Condition::with_value(false));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let cond = Arc::clone(&cond);
                thread::spawn(move || {
                    let mut guard = cond.acquire();
                    let woke = guard.wait_timeout(Duration::from_secs(1));
                    assert!(cond.lock().locked());
                    assert!(!woke || *guard, "woken by a notify that was never issued");
                    woke
                })
            })
            .collect();
        {
            let mut guard = cond.acquire();
            *guard = true;
            guard.notify_one();
        }
        let woken = waiters
            .into_iter()
            .map(|w| w.join().unwrap())
            .filter(|&woke| woke)
            .count();
        assert!(woken <= 1, "one notify_one woke {woken} waiters");
        assert_eq!(cond.n_waiting(), 0);
    });
}

/// ACOND-3, ACOND-4: a task (`wait_for_async`) and a thread (`wait_for`) wait on one
/// condition, each for the other's flag, each setting its own flag and calling `notify_one`
/// before it waits. Both return: a notify that found either waiter between its check and its
/// queueing (the thread's blocking wait or the task's) would be lost, and loom would report a
/// deadlock.
#[test]
fn a_task_and_a_thread_wait_with_notify_one() {
    check_bounded(3, || {
        let cond = Arc::new(Condition::with_value((false, false))); // (task's, thread's)
        let task = {
            let cond = Arc::clone(&cond);
            thread::spawn(move || {
                gilfree::__loom::block_on(async {
                    let mut flags = cond.acquire_async().await;
                    flags.0 = true;
                    flags.notify_one();
                    let flags = flags.wait_for_async(|f| f.1).await;
                    assert!(flags.1);
                })
            })
        };
        {
            let mut flags = cond.acquire();
            flags.1 = true;
            flags.notify_one();
            assert!(flags.wait_for(|f| f.0));
        }
        task.join().unwrap();
        assert_eq!(cond.n_waiting(), 0);
        assert!(!cond.lock().locked());
    });
}

/// ACOND-8: a task's `wait_async`, queued first, is notified and dropped before it is polled
/// again; the notification passes to the thread queued behind it, which returns (otherwise
/// loom reports a deadlock). If the thread queues after the notify, it sees the flag. The
/// dropped wait leaves the lock released.
#[test]
fn a_dropped_notified_wait_async_forwards_to_a_thread() {
    use std::future::Future;
    use std::task::{Context, Waker};
    check_bounded(3, || {
        let cond = Arc::new(Condition::with_value(false));
        // Boxed, so that `drop(wait)` drops the future itself.
        let mut wait = Box::pin(cond.acquire().wait_async());
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        let waiter = spawn_flag_waiter(&cond);
        {
            let mut flag = cond.acquire();
            *flag = true;
            flag.notify_one(); // the task, the oldest waiter
        }
        drop(wait);
        waiter.join().unwrap();
        assert_eq!(cond.n_waiting(), 0);
        assert!(!cond.lock().locked());
    });
}
