//! The book's CPU-bound workload: the prime factors of 10,000 numbers, first on one thread,
//! then split across 10 `gilfree::Thread`s, then handed to a `ThreadPoolExecutor` one number at
//! a time with `pool.map`.
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
//!
//! with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
//!     factors = list(pool.map(factorize, numbers))
//! ```
//!
//! The pool needs no splitting into shares: `map` submits one task per number, as many
//! workers as cores take them from one queue, and the results come back in input order.
//! Notice that it comes close to the hand-split threads even though it schedules 10,000 tasks
//! instead of 10: a task costs under a microsecond of bookkeeping, and a number here takes a
//! few microseconds to factorise. Handing the pool chunks of 100 numbers instead (Python's
//! `chunksize`) makes that cost vanish.
//!
//! `cargo run --release --example prime_factors`

use gilfree::{Thread, ThreadPoolExecutor};
use std::time::{Duration, Instant};

const COUNT: usize = 10_000;
const LOW: u64 = 20_000;
const HIGH: u64 = 100_000_000;
const THREADS: usize = 10;
const SEED: u64 = 0x5EED_CAFE_F00D_D00D;
/// Numbers per task in the chunked pool run.
const CHUNK: usize = 100;
/// Each measurement is the best of this many runs.
const RUNS: usize = 3;

fn main() {
    let numbers = generate_numbers(COUNT, LOW, HIGH, SEED);
    println!("factorising {COUNT} pseudo-random numbers in [{LOW}, {HIGH}]");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("this machine has {cores} core(s); each time is the best of {RUNS} runs\n");

    // Sequential: for n in numbers: factors.append(factorize(n))
    let (sequential, sequential_time) = best_of(RUNS, || factorize_all(&numbers));
    println!("sequential:        {sequential_time:>10.2?}");

    let (threaded, threaded_time) = best_of(RUNS, || factorize_with_threads(&numbers, THREADS));
    println!("{THREADS} threads:        {threaded_time:>10.2?}  (one contiguous share each)");

    // with ThreadPoolExecutor(max_workers=cores) as pool: list(pool.map(factorize, numbers))
    let pool = ThreadPoolExecutor::new(cores);
    let (pooled, pooled_time) = best_of(RUNS, || factorize_with_pool(&pool, &numbers));
    println!("pool of {cores} workers: {pooled_time:>10.2?}  (pool.map, one task per number)");
    let (chunked, chunked_time) = best_of(RUNS, || factorize_in_chunks(&pool, &numbers, CHUNK));
    println!(
        "pool of {cores} workers: {chunked_time:>10.2?}  (pool.map over {} chunks of {CHUNK})",
        COUNT.div_ceil(CHUNK)
    );
    assert!(pool.worker_count() <= cores, "never more than max_workers");
    drop(pool); // the end of the `with` block

    assert_eq!(sequential.len(), COUNT);
    assert_eq!(
        threaded, sequential,
        "the threaded results must equal the sequential ones, in the same order"
    );
    assert_eq!(
        pooled, sequential,
        "the pool's results must equal the sequential ones, in the same order"
    );
    assert_eq!(chunked, sequential, "and so must the chunked pool's");
    for (n, factors) in numbers.iter().zip(&sequential) {
        assert_eq!(factors.iter().product::<u64>(), *n, "factors of {n}");
    }

    println!("\nsame {COUNT} answers, in the same order, all four ways; speed-up over sequential:");
    for (how, time) in [
        (format!("{THREADS} threads"), threaded_time),
        ("pool, per number".to_string(), pooled_time),
        ("pool, in chunks".to_string(), chunked_time),
    ] {
        println!("  {how:<17} {:>6.2}x", speed_up(sequential_time, time));
    }
    println!(
        "pool (per number) vs {THREADS} threads: {:.2}x  (above 1: the pool was faster)",
        speed_up(threaded_time, pooled_time)
    );
    let primes = sequential.iter().filter(|f| f.len() == 1).count();
    println!("\n{primes} of the numbers are prime; a few results:");
    for (n, factors) in numbers.iter().zip(&sequential).take(5) {
        println!("  {n:>9} = {}", join_factors(factors));
    }
}

/// Runs `f` `runs` times; its result and the shortest time (the machine may be busy with
/// other work: the best run is the one least disturbed).
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut best = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let value = f();
        let time = started.elapsed();
        if best.as_ref().is_none_or(|(_, t)| time < *t) {
            best = Some((value, time));
        }
    }
    best.expect("at least one run")
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

/// `list(pool.map(factorize, numbers))`: one task per number, the results in `numbers`'
/// order; panics if a task panicked (`map` yields the task's panic as an error).
fn factorize_with_pool(pool: &ThreadPoolExecutor, numbers: &[u64]) -> Vec<Vec<u64>> {
    pool.map(factorize, numbers.to_vec())
        .collect::<Result<_, _>>()
        .unwrap_or_else(|err| panic!("a factorising task failed: {err}"))
}

/// The pool with bigger tasks: `numbers` in chunks of `chunk`, one task each (Python's
/// `chunksize`, which only `ProcessPoolExecutor.map` honours), flattened back in order.
fn factorize_in_chunks(pool: &ThreadPoolExecutor, numbers: &[u64], chunk: usize) -> Vec<Vec<u64>> {
    let chunks: Vec<Vec<u64>> = numbers.chunks(chunk.max(1)).map(<[u64]>::to_vec).collect();
    let mut results = Vec::with_capacity(numbers.len());
    for share in pool.map(|share: Vec<u64>| factorize_all(&share), chunks) {
        results.extend(share.unwrap_or_else(|err| panic!("a factorising task failed: {err}")));
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
