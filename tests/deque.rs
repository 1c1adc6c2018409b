//! Integration tests for `Deque` (SEMANTICS.md §11: DQ-*).
//!
//! Not tested here, on purpose:
//! * DQ-3's negative `maxlen` cannot be written: `with_maxlen` takes a `usize`. The rest of
//!   DQ-3 (`maxlen()` is `None` or the bound) is tested.
//! * DQ-4 (`maxlen` is read-only): there is no setter, only the `maxlen()` getter, so the
//!   assignment cannot be written.
//! * DQ-18 (mutation during iteration raises RuntimeError): there is no live iterator. `&deque`
//!   in a `for` loop and `to_vec` iterate over a snapshot, so changing the deque meanwhile is
//!   allowed and invisible to the loop (checked under DQ-8 and DQ-24).
//! * DQ-21 (`d + e`, `d * n`, `d *= n`): optional in the spec, and `Deque` has no `Add`/`Mul`.
//! * DQ-25 is Python-only (pickle, deepcopy, weakref, sizeof, gc, hash, subclassing, arity
//!   errors, a mutating `__eq__`); the Debug output stands in for repr, and a panicking
//!   `PartialEq` (Python's `BadCmp`) is tested under DQ-12.
//! * DQ-19's `deque == list` is False: comparing a `Deque` with a `Vec` does not compile.
//!
//! Where Python raises IndexError for `pop`/`popleft`/`d[i]` (DQ-2, DQ-17), the Rust methods
//! return `None`; `index` returns `None` instead of raising ValueError (DQ-14).

mod common;

use common::*;
use gilfree::Deque;
use proptest::prelude::*;
use std::cmp::Ordering as CmpOrdering;
use std::collections::{HashSet, VecDeque};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

static_assertions::assert_impl_all!(
    Deque<u8>: Send,
    Sync,
    std::fmt::Debug,
    Default,
    Clone,
    FromIterator<u8>,
    IntoIterator
);

/// A deque of the characters of `s` (Python's `deque('abc')`).
fn dq(s: &str) -> Deque<char> {
    s.chars().collect()
}

/// The deque's characters as a string (Python's `''.join(d)`).
fn text(d: &Deque<char>) -> String {
    d.to_vec().into_iter().collect()
}

/// A small deterministic pseudo-random generator (xorshift64*), for Python's `random` in the
/// ported tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Python's `random.randrange(lo, hi)`.
    fn range(&mut self, lo: isize, hi: isize) -> isize {
        lo + (self.next() % (hi - lo) as u64) as isize
    }
}

/// Python's `list.insert(i, x)` on a `Vec`, written from CPython's `ins1` (listobject.c).
fn py_list_insert<T>(list: &mut Vec<T>, i: isize, x: T) {
    let n = list.len() as isize;
    let mut at = i;
    if at < 0 {
        at += n;
        if at < 0 {
            at = 0;
        }
    }
    if at > n {
        at = n;
    }
    list.insert(at as usize, x);
}

/// Python's `list.index(x, start, stop)`, written from CPython's `list_index_impl`
/// (listobject.c); `None` where Python raises ValueError.
fn py_list_index<T: PartialEq>(list: &[T], x: &T, start: isize, stop: isize) -> Option<usize> {
    let n = list.len() as isize;
    let (mut start, mut stop) = (start, stop);
    if start < 0 {
        start += n;
        if start < 0 {
            start = 0;
        }
    }
    if stop < 0 {
        stop += n;
        if stop < 0 {
            stop = 0;
        }
    }
    let mut i = start;
    while i < stop && i < n {
        if list[i as usize] == *x {
            return Some(i as usize);
        }
        i += 1;
    }
    None
}

/// Python's element index `l[i]`: negative counts from the end; `None` when out of range.
fn py_element_index(len: usize, i: isize) -> Option<usize> {
    let n = len as isize;
    let at = if i < 0 { i + n } else { i };
    (0 <= at && at < n).then_some(at as usize)
}

/// DQ-1: `append`, `append_left`, `pop`, `pop_left` work at both ends with the right order and
/// `len` (`test_basics`).
#[test]
fn dq1_both_ends_keep_order_and_len() {
    let d: Deque<i32> = (-5125..-5000).collect();
    d.clear();
    d.extend(0..200);
    for i in 200..400 {
        assert_eq!(d.append(i), None);
    }
    for i in (-200..0).rev() {
        assert_eq!(d.append_left(i), None);
    }
    assert_eq!(d.to_vec(), (-200..400).collect::<Vec<_>>());
    assert_eq!(d.len(), 600);

    let left: Vec<i32> = (0..250).map(|_| d.pop_left().unwrap()).collect();
    assert_eq!(left, (-200..50).collect::<Vec<_>>());
    assert_eq!(d.to_vec(), (50..400).collect::<Vec<_>>());

    let mut right: Vec<i32> = (0..250).map(|_| d.pop().unwrap()).collect();
    right.reverse();
    assert_eq!(right, (150..400).collect::<Vec<_>>());
    assert_eq!(d.to_vec(), (50..150).collect::<Vec<_>>());
}

/// DQ-1: `len` follows every change (`test_len`).
#[test]
fn dq1_len_follows_changes() {
    let d = dq("ab");
    assert_eq!(d.len(), 2);
    assert_eq!(d.pop_left(), Some('a'));
    assert_eq!(d.len(), 1);
    assert_eq!(d.pop(), Some('b'));
    assert_eq!(d.len(), 0);
    assert!(d.is_empty());
    assert_eq!(d.pop(), None);
    assert_eq!(d.len(), 0);
    d.append('c');
    assert_eq!(d.len(), 1);
    d.append_left('d');
    assert_eq!(d.len(), 2);
    assert!(!d.is_empty());
    d.clear();
    assert_eq!(d.len(), 0);
}

/// DQ-1: the Rust-only ways in and out (`FromIterator`, `Default`, `take_all`, `into_vec`,
/// owned `IntoIterator`) keep the order.
#[test]
fn dq1_from_iterator_take_all_into_vec() {
    let d: Deque<u8> = Deque::default();
    assert!(d.is_empty());
    assert_eq!(d.maxlen(), None);

    let d: Deque<u8> = (1..=5).collect();
    assert_eq!(d.maxlen(), None);
    assert_eq!(d.take_all(), [1, 2, 3, 4, 5]);
    assert!(d.is_empty());

    let d: Deque<u8> = (1..=3).collect();
    d.append_left(0);
    assert_eq!(d.clone().into_vec(), [0, 1, 2, 3]);
    assert_eq!(d.into_iter().rev().collect::<Vec<_>>(), [3, 2, 1, 0]);
}

