//! The book's prime factorisation, moved to the GPU: N pseudo-random numbers in
//! [20,000, 100,000,000] factorised by trial division in an OpenCL elementwise kernel, and the
//! same work on a `ThreadPoolExecutor`, with the two answers compared number by number.
//!
//! ```python
//! FACTORIZE = """
//! uint factorize(uint n, __global uint *out) { ...trial division, as on the CPU... }
//! """
//! knl = ElementwiseKernel(ctx, "const uint *numbers, uint *factors, uint *counts",
//!                         "counts[i] = factorize(numbers[i], factors + 32 * i)",
//!                         preamble=FACTORIZE)
//! numbers_dev = cl_array.to_device(queue, numbers)
//! factors_dev = cl_array.zeros(queue, 32 * len(numbers), np.uint32)
//! counts_dev = cl_array.zeros(queue, len(numbers), np.uint32)
//! knl(numbers_dev, factors_dev, counts_dev, range=slice(len(numbers)))
//! factors, counts = factors_dev.get(), counts_dev.get()
//!
//! with ThreadPoolExecutor() as pool:
//!     chunks = [numbers[k:k + 1000] for k in range(0, len(numbers), 1000)]
//!     on_cpu = [f for chunk in pool.map(factorize_all, chunks) for f in chunk]
//! ```
//!
//! A kernel cannot return a list, so each number gets 32 slots in one flat output buffer (no
//! number below 2^32 has more than 31 prime factors; below 10^8, at most 26) and a count of how
//! many it used. The helper `factorize` is C placed before the kernel:
//! `exec.elementwise_with_preamble(arguments, operation, preamble)`, PyOpenCL's `preamble=`. The
//! range, PyOpenCL's `range=slice(n)`, is `.range(n)` on the call: N numbers, not the 32·N slots.
//! The pool gets the numbers in tasks of 1,000, so that its per-task bookkeeping (well under a
//! microsecond) is nothing beside the work (a few microseconds per number); the device gets them
//! all at once. Both come back as the same `gilfree::Future`.
//!
//! Notice the speed-up. On a CPU OpenCL driver (POCL) the "device" is the very cores the pool
//! runs on, so expect a ratio near 1, above or below depending on how well the driver
//! vectorises the kernel. On a GPU, thousands of work items divide at once: give it enough
//! numbers to keep it busy (`--count 1000000`) and the kernel beats the pool many times over,
//! though copying the numbers in and the factors out takes its share of the device's time.
//!
//! `cargo run --release --features opencl --example gpu_primes` (N = 10,000: the same numbers as
//! `examples/prime_factors.rs`), or `... --example gpu_primes -- --count 1000000` (a bare `N`
//! works too). `GILFREE_OPENCL_DEVICE` (e.g. `cpu`, `gpu,platform=nvidia`) chooses the device.
//! Without an OpenCL driver the example says how to install one and exits successfully.

use gilfree::ThreadPoolExecutor;
use gilfree::opencl::{ElementwiseKernel, OpenClError, OpenClExecutor};
use std::error::Error;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const DEFAULT_COUNT: usize = 10_000;
const LOW: u32 = 20_000;
/// Below 65,535², so the kernel's `c * c <= n` cannot overflow a `uint`.
const HIGH: u32 = 100_000_000;
/// prime_factors.rs's seed: the default run factorises the same 10,000 numbers.
const SEED: u64 = 0x5EED_CAFE_F00D_D00D;
/// Output slots per number; no `u32` has more than 31 prime factors.
const MAX_FACTORS: usize = 32;
/// Numbers per pool task.
const CHUNK: usize = 1_000;
/// Each measurement is the best of this many runs (the first device run can include the
/// driver's lazy set-up).
const RUNS: usize = 3;

/// The helper function before the kernel: the same trial division as [`factorize`], writing
/// the factors into `out` and returning how many there are (only `MAX_FACTORS` are stored, so a
/// count above it would mean a truncated list, never a write past the number's slots).
const FACTORIZE_C: &str = "
#define MAX_FACTORS 32

uint factorize(uint n, __global uint *out) {
    uint count = 0;
    while (n % 2 == 0 && n > 1) {
        if (count < MAX_FACTORS) out[count] = 2;
        count++;
        n /= 2;
    }
    for (uint c = 3; c * c <= n; c += 2) {
        while (n % c == 0) {
            if (count < MAX_FACTORS) out[count] = c;
            count++;
            n /= c;
        }
    }
    if (n > 1) {
        if (count < MAX_FACTORS) out[count] = n;
        count++;
    }
    return count;
}
";

