//! Models of the Queue family and `SimpleQueue`: blocking hand-offs, task tracking and
//! shutdown racing blocked threads.

use crate::{check_bounded, check_with_timeouts};
use gilfree::__loom::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
use gilfree::{GetError, PutError, ShutDown};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// a producer puts two items through a `Queue(1)` while a consumer takes them. Each side
/// has to sleep at some point (the producer on the full queue, the consumer on the empty one);
/// a put that failed to wake the sleeping getter, or a get that failed to wake the sleeping
/// putter, leaves a thread asleep for ever (loom: deadlock). The items arrive in order.
#[test]
fn bounded_hand_off_wakes_both_sides() {
    check_bounded(3, || {
        let q = Arc::new(Queue::new(1));
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || [q.get().unwrap(), q.get().unwrap()])
        };
        q.put(1).unwrap();
        q.put(2).unwrap();
        assert_eq!(consumer.join().unwrap(), [1, 2]);
        assert_eq!(q.qsize(), 0);
        assert_eq!(q.unfinished_tasks(), 2);
    });
}

/// Q-6 with two getters: two consumers sleep on an empty `LifoQueue`, two puts must wake
/// both (one notify per put; a lost one leaves a getter asleep).
#[test]
fn each_put_wakes_one_sleeping_getter() {
    check_bounded(2, || {
        let q = Arc::new(LifoQueue::new(0));
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get().unwrap())
            })
            .collect();
        q.put(10).unwrap();
        q.put(20).unwrap();
        let mut got: Vec<i32> = getters.into_iter().map(|g| g.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [10, 20]);
    });
}

/// a worker takes two items and marks each done; `join` returns only after both
/// `task_done` calls, whatever the interleaving (a missed notify of the joiner: deadlock).
#[test]
fn join_waits_for_every_task_done() {
    check_bounded(3, || {
        let q = Arc::new(Queue::new(0));
        q.put('a').unwrap();
        q.put('b').unwrap();
        let worker = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for _ in 0..2 {
                    q.get().unwrap();
                    q.task_done().unwrap();
                }
            })
        };
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.task_done().is_err(), "Q-8: one task_done too many");
        worker.join().unwrap();
    });
}

/// QS-6, QS-3: a getter blocks on an empty queue while another thread puts one item and then
/// shuts the queue down (plain). The getter receives the item (drain first), and a second
/// get gets `ShutDown`; nobody sleeps through the shutdown.
#[test]
fn plain_shutdown_drains_then_wakes_getters() {
    // Queue(0) has a ring too (2 slots under loom): unbounded preemptions take minutes.
    check_bounded(3, || {
        let q = Arc::new(Queue::new(0));
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || (q.get(), q.get()))
        };
        q.put(7).unwrap();
        q.shutdown(false);
        assert_eq!(getter.join().unwrap(), (Ok(7), Err(ShutDown(()))));
    });
}

/// QS-4, QS-6: an immediate shutdown races a blocked getter and a put: the getter either
/// took the item before the shutdown, or gets `ShutDown` and the item was discarded —
/// never both lost and counted, and `join` is released in both cases once the getter's
/// `task_done` (if it got one) is in.
#[test]
fn immediate_shutdown_races_a_getter() {
    check_bounded(3, || {
        let q = Arc::new(PriorityQueue::new(0));
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || match q.get() {
                Ok(item) => {
                    q.task_done().unwrap();
                    Some(item)
                }
                Err(ShutDown(())) => None,
            })
        };
        q.put(5).unwrap();
        q.shutdown(true);
        let got = getter.join().unwrap();
        assert!(got.is_none() || got == Some(5));
        assert_eq!(q.qsize(), 0);
        q.join(); // the discarded item's task was counted as done; a taken one was marked
        assert_eq!(q.unfinished_tasks(), 0);
    });
}

