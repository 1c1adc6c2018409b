//! The async twins of `Semaphore`/`BoundedSemaphore` (`acquire_async`), `Event` (`wait_async`)
//! and `Barrier` (`wait_async`), with threads blocked in the blocking forms queued in the same
//! waiter lists. Tasks run on tokio's multi-thread runtime and on `futures::executor`
//! (`block_on`, `ThreadPool`); "queued" is known by polling a future by hand once, or by
//! polling the primitive's Debug output / `n_waiting` until it shows the waiter.
//!
//! IDs from ASYNC_SEMANTICS.md §2, §4, §5. Not ported, and why (§9: a thread-safe,
//! runtime-agnostic library):
//! * ASEM-3, ASEM-4: no hand-off. A release raises the value at once and wakes the oldest
//!   waiter; a newcomer (thread or task) may take the permit before the woken waiter runs, as
//!   in `threading`; the woken waiter keeps its place at the head. `value()` follows the count;
//!   there is no `locked()`. Reserving would make every contended release wait for the woken
//!   thread to be scheduled.
//! * ASEM-11 [BUG]: without reservation there is nothing reserved to miscount: the bound check
//!   reads the value, which already holds every released permit, so an extra release while a
//!   woken waiter has not run yet is refused (see `asem10_…`).
//! * ASEM-12: history only. ASEM-1: a negative value does not compile (`usize`).
//! * ASEM-9 [PY], AEVT-6 [PY], ABAR-13 [PY]: repr formats, `await prim` TypeError, `loop=`.
//!   `wait_async()` returns `()` (it can only return once released), not True.
//! * ABAR-4, ABAR-9 [IMPL]: there is no DRAINING phase: the last arrival closes the round, and
//!   a party released by a completed round returns its index even if `reset()`/`abort()` comes
//!   before it runs (ABAR-10's "released tasks that haven't resumed" likewise keep their index).
//! * ABAR-11: one `BrokenBarrierError` for threads and tasks. ABAR-12 [API]: `reset`/`abort`
//!   are plain methods; `action` and the builder's timeout are threading's (the default
//!   timeout does not apply to tasks).
//! * ABAR-7 vs threading: a dropped task party withdraws without breaking the barrier
//!   (asyncio), a thread whose timeout passes breaks it (threading); both are tested here.

mod common;

use common::task::*;
use common::{join_within, poll_until, with_watchdog};
use futures::executor::{ThreadPool, block_on};
use gilfree::{Barrier, BoundedSemaphore, BrokenBarrierError, Event, Semaphore};
use std::fmt::Debug;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

/// Whether `x`'s Debug output shows `n` waiters (threads and tasks).
fn waiting(x: &impl Debug, n: usize) -> bool {
    format!("{x:?}").contains(&format!("waiting: {n} }}"))
}

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

// ---------------------------------------------------------------------------------------------
// Semaphore / BoundedSemaphore
// ---------------------------------------------------------------------------------------------

/// ASEM-2, ASEM-9: `acquire_async` takes a free permit at once, waits for a release when there
/// is none, and returns the same guard as `acquire` (the permit comes back on drop).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asem2_acquire_async_takes_a_permit_or_waits_for_a_release() {
    let sem = Arc::new(Semaphore::new(1));
    let first: gilfree::SemaphoreGuard<'_> = sem.acquire_async().await;
    assert_eq!(sem.value(), 0);
    let task = {
        let sem = Arc::clone(&sem);
        tokio::spawn(async move {
            sem.acquire_async().await.detach();
        })
    };
    poll_until("the task to queue", || waiting(&*sem, 1));
    assert!(!task.is_finished());
    drop(first);
    task.await.unwrap();
    assert_eq!(sem.value(), 0);
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 1);
}

