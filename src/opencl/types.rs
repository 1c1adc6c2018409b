//! Element types a kernel can take, and what a device is.

use std::fmt;

mod sealed {
    /// Only the OpenCL scalar types implement [`Scalar`](super::Scalar); the bound on `ocl`'s
    /// own trait lets the device thread make buffers of them, and never shows in the public API.
    pub trait Sealed: ocl::OclPrm {}
}

/// The element types of [`DeviceBuffer`](super::DeviceBuffer)s and kernel arguments: OpenCL's
/// scalar types, each with its C name.
///
/// | Rust | OpenCL C |
/// |---|---|
/// | `i8`, `u8` | `char`, `uchar` |
/// | `i16`, `u16` | `short`, `ushort` |
/// | `i32`, `u32` | `int`, `uint` |
/// | `i64`, `u64` | `long`, `ulong` |
/// | `f32`, `f64` | `float`, `double` (a device without `cl_khr_fp64` refuses `double`) |
///
/// The trait is sealed: no other type can cross to a device bit for bit.
pub trait Scalar:
    sealed::Sealed + Copy + Default + PartialEq + fmt::Debug + Send + Sync + 'static
{
    /// The type's name in OpenCL C.
    const CL_NAME: &'static str;
    #[doc(hidden)]
    const TYPE: ScalarType;
    #[doc(hidden)]
    fn into_value(self) -> ScalarValue;
}

/// An OpenCL scalar type, as written in a kernel's argument list.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

/// A scalar kernel argument's value.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarValue {
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
}

macro_rules! scalars {
    ($($t:ty => $variant:ident, $name:literal;)*) => {
        $(
            impl sealed::Sealed for $t {}
            impl Scalar for $t {
                const CL_NAME: &'static str = $name;
                const TYPE: ScalarType = ScalarType::$variant;
                fn into_value(self) -> ScalarValue {
                    ScalarValue::$variant(self)
                }
            }
        )*
        impl ScalarType {
            /// The OpenCL C name.
            pub(crate) fn cl_name(self) -> &'static str {
                match self {
                    $(ScalarType::$variant => $name,)*
                }
            }
        }
        impl ScalarValue {
            pub(crate) fn ty(&self) -> ScalarType {
                match self {
                    $(ScalarValue::$variant(_) => ScalarType::$variant,)*
                }
            }
        }
    };
}

scalars! {
    i8 => I8, "char";
    u8 => U8, "uchar";
    i16 => I16, "short";
    u16 => U16, "ushort";
    i32 => I32, "int";
    u32 => U32, "uint";
    i64 => I64, "long";
    u64 => U64, "ulong";
    f32 => F32, "float";
    f64 => F64, "double";
}

impl ScalarType {
    /// Parses an OpenCL C scalar type name, C's long spellings included.
    pub(crate) fn parse(words: &str) -> Option<ScalarType> {
        let words: Vec<&str> = words.split_whitespace().collect();
        Some(match words.as_slice() {
            ["char"] | ["signed", "char"] => ScalarType::I8,
            ["uchar"] | ["unsigned", "char"] => ScalarType::U8,
            ["short"] | ["signed", "short"] => ScalarType::I16,
            ["ushort"] | ["unsigned", "short"] => ScalarType::U16,
            ["int"] | ["signed", "int"] | ["signed"] => ScalarType::I32,
            ["uint"] | ["unsigned", "int"] | ["unsigned"] => ScalarType::U32,
            ["long"] | ["signed", "long"] => ScalarType::I64,
            ["ulong"] | ["unsigned", "long"] => ScalarType::U64,
            ["float"] => ScalarType::F32,
            ["double"] => ScalarType::F64,
            _ => return None,
        })
    }
}

/// What kind of device an OpenCL device is (`CL_DEVICE_TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceKind {
    /// A graphics processor.
    Gpu,
    /// The host's CPU (POCL, Intel's CPU runtime).
    Cpu,
    /// A dedicated accelerator (FPGA, DSP).
    Accelerator,
    /// Anything else the driver reports (`CL_DEVICE_TYPE_CUSTOM`).
    Other,
}

impl DeviceKind {
    /// Preference when nothing is asked for: GPUs first, the CPU last.
    pub(crate) fn rank(self) -> u8 {
        match self {
            DeviceKind::Gpu => 0,
            DeviceKind::Accelerator => 1,
            DeviceKind::Other => 2,
            DeviceKind::Cpu => 3,
        }
    }

    pub(crate) fn parse(word: &str) -> Option<DeviceKind> {
        Some(match word.to_ascii_lowercase().as_str() {
            "gpu" => DeviceKind::Gpu,
            "cpu" => DeviceKind::Cpu,
            "accelerator" | "acc" => DeviceKind::Accelerator,
            "other" | "custom" => DeviceKind::Other,
            _ => return None,
        })
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceKind::Gpu => "GPU",
            DeviceKind::Cpu => "CPU",
            DeviceKind::Accelerator => "accelerator",
            DeviceKind::Other => "other",
        })
    }
}

/// One OpenCL device, as [`devices()`](super::devices) lists it and
/// [`OpenClExecutor::device`](super::OpenClExecutor::device) reports it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeviceInfo {
    /// The platform's (driver's) name, such as `"Portable Computing Language"` or
    /// `"NVIDIA CUDA"`.
    pub platform: String,
    /// The platform's position in the driver list (`clGetPlatformIDs` order).
    pub platform_index: usize,
    /// The device's position within its platform.
    pub device_index: usize,
    /// The device's name, such as `"NVIDIA H100 80GB HBM3"`.
    pub name: String,
    /// The device's vendor.
    pub vendor: String,
    /// The OpenCL version the device supports, as it reports it (`"OpenCL 3.0 CUDA"`).
    pub version: String,
    /// GPU, CPU or accelerator.
    pub kind: DeviceKind,
    /// Compute units (GPU multiprocessors, CPU cores).
    pub compute_units: u32,
    /// Global memory in bytes.
    pub global_mem_bytes: u64,
    /// The largest single buffer the device allows, in bytes.
    pub max_alloc_bytes: u64,
    /// The largest work group a kernel may use.
    pub max_work_group_size: usize,
    /// Whether the device takes `double` (`cl_khr_fp64`).
    pub fp64: bool,
}

impl fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {}, {} compute units, {:.1} GiB)",
            self.name,
            self.kind,
            self.platform,
            self.compute_units,
            self.global_mem_bytes as f64 / (1u64 << 30) as f64
        )
    }
}