/// QS-7, QS-2: a putter blocks on a full `Queue(1)`; the shutdown wakes it with its item back
/// (`Err(ShutDown(item))`), unless a getter made room first, in which case the item is
/// queued. Either way nothing is lost: every item is either handed back or drained.
#[test]
fn shutdown_races_a_blocked_putter_and_a_getter() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(1));
        q.put(1).unwrap();
        let putter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(2))
        };
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get().ok())
        };
        q.shutdown(false);
        let put = putter.join().unwrap();
        let got = getter.join().unwrap();
        let mut seen: Vec<i32> = got.into_iter().collect();
        if let Err(ShutDown(item)) = put {
            seen.push(item);
        }
        seen.extend(q.try_iter());
        seen.sort();
        assert_eq!(seen, [1, 2], "an item was lost or duplicated");
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    });
}

/// in "timeouts fire" mode: a `put_timeout` on a full queue races a get. Either the
/// putter saw room in time (its item is queued) or it timed out with its item back in
/// `Full` — the timeout firing just as room appears must not lose or duplicate the item.
#[test]
fn put_timeout_races_a_get() {
    check_with_timeouts(3, || {
        let q = Arc::new(Queue::new(1));
        q.put(1).unwrap();
        let putter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put_timeout(2, Duration::from_secs(1)))
        };
        assert_eq!(q.get_timeout(Duration::from_secs(1)), Ok(1));
        match putter.join().unwrap() {
            Ok(()) => assert_eq!(q.get_nowait(), Ok(2)),
            Err(PutError::Full(2)) => assert!(q.empty()),
            Err(other) => panic!("unexpected {other:?}"),
        }
    });
}

/// SQ-2, SQ-4 in "timeouts fire" mode: a `SimpleQueue` getter with a timeout races a put.
/// It gets the item, or `Empty` with the item still queued: never lost.
#[test]
fn simple_queue_get_timeout_races_a_put() {
    check_with_timeouts(3, || {
        let q = Arc::new(SimpleQueue::new());
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get_timeout(Duration::from_secs(1)).ok())
        };
        q.put("x");
        match getter.join().unwrap() {
            Some(item) => {
                assert_eq!(item, "x");
                assert!(q.empty());
            }
            None => assert_eq!(q.get_nowait(), Ok("x")),
        }
    });
}

/// SQ-1, SQ-4: two getters may sleep on an empty `SimpleQueue` while two puts arrive from
/// another thread. Each put must wake a sleeping getter (one notify per put); a lost wake-up
/// leaves a getter asleep for ever (loom: deadlock). Every item arrives exactly once.
#[test]
fn simple_queue_puts_wake_sleeping_getters() {
    check_bounded(2, || {
        let q = Arc::new(SimpleQueue::new());
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get())
            })
            .collect();
        let putter = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.put(1);
                q.put(2);
            })
        };
        putter.join().unwrap();
        let mut got: Vec<i32> = getters.into_iter().map(|g| g.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        assert!(q.empty());
    });
}

// ---------------------------------------------------------------------------------------------
// The lock-free ring behind a bounded `Queue` (`src/prims/queue/ring.rs`): its sleepers, its
// laps, its lock-free task count and its retirement into the locked core.

/// Q-6 on the ring: two getters may sleep on an empty `Queue(2)` while another thread puts two
/// items. A put learns that someone sleeps only from the getters' count, read after a
/// `SeqCst` fence (no lock): a lost wake-up leaves a getter asleep for ever (loom: deadlock).
#[test]
fn ring_puts_wake_sleeping_getters() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(2));
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get().unwrap())
            })
            .collect();
        q.put(1).unwrap();
        q.put(2).unwrap();
        let mut got: Vec<i32> = getters.into_iter().map(|g| g.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        assert_eq!(q.qsize(), 0);
    });
}

