//! gilfree's `ThreadPoolExecutor` beside its peers (a rayon `ThreadPool`, the `threadpool`
//! crate, and a `std::thread::spawn` per task), each comparison in one criterion group so
//! that the ratios come from the same run on the same (shared, noisy) machine.
//! `benches/ratios.py` turns criterion's output into the table of ratios.
//!
//! Every pool is built once, before any group runs, with the same number of workers (the CPU
//! count, or `FUTURES_WORKERS`), and warmed up: every worker has started and run tasks before
//! the first timed run. The peers hand a task's value back the way their users would: gilfree
//! through the task's `Future`, rayon and threadpool through a crossbeam channel (one per
//! pool, reused; each task moves a clone of the sender), `std::thread` through `join`.
//!
//! * `pool_empty_tasks`, `pool_1us_tasks`, `pool_10us_tasks`: a batch of `BATCH` (10,000)
//!   tasks is submitted, then every result is awaited; a task returns its index after spinning
//!   ~0, ~1 or ~10 µs (a busy loop calibrated at start-up, never a sleep). The sum of the
//!   results is checked. `std_thread_spawn` runs batches of `SPAWN_BATCH` (1,000): spawn all,
//!   then join all. The reported time is per task (`iter_custom`: whole batches are run, and a
//!   run of more tasks than criterion asked for is scaled back to its count).
//! * `submit_result_latency`: one trivial task submitted and its result awaited, one at a
//!   time (time per round trip).
//! * `map_100k`: `x * 2` over `0..100_000`, collected in input order into a `Vec` (time per
//!   whole map): gilfree's `map` (one future per item), rayon's parallel iterator installed on
//!   the same pool (which splits the range into a few big chunks: the bound, not a like-for-like
//!   peer), and threadpool with one `execute` per item, a channel and a reorder by index.

// Only `quick` is used here: the threaded helpers suit benches whose threads are their own.
#[allow(dead_code)]
mod common;

use common::{quick, rounds_per_us, spin};
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main, measurement::WallTime,
};
use crossbeam_channel::{Receiver, Sender};
use gilfree::ThreadPoolExecutor;
use rayon::prelude::*;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Tasks per batch in the pool throughput groups.
const BATCH: u64 = 10_000;

/// Tasks per batch for `std::thread::spawn` (an OS thread per task is slow).
const SPAWN_BATCH: u64 = 1_000;

/// Items per `map_100k` run.
const MAP_ITEMS: u64 = 100_000;

// ---------------------------------------------------------------------------------------------
// The work: a calibrated busy loop

/// One task: spins `rounds` (none for an empty task), then returns its index.
#[inline]
fn task(rounds: u64, i: u64) -> u64 {
    if rounds != 0 {
        black_box(spin(rounds));
    }
    black_box(i)
}

/// What a batch of `n` tasks returns in all: 0 + 1 + … + (n - 1).
fn batch_sum(n: u64) -> u64 {
    n * (n - 1) / 2
}

// ---------------------------------------------------------------------------------------------
// The executors under test, behind one small trait so that every peer runs the same loops

/// An executor of `task`s.
trait Exec {
    /// Runs `task(rounds, i)` for every `i` in `0..n`: submits them all, then waits for every
    /// result; returns their sum.
    fn run_batch(&self, n: u64, rounds: u64) -> u64;
    /// Submits one trivial task and waits for its value.
    fn round_trip(&self) -> u64;
    /// `x * 2` for every `x` in `0..n`, in input order.
    fn map_double(&self, n: u64) -> Vec<u64>;
}

impl Exec for ThreadPoolExecutor {
    fn run_batch(&self, n: u64, rounds: u64) -> u64 {
        let futures: Vec<_> = (0..n)
            .map(|i| self.submit(move || task(rounds, i)))
            .collect();
        futures.iter().map(|f| *f.result().unwrap()).sum()
    }

    fn round_trip(&self) -> u64 {
        *self.submit(|| black_box(1_u64)).result().unwrap()
    }

