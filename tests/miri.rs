//! A test target sized for Miri: the code paths that hold gilfree's `unsafe` (the lock's data
//! cell, the condition's predicate access, blocking and async, the queue ring's slots, the
//! scope's lifetime erasure) and the lock-free paths around them, each driven by a few threads through a few
//! hundred operations.
//!
//! Run it under Miri with weak-memory emulation (on by default) over several seeds:
//!
//! ```text
//! MIRIFLAGS="-Zmiri-many-seeds=0..8 -Zmiri-permissive-provenance" cargo +nightly miri test --test miri
//! ```
//!
//! It also runs as an ordinary test target (`cargo test --test miri`), where it is fast.
//! Each test asserts its own result, so Miri checks both the memory model and the answer.

use gilfree::{
    Condition, Deque, Event, Future, Lock, Promise, Queue, RLock, Set, SimpleQueue,
    ThreadPoolExecutor,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

/// Threads per test: enough to race, few enough for Miri.
const THREADS: usize = 3;

/// Lock<T>: the guard's `&mut T` through the lock's cell; try and timed acquires.
#[test]
fn lock_guards_the_data() {
    let lock = Arc::new(Lock::with_value(Vec::new()));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let lock = Arc::clone(&lock);
            thread::spawn(move || {
                for i in 0..10 {
                    lock.acquire().push(t * 100 + i);
                    if let Some(mut guard) = lock.try_acquire() {
                        guard.push(1_000 + t);
                        guard.pop();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut seen = lock.acquire().clone();
    seen.sort_unstable();
    let mut expected: Vec<_> = (0..THREADS)
        .flat_map(|t| (0..10).map(move |i| t * 100 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(seen, expected);
    assert!(lock.acquire_timeout(Duration::from_millis(1)).is_some());
}

/// RLock<T>: nested guards share the data read-only; the owner check and the count.
#[test]
fn rlock_nests_and_guards_the_data() {
    let lock = Arc::new(RLock::with_value(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let lock = Arc::clone(&lock);
            thread::spawn(move || {
                for _ in 0..10 {
                    let outer = lock.acquire();
                    let inner = lock.acquire();
                    assert_eq!(lock.recursion_count(), 2);
                    // Both guards hold the lock: the read-modify-write is not racy.
                    let seen = inner.load(SeqCst);
                    outer.store(seen + 1, SeqCst);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(lock.acquire().load(SeqCst), THREADS * 10);
    assert!(!lock.locked());
}

/// Condition<T>: wait_for's predicate reads the data through the lock; notify wakes it.
#[test]
fn condition_hands_over_through_the_data() {
    let cond = Arc::new(Condition::with_value(Vec::<usize>::new()));
    let consumer = {
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < 20 {
                let mut guard = cond.acquire();
                guard.wait_for(|items| !items.is_empty());
                got.append(&mut *guard);
            }
            got
        })
    };
    for i in 0..20 {
        let mut guard = cond.acquire();
        guard.push(i);
        guard.notify_one();
    }
    assert_eq!(consumer.join().unwrap(), (0..20).collect::<Vec<_>>());
}

/// The async twins over the same cells: a task's `wait_for_async` reads the condition's data
/// through the lock's cell (the predicate's `&mut T`) while a thread writes it under
/// `acquire`, and a task's `get_async` takes ring items a thread puts; wakers cross threads.
#[test]
fn async_twins_hand_over_through_the_data() {
    let cond = Arc::new(Condition::with_value(Vec::<usize>::new()));
    let queue = Arc::new(Queue::new(2));
    let producer = {
        let (cond, queue) = (Arc::clone(&cond), Arc::clone(&queue));
        thread::spawn(move || {
            for i in 0..10 {
                let mut guard = cond.acquire();
                guard.push(i);
                guard.notify_one();
            }
            for i in 0..10 {
                queue.put(i).unwrap(); // blocks while the task has not caught up
            }
        })
    };
    let (from_cond, from_queue) = futures::executor::block_on(async {
        let (mut from_cond, mut from_queue) = (Vec::new(), Vec::new());
        while from_cond.len() < 10 {
            let guard = cond.acquire_async().await;
            let mut guard = guard.wait_for_async(|items| !items.is_empty()).await;
            from_cond.append(&mut *guard);
        }
        while from_queue.len() < 10 {
            from_queue.push(queue.get_async().await.unwrap());
        }
        (from_cond, from_queue)
    });
    producer.join().unwrap();
    assert_eq!(from_cond, (0..10).collect::<Vec<_>>());
    assert_eq!(from_queue, (0..10).collect::<Vec<_>>());
}

/// The bounded ring: two producers and two consumers through four slots; every item exactly
/// once, each producer's items in order; task_done/join.
#[test]
fn bounded_ring_hands_every_item_once() {
    const PER_PRODUCER: usize = 40;
    let q = Arc::new(Queue::new(4));
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    q.put((p, i)).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut got = Vec::new();
                for _ in 0..PER_PRODUCER {
                    got.push(q.get().unwrap());
                    q.task_done().unwrap();
                }
                got
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<(usize, usize)> = Vec::new();
    for c in consumers {
        let got = c.join().unwrap();
        for p in 0..2 {
            let mine: Vec<_> = got
                .iter()
                .filter(|(q, _)| *q == p)
                .map(|(_, i)| *i)
                .collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {p} out of order"
            );
        }
        all.extend(got);
    }
    q.join();
    all.sort_unstable();
    let expected: Vec<_> = (0..2)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| (p, i)))
        .collect();
    assert_eq!(all, expected);
    assert_eq!(q.qsize(), 0);
}

/// The ring retired under traffic: `set_maxsize` and then `shutdown` move the ring's items to
/// the locked core while a consumer drains; nothing is lost or duplicated.
#[test]
fn ring_retired_under_traffic_loses_nothing() {
    const ITEMS: usize = 60;
    let q = Arc::new(Queue::new(8));
    let consumer = {
        let q = Arc::clone(&q);
        thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(x) = q.get() {
                got.push(x);
            }
            got
        })
    };
    for i in 0..ITEMS {
        if i == ITEMS / 3 {
            q.set_maxsize(16);
        }
        q.put(i).unwrap();
    }
    q.shutdown(false);
    let got = consumer.join().unwrap();
    assert_eq!(got, (0..ITEMS).collect::<Vec<_>>());
}

/// An unbounded queue's ring overflowing into the locked core and back, with a racing getter
/// using the lock-free `get_nowait` and `try_iter`.
#[test]
fn unbounded_ring_overflow_keeps_order() {
    let q = Arc::new(Queue::new(0));
    // Past the ring (1,024 slots for a small item at most) into the overflow.
    const ITEMS: usize = 1_100;
    let producer = {
        let q = Arc::clone(&q);
        thread::spawn(move || {
            for i in 0..ITEMS {
                q.put(i).unwrap();
            }
        })
    };
    let mut got = Vec::with_capacity(ITEMS);
    while got.len() < ITEMS {
        match q.get_nowait() {
            Ok(x) => got.push(x),
            Err(_) => thread::yield_now(),
        }
        got.extend(q.try_iter().take(50));
    }
    producer.join().unwrap();
    assert_eq!(got, (0..ITEMS).collect::<Vec<_>>());
    assert!(q.empty());
}

/// Dropping a queue with items still in its ring drops each of them once.
#[test]
fn dropping_a_queue_drops_its_items() {
    let live = Arc::new(AtomicUsize::new(0));
    struct Item(Arc<AtomicUsize>);
    impl Drop for Item {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SeqCst);
        }
    }
    {
        let q = Queue::new(4);
        for _ in 0..3 {
            live.fetch_add(1, SeqCst);
            q.put(Item(Arc::clone(&live))).unwrap();
        }
        drop(q.get().unwrap());
    }
    assert_eq!(live.load(SeqCst), 0);
}

/// A panicking `Drop` while the ring drops: the ring's drop guard pops and drops the rest of
/// the slots during the unwind (issue 14), each exactly once.
#[test]
fn dropping_a_ring_past_a_panicking_drop_drops_the_rest() {
    struct Item(Arc<AtomicUsize>, bool);
    impl Drop for Item {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SeqCst);
            if self.1 {
                panic!("an item's Drop panics");
            }
        }
    }
    let live = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(8);
    for i in 0..5 {
        live.fetch_add(1, SeqCst);
        q.put(Item(Arc::clone(&live), i == 1)).unwrap();
    }
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(q)));
    assert!(caught.is_err(), "the item's panic continues");
    assert_eq!(live.load(SeqCst), 0, "every item dropped once");
}