/// on the ring: two producers race for the one slot of a `Queue(1)` across two laps
/// while a consumer takes both items. Each item arrives exactly once (a slot written twice,
/// or read before its stamp says so, is a data race loom reports), and a producer that found
/// the ring full is woken by the get that made room.
#[test]
fn ring_two_producers_share_one_slot() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(1));
        let producers: Vec<_> = [10, 20]
            .into_iter()
            .map(|n| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.put(n).unwrap())
            })
            .collect();
        let mut got = [q.get().unwrap(), q.get().unwrap()];
        for p in producers {
            p.join().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, [10, 20]);
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    });
}

/// on the ring: the task count is an atomic there, and `task_done` wakes a joiner
/// without taking the lock unless one is counted in. A worker takes two items through a
/// `Queue(1)` and marks each done; `join` returns only after both (a missed wake-up:
/// deadlock), and one more `task_done` is the Q-8 error.
#[test]
fn ring_join_waits_for_lock_free_task_done() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(1));
        let worker = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for _ in 0..2 {
                    q.get().unwrap();
                    q.task_done().unwrap();
                }
            })
        };
        q.put('a').unwrap();
        q.put('b').unwrap();
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().unwrap();
        assert!(q.task_done().is_err(), "Q-8: one task_done too many");
    });
}

/// Q-10 on the ring: `set_maxsize` closes the ring and moves its items to the locked core
/// while a putter may be blocked on the full `Queue(1)` and a getter may be taking the item.
/// Nothing is lost or duplicated, the first item comes out first, and the blocked putter
/// finishes on the locked core (with the larger bound there is room).
#[test]
fn set_maxsize_retires_the_ring_under_a_putter_and_a_getter() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(1));
        q.put(1).unwrap();
        let putter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(2).unwrap())
        };
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get().unwrap())
        };
        q.set_maxsize(2);
        putter.join().unwrap();
        let first = getter.join().unwrap();
        assert_eq!(first, 1, "Q-1: the ring's item comes out first");
        assert_eq!(q.try_iter().collect::<Vec<_>>(), [2]);
        assert_eq!(q.maxsize(), 2);
        assert_eq!(q.unfinished_tasks(), 2);
    });
}

/// QS-3, QS-6 on the ring: a getter sleeps on an empty `Queue(2)` while another thread puts
/// one item and shuts the queue down; the shutdown moves the ring's items to the locked core.
/// The getter drains the item, then gets `ShutDown`; nobody sleeps through the move.
#[test]
fn ring_plain_shutdown_drains_then_wakes_getters() {
    check_bounded(3, || {
        let q = Arc::new(Queue::new(2));
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || (q.get(), q.get()))
        };
        q.put(7).unwrap();
        q.shutdown(false);
        assert_eq!(getter.join().unwrap(), (Ok(7), Err(ShutDown(()))));
        assert_eq!(q.put_nowait(8), Err(PutError::ShutDown(8)));
    });
}

/// on the ring in "timeouts fire" mode: a `get_timeout` on an empty `Queue(1)`
/// races a put. The getter gets the item, or `Empty` with the item still queued; the timeout
/// firing as the item lands must not lose it.
#[test]
fn ring_get_timeout_races_a_put() {
    check_with_timeouts(3, || {
        let q = Arc::new(Queue::new(1));
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get_timeout(Duration::from_secs(1)).ok())
        };
        q.put(3).unwrap();
        match getter.join().unwrap() {
            Some(item) => {
                assert_eq!(item, 3);
                assert!(q.empty());
            }
            None => assert_eq!(q.get_nowait(), Ok(3)),
        }
    });
}

/// on an unbounded `Queue`: its ring (2 slots under loom) overflows into the locked
/// core, and puts go there too while it holds anything. One producer puts 1 to 4 while a
/// consumer takes them with blocking gets: they arrive in order (ring items before the
/// overflow's), nothing is lost, and the consumer never sleeps through a put to either part.
#[test]
fn unbounded_ring_overflows_in_order() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(0));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for n in 1..=4 {
                    q.put(n).unwrap();
                }
            })
        };
        let got: Vec<i32> = (0..4).map(|_| q.get().unwrap()).collect();
        producer.join().unwrap();
        assert_eq!(got, [1, 2, 3, 4]);
        assert_eq!(q.qsize(), 0);
        assert_eq!(q.unfinished_tasks(), 4);
    });
}

