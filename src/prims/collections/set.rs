//! A thread-safe hash set, sharded so that threads working on different items do not contend.

use super::super::user_lock::Reentry;
use super::rt::{CachePadded, RwLock, RwLockReadGuard, RwLockWriteGuard};
use crate::error::KeyError;
use hashbrown::HashTable;
use std::borrow::Borrow;
use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

/// Python's `set`, safe to share between threads: every method takes `&self`.
///
/// The items are spread over independent shards (by default four per CPU), each a hash table
/// behind its own lock: `add`, `contains`, `remove` and `discard` lock one shard, so threads
/// working on different items run in parallel. Each item is stored with its hash, as CPython's
/// set does: growing a shard never calls `T::hash`. The whole-set operations (`len`, `clear`,
/// [`to_hash_set`](Self::to_hash_set), the set algebra) lock every shard at once, in order, so they
/// see or make one consistent state.
///
/// # Examples
///
/// ```
/// use gilfree::Set;
/// use std::sync::Arc;
///
/// let seen = Arc::new(Set::new());
/// let workers: Vec<_> = (0..4)
///     .map(|w| {
///         let seen = Arc::clone(&seen);
///         std::thread::spawn(move || (0..100).filter(|n| seen.add(n % 50 + w * 0)).count())
///     })
///     .collect();
/// let added: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
/// assert_eq!(added, 50); // each of the 50 values was new to exactly one add()
/// assert_eq!(seen.len(), 50);
/// ```
///
/// # Differences from Python
///
/// * `pop` on an empty set returns `None` (Python raises KeyError).
/// * The set algebra ([`union`](Self::union) and friends) works on snapshots: with other
///   threads changing the sets, the result reflects each set at one moment. The in-place forms
///   (`update`, `intersection_update`, …) take a snapshot of the other set, then change this
///   one in a single step (every shard locked), as free-threaded Python's `|=` does.
/// * There is no live iterator, so Python's "changed size during iteration" error cannot
///   happen: iterate over [`to_vec`](Self::to_vec)
///   or [`to_hash_set`](Self::to_hash_set).
///
/// # Re-entry and panics in user code
///
/// Some methods run user code: `T`'s `Hash`, `Eq`, `Clone`, `Debug` and `Drop`, the closure
/// of [`retain`](Self::retain), the iterator of [`extend`](Self::extend). Each method's docs
/// say where its user code runs.
///
/// * **Outside the lock**: every `Hash` (an item's hash is taken before locking, and stored
///   with it), every `Drop` (an item the set lets go — removed, popped, cleared, dropped by
///   `retain`, or a duplicate that `add` did not store — comes back to the caller or is dropped
///   after the set is unlocked), and the iterator of `extend`. That code may use the set.
/// * **Under the lock**: `Eq` in lookups (`add`, `contains`, `remove`, `discard`, `take`, the
///   in-place set algebra), `Clone` in snapshots ([`to_vec`](Self::to_vec) and everything
///   built on it), `Debug` in `{:?}`, and `retain`'s closure. That code must not use the same
///   set — *any* method of it, on any shard: the call panics with
///   `RuntimeError: Set re-entered from user code …` instead of deadlocking. (Taking another
///   shard than the one held would not deadlock this thread, but it breaks the shards' lock
///   order, so it could deadlock against a whole-set operation on another thread; and which
///   shard an item lands in depends on its hash. So every re-entry is refused alike.)
/// * **A panic** in user code leaves every invariant in place: no item lost or duplicated,
///   `len()` equal to the items a snapshot holds. A failing lookup or clone changes nothing;
///   a failing `retain` closure leaves the items it already judged as judged.
/// * **Dropping the set** drops every item even when some `Drop` panics, then the panic
///   continues, as for a `Vec`.
pub struct Set<T, S = RandomState> {
    /// Each entry is `(hash, item)`.
    shards: Box<[Shard<T>]>,
    /// The set's identity for re-entry: user code under any shard is marked with it, and
    /// every method checks it first.
    reentry: Reentry,
    /// `log2(shards.len())`.
    shard_bits: u32,
    hasher: S,
}

