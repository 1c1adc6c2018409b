//! GPU offload through OpenCL (feature `opencl`): the book's last chapter, *Using the GPU*.
//!
//! An [`OpenClExecutor`] runs kernels on one OpenCL device, and its [`submit`] and [`map`]
//! return the same [`Future`] as the [`ThreadPoolExecutor`](crate::ThreadPoolExecutor), so
//! [`wait`](crate::futures::wait) and [`as_completed`](crate::futures::as_completed) mix CPU
//! and GPU work. Kernels come the way PyOpenCL users know them:
//!
//! | PyOpenCL | gilfree |
//! |---|---|
//! | `cl.create_some_context()` | [`OpenClExecutor::new()`] (a GPU if there is one) |
//! | `ElementwiseKernel(ctx, "float *a, float *b, float *c", "c[i] = a[i] + b[i]")` | [`unsafe { exec.elementwise(args, operation) }`](OpenClExecutor::elementwise) |
//! | `ReductionKernel(ctx, np.float32, "0", "a+b", "x[i]*y[i]", "float *x, float *y")` | [`unsafe { exec.reduction::<f32>("0", "a+b", "x[i]*y[i]", args) }`](OpenClExecutor::reduction) |
//! | `cl.Program(ctx, src).build()` | [`unsafe { exec.program(src) }`](OpenClExecutor::program) (cached) |
//! | `cl_array.to_device(queue, a)`, `.get()` | [`exec.to_device(&a)`](OpenClExecutor::to_device), [`buffer.to_host()`](DeviceBuffer::to_host) |
//! | `knl(a_gpu, b_gpu, c_gpu)` | [`exec.submit(knl.call((&a, &b, &c)))`](OpenClExecutor::submit) |
//!
//! ```
//! use gilfree::opencl::OpenClExecutor;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let Ok(exec) = OpenClExecutor::new() else { return Ok(()) }; // no OpenCL driver here
//! // SAFETY: the operation touches `a`, `b` and `c` at `i` only (see "Kernel source is foreign
//! // code" below).
//! let add = unsafe {
//!     exec.elementwise("const float *a, const float *b, float *c", "c[i] = a[i] + b[i]")?
//! };
//! let a: Vec<f32> = (0..50_000).map(|x| x as f32).collect();
//! let b: Vec<f32> = a.iter().map(|x| 2.0 * x).collect();
//! let (a_dev, b_dev) = (exec.to_device(&a), exec.to_device(&b));
//! let c_dev = exec.zeros::<f32>(a.len());
//! let (a_dev, b_dev, c_dev) = (a_dev.into_result()?, b_dev.into_result()?, c_dev.into_result()?);
//! exec.submit(add.call((&a_dev, &b_dev, &c_dev))).result()?;
//! let c = c_dev.to_host().into_result()?;
//! assert!(c.iter().zip(&a).all(|(c, a)| *c == 3.0 * a));
//! # Ok(())
//! # }
//! ```
//!
//! # The device thread
//!
//! Each executor has one thread that owns the OpenCL context, the command queue, the programs
//! and the kernels (OpenCL kernels are not thread-safe: setting an argument and enqueueing must
//! not interleave). Every call is a job for that thread, run in submission order, so a kernel
//! always sees the writes submitted before it. Handles ([`DeviceBuffer`], the kernels) are
//! cheap clones that any thread may use.
//!
//! The device thread waits for each command before taking the next, so copies and kernels do
//! not overlap; a first build (`elementwise`, `reduction`, `program`) waits behind the work
//! queued before it, while a second build of the same source is a lookup on the calling thread.
//!
//! Done callbacks ([`Future::add_done_callback`]) of the executor's futures run on the device
//! thread, as a pool task's run on its worker. Work a callback only queues (`to_device`,
//! `submit`, `to_host`, `write`, a build already made) runs after it returns; what would wait
//! for the device thread there — a first build, or [`result`](Future::result),
//! [`result_timeout`](Future::result_timeout), [`exception`](Future::exception) or
//! [`into_result`](Future::into_result) of one of the executor's unfinished futures — would
//! wait for itself, and is [`OpenClError::RuntimeError`] at once instead, as Python refuses a
//! thread that joins itself. [`shutdown`](OpenClExecutor::shutdown) and the drop of the
//! executor from a callback return without joining the thread they run on.
//!
//! # Choosing a device
//!
//! [`OpenClExecutor::new`] takes the first GPU, else an accelerator, else the CPU (POCL).
//! [`OpenClExecutor::builder`] picks by kind, platform and index, and the environment
//! variable `GILFREE_OPENCL_DEVICE` overrides both: comma-separated terms such as `cpu`,
//! `gpu,platform=nvidia`, `index=1`. [`devices()`] lists what there is.
//!
//! # Errors
//!
//! Nothing here panics or stalls: no driver is [`OpenClError::NoPlatform`] at once (the `ocl`
//! crate alone retries for ten seconds, then panics), a kernel that does not compile is
//! [`OpenClError::Build`] with the compiler's log, a wrong argument is
//! [`OpenClError::TypeError`] before anything reaches the device. In a future the error is
//! a [`FutureError::Exception`]: `err.downcast_ref::<OpenClError>()` gets it back.
//!
//! # Kernel source is foreign code
//!
//! Kernels are OpenCL C, compiled by the driver and run with access to the buffers they are
//! given: on a CPU device (POCL) a kernel that indexes past a buffer writes into the host
//! process's heap. Like a C library behind an `extern` block, OpenCL C is code the compiler
//! cannot check, so the calls that accept it — [`program`](OpenClExecutor::program),
//! [`elementwise`](OpenClExecutor::elementwise), [`reduction`](OpenClExecutor::reduction) and
//! their `_with_preamble` forms — are `unsafe fn`s, each with a `# Safety` section: the code
//! must touch only the items of the buffers it is given, at every index the calls made with
//! the kernel run it for. Everything else stays safe: buffers, transfers, futures, and
//! launching a kernel that was built, because gilfree checks what it can see before anything
//! is queued — the number and types of the arguments of every kernel (for raw programs, as the
//! compiler reports them), and that each buffer holds the kernel's whole range (for
//! elementwise and reduction kernels; with an explicit [`range`](KernelCall::range), an
//! elementwise kernel's `const` buffers may be shorter lookup tables). Those checks are what
//! the `# Safety` contracts lean on: an elementwise operation that indexes its buffers only at
//! `i` is in bounds for every call gilfree accepts.
//!
//! One `unsafe` block per kernel built, with a `// SAFETY:` comment saying why its code stays in
//! bounds, is all a program needs:
//!
//! ```
//! # use gilfree::opencl::OpenClExecutor;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let Ok(exec) = OpenClExecutor::new() else { return Ok(()) };
//! // SAFETY: the operation reads `x` and writes `y` at `i` only, and gilfree runs it only for
//! // `i` below the length of both.
//! let double = unsafe { exec.elementwise("const float *x, float *y", "y[i] = 2 * x[i]")? };
//! let x = exec.to_device(&[1.0f32, 2.0]).into_result()?;
//! let y = exec.zeros::<f32>(2).into_result()?;
//! exec.submit(double.call((&x, &y))).result()?;
//! assert_eq!(y.to_host().into_result()?, [2.0, 4.0]);
//! # Ok(())
//! # }
//! ```
//!
//! Safe code cannot hand kernel source to a device; none of these compiles:
//!
//! ```compile_fail,E0133
//! # let exec = gilfree::opencl::OpenClExecutor::new().unwrap();
//! let program = exec.program("__kernel void square(__global int *v) { v[get_global_id(0)] *= 2; }");
//! ```
//!
//! ```compile_fail,E0133
//! # let exec = gilfree::opencl::OpenClExecutor::new().unwrap();
//! let add = exec.elementwise("const float *a, float *b", "b[i + 1] = a[i]");
//! ```
//!
//! ```compile_fail,E0133
//! # let exec = gilfree::opencl::OpenClExecutor::new().unwrap();
//! let add = exec.elementwise_with_preamble("float *b", "b[i] = f()", "float f() { return 1; }");
//! ```
//!
//! ```compile_fail,E0133
//! # let exec = gilfree::opencl::OpenClExecutor::new().unwrap();
//! let sum = exec.reduction::<f32>("0", "a + b", "x[i]", "const float *x");
//! ```
//!
//! ```compile_fail,E0133
//! # let exec = gilfree::opencl::OpenClExecutor::new().unwrap();
//! let sum = exec.reduction_with_preamble::<f32>("0", "a + b", "f(x[i])", "const float *x", "#define f(v) v");
//! ```
//!
//! [`submit`]: OpenClExecutor::submit
//! [`map`]: OpenClExecutor::map

