//! Integration tests for `Queue`, `LifoQueue` and `PriorityQueue` (SEMANTICS.md §9: Q-*, QS-*).
//!
//! The three kinds are one type, `BaseQueue<T, O>`. Every behaviour they share is written once,
//! as a function generic over the order `O`, and `kinds!` turns it into one test per kind:
//! `<behaviour>::queue`, `<behaviour>::lifo_queue` and `<behaviour>::priority_queue`.
//!
//! Left out, or replaced by their Rust equivalent:
//! * Q-3's `Queue(-5)`: `maxsize` is a `usize`, so a negative bound does not compile; `0`, the
//!   unbounded value, is tested.
//! * Q-7 (a negative timeout is a ValueError; `block=False` ignores the timeout): a `Duration`
//!   cannot be negative, and `put_nowait`/`put_timeout` are separate methods, so neither call
//!   can be written. The edge values are tested instead: `Duration::ZERO` tries once
//!   and `Duration::MAX` waits forever (`q6_duration_max_waits_forever`).
//! * Q-10 is [API] (optional): `set_maxsize` is the Rust form and is tested.
//! * Q-11 (an exception in the subclass hooks `_put`/`_get`, [PY]): Rust has no such hooks. The
//!   only user code a queue runs under its lock is a PriorityQueue item's `Ord`; a panicking
//!   `Ord` must leave the queue usable, which is tested instead.
//! * Q-1's tie-break is [IMPL]: nothing is asserted beyond what the items' `Ord` decides.
//! * The repr is [PY]; the `Debug` output is checked instead.

mod common;

