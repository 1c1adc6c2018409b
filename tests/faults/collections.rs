//! Fault injection: `Deque` and `Set` (issue 14, items 5 and 6).
//!
//! Every place where the collections run user code — an item's `Drop`, `PartialEq`/`Eq`,
//! `Hash`, `Clone` and `Debug`, `retain`'s closure, `with_items`' closure, the iterator given
//! to `extend` — is made to panic, or to call back into the same collection. Each test checks:
//! no hang (a watchdog bounds it), no lost or duplicated item (every item made is dropped
//! exactly once: [`Cfg`] keeps the live ones by serial number), invariants (`len() <= maxlen`,
//! `len()` equal to the items a snapshot holds), and, where user code runs under the lock, a
//! re-entry that panics with `RuntimeError: … re-entered from user code` — or, where the code
//! runs outside the lock, a re-entry that simply works.

use super::common::*;
use gilfree::{Deque, Set};
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

/// What user code does when it runs.
type Hook = Arc<dyn Fn(Site) + Send + Sync>;

/// Where an item's user code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Site {
    Eq,
    Hash,
    Clone,
    Drop,
    Debug,
}

/// The faults to inject, and the books: the serial numbers of the items alive.
#[derive(Default)]
struct Cfg {
    next: AtomicU64,
    live: Mutex<HashSet<u64>>,
    double_drops: AtomicUsize,
    /// Items with these ids panic in `Drop` (never while already unwinding: that aborts).
    drop_panics: Mutex<HashSet<u32>>,
    eq_panics: AtomicBool,
    hash_panics: AtomicBool,
    /// The clone after this many more succeeds panics (`usize::MAX`: never).
    clones_left: AtomicUsize,
    hook: Mutex<Option<Hook>>,
}

impl Cfg {
    fn new() -> Arc<Cfg> {
        let cfg = Cfg::default();
        cfg.clones_left.store(usize::MAX, SeqCst);
        Arc::new(cfg)
    }

    fn item(self: &Arc<Self>, id: u32) -> Item {
        let serial = self.next.fetch_add(1, SeqCst);
        self.live.lock().unwrap().insert(serial);
        Item {
            id,
            serial,
            cfg: Arc::clone(self),
        }
    }

    fn items(self: &Arc<Self>, ids: impl IntoIterator<Item = u32>) -> Vec<Item> {
        ids.into_iter().map(|id| self.item(id)).collect()
    }

    fn live(&self) -> usize {
        self.live.lock().unwrap().len()
    }

    fn panic_on_drop_of(&self, ids: impl IntoIterator<Item = u32>) {
        self.drop_panics.lock().unwrap().extend(ids);
    }

    fn set_hook(&self, hook: impl Fn(Site) + Send + Sync + 'static) {
        *self.hook.lock().unwrap() = Some(Arc::new(hook));
    }

    /// Ends every fault, so that the collection can be dropped quietly.
    fn calm(&self) {
        *self.hook.lock().unwrap() = None;
        self.drop_panics.lock().unwrap().clear();
        self.eq_panics.store(false, SeqCst);
        self.hash_panics.store(false, SeqCst);
        self.clones_left.store(usize::MAX, SeqCst);
    }

    fn fire(&self, site: Site) {
        // Not called with the Mutex held: the hook may drop items, which fire again.
        let hook = self.hook.lock().unwrap().clone();
        if let Some(hook) = hook {
            hook(site);
        }
    }

    /// Every item made was dropped, none twice.
    fn assert_all_dropped(&self) {
        assert_eq!(
            self.double_drops.load(SeqCst),
            0,
            "an item was dropped twice"
        );
        let live = self.live.lock().unwrap();
        assert!(live.is_empty(), "{} items never dropped", live.len());
    }
}

/// A test item: equality and hash by `id`; each instance (a clone too) has its own serial.
struct Item {
    id: u32,
    serial: u64,
    cfg: Arc<Cfg>,
}