/// One shard: its `(hash, item)` entries behind a reader-writer lock on a cache line of its
/// own (lookups, most of a set's traffic, share it).
type Shard<T> = CachePadded<RwLock<HashTable<(u64, T)>>>;

/// The default shard count: four per CPU (a power of two, 4 to 64), so that two threads rarely
/// meet on one shard.
fn default_shards() -> usize {
    super::rt::global! {
        static SHARDS: usize = (super::rt::thread::available_parallelism() * 4)
            .next_power_of_two()
            .clamp(4, 64);
    }
    *SHARDS
}

impl<T> Set<T, RandomState> {
    /// A new, empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<u32> = gilfree::Set::new();
    /// assert!(s.is_empty());
    /// ```
    pub fn new() -> Self {
        Set::with_hasher(RandomState::new())
    }

    /// A new, empty set with `shards` shards (rounded up to a power of two, at least one).
    /// One shard is a plain locked set; more shards let more threads work at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = gilfree::Set::with_shards(16);
    /// s.add("x");
    /// assert!(s.contains("x"));
    /// ```
    pub fn with_shards(shards: usize) -> Self {
        Set::with_shards_and_hasher(shards, RandomState::new())
    }
}

impl<T, S> Set<T, S> {
    /// A new, empty set that hashes with `hasher`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    ///
    /// let s = gilfree::Set::with_hasher(RandomState::new());
    /// s.add(1);
    /// assert_eq!(s.len(), 1);
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Set::with_shards_and_hasher(default_shards(), hasher)
    }

    /// [`with_shards`](Set::with_shards) and [`with_hasher`](Set::with_hasher) together.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    ///
    /// let s = gilfree::Set::with_shards_and_hasher(1, RandomState::new());
    /// s.add('a');
    /// assert!(s.contains(&'a'));
    /// ```
    pub fn with_shards_and_hasher(shards: usize, hasher: S) -> Self {
        let shards = shards.max(1).next_power_of_two();
        Set {
            shards: (0..shards)
                .map(|_| CachePadded::new(RwLock::new(HashTable::new())))
                .collect(),
            reentry: Reentry::new("Set"),
            shard_bits: shards.trailing_zeros(),
            hasher,
        }
    }

    /// Panics if this thread is running user code under one of this set's shards (see the
    /// type's docs): every public method that locks calls this first.
    #[inline]
    fn forbid_reentry(&self) {
        self.reentry.forbid();
    }

    /// Runs `f`, user code, while the caller holds some of the shards: a use of this set
    /// from `f` panics in [`forbid_reentry`](Self::forbid_reentry).
    #[inline]
    fn user_code<R>(&self, f: impl FnOnce() -> R) -> R {
        self.reentry.run_user_code(f)
    }

    /// Every shard write-locked, in index order (the one order every whole-set operation
    /// uses, reading or writing).
    fn lock_all(&self) -> Vec<RwLockWriteGuard<'_, HashTable<(u64, T)>>> {
        self.forbid_reentry();
        self.shards.iter().map(|shard| shard.write()).collect()
    }

    /// Every shard read-locked, in index order: a snapshot of one moment.
    fn read_all(&self) -> Vec<RwLockReadGuard<'_, HashTable<(u64, T)>>> {
        self.forbid_reentry();
        self.shards.iter().map(|shard| shard.read()).collect()
    }

    /// The number of items.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1, 2, 2, 3].into_iter().collect();
    /// assert_eq!(s.len(), 3);
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code.
    pub fn len(&self) -> usize {
        self.read_all().iter().map(|table| table.len()).sum()
    }

    /// Whether the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gilfree::Set::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.read_all().iter().all(|table| table.is_empty())
    }

    /// Removes every item, as one step: a concurrent snapshot sees all of them or none.
    ///
    /// # Re-entry and panics
    ///
    /// The items are dropped after the set is unlocked, so their `Drop` may use it; a
    /// panicking `Drop` does not stop the others, then the panic continues.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = (0..10).collect();
    /// s.clear();
    /// assert!(s.is_empty());
    /// ```
    pub fn clear(&self) {
        // The guards are temporaries of this statement: unlocked before `taken` is dropped.
        let taken: Vec<HashTable<(u64, T)>> = self
            .lock_all()
            .iter_mut()
            .map(|table| std::mem::take(&mut **table))
            .collect();
        drop_all(taken.into_iter().flatten());
    }

    /// Keeps only the items for which `f` returns `true`. One shard at a time.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = (0..10).collect();
    /// s.retain(|n| n % 2 == 0);
    /// assert_eq!(s.len(), 5);
    /// ```
    ///
    /// # Re-entry and panics
    ///
    /// `f` runs under a shard's lock: using this set from it panics with
    /// `RuntimeError: Set re-entered …`. The items it rejects are dropped once every shard is
    /// done and unlocked, so their `Drop` may use the set, and one that panics cuts nothing
    /// short. If `f` panics, the items it rejected so far are gone (and dropped), the others
    /// stay.
    pub fn retain(&self, mut f: impl FnMut(&T) -> bool) {
        self.forbid_reentry();
        // Before the guards: dropped after them, on return and on unwind.
        let mut rejected = Vec::new();
        for shard in self.shards.iter() {
            let mut table = shard.write();
            self.user_code(|| rejected.extend(table.extract_if(|(_, item)| !f(item))));
        }
        drop_all(rejected);
    }

    /// Removes and returns some item; `None` when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [7].into_iter().collect();
    /// assert_eq!(s.pop(), Some(7));
    /// assert_eq!(s.pop(), None);
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code: the item is returned, and dropped by the caller.
    pub fn pop(&self) -> Option<T> {
        self.forbid_reentry();
        self.shards
            .iter()
            .find_map(|shard| shard.write().extract_if(|_| true).next())
            .map(|(_, item)| item)
    }
}

