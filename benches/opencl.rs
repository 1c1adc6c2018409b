//! `gilfree::opencl`'s `OpenClExecutor` beside a `ThreadPoolExecutor` doing the same work on
//! the host, each comparison in one criterion group so that the ratios come from the same run.
//! `benches/ratios.py` turns criterion's output into the table of ratios.
//!
//! `cargo bench --features opencl --bench opencl`; `GILFREE_BENCH_FULL=1` (or the suite's
//! `GILFREE_BENCH_MODE=full`) adds the big sizes and lengthens every group,
//! `GILFREE_OPENCL_DEVICE` picks the device (`cpu`, `gpu,platform=nvidia`, `index=1`). Without
//! an OpenCL driver the bench prints a note and measures nothing.
//!
//! The pool has one worker per CPU (`available_parallelism`), all started before the first
//! timed run, and gets the data in one contiguous chunk per worker (`pool.scope`, borrowing
//! the slices), so it runs at the host's memory bandwidth: the fair peer of a kernel.
//!
//! * `opencl_vector_add/{n}`: `c[i] = a[i] + b[i]` over `n` `f32`s (10⁶, 10⁷; 10⁸ with
//!   `GILFREE_BENCH_FULL=1`, where the device allows buffers that big).
//! * `opencl_saxpy/{n}`: `y[i] = a * x[i] + y[i]`, in place, same sizes.
//!
//!   Each has three ids: `device` (the buffers already on the device: the kernel call and its
//!   wait, `exec.submit(k.call(..)).result()`), `end_to_end` (upload the inputs into new
//!   buffers with `to_device`, a new output buffer for vector add, run, download the result
//!   with `to_host`) and `pool` (the same loop on host slices).
//! * `opencl_primes/{n}`: the prime factors, by trial division, of `n` pseudo-random numbers
//!   in [20,000, 100,000,000] (10,000; 1,000,000 with `GILFREE_BENCH_FULL=1`): `end_to_end`
//!   (one work item per number; upload, run, download the factor table) and `pool` (tasks of
//!   1,000 numbers, fewer where that would leave a worker without one).
//!
//! Before measuring, every group checks once that the OpenCL results equal the pool's, so a
//! broken kernel cannot be timed.
//!
//! Outside criterion, a table on stdout at the end: the device and the host's cores; compile
//! times (a source the driver has never seen, the same source again, which is gilfree's cache,
//! and that kernel's first and second launch, since some drivers, POCL among them, finish
//! compiling at the first launch); upload (`to_device` into a new buffer, `write` into an
//! existing one) and download (`to_host`) times per size; and each kernel's on-device time
//! (`Run::device_time`, the command queue's profile) with the bandwidth it achieved, beside
//! the same call timed on the host and the pool's time. A raw `program` vector add with one
//! work item per element stands beside the elementwise one (which also runs one work item per
//! index, behind a range check), to show what the generated code costs. Bandwidth counts 3 arrays of 4-byte floats (vector add reads a and b
//! and writes c; SAXPY reads x and y and writes y), in decimal GB/s.

// Only `quick` is used here: the threaded helpers suit benches whose threads are their own.
#[allow(dead_code)]
mod common;

use common::quick;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use gilfree::ThreadPoolExecutor;
use gilfree::opencl::{
    DeviceBuffer, ElementwiseKernel, Kernel, KernelCall, OpenClError, OpenClExecutor, Run, Scalar,
};
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The vector sizes measured by default; `GILFREE_BENCH_FULL=1` adds [`FULL_SIZE`].
const SIZES: [usize; 2] = [1_000_000, 10_000_000];
const FULL_SIZE: usize = 100_000_000;