use common::*;
use gilfree::queue::{BaseQueue, Fifo, Lifo, Order, Priority};
use gilfree::{
    Empty, Event, GetError, LifoQueue, PriorityQueue, PutError, Queue, ShutDown, ValueError,
};
use proptest::prelude::*;
use std::cmp::{self, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

static_assertions::assert_impl_all!(Queue<u8>: Send, Sync, fmt::Debug, Default);
static_assertions::assert_impl_all!(LifoQueue<u8>: Send, Sync, fmt::Debug, Default);
static_assertions::assert_impl_all!(PriorityQueue<u8>: Send, Sync, fmt::Debug, Default);
// Items move in and out whole, never shared: a queue of `Send` items is `Sync`, as a Mutex is.
static_assertions::assert_impl_all!(Queue<std::cell::Cell<u8>>: Send, Sync);
static_assertions::assert_not_impl_any!(Queue<std::rc::Rc<u8>>: Send, Sync);
static_assertions::assert_impl_all!(gilfree::queue::Iter<'static, u8, Fifo>: fmt::Debug);
static_assertions::assert_impl_all!(gilfree::queue::TryIter<'static, u8, Lifo>: fmt::Debug);
static_assertions::assert_impl_all!(PutError<u8>: Send, Sync, std::error::Error, Copy, Eq);
static_assertions::assert_impl_all!(ShutDown<u8>: Send, Sync, std::error::Error, Copy, Eq);
static_assertions::assert_impl_all!(ShutDown: Default);
static_assertions::assert_impl_all!(GetError: Send, Sync, std::error::Error, Copy, Eq);
static_assertions::assert_impl_all!(Empty: Send, Sync, std::error::Error, Copy, Eq, Default);

// ---------------------------------------------------------------------------------------------
// The three kinds

/// A queue order the shared tests run with, over `u32` items.
trait Kind: Order<u32, Store: Send> + 'static {
    /// Python's class name, which `Debug` shows.
    const PY_NAME: &'static str;
    /// Whether the kind is first in, first out (`Queue`).
    const FIFO: bool;
    /// The order in which a queue of this kind hands out `put`, put in this order.
    fn expected(put: &[u32]) -> Vec<u32>;
}

impl Kind for Fifo {
    const PY_NAME: &'static str = "Queue";
    const FIFO: bool = true;
    fn expected(put: &[u32]) -> Vec<u32> {
        put.to_vec()
    }
}

impl Kind for Lifo {
    const PY_NAME: &'static str = "LifoQueue";
    const FIFO: bool = false;
    fn expected(put: &[u32]) -> Vec<u32> {
        put.iter().rev().copied().collect()
    }
}

impl Kind for Priority {
    const PY_NAME: &'static str = "PriorityQueue";
    const FIFO: bool = false;
    fn expected(put: &[u32]) -> Vec<u32> {
        let mut v = put.to_vec();
        v.sort_unstable();
        v
    }
}

type Q<O> = BaseQueue<u32, O>;

/// Runs the generic test body `$name::<O>` once per queue kind, as `$name::queue`,
/// `$name::lifo_queue` and `$name::priority_queue`.
macro_rules! kinds {
    ($name:ident) => {
        #[doc = concat!("[`", stringify!($name), "`](fn@", stringify!($name), ") for each kind.")]
        mod $name {
            #[test]
            fn queue() {
                super::$name::<gilfree::queue::Fifo>();
            }
            #[test]
            fn lifo_queue() {
                super::$name::<gilfree::queue::Lifo>();
            }
            #[test]
            fn priority_queue() {
                super::$name::<gilfree::queue::Priority>();
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A queue bounded at `items.len()`, holding `items` (so it is full).
fn full_queue<O: Kind>(items: &[u32]) -> Arc<Q<O>> {
    let q = Arc::new(Q::<O>::new(items.len()));
    for &n in items {
        q.put_nowait(n).unwrap();
    }
    assert!(q.full());
    q
}

/// Runs `f`, asserting (CPython's bounds) that it took about `t`.
fn timed<R>(t: Duration, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    assert_timeout(start.elapsed(), t);
    r
}

/// Sorted, for comparing contents whatever the order.
fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

/// A `Priority`-orderable token, neither `Copy` nor `Clone`, that counts its drops. One made by
/// [`Token::touchy`] is a PriorityQueue item whose comparison panics while `panics` is above
/// zero (once per unit), for Q-11.
struct Token {
    id: u32,
    drops: Arc<AtomicUsize>,
    /// Set by [`Token::touchy`] only: `cmp` panics while it is above zero, taking one off.
    panics: Option<Arc<AtomicUsize>>,
}

impl Token {
    /// A token that never panics.
    fn new(id: u32, drops: &Arc<AtomicUsize>) -> Token {
        Token {
            id,
            drops: Arc::clone(drops),
            panics: None,
        }
    }

    /// A token whose `cmp` panics while `panics` is above zero.
    fn touchy(id: u32, panics: &Arc<AtomicUsize>, drops: &Arc<AtomicUsize>) -> Token {
        Token {
            id,
            drops: Arc::clone(drops),
            panics: Some(Arc::clone(panics)),
        }
    }
}

impl Ord for Token {
    fn cmp(&self, other: &Self) -> cmp::Ordering {
        let panic_now = self.panics.as_ref().is_some_and(|panics| {
            panics
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok()
        });
        if panic_now {
            panic!("Token::cmp panics on purpose");
        }
        self.id.cmp(&other.id)
    }
}

impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Self) -> Option<cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Token {}

impl Drop for Token {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

// ---------------------------------------------------------------------------------------------
// Q-1 .. Q-10

/// after putting 111, 333, 222, a Queue gives 111, 333, 222, a LifoQueue 222, 333, 111 and
/// a PriorityQueue 111, 222, 333, whichever get form takes them; likewise for 100 items.
fn q1_order<O: Kind>() {
    let put = [111, 333, 222];
    let want = O::expected(&put);
    for form in 0..4 {
        let q = Q::<O>::new(0);
        for n in put {
            q.put(n).unwrap();
        }
        let got: Vec<u32> = (0..put.len())
            .map(|_| match form {
                0 => q.get().unwrap(),
                1 => q.get_nowait().unwrap(),
                2 => q.get_timeout(LONG).unwrap(),
                _ => q.get_timeout(Duration::ZERO).unwrap(),
            })
            .collect();
        assert_eq!(got, want, "{} with get form {form}", O::PY_NAME);
        assert!(q.empty());
    }

    // 100 items in a scrambled order, through the other put forms.
    let put: Vec<u32> = (0..100u32).map(|i| (i * 37) % 101).collect();
    let q = Q::<O>::new(100);
    for (i, &n) in put.iter().enumerate() {
        if i % 2 == 0 {
            q.put_nowait(n).unwrap();
        } else {
            q.put_timeout(n, LONG).unwrap();
        }
    }
    assert_eq!(q.try_iter().collect::<Vec<_>>(), O::expected(&put));
}
kinds!(q1_order);

/// a PriorityQueue of tuples orders by the whole item, as Python compares tuples:
/// `(1, 'a')` before `(1, 'b')`.
#[test]
fn q1_priority_queue_compares_whole_items() {
    let q = PriorityQueue::new(0);
    for item in [(1, 'b'), (2, 'a'), (0, 'z'), (1, 'a')] {
        q.put(item).unwrap();
    }
    assert_eq!(
        q.try_iter().collect::<Vec<_>>(),
        [(0, 'z'), (1, 'a'), (1, 'b'), (2, 'a')]
    );
}

/// a new queue is empty and not full; `qsize` counts the items; `full()` is true exactly
/// when `0 < maxsize <= qsize`.
fn q2_sizes<O: Kind>() {
    let q = Q::<O>::new(3);
    assert!(q.empty());
    assert!(!q.full());
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.maxsize(), 3);
    for n in 1..=3u32 {
        q.put(n).unwrap();
        assert_eq!(q.qsize(), n as usize);
        assert!(!q.empty());
        assert_eq!(q.full(), n == 3, "full() with {n} of 3");
    }
    for left in (0..3usize).rev() {
        q.get().unwrap();
        assert_eq!(q.qsize(), left);
        assert!(!q.full());
        assert_eq!(q.empty(), left == 0);
    }

    let d = Q::<O>::default();
    assert_eq!(d.maxsize(), 0);
    assert!(d.empty());
    assert!(!d.full());
}
kinds!(q2_sizes);

/// `maxsize` 0 means unbounded: `full()` stays false and no put form blocks or fails.
fn q3_zero_maxsize_is_unbounded<O: Kind>() {
    let q = Q::<O>::new(0);
    at_once("300 puts on an unbounded queue", || {
        for n in 0..100 {
            q.put(n).unwrap();
            q.put_nowait(n).unwrap();
            q.put_timeout(n, Duration::ZERO).unwrap();
            assert!(!q.full());
        }
    });
    assert_eq!(q.qsize(), 300);
    assert_eq!(q.maxsize(), 0);
    assert_eq!(q.unfinished_tasks(), 300);
}
kinds!(q3_zero_maxsize_is_unbounded);

/// on a full queue `put_nowait` and `put_timeout(ZERO)` fail with Full at once and
/// `put_timeout(t)` after about t, each handing its item back; the queue is unchanged, and
/// takes items again once there is room.
fn q4_put_on_full_queue_is_full<O: Kind>() {
    let q = full_queue::<O>(&[1, 2]);
    assert_eq!(
        at_once("put_nowait", || q.put_nowait(3)),
        Err(PutError::Full(3))
    );
    assert_eq!(
        at_once("put_timeout(ZERO)", || q.put_timeout(4, Duration::ZERO)),
        Err(PutError::Full(4))
    );
    assert_eq!(timed(T, || q.put_timeout(5, T)), Err(PutError::Full(5)));
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.unfinished_tasks(), 2, "a failed put counted a task");
    assert!(q.full());

    let mut got = vec![q.get().unwrap()];
    assert_eq!(q.put_timeout(6, Duration::ZERO), Ok(()), "ZERO did not try");
    got.push(q.get().unwrap());
    assert_eq!(q.put_nowait(7), Ok(()));
    got.extend(q.try_iter());
    assert_eq!(sorted(got), [1, 2, 6, 7]);
}
kinds!(q4_put_on_full_queue_is_full);

/// on an empty queue `get_nowait` and `get_timeout(ZERO)` fail with Empty at once and
/// `get_timeout(t)` after about t; `get_timeout(ZERO)` takes an item that is there.
fn q5_get_on_empty_queue_is_empty<O: Kind>() {
    let q = Q::<O>::new(0);
    assert_eq!(
        at_once("get_nowait", || q.get_nowait()),
        Err(GetError::Empty)
    );
    assert_eq!(
        at_once("get_timeout(ZERO)", || q.get_timeout(Duration::ZERO)),
        Err(GetError::Empty)
    );
    assert_eq!(timed(T, || q.get_timeout(T)), Err(GetError::Empty));
    assert_eq!(q.qsize(), 0);

    q.put(9).unwrap();
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(9), "ZERO did not try");
    q.put(8).unwrap();
    assert_eq!(
        at_once("get_timeout(T) with an item", || q.get_timeout(T)),
        Ok(8)
    );
}
kinds!(q5_get_on_empty_queue_is_empty);

/// `try_iter` takes what is queued now, in the kind's order, and stops at the first Empty
/// without waiting; it does not finish tasks.
fn q5_try_iter_takes_what_is_there<O: Kind>() {
    let q = Q::<O>::new(0);
    assert_eq!(
        at_once("try_iter on an empty queue", || q.try_iter().next()),
        None
    );
    for n in [5, 1, 4] {
        q.put(n).unwrap();
    }
    let got: Vec<u32> = at_once("try_iter", || q.try_iter().collect());
    assert_eq!(got, O::expected(&[5, 1, 4]));
    assert!(q.empty());
    assert_eq!(q.unfinished_tasks(), 3);

    // A fresh iterator sees later puts; after a plain shutdown it still drains, then stops.
    q.put(2).unwrap();
    q.put(3).unwrap();
    q.shutdown(false);
    assert_eq!(q.try_iter().collect::<Vec<_>>(), O::expected(&[2, 3]));
    assert_eq!(q.try_iter().next(), None);
}
kinds!(q5_try_iter_takes_what_is_there);

/// a blocking `put` on a full queue waits until another thread's `get`, and a blocking
/// `get` on an empty queue until a `put`; the same with a timeout (`put_timeout`/`get_timeout`
/// with a long one).
fn q6_blocking_put_and_get_wait_for_each_other<O: Kind>() {
    for with_timeout in [false, true] {
        let q = Arc::new(Q::<O>::new(1));
        let getter = start_blocked([{
            let q = Arc::clone(&q);
            move || {
                if with_timeout {
                    q.get_timeout(LONG).ok()
                } else {
                    q.get().ok()
                }
            }
        }]);
        assert_blocked(&getter, "get on an empty queue");
        q.put(7).unwrap();
        for h in getter {
            assert_eq!(join_within(h), Some(7));
        }

        q.put(1).unwrap();
        let putter = start_blocked([{
            let q = Arc::clone(&q);
            move || {
                if with_timeout {
                    q.put_timeout(2, LONG).is_ok()
                } else {
                    q.put(2).is_ok()
                }
            }
        }]);
        assert_blocked(&putter, "put on a full queue");
        assert_eq!(q.qsize(), 1);
        assert_eq!(q.get(), Ok(1));
        for h in putter {
            assert!(join_within(h), "the put failed");
        }
        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.unfinished_tasks(), 3);
    }
}
kinds!(q6_blocking_put_and_get_wait_for_each_other);

/// each put lets one blocked getter through: with 3 getters blocked, the first put
/// releases exactly one, the next another.
fn q6_each_put_releases_one_getter<O: Kind>() {
    let q = Arc::new(Q::<O>::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let getters = start_blocked((0..3).map(|i| {
        let (q, done) = (Arc::clone(&q), Arc::clone(&done));
        move || {
            let got = if i == 0 {
                q.get().unwrap()
            } else {
                q.get_timeout(LONG).unwrap()
            };
            done.fetch_add(1, SeqCst);
            got
        }
    }));
    assert_blocked(&getters, "get on an empty queue");
    for n in 1..=3 {
        q.put(n).unwrap();
        poll_until("a getter to take the item", || {
            done.load(SeqCst) == n as usize
        });
        let_threads_block_after(BLOCK_LEAD, 3);
        assert_eq!(
            done.load(SeqCst),
            n as usize,
            "one put released two getters"
        );
        assert_eq!(q.qsize(), 0);
    }
    let got: Vec<u32> = getters.into_iter().map(join_within).collect();
    assert_eq!(sorted(got), [1, 2, 3]);
}
kinds!(q6_each_put_releases_one_getter);

/// each get lets one blocked putter through: with 3 putters blocked on a full queue, each
/// get makes room for exactly one.
fn q6_each_get_releases_one_putter<O: Kind>() {
    let q = full_queue::<O>(&[0]);
    let done = Arc::new(AtomicUsize::new(0));
    let putters = start_blocked((0..3).map(|i| {
        let (q, done) = (Arc::clone(&q), Arc::clone(&done));
        move || {
            if i == 0 {
                q.put(10 + i).unwrap();
            } else {
                q.put_timeout(10 + i, LONG).unwrap();
            }
            done.fetch_add(1, SeqCst);
        }
    }));
    assert_blocked(&putters, "put on a full queue");
    let mut got = Vec::new();
    for n in 1..=3 {
        got.push(q.get().unwrap());
        poll_until("a putter to put its item", || done.load(SeqCst) == n);
        let_threads_block_after(BLOCK_LEAD, 3);
        assert_eq!(done.load(SeqCst), n, "one get released two putters");
        assert_eq!(q.qsize(), 1);
    }
    for h in putters {
        join_within(h);
    }
    got.push(q.get_nowait().unwrap());
    assert_eq!(sorted(got), [0, 10, 11, 12]);
    assert_eq!(q.unfinished_tasks(), 4);
}
kinds!(q6_each_get_releases_one_putter);

/// Q-6 (timeouts): `Duration::MAX` waits forever rather than overflowing or timing out:
/// `get_timeout`, `put_timeout` and `join_timeout` with it are satisfied by another thread.
fn q6_duration_max_waits_forever<O: Kind>() {
    let q = Arc::new(Q::<O>::new(1));
    let getter = start_blocked([{
        let q = Arc::clone(&q);
        move || q.get_timeout(Duration::MAX)
    }]);
    assert_blocked(&getter, "get_timeout(MAX) on an empty queue");
    q.put(1).unwrap();
    for h in getter {
        assert_eq!(join_within(h), Ok(1));
    }

    q.put(2).unwrap();
    let putter = start_blocked([{
        let q = Arc::clone(&q);
        move || q.put_timeout(3, Duration::MAX)
    }]);
    assert_blocked(&putter, "put_timeout(MAX) on a full queue");
    assert_eq!(q.get(), Ok(2));
    for h in putter {
        assert_eq!(join_within(h), Ok(()));
    }

    // Tasks 1 and 2 are done; 3 is queued.
    q.task_done().unwrap();
    q.task_done().unwrap();
    let joiner = start_blocked([{
        let q = Arc::clone(&q);
        move || q.join_timeout(Duration::MAX)
    }]);
    assert_blocked(&joiner, "join_timeout(MAX) with a task unfinished");
    assert_eq!(q.get(), Ok(3));
    q.task_done().unwrap();
    for h in joiner {
        assert!(join_within(h), "join_timeout(MAX) gave up");
    }
}
kinds!(q6_duration_max_waits_forever);

/// Q-6 (memory ordering): what a thread wrote before `put(x)` is visible to the thread whose
/// `get` returns `x`.
fn q6_put_publishes_earlier_writes<O: Kind>() {
    for round in 0..50 {
        let q = Arc::new(Q::<O>::new(1));
        let data = Arc::new(AtomicUsize::new(0));
        let h = {
            let (q, data) = (Arc::clone(&q), Arc::clone(&data));
            thread::spawn(move || {
                let n = q.get_timeout(DEADLINE).unwrap();
                (n, data.load(std::sync::atomic::Ordering::Relaxed))
            })
        };
        data.store(round + 1, std::sync::atomic::Ordering::Relaxed);
        q.put(round as u32).unwrap();
        assert_eq!(join_within(h), (round as u32, round + 1));
    }
}
kinds!(q6_put_publishes_earlier_writes);

/// Q-8: `task_done` with no unfinished task is a ValueError ("task_done() called too many
/// times") and the count never goes negative; it needs no `get` first.
fn q8_task_done_too_many_times<O: Kind>() {
    let q = Q::<O>::new(0);
    let err: ValueError = q.task_done().unwrap_err();
    assert_eq!(err.message(), "task_done() called too many times");
    assert_eq!(q.unfinished_tasks(), 0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.unfinished_tasks(), 2);
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.task_done().is_err());
    assert!(q.task_done().is_err());
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.qsize(), 2, "task_done took items");
    // The count still works after the errors.
    q.put(3).unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::ZERO));
}
kinds!(q8_task_done_too_many_times);

