//! A thread-safe hash set, sharded so that threads working on different items do not contend.

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
/// behind its own reader-writer lock: `add`, `contains`, `remove` and `discard` lock one shard,
/// so threads working on different items run in parallel and readers of the same shard share
/// it. The whole-set operations (`len`, `clear`, [`to_hash_set`](Self::to_hash_set), the set
/// algebra) lock every shard at once, in order, so they see or make one consistent state
/// (SET-11).
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
/// * `pop` on an empty set returns `None` (Python raises KeyError, SET-5).
/// * The set algebra ([`union`](Self::union) and friends) works on snapshots: with other
///   threads changing the sets, the result reflects each set at one moment. The in-place forms
///   (`update`, `intersection_update`, …) take a snapshot of the other set, then change this
///   one in a single step (every shard locked), as free-threaded Python's `|=` does.
/// * There is no live iterator (SET-10 cannot happen): iterate over [`to_vec`](Self::to_vec)
///   or [`to_hash_set`](Self::to_hash_set).
/// * `T`'s `Hash`, `Eq`, `Clone` and `Drop` run with a shard locked (except the drops of
///   [`clear`](Self::clear)): they must not use the same set.
pub struct Set<T, S = RandomState> {
    shards: Box<[CachePadded<RwLock<HashTable<T>>>]>,
    /// `log2(shards.len())`.
    shard_bits: u32,
    hasher: S,
}

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
            shard_bits: shards.trailing_zeros(),
            hasher,
        }
    }

    /// Every shard read-locked, in index order (the one order every whole-set operation uses).
    fn read_all(&self) -> Vec<RwLockReadGuard<'_, HashTable<T>>> {
        self.shards.iter().map(|shard| shard.read()).collect()
    }

    /// Every shard write-locked, in index order.
    fn write_all(&self) -> Vec<RwLockWriteGuard<'_, HashTable<T>>> {
        self.shards.iter().map(|shard| shard.write()).collect()
    }

    /// The number of items (SET-1).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1, 2, 2, 3].into_iter().collect();
    /// assert_eq!(s.len(), 3);
    /// ```
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

    /// Removes every item, as one step: a concurrent snapshot sees all of them or none
    /// (SET-6, SET-11). The items are dropped after the set is unlocked.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = (0..10).collect();
    /// s.clear();
    /// assert!(s.is_empty());
    /// ```
    pub fn clear(&self) {
        let taken: Vec<HashTable<T>> = self
            .write_all()
            .iter_mut()
            .map(|table| std::mem::take(&mut **table))
            .collect();
        drop(taken);
    }

    /// Keeps only the items for which `f` returns `true`. One shard at a time; `f` must not use
    /// this set.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = (0..10).collect();
    /// s.retain(|n| n % 2 == 0);
    /// assert_eq!(s.len(), 5);
    /// ```
    pub fn retain(&self, mut f: impl FnMut(&T) -> bool) {
        for shard in self.shards.iter() {
            shard.write().retain(|item| f(item));
        }
    }

    /// Removes and returns some item; `None` when empty (SET-5).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [7].into_iter().collect();
    /// assert_eq!(s.pop(), Some(7));
    /// assert_eq!(s.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        self.shards
            .iter()
            .find_map(|shard| shard.write().extract_if(|_| true).next())
    }
}

