//! Contention curves: throughput against the number of threads, for gilfree's `Lock`, `Queue`,
//! `Set` and `ThreadPoolExecutor` beside their Rust peers, each thread count in one criterion
//! group so that the ratios come from the same run on the same (shared, noisy) machine.
//! `benches/report.py` draws the curves (`benches/charts/*.svg`) and tabulates them.
//!
//! The thread counts are 1, 2, 4 (quick mode, the default) or 1, 2, 4, 8, 16, 32
//! (`GILFREE_BENCH_MODE=full`); `GILFREE_BENCH_THREADS=1,2,4,8` picks others. Every group sets
//! `Throughput::Elements(1)` per iteration, so criterion reports operations per second.
//!
//! * `contention_lock/<N>threads`: N threads increment one shared counter under the lock
//!   (`gilfree_Lock`, `parking_lot_Mutex`, `std_Mutex`); one iteration is one lock + increment
//!   + unlock, the final count is checked.
//! * `contention_queue/<N>threads` (N ≥ 2): N/2 producers and N - N/2 consumers pass `u64`s
//!   through a queue bounded at 1024 (`gilfree_Queue`, `crossbeam_bounded`, `flume_bounded`);
//!   one iteration is one message, at least `MIN_MESSAGES` per timed run, and the sum received
//!   is checked against the sum sent (nothing lost or duplicated).
//! * `contention_set/<N>threads`: N threads on one set of `u64` prefilled with the 10,000 even
//!   keys of `0..20,000` (as `benches/collections.rs`), 90% contains, 5% add, 5% discard, keys
//!   uniform (`gilfree_Set`, `dashmap_DashSet`, `parking_lot_RwLock_HashSet`,
//!   `std_Mutex_HashSet`); one iteration is one operation.
//! * `contention_pool/<N>threads` (empty tasks) and `contention_pool_1us/<N>threads` (tasks
//!   spinning ~1 µs): one thread submits batches of `BATCH` tasks to a pool of N workers and
//!   awaits every result (`gilfree_ThreadPoolExecutor` through its futures,
//!   `rayon_spawn_channel` and `threadpool_execute_channel` through a crossbeam channel, as in
//!   `benches/futures.rs`); one iteration is one task, the results' sum is checked.
//!
//! The threaded loops use `iter_custom`: the threads are spawned outside the timed region,
//! start together on a `std::sync::Barrier`, and the clock stops once all have been joined.
//!
//! **Syscall probe.** With `GILFREE_SYSCALL_PROBE=<op>` the binary measures nothing: it runs
//! `GILFREE_SYSCALL_OPS` (default 1,000,000) iterations of one no-waiter operation on the main
//! thread, with no other thread alive, and exits, so that `strace -f -c` can count its
//! syscalls (`benches/report.py syscalls` does, against the `none` baseline that builds the
//! same objects and runs no operation). `GILFREE_SYSCALL_PROBE=list` prints the operations.

mod common;

use common::sets::{KEYS, PREFILL, SharedSet, read_heavy};
use common::*;
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use crossbeam_channel::{Receiver, Sender};
use dashmap::DashSet;
use gilfree::ThreadPoolExecutor;
use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The curves' groups: fewer samples and shorter runs than the other benches, since there
/// are many of them (see [`common::group_with`] for full mode).
fn curve_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = group_with(
        c,
        name,
        10,
        Duration::from_millis(300),
        Duration::from_millis(1500),
    );
    group.throughput(Throughput::Elements(1));
    group
}

// ---------------------------------------------------------------------------------------------
// Lock: N threads increment one shared counter

