//! gilfree's `queue` module beside its peers (crossbeam-channel, flume, std's mpsc and a
//! textbook `Mutex<VecDeque>` + `Condvar` queue), each comparison in one criterion group so
//! that the ratios come from the same run on the same (shared, noisy) machine.
//! `benches/ratios.py` turns criterion's output into the table of ratios.
//!
//! The threaded benchmarks use `iter_custom`: producers and consumers are spawned outside the
//! timed region, start together on a `std::sync::Barrier`, and the clock stops once all have
//! been joined. Producers send exactly `n` messages (`u64`) in all and consumers receive
//! exactly `n`, so nobody is left waiting at the end; the sum of what was received is checked
//! against what was sent. The reported time is per message. Each timed run passes at least
//! `MIN_MESSAGES` (100k) messages, so that thread start-up and filling the 1024-slot buffer
//! are amortised; a run of more messages than criterion asked for is scaled back to its
//! count.
//!
//! `QUEUE_MPMC=PxC[,PxC...]` (e.g. `QUEUE_MPMC=2x2,1x3`) picks the producer x consumer shapes
//! of `queue_mpmc_bounded1024`; the default is `2x2`.

mod common;

use common::*;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The bound of every bounded queue here.
const CAP: usize = 1024;

/// The fewest messages one timed run passes (see the module docs).
const MIN_MESSAGES: u64 = 100_000;

/// The time of `iters` messages, measured on a run of at least `MIN_MESSAGES`.
fn per_message(iters: u64, run: impl FnOnce(u64) -> Duration) -> Duration {
    let n = iters.max(MIN_MESSAGES);
    let elapsed = run(n);
    if n == iters {
        elapsed
    } else {
        elapsed.mul_f64(iters as f64 / n as f64)
    }
}

// ---------------------------------------------------------------------------------------------
// The channels under test, behind one small trait so that every peer runs the same loops

/// A multi-producer queue of `u64`. `recv_n` receives `n` messages and returns their sum; a
/// receiver that must not be shared overrides it to take its lock once per run.
trait Chan: Sync {
    fn send(&self, v: u64);
    fn recv(&self) -> u64;
    fn recv_n(&self, n: u64) -> u64 {
        let mut sum = 0u64;
        for _ in 0..n {
            sum = sum.wrapping_add(self.recv());
        }
        sum
    }
}

impl Chan for gilfree::Queue<u64> {
    #[inline]
    fn send(&self, v: u64) {
        self.put(v).unwrap()
    }
    #[inline]
    fn recv(&self) -> u64 {
        self.get().unwrap()
    }
}

impl Chan for gilfree::SimpleQueue<u64> {
    #[inline]
    fn send(&self, v: u64) {
        self.put(v)
    }
    #[inline]
    fn recv(&self) -> u64 {
        self.get()
    }
}

/// A channel crate's `Sender<u64>` + `Receiver<u64>` pair as a [`Chan`], made by the crate's
/// `bounded(cap)` or `unbounded()`.
macro_rules! tx_rx_chan {
    ($name:ident, $krate:ident) => {
        struct $name($krate::Sender<u64>, $krate::Receiver<u64>);

        impl $name {
            fn bounded(cap: usize) -> Self {
                let (tx, rx) = $krate::bounded(cap);
                $name(tx, rx)
            }
            fn unbounded() -> Self {
                let (tx, rx) = $krate::unbounded();
                $name(tx, rx)
            }
        }

        impl Chan for $name {
            #[inline]
            fn send(&self, v: u64) {
                self.0.send(v).unwrap()
            }
            #[inline]
            fn recv(&self) -> u64 {
                self.1.recv().unwrap()
            }
        }
    };
}

tx_rx_chan!(Crossbeam, crossbeam_channel);
tx_rx_chan!(Flume, flume);

/// std's `mpsc`: one consumer only. Its `Receiver` is not `Sync`, so it sits in a mutex that
/// the consumer takes once per run (in `recv_n`), not once per message.
struct StdMpsc<S> {
    tx: S,
    rx: std::sync::Mutex<std::sync::mpsc::Receiver<u64>>,
}

impl StdMpsc<std::sync::mpsc::SyncSender<u64>> {
    fn bounded(cap: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(cap);
        StdMpsc {
            tx,
            rx: std::sync::Mutex::new(rx),
        }
    }
}

impl StdMpsc<std::sync::mpsc::Sender<u64>> {
    fn unbounded() -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        StdMpsc {
            tx,
            rx: std::sync::Mutex::new(rx),
        }
    }
}

