//! Integration tests for `Set` (SEMANTICS.md §12: SET-*).
//!
//! Not tested here, on purpose:
//! * SET-10 (changing the size during iteration raises RuntimeError): there is no live
//!   iterator; `to_vec` and `to_hash_set` are snapshots, so changing the set while looping over
//!   one is allowed (checked under SET-2).
//! * SET-12 is Python-only: hashability is a `Hash + Eq` bound checked at compile time, there is
//!   no frozenset, pickling or weakref, and no rich-compare fallback; a `Hash` that uses the
//!   same set is documented as forbidden.
//! * SET-7/SET-8's "several arguments": each method takes one other set, so
//!   `a.union(b, c)` is `a.union(&b).union(&c)` (tested that way), and `intersection()` with
//!   no argument is `clone()`.
//! * SET-9's `<` (proper subset): `Set` has no `PartialOrd`; the proper subset is
//!   `a.is_subset(&b) && a != b`, tested that way. Comparing a set with a non-set (Python's
//!   `s == 'abc'` is False) does not compile.
//!
//! Where Python raises KeyError for `pop` on an empty set (SET-5), `pop` returns `None`.

mod common;

use common::*;
use gilfree::{KeyError, Set};
use proptest::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::thread;

static_assertions::assert_impl_all!(
    Set<u8>: Send,
    Sync,
    std::fmt::Debug,
    Default,
    Clone,
    FromIterator<u8>,
    IntoIterator
);

/// A set of the characters of `s` (Python's `set('abc')`).
fn set(s: &str) -> Set<char> {
    s.chars().collect()
}

/// The same, as a `std` set (the reference).
fn std_set(s: &str) -> HashSet<char> {
    s.chars().collect()
}

/// The set's items, sorted (for comparing with a literal).
fn sorted<T: Clone + Ord, S>(s: &Set<T, S>) -> Vec<T> {
    let mut items = s.to_vec();
    items.sort();
    items
}

/// The number of items in a `{a, b, c}` Debug string (`set()` when empty, as Python's repr).
fn debug_count(repr: &str) -> usize {
    if repr == "set()" {
        return 0;
    }
    assert!(repr.starts_with('{') && repr.ends_with('}'), "{repr}");
    let inner = &repr[1..repr.len() - 1];
    if inner.is_empty() {
        0
    } else {
        inner.split(", ").count()
    }
}

/// A hasher whose hash of an integer is the integer: the weakest a user could plug in.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0 << 8 | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Identity = BuildHasherDefault<IdentityHasher>;

const WORD: &str = "simsalabim";
const OTHERWORD: &str = "madagascar";
const LETTERS: &str = "abcdefghijklmnopqrstuvwxyz";

/// SET-1: construction removes duplicates; `len` counts distinct items (`test_uniquification`,
/// `test_len`); so does every shard count.
#[test]
fn set1_construction_removes_duplicates() {
    let s = set(WORD);
    assert_eq!(s.len(), std_set(WORD).len());
    assert_eq!(sorted(&s), ['a', 'b', 'i', 'l', 'm', 's']);
    assert_eq!(s.to_hash_set(), std_set(WORD));
    assert!(!s.is_empty());

    let empty: Set<u8> = Set::default();
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    assert!(Set::<u8>::new().is_empty());

    for shards in [0, 1, 2, 3, 16, 100] {
        let s = Set::with_shards(shards);
        s.extend((0..1000).map(|i| i % 300));
        assert_eq!(s.len(), 300, "shards={shards}");
        assert_eq!(s.to_hash_set(), (0..300).collect::<HashSet<_>>());
    }

    // An identity hasher (the hash of a u64 is the number itself) still spreads the items
    // over the shards and finds them again.
    let s: Set<u64, Identity> = Set::with_shards_and_hasher(8, Identity::default());
    s.extend((0..500).chain(0..500).map(|i| i * 64));
    assert_eq!(s.len(), 500);
    assert!((0..500).all(|i| s.contains(&(i * 64))));
    assert!(!s.contains(&1));
    let s: Set<u64, Identity> = Set::with_hasher(Identity::default());
    s.extend([3, 3, 4]);
    assert_eq!(s.len(), 2);

    // Owned iteration yields every distinct item once.
    let s: Set<u32> = (0..100).chain(50..150).collect();
    let mut items: Vec<u32> = s.into_iter().collect();
    items.sort_unstable();
    assert_eq!(items, (0..150).collect::<Vec<_>>());
}