/// SimpleQueue: two producers, one consumer; every item once.
#[test]
fn simple_queue_hands_every_item_once() {
    let q = Arc::new(SimpleQueue::new());
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..50 {
                    q.put(p * 1_000 + i);
                }
            })
        })
        .collect();
    let mut got: Vec<usize> = (0..100).map(|_| q.get()).collect();
    for p in producers {
        p.join().unwrap();
    }
    got.sort_unstable();
    let mut expected: Vec<usize> = (0..2)
        .flat_map(|p| (0..50).map(move |i| p * 1_000 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(got, expected);
}

/// Future and Promise across threads: the value, a done-callback, a waiter in `result`.
#[test]
fn future_publishes_its_value() {
    let (promise, future) = Promise::new();
    let calls = Arc::new(AtomicUsize::new(0));
    {
        let calls = Arc::clone(&calls);
        future.add_done_callback(move |f: &Future<String>| {
            assert_eq!(f.result().unwrap(), "done");
            calls.fetch_add(1, SeqCst);
        });
    }
    let waiter = {
        let future = future.clone();
        thread::spawn(move || future.result().unwrap().clone())
    };
    let setter = thread::spawn(move || promise.set_result("done".to_string()).unwrap());
    setter.join().unwrap();
    assert_eq!(waiter.join().unwrap(), "done");
    assert_eq!(calls.load(SeqCst), 1);
    assert!(!future.cancel(), "a finished future cannot be cancelled");
}

/// The pool: tasks on two workers, results in order through `map`, a panicking task.
#[test]
fn pool_runs_tasks_and_reports_panics() {
    let pool = ThreadPoolExecutor::new(2);
    let squares: Vec<usize> = pool
        .map(|x: usize| x * x, 0..12)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(squares, (0..12).map(|x| x * x).collect::<Vec<_>>());
    let failed = pool.submit(|| -> usize { panic!("boom") });
    assert!(failed.result().is_err());
    let after = pool.submit(|| 7);
    assert_eq!(*after.result().unwrap(), 7);
    pool.shutdown(true, false);
}

/// The scope: tasks borrow the caller's data, and `scope` returns only when they are done.
#[test]
fn scope_tasks_borrow_local_data() {
    let pool = ThreadPoolExecutor::new(2);
    let data: Vec<usize> = (1..=20).collect();
    let total = AtomicUsize::new(0);
    pool.scope(|s| {
        for chunk in data.chunks(5) {
            let total = &total;
            s.submit(move || total.fetch_add(chunk.iter().sum::<usize>(), SeqCst));
        }
    });
    assert_eq!(total.load(SeqCst), 210);
}

/// A scoped task cancelled while queued: its closure's captures borrow the scope's data and
/// read it in their `Drop`. The scope must not return before that drop (issue 14, item 1:
/// before the fix Miri reported a use-after-free here).
#[test]
fn scope_drops_a_cancelled_task_before_returning() {
    struct ReadsOnDrop<'a>(&'a Vec<usize>, &'a AtomicUsize);
    impl Drop for ReadsOnDrop<'_> {
        fn drop(&mut self) {
            self.1.fetch_add(self.0.iter().sum::<usize>(), SeqCst);
        }
    }
    let pool = ThreadPoolExecutor::new(1);
    let dropped = AtomicUsize::new(0);
    {
        let borrowed = vec![1, 2, 3];
        let gate = Event::new();
        pool.scope(|s| {
            // Occupies the only worker until the second task is cancelled.
            let gate = &gate;
            s.submit(move || {
                gate.wait();
            });
            let captures = ReadsOnDrop(&borrowed, &dropped);
            let queued = s.submit(move || {
                let _keep = &captures;
            });
            assert!(queued.cancel(), "the task is still queued");
            gate.set();
        });
        // `borrowed` is freed here; the cancelled closure must already be gone.
    }
    assert_eq!(dropped.load(SeqCst), 6);
}

