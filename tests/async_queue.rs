//! The async twins of the queue family: `put_async`, `get_async`, `join_async` on
//! `Queue`/`LifoQueue`/`PriorityQueue` and `SimpleQueue::get_async`, with threads blocked in the
//! blocking forms queued in the same waiter lists.
//!
//! IDs from ASYNC_SEMANTICS.md §6. Not ported, and why:
//! * AQ-3 [PY]/[API]: `maxsize` is settable at run time, as in `queue` (threading's rule).
//! * AQ-10 [IMPL]: as in asyncio nothing is reserved for a woken waiter (a `get_nowait` may take
//!   the item first), but a woken waiter that loses the race keeps its place at the head of the
//!   list instead of queueing again at the back (the one waiter list's rule).
//! * AQ-19 [PY]: the async twins return the blocking forms' error values (`ShutDown`), not
//!   separate exception classes; there is no `repr`.
//! * AQ-2, AQ-5, AQ-12: plain (non-async) methods, covered by tests/queue.rs.

mod common;

use common::task::*;
use common::{join_within, poll_until, with_watchdog};
use futures::executor::{ThreadPool, block_on};
use gilfree::{LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue};
use std::collections::BTreeSet;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

fn getters_waiting<T, O: gilfree::queue::Order<T>>(
    q: &gilfree::queue::BaseQueue<T, O>,
    n: usize,
) -> bool {
    format!("{q:?}").contains(&format!("getters_waiting: {n},"))
}

fn putters_waiting<T, O: gilfree::queue::Order<T>>(
    q: &gilfree::queue::BaseQueue<T, O>,
    n: usize,
) -> bool {
    format!("{q:?}").contains(&format!("putters_waiting: {n} "))
        || format!("{q:?}").contains(&format!("putters_waiting: {n}}}"))
}

/// AQ-1: the three orders through the async twins.
#[test]
fn async_twins_keep_the_three_orders() {
    block_on(async {
        let fifo = Queue::new(0);
        let lifo = LifoQueue::new(0);
        let prio = PriorityQueue::new(0);
        for n in [1, 3, 2] {
            fifo.put_async(n).await.unwrap();
            lifo.put_async(n).await.unwrap();
            prio.put_async(n).await.unwrap();
        }
        let mut got = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..3 {
            got[0].push(fifo.get_async().await.unwrap());
            got[1].push(lifo.get_async().await.unwrap());
            got[2].push(prio.get_async().await.unwrap());
        }
        assert_eq!(got, [vec![1, 3, 2], vec![2, 3, 1], vec![1, 2, 3]]);
    });
}

/// AQ-4: `get_async` on an empty queue waits for a put; `put_async` on a full queue waits for
/// a get (tokio, multi-thread).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_async_waits_for_a_put_and_put_async_for_a_get() {
    let q = Arc::new(Queue::new(1));
    let getter = {
        let q = Arc::clone(&q);
        tokio::spawn(async move { q.get_async().await })
    };
    poll_until("the getter to queue", || getters_waiting(&q, 1));
    assert!(!getter.is_finished());
    q.put_async(7).await.unwrap();
    assert_eq!(getter.await.unwrap(), Ok(7));

    q.put(1).unwrap();
    let putter = {
        let q = Arc::clone(&q);
        tokio::spawn(async move { q.put_async(2).await })
    };
    poll_until("the putter to queue", || putters_waiting(&q, 1));
    assert!(!putter.is_finished());
    assert_eq!(q.get_async().await, Ok(1));
    assert_eq!(putter.await.unwrap(), Ok(()));
    assert_eq!(q.get(), Ok(2));
}

/// AQ-6: a producer task and a consumer task through `Queue(1)` never deadlock (each side has
/// to wait for the other); the consumer is a thread in the second half.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_and_consumer_on_a_one_slot_queue() {
    let q = Arc::new(Queue::new(1));
    let consumer = {
        let q = Arc::clone(&q);
        tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..1000 {
                got.push(q.get_async().await.unwrap());
            }
            got
        })
    };
    for n in 0..1000 {
        q.put_async(n).await.unwrap();
    }
    assert_eq!(consumer.await.unwrap(), (0..1000).collect::<Vec<_>>());
    let thread_consumer = {
        let q = Arc::clone(&q);
        thread::spawn(move || (0..1000).map(|_| q.get().unwrap()).collect::<Vec<_>>())
    };
    for n in 0..1000 {
        q.put_async(n).await.unwrap();
    }
    assert_eq!(join_within(thread_consumer), (0..1000).collect::<Vec<_>>());
}