/// `put` counts a task, `get` does not finish it, `task_done` does; `join` returns at once
/// with nothing unfinished, and `join_timeout` gives up (false) while a task is unfinished.
fn q9_task_counting<O: Kind>() {
    let q = Q::<O>::new(0);
    at_once("join with nothing put", || q.join());
    assert!(q.join_timeout(Duration::ZERO));
    for n in 0..3 {
        q.put(n).unwrap();
    }
    assert_eq!(q.unfinished_tasks(), 3);
    for _ in 0..3 {
        q.get().unwrap();
    }
    assert_eq!(q.unfinished_tasks(), 3, "get finished a task");
    assert!(!at_once("join_timeout(ZERO)", || q.join_timeout(Duration::ZERO)));
    assert!(!timed(T, || q.join_timeout(T)));
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(!q.join_timeout(Duration::ZERO));
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
    at_once("join with every task done", || q.join());
    assert!(q.join_timeout(Duration::ZERO));
}
kinds!(q9_task_counting);

/// `join` blocks until every task is done and then wakes every joiner; with 2 workers and
/// 100 items it returns only after all 100 are processed; and it works again for a second batch.
fn q9_join_waits_for_the_workers<O: Kind>() {
    with_watchdog(|| {
        let q = Arc::new(Q::<O>::new(0));
        let processed = Arc::new(AtomicUsize::new(0));
        // The workers process an item only once `go` is set, so the joiners surely block.
        let go = Arc::new(Event::new());
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (q, processed, go) = (Arc::clone(&q), Arc::clone(&processed), Arc::clone(&go));
                thread::spawn(move || {
                    for n in q.iter() {
                        assert!(go.wait_timeout(LONG));
                        processed.fetch_add(n as usize + 1, SeqCst);
                        q.task_done().unwrap();
                    }
                })
            })
            .collect();
        for round in 0..2u32 {
            go.clear();
            for n in 0..100 {
                q.put(round * 100 + n).unwrap();
            }
            let joiners = start_blocked((0..3).map(|i| {
                let q = Arc::clone(&q);
                move || {
                    if i == 0 {
                        q.join();
                        true
                    } else {
                        q.join_timeout(LONG)
                    }
                }
            }));
            assert_blocked(&joiners, "join with 100 tasks unfinished");
            go.set();
            q.join();
            let want: usize = (0..(round as usize + 1) * 100).map(|n| n + 1).sum();
            assert_eq!(
                processed.load(SeqCst),
                want,
                "join returned before every item was processed"
            );
            assert_eq!(q.unfinished_tasks(), 0);
            for h in joiners {
                assert!(join_within(h), "a joiner was not woken");
            }
        }
        q.shutdown(false);
        for h in workers {
            join_within(h);
        }
    });
}
kinds!(q9_join_waits_for_the_workers);

/// `set_maxsize` changes the bound: shrinking below `qsize` keeps the items and makes
/// `put_nowait` fail with Full; growing it wakes every blocked putter; 0 makes it unbounded.
fn q10_set_maxsize<O: Kind>() {
    let q = Arc::new(Q::<O>::new(0));
    for n in 1..=3 {
        q.put(n).unwrap();
    }
    q.set_maxsize(2);
    assert_eq!(q.maxsize(), 2);
    assert_eq!(q.qsize(), 3, "shrinking dropped items");
    assert!(q.full());
    assert_eq!(q.put_nowait(4), Err(PutError::Full(4)));
    let mut got = vec![q.get().unwrap()];
    assert!(q.full(), "2 items with maxsize 2");
    assert_eq!(q.put_nowait(5), Err(PutError::Full(5)));

    let putters = start_blocked((0..2).map(|i| {
        let q = Arc::clone(&q);
        move || {
            if i == 0 {
                q.put(10).is_ok()
            } else {
                q.put_timeout(11, LONG).is_ok()
            }
        }
    }));
    assert_blocked(&putters, "put on a shrunk queue");
    q.set_maxsize(4);
    for h in putters {
        assert!(join_within(h), "a put failed after the queue grew");
    }
    assert_eq!(q.qsize(), 4);
    assert!(q.full());

    let putter = start_blocked([{
        let q = Arc::clone(&q);
        move || q.put(12).is_ok()
    }]);
    assert_blocked(&putter, "put on a full queue");
    q.set_maxsize(0);
    for h in putter {
        assert!(
            join_within(h),
            "a put failed after the queue became unbounded"
        );
    }
    assert!(!q.full());
    assert_eq!(q.maxsize(), 0);
    got.extend(q.try_iter());
    assert_eq!(sorted(got), [1, 2, 3, 10, 11, 12]);
}
kinds!(q10_set_maxsize);

// ---------------------------------------------------------------------------------------------
// a panicking `Ord`

/// an item whose `Ord` panics leaves a PriorityQueue usable: the panic reaches the caller
/// of `put`/`get` and nothing else; the lock is released, `qsize` and the task count stay
/// right, no item is lost (the panicking put's item is queued, the panicking get's item stays
/// queued: issue 14, item 6), a putter blocked on the full queue is woken by the next `get`, a
/// getter blocked later is woken by a put, and every item is dropped exactly once.
#[test]
fn q11_panicking_ord_leaves_priority_queue_usable() {
    with_watchdog(|| {
        let panics = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let make = {
            let (panics, drops) = (Arc::clone(&panics), Arc::clone(&drops));
            move |id| Token::touchy(id, &panics, &drops)
        };
        let q = Arc::new(PriorityQueue::new(4));
        for key in [5, 3, 8] {
            q.put(make(key)).unwrap();
        }

        // A put whose sift-up comparison panics.
        panics.store(1, SeqCst);
        let put = panic::catch_unwind(AssertUnwindSafe(|| q.put(make(1))));
        assert!(put.is_err(), "the put did not panic");
        assert_eq!(panics.load(SeqCst), 0, "no comparison ran");
        // Each of these takes the lock: a lock left held would hang here (the watchdog).
        assert_eq!(q.qsize(), 4, "the item whose put panicked stays queued");
        assert!(q.full());
        assert_eq!(q.unfinished_tasks(), 4);
        assert!(!q.is_shutdown());
        assert_eq!(drops.load(SeqCst), 0);

        // A putter blocked on the full queue, then a get whose re-ordering panics.
        let putter = start_blocked([{
            let (q, item) = (Arc::clone(&q), make(2));
            move || q.put_timeout(item, LONG).is_ok()
        }]);
        assert_blocked(&putter, "put on a full queue");
        panics.store(1, SeqCst);
        let got = panic::catch_unwind(AssertUnwindSafe(|| q.get()));
        assert!(got.is_err(), "the get did not panic");
        assert_eq!(panics.load(SeqCst), 0);
        assert_eq!(
            drops.load(SeqCst),
            0,
            "the get's item was dropped, not kept"
        );
        assert_eq!(q.qsize(), 4, "the get's item stays queued");
        assert!(q.full());
        assert_blocked(&putter, "put on a queue that is still full");
        let first = q.get().unwrap().id;
        for h in putter {
            assert!(join_within(h), "the putter was not woken by the next get");
        }
        assert_eq!(q.qsize(), 4);
        assert_eq!(q.unfinished_tasks(), 5, "a get changed the task count");

        // Everything left comes out (the heap order after a panic is not promised).
        let mut keys: Vec<u32> = q.try_iter().map(|t| t.id).collect();
        keys.push(first);
        keys.sort_unstable();
        assert_eq!(keys, [1, 2, 3, 5, 8], "lost or duplicated items");
        assert!(q.empty());
        assert_eq!(drops.load(SeqCst), 5);

        // Still usable: a blocked getter is woken by a put, and the task count adds up.
        let getter = start_blocked([{
            let q = Arc::clone(&q);
            move || q.get_timeout(LONG).map(|t| t.id)
        }]);
        assert_blocked(&getter, "get on an empty queue");
        q.put(make(42)).unwrap();
        for h in getter {
            assert_eq!(join_within(h), Ok(42));
        }
        for _ in 0..6 {
            q.task_done().unwrap();
        }
        assert!(q.task_done().is_err());
        q.join();
        drop(q);
        assert_eq!(drops.load(SeqCst), 6, "every item is dropped exactly once");
    });
}