impl Clone for Item {
    fn clone(&self) -> Self {
        self.cfg.fire(Site::Clone);
        let left = self.cfg.clones_left.load(SeqCst);
        if left == 0 {
            panic!("Clone failed");
        }
        if left != usize::MAX {
            self.cfg.clones_left.store(left - 1, SeqCst);
        }
        self.cfg.item(self.id)
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.cfg.fire(Site::Eq);
        if self.cfg.eq_panics.load(SeqCst) {
            panic!("PartialEq failed");
        }
        self.id == other.id
    }
}

impl Eq for Item {}

impl Hash for Item {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.cfg.fire(Site::Hash);
        if self.cfg.hash_panics.load(SeqCst) {
            panic!("Hash failed");
        }
        self.id.hash(state);
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cfg.fire(Site::Debug);
        write!(f, "Item({})", self.id)
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        // The books first: a panic below must not skip them.
        if !self.cfg.live.lock().unwrap().remove(&self.serial) {
            self.cfg.double_drops.fetch_add(1, SeqCst);
        }
        self.cfg.fire(Site::Drop);
        let panics = self.cfg.drop_panics.lock().unwrap().contains(&self.id);
        if panics && !std::thread::panicking() {
            panic!("Drop failed");
        }
    }
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    panic_text(payload)
}

/// Runs `f`, which must panic with `what`'s message (a substring).
fn expect_panic<R>(what: &str, f: impl FnOnce() -> R) {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic with {what:?}"),
        Err(payload) => {
            let text = message(&*payload);
            assert!(
                text.contains(what),
                "panicked with {text:?}, expected {what:?}"
            );
        }
    }
}

const DEQUE_REENTERED: &str = "RuntimeError: Deque re-entered from user code";
const SET_REENTERED: &str = "RuntimeError: Set re-entered from user code";

fn ids(items: Vec<Item>) -> Vec<u32> {
    items.iter().map(|item| item.id).collect()
}

/// The deque's invariants, and its items' ids (through a snapshot, without faults).
fn deque_state(dq: &Deque<Item>) -> Vec<u32> {
    let len = dq.len();
    if let Some(max) = dq.maxlen() {
        assert!(len <= max, "len {len} > maxlen {max}");
    }
    let seen = dq.with_items(|items| items.iter().map(|item| item.id).collect::<Vec<_>>());
    assert_eq!(seen.len(), len, "len() disagrees with the items");
    seen
}

/// The set's invariants, and its items' ids, sorted (through a snapshot, whose copies drop
/// without faults).
fn set_state(cfg: &Cfg, set: &Set<Item>) -> Vec<u32> {
    let len = set.len();
    let copies = set.to_vec();
    let panicking = std::mem::take(&mut *cfg.drop_panics.lock().unwrap());
    let mut seen = ids(copies);
    *cfg.drop_panics.lock().unwrap() = panicking;
    seen.sort();
    assert_eq!(seen.len(), len, "len() disagrees with the items");
    let distinct: HashSet<u32> = seen.iter().copied().collect();
    assert_eq!(distinct.len(), len, "an item is stored twice");
    seen
}

// ---------------------------------------------------------------------------------------------
// Deque: Drop

