//! Models of `Deque` and `Set`: maxlen eviction and add/discard racing.

use gilfree::__loom::collections::{Deque, Set};
use gilfree::__loom::model;
use loom::sync::Arc;
use loom::thread;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

/// A set with two shards and a fixed hasher: loom replays every execution, so the shard an
/// item lands in must be the same each time (`RandomState` reseeds per set).
fn two_shard_set<T>() -> Set<T, BuildHasherDefault<DefaultHasher>> {
    Set::with_shards_and_hasher(2, BuildHasherDefault::default())
}

/// DQ-5: two threads append to a `Deque(maxlen=1)` that already holds an item. Each append
/// evicts exactly one item and returns it: the evicted items plus what is left are exactly
/// the three items, none lost, none twice.
#[test]
fn maxlen_eviction_under_two_appenders() {
    model(|| {
        let dq = Arc::new(Deque::with_maxlen(1));
        assert_eq!(dq.append(0), None);
        let other = {
            let dq = Arc::clone(&dq);
            thread::spawn(move || dq.append_left(1))
        };
        let mine = dq.append(2);
        let theirs = other.join().unwrap();
        let mut all: Vec<i32> = [mine, theirs].into_iter().flatten().collect();
        all.extend(dq.to_vec());
        all.sort();
        assert_eq!(all, [0, 1, 2]);
        assert_eq!(dq.len(), 1);
    });
}

/// SET-2, SET-4, SET-11: two threads add the same value while a third discards it. Exactly
/// one `add` reports it new unless the discard removed it in between (then both may); the
/// final membership agrees with the history: present iff the last successful change was an
/// add.
#[test]
fn add_and_discard_race() {
    model(|| {
        let set = Arc::new(two_shard_set());
        let adders: Vec<_> = (0..2)
            .map(|_| {
                let set = Arc::clone(&set);
                thread::spawn(move || set.add(42))
            })
            .collect();
        let discarded = set.discard(&42);
        let added = adders
            .into_iter()
            .map(|a| a.join().unwrap())
            .filter(|&new| new)
            .count();
        // Every successful add inserted it, the successful discard (if any) removed it once.
        let present = usize::from(set.contains(&42));
        assert_eq!(added, present + usize::from(discarded), "added {added}");
        assert_eq!(set.len(), present);
    });
}

/// SET-11: a snapshot (`to_vec`) racing `clear` on a two-shard set sees all items or none,
/// never some: the whole-set operations lock every shard.
#[test]
fn snapshot_racing_clear_is_all_or_nothing() {
    model(|| {
        let set = Arc::new(two_shard_set());
        // Four items: with the fixed hasher they fill both shards, so a clear that let a
        // snapshot in between shards would be seen.
        set.extend(1..=4u32);
        let clearer = {
            let set = Arc::clone(&set);
            thread::spawn(move || set.clear())
        };
        let seen = set.to_vec().len();
        clearer.join().unwrap();
        assert!(seen == 0 || seen == 4, "partial snapshot of {seen}");
        assert!(set.is_empty());
    });
}

/// An item whose `Drop` panics when its id is 1 (unless already unwinding).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Bomb(u32);

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 == 1 && !std::thread::panicking() {
            panic!("Drop failed");
        }
    }
}

/// DQ-16, issue 14 item 6: `clear` drops its items after releasing the lock, so a panicking
/// `Drop` cannot leave it held or half-done. Under loom a panic while the lock is held would
/// poison it and the next `lock` would fail, so this model also checks *where* the drop runs.
/// A concurrent `append` lands wholly before the clear (and is cleared) or after it (and stays).
#[test]
fn clear_with_a_panicking_drop_racing_append() {
    model(|| {
        let dq = Arc::new(Deque::new());
        dq.extend([Bomb(0), Bomb(1)]);
        let appender = {
            let dq = Arc::clone(&dq);
            thread::spawn(move || {
                dq.append(Bomb(2));
            })
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dq.clear()));
        assert!(caught.is_err(), "Bomb(1)'s drop panics");
        appender.join().unwrap();
        let left = dq.take_all();
        assert!(left.is_empty() || left == [Bomb(2)], "{left:?}");
    });
}

/// SET-11, issue 14 item 6: `retain` drops the items it rejects after releasing the shard
/// locks (loom would report a poisoned lock otherwise), and a panicking `Drop` cuts no shard
/// short; a concurrent reader sees each shard before or after, never a broken one.
#[test]
fn retain_with_a_panicking_drop_racing_a_reader() {
    model(|| {
        let set = Arc::new(two_shard_set());
        set.extend((0..4).map(Bomb));
        let reader = {
            let set = Arc::clone(&set);
            thread::spawn(move || set.len())
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            set.retain(|b| b.0 % 2 == 0)
        }));
        assert!(caught.is_err(), "Bomb(1)'s drop panics");
        let seen = reader.join().unwrap();
        assert!((2..=4).contains(&seen), "{seen}");
        assert_eq!(set.len(), 2);
        assert!(set.contains(&Bomb(0)) && set.contains(&Bomb(2)));
    });
}