    fn map_double(&self, n: u64) -> Vec<u64> {
        self.map(|x: u64| x * 2, 0..n)
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// A rayon pool and the channel its tasks send their values back on.
struct Rayon {
    pool: rayon::ThreadPool,
    tx: Sender<u64>,
    rx: Receiver<u64>,
}

impl Exec for Rayon {
    fn run_batch(&self, n: u64, rounds: u64) -> u64 {
        for i in 0..n {
            let tx = self.tx.clone();
            self.pool.spawn(move || tx.send(task(rounds, i)).unwrap());
        }
        self.rx.iter().take(n as usize).sum()
    }

    fn round_trip(&self) -> u64 {
        let tx = self.tx.clone();
        self.pool.spawn(move || tx.send(black_box(1)).unwrap());
        self.rx.recv().unwrap()
    }

    fn map_double(&self, n: u64) -> Vec<u64> {
        self.pool
            .install(|| (0..n).into_par_iter().map(|x| x * 2).collect())
    }
}

/// A `threadpool::ThreadPool` and the channels its tasks send their values back on (the
/// second one carries `(index, value)` pairs, for `map`).
struct ThreadPool {
    pool: threadpool::ThreadPool,
    tx: Sender<u64>,
    rx: Receiver<u64>,
    pairs_tx: Sender<(u64, u64)>,
    pairs_rx: Receiver<(u64, u64)>,
}

impl Exec for ThreadPool {
    fn run_batch(&self, n: u64, rounds: u64) -> u64 {
        for i in 0..n {
            let tx = self.tx.clone();
            self.pool.execute(move || tx.send(task(rounds, i)).unwrap());
        }
        self.rx.iter().take(n as usize).sum()
    }

    fn round_trip(&self) -> u64 {
        let tx = self.tx.clone();
        self.pool.execute(move || tx.send(black_box(1)).unwrap());
        self.rx.recv().unwrap()
    }

    fn map_double(&self, n: u64) -> Vec<u64> {
        for i in 0..n {
            let tx = self.pairs_tx.clone();
            self.pool.execute(move || tx.send((i, i * 2)).unwrap());
        }
        let mut out = vec![0; n as usize];
        for (i, v) in self.pairs_rx.iter().take(n as usize) {
            out[i as usize] = v;
        }
        out
    }
}

/// An OS thread per task: spawn them all, then join them all.
fn spawn_batch(n: u64, rounds: u64) -> u64 {
    let threads: Vec<_> = (0..n)
        .map(|i| std::thread::spawn(move || task(rounds, i)))
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

/// Every pool, built once with the same number of workers and warmed up.
struct Pools {
    workers: usize,
    gilfree: ThreadPoolExecutor,
    rayon: Rayon,
    threadpool: ThreadPool,
}

/// The worker count: `FUTURES_WORKERS`, or the CPU count.
fn workers() -> usize {
    match std::env::var("FUTURES_WORKERS") {
        Ok(n) => n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .expect("FUTURES_WORKERS: a positive number of workers"),
        Err(_) => std::thread::available_parallelism().map_or(2, |n| n.get()),
    }
}

impl Pools {
    fn new() -> Self {
        let workers = workers();

        // gilfree starts its workers lazily, one per submit while none is idle: tasks that
        // wait for each other start them all.
        let gilfree = ThreadPoolExecutor::new(workers);
        let gate = std::sync::Arc::new(std::sync::Barrier::new(workers));
        let started: Vec<_> = (0..workers)
            .map(|_| {
                let gate = std::sync::Arc::clone(&gate);
                gilfree.submit(move || {
                    gate.wait();
                })
            })
            .collect();
        for fut in started {
            fut.result().unwrap();
        }
        assert_eq!(gilfree.worker_count(), workers);

        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .build()
            .unwrap();
        pool.broadcast(|_| ()); // every worker has started
        let (tx, rx) = crossbeam_channel::unbounded();
        let rayon = Rayon { pool, tx, rx };

        let (tx, rx) = crossbeam_channel::unbounded();
        let (pairs_tx, pairs_rx) = crossbeam_channel::unbounded();
        let threadpool = ThreadPool {
            pool: threadpool::ThreadPool::new(workers), // starts its workers at once
            tx,
            rx,
            pairs_tx,
            pairs_rx,
        };

        let pools = Pools {
            workers,
            gilfree,
            rayon,
            threadpool,
        };
        // Warm up, and check every peer once.
        for exec in pools.all() {
            assert_eq!(exec.run_batch(BATCH, 0), batch_sum(BATCH));
            assert_eq!(exec.round_trip(), 1);
            let doubled = exec.map_double(MAP_ITEMS);
            assert!(doubled.iter().copied().eq((0..MAP_ITEMS).map(|x| x * 2)));
        }
        eprintln!("futures bench: {workers} workers per pool");
        pools
    }

    fn all(&self) -> [&dyn Exec; 3] {
        [&self.gilfree, &self.rayon, &self.threadpool]
    }

    /// The pools and their benchmark ids in the throughput groups.
    fn named(&self) -> [(&'static str, &dyn Exec); 3] {
        [
            ("gilfree_ThreadPoolExecutor", &self.gilfree),
            ("rayon_spawn_channel", &self.rayon),
            ("threadpool_execute_channel", &self.threadpool),
        ]
    }
}

fn pools() -> &'static Pools {
    static POOLS: OnceLock<Pools> = OnceLock::new();
    POOLS.get_or_init(Pools::new)
}

// ---------------------------------------------------------------------------------------------
// Throughput: batches of tasks

/// The time of `iters` tasks, measured on whole batches of `batch` (at least one).
fn per_task(iters: u64, batch: u64, mut run_batch: impl FnMut()) -> Duration {
    let batches = iters.div_ceil(batch).max(1);
    let start = Instant::now();
    for _ in 0..batches {
        run_batch();
    }
    let elapsed = start.elapsed();
    elapsed.mul_f64(iters as f64 / (batches * batch) as f64)
}

/// One throughput group: every pool and a thread per task, tasks spinning `micros` µs each.
fn throughput(c: &mut Criterion, name: &str, micros: u64) {
    let pools = pools();
    let rounds = micros * rounds_per_us();
    let mut group: BenchmarkGroup<'_, WallTime> = quick(c, name, 10);
    for (id, exec) in pools.named() {
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                per_task(iters, BATCH, || {
                    assert_eq!(exec.run_batch(BATCH, rounds), batch_sum(BATCH));
                })
            })
        });
    }
    group.bench_function("std_thread_spawn", |b| {
        b.iter_custom(|iters| {
            per_task(iters, SPAWN_BATCH, || {
                assert_eq!(spawn_batch(SPAWN_BATCH, rounds), batch_sum(SPAWN_BATCH));
            })
        })
    });
    group.finish();
}