impl<T: Clone, S> Set<T, S> {
    /// A snapshot of the items, in no particular order (SET-11: all of one moment).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [3, 1, 2].into_iter().collect();
    /// let mut items = s.to_vec();
    /// items.sort();
    /// assert_eq!(items, [1, 2, 3]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        let tables = self.read_all();
        let mut out = Vec::with_capacity(tables.iter().map(|t| t.len()).sum());
        for table in &tables {
            out.extend(table.iter().cloned());
        }
        out
    }
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

    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<HashTable<T>> {
        &self.shards[self.shard_index(hash)]
    }

    /// Adds `value` (of hash `hash`) to its locked shard `table`; `true` if it was new.
    fn insert_into(&self, table: &mut HashTable<T>, hash: u64, value: T) -> bool {
        if table.find(hash, |item| *item == value).is_some() {
            return false;
        }
        table.insert_unique(hash, value, |item| self.hash_of(item));
        true
    }

    /// Removes `value` (of hash `hash`) from its locked shard `table`; the stored item.
    fn remove_from<Q>(table: &mut HashTable<T>, hash: u64, value: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match table.find_entry(hash, |item| item.borrow() == value) {
            Ok(entry) => Some(entry.remove().0),
            Err(_) => None,
        }
    }

    /// [`add`](Self::add) on the write-locked `tables` (all shards).
    fn add_locked(&self, tables: &mut [RwLockWriteGuard<'_, HashTable<T>>], value: T) -> bool {
        let hash = self.hash_of(&value);
        self.insert_into(&mut tables[self.shard_index(hash)], hash, value)
    }

    /// [`take`](Self::take) on the write-locked `tables` (all shards).
    fn take_locked(
        &self,
        tables: &mut [RwLockWriteGuard<'_, HashTable<T>>],
        value: &T,
    ) -> Option<T> {
        let hash = self.hash_of(value);
        Self::remove_from(&mut tables[self.shard_index(hash)], hash, value)
    }

    /// Adds `value`; `true` if it was not there yet (SET-2).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = gilfree::Set::new();
    /// assert!(s.add("a"));
    /// assert!(!s.add("a"));
    /// ```
    #[inline]
    pub fn add(&self, value: T) -> bool {
        let hash = self.hash_of(&value);
        self.insert_into(&mut self.shard(hash).write(), hash, value)
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
    #[doc(alias = "__contains__")]
    #[inline]
    pub fn contains<Q>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash_of(value);
        self.shard(hash)
            .read()
            .find(hash, |item| item.borrow() == value)
            .is_some()
    }

    /// Removes `value` and returns the item that was stored; `Err(KeyError)` carrying the key
    /// when it is not there (SET-3).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1].into_iter().collect();
    /// assert_eq!(s.remove(&1), Ok(1));
    /// assert_eq!(s.remove(&1).unwrap_err().key(), &&1);
    /// ```
    pub fn remove<'k, Q>(&self, value: &'k Q) -> Result<T, KeyError<&'k Q>>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.take(value).ok_or(KeyError(value))
    }

    /// Removes `value` if present; `true` if it was there (SET-4).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1].into_iter().collect();
    /// assert!(s.discard(&1));
    /// assert!(!s.discard(&1)); // a missing item is no error
    /// ```
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
    pub fn take<Q>(&self, value: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash_of(value);
        Self::remove_from(&mut self.shard(hash).write(), hash, value)
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
    pub fn extend<I: IntoIterator<Item = T>>(&self, iter: I) {
        for value in iter {
            self.add(value);
        }
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> Set<T, S> {
    /// A snapshot as a `std` `HashSet` (SET-11: all of one moment).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let copy = s.to_hash_set();
    /// s.clear();
    /// assert_eq!(copy.len(), 2); // independent of the set
    /// ```
    pub fn to_hash_set(&self) -> HashSet<T, S> {
        let tables = self.read_all();
        let mut out = HashSet::with_capacity_and_hasher(
            tables.iter().map(|t| t.len()).sum(),
            self.hasher.clone(),
        );
        for table in &tables {
            out.extend(table.iter().cloned());
        }
        out
    }

    /// A new set from a snapshot's items, with this set's hasher and shard count.
    fn sibling_with(&self, items: impl IntoIterator<Item = T>) -> Self {
        let out = Set::with_shards_and_hasher(self.shards.len(), self.hasher.clone());
        out.extend(items);
        out
    }

    /// The items in either set, as a new set (SET-7). `other` may be `self`.
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

    /// The items in both sets, as a new set (SET-7). `other` may be `self`.
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

    /// The items of `self` not in `other`, as a new set (SET-7). `other` may be `self`.
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

    /// The items in exactly one of the sets, as a new set (SET-7). `other` may be `self`.
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

    /// Adds the items of `other` (Python's `s |= o`, SET-8). `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1].into_iter().collect();
    /// a.update(&a);
    /// assert_eq!(a.len(), 1);
    /// ```
    pub fn update(&self, other: &Self) {
        let theirs = other.to_vec();
        let mut tables = self.write_all();
        for x in theirs {
            self.add_locked(&mut tables, x);
        }
    }

    /// Keeps only the items also in `other` (Python's `s &= o`, SET-8). `other` may be `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// let b: gilfree::Set<_> = [2].into_iter().collect();
    /// a.intersection_update(&b);
    /// assert_eq!(a.to_vec(), [2]);
    /// ```
    pub fn intersection_update(&self, other: &Self) {
        let theirs = other.to_hash_set();
        for table in self.write_all().iter_mut() {
            table.retain(|x| theirs.contains(x));
        }
    }

    /// Removes the items that are in `other` (Python's `s -= o`, SET-8); with `other` being
    /// `self`, empties it.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: gilfree::Set<_> = [1, 2].into_iter().collect();
    /// a.difference_update(&a);
    /// assert!(a.is_empty());
    /// ```
    pub fn difference_update(&self, other: &Self) {
        let theirs = other.to_vec();
        let mut tables = self.write_all();
        let removed: Vec<T> = theirs
            .iter()
            .filter_map(|x| self.take_locked(&mut tables, x))
            .collect();
        drop(tables);
        drop(removed);
    }

    /// Keeps the items in exactly one of the sets (Python's `s ^= o`, SET-8); with `other`
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
    pub fn symmetric_difference_update(&self, other: &Self) {
        let theirs = other.to_vec();
        let mut tables = self.write_all();
        let mut removed = Vec::new();
        for x in theirs {
            match self.take_locked(&mut tables, &x) {
                Some(old) => removed.push(old),
                None => {
                    self.add_locked(&mut tables, x);
                }
            }
        }
        drop(tables);
        drop(removed);
    }

    /// Whether every item of `self` is in `other` (SET-9). `other` may be `self`.
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

    /// Whether every item of `other` is in `self` (SET-9).
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

    /// Whether the sets have no item in common (SET-9).
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
    /// A set of the distinct items (SET-1).
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let set = Set::new();
        set.extend(iter);
        set
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> Clone for Set<T, S> {
    /// An independent copy of a snapshot (SET-6).
    fn clone(&self) -> Self {
        self.sibling_with(self.to_vec())
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> PartialEq for Set<T, S> {
    /// The same items, in any order (SET-9); compares snapshots.
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || self.to_hash_set() == other.to_hash_set()
    }
}

impl<T: Hash + Eq + Clone, S: BuildHasher + Clone> Eq for Set<T, S> {}

impl<T, S> IntoIterator for Set<T, S> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<hashbrown::hash_table::IntoIter<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        let tables: Vec<_> = self
            .shards
            .into_vec()
            .into_iter()
            .map(|shard| shard.into_inner().into_inner().into_iter())
            .collect();
        tables.into_iter().flatten()
    }
}

impl<T: fmt::Debug, S> fmt::Debug for Set<T, S> {
    /// Like Python's repr: `{1, 2, 3}`, and `set()` when empty (of one moment).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables = self.read_all();
        if tables.iter().all(|table| table.is_empty()) {
            return f.write_str("set()");
        }
        f.debug_set()
            .entries(tables.iter().flat_map(|table| table.iter()))
            .finish()
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