/// Puts threads and tasks in the queue of `Semaphore(0)` alternately (T0, A1, T2, A3), then
/// releases one permit at a time: they get it in that order.
fn fifo_across_threads_and_tasks(spawn: impl Fn(Job)) {
    let sem = Arc::new(Semaphore::new(0));
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for i in 0..4 {
        let (sem2, order2) = (Arc::clone(&sem), Arc::clone(&order));
        if i % 2 == 0 {
            threads.push(thread::spawn(move || {
                sem2.acquire().detach();
                order2.lock().unwrap().push(i);
            }));
        } else {
            spawn(Box::pin(async move {
                sem2.acquire_async().await.detach();
                order2.lock().unwrap().push(i);
            }));
        }
        poll_until("the waiter to queue", || waiting(&*sem, i + 1));
    }
    for n in 1..=4 {
        sem.release(1).unwrap();
        poll_until("the next waiter to get the permit", || {
            order.lock().unwrap().len() == n
        });
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    for t in threads {
        join_within(t);
    }
}

/// ASEM-2, §9 fairness: threads and tasks are woken in the order they queued (tokio).
#[test]
fn asem_fifo_order_across_threads_and_tasks_on_tokio() {
    with_watchdog(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        fifo_across_threads_and_tasks(|job| drop(rt.spawn(job)));
    });
}

/// ASEM-2, §9 fairness: the same on `futures::executor::ThreadPool`.
#[test]
fn asem_fifo_order_across_threads_and_tasks_on_a_thread_pool() {
    with_watchdog(|| {
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        fifo_across_threads_and_tasks(|job| pool.spawn_ok(job));
    });
}

/// ASEM-5, ASEM-6: an `acquire_async` dropped while queued takes no permit and leaves the
/// list; the next release goes to the waiter behind it.
#[test]
fn asem5_6_a_waiter_dropped_before_a_release_takes_no_permit() {
    let sem = Semaphore::new(0);
    let (fa, wa) = flag();
    let (fb, wb) = flag();
    let mut b = pin!(sem.acquire_async());
    {
        let mut a = pin!(sem.acquire_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        assert!(poll_once(b.as_mut(), &wb).is_pending());
        assert!(waiting(&sem, 2));
    }
    assert!(waiting(&sem, 1), "{sem:?}");
    assert_eq!(sem.value(), 0);
    sem.release(1).unwrap();
    assert!(!woken(&fa));
    assert!(woken(&fb), "the release went to the waiter left");
    let Poll::Ready(guard) = poll_once(b.as_mut(), &wb) else {
        panic!("b was woken for a permit and did not get it");
    };
    assert_eq!(sem.value(), 0);
    drop(guard);
    assert_eq!(sem.value(), 1);
}

/// ASEM-7: a task woken by a release and dropped before it runs passes the wake-up on: the
/// thread queued behind it gets the permit (without the pass-on it would sleep with the permit
/// free: `join_within` fails). The value is as the release left it.
#[test]
fn asem7_woken_then_dropped_passes_the_wake_up_to_a_thread() {
    with_watchdog(|| {
        let sem = Arc::new(Semaphore::new(0));
        let (fa, wa) = flag();
        let mut a = Box::pin(sem.acquire_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let t = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().detach())
        };
        poll_until("the thread to queue", || waiting(&*sem, 2));
        sem.release(1).unwrap();
        poll_until("the task to be woken", || woken(&fa));
        assert_eq!(
            sem.value(),
            1,
            "no permit reserved, none taken by the woken task"
        );
        drop(a);
        join_within(t);
        assert_eq!(sem.value(), 0);
        assert!(waiting(&*sem, 0));
    });
}

/// ASEM-7: the same between two tasks, by hand: the wake-up lands on the second task.
#[test]
fn asem7_woken_then_dropped_passes_the_wake_up_to_a_task() {
    let sem = Semaphore::new(0);
    let (fa, wa) = flag();
    let (fb, wb) = flag();
    let mut a = Box::pin(sem.acquire_async());
    let mut b = pin!(sem.acquire_async());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    assert!(poll_once(b.as_mut(), &wb).is_pending());
    sem.release(1).unwrap();
    assert!(woken(&fa) && !woken(&fb));
    drop(a);
    assert!(woken(&fb), "the dropped task's wake-up was not passed on");
    let Poll::Ready(guard) = poll_once(b.as_mut(), &wb) else {
        panic!("b was handed the wake-up and did not get the permit")
    };
    assert_eq!(sem.value(), 0);
    drop(guard);
    assert_eq!(sem.value(), 1);
}

