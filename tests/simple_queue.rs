//! Integration tests for `SimpleQueue` (SEMANTICS.md §10: SQ-*).
//!
//! Left out, or replaced by their Rust equivalent:
//! * SQ-1's missing `maxsize`, `full`, `task_done`, `join` and `shutdown` are absent from the
//!   type, so calling them does not compile; `put` returns `()`, so it cannot fail.
//! * SQ-3 (a negative timeout is a ValueError): a `Duration` cannot be negative, and
//!   `get_nowait` is its own method, so neither call can be written. The edge values are tested
//!   instead: `Duration::ZERO` tries once (SQ-2) and `Duration::MAX` waits forever.
//! * SQ-5's `test_reentrancy` (a put from `__del__`) and `test_is_default` are [PY]; the Rust
//!   part of SQ-5, ownership moving out with the item, is tested.
//! * The repr is [PY]; the `Debug` output is checked instead.

mod common;

use common::*;
use gilfree::{Empty, SimpleQueue};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

static_assertions::assert_impl_all!(SimpleQueue<u8>: Send, Sync, std::fmt::Debug, Default);
static_assertions::assert_impl_all!(SimpleQueue<std::cell::Cell<u8>>: Send, Sync);
static_assertions::assert_not_impl_any!(SimpleQueue<std::rc::Rc<u8>>: Send, Sync);

/// SQ-1: a SimpleQueue is a FIFO: after 111, 333, 222 it gives 111, 333, 222, whichever get
/// form takes them.
#[test]
fn sq1_first_in_first_out() {
    for form in 0..4 {
        let q = SimpleQueue::new();
        for n in [111, 333, 222] {
            q.put(n);
        }
        let got: Vec<i32> = (0..3)
            .map(|_| match form {
                0 => q.get(),
                1 => q.get_nowait().unwrap(),
                2 => q.get_timeout(LONG).unwrap(),
                _ => q.get_timeout(Duration::ZERO).unwrap(),
            })
            .collect();
        assert_eq!(got, [111, 333, 222], "get form {form}");
        assert!(q.empty());
    }
}

/// SQ-1: `put` never blocks (it is unbounded), and `qsize`/`empty` track the size as items go
/// in and out.
#[test]
fn sq1_unbounded_and_sized() {
    let q = SimpleQueue::new();
    assert!(q.empty());
    assert_eq!(q.qsize(), 0);
    at_once("10,000 puts", || {
        for n in 0..10_000 {
            q.put(n);
            if n % 1000 == 0 {
                assert_eq!(q.qsize(), n + 1);
                assert!(!q.empty());
            }
        }
    });
    assert_eq!(q.qsize(), 10_000);
    for n in 0..10_000 {
        assert_eq!(q.get_nowait(), Ok(n));
        assert_eq!(q.qsize(), 9_999 - n);
    }
    assert!(q.empty());
    assert!(SimpleQueue::<u8>::default().empty());
}

/// SQ-1 (Debug, in place of Python's repr): `Debug` names the type and shows `qsize`.
#[test]
fn sq1_debug_shows_qsize() {
    let q = SimpleQueue::new();
    assert_eq!(format!("{q:?}"), "SimpleQueue { qsize: 0 }");
    q.put('a');
    q.put('b');
    assert_eq!(format!("{q:?}"), "SimpleQueue { qsize: 2 }");
}

/// SQ-2: on an empty queue `get_nowait` and `get_timeout(ZERO)` fail with Empty at once and
/// `get_timeout(t)` (1 ms, and T) after about t; `get_timeout` returns a present item at once
/// (`ZERO` included).
#[test]
fn sq2_get_on_empty_queue_is_empty() {
    let q = SimpleQueue::new();
    assert_eq!(at_once("get_nowait", || q.get_nowait()), Err(Empty));
    assert_eq!(
        at_once("get_timeout(ZERO)", || q.get_timeout(Duration::ZERO)),
        Err(Empty)
    );
    assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(Empty));
    let start = Instant::now();
    assert_eq!(q.get_timeout(T), Err(Empty));
    assert_timeout(start.elapsed(), T);
    assert!(q.empty());

    q.put(1);
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(1), "ZERO did not try");
    q.put(2);
    assert_eq!(
        at_once("get_timeout(T) with an item", || q.get_timeout(T)),
        Ok(2)
    );
    q.put(3);
    assert_eq!(q.get_nowait(), Ok(3));
    assert_eq!(q.get_nowait(), Err(Empty));
}