/// SQ-4 with two producers: each puts two items into a `SimpleQueue` whose ring (2 slots)
/// overflows; a consumer takes all four. Each producer's items arrive in its order.
#[test]
fn simple_queue_overflow_keeps_each_producers_order() {
    check_bounded(1, || {
        let q = Arc::new(SimpleQueue::new());
        let producers: Vec<_> = [10, 20]
            .into_iter()
            .map(|base| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    q.put(base);
                    q.put(base + 1);
                })
            })
            .collect();
        let got: Vec<i32> = (0..4).map(|_| q.get()).collect();
        for p in producers {
            p.join().unwrap();
        }
        for base in [10, 20] {
            let mine: Vec<i32> = got
                .iter()
                .copied()
                .filter(|n| n / 10 * 10 == base)
                .collect();
            assert_eq!(mine, [base, base + 1], "SQ-4: one producer's order");
        }
    });
}

/// Q-10 on an unbounded `Queue` whose ring has overflowed: `set_maxsize` moves the ring's
/// items in front of the overflow while a getter takes one. The rest come out in order.
#[test]
fn set_maxsize_retires_an_overflowed_ring_in_order() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(0));
        for n in 1..=3 {
            q.put(n).unwrap(); // 1 and 2 in the ring, 3 in the overflow
        }
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get().unwrap())
        };
        q.set_maxsize(5);
        assert_eq!(getter.join().unwrap(), 1);
        assert_eq!(q.try_iter().collect::<Vec<_>>(), [2, 3]);
    });
}

/// Issue 14, item 7 (Q-5, QS-3): an unbounded `Queue` whose ring (2 slots) has overflowed
/// holds 2 in the ring and 3 in the overflow while its only consumer drains it with
/// `get_nowait` and another thread shuts it down, which closes the ring and moves its items to
/// the locked core. Whenever the ring closes under a pop — before it claims a slot, between the
/// ring and the overflow, under the lock — the pop hands over to the locked core: every item
/// comes out, in order, before the first error.
#[test]
fn get_nowait_racing_the_rings_closing_reports_every_item() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(0));
        for n in 1..=3 {
            q.put(n).unwrap(); // 1 and 2 in the ring, 3 in the overflow
        }
        assert_eq!(q.get_nowait(), Ok(1));
        let closer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.shutdown(false))
        };
        let mut got = Vec::new();
        let end = loop {
            match q.get_nowait() {
                Ok(n) => got.push(n),
                Err(err) => break err,
            }
        };
        closer.join().unwrap();
        assert_eq!(got, [2, 3], "stopped early at {end:?}");
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    });
}

/// Issue 14, items 7 and 9: `try_iter` and `qsize` race `set_maxsize` retiring an
/// overflowed ring (2 in the ring, 1 in the overflow). Every reading of `qsize` before the
/// drain is 3 — the ring's items are counted once, whether they are still in the ring, on
/// their way, or in the locked core — and `try_iter` takes all three, in order.
#[test]
fn try_iter_and_qsize_racing_the_rings_closing_are_exact() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(0));
        for n in 1..=3 {
            q.put(n).unwrap();
        }
        let closer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.set_maxsize(1))
        };
        assert_eq!(q.qsize(), 3);
        assert_eq!(q.qsize(), 3);
        assert_eq!(q.try_iter().collect::<Vec<_>>(), [1, 2, 3]);
        closer.join().unwrap();
        assert!(q.empty());
    });
}

/// AQ-4, AQ-6: a task's `get_async` races a thread's `put` on the ring (`Queue(1)`): the task
/// either finds the item at once or queues and is woken by the put (a lost wake-up: deadlock).
#[test]
fn async_get_races_a_put() {
    check_bounded(3, || {
        let q = Arc::new(Queue::new(1));
        let task = {
            let q = Arc::clone(&q);
            thread::spawn(move || gilfree::__loom::block_on(q.get_async()))
        };
        q.put(1).unwrap();
        assert_eq!(task.join().unwrap(), Ok(1));
        assert!(q.empty());
    });
}