mod device;
mod error;
mod source;
mod types;

pub use error::OpenClError;
pub use types::{DeviceInfo, DeviceKind, Scalar};

use crate::futures::Future;
use crate::{FutureError, Promise};
use device::{DeviceState, Found, Selector};
use parking_lot::Mutex;
use source::Param;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;
use types::{ScalarType, ScalarValue};

/// Lists every OpenCL device of every platform, in driver order. Answers at once, also when no
/// driver is installed ([`OpenClError::NoPlatform`]).
///
/// # Examples
///
/// ```
/// match gilfree::opencl::devices() {
///     Ok(devices) => devices.iter().for_each(|d| println!("{d}")),
///     Err(err) => println!("no OpenCL here: {err}"),
/// }
/// ```
pub fn devices() -> Result<Vec<DeviceInfo>, OpenClError> {
    Ok(device::list()?.into_iter().map(|f| f.info).collect())
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

type Job = Box<dyn FnOnce(&mut DeviceState) + Send>;

thread_local! {
    /// The id of the executor whose device thread this is; 0 on every other thread.
    static DEVICE_THREAD_OF: Cell<u64> = const { Cell::new(0) };
}

/// Whether the calling thread is the device thread of executor `exec` (running a done
/// callback: nothing else of the caller's runs there).
fn on_device_thread(exec: u64) -> bool {
    DEVICE_THREAD_OF.with(Cell::get) == exec
}

/// The error for a call that would wait for the device thread from the device thread.
fn self_wait(what: &str) -> OpenClError {
    OpenClError::RuntimeError {
        message: format!(
            "{what} from the executor's own device thread (in a done callback) would deadlock: \
             the device thread cannot finish work while it waits for it"
        ),
    }
}

/// The [`WaitCheck`](crate::futures) of every future an executor's device thread completes:
/// refuses a blocking wait made on that thread.
fn refuse_self_wait(exec: u64) -> Result<(), FutureError> {
    if on_device_thread(exec) {
        Err(self_wait("waiting for one of its futures").into())
    } else {
        Ok(())
    }
}

/// Remembers that the last work to write a buffer failed, and why (shared by the buffer's
/// handles and the kernel arguments made from it). Set and cleared only on the device thread,
/// in submission order.
type Failure = Arc<Mutex<Option<OpenClError>>>;

/// What the executor and every handle share.
struct Shared {
    id: u64,
    device: DeviceInfo,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    cancel_pending: Arc<AtomicBool>,
    /// Source → program id of everything built (the device thread keeps the programs).
    programs: Mutex<HashMap<String, u64>>,
}

impl Shared {
    /// Runs `work` on the device thread; its result completes the returned future.
    fn spawn<T, F>(&self, work: F) -> Future<T>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&mut DeviceState) -> Result<T, OpenClError> + Send + 'static,
    {
        let (promise, future) = Promise::with_wait_check(refuse_self_wait, self.id);
        let jobs = self.jobs.lock();
        let Some(sender) = jobs.as_ref() else {
            let _ = promise.set_exception(FutureError::Shutdown);
            return future;
        };
        let cancel = Arc::clone(&self.cancel_pending);
        let job: Job = Box::new(move |state: &mut DeviceState| {
            if cancel.load(Ordering::SeqCst) {
                if let Some(future) = promise.future() {
                    future.cancel();
                }
            }
            if promise.set_running() != Ok(true) {
                return;
            }
            let _ = match work(state) {
                Ok(value) => promise.set_result(value).map_err(drop),
                Err(err) => promise.set_exception(err.into()).map_err(drop),
            };
        });
        // A send fails only if the device thread is gone; the job's promise then drops and
        // reports BrokenExecutor.
        let _ = sender.send(job);
        future
    }

    /// Runs `work` on the device thread and waits for it.
    fn call<T, F>(&self, work: F) -> Result<T, OpenClError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce(&mut DeviceState) -> Result<T, OpenClError> + Send + 'static,
    {
        if on_device_thread(self.id) {
            return Err(self_wait("a blocking OpenCL call"));
        }
        Ok(self.spawn(work).into_result()?)
    }

    fn check(&self, exec: u64, what: &str) -> Result<(), OpenClError> {
        if exec == self.id {
            Ok(())
        } else {
            Err(OpenClError::value_error(format!(
                "{what} belongs to another OpenClExecutor"
            )))
        }
    }
}

/// Python's `concurrent.futures` executor, for OpenCL kernels on one device.
///
/// See the [module docs](self) for a walk-through. Dropping the executor is
/// [`shutdown(true, false)`](OpenClExecutor::shutdown): it waits for the work already
/// submitted.
pub struct OpenClExecutor {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Chooses the device for an [`OpenClExecutor`]; `GILFREE_OPENCL_DEVICE` overrides each
/// choice it names.
#[derive(Clone, Debug, Default)]
pub struct OpenClExecutorBuilder {
    selector: Selector,
}

impl OpenClExecutorBuilder {
    /// Only devices of this kind.
    pub fn device_kind(mut self, kind: DeviceKind) -> Self {
        self.selector.kind = Some(kind);
        self
    }

    /// Only platforms whose name contains `name`, ignoring case (`"nvidia"`, `"portable"`).
    pub fn platform(mut self, name: impl Into<String>) -> Self {
        self.selector.platform = Some(name.into());
        self
    }

    /// The `index`-th of the matching devices (GPUs first when no kind is set).
    pub fn device_index(mut self, index: usize) -> Self {
        self.selector.index = Some(index);
        self
    }

