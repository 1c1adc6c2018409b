//! Fault injection: the Queue family and `SimpleQueue`.
//!
//! The user code a queue runs is an item's `Drop` (when the queue is dropped, when an immediate
//! shutdown discards what is queued, when a caller drops what it took) and a `PriorityQueue`
//! item's `Ord` (during `put` and `get`, under the queue's lock). Each test makes that code
//! panic, or call back into the same queue, and checks that nothing hangs (every wait is
//! bounded), every item is dropped exactly once (a live counter per item), `qsize` and the task
//! count stay right, and blocked putters and joiners are still woken.

use super::common::*;
use gilfree::queue::{BaseQueue, Order};
use gilfree::{LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue};
use std::any::Any;
use std::cmp;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock, Weak};
use std::thread;

/// What a [`Item`]'s `cmp` does besides comparing.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum OnCmp {
    Compare = 0,
    /// Reads the queue's `qsize`, which takes no lock.
    Qsize = 1,
    /// Calls `put_nowait` on the queue, which needs the lock its caller holds.
    PutNowait = 2,
}

/// Counts the drops of every item it made, and holds the switches their `Ord` obeys.
struct Tracker {
    drops: Vec<AtomicUsize>,
    /// `cmp` panics while this is above zero, taking one off.
    cmp_panics: AtomicUsize,
    on_cmp: AtomicU8,
    /// The queue that `OnCmp::Qsize` and `OnCmp::PutNowait` call back into.
    queue: OnceLock<Weak<PriorityQueue<Item>>>,
}

impl Tracker {
    fn new(n: usize) -> Arc<Tracker> {
        Arc::new(Tracker {
            drops: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            cmp_panics: AtomicUsize::new(0),
            on_cmp: AtomicU8::new(OnCmp::Compare as u8),
            queue: OnceLock::new(),
        })
    }

    fn item(self: &Arc<Self>, id: usize) -> Item {
        Item {
            id,
            tracker: Arc::clone(self),
            panic_on_drop: false,
        }
    }

    /// An item whose `Drop` panics (after counting itself).
    fn bomb(self: &Arc<Self>, id: usize) -> Item {
        let mut item = self.item(id);
        item.panic_on_drop = true;
        item
    }

    fn dropped(&self) -> usize {
        self.drops.iter().map(|d| d.load(SeqCst)).sum()
    }

    #[track_caller]
    fn assert_each_dropped_once(&self) {
        let wrong: Vec<(usize, usize)> = (self.drops.iter().map(|d| d.load(SeqCst)))
            .enumerate()
            .filter(|&(_, n)| n != 1)
            .collect();
        assert!(
            wrong.is_empty(),
            "(item, drops) not dropped once: {wrong:?}"
        );
    }

    fn set_on_cmp(&self, on_cmp: OnCmp) {
        self.on_cmp.store(on_cmp as u8, SeqCst);
    }
}

/// A queue item that counts its drop in its [`Tracker`]; ordered by `id`.
struct Item {
    id: usize,
    tracker: Arc<Tracker>,
    panic_on_drop: bool,
}