/// DQ-2: `pop` and `pop_left` on an empty deque fail (Python: IndexError; here `None`), and the
/// deque stays usable (`test_underflow`).
#[test]
fn dq2_pop_from_empty() {
    let d: Deque<u8> = Deque::new();
    assert_eq!(d.pop(), None);
    assert_eq!(d.pop_left(), None);
    d.append(1);
    assert_eq!(d.pop_left(), Some(1));
    assert_eq!(d.pop_left(), None);
    assert_eq!(d.pop(), None);

    let bounded: Deque<u8> = Deque::with_maxlen(2);
    assert_eq!(bounded.pop(), None);
    assert_eq!(bounded.pop_left(), None);
}

/// DQ-3: `maxlen()` is `None` for an unbounded deque and the bound otherwise, 0 included
/// (`test_maxlen_attribute`).
#[test]
fn dq3_maxlen_attribute() {
    assert_eq!(Deque::<u8>::new().maxlen(), None);
    assert_eq!(Deque::<u8>::default().maxlen(), None);
    assert_eq!((0..3u8).collect::<Deque<_>>().maxlen(), None);
    for max in [0, 1, 7, usize::MAX] {
        let d = Deque::<u8>::with_maxlen(max);
        assert_eq!(d.maxlen(), Some(max));
        d.extend(0..10);
        d.clear();
        assert_eq!(d.maxlen(), Some(max));
    }
}

/// DQ-5: a bounded deque keeps the last `maxlen` items; `append` drops from the left and
/// returns the dropped item, `append_left` drops from the right, `extend` keeps the rightmost
/// items, `extend_left` drops from the right; the whole iterator is consumed (`test_maxlen`).
#[test]
fn dq5_bounded_deque_evicts_from_the_other_end() {
    let mut it = 0..10;
    let d = Deque::with_maxlen(3);
    d.extend(&mut it);
    assert_eq!(it.next(), None, "the whole iterator is consumed");
    assert_eq!(format!("{d:?}"), "deque([7, 8, 9], maxlen=3)");
    assert_eq!(d.to_vec(), [7, 8, 9]);

    assert_eq!(d.append(10), Some(7));
    assert_eq!(d.to_vec(), [8, 9, 10]);
    assert_eq!(d.append_left(7), Some(10));
    assert_eq!(d.to_vec(), [7, 8, 9]);
    d.extend([10, 11]);
    assert_eq!(d.to_vec(), [9, 10, 11]);
    d.extend_left([8, 7]);
    assert_eq!(d.to_vec(), [7, 8, 9]);
    assert_eq!(d.len(), 3);

    // extend_left with more items than maxlen: each one pushes at the left and drops from
    // the right, so the last three, reversed, stay.
    let d = Deque::with_maxlen(3);
    d.extend([1, 2]);
    d.extend_left([10, 11, 12, 13, 14]);
    assert_eq!(d.to_vec(), [14, 13, 12]);

    // Filling up to the bound evicts nothing.
    let d = Deque::with_maxlen(2);
    assert_eq!(d.append_left(1), None);
    assert_eq!(d.append(2), None);
    assert_eq!(d.append(3), Some(1));
    assert_eq!(d.append_left(4), Some(3));
    assert_eq!(d.to_vec(), [4, 2]);
}

/// DQ-5: `with_items` may grow the deque, but the bound holds afterwards (trimmed from the
/// left, as `append` does).
#[test]
fn dq5_with_items_keeps_the_bound() {
    let d = Deque::with_maxlen(3);
    d.extend([1, 2]);
    let seen = d.with_items(|items| {
        items.extend([3, 4, 5]);
        items.len()
    });
    assert_eq!(seen, 5);
    assert_eq!(d.to_vec(), [3, 4, 5]);
}