/// How many numbers the primes group factorises (default, and with `GILFREE_BENCH_FULL=1`).
const PRIMES: usize = 10_000;
const PRIMES_FULL: usize = 1_000_000;
const LOW: u32 = 20_000;
const HIGH: u32 = 100_000_000;
const SEED: u64 = 0x5EED_CAFE_F00D_D00D;
/// Numbers per pool task in the primes group, at most: fewer when that leaves a worker idle
/// (10,000 numbers on 16 workers: tasks of 625).
const PRIME_CHUNK: usize = 1_000;
/// Factor slots per number: a number below 2^27 (HIGH is) has at most 26 prime factors. The
/// factors of number `j` are `factors[j * MAX_FACTORS..]`, in non-decreasing order, padded
/// with zeros.
const MAX_FACTORS: usize = 26;
const _: () = assert!((HIGH as u64) < 1 << (MAX_FACTORS + 1));

/// SAXPY's `a`. With it and the inputs of [`inputs`], every product and sum is exact in
/// `f32`, so the device (which may fuse `a * x + y` into one FMA) and the host agree bit for
/// bit.
const A: f32 = 2.0;

const VECTOR_ADD: (&str, &str) = (
    "const float *a, const float *b, float *c",
    "c[i] = a[i] + b[i]",
);
const SAXPY: (&str, &str) = (
    "float a, const float *x, float *y",
    "y[i] = a * x[i] + y[i]",
);
const VECTOR_ADD_RAW: &str = "__kernel void bench_vector_add(__global const float *a, \
     __global const float *b, __global float *c) {\n\
     \x20   size_t i = get_global_id(0);\n\
     \x20   c[i] = a[i] + b[i];\n\
     }\n";
const PRIMES_ARGS: &str = "const uint *numbers, uint *factors";
const PRIMES_OPERATION: &str = "bench_factorize(numbers[i], factors + i * BENCH_MAX_FACTORS)";

/// The OpenCL C twin of [`factorize`], as the elementwise kernel's preamble.
fn primes_preamble() -> String {
    format!(
        "#define BENCH_MAX_FACTORS {MAX_FACTORS}\n\
         void bench_factorize(uint n, __global uint *out) {{\n\
         \x20   int k = 0;\n\
         \x20   while (n % 2u == 0u && n > 1u) {{ out[k++] = 2u; n /= 2u; }}\n\
         \x20   for (uint c = 3u; c * c <= n; c += 2u) {{\n\
         \x20       while (n % c == 0u) {{ out[k++] = c; n /= c; }}\n\
         \x20   }}\n\
         \x20   if (n > 1u) {{ out[k++] = n; }}\n\
         \x20   while (k < BENCH_MAX_FACTORS) {{ out[k++] = 0u; }}\n\
         }}\n"
    )
}

// ---------------------------------------------------------------------------------------------
// The host side: the same work on the pool

/// `bench_factorize` on the host: trial division by 2, then by every odd candidate up to the
/// square root of what is left; `out` gets the factors, then zeros.
fn factorize(mut n: u32, out: &mut [u32]) {
    let mut k = 0;
    while n % 2 == 0 && n > 1 {
        out[k] = 2;
        k += 1;
        n /= 2;
    }
    let mut c = 3;
    while c * c <= n {
        while n % c == 0 {
            out[k] = c;
            k += 1;
            n /= c;
        }
        c += 2;
    }
    if n > 1 {
        out[k] = n;
        k += 1;
    }
    out[k..].fill(0);
}

/// `len / parts` rounded up: the chunk length that gives one chunk per worker.
fn chunk_len(len: usize, parts: usize) -> usize {
    len.div_ceil(parts.max(1)).max(1)
}

fn pool_vector_add(pool: &ThreadPoolExecutor, workers: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    let chunk = chunk_len(c.len(), workers);
    pool.scope(|s| {
        for ((a, b), c) in a
            .chunks(chunk)
            .zip(b.chunks(chunk))
            .zip(c.chunks_mut(chunk))
        {
            s.submit(move || {
                for ((c, a), b) in c.iter_mut().zip(a).zip(b) {
                    *c = a + b;
                }
            });
        }
    });
}