/// SET-2: `add` is idempotent; it reports whether the item was new (`test_add`).
#[test]
fn set2_add_is_idempotent() {
    let s = set(WORD);
    assert!(s.add('Q'));
    assert!(s.contains(&'Q'));
    assert!(!s.add('Q'));
    let mut want = std_set(WORD);
    want.insert('Q');
    assert_eq!(s.to_hash_set(), want);
    assert!(!s.add('s'), "already there");
    assert_eq!(s.len(), want.len());

    // Adding while looping over a snapshot (Python: RuntimeError, SET-10) is allowed.
    let s: Set<u32> = (0..10).collect();
    for x in s.to_vec() {
        assert!(s.add(x + 100));
        assert!(!s.add(x));
    }
    assert_eq!(s.len(), 20);
}

/// SET-3: `remove` of a missing item is a KeyError carrying the key, whatever its shape
/// (`test_remove`, `test_remove_keyerror_unpacking`, `test_remove_keyerror_set`).
#[test]
fn set3_remove_missing_is_key_error_with_the_key() {
    let s = set(WORD);
    assert_eq!(s.remove(&'a'), Ok('a'));
    assert!(!s.contains(&'a'));
    let err = s.remove(&'Q').unwrap_err();
    assert_eq!(err, KeyError('Q'));
    assert_eq!(err.key(), &'Q');
    assert_eq!(err.to_string(), "KeyError: 'Q'");
    assert_eq!(s.remove(&'a'), Err(KeyError('a')), "removed already");
    assert_eq!(s.to_hash_set(), std_set("simslbim"));

    // A tuple key comes back whole (not unpacked).
    let s: Set<(i32, i32, i32)> = Set::new();
    let key = (1, 2, 3);
    let err = s.remove(&key).unwrap_err();
    assert_eq!(err.key(), &key);
    assert_eq!(err.to_string(), "KeyError: (1, 2, 3)");

    // A set key (Python's frozenset) comes back as that set.
    let s: Set<BTreeSet<u8>> = [BTreeSet::from([1])].into_iter().collect();
    let key = BTreeSet::from([1, 2]);
    assert_eq!(s.remove(&key).unwrap_err().0, key);
    assert_eq!(s.remove(&BTreeSet::from([1])), Ok(BTreeSet::from([1])));

    // A borrowed form of the key (`&str` for `String`) comes back owned (`String`), so the
    // error borrows nothing (issue 15).
    let s: Set<String> = ["kept".to_string()].into_iter().collect();
    let err: KeyError<String> = s.remove("ghost").unwrap_err();
    assert_eq!(err.key(), "ghost");
    assert_eq!(s.remove("kept").as_deref(), Ok("kept"));
}

/// SET-4: `discard` of a missing item is a silent no-op; it reports whether it was there
/// (`test_discard`).
#[test]
fn set4_discard_missing_is_a_no_op() {
    let s = set(WORD);
    assert!(s.discard(&'a'));
    assert!(!s.contains(&'a'));
    assert!(!s.discard(&'Q'));
    assert!(!s.discard(&'a'));
    assert_eq!(s.to_hash_set(), std_set("simslbim"));

    let s: Set<String> = ["x".to_string()].into_iter().collect();
    assert!(!s.discard("y"));
    assert_eq!(s.take("x"), Some("x".to_string()));
    assert_eq!(s.take("x"), None);
}

/// SET-5: `pop` removes and returns some item until the set is empty, then fails (Python:
/// KeyError; here `None`) (`test_pop`).
#[test]
fn set5_pop_until_empty() {
    let s: Set<u32> = (0..300).collect();
    let mut popped = HashSet::new();
    for _ in 0..300 {
        let x = s.pop().unwrap();
        assert!(!s.contains(&x));
        assert!(popped.insert(x), "{x} popped twice");
    }
    assert_eq!(popped, (0..300).collect());
    assert_eq!(s.pop(), None);
    assert!(s.is_empty());
    assert_eq!(Set::<u8>::new().pop(), None);
    let s = Set::with_shards(1);
    s.add('x');
    assert_eq!(s.pop(), Some('x'));
    assert_eq!(s.pop(), None);
}