/// The same [`Chan`] for both of std's senders (`sync_channel`'s and `channel`'s).
macro_rules! std_mpsc_chan {
    ($($sender:ty),*) => {$(
        impl Chan for StdMpsc<$sender> {
            #[inline]
            fn send(&self, v: u64) {
                self.tx.send(v).unwrap()
            }
            fn recv(&self) -> u64 {
                self.rx.lock().unwrap().recv().unwrap()
            }
            fn recv_n(&self, n: u64) -> u64 {
                let rx = self.rx.lock().unwrap();
                let mut sum = 0u64;
                for _ in 0..n {
                    sum = sum.wrapping_add(rx.recv().unwrap());
                }
                sum
            }
        }
    )*};
}

std_mpsc_chan!(
    std::sync::mpsc::SyncSender<u64>,
    std::sync::mpsc::Sender<u64>
);

/// The textbook bounded queue: a parking_lot `Mutex<VecDeque>` with two condition variables.
struct CondvarQueue {
    items: parking_lot::Mutex<VecDeque<u64>>,
    cap: usize,
    not_empty: parking_lot::Condvar,
    not_full: parking_lot::Condvar,
}

impl CondvarQueue {
    fn new(cap: usize) -> Self {
        CondvarQueue {
            items: parking_lot::Mutex::new(VecDeque::with_capacity(cap)),
            cap,
            not_empty: parking_lot::Condvar::new(),
            not_full: parking_lot::Condvar::new(),
        }
    }
}

impl Chan for CondvarQueue {
    #[inline]
    fn send(&self, v: u64) {
        let mut items = self.items.lock();
        while items.len() >= self.cap {
            self.not_full.wait(&mut items);
        }
        items.push_back(v);
        drop(items);
        self.not_empty.notify_one();
    }
    #[inline]
    fn recv(&self) -> u64 {
        let mut items = self.items.lock();
        loop {
            if let Some(v) = items.pop_front() {
                drop(items);
                self.not_full.notify_one();
                return v;
            }
            self.not_empty.wait(&mut items);
        }
    }
}

/// `producers` threads send `n` messages in all through `chan`, `consumers` threads receive
/// exactly `n`; returns the time from the common start until the last thread finished.
fn transfer<C: Chan>(chan: &C, producers: usize, consumers: usize, n: u64) -> Duration {
    let received = AtomicU64::new(0);
    let elapsed = timed_threads(producers + consumers, |i| {
        if i < producers {
            for v in 0..share(n, producers, i) {
                chan.send(black_box(v));
            }
        } else {
            let sum = chan.recv_n(share(n, consumers, i - producers));
            received.fetch_add(sum, Ordering::Relaxed);
        }
    });
    assert_eq!(
        received.into_inner(),
        sent_sum(n, producers),
        "messages lost or duplicated"
    );
    elapsed
}

/// One `iter_custom` body: a fresh channel per run, time per message. The id is `name`, or
/// `name/shape` when a shape is given.
fn bench_chan<C: Chan>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    (name, shape): (&str, Option<&str>),
    producers: usize,
    consumers: usize,
    make: impl Fn() -> C,
) {
    let run = |b: &mut criterion::Bencher<'_>| {
        b.iter_custom(|iters| per_message(iters, |n| transfer(&make(), producers, consumers, n)))
    };
    match shape {
        Some(shape) => group.bench_function(BenchmarkId::new(name, shape), run),
        None => group.bench_function(name, run),
    };
}

// ---------------------------------------------------------------------------------------------
// Bounded(1024), one producer and one consumer