// ---------------------------------------------------------------------------------------------
// QS-1 .. QS-9: shutdown

/// QS-1: `is_shutdown` starts false and `shutdown` sets it for good; a second plain shutdown
/// changes nothing, an immediate one after a plain one drains, and a plain one after that
/// changes nothing either.
fn qs1_shutdown_transitions<O: Kind>() {
    let q = Q::<O>::new(0);
    assert!(!q.is_shutdown());
    for n in [1, 2, 3] {
        q.put(n).unwrap();
    }
    q.shutdown(false);
    assert!(q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
    assert_eq!(q.qsize(), 3, "a plain shutdown dropped items");
    assert_eq!(q.unfinished_tasks(), 3);
    q.shutdown(true);
    assert!(q.is_shutdown());
    assert_eq!(
        q.qsize(),
        0,
        "an immediate shutdown after a plain one did not drain"
    );
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown(false);
    q.shutdown(true);
    assert!(q.is_shutdown(), "there is no way back");

    let q = Q::<O>::new(0);
    q.shutdown(true);
    assert!(q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
}
kinds!(qs1_shutdown_transitions);

/// QS-2: after a shutdown every put form fails with ShutDown, handing its item back, even with
/// room left; on a full queue ShutDown comes before Full, and a timed put does not wait.
fn qs2_put_after_shutdown_is_refused<O: Kind>() {
    for immediate in [false, true] {
        let q = Q::<O>::new(3);
        q.put(1).unwrap();
        q.shutdown(immediate);
        let left = if immediate { 0 } else { 1 };
        assert_eq!(q.put(2), Err(ShutDown(2)));
        assert_eq!(q.put_nowait(3), Err(PutError::ShutDown(3)));
        assert_eq!(q.put_timeout(4, Duration::ZERO), Err(PutError::ShutDown(4)));
        assert_eq!(
            at_once("put_timeout(LONG) after shutdown", || q
                .put_timeout(5, LONG)),
            Err(PutError::ShutDown(5))
        );
        assert_eq!(q.qsize(), left, "a refused put added its item");
        assert_eq!(q.unfinished_tasks(), left, "a refused put counted a task");

        let q = full_queue::<O>(&[1, 2]);
        q.shutdown(false);
        assert_eq!(
            q.put_nowait(3),
            Err(PutError::ShutDown(3)),
            "Full before ShutDown"
        );
        assert_eq!(
            at_once("put_timeout on a full, shut-down queue", || q
                .put_timeout(4, LONG)),
            Err(PutError::ShutDown(4))
        );
        assert_eq!(
            at_once("put on a full, shut-down queue", || q.put(5)),
            Err(ShutDown(5))
        );
        assert_eq!(q.qsize(), 2);
    }
}
kinds!(qs2_put_after_shutdown_is_refused);

/// QS-3: after a plain shutdown every get form still returns the queued items in the kind's
/// order; once the queue is empty they fail with ShutDown, not Empty, without waiting.
fn qs3_get_drains_then_reports_shutdown<O: Kind>() {
    let q = Q::<O>::new(0);
    for n in [7, 9, 8, 6] {
        q.put(n).unwrap();
    }
    q.shutdown(false);
    let got = vec![
        q.get().unwrap(),
        q.get_nowait().unwrap(),
        q.get_timeout(LONG).unwrap(),
        q.get_timeout(Duration::ZERO).unwrap(),
    ];
    assert_eq!(got, O::expected(&[7, 9, 8, 6]));
    assert_eq!(at_once("get after shutdown", || q.get()), Err(ShutDown(())));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::ShutDown));
    assert_eq!(
        at_once("get_timeout(LONG) after shutdown", || q.get_timeout(LONG)),
        Err(GetError::ShutDown)
    );
    // The tasks are still there: a plain shutdown does not finish them (QS-8).
    assert_eq!(q.unfinished_tasks(), 4);
}
kinds!(qs3_get_drains_then_reports_shutdown);

/// QS-3: `iter()` waits for items and ends once the queue is shut down and drained; `for x in
/// &q` is the same loop; after an immediate shutdown it yields nothing.
fn qs3_iter_ends_after_shutdown_and_drain<O: Kind>() {
    let q = Arc::new(Q::<O>::new(4));
    let consumer = start_blocked([{
        let q = Arc::clone(&q);
        move || q.iter().collect::<Vec<_>>()
    }]);
    assert_blocked(&consumer, "iter() on an empty queue");
    for n in 1..=10 {
        q.put(n).unwrap();
    }
    poll_until("the consumer to take every item", || q.empty());
    let_threads_block_after(BLOCK_LEAD, 1);
    assert_blocked(&consumer, "iter() on a queue that is not shut down");
    q.shutdown(false);
    for h in consumer {
        assert_eq!(sorted(join_within(h)), (1..=10).collect::<Vec<_>>());
    }

    let q = Q::<O>::new(0);
    for n in [3, 1, 2] {
        q.put(n).unwrap();
    }
    q.shutdown(false);
    let mut got = Vec::new();
    for n in &q {
        got.push(n);
    }
    assert_eq!(got, O::expected(&[3, 1, 2]));

    let q = Q::<O>::new(0);
    q.put(1).unwrap();
    q.shutdown(true);
    assert_eq!(
        at_once("iter() after shutdown(true)", || q.iter().next()),
        None
    );
}
kinds!(qs3_iter_ends_after_shutdown_and_drain);

/// QS-4: an immediate shutdown discards the queued items (`qsize` 0, gets fail with ShutDown),
/// counts each one's task done, so `task_done` then fails and `join` returns at once; it wakes
/// a blocked joiner; the count never drops below the tasks still out.
fn qs4_immediate_shutdown_discards<O: Kind>() {
    let q = Q::<O>::new(0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    q.shutdown(true);
    assert_eq!(q.qsize(), 0);
    assert!(q.empty());
    assert_eq!(q.get(), Err(ShutDown(())));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.task_done().is_err());
    at_once("join after shutdown(true)", || q.join());

    // A blocked joiner wakes. Tasks taken out but not done stay counted.
    let q = Arc::new(Q::<O>::new(0));
    for n in 0..4 {
        q.put(n).unwrap();
    }
    q.get().unwrap();
    let joiners = start_blocked((0..2).map(|i| {
        let q = Arc::clone(&q);
        move || {
            if i == 0 {
                q.join();
                true
            } else {
                q.join_timeout(LONG)
            }
        }
    }));
    assert_blocked(&joiners, "join with 4 tasks unfinished");
    q.shutdown(true);
    assert_eq!(q.qsize(), 0);
    assert_eq!(
        q.unfinished_tasks(),
        1,
        "the task taken out is still unfinished"
    );
    let_threads_block_after(BLOCK_LEAD, 2);
    assert_blocked(&joiners, "join with a task taken out and not done");
    q.task_done().unwrap();
    for h in joiners {
        assert!(join_within(h), "a joiner was not woken");
    }
    assert!(q.task_done().is_err());

    // Nothing queued, tasks out: the immediate shutdown discards nothing and keeps the count.
    let q = Q::<O>::new(0);
    q.put(1).unwrap();
    q.get().unwrap();
    q.shutdown(true);
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(!q.join_timeout(Duration::ZERO));
}
kinds!(qs4_immediate_shutdown_discards);

/// QS-4: an immediate shutdown wakes joiners waiting only on the discarded items at once.
fn qs4_immediate_shutdown_releases_joiners<O: Kind>() {
    let q = Arc::new(Q::<O>::new(0));
    for n in 0..3 {
        q.put(n).unwrap();
    }
    let joiners = start_blocked((0..3).map(|i| {
        let q = Arc::clone(&q);
        move || {
            if i == 0 {
                q.join();
                true
            } else {
                q.join_timeout(LONG)
            }
        }
    }));
    assert_blocked(&joiners, "join with 3 tasks unfinished");
    q.shutdown(true);
    for h in joiners {
        assert!(join_within(h), "a joiner was not woken by shutdown(true)");
    }
}
kinds!(qs4_immediate_shutdown_releases_joiners);

/// A queue item whose destructor uses the queue it was discarded from.
struct UsesQueue {
    q: Arc<Queue<UsesQueue>>,
    ok: Arc<AtomicUsize>,
}

impl Drop for UsesQueue {
    fn drop(&mut self) {
        // Each of these takes the queue's lock: it would deadlock if the lock were held.
        if self.q.is_shutdown() && !self.q.full() && self.q.unfinished_tasks() == 0 {
            self.ok.fetch_add(1, SeqCst);
        }
    }
}

