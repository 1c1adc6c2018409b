//! `collections.deque`, thread-safe: a double-ended queue with an optional `maxlen`.

use super::super::user_lock::UserLock;
use crate::error::{IndexError, ValueError};
use std::cmp::Ordering as CmpOrdering;
use std::collections::VecDeque;
use std::fmt;

/// Python's `collections.deque`, safe to share between threads: every method takes `&self`
/// and is atomic.
///
/// A deque with a `maxlen` never grows past it: adding at one end drops an item from the
/// other, and the dropped item comes back from [`append`](Self::append) and
/// [`append_left`](Self::append_left).
///
/// # Examples
///
/// ```
/// use gilfree::Deque;
///
/// let dq = Deque::new();
/// dq.append(2);
/// dq.append(3);
/// dq.append_left(1);
/// assert_eq!(dq.to_vec(), [1, 2, 3]);
/// assert_eq!(dq.pop(), Some(3));
/// assert_eq!(dq.pop_left(), Some(1));
///
/// let last3 = Deque::with_maxlen(3);
/// last3.extend(0..10);
/// assert_eq!(last3.to_vec(), [7, 8, 9]);
/// assert_eq!(last3.append(10), Some(7)); // evicted from the left
/// ```
///
/// # Differences from Python
///
/// * `pop` and `pop_left` on an empty deque return `None` (Python raises IndexError).
/// * Python's `d[i]`, `d[i] = x` and `del d[i]` are [`get`](Self::get),
///   [`set`](Self::set) and [`remove_at`](Self::remove_at).
/// * There is no live iterator, so Python's "deque mutated during iteration" cannot happen:
///   [`to_vec`](Self::to_vec) and `&deque` in a `for` loop iterate over a snapshot.
///
/// # Re-entry and panics in user code
///
/// Some methods run user code: `T`'s `PartialEq`, `PartialOrd`, `Ord`, `Clone`, `Debug` and
/// `Drop`, the iterator given to [`extend`](Self::extend), the closure given to
/// [`with_items`](Self::with_items). Each method's docs say where its user code runs.
///
/// * **Outside the lock**: every `Drop` of an item the deque lets go (popped, evicted by
///   `maxlen`, removed, replaced, cleared, trimmed after `with_items`) — the item comes back
///   to the caller or is dropped after the deque is unlocked — and the iterator of
///   `extend`/`extend_left`. That code may use the same deque freely.
/// * **Under the lock**: the comparisons of [`count`](Self::count),
///   [`index`](Self::index), [`index_range`](Self::index_range), [`remove`](Self::remove),
///   [`contains`](Self::contains) and of `==`/`<` between deques, the `Clone` of
///   [`to_vec`](Self::to_vec), [`get`](Self::get), `clone()` and `for x in &deque`, the `Debug`
///   of `{:?}`, and the closure of `with_items`. That code must not use the same deque: if it
///   does, the call panics with `RuntimeError: Deque re-entered from user code …` (Python
///   raises `RuntimeError: deque mutated during iteration`) instead of deadlocking.
/// * **A panic** in user code leaves every invariant in place: `len() <= maxlen`, no item lost
///   or duplicated. A failing comparison or clone leaves the deque as it was; a failing
///   `with_items` closure leaves what it did, trimmed to `maxlen`; a failing `extend` iterator
///   adds nothing (the items it gave are dropped).
/// * **Dropping the deque** drops every item even when some `Drop` panics, then the panic
///   continues, as for a `Vec`.
pub struct Deque<T> {
    items: UserLock<VecDeque<T>>,
    maxlen: Option<usize>,
}

/// The class name in the re-entry panic message.
const NAME: &str = "Deque";

/// Python's index normalisation for `list.insert` and slice bounds: negative counts from the
/// end, then clamped to `0..=len`.
fn clamp_index(i: isize, len: usize) -> usize {
    if i < 0 {
        len.saturating_sub(i.unsigned_abs())
    } else {
        (i as usize).min(len)
    }
}

/// Python's element indexing: negative counts from the end; `None` when out of range.
fn element_index(i: isize, len: usize) -> Option<usize> {
    let at = if i < 0 {
        len.checked_sub(i.unsigned_abs())?
    } else {
        i as usize
    };
    (at < len).then_some(at)
}

