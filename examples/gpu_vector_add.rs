//! The book's PyOpenCL example, *Using the GPU*: add two vectors of 50,000 random `float32`s on
//! an OpenCL device, copy the sum back, and check it against the CPU's — then the same data
//! through `exec.map` and a `ReductionKernel` (the dot product).
//!
//! ```python
//! import numpy as np
//! import pyopencl as cl, pyopencl.array as cl_array
//! from pyopencl.elementwise import ElementwiseKernel
//! from pyopencl.reduction import ReductionKernel
//!
//! ctx = cl.create_some_context()
//! queue = cl.CommandQueue(ctx)
//! a = np.random.rand(50_000).astype(np.float32)
//! b = np.random.rand(50_000).astype(np.float32)
//! add = ElementwiseKernel(ctx, "const float *a, const float *b, float *c", "c[i] = a[i] + b[i]")
//! a_dev, b_dev = cl_array.to_device(queue, a), cl_array.to_device(queue, b)
//! c_dev = cl_array.zeros_like(a_dev)
//! add(a_dev, b_dev, c_dev)
//! assert (c_dev.get() == a + b).all()
//!
//! dot = ReductionKernel(ctx, np.float32, neutral="0", reduce_expr="a + b",
//!                       map_expr="x[i] * y[i]", arguments="const float *x, const float *y")
//! print(dot(a_dev, b_dev).get())
//! ```
//!
//! In gilfree the context and its queue are one [`OpenClExecutor`]: `OpenClExecutor::new()` is
//! `create_some_context()` (a GPU if there is one, else the CPU driver; the environment variable
//! `GILFREE_OPENCL_DEVICE`, e.g. `cpu` or `gpu,platform=nvidia`, chooses another). The kernel
//! strings are PyOpenCL's, unchanged. Every device operation is a job on the executor's device
//! thread and returns the same `gilfree::Future` as a `ThreadPoolExecutor`: `to_device` and
//! `to_host` are `cl_array.to_device` and `.get()`, `exec.submit(add.call((&a, &b, &c)))` is
//! `add(a, b, c)`, and `.into_result()` waits, as Python's `.get()` does.
//!
//! The kernel strings are OpenCL C, code that Rust cannot check, so building a kernel is
//! `unsafe`: the program builds all three in one `unsafe` block ([`build_kernels`]), whose
//! `SAFETY` comment says why their code stays inside the buffers it is given. Everything
//! after that (copies, launches, futures) is safe: gilfree checks each call's arguments and
//! buffer lengths before it reaches the device.
//!
//! Notice in the timings that building a kernel costs far more than running it, and that the
//! second request for the same source is a lookup in the executor's cache. Drivers may also
//! keep compiled kernels on disk (POCL does, in `~/.cache/pocl`), making the first build much
//! faster on a second run of the program; and a driver may finish compiling at a kernel's first
//! launch, which is why the addition and the map run twice. For 50,000 additions the kernel
//! takes microseconds and the copies about as long or longer: adding vectors is memory-bound,
//! so a GPU pays off only when there is much more arithmetic per byte moved (see `gpu_primes`).
//! Float addition and multiplication are correctly rounded on every OpenCL device, so the
//! device's `a + b` and `x * x` equal the CPU's bit for bit; a reduction adds in a different
//! order than a loop does, so the dot product is compared with an `f64` sum, within a
//! tolerance.
//!
//! `cargo run --release --features opencl --example gpu_vector_add`
//!
//! Without an OpenCL driver the example says how to install one and exits successfully.

use gilfree::opencl::{
    DeviceBuffer, ElementwiseKernel, OpenClError, OpenClExecutor, ReductionKernel,
};
use std::error::Error;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The book's vector length.
const LEN: usize = 50_000;
const SEED: u64 = 0x5EED_CAFE_F00D_D00D;
/// How far the device's `f32` dot product may be from the exact (`f64`) one, relatively. The
/// rounding of 50,000 `f32` additions in any order stays well inside it.
const DOT_TOLERANCE: f64 = 1e-4;