/// ASEM-8: a burst of releases (each finding the first woken waiter not yet run) wakes as many
/// waiters as permits: the woken waiter that takes a permit and sees more wakes the next.
#[test]
fn asem8_a_burst_of_releases_wakes_as_many_waiters_as_permits() {
    let sem = Semaphore::new(0);
    let flags: Vec<_> = (0..3).map(|_| flag()).collect();
    let mut futs: Vec<_> = (0..3).map(|_| Box::pin(sem.acquire_async())).collect();
    for (fut, (_, w)) in futs.iter_mut().zip(&flags) {
        assert!(poll_once(fut.as_mut(), w).is_pending());
    }
    sem.release(1).unwrap();
    sem.release(1).unwrap();
    assert!(woken(&flags[0].0));
    let Poll::Ready(g0) = poll_once(futs[0].as_mut(), &flags[0].1) else {
        panic!("the first waiter did not get its permit")
    };
    assert!(
        woken(&flags[1].0),
        "a second permit is free: the second waiter must be woken"
    );
    let Poll::Ready(g1) = poll_once(futs[1].as_mut(), &flags[1].1) else {
        panic!("the second waiter did not get the second permit")
    };
    assert!(!woken(&flags[2].0), "no third permit, no third wake-up");
    assert!(poll_once(futs[2].as_mut(), &flags[2].1).is_pending());
    g0.detach();
    g1.detach();
    assert_eq!(sem.value(), 0);
}

/// ASEM-8 with threads: three threads blocked, three quick releases of one permit: all three
/// get through (a lost wake-up leaves one asleep: `join_within` fails).
#[test]
fn asem8_a_burst_of_single_releases_lets_every_blocked_thread_through() {
    with_watchdog(|| {
        for _ in 0..20 {
            let sem = Arc::new(Semaphore::new(0));
            let ts: Vec<_> = (0..3)
                .map(|_| {
                    let sem = Arc::clone(&sem);
                    thread::spawn(move || sem.acquire().detach())
                })
                .collect();
            poll_until("three threads to queue", || waiting(&*sem, 3));
            for _ in 0..3 {
                sem.release(1).unwrap();
            }
            for t in ts {
                join_within(t);
            }
            assert_eq!(sem.value(), 0);
        }
    });
}

/// §9 fairness (no hand-off, the stated difference from ASEM-3/4): a newcomer may take the
/// permit a release just woke a task for; the task keeps its place at the head and gets the
/// next permit ahead of a task that queued after it.
#[test]
fn asem3_no_hand_off_but_the_woken_waiter_keeps_its_place() {
    let sem = Semaphore::new(0);
    let (fa, wa) = flag();
    let (fb, wb) = flag();
    let mut a = pin!(sem.acquire_async());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    sem.release(1).unwrap();
    assert!(woken(&fa));
    assert_eq!(
        sem.value(),
        1,
        "the value follows the count: nothing reserved"
    );
    let newcomer = sem
        .try_acquire()
        .expect("a newcomer may take the released permit");
    assert!(
        poll_once(a.as_mut(), &wa).is_pending(),
        "lost the race: queued again"
    );
    let mut b = pin!(sem.acquire_async());
    assert!(poll_once(b.as_mut(), &wb).is_pending());
    drop(newcomer);
    assert_eq!(wakes(&fa), 2, "a, back at the head, is woken first");
    assert!(!woken(&fb));
    assert!(poll_once(a.as_mut(), &wa).is_ready());
}

/// ASEM-10 (and ASEM-11's fix): `BoundedSemaphore` refuses a release above its initial value,
/// also while a woken task has not run yet; `acquire_async` returns the usual guard.
#[test]
fn asem10_bounded_over_release_is_detected_with_a_woken_task_pending() {
    let sem = BoundedSemaphore::new(1);
    let held = block_on(sem.acquire_async());
    held.detach();
    let (fa, wa) = flag();
    let mut a = pin!(sem.acquire_async());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    sem.release(1).unwrap();
    assert!(woken(&fa));
    assert!(
        sem.release(1).is_err(),
        "a second release would make 2 of 1"
    );
    let Poll::Ready(guard) = poll_once(a.as_mut(), &wa) else {
        panic!("the woken task did not get the permit")
    };
    assert_eq!(sem.value(), 0);
    drop(guard);
    assert_eq!(sem.value(), 1);
    assert!(sem.release(1).is_err());
}