impl<T: Clone, S> Set<T, S> {
    /// A snapshot of the items, in no particular order (all of one moment).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [3, 1, 2].into_iter().collect();
    /// let mut items = s.to_vec();
    /// items.sort();
    /// assert_eq!(items, [1, 2, 3]);
    /// ```
    ///
    /// # Re-entry and panics
    ///
    /// `T::clone` runs with every shard locked: using this set from it panics with
    /// `RuntimeError: Set re-entered …`. If a clone panics, the copies made so far are dropped
    /// after the set is unlocked; the set is unchanged.
    pub fn to_vec(&self) -> Vec<T> {
        // Before the guards: dropped after them when a clone panics.
        let mut out = Vec::new();
        let tables = self.read_all();
        self.user_code(|| {
            out.reserve_exact(tables.iter().map(|t| t.len()).sum());
            for table in &tables {
                out.extend(table.iter().map(|(_, item)| item.clone()));
            }
        });
        drop(tables);
        out
    }
}

/// The `# Re-entry` section of every method that looks an item up.
macro_rules! compares_under_the_lock {
    () => {
        "`T::hash` runs before the set is locked. `T::eq` runs under the shard's lock: using \
         this set from it panics with `RuntimeError: Set re-entered …` instead of deadlocking. \
         A panicking comparison changes nothing."
    };
}

/// Drops every item of `items`, continuing past a panicking `Drop` as `Vec` does (the iterator,
/// dropped while unwinding, drops the rest; a second panic aborts), then lets the panic go on.
/// hashbrown's own drop stops at the first panic and leaks the rest.
fn drop_all<T>(items: impl IntoIterator<Item = T>) {
    for item in items {
        drop(item);
    }
}

impl<T, S> Set<T, S> {
    /// Whether `item` equals `value`, both of hash `hash`: `T::eq`, user code, marked as such
    /// only when it runs (the full stored hash is compared first, so a miss costs no mark).
    #[inline]
    fn matches<Q>(&self, hash: u64, (h, item): &(u64, T), value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        *h == hash && self.user_code(|| item.borrow() == value)
    }

    /// Whether `table` holds an item equal to `value`, of hash `hash`.
    #[inline]
    fn find_in<Q>(&self, table: &HashTable<(u64, T)>, hash: u64, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        table
            .find(hash, |entry| self.matches(hash, entry, value))
            .is_some()
    }