impl<T> Deque<T> {
    /// A new, empty, unbounded deque.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<u8> = gilfree::Deque::new();
    /// assert!(dq.is_empty());
    /// assert_eq!(dq.maxlen(), None);
    /// ```
    pub fn new() -> Self {
        Deque {
            items: UserLock::new(NAME, VecDeque::new()),
            maxlen: None,
        }
    }

    /// A new, empty deque that holds at most `maxlen` items. With `maxlen == 0` it
    /// accepts and discards everything.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq = gilfree::Deque::with_maxlen(2);
    /// dq.extend([1, 2, 3]);
    /// assert_eq!(dq.to_vec(), [2, 3]);
    /// assert_eq!(dq.maxlen(), Some(2));
    /// ```
    pub fn with_maxlen(maxlen: usize) -> Self {
        Deque {
            items: UserLock::new(NAME, VecDeque::with_capacity(maxlen.min(1024))),
            maxlen: Some(maxlen),
        }
    }

    /// The bound given at construction; `None` for an unbounded deque. It cannot change.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Deque::<u8>::with_maxlen(5).maxlen(), Some(5));
    /// ```
    pub fn maxlen(&self) -> Option<usize> {
        self.maxlen
    }

    /// Adds `item` at the right end. On a full bounded deque the leftmost item is removed and
    /// returned; with `maxlen == 0`, `item` itself comes back.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq = gilfree::Deque::with_maxlen(2);
    /// assert_eq!(dq.append('a'), None);
    /// assert_eq!(dq.append('b'), None);
    /// assert_eq!(dq.append('c'), Some('a'));
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code: the evicted item is returned, and dropped by the caller.
    #[inline]
    pub fn append(&self, item: T) -> Option<T> {
        let mut items = self.items.lock();
        push(&mut items, self.maxlen, item, End::Right)
    }

    /// Adds `item` at the left end. On a full bounded deque the rightmost item is removed and
    /// returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq = gilfree::Deque::with_maxlen(2);
    /// dq.append_left(1);
    /// dq.append_left(2);
    /// assert_eq!(dq.append_left(3), Some(1));
    /// assert_eq!(dq.to_vec(), [3, 2]);
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code: the evicted item is returned, and dropped by the caller.
    #[doc(alias = "appendleft")]
    #[inline]
    pub fn append_left(&self, item: T) -> Option<T> {
        let mut items = self.items.lock();
        push(&mut items, self.maxlen, item, End::Left)
    }

    /// Removes and returns the rightmost item; `None` when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = [1, 2].into_iter().collect();
    /// assert_eq!(dq.pop(), Some(2));
    /// ```
    #[inline]
    pub fn pop(&self) -> Option<T> {
        self.items.lock().pop_back()
    }

    /// Removes and returns the leftmost item; `None` when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = [1, 2].into_iter().collect();
    /// assert_eq!(dq.pop_left(), Some(1));
    /// ```
    #[doc(alias = "popleft")]
    #[inline]
    pub fn pop_left(&self) -> Option<T> {
        self.items.lock().pop_front()
    }

    /// Appends every item of `iter` at the right end, as one atomic step. The iterator is
    /// consumed first, with the deque unlocked, so it may read this same deque
    /// (`dq.extend(&dq)` doubles it). A bounded deque keeps the rightmost items;
    /// the ones pushed out are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq = gilfree::Deque::new();
    /// dq.extend("abcd".chars());
    /// dq.extend(&dq);
    /// assert_eq!(dq.to_vec().into_iter().collect::<String>(), "abcdabcd");
    /// ```
    ///
    /// # Re-entry and panics
    ///
    /// The iterator runs before the deque is locked, and the items pushed out are dropped after
    /// it is unlocked: both may use this deque. If the iterator panics, nothing is added and
    /// the items it already gave are dropped.
    pub fn extend<I: IntoIterator<Item = T>>(&self, iter: I) {
        self.extend_at(iter, End::Right)
    }

    /// Adds every item of `iter` at the left end, one by one, so they end up reversed;
    /// otherwise as [`extend`](Self::extend), re-entry and panics included.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<char> = "a".chars().collect();
    /// dq.extend_left("bcd".chars());
    /// assert_eq!(dq.to_vec().into_iter().collect::<String>(), "dcba");
    /// ```
    #[doc(alias = "extendleft")]
    pub fn extend_left<I: IntoIterator<Item = T>>(&self, iter: I) {
        self.extend_at(iter, End::Left)
    }

