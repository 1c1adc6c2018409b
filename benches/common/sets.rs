//! The set benchmarks' shared part (`benches/collections.rs`, `benches/contention.rs`): the
//! operations every set under test offers, and the read-heavy mix they run.

// Each bench includes this file and uses only part of it.
#![allow(dead_code)]

use super::xorshift;
use dashmap::DashSet;
use std::collections::HashSet;

/// Keys are drawn from `0..KEYS`; a set starts with `PREFILL` of them (the even ones). With
/// as many adds as discards over uniform keys, half full is the steady state.
pub(crate) const KEYS: u64 = 20_000;
pub(crate) const PREFILL: u64 = 10_000;

/// A set of `u64` safe to share: the operations the set benchmarks use.
pub(crate) trait SharedSet: Sync {
    fn contains(&self, k: u64) -> bool;
    fn add(&self, k: u64) -> bool;
    fn discard(&self, k: u64) -> bool;
    fn size(&self) -> usize;
}

impl SharedSet for gilfree::Set<u64> {
    #[inline]
    fn contains(&self, k: u64) -> bool {
        gilfree::Set::contains(self, &k)
    }
    #[inline]
    fn add(&self, k: u64) -> bool {
        gilfree::Set::add(self, k)
    }
    #[inline]
    fn discard(&self, k: u64) -> bool {
        gilfree::Set::discard(self, &k)
    }
    fn size(&self) -> usize {
        self.len()
    }
}

impl SharedSet for DashSet<u64> {
    #[inline]
    fn contains(&self, k: u64) -> bool {
        DashSet::contains(self, &k)
    }
    #[inline]
    fn add(&self, k: u64) -> bool {
        self.insert(k)
    }
    #[inline]
    fn discard(&self, k: u64) -> bool {
        self.remove(&k).is_some()
    }
    fn size(&self) -> usize {
        self.len()
    }
}

impl SharedSet for parking_lot::Mutex<HashSet<u64>> {
    #[inline]
    fn contains(&self, k: u64) -> bool {
        self.lock().contains(&k)
    }
    #[inline]
    fn add(&self, k: u64) -> bool {
        self.lock().insert(k)
    }
    #[inline]
    fn discard(&self, k: u64) -> bool {
        self.lock().remove(&k)
    }
    fn size(&self) -> usize {
        self.lock().len()
    }
}

impl SharedSet for parking_lot::RwLock<HashSet<u64>> {
    #[inline]
    fn contains(&self, k: u64) -> bool {
        self.read().contains(&k)
    }
    #[inline]
    fn add(&self, k: u64) -> bool {
        self.write().insert(k)
    }
    #[inline]
    fn discard(&self, k: u64) -> bool {
        self.write().remove(&k)
    }
    fn size(&self) -> usize {
        self.read().len()
    }
}

impl SharedSet for std::sync::Mutex<HashSet<u64>> {
    #[inline]
    fn contains(&self, k: u64) -> bool {
        self.lock().unwrap().contains(&k)
    }
    #[inline]
    fn add(&self, k: u64) -> bool {
        self.lock().unwrap().insert(k)
    }
    #[inline]
    fn discard(&self, k: u64) -> bool {
        self.lock().unwrap().remove(&k)
    }
    fn size(&self) -> usize {
        self.lock().unwrap().len()
    }
}

/// `ops` operations: 90% contains, 5% add, 5% discard, keys uniform over `0..KEYS`. Returns
/// the number of `true` answers (kept, so that nothing is optimised away).
pub(crate) fn read_heavy<S: SharedSet + ?Sized>(set: &S, ops: u64, seed: u64) -> u64 {
    let mut state = seed;
    let mut hits = 0;
    for _ in 0..ops {
        let r = xorshift(&mut state);
        let key = r % KEYS;
        let hit = match (r >> 40) % 100 {
            0..90 => set.contains(key),
            90..95 => set.add(key),
            _ => set.discard(key),
        };
        hits += u64::from(hit);
    }
    hits
}
