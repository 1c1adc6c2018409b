//! The book's CPU-bound workload: the prime factors of 10,000 numbers, first on one thread,
//! then split across 10 `gilfree::Thread`s.
//!
//! In CPython this is the example that shows the GIL: the threaded version is no faster than
//! the sequential one (often slower), because only one thread can execute bytecode at a time.
//! Without a GIL the ten threads really run in parallel, so the speed-up is limited only by
//! the number of cores: expect roughly "number of cores" times faster (about 2x on a 2-core
//! machine), never 10x on fewer than 10 cores. Notice that the answer is identical, in the same
//! order: each thread factorises one contiguous share, and the shares are joined back in order.
//!
//! ```python
//! def factorize(n):
//!     ...trial division...
//!
//! numbers = [random.randint(20_000, 100_000_000) for _ in range(10_000)]
//! chunk = len(numbers) // 10
//! shares = [numbers[i*chunk:(i+1)*chunk] for i in range(10)]
//! threads = [Thread(target=factorize_all, args=(share,)) for share in shares]
//! for t in threads: t.start()
//! for t in threads: t.join()
//! ```
//!
//! `cargo run --release --example prime_factors`

use gilfree::Thread;
use std::time::{Duration, Instant};

const COUNT: usize = 10_000;
const LOW: u64 = 20_000;
const HIGH: u64 = 100_000_000;
const THREADS: usize = 10;
const SEED: u64 = 0x5EED_CAFE_F00D_D00D;

fn main() {
    let numbers = generate_numbers(COUNT, LOW, HIGH, SEED);
    println!("factorising {COUNT} pseudo-random numbers in [{LOW}, {HIGH}]");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("this machine has {cores} core(s)\n");

    // Sequential: for n in numbers: factors.append(factorize(n))
    let started = Instant::now();
    let sequential = factorize_all(&numbers);
    let sequential_time = started.elapsed();
    println!("sequential:      {sequential_time:>10.2?}");

    let started = Instant::now();
    let threaded = factorize_with_threads(&numbers, THREADS);
    let threaded_time = started.elapsed();
    println!("{THREADS} threads:      {threaded_time:>10.2?}");

    assert_eq!(sequential.len(), COUNT);
    assert_eq!(
        threaded, sequential,
        "the threaded results must equal the sequential ones, in the same order"
    );
    for (n, factors) in numbers.iter().zip(&sequential) {
        assert_eq!(factors.iter().product::<u64>(), *n, "factors of {n}");
    }

    println!(
        "speed-up:        {:>9.2}x  (same {COUNT} answers, same order)",
        speed_up(sequential_time, threaded_time)
    );
    let primes = sequential.iter().filter(|f| f.len() == 1).count();
    println!("\n{primes} of the numbers are prime; a few results:");
    for (n, factors) in numbers.iter().zip(&sequential).take(5) {
        println!("  {n:>9} = {}", join_factors(factors));
    }
}

/// The prime factors of `n` in non-decreasing order, by trial division (the book's
/// `factorize`): divide out 2, then every odd candidate up to the square root of what is left.
/// `factorize(1)` is empty; a prime `p` gives `[p]`.
fn factorize(mut n: u64) -> Vec<u64> {
    let mut factors = Vec::new();
    while n % 2 == 0 && n > 1 {
        factors.push(2);
        n /= 2;
    }
    let mut candidate = 3;
    while candidate * candidate <= n {
        while n % candidate == 0 {
            factors.push(candidate);
            n /= candidate;
        }
        candidate += 2;
    }
    if n > 1 {
        factors.push(n);
    }
    factors
}

/// `[factorize(n) for n in numbers]`, on the calling thread.
fn factorize_all(numbers: &[u64]) -> Vec<Vec<u64>> {
    numbers.iter().map(|&n| factorize(n)).collect()
}

/// Splits `numbers` into `threads` contiguous shares (the first ones one longer when the split
/// is uneven), factorises each share on its own `gilfree::Thread`, and concatenates the
/// shares' results in order, so the output lines up with `numbers` exactly as
/// [`factorize_all`]'s does.
fn factorize_with_threads(numbers: &[u64], threads: usize) -> Vec<Vec<u64>> {
    let threads = threads.clamp(1, numbers.len().max(1));
    let (base, extra) = (numbers.len() / threads, numbers.len() % threads);
    let mut workers = Vec::with_capacity(threads);
    let mut start = 0;
    for i in 0..threads {
        let len = base + usize::from(i < extra);
        // Thread targets are 'static, like Python's: each thread owns a copy of its share.
        let share = numbers[start..start + len].to_vec();
        start += len;
        workers.push(Thread::spawn(move || factorize_all(&share)));
    }
    let mut results = Vec::with_capacity(numbers.len());
    for worker in workers {
        results.extend(worker.join().expect("a factorising thread panicked"));
    }
    results
}

/// `count` pseudo-random numbers in `low..=high` from a fixed `seed`: Marsaglia's xorshift64*,
/// so every run factorises the same numbers (Python's `random.seed(...)`, without a crate).
fn generate_numbers(count: usize, low: u64, high: u64, seed: u64) -> Vec<u64> {
    assert!(low <= high && seed != 0);
    let mut state = seed;
    let span = high - low + 1;
    (0..count)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let random = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            // The modulo bias is below span / 2^64, about 5e-12: irrelevant here.
            low + random % span
        })
        .collect()
}

fn speed_up(before: Duration, after: Duration) -> f64 {
    before.as_secs_f64() / after.as_secs_f64().max(1e-9)
}

fn join_factors(factors: &[u64]) -> String {
    let parts: Vec<String> = factors.iter().map(u64::to_string).collect();
    parts.join(" x ")
}