/// ASEM-6, AEVT-6-style timeout: a runtime timeout drops the `acquire_async`; the value and the
/// waiter list are as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asem6_a_runtime_timeout_leaves_the_semaphore_as_it_was() {
    let sem = BoundedSemaphore::new(1);
    let held = sem.acquire();
    let r = tokio::time::timeout(Duration::from_millis(20), sem.acquire_async()).await;
    assert!(r.is_err());
    assert_eq!(sem.value(), 0);
    assert!(waiting(&sem, 0), "{sem:?}");
    drop(held);
    assert_eq!(sem.value(), 1);
}

/// ASEM-2: tasks on a thread pool and threads share `Semaphore(2)`: never more than two inside,
/// everyone gets through.
#[test]
fn asem2_tasks_and_threads_share_permits_on_a_thread_pool() {
    with_watchdog(|| {
        let sem = Arc::new(Semaphore::new(2));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        let enter = |inside: &AtomicUsize, most: &AtomicUsize| {
            let now = inside.fetch_add(1, SeqCst) + 1;
            most.fetch_max(now, SeqCst);
            thread::yield_now();
            inside.fetch_sub(1, SeqCst);
        };
        for _ in 0..8 {
            let (sem, inside, most, done) = (
                Arc::clone(&sem),
                Arc::clone(&inside),
                Arc::clone(&most),
                Arc::clone(&done),
            );
            pool.spawn_ok(async move {
                for _ in 0..200 {
                    let _p = sem.acquire_async().await;
                    enter(&inside, &most);
                }
                done.fetch_add(1, SeqCst);
            });
        }
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside, most) =
                    (Arc::clone(&sem), Arc::clone(&inside), Arc::clone(&most));
                thread::spawn(move || {
                    for _ in 0..200 {
                        let _p = sem.acquire();
                        enter(&inside, &most);
                    }
                })
            })
            .collect();
        for t in ts {
            join_within(t);
        }
        poll_until("the tasks to finish", || done.load(SeqCst) == 8);
        assert!(most.load(SeqCst) <= 2);
        assert_eq!(sem.value(), 2);
    });
}

// ---------------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------------

/// AEVT-1, AEVT-2, AEVT-3: `wait_async` on a set event returns at once; one started after
/// `set()` does not queue.
#[test]
fn aevt2_wait_async_on_a_set_event_returns_at_once() {
    let ev = Event::new();
    assert!(!ev.is_set());
    ev.set();
    let mut w = pin!(ev.wait_async());
    assert!(poll_once(w.as_mut(), Waker::noop()).is_ready());
    assert!(waiting(&ev, 0));
    block_on(ev.wait_async());
}

/// AEVT-3: `set()` wakes every waiter, threads and tasks alike (tokio).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aevt3_set_wakes_every_thread_and_task() {
    let ev = Arc::new(Event::new());
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let ev = Arc::clone(&ev);
            tokio::spawn(async move { ev.wait_async().await })
        })
        .collect();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ev = Arc::clone(&ev);
            thread::spawn(move || ev.wait())
        })
        .collect();
    poll_until("four waiters to queue", || waiting(&*ev, 4));
    ev.set();
    for t in tasks {
        t.await.unwrap();
    }
    for t in threads {
        join_within(t);
    }
}