/// DQ-5, DQ-16: a panicking `Drop` in `pop`'s caller, `clear`, maxlen eviction (`extend`,
/// `append`) and `with_items`' trim: each runs after the deque is unlocked, drops every other
/// item, and leaves the deque consistent and usable.
#[test]
fn deque_drop_panics_after_the_lock_is_released() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        cfg.panic_on_drop_of([1]);
        let dq = Deque::with_maxlen(3);
        dq.extend(cfg.items([0, 1, 2]));

        // clear: every item dropped, the deque empty, the panic passed on.
        expect_panic("Drop failed", || dq.clear());
        assert_eq!(deque_state(&dq), [] as [u32; 0]);
        assert_eq!(cfg.live(), 0);

        // Eviction by extend: the evicted items (1 among them) dropped after the unlock.
        dq.extend(cfg.items([0, 1, 2]));
        expect_panic("Drop failed", || dq.extend(cfg.items([3, 4, 5])));
        assert_eq!(deque_state(&dq), [3, 4, 5]);
        assert_eq!(cfg.live(), 3);

        // Eviction by extend of more than maxlen new items: the skipped ones too.
        expect_panic("Drop failed", || dq.extend(cfg.items([1, 6, 7, 8])));
        assert_eq!(deque_state(&dq), [6, 7, 8]);
        assert_eq!(cfg.live(), 3);

        // Eviction by append: the item comes back, the caller's drop panics.
        dq.clear();
        dq.extend(cfg.items([1, 2, 3]));
        expect_panic("Drop failed", || drop(dq.append(cfg.item(4))));
        assert_eq!(deque_state(&dq), [2, 3, 4]);

        // with_items grows past maxlen: the trimmed items are dropped after the unlock.
        expect_panic("Drop failed", || {
            dq.with_items(|items| {
                items.push_front(cfg.item(1));
                items.extend(cfg.items([5, 6]));
            })
        });
        assert_eq!(deque_state(&dq), [4, 5, 6]);
        assert_eq!(cfg.live(), 3);

        // pop / remove_at / set / remove hand the item back.
        dq.clear();
        dq.extend(cfg.items([1, 1, 1]));
        expect_panic("Drop failed", || drop(dq.pop()));
        expect_panic("Drop failed", || drop(dq.remove_at(0)));
        expect_panic("Drop failed", || drop(dq.set(0, cfg.item(2))));
        assert_eq!(deque_state(&dq), [2]);
        cfg.calm();
        drop(dq);
        cfg.assert_all_dropped();
    });
}

/// Dropping a whole deque whose items panic in `Drop` drops all of them (as `Vec` does), then
/// the panic continues.
#[test]
fn deque_own_drop_drops_every_item_past_a_panic() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        // Only one panicking item: a second panic while unwinding would abort, as for a Vec.
        cfg.panic_on_drop_of([3]);
        let dq = Deque::new();
        dq.extend(cfg.items(0..8));
        // Make the storage wrap around, so that both halves of the ring are dropped.
        dq.rotate(3);
        expect_panic("Drop failed", || drop(dq));
        cfg.assert_all_dropped();

        let dq = Deque::new();
        dq.extend(cfg.items(0..8));
        expect_panic("Drop failed", || drop(dq.into_vec()));
        cfg.assert_all_dropped();
    });
}

/// A `Drop` that uses the deque runs outside the lock: it works, in `clear`, eviction,
/// `with_items`' trim and the caller's drop of a popped item.
#[test]
fn deque_drop_may_use_the_deque() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let dq = Arc::new(Deque::with_maxlen(2));
        let lens = Arc::new(Mutex::new(Vec::new()));
        {
            let dq = Arc::downgrade(&dq);
            let lens = Arc::clone(&lens);
            cfg.set_hook(move |site| {
                if let (Site::Drop, Some(dq)) = (site, dq.upgrade()) {
                    lens.lock().unwrap().push(dq.len());
                }
            });
        }
        dq.extend(cfg.items([0, 1]));
        dq.extend(cfg.items([2, 3, 4])); // evicts 0, 1 and skips 2
        dq.with_items(|items| items.push_back(cfg.item(5))); // trims 3
        drop(dq.pop());
        dq.clear();
        assert_eq!(lens.lock().unwrap().len(), 6);
        assert_eq!(deque_state(&dq), [] as [u32; 0]);
        cfg.calm();
        drop(dq);
        cfg.assert_all_dropped();
    });
}

// ---------------------------------------------------------------------------------------------
// Deque: PartialEq, Clone, Debug

/// DQ-12, DQ-13, DQ-14: a panicking comparison in `contains`, `count`, `index`,
/// `index_range`, `remove` and `==` leaves the deque as it was, and unlocked.
#[test]
fn deque_eq_panics_leave_it_unchanged() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let dq: Deque<Item> = cfg.items(0..5).into_iter().collect();
        let other: Deque<Item> = cfg.items(0..5).into_iter().collect();
        let probe = cfg.item(3);
        cfg.eq_panics.store(true, SeqCst);
        expect_panic("PartialEq failed", || dq.contains(&probe));
        expect_panic("PartialEq failed", || dq.count(&probe));
        expect_panic("PartialEq failed", || dq.index(&probe));
        expect_panic("PartialEq failed", || dq.index_range(&probe, 1, 4));
        expect_panic("PartialEq failed", || dq.remove(&probe));
        expect_panic("PartialEq failed", || dq == other);
        cfg.calm();
        assert_eq!(deque_state(&dq), [0, 1, 2, 3, 4]);
        // Unlocked: another thread gets in at once.
        assert_eq!(join_within(std::thread::spawn(move || dq.len())), 5);
        drop((other, probe));
        cfg.assert_all_dropped();
    });
}

