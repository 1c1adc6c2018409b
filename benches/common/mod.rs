//! Helpers shared by the criterion benches (`mod common;` in each bench file): the run mode
//! ([`mode`]), the group settings ([`quick`], [`group_with`]), the thread counts of the
//! contention curves ([`thread_counts`]) and the threaded-timing helpers ([`timed_threads`],
//! [`share`]).
//!
//! The mode comes from the environment, so that one variable switches the whole suite:
//!
//! * `GILFREE_BENCH_MODE=quick` (the default): short groups, the whole suite (`bash
//!   benches/run`) in under 10 minutes on a 2-core machine;
//! * `GILFREE_BENCH_MODE=full`: 3 times the samples (at most 100) and the measurement time,
//!   twice the warm-up (at least 1 s), and the contention curves at 1 to 32 threads. The older
//!   `GILFREE_BENCH_FULL=1` (the OpenCL bench's switch) means the same.
//!
//! Criterion's own `--sample-size`, `--warm-up-time` and `--measurement-time` flags do not
//! override a group's settings, which is why the mode is an environment variable.

pub(crate) mod sets;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the benches run: see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Quick,
    Full,
}

/// The mode of this run: `GILFREE_BENCH_MODE` (`quick` or `full`), or `GILFREE_BENCH_FULL=1`;
/// quick when neither is set. Read once; an unknown value is an error.
pub(crate) fn mode() -> Mode {
    static MODE: OnceLock<Mode> = OnceLock::new();
    *MODE.get_or_init(|| {
        let mode = match std::env::var("GILFREE_BENCH_MODE").as_deref() {
            Ok("quick") | Ok("") => Mode::Quick,
            Ok("full") => Mode::Full,
            Ok(other) => panic!("GILFREE_BENCH_MODE={other:?}: expected quick or full"),
            Err(_) => Mode::Quick,
        };
        let legacy_full = std::env::var("GILFREE_BENCH_FULL").is_ok_and(|v| v == "1");
        if legacy_full { Mode::Full } else { mode }
    })
}

/// Whether this is a full run.
#[allow(dead_code)] // every bench includes this file; each uses only some of it
pub(crate) fn full() -> bool {
    mode() == Mode::Full
}

/// A group with the suite's usual quick settings (`samples` samples, 0.5 s of warm-up, 2 s of
/// measurement), lengthened in full mode (see [`group_with`]).
#[allow(dead_code)] // every bench includes this file; each uses only some of it
pub(crate) fn quick<'a>(
    c: &'a mut Criterion,
    name: &str,
    samples: usize,
) -> BenchmarkGroup<'a, WallTime> {
    group_with(
        c,
        name,
        samples,
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
}

/// A group with the given quick-mode settings. In full mode: 3 times the samples (at most 100,
/// and at least the quick count), twice the warm-up (at least 1 s), 3 times the measurement.
pub(crate) fn group_with<'a>(
    c: &'a mut Criterion,
    name: &str,
    samples: usize,
    warm_up: Duration,
    measurement: Duration,
) -> BenchmarkGroup<'a, WallTime> {
    let (samples, warm_up, measurement) = match mode() {
        Mode::Quick => (samples, warm_up, measurement),
        Mode::Full => (
            (samples * 3).min(100).max(samples),
            (warm_up * 2).max(Duration::from_secs(1)),
            measurement * 3,
        ),
    };
    let mut group = c.benchmark_group(name);
    group
        .sample_size(samples)
        .warm_up_time(warm_up)
        .measurement_time(measurement);
    if mode() == Mode::Quick {
        // The bootstrap only draws the confidence intervals (the medians the reports use are
        // the samples' own); criterion's 100,000 resamples cost about a second per benchmark.
        group.nresamples(10_000);
    }
    group
}

/// The thread counts of the contention curves: `GILFREE_BENCH_THREADS=1,2,4,8` if set, else
/// 1, 2, 4 (quick) or 1, 2, 4, 8, 16, 32 (full).
#[allow(dead_code)] // every bench includes this file; each uses only some of it
pub(crate) fn thread_counts() -> Vec<usize> {
    match std::env::var("GILFREE_BENCH_THREADS") {
        Ok(spec) if !spec.trim().is_empty() => spec
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .ok()
                    .filter(|&n: &usize| n > 0)
                    .unwrap_or_else(|| {
                        panic!("GILFREE_BENCH_THREADS={spec:?}: positive counts, e.g. 1,2,4,8")
                    })
            })
            .collect(),
        _ => match mode() {
            Mode::Quick => vec![1, 2, 4],
            Mode::Full => vec![1, 2, 4, 8, 16, 32],
        },
    }
}

/// Runs `work(i)` on `n` scoped threads started together; returns the time from the common
/// start until the last one finished.
#[allow(dead_code)] // every bench includes this file; each uses only some of it
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
#[allow(dead_code)] // every bench includes this file; each uses only some of it
pub(crate) fn share(total: u64, n: usize, i: usize) -> u64 {
    let n = n as u64;
    total / n + u64::from((i as u64) < total % n)
}

#[allow(dead_code)] // every bench includes this file; each uses only some of it
/// The sum of every value `n` messages split over `producers` carry, when producer `i` sends
/// `0..share(n, producers, i)`: each contributes k(k-1)/2.
pub(crate) fn sent_sum(n: u64, producers: usize) -> u64 {
    (0..producers)
        .map(|i| {
            let k = share(n, producers, i);
            k * k.saturating_sub(1) / 2
        })
        .sum()
}

#[allow(dead_code)] // every bench includes this file; each uses only some of it
/// xorshift64: the benches' cheap, seeded stream of pseudo-random keys.
#[inline]
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

#[allow(dead_code)] // every bench includes this file; each uses only some of it
/// `rounds` steps of a loop the optimiser cannot remove or shorten: the pools' task work.
#[inline(never)]
pub(crate) fn spin(rounds: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..rounds {
        x = std::hint::black_box(x.rotate_left(5) ^ 0x5DEE_CE66D);
    }
    x
}

#[allow(dead_code)] // every bench includes this file; each uses only some of it
/// How many [`spin`] rounds take about one microsecond: the fastest of a few trials (on a
/// shared machine, the slow trials are the interrupted ones). Computed once.
pub(crate) fn rounds_per_us() -> u64 {
    static ROUNDS: OnceLock<u64> = OnceLock::new();
    *ROUNDS.get_or_init(|| {
        const TRIAL: u64 = 2_000_000;
        let best = (0..7)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(spin(std::hint::black_box(TRIAL)));
                start.elapsed()
            })
            .min()
            .unwrap();
        (TRIAL as f64 / (best.as_secs_f64() * 1e6)).round().max(1.0) as u64
    })
}