/// AEVT-4: `set()` then `clear()` at once still releases every waiter queued at `set()` time,
/// tasks polled only after the `clear()` included (a per-waiter wake-up, not a re-read of the
/// flag); a wait that starts after the `clear()` waits.
#[test]
fn aevt4_set_then_clear_releases_every_queued_waiter() {
    with_watchdog(|| {
        let ev = Arc::new(Event::new());
        let (fa, wa) = flag();
        let (_fb, wb) = flag();
        let mut a = Box::pin(ev.wait_async());
        let mut b = Box::pin(ev.wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        assert!(poll_once(b.as_mut(), &wb).is_pending());
        let t = {
            let ev = Arc::clone(&ev);
            thread::spawn(move || ev.wait())
        };
        poll_until("the thread to queue", || waiting(&*ev, 3));
        ev.set();
        ev.clear();
        assert!(!ev.is_set());
        assert!(woken(&fa));
        assert!(poll_once(a.as_mut(), &wa).is_ready());
        // b is polled with a fresh waker only now, flag down.
        assert!(poll_once(b.as_mut(), Waker::noop()).is_ready());
        join_within(t);
        let mut late = pin!(ev.wait_async());
        assert!(poll_once(late.as_mut(), Waker::noop()).is_pending());
        assert!(waiting(&*ev, 1));
    });
}

/// AEVT-5: a dropped `wait_async` leaves the list; dropping one woken by `set()` does not
/// affect the others, nor release a waiter that queued after a `clear()` (the wake-up it passes
/// on is not a `set()`).
#[test]
fn aevt5_a_dropped_waiter_affects_no_other_waiter() {
    let ev = Event::new();
    {
        let mut a = pin!(ev.wait_async());
        assert!(poll_once(a.as_mut(), Waker::noop()).is_pending());
        assert!(waiting(&ev, 1));
    }
    assert!(waiting(&ev, 0), "{ev:?}");

    let (fa, wa) = flag();
    let (fb, wb) = flag();
    let mut a = Box::pin(ev.wait_async());
    let mut b = pin!(ev.wait_async());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    assert!(poll_once(b.as_mut(), &wb).is_pending());
    ev.set();
    ev.clear();
    assert!(woken(&fa) && woken(&fb));
    let (_fc, wc) = flag();
    let mut c = pin!(ev.wait_async());
    assert!(
        poll_once(c.as_mut(), &wc).is_pending(),
        "c started after the clear"
    );
    drop(a); // woken, never polled
    assert!(poll_once(b.as_mut(), &wb).is_ready(), "b unaffected");
    assert!(
        poll_once(c.as_mut(), &wc).is_pending(),
        "a wake-up passed on by a dropped waiter is not a set()"
    );
    ev.set();
    assert!(poll_once(c.as_mut(), &wc).is_ready());
}

/// AEVT-6: no timeout parameter: the runtime's timeout drops the wait, which leaves the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aevt6_a_runtime_timeout_drops_the_waiter() {
    let ev = Event::new();
    let r = tokio::time::timeout(Duration::from_millis(20), ev.wait_async()).await;
    assert!(r.is_err());
    assert!(waiting(&ev, 0), "{ev:?}");
    ev.set();
    ev.wait_async().await;
}

/// AEVT-3 on `futures::executor::ThreadPool`: tasks and a thread released by one `set()`.
#[test]
fn aevt3_set_wakes_tasks_on_a_thread_pool() {
    with_watchdog(|| {
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        let ev = Arc::new(Event::new());
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..4 {
            let (ev, done) = (Arc::clone(&ev), Arc::clone(&done));
            pool.spawn_ok(async move {
                ev.wait_async().await;
                done.fetch_add(1, SeqCst);
            });
        }
        let t = {
            let ev = Arc::clone(&ev);
            thread::spawn(move || ev.wait())
        };
        poll_until("five waiters to queue", || waiting(&*ev, 5));
        ev.set();
        join_within(t);
        poll_until("the tasks to return", || done.load(SeqCst) == 4);
    });
}

// ---------------------------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------------------------

/// ABAR-2, ABAR-4: two threads and two tokio tasks, three rounds: each round hands out the
/// indices 0..4 once; the barrier is cyclic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abar2_threads_and_tasks_share_rounds_with_distinct_indices() {
    let barrier = Arc::new(Barrier::new(4));
    let rounds = 3;
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let b = Arc::clone(&barrier);
            tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..rounds {
                    got.push(b.wait_async().await.unwrap());
                }
                got
            })
        })
        .collect();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let b = Arc::clone(&barrier);
            thread::spawn(move || (0..rounds).map(|_| b.wait().unwrap()).collect::<Vec<_>>())
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.push(t.await.unwrap());
    }
    for t in threads {
        all.push(join_within(t));
    }
    for round in 0..rounds {
        let mut idx: Vec<_> = all.iter().map(|v| v[round]).collect();
        idx.sort();
        assert_eq!(idx, [0, 1, 2, 3], "round {round}");
    }
}