/// DQ-5, DQ-24: two threads appending to one bounded deque: every item that an append pushed
/// out came back from it, so evicted items plus the final contents are exactly the appended
/// items, each once.
#[test]
fn dq5_concurrent_eviction_loses_nothing() {
    with_watchdog(|| {
        const N: u32 = 20_000;
        // (maxlen, whether the second appender works at the left end)
        for (max, second_left) in [(1, false), (8, false), (8, true), (64, true)] {
            let d = Deque::with_maxlen(max);
            let evicted: Vec<u32> = thread::scope(|s| {
                let workers: Vec<_> = (0..2u32)
                    .map(|t| {
                        let d = &d;
                        s.spawn(move || {
                            let mut evicted = Vec::new();
                            for i in 0..N {
                                let x = t * N + i;
                                let out = if t == 1 && second_left {
                                    d.append_left(x)
                                } else {
                                    d.append(x)
                                };
                                evicted.extend(out);
                            }
                            evicted
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap())
                    .collect()
            });
            let last = d.to_vec();
            assert_eq!(last.len(), max);
            if !second_left {
                // FIFO: each appender's items stay in its order.
                for t in 0..2 {
                    let mine: Vec<u32> = last.iter().copied().filter(|x| x / N == t).collect();
                    assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
                }
            }
            let mut all = evicted;
            all.extend(last);
            all.sort_unstable();
            assert_eq!(all, (0..2 * N).collect::<Vec<_>>(), "maxlen={max}");
        }
    });
}

/// DQ-6: `maxlen == 0` accepts and discards everything: appends hand the item back, `extend`
/// and `extend_left` consume the whole iterator, `len` stays 0 (`test_maxlen_zero`).
#[test]
fn dq6_maxlen_zero_discards_everything() {
    let d = Deque::with_maxlen(0);
    let mut it = 0..100;
    d.extend(&mut it);
    assert_eq!(it.next(), None);
    let mut it = 0..100;
    d.extend_left(&mut it);
    assert_eq!(it.next(), None);
    assert_eq!(d.append(7), Some(7));
    assert_eq!(d.append_left(8), Some(8));
    assert_eq!(d.len(), 0);
    assert!(d.is_empty());
    assert_eq!(d.pop(), None);
    assert_eq!(d.to_vec(), Vec::<i32>::new());
    assert_eq!(format!("{d:?}"), "deque([], maxlen=0)");
}

/// DQ-7: `extend_left` inserts one by one at the left, so the items end up reversed
/// (`test_extendleft`).
#[test]
fn dq7_extend_left_reverses() {
    let d = dq("a");
    d.extend_left("bcd".chars());
    assert_eq!(text(&d), "dcba");
    d.extend_left("".chars());
    assert_eq!(text(&d), "dcba");

    let d = Deque::new();
    d.extend_left(0..1000);
    assert_eq!(d.to_vec(), (0..1000).rev().collect::<Vec<_>>());
}

/// DQ-8: extending a deque with itself reads a snapshot (`&Deque` iterates over one), so it
/// doubles: `abcd` gives `abcdabcd`, and `extend_left` gives `dcbaabcd` (`test_extend`,
/// `test_extendleft`, `test_iadd`).
#[test]
fn dq8_extend_with_itself() {
    with_watchdog(|| {
        let d = dq("abcd");
        d.extend(&d);
        assert_eq!(text(&d), "abcdabcd");

        let d = dq("abcd");
        d.extend_left(&d);
        assert_eq!(text(&d), "dcbaabcd");

        // Bounded: the doubled items are trimmed as any extend.
        let d = Deque::with_maxlen(6);
        d.extend("abcd".chars());
        d.extend(&d);
        assert_eq!(text(&d), "cdabcd");
        let d = Deque::with_maxlen(6);
        d.extend("abcd".chars());
        d.extend_left(&d);
        assert_eq!(text(&d), "dcbaab");

        // A loop over `&d` works on a snapshot, so it may change `d`.
        let d = dq("xy");
        for c in &d {
            d.append(c.to_ascii_uppercase());
        }
        assert_eq!(text(&d), "xyXY");
    });
}

/// DQ-9: `insert(i, x)` follows `list.insert`: negative counts from the end, out of range
/// clamps (`test_insert`, checked against a reference `list.insert`).
#[test]
fn dq9_insert_like_list_insert() {
    for (at, want) in [
        (-20, "ZABC"),
        (-1, "ABZC"),
        (20, "ABCZ"),
        (0, "ZABC"),
        (3, "ABCZ"),
    ] {
        let d = dq("ABC");
        d.insert(at, 'Z').unwrap();
        assert_eq!(text(&d), want, "insert({at})");
    }

    let elements = "ABCDEFGHI";
    let n = elements.len() as isize;
    for i in (-5 - 2 * n)..(5 + 2 * n) {
        let d = dq(elements);
        let mut s: Vec<char> = elements.chars().collect();
        d.insert(i, 'Z').unwrap();
        py_list_insert(&mut s, i, 'Z');
        assert_eq!(d.to_vec(), s, "insert({i})");
    }
    for i in [isize::MIN, isize::MAX] {
        let d = dq("AB");
        let mut s = vec!['A', 'B'];
        d.insert(i, 'Z').unwrap();
        py_list_insert(&mut s, i, 'Z');
        assert_eq!(d.to_vec(), s, "insert({i})");
    }

    let d = Deque::new();
    d.insert(5, 'x').unwrap();
    d.insert(-5, 'y').unwrap();
    assert_eq!(text(&d), "yx");
}

/// DQ-10: `insert` into a full bounded deque is an IndexError at any position (`maxlen == 0`
/// too) and hands the item back; on one that is not full, `insert(i, 'Z')` puts Z at `d[i]`
/// (i ≥ 0) or `d[i-1]` (i < 0) (`test_insert_bug_26194`).
#[test]
fn dq10_insert_into_full_bounded_deque() {
    let d = Deque::with_maxlen(3);
    d.extend("ABC".chars());
    for at in [-10, -1, 0, 1, 2, 3, 10] {
        let err = d.insert(at, 'Z').unwrap_err();
        assert_eq!(err.message(), "deque already at its maximum size");
        assert_eq!(err.into_inner(), 'Z');
        assert_eq!(text(&d), "ABC", "unchanged after insert({at})");
    }
    let err = Deque::with_maxlen(0).insert(0, 'Z').unwrap_err();
    assert_eq!(err.message(), "deque already at its maximum size");
    assert_eq!(err.into_inner(), 'Z');
    assert!(format!("{err}").contains("IndexError"));

    let elements = "ABCDEFGHI";
    let n = elements.len() as isize;
    for i in -n..n {
        let d = Deque::with_maxlen(elements.len() + 1);
        d.extend(elements.chars());
        d.insert(i, 'Z').unwrap();
        let at = if i >= 0 { i } else { i - 1 };
        assert_eq!(d.get(at), Some('Z'), "insert({i})");
        assert_eq!(d.len(), elements.len() + 1);
        assert!(d.insert(i, 'Y').is_err(), "now full");
    }
}

/// DQ-11: `rotate(n)` turns right for positive n, left for negative, modulo the length;
/// `rotate(i)` then `rotate(-i)` restores; `rotate(BIG + 17)` equals that many `rotate(1)`;
/// rotating an empty deque is a no-op (`test_rotate`). Python's default `n = 1` is not
/// expressible: `n` is always given.
#[test]
fn dq11_rotate() {
    let s = "abcde";
    let n = s.len() as isize;
    let d = dq(s);
    d.rotate(1);
    assert_eq!(text(&d), "eabcd");
    let d = dq(s);
    d.rotate(-1);
    assert_eq!(text(&d), "bcdea");
    d.rotate(1);
    assert_eq!(text(&d), s);
    let d = dq(s);
    d.rotate(7);
    let e = dq(s);
    e.rotate(2);
    assert_eq!(d, e, "rotate(7) on 5 items is rotate(2)");

    for i in 0..n * 3 {
        let d = dq(s);
        let e = d.clone();
        d.rotate(i);
        for _ in 0..i {
            e.rotate(1);
        }
        assert_eq!(text(&d), text(&e));
        d.rotate(-i);
        assert_eq!(text(&d), s);
        e.rotate(n - i);
        assert_eq!(text(&e), s);
    }
    for i in 0..n * 3 {
        let d = dq(s);
        let e = d.clone();
        d.rotate(-i);
        for _ in 0..i {
            e.rotate(-1);
        }
        assert_eq!(text(&d), text(&e));
        d.rotate(i);
        assert_eq!(text(&d), s);
        e.rotate(i - n);
        assert_eq!(text(&e), s);
    }

    const BIG: isize = 100_000;
    let d = dq(s);
    let e = dq(s);
    e.rotate(BIG + 17);
    for _ in 0..BIG + 17 {
        d.rotate(1);
    }
    assert_eq!(text(&d), text(&e));

    // The extremes of isize, taken modulo the length as Python's (floored) modulo does.
    for big in [isize::MAX, isize::MIN, isize::MIN + 1] {
        let d = dq(s);
        d.rotate(big);
        let e = dq(s);
        e.rotate(big.rem_euclid(n));
        assert_eq!(text(&d), text(&e), "rotate({big})");
    }

    let empty: Deque<char> = Deque::new();
    empty.rotate(1);
    empty.rotate(-3);
    empty.rotate(isize::MIN);
    assert!(empty.is_empty());
    let one = dq("x");
    one.rotate(isize::MAX);
    assert_eq!(text(&one), "x");
}

/// An item whose comparison fails (Python's `BadCmp`): comparing with a `bad` one panics.
#[derive(Clone, Debug)]
struct Touchy {
    id: u32,
    bad: bool,
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        if self.bad || other.bad {
            panic!("comparison failed (BadCmp)");
        }
        self.id == other.id
    }
}

/// DQ-12: `remove(x)` deletes the first equal item and returns it; a missing item is a
/// ValueError and changes nothing (`test_remove`).
#[test]
fn dq12_remove_first_occurrence() {
    let d = dq("abcdefghcij");
    assert_eq!(d.remove(&'c'), Ok('c'));
    assert_eq!(text(&d), "abdefghcij");
    assert_eq!(d.remove(&'c'), Ok('c'));
    assert_eq!(text(&d), "abdefghij");
    let err = d.remove(&'c').unwrap_err();
    assert_eq!(err.message(), "deque.remove(x): x not in deque");
    assert!(format!("{err}").contains("ValueError"));
    assert_eq!(text(&d), "abdefghij");
    assert!(Deque::<char>::new().remove(&'a').is_err());
}

/// DQ-12: a comparison that fails (panics) during `remove` leaves the items and their order
/// intact, and the deque usable afterwards; so do `count`, `index` and `contains`.
#[test]
fn dq12_failing_comparison_leaves_deque_intact() {
    with_watchdog(|| {
        let item = |id, bad| Touchy { id, bad };
        let d: Deque<Touchy> = [
            item(1, false),
            item(2, false),
            item(3, true),
            item(4, false),
        ]
        .into_iter()
        .collect();
        let state = |d: &Deque<Touchy>| {
            d.to_vec()
                .into_iter()
                .map(|t| (t.id, t.bad))
                .collect::<Vec<_>>()
        };
        let before = state(&d);

        let target = item(4, false);
        assert!(panic::catch_unwind(AssertUnwindSafe(|| d.remove(&target))).is_err());
        assert_eq!(state(&d), before);
        assert!(panic::catch_unwind(AssertUnwindSafe(|| d.count(&target))).is_err());
        assert!(panic::catch_unwind(AssertUnwindSafe(|| d.index(&target))).is_err());
        assert!(panic::catch_unwind(AssertUnwindSafe(|| d.contains(&target))).is_err());
        assert_eq!(state(&d), before);

        // Still usable: the lock was released, and an item before the bad one can go.
        assert_eq!(d.remove(&item(2, false)).map(|t| t.id), Ok(2));
        d.append(item(5, false));
        assert_eq!(d.len(), 4);
        assert_eq!(d.pop().map(|t| t.id), Some(5));
    });
}

/// An item compared by `key` only (Python's `__eq__` beyond identity).
#[derive(Clone, Debug)]
struct Keyed {
    key: u8,
    tag: u32,
}

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

/// DQ-13: `count(x)` counts items equal to x, with `PartialEq`'s equality, also after
/// rotations (`test_count`).
#[test]
fn dq13_count() {
    let long = format!("{}abc", "simsalabim".repeat(500));
    for s in ["", "abracadabra", long.as_str()] {
        let d = dq(s);
        for letter in 'a'..='z' {
            assert_eq!(d.count(&letter), s.matches(letter).count(), "{letter}");
        }
    }

    // issue11004: rotation that realigns the internal blocks.
    let d: Deque<Option<u8>> = std::iter::repeat_n(None, 16).collect();
    for _ in 0..16 {
        d.rotate(-1);
    }
    d.rotate(1);
    assert_eq!(d.count(&Some(1)), 0);
    assert_eq!(d.count(&None), 16);

    // Equality, not identity: items with other tags but the same key count.
    let d: Deque<Keyed> = (0..10)
        .map(|tag| Keyed {
            key: tag as u8 % 3,
            tag,
        })
        .collect();
    assert_eq!(d.count(&Keyed { key: 0, tag: 99 }), 4);
    assert_eq!(d.count(&Keyed { key: 7, tag: 0 }), 0);
    assert_eq!(d.remove(&Keyed { key: 1, tag: 99 }).map(|k| k.tag), Ok(1));
}

/// DQ-14: `index(x)` finds the first equal item; `index_range(x, start, stop)` behaves exactly
/// like `list.index(x, start, stop)` for every combination of bounds, also after rotations
/// (`test_index`, `test_index_bug_24913`).
#[test]
fn dq14_index_like_list_index() {
    for n in [1, 2, 30, 40, 200] {
        let d: Deque<i32> = (0..n).collect();
        for i in 0..n {
            assert_eq!(d.index(&i), Some(i as usize));
        }
        assert_eq!(d.index(&(n + 1)), None);
    }

    // Python's start/stop matrix, on 'ABCDEFGHI' * 2.
    let elements = "ABCDEFGHI";
    let s: Vec<char> = elements.repeat(2).chars().collect();
    let d: Deque<char> = s.iter().copied().collect();
    let n = s.len() as isize;
    for start in (-5 - 2 * n)..(5 + 2 * n) {
        for stop in (-5 - 2 * n)..(5 + 2 * n) {
            for x in elements.chars().chain(['Z']) {
                assert_eq!(
                    d.index_range(&x, start, stop),
                    py_list_index(&s, &x, start, stop),
                    "index({x:?}, {start}, {stop})"
                );
            }
        }
    }

    // Small deques with duplicates, at every rotation (another internal offset each time),
    // against the reference on the rotated contents.
    let bounds: Vec<isize> = (-8..8).chain([isize::MIN, isize::MAX]).collect();
    for len in 0..6usize {
        let d: Deque<u8> = (0..len as u8).map(|i| i % 3).collect();
        // Push the internal head around, as `test_index` does with `rotate`.
        d.extend_left([9, 9]);
        d.pop_left();
        d.pop_left();
        for _ in 0..=len {
            d.rotate(1);
            let list = d.to_vec();
            for x in 0..4u8 {
                assert_eq!(d.index(&x), list.iter().position(|y| *y == x));
                for &start in &bounds {
                    for &stop in &bounds {
                        assert_eq!(
                            d.index_range(&x, start, stop),
                            py_list_index(&list, &x, start, stop),
                            "{list:?}.index({x}, {start}, {stop})"
                        );
                    }
                }
            }
        }
    }

    // A large start argument, at a different internal offset each time.
    let d: Deque<i32> = (0..10_000).step_by(10).collect();
    for _ in 0..100 {
        let i = d.index_range(&8500, 700, isize::MAX).unwrap();
        assert_eq!(d.get(i as isize), Some(8500));
        d.rotate(1);
    }

    // bug 24913: a stop past the end on a short deque, x absent.
    let d: Deque<&str> = std::iter::repeat_n("A", 3).collect();
    assert_eq!(d.index_range(&"Hello world", 0, 4), None);
}

/// DQ-15: `reverse` reverses in place; twice restores the original (`test_reverse`).
#[test]
fn dq15_reverse() {
    let n = 500;
    let data: Vec<u32> = (0..n).map(|i| i * 7919 % 1009).collect();
    let d: Deque<u32> = data.iter().copied().collect();
    d.reverse();
    assert_eq!(d.to_vec(), data.iter().rev().copied().collect::<Vec<_>>());
    d.reverse();
    assert_eq!(d.to_vec(), data);

    // Also when the ring buffer wraps around.
    let d = Deque::new();
    d.extend(3..6);
    d.extend_left([2, 1, 0]);
    d.reverse();
    assert_eq!(d.to_vec(), [5, 4, 3, 2, 1, 0]);

    let empty: Deque<u8> = Deque::new();
    empty.reverse();
    assert!(empty.is_empty());
}

/// DQ-16: `clear` empties the deque, is idempotent and keeps `maxlen` (`test_clear`).
#[test]
fn dq16_clear() {
    let d = Deque::with_maxlen(50);
    d.extend(0..100);
    assert_eq!(d.len(), 50);
    d.clear();
    assert_eq!(d.len(), 0);
    assert_eq!(d.to_vec(), Vec::<i32>::new());
    d.clear();
    assert!(d.is_empty());
    assert_eq!(d.maxlen(), Some(50));
    d.extend(0..100);
    assert_eq!(d.to_vec(), (50..100).collect::<Vec<_>>());

    let d: Deque<u8> = Deque::new();
    d.clear();
    assert!(d.is_empty());
}

/// DQ-17: `get(i)` / `set(i, x)` / `remove_at(i)` are `d[i]`, `d[i] = x` and `del d[i]`:
/// negative indexes count from the end, out of range (also on an empty deque) is an error
/// (`test_getitem`, `test_setitem`, `test_delitem`).
#[test]
fn dq17_indexing() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);

    // test_getitem: the deque moves through its buffer while every index is read.
    let n = 200;
    let d: Deque<i32> = (0..n).collect();
    let mut l: Vec<i32> = (0..n).collect();
    for i in 0..n {
        d.pop_left();
        l.remove(0);
        if rng.next() % 2 == 0 {
            d.append(i);
            l.push(i);
        }
        let len = l.len() as isize;
        for j in (1 - len)..len {
            let want = py_element_index(l.len(), j).map(|at| l[at]);
            assert_eq!(d.get(j), want, "d[{j}]");
        }
    }
    let d = dq("superman");
    assert_eq!(d.get(0), Some('s'));
    assert_eq!(d.get(-1), Some('n'));
    assert_eq!(d.get(8), None);
    assert_eq!(d.get(-9), None);
    assert_eq!(d.get(isize::MIN), None);
    assert_eq!(d.get(isize::MAX), None);
    let empty: Deque<char> = Deque::new();
    assert_eq!(empty.get(0), None);
    assert_eq!(empty.get(-1), None);

    // test_setitem
    let n = 200;
    let d: Deque<isize> = (0..n).collect();
    for i in 0..n {
        assert_eq!(d.set(i, 10 * i), Ok(i));
    }
    assert_eq!(d.to_vec(), (0..n).map(|i| 10 * i).collect::<Vec<_>>());
    let mut l = d.to_vec();
    for i in ((1 - n)..0).rev() {
        d.set(i, 7 * i).unwrap();
        l[(n + i) as usize] = 7 * i;
    }
    assert_eq!(d.to_vec(), l);
    let err = d.set(n, 0).unwrap_err();
    assert_eq!(err.message(), "deque index out of range");
    assert_eq!(err.into_inner(), 0);
    assert_eq!(d.set(-n - 1, 5).unwrap_err().into_inner(), 5);
    assert!(empty.set(0, 'x').is_err());
    assert!(empty.set(-1, 'x').is_err());

    // test_delitem
    let n = 500;
    let d: Deque<isize> = (0..n).collect();
    assert_eq!(
        d.remove_at(-n - 1).unwrap_err().message(),
        "deque index out of range"
    );
    assert!(d.remove_at(n).is_err());
    assert_eq!(d.len(), n as usize);
    for i in 0..n {
        assert_eq!(d.len(), (n - i) as usize);
        let len = d.len() as isize;
        let j = rng.range(-len, len);
        let val = d.get(j).unwrap();
        assert!(d.contains(&val));
        assert_eq!(d.remove_at(j), Ok(val));
        assert!(!d.contains(&val));
    }
    assert_eq!(d.len(), 0);
    assert!(d.remove_at(0).is_err());
    assert!(d.remove_at(-1).is_err());
}