fn pool_saxpy(pool: &ThreadPoolExecutor, workers: usize, a: f32, x: &[f32], y: &mut [f32]) {
    let chunk = chunk_len(y.len(), workers);
    pool.scope(|s| {
        for (x, y) in x.chunks(chunk).zip(y.chunks_mut(chunk)) {
            s.submit(move || {
                for (y, x) in y.iter_mut().zip(x) {
                    *y += a * x; // y = a x + y
                }
            });
        }
    });
}

fn pool_primes(pool: &ThreadPoolExecutor, workers: usize, numbers: &[u32], factors: &mut [u32]) {
    let chunk = PRIME_CHUNK.min(chunk_len(numbers.len(), workers));
    pool.scope(|s| {
        let shares = numbers
            .chunks(chunk)
            .zip(factors.chunks_mut(chunk * MAX_FACTORS));
        for (numbers, factors) in shares {
            s.submit(move || {
                for (&n, out) in numbers.iter().zip(factors.chunks_mut(MAX_FACTORS)) {
                    factorize(n, out);
                }
            });
        }
    });
}

/// Two input vectors of `n` with small, exactly representable values (see [`A`]).
fn inputs(n: usize) -> (Vec<f32>, Vec<f32>) {
    let x = (0..n).map(|i| (i % 1000) as f32 * 0.25).collect();
    let y = (0..n).map(|i| (i % 777) as f32 * 0.5).collect();
    (x, y)
}