/// SET-6: `clear` leaves an empty set (idempotent, reusable); `clone` (Python's `copy()`) is
/// equal, shallow and independent (`test_clear`, `test_copy`).
#[test]
fn set6_clear_and_independent_copy() {
    let s = set(WORD);
    s.clear();
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
    assert_eq!(s.to_vec(), Vec::<char>::new());
    s.clear();
    assert!(s.is_empty());
    assert!(s.add('z'));
    assert_eq!(s.len(), 1);

    let s = set(WORD);
    let dup = s.clone();
    assert!(s == dup);
    assert_eq!(dup.to_hash_set(), std_set(WORD));
    s.add('Q');
    assert!(!dup.contains(&'Q'));
    dup.clear();
    assert_eq!(s.len(), std_set(WORD).len() + 1);

    // Shallow: the copy holds the same objects.
    let s: Set<Arc<str>> = ["a", "b"].into_iter().map(Arc::from).collect();
    let dup = s.clone();
    for x in s.to_vec() {
        let y = dup.to_vec().into_iter().find(|y| *y == x).unwrap();
        assert!(Arc::ptr_eq(&x, &y));
    }
}

/// SET-7: `union`, `intersection`, `difference` and `symmetric_difference` return new sets
/// and leave both operands unchanged; several arguments chain (`test_union`,
/// `test_intersection`, `test_difference`, `test_symmetric_difference`).
#[test]
fn set7_algebra_returns_new_sets() {
    let s = set(WORD);
    let o = set(OTHERWORD);
    let (ws, wo) = (std_set(WORD), std_set(OTHERWORD));

    let u = s.union(&o);
    let i = s.intersection(&o);
    let d = s.difference(&o);
    let x = s.symmetric_difference(&o);
    for c in LETTERS.chars() {
        assert_eq!(
            u.contains(&c),
            ws.contains(&c) || wo.contains(&c),
            "{c} in union"
        );
        assert_eq!(
            i.contains(&c),
            ws.contains(&c) && wo.contains(&c),
            "{c} in &"
        );
        assert_eq!(
            d.contains(&c),
            ws.contains(&c) && !wo.contains(&c),
            "{c} in -"
        );
        assert_eq!(
            x.contains(&c),
            ws.contains(&c) != wo.contains(&c),
            "{c} in ^"
        );
    }
    assert_eq!(s.to_hash_set(), ws, "receiver unchanged");
    assert_eq!(o.to_hash_set(), wo, "argument unchanged");
    // The results are sets of their own.
    u.clear();
    assert_eq!(s.len(), ws.len());

    assert_eq!(
        set("abcba").union(&set("efgfe")).to_hash_set(),
        std_set("abcefg")
    );
    assert_eq!(
        set("abcba").intersection(&set("cbcf")).to_hash_set(),
        std_set("bc")
    );
    assert_eq!(
        set("abcba").difference(&set("cbcf")).to_hash_set(),
        std_set("a")
    );
    assert_eq!(
        set("abcba").symmetric_difference(&set("cdc")).to_hash_set(),
        std_set("abd")
    );

    // Several arguments (issue #6573): x.union({1}, x, {2}).
    let x: Set<i32> = Set::new();
    let one: Set<i32> = [1].into_iter().collect();
    let two: Set<i32> = [2].into_iter().collect();
    assert_eq!(sorted(&x.union(&one).union(&x).union(&two)), [1, 2]);
    let abc = set("abc");
    assert_eq!(
        abc.intersection(&set("cbsef"))
            .intersection(&set("cbdef"))
            .to_hash_set(),
        std_set("bc")
    );
    assert_eq!(
        abc.difference(&set("aef"))
            .difference(&set("cdf"))
            .to_hash_set(),
        std_set("b")
    );
    // intersection() with no argument: a copy.
    let copy = abc.clone();
    assert!(copy == abc);
    copy.add('z');
    assert!(!abc.contains(&'z'));

    // With the empty set.
    let empty: Set<char> = Set::new();
    assert!(s.union(&empty) == s);
    assert!(s.intersection(&empty).is_empty());
    assert!(s.difference(&empty) == s);
    assert!(empty.difference(&s).is_empty());
    assert!(s.symmetric_difference(&empty) == s);
}