/// DQ-19: comparisons are lexicographic, as for lists (and `Vec`), and equality ignores
/// `maxlen` (`test_comparisons`).
#[test]
fn dq19_lexicographic_comparison_ignoring_maxlen() {
    let d = dq("xabc");
    d.pop_left();
    for (e, equal) in [
        (dq("abc"), true),
        (dq("ab"), false),
        (Deque::new(), false),
        (dq("abd"), false),
    ] {
        assert_eq!(d == e, equal, "{d:?} == {e:?}");
        assert_eq!(d != e, !equal);
    }

    let args = ["", "a", "b", "ab", "ba", "abc", "xba", "xabc", "cba"];
    for x in args {
        for y in args {
            let (dx, dy) = (dq(x), dq(y));
            let (lx, ly): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
            assert_eq!(dx == dy, lx == ly, "{x:?} == {y:?}");
            assert_eq!(dx != dy, lx != ly, "{x:?} != {y:?}");
            assert_eq!(dx < dy, lx < ly, "{x:?} < {y:?}");
            assert_eq!(dx <= dy, lx <= ly, "{x:?} <= {y:?}");
            assert_eq!(dx > dy, lx > ly, "{x:?} > {y:?}");
            assert_eq!(dx >= dy, lx >= ly, "{x:?} >= {y:?}");
            assert_eq!(dx.partial_cmp(&dy), lx.partial_cmp(&ly));
            assert_eq!(dx.cmp(&dy), lx.cmp(&ly));
            assert_eq!(dx.max(dy).to_vec(), lx.max(ly));
        }
    }

    // maxlen does not count.
    let bounded = Deque::with_maxlen(5);
    bounded.extend("abc".chars());
    assert_eq!(bounded, dq("abc"));
    assert_eq!(dq("abc"), bounded);
    let tight = Deque::with_maxlen(3);
    tight.extend("abc".chars());
    assert_eq!(tight, bounded);
    assert_eq!(tight.cmp(&bounded), CmpOrdering::Equal);
    assert_eq!(Deque::<u8>::with_maxlen(0), Deque::new());

    // Incomparable items, as Vec.
    let nan: Deque<f64> = [1.0, f64::NAN].into_iter().collect();
    let one: Deque<f64> = [1.0, 2.0].into_iter().collect();
    assert_eq!(
        nan.partial_cmp(&one),
        [1.0, f64::NAN].partial_cmp(&[1.0, 2.0])
    );
}

