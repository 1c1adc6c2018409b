//! gilfree's async twins beside the async peers a tokio user would otherwise pick, each
//! comparison in one criterion group so that the ratios come from the same run on the same
//! (shared, noisy) machine:
//!
//! * `async_queue_spsc_bounded1024`, `async_queue_mpmc_bounded1024`: a bounded `Queue(1024)`'s
//!   `put_async`/`get_async` against async-channel's bounded channel, flume's async side and
//!   (SPSC only: its receiver is single-consumer) tokio's `mpsc`. Producers and consumers are
//!   tokio tasks on a 2-worker multi-thread runtime; the time is per message, over at least
//!   `MIN_MESSAGES` messages per timed run, and the sum received is checked.
//! * `async_lock_uncontended`: `Lock::acquire_async` then drop, against `tokio::sync::Mutex`
//!   and `async_lock::Mutex`, awaited in a loop inside one `futures::executor::block_on`.
//! * `async_pool_round_trip`: awaiting `pool.submit(f)` (Python's `run_in_executor`) against
//!   `tokio::task::spawn_blocking(f)`, one at a time from a task, for an empty `f`.
//!
//! `benches/ratios.py` turns criterion's output into the table of ratios (and checks the issue's
//! targets: queue ≤ 1.0 × async-channel, lock ≤ 1.0 × tokio's Mutex, pool round trip ≤ 1.0 ×
//! `spawn_blocking`).

mod common;

use common::*;
use criterion::{Criterion, criterion_group, criterion_main};
use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CAP: usize = 1024;
const MIN_MESSAGES: u64 = 100_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime")
}

/// A bounded async queue of `u64`, shared by producer and consumer tasks.
trait AsyncChan: Send + Sync + 'static {
    fn send(&self, v: u64) -> impl Future<Output = ()> + Send;
    fn recv(&self) -> impl Future<Output = u64> + Send;
    /// Receives `n` messages and returns their sum (overridden where the receiver must be
    /// locked once per run rather than once per message).
    fn recv_n(&self, n: u64) -> impl Future<Output = u64> + Send {
        async move {
            let mut sum = 0u64;
            for _ in 0..n {
                sum = sum.wrapping_add(self.recv().await);
            }
            sum
        }
    }
}

struct Gilfree(gilfree::Queue<u64>);
impl AsyncChan for Gilfree {
    async fn send(&self, v: u64) {
        self.0.put_async(v).await.expect("not shut down");
    }
    async fn recv(&self) -> u64 {
        self.0.get_async().await.expect("not shut down")
    }
}

struct AsyncChannel(async_channel::Sender<u64>, async_channel::Receiver<u64>);
impl AsyncChan for AsyncChannel {
    async fn send(&self, v: u64) {
        self.0.send(v).await.expect("open");
    }
    async fn recv(&self) -> u64 {
        self.1.recv().await.expect("open")
    }
}

struct Flume(flume::Sender<u64>, flume::Receiver<u64>);
impl AsyncChan for Flume {
    async fn send(&self, v: u64) {
        self.0.send_async(v).await.expect("open");
    }
    async fn recv(&self) -> u64 {
        self.1.recv_async().await.expect("open")
    }
}

/// tokio's `mpsc`: one receiver, behind an async mutex taken once per run (SPSC only).
struct TokioMpsc(
    tokio::sync::mpsc::Sender<u64>,
    tokio::sync::Mutex<tokio::sync::mpsc::Receiver<u64>>,
);
impl AsyncChan for TokioMpsc {
    async fn send(&self, v: u64) {
        self.0.send(v).await.expect("open");
    }
    async fn recv(&self) -> u64 {
        self.1.lock().await.recv().await.expect("open")
    }
    async fn recv_n(&self, n: u64) -> u64 {
        let mut rx = self.1.lock().await;
        let mut sum = 0u64;
        for _ in 0..n {
            sum = sum.wrapping_add(rx.recv().await.expect("open"));
        }
        sum
    }
}

