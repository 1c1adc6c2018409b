//! `gilfree::Thread` beside `std::thread`, in one criterion group so that the ratio comes
//! from the same run: what Python's bookkeeping (a name, an ident, the registry behind
//! `enumerate()`, `is_alive()` and a timed join) costs on top of an OS thread.
//! `benches/ratios.py` prints the ratio with the rest.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn spawn_join(c: &mut Criterion) {
    // 30 samples, 0.5 s of warm-up, 3 s of measurement; longer with GILFREE_BENCH_MODE=full.
    let mut group = common::group_with(
        c,
        "thread/spawn_join",
        30,
        Duration::from_millis(500),
        Duration::from_secs(3),
    );
    group.bench_function("gilfree_Thread", |b| {
        b.iter(|| gilfree::Thread::spawn(|| black_box(1_u64)).join().unwrap())
    });
    group.bench_function("gilfree_Thread_named", |b| {
        b.iter(|| {
            gilfree::Thread::builder()
                .name("bench")
                .spawn(|| black_box(1_u64))
                .unwrap()
                .join()
                .unwrap()
        })
    });
    group.bench_function("std_thread", |b| {
        b.iter(|| std::thread::spawn(|| black_box(1_u64)).join().unwrap())
    });
    group.bench_function("std_thread_named", |b| {
        b.iter(|| {
            std::thread::Builder::new()
                .name("bench".to_owned())
                .spawn(|| black_box(1_u64))
                .unwrap()
                .join()
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_join);
criterion_main!(benches);