    /// Opens the device and starts its thread.
    ///
    /// # Errors
    ///
    /// [`NoPlatform`](OpenClError::NoPlatform) without a driver,
    /// [`NoMatchingDevice`](OpenClError::NoMatchingDevice) listing every device when none
    /// matches, [`ValueError`](OpenClError::ValueError) for a malformed
    /// `GILFREE_OPENCL_DEVICE`, [`Cl`](OpenClError::Cl) when the driver refuses a context.
    pub fn build(self) -> Result<OpenClExecutor, OpenClError> {
        let mut selector = self.selector;
        if let Ok(spec) = std::env::var("GILFREE_OPENCL_DEVICE") {
            selector.override_with(&spec)?;
        }
        let found = selector.choose(device::list()?)?;
        OpenClExecutor::start(found)
    }
}

impl OpenClExecutor {
    /// An executor on the first GPU, else an accelerator, else a CPU device
    /// (`GILFREE_OPENCL_DEVICE` overrides).
    ///
    /// # Errors
    ///
    /// As [`OpenClExecutorBuilder::build`].
    pub fn new() -> Result<OpenClExecutor, OpenClError> {
        OpenClExecutor::builder().build()
    }

    /// A builder to choose the device.
    ///
    /// ```
    /// use gilfree::opencl::{DeviceKind, OpenClError, OpenClExecutor};
    ///
    /// match OpenClExecutor::builder().device_kind(DeviceKind::Cpu).build() {
    ///     Ok(exec) => println!("running on {}", exec.device()),
    ///     Err(OpenClError::NoPlatform { .. } | OpenClError::NoMatchingDevice { .. }) => {}
    ///     Err(other) => panic!("{other}"),
    /// }
    /// ```
    pub fn builder() -> OpenClExecutorBuilder {
        OpenClExecutorBuilder::default()
    }

    fn start(found: Found) -> Result<OpenClExecutor, OpenClError> {
        let (sender, jobs) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::channel();
        let info = found.info.clone();
        let id = next_id();
        let handle = thread::Builder::new()
            .name(format!("gilfree-opencl-{}", found.info.name))
            .spawn(move || {
                DEVICE_THREAD_OF.with(|of| of.set(id));
                let mut state = match DeviceState::open(&found) {
                    Ok(state) => {
                        let _ = ready_tx.send(Ok(()));
                        state
                    }
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                drop(found);
                while let Ok(job) = jobs.recv() {
                    // A panic inside a driver call loses only its own job: the job's promise
                    // drops and its future reports BrokenExecutor. The payload is dropped
                    // under a catch too: one whose own `Drop` panics must not end the thread.
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job(&mut state))) {
                        crate::error::drop_quietly(payload);
                    }
                }
            })
            .map_err(|e| OpenClError::RuntimeError {
                message: format!("cannot start the device thread: {e}"),
            })?;
        ready.recv().unwrap_or_else(|_| {
            Err(OpenClError::BrokenExecutor {
                message: "the device thread ended while opening the device".into(),
            })
        })?;
        let shared = Arc::new(Shared {
            id,
            device: info,
            jobs: Mutex::new(Some(sender)),
            cancel_pending: Arc::new(AtomicBool::new(false)),
            programs: Mutex::new(HashMap::new()),
        });
        Ok(OpenClExecutor {
            shared,
            thread: Mutex::new(Some(handle)),
        })
    }

    /// The device this executor runs on.
    pub fn device(&self) -> &DeviceInfo {
        &self.shared.device
    }

    /// PyOpenCL's `ElementwiseKernel`: `operation` runs once for every index `i` in the range,
    /// which is the length of the first buffer argument (or [`KernelCall::range`]).
    ///
    /// `arguments` is a C parameter list such as `"const float *a, float *b, float k"`:
    /// pointers are `__global` buffers, the rest scalars. The kernel is built once per executor
    /// and source; a second request with the same text is a lookup.
    ///
    /// ```
    /// # use gilfree::opencl::OpenClExecutor;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let Ok(exec) = OpenClExecutor::new() else { return Ok(()) };
    /// // SAFETY: `x` and `y` are indexed at `i` only.
    /// let saxpy = unsafe {
    ///     exec.elementwise("float a, const float *x, float *y", "y[i] = a * x[i] + y[i]")?
    /// };
    /// let x = exec.to_device(&[1.0f32, 2.0, 3.0]).into_result()?;
    /// let y = exec.to_device(&[10.0f32, 10.0, 10.0]).into_result()?;
    /// let run = exec.submit(saxpy.call((2.0f32, &x, &y))).into_result()?;
    /// assert_eq!(y.to_host().into_result()?, [12.0, 14.0, 16.0]);
    /// println!("on the device for {:?}", run.device_time());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Safety
    ///
    /// `operation` (and a preamble) is OpenCL C, which nothing checks. For every call
    /// submitted with the kernel, it must read and write only items inside the buffers passed
    /// to that call, and no other memory of the device or the host. gilfree runs it only for
    /// `i` below the range, and refuses a call where a buffer holds fewer items than the range
    /// (except a `const` buffer under an explicit [`range`](KernelCall::range)), so an
    /// operation that indexes every buffer at `i` only, such as `y[i] = a * x[i]`, is in bounds
    /// for every call. Any other index (`x[i + 1]`, a lookup `table[k]`, a pointer computed by
    /// a preamble function) is the caller's to keep in bounds, for every call.
    ///
    /// # Errors
    ///
    /// [`ValueError`](OpenClError::ValueError) for an argument list it cannot read,
    /// [`Build`](OpenClError::Build) with the compiler's log when the C does not compile.
    pub unsafe fn elementwise(
        &self,
        arguments: &str,
        operation: &str,
    ) -> Result<ElementwiseKernel, OpenClError> {
        // SAFETY: the caller keeps `operation` in bounds (this function's own contract); an
        // empty preamble adds no code.
        unsafe { self.elementwise_with_preamble(arguments, operation, "") }
    }

    /// [`elementwise`](Self::elementwise) with helper C code (functions, `#define`s) placed
    /// before the kernel: PyOpenCL's `preamble`.
    ///
    /// # Safety
    ///
    /// As [`elementwise`](Self::elementwise), for the operation and the preamble.
    ///
    /// # Errors
    ///
    /// As [`elementwise`](Self::elementwise).
    pub unsafe fn elementwise_with_preamble(
        &self,
        arguments: &str,
        operation: &str,
        preamble: &str,
    ) -> Result<ElementwiseKernel, OpenClError> {
        let params: Arc<[Param]> = source::parse_params(arguments)?.into();
        let src = source::elementwise_source(&params, operation, preamble);
        let program = self.build(src)?;
        Ok(ElementwiseKernel {
            exec: self.shared.id,
            program,
            params,
        })
    }