fn lock(c: &mut Criterion) {
    for threads in thread_counts() {
        let mut group = curve_group(c, &format!("contention_lock/{threads}threads"));
        group.bench_function("gilfree_Lock", |b| {
            b.iter_custom(|iters| {
                let counter = gilfree::Lock::with_value(0u64);
                let elapsed = timed_threads(threads, |i| {
                    for _ in 0..share(iters, threads, i) {
                        *black_box(&counter).acquire() += 1;
                    }
                });
                assert_eq!(counter.into_inner(), iters, "lost updates");
                elapsed
            })
        });
        group.bench_function("parking_lot_Mutex", |b| {
            b.iter_custom(|iters| {
                let counter = parking_lot::Mutex::new(0u64);
                let elapsed = timed_threads(threads, |i| {
                    for _ in 0..share(iters, threads, i) {
                        *black_box(&counter).lock() += 1;
                    }
                });
                assert_eq!(counter.into_inner(), iters, "lost updates");
                elapsed
            })
        });
        group.bench_function("std_Mutex", |b| {
            b.iter_custom(|iters| {
                let counter = std::sync::Mutex::new(0u64);
                let elapsed = timed_threads(threads, |i| {
                    for _ in 0..share(iters, threads, i) {
                        *black_box(&counter).lock().unwrap() += 1;
                    }
                });
                assert_eq!(counter.into_inner().unwrap(), iters, "lost updates");
                elapsed
            })
        });
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Queue: N/2 producers, N - N/2 consumers, bounded at 1024

/// The bound of every queue.
const CAP: usize = 1024;

/// The fewest messages one timed run passes: thread start-up and filling the buffer are
/// amortised; a run of more messages than criterion asked for is scaled back to its count.
const MIN_MESSAGES: u64 = 50_000;

/// A multi-producer, multi-consumer queue of `u64`.
trait Chan: Sync {
    fn send(&self, v: u64);
    fn recv(&self) -> u64;
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

impl Chan
    for (
        crossbeam_channel::Sender<u64>,
        crossbeam_channel::Receiver<u64>,
    )
{
    #[inline]
    fn send(&self, v: u64) {
        self.0.send(v).unwrap()
    }
    #[inline]
    fn recv(&self) -> u64 {
        self.1.recv().unwrap()
    }
}

impl Chan for (flume::Sender<u64>, flume::Receiver<u64>) {
    #[inline]
    fn send(&self, v: u64) {
        self.0.send(v).unwrap()
    }
    #[inline]
    fn recv(&self) -> u64 {
        self.1.recv().unwrap()
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
            let mut sum = 0u64;
            for _ in 0..share(n, consumers, i - producers) {
                sum = sum.wrapping_add(chan.recv());
            }
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

fn bench_chan<C: Chan>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    threads: usize,
    make: impl Fn() -> C,
) {
    let (producers, consumers) = (threads / 2, threads - threads / 2);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let n = iters.max(MIN_MESSAGES);
            let elapsed = transfer(&make(), producers, consumers, n);
            elapsed.mul_f64(iters as f64 / n as f64)
        })
    });
}

fn queue(c: &mut Criterion) {
    for threads in thread_counts().into_iter().filter(|&n| n >= 2) {
        let mut group = curve_group(c, &format!("contention_queue/{threads}threads"));
        bench_chan(&mut group, "gilfree_Queue", threads, || {
            gilfree::Queue::<u64>::new(CAP)
        });
        bench_chan(&mut group, "crossbeam_bounded", threads, || {
            crossbeam_channel::bounded::<u64>(CAP)
        });
        bench_chan(&mut group, "flume_bounded", threads, || {
            flume::bounded::<u64>(CAP)
        });
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Set: N threads, 90% contains / 5% add / 5% discard

/// One set per benchmark, prefilled, reused across runs (the mix keeps it near half full);
/// each thread draws its own stream, which goes on where its previous run stopped.
fn bench_set<S: SharedSet>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    threads: usize,
    set: S,
) {
    for k in (0..KEYS).step_by(2).take(PREFILL as usize) {
        set.add(k);
    }
    let seeds: Vec<AtomicU64> = (0..threads)
        .map(|i| {
            AtomicU64::new(
                0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
            )
        })
        .collect();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let elapsed = timed_threads(threads, |i| {
                let seed = seeds[i].load(Ordering::Relaxed);
                black_box(read_heavy(&set, share(iters, threads, i), seed));
                // The next run's stream starts elsewhere (the same one would add and discard
                // the same keys again).
                seeds[i].store(seed.rotate_left(17) ^ iters, Ordering::Relaxed);
            });
            let size = set.size() as u64;
            assert!(
                size <= KEYS,
                "the set holds {size} keys, out of {KEYS} possible"
            );
            elapsed
        })
    });
}