fn main() -> ExitCode {
    let exec = match OpenClExecutor::new() {
        Ok(exec) => exec,
        Err(err @ OpenClError::NoPlatform { .. }) => {
            explain_missing_driver(&err);
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("gpu_vector_add: cannot open an OpenCL device: {err}");
            return ExitCode::FAILURE;
        }
    };
    match run(&exec) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gpu_vector_add: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(exec: &OpenClExecutor) -> Result<(), Box<dyn Error>> {
    println!("device: {}", exec.device());
    match std::env::var("GILFREE_OPENCL_DEVICE") {
        Ok(spec) => println!("        (chosen by GILFREE_OPENCL_DEVICE={spec:?})"),
        Err(_) => println!("        (set GILFREE_OPENCL_DEVICE, e.g. to `cpu`, to choose another)"),
    }

    // a = np.random.rand(50_000).astype(np.float32); b = ...
    let mut rng = XorShift64Star(SEED);
    let a: Vec<f32> = (0..LEN).map(|_| rng.next_f32()).collect();
    let b: Vec<f32> = (0..LEN).map(|_| rng.next_f32()).collect();
    println!(
        "\n{LEN} random float32 pairs, a[0] = {}, b[0] = {}",
        a[0], b[0]
    );

    let kernels = build_kernels(exec)?;
    let (a_dev, b_dev) = add_vectors(exec, &kernels, &a, &b)?;
    map_squares(exec, &kernels, &a)?;
    dot_product(exec, &kernels.dot, (&a_dev, &b_dev), (&a, &b))?;
    println!("\nall results checked; every device call came back as a gilfree Future");
    Ok(())
}

/// The example's kernels, and how long building them took.
struct Kernels {
    add: ElementwiseKernel,
    square: ElementwiseKernel,
    dot: ReductionKernel<f32>,
    /// The addition, its first build and the same source again (a cache lookup).
    build_first: Duration,
    build_cached: Duration,
    build_square: Duration,
}

/// Builds the three kernels: the one place where OpenCL C enters the program.
fn build_kernels(exec: &OpenClExecutor) -> Result<Kernels, Box<dyn Error>> {
    // add = ElementwiseKernel(ctx, "const float *a, const float *b, float *c", "c[i] = a[i] + b[i]")
    let args = "const float *a, const float *b, float *c";
    // SAFETY: each operation indexes every buffer at `i` only, and gilfree runs it only for `i`
    // below the range, which it checks every buffer holds; the reduction's `map_expr` likewise
    // (`reduce_expr` and `neutral` touch no memory). So every access stays inside the buffers
    // of each call, as `elementwise` and `reduction` require.
    let (add, again, square, dot) = unsafe {
        (
            timed(|| exec.elementwise(args, "c[i] = a[i] + b[i]")),
            timed(|| exec.elementwise(args, "c[i] = a[i] + b[i]")),
            timed(|| exec.elementwise("const float *x, float *y", "y[i] = x[i] * x[i]")),
            // dot = ReductionKernel(ctx, np.float32, "0", "a + b", "x[i] * y[i]", "const float *x, ...")
            exec.reduction::<f32>(
                "0",
                "a + b",
                "x[i] * y[i]",
                "const float *x, const float *y",
            ),
        )
    };
    again.0?;
    Ok(Kernels {
        add: add.0?,
        square: square.0?,
        dot: dot?,
        build_first: add.1,
        build_cached: again.1,
        build_square: square.1,
    })
}

/// The book's example: `c = a + b` on the device, checked against the CPU, with the time of
/// each step. Returns `a` and `b` on the device, for the dot product.
fn add_vectors(
    exec: &OpenClExecutor,
    kernels: &Kernels,
    a: &[f32],
    b: &[f32],
) -> Result<(DeviceBuffer<f32>, DeviceBuffer<f32>), Box<dyn Error>> {
    let (add, build_first, build_cached) =
        (&kernels.add, kernels.build_first, kernels.build_cached);

    // a_dev = cl_array.to_device(queue, a); ...: three jobs queued at once, then waited for.
    let ((a_dev, b_dev, c_dev), upload) = timed(|| {
        let (a_dev, b_dev, c_dev) = (
            exec.to_device(a),
            exec.to_device(b),
            exec.zeros::<f32>(a.len()),
        );
        (
            a_dev.into_result(),
            b_dev.into_result(),
            c_dev.into_result(),
        )
    });
    let (a_dev, b_dev, c_dev) = (a_dev?, b_dev?, c_dev?);

    // add(a_dev, b_dev, c_dev): the future is done when the kernel has finished on the device.
    // The first launch can include the driver's own lazy set-up; the second is the kernel alone.
    let launch = || {
        exec.submit(add.call((&a_dev, &b_dev, &c_dev)))
            .into_result()
    };
    let (first_run, first_wall) = timed(launch);
    let (second_run, second_wall) = timed(launch);
    let (first_run, second_run) = (first_run?, second_run?);

    // c = c_dev.get()
    let (c, download) = timed(|| c_dev.to_host().into_result());
    let c = c?;

    // assert (c == a + b).all()
    let expected: Vec<f32> = a.iter().zip(b).map(|(a, b)| a + b).collect();
    if let Some(i) = (0..a.len()).find(|&i| c[i] != expected[i]) {
        return Err(format!(
            "c[{i}] = {} on the device, but a[{i}] + b[{i}] = {} on the CPU",
            c[i], expected[i]
        )
        .into());
    }
    println!(
        "c = a + b on the device: all {} sums equal the CPU's exactly (c[0] = {})",
        c.len(),
        c[0]
    );
    println!("\ntimings (wall clock on the host; `device` is the queue's profile of the kernel):");
    println!("  build the kernel, first      {build_first:>10.2?}");
    println!("  build it again (cache hit)   {build_cached:>10.2?}");
    println!("  upload a, b; allocate c      {upload:>10.2?}");
    println!(
        "  kernel, first launch         {first_wall:>10.2?}  (device {:.2?})",
        first_run.device_time()
    );
    println!(
        "  kernel, second launch        {second_wall:>10.2?}  (device {:.2?}, range {})",
        second_run.device_time(),
        second_run.range()
    );
    println!("  download c                   {download:>10.2?}");
    Ok((a_dev, b_dev))
}

/// `executor.map`, Python's `list(map(square, a))` on the device: one call copies `a` in, runs
/// the kernel over it and copies the result back. Run twice: a driver may finish compiling a
/// kernel lazily, at its first launch.
fn map_squares(exec: &OpenClExecutor, kernels: &Kernels, a: &[f32]) -> Result<(), Box<dyn Error>> {
    let (square, build) = (&kernels.square, kernels.build_square);
    let (first, first_time) = timed(|| exec.map::<f32, f32>(square, a).into_result());
    let (again, again_time) = timed(|| exec.map::<f32, f32>(square, a).into_result());
    let (first, again) = (first?, again?);
    if let Some(i) = (0..a.len()).find(|&i| first[i] != a[i] * a[i] || again[i] != first[i]) {
        return Err(format!(
            "map: {} (then {}) on the device, but a[{i}]² = {} on the CPU",
            first[i],
            again[i],
            a[i] * a[i]
        )
        .into());
    }
    println!(
        "\nexec.map(square, a) with `y[i] = x[i] * x[i]` (built in {build:.2?}):\n  \
         {} squares in {first_time:.2?}, again in {again_time:.2?} (copy in, kernel, copy out), \
         all equal to the CPU's",
        a.len()
    );
    Ok(())
}

/// PyOpenCL's `ReductionKernel`: the dot product of the vectors already on the device,
/// compared with an exact (`f64`) sum on the CPU.
fn dot_product(
    exec: &OpenClExecutor,
    dot: &ReductionKernel<f32>,
    (a_dev, b_dev): (&DeviceBuffer<f32>, &DeviceBuffer<f32>),
    (a, b): (&[f32], &[f32]),
) -> Result<(), Box<dyn Error>> {
    // dot(a_dev, b_dev).get()
    let (device_dot, time) = timed(|| exec.submit(dot.call((a_dev, b_dev))).into_result());
    let device_dot = device_dot?;
    let exact: f64 = a
        .iter()
        .zip(b)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum();
    let relative = (f64::from(device_dot) - exact).abs() / exact.abs();
    println!(
        "\nReductionKernel dot(a, b) = {device_dot} in {time:.2?} (its first call)\n  \
         the CPU's f64 sum is {exact:.3}: a relative difference of {relative:.1e}"
    );
    if relative.is_nan() || relative > DOT_TOLERANCE {
        return Err(format!(
            "the device's dot product {device_dot} is more than {DOT_TOLERANCE:e} (relatively) \
             from the CPU's {exact}"
        )
        .into());
    }
    Ok(())
}

/// Runs `f` once: its result and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

/// Marsaglia's xorshift64*: `np.random.rand` with a fixed seed, without a crate.
struct XorShift64Star(u64);

impl XorShift64Star {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A float in `[0, 1)`: the top 24 bits over 2^24, so every value is exactly representable
    /// (and none is a subnormal that a device might flush to zero).
    fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }
}

/// What to say when the machine has no OpenCL driver at all.
fn explain_missing_driver(err: &OpenClError) {
    println!("gpu_vector_add needs an OpenCL driver, and this machine has none: {err}");
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