/// The same, with captures whose `Drop` reads the borrowed data and then panics, on a task
/// cancelled while queued and on one that ran: the worker contains the panics, and the scope
/// still returns only after both drops.
#[test]
fn scope_waits_for_drops_that_panic() {
    struct PanicsOnDrop<'a>(&'a Vec<usize>, &'a AtomicUsize);
    impl Drop for PanicsOnDrop<'_> {
        fn drop(&mut self) {
            self.1.fetch_add(self.0.iter().sum::<usize>(), SeqCst);
            panic!("a capture's Drop panics");
        }
    }
    let pool = ThreadPoolExecutor::new(1);
    let dropped = AtomicUsize::new(0);
    {
        let borrowed = vec![10, 20];
        let gate = Event::new();
        pool.scope(|s| {
            let gate = &gate;
            let ran = PanicsOnDrop(&borrowed, &dropped);
            let first = s.submit(move || {
                let _keep = &ran;
                gate.wait();
            });
            let cancelled = PanicsOnDrop(&borrowed, &dropped);
            let queued = s.submit(move || {
                let _keep = &cancelled;
            });
            assert!(queued.cancel(), "the task is still queued");
            gate.set();
            // The panic in the ran task's captures is that task's exception.
            assert!(first.result().is_err());
        });
    }
    assert_eq!(dropped.load(SeqCst), 60);
    // The worker survived both panics.
    assert_eq!(*pool.submit(|| 5).result().unwrap(), 5);
}

/// Deque and Set: the locked collections under a few threads.
#[test]
fn collections_under_threads() {
    let dq = Arc::new(Deque::with_maxlen(8));
    let set = Arc::new(Set::new());
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (dq, set) = (Arc::clone(&dq), Arc::clone(&set));
            thread::spawn(move || {
                for i in 0..20 {
                    dq.append(t * 100 + i);
                    set.add(t * 100 + i);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(dq.len(), 8);
    assert_eq!(set.len(), THREADS * 20);
}