fn set(c: &mut Criterion) {
    for threads in thread_counts() {
        let mut group = curve_group(c, &format!("contention_set/{threads}threads"));
        bench_set(
            &mut group,
            "gilfree_Set",
            threads,
            gilfree::Set::<u64>::new(),
        );
        bench_set(
            &mut group,
            "dashmap_DashSet",
            threads,
            DashSet::<u64>::new(),
        );
        bench_set(
            &mut group,
            "parking_lot_RwLock_HashSet",
            threads,
            parking_lot::RwLock::new(HashSet::<u64>::new()),
        );
        bench_set(
            &mut group,
            "std_Mutex_HashSet",
            threads,
            std::sync::Mutex::new(HashSet::<u64>::new()),
        );
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Pool: one thread submits BATCH tasks to N workers and awaits every result

/// Tasks per batch.
const BATCH: u64 = 10_000;

/// One task: spins `rounds` (none for an empty task), then returns its index.
#[inline]
fn task(rounds: u64, i: u64) -> u64 {
    if rounds != 0 {
        black_box(spin(rounds));
    }
    black_box(i)
}

/// An executor that runs a batch of tasks and returns the sum of their results.
trait Exec {
    fn run_batch(&self, n: u64, rounds: u64) -> u64;
}

impl Exec for ThreadPoolExecutor {
    fn run_batch(&self, n: u64, rounds: u64) -> u64 {
        let futures: Vec<_> = (0..n)
            .map(|i| self.submit(move || task(rounds, i)))
            .collect();
        futures.iter().map(|f| *f.result().unwrap()).sum()
    }
}

/// A rayon pool and the channel its tasks send their values back on.
struct Rayon(rayon::ThreadPool, Sender<u64>, Receiver<u64>);

impl Exec for Rayon {
    fn run_batch(&self, n: u64, rounds: u64) -> u64 {
        for i in 0..n {
            let tx = self.1.clone();
            self.0.spawn(move || tx.send(task(rounds, i)).unwrap());
        }
        self.2.iter().take(n as usize).sum()
    }
}

/// A `threadpool::ThreadPool` and the channel its tasks send their values back on.
struct ThreadPool(threadpool::ThreadPool, Sender<u64>, Receiver<u64>);

impl Exec for ThreadPool {
    fn run_batch(&self, n: u64, rounds: u64) -> u64 {
        for i in 0..n {
            let tx = self.1.clone();
            self.0.execute(move || tx.send(task(rounds, i)).unwrap());
        }
        self.2.iter().take(n as usize).sum()
    }
}

/// Three pools of `workers` workers each, every worker started, warmed up and checked.
fn pools(workers: usize) -> [(&'static str, Box<dyn Exec>); 3] {
    // gilfree starts its workers lazily, one per submit while none is idle: tasks that wait
    // for each other start them all.
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
    let rayon = Rayon(pool, tx, rx);

    let (tx, rx) = crossbeam_channel::unbounded();
    let threadpool = ThreadPool(threadpool::ThreadPool::new(workers), tx, rx);

    let pools: [(&'static str, Box<dyn Exec>); 3] = [
        ("gilfree_ThreadPoolExecutor", Box::new(gilfree)),
        ("rayon_spawn_channel", Box::new(rayon)),
        ("threadpool_execute_channel", Box::new(threadpool)),
    ];
    for (_, exec) in &pools {
        assert_eq!(exec.run_batch(BATCH, 0), BATCH * (BATCH - 1) / 2);
    }
    pools
}

fn pool_curve(c: &mut Criterion, name: &str, micros: u64) {
    let rounds = micros * rounds_per_us();
    for workers in thread_counts() {
        let pools = pools(workers);
        let mut group = curve_group(c, &format!("{name}/{workers}threads"));
        for (id, exec) in &pools {
            group.bench_function(*id, |b| {
                b.iter_custom(|iters| {
                    // Whole batches, scaled back to `iters` tasks.
                    let batches = iters.div_ceil(BATCH).max(1);
                    let start = Instant::now();
                    for _ in 0..batches {
                        assert_eq!(exec.run_batch(BATCH, rounds), BATCH * (BATCH - 1) / 2);
                    }
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (batches * BATCH) as f64)
                })
            });
        }
        group.finish();
    }
}

fn pool(c: &mut Criterion) {
    pool_curve(c, "contention_pool", 0);
    pool_curve(c, "contention_pool_1us", 1);
}

// ---------------------------------------------------------------------------------------------
// Syscall probe: no-waiter operations on one thread, for strace

/// The probe's operations: name, what one iteration does.
const PROBES: [(&str, &str); 12] = [
    (
        "none",
        "nothing (the baseline: the same objects built, no operation)",
    ),
    ("lock", "Lock acquire + release, uncontended"),
    ("rlock", "RLock acquire + release, uncontended"),
    ("event_set", "Event.set on an Event already set"),
    ("event_set_clear", "Event set + clear, nobody waiting"),
    (
        "condition_notify_one",
        "Condition.notify_one, lock held, no waiter",
    ),
    (
        "condition_notify_all",
        "Condition.notify_all, lock held, no waiter",
    ),
    ("semaphore", "Semaphore(0) release + try_acquire"),
    (
        "bounded_semaphore",
        "BoundedSemaphore(1) release + try_acquire, held",
    ),
    ("queue", "Queue(1024) put + get, one thread"),
    ("simple_queue", "SimpleQueue put + get, one thread"),
    ("deque", "Deque append + pop_left, one thread"),
];

fn probe(op: &str) {
    if op == "list" {
        for (name, what) in PROBES {
            println!("{name}\t{what}");
        }
        return;
    }
    assert!(
        PROBES.iter().any(|(name, _)| *name == op),
        "GILFREE_SYSCALL_PROBE={op:?}: not an operation (GILFREE_SYSCALL_PROBE=list)"
    );
    let ops: u64 = std::env::var("GILFREE_SYSCALL_OPS")
        .ok()
        .map(|n| n.parse().expect("GILFREE_SYSCALL_OPS: a count"))
        .unwrap_or(1_000_000);
    let ops = if op == "none" { 0 } else { ops };

    // Every object, whatever the operation, so that the baseline makes the same set-up calls.
    let lock = gilfree::Lock::new();
    let rlock = gilfree::RLock::new();
    let event = gilfree::Event::new();
    event.set();
    let event2 = gilfree::Event::new();
    let cond = gilfree::Condition::new();
    let sem = gilfree::Semaphore::new(0);
    let bsem = gilfree::BoundedSemaphore::new(1);
    bsem.acquire().detach();
    let q = gilfree::Queue::<u64>::new(CAP);
    let sq = gilfree::SimpleQueue::<u64>::new();
    let dq = gilfree::Deque::<u64>::new();
    let guard = cond.acquire();

    /// `ops` runs of `f`, timed.
    fn repeat(ops: u64, mut f: impl FnMut(u64)) -> Duration {
        let start = Instant::now();
        for i in 0..ops {
            f(i);
        }
        start.elapsed()
    }
    let elapsed = match op {
        "none" => Duration::ZERO,
        "lock" => repeat(ops, |_| drop(black_box(black_box(&lock).acquire()))),
        "rlock" => repeat(ops, |_| drop(black_box(black_box(&rlock).acquire()))),
        "event_set" => repeat(ops, |_| black_box(&event).set()),
        "event_set_clear" => repeat(ops, |_| {
            let e = black_box(&event2);
            e.set();
            e.clear();
        }),
        "condition_notify_one" => repeat(ops, |_| black_box(&guard).notify_one()),
        "condition_notify_all" => repeat(ops, |_| black_box(&guard).notify_all()),
        "semaphore" => repeat(ops, |_| {
            let s = black_box(&sem);
            s.release(1).unwrap();
            s.try_acquire().unwrap().detach();
        }),
        "bounded_semaphore" => repeat(ops, |_| {
            let s = black_box(&bsem);
            s.release(1).unwrap();
            s.try_acquire().unwrap().detach();
        }),
        "queue" => repeat(ops, |i| {
            let q = black_box(&q);
            q.put(black_box(i)).unwrap();
            black_box(q.get().unwrap());
        }),
        "simple_queue" => repeat(ops, |i| {
            let q = black_box(&sq);
            q.put(black_box(i));
            black_box(q.get());
        }),
        "deque" => repeat(ops, |i| {
            let d = black_box(&dq);
            d.append(black_box(i));
            black_box(d.pop_left().unwrap());
        }),
        _ => unreachable!(),
    };
    drop(guard);
    println!(
        "syscall probe {op}: {ops} iterations in {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
}

fn main() {
    if let Ok(op) = std::env::var("GILFREE_SYSCALL_PROBE") {
        probe(&op);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    lock(&mut c);
    queue(&mut c);
    set(&mut c);
    pool(&mut c);
    c.final_summary();
}