/// Issue 14, item 6: an item's `PartialEq` that uses the deque it is compared in panics with
/// the re-entry message, in every comparing method, instead of deadlocking; the deque stays
/// usable.
#[test]
fn deque_eq_reentry_panics_instead_of_deadlocking() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let dq = Arc::new(Deque::new());
        dq.extend(cfg.items(0..4));
        let other: Deque<Item> = cfg.items(0..4).into_iter().collect();
        let probe = cfg.item(2);
        {
            let dq = Arc::downgrade(&dq);
            cfg.set_hook(move |site| {
                if let (Site::Eq, Some(dq)) = (site, dq.upgrade()) {
                    dq.append_left(dq.pop().expect("not empty"));
                }
            });
        }
        expect_panic(DEQUE_REENTERED, || dq.contains(&probe));
        expect_panic(DEQUE_REENTERED, || dq.count(&probe));
        expect_panic(DEQUE_REENTERED, || dq.index(&probe));
        expect_panic(DEQUE_REENTERED, || dq.index_range(&probe, 0, 3));
        expect_panic(DEQUE_REENTERED, || dq.remove(&probe));
        expect_panic(DEQUE_REENTERED, || *dq == other);
        expect_panic(DEQUE_REENTERED, || other == *dq);
        cfg.calm();
        assert_eq!(deque_state(&dq), [0, 1, 2, 3]);
        drop((dq, other, probe));
        cfg.assert_all_dropped();
    });
}

/// DQ-24: a `Clone` that panics in `to_vec`, `get`, `clone()` or `&deque` iteration leaves the
/// deque unchanged; the copies made before the panic are dropped, none leaks.
#[test]
fn deque_clone_panics_leave_it_unchanged() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let dq: Deque<Item> = cfg.items(0..6).into_iter().collect();
        for (what, after) in [("to_vec", 3), ("get", 0), ("clone", 5), ("iter", 1)] {
            cfg.clones_left.store(after, SeqCst);
            expect_panic("Clone failed", || match what {
                "to_vec" => drop(dq.to_vec()),
                "get" => drop(dq.get(2)),
                "clone" => drop(dq.clone()),
                _ => (&dq).into_iter().for_each(drop),
            });
            cfg.calm();
            assert_eq!(deque_state(&dq), [0, 1, 2, 3, 4, 5], "{what}");
            assert_eq!(cfg.live(), 6, "{what}: a partial copy leaked");
        }
        drop(dq);
        cfg.assert_all_dropped();
    });
}

/// A `Clone` or `Debug` that uses the deque being copied or printed panics with the re-entry
/// message instead of deadlocking.
#[test]
fn deque_clone_and_debug_reentry_panic() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let dq = Arc::new(Deque::new());
        dq.extend(cfg.items(0..3));
        {
            let dq = Arc::downgrade(&dq);
            cfg.set_hook(move |site| {
                if let (Site::Clone | Site::Debug, Some(dq)) = (site, dq.upgrade()) {
                    let _ = dq.len();
                }
            });
        }
        expect_panic(DEQUE_REENTERED, || dq.to_vec());
        expect_panic(DEQUE_REENTERED, || dq.get(0));
        expect_panic(DEQUE_REENTERED, || Deque::clone(&dq));
        expect_panic(DEQUE_REENTERED, || format!("{dq:?}"));
        cfg.calm();
        assert_eq!(deque_state(&dq), [0, 1, 2]);
        assert_eq!(format!("{dq:?}"), "deque([Item(0), Item(1), Item(2)])");
        drop(dq);
        cfg.assert_all_dropped();
    });
}

// ---------------------------------------------------------------------------------------------
// Deque: closures and iterators

