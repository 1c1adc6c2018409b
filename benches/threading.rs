//! gilfree's `threading` primitives beside their peers (parking_lot, std), each comparison in
//! one criterion group so that the ratios come from the same run on the same (shared, noisy)
//! machine. `benches/ratios.py` turns criterion's output into the table of ratios.
//!
//! Multi-threaded benchmarks use `iter_custom`: the threads are spawned outside the timed
//! region, start together on a `std::sync::Barrier`, and the clock stops once all have been
//! joined. The reported time is per operation (contended locks: per lock+unlock, summed over
//! all threads), per round trip (handoff) or per round (barrier).

mod common;

use common::*;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Uncontended acquire + release

fn uncontended(c: &mut Criterion) {
    let mut group = quick(c, "uncontended/lock", 30);
    let lock = gilfree::Lock::new();
    group.bench_function("gilfree_Lock", |b| {
        b.iter(|| drop(black_box(black_box(&lock).acquire())))
    });
    let pl = parking_lot::Mutex::new(());
    group.bench_function("parking_lot_Mutex", |b| {
        b.iter(|| drop(black_box(black_box(&pl).lock())))
    });
    let std_mutex = std::sync::Mutex::new(());
    group.bench_function("std_Mutex", |b| {
        b.iter(|| drop(black_box(black_box(&std_mutex).lock().unwrap())))
    });
    group.finish();

    let mut group = quick(c, "uncontended/rlock", 30);
    let rlock = gilfree::RLock::new();
    group.bench_function("gilfree_RLock", |b| {
        b.iter(|| drop(black_box(black_box(&rlock).acquire())))
    });
    let pl = parking_lot::ReentrantMutex::new(());
    group.bench_function("parking_lot_ReentrantMutex", |b| {
        b.iter(|| drop(black_box(black_box(&pl).lock())))
    });
    group.finish();

    let mut group = quick(c, "uncontended/semaphore", 30);
    let sem = gilfree::Semaphore::new(1);
    group.bench_function("gilfree_Semaphore", |b| {
        b.iter(|| drop(black_box(black_box(&sem).acquire())))
    });
    let bsem = gilfree::BoundedSemaphore::new(1);
    group.bench_function("gilfree_BoundedSemaphore", |b| {
        b.iter(|| drop(black_box(black_box(&bsem).acquire())))
    });
    // Reference point: the lock+unlock pair a semaphore is usually built from.
    let pl = parking_lot::Mutex::new(());
    group.bench_function("parking_lot_Mutex", |b| {
        b.iter(|| drop(black_box(black_box(&pl).lock())))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Contended lock: N threads increment one shared counter

fn contended(c: &mut Criterion) {
    for threads in [2, 4] {
        let mut group = quick(c, &format!("contended/lock/{threads}threads"), 10);
        group.bench_function("gilfree_Lock", |b| {
            b.iter_custom(|iters| {
                let counter = gilfree::Lock::with_value(0u64);
                let elapsed = timed_threads(threads, |i| {
                    for _ in 0..share(iters, threads, i) {
                        *black_box(&counter).acquire() += 1;
                    }
                });
                assert_eq!(counter.into_inner(), iters);
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
                assert_eq!(counter.into_inner(), iters);
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
                assert_eq!(counter.into_inner().unwrap(), iters);
                elapsed
            })
        });
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Notify / set / release with nobody waiting: must take no lock and make no syscall

fn no_waiters(c: &mut Criterion) {
    let mut group = quick(c, "no_waiters", 30);

    let cond = gilfree::Condition::new();
    let guard = cond.acquire();
    group.bench_function("gilfree_Condition_notify_one", |b| {
        b.iter(|| black_box(&guard).notify_one())
    });
    group.bench_function("gilfree_Condition_notify_all", |b| {
        b.iter(|| black_box(&guard).notify_all())
    });
    drop(guard);

    let pl_mutex = parking_lot::Mutex::new(());
    let pl_cv = parking_lot::Condvar::new();
    let pl_guard = pl_mutex.lock();
    group.bench_function("parking_lot_Condvar_notify_one", |b| {
        b.iter(|| black_box(black_box(&pl_cv).notify_one()))
    });
    group.bench_function("parking_lot_Condvar_notify_all", |b| {
        b.iter(|| black_box(black_box(&pl_cv).notify_all()))
    });
    drop(pl_guard);

    let std_mutex = std::sync::Mutex::new(());
    let std_cv = std::sync::Condvar::new();
    let std_guard = std_mutex.lock().unwrap();
    group.bench_function("std_Condvar_notify_one", |b| {
        b.iter(|| black_box(&std_cv).notify_one())
    });
    group.bench_function("std_Condvar_notify_all", |b| {
        b.iter(|| black_box(&std_cv).notify_all())
    });
    drop(std_guard);

    let event = gilfree::Event::new();
    event.set();
    group.bench_function("gilfree_Event_set_already_set", |b| {
        b.iter(|| black_box(&event).set())
    });
    group.bench_function("gilfree_Event_set_clear", |b| {
        b.iter(|| {
            let event = black_box(&event);
            event.set();
            event.clear();
        })
    });

    let sem = gilfree::Semaphore::new(0);
    group.bench_function("gilfree_Semaphore_release_try_acquire", |b| {
        b.iter(|| {
            let sem = black_box(&sem);
            sem.release(1).unwrap();
            sem.try_acquire().unwrap().detach();
        })
    });
    let bsem = gilfree::BoundedSemaphore::new(1);
    bsem.acquire().detach();
    group.bench_function("gilfree_BoundedSemaphore_release_try_acquire", |b| {
        b.iter(|| {
            let bsem = black_box(&bsem);
            bsem.release(1).unwrap();
            bsem.try_acquire().unwrap().detach();
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Handoff: two threads take turns; the time is per round trip (one turn each)

/// Mutex + Condvar ping-pong on parking_lot: thread `side` moves when the counter's parity is
/// `side`.
fn pingpong_parking_lot(rounds: u64) -> Duration {
    let turn = parking_lot::Mutex::new(0u64);
    let changed = parking_lot::Condvar::new();
    let elapsed = timed_threads(2, |side| {
        for _ in 0..rounds {
            let mut t = turn.lock();
            while *t % 2 != side as u64 {
                changed.wait(&mut t);
            }
            *t += 1;
            changed.notify_one();
        }
    });
    assert_eq!(turn.into_inner(), 2 * rounds);
    elapsed
}

/// The same ping-pong on std's Mutex + Condvar.
fn pingpong_std(rounds: u64) -> Duration {
    let turn = std::sync::Mutex::new(0u64);
    let changed = std::sync::Condvar::new();
    let elapsed = timed_threads(2, |side| {
        for _ in 0..rounds {
            let t = turn.lock().unwrap();
            let mut t = changed.wait_while(t, |t| *t % 2 != side as u64).unwrap();
            *t += 1;
            changed.notify_one();
        }
    });
    assert_eq!(turn.into_inner().unwrap(), 2 * rounds);
    elapsed
}

/// The same ping-pong on gilfree's Condition (over a `Lock<u64>`).
fn pingpong_gilfree_condition(rounds: u64) -> Duration {
    let cond = gilfree::Condition::with_value(0u64);
    let elapsed = timed_threads(2, |side| {
        for _ in 0..rounds {
            let mut t = cond.acquire();
            t.wait_for(|t| *t % 2 == side as u64);
            *t += 1;
            t.notify_one();
        }
    });
    assert_eq!(cond.into_inner(), 2 * rounds);
    elapsed
}

/// Two gilfree Events: thread 0 sets `ping` and waits for `pong`; thread 1 the reverse. Each
/// clears the event it waited for before setting the other, so no turn is skipped.
fn pingpong_gilfree_event(rounds: u64) -> Duration {
    let ping = gilfree::Event::new();
    let pong = gilfree::Event::new();
    let elapsed = timed_threads(2, |side| {
        for _ in 0..rounds {
            if side == 0 {
                ping.set();
                pong.wait();
                pong.clear();
            } else {
                ping.wait();
                ping.clear();
                pong.set();
            }
        }
    });
    assert!(!ping.is_set() && !pong.is_set());
    elapsed
}

fn handoff(c: &mut Criterion) {
    let mut group = quick(c, "handoff/event", 10);
    group.bench_function("gilfree_Event_pair", |b| {
        b.iter_custom(pingpong_gilfree_event)
    });
    group.bench_function("parking_lot_Mutex_Condvar", |b| {
        b.iter_custom(pingpong_parking_lot)
    });
    group.bench_function("std_Mutex_Condvar", |b| b.iter_custom(pingpong_std));
    group.finish();

    let mut group = quick(c, "handoff/condition", 10);
    group.bench_function("gilfree_Condition", |b| {
        b.iter_custom(pingpong_gilfree_condition)
    });
    group.bench_function("parking_lot_Mutex_Condvar", |b| {
        b.iter_custom(pingpong_parking_lot)
    });
    group.bench_function("std_Mutex_Condvar", |b| b.iter_custom(pingpong_std));
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Barrier: N threads pass R rounds; the time is per round

fn barrier(c: &mut Criterion) {
    for threads in [2, 4] {
        let mut group = quick(c, &format!("barrier/rounds/{threads}threads"), 10);
        group.bench_function("gilfree_Barrier", |b| {
            b.iter_custom(|rounds| {
                let barrier = gilfree::Barrier::new(threads);
                let leaders = std::sync::atomic::AtomicU64::new(0);
                let elapsed = timed_threads(threads, |_| {
                    for _ in 0..rounds {
                        if barrier.wait().unwrap() == threads - 1 {
                            leaders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
                assert_eq!(leaders.into_inner(), rounds);
                elapsed
            })
        });
        group.bench_function("std_Barrier", |b| {
            b.iter_custom(|rounds| {
                let barrier = std::sync::Barrier::new(threads);
                let leaders = std::sync::atomic::AtomicU64::new(0);
                let elapsed = timed_threads(threads, |_| {
                    for _ in 0..rounds {
                        if barrier.wait().is_leader() {
                            leaders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
                assert_eq!(leaders.into_inner(), rounds);
                elapsed
            })
        });
        group.finish();
    }
}

criterion_group!(
    benches,
    uncontended,
    contended,
    no_waiters,
    handoff,
    barrier
);
criterion_main!(benches);