/// AQ-8: a task's `get_async` is queued, then dropped, possibly after the put woke it and
/// before it ran. The wake-up passes to the thread blocked in `get()` behind it, which takes
/// the item (otherwise it sleeps for ever: deadlock); the item is never lost.
#[test]
fn a_dropped_async_getter_passes_its_wake_up_to_a_thread() {
    use std::future::Future;
    use std::task::{Context, Waker};
    check_bounded(3, || {
        let q = Arc::new(Queue::new(1));
        let mut get = Box::pin(q.get_async());
        let pending = get
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending();
        assert!(pending, "nothing was put yet: the task queues");
        let blocked = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get().unwrap()) // queued behind the task, or not yet
        };
        let putter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(7).unwrap())
        };
        // Maybe woken by now; dropped without being polled again.
        thread::yield_now();
        drop(get);
        putter.join().unwrap();
        assert_eq!(blocked.join().unwrap(), 7);
        assert!(q.empty());
    });
}

/// AQ-13, AQ-14, AQ-15: a plain shutdown races an async getter (waiting on the empty
/// `Queue(1)`) and an async putter (putting two items, the second waiting for room). Both
/// wake; every item is got by the getter, left in the queue, or handed back to the putter
/// with `ShutDown`, exactly once; a refused put adds nothing.
#[test]
fn shutdown_wakes_an_async_getter_and_an_async_putter() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(1));
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || gilfree::__loom::block_on(q.get_async()))
        };
        let putter = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                gilfree::__loom::block_on(async { [q.put_async(1).await, q.put_async(2).await] })
            })
        };
        q.shutdown(false);
        let got = getter.join().unwrap();
        let puts = putter.join().unwrap();
        let mut seen: Vec<i32> = q.try_iter().collect();
        if let Ok(item) = got {
            seen.push(item);
        } else {
            assert_eq!(got, Err(ShutDown(())));
        }
        for put in puts {
            if let Err(ShutDown(item)) = put {
                seen.push(item);
            }
        }
        seen.sort();
        assert_eq!(seen, [1, 2], "every item exactly once");
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    });
}

/// AQ-4, AQ-6 across kinds: a thread blocked in `get()` and a task awaiting `get_async()` on
/// one `LifoQueue` (one waiter list): two puts serve both, each item once.
#[test]
fn a_thread_and_a_task_get_from_one_queue() {
    check_bounded(2, || {
        let q = Arc::new(LifoQueue::new(0));
        let task = {
            let q = Arc::clone(&q);
            thread::spawn(move || gilfree::__loom::block_on(q.get_async()).unwrap())
        };
        let blocked = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get().unwrap())
        };
        q.put(1).unwrap();
        q.put(2).unwrap();
        let mut got = [task.join().unwrap(), blocked.join().unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
    });
}

/// AQ-16, AQ-17 with an async joiner: a task awaits `join_async` on a queue holding one item
/// (one unfinished task) while the thread first shuts it down plainly (which must not release
/// the joiner: the item is still unfinished), then immediately (which discards the item, the
/// count reaches zero, and the joiner must wake; otherwise loom reports a deadlock).
#[test]
fn immediate_shutdown_releases_an_async_joiner_and_plain_shutdown_does_not() {
    check_bounded(2, || {
        let q = Arc::new(Queue::new(0));
        q.put(7).unwrap();
        let joiner = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                gilfree::__loom::block_on(q.join_async());
                q.unfinished_tasks()
            })
        };
        q.shutdown(false);
        assert_eq!(q.unfinished_tasks(), 1, "a plain shutdown finishes nothing");
        q.shutdown(true);
        assert_eq!(joiner.join().unwrap(), 0);
        assert_eq!(q.qsize(), 0);
    });
}