/// QS-4: the items an immediate shutdown discards are dropped before it returns, and after the
/// queue's lock is released, so their destructors may use the queue (shared code: one kind).
#[test]
fn qs4_discarded_items_drop_outside_the_lock() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(0));
        let ok = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            q.put(UsesQueue {
                q: Arc::clone(&q),
                ok: Arc::clone(&ok),
            })
            .unwrap();
        }
        q.shutdown(true);
        assert_eq!(
            ok.load(SeqCst),
            3,
            "the discarded items were not dropped as expected"
        );
        assert_eq!(
            Arc::strong_count(&q),
            1,
            "the queue still holds discarded items"
        );
    });
}

/// QS-5: after 5 puts and 2 gets without `task_done`, an immediate shutdown leaves 2 tasks
/// unfinished: two `task_done` calls succeed, the third fails.
fn qs5_immediate_shutdown_keeps_tasks_taken_out<O: Kind>() {
    let q = Q::<O>::new(0);
    for n in 0..5 {
        q.put(n).unwrap();
    }
    q.get().unwrap();
    q.get().unwrap();
    q.shutdown(true);
    assert_eq!(q.unfinished_tasks(), 2);
    assert!(!q.join_timeout(Duration::ZERO));
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(q.task_done().is_err());
    assert!(q.join_timeout(Duration::ZERO));
}
kinds!(qs5_immediate_shutdown_keeps_tasks_taken_out);

/// QS-6: blocked getters wake on shutdown: after an immediate one (or a plain one with nothing
/// left) each fails with ShutDown; with 2 items and 3 getters, a plain shutdown gives 2 items
/// and 1 ShutDown, both when the getters were blocked before the puts and when they race it.
fn qs6_blocked_getters_wake_on_shutdown<O: Kind>() {
    for immediate in [false, true] {
        let q = Arc::new(Q::<O>::new(0));
        let getters = start_blocked((0..3).map(|i| {
            let q = Arc::clone(&q);
            move || {
                if i == 0 {
                    q.get().map_err(|_| GetError::ShutDown)
                } else {
                    q.get_timeout(LONG)
                }
            }
        }));
        assert_blocked(&getters, "get on an empty queue");
        q.shutdown(immediate);
        for h in getters {
            assert_eq!(join_within(h), Err(GetError::ShutDown));
        }
    }

    // Blocked first: two puts release two getters, the shutdown the third.
    let q = Arc::new(Q::<O>::new(2));
    let done = Arc::new(AtomicUsize::new(0));
    let getters = start_blocked((0..3).map(|i| {
        let (q, done) = (Arc::clone(&q), Arc::clone(&done));
        move || {
            let got = if i == 0 {
                q.get().map_err(|_| GetError::ShutDown)
            } else {
                q.get_timeout(LONG)
            };
            done.fetch_add(1, SeqCst);
            got
        }
    }));
    q.put(1).unwrap();
    q.put(2).unwrap();
    poll_until("two getters to take the items", || done.load(SeqCst) == 2);
    let_threads_block_after(BLOCK_LEAD, 3);
    assert_eq!(done.load(SeqCst), 2, "a getter returned without an item");
    q.shutdown(false);
    let mut results: Vec<_> = getters.into_iter().map(join_within).collect();
    results.sort_by_key(|r| r.ok());
    assert_eq!(results, [Err(GetError::ShutDown), Ok(1), Ok(2)]);

    // Racing the shutdown (CPython's `_shutdown_get`): the items still go out, once each.
    for _ in 0..20 {
        let q = full_queue::<O>(&[1, 2]);
        let getters: Vec<_> = (0..3)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get_timeout(LONG))
            })
            .collect();
        q.shutdown(false);
        let mut results: Vec<_> = getters.into_iter().map(join_within).collect();
        results.sort_by_key(|r| r.ok());
        assert_eq!(results, [Err(GetError::ShutDown), Ok(1), Ok(2)]);
    }
}
kinds!(qs6_blocked_getters_wake_on_shutdown);

/// QS-7: putters blocked on a full queue wake on shutdown (plain or immediate) and fail with
/// ShutDown, each handing back its own item, which is not added.
fn qs7_blocked_putters_wake_on_shutdown<O: Kind>() {
    for immediate in [false, true] {
        let q = full_queue::<O>(&[1, 2]);
        let putters = start_blocked((0..3u32).map(|i| {
            let q = Arc::clone(&q);
            move || {
                if i == 0 {
                    q.put(10 + i)
                        .map_err(|ShutDown(item)| PutError::ShutDown(item))
                } else {
                    q.put_timeout(10 + i, LONG)
                }
            }
        }));
        assert_blocked(&putters, "put on a full queue");
        q.shutdown(immediate);
        for (i, h) in putters.into_iter().enumerate() {
            assert_eq!(join_within(h), Err(PutError::ShutDown(10 + i as u32)));
        }
        if immediate {
            assert_eq!(q.qsize(), 0);
            assert_eq!(q.unfinished_tasks(), 0);
        } else {
            assert_eq!(q.unfinished_tasks(), 2, "a refused put counted a task");
            assert_eq!(q.try_iter().collect::<Vec<_>>(), O::expected(&[1, 2]));
        }
    }
}
kinds!(qs7_blocked_putters_wake_on_shutdown);

/// QS-8: a plain shutdown does not release `join`: joiners wait until every item, taken after
/// the shutdown, is marked done. An immediate one releases them (QS-4).
fn qs8_plain_shutdown_does_not_release_join<O: Kind>() {
    let q = Arc::new(Q::<O>::new(0));
    q.put(1).unwrap();
    q.put(2).unwrap();
    let joiners = start_blocked((0..2).map(|i| {
        let q = Arc::clone(&q);
        move || {
            if i == 0 {
                q.join();
                true
            } else {
                q.join_timeout(LONG)
            }
        }
    }));
    q.shutdown(false);
    let_threads_block_after(BLOCK_LEAD, 2);
    assert_blocked(&joiners, "join after a plain shutdown");
    assert!(!timed(T, || q.join_timeout(T)));
    q.get().unwrap();
    q.task_done().unwrap();
    let_threads_block_after(BLOCK_LEAD, 2);
    assert_blocked(&joiners, "join with one task left");
    q.get().unwrap();
    q.task_done().unwrap();
    for h in joiners {
        assert!(
            join_within(h),
            "a joiner was not woken by the last task_done"
        );
    }
    at_once("join with every task done", || q.join());

    // The same queue shut down immediately instead: the joiner wakes at once.
    let q = Arc::new(Q::<O>::new(0));
    q.put(1).unwrap();
    q.shutdown(false);
    let joiner = start_blocked([{
        let q = Arc::clone(&q);
        move || q.join_timeout(LONG)
    }]);
    assert_blocked(&joiner, "join after a plain shutdown");
    q.shutdown(true);
    for h in joiner {
        assert!(join_within(h));
    }
}
kinds!(qs8_plain_shutdown_does_not_release_join);

const QS9_WRITERS: u32 = 4;
const QS9_READERS: usize = 6;
const QS9_JOINERS: usize = 2;
const QS9_PER_WRITER: u32 = 16_384;
/// The reader that takes this many items shuts the queue down: mid-stream, since the writers
/// have 4 × 16,384 to put.
const QS9_SHUTDOWN_AT: usize = 8_192;

/// QS-9: 4 writers, 6 readers and 2 joiners on a queue bounded at 64, shut down mid-stream
/// (plain, then immediate): every writer stops with ShutDown, every reader ends with ShutDown
/// (and `get_nowait` then says ShutDown at once), every joiner returns, nothing hangs; no item is
/// received twice or that was never sent; after a plain shutdown every item sent is received,
/// after an immediate one `qsize()` is 0 at once; no task is left unfinished.
fn qs9_shutdown_mid_stream<O: Kind>() {
    for immediate in [false, true] {
        with_watchdog(move || shutdown_mid_stream::<O>(immediate));
    }
}
kinds!(qs9_shutdown_mid_stream);

fn shutdown_mid_stream<O: Kind>(immediate: bool) {
    let q = Arc::new(Q::<O>::new(64));
    let received = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..QS9_WRITERS)
        .map(|w| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for n in 0..QS9_PER_WRITER {
                    let id = w * QS9_PER_WRITER + n;
                    let refused = if n % 2 == 0 {
                        q.put(id).err().map(ShutDown::into_inner)
                    } else {
                        match q.put_timeout(id, LONG) {
                            Ok(()) => None,
                            Err(PutError::ShutDown(item)) => Some(item),
                            Err(PutError::Full(_)) => panic!("put_timeout(LONG) timed out"),
                        }
                    };
                    if let Some(item) = refused {
                        assert_eq!(item, id, "a refused put handed back another item");
                        return Some(n);
                    }
                }
                None
            })
        })
        .collect();

    // The joiners block on the tasks the writers have queued before any reader runs.
    poll_until("the writers to fill the queue", || q.full());
    let joiners = start_blocked((0..QS9_JOINERS).map(|i| {
        let q = Arc::clone(&q);
        move || {
            if i == 0 {
                q.join();
                true
            } else {
                q.join_timeout(LONG)
            }
        }
    }));
    assert_blocked(&joiners, "join with tasks unfinished");

    let readers: Vec<_> = (0..QS9_READERS)
        .map(|r| {
            let (q, received) = (Arc::clone(&q), Arc::clone(&received));
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let next = if r % 2 == 0 {
                        q.get().map_err(|_| GetError::ShutDown)
                    } else {
                        q.get_timeout(LONG)
                    };
                    match next {
                        Ok(id) => {
                            got.push(id);
                            q.task_done().unwrap();
                            if received.fetch_add(1, SeqCst) + 1 == QS9_SHUTDOWN_AT {
                                q.shutdown(immediate);
                                if immediate {
                                    assert_eq!(q.qsize(), 0, "items left after shutdown(true)");
                                }
                            }
                        }
                        Err(GetError::ShutDown) => break,
                        Err(GetError::Empty) => panic!("get_timeout(LONG) timed out"),
                    }
                }
                assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
                got
            })
        })
        .collect();

    let sent: Vec<u32> = writers
        .into_iter()
        .map(|h| join_within(h).expect("a writer put everything: no shutdown mid-stream"))
        .collect();
    let got: Vec<Vec<u32>> = readers.into_iter().map(join_within).collect();
    for h in joiners {
        assert!(join_within(h), "a joiner was not released");
    }
    assert!(q.is_shutdown());
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.unfinished_tasks(), 0);

    let mut seen = vec![false; (QS9_WRITERS * QS9_PER_WRITER) as usize];
    let mut count = 0;
    for id in got.into_iter().flatten() {
        let (w, n) = (id / QS9_PER_WRITER, id % QS9_PER_WRITER);
        assert!(
            n < sent[w as usize],
            "item {id} was received but never sent"
        );
        assert!(!seen[id as usize], "item {id} was received twice");
        seen[id as usize] = true;
        count += 1;
    }
    let total_sent: usize = sent.iter().map(|&n| n as usize).sum();
    assert!(count >= QS9_SHUTDOWN_AT);
    if immediate {
        assert!(count <= total_sent);
    } else {
        assert_eq!(count, total_sent, "a plain shutdown lost items");
    }
}

