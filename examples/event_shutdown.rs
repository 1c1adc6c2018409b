//! Graceful shutdown with a `threading.Event`.
//!
//! Workers run the classic Python loop
//!
//! ```python
//! while True:
//!     do_job()
//!     if stop.wait(timeout=TICK):   # True as soon as stop.set() is called
//!         break
//! ```
//!
//! The wait is the loop's tick (the pause between jobs) *and* the shutdown check in one call:
//! `stop.set()` ends every pending wait at once, so a worker never sits out the rest of its
//! tick. A `time.sleep(TICK)` followed by `if stop.is_set()` would take up to a whole tick to
//! notice.
//!
//! The main thread decides when to stop by *state*, not by sleeping: it waits on a Condition
//! until the workers have done `JOBS_BEFORE_STOP` jobs, then sets the event.
//!
//! `cargo run --release --example event_shutdown`

use gilfree::{Condition, Event};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

const WORKERS: usize = 4;
const TICK: Duration = Duration::from_millis(100);
const JOBS_BEFORE_STOP: u32 = 3 * WORKERS as u32;

fn main() {
    let stop = Event::new(); // stop = threading.Event()
    let jobs_done = Condition::with_value(0u32); // a counter the main thread can wait on

    let started = Instant::now();
    let (stopped_at, jobs_per_worker) = thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (stop, jobs_done) = (&stop, &jobs_done);
                s.spawn(move || {
                    let mut mine = 0u32;
                    loop {
                        do_job();
                        mine += 1;
                        let mut done = jobs_done.acquire();
                        *done += 1;
                        done.notify_all();
                        drop(done);
                        if stop.wait_timeout(TICK) {
                            break;
                        }
                    }
                    assert!(stop.is_set(), "a worker left before the stop signal");
                    mine
                })
            })
            .collect();

        // with jobs_done: jobs_done.wait_for(lambda: count >= JOBS_BEFORE_STOP)
        assert!(jobs_done.acquire().wait_for(|n| *n >= JOBS_BEFORE_STOP));
        let stopped_at = Instant::now();
        stop.set(); // every worker's wait(timeout=TICK) returns True now
        let jobs: Vec<u32> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (stopped_at, jobs)
    });
    let shutdown = stopped_at.elapsed();
    let total: u32 = jobs_per_worker.iter().sum();

    println!("{WORKERS} workers, a job then `stop.wait_timeout({TICK:?})`, round after round");
    println!(
        "main saw {JOBS_BEFORE_STOP} jobs done after {:.0?}, then stop.set() -> {stop:?}",
        stopped_at - started
    );
    println!("jobs per worker: {jobs_per_worker:?} ({total} in all)");
    println!(
        "all {WORKERS} workers exited {shutdown:.2?} after set() — a sleep-based loop could take up to {TICK:?}"
    );
    assert_eq!(total, *jobs_done.acquire(), "every job was counted once");
    assert!(total >= JOBS_BEFORE_STOP);
    assert!(
        shutdown < TICK,
        "set() should end the workers' waits at once, not after their tick ({shutdown:?})"
    );
}

/// A unit of simulated work: a little arithmetic the optimiser cannot remove.
fn do_job() {
    black_box((0..10_000u64).fold(0u64, |acc, x| {
        acc.wrapping_mul(31).wrapping_add(black_box(x))
    }));
}