/// DQ-19: comparing a deque with itself locks it once (no self-deadlock), and two threads
/// comparing the same pair in opposite orders do not deadlock each other.
#[test]
#[allow(clippy::eq_op)]
fn dq19_comparing_with_itself_and_crosswise_does_not_deadlock() {
    with_watchdog(|| {
        let d = dq("abc");
        let results = (d == d, d != d, d < d, d <= d, d >= d, d > d);
        assert_eq!(results, (true, false, false, true, true, false));
        assert_eq!(d.partial_cmp(&d), Some(CmpOrdering::Equal));
        assert_eq!(d.cmp(&d), CmpOrdering::Equal);

        let a: Deque<u32> = (0..64).collect();
        let b: Deque<u32> = (0..64).collect();
        thread::scope(|s| {
            let (a, b) = (&a, &b);
            let ab = s.spawn(move || (0..20_000).filter(|_| a == b).count());
            let ba = s.spawn(move || (0..20_000).filter(|_| b.cmp(a).is_eq()).count());
            assert_eq!(ab.join().unwrap(), 20_000);
            assert_eq!(ba.join().unwrap(), 20_000);
        });
    });
}

/// DQ-20: `clone()` (Python's `copy()`) is equal, independent, shallow and keeps `maxlen`;
/// collecting from `&d` (Python's `deque(d)`) is equal and independent (`test_copy`,
/// `test_copy_method`, `test_roundtrip_iter_init`).
#[test]
fn dq20_copies_are_independent_and_shallow() {
    let d = Deque::with_maxlen(5);
    d.extend((0..4).map(Arc::new));
    let e = d.clone();
    assert_eq!(e, d);
    assert_eq!(e.maxlen(), Some(5));
    // Shallow: the same objects, not copies of them.
    for (x, y) in d.to_vec().iter().zip(e.to_vec().iter()) {
        assert!(Arc::ptr_eq(x, y));
    }
    // Independent, both ways.
    d.append(Arc::new(10));
    d.set(0, Arc::new(-1)).unwrap();
    assert_eq!(e.len(), 4);
    assert_eq!(*e.get(0).unwrap(), 0);
    e.clear();
    assert_eq!(d.len(), 5);

    let d: Deque<i32> = (0..10).collect();
    let e: Deque<i32> = (&d).into_iter().collect();
    assert_eq!(e, d);
    d.pop();
    assert_eq!(e.len(), 10);
    let bounded = Deque::with_maxlen(3);
    bounded.extend(0..3);
    assert_eq!(bounded.clone().maxlen(), Some(3));
    assert_eq!((&bounded).into_iter().collect::<Deque<_>>().maxlen(), None);
}