/// ABAR-3: `Barrier(1)`: every `wait_async` returns 0 at once.
#[test]
fn abar3_one_party_returns_zero_at_once() {
    let b = Barrier::new(1);
    assert_eq!(block_on(b.wait_async()), Ok(0));
    assert_eq!(block_on(b.wait_async()), Ok(0));
}

/// ABAR-5: `n_waiting` counts tasks and threads in the round being filled; the last arrival
/// (a task, polled by hand) trips it and gets `parties - 1`.
#[test]
fn abar5_n_waiting_counts_tasks_and_threads() {
    with_watchdog(|| {
        let b = Arc::new(Barrier::new(3));
        let (fa, wa) = flag();
        let mut a = Box::pin(b.wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        assert_eq!(b.n_waiting(), 1);
        let t = {
            let b = Arc::clone(&b);
            thread::spawn(move || b.wait())
        };
        poll_until("the thread to arrive", || b.n_waiting() == 2);
        let mut c = pin!(b.wait_async());
        assert_eq!(poll_once(c.as_mut(), Waker::noop()), Poll::Ready(Ok(2)));
        assert!(woken(&fa));
        assert_eq!(poll_once(a.as_mut(), &wa), Poll::Ready(Ok(0)));
        assert_eq!(join_within(t), Ok(1));
        assert_eq!(b.n_waiting(), 0);
    });
}

/// ABAR-7: a task party dropped while the round fills withdraws without breaking the barrier:
/// `n_waiting` drops by one and the round still trips when `parties` parties are in.
#[test]
fn abar7_a_dropped_task_party_does_not_break_the_barrier() {
    with_watchdog(|| {
        let b = Arc::new(Barrier::new(3));
        let (_fb, wb) = flag();
        let mut second = Box::pin(b.wait_async());
        {
            let mut first = pin!(b.wait_async());
            assert!(poll_once(first.as_mut(), Waker::noop()).is_pending());
            assert!(poll_once(second.as_mut(), &wb).is_pending());
            assert_eq!(b.n_waiting(), 2);
        }
        assert_eq!(b.n_waiting(), 1, "the dropped party left the count");
        assert!(!b.broken());
        let t = {
            let b = Arc::clone(&b);
            thread::spawn(move || b.wait())
        };
        poll_until("the thread to arrive", || b.n_waiting() == 2);
        assert!(!t.is_finished(), "two of three: the round must not trip");
        let last = block_on(b.wait_async()).unwrap();
        assert_eq!(last, 2);
        let mut got = vec![join_within(t).unwrap()];
        got.push(block_on(second.as_mut()).unwrap());
        got.sort();
        assert_eq!(
            got,
            [1, 1],
            "the dropped party's index 0 is not reused; index 1 twice"
        );
        assert!(!b.broken());
    });
}

/// ABAR-7 with the runtime's timeout (tokio): it drops the party, the barrier stays unbroken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abar7_a_runtime_timeout_does_not_break_the_barrier() {
    let b = Barrier::new(2);
    let r = tokio::time::timeout(Duration::from_millis(20), b.wait_async()).await;
    assert!(r.is_err());
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
}

/// Threading's rule next to ABAR-7: a thread whose timeout passes breaks the barrier, and a
/// task waiting in the same round fails with `BrokenBarrierError`.
#[test]
fn abar7_a_thread_timeout_breaks_the_barrier_for_a_waiting_task() {
    with_watchdog(|| {
        let b = Arc::new(Barrier::new(3));
        let (fa, wa) = flag();
        let mut a = Box::pin(b.wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let t = {
            let b = Arc::clone(&b);
            thread::spawn(move || b.wait_timeout(Duration::from_millis(50)))
        };
        assert_eq!(join_within(t), Err(BrokenBarrierError));
        assert!(b.broken());
        assert!(woken(&fa));
        assert_eq!(
            poll_once(a.as_mut(), &wa),
            Poll::Ready(Err(BrokenBarrierError))
        );
        assert_eq!(b.n_waiting(), 0);
    });
}

/// A party woken by a completed round and dropped before it runs changes nothing: the round
/// stays completed, the barrier works on.
#[test]
fn abar_a_released_party_dropped_before_it_runs_changes_nothing() {
    let b = Barrier::new(2);
    let (fa, wa) = flag();
    let mut a = Box::pin(b.wait_async());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    assert_eq!(block_on(b.wait_async()), Ok(1));
    assert!(woken(&fa));
    drop(a);
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.broken());
    let mut c = pin!(b.wait_async());
    assert!(poll_once(c.as_mut(), Waker::noop()).is_pending());
    assert_eq!(b.n_waiting(), 1);
    assert_eq!(block_on(b.wait_async()), Ok(1));
}