    fn extend_at<I: IntoIterator<Item = T>>(&self, iter: I, end: End) {
        let incoming: Vec<T> = iter.into_iter().collect();
        let mut evicted = Vec::new();
        {
            let mut items = self.items.lock();
            if let Some(max) = self.maxlen {
                // Only the last `max` of the new items can survive.
                let skip = incoming.len().saturating_sub(max);
                let mut incoming = incoming.into_iter();
                evicted.extend(incoming.by_ref().take(skip));
                for item in incoming {
                    evicted.extend(push(&mut items, self.maxlen, item, end));
                }
            } else {
                match end {
                    End::Right => items.extend(incoming),
                    End::Left => incoming.into_iter().for_each(|item| items.push_front(item)),
                }
            }
        }
        // The dropped items' destructors run with the deque unlocked.
        drop(evicted);
    }

    /// Inserts `item` so that it ends up at position `index`, with `list.insert`'s indexing:
    /// negative counts from the end, out of range clamps to the ends.
    ///
    /// Returns `Err(IndexError)` holding `item` when a bounded deque is already full, at any
    /// position.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<char> = "ABC".chars().collect();
    /// dq.insert(-1, 'Z').unwrap();
    /// assert_eq!(dq.to_vec(), ['A', 'B', 'Z', 'C']);
    /// dq.insert(-20, '<').unwrap();
    /// dq.insert(20, '>').unwrap();
    /// assert_eq!(dq.to_vec(), ['<', 'A', 'B', 'Z', 'C', '>']);
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code: a refused item comes back in the error.
    pub fn insert(&self, index: isize, item: T) -> Result<(), IndexError<T>> {
        let mut items = self.items.lock();
        if self.maxlen.is_some_and(|max| items.len() >= max) {
            return Err(IndexError::new("deque already at its maximum size", item));
        }
        let at = clamp_index(index, items.len());
        items.insert(at, item);
        Ok(())
    }

    /// Rotates `n` steps to the right (negative: to the left), modulo the length.
    /// `rotate(1)` turns `abcde` into `eabcd`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<char> = "abcde".chars().collect();
    /// dq.rotate(1);
    /// assert_eq!(dq.to_vec().into_iter().collect::<String>(), "eabcd");
    /// dq.rotate(-2);
    /// assert_eq!(dq.to_vec().into_iter().collect::<String>(), "bcdea");
    /// ```
    pub fn rotate(&self, n: isize) {
        let mut items = self.items.lock();
        let len = items.len();
        if len > 1 {
            // `len` fits in an isize: a VecDeque never holds more than isize::MAX bytes.
            let right = n.rem_euclid(len as isize) as usize;
            items.rotate_right(right);
        }
    }

    /// Removes all items; `maxlen` stays.
    ///
    /// # Re-entry and panics
    ///
    /// The items are dropped after the deque is unlocked, so their `Drop` may use it. The
    /// deque is empty before the first `Drop` runs; a panicking `Drop` does not stop the
    /// others (as for a `Vec`), then the panic continues.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq = gilfree::Deque::with_maxlen(3);
    /// dq.extend([1, 2]);
    /// dq.clear();
    /// assert!(dq.is_empty());
    /// assert_eq!(dq.maxlen(), Some(3));
    /// ```
    pub fn clear(&self) {
        // The guard is a temporary of this statement: unlocked before `old` is dropped.
        let old = std::mem::take(&mut *self.items.lock());
        drop(old);
    }

    /// Reverses the items in place.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = (1..=3).collect();
    /// dq.reverse();
    /// assert_eq!(dq.to_vec(), [3, 2, 1]);
    /// ```
    pub fn reverse(&self) {
        self.items.lock().make_contiguous().reverse();
    }