fn main() -> ExitCode {
    let count = match parse_count(std::env::args().skip(1).collect()) {
        Ok(Some(count)) => count,
        Ok(None) => return ExitCode::SUCCESS, // --help
        Err(message) => {
            eprintln!("gpu_primes: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let exec = match OpenClExecutor::new() {
        Ok(exec) => exec,
        Err(err @ OpenClError::NoPlatform { .. }) => {
            explain_missing_driver(&err);
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("gpu_primes: cannot open an OpenCL device: {err}");
            return ExitCode::FAILURE;
        }
    };
    match run(&exec, count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gpu_primes: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(exec: &OpenClExecutor, count: usize) -> Result<(), Box<dyn Error>> {
    let numbers = generate_numbers(count, LOW, HIGH, SEED);
    // with ThreadPoolExecutor() as pool: Python's default size, min(32, cpus + 4).
    let pool = ThreadPoolExecutor::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("device:  {}", exec.device());
    println!("numbers: N = {count} in [{LOW}, {HIGH}]");
    println!(
        "pool:    {} worker threads (Python's default, min(32, cores + 4)) on {cores} cores, \
         tasks of {CHUNK} numbers",
        pool.max_workers()
    );

    // SAFETY: `numbers` and `counts` are indexed at `i` only, which gilfree keeps below their
    // lengths; `factorize` writes at most MAX_FACTORS slots from `factors + MAX_FACTORS * i`
    // (each store is guarded by `count < MAX_FACTORS`), and the only call, in `on_device`, runs
    // over `n` numbers with MAX_FACTORS * n slots in `factors`: every store is inside it.
    let (kernel, build) = timed(|| unsafe {
        exec.elementwise_with_preamble(
            "const uint *numbers, uint *factors, uint *counts",
            "counts[i] = factorize(numbers[i], factors + MAX_FACTORS * i)",
            FACTORIZE_C,
        )
    });
    let kernel = kernel?;
    println!("\nbuild the kernel:        {build:>10.2?}");

    let mut device_runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        device_runs.push(on_device(exec, &kernel, &numbers)?);
    }
    let first_total = device_runs[0].total;
    let device = device_runs
        .into_iter()
        .min_by_key(|run| run.total)
        .expect("at least one run");
    println!("on the device, best of {RUNS} runs (the first took {first_total:.2?}):");
    println!(
        "  upload numbers, allocate factors and counts {:>10.2?}",
        device.upload
    );
    println!(
        "  kernel                                      {:>10.2?}  (its device_time: {:.2?})",
        device.kernel, device.kernel_device
    );
    println!(
        "  download factors and counts                 {:>10.2?}",
        device.download
    );
    println!(
        "  total                                       {:>10.2?}",
        device.total
    );

    let mut pool_time = Duration::MAX;
    let mut on_cpu = Vec::new();
    for _ in 0..RUNS {
        let (result, time) = timed(|| on_pool(&pool, &numbers));
        on_cpu = result?;
        pool_time = pool_time.min(time);
    }
    println!("on the pool, best of {RUNS} runs:              {pool_time:>10.2?}");
    drop(pool); // the end of the `with` block

    check(&numbers, &device, &on_cpu)?;
    println!(
        "\nchecked: all {count} factor lists from the device equal the pool's, and each \
         multiplies back to its number"
    );
    println!("speed-up (above 1: the device was faster):");
    println!(
        "  pool time / device total  {:>7.2}x",
        ratio(pool_time, device.total)
    );
    println!(
        "  pool time / kernel alone  {:>7.2}x",
        ratio(pool_time, device.kernel)
    );

    let primes = on_cpu.iter().filter(|f| f.len() == 1).count();
    let most = on_cpu.iter().map(Vec::len).max().unwrap_or(0);
    println!("\n{primes} of the numbers are prime; the most factors any has is {most}; a few:");
    for (n, factors) in numbers.iter().zip(&on_cpu).take(5) {
        let parts: Vec<String> = factors.iter().map(u32::to_string).collect();
        println!("  {n:>9} = {}", parts.join(" x "));
    }
    Ok(())
}

/// One run on the device: the factors (`MAX_FACTORS` slots per number), the counts, and how
/// long each step took, measured on the host.
struct DeviceRun {
    factors: Vec<u32>,
    counts: Vec<u32>,
    upload: Duration,
    kernel: Duration,
    kernel_device: Duration,
    download: Duration,
    total: Duration,
}

fn on_device(
    exec: &OpenClExecutor,
    kernel: &ElementwiseKernel,
    numbers: &[u32],
) -> Result<DeviceRun, Box<dyn Error>> {
    let n = numbers.len();
    let started = Instant::now();
    // numbers_dev = cl_array.to_device(queue, numbers); factors_dev = cl_array.zeros(...); ...
    let (numbers_dev, factors_dev, counts_dev) = (
        exec.to_device(numbers),
        exec.zeros::<u32>(MAX_FACTORS * n),
        exec.zeros::<u32>(n),
    );
    let (numbers_dev, factors_dev, counts_dev) = (
        numbers_dev.into_result()?,
        factors_dev.into_result()?,
        counts_dev.into_result()?,
    );
    let uploaded = started.elapsed();

    // knl(numbers_dev, factors_dev, counts_dev, range=slice(n)): the range is the N numbers,
    // not the 32·N slots of `factors`.
    let call = kernel
        .call((&numbers_dev, &factors_dev, &counts_dev))
        .range(n);
    let run = exec.submit(call).into_result()?;
    let ran = started.elapsed();

    // factors_dev.get(), counts_dev.get(): both queued, then waited for.
    let (factors, counts) = (factors_dev.to_host(), counts_dev.to_host());
    let (factors, counts) = (factors.into_result()?, counts.into_result()?);
    let total = started.elapsed();
    Ok(DeviceRun {
        factors,
        counts,
        upload: uploaded,
        kernel: ran - uploaded,
        kernel_device: run.device_time(),
        download: total - ran,
        total,
    })
}

/// `[f for chunk in pool.map(factorize_all, chunks) for f in chunk]`: tasks of `CHUNK` numbers,
/// flattened back in input order.
fn on_pool(pool: &ThreadPoolExecutor, numbers: &[u32]) -> Result<Vec<Vec<u32>>, Box<dyn Error>> {
    let chunks: Vec<Vec<u32>> = numbers.chunks(CHUNK).map(<[u32]>::to_vec).collect();
    let factorize_all = |chunk: Vec<u32>| chunk.into_iter().map(factorize).collect::<Vec<_>>();
    let mut results = Vec::with_capacity(numbers.len());
    for chunk in pool.map(factorize_all, chunks) {
        results.extend(chunk?);
    }
    Ok(results)
}

/// The device's answer must equal the pool's for every number, and each list must multiply back
/// to its number.
fn check(numbers: &[u32], device: &DeviceRun, on_cpu: &[Vec<u32>]) -> Result<(), String> {
    if on_cpu.len() != numbers.len() || device.counts.len() != numbers.len() {
        return Err(format!(
            "{} numbers, but {} results from the pool and {} counts from the device",
            numbers.len(),
            on_cpu.len(),
            device.counts.len()
        ));
    }
    for (i, (&n, expected)) in numbers.iter().zip(on_cpu).enumerate() {
        let count = device.counts[i] as usize;
        if count > MAX_FACTORS {
            return Err(format!(
                "{n} has {count} factors on the device, more than {MAX_FACTORS}"
            ));
        }
        let slots = &device.factors[i * MAX_FACTORS..][..count];
        if slots != expected.as_slice() {
            return Err(format!(
                "number {i}, {n}: the device says {slots:?}, the pool {expected:?}"
            ));
        }
        let product: u64 = expected.iter().map(|&f| u64::from(f)).product();
        if product != u64::from(n) {
            return Err(format!(
                "the factors {expected:?} of {n} multiply to {product}"
            ));
        }
    }
    Ok(())
}

/// The prime factors of `n`, smallest first, by trial division: the book's `factorize`, and
/// line for line the kernel's.
fn factorize(mut n: u32) -> Vec<u32> {
    let mut factors = Vec::new();
    while n % 2 == 0 && n > 1 {
        factors.push(2);
        n /= 2;
    }
    let mut c = 3;
    while c * c <= n {
        while n % c == 0 {
            factors.push(c);
            n /= c;
        }
        c += 2;
    }
    if n > 1 {
        factors.push(n);
    }
    factors
}

/// `count` pseudo-random numbers in `low..=high` from a fixed `seed`: Marsaglia's xorshift64*,
/// as in `prime_factors.rs`, so both examples factorise the same numbers.
fn generate_numbers(count: usize, low: u32, high: u32, seed: u64) -> Vec<u32> {
    assert!(low <= high && seed != 0);
    let mut state = seed;
    let span = u64::from(high - low) + 1;
    (0..count)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let random = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            // Below `high`, so the sum fits a u32.
            low + (random % span) as u32
        })
        .collect()
}

const USAGE: &str = "usage: gpu_primes [--count N | N]   (default N = 10000)";

/// The count from the command line: none (the default), `--count N`, `--count=N` or `N`;
/// `_` and `,` may group digits. `Ok(None)` for `--help`.
fn parse_count(args: Vec<String>) -> Result<Option<usize>, String> {
    let text = match args.as_slice() {
        [] => return Ok(Some(DEFAULT_COUNT)),
        [help] if help == "--help" || help == "-h" => {
            println!("{USAGE}");
            return Ok(None);
        }
        [flag, n] if flag == "--count" => n.as_str(),
        [arg] => arg.strip_prefix("--count=").unwrap_or(arg),
        _ => return Err(format!("cannot read the arguments {args:?}")),
    };
    let digits: String = text.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    match digits.parse::<usize>() {
        Ok(0) => Err("the count must be at least 1".into()),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(format!("{text:?} is not a count")),
    }
}

/// Runs `f` once: its result and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

fn ratio(before: Duration, after: Duration) -> f64 {
    before.as_secs_f64() / after.as_secs_f64().max(1e-9)
}

/// What to say when the machine has no OpenCL driver at all.
fn explain_missing_driver(err: &OpenClError) {
    println!("gpu_primes needs an OpenCL driver, and this machine has none: {err}");
    println!("Install one and run it again:");
    println!(
        "  - any machine, on the CPU (Debian/Ubuntu): apt install pocl-opencl-icd ocl-icd-opencl-dev"
    );
    println!(
        "  - an NVIDIA GPU: the NVIDIA driver ships its OpenCL ICD (Debian: nvidia-opencl-icd)"
    );
    println!("  - AMD or Intel GPUs: their ROCm / compute-runtime packages");
    println!("`clinfo -l` lists the platforms an installed driver provides.");
}