/// `count` pseudo-random numbers in `LOW..=HIGH` from a fixed seed (Marsaglia's xorshift64*,
/// as examples/prime_factors.rs draws them).
fn prime_numbers(count: usize) -> Vec<u32> {
    let mut state = SEED;
    let span = u64::from(HIGH - LOW) + 1;
    (0..count)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let random = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            LOW + (random % span) as u32
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The OpenCL side

/// Copies `data` to a new device buffer and waits for it.
fn upload(exec: &OpenClExecutor, data: &[f32]) -> DeviceBuffer<f32> {
    exec.to_device(data).into_result().expect("to_device")
}

/// Runs a kernel call and waits for it.
fn run(exec: &OpenClExecutor, call: KernelCall) -> Run {
    *exec.submit(call).result().expect("kernel call")
}

/// Downloads `buffer` and hands the host copy to `f`. The future's value is borrowed, not
/// moved out: `into_result` moves it only if the device thread has already dropped its own
/// handle on the future, and copies the whole vector when it has not.
fn download<T: Scalar, R>(buffer: &DeviceBuffer<T>, f: impl FnOnce(&[T]) -> R) -> R {
    let host = buffer.to_host();
    f(host.result().expect("to_host"))
}

fn vector_add_end_to_end(
    exec: &OpenClExecutor,
    add: &ElementwiseKernel,
    a: &[f32],
    b: &[f32],
    f: impl FnOnce(&[f32]),
) {
    // Queued together: the device thread runs them in order, without a round trip between.
    let (a, b, c) = (
        exec.to_device(a),
        exec.to_device(b),
        exec.zeros::<f32>(a.len()),
    );
    let (a, b, c) = (
        a.into_result().expect("to_device"),
        b.into_result().expect("to_device"),
        c.into_result().expect("zeros"),
    );
    let ran = exec.submit(add.call((&a, &b, &c)));
    download(&c, f);
    ran.result().expect("kernel call");
}

fn saxpy_end_to_end(
    exec: &OpenClExecutor,
    saxpy: &ElementwiseKernel,
    x: &[f32],
    y: &[f32],
    f: impl FnOnce(&[f32]),
) {
    let (x, y) = (exec.to_device(x), exec.to_device(y));
    let (x, y) = (
        x.into_result().expect("to_device"),
        y.into_result().expect("to_device"),
    );
    let ran = exec.submit(saxpy.call((A, &x, &y)));
    download(&y, f);
    ran.result().expect("kernel call");
}

fn primes_end_to_end(
    exec: &OpenClExecutor,
    primes: &ElementwiseKernel,
    numbers: &[u32],
    f: impl FnOnce(&[u32]),
) -> Run {
    let (numbers, factors) = (
        exec.to_device(numbers),
        exec.zeros::<u32>(numbers.len() * MAX_FACTORS),
    );
    let (numbers, factors) = (
        numbers.into_result().expect("to_device"),
        factors.into_result().expect("zeros"),
    );
    let ran = exec.submit(primes.call((&numbers, &factors)));
    download(&factors, f);
    *ran.result().expect("kernel call")
}

// ---------------------------------------------------------------------------------------------
// Setup

struct Bench {
    exec: OpenClExecutor,
    pool: ThreadPoolExecutor,
    workers: usize,
    /// `cargo bench` (criterion's `--bench`), as opposed to `cargo test --benches`, which
    /// runs every benchmark once: the table then takes one sample per row.
    measuring: bool,
    /// The vector sizes the device can hold.
    sizes: Vec<usize>,
    /// Sizes left out, and why.
    skipped: Vec<(usize, String)>,
    add: ElementwiseKernel,
    saxpy: ElementwiseKernel,
    primes: ElementwiseKernel,
    /// Vector add as a raw `program` kernel: one work item per element (the table only).
    add_raw: Kernel,
    /// How many numbers the primes group factorises.
    primes_n: usize,
    /// (what, time) for the compile table.
    compile: Vec<(String, Duration)>,
}

/// Opens the device, or says why not: `None` means "nothing to measure here", exit 0.
fn open() -> Option<OpenClExecutor> {
    match OpenClExecutor::new() {
        Ok(exec) => Some(exec),
        Err(OpenClError::NoPlatform { detail }) => {
            println!("opencl bench: no OpenCL driver ({detail}); nothing measured");
            None
        }
        Err(err @ OpenClError::NoMatchingDevice { .. })
            if std::env::var_os("GILFREE_OPENCL_DEVICE").is_none() =>
        {
            println!("opencl bench: the OpenCL driver lists no device ({err}); nothing measured");
            None
        }
        Err(err) => {
            eprintln!("opencl bench: cannot open an OpenCL device: {err}");
            std::process::exit(1);
        }
    }
}

/// Times `f` once.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Builds one of the bench's elementwise kernels ([`VECTOR_ADD`], [`SAXPY`], the primes).
fn build(
    exec: &OpenClExecutor,
    (args, operation): (&str, &str),
    preamble: &str,
) -> ElementwiseKernel {
    // SAFETY: the vector add and SAXPY index every buffer at `i` only, which gilfree keeps
    // below each buffer's length; `bench_factorize` writes MAX_FACTORS slots from
    // `factors + i * MAX_FACTORS` (no number up to HIGH has more factors: the const assert
    // beside MAX_FACTORS), and every primes call passes MAX_FACTORS slots per number.
    unsafe { exec.elementwise_with_preamble(args, operation, preamble) }
        .unwrap_or_else(|err| panic!("the bench's kernel does not build: {err}"))
}

impl Bench {
    fn new(exec: OpenClExecutor) -> Bench {
        // GILFREE_BENCH_FULL=1 or GILFREE_BENCH_MODE=full.
        let full = common::full();
        let measuring = std::env::args().any(|a| a == "--bench");
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let device = exec.device().clone();
        println!("opencl bench: device {device}");
        println!(
            "opencl bench:   {}, max buffer {:.2} GiB, max work group {}",
            device.version,
            device.max_alloc_bytes as f64 / (1u64 << 30) as f64,
            device.max_work_group_size
        );

        // The sizes the device can hold: one array per buffer, and at once the `device`
        // variant's three buffers plus the `end_to_end` variant's three.
        let mut sizes = SIZES.to_vec();
        if full {
            sizes.push(FULL_SIZE);
        }
        let mut skipped = Vec::new();
        sizes.retain(|&n| {
            let bytes = (n * 4) as u64;
            let why = if device.max_alloc_bytes > 0 && bytes > device.max_alloc_bytes {
                format!("a buffer of {bytes} bytes is over the device's max alloc")
            } else if device.global_mem_bytes > 0 && 6 * bytes > device.global_mem_bytes {
                format!("6 buffers of {bytes} bytes are over the device's memory")
            } else {
                return true;
            };
            skipped.push((n, why));
            false
        });

        // Compile: a source no driver cache has seen (a unique comment), then the same again.
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let fresh = format!("// opencl bench, run {nonce}\n");
        let mut compile = Vec::new();
        let (fresh_add, first) = timed(|| build(&exec, VECTOR_ADD, &fresh));
        compile.push((
            "elementwise, a new source (the driver compiles)".into(),
            first,
        ));
        let (_, again) = timed(|| build(&exec, VECTOR_ADD, &fresh));
        compile.push(("elementwise, the same source again (cached)".into(), again));
        // Some drivers (POCL) compile a kernel's work-group code lazily, at its first launch.
        let (a, b) = inputs(4096);
        let (a, b, c) = (upload(&exec, &a), upload(&exec, &b), upload(&exec, &b));
        for what in ["first", "second"] {
            let (_, t) = timed(|| run(&exec, fresh_add.call((&a, &b, &c))));
            compile.push((format!("  the new source's {what} launch (4096 items)"), t));
        }
        let (add, t) = timed(|| build(&exec, VECTOR_ADD, ""));
        compile.push((
            "vector add, first build (a driver cache may answer)".into(),
            t,
        ));
        let (saxpy, t) = timed(|| build(&exec, SAXPY, ""));
        compile.push(("saxpy, first build (a driver cache may answer)".into(), t));
        let (primes, t) =
            timed(|| build(&exec, (PRIMES_ARGS, PRIMES_OPERATION), &primes_preamble()));
        compile.push(("primes, first build (a driver cache may answer)".into(), t));
        // SAFETY: `bench_vector_add` indexes its three buffers at its global id, and every call
        // runs over the default range (the first buffer's length) with three buffers of one
        // length.
        let (add_raw, t) = timed(|| {
            unsafe { exec.program(VECTOR_ADD_RAW) }
                .and_then(|p| p.kernel("bench_vector_add"))
                .unwrap_or_else(|err| panic!("the bench's kernel does not build: {err}"))
        });
        compile.push((
            "vector add raw (program), first build (a driver cache may answer)".into(),
            t,
        ));

        // gilfree starts its workers lazily, one per submit while none is idle: tasks that
        // wait for each other start them all.
        let pool = ThreadPoolExecutor::new(workers);
        let gate = std::sync::Arc::new(std::sync::Barrier::new(workers));
        let started: Vec<_> = (0..workers)
            .map(|_| {
                let gate = std::sync::Arc::clone(&gate);
                pool.submit(move || {
                    gate.wait();
                })
            })
            .collect();
        for fut in started {
            fut.result().unwrap();
        }
        assert_eq!(pool.worker_count(), workers);

        let mut shown: Vec<String> = sizes.iter().map(usize::to_string).collect();
        if !full {
            shown.push(format!("(GILFREE_BENCH_FULL=1 adds {FULL_SIZE})"));
        }
        println!(
            "opencl bench: host {workers} cores, a pool of {workers} workers; sizes {}",
            shown.join(", ")
        );
        for (n, why) in &skipped {
            println!("opencl bench: size {n} left out: {why}");
        }
        Bench {
            exec,
            pool,
            workers,
            measuring,
            sizes,
            skipped,
            add,
            saxpy,
            primes,
            add_raw,
            primes_n: if full { PRIMES_FULL } else { PRIMES },
            compile,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The criterion groups

/// A group for one size: few samples for the big sizes, each of the same number of runs.
fn group<'a>(c: &'a mut Criterion, name: &str, n: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut group = quick(c, name, if n >= 10_000_000 { 10 } else { 20 });
    // Milliseconds per run: the same number of runs per sample, not criterion's 1, 2, … 20.
    group.sampling_mode(SamplingMode::Flat);
    group
}

fn vector_add(c: &mut Criterion, bench: &Bench) {
    let (exec, pool, workers) = (&bench.exec, &bench.pool, bench.workers);
    for &n in &bench.sizes {
        let (a, b) = inputs(n);
        let mut c_host = vec![0.0f32; n];
        let (a_dev, b_dev, c_dev) = (
            upload(exec, &a),
            upload(exec, &b),
            exec.zeros::<f32>(n).into_result().expect("zeros"),
        );

        // The check: device, end to end and pool all give a + b.
        pool_vector_add(pool, workers, &a, &b, &mut c_host);
        assert!(
            c_host
                .iter()
                .zip(a.iter().zip(&b))
                .all(|(c, (a, b))| *c == a + b)
        );
        run(exec, bench.add.call((&a_dev, &b_dev, &c_dev)));
        download(&c_dev, |c| {
            assert!(c == c_host, "vector add: device != pool, n={n}")
        });
        vector_add_end_to_end(exec, &bench.add, &a, &b, |c| {
            assert!(c == c_host, "vector add: end to end != pool, n={n}");
        });

        let mut group = group(c, &format!("opencl_vector_add/{n}"), n);
        group.throughput(Throughput::Bytes(3 * 4 * n as u64));
        group.bench_function("device", |bn| {
            bn.iter(|| run(exec, bench.add.call((&a_dev, &b_dev, &c_dev))))
        });
        group.bench_function("end_to_end", |bn| {
            bn.iter(|| {
                vector_add_end_to_end(exec, &bench.add, &a, &b, |c| {
                    black_box(c);
                })
            })
        });
        group.bench_function("pool", |bn| {
            bn.iter(|| pool_vector_add(pool, workers, &a, &b, black_box(&mut c_host)))
        });
        group.finish();
    }
}

fn saxpy(c: &mut Criterion, bench: &Bench) {
    let (exec, pool, workers) = (&bench.exec, &bench.pool, bench.workers);
    for &n in &bench.sizes {
        let (x, y) = inputs(n);
        let (x_dev, y_dev) = (upload(exec, &x), upload(exec, &y));

        // The check, on fresh copies of y: device, end to end and pool all give a x + y.
        let mut y_host = y.clone();
        pool_saxpy(pool, workers, A, &x, &mut y_host);
        assert!(
            y_host
                .iter()
                .zip(x.iter().zip(&y))
                .all(|(r, (x, y))| *r == A * x + y)
        );
        run(exec, bench.saxpy.call((A, &x_dev, &y_dev)));
        download(&y_dev, |r| {
            assert!(r == y_host, "saxpy: device != pool, n={n}")
        });
        saxpy_end_to_end(exec, &bench.saxpy, &x, &y, |r| {
            assert!(r == y_host, "saxpy: end to end != pool, n={n}");
        });

        // From here on `y_dev` and `y_host` accumulate a x at every run: the values grow
        // linearly (no overflow, no denormals), the timing does not change.
        let mut group = group(c, &format!("opencl_saxpy/{n}"), n);
        group.throughput(Throughput::Bytes(3 * 4 * n as u64));
        group.bench_function("device", |bn| {
            bn.iter(|| run(exec, bench.saxpy.call((A, &x_dev, &y_dev))))
        });
        group.bench_function("end_to_end", |bn| {
            bn.iter(|| {
                saxpy_end_to_end(exec, &bench.saxpy, &x, &y, |r| {
                    black_box(r);
                })
            })
        });
        group.bench_function("pool", |bn| {
            bn.iter(|| pool_saxpy(pool, workers, A, &x, black_box(&mut y_host)))
        });
        group.finish();
    }
}

fn primes(c: &mut Criterion, bench: &mut Bench) {
    let n = bench.primes_n;
    let numbers = prime_numbers(n);
    let mut factors = vec![0u32; n * MAX_FACTORS];

    // The check: the pool's factors multiply back to each number, and the device's equal them.
    pool_primes(&bench.pool, bench.workers, &numbers, &mut factors);
    for (&number, f) in numbers.iter().zip(factors.chunks(MAX_FACTORS)) {
        let product: u64 = f
            .iter()
            .take_while(|&&p| p != 0)
            .map(|&p| u64::from(p))
            .product();
        assert_eq!(product, u64::from(number), "factors of {number}: {f:?}");
    }
    // The first run also pays for what the driver compiles at a kernel's first launch.
    let (_, first) = timed(|| {
        primes_end_to_end(&bench.exec, &bench.primes, &numbers, |f| {
            assert!(f == factors, "primes: device != pool");
        })
    });
    let what = format!("primes, first end-to-end run (n={n}; later runs below)");
    bench.compile.push((what, first));

    let (exec, pool, kernel) = (&bench.exec, &bench.pool, &bench.primes);
    let mut group = quick(c, &format!("opencl_primes/{n}"), 10);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("end_to_end", |bn| {
        bn.iter(|| {
            primes_end_to_end(exec, kernel, &numbers, |f| {
                black_box(f);
            })
        })
    });
    group.bench_function("pool", |bn| {
        bn.iter(|| pool_primes(pool, bench.workers, &numbers, black_box(&mut factors)))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// The table: compile, transfer and kernel times, outside criterion

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The median of `reps` runs of `f`, each timing itself.
fn median_of(reps: usize, mut f: impl FnMut() -> Duration) -> Duration {
    median((0..reps.max(1)).map(|_| f()).collect())
}

fn fmt_time(t: Duration) -> String {
    let s = t.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} us", s * 1e6)
    }
}

/// Decimal gigabytes per second; "-" for a zero time (a driver without profiling).
fn gb_per_s(bytes: usize, t: Duration) -> String {
    if t.is_zero() {
        "-".into()
    } else {
        format!("{:.1}", bytes as f64 / t.as_secs_f64() / 1e9)
    }
}

fn table(bench: &Bench) {
    let exec = &bench.exec;
    let reps = |n: usize| match (bench.measuring, n) {
        (false, _) => 1,
        (true, ..=1_000_000) => 21,
        (true, ..=10_000_000) => 9,
        _ => 5,
    };
    println!();
    println!("opencl bench: {}", exec.device());
    println!(
        "opencl bench: host {} cores; times are medians {}",
        bench.workers,
        if bench.measuring {
            "(of 21 runs at 1e6, 9 at 1e7, 5 at 1e8)"
        } else {
            "of one run (test mode)"
        }
    );

    println!();
    println!("{:<66}  {:>10}", "compile", "time");
    for (what, t) in &bench.compile {
        println!("{what:<66}  {:>10}", fmt_time(*t));
    }

    println!();
    println!(
        "{:<22}  {:>10}  {:>6}  {:>10}  {:>6}  {:>10}  {:>6}",
        "transfer (f32)", "to_device", "GB/s", "write", "GB/s", "to_host", "GB/s"
    );
    for &n in &bench.sizes {
        let (x, _) = inputs(n);
        let bytes = 4 * n;
        let buffer = upload(exec, &x);
        let new = median_of(reps(n), || {
            let (buffer, t) = timed(|| upload(exec, &x));
            drop(buffer);
            t
        });
        let write = median_of(reps(n), || {
            timed(|| buffer.write(&x).result().map(|_| ()).expect("write")).1
        });
        let down = median_of(reps(n), || {
            let (host, t) = timed(|| {
                let host = buffer.to_host();
                host.result().expect("to_host");
                host
            });
            drop(host); // freeing the Vec is not the transfer
            t
        });
        println!(
            "{:<22}  {:>10}  {:>6}  {:>10}  {:>6}  {:>10}  {:>6}",
            format!("n={n} ({} MB)", bytes / 1_000_000),
            fmt_time(new),
            gb_per_s(bytes, new),
            fmt_time(write),
            gb_per_s(bytes, write),
            fmt_time(down),
            gb_per_s(bytes, down)
        );
    }
    println!(
        "  to_device: into a new buffer; write: into an existing one; to_host: into a new Vec"
    );

    println!();
    const ROW: usize = 27;
    println!(
        "{:<ROW$}  {:>11}  {:>6}  {:>11}  {:>11}  {:>6}",
        "kernel (3 x 4n bytes)", "device_time", "GB/s", "submit+wait", "pool", "GB/s"
    );
    for &n in &bench.sizes {
        let (x, y) = inputs(n);
        let bytes = 3 * 4 * n;
        let (x_dev, y_dev, out) = (
            upload(exec, &x),
            upload(exec, &y),
            exec.zeros::<f32>(n).into_result().expect("zeros"),
        );
        let mut host = vec![0.0f32; n];
        type Launch<'a> = Box<dyn Fn() -> Run + 'a>;
        type OnPool<'a> = Option<Box<dyn Fn(&mut [f32]) + 'a>>;
        let kernels: [(&str, Launch<'_>, OnPool<'_>); 3] = [
            (
                "vector add",
                Box::new(|| run(exec, bench.add.call((&x_dev, &y_dev, &out)))),
                Some(Box::new(|c| {
                    pool_vector_add(&bench.pool, bench.workers, &x, &y, c)
                })),
            ),
            (
                "vector add raw",
                Box::new(|| run(exec, bench.add_raw.call((&x_dev, &y_dev, &out)))),
                None,
            ),
            (
                "saxpy",
                Box::new(|| run(exec, bench.saxpy.call((A, &x_dev, &y_dev)))),
                Some(Box::new(|y| {
                    pool_saxpy(&bench.pool, bench.workers, A, &x, y)
                })),
            ),
        ];
        for (name, kernel, on_pool) in &kernels {
            kernel(); // warm
            let runs: Vec<(Run, Duration)> = (0..reps(n)).map(|_| timed(kernel)).collect();
            let device = median(runs.iter().map(|(r, _)| r.device_time()).collect());
            let wall = median(runs.iter().map(|(_, t)| *t).collect());
            let (pool, pool_bw) = match on_pool {
                Some(on_pool) => {
                    let t = median_of(reps(n), || timed(|| on_pool(&mut host)).1);
                    (fmt_time(t), gb_per_s(bytes, t))
                }
                None => ("-".into(), "-".into()),
            };
            println!(
                "{:<ROW$}  {:>11}  {:>6}  {:>11}  {:>11}  {:>6}",
                format!("{name}, n={n}"),
                fmt_time(device),
                gb_per_s(bytes, device),
                fmt_time(wall),
                pool,
                pool_bw
            );
        }
    }
    {
        let n = bench.primes_n;
        let numbers = prime_numbers(n);
        let mut factors = vec![0u32; n * MAX_FACTORS];
        let reps = if bench.measuring { 5 } else { 1 };
        let runs: Vec<(Run, Duration)> = (0..reps)
            .map(|_| timed(|| primes_end_to_end(exec, &bench.primes, &numbers, |_| ())))
            .collect();
        let device = median(runs.iter().map(|(r, _)| r.device_time()).collect());
        let end_to_end = median(runs.iter().map(|(_, t)| *t).collect());
        let pool = median_of(reps, || {
            timed(|| pool_primes(&bench.pool, bench.workers, &numbers, &mut factors)).1
        });
        println!(
            "{:<ROW$}  {:>11}  {:>6}  {:>11}  {:>11}",
            format!("primes, n={n}"),
            fmt_time(device),
            "-",
            format!("{} e2e", fmt_time(end_to_end)),
            fmt_time(pool),
        );
    }
    println!(
        "  device_time: the kernel on the device (profiling events); submit+wait: the same \
         call timed on the host (primes: upload, run and download); pool: the same work on {} \
         workers",
        bench.workers
    );
    println!(
        "  vector add raw: a hand-written `program` kernel, beside the generated elementwise one"
    );
    for (n, why) in &bench.skipped {
        println!("  size {n} left out: {why}");
    }
}

fn main() {
    let Some(exec) = open() else { return };
    let mut bench = Bench::new(exec);
    let mut c = Criterion::default().configure_from_args();
    vector_add(&mut c, &bench);
    saxpy(&mut c, &bench);
    primes(&mut c, &mut bench);
    c.final_summary();
    table(&bench);
}