/// DQ-22: iterating backwards (`reversed(d)`) yields the items in reverse (`test_reversed`).
#[test]
fn dq22_reversed() {
    for s in ["", "a", "abc", "abcdefghijklmnop"] {
        let d = dq(s);
        let back: String = (&d).into_iter().rev().collect();
        assert_eq!(back, s.chars().rev().collect::<String>());
    }
    // Across the ring buffer's wrap-around.
    let d = Deque::new();
    d.extend(5..10);
    d.extend_left((0..5).rev());
    assert_eq!(
        (&d).into_iter().rev().collect::<Vec<_>>(),
        (0..10).rev().collect::<Vec<_>>()
    );
    assert_eq!(
        d.into_iter().rev().collect::<Vec<_>>(),
        (0..10).rev().collect::<Vec<_>>()
    );
}

/// DQ-23: long steady-state FIFO and LIFO use (100,000 appends and pops at either end) stays
/// correct (`test_long_steadystate_queue_*`, `test_big_queue_*`, `test_big_stack_*`).
#[test]
fn dq23_long_steady_state() {
    const BIG: usize = 100_000;
    for size in [0, 1, 2, 100, 1000] {
        let d: Deque<usize> = (0..size).collect();
        for i in size..BIG {
            d.append(i);
            assert_eq!(d.pop_left(), Some(i - size));
        }
        assert_eq!(d.to_vec(), (BIG - size..BIG).collect::<Vec<_>>());

        let d: Deque<usize> = (0..size).rev().collect();
        for i in size..BIG {
            d.append_left(i);
            assert_eq!(d.pop(), Some(i - size));
        }
        assert_eq!(d.to_vec(), (BIG - size..BIG).rev().collect::<Vec<_>>());
    }

    let d = Deque::new();
    for i in 0..BIG {
        d.append(i);
    }
    for i in 0..BIG {
        assert_eq!(d.pop_left(), Some(i));
    }
    for i in 0..BIG {
        d.append_left(i);
    }
    for i in 0..BIG {
        assert_eq!(d.pop(), Some(i));
    }
    for i in 0..BIG {
        d.append(i);
    }
    for i in (0..BIG).rev() {
        assert_eq!(d.pop(), Some(i));
    }
    for i in 0..BIG {
        d.append_left(i);
    }
    for i in (0..BIG).rev() {
        assert_eq!(d.pop_left(), Some(i));
    }
    assert!(d.is_empty());
}

/// DQ-24: `to_vec`, `clone` and `&d` iteration running alongside `append` and `pop_left` are
/// consistent snapshots: the producer appends 0, 1, 2, … and one popper pops from the left,
/// so every snapshot is a run of consecutive numbers (`test_copy_race`).
#[test]
fn dq24_snapshots_while_appending_and_popping() {
    with_watchdog(|| {
        const N: u64 = 30_000;
        let d = Deque::new();
        let popped_all = AtomicBool::new(false);
        thread::scope(|s| {
            let (d, popped_all) = (&d, &popped_all);
            s.spawn(move || {
                for i in 0..N {
                    d.append(i);
                }
            });
            s.spawn(move || {
                let mut want = 0;
                while want < N {
                    match d.pop_left() {
                        Some(x) => {
                            assert_eq!(x, want, "FIFO order");
                            want += 1;
                        }
                        None => thread::yield_now(),
                    }
                }
                popped_all.store(true, Ordering::Release);
            });
            let readers: Vec<_> = (0..3)
                .map(|kind| {
                    s.spawn(move || {
                        let mut snapshots = 0usize;
                        loop {
                            let done = popped_all.load(Ordering::Acquire);
                            let snap: Vec<u64> = match kind {
                                0 => d.to_vec(),
                                1 => d.clone().into_vec(),
                                _ => d.into_iter().collect(),
                            };
                            assert!(
                                snap.windows(2).all(|w| w[1] == w[0] + 1),
                                "torn snapshot: {snap:?}"
                            );
                            assert!(snap.last().is_none_or(|&x| x < N));
                            snapshots += 1;
                            if done {
                                assert!(snap.is_empty());
                                break snapshots;
                            }
                        }
                    })
                })
                .collect();
            for r in readers {
                assert!(r.join().unwrap() >= 1);
            }
        });
        assert!(d.is_empty());
    });
}

