//! Threads in lockstep with a `threading.Barrier`.
//!
//! Four workers compute a simulation together, round after round. In each round every worker
//! computes a partial result over its own slice of the data, posts it, and calls
//! `barrier.wait()`. The barrier's action — run once per round by the last worker to arrive,
//! before anyone is released — combines the partials and prints "round k complete". No worker
//! starts round k+1 until every worker has finished round k, so the action always sees exactly
//! one partial from each worker, all from the same round.
//!
//! Python:
//!
//! ```python
//! barrier = threading.Barrier(4, action=combine_partials)
//! def worker(i):
//!     for k in range(ROUNDS):
//!         partials[i] = step(my_slice, k)
//!         barrier.wait()
//! ```
//!
//! `cargo run --release --example barrier`

use gilfree::{Barrier, Lock};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const WORKERS: usize = 4;
const ROUNDS: usize = 5;
const DATA_LEN: u64 = 400_000;

/// One worker's share of round `round`: a little arithmetic over its slice.
fn step(slice: &[u64], round: usize) -> u64 {
    let k = round as u64 + 1;
    slice.iter().fold(0u64, |acc, &x| {
        acc.wrapping_add(x.wrapping_mul(x ^ k) % 1_000_003)
    })
}

fn main() {
    let data: Vec<u64> = (0..DATA_LEN).collect();
    let slices: Vec<&[u64]> = data.chunks(data.len().div_ceil(WORKERS)).collect();
    assert_eq!(slices.len(), WORKERS);

    // What the workers post each round, and what the action makes of it.
    let partials: Arc<Lock<Vec<Option<u64>>>> = Arc::new(Lock::with_value(vec![None; WORKERS]));
    let totals: Arc<Lock<Vec<u64>>> = Arc::new(Lock::with_value(Vec::new()));
    let rounds_done = Arc::new(AtomicUsize::new(0));

    let barrier = {
        let (partials, totals, rounds_done) = (
            Arc::clone(&partials),
            Arc::clone(&totals),
            Arc::clone(&rounds_done),
        );
        Barrier::builder(WORKERS)
            .action(move || {
                // Runs in the last worker to arrive, while all the others are still waiting.
                let round = rounds_done.load(Ordering::SeqCst);
                let mut posted = partials.acquire();
                assert!(
                    posted.iter().all(Option::is_some),
                    "round {round}: the action ran before every worker posted: {posted:?}"
                );
                let total: u64 = posted.iter_mut().map(|p| p.take().unwrap()).sum();
                totals.acquire().push(total);
                let last = thread::current().name().unwrap_or("?").to_owned();
                println!("round {round} complete: total {total:>12} (action ran in {last})");
                rounds_done.store(round + 1, Ordering::SeqCst);
            })
            // Python's Barrier(..., timeout=10): should a worker die before it arrives, the
            // others get BrokenBarrierError instead of waiting forever.
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    };

    let started = Instant::now();
    // Per worker, per round: the index barrier.wait() returned.
    let indices: Vec<Vec<usize>> = thread::scope(|s| {
        let handles: Vec<_> = slices
            .iter()
            .enumerate()
            .map(|(i, &slice)| {
                let (barrier, partials, rounds_done) = (&barrier, &partials, &rounds_done);
                thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn_scoped(s, move || {
                        let mut my_indices = Vec::with_capacity(ROUNDS);
                        for round in 0..ROUNDS {
                            // Lockstep: nobody is ahead of or behind this round.
                            assert_eq!(rounds_done.load(Ordering::SeqCst), round);
                            let partial = step(slice, round);
                            let previous = partials.acquire()[i].replace(partial);
                            assert!(previous.is_none(), "worker {i} posted twice in a round");
                            my_indices.push(barrier.wait().unwrap());
                            // The action has run for this round before anyone is released.
                            assert_eq!(rounds_done.load(Ordering::SeqCst), round + 1);
                        }
                        my_indices
                    })
                    .unwrap()
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    // Check the parallel rounds against the same computation done on one thread.
    let expected: Vec<u64> = (0..ROUNDS).map(|round| step(&data, round)).collect();
    let totals = totals.acquire().clone();
    assert_eq!(
        totals, expected,
        "each round's total equals the sequential result"
    );
    for round in 0..ROUNDS {
        let mut seen: Vec<usize> = indices.iter().map(|w| w[round]).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..WORKERS).collect::<Vec<_>>(),
            "round {round} indices"
        );
    }
    println!(
        "{WORKERS} workers x {ROUNDS} rounds in lockstep in {elapsed:.0?}; every round's total \
         matches a single-threaded run, and wait() gave each round indices 0..{WORKERS}"
    );
    println!("final state: {barrier:?}");
    assert!(!barrier.broken() && barrier.n_waiting() == 0);
}
