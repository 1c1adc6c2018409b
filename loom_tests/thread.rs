//! Models of `Thread`: the value hand-off through `join`, and `join_timeout` racing the
//! thread's completion.

use crate::{check_bounded, check_with_timeouts};
use gilfree::__loom::model;
use gilfree::__loom::threading::{self, Thread};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// THR-4, THR-10, THR-11: the value comes back from `join`; once joined, the thread is dead
/// and unlisted, whatever the interleaving of its end with the caller's checks.
#[test]
fn join_returns_the_value_and_the_thread_is_gone() {
    model(|| {
        let t = Thread::spawn(|| 42_u32);
        let handle = t.handle().clone();
        assert_eq!(t.join().unwrap(), 42);
        assert!(!handle.is_alive());
        assert!(!threading::enumerate().contains(&handle));
    });
}

/// THR-8: `join_timeout` racing the end of the thread, with the timeout able to fire at every
/// point: `Ok(true)` only once the function's effects are visible and the thread is dead;
/// `Ok(false)` leaves it joinable.
#[test]
fn join_timeout_races_completion() {
    check_with_timeouts(3, || {
        let done = Arc::new(AtomicBool::new(false));
        let t = {
            let done = Arc::clone(&done);
            Thread::spawn(move || done.store(true, Ordering::Relaxed))
        };
        if t.join_timeout(Duration::from_millis(5)).unwrap() {
            assert!(done.load(Ordering::Relaxed), "finished before its effect");
            assert!(!t.is_alive());
        }
        t.join().unwrap();
        assert!(done.load(Ordering::Relaxed));
    });
}

/// THR-9: two joiners of one thread both return (no lost wake-up between the finishing
/// thread's notify and a joiner's sleep). Three threads: bounded to two preemptions.
#[test]
fn two_joiners_both_return() {
    check_bounded(2, || {
        let t = Thread::spawn(|| ());
        let handle = t.handle().clone();
        let other = Thread::spawn(move || handle.join().unwrap());
        t.handle().join().unwrap();
        other.join().unwrap();
        t.join().unwrap();
    });
}

/// Issue 14, item 11 (THR-6, THR-10): a spawn that fails (a stack no process can map) racing a
/// thread that lists the threads and a `join_non_daemon_threads` caller. Whenever the lister
/// catches the doomed entry, the handle is not alive once the spawn has failed, and its join
/// and `native_id()` return; the joiner of every non-daemon thread returns too (loom reports a
/// deadlock otherwise).
#[test]
fn a_failed_spawn_releases_whoever_saw_it() {
    check_bounded(2, || {
        let lister = Thread::builder()
            .daemon(true)
            .spawn(|| {
                threading::enumerate()
                    .into_iter()
                    .filter(|t| t.name() == "refused")
                    .collect::<Vec<_>>()
            })
            .unwrap();
        let joiner = Thread::builder()
            .daemon(true)
            .spawn(threading::join_non_daemon_threads)
            .unwrap();
        let spawned = Thread::builder()
            .name("refused")
            .daemon(false)
            .stack_size(1 << 48)
            .spawn(|| ());
        assert!(spawned.is_err());
        for seen in lister.join().unwrap() {
            assert!(!seen.is_alive());
            let err = seen.join().unwrap_err();
            assert_eq!(err.message(), "cannot join thread before it is started");
            assert_eq!(seen.native_id(), 0);
        }
        assert!(joiner.join().unwrap() <= 1);
    });
}

/// Issue 14, item 12: two non-daemon threads in `join_non_daemon_threads` at once, under every
/// interleaving of their entries: both return (loom reports the cycle as a deadlock otherwise).
#[test]
fn join_non_daemon_threads_callers_skip_each_other() {
    check_bounded(2, || {
        let callers: Vec<Thread<usize>> = (0..2)
            .map(|_| {
                Thread::builder()
                    .daemon(false)
                    .spawn(threading::join_non_daemon_threads)
                    .unwrap()
            })
            .collect();
        for caller in callers {
            assert!(caller.join().unwrap() <= 1);
        }
    });
}

/// Issue 15: the wait of `join_at_exit()` racing a non-daemon thread that submits to a live
/// pool: threads are joined before the pools are shut down, so the late task is accepted and
/// has run when the wait returns, under every interleaving.
#[test]
fn join_at_exit_joins_threads_before_the_pools() {
    use gilfree::__loom::futures::ThreadPoolExecutor;
    check_bounded(2, || {
        let pool = Arc::new(ThreadPoolExecutor::new(1));
        let ran = Arc::new(AtomicBool::new(false));
        let _late = {
            let (pool, ran) = (Arc::clone(&pool), Arc::clone(&ran));
            Thread::builder()
                .daemon(false)
                .spawn(move || {
                    let _ = pool.submit(move || ran.store(true, Ordering::Relaxed));
                })
                .unwrap()
        };
        let (threads, pools) = threading::join_at_exit().wait();
        assert!(threads <= 1 && pools == 1);
        assert!(ran.load(Ordering::Relaxed), "an accepted task did not run");
    });
}

/// Thread join, async: `join_async` (on the `Thread`, and on a handle) racing the end of the
/// thread: it returns the value once the thread's effects are visible and it is dead, whether
/// the task queued before the end or found it already past.
#[test]
fn join_async_races_the_end_of_the_thread() {
    check_bounded(3, || {
        let done = Arc::new(AtomicBool::new(false));
        let t = {
            let done = Arc::clone(&done);
            Thread::spawn(move || {
                done.store(true, Ordering::Relaxed);
                7_u32
            })
        };
        let handle = t.handle().clone();
        gilfree::__loom::block_on(async {
            handle.join_async().await.unwrap();
            assert!(done.load(Ordering::Relaxed), "joined before its effect");
            assert!(!handle.is_alive());
            assert_eq!(t.join_async().await.unwrap(), 7);
        });
    });
}
