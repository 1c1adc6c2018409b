//! The `ocl` side: finding devices, and the state the device thread owns.

use super::types::{DeviceInfo, DeviceKind, Scalar, ScalarType, ScalarValue};
use super::{Arg, ArgKind, OpenClError};
use ocl::core::{self as cl, ArgVal};
use ocl::enums::{DeviceInfo as Info, DeviceInfoResult as Res};
use std::collections::HashMap;
use std::ffi::CString;
use std::time::Duration;

/// `CL_PLATFORM_NOT_FOUND_KHR`: the ICD loader found no driver.
const PLATFORM_NOT_FOUND_KHR: i32 = -1001;
/// `CL_DEVICE_VERSION`, read raw to keep the driver's own text.
const CL_DEVICE_VERSION: u32 = 0x102F;

/// Asks the ICD loader how many platforms there are, once. `ocl` itself retries for ten seconds
/// and then panics when there are none; this answers at once.
pub(crate) fn probe() -> Result<(), OpenClError> {
    let mut count: ocl::ffi::cl_uint = 0;
    // SAFETY: with `num_entries` 0 and a null `platforms` pointer, clGetPlatformIDs writes only
    // the platform count, through `num_platforms`, which points at `count`, a live local.
    let status = unsafe { ocl::ffi::clGetPlatformIDs(0, std::ptr::null_mut(), &mut count) };
    match status {
        0 if count > 0 => Ok(()),
        0 => Err(OpenClError::NoPlatform {
            detail: "the ICD loader reports 0 platforms".into(),
        }),
        PLATFORM_NOT_FOUND_KHR => Err(OpenClError::NoPlatform {
            detail: "CL_PLATFORM_NOT_FOUND_KHR: no OpenCL driver (ICD) is registered".into(),
        }),
        other => Err(OpenClError::Cl {
            operation: "clGetPlatformIDs".into(),
            status: format!("OpenCL status {other}"),
        }),
    }
}

/// A device found by [`list`], with the ids `ocl` needs to open it.
pub(crate) struct Found {
    pub(crate) info: DeviceInfo,
    pub(crate) platform: cl::PlatformId,
    pub(crate) device: cl::DeviceId,
}

/// Held while asking the driver for its devices or opening one: POCL 3.1's first device scan
/// is not thread-safe (concurrent first scans crashed inside `clGetDeviceInfo`).
static DRIVER_SCAN: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn scan_lock() -> std::sync::MutexGuard<'static, ()> {
    DRIVER_SCAN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every device of every platform, in driver order.
pub(crate) fn list() -> Result<Vec<Found>, OpenClError> {
    let _scan = scan_lock();
    probe()?;
    let platforms =
        cl::get_platform_ids().map_err(|e| OpenClError::cl_core("clGetPlatformIDs", &e))?;
    let mut found = Vec::new();
    for (platform_index, platform) in platforms.into_iter().enumerate() {
        let platform_name = match cl::get_platform_info(platform, cl::PlatformInfo::Name) {
            Ok(cl::PlatformInfoResult::Name(name)) => name.trim().to_string(),
            _ => format!("platform {platform_index}"),
        };
        // A platform without devices answers CL_DEVICE_NOT_FOUND: that is an empty list.
        let Ok(ids) = cl::get_device_ids(platform, Some(cl::DeviceType::ALL), None) else {
            continue;
        };
        for (device_index, device) in ids.into_iter().enumerate() {
            let info = describe(device, &platform_name, platform_index, device_index)?;
            found.push(Found {
                info,
                platform,
                device,
            });
        }
    }
    Ok(found)
}

fn describe(
    device: cl::DeviceId,
    platform: &str,
    platform_index: usize,
    device_index: usize,
) -> Result<DeviceInfo, OpenClError> {
    let get = |what: Info| {
        cl::get_device_info(device, what).map_err(|e| OpenClError::cl_core("clGetDeviceInfo", &e))
    };
    let kind = match get(Info::Type)? {
        Res::Type(t) if t.contains(cl::DeviceType::GPU) => DeviceKind::Gpu,
        Res::Type(t) if t.contains(cl::DeviceType::CPU) => DeviceKind::Cpu,
        Res::Type(t) if t.contains(cl::DeviceType::ACCELERATOR) => DeviceKind::Accelerator,
        _ => DeviceKind::Other,
    };
    let text = |what: Info| -> Result<String, OpenClError> {
        Ok(match get(what)? {
            Res::Name(s) | Res::Vendor(s) | Res::Extensions(s) => s.trim().to_string(),
            _ => String::new(),
        })
    };
    let version = cl::get_device_info_raw(device, CL_DEVICE_VERSION)
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .trim_end_matches('\0')
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    Ok(DeviceInfo {
        platform: platform.to_string(),
        platform_index,
        device_index,
        name: text(Info::Name)?,
        vendor: text(Info::Vendor)?,
        version,
        kind,
        compute_units: match get(Info::MaxComputeUnits)? {
            Res::MaxComputeUnits(n) => n,
            _ => 1,
        },
        global_mem_bytes: match get(Info::GlobalMemSize)? {
            Res::GlobalMemSize(n) => n,
            _ => 0,
        },
        max_alloc_bytes: match get(Info::MaxMemAllocSize)? {
            Res::MaxMemAllocSize(n) => n,
            _ => 0,
        },
        max_work_group_size: match get(Info::MaxWorkGroupSize)? {
            Res::MaxWorkGroupSize(n) => n,
            _ => 1,
        },
        fp64: text(Info::Extensions)?.contains("cl_khr_fp64"),
    })
}