    /// PyOpenCL's `ReductionKernel`: folds `map_expr` (in terms of `i` and the arguments)
    /// over the range with `reduce_expr` (in terms of `a` and `b`), starting from `neutral`.
    /// `T` is the result type; the range is the first buffer's length.
    ///
    /// ```
    /// # use gilfree::opencl::OpenClExecutor;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let Ok(exec) = OpenClExecutor::new() else { return Ok(()) };
    /// // SAFETY: `x` and `y` are indexed at `i` only.
    /// let dot = unsafe {
    ///     exec.reduction::<f32>("0", "a + b", "x[i] * y[i]", "const float *x, const float *y")?
    /// };
    /// let x = exec.to_device(&[1.0f32, 2.0, 3.0]).into_result()?;
    /// let y = exec.to_device(&[4.0f32, 5.0, 6.0]).into_result()?;
    /// assert_eq!(exec.submit(dot.call((&x, &y))).into_result()?, 32.0);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Safety
    ///
    /// `neutral`, `reduce_expr` and `map_expr` (and a preamble) are OpenCL C, which nothing
    /// checks. For every call submitted with the kernel, they must read and write only items
    /// inside the buffers passed to that call, and no other memory of the device or the host.
    /// gilfree evaluates `map_expr` only for `i` below the range, and refuses a call where any
    /// buffer holds fewer items than the range, so a `map_expr` that indexes every buffer at
    /// `i` only, such as `x[i] * y[i]`, is in bounds for every call; any other index is the
    /// caller's to keep in bounds. `reduce_expr` and `neutral` see only values (`a`, `b`).
    ///
    /// # Errors
    ///
    /// As [`elementwise`](Self::elementwise).
    pub unsafe fn reduction<T: Scalar>(
        &self,
        neutral: &str,
        reduce_expr: &str,
        map_expr: &str,
        arguments: &str,
    ) -> Result<ReductionKernel<T>, OpenClError> {
        // SAFETY: the caller keeps the expressions in bounds (this function's own contract);
        // an empty preamble adds no code.
        unsafe { self.reduction_with_preamble(neutral, reduce_expr, map_expr, arguments, "") }
    }

    /// [`reduction`](Self::reduction) with helper C code placed before the kernels:
    /// PyOpenCL's `preamble`.
    ///
    /// # Safety
    ///
    /// As [`reduction`](Self::reduction), for the expressions and the preamble.
    ///
    /// # Errors
    ///
    /// As [`elementwise`](Self::elementwise).
    pub unsafe fn reduction_with_preamble<T: Scalar>(
        &self,
        neutral: &str,
        reduce_expr: &str,
        map_expr: &str,
        arguments: &str,
        preamble: &str,
    ) -> Result<ReductionKernel<T>, OpenClError> {
        let params: Arc<[Param]> = source::parse_params(arguments)?.into();
        let group_size = {
            let cap = self.shared.device.max_work_group_size.clamp(1, 256);
            1usize << (usize::BITS - 1 - cap.leading_zeros())
        };
        let src = source::Reduction {
            out: T::TYPE,
            neutral,
            reduce_expr,
            map_expr,
            preamble,
            group_size,
        }
        .source(&params);
        let program = self.build(src)?;
        let units = self.shared.device.compute_units.max(1) as usize;
        Ok(ReductionKernel {
            exec: self.shared.id,
            program,
            params,
            group_size,
            max_groups: units * 8,
            _out: PhantomData,
        })
    }

    /// Builds a program from raw OpenCL C (`cl.Program(ctx, src).build()`); cached per source.
    ///
    /// ```
    /// # use gilfree::opencl::OpenClExecutor;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let Ok(exec) = OpenClExecutor::new() else { return Ok(()) };
    /// // SAFETY: `square` touches `v` at its global id only, and it is only called below with
    /// // the default range, `v`'s length.
    /// let program = unsafe {
    ///     exec.program(
    ///         "__kernel void square(__global int *v) { size_t i = get_global_id(0); v[i] *= v[i]; }",
    ///     )?
    /// };
    /// let square = program.kernel("square")?;
    /// let v = exec.to_device(&[1, 2, 3, 4]).into_result()?;
    /// exec.submit(square.call((&v,))).result()?; // range: the buffer's length
    /// assert_eq!(v.to_host().into_result()?, [1, 4, 9, 16]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Safety
    ///
    /// `source` is OpenCL C, which nothing checks. For every call submitted with a kernel of
    /// the program, the kernel must read and write only items inside the buffers passed to
    /// that call, and no other memory of the device or the host, when it runs over that call's
    /// range (global size) and local size. gilfree checks the number and types of a raw
    /// kernel's arguments, but not what its range means to it: the range is the first buffer's
    /// length unless [`range`](KernelCall::range) sets it, and the `square` kernel above, which
    /// indexes its buffer at `get_global_id(0)`, is in bounds only for ranges no longer than the
    /// buffer. Keeping every call's range within what the kernel's code allows (or guarding the
    /// index in the code, `if (i < n)`) is the caller's part of the contract.
    ///
    /// # Errors
    ///
    /// [`Build`](OpenClError::Build) with the compiler's log.
    pub unsafe fn program(&self, source: &str) -> Result<Program, OpenClError> {
        let id = self.build(source.to_string())?;
        Ok(Program {
            shared: Arc::clone(&self.shared),
            program: id,
        })
    }

    /// Builds `source` on the device thread, or finds it in the host-side cache, so a second
    /// request does not wait behind the kernels queued before it.
    fn build(&self, source: String) -> Result<u64, OpenClError> {
        if self.shared.jobs.lock().is_none() {
            return Err(OpenClError::Shutdown);
        }
        if let Some(&id) = self.shared.programs.lock().get(&source) {
            return Ok(id);
        }
        let key = source.clone();
        let id = self
            .shared
            .call(move |state| state.build(&source, next_id))?;
        self.shared.programs.lock().insert(key, id);
        Ok(id)
    }

    /// Copies `data` to a new buffer on the device (`cl_array.to_device`).
    pub fn to_device<T: Scalar>(&self, data: &[T]) -> Future<DeviceBuffer<T>> {
        let data = data.to_vec();
        let shared = Arc::clone(&self.shared);
        self.shared.spawn(move |state| {
            let buffer = state.buffer(data.len(), Some(&data))?;
            Ok(DeviceBuffer::new(shared, buffer, data.len()))
        })
    }

    /// A new device buffer of `len` zeros (`cl_array.zeros`).
    pub fn zeros<T: Scalar>(&self, len: usize) -> Future<DeviceBuffer<T>> {
        let shared = Arc::clone(&self.shared);
        self.shared.spawn(move |state| {
            let buffer = state.buffer::<T>(len, None)?;
            Ok(DeviceBuffer::new(shared, buffer, len))
        })
    }

    /// Queues a kernel call; the future completes when the kernel has finished on the device.
    /// An elementwise or raw kernel's call gives a [`Run`] (its time on the device), a
    /// reduction's the reduced value.
    ///
    /// Arguments are checked here, before anything is queued: a wrong count, type or buffer
    /// length is a future already done with a [`FutureError::Exception`] holding a
    /// [`TypeError`] or [`ValueError`]. After [`shutdown`](Self::shutdown) the future is done with
    /// [`FutureError::Shutdown`].
    ///
    /// [`TypeError`]: OpenClError::TypeError
    /// [`ValueError`]: OpenClError::ValueError
    pub fn submit<C: Launch>(&self, call: C) -> Future<<C as Launch>::Output> {
        use sealed::Job as _;
        match call.prepare(&self.shared) {
            Ok(job) => self.shared.spawn(move |state| job.run(state)),
            Err(err) => failed(err),
        }
    }