/// SQ-2: a blocking `get`, and `get_timeout` with a long timeout, wait until another thread
/// puts; each put lets exactly one of 3 blocked getters through.
#[test]
fn sq2_blocked_getters_wait_for_puts() {
    let q = Arc::new(SimpleQueue::new());
    let done = Arc::new(AtomicUsize::new(0));
    let getters = start_blocked((0..3).map(|i| {
        let (q, done) = (Arc::clone(&q), Arc::clone(&done));
        move || {
            let got = if i == 0 {
                q.get()
            } else {
                q.get_timeout(LONG).unwrap()
            };
            done.fetch_add(1, SeqCst);
            got
        }
    }));
    assert_blocked(&getters, "get on an empty queue");
    for n in 1..=3 {
        q.put(n);
        poll_until("a getter to take the item", || done.load(SeqCst) == n);
        let_threads_block_after(BLOCK_LEAD, 3);
        assert_eq!(done.load(SeqCst), n, "one put released two getters");
        assert!(q.empty());
    }
    let mut got: Vec<usize> = getters.into_iter().map(join_within).collect();
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3]);
}

/// SQ-3 (Rust equivalent): `get_timeout(Duration::MAX)` waits forever rather than overflowing
/// or timing out, and is satisfied by another thread's put.
#[test]
fn sq3_duration_max_waits_forever() {
    let q = Arc::new(SimpleQueue::new());
    let getter = start_blocked([{
        let q = Arc::clone(&q);
        move || q.get_timeout(Duration::MAX)
    }]);
    assert_blocked(&getter, "get_timeout(MAX) on an empty queue");
    q.put("x");
    for h in getter {
        assert_eq!(join_within(h), Ok("x"));
    }
}

/// SQ-4: with one producer and one consumer the order is kept exactly, whichever get form the
/// consumer uses.
#[test]
fn sq4_one_producer_one_consumer_keeps_order() {
    const N: u32 = 20_000;
    let q = Arc::new(SimpleQueue::new());
    let producer = {
        let q = Arc::clone(&q);
        thread::spawn(move || (0..N).for_each(|n| q.put(n)))
    };
    let start = Instant::now();
    let mut got = Vec::with_capacity(N as usize);
    while got.len() < N as usize {
        let next = match got.len() % 3 {
            0 => Ok(q.get()),
            1 => q.get_timeout(LONG),
            _ => q.get_nowait(),
        };
        match next {
            Ok(n) => got.push(n),
            Err(Empty) => {
                assert!(start.elapsed() < DEADLINE, "the producer stalled");
                thread::yield_now();
            }
        }
    }
    join_within(producer);
    assert!(got.iter().copied().eq(0..N), "the order was not kept");
    assert!(q.empty());
}

/// How a consumer in [`many_producers_and_consumers`] takes items.
#[derive(Clone, Copy, Debug)]
enum GetForm {
    Blocking,
    Nowait,
    Timeout,
}