/// DQ-5, issue 14 item 5: a `with_items` closure that panics, having grown, shrunk or
/// rearranged the deque, leaves it within maxlen with every item accounted for; one that uses
/// the deque panics with the re-entry message.
#[test]
fn deque_with_items_panics_and_reentry() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let dq = Arc::new(Deque::with_maxlen(4));
        dq.extend(cfg.items(0..4));
        expect_panic("closure failed", || {
            dq.with_items(|items| {
                items.extend(cfg.items(10..16));
                drop(items.pop_front());
                panic!("closure failed");
            })
        });
        assert_eq!(deque_state(&dq), [12, 13, 14, 15]);
        assert_eq!(cfg.live(), 4);

        let again = Arc::clone(&dq);
        expect_panic(DEQUE_REENTERED, || {
            dq.with_items(|items| {
                items.push_back(cfg.item(16));
                again.append(cfg.item(99))
            })
        });
        // The item made for the refused append was dropped; the push stayed, trimmed.
        assert_eq!(deque_state(&dq), [13, 14, 15, 16]);
        assert_eq!(cfg.live(), 4);
        drop((again, dq));
        cfg.assert_all_dropped();
    });
}

/// DQ-8: an `extend` iterator that panics midway adds nothing and drops what it gave; one that
/// reads the deque works (it runs before the deque is locked).
#[test]
fn deque_extend_iterator_panics_and_reentry() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        for maxlen in [None, Some(2)] {
            let dq = match maxlen {
                Some(max) => Deque::with_maxlen(max),
                None => Deque::new(),
            };
            dq.extend(cfg.items([0, 1]));
            let mut n = 0;
            expect_panic("iterator failed", || {
                dq.extend(std::iter::from_fn(|| {
                    n += 1;
                    assert!(n < 4, "iterator failed");
                    Some(cfg.item(n))
                }))
            });
            assert_eq!(deque_state(&dq), [0, 1]);
            expect_panic("iterator failed", || {
                dq.extend_left((5..9).map(|id| {
                    assert!(id < 7, "iterator failed");
                    cfg.item(id)
                }))
            });
            assert_eq!(deque_state(&dq), [0, 1]);
            assert_eq!(cfg.live(), 2);

            // The iterator may read the deque: it runs before the deque is locked.
            dq.extend((0..3).map(|id| cfg.item(100 + id + dq.len() as u32)));
            assert!(dq.len() <= maxlen.unwrap_or(usize::MAX));
            drop(dq);
            cfg.assert_all_dropped();
        }
        // FromIterator: a panicking source drops what it gave.
        expect_panic("iterator failed", || {
            (0..5)
                .map(|id| {
                    assert!(id < 3, "iterator failed");
                    cfg.item(id)
                })
                .collect::<Deque<Item>>()
        });
        cfg.assert_all_dropped();
    });
}

// ---------------------------------------------------------------------------------------------
// Set: Drop