    /// Python's `executor.map` for one elementwise kernel over host data: copies `input` to
    /// the device, runs `kernel` with it and an output buffer of the same length, and copies
    /// the output back. The kernel's arguments must be exactly `(const T *in, U *out)`.
    ///
    /// ```
    /// # use gilfree::opencl::OpenClExecutor;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let Ok(exec) = OpenClExecutor::new() else { return Ok(()) };
    /// // SAFETY: `x` and `y` are indexed at `i` only.
    /// let halve = unsafe { exec.elementwise("const int *x, float *y", "y[i] = x[i] / 2.0f")? };
    /// let out: Vec<f32> = exec.map(&halve, &[1, 2, 3]).into_result()?;
    /// assert_eq!(out, [0.5, 1.0, 1.5]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn map<T: Scalar, U: Scalar>(
        &self,
        kernel: &ElementwiseKernel,
        input: &[T],
    ) -> Future<Vec<U>> {
        let checked =
            self.shared
                .check(kernel.exec, "the kernel")
                .and_then(|()| match &*kernel.params {
                    [a, b] if a.pointer && b.pointer && a.ty == T::TYPE && b.ty == U::TYPE => {
                        Ok(())
                    }
                    _ => Err(OpenClError::type_error(format!(
                        "map needs a kernel of (const {} *in, {} *out); this one takes ({})",
                        T::CL_NAME,
                        U::CL_NAME,
                        describe_params(&kernel.params)
                    ))),
                });
        if let Err(err) = checked {
            return failed(err);
        }
        let input = input.to_vec();
        let (program, exec) = (kernel.program, self.shared.id);
        self.shared.spawn(move |state| {
            let n = input.len();
            let inp = state.buffer(n, Some(&input))?;
            let out = state.buffer::<U>(n, None)?;
            state.launch(device::Launch {
                program,
                kernel: source::ELEMENTWISE_NAME,
                args: &[Arg::scratch(&inp, n, exec), Arg::scratch(&out, n, exec)],
                extra: &[Arg::from(n as i64)],
                global: elementwise_global(n),
                local: None,
            })?;
            read(&out, n, state)
        })
    }

    /// Python's `shutdown(wait, cancel_futures)`: refuses new work at once; with
    /// `cancel_futures`, cancels what has not started; with `wait`, returns once the device
    /// thread has finished what is left and closed the device. Calling it again is harmless.
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        // Taking the sender refuses new work; jobs already queued still run, and with the flag
        // set each cancels its own future instead of starting.
        let sender = self.shared.jobs.lock().take();
        if cancel_futures {
            self.shared.cancel_pending.store(true, Ordering::SeqCst);
        }
        drop(sender);
        // From the device thread (a done callback) there is nothing to wait for: the thread
        // finishes the queue once the callback returns.
        if wait && !on_device_thread(self.shared.id) {
            if let Some(handle) = self.thread.lock().take() {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for OpenClExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for OpenClExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenClExecutor")
            .field("device", &self.shared.device.name)
            .field("platform", &self.shared.device.platform)
            .field("shutdown", &self.shared.jobs.lock().is_none())
            .finish()
    }
}

/// A future already done with `err`.
fn failed<T>(err: OpenClError) -> Future<T> {
    let (promise, future) = Promise::new();
    let _ = promise.set_exception(err.into());
    future
}

fn describe_params(params: &[Param]) -> String {
    params
        .iter()
        .map(Param::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The global size for an elementwise range of `n`: one work item per index, rounded up to a
/// multiple of 256 so that any driver can choose a work group (OpenCL C 1.2 needs the global
/// size to be a multiple of it). One item per index suits GPUs and CPUs alike: POCL
/// vectorises neighbouring work items, and a capped size with a grid-stride loop made it
/// 15-45x slower.
fn elementwise_global(n: usize) -> usize {
    n.div_ceil(256).saturating_mul(256)
}

fn read<T: Scalar>(
    buffer: &ocl::Buffer<T>,
    len: usize,
    state: &DeviceState,
) -> Result<Vec<T>, OpenClError> {
    let mut host = vec![T::default(); len];
    if len > 0 {
        buffer
            .read(&mut host)
            .queue(&state.queue)
            .len(len)
            .enq()
            .map_err(|e| OpenClError::cl("clEnqueueReadBuffer", &e))?;
    }
    Ok(host)
}

/// Memory on the device: `len` items of `T` (PyOpenCL's `cl_array.Array`).
///
/// A cheap handle: clones share the same memory, which is freed when the last clone drops.
/// Reads and writes are jobs on the device thread, ordered with the kernels submitted before
/// them.
///
/// # A failed write
///
/// A read that depends on a failed write does not report success. When a kernel that may
/// write the buffer (an argument that is not `const`), or a [`write`](Self::write), fails on
/// the device, the buffer remembers that error: later [`to_host`](Self::to_host) copies, and
/// later kernels and reductions that take the buffer as any argument, fail with it (and a
/// kernel failing so passes the error on to the buffers it may write). It stays failed until
/// a [`write`](Self::write) overwrites it successfully. A call refused by the checks of
/// [`submit`](OpenClExecutor::submit) (a future already done with a TypeError or ValueError)
/// never reached the device and changes nothing.
///
/// ```
/// # use gilfree::opencl::{OpenClError, OpenClExecutor};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let Ok(exec) = OpenClExecutor::new() else { return Ok(()) };
/// // SAFETY: `fill` writes `v` at its global id only, and runs over a range of 100 on 128 items.
/// let program = unsafe {
///     exec.program("__kernel void fill(__global int *v) { v[get_global_id(0)] = 1; }")?
/// };
/// let fill = program.kernel("fill")?;
/// let v = exec.zeros::<i32>(128).into_result()?;
/// // Work groups of 64 do not divide a range of 100: the driver refuses the launch.
/// let failed = exec.submit(fill.call((&v,)).range(100).local_size(64));
/// let read = v.to_host();
/// let err = failed.exception().unwrap();
/// assert!(matches!(err.downcast_ref::<OpenClError>(), Some(OpenClError::Cl { .. })));
/// assert_eq!(read.exception(), failed.exception()); // not the old zeros
/// v.write(&[0; 128]).result()?; // good again
/// assert_eq!(v.to_host().into_result()?, [0; 128]);
/// # Ok(())
/// # }
/// ```
pub struct DeviceBuffer<T: Scalar> {
    inner: Arc<BufferInner<T>>,
}

struct BufferInner<T: Scalar> {
    shared: Arc<Shared>,
    buffer: ocl::Buffer<T>,
    len: usize,
    failed: Failure,
}

impl<T: Scalar> DeviceBuffer<T> {
    fn new(shared: Arc<Shared>, buffer: ocl::Buffer<T>, len: usize) -> Self {
        DeviceBuffer {
            inner: Arc::new(BufferInner {
                shared,
                buffer,
                len,
                failed: Failure::default(),
            }),
        }
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.inner.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// Copies the buffer back to the host (`array.get()`), after every kernel submitted before.
    ///
    /// # Errors
    ///
    /// When the last kernel or [`write`](Self::write) queued to write this buffer failed on
    /// the device, the copy fails with that work's error instead of returning what the buffer
    /// held before: see [A failed write](#a-failed-write).
    pub fn to_host(&self) -> Future<Vec<T>> {
        let inner = Arc::clone(&self.inner);
        self.inner.shared.spawn(move |state| {
            if let Some(err) = inner.failed.lock().clone() {
                return Err(err);
            }
            read(&inner.buffer, inner.len, state)
        })
    }

    /// Overwrites the buffer with `data`, which must have the buffer's length
    /// ([`ValueError`](OpenClError::ValueError) otherwise). A buffer whose last writer failed
    /// is good again once this has succeeded.
    pub fn write(&self, data: &[T]) -> Future<()> {
        if data.len() != self.inner.len {
            return failed(OpenClError::value_error(format!(
                "cannot write {} items into a buffer of {}",
                data.len(),
                self.inner.len
            )));
        }
        let inner = Arc::clone(&self.inner);
        let data = data.to_vec();
        self.inner.shared.spawn(move |state| {
            let written = if data.is_empty() {
                Ok(())
            } else {
                inner
                    .buffer
                    .write(&data)
                    .queue(&state.queue)
                    .enq()
                    .map_err(|e| OpenClError::cl("clEnqueueWriteBuffer", &e))
            };
            // A whole overwrite decides the buffer's state: good again, or failed with it.
            *inner.failed.lock() = written.clone().err();
            written
        })
    }
}

impl<T: Scalar> Clone for DeviceBuffer<T> {
    fn clone(&self) -> Self {
        DeviceBuffer {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: Scalar> fmt::Debug for DeviceBuffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DeviceBuffer<{}>(len={}, device={:?}",
            T::CL_NAME,
            self.inner.len,
            self.inner.shared.device.name
        )?;
        match &*self.inner.failed.lock() {
            Some(err) => write!(f, ", failed: {err})"),
            None => f.write_str(")"),
        }
    }
}

/// One kernel argument: a [`DeviceBuffer`] (`&buffer`) or a scalar (`2.0f32`).
#[derive(Clone)]
pub struct Arg(ArgKind);

#[derive(Clone)]
enum ArgKind {
    Buffer {
        ty: ScalarType,
        len: usize,
        exec: u64,
        /// Holds a reference on the `cl_mem`: the memory lives while a call is queued.
        mem: ocl::core::Mem,
        failed: Failure,
    },
    Scalar(ScalarValue),
}

impl Arg {
    /// A buffer argument; `failed` is its buffer's failure record.
    fn raw<T: Scalar>(buffer: &ocl::Buffer<T>, len: usize, exec: u64, failed: Failure) -> Arg {
        Arg(ArgKind::Buffer {
            ty: T::TYPE,
            len,
            exec,
            mem: buffer.as_core().clone(),
            failed,
        })
    }

    /// An internal buffer's argument (a reduction's partial results, `map`'s buffers): no
    /// handle of the caller's sees its failure record.
    fn scratch<T: Scalar>(buffer: &ocl::Buffer<T>, len: usize, exec: u64) -> Arg {
        Arg::raw(buffer, len, exec, Failure::default())
    }

    fn describe(&self) -> String {
        match &self.0 {
            ArgKind::Buffer { ty, len, .. } => format!("a buffer of {len} {}", ty.cl_name()),
            ArgKind::Scalar(v) => format!("a {} scalar", v.ty().cl_name()),
        }
    }
}

impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ArgKind::Scalar(v) => write!(f, "Arg({v:?})"),
            ArgKind::Buffer { .. } => write!(f, "Arg({})", self.describe()),
        }
    }
}

impl<T: Scalar> From<&DeviceBuffer<T>> for Arg {
    fn from(buffer: &DeviceBuffer<T>) -> Arg {
        Arg::raw(
            &buffer.inner.buffer,
            buffer.inner.len,
            buffer.inner.shared.id,
            Arc::clone(&buffer.inner.failed),
        )
    }
}

impl<T: Scalar> From<T> for Arg {
    fn from(value: T) -> Arg {
        Arg(ArgKind::Scalar(value.into_value()))
    }
}

/// What a kernel's `call` takes: a tuple of arguments (`(&a, &b, 2.0f32)`, `(&v,)`), an array
/// or a `Vec` of [`Arg`]s.
pub trait IntoArgs {
    /// The arguments, in order.
    fn into_args(self) -> Vec<Arg>;
}

impl IntoArgs for Vec<Arg> {
    fn into_args(self) -> Vec<Arg> {
        self
    }
}

impl<const N: usize> IntoArgs for [Arg; N] {
    fn into_args(self) -> Vec<Arg> {
        self.into()
    }
}

macro_rules! tuple_args {
    ($($name:ident)*) => {
        impl<$($name: Into<Arg>),*> IntoArgs for ($($name,)*) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Arg> {
                let ($($name,)*) = self;
                vec![$($name.into()),*]
            }
        }
    };
}