/// `producers` threads put `per_producer` distinct items each, then one `None` per consumer;
/// `consumers` threads take items with `form` until they see `None`. Checks that every item
/// arrives exactly once, and that each consumer sees each producer's items in order (FIFO).
fn many_producers_and_consumers(
    producers: u32,
    consumers: usize,
    per_producer: u32,
    form: GetForm,
) {
    with_watchdog(move || {
        let q = Arc::new(SimpleQueue::new());
        let consumer_handles: Vec<_> = (0..consumers)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    let start = Instant::now();
                    let mut got = Vec::new();
                    loop {
                        let next = match form {
                            GetForm::Blocking => Ok(q.get()),
                            GetForm::Nowait => q.get_nowait(),
                            GetForm::Timeout => q.get_timeout(Duration::from_millis(1)),
                        };
                        match next {
                            Ok(Some(id)) => got.push(id),
                            Ok(None) => return got,
                            Err(Empty) => {
                                assert!(start.elapsed() < DEADLINE, "the producers stalled");
                                thread::yield_now();
                            }
                        }
                    }
                })
            })
            .collect();
        let producer_handles: Vec<_> = (0..producers)
            .map(|p| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    for n in 0..per_producer {
                        q.put(Some(p * per_producer + n));
                    }
                })
            })
            .collect();
        for h in producer_handles {
            join_within(h);
        }
        for _ in 0..consumers {
            q.put(None);
        }

        let mut seen = vec![false; (producers * per_producer) as usize];
        for got in consumer_handles.into_iter().map(join_within) {
            let mut last = vec![None; producers as usize];
            for id in got {
                assert!(
                    !seen[id as usize],
                    "item {id} was received twice ({form:?})"
                );
                seen[id as usize] = true;
                let p = (id / per_producer) as usize;
                assert!(
                    last[p] < Some(id),
                    "producer {p}'s items reordered ({form:?})"
                );
                last[p] = Some(id);
            }
        }
        let lost: Vec<usize> = (0..seen.len()).filter(|&i| !seen[i]).take(10).collect();
        assert!(
            lost.is_empty(),
            "items lost ({form:?}), among them {lost:?}"
        );
        assert!(q.empty());
    });
}

/// SQ-4: 20 producers and 20 consumers with blocking gets: nothing lost or duplicated.
#[test]
fn sq4_many_threads_blocking_get() {
    many_producers_and_consumers(20, 20, 500, GetForm::Blocking);
}

/// SQ-4: 20 producers and 20 consumers with `get_nowait` (retrying on Empty): nothing lost or
/// duplicated.
#[test]
fn sq4_many_threads_get_nowait() {
    many_producers_and_consumers(20, 20, 500, GetForm::Nowait);
}

/// SQ-4: 20 producers and 20 consumers with `get_timeout` (1 ms, retrying on Empty): nothing
/// lost or duplicated.
#[test]
fn sq4_many_threads_get_timeout() {
    many_producers_and_consumers(20, 20, 500, GetForm::Timeout);
}

/// SQ-4 (stress): 4 producers and 4 consumers move 100,000 items with blocking gets: nothing
/// lost or duplicated, each producer's items in order.
#[test]
fn sq4_stress_producers_and_consumers() {
    many_producers_and_consumers(4, 4, 25_000, GetForm::Blocking);
}

/// SQ-4 (memory ordering): what a thread wrote before `put(x)` is visible to the thread whose
/// `get` returns `x`.
#[test]
fn sq4_put_publishes_earlier_writes() {
    for round in 0..50 {
        let q = Arc::new(SimpleQueue::new());
        let data = Arc::new(AtomicUsize::new(0));
        let h = {
            let (q, data) = (Arc::clone(&q), Arc::clone(&data));
            thread::spawn(move || {
                let n = q.get_timeout(DEADLINE).unwrap();
                (n, data.load(std::sync::atomic::Ordering::Relaxed))
            })
        };
        data.store(round + 1, std::sync::atomic::Ordering::Relaxed);
        q.put(round);
        assert_eq!(join_within(h), (round, round + 1));
    }
}

/// SQ-5: the queue holds the only extra reference to a queued item and gives it up with the
/// item: once taken out, the item belongs to the caller; dropping the queue drops what it holds.
#[test]
fn sq5_item_is_released_when_taken() {
    let item = Arc::new(());
    let q = SimpleQueue::new();
    q.put(Arc::clone(&item));
    q.put(Arc::clone(&item));
    assert_eq!(Arc::strong_count(&item), 3);
    let taken = q.get();
    assert_eq!(Arc::strong_count(&item), 3, "the queue kept a copy");
    drop(taken);
    assert_eq!(Arc::strong_count(&item), 2);
    drop(q.get_nowait().unwrap());
    assert_eq!(Arc::strong_count(&item), 1);

    q.put(Arc::clone(&item));
    q.put(Arc::clone(&item));
    drop(q);
    assert_eq!(
        Arc::strong_count(&item),
        1,
        "dropping the queue leaked its items"
    );
}
