//! gilfree's thread-safe `Deque` and `Set` beside their peers (a `VecDeque` or `HashSet`
//! behind a parking_lot or std lock, dashmap's `DashSet`), each comparison in one criterion
//! group so that the ratios come from the same run on the same (shared, noisy) machine.
//! `benches/ratios.py` turns criterion's output into the table of ratios.
//!
//! Multi-threaded benchmarks use `iter_custom`: the threads are spawned outside the timed
//! region, start together on a `std::sync::Barrier`, and the clock stops once all have been
//! joined. The reported time is per operation summed over all threads (deque: per
//! append + pop_left pair; set: per contains, add or discard).

mod common;

use common::sets::{KEYS, PREFILL, SharedSet};
use common::*;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use dashmap::DashSet;
use std::collections::{HashSet, VecDeque};
use std::hint::black_box;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Deque

/// A FIFO of `u64` behind some lock: the operations the deque benchmarks use.
trait Fifo: Sync {
    fn append(&self, v: u64);
    fn pop_left(&self) -> Option<u64>;
}

impl Fifo for gilfree::Deque<u64> {
    #[inline]
    fn append(&self, v: u64) {
        gilfree::Deque::append(self, v);
    }
    #[inline]
    fn pop_left(&self) -> Option<u64> {
        gilfree::Deque::pop_left(self)
    }
}

impl Fifo for parking_lot::Mutex<VecDeque<u64>> {
    #[inline]
    fn append(&self, v: u64) {
        self.lock().push_back(v)
    }
    #[inline]
    fn pop_left(&self) -> Option<u64> {
        self.lock().pop_front()
    }
}

impl Fifo for std::sync::Mutex<VecDeque<u64>> {
    #[inline]
    fn append(&self, v: u64) {
        self.lock().unwrap().push_back(v)
    }
    #[inline]
    fn pop_left(&self) -> Option<u64> {
        self.lock().unwrap().pop_front()
    }
}

fn deque_uncontended(c: &mut Criterion) {
    let mut group = quick(c, "deque_uncontended", 30);

    fn pair<D: Fifo>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, dq: D) {
        group.bench_function(name, |b| {
            b.iter(|| {
                let dq = black_box(&dq);
                dq.append(black_box(1));
                black_box(dq.pop_left().unwrap())
            })
        });
    }
    pair(&mut group, "gilfree_Deque", gilfree::Deque::new());
    pair(
        &mut group,
        "parking_lot_Mutex_VecDeque",
        parking_lot::Mutex::new(VecDeque::new()),
    );
    pair(
        &mut group,
        "std_Mutex_VecDeque",
        std::sync::Mutex::new(VecDeque::new()),
    );

    // A full bounded deque: every append evicts the leftmost item (steady state).
    const MAXLEN: usize = 1024;
    let dq = gilfree::Deque::with_maxlen(MAXLEN);
    dq.extend(0..MAXLEN as u64);
    group.bench_function("gilfree_Deque_maxlen1024_append", |b| {
        b.iter(|| black_box(black_box(&dq).append(black_box(1)).unwrap()))
    });
    let pl = parking_lot::Mutex::new((0..MAXLEN as u64).collect::<VecDeque<_>>());
    group.bench_function("parking_lot_Mutex_VecDeque_maxlen1024_append", |b| {
        b.iter(|| {
            let mut items = black_box(&pl).lock();
            let evicted = if items.len() == MAXLEN {
                items.pop_front()
            } else {
                None
            };
            items.push_back(black_box(1));
            drop(items);
            black_box(evicted.unwrap())
        })
    });
    group.finish();
}