    /// The number of items.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = (0..4).collect();
    /// assert_eq!(dq.len(), 4);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.items.lock().len()
    }

    /// Whether the deque is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gilfree::Deque::<()>::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.lock().is_empty()
    }

    /// Removes and returns the item at `index` (negative counts from the end): Python's
    /// `del d[i]`, which also returns it here. `Err(IndexError)` when out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = "abc".chars().collect();
    /// assert_eq!(dq.remove_at(-1), Ok('c'));
    /// assert!(dq.remove_at(5).is_err());
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code: the item is returned, and dropped by the caller.
    #[doc(alias = "__delitem__")]
    pub fn remove_at(&self, index: isize) -> Result<T, IndexError> {
        let mut items = self.items.lock();
        element_index(index, items.len())
            .and_then(|at| items.remove(at))
            .ok_or(IndexError::new("deque index out of range", ()))
    }

    /// Replaces the item at `index` (negative counts from the end) and returns the old one:
    /// Python's `d[i] = item`. Out of range, `Err(IndexError)` gives `item` back.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = [1, 2, 3].into_iter().collect();
    /// assert_eq!(dq.set(-1, 30), Ok(3));
    /// assert_eq!(dq.to_vec(), [1, 2, 30]);
    /// assert_eq!(dq.set(9, 0).unwrap_err().into_inner(), 0);
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code: the old item is returned, and dropped by the caller.
    #[doc(alias = "__setitem__")]
    pub fn set(&self, index: isize, item: T) -> Result<T, IndexError<T>> {
        let mut items = self.items.lock();
        match element_index(index, items.len()) {
            Some(at) => Ok(std::mem::replace(&mut items[at], item)),
            None => Err(IndexError::new("deque index out of range", item)),
        }
    }

    /// Runs `f` on the items with the deque locked, for a compound step that must be atomic
    /// (look at the front, then pop it only if…). If `f` grows a bounded deque past its
    /// `maxlen`, the leftmost items are dropped afterwards, as [`append`](Self::append) would —
    /// also when `f` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = [5, 1, 4].into_iter().collect();
    /// let small = dq.with_items(|items| items.iter().copied().min());
    /// assert_eq!(small, Some(1));
    /// ```
    ///
    /// # Re-entry and panics
    ///
    /// `f` runs under the lock: if it uses this deque, that call panics with
    /// `RuntimeError: Deque re-entered …` instead of deadlocking. The items trimmed to `maxlen`
    /// are dropped after the deque is unlocked. A panic in `f` leaves the deque as `f` left
    /// it, trimmed to `maxlen`, and continues (a `Drop` of a trimmed item that panics during
    /// that unwinding aborts, as any panic during unwinding does).
    pub fn with_items<R>(&self, f: impl FnOnce(&mut VecDeque<T>) -> R) -> R {
        // Declared before the guard, so dropped after it: the trimmed items' destructors run
        // with the deque unlocked, on return and on unwind alike.
        let mut evicted = Vec::new();
        let mut items = self.items.lock();
        let bounded = KeepBound {
            items: &mut items,
            maxlen: self.maxlen,
            evicted: &mut evicted,
        };
        self.items.run_user_code(|| f(&mut *bounded.items))
        // `bounded` trims here, then the guard unlocks, then `evicted` is dropped.
    }

    /// Takes all items out, leaving the deque empty (the items in order).
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = (1..=3).collect();
    /// assert_eq!(dq.take_all(), [1, 2, 3]);
    /// assert!(dq.is_empty());
    /// ```
    ///
    /// # Re-entry
    ///
    /// Runs no user code.
    pub fn take_all(&self) -> Vec<T> {
        let taken = std::mem::take(&mut *self.items.lock());
        taken.into()
    }

    /// Consumes the deque and returns its items in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = (1..=3).collect();
    /// assert_eq!(dq.into_vec(), [1, 2, 3]);
    /// ```
    pub fn into_vec(self) -> Vec<T> {
        self.items.into_inner().into()
    }
}

impl<T: Clone> Deque<T> {
    /// A snapshot of the items, left to right: a consistent copy even while other threads
    /// change the deque.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = "ab".chars().collect();
    /// assert_eq!(dq.to_vec(), ['a', 'b']);
    /// ```
    ///
    /// # Re-entry and panics
    ///
    /// `T::clone` runs under the lock: using this deque from it panics with
    /// `RuntimeError: Deque re-entered …`. If a clone panics, the copies made so far are
    /// dropped after the deque is unlocked; the deque is unchanged.
    pub fn to_vec(&self) -> Vec<T> {
        // Before the guard: dropped after it when a clone panics.
        let mut out = Vec::new();
        let items = self.items.lock();
        self.items.run_user_code(|| {
            let (a, b) = items.as_slices();
            out.reserve_exact(items.len());
            out.extend_from_slice(a);
            out.extend_from_slice(b);
        });
        drop(items);
        out
    }