fn spsc_bounded(c: &mut Criterion) {
    let mut group = quick(c, "queue_spsc_bounded1024", 10);
    bench_chan(&mut group, ("gilfree_Queue", None), 1, 1, || {
        gilfree::Queue::<u64>::new(CAP)
    });
    bench_chan(&mut group, ("crossbeam_bounded", None), 1, 1, || {
        Crossbeam::bounded(CAP)
    });
    bench_chan(&mut group, ("flume_bounded", None), 1, 1, || {
        Flume::bounded(CAP)
    });
    bench_chan(&mut group, ("std_mpsc_sync_channel", None), 1, 1, || {
        StdMpsc::bounded(CAP)
    });
    bench_chan(
        &mut group,
        ("parking_lot_Mutex_VecDeque_Condvar", None),
        1,
        1,
        || CondvarQueue::new(CAP),
    );
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Bounded(1024), several producers and consumers (std's mpsc has one consumer: not here)

/// The producer x consumer shapes: `QUEUE_MPMC=2x2,1x3`, default `2x2`.
fn mpmc_shapes() -> Vec<(usize, usize)> {
    let Ok(spec) = std::env::var("QUEUE_MPMC") else {
        return vec![(2, 2)];
    };
    spec.split(',')
        .map(|shape| {
            let (p, c) = shape
                .trim()
                .split_once('x')
                .expect("QUEUE_MPMC: shapes are PxC, e.g. 2x2");
            let (p, c) = (p.parse().unwrap(), c.parse().unwrap());
            assert!(p > 0 && c > 0, "QUEUE_MPMC: at least one of each");
            (p, c)
        })
        .collect()
}

fn mpmc_bounded(c: &mut Criterion) {
    let mut group = quick(c, "queue_mpmc_bounded1024", 10);
    for (p, cons) in mpmc_shapes() {
        let shape = format!("{p}p{cons}c");
        let id = |name| (name, Some(shape.as_str()));
        bench_chan(&mut group, id("gilfree_Queue"), p, cons, || {
            gilfree::Queue::<u64>::new(CAP)
        });
        bench_chan(&mut group, id("crossbeam_bounded"), p, cons, || {
            Crossbeam::bounded(CAP)
        });
        bench_chan(&mut group, id("flume_bounded"), p, cons, || {
            Flume::bounded(CAP)
        });
        bench_chan(
            &mut group,
            id("parking_lot_Mutex_VecDeque_Condvar"),
            p,
            cons,
            || CondvarQueue::new(CAP),
        );
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Unbounded, one producer and one consumer

fn simple_queue_spsc(c: &mut Criterion) {
    let mut group = quick(c, "simple_queue_spsc", 10);
    bench_chan(
        &mut group,
        ("gilfree_SimpleQueue", None),
        1,
        1,
        gilfree::SimpleQueue::<u64>::new,
    );
    bench_chan(
        &mut group,
        ("std_mpsc_channel", None),
        1,
        1,
        StdMpsc::unbounded,
    );
    bench_chan(
        &mut group,
        ("crossbeam_unbounded", None),
        1,
        1,
        Crossbeam::unbounded,
    );
    bench_chan(
        &mut group,
        ("flume_unbounded", None),
        1,
        1,
        Flume::unbounded,
    );
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// One thread, put + get pairs (the queue stays empty between iterations)

fn uncontended(c: &mut Criterion) {
    let mut group = quick(c, "queue_uncontended", 30);

    let q = gilfree::Queue::<u64>::new(CAP);
    group.bench_function("gilfree_Queue", |b| {
        b.iter(|| {
            let q = black_box(&q);
            q.put(black_box(1)).unwrap();
            black_box(q.get().unwrap())
        })
    });
    let q = gilfree::Queue::<u64>::new(0);
    group.bench_function("gilfree_Queue_unbounded", |b| {
        b.iter(|| {
            let q = black_box(&q);
            q.put(black_box(1)).unwrap();
            black_box(q.get().unwrap())
        })
    });
    let q = gilfree::SimpleQueue::<u64>::new();
    group.bench_function("gilfree_SimpleQueue", |b| {
        b.iter(|| {
            let q = black_box(&q);
            q.put(black_box(1));
            black_box(q.get())
        })
    });
    let q = gilfree::LifoQueue::<u64>::new(CAP);
    group.bench_function("gilfree_LifoQueue", |b| {
        b.iter(|| {
            let q = black_box(&q);
            q.put(black_box(1)).unwrap();
            black_box(q.get().unwrap())
        })
    });
    let q = gilfree::PriorityQueue::<u64>::new(CAP);
    group.bench_function("gilfree_PriorityQueue", |b| {
        b.iter(|| {
            let q = black_box(&q);
            q.put(black_box(1)).unwrap();
            black_box(q.get().unwrap())
        })
    });

    let (tx, rx) = crossbeam_channel::bounded::<u64>(CAP);
    group.bench_function("crossbeam_bounded", |b| {
        b.iter(|| {
            black_box(&tx).send(black_box(1)).unwrap();
            black_box(black_box(&rx).recv().unwrap())
        })
    });
    let (tx, rx) = flume::bounded::<u64>(CAP);
    group.bench_function("flume_bounded", |b| {
        b.iter(|| {
            black_box(&tx).send(black_box(1)).unwrap();
            black_box(black_box(&rx).recv().unwrap())
        })
    });
    // The same blocking bounded queue as in the threaded groups.
    let q = CondvarQueue::new(CAP);
    group.bench_function("parking_lot_Mutex_VecDeque_Condvar", |b| {
        b.iter(|| {
            let q = black_box(&q);
            q.send(black_box(1));
            black_box(q.recv())
        })
    });
    // The floor: a bare lock around a VecDeque, nothing to wake.
    let q = parking_lot::Mutex::new(VecDeque::<u64>::with_capacity(CAP));
    group.bench_function("parking_lot_Mutex_VecDeque", |b| {
        b.iter(|| {
            let q = black_box(&q);
            q.lock().push_back(black_box(1));
            black_box(q.lock().pop_front().unwrap())
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    spsc_bounded,
    mpmc_bounded,
    simple_queue_spsc,
    uncontended
);
criterion_main!(benches);