impl Drop for Item {
    fn drop(&mut self) {
        self.tracker.drops[self.id].fetch_add(1, SeqCst);
        if self.panic_on_drop && !thread::panicking() {
            panic!("Item::drop panics on purpose");
        }
    }
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> cmp::Ordering {
        let t = &self.tracker;
        if t.cmp_panics
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            panic!("Item::cmp panics on purpose");
        }
        let on_cmp = t.on_cmp.load(SeqCst);
        if on_cmp != OnCmp::Compare as u8 {
            let q = t.queue.get().and_then(Weak::upgrade).expect("the queue");
            if on_cmp == OnCmp::Qsize as u8 {
                let _ = q.qsize();
            } else {
                // Never stored: the re-entry must be refused.
                let _ = q.put_nowait(t.item(t.drops.len() - 1));
            }
        }
        self.id.cmp(&other.id)
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Item {}

/// Runs `f`, which must panic; returns the panic's message.
#[track_caller]
fn panic_message(f: impl FnOnce()) -> String {
    let payload: Box<dyn Any + Send> =
        panic::catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    panic_text(payload.as_ref())
}

/// Fills a queue of each kind with `n` tracked items, item `bomb` panicking in `Drop`.
fn filled<O: Order<Item>>(
    q: BaseQueue<Item, O>,
    t: &Arc<Tracker>,
    n: usize,
    bomb: usize,
) -> BaseQueue<Item, O> {
    for id in 0..n {
        let item = if id == bomb { t.bomb(id) } else { t.item(id) };
        assert!(q.put_nowait(item).is_ok());
    }
    q
}

/// Issue 14, item 4: dropping a queue whose item panics in `Drop` drops every other item too
/// (as `Vec` does), wherever the items are kept — the ring of a bounded or unbounded `Queue`,
/// an unbounded queue's overflow, the locked core of `LifoQueue` and `PriorityQueue`, a
/// `SimpleQueue` — and then lets the panic continue.
#[test]
fn dropping_a_queue_drops_every_item_despite_a_panicking_drop() {
    with_watchdog(|| {
        // (what, items, the bomb's position): 1,100 items overflow an unbounded ring of 1,024.
        let cases: [(&str, usize, usize); 7] = [
            ("Queue(0), bomb in the ring", 1100, 3),
            ("Queue(0), bomb in the overflow", 1100, 1050),
            ("Queue(8)", 8, 2),
            ("Queue(0) after set_maxsize", 1100, 5),
            ("LifoQueue", 10, 4),
            ("PriorityQueue", 10, 4),
            ("SimpleQueue", 1100, 7),
        ];
        for (what, n, bomb) in cases {
            let t = Tracker::new(n);
            let message = match what {
                "Queue(8)" => {
                    let q = filled(Queue::new(8), &t, n, bomb);
                    panic_message(move || drop(q))
                }
                "Queue(0) after set_maxsize" => {
                    let q = filled(Queue::new(0), &t, n, bomb);
                    q.set_maxsize(2000);
                    panic_message(move || drop(q))
                }
                "LifoQueue" => {
                    let q = filled(LifoQueue::new(0), &t, n, bomb);
                    panic_message(move || drop(q))
                }
                "PriorityQueue" => {
                    let q = filled(PriorityQueue::new(0), &t, n, bomb);
                    panic_message(move || drop(q))
                }
                "SimpleQueue" => {
                    let q = SimpleQueue::new();
                    for id in 0..n {
                        q.put(if id == bomb { t.bomb(id) } else { t.item(id) });
                    }
                    panic_message(move || drop(q))
                }
                _ => {
                    let q = filled(Queue::new(0), &t, n, bomb);
                    panic_message(move || drop(q))
                }
            };
            assert_eq!(message, "Item::drop panics on purpose", "{what}");
            assert_eq!(t.dropped(), n, "{what}: items leaked");
            t.assert_each_dropped_once();
        }
    });
}

/// Issue 14, item 4 (QS-4, QS-7, QS-8): an immediate shutdown whose discarded items include one
/// that panics in `Drop`: the panic reaches the caller of `shutdown` only after the queue is
/// fully shut down — every other item dropped, `qsize` 0, the discarded tasks counted done (a
/// joiner released), a blocked putter woken with its item back — and the queue stays usable.
#[test]
fn immediate_shutdown_with_a_panicking_drop_finishes_the_shutdown() {
    fn case<O: Order<Item, Store: Send>>(what: &str, q: BaseQueue<Item, O>) {
        const N: usize = 4;
        let t = Tracker::new(N + 3);
        let q = Arc::new(filled(q, &t, N, 1));
        // One item taken out and not marked done: its task stays unfinished.
        let taken = q.get_nowait().expect("an item");
        assert!(q.put_nowait(t.item(N)).is_ok());
        let putter = start_blocked([{
            let (q, item) = (Arc::clone(&q), t.item(N + 1));
            move || match q.put_timeout(item, LONG) {
                Err(PutError::ShutDown(back)) => back.id,
                other => panic!("the putter got {:?}", other.map_err(|e| e.into_inner().id)),
            }
        }]);
        assert_blocked(&putter, "put on a full queue");
        let joiner = start_blocked([{
            let q = Arc::clone(&q);
            move || q.join_timeout(LONG)
        }]);
        assert_blocked(&joiner, "join with unfinished tasks");
        let message = panic_message(|| q.shutdown(true));
        assert_eq!(message, "Item::drop panics on purpose", "{what}");
        assert!(q.is_shutdown(), "{what}");
        assert_eq!(q.qsize(), 0, "{what}");
        assert_eq!(
            q.unfinished_tasks(),
            1,
            "{what}: only the task taken out is unfinished"
        );
        for h in putter {
            assert_eq!(
                join_within(h),
                N + 1,
                "{what}: the putter's item comes back"
            );
        }
        drop(taken);
        q.task_done().unwrap();
        for h in joiner {
            assert!(join_within(h), "{what}: the joiner was not released");
        }
        assert!(q.task_done().is_err(), "{what}: Q-8");
        assert!(matches!(
            q.put_nowait(t.item(N + 2)),
            Err(PutError::ShutDown(_))
        ));
        assert!(q.get_nowait().is_err(), "{what}");
        drop(q);
        t.assert_each_dropped_once();
    }
    with_watchdog(|| {
        case("Queue(4), on the ring", Queue::new(4));
        case("Queue(4) on the locked core", {
            let q = Queue::new(0);
            q.set_maxsize(4);
            q
        });
        case("LifoQueue(4)", LifoQueue::new(4));
        case("PriorityQueue(4)", PriorityQueue::new(4));
    });
}

/// Issue 14, item 4: a caller that drops an item it took, which panics in `Drop`, leaves the
/// queue as the `get` left it.
#[test]
fn dropping_a_taken_item_that_panics_leaves_the_queue_alone() {
    with_watchdog(|| {
        let t = Tracker::new(3);
        let q = filled(Queue::new(0), &t, 3, 0);
        let message = panic_message(|| drop(q.get_nowait()));
        assert_eq!(message, "Item::drop panics on purpose");
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.unfinished_tasks(), 3);
        assert_eq!(q.try_iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2]);
        t.assert_each_dropped_once();
    });
}