// ---------------------------------------------------------------------------------------------
// Stress

const STRESS_PRODUCERS: u32 = 4;
const STRESS_CONSUMERS: usize = 4;
const STRESS_ITEMS: u32 = 100_000;

/// Q-6, Q-9 (stress): 4 producers and 4 consumers move 100,000 items through a queue bounded at
/// 64: nothing is lost or duplicated, every item is marked done and `join()` returns; a Queue
/// also keeps each producer's items in order for each consumer.
fn stress_producers_and_consumers<O: Kind>() {
    with_watchdog(|| {
        let per_producer = STRESS_ITEMS / STRESS_PRODUCERS;
        let q = Arc::new(Q::<O>::new(64));
        let producers: Vec<_> = (0..STRESS_PRODUCERS)
            .map(|p| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    for n in 0..per_producer {
                        let id = p * per_producer + n;
                        if n % 2 == 0 {
                            q.put(id).unwrap();
                        } else {
                            q.put_timeout(id, LONG).unwrap();
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..STRESS_CONSUMERS)
            .map(|c| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        let next = if c % 2 == 0 {
                            q.get().map_err(|_| GetError::ShutDown)
                        } else {
                            q.get_timeout(LONG)
                        };
                        match next {
                            Ok(id) => {
                                got.push(id);
                                q.task_done().unwrap();
                            }
                            Err(GetError::ShutDown) => return got,
                            Err(GetError::Empty) => panic!("get_timeout(LONG) timed out"),
                        }
                    }
                })
            })
            .collect();
        for h in producers {
            join_within(h);
        }
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.empty());
        q.shutdown(false);

        let mut seen = vec![false; STRESS_ITEMS as usize];
        for got in consumers.into_iter().map(join_within) {
            let mut last = vec![None; STRESS_PRODUCERS as usize];
            for id in got {
                assert!(!seen[id as usize], "item {id} was received twice");
                seen[id as usize] = true;
                if O::FIFO {
                    let p = (id / per_producer) as usize;
                    assert!(last[p] < Some(id), "a Queue reordered producer {p}'s items");
                    last[p] = Some(id);
                }
            }
        }
        let lost: Vec<usize> = (0..seen.len()).filter(|&i| !seen[i]).take(10).collect();
        assert!(lost.is_empty(), "items lost, among them {lost:?}");
    });
}
kinds!(stress_producers_and_consumers);

// ---------------------------------------------------------------------------------------------
// Items handed back, Debug, errors

/// Q-4, QS-2, QS-4, QS-7: a refused put hands back the very item (not `Clone`), dropping
/// nothing; an immediate shutdown drops the discarded items before it returns; dropping the
/// queue drops what it holds; every item is dropped exactly once.
fn refused_puts_hand_the_item_back<O>()
where
    O: Order<Token>,
    BaseQueue<Token, O>: Send + Sync,
{
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Arc::new(BaseQueue::<Token, O>::new(2));
    q.put(Token::new(1, &drops)).unwrap();
    q.put(Token::new(2, &drops)).unwrap();
    let back = q.put_nowait(Token::new(3, &drops)).unwrap_err();
    assert!(back.is_full());
    assert_eq!(back.into_inner().id, 3);
    let back = q
        .put_timeout(Token::new(4, &drops), Duration::ZERO)
        .unwrap_err();
    assert_eq!(back.into_inner().id, 4);
    assert_eq!(
        drops.load(SeqCst),
        2,
        "only the handed-back items are dropped"
    );

    let putter = start_blocked([{
        let (q, item) = (Arc::clone(&q), Token::new(5, &drops));
        move || q.put(item).unwrap_err().into_inner().id
    }]);
    assert_blocked(&putter, "put on a full queue");
    q.shutdown(false);
    for h in putter {
        assert_eq!(join_within(h), 5);
    }
    let back = q.put_nowait(Token::new(6, &drops)).unwrap_err();
    assert!(back.is_shutdown());
    assert_eq!(back.into_inner().id, 6);
    assert_eq!(drops.load(SeqCst), 4);
    assert_eq!(q.qsize(), 2);

    q.shutdown(true);
    assert_eq!(
        drops.load(SeqCst),
        6,
        "shutdown(true) kept the discarded items"
    );

    let q = BaseQueue::<Token, O>::new(0);
    q.put(Token::new(7, &drops)).unwrap();
    q.put(Token::new(8, &drops)).unwrap();
    drop(q);
    assert_eq!(drops.load(SeqCst), 8, "dropping the queue leaked its items");
}

kinds!(refused_puts_hand_the_item_back);

/// Q-2, QS-1 (Debug, in place of Python's repr): `Debug` names the kind and shows `qsize`,
/// `maxsize`, `unfinished_tasks` and `shutdown`; the iterators show their queue.
fn debug_shows_the_state<O: Kind>() {
    let q = Q::<O>::new(5);
    q.put(1).unwrap();
    q.put(2).unwrap();
    let s = format!("{q:?}");
    assert!(s.starts_with(&format!("{} {{", O::PY_NAME)), "{s}");
    for part in [
        "qsize: 2",
        "maxsize: 5",
        "unfinished_tasks: 2",
        "shutdown: false",
    ] {
        assert!(s.contains(part), "{s} lacks {part}");
    }
    let s = format!("{:?} {:?}", q.iter(), q.try_iter());
    assert!(s.contains("Iter(") && s.contains("TryIter("), "{s}");
    assert!(s.contains("qsize: 2"), "{s}");

    q.get().unwrap();
    q.shutdown(true);
    let s = format!("{q:?}");
    for part in ["qsize: 0", "unfinished_tasks: 1", "shutdown: true"] {
        assert!(s.contains(part), "{s} lacks {part}");
    }
    let s = format!("{:?}", Q::<O>::default());
    assert!(s.contains("maxsize: 0"), "{s}");
}
kinds!(debug_shows_the_state);

/// QS-2, QS-3 (error values, §14): Full and ShutDown carry the refused item and
/// convert as the variants say; each Display names Python's exception; `Debug` needs no `Debug`
/// item.
#[test]
fn error_values_name_pythons_exceptions() {
    struct NoDebug(u8);

    let full = PutError::Full(NoDebug(1));
    assert!(full.is_full() && !full.is_shutdown());
    assert_eq!(format!("{full:?}"), "Full(..)");
    assert!(full.to_string().contains("queue.Full"), "{full}");
    assert_eq!(full.into_inner().0, 1);

    let shut = PutError::from(ShutDown(NoDebug(2)));
    assert!(shut.is_shutdown() && !shut.is_full());
    assert_eq!(format!("{shut:?}"), "ShutDown(..)");
    assert!(shut.to_string().contains("queue.ShutDown"), "{shut}");
    assert_eq!(shut.into_inner().0, 2);
    assert_eq!(ShutDown("x").into_inner(), "x");
    assert!(ShutDown(()).to_string().contains("queue.ShutDown"));

    assert_eq!(GetError::from(Empty), GetError::Empty);
    assert_eq!(GetError::from(ShutDown(())), GetError::ShutDown);
    assert!(GetError::Empty.to_string().contains("queue.Empty"));
    assert!(GetError::ShutDown.to_string().contains("queue.ShutDown"));
    assert!(Empty.to_string().contains("queue.Empty"));
    assert_ne!(GetError::Empty, GetError::ShutDown);
}

// ---------------------------------------------------------------------------------------------
// Model tests

/// One single-threaded step of the model test.
#[derive(Clone, Copy, Debug)]
enum Op {
    PutNowait(u8),
    PutZero(u8),
    /// A blocking `put`, made only when the model says it cannot block.
    Put(u8),
    GetNowait,
    GetZero,
    /// A blocking `get`, made only when the model says it cannot block.
    Get,
    TaskDone,
    SetMaxsize(usize),
    Shutdown(bool),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::PutNowait),
        2 => any::<u8>().prop_map(Op::PutZero),
        2 => any::<u8>().prop_map(Op::Put),
        3 => Just(Op::GetNowait),
        1 => Just(Op::GetZero),
        1 => Just(Op::Get),
        2 => Just(Op::TaskDone),
        1 => (0usize..5).prop_map(Op::SetMaxsize),
        1 => any::<bool>().prop_map(Op::Shutdown),
    ]
}