/// 2 threads, each doing append + pop_left pairs on one shared deque: `iters` pairs in all.
/// Every pop_left follows its thread's own append, so it always finds an item.
fn deque_contended(c: &mut Criterion) {
    const THREADS: usize = 2;
    let mut group = quick(c, &format!("deque_contended_{THREADS}threads"), 10);

    fn pairs<D: Fifo>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, make: impl Fn() -> D) {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let dq = make();
                let elapsed = timed_threads(THREADS, |i| {
                    let dq = black_box(&dq);
                    for v in 0..share(iters, THREADS, i) {
                        dq.append(v);
                        black_box(dq.pop_left().expect("a pop_left found the deque empty"));
                    }
                });
                assert_eq!(dq.pop_left(), None, "appends and pops do not match");
                elapsed
            })
        });
    }
    pairs(&mut group, "gilfree_Deque", gilfree::Deque::new);
    pairs(&mut group, "parking_lot_Mutex_VecDeque", || {
        parking_lot::Mutex::new(VecDeque::new())
    });
    pairs(&mut group, "std_Mutex_VecDeque", || {
        std::sync::Mutex::new(VecDeque::new())
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Set

/// Every set under test: its id and a constructor of an empty one.
fn each_set(mut f: impl FnMut(&str, &dyn Fn() -> Box<dyn SharedSetDyn>)) {
    f("gilfree_Set", &|| Box::new(gilfree::Set::<u64>::new()));
    f("parking_lot_Mutex_HashSet", &|| {
        Box::new(parking_lot::Mutex::new(HashSet::<u64>::new()))
    });
    f("std_Mutex_HashSet", &|| {
        Box::new(std::sync::Mutex::new(HashSet::<u64>::new()))
    });
    f("parking_lot_RwLock_HashSet", &|| {
        Box::new(parking_lot::RwLock::new(HashSet::<u64>::new()))
    });
    f("dashmap_DashSet", &|| Box::new(DashSet::<u64>::new()));
}

/// Object-safe wrapper that runs the whole loop inside the concrete type, so the per-operation
/// calls are static (and inlined); only the entry into a run is dynamic.
trait SharedSetDyn: Sync {
    fn prefill(&self);
    fn read_heavy(&self, ops: u64, seed: u64) -> u64;
    fn contains_loop(&self, iters: u64, from: u64) -> Duration;
    fn add_discard_loop(&self, iters: u64, from: u64) -> Duration;
}

impl<S: SharedSet> SharedSetDyn for S {
    fn prefill(&self) {
        for k in (0..KEYS).step_by(2).take(PREFILL as usize) {
            self.add(k);
        }
    }

    fn read_heavy(&self, ops: u64, seed: u64) -> u64 {
        sets::read_heavy(self, ops, seed)
    }

    /// `iters` contains on present keys, cycling over the prefilled ones.
    fn contains_loop(&self, iters: u64, from: u64) -> Duration {
        let start = Instant::now();
        let mut k = from;
        for _ in 0..iters {
            assert!(black_box(self.contains(black_box(k))));
            k = (k + 2) % KEYS;
        }
        start.elapsed()
    }

    /// `iters` add + discard pairs on keys the set does not hold (it ends as it started).
    fn add_discard_loop(&self, iters: u64, from: u64) -> Duration {
        let start = Instant::now();
        let mut k = from;
        for _ in 0..iters {
            let key = black_box(KEYS + k);
            assert!(self.add(key));
            assert!(self.discard(key));
            k = (k + 1) % KEYS;
        }
        start.elapsed()
    }
}

/// N threads on one prefilled set, each running its own key stream: `iters` operations in
/// all, time per operation. The set is built once per benchmark and reused: the mix keeps it
/// near half full.
fn set_read_heavy(c: &mut Criterion) {
    for threads in [2, 4] {
        let mut group = quick(c, &format!("set_read_heavy_{threads}threads"), 10);
        each_set(|name, make| {
            let set = make();
            set.prefill();
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    timed_threads(threads, |i| {
                        let seed = 0x9E37_79B9_7F4A_7C15
                            ^ (i as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
                        black_box(set.read_heavy(share(iters, threads, i), seed));
                    })
                })
            });
        });
        group.finish();
    }
}

/// One thread: contains (on present keys) and add + discard pairs (on absent keys), on a set
/// prefilled with `PREFILL` keys. The std `Mutex<HashSet>` and `RwLock` variants are left to
/// the threaded groups.
fn set_uncontended(c: &mut Criterion) {
    let mut group = quick(c, "set_uncontended", 30);
    each_set(|name, make| {
        if name.starts_with("std_") || name.contains("RwLock") {
            return;
        }
        let set = make();
        set.prefill();
        let mut from = 0;
        group.bench_function(BenchmarkId::new(name, "contains"), |b| {
            b.iter_custom(|iters| {
                from = (from + 2 * iters) % KEYS;
                set.contains_loop(iters, from)
            })
        });
        let mut from = 0;
        group.bench_function(BenchmarkId::new(name, "add_discard"), |b| {
            b.iter_custom(|iters| {
                from = (from + iters) % KEYS;
                set.add_discard_loop(iters, from)
            })
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    deque_uncontended,
    deque_contended,
    set_read_heavy,
    set_uncontended
);
criterion_main!(benches);