/// Issue 14, item 6: a `PriorityQueue` item whose `Ord` panics in a `put` (sift-up)
/// and in a `get` (re-ordering): the panic reaches the caller, the item of the panicking put
/// is stored and counted (it is in the heap), the item of the panicking get stays queued (not
/// lost), a putter blocked on the full queue is still woken by the next get, and every item is
/// dropped exactly once.
#[test]
fn priority_queue_ord_panics_lose_nothing() {
    with_watchdog(|| {
        let t = Tracker::new(5);
        let q = Arc::new(PriorityQueue::new(4));
        for id in [3, 1, 2] {
            q.put(t.item(id)).unwrap();
        }
        t.cmp_panics.store(1, SeqCst);
        let message = panic_message(|| drop(q.put(t.item(0))));
        assert_eq!(message, "Item::cmp panics on purpose");
        assert_eq!(q.qsize(), 4, "the put's item is in the heap");
        assert_eq!(q.unfinished_tasks(), 4, "and counted");
        assert!(q.full());

        let putter = start_blocked([{
            let (q, item) = (Arc::clone(&q), t.item(4));
            move || q.put_timeout(item, LONG).is_ok()
        }]);
        assert_blocked(&putter, "put on a full queue");
        t.cmp_panics.store(1, SeqCst);
        let message = panic_message(|| drop(q.get()));
        assert_eq!(message, "Item::cmp panics on purpose");
        assert_eq!(t.dropped(), 0, "the get lost (dropped) its item");
        assert_eq!(q.qsize(), 4, "the get's item stays queued");
        assert_eq!(q.unfinished_tasks(), 4);
        // The queue is still full: the putter still waits, and the next get releases it.
        assert_blocked(&putter, "put on a queue still full");
        let first = q.get().unwrap();
        for h in putter {
            assert!(join_within(h), "the putter was not woken");
        }
        let mut ids: Vec<usize> = q.try_iter().map(|i| i.id).collect();
        ids.push(first.id);
        ids.sort_unstable();
        assert_eq!(ids, [0, 1, 2, 3, 4], "lost or duplicated items");
        assert_eq!(q.unfinished_tasks(), 5);
        for _ in 0..5 {
            q.task_done().unwrap();
        }
        assert!(q.join_timeout(AT_ONCE));
        drop(first);
        drop(q);
        t.assert_each_dropped_once();
    });
}

/// Issue 14, item 6: a `PriorityQueue` item's `Ord` that calls back into the same queue while
/// the queue holds its lock. `qsize` takes no lock and answers; `put_nowait` would wait for the
/// lock its own thread holds, so it panics with a `RuntimeError` message instead of hanging,
/// and the put or get that ran the `Ord` unwinds with it, the queue intact.
#[test]
fn priority_queue_ord_that_re_enters_the_queue_does_not_hang() {
    let t = Tracker::new(8);
    let q = Arc::new(PriorityQueue::new(0));
    t.queue.set(Arc::downgrade(&q)).ok().unwrap();
    let worker = {
        let (q, t) = (Arc::clone(&q), Arc::clone(&t));
        thread::spawn(move || {
            for id in [4, 2] {
                q.put(t.item(id)).unwrap();
            }
            t.set_on_cmp(OnCmp::Qsize);
            q.put(t.item(3)).unwrap();
            assert_eq!(q.get().unwrap().id, 2);
            t.set_on_cmp(OnCmp::PutNowait);
            let on_put = panic_message(|| drop(q.put(t.item(1))));
            let on_get = panic_message(|| drop(q.get()));
            t.set_on_cmp(OnCmp::Compare);
            (on_put, on_get)
        })
    };
    let (on_put, on_get) = join_within(worker);
    for message in [on_put, on_get] {
        assert!(
            message.starts_with("RuntimeError: PriorityQueue re-entered from user code"),
            "{message}"
        );
    }
    assert_eq!(q.qsize(), 3, "the put's item is stored; the get's stays");
    assert_eq!(q.unfinished_tasks(), 4);
    let mut ids: Vec<usize> = q.try_iter().map(|i| i.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 3, 4]);
    drop(q);
    // Item 2 was taken and dropped; 0, 5, 6 were never made; 7 (the re-entrant put's item)
    // was made and dropped each time the put was refused.
    for id in [0, 5, 6] {
        t.drops[id].store(1, SeqCst);
    }
    assert!(t.drops[7].load(SeqCst) >= 1);
    t.drops[7].store(1, SeqCst);
    t.assert_each_dropped_once();
}