impl IntoArgs for () {
    fn into_args(self) -> Vec<Arg> {
        Vec::new()
    }
}
tuple_args!(A);
tuple_args!(A B);
tuple_args!(A B C);
tuple_args!(A B C D);
tuple_args!(A B C D E);
tuple_args!(A B C D E F);
tuple_args!(A B C D E F G);
tuple_args!(A B C D E F G H);
tuple_args!(A B C D E F G H I);
tuple_args!(A B C D E F G H I J);

/// A built elementwise kernel ([`OpenClExecutor::elementwise`]); cheap to clone.
#[derive(Clone)]
pub struct ElementwiseKernel {
    exec: u64,
    program: u64,
    params: Arc<[Param]>,
}

impl ElementwiseKernel {
    /// A call with these arguments, for [`OpenClExecutor::submit`].
    pub fn call(&self, args: impl IntoArgs) -> KernelCall {
        KernelCall {
            exec: self.exec,
            program: self.program,
            kind: CallKind::Elementwise {
                params: Arc::clone(&self.params),
            },
            args: args.into_args(),
            range: None,
            local: None,
        }
    }
}

impl fmt::Debug for ElementwiseKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ElementwiseKernel({})", describe_params(&self.params))
    }
}

/// A built reduction kernel ([`OpenClExecutor::reduction`]) giving a `T`; cheap to clone.
pub struct ReductionKernel<T: Scalar> {
    exec: u64,
    program: u64,
    params: Arc<[Param]>,
    group_size: usize,
    max_groups: usize,
    _out: PhantomData<fn() -> T>,
}

impl<T: Scalar> Clone for ReductionKernel<T> {
    fn clone(&self) -> Self {
        ReductionKernel {
            exec: self.exec,
            program: self.program,
            params: Arc::clone(&self.params),
            group_size: self.group_size,
            max_groups: self.max_groups,
            _out: PhantomData,
        }
    }
}

impl<T: Scalar> ReductionKernel<T> {
    /// A call with these arguments, for [`OpenClExecutor::submit`].
    pub fn call(&self, args: impl IntoArgs) -> ReductionCall<T> {
        ReductionCall {
            kernel: self.clone(),
            args: args.into_args(),
            range: None,
        }
    }
}

impl<T: Scalar> fmt::Debug for ReductionKernel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ReductionKernel<{}>({})",
            T::CL_NAME,
            describe_params(&self.params)
        )
    }
}

/// A program built from raw OpenCL C ([`OpenClExecutor::program`]).
#[derive(Clone)]
pub struct Program {
    shared: Arc<Shared>,
    program: u64,
}

impl Program {
    /// The kernel function `name` of this program.
    ///
    /// # Errors
    ///
    /// [`ValueError`](OpenClError::ValueError) when the program has no such kernel.
    pub fn kernel(&self, name: &str) -> Result<Kernel, OpenClError> {
        let (program, owned) = (self.program, name.to_string());
        let (num_args, params) = self
            .shared
            .call(move |state| state.signature(program, &owned))?;
        Ok(Kernel {
            exec: self.shared.id,
            program,
            name: name.into(),
            num_args,
            params: params.map(Into::into),
        })
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Program(device={:?})", self.shared.device.name)
    }
}

