//! The book's "thread visits" race: many threads each add one to a shared counter, many times.
//!
//! In CPython, `counter += 1` is a load, an add and a store; a thread switch between the load
//! and the store loses the other thread's update, so the total comes up short. Without a GIL
//! the threads really run at the same time, and the race shows up even more readily.
//!
//! Part 1 reproduces the race with an atomic used *wrongly*: a separate `load` and `store`.
//! That is memory-safe (no undefined behaviour, Rust would not let us write a real data race
//! in safe code) but the read-modify-write is not atomic, exactly like Python's `counter += 1`.
//! Part 2 does the same work under a `gilfree::Lock` and always gets the exact total.
//!
//! `cargo run --release --example race_counter`

use gilfree::{Event, Lock};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

const THREADS: u64 = 100;
const VISITS_PER_THREAD: u64 = 100_000;
const EXPECTED: u64 = THREADS * VISITS_PER_THREAD;

fn main() {
    println!("{THREADS} threads x {VISITS_PER_THREAD} visits each; expected total {EXPECTED}\n");

    // Part 1. Python:
    //     counter = 0
    //     def visit():
    //         global counter
    //         for _ in range(100_000):
    //             counter += 1          # load, add, store: not atomic
    let counter = AtomicU64::new(0);
    let elapsed = run_threads(|| {
        for _ in 0..VISITS_PER_THREAD {
            let seen = counter.load(Ordering::Relaxed);
            // Another thread may store between this load and our store: its visit is lost.
            counter.store(interpreter_steps(seen) + 1, Ordering::Relaxed);
        }
    });
    let racy = counter.into_inner();
    let lost = EXPECTED - racy;
    println!("without a lock: counter = {racy:>9}  ({lost} visits lost) in {elapsed:.2?}");
    assert!(
        racy <= EXPECTED,
        "a racy counter can lose visits, never invent them"
    );
    if lost == 0 {
        println!("  (no visits lost this time — the race is real but timing-dependent; run again)");
    }

    // Part 2. Python:
    //     counter_lock = threading.Lock()
    //     with counter_lock:
    //         counter += 1
    // The gilfree lock owns the counter: there is no way to reach it without the lock.
    let counter = Lock::with_value(0u64);
    let elapsed = run_threads(|| {
        for _ in 0..VISITS_PER_THREAD {
            *counter.acquire() += 1;
        }
    });
    let exact = counter.into_inner();
    assert_eq!(exact, EXPECTED, "the locked counter must be exact");
    println!("with a Lock:    counter = {exact:>9}  (0 visits lost) in {elapsed:.2?}");
}

/// Stands in for the bytecodes CPython executes between reading `counter` and writing it back
/// (`LOAD_CONST 1`, `BINARY_OP +=`): a few steps the optimiser cannot remove. They widen the
/// race window a little, as the interpreter does, so lost visits show up on nearly every run
/// (with a bare load and store, the threads often finish too quickly to overlap).
#[inline(always)]
fn interpreter_steps(mut value: u64) -> u64 {
    for _ in 0..black_box(3) {
        value = black_box(value);
    }
    value
}

/// Starts `THREADS` threads running `visit`, all released at once by an [`Event`] used as a
/// start gun (so that they overlap instead of finishing one after another as they are
/// spawned), joins them, and returns the time from the gun to the last join.
fn run_threads(visit: impl Fn() + Sync) -> std::time::Duration {
    let start_gun = Event::new();
    let mut started = Instant::now();
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                start_gun.wait();
                visit();
            });
        }
        started = Instant::now();
        start_gun.set();
    });
    started.elapsed()
}