    /// A copy of the item at `index` (negative counts from the end): Python's `d[i]`;
    /// `None` when out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = "abc".chars().collect();
    /// assert_eq!(dq.get(0), Some('a'));
    /// assert_eq!(dq.get(-1), Some('c'));
    /// assert_eq!(dq.get(3), None);
    /// ```
    ///
    /// # Re-entry
    ///
    /// `T::clone` runs under the lock: using this deque from it panics with
    /// `RuntimeError: Deque re-entered …`.
    #[doc(alias = "__getitem__")]
    pub fn get(&self, index: isize) -> Option<T> {
        let items = self.items.lock();
        let at = element_index(index, items.len())?;
        Some(self.items.run_user_code(|| items[at].clone()))
    }
}

/// The `# Re-entry` section of every method that compares items.
macro_rules! compares_under_the_lock {
    () => {
        "`T::eq` runs under the lock: using this deque from it panics with \
         `RuntimeError: Deque re-entered …` instead of deadlocking. A panicking comparison \
         leaves the deque as it was."
    };
}

impl<T: PartialEq> Deque<T> {
    /// Removes the first item equal to `value` and returns it; `Err(ValueError)` when there
    /// is none. A panicking comparison leaves the deque as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = [1, 2, 1].into_iter().collect();
    /// assert_eq!(dq.remove(&1), Ok(1));
    /// assert_eq!(dq.to_vec(), [2, 1]);
    /// assert!(dq.remove(&7).is_err());
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    /// The removed item is returned, and dropped by the caller.
    pub fn remove(&self, value: &T) -> Result<T, ValueError> {
        let mut items = self.items.lock();
        let at = self
            .items
            .run_user_code(|| items.iter().position(|item| item == value));
        at.and_then(|at| items.remove(at))
            .ok_or(ValueError::new("deque.remove(x): x not in deque"))
    }

    /// How many items equal `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = "abracadabra".chars().collect();
    /// assert_eq!(dq.count(&'a'), 5);
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    pub fn count(&self, value: &T) -> usize {
        let items = self.items.lock();
        self.items
            .run_user_code(|| items.iter().filter(|item| *item == value).count())
    }

    /// The position of the first item equal to `value`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = "abc".chars().collect();
    /// assert_eq!(dq.index(&'c'), Some(2));
    /// assert_eq!(dq.index(&'z'), None);
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    pub fn index(&self, value: &T) -> Option<usize> {
        let items = self.items.lock();
        self.items
            .run_user_code(|| items.iter().position(|item| item == value))
    }

    /// Python's `d.index(value, start, stop)`: the first position in `start..stop` holding
    /// `value`, with `list.index`'s bounds (negative counts from the end, out of range
    /// clamps). Use `isize::MAX` for "to the end".
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = "abcabc".chars().collect();
    /// assert_eq!(dq.index_range(&'a', 1, isize::MAX), Some(3));
    /// assert_eq!(dq.index_range(&'a', -2, isize::MAX), None);
    /// assert_eq!(dq.index_range(&'a', 0, 4), Some(0));
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    #[doc(alias = "index")]
    pub fn index_range(&self, value: &T, start: isize, stop: isize) -> Option<usize> {
        let items = self.items.lock();
        let (start, stop) = (
            clamp_index(start, items.len()),
            clamp_index(stop, items.len()),
        );
        if start >= stop {
            return None;
        }
        self.items
            .run_user_code(|| items.range(start..stop).position(|item| item == value))
            .map(|offset| start + offset)
    }

    /// Whether some item equals `value` (Python's `value in d`).
    ///
    /// # Examples
    ///
    /// ```
    /// let dq: gilfree::Deque<_> = [1, 2].into_iter().collect();
    /// assert!(dq.contains(&2));
    /// ```
    ///
    /// # Re-entry
    ///
    #[doc = compares_under_the_lock!()]
    #[doc(alias = "__contains__")]
    pub fn contains(&self, value: &T) -> bool {
        let items = self.items.lock();
        self.items.run_user_code(|| items.contains(value))
    }
}

#[derive(Clone, Copy)]
enum End {
    Left,
    Right,
}

/// [`Deque::with_items`]' guard: whatever the user closure did, and however it ends, the items
/// beyond `maxlen` are moved (leftmost first, as `append` evicts) to `evicted`, which the caller
/// drops once the deque is unlocked.
struct KeepBound<'a, T> {
    items: &'a mut VecDeque<T>,
    maxlen: Option<usize>,
    evicted: &'a mut Vec<T>,
}

impl<T> Drop for KeepBound<'_, T> {
    fn drop(&mut self) {
        if let Some(max) = self.maxlen {
            let over = self.items.len().saturating_sub(max);
            // Moves only: no user code runs here.
            self.evicted.extend(self.items.drain(..over));
        }
    }
}