/// AQ-6, AQ-4 (fairness across kinds): waiting getters are woken oldest first, whatever their
/// kind: a task, then a thread, then a task; one put wakes one getter.
#[test]
fn getters_are_woken_in_fifo_order_across_threads_and_tasks() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(0));
        let (fa, wa) = flag();
        let (fb, wb) = flag();
        let mut a = pin!(q.get_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let thread = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get().unwrap())
        };
        poll_until("the thread to queue", || getters_waiting(&q, 2));
        let mut b = pin!(q.get_async());
        assert!(poll_once(b.as_mut(), &wb).is_pending());
        q.put(1).unwrap();
        assert!(woken(&fa) && !woken(&fb), "the oldest (task a) is woken");
        assert_eq!(poll_once(a.as_mut(), &wa), Poll::Ready(Ok(1)));
        q.put(2).unwrap();
        assert_eq!(join_within(thread), 2, "then the thread");
        assert!(!woken(&fb));
        q.put(3).unwrap();
        assert!(woken(&fb));
        assert_eq!(poll_once(b.as_mut(), &wb), Poll::Ready(Ok(3)));
    });
}

/// AQ-7: a waiting getter or putter that is dropped leaves the waiter list, and the queue
/// keeps working (its items and slots are untouched).
#[test]
fn dropped_waiting_getters_and_putters_leave_the_list() {
    let q = Queue::new(1);
    let (_f, w) = flag();
    {
        let mut g = pin!(q.get_async());
        assert!(poll_once(g.as_mut(), &w).is_pending());
        assert!(getters_waiting(&q, 1));
    }
    assert!(getters_waiting(&q, 0));
    q.put(1).unwrap();
    {
        let mut p = pin!(q.put_async(2));
        assert!(poll_once(p.as_mut(), &w).is_pending());
        assert!(putters_waiting(&q, 1));
    }
    assert!(putters_waiting(&q, 0));
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.unfinished_tasks(), 1, "the dropped put was never counted");
    assert_eq!(q.get_nowait(), Ok(1));
}

/// AQ-8: a getter dropped after a put woke it loses no item: the item stays queued and the
/// wake-up passes to the next getter, here a thread blocked in `get()` (it would stay asleep
/// otherwise).
#[test]
fn a_woken_getter_dropped_passes_its_wake_up_to_a_blocked_thread() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(0));
        let (fa, wa) = flag();
        let mut a = Box::pin(q.get_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let thread = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get().unwrap())
        };
        poll_until("the thread to queue", || getters_waiting(&q, 2));
        q.put(1).unwrap();
        assert!(woken(&fa));
        drop(a); // woken, never polled
        assert_eq!(join_within(thread), 1);
        assert!(q.empty());
    });
}

/// AQ-8, asyncio's `test_get_cancel_drop_one_pending_reader` and
/// `..._many_pending_readers`: with three task readers, one dropped after `put(1)` woke it,
/// the other two get {1, 2}; with one reader dropped, a later get still finds item 1.
#[test]
fn a_woken_getter_dropped_loses_no_item() {
    let q = Queue::new(0);
    let flags: Vec<_> = (0..3).map(|_| flag()).collect();
    let mut readers: Vec<_> = (0..3).map(|_| Box::pin(q.get_async())).collect();
    for (r, (_, w)) in readers.iter_mut().zip(&flags) {
        assert!(poll_once(r.as_mut(), w).is_pending());
    }
    q.put(1).unwrap();
    assert!(woken(&flags[0].0) && !woken(&flags[1].0));
    drop(readers.remove(0));
    assert!(woken(&flags[1].0), "the wake-up passed to the next reader");
    q.put(2).unwrap();
    assert!(woken(&flags[2].0));
    let got: BTreeSet<_> = readers
        .iter_mut()
        .zip(&flags[1..])
        .map(|(r, (_, w))| match poll_once(r.as_mut(), w) {
            Poll::Ready(Ok(n)) => n,
            other => panic!("a woken reader found no item: {other:?}"),
        })
        .collect();
    assert_eq!(got, BTreeSet::from([1, 2]));

    let (_f, w) = flag();
    let mut lone = Box::pin(q.get_async());
    assert!(poll_once(lone.as_mut(), &w).is_pending());
    q.put(1).unwrap();
    q.put(2).unwrap();
    drop(lone);
    assert_eq!(block_on(q.get_async()), Ok(1));
}