/// ABAR-8: `reset()` wakes waiting tasks with `BrokenBarrierError`; once the last of them has
/// left (one by returning, one by being dropped) the barrier is filling and not broken again.
#[test]
fn abar8_reset_breaks_waiting_tasks_then_the_barrier_works() {
    let b = Barrier::new(3);
    let (fa, wa) = flag();
    let mut a = Box::pin(b.wait_async());
    let mut c = Box::pin(b.wait_async());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    assert!(poll_once(c.as_mut(), Waker::noop()).is_pending());
    b.reset();
    assert!(woken(&fa));
    assert_eq!(
        poll_once(a.as_mut(), &wa),
        Poll::Ready(Err(BrokenBarrierError))
    );
    // A newcomer waits for the reset to finish (ABAR-6).
    let mut late = Box::pin(b.wait_async());
    assert!(poll_once(late.as_mut(), Waker::noop()).is_pending());
    assert_eq!(b.n_waiting(), 0, "resetting");
    drop(c); // the last party of the reset round leaves by being dropped
    assert!(!b.broken());
    assert!(poll_once(late.as_mut(), Waker::noop()).is_pending());
    assert_eq!(b.n_waiting(), 1, "the newcomer joined the next round");
    let mut d = pin!(b.wait_async());
    assert!(poll_once(d.as_mut(), Waker::noop()).is_pending());
    assert_eq!(block_on(b.wait_async()), Ok(2));
}

/// ABAR-10: `abort()` wakes waiting tasks and threads with `BrokenBarrierError`, and every
/// later `wait_async` fails until `reset()`.
#[test]
fn abar10_abort_breaks_waiting_tasks_and_threads() {
    with_watchdog(|| {
        let b = Arc::new(Barrier::new(3));
        let (fa, wa) = flag();
        let mut a = Box::pin(b.wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let t = {
            let b = Arc::clone(&b);
            thread::spawn(move || b.wait())
        };
        poll_until("the thread to arrive", || b.n_waiting() == 2);
        b.abort();
        assert_eq!(join_within(t), Err(BrokenBarrierError));
        assert!(woken(&fa));
        assert_eq!(
            poll_once(a.as_mut(), &wa),
            Poll::Ready(Err(BrokenBarrierError))
        );
        assert_eq!(block_on(b.wait_async()), Err(BrokenBarrierError));
        b.reset();
        assert!(!b.broken());
    });
}

/// ABAR-6: a task arriving while a full round runs its action waits, then joins the next round;
/// the action runs once per trip, also when a task trips the barrier.
#[test]
fn abar6_a_task_arriving_during_the_action_joins_the_next_round() {
    with_watchdog(|| {
        let go = Arc::new(Event::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let b = {
            let (go, runs) = (Arc::clone(&go), Arc::clone(&runs));
            Arc::new(
                Barrier::builder(2)
                    .action(move || {
                        runs.fetch_add(1, SeqCst);
                        go.wait();
                    })
                    .build()
                    .unwrap(),
            )
        };
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let b = Arc::clone(&b);
                thread::spawn(move || b.wait())
            })
            .collect();
        poll_until("the action to run", || runs.load(SeqCst) == 1);
        let (fa, wa) = flag();
        let mut a = Box::pin(b.wait_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        assert_eq!(b.n_waiting(), 2, "the full round, not the newcomer");
        go.set();
        let mut got: Vec<_> = ts.into_iter().map(|t| join_within(t).unwrap()).collect();
        got.sort();
        assert_eq!(got, [0, 1]);
        poll_until("the newcomer to be woken", || woken(&fa));
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        assert_eq!(b.n_waiting(), 1, "the newcomer is in the next round");
        // A task trips it: the action runs in the task, once.
        assert_eq!(block_on(b.wait_async()), Ok(1));
        assert_eq!(runs.load(SeqCst), 2);
        assert_eq!(poll_once(a.as_mut(), &wa), Poll::Ready(Ok(0)));
    });
}

/// ABAR-2, ABAR-4 on `futures::executor::ThreadPool`: two tasks and two threads, 50 rounds,
/// an action counting the trips.
#[test]
fn abar4_many_rounds_of_tasks_and_threads_on_a_thread_pool() {
    with_watchdog(|| {
        let rounds = 50;
        let trips = Arc::new(AtomicUsize::new(0));
        let b = {
            let trips = Arc::clone(&trips);
            Arc::new(
                Barrier::builder(4)
                    .action(move || {
                        trips.fetch_add(1, SeqCst);
                    })
                    .build()
                    .unwrap(),
            )
        };
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let (b, done) = (Arc::clone(&b), Arc::clone(&done));
            pool.spawn_ok(async move {
                for _ in 0..rounds {
                    b.wait_async().await.unwrap();
                }
                done.fetch_add(1, SeqCst);
            });
        }
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let b = Arc::clone(&b);
                thread::spawn(move || {
                    for _ in 0..rounds {
                        b.wait().unwrap();
                    }
                })
            })
            .collect();
        for t in ts {
            join_within(t);
        }
        poll_until("the tasks to finish", || done.load(SeqCst) == 2);
        assert_eq!(trips.load(SeqCst), rounds);
        assert_eq!(b.n_waiting(), 0);
    });
}