fn pool_empty_tasks(c: &mut Criterion) {
    throughput(c, "pool_empty_tasks", 0);
}

fn pool_1us_tasks(c: &mut Criterion) {
    throughput(c, "pool_1us_tasks", 1);
}

fn pool_10us_tasks(c: &mut Criterion) {
    throughput(c, "pool_10us_tasks", 10);
}

// ---------------------------------------------------------------------------------------------
// Latency: one task at a time

fn submit_result_latency(c: &mut Criterion) {
    let pools = pools();
    let mut group = quick(c, "submit_result_latency", 20);
    let ids = [
        "gilfree_submit_result",
        "rayon_spawn_recv",
        "threadpool_execute_recv",
    ];
    for (id, exec) in ids.into_iter().zip(pools.all()) {
        group.bench_function(id, |b| b.iter(|| exec.round_trip()));
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// map over 100k items

fn map_100k(c: &mut Criterion) {
    let pools = pools();
    let mut group = quick(c, "map_100k", 10);
    // Milliseconds per run: the same number of runs per sample, not criterion's 1, 2, … 10.
    group.sampling_mode(SamplingMode::Flat);
    let ids = [
        "gilfree_map",
        "rayon_par_iter",
        "threadpool_execute_reorder",
    ];
    for (id, exec) in ids.into_iter().zip(pools.all()) {
        group.bench_function(id, |b| b.iter(|| black_box(exec.map_double(MAP_ITEMS))));
    }
    group.finish();
    eprintln!("futures bench: {} workers per pool", pools.workers);
    eprintln!("futures bench: {} spin rounds ~ 1 us", rounds_per_us());
}

criterion_group!(
    benches,
    pool_empty_tasks,
    pool_1us_tasks,
    pool_10us_tasks,
    submit_result_latency,
    map_100k
);
criterion_main!(benches);