/// DQ-24: `index`, `index_range`, `count` and `contains` running alongside mutation never fail:
/// they find x (at a position the bounded deque can hold) or report it missing.
#[test]
fn dq24_index_while_mutating() {
    with_watchdog(|| {
        const MAX: usize = 16;
        let d = Deque::with_maxlen(MAX);
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            let (d, done) = (&d, &done);
            s.spawn(move || {
                for i in 0..40_000u32 {
                    let x = i % 32;
                    match i % 7 {
                        0..=2 => {
                            let _ = d.append(x);
                        }
                        3 => {
                            let _ = d.pop_left();
                        }
                        4 => d.rotate(i as isize % 5 - 2),
                        5 => {
                            let _ = d.insert((i % 9) as isize - 4, x);
                        }
                        _ => {
                            let _ = d.remove(&x);
                        }
                    }
                    if i % 1000 == 999 {
                        d.clear();
                    }
                }
                done.store(true, Ordering::Release);
            });
            for _ in 0..2 {
                s.spawn(move || {
                    while !done.load(Ordering::Acquire) {
                        for x in 0..33u32 {
                            if let Some(i) = d.index(&x) {
                                assert!(i < MAX);
                            }
                            if let Some(i) = d.index_range(&x, -8, isize::MAX) {
                                assert!(i < MAX);
                            }
                            assert!(d.count(&x) <= MAX);
                            let _ = d.contains(&x);
                        }
                        assert_eq!(d.index(&32), None, "32 is never added");
                        assert!(d.len() <= MAX);
                    }
                });
            }
        });
        assert!(d.len() <= MAX);
    });
}

/// DQ-23, DQ-24 stress: 4 producers append and 4 consumers `pop_left` 100,000 items in all;
/// nothing is lost or duplicated, and each consumer sees each producer's items in order.
#[test]
fn dq24_stress_four_producers_four_consumers() {
    with_watchdog(|| {
        const PRODUCERS: u32 = 4;
        const PER_PRODUCER: u32 = 25_000;
        const TOTAL: u32 = PRODUCERS * PER_PRODUCER;
        let d = Deque::new();
        let producers_done = AtomicUsize::new(0);
        let got: Vec<Vec<u32>> = thread::scope(|s| {
            let (d, producers_done) = (&d, &producers_done);
            for p in 0..PRODUCERS {
                s.spawn(move || {
                    for i in 0..PER_PRODUCER {
                        d.append(p * PER_PRODUCER + i);
                    }
                    producers_done.fetch_add(1, Ordering::Release);
                });
            }
            let consumers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(move || {
                        let mut got = Vec::new();
                        loop {
                            if let Some(x) = d.pop_left() {
                                got.push(x);
                            } else if producers_done.load(Ordering::Acquire) == PRODUCERS as usize
                                && d.is_empty()
                            {
                                break got;
                            } else {
                                thread::yield_now();
                            }
                        }
                    })
                })
                .collect();
            consumers.into_iter().map(|c| c.join().unwrap()).collect()
        });
        for mine in &got {
            for p in 0..PRODUCERS {
                let from_p: Vec<u32> = mine
                    .iter()
                    .copied()
                    .filter(|x| x / PER_PRODUCER == p)
                    .collect();
                assert!(from_p.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
            }
        }
        let mut all: Vec<u32> = got.concat();
        assert_eq!(all.len(), TOTAL as usize, "lost or duplicated items");
        all.sort_unstable();
        assert_eq!(all, (0..TOTAL).collect::<Vec<_>>());
        let distinct: HashSet<u32> = all.into_iter().collect();
        assert_eq!(distinct.len(), TOTAL as usize);
        assert!(d.is_empty());
    });
}