/// A task's `Waker` is user code, and may use the barrier it waits on: here each waker asks
/// `n_waiting()` (which takes the barrier's lock) before waking its task. The last arriver
/// wakes the round with the lock released; a wake-up given under it deadlocks (the watchdog
/// fails the test). Two tasks and a thread pass 2,000 rounds.
#[test]
fn wakers_that_use_the_barrier_are_woken_outside_its_lock() {
    const ROUNDS: usize = 2_000;
    with_watchdog(|| {
        let barrier = Arc::new(Barrier::new(3));
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        for _ in 0..2 {
            let (barrier, done_tx) = (Arc::clone(&barrier), done_tx.clone());
            let touch = using(&barrier, |barrier| {
                let _ = barrier.n_waiting();
            });
            pool.spawn_ok(touching(
                async move {
                    let mut last = 0;
                    for _ in 0..ROUNDS {
                        if barrier.wait_async().await.unwrap() == 0 {
                            last += 1;
                        }
                    }
                    done_tx.send(last).unwrap();
                },
                touch,
            ));
        }
        let mut last = 0;
        for _ in 0..ROUNDS {
            if barrier.wait().unwrap() == 0 {
                last += 1;
            }
        }
        last += done_rx.recv().unwrap() + done_rx.recv().unwrap();
        assert_eq!(last, ROUNDS, "one index 0 per round");
    });
}

/// A task's `Waker` is user code down to its `Drop`: a dropped `acquire_async` leaves the
/// list, and the waker it had queued may be the last one, whose `Drop` may use the same
/// semaphore. It is dropped after the list's lock: here the `Drop` releases a permit, which
/// takes that lock to wake whoever waits (dropped under the lock, it would deadlock).
#[test]
fn a_wakers_drop_that_uses_the_semaphore_runs_outside_its_lock() {
    struct ReleasesOnDrop(Arc<Semaphore>);
    impl std::task::Wake for ReleasesOnDrop {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for ReleasesOnDrop {
        fn drop(&mut self) {
            self.0.release(1).unwrap();
        }
    }
    with_watchdog(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut acquire = Box::pin(sem.acquire_async());
        let waker = Waker::from(Arc::new(ReleasesOnDrop(Arc::clone(&sem))));
        assert!(poll_once(acquire.as_mut(), &waker).is_pending());
        drop(waker); // the list holds the last one now
        assert!(waiting(&*sem, 1));
        drop(acquire);
        assert_eq!(sem.value(), 1, "the waker's Drop ran and released");
        assert!(waiting(&*sem, 0));
    });
}