/// SET-7, SET-9: every two-set operation with `other` being the set itself works (one set,
/// locked by each snapshot in turn: no self-deadlock) and gives Python's result.
#[test]
fn set7_algebra_with_itself() {
    with_watchdog(|| {
        let s = set(WORD);
        let want = std_set(WORD);
        assert_eq!(s.union(&s).to_hash_set(), want);
        assert_eq!(s.intersection(&s).to_hash_set(), want);
        assert!(s.difference(&s).is_empty());
        assert!(s.symmetric_difference(&s).is_empty());
        assert!(s.is_subset(&s));
        assert!(s.is_superset(&s));
        assert!(!s.is_disjoint(&s));
        #[allow(clippy::eq_op)]
        let equal = s == s;
        assert!(equal);
        assert_eq!(s.to_hash_set(), want, "unchanged");

        let empty: Set<char> = Set::new();
        assert!(empty.is_disjoint(&empty), "set().isdisjoint(set()) is True");
        assert!(empty.is_subset(&empty));
    });
}

/// SET-8: the update methods change the set in place and chain for several arguments; applied
/// to the set itself, `t |= t` and `t &= t` keep it, `t -= t` and `t ^= t` empty it
/// (`test_update`, `test_*_update`, `test_inplace_on_self`).
#[test]
fn set8_in_place_updates() {
    with_watchdog(|| {
        let (ws, wo) = (std_set(WORD), std_set(OTHERWORD));

        let s = set(WORD);
        s.update(&set(OTHERWORD));
        assert_eq!(s.to_hash_set(), &ws | &wo);
        let s = set(WORD);
        s.intersection_update(&set(OTHERWORD));
        assert_eq!(s.to_hash_set(), &ws & &wo);
        let s = set(WORD);
        s.difference_update(&set(OTHERWORD));
        assert_eq!(s.to_hash_set(), &ws - &wo);
        let s = set(WORD);
        s.symmetric_difference_update(&set(OTHERWORD));
        assert_eq!(s.to_hash_set(), &ws ^ &wo);

        // Several arguments, one after the other.
        let s = set("abcba");
        s.update(&set("efgfe"));
        s.update(&set("ccb"));
        assert_eq!(s.to_hash_set(), std_set("abcefg"));
        let s = set("abcba");
        s.intersection_update(&set("cbsef"));
        s.intersection_update(&set("cbdef"));
        assert_eq!(s.to_hash_set(), std_set("bc"));
        let s = set("abcba");
        s.difference_update(&set("aef"));
        s.difference_update(&set("cdf"));
        assert_eq!(s.to_hash_set(), std_set("b"));
        let s = set("abcba");
        s.symmetric_difference_update(&set("cdc"));
        s.symmetric_difference_update(&set("a"));
        assert_eq!(s.to_hash_set(), std_set("bd"));

        // In place on itself.
        let base = set(WORD);
        let t = base.clone();
        t.update(&t);
        assert!(t == base, "t |= t keeps t");
        t.intersection_update(&t);
        assert!(t == base, "t &= t keeps t");
        t.difference_update(&t);
        assert!(t.is_empty(), "t -= t empties t");
        let t = base.clone();
        t.symmetric_difference_update(&t);
        assert!(t.is_empty(), "t ^= t empties t");
        let t = base.clone();
        t.extend(t.to_vec());
        assert!(t == base);
    });
}

/// SET-9: `is_subset`, `is_superset`, `is_disjoint` and the proper subset (`is_subset` and
/// not equal) work; equality ignores order and shard count (`test_sub_and_super`,
/// `test_isdisjoint`, `test_equality`).
#[test]
fn set9_subset_superset_disjoint_equality() {
    let (p, q, r) = (set("ab"), set("abcde"), set("def"));
    let proper_subset = |a: &Set<char>, b: &Set<char>| a.is_subset(b) && a != b;
    assert!(proper_subset(&p, &q), "p < q");
    assert!(p.is_subset(&q), "p <= q");
    assert!(q.is_subset(&q), "q <= q");
    assert!(!proper_subset(&q, &q), "not q < q");
    assert!(proper_subset(&p, &q) && q.is_superset(&p), "q > p");
    assert!(q.is_superset(&p), "q >= p");
    assert!(!proper_subset(&q, &r));
    assert!(!q.is_subset(&r));
    assert!(!proper_subset(&r, &q));
    assert!(!q.is_superset(&r));
    assert!(set("a").is_subset(&set("abc")));
    assert!(set("abc").is_superset(&set("a")));
    assert!(!set("a").is_subset(&set("cbs")));
    assert!(!set("cbs").is_superset(&set("a")));

    let args = [
        "", "a", "ab", "abc", "ababac", "cdc", "cc", "efgfe", "ccb", "ef",
    ];
    for l in args {
        for r in args {
            let (sl, sr) = (set(l), set(r));
            let (hl, hr) = (std_set(l), std_set(r));
            assert_eq!(
                sl.is_disjoint(&sr),
                hl.is_disjoint(&hr),
                "{l:?} isdisjoint {r:?}"
            );
            assert_eq!(sl.is_subset(&sr), hl.is_subset(&hr), "{l:?} <= {r:?}");
            assert_eq!(sl.is_superset(&sr), hl.is_superset(&hr), "{l:?} >= {r:?}");
            assert_eq!(sl == sr, hl == hr, "{l:?} == {r:?}");
        }
    }

    // Equality ignores insertion order and the layout (shard count, hasher seed).
    let a: Set<u32> = Set::with_shards(1);
    a.extend(0..100);
    let b: Set<u32> = Set::with_shards(16);
    b.extend((0..100).rev());
    assert!(a == b);
    assert!(b == a);
    assert!(set(WORD) == set("mislabs"));
    assert!(set(WORD) != set(OTHERWORD));
    b.discard(&0);
    assert!(a != b);
}