/// Which device an executor opens: the builder's choice, then `GILFREE_OPENCL_DEVICE`'s.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Selector {
    pub(crate) kind: Option<DeviceKind>,
    pub(crate) platform: Option<String>,
    pub(crate) index: Option<usize>,
}

impl Selector {
    /// Applies `GILFREE_OPENCL_DEVICE`: comma-separated terms, each `gpu`, `cpu`,
    /// `accelerator`, `any`, `platform=<part of its name>`, `index=<n>` or a bare `<n>`.
    pub(crate) fn override_with(&mut self, spec: &str) -> Result<(), OpenClError> {
        for term in spec.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let lower = term.to_ascii_lowercase();
            if lower == "any" {
                self.kind = None;
            } else if let Some(kind) = DeviceKind::parse(&lower) {
                self.kind = Some(kind);
            } else if let Some(platform) = lower.strip_prefix("platform=") {
                self.platform = Some(platform.to_string());
            } else if let Some(index) = lower
                .strip_prefix("index=")
                .or(Some(lower.as_str()))
                .and_then(|n| n.parse().ok())
            {
                self.index = Some(index);
            } else {
                return Err(OpenClError::value_error(format!(
                    "GILFREE_OPENCL_DEVICE={spec:?}: cannot read {term:?} (expected gpu, cpu, \
                     accelerator, any, platform=<name>, index=<n>)"
                )));
            }
        }
        Ok(())
    }

    /// Picks a device: those that match, GPUs first unless a kind was asked for, then the
    /// `index`-th of them.
    pub(crate) fn choose(&self, mut found: Vec<Found>) -> Result<Found, OpenClError> {
        let all: Vec<DeviceInfo> = found.iter().map(|f| f.info.clone()).collect();
        found.retain(|f| {
            self.kind.is_none_or(|k| f.info.kind == k)
                && self.platform.as_ref().is_none_or(|p| {
                    f.info
                        .platform
                        .to_ascii_lowercase()
                        .contains(&p.to_ascii_lowercase())
                })
        });
        found.sort_by_key(|f| {
            (
                f.info.kind.rank(),
                f.info.platform_index,
                f.info.device_index,
            )
        });
        let index = self.index.unwrap_or(0);
        if index < found.len() {
            Ok(found.swap_remove(index))
        } else {
            Err(OpenClError::NoMatchingDevice {
                wanted: self.to_string(),
                available: all,
            })
        }
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Some(kind) => write!(f, "kind {kind}")?,
            None => f.write_str("any kind")?,
        }
        if let Some(platform) = &self.platform {
            write!(f, ", platform {platform:?}")?;
        }
        write!(f, ", index {}", self.index.unwrap_or(0))
    }
}

/// How a raw kernel's parameter is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Space {
    /// A `__global` or `__constant` pointer: a buffer.
    Buffer,
    /// A value (`int n`).
    Value,
    /// `__local` memory, which `Arg` cannot give.
    Local,
    /// Anything else (an image, a sampler, a pointer gilfree cannot describe).
    Other,
}

/// A raw kernel's parameter, as the compiler reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawParam {
    pub(crate) space: Space,
    /// The element or value type, where it is an OpenCL scalar.
    pub(crate) ty: Option<ScalarType>,
    pub(crate) type_name: String,
    /// A `const` or `__constant` buffer, which the kernel cannot write.
    pub(crate) read_only: bool,
}

/// A kernel launch: which kernel, its arguments, and its range.
pub(crate) struct Launch<'a> {
    pub(crate) program: u64,
    pub(crate) kernel: &'a str,
    pub(crate) args: &'a [Arg],
    /// Arguments the generated kernels append (the range, the output buffer).
    pub(crate) extra: &'a [Arg],
    pub(crate) global: usize,
    pub(crate) local: Option<usize>,
}