/// SET-3 to SET-6, SET-8: a panicking `Drop` in `clear`, `retain`, `discard`, `pop`, a
/// duplicate `add`, and the in-place algebra runs after the set is unlocked: every other
/// item is dropped, the set stays consistent and usable.
#[test]
fn set_drop_panics_after_the_lock_is_released() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        cfg.panic_on_drop_of([1]);
        let set = Set::with_shards(4);
        set.extend(cfg.items(0..8));

        expect_panic("Drop failed", || set.clear());
        assert_eq!(set_state(&cfg, &set), [] as [u32; 0]);
        assert_eq!(cfg.live(), 0);

        set.extend(cfg.items(0..8));
        expect_panic("Drop failed", || set.retain(|item| item.id % 2 == 0));
        assert_eq!(set_state(&cfg, &set), [0, 2, 4, 6]);
        assert_eq!(cfg.live(), 4);

        // A duplicate add: the value not stored is dropped after the unlock.
        set.add(cfg.item(1));
        expect_panic("Drop failed", || set.add(cfg.item(1)));
        assert_eq!(set_state(&cfg, &set), [0, 1, 2, 4, 6]);
        expect_panic("Drop failed", || set.discard(&cfg.item(1)));
        assert_eq!(set_state(&cfg, &set), [0, 2, 4, 6]);
        set.add(cfg.item(1));
        expect_panic("Drop failed", || set.remove(&cfg.item(1)).is_ok());
        assert_eq!(set_state(&cfg, &set), [0, 2, 4, 6]);

        // The in-place algebra: removed items and unused copies dropped after the unlock.
        let other: Set<Item> = Set::with_shards(2);
        other.extend(cfg.items([1, 2, 3]));
        set.add(cfg.item(1));
        expect_panic("Drop failed", || set.difference_update(&other));
        assert_eq!(set_state(&cfg, &set), [0, 4, 6]);
        set.add(cfg.item(1));
        expect_panic("Drop failed", || set.intersection_update(&other));
        assert_eq!(set_state(&cfg, &set), [1]);
        expect_panic("Drop failed", || set.symmetric_difference_update(&other));
        assert_eq!(set_state(&cfg, &set), [2, 3]);
        set.add(cfg.item(1));
        // The copy of 1 that `update` does not store is dropped after the unlock.
        expect_panic("Drop failed", || set.update(&other));
        assert_eq!(set_state(&cfg, &set), [1, 2, 3]);

        while let Some(item) = panic::catch_unwind(AssertUnwindSafe(|| set.pop().map(|i| i.id)))
            .unwrap_or(Some(u32::MAX))
        {
            assert!(item != 1, "item 1's drop panics");
        }
        assert_eq!(set_state(&cfg, &set), [] as [u32; 0]);
        cfg.calm();
        drop((set, other));
        cfg.assert_all_dropped();
    });
}

/// Dropping a whole set whose items panic in `Drop` drops all of them (hashbrown alone would
/// stop at the first and leak the rest), then the panic continues; so does dropping its
/// `into_iter()` early.
#[test]
fn set_own_drop_drops_every_item_past_a_panic() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        cfg.panic_on_drop_of([5]);
        for shards in [1, 4] {
            let set = Set::with_shards(shards);
            set.extend(cfg.items(0..40));
            expect_panic("Drop failed", || drop(set));
            cfg.assert_all_dropped();

            let set = Set::with_shards(shards);
            set.extend(cfg.items(0..40));
            let mut rest = set.into_iter();
            let first = rest.next().expect("40 items");
            if first.id == 5 {
                drop(rest);
                expect_panic("Drop failed", || drop(first));
            } else {
                expect_panic("Drop failed", || drop(rest));
                drop(first);
            }
            cfg.assert_all_dropped();
        }
    });
}

/// A `Drop` that uses the set runs outside the lock: it works, in `clear`, `retain`,
/// `discard`, a duplicate `add`, the in-place algebra and the set's own drop.
#[test]
fn set_drop_may_use_the_set() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let set = Arc::new(Set::with_shards(4));
        let drops = Arc::new(AtomicUsize::new(0));
        {
            let set = Arc::downgrade(&set);
            let drops = Arc::clone(&drops);
            cfg.set_hook(move |site| {
                if let (Site::Drop, Some(set)) = (site, set.upgrade()) {
                    let _ = set.len();
                    drops.fetch_add(1, SeqCst);
                }
            });
        }
        set.extend(cfg.items(0..8));
        set.add(cfg.item(0)); // duplicate
        set.retain(|item| item.id < 6); // 6, 7
        set.discard(&cfg.item(5)); // the probe and 5
        let other: Set<Item> = cfg.items([1, 2]).into_iter().collect();
        set.difference_update(&other); // 1, 2 and the two copies
        assert_eq!(set_state(&cfg, &set), [0, 3, 4]);
        set.clear();
        // 12 items, and the 3 copies `set_state` made.
        assert_eq!(drops.load(SeqCst), 15);
        cfg.calm();
        drop((set, other));
        cfg.assert_all_dropped();
    });
}

// ---------------------------------------------------------------------------------------------
// Set: Hash, Eq, Clone, Debug