/// AQ-9: a putter dropped after a get woke it does not add its item, and passes the slot's
/// wake-up to the next putter: no slot is lost.
#[test]
fn a_woken_putter_dropped_passes_the_slot_on() {
    let q = Queue::new(1);
    q.put(0).unwrap();
    let (fa, wa) = flag();
    let (fb, wb) = flag();
    let mut a = Box::pin(q.put_async(1));
    let mut b = Box::pin(q.put_async(2));
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    assert!(poll_once(b.as_mut(), &wb).is_pending());
    assert_eq!(q.get(), Ok(0));
    assert!(woken(&fa) && !woken(&fb));
    drop(a);
    assert!(woken(&fb), "the slot's wake-up passed to the next putter");
    assert_eq!(poll_once(b.as_mut(), &wb), Poll::Ready(Ok(())));
    assert_eq!(
        q.get_nowait(),
        Ok(2),
        "the dropped putter's item never went in"
    );
    assert_eq!(q.unfinished_tasks(), 2, "two puts counted: 0 and 2");
}

/// AQ-9 with a thread: a dropped woken putter passes the slot to a thread blocked in `put`.
#[test]
fn a_woken_putter_dropped_passes_the_slot_to_a_blocked_thread() {
    with_watchdog(|| {
        let q = Arc::new(LifoQueue::new(1));
        q.put(0).unwrap();
        let (fa, wa) = flag();
        let mut a = Box::pin(q.put_async(1));
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let thread = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(2))
        };
        poll_until("the thread to queue", || putters_waiting(&q, 2));
        assert_eq!(q.get(), Ok(0));
        assert!(woken(&fa));
        drop(a);
        assert_eq!(join_within(thread), Ok(()));
        assert_eq!(q.get_nowait(), Ok(2));
    });
}

/// AQ-10 (as far as it holds): a woken getter that loses the item to a `get_nowait` keeps its
/// place at the head: the next put wakes it again, not the getter queued behind it.
#[test]
fn a_woken_getter_that_loses_the_race_keeps_its_place() {
    let q = Queue::new(0);
    let (fa, wa) = flag();
    let (fb, wb) = flag();
    let mut a = pin!(q.get_async());
    let mut b = pin!(q.get_async());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    assert!(poll_once(b.as_mut(), &wb).is_pending());
    q.put(1).unwrap();
    assert_eq!(
        q.get_nowait(),
        Ok(1),
        "nothing is reserved for the woken getter"
    );
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    q.put(2).unwrap();
    assert_eq!(wakes(&fa), 2);
    assert!(!woken(&fb));
    assert_eq!(poll_once(a.as_mut(), &wa), Poll::Ready(Ok(2)));
}

/// A task polled again with another waker keeps its place and is woken through the new one.
#[test]
fn a_getter_polled_with_a_new_waker_is_woken_through_it() {
    let q = SimpleQueue::new();
    let (f1, w1) = flag();
    let (f2, w2) = flag();
    let mut g = pin!(q.get_async());
    assert!(poll_once(g.as_mut(), &w1).is_pending());
    assert!(poll_once(g.as_mut(), &w2).is_pending());
    q.put('x');
    assert!(woken(&f2) && !woken(&f1));
    assert_eq!(poll_once(g.as_mut(), &w2), Poll::Ready('x'));
}

/// AQ-11: `join_async` is ready at once on a fresh queue, waits for every `task_done`, and
/// can be awaited again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_async_waits_for_every_task_done() {
    let q = Arc::new(Queue::new(0));
    q.join_async().await;
    for n in 0..3 {
        q.put_async(n).await.unwrap();
    }
    let (f, w) = flag();
    let mut early = Box::pin(q.join_async());
    assert!(poll_once(early.as_mut(), &w).is_pending());
    let worker = {
        let q = Arc::clone(&q);
        tokio::spawn(async move {
            while let Ok(_n) = q.get_async().await {
                q.task_done().unwrap();
            }
        })
    };
    q.join_async().await;
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(woken(&f));
    assert_eq!(poll_once(early.as_mut(), &w), Poll::Ready(()));
    q.join_async().await;
    q.shutdown(false);
    worker.await.unwrap();
}