/// `n` messages through `chan` from `producers` tasks to `consumers` tasks; the elapsed time.
fn run_chan<C: AsyncChan>(
    rt: &tokio::runtime::Runtime,
    chan: &Arc<C>,
    producers: u64,
    consumers: u64,
    n: u64,
) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        let senders: Vec<_> = (0..producers)
            .map(|p| {
                let chan = Arc::clone(chan);
                tokio::spawn(async move {
                    let mut v = p;
                    while v < n {
                        chan.send(v).await;
                        v += producers;
                    }
                })
            })
            .collect();
        let receivers: Vec<_> = (0..consumers)
            .map(|c| {
                let chan = Arc::clone(chan);
                let share = n / consumers + u64::from(c < n % consumers);
                tokio::spawn(async move { chan.recv_n(share).await })
            })
            .collect();
        for s in senders {
            s.await.expect("producer");
        }
        let mut sum = 0u64;
        for r in receivers {
            sum = sum.wrapping_add(r.await.expect("consumer"));
        }
        let elapsed = start.elapsed();
        assert_eq!(sum, n * (n - 1) / 2, "lost or duplicated messages");
        elapsed
    })
}

fn per_message(iters: u64, run: impl FnOnce(u64) -> Duration) -> Duration {
    let n = iters.max(MIN_MESSAGES);
    let elapsed = run(n);
    elapsed.mul_f64(iters as f64 / n as f64)
}

fn queues(c: &mut Criterion) {
    let rt = runtime();
    for (group_name, producers, consumers) in [
        ("async_queue_spsc_bounded1024", 1, 1),
        ("async_queue_mpmc_bounded1024", 2, 2),
    ] {
        let mut group = quick(c, group_name, 10);
        group.throughput(criterion::Throughput::Elements(1));
        let gilfree = Arc::new(Gilfree(gilfree::Queue::new(CAP)));
        group.bench_function("gilfree_Queue", |b| {
            b.iter_custom(|iters| {
                per_message(iters, |n| run_chan(&rt, &gilfree, producers, consumers, n))
            })
        });
        let (tx, rx) = async_channel::bounded(CAP);
        let ac = Arc::new(AsyncChannel(tx, rx));
        group.bench_function("async_channel_bounded", |b| {
            b.iter_custom(|iters| {
                per_message(iters, |n| run_chan(&rt, &ac, producers, consumers, n))
            })
        });
        let (tx, rx) = flume::bounded(CAP);
        let fl = Arc::new(Flume(tx, rx));
        group.bench_function("flume_bounded_async", |b| {
            b.iter_custom(|iters| {
                per_message(iters, |n| run_chan(&rt, &fl, producers, consumers, n))
            })
        });
        if consumers == 1 {
            let (tx, rx) = tokio::sync::mpsc::channel(CAP);
            let tk = Arc::new(TokioMpsc(tx, tokio::sync::Mutex::new(rx)));
            group.bench_function("tokio_mpsc", |b| {
                b.iter_custom(|iters| {
                    per_message(iters, |n| run_chan(&rt, &tk, producers, consumers, n))
                })
            });
        }
        group.finish();
    }
}

fn lock_uncontended(c: &mut Criterion) {
    let mut group = quick(c, "async_lock_uncontended", 30);
    let lock = gilfree::Lock::with_value(0u64);
    group.bench_function("gilfree_Lock", |b| {
        b.iter_custom(|iters| {
            futures::executor::block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    *black_box(&lock).acquire_async().await += 1;
                }
                start.elapsed()
            })
        })
    });
    let tokio_mutex = tokio::sync::Mutex::new(0u64);
    group.bench_function("tokio_Mutex", |b| {
        b.iter_custom(|iters| {
            futures::executor::block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    *black_box(&tokio_mutex).lock().await += 1;
                }
                start.elapsed()
            })
        })
    });
    let async_lock = async_lock::Mutex::new(0u64);
    group.bench_function("async_lock_Mutex", |b| {
        b.iter_custom(|iters| {
            futures::executor::block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    *black_box(&async_lock).lock().await += 1;
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn pool_round_trip(c: &mut Criterion) {
    let rt = runtime();
    let mut group = quick(c, "async_pool_round_trip", 20);
    let pool = gilfree::ThreadPoolExecutor::new(2);
    group.bench_function("gilfree_ThreadPoolExecutor", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let v = pool.submit(move || black_box(i)).await.expect("no panic");
                    black_box(v);
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("tokio_spawn_blocking", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let v = tokio::task::spawn_blocking(move || black_box(i))
                        .await
                        .expect("no panic");
                    black_box(v);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, queues, lock_uncontended, pool_round_trip);
criterion_main!(benches);