/// SET-11: a snapshot (`to_hash_set`, `to_vec`, `len`, Debug) taken while another thread runs
/// `clear()` on the full set shows all N items or none (`TestSetRepr.test_repr_clear`).
///
/// The refill (`extend`) is not atomic, so it runs in a phase of its own: in each round the
/// readers start snapshotting the full set, and only once all of them are at it does the
/// clearer call `clear()`; each reader goes on until it sees the set empty, and the next refill
/// waits for all of them. So every snapshot races only with `clear`.
#[test]
fn set11_snapshot_during_clear_is_full_or_empty() {
    with_watchdog(|| {
        const N: usize = 200;
        const ROUNDS: usize = 500;
        const READERS: usize = 4;
        const YIELD_EVERY: usize = 2;
        let s: Set<u32> = Set::with_shards(64);
        let round = AtomicUsize::new(0);
        let ready = AtomicUsize::new(0);
        let finished = AtomicUsize::new(0);
        let spin_until = |what: &AtomicUsize, n: usize| {
            while what.load(Ordering::Acquire) < n {
                thread::yield_now();
            }
        };
        let (partial, full_seen) = thread::scope(|sc| {
            let (s, round, ready, finished) = (&s, &round, &ready, &finished);
            sc.spawn(move || {
                for r in 1..=ROUNDS {
                    s.extend(0..N as u32);
                    assert_eq!(s.len(), N);
                    round.store(r, Ordering::Release);
                    spin_until(ready, r * READERS);
                    s.clear();
                    spin_until(finished, r * READERS);
                }
            });
            let readers: Vec<_> = (0..READERS)
                .map(|kind| {
                    sc.spawn(move || {
                        // A failure is recorded, not raised, so the other threads never wait
                        // for a reader that is gone.
                        let mut partial = None;
                        let mut full_seen = 0usize;
                        for r in 1..=ROUNDS {
                            spin_until(round, r);
                            ready.fetch_add(1, Ordering::AcqRel);
                            loop {
                                let n = match kind {
                                    0 => s.to_hash_set().len(),
                                    1 => s.to_vec().len(),
                                    2 => s.len(),
                                    _ => debug_count(&format!("{s:?}")),
                                };
                                if n == N {
                                    full_seen += 1;
                                    if full_seen % YIELD_EVERY == 0 {
                                        // Let the clearer run on a machine with few cores.
                                        thread::yield_now();
                                    }
                                } else {
                                    if n != 0 {
                                        partial.get_or_insert(n);
                                    }
                                    break;
                                }
                            }
                            finished.fetch_add(1, Ordering::AcqRel);
                        }
                        (partial, full_seen)
                    })
                })
                .collect();
            let results: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
            (
                results.iter().find_map(|(p, _)| *p),
                results.iter().map(|(_, f)| f).sum::<usize>(),
            )
        });
        assert_eq!(partial, None, "a snapshot saw part of the {N} items");
        assert!(full_seen > 0, "no snapshot ever saw the full set");
        assert!(s.is_empty());
    });
}