/// SET-2: `Hash` runs before the set is locked: one that panics leaves it unchanged and
/// unlocked, and one that uses the set works. Growing a shard never calls `Hash` (the hash is
/// stored with the item), so a `Hash` that fails after the first call cannot cost other
/// items.
#[test]
fn set_hash_runs_outside_the_lock() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let set = Arc::new(Set::with_shards(2));
        set.extend(cfg.items(0..3));
        cfg.hash_panics.store(true, SeqCst);
        expect_panic("Hash failed", || set.add(cfg.item(7)));
        expect_panic("Hash failed", || set.contains(&cfg.item(1)));
        expect_panic("Hash failed", || set.discard(&cfg.item(1)));
        let other: Set<Item> = Set::with_shards(1);
        cfg.calm();
        other.add(cfg.item(9));
        cfg.hash_panics.store(true, SeqCst);
        expect_panic("Hash failed", || set.update(&other));
        cfg.calm();
        assert_eq!(set_state(&cfg, &set), [0, 1, 2]);

        // Hashes taken once per add, and never again while the tables grow.
        let hashes = Arc::new(AtomicUsize::new(0));
        {
            let hashes = Arc::clone(&hashes);
            let set = Arc::downgrade(&set);
            cfg.set_hook(move |site| {
                if let (Site::Hash, Some(set)) = (site, set.upgrade()) {
                    hashes.fetch_add(1, SeqCst);
                    // Hash may use the set: it runs unlocked.
                    let _ = set.len();
                }
            });
        }
        for id in 100..1100 {
            assert!(set.add(cfg.item(id)));
        }
        assert_eq!(hashes.load(SeqCst), 1000);
        cfg.calm();
        assert_eq!(set.len(), 1003);
        drop((set, other));
        cfg.assert_all_dropped();
    });
}

/// SET-2 to SET-4, SET-8: a panicking `Eq` in `add`, `contains`, `discard`, `take` and the
/// in-place algebra leaves the set as it was (or, for the algebra, with whole steps done),
/// unlocked, with every item accounted for.
#[test]
fn set_eq_panics_leave_it_consistent() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let set = Set::with_shards(1);
        set.extend(cfg.items(0..4));
        let other: Set<Item> = cfg.items(2..6).into_iter().collect();
        cfg.eq_panics.store(true, SeqCst);
        expect_panic("PartialEq failed", || set.add(cfg.item(2)));
        expect_panic("PartialEq failed", || set.contains(&cfg.item(2)));
        expect_panic("PartialEq failed", || set.discard(&cfg.item(2)));
        expect_panic("PartialEq failed", || set.take(&cfg.item(2)));
        cfg.calm();
        assert_eq!(set_state(&cfg, &set), [0, 1, 2, 3]);
        for op in 0..4 {
            cfg.eq_panics.store(true, SeqCst);
            expect_panic("PartialEq failed", || match op {
                0 => set.update(&other),
                1 => set.difference_update(&other),
                2 => set.intersection_update(&other),
                _ => set.symmetric_difference_update(&other),
            });
            cfg.calm();
            let state = set_state(&cfg, &set);
            assert!(state.iter().all(|id| *id < 6), "{op}: {state:?}");
            assert_eq!(
                cfg.live(),
                state.len() + 4,
                "{op}: an item leaked or was lost"
            );
        }
        // Unlocked: another thread gets in at once.
        let n = set_state(&cfg, &set).len();
        assert_eq!(join_within(std::thread::spawn(move || set.len())), n);
        drop(other);
        cfg.assert_all_dropped();
    });
}