/// What the device thread owns: OpenCL objects that are never touched from another thread
/// (kernels are not thread-safe in OpenCL: setting an argument and enqueueing must not
/// interleave).
pub(crate) struct DeviceState {
    pub(crate) info: DeviceInfo,
    device: cl::DeviceId,
    context: ocl::Context,
    pub(crate) queue: ocl::Queue,
    programs: HashMap<String, u64>,
    built: HashMap<u64, cl::Program>,
    kernels: HashMap<(u64, String), cl::Kernel>,
}

impl DeviceState {
    pub(crate) fn open(found: &Found) -> Result<DeviceState, OpenClError> {
        let _scan = scan_lock();
        let context = ocl::Context::builder()
            .platform(ocl::Platform::new(found.platform))
            .devices(ocl::Device::from(found.device))
            .build()
            .map_err(|e| OpenClError::cl("clCreateContext", &e))?;
        let queue = ocl::Queue::new(
            &context,
            ocl::Device::from(found.device),
            Some(cl::CommandQueueProperties::PROFILING_ENABLE),
        )
        .map_err(|e| OpenClError::cl("clCreateCommandQueue", &e))?;
        Ok(DeviceState {
            info: found.info.clone(),
            device: found.device,
            context,
            queue,
            programs: HashMap::new(),
            built: HashMap::new(),
            kernels: HashMap::new(),
        })
    }

    /// Builds `source` once per executor; a second request is a lookup.
    pub(crate) fn build(
        &mut self,
        source: &str,
        id: impl FnOnce() -> u64,
    ) -> Result<u64, OpenClError> {
        if let Some(&id) = self.programs.get(source) {
            return Ok(id);
        }
        let text = CString::new(source)
            .map_err(|_| OpenClError::value_error("the program source contains a NUL byte"))?;
        let program = cl::create_program_with_source(self.context.as_core(), &[text])
            .map_err(|e| OpenClError::cl_core("clCreateProgramWithSource", &e))?;
        // The argument records let raw kernels' arguments be checked before a launch.
        let options = CString::new("-cl-kernel-arg-info").expect("no NUL in the options");
        if cl::build_program(&program, Some(&[self.device]), &options, None, None).is_err() {
            let log = match cl::get_program_build_info(
                &program,
                self.device,
                cl::ProgramBuildInfo::BuildLog,
            ) {
                Ok(cl::ProgramBuildInfoResult::BuildLog(log)) => log.trim().to_string(),
                _ => "(the driver gave no build log)".to_string(),
            };
            return Err(OpenClError::Build { log });
        }
        let id = id();
        self.programs.insert(source.to_string(), id);
        self.built.insert(id, program);
        Ok(id)
    }

    /// The kernel `name` of a built program, created once and kept.
    pub(crate) fn kernel(&mut self, program: u64, name: &str) -> Result<&cl::Kernel, OpenClError> {
        let key = (program, name.to_string());
        if !self.kernels.contains_key(&key) {
            let built = self.built.get(&program).ok_or_else(|| {
                OpenClError::value_error("the program belongs to another executor")
            })?;
            let kernel = cl::create_kernel(built, name).map_err(|e| match e.api_status() {
                Some(cl::Status::CL_INVALID_KERNEL_NAME) => {
                    OpenClError::value_error(format!("the program has no kernel named {name:?}"))
                }
                _ => OpenClError::cl_core("clCreateKernel", &e),
            })?;
            self.kernels.insert(key.clone(), kernel);
        }
        Ok(&self.kernels[&key])
    }

    /// The kernel's parameters as the compiler reports them (programs are built with
    /// `-cl-kernel-arg-info`); `None` for the kinds where the driver keeps no such record.
    pub(crate) fn signature(
        &mut self,
        program: u64,
        name: &str,
    ) -> Result<(u32, Option<Vec<RawParam>>), OpenClError> {
        let kernel = self.kernel(program, name)?;
        let count = match cl::get_kernel_info(kernel, cl::KernelInfo::NumArgs) {
            Ok(cl::KernelInfoResult::NumArgs(n)) => n,
            Ok(_) => 0,
            Err(e) => return Err(OpenClError::cl_core("clGetKernelInfo", &e)),
        };
        let mut params = Vec::new();
        for index in 0..count {
            let space =
                cl::get_kernel_arg_info(kernel, index, cl::KernelArgInfo::AddressQualifier, None);
            let type_name =
                cl::get_kernel_arg_info(kernel, index, cl::KernelArgInfo::TypeName, None);
            let qualifier =
                cl::get_kernel_arg_info(kernel, index, cl::KernelArgInfo::TypeQualifier, None);
            let (
                Ok(cl::KernelArgInfoResult::AddressQualifier(space)),
                Ok(cl::KernelArgInfoResult::TypeName(type_name)),
                Ok(cl::KernelArgInfoResult::TypeQualifier(qualifier)),
            ) = (space, type_name, qualifier)
            else {
                return Ok((count, None));
            };
            use cl::KernelArgAddressQualifier as Q;
            let pointer = type_name.contains('*');
            params.push(RawParam {
                space: match space {
                    Q::Global | Q::Constant if pointer => Space::Buffer,
                    Q::Local => Space::Local,
                    Q::Private if !pointer => Space::Value,
                    _ => Space::Other,
                },
                ty: ScalarType::parse(
                    &type_name
                        .replace('*', " ")
                        .replace("const", " ")
                        .replace("restrict", " "),
                ),
                type_name: type_name.trim().to_string(),
                read_only: space == Q::Constant
                    || qualifier.contains(cl::KernelArgTypeQualifier::CONST),
            });
        }
        Ok((count, Some(params)))
    }