/// AQ-13, AQ-15: a shutdown wakes waiting putters, tasks and threads alike; each gets
/// `ShutDown` with its item back, and `qsize` is unchanged.
#[test]
fn shutdown_wakes_async_and_blocked_putters() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(1));
        q.put(0).unwrap();
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        let tasks: Vec<_> = (1..=2)
            .map(|n| {
                let q = Arc::clone(&q);
                let (tx, rx) = std::sync::mpsc::channel();
                pool.spawn_ok(async move {
                    let _ = tx.send(q.put_async(n).await);
                });
                rx
            })
            .collect();
        let thread = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(3))
        };
        poll_until("three putters to queue", || putters_waiting(&q, 3));
        q.shutdown(false);
        let mut back: Vec<_> = tasks
            .into_iter()
            .map(|rx| {
                rx.recv_timeout(Duration::from_secs(10))
                    .unwrap()
                    .unwrap_err()
                    .0
            })
            .collect();
        back.push(join_within(thread).unwrap_err().0);
        back.sort();
        assert_eq!(back, [1, 2, 3]);
        assert_eq!(q.qsize(), 1);
        assert_eq!(block_on(q.put_async(9)), Err(ShutDown(9)));
    });
}

/// Two tasks awaiting `get_async` and a thread blocked in `get` on `q`; once all three are
/// queued, runs `then`, and returns what the getters got (the tasks' first, then the thread's).
async fn three_getters_then<O>(
    q: &Arc<gilfree::queue::BaseQueue<i32, O>>,
    then: impl FnOnce(),
) -> Vec<Result<i32, ShutDown>>
where
    O: gilfree::queue::Order<i32>,
    gilfree::queue::BaseQueue<i32, O>: Send + Sync,
{
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(q);
            tokio::spawn(async move { q.get_async().await })
        })
        .collect();
    let thread = {
        let q = Arc::clone(q);
        thread::spawn(move || q.get())
    };
    poll_until("three getters to queue", || getters_waiting(q, 3));
    then();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results.push(join_within(thread));
    results
}

/// AQ-14, AQ-15: a plain shutdown with 2 items and 3 waiting getters (two tasks, one thread):
/// the getters drain the items, then get `ShutDown`; no getter is left waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_wakes_async_and_blocked_getters_which_drain_first() {
    // An empty queue: every getter gets ShutDown; puts are refused.
    let q = Arc::new(Queue::new(0));
    let results = three_getters_then(&q, || {
        q.shutdown(false);
        assert_eq!(q.put(1), Err(ShutDown(1)));
    })
    .await;
    assert!(results.iter().all(|r| *r == Err(ShutDown(()))));

    // And with items left: two of three getters get them.
    let q = Arc::new(PriorityQueue::new(0));
    let results = three_getters_then(&q, || {
        q.put(10).unwrap();
        q.put(20).unwrap();
        q.shutdown(false);
    })
    .await;
    let mut items: Vec<_> = results.iter().filter_map(|r| r.ok()).collect();
    items.sort();
    assert_eq!(items, [10, 20]);
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert_eq!(q.get_async().await, Err(ShutDown(())));
}

/// AQ-14: after a plain shutdown `get_async` still returns the queued items, then `ShutDown`
/// at once.
#[test]
fn get_async_drains_after_shutdown() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    q.shutdown(false);
    block_on(async {
        assert_eq!(q.get_async().await, Ok(1));
        assert_eq!(q.get_async().await, Ok(2));
        assert_eq!(q.get_async().await, Err(ShutDown(())));
    });
}

/// AQ-16, AQ-17: a plain shutdown does not release `join_async`; an immediate one does once the
/// discarded items' tasks bring the count to zero, waking tasks and threads in `join`.
#[test]
fn immediate_shutdown_releases_async_and_blocked_joiners() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(0));
        q.put(1).unwrap();
        q.put(2).unwrap();
        let (f, w) = flag();
        let mut joiner = Box::pin(q.join_async());
        assert!(poll_once(joiner.as_mut(), &w).is_pending());
        let thread = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.join())
        };
        q.shutdown(false);
        assert!(!woken(&f));
        assert!(poll_once(joiner.as_mut(), &w).is_pending());
        assert!(!thread.is_finished());
        q.shutdown(true);
        assert!(woken(&f));
        assert_eq!(poll_once(joiner.as_mut(), &w), Poll::Ready(()));
        join_within(thread);
        assert_eq!(q.unfinished_tasks(), 0);
    });
}