/// The model's storage: a `VecDeque` (both ends) or a `BinaryHeap` of `Reverse`.
trait ModelStore: Default {
    fn push(&mut self, x: u8);
    fn pop(&mut self) -> Option<u8>;
    fn len(&self) -> usize;
}

#[derive(Default)]
struct FifoModel(VecDeque<u8>);
#[derive(Default)]
struct LifoModel(VecDeque<u8>);
#[derive(Default)]
struct PriorityModel(BinaryHeap<Reverse<u8>>);

impl ModelStore for FifoModel {
    fn push(&mut self, x: u8) {
        self.0.push_back(x)
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl ModelStore for LifoModel {
    fn push(&mut self, x: u8) {
        self.0.push_back(x)
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop_back()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl ModelStore for PriorityModel {
    fn push(&mut self, x: u8) {
        self.0.push(Reverse(x))
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop().map(|Reverse(x)| x)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Python's `queue.Queue`, written out plainly.
struct Model<S> {
    items: S,
    maxsize: usize,
    unfinished: usize,
    shutdown: bool,
}

impl<S: ModelStore> Model<S> {
    fn full(&self) -> bool {
        self.maxsize > 0 && self.items.len() >= self.maxsize
    }
    fn put(&mut self, x: u8) -> Result<(), PutError<u8>> {
        if self.shutdown {
            Err(PutError::ShutDown(x))
        } else if self.full() {
            Err(PutError::Full(x))
        } else {
            self.items.push(x);
            self.unfinished += 1;
            Ok(())
        }
    }
    fn get(&mut self) -> Result<u8, GetError> {
        match self.items.pop() {
            Some(x) => Ok(x),
            None if self.shutdown => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }
    fn task_done(&mut self) -> bool {
        if self.unfinished == 0 {
            return false;
        }
        self.unfinished -= 1;
        true
    }
    fn shutdown(&mut self, immediate: bool) {
        self.shutdown = true;
        if immediate {
            while self.items.pop().is_some() {
                self.unfinished = self.unfinished.saturating_sub(1);
            }
        }
    }
}

/// Runs `ops` on a queue of order `O` and on the model, comparing every result and, after each
/// step, `qsize`, `empty`, `full`, `maxsize`, `unfinished_tasks`, `is_shutdown` and whether
/// `join` would return; at the end both are drained and compared.
fn check_against_model<O: Order<u8>, S: ModelStore>(
    maxsize: usize,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let q = BaseQueue::<u8, O>::new(maxsize);
    let mut m = Model {
        items: S::default(),
        maxsize,
        unfinished: 0,
        shutdown: false,
    };
    for op in ops {
        match op {
            Op::PutNowait(x) => prop_assert_eq!(q.put_nowait(x), m.put(x), "{:?}", op),
            Op::PutZero(x) => {
                prop_assert_eq!(q.put_timeout(x, Duration::ZERO), m.put(x), "{:?}", op)
            }
            Op::Put(x) if m.shutdown || !m.full() => {
                let got = q.put(x).map_err(|ShutDown(x)| PutError::ShutDown(x));
                prop_assert_eq!(got, m.put(x), "{:?}", op);
            }
            Op::Put(x) => prop_assert_eq!(q.put_nowait(x), m.put(x), "{:?} (as nowait)", op),
            Op::GetNowait => prop_assert_eq!(q.get_nowait(), m.get(), "{:?}", op),
            Op::GetZero => prop_assert_eq!(q.get_timeout(Duration::ZERO), m.get(), "{:?}", op),
            Op::Get if m.shutdown || m.items.len() > 0 => {
                let got = q.get().map_err(|_| GetError::ShutDown);
                prop_assert_eq!(got, m.get(), "{:?}", op);
            }
            Op::Get => prop_assert_eq!(q.get_nowait(), m.get(), "{:?} (as nowait)", op),
            Op::TaskDone => prop_assert_eq!(q.task_done().is_ok(), m.task_done(), "{:?}", op),
            Op::SetMaxsize(n) => {
                q.set_maxsize(n);
                m.maxsize = n;
            }
            Op::Shutdown(immediate) => {
                q.shutdown(immediate);
                m.shutdown(immediate);
            }
        }
        prop_assert_eq!(q.qsize(), m.items.len(), "qsize after {:?}", op);
        prop_assert_eq!(q.empty(), m.items.len() == 0, "empty after {:?}", op);
        prop_assert_eq!(q.full(), m.full(), "full after {:?}", op);
        prop_assert_eq!(q.maxsize(), m.maxsize, "maxsize after {:?}", op);
        prop_assert_eq!(q.unfinished_tasks(), m.unfinished, "tasks after {:?}", op);
        prop_assert_eq!(q.is_shutdown(), m.shutdown, "is_shutdown after {:?}", op);
        prop_assert_eq!(
            q.join_timeout(Duration::ZERO),
            m.unfinished == 0,
            "join after {:?}",
            op
        );
    }
    let mut rest = Vec::new();
    while let Some(x) = m.items.pop() {
        rest.push(x);
    }
    prop_assert_eq!(q.try_iter().collect::<Vec<_>>(), rest);
    Ok(())
}

proptest! {
    // No regression files: this crate's tests/ is shared with other suites.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Q-1 .. .. Q-10, QS-1 .. QS-5: single-threaded, a Queue behaves like a VecDeque
    /// (push back, pop front) with Python's bookkeeping.
    #[test]
    fn prop_queue_matches_vecdeque(
        maxsize in 0usize..5,
        ops in prop::collection::vec(op_strategy(), 0..64),
    ) {
        check_against_model::<Fifo, FifoModel>(maxsize, ops)?;
    }

    /// The same for a LifoQueue: a VecDeque popped at the back.
    #[test]
    fn prop_lifo_queue_matches_vecdeque(
        maxsize in 0usize..5,
        ops in prop::collection::vec(op_strategy(), 0..64),
    ) {
        check_against_model::<Lifo, LifoModel>(maxsize, ops)?;
    }

    /// The same for a PriorityQueue: a `BinaryHeap<Reverse<_>>`, smallest first.
    #[test]
    fn prop_priority_queue_matches_binary_heap(
        maxsize in 0usize..5,
        ops in prop::collection::vec(op_strategy(), 0..64),
    ) {
        check_against_model::<Priority, PriorityModel>(maxsize, ops)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The lock-free ring of a bounded `Queue` (0 < maxsize <= 65,536), and its retirement into the
// locked core by `set_maxsize` and `shutdown`

/// on the ring: over a thousand laps of a `Queue(3)`, `qsize`, `full` and
/// `unfinished_tasks` stay exact (the task count is derived from the ring's tail there), and
/// Q-8's error comes exactly when every task is done.
#[test]
fn ring_counts_stay_exact_across_many_laps() {
    let q = Queue::new(3);
    for lap in 0..1000u32 {
        for k in 0..3 {
            q.put_nowait(lap * 3 + k).unwrap();
            assert_eq!(q.qsize(), k as usize + 1);
        }
        assert!(q.full());
        assert_eq!(q.put_nowait(u32::MAX), Err(PutError::Full(u32::MAX)));
        assert_eq!(q.unfinished_tasks(), 3);
        for k in 0..3 {
            assert_eq!(q.get_nowait(), Ok(lap * 3 + k), "Q-1: FIFO across laps");
        }
        assert!(q.empty());
        assert_eq!(q.unfinished_tasks(), 3, "Q-9: get does not finish a task");
        for left in (0..3).rev() {
            q.task_done().unwrap();
            assert_eq!(q.unfinished_tasks(), left);
        }
        assert!(q.task_done().is_err(), "Q-8");
    }
}

/// Q-10, QS-4 on the ring: `set_maxsize` moves the ring's items to the locked core in order
/// and keeps the task count (ring puts and locked puts add up); an immediate shutdown then
/// discards the queued items' tasks only, so the task of an item taken earlier stays
/// unfinished until its `task_done`.
#[test]
fn ring_retirement_keeps_order_and_task_count() {
    let q = Queue::new(3);
    for c in ['a', 'b', 'c'] {
        q.put(c).unwrap();
    }
    assert_eq!(q.get(), Ok('a'));
    q.set_maxsize(10);
    assert_eq!(q.maxsize(), 10);
    assert_eq!(q.qsize(), 2);
    assert!(!q.full());
    for c in ['d', 'e'] {
        q.put_nowait(c).unwrap();
    }
    assert_eq!(q.qsize(), 4);
    assert_eq!(q.unfinished_tasks(), 5);
    assert_eq!(
        q.get(),
        Ok('b'),
        "the ring's items come before the later puts"
    );
    q.shutdown(true);
    assert_eq!(q.qsize(), 0);
    assert_eq!(
        q.unfinished_tasks(),
        2,
        "'a' and 'b' were taken, not marked done"
    );
    assert!(!q.join_timeout(Duration::from_millis(20)));
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::ZERO));
    assert!(q.task_done().is_err(), "Q-8");
    assert_eq!(q.put_nowait('f'), Err(PutError::ShutDown('f')));
}

/// a huge bound allocates nothing up front (it uses the locked core, not a ring of
/// `maxsize` slots), and still bounds the queue.
#[test]
fn huge_maxsize_allocates_nothing_up_front() {
    let q = Queue::new(usize::MAX);
    assert_eq!(q.maxsize(), usize::MAX);
    for n in 0..3 {
        q.put_nowait(n).unwrap();
    }
    assert!(!q.full());
    q.set_maxsize(3);
    assert!(q.full());
    assert_eq!(q.put_nowait(9), Err(PutError::Full(9)));
    assert_eq!(q.try_iter().collect::<Vec<_>>(), [0, 1, 2]);
}

/// on the ring under load: 4 producers and 4 consumers pass 40,000 items through
/// a `Queue(2)` (so the ring wraps 20,000 laps, and both sides keep finding it full or empty
/// and sleeping). Every item arrives exactly once, each consumer sees each producer's items in
/// the order they were put (FIFO), and `join` returns after the last `task_done`.
#[test]
fn ring_stress_keeps_each_producers_order() {
    const PRODUCERS: u32 = 4;
    const PER_PRODUCER: u32 = 10_000;
    with_watchdog(|| {
        let q = Arc::new(Queue::new(2));
        let seen: Arc<Vec<AtomicBool>> = Arc::new(
            (0..PRODUCERS * PER_PRODUCER)
                .map(|_| AtomicBool::new(false))
                .collect(),
        );
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    for n in 0..PER_PRODUCER {
                        q.put((p, n)).unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let q = Arc::clone(&q);
                let seen = Arc::clone(&seen);
                thread::spawn(move || {
                    let mut last = [None::<u32>; PRODUCERS as usize];
                    let mut got = 0u32;
                    while let Ok((p, n)) = q.get() {
                        let prev = last[p as usize].replace(n);
                        assert!(prev.is_none_or(|prev| prev < n), "Q-1: FIFO per producer");
                        let id = (p * PER_PRODUCER + n) as usize;
                        assert!(!seen[id].swap(true, SeqCst), "item {id} arrived twice");
                        got += 1;
                        q.task_done().unwrap();
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        q.shutdown(false);
        let total: u32 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(total, PRODUCERS * PER_PRODUCER);
    });
}

/// an unbounded `Queue` keeps a ring too (up to 1,024 slots) and overflows into
/// the locked core; while the overflow holds anything, puts go there. Over 5,000 items put at
/// once, and again with gets in between, the order, `qsize` and the task count stay exact.
#[test]
fn unbounded_ring_overflows_in_order() {
    let q = Queue::new(0);
    for n in 0..5000u32 {
        q.put_nowait(n).unwrap();
    }
    assert_eq!(q.qsize(), 5000);
    assert!(!q.full(), "Q-3: an unbounded queue is never full");
    assert_eq!(q.unfinished_tasks(), 5000);
    assert_eq!(
        q.try_iter().take(1500).collect::<Vec<_>>(),
        (0..1500).collect::<Vec<_>>()
    );
    for n in 5000..8000u32 {
        q.put(n).unwrap();
    }
    assert_eq!(q.qsize(), 6500);
    assert_eq!(
        q.try_iter().collect::<Vec<_>>(),
        (1500..8000).collect::<Vec<_>>()
    );
    assert!(q.empty());
    assert_eq!(q.unfinished_tasks(), 8000);
}

/// Q-10 on an unbounded `Queue` whose ring has overflowed: `set_maxsize` moves the ring's items
/// in front of the overflow, so the order survives, and the new bound holds.
#[test]
fn set_maxsize_keeps_an_overflowed_unbounded_queue_in_order() {
    let q = Queue::new(0);
    for n in 0..3000u32 {
        q.put(n).unwrap();
    }
    q.set_maxsize(10);
    assert_eq!(q.qsize(), 3000);
    assert!(q.full());
    assert_eq!(q.put_nowait(0), Err(PutError::Full(0)));
    assert_eq!(
        q.try_iter().collect::<Vec<_>>(),
        (0..3000).collect::<Vec<_>>()
    );
    q.put_nowait(1).unwrap();
}

/// on an unbounded `Queue` under load: one producer puts 5,000 items before the
/// consumer starts (so the ring overflows), then 95,000 more while it takes them. A single
/// producer's items arrive strictly in order.
#[test]
fn unbounded_ring_and_overflow_keep_one_producers_order() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(0));
        let head_start = Arc::new(Event::new());
        let consumer = {
            let q = Arc::clone(&q);
            let head_start = Arc::clone(&head_start);
            thread::spawn(move || {
                head_start.wait();
                for expected in 0..100_000u32 {
                    assert_eq!(q.get(), Ok(expected), "Q-1: one producer's order");
                }
            })
        };
        for n in 0..100_000u32 {
            if n == 5000 {
                head_start.set();
            }
            q.put(n).unwrap();
        }
        consumer.join().unwrap();
        assert!(q.empty());
    });
}

/// Runs `round` until it has run `max` times or `budget` has passed (at least once): the
/// races below need many tries, and a slow machine must not turn them into slow tests.
fn rounds_within(max: u32, budget: Duration, mut round: impl FnMut(u32)) {
    let start = Instant::now();
    for n in 0..max {
        if n > 0 && start.elapsed() > budget {
            break;
        }
        round(n);
    }
}

/// Fills an unbounded `Queue` so that its ring holds a few items and its overflow (the locked
/// core) many: `1024 + overflow` puts, then gets until `in_ring` are left in the ring. Returns
/// the queue and the items still queued, in order.
fn overflowed_queue(in_ring: u32, overflow: u32) -> (Arc<Queue<u32>>, Vec<u32>) {
    let q = Arc::new(Queue::new(0));
    let total = 1024 + overflow;
    for n in 0..total {
        q.put_nowait(n).unwrap();
    }
    let taken = 1024 - in_ring;
    for n in 0..taken {
        assert_eq!(q.get_nowait(), Ok(n));
    }
    (q, (taken..total).collect())
}

/// Issue 14, item 7 (Q-5, QS-3, Q-10): on an unbounded `Queue` whose ring has overflowed,
/// `get_nowait` and `try_iter` race the ring's retirement (`shutdown(false)` or
/// `set_maxsize`). The only consumer must take every queued item, in order, before it sees
/// `Empty` or `ShutDown`: a pop that finds the ring closed under it hands over to the locked
/// core instead of reporting an empty queue.
#[test]
fn get_nowait_racing_retirement_never_reports_a_false_empty() {
    with_watchdog(|| {
        rounds_within(20_000, Duration::from_secs(3), |round| {
            let (q, expected) = overflowed_queue(4, 64);
            let go = Arc::new(AtomicBool::new(false));
            let retirer = {
                let (q, go) = (Arc::clone(&q), Arc::clone(&go));
                thread::spawn(move || {
                    while !go.load(SeqCst) {
                        std::hint::spin_loop();
                    }
                    // Spread the retirement over the consumer's run, round by round.
                    for _ in 0..(round % 64) * 16 {
                        std::hint::spin_loop();
                    }
                    match round % 3 {
                        0 => q.shutdown(false),
                        1 => q.set_maxsize(100_000),
                        _ => q.set_maxsize(1),
                    }
                })
            };
            go.store(true, SeqCst);
            let (got, end): (Vec<u32>, _) = if round % 2 == 0 {
                let mut got = Vec::new();
                let end = loop {
                    match q.get_nowait() {
                        Ok(n) => got.push(n),
                        Err(err) => break Some(err),
                    }
                };
                (got, end)
            } else {
                (q.try_iter().collect(), None)
            };
            retirer.join().unwrap();
            assert_eq!(
                got.len(),
                expected.len(),
                "round {round}: the consumer stopped at {end:?} with {} items still queued",
                q.qsize()
            );
            assert_eq!(got, expected, "round {round}: Q-1 order");
        });
    });
}

/// Issue 14, item 9: `qsize` stays exact while the ring of an overflowed unbounded
/// `Queue` (or a bounded one) is retired under it by `set_maxsize` or `shutdown`. Nothing else
/// puts or gets, so every reading must be the number queued: never more than was put, never
/// less than is left.
#[test]
fn qsize_stays_exact_while_the_ring_retires() {
    with_watchdog(|| {
        rounds_within(2000, Duration::from_secs(2), |round| {
            let (q, expected) = if round % 4 == 3 {
                // A bounded ring, 700 of its 1,000 slots in use.
                let q = Arc::new(Queue::new(1000));
                for n in 0..700 {
                    q.put_nowait(n).unwrap();
                }
                (q, (0..700).collect::<Vec<u32>>())
            } else {
                overflowed_queue(600 + round % 400, 32)
            };
            let n = expected.len();
            let done = Arc::new(AtomicBool::new(false));
            let retirer = {
                let (q, done) = (Arc::clone(&q), Arc::clone(&done));
                thread::spawn(move || {
                    match round % 3 {
                        0 => q.shutdown(false),
                        1 => q.set_maxsize(100_000),
                        _ => q.set_maxsize(1),
                    }
                    done.store(true, SeqCst);
                })
            };
            let mut reads = 0u32;
            loop {
                let finished = done.load(SeqCst);
                let size = q.qsize();
                assert_eq!(size, n, "round {round}, read {reads}: qsize while retiring");
                assert_eq!(q.empty(), n == 0);
                reads += 1;
                if finished {
                    break;
                }
            }
            retirer.join().unwrap();
            assert_eq!(q.try_iter().collect::<Vec<_>>(), expected);
        });
    });
}