/// A kernel function of a raw [`Program`]; cheap to clone.
#[derive(Clone, Debug)]
pub struct Kernel {
    exec: u64,
    program: u64,
    name: Arc<str>,
    num_args: u32,
    /// What the compiler reported of each parameter (`None`: the driver keeps no record).
    params: Option<Arc<[device::RawParam]>>,
}

impl Kernel {
    /// A call with these arguments, for [`OpenClExecutor::submit`]. Its range (global size)
    /// is the first buffer's length unless [`KernelCall::range`] sets it.
    pub fn call(&self, args: impl IntoArgs) -> KernelCall {
        KernelCall {
            exec: self.exec,
            program: self.program,
            kind: CallKind::Raw {
                name: Arc::clone(&self.name),
                num_args: self.num_args,
                params: self.params.clone(),
            },
            args: args.into_args(),
            range: None,
            local: None,
        }
    }

    /// The kernel function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many arguments it takes.
    pub fn num_args(&self) -> u32 {
        self.num_args
    }
}

/// A kernel with its arguments, ready for [`OpenClExecutor::submit`].
#[derive(Clone, Debug)]
pub struct KernelCall {
    exec: u64,
    program: u64,
    kind: CallKind,
    args: Vec<Arg>,
    range: Option<usize>,
    local: Option<usize>,
}

#[derive(Clone)]
enum CallKind {
    Elementwise {
        params: Arc<[Param]>,
    },
    Raw {
        name: Arc<str>,
        num_args: u32,
        params: Option<Arc<[device::RawParam]>>,
    },
}

impl fmt::Debug for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallKind::Elementwise { params, .. } => {
                write!(f, "elementwise({})", describe_params(params))
            }
            CallKind::Raw { name, .. } => write!(f, "{name}"),
        }
    }
}

impl KernelCall {
    /// Runs the kernel over `0..n`: the values of `i` of an elementwise kernel, the global
    /// size of a raw one. Defaults to the first buffer argument's length. Every buffer of an
    /// elementwise kernel must hold the range ([`ValueError`](OpenClError::ValueError)
    /// otherwise), except that with an explicit range a `const` buffer may be shorter (a
    /// lookup table, as PyOpenCL allows; indexing it is then the kernel's business).
    pub fn range(mut self, n: usize) -> Self {
        self.range = Some(n);
        self
    }

    /// The work-group size of a raw kernel (the driver chooses if unset). The range must be a
    /// multiple of it: programs are built as OpenCL C 1.2, whatever the device supports
    /// (`CL_INVALID_WORK_GROUP_SIZE` otherwise). Elementwise kernels choose their own.
    pub fn local_size(mut self, n: usize) -> Self {
        self.local = Some(n);
        self
    }
}

/// A reduction kernel with its arguments, ready for [`OpenClExecutor::submit`].
#[derive(Clone, Debug)]
pub struct ReductionCall<T: Scalar> {
    kernel: ReductionKernel<T>,
    args: Vec<Arg>,
    range: Option<usize>,
}

impl<T: Scalar> ReductionCall<T> {
    /// Reduces over `0..n` instead of the first buffer's length.
    pub fn range(mut self, n: usize) -> Self {
        self.range = Some(n);
        self
    }
}

/// What an elementwise or raw kernel call reports when it has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    device_time: Duration,
    range: usize,
}

impl Run {
    /// The kernel's time on the device, from the command queue's profiling events (zero where
    /// the driver keeps no profile).
    pub fn device_time(&self) -> Duration {
        self.device_time
    }

    /// The range it ran over.
    pub fn range(&self) -> usize {
        self.range
    }
}

/// Checks every argument against the parameters, and returns the range: the first buffer's
/// length unless one was given; every buffer must hold it.
fn check_args(
    params: &[Param],
    args: &[Arg],
    range: Option<usize>,
    short_tables: bool,
) -> Result<usize, OpenClError> {
    if params.len() != args.len() {
        return Err(OpenClError::type_error(format!(
            "the kernel takes {} arguments ({}), {} were given",
            params.len(),
            describe_params(params),
            args.len()
        )));
    }
    for (param, arg) in params.iter().zip(args) {
        let ok = match &arg.0 {
            ArgKind::Buffer { ty, .. } => param.pointer && *ty == param.ty,
            ArgKind::Scalar(v) => !param.pointer && v.ty() == param.ty,
        };
        if !ok {
            return Err(OpenClError::type_error(format!(
                "argument {} must be {}, not {}",
                param.describe(),
                if param.pointer {
                    format!("a buffer of {}", param.ty.cl_name())
                } else {
                    format!("a {} scalar", param.ty.cl_name())
                },
                arg.describe()
            )));
        }
    }
    let n = range.or_else(|| first_buffer_len(args)).ok_or_else(|| {
        OpenClError::type_error("no buffer argument gives the range: set it with .range(n)")
    })?;
    for (param, arg) in params.iter().zip(args) {
        if let ArgKind::Buffer { len, .. } = arg.0 {
            // With an explicit range, a `const` buffer may be shorter (a lookup table, as
            // PyOpenCL allows); a buffer the kernel may write must still cover the range.
            if len < n && !(short_tables && range.is_some() && param.is_const) {
                return Err(OpenClError::value_error(format!(
                    "buffer {} holds {len} items, the kernel runs over {n}",
                    param.describe()
                )));
            }
        }
    }
    Ok(n)
}

/// Checks a raw kernel's arguments against what the compiler reported: a buffer for each
/// `__global`/`__constant` pointer, a scalar for each value, of the declared type where it is
/// an OpenCL scalar. (A scalar passed for a pointer would hand its bytes to the device as an
/// address.)
fn check_raw_args(
    name: &str,
    params: &[device::RawParam],
    args: &[Arg],
) -> Result<(), OpenClError> {
    use device::Space;
    for (index, (param, arg)) in params.iter().zip(args).enumerate() {
        let given = match &arg.0 {
            ArgKind::Buffer { ty, .. } => (Space::Buffer, *ty),
            ArgKind::Scalar(v) => (Space::Value, v.ty()),
        };
        let fits = match param.space {
            Space::Buffer | Space::Value => {
                given.0 == param.space && param.ty.is_none_or(|ty| ty == given.1)
            }
            Space::Local | Space::Other => false,
        };
        if !fits {
            return Err(OpenClError::type_error(format!(
                "argument {index} of kernel {name:?} is declared {:?}{}; it cannot take {}",
                param.type_name,
                match param.space {
                    Space::Local => " (__local memory, which gilfree cannot pass)",
                    Space::Other => " (not a buffer or a scalar)",
                    _ => "",
                },
                arg.describe()
            )));
        }
    }
    Ok(())
}

/// The indexes of the buffer arguments for which `may_write(index)` holds.
fn writable(args: &[Arg], may_write: impl Fn(usize) -> bool) -> Vec<usize> {
    (0..args.len())
        .filter(|&i| matches!(args[i].0, ArgKind::Buffer { .. }) && may_write(i))
        .collect()
}