/// Issue 14, item 6: user code under a shard's lock — `Eq`, `Clone`, `Debug`, `retain`'s
/// closure — that touches the same set panics with the re-entry message, whichever shard the
/// re-entering call needs (the one held, another one, or all), instead of deadlocking.
#[test]
fn set_reentry_panics_on_every_shard() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let set = Arc::new(Set::with_shards(8));
        set.extend(cfg.items(0..16));
        let other: Set<Item> = cfg.items(0..16).into_iter().collect();
        // Which call the hook makes from inside the set's user code.
        let target = Arc::new(AtomicUsize::new(0));
        {
            let set = Arc::downgrade(&set);
            let target = Arc::clone(&target);
            let weak_cfg = Arc::downgrade(&cfg);
            cfg.set_hook(move |site| {
                // Hash runs unlocked, and a Drop may be the unwinding of a re-entry refused.
                if matches!(site, Site::Hash | Site::Drop) {
                    return;
                }
                if let (Some(set), Some(cfg)) = (set.upgrade(), weak_cfg.upgrade()) {
                    match target.load(SeqCst) {
                        // A lookup: its shard may or may not be the one held.
                        id @ 0..16 => drop(set.contains(&cfg.item(id as u32))),
                        16 => drop(set.len()),
                        _ => {}
                    }
                }
            });
        }
        for t in 0..=16 {
            target.store(t, SeqCst);
            let probe = cfg.item(3);
            expect_panic(SET_REENTERED, || set.contains(&probe));
            expect_panic(SET_REENTERED, || set.add(cfg.item(3)));
            expect_panic(SET_REENTERED, || set.discard(&probe));
            expect_panic(SET_REENTERED, || set.to_vec());
            expect_panic(SET_REENTERED, || format!("{set:?}"));
            expect_panic(SET_REENTERED, || set.update(&other));
            expect_panic(SET_REENTERED, || set.difference_update(&other));
            expect_panic(SET_REENTERED, || {
                set.retain(|item| {
                    let _ = set.contains(&cfg.item(item.id));
                    true
                })
            });
        }
        target.store(usize::MAX, SeqCst);
        assert_eq!(set_state(&cfg, &set), (0..16).collect::<Vec<_>>());
        cfg.calm();
        drop((set, other));
        cfg.assert_all_dropped();
    });
}

/// SET-11: a `Clone` that panics in `to_vec`, `to_hash_set`, `clone()` or the set algebra
/// leaves the set unchanged; the copies made before the panic are dropped.
#[test]
fn set_clone_panics_leave_it_unchanged() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let set: Set<Item> = Set::with_shards(4);
        set.extend(cfg.items(0..8));
        for op in 0..4 {
            cfg.clones_left.store(5, SeqCst);
            expect_panic("Clone failed", || match op {
                0 => drop(set.to_vec()),
                1 => drop(set.to_hash_set()),
                2 => drop(set.clone()),
                _ => drop(set.union(&set)),
            });
            cfg.calm();
            assert_eq!(set_state(&cfg, &set), (0..8).collect::<Vec<_>>(), "{op}");
            assert_eq!(cfg.live(), 8, "{op}: a partial copy leaked");
        }
        drop(set);
        cfg.assert_all_dropped();
    });
}

/// A `retain` closure that panics midway: the items it rejected so far are gone and dropped,
/// the rest stay; the set is consistent and unlocked.
#[test]
fn set_retain_closure_panics() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let set = Set::with_shards(4);
        set.extend(cfg.items(0..32));
        let mut judged = 0;
        expect_panic("closure failed", || {
            set.retain(|item| {
                judged += 1;
                assert!(judged <= 16, "closure failed");
                item.id % 2 == 0
            })
        });
        let state = set_state(&cfg, &set);
        assert!(
            (0..32).step_by(2).all(|id| state.contains(&id)),
            "{state:?}"
        );
        assert_eq!(cfg.live(), state.len());
        assert_eq!(
            join_within(std::thread::spawn(move || set.len())),
            state.len()
        );
        cfg.assert_all_dropped();
    });
}

/// An `extend` iterator that panics midway keeps the items it gave (one `add` each); one that
/// reads the set works (it runs unlocked).
#[test]
fn set_extend_iterator_panics_and_reentry() {
    with_watchdog(|| {
        let cfg = Cfg::new();
        let set = Set::with_shards(2);
        expect_panic("iterator failed", || {
            set.extend((0..6).map(|id| {
                assert!(id < 4, "iterator failed");
                cfg.item(id)
            }))
        });
        assert_eq!(set_state(&cfg, &set), [0, 1, 2, 3]);
        // The iterator may read the set: it runs unlocked.
        set.extend((0..4).map(|_| cfg.item(set.len() as u32)));
        assert_eq!(set_state(&cfg, &set), [0, 1, 2, 3, 4, 5, 6, 7]);
        drop(set);
        cfg.assert_all_dropped();
    });
}
