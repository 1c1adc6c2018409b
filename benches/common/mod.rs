//! Helpers shared by the criterion benches (`mod common;` in each bench file): the group
//! settings ([`quick`]) and the threaded-timing helpers ([`timed_threads`], [`share`]).

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use std::time::{Duration, Instant};

/// Quick settings: the whole bench should finish in a few minutes on a 2-core machine.
pub(crate) fn quick<'a>(
    c: &'a mut Criterion,
    name: &str,
    samples: usize,
) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(samples)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group
}

/// Runs `work(i)` on `n` scoped threads started together; returns the time from the common
/// start until the last one finished.
pub(crate) fn timed_threads<F: Fn(usize) + Sync>(n: usize, work: F) -> Duration {
    let start_line = std::sync::Barrier::new(n + 1);
    let start = std::thread::scope(|s| {
        for i in 0..n {
            let (work, start_line) = (&work, &start_line);
            s.spawn(move || {
                start_line.wait();
                work(i);
            });
        }
        start_line.wait();
        Instant::now()
        // The scope joins every thread before returning.
    });
    start.elapsed()
}

/// Thread `i`'s share of `total` operations split over `n` threads (the shares sum to `total`).
pub(crate) fn share(total: u64, n: usize, i: usize) -> u64 {
    let n = n as u64;
    total / n + u64::from((i as u64) < total % n)
}