/// DQ-5: Debug shows the items like Python's repr (DQ-25's repr, loosely), with `maxlen=n`
/// when bounded.
#[test]
fn dq5_debug_like_repr() {
    let d: Deque<i32> = (1..=3).collect();
    assert_eq!(format!("{d:?}"), "deque([1, 2, 3])");
    assert_eq!(format!("{:?}", Deque::<u8>::new()), "deque([])");
    let d = Deque::with_maxlen(3);
    d.extend(["a", "b"]);
    assert_eq!(format!("{d:?}"), r#"deque(["a", "b"], maxlen=3)"#);
    let d = Deque::with_maxlen(2);
    d.extend(0..10);
    assert_eq!(format!("{d:?}"), "deque([8, 9], maxlen=2)");
}

// ---------------------------------------------------------------------------------------------
// Model test: single-threaded, a Deque behaves like Python's deque, modelled on a VecDeque.

#[derive(Clone, Debug)]
enum Op {
    Append(u8),
    AppendLeft(u8),
    Pop,
    PopLeft,
    Extend(Vec<u8>),
    ExtendLeft(Vec<u8>),
    Insert(isize, u8),
    Rotate(isize),
    Remove(u8),
    Set(isize, u8),
    RemoveAt(isize),
    Clear,
    Reverse,
    Get(isize),
    Count(u8),
    Index(u8),
    IndexRange(u8, isize, isize),
    Contains(u8),
    TakeAll,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let value = 0u8..6;
    let index = -10isize..10;
    let rotation = prop_oneof![4 => -12isize..12, 1 => any::<isize>()];
    prop_oneof![
        6 => value.clone().prop_map(Op::Append),
        4 => value.clone().prop_map(Op::AppendLeft),
        2 => Just(Op::Pop),
        2 => Just(Op::PopLeft),
        2 => prop::collection::vec(value.clone(), 0..6).prop_map(Op::Extend),
        2 => prop::collection::vec(value.clone(), 0..6).prop_map(Op::ExtendLeft),
        3 => (index.clone(), value.clone()).prop_map(|(i, x)| Op::Insert(i, x)),
        3 => rotation.prop_map(Op::Rotate),
        2 => value.clone().prop_map(Op::Remove),
        2 => (index.clone(), value.clone()).prop_map(|(i, x)| Op::Set(i, x)),
        2 => index.clone().prop_map(Op::RemoveAt),
        1 => Just(Op::Clear),
        1 => Just(Op::Reverse),
        1 => index.clone().prop_map(Op::Get),
        1 => value.clone().prop_map(Op::Count),
        1 => value.clone().prop_map(Op::Index),
        2 => (value.clone(), index.clone(), index).prop_map(|(x, a, b)| Op::IndexRange(x, a, b)),
        1 => value.prop_map(Op::Contains),
        1 => Just(Op::TakeAll),
    ]
}

/// Python's deque written out step by step on a `VecDeque`.
struct Model {
    items: VecDeque<u8>,
    maxlen: Option<usize>,
}

impl Model {
    /// `append`: at the bound, the leftmost item goes (with maxlen 0, the new one does).
    fn append(&mut self, x: u8) -> Option<u8> {
        if self.maxlen == Some(0) {
            return Some(x);
        }
        self.items.push_back(x);
        if self.maxlen.is_some_and(|max| self.items.len() > max) {
            self.items.pop_front()
        } else {
            None
        }
    }

    fn append_left(&mut self, x: u8) -> Option<u8> {
        if self.maxlen == Some(0) {
            return Some(x);
        }
        self.items.push_front(x);
        if self.maxlen.is_some_and(|max| self.items.len() > max) {
            self.items.pop_back()
        } else {
            None
        }
    }

    fn insert(&mut self, i: isize, x: u8) -> Result<(), u8> {
        if self.maxlen.is_some_and(|max| self.items.len() >= max) {
            return Err(x);
        }
        let mut list: Vec<u8> = self.items.iter().copied().collect();
        py_list_insert(&mut list, i, x);
        self.items = list.into();
        Ok(())
    }

    /// Python's `rotate`: `n % len` with Python's floored modulo, then single right steps.
    fn rotate(&mut self, n: isize) {
        let len = self.items.len() as isize;
        if len == 0 {
            return;
        }
        let mut steps = n % len;
        if steps < 0 {
            steps += len;
        }
        for _ in 0..steps {
            let x = self.items.pop_back().unwrap();
            self.items.push_front(x);
        }
    }
}

proptest! {
    // No regression files: this crate's tests/ is shared with other suites.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// DQ-1, DQ-5, DQ-6, DQ-7, DQ-9, DQ-10, DQ-11, DQ-12, DQ-13, DQ-14, DQ-15, DQ-16, DQ-17:
    /// single-threaded, a (bounded or not) Deque gives the same contents and results as
    /// Python's deque modelled on a VecDeque.
    #[test]
    fn prop_deque_matches_model(
        maxlen in prop::option::of(0usize..5),
        ops in prop::collection::vec(op_strategy(), 0..64),
    ) {
        let d = match maxlen {
            Some(max) => Deque::with_maxlen(max),
            None => Deque::new(),
        };
        let mut m = Model { items: VecDeque::new(), maxlen };
        for op in ops {
            match op.clone() {
                Op::Append(x) => prop_assert_eq!(d.append(x), m.append(x), "{:?}", op),
                Op::AppendLeft(x) => prop_assert_eq!(d.append_left(x), m.append_left(x), "{:?}", op),
                Op::Pop => prop_assert_eq!(d.pop(), m.items.pop_back()),
                Op::PopLeft => prop_assert_eq!(d.pop_left(), m.items.pop_front()),
                Op::Extend(xs) => {
                    d.extend(xs.iter().copied());
                    for x in xs {
                        m.append(x);
                    }
                }
                Op::ExtendLeft(xs) => {
                    d.extend_left(xs.iter().copied());
                    for x in xs {
                        m.append_left(x);
                    }
                }
                Op::Insert(i, x) => {
                    let got = d.insert(i, x).map_err(|e| e.into_inner());
                    prop_assert_eq!(got, m.insert(i, x), "{:?}", op);
                }
                Op::Rotate(n) => {
                    d.rotate(n);
                    m.rotate(n);
                }
                Op::Remove(x) => {
                    let want = m.items.iter().position(|y| *y == x).map(|at| m.items.remove(at).unwrap());
                    prop_assert_eq!(d.remove(&x).ok(), want, "{:?}", op);
                }
                Op::Set(i, x) => {
                    let want = match py_element_index(m.items.len(), i) {
                        Some(at) => Ok(std::mem::replace(&mut m.items[at], x)),
                        None => Err(x),
                    };
                    prop_assert_eq!(d.set(i, x).map_err(|e| e.into_inner()), want, "{:?}", op);
                }
                Op::RemoveAt(i) => {
                    let want = py_element_index(m.items.len(), i).map(|at| m.items.remove(at).unwrap());
                    prop_assert_eq!(d.remove_at(i).ok(), want, "{:?}", op);
                }
                Op::Clear => {
                    d.clear();
                    m.items.clear();
                }
                Op::Reverse => {
                    d.reverse();
                    m.items = m.items.iter().rev().copied().collect();
                }
                Op::Get(i) => {
                    let want = py_element_index(m.items.len(), i).map(|at| m.items[at]);
                    prop_assert_eq!(d.get(i), want, "{:?}", op);
                }
                Op::Count(x) => prop_assert_eq!(d.count(&x), m.items.iter().filter(|y| **y == x).count()),
                Op::Index(x) => prop_assert_eq!(d.index(&x), m.items.iter().position(|y| *y == x)),
                Op::IndexRange(x, start, stop) => {
                    let list: Vec<u8> = m.items.iter().copied().collect();
                    prop_assert_eq!(d.index_range(&x, start, stop), py_list_index(&list, &x, start, stop), "{:?}", op);
                }
                Op::Contains(x) => prop_assert_eq!(d.contains(&x), m.items.contains(&x)),
                Op::TakeAll => prop_assert_eq!(d.take_all(), Vec::from(std::mem::take(&mut m.items))),
            }
            prop_assert_eq!(&d.to_vec(), &m.items.iter().copied().collect::<Vec<_>>(), "after {:?}", op);
            prop_assert_eq!(d.len(), m.items.len());
            prop_assert_eq!(d.is_empty(), m.items.is_empty());
            prop_assert_eq!(d.maxlen(), maxlen);
            prop_assert!(d == m.items.iter().copied().collect::<Deque<u8>>());
        }
    }
}

/// Issue 14, item 5 (DQ-5): a `with_items` closure that grows a bounded deque and then
/// panics still leaves at most `maxlen` items: the bound is restored however the closure
/// ends, not only when it returns.
#[test]
fn issue14_with_items_panicking_closure_keeps_the_bound() {
    let d = Deque::with_maxlen(3);
    d.extend([1, 2]);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        d.with_items(|items| {
            items.extend([3, 4, 5, 6]);
            panic!("user closure fails after growing the deque");
        })
    }));
    assert!(caught.is_err());
    assert!(d.len() <= 3, "len {} > maxlen 3", d.len());
    assert_eq!(d.to_vec(), [4, 5, 6]);
}

/// An item whose equality asks the deque it lives in for its length: user code that runs
/// while `contains` holds the deque's lock and calls back into the same deque.
struct AsksLen {
    id: u32,
    deque: Arc<std::sync::OnceLock<Arc<Deque<AsksLen>>>>,
}

impl PartialEq for AsksLen {
    fn eq(&self, other: &Self) -> bool {
        if let Some(d) = self.deque.get() {
            let _ = d.len();
        }
        self.id == other.id
    }
}

/// Issue 14, item 6: `dq.contains(&x)` where `x == y` calls `dq.len()` re-enters the deque
/// from user code run under its lock. It used to deadlock; it must panic with a clear
/// `RuntimeError` instead, and leave the deque usable.
#[test]
fn issue14_contains_reentered_from_eq_panics_instead_of_deadlocking() {
    with_watchdog(|| {
        let cell = Arc::new(std::sync::OnceLock::new());
        let d = Arc::new(Deque::new());
        d.append(AsksLen {
            id: 1,
            deque: Arc::clone(&cell),
        });
        let _ = cell.set(Arc::clone(&d));
        let probe = AsksLen {
            id: 2,
            deque: Arc::clone(&cell),
        };
        let caught = panic::catch_unwind(AssertUnwindSafe(|| d.contains(&probe)));
        let payload = caught.expect_err("re-entry must panic");
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        assert!(
            text.starts_with("RuntimeError: Deque re-entered from user code"),
            "{text}"
        );
        assert_eq!(d.len(), 1);
        // Break the Arc cycle so the items are dropped.
        d.clear();
    });
}