/// AQ-4, AQ-6 across kinds: four threads blocked in `get()` and four tasks awaiting
/// `get_async()` (on futures' thread pool) on one queue are all served, each item once.
#[test]
fn threads_and_tasks_getting_from_one_queue_are_all_served() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(4));
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let q = Arc::clone(&q);
            let tx = tx.clone();
            pool.spawn_ok(async move {
                while let Ok(n) = q.get_async().await {
                    tx.send(n).unwrap();
                }
            });
        }
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let q = Arc::clone(&q);
                let tx = tx.clone();
                thread::spawn(move || {
                    while let Ok(n) = q.get() {
                        tx.send(n).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for n in 0..2000 {
            if n % 2 == 0 {
                q.put(n).unwrap();
            } else {
                block_on(q.put_async(n)).unwrap();
            }
        }
        q.shutdown(false);
        for t in threads {
            join_within(t);
        }
        let mut got: Vec<i32> = rx.iter().collect();
        got.sort();
        assert_eq!(got, (0..2000).collect::<Vec<_>>());
    });
}

/// A task's `Waker` is user code, and may use the queue it waits on: here each task's waker
/// asks `is_shutdown()` (which takes the queue's lock) before waking the task. Gets and puts
/// that change the one-slot ring with the lock held (a waiter's last look before it queues)
/// must wake the other side after letting the lock go; a wake-up given under the lock
/// deadlocks here (the watchdog fails the test). Tasks and threads on both sides, every item
/// once.
#[test]
fn wakers_that_use_the_queue_are_woken_outside_its_lock() {
    const EACH: i32 = 20_000;
    with_watchdog(|| {
        let q = Arc::new(Queue::new(1));
        let pool = ThreadPool::builder().pool_size(2).create().unwrap();
        let touch = |q: &Arc<Queue<i32>>| {
            using(q, |q| {
                let _ = q.is_shutdown();
            })
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        for p in 0..2 {
            let (q, done_tx) = (Arc::clone(&q), done_tx.clone());
            let touch = touch(&q);
            pool.spawn_ok(async move {
                touching(
                    async {
                        for n in 0..EACH {
                            q.put_async(p * EACH + n).await.unwrap();
                        }
                    },
                    touch,
                )
                .await;
                done_tx.send(()).unwrap();
            });
        }
        for _ in 0..2 {
            let (q, tx) = (Arc::clone(&q), tx.clone());
            let touch = touch(&q);
            pool.spawn_ok(touching(
                async move {
                    while let Ok(n) = q.get_async().await {
                        tx.send(n).unwrap();
                    }
                },
                touch,
            ));
        }
        let getter = {
            let (q, tx) = (Arc::clone(&q), tx.clone());
            thread::spawn(move || {
                while let Ok(n) = q.get() {
                    tx.send(n).unwrap();
                }
            })
        };
        drop(tx);
        for n in 0..EACH {
            q.put(2 * EACH + n).unwrap();
        }
        for _ in 0..2 {
            done_rx.recv().unwrap();
        }
        q.shutdown(false);
        join_within(getter);
        let mut got: Vec<i32> = rx.iter().collect();
        got.sort();
        assert_eq!(got, (0..3 * EACH).collect::<Vec<_>>());
    });
}

/// `SimpleQueue::get_async`: a task and a thread waiting on one queue are both served; a woken
/// task getter dropped passes its wake-up on (AQ-8).
#[test]
fn simple_queue_get_async_with_threads() {
    with_watchdog(|| {
        let q = Arc::new(SimpleQueue::new());
        let (fa, wa) = flag();
        let mut a = Box::pin(q.get_async());
        assert!(poll_once(a.as_mut(), &wa).is_pending());
        let thread = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get())
        };
        // The thread is queued once it stops returning: give it the time, then check it waits.
        common::let_threads_block(1);
        assert!(!thread.is_finished());
        q.put(5);
        assert!(woken(&fa));
        drop(a);
        assert_eq!(join_within(thread), 5);
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || (0..100).for_each(|n| q.put(n)))
        };
        let got: Vec<i32> = block_on(async {
            let mut got = Vec::new();
            for _ in 0..100 {
                got.push(q.get_async().await);
            }
            got
        });
        join_within(producer);
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}