/// SET-11: `contains` running alongside `add`, `discard`, `clear` and `&=`
/// (`intersection_update`) never fails, and never finds an item nobody added
/// (`RaceTestBase.test_contains_mutate`).
#[test]
fn set11_contains_while_mutating() {
    with_watchdog(|| {
        let s: Set<u32> = Set::new();
        let keep: Set<u32> = (0..64).filter(|x| x % 3 != 0).collect();
        let done = AtomicBool::new(false);
        thread::scope(|sc| {
            let (s, keep, done) = (&s, &keep, &done);
            sc.spawn(move || {
                for i in 0..20_000u32 {
                    match i % 10 {
                        0..=4 => {
                            s.add(i % 64);
                        }
                        5..=7 => {
                            s.discard(&(i * 7 % 64));
                        }
                        8 => s.intersection_update(keep),
                        _ if i % 100 == 99 => s.clear(),
                        _ => s.retain(|x| x % 2 == 0),
                    }
                }
                done.store(true, Ordering::Release);
            });
            for _ in 0..2 {
                sc.spawn(move || {
                    while !done.load(Ordering::Acquire) {
                        for x in 0..64 {
                            let _ = s.contains(&x);
                        }
                        assert!(!s.contains(&1000), "1000 is never added");
                        assert!(s.len() <= 64);
                    }
                });
            }
        });
        assert!(s.len() <= 64);
        assert!(s.to_vec().iter().all(|x| *x < 64));
    });
}