    /// Removes the item equal to `value`, of hash `hash`, from `table`.
    #[inline]
    fn remove_from<Q>(&self, table: &mut HashTable<(u64, T)>, hash: u64, value: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match table.find_entry(hash, |entry| self.matches(hash, entry, value)) {
            Ok(entry) => Some(entry.remove().0.1),
            Err(_) => None,
        }
    }
}

/// Stores `value`, known to be absent, in `table`. Runs no user code: a growing table rehashes
/// with the stored hashes.
#[inline]
fn insert_new<T>(table: &mut HashTable<(u64, T)>, hash: u64, value: T) {
    table.insert_unique(hash, (hash, value), |(h, _)| *h);
}

impl<T: Hash + Eq, S: BuildHasher> Set<T, S> {
    #[inline]
    fn hash_of<Q: Hash + ?Sized>(&self, value: &Q) -> u64 {
        self.hasher.hash_one(value)
    }

    /// The shard for a hash. Fibonacci hashing of the whole hash picks the top bits, so even a
    /// weak hasher (an identity hash of small integers) spreads over the shards, and the bits
    /// the shard's own table uses stay independent of the shard choice.
    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        if self.shard_bits == 0 {
            0
        } else {
            (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.shard_bits)) as usize
        }
    }

    /// The shard for a hash, locked.
    #[inline]
    fn lock_shard(&self, hash: u64) -> RwLockWriteGuard<'_, HashTable<(u64, T)>> {
        self.forbid_reentry();
        self.shards[self.shard_index(hash)].write()
    }

    /// The shard of `hash`, read-locked, after the re-entry check.
    #[inline]
    fn read_shard(&self, hash: u64) -> RwLockReadGuard<'_, HashTable<(u64, T)>> {
        self.forbid_reentry();
        self.shards[self.shard_index(hash)].read()
    }

    /// The items of `items` paired with their hashes, taken before any lock is held.
    fn hashed(&self, items: Vec<T>) -> Vec<Option<(u64, T)>> {
        items
            .into_iter()
            .map(|item| Some((self.hash_of(&item), item)))
            .collect()
    }

    /// Adds `value`; `true` if it was not there yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = gilfree::Set::new();
    /// assert!(s.add("a"));
    /// assert!(!s.add("a"));
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    /// A `value` already present is dropped after the set is unlocked.
    #[inline]
    pub fn add(&self, value: T) -> bool {
        // `value` outlives the guard: dropped after it when it was a duplicate, or when a
        // comparison panics.
        let hash = self.hash_of(&value);
        let mut table = self.lock_shard(hash);
        if self.find_in(&table, hash, &value) {
            drop(table);
            drop(value);
            return false;
        }
        insert_new(&mut table, hash, value);
        true
    }

    /// Whether `value` is in the set (Python's `value in s`).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<String> = ["x".to_string()].into_iter().collect();
    /// assert!(s.contains("x"));
    /// assert!(!s.contains("y"));
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    #[doc(alias = "__contains__")]
    #[inline]
    pub fn contains<Q>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash_of(value);
        let table = self.read_shard(hash);
        self.find_in(&table, hash, value)
    }

    /// Removes `value` and returns the item that was stored; `Err(KeyError)` carrying an owned
    /// copy of the key when it is not there. The copy is made only on that miss, so the
    /// error borrows nothing and propagates with `?` into `Box<dyn Error + Send + Sync>`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1].into_iter().collect();
    /// assert_eq!(s.remove(&1), Ok(1));
    /// assert_eq!(s.remove(&1).unwrap_err().key(), &1);
    ///
    /// let words: gilfree::Set<String> = gilfree::Set::new();
    /// let err: gilfree::KeyError<String> = words.remove("ghost").unwrap_err();
    /// assert_eq!(err.to_string(), r#"KeyError: "ghost""#);
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    /// The removed item is returned, and dropped by the caller.
    pub fn remove<Q>(&self, value: &Q) -> Result<T, KeyError<Q::Owned>>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ToOwned + ?Sized,
    {
        self.take(value).ok_or_else(|| KeyError(value.to_owned()))
    }

    /// Removes `value` if present; `true` if it was there.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1].into_iter().collect();
    /// assert!(s.discard(&1));
    /// assert!(!s.discard(&1)); // a missing item is no error
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    /// The removed item is dropped after the set is unlocked.
    pub fn discard<Q>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.take(value).is_some()
    }

    /// Removes `value` and returns the stored item, if present.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<String> = ["k".to_string()].into_iter().collect();
    /// assert_eq!(s.take("k"), Some("k".to_string()));
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    /// The removed item is returned, and dropped by the caller.
    pub fn take<Q>(&self, value: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash_of(value);
        let mut table = self.lock_shard(hash);
        self.remove_from(&mut table, hash, value)
    }

    /// Adds every item of `iter` (Python's `update` with one argument). The iterator runs
    /// with the set unlocked, so it may read this same set.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = gilfree::Set::new();
    /// s.extend([1, 2, 2]);
    /// assert_eq!(s.len(), 2);
    /// ```
    ///
    /// # Re-entry and panics
    ///
    /// One [`add`](Self::add) per item: the iterator, `Hash` and the duplicates' `Drop` run
    /// with the set unlocked and may use it. If the iterator panics, the items it gave so far
    /// stay added.
    pub fn extend<I: IntoIterator<Item = T>>(&self, iter: I) {
        for value in iter {
            self.add(value);
        }
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> Set<T, S> {
    /// A snapshot as a `std` `HashSet` (all of one moment).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let copy = s.to_hash_set();
    /// s.clear();
    /// assert_eq!(copy.len(), 2); // independent of the set
    /// ```
    ///
    /// # Re-entry
    ///
    /// `T::clone` runs as in [`to_vec`](Self::to_vec); `Hash` and `Eq`, building the copy,
    /// run after the set is unlocked. So do the set algebra's, which works on such copies.
    pub fn to_hash_set(&self) -> HashSet<T, S> {
        let items = self.to_vec();
        let mut out = HashSet::with_capacity_and_hasher(items.len(), self.hasher.clone());
        out.extend(items);
        out
    }

    /// A new set from a snapshot's items, with this set's hasher and shard count.
    fn sibling_with(&self, items: impl IntoIterator<Item = T>) -> Self {
        let out = Set::with_shards_and_hasher(self.shards.len(), self.hasher.clone());
        out.extend(items);
        out
    }

    /// The items in either set, as a new set. `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [2, 3].into_iter().collect();
    /// assert_eq!(a.union(&b).len(), 3);
    /// assert_eq!(a.len(), 2); // unchanged
    /// ```
    pub fn union(&self, other: &Self) -> Self {
        let out = self.sibling_with(self.to_vec());
        out.extend(other.to_vec());
        out
    }

    /// The items in both sets, as a new set. `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [2, 3].into_iter().collect();
    /// assert_eq!(a.intersection(&b).to_vec(), [2]);
    /// ```
    pub fn intersection(&self, other: &Self) -> Self {
        let theirs = other.to_hash_set();
        self.sibling_with(self.to_vec().into_iter().filter(|x| theirs.contains(x)))
    }

    /// The items of `self` not in `other`, as a new set. `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [2, 3].into_iter().collect();
    /// assert_eq!(a.difference(&b).to_vec(), [1]);
    /// ```
    pub fn difference(&self, other: &Self) -> Self {
        let theirs = other.to_hash_set();
        self.sibling_with(self.to_vec().into_iter().filter(|x| !theirs.contains(x)))
    }

    /// The items in exactly one of the sets, as a new set. `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [2, 3].into_iter().collect();
    /// let mut x = a.symmetric_difference(&b).to_vec();
    /// x.sort();
    /// assert_eq!(x, [1, 3]);
    /// ```
    pub fn symmetric_difference(&self, other: &Self) -> Self {
        let mine = self.to_hash_set();
        let theirs = other.to_hash_set();
        self.sibling_with(mine.symmetric_difference(&theirs).cloned())
    }

    /// Adds the items of `other` (Python's `s |= o`). `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1].into_iter().collect();
    /// a.update(&a);
    /// assert_eq!(a.len(), 1);
    /// ```
    ///
    /// # Re-entry
    ///
    /// `other`'s items are cloned as in [`to_vec`](Self::to_vec) and hashed before this set is
    /// locked; `T::eq` runs with every shard locked, and using this set from it panics with
    /// `RuntimeError: Set re-entered …`. The copies not stored are dropped after the set is
    /// unlocked. If a comparison panics, the items stored so far stay.
    pub fn update(&self, other: &Self) {
        // Declared before the guards: what is left in it is dropped after them.
        let mut theirs = self.hashed(other.to_vec());
        let mut tables = self.lock_all();
        self.user_code(|| {
            for slot in &mut theirs {
                let Some((hash, x)) = slot else { continue };
                let table = &mut tables[self.shard_index(*hash)];
                if !self.find_in(table, *hash, &*x) {
                    let (hash, x) = slot.take().expect("checked above");
                    insert_new(table, hash, x);
                }
            }
        });
        drop(tables);
        drop_all(theirs);
    }

    /// Keeps only the items also in `other` (Python's `s &= o`). `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [2].into_iter().collect();
    /// a.intersection_update(&b);
    /// assert_eq!(a.to_vec(), [2]);
    /// ```
    ///
    /// # Re-entry
    ///
    /// `other`'s items are cloned as in [`to_vec`](Self::to_vec) and hashed before this set is
    /// locked; `T::eq` runs with every shard locked, and using this set from it panics with
    /// `RuntimeError: Set re-entered …`. The items removed are dropped after the set is
    /// unlocked. If a comparison panics, the items removed so far are gone, the others stay.
    pub fn intersection_update(&self, other: &Self) {
        // `other`'s items, keyed by this set's hashes, so that the lookups below need the
        // stored hashes and `Eq` only.
        let mut theirs = HashTable::new();
        for slot in self.hashed(other.to_vec()).into_iter().flatten() {
            insert_new(&mut theirs, slot.0, slot.1);
        }
        // Declared before the guards: dropped after them, on return and on unwind.
        let mut removed = Vec::new();
        let mut tables = self.lock_all();
        self.user_code(|| {
            for table in tables.iter_mut() {
                removed.extend(table.extract_if(|(hash, x)| !self.find_in(&theirs, *hash, &*x)));
            }
        });
        drop(tables);
        drop_all(removed);
        drop_all(theirs);
    }

    /// Removes the items that are in `other` (Python's `s -= o`); with `other` being
    /// `self`, empties it.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// a.difference_update(&a);
    /// assert!(a.is_empty());
    /// ```
    ///
    /// # Re-entry
    ///
    /// As [`intersection_update`](Self::intersection_update).
    pub fn difference_update(&self, other: &Self) {
        // Declared before the guards: dropped after them, on return and on unwind.
        let theirs = self.hashed(other.to_vec());
        let mut removed = Vec::new();
        let mut tables = self.lock_all();
        self.user_code(|| {
            for (hash, x) in theirs.iter().flatten() {
                let table = &mut tables[self.shard_index(*hash)];
                removed.extend(self.remove_from(table, *hash, x));
            }
        });
        drop(tables);
        drop_all(removed);
        drop_all(theirs);
    }

    /// Keeps the items in exactly one of the sets (Python's `s ^= o`); with `other`
    /// being `self`, empties it.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [2, 3].into_iter().collect();
    /// a.symmetric_difference_update(&b);
    /// let mut x = a.to_vec();
    /// x.sort();
    /// assert_eq!(x, [1, 3]);
    /// ```
    ///
    /// # Re-entry
    ///
    /// As [`update`](Self::update); the items removed are dropped after the set is unlocked.
    pub fn symmetric_difference_update(&self, other: &Self) {
        // Declared before the guards: dropped after them, on return and on unwind.
        let mut theirs = self.hashed(other.to_vec());
        let mut removed = Vec::new();
        let mut tables = self.lock_all();
        self.user_code(|| {
            for slot in &mut theirs {
                let Some((hash, x)) = slot else { continue };
                let table = &mut tables[self.shard_index(*hash)];
                match self.remove_from(table, *hash, &*x) {
                    Some(old) => removed.push(old),
                    None => {
                        let (hash, x) = slot.take().expect("checked above");
                        insert_new(table, hash, x);
                    }
                }
            }
        });
        drop(tables);
        drop_all(removed);
        drop_all(theirs);
    }

    /// Whether every item of `self` is in `other`. `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1].into_iter().collect();
    /// let b: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// assert!(a.is_subset(&b) && !b.is_subset(&a) && a.is_subset(&a));
    /// ```
    #[doc(alias = "issubset")]
    pub fn is_subset(&self, other: &Self) -> bool {
        self.to_hash_set().is_subset(&other.to_hash_set())
    }

    /// Whether every item of `other` is in `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [1].into_iter().collect();
    /// assert!(a.is_superset(&b));
    /// ```
    #[doc(alias = "issuperset")]
    pub fn is_superset(&self, other: &Self) -> bool {
        other.is_subset(self)
    }

    /// Whether the sets have no item in common.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1].into_iter().collect();
    /// let b: gilfree::Set<_> = [2].into_iter().collect();
    /// assert!(a.is_disjoint(&b) && !a.is_disjoint(&a));
    /// ```
    #[doc(alias = "isdisjoint")]
    pub fn is_disjoint(&self, other: &Self) -> bool {
        self.to_hash_set().is_disjoint(&other.to_hash_set())
    }
}

impl<T> Default for Set<T, RandomState> {
    fn default() -> Self {
        Set::new()
    }
}

impl<T: Hash + Eq> FromIterator<T> for Set<T, RandomState> {
    /// A set of the distinct items.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let set = Set::new();
        set.extend(iter);
        set
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> Clone for Set<T, S> {
    /// An independent copy of a snapshot.
    fn clone(&self) -> Self {
        self.sibling_with(self.to_vec())
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> PartialEq for Set<T, S> {
    /// The same items, in any order; compares snapshots.
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || self.to_hash_set() == other.to_hash_set()
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> Eq for Set<T, S> {}

impl<T, S> Set<T, S> {
    /// Takes the tables out of a set that is going away (no lock needed: it is owned).
    fn take_tables(&mut self) -> impl Iterator<Item = HashTable<(u64, T)>> + use<T, S> {
        std::mem::take(&mut self.shards)
            .into_vec()
            .into_iter()
            .map(|shard| shard.into_inner().into_inner())
    }
}

impl<T, S> Drop for Set<T, S> {
    /// Drops every item, continuing past a panicking `Drop` as `Vec` does, then lets the
    /// panic continue (hashbrown alone would stop at the first one and leak the rest).
    fn drop(&mut self) {
        if std::mem::needs_drop::<T>() {
            drop_all(self.take_tables().flatten());
        }
    }
}

impl<T, S> IntoIterator for Set<T, S> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    /// The items, in no particular order. Dropping the iterator early drops the rest, past a
    /// panicking `Drop` too, as [`Set`]'s own drop does.
    fn into_iter(mut self) -> Self::IntoIter {
        let mut out = Vec::new();
        for table in self.take_tables() {
            out.reserve(table.len());
            out.extend(table.into_iter().map(|(_, item)| item));
        }
        out.into_iter()
    }
}

impl<T: fmt::Debug, S> fmt::Debug for Set<T, S> {
    /// Like Python's repr: `{1, 2, 3}`, and `set()` when empty (of one moment). `T::fmt` runs
    /// with every shard locked: using this set from it panics (re-entry).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables = self.read_all();
        if tables.iter().all(|table| table.is_empty()) {
            return f.write_str("set()");
        }
        self.user_code(|| {
            f.debug_set()
                .entries(
                    tables
                        .iter()
                        .flat_map(|table| table.iter().map(|(_, item)| item)),
                )
                .finish()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::rt;
    use super::*;

    /// SET-1, SET-4 through the shards, on both backends.
    #[test]
    fn add_discard_len() {
        rt::model(|| {
            let s = Set::with_shards(2);
            assert!(s.add(1));
            assert!(!s.add(1));
            assert!(s.add(2));
            assert_eq!(s.len(), 2);
            assert!(s.discard(&1));
            assert!(!s.discard(&1));
            assert_eq!(s.to_vec(), [2]);
        });
    }
}