/// Adds `item` at `end`, evicting from the other end when `maxlen` is reached; returns the
/// evicted item (or `item` itself when `maxlen == 0`).
#[inline]
fn push<T>(items: &mut VecDeque<T>, maxlen: Option<usize>, item: T, end: End) -> Option<T> {
    let evicted = match maxlen {
        Some(0) => return Some(item),
        Some(max) if items.len() >= max => match end {
            End::Right => items.pop_front(),
            End::Left => items.pop_back(),
        },
        _ => None,
    };
    match end {
        End::Right => items.push_back(item),
        End::Left => items.push_front(item),
    }
    evicted
}

impl<T> Default for Deque<T> {
    fn default() -> Self {
        Deque::new()
    }
}

impl<T> FromIterator<T> for Deque<T> {
    /// An unbounded deque of the items, in order.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Deque {
            items: UserLock::new(NAME, iter.into_iter().collect()),
            maxlen: None,
        }
    }
}

impl<T: Clone> Clone for Deque<T> {
    /// An independent copy of a snapshot, with the same `maxlen`. `T::clone` runs as
    /// in [`Deque::to_vec`].
    fn clone(&self) -> Self {
        Deque {
            items: UserLock::new(NAME, self.to_vec().into()),
            maxlen: self.maxlen,
        }
    }
}

impl<T> IntoIterator for Deque<T> {
    type Item = T;
    type IntoIter = std::collections::vec_deque::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_inner().into_iter()
    }
}

impl<T: Clone> IntoIterator for &Deque<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    /// Iterates over a snapshot ([`Deque::to_vec`]).
    fn into_iter(self) -> Self::IntoIter {
        self.to_vec().into_iter()
    }
}

impl<T> Deque<T> {
    /// Calls `f`, which runs `T`'s comparisons, with both deques locked, in address order (no
    /// deadlock when two threads compare the same pair in opposite orders); `f` gets `self`'s
    /// items first. Using either deque from `f` panics (re-entry).
    fn with_pair<R>(&self, other: &Self, f: impl FnOnce(&VecDeque<T>, &VecDeque<T>) -> R) -> R {
        if std::ptr::eq(self, other) {
            let items = self.items.lock();
            return self.items.run_user_code(|| f(&items, &items));
        }
        let self_first = (self as *const Self) < (other as *const Self);
        let (first, second) = if self_first {
            (self, other)
        } else {
            (other, self)
        };
        let a = first.items.lock();
        let b = second.items.lock();
        first.items.run_user_code(|| {
            second
                .items
                .run_user_code(|| if self_first { f(&a, &b) } else { f(&b, &a) })
        })
    }
}

impl<T: PartialEq> PartialEq for Deque<T> {
    /// Equal items in the same order; `maxlen` does not count.
    fn eq(&self, other: &Self) -> bool {
        self.with_pair(other, |a, b| a == b)
    }
}

impl<T: Eq> Eq for Deque<T> {}

impl<T: PartialOrd> PartialOrd for Deque<T> {
    /// Lexicographic, as Python's (and `Vec`'s) comparison.
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        self.with_pair(other, |a, b| a.partial_cmp(b))
    }
}

impl<T: Ord> Ord for Deque<T> {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        self.with_pair(other, |a, b| a.cmp(b))
    }
}

impl<T: fmt::Debug> fmt::Debug for Deque<T> {
    /// Like Python's repr: `deque([1, 2, 3], maxlen=3)`. `T::fmt` runs under the lock: using
    /// this deque from it panics (re-entry).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = self.items.lock();
        write!(f, "deque(")?;
        self.items
            .run_user_code(|| f.debug_list().entries(items.iter()).finish())?;
        if let Some(max) = self.maxlen {
            write!(f, ", maxlen={max}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::super::rt;
    use super::*;

    /// DQ-9's index normalisation, on both backends.
    #[test]
    fn insert_clamps_like_list_insert() {
        rt::model(|| {
            for (at, want) in [(-20, "ZABC"), (-1, "ABZC"), (20, "ABCZ"), (1, "AZBC")] {
                let dq: Deque<char> = "ABC".chars().collect();
                dq.insert(at, 'Z').unwrap();
                assert_eq!(dq.to_vec().into_iter().collect::<String>(), want);
            }
        });
    }
}