/// SET-11: many threads adding distinct items lose nothing; threads adding the same items
/// see each one as new exactly once (`test_free_threading/test_list.py`'s pattern).
#[test]
fn set11_concurrent_adds_lose_nothing() {
    with_watchdog(|| {
        const THREADS: u32 = 8;
        const EACH: u32 = 5_000;
        let s: Set<u32> = Set::new();
        thread::scope(|sc| {
            for t in 0..THREADS {
                let s = &s;
                sc.spawn(move || {
                    for i in 0..EACH {
                        assert!(s.add(t * EACH + i), "distinct item reported as present");
                    }
                });
            }
        });
        assert_eq!(s.len(), (THREADS * EACH) as usize);
        assert_eq!(s.to_hash_set(), (0..THREADS * EACH).collect::<HashSet<_>>());

        // The same 10,000 items from 4 threads: each item is new to exactly one add.
        let s: Set<u32> = Set::new();
        let new_items: u32 = thread::scope(|sc| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let s = &s;
                    sc.spawn(move || {
                        // Each thread in its own order, so they meet on every item.
                        (0..10_000u32)
                            .map(|i| (i * (2 * t + 1) + t * 1000) % 10_000)
                            .filter(|x| s.add(*x))
                            .count() as u32
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(new_items, 10_000);
        assert_eq!(s.len(), 10_000);
    });
}

/// SET-2, SET-4, SET-11 stress: 4 threads add and 4 threads discard 100,000 distinct items;
/// every `add` is new, every item is discarded exactly once (one `discard` returns true for
/// it), and the set ends empty.
#[test]
fn set11_stress_four_adders_four_discarders() {
    with_watchdog(|| {
        const TOTAL: usize = 100_000;
        const ADDERS: usize = 4;
        let s: Set<usize> = Set::new();
        let discarded: Vec<AtomicU8> = (0..TOTAL).map(|_| AtomicU8::new(0)).collect();
        thread::scope(|sc| {
            let (s, discarded) = (&s, &discarded);
            for a in 0..ADDERS {
                sc.spawn(move || {
                    for x in (a..TOTAL).step_by(ADDERS) {
                        assert!(s.add(x), "{x} added twice");
                    }
                });
            }
            // Every discarder walks all items (from its own starting point), waiting for each
            // to appear unless another discarder has already taken it.
            for d in 0..4 {
                sc.spawn(move || {
                    let start = d * 997;
                    for k in 0..TOTAL {
                        let x = (start + k) % TOTAL;
                        while discarded[x].load(Ordering::Acquire) == 0 {
                            if s.discard(&x) {
                                discarded[x].fetch_add(1, Ordering::AcqRel);
                                break;
                            }
                            thread::yield_now();
                        }
                    }
                });
            }
        });
        let counts: Vec<u8> = discarded
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        assert!(
            counts.iter().all(|&c| c == 1),
            "items discarded other than once: {:?}",
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c != 1)
                .take(10)
                .collect::<Vec<_>>()
        );
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
    });
}

/// SET-1: Debug shows the items like Python's set repr (SET-12's repr, loosely), `{1, 2}`.
#[test]
fn set1_debug_like_repr() {
    let s: Set<u8> = [7].into_iter().collect();
    assert_eq!(format!("{s:?}"), "{7}");
    let s: Set<&str> = ["a"].into_iter().collect();
    assert_eq!(format!("{s:?}"), r#"{"a"}"#);
    let s: Set<u8> = (1..=3).collect();
    let repr = format!("{s:?}");
    assert_eq!(debug_count(&repr), 3);
    let mut items: Vec<&str> = repr[1..repr.len() - 1].split(", ").collect();
    items.sort_unstable();
    assert_eq!(items, ["1", "2", "3"]);
    // Python's repr of an empty set is `set()` (`{}` is an empty dict).
    assert_eq!(format!("{:?}", Set::<u8>::new()), "set()");
}

// ---------------------------------------------------------------------------------------------
// Model test: single-threaded, a Set behaves like std's HashSet.

#[derive(Clone, Debug)]
enum Op {
    Add(u8),
    Discard(u8),
    Remove(u8),
    Take(u8),
    Pop,
    Contains(u8),
    Len,
    Clear,
    /// Keeps the items with `x % m != r`.
    Retain(u8, u8),
    Extend(Vec<u8>),
    Union(Vec<u8>),
    Intersection(Vec<u8>),
    Difference(Vec<u8>),
    SymmetricDifference(Vec<u8>),
    Update(Vec<u8>),
    IntersectionUpdate(Vec<u8>),
    DifferenceUpdate(Vec<u8>),
    SymmetricDifferenceUpdate(Vec<u8>),
    IsSubset(Vec<u8>),
    IsSuperset(Vec<u8>),
    IsDisjoint(Vec<u8>),
    Equal(Vec<u8>),
    /// One of the two-set operations with `other` being the set itself.
    WithItself(u8),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let value = 0u8..24;
    let other = prop::collection::vec(0u8..24, 0..12);
    prop_oneof![
        8 => value.clone().prop_map(Op::Add),
        3 => value.clone().prop_map(Op::Discard),
        2 => value.clone().prop_map(Op::Remove),
        1 => value.clone().prop_map(Op::Take),
        2 => Just(Op::Pop),
        2 => value.prop_map(Op::Contains),
        1 => Just(Op::Len),
        1 => Just(Op::Clear),
        1 => (1u8..4, 0u8..3).prop_map(|(m, r)| Op::Retain(m, r)),
        1 => other.clone().prop_map(Op::Extend),
        1 => other.clone().prop_map(Op::Union),
        1 => other.clone().prop_map(Op::Intersection),
        1 => other.clone().prop_map(Op::Difference),
        1 => other.clone().prop_map(Op::SymmetricDifference),
        1 => other.clone().prop_map(Op::Update),
        1 => other.clone().prop_map(Op::IntersectionUpdate),
        1 => other.clone().prop_map(Op::DifferenceUpdate),
        1 => other.clone().prop_map(Op::SymmetricDifferenceUpdate),
        1 => other.clone().prop_map(Op::IsSubset),
        1 => other.clone().prop_map(Op::IsSuperset),
        1 => other.clone().prop_map(Op::IsDisjoint),
        1 => other.prop_map(Op::Equal),
        2 => (0u8..11).prop_map(Op::WithItself),
    ]
}

proptest! {
    // No regression files: this crate's tests/ is shared with other suites.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// SET-1 … SET-9: single-threaded, a Set (of any shard count) gives the same contents and
    /// results as std's HashSet, the set algebra included.
    #[test]
    fn prop_set_matches_hash_set(
        shards in 1usize..9,
        ops in prop::collection::vec(op_strategy(), 0..48),
    ) {
        let s: Set<u8> = Set::with_shards(shards);
        let mut m: HashSet<u8> = HashSet::new();
        for op in ops {
            let before = m.clone();
            let other_of = |v: &[u8]| -> (Set<u8>, HashSet<u8>) {
                (v.iter().copied().collect(), v.iter().copied().collect())
            };
            match op.clone() {
                Op::Add(x) => prop_assert_eq!(s.add(x), m.insert(x), "{:?}", op),
                Op::Discard(x) => prop_assert_eq!(s.discard(&x), m.remove(&x), "{:?}", op),
                Op::Remove(x) => {
                    let want = if m.remove(&x) { Ok(x) } else { Err(x) };
                    prop_assert_eq!(s.remove(&x).map_err(|e| *e.key()), want, "{:?}", op);
                }
                Op::Take(x) => prop_assert_eq!(s.take(&x), m.take(&x), "{:?}", op),
                Op::Pop => match s.pop() {
                    Some(x) => prop_assert!(m.remove(&x), "popped {} not in the set", x),
                    None => prop_assert!(m.is_empty(), "pop gave nothing from {:?}", m),
                },
                Op::Contains(x) => prop_assert_eq!(s.contains(&x), m.contains(&x)),
                Op::Len => prop_assert_eq!(s.len(), m.len()),
                Op::Clear => {
                    s.clear();
                    m.clear();
                }
                Op::Retain(k, r) => {
                    s.retain(|x| x % k != r);
                    m.retain(|x| x % k != r);
                }
                Op::Extend(v) => {
                    s.extend(v.iter().copied());
                    m.extend(v);
                }
                Op::Union(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s.union(&o).to_hash_set(), &m | &mo, "{:?}", op);
                    prop_assert_eq!(o.to_hash_set(), mo);
                }
                Op::Intersection(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s.intersection(&o).to_hash_set(), &m & &mo, "{:?}", op);
                }
                Op::Difference(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s.difference(&o).to_hash_set(), &m - &mo, "{:?}", op);
                }
                Op::SymmetricDifference(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s.symmetric_difference(&o).to_hash_set(), &m ^ &mo, "{:?}", op);
                }
                Op::Update(v) => {
                    let (o, mo) = other_of(&v);
                    s.update(&o);
                    m = &m | &mo;
                }
                Op::IntersectionUpdate(v) => {
                    let (o, mo) = other_of(&v);
                    s.intersection_update(&o);
                    m = &m & &mo;
                }
                Op::DifferenceUpdate(v) => {
                    let (o, mo) = other_of(&v);
                    s.difference_update(&o);
                    m = &m - &mo;
                }
                Op::SymmetricDifferenceUpdate(v) => {
                    let (o, mo) = other_of(&v);
                    s.symmetric_difference_update(&o);
                    m = &m ^ &mo;
                    prop_assert_eq!(o.to_hash_set(), mo, "argument unchanged");
                }
                Op::IsSubset(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s.is_subset(&o), m.is_subset(&mo), "{:?}", op);
                }
                Op::IsSuperset(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s.is_superset(&o), m.is_superset(&mo), "{:?}", op);
                }
                Op::IsDisjoint(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s.is_disjoint(&o), m.is_disjoint(&mo), "{:?}", op);
                }
                Op::Equal(v) => {
                    let (o, mo) = other_of(&v);
                    prop_assert_eq!(s == o, m == mo, "{:?}", op);
                }
                Op::WithItself(k) => match k {
                    0 => prop_assert_eq!(s.union(&s).to_hash_set(), m.clone()),
                    1 => prop_assert_eq!(s.intersection(&s).to_hash_set(), m.clone()),
                    2 => prop_assert!(s.difference(&s).is_empty()),
                    3 => prop_assert!(s.symmetric_difference(&s).is_empty()),
                    4 => s.update(&s),
                    5 => s.intersection_update(&s),
                    6 => {
                        s.difference_update(&s);
                        m.clear();
                    }
                    7 => {
                        s.symmetric_difference_update(&s);
                        m.clear();
                    }
                    8 => prop_assert!(s.is_subset(&s) && s.is_superset(&s)),
                    9 => prop_assert_eq!(s.is_disjoint(&s), m.is_empty()),
                    _ => {
                        let copy = s.clone();
                        prop_assert!(copy == s);
                        copy.add(200);
                        prop_assert!(!s.contains(&200), "clone is independent");
                    }
                },
            }
            // Non-mutating operations leave the set as it was.
            if matches!(op, Op::Contains(_) | Op::Len | Op::Union(_) | Op::Intersection(_)
                | Op::Difference(_) | Op::SymmetricDifference(_) | Op::IsSubset(_)
                | Op::IsSuperset(_) | Op::IsDisjoint(_) | Op::Equal(_))
            {
                prop_assert_eq!(&m, &before);
            }
            prop_assert_eq!(s.to_hash_set(), m.clone(), "after {:?}", op);
            prop_assert_eq!(s.len(), m.len());
            prop_assert_eq!(s.is_empty(), m.is_empty());
            let mut items = s.to_vec();
            items.sort_unstable();
            let mut want: Vec<u8> = m.iter().copied().collect();
            want.sort_unstable();
            prop_assert_eq!(items, want);
        }
    }
}