    /// Sets the arguments, enqueues the kernel and waits for it; returns its time on the device
    /// (from the queue's profiling events).
    pub(crate) fn launch(&mut self, launch: Launch<'_>) -> Result<Duration, OpenClError> {
        let queue = self.queue.as_core().clone();
        let kernel = self.kernel(launch.program, launch.kernel)?;
        for (index, arg) in launch.args.iter().chain(launch.extra).enumerate() {
            let set = match &arg.0 {
                ArgKind::Buffer { mem, .. } => {
                    cl::set_kernel_arg(kernel, index as u32, ArgVal::mem(mem))
                }
                ArgKind::Scalar(value) => set_scalar(kernel, index as u32, value),
            };
            set.map_err(|e| match e.api_status() {
                Some(status) => OpenClError::type_error(format!(
                    "argument {index} of kernel {:?} was refused: {status:?}",
                    launch.kernel
                )),
                None => OpenClError::cl_core("clSetKernelArg", &e),
            })?;
        }
        if launch.global == 0 {
            return Ok(Duration::ZERO);
        }
        let mut event = cl::Event::null();
        // SAFETY: every argument of `kernel` was set just above, and each buffer argument's
        // `cl_mem` is retained by `launch.args`/`launch.extra`, which outlive the kernel:
        // we wait for its event before returning. Kernel objects are touched only by this
        // thread, so no other thread sets arguments in between. What the kernel's OpenCL C does
        // with its buffers is the caller's code (see the module docs on kernel source).
        let enqueued = unsafe {
            cl::enqueue_kernel(
                &queue,
                kernel,
                1,
                None,
                &[launch.global, 1, 1],
                launch.local.map(|l| [l, 1, 1]),
                None::<&cl::Event>,
                Some(&mut event),
            )
        };
        enqueued.map_err(|e| OpenClError::cl_core("clEnqueueNDRangeKernel", &e))?;
        cl::wait_for_event(&event).map_err(|e| OpenClError::cl_core("clWaitForEvents", &e))?;
        Ok(device_time(&event))
    }

    /// A buffer of `len` items (at least one on the device: OpenCL has no empty buffers),
    /// filled from `data` or with zeros.
    pub(crate) fn buffer<T: Scalar>(
        &self,
        len: usize,
        data: Option<&[T]>,
    ) -> Result<ocl::Buffer<T>, OpenClError> {
        let bytes = len.saturating_mul(std::mem::size_of::<T>()) as u64;
        if bytes > self.info.max_alloc_bytes && self.info.max_alloc_bytes > 0 {
            return Err(OpenClError::value_error(format!(
                "a buffer of {bytes} bytes is larger than the device allows ({} bytes)",
                self.info.max_alloc_bytes
            )));
        }
        let builder = ocl::Buffer::<T>::builder()
            .queue(self.queue.clone())
            .len(len.max(1));
        let built = match data {
            Some(data) if !data.is_empty() => builder.copy_host_slice(data).build(),
            _ => builder.fill_val(T::default()).build(),
        };
        built.map_err(|e| OpenClError::cl("clCreateBuffer", &e))
    }
}

fn set_scalar(kernel: &cl::Kernel, index: u32, value: &ScalarValue) -> ocl::core::Result<()> {
    match value {
        ScalarValue::I8(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::U8(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::I16(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::U16(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::I32(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::U32(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::I64(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::U64(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::F32(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
        ScalarValue::F64(v) => cl::set_kernel_arg(kernel, index, ArgVal::scalar(v)),
    }
}

/// The time between an event's start and end on the device; zero where the driver keeps no
/// profile.
pub(crate) fn device_time(event: &cl::Event) -> Duration {
    let at = |what| match cl::get_event_profiling_info(event, what) {
        Ok(cl::ProfilingInfoResult::Start(t) | cl::ProfilingInfoResult::End(t)) => Some(t),
        _ => None,
    };
    match (at(cl::ProfilingInfo::Start), at(cl::ProfilingInfo::End)) {
        (Some(start), Some(end)) => Duration::from_nanos(end.saturating_sub(start)),
        _ => Duration::ZERO,
    }
}