/// Runs work that reads `args` and may write those at `writes` (on the device thread): it
/// fails at once with the error of an argument whose last writer failed, and when it fails,
/// the buffers it may write remember its error (see [`DeviceBuffer`], "A failed write").
fn consume<R>(
    args: &[Arg],
    writes: &[usize],
    work: impl FnOnce() -> Result<R, OpenClError>,
) -> Result<R, OpenClError> {
    let earlier = args.iter().find_map(|arg| match &arg.0 {
        ArgKind::Buffer { failed, .. } => failed.lock().clone(),
        ArgKind::Scalar(_) => None,
    });
    let result = match earlier {
        Some(err) => Err(err),
        None => work(),
    };
    if let Err(err) = &result {
        for &i in writes {
            if let ArgKind::Buffer { failed, .. } = &args[i].0 {
                *failed.lock() = Some(err.clone());
            }
        }
    }
    result
}

/// The length of the first buffer argument: a kernel's default range (PyOpenCL's rule).
fn first_buffer_len(args: &[Arg]) -> Option<usize> {
    args.iter().find_map(|a| match a.0 {
        ArgKind::Buffer { len, .. } => Some(len),
        ArgKind::Scalar(_) => None,
    })
}

fn check_exec(shared: &Shared, args: &[Arg]) -> Result<(), OpenClError> {
    for arg in args {
        if let ArgKind::Buffer { exec, .. } = arg.0 {
            shared.check(exec, "a buffer argument")?;
        }
    }
    Ok(())
}

// Public traits in a private module: usable as bounds, implementable only here. Rust 1.85's
// `unreachable_pub` flags them (later compilers do not): the allow keeps the MSRV build quiet.
#[allow(unreachable_pub)]
mod sealed {
    /// Work for the device thread, checked on the submitting thread first.
    pub trait Prepare {
        type Out;
        type Job: Job<Out = Self::Out>;
        #[allow(private_interfaces)]
        fn prepare(self, shared: &super::Shared) -> Result<Self::Job, super::OpenClError>;
    }

    pub trait Job: Send + 'static {
        type Out;
        #[allow(private_interfaces)]
        fn run(self, state: &mut super::DeviceState) -> Result<Self::Out, super::OpenClError>;
    }
}

/// What [`OpenClExecutor::submit`] takes: a [`KernelCall`] (giving a [`Run`]) or a
/// [`ReductionCall`] (giving its value). Sealed.
pub trait Launch: sealed::Prepare<Out = <Self as Launch>::Output> {
    /// What the future holds when the kernel has finished.
    type Output: Send + Sync + 'static;
}

impl Launch for KernelCall {
    type Output = Run;
}

impl<T: Scalar> Launch for ReductionCall<T> {
    type Output = T;
}

#[doc(hidden)]
#[derive(Debug)]
pub struct PreparedCall {
    call: KernelCall,
    range: usize,
    /// The arguments the kernel may write: buffers not declared `const`.
    writes: Vec<usize>,
}

impl sealed::Prepare for KernelCall {
    type Out = Run;
    type Job = PreparedCall;

    #[allow(private_interfaces)]
    fn prepare(self, shared: &Shared) -> Result<PreparedCall, OpenClError> {
        shared.check(self.exec, "the kernel")?;
        check_exec(shared, &self.args)?;
        let writes = match &self.kind {
            CallKind::Elementwise { params } => {
                writable(&self.args, |i| params.get(i).is_none_or(|p| !p.is_const))
            }
            CallKind::Raw { params, .. } => writable(&self.args, |i| {
                params
                    .as_ref()
                    .and_then(|params| params.get(i))
                    .is_none_or(|p| !p.read_only)
            }),
        };
        let range = match &self.kind {
            CallKind::Elementwise { params, .. } => {
                check_args(params, &self.args, self.range, true)?
            }
            CallKind::Raw {
                name,
                num_args,
                params,
            } => {
                if self.args.len() != *num_args as usize {
                    return Err(OpenClError::type_error(format!(
                        "kernel {name:?} takes {num_args} arguments, {} were given",
                        self.args.len()
                    )));
                }
                if let Some(params) = params {
                    check_raw_args(name, params, &self.args)?;
                }
                self.range.or_else(|| first_buffer_len(&self.args)).ok_or_else(|| {
                    OpenClError::type_error(format!(
                        "kernel {name:?} has no buffer argument to give its range: set .range(n)"
                    ))
                })?
            }
        };
        Ok(PreparedCall {
            call: self,
            range,
            writes,
        })
    }
}

impl sealed::Job for PreparedCall {
    type Out = Run;

    #[allow(private_interfaces)]
    fn run(self, state: &mut DeviceState) -> Result<Run, OpenClError> {
        let call = &self.call;
        let n = self.range;
        let device_time = consume(&call.args, &self.writes, || match &call.kind {
            CallKind::Elementwise { .. } => state.launch(device::Launch {
                program: call.program,
                kernel: source::ELEMENTWISE_NAME,
                args: &call.args,
                extra: &[Arg::from(n as i64)],
                global: elementwise_global(n),
                local: None,
            }),
            CallKind::Raw { name, .. } => state.launch(device::Launch {
                program: call.program,
                kernel: name,
                args: &call.args,
                extra: &[],
                global: n,
                local: call.local,
            }),
        })?;
        Ok(Run {
            device_time,
            range: n,
        })
    }
}

#[doc(hidden)]
#[derive(Debug)]
pub struct PreparedReduction<T: Scalar> {
    call: ReductionCall<T>,
    range: usize,
}

impl<T: Scalar> sealed::Prepare for ReductionCall<T> {
    type Out = T;
    type Job = PreparedReduction<T>;

    #[allow(private_interfaces)]
    fn prepare(self, shared: &Shared) -> Result<PreparedReduction<T>, OpenClError> {
        shared.check(self.kernel.exec, "the kernel")?;
        check_exec(shared, &self.args)?;
        // A reduction's map reads every buffer at every index: no short tables.
        let range = check_args(&self.kernel.params, &self.args, self.range, false)?;
        Ok(PreparedReduction { call: self, range })
    }
}

impl<T: Scalar> sealed::Job for PreparedReduction<T> {
    type Out = T;

    #[allow(private_interfaces)]
    fn run(self, state: &mut DeviceState) -> Result<T, OpenClError> {
        // A reduction writes none of its arguments; it only reads them.
        consume(&self.call.args, &[], || self.reduce(state))
    }
}

impl<T: Scalar> PreparedReduction<T> {
    fn reduce(&self, state: &mut DeviceState) -> Result<T, OpenClError> {
        let kernel = &self.call.kernel;
        let n = self.range;
        let wg = kernel.group_size;
        let groups = n.div_ceil(wg).clamp(1, kernel.max_groups);
        let partial = state.buffer::<T>(groups, None)?;
        let out = state.buffer::<T>(1, None)?;
        let exec = kernel.exec;
        state.launch(device::Launch {
            program: kernel.program,
            kernel: source::REDUCE_STAGE1,
            args: &self.call.args,
            extra: &[Arg::from(n as i64), Arg::scratch(&partial, groups, exec)],
            global: groups * wg,
            local: Some(wg),
        })?;
        state.launch(device::Launch {
            program: kernel.program,
            kernel: source::REDUCE_STAGE2,
            args: &[Arg::scratch(&partial, groups, exec)],
            extra: &[Arg::from(groups as i64), Arg::scratch(&out, 1, exec)],
            global: wg,
            local: Some(wg),
        })?;
        Ok(read(&out, 1, state)?[0])
    }
}
