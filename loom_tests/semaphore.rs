//! Models of `Semaphore` and `BoundedSemaphore`.

use crate::{check_bounded, check_with_timeouts};
use gilfree::__loom::model;
use gilfree::__loom::threading::{BoundedSemaphore, Semaphore};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::time::Duration;

/// SEM-2, SEM-4, BSEM-4: a `Semaphore(1)` shared by two blocking acquirers and a
/// `try_acquire`: never two holders at once (counted with an atomic), the value never drops
/// below zero (it is unsigned: an underflow panics in this debug build), and every acquirer
/// gets its turn — a lost wake-up would leave one asleep (deadlock).
#[test]
fn one_permit_is_never_held_twice() {
    check_bounded(3, || {
        let sem = Arc::new(Semaphore::new(1));
        let holders = Arc::new(AtomicUsize::new(0));
        let hold = |holders: &AtomicUsize| {
            assert_eq!(holders.fetch_add(1, Ordering::Relaxed), 0, "two holders");
            holders.fetch_sub(1, Ordering::Relaxed);
        };
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let (sem, holders) = (Arc::clone(&sem), Arc::clone(&holders));
                thread::spawn(move || {
                    let _permit = sem.acquire();
                    hold(&holders);
                })
            })
            .collect();
        if let Some(_permit) = sem.try_acquire() {
            assert_eq!(sem.value(), 0);
            hold(&holders);
        }
        for acquirer in acquirers {
            acquirer.join().unwrap();
        }
        assert_eq!(sem.value(), 1);
    });
}

/// SEM-7, SEM-14: two threads block on an empty semaphore; one `release(2)` from a third
/// thread lets both through (a single wake-up would leave one asleep: deadlock).
#[test]
fn release_of_two_wakes_two_sleepers() {
    check_bounded(3, || {
        let sem = Arc::new(Semaphore::new(0));
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let sem = Arc::clone(&sem);
                thread::spawn(move || sem.acquire().detach())
            })
            .collect();
        sem.release(2).unwrap();
        for acquirer in acquirers {
            acquirer.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
    });
}

/// BSEM-1, BSEM-2, SEM-14: a `BoundedSemaphore(1)` acquired once, then released by two
/// threads at once: exactly one release succeeds, the other is refused without changing the
/// value, which ends at its bound.
#[test]
fn racing_over_releases_of_a_bounded_semaphore_succeed_once() {
    model(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        sem.acquire().detach();
        let other = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.release(1))
        };
        let mine = sem.release(1);
        let theirs = other.join().unwrap();
        assert!(mine.is_ok() != theirs.is_ok(), "{mine:?} / {theirs:?}");
        let err = mine.err().or(theirs.err()).unwrap();
        assert_eq!(err.message(), "Semaphore released too many times");
        assert_eq!(sem.value(), 1);
    });
}

/// SEM-10 (timeouts fire): a timed acquirer and an untimed one wait on an empty semaphore; a
/// single permit is released. The timed acquirer either takes it (and gives it back when its
/// guard drops) or times out, and timing out never swallows the wake-up the untimed acquirer
/// needs (that would be a deadlock). The untimed acquirer ends holding the only permit.
#[test]
fn timed_acquire_races_release() {
    check_with_timeouts(4, || {
        let sem = Arc::new(Semaphore::new(0));
        let timed = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire_timeout(Duration::from_secs(1)).is_some())
        };
        let untimed = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().detach())
        };
        sem.release(1).unwrap();
        timed.join().unwrap();
        untimed.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

/// ASEM-2, ASEM-8: a task awaiting `acquire_async` and a thread blocked in `acquire` on one
/// empty semaphore (one waiter list); two releases of one permit each, the second possibly
/// before the first woken waiter runs: both get through (a lost wake-up is a deadlock).
#[test]
fn a_thread_and_a_task_wait_on_one_semaphore() {
    check_bounded(2, || {
        let sem = Arc::new(Semaphore::new(0));
        let task = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || {
                gilfree::__loom::block_on(async { sem.acquire_async().await.detach() })
            })
        };
        let blocked = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().detach())
        };
        sem.release(1).unwrap();
        sem.release(1).unwrap();
        task.join().unwrap();
        blocked.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

/// ASEM-6, ASEM-7: a task's `acquire_async` is dropped while queued, possibly after the release
/// woke it and before it ran. No permit is lost: the wake-up passes to the thread queued behind
/// it, which gets the permit (otherwise loom reports a deadlock).
#[test]
fn a_dropped_woken_acquire_passes_its_wake_up_on() {
    use loom::sync::atomic::AtomicBool;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};
    check_bounded(3, || {
        let sem = Arc::new(Semaphore::new(0));
        let queued = Arc::new(AtomicBool::new(false));
        let task = {
            let (sem, queued) = (Arc::clone(&sem), Arc::clone(&queued));
            thread::spawn(move || {
                let mut acquire = pin!(sem.acquire_async());
                // Ready only if the release came first; its guard gives the permit back.
                let _ = acquire
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
                queued.store(true, Ordering::Release);
                thread::yield_now();
            })
        };
        let blocked = {
            let (sem, queued) = (Arc::clone(&sem), Arc::clone(&queued));
            thread::spawn(move || {
                while !queued.load(Ordering::Acquire) {
                    thread::yield_now();
                }
                sem.acquire().detach(); // queued behind the task
            })
        };
        sem.release(1).unwrap();
        task.join().unwrap();
        blocked.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}
