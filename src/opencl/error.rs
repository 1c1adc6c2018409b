//! What can go wrong on the way to a device.

use super::DeviceInfo;
use crate::{Exception, FutureError};
use std::error::Error;
use std::fmt;

/// Why an OpenCL call failed. Nothing in [`gilfree::opencl`](super) panics or stalls: every
/// failure arrives as one of these, directly or inside a
/// [`FutureError::Exception`], where [`FutureError::downcast_ref`] finds it.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "opencl")] {
/// use gilfree::opencl::{OpenClError, OpenClExecutor};
///
/// match OpenClExecutor::new() {
///     Ok(exec) => {
///         // SAFETY: the operation touches `x` at `i` only (and does not build).
///         let broken = unsafe { exec.elementwise("float *x", "x[i] = undefined_name") };
///         assert!(matches!(broken, Err(OpenClError::Build { .. })));
///     }
///     Err(OpenClError::NoPlatform { .. }) => eprintln!("no OpenCL driver on this machine"),
///     Err(other) => panic!("{other}"),
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpenClError {
    /// No OpenCL driver (ICD) is installed, or none reports a platform. Reported at once, never
    /// after the `ocl` crate's ten-second retry loop.
    NoPlatform {
        /// What the ICD loader said.
        detail: String,
    },
    /// No device matches the builder or `GILFREE_OPENCL_DEVICE`; `available` lists every device
    /// there is.
    NoMatchingDevice {
        /// The selection that matched nothing, as text.
        wanted: String,
        /// Every device of every platform.
        available: Vec<DeviceInfo>,
    },
    /// The OpenCL C compiler refused a program; `log` is its build log.
    Build {
        /// The compiler's log, with the line and column of each error.
        log: String,
    },
    /// An OpenCL call returned an error status.
    Cl {
        /// The call or step that failed, such as `"clEnqueueNDRangeKernel"`.
        operation: String,
        /// The status name, such as `"CL_INVALID_ARG_SIZE"` (or the driver's text).
        status: String,
    },
    /// Python's `TypeError`: a kernel got the wrong number or types of arguments.
    TypeError {
        /// What was wrong.
        message: String,
    },
    /// Python's `ValueError`: a size or an option is out of range (a buffer shorter than the
    /// kernel's range, a malformed `GILFREE_OPENCL_DEVICE`).
    ValueError {
        /// What was wrong.
        message: String,
    },
    /// Python's `RuntimeError`: the executor was shut down.
    Shutdown,
    /// Python's `RuntimeError`: a call that cannot work from where it was made: a blocking
    /// build, or a wait for one of the executor's unfinished futures, inside a done callback,
    /// which runs on the device thread itself (it would wait for itself).
    RuntimeError {
        /// What was wrong.
        message: String,
    },
    /// The device thread is gone (a driver call panicked under it).
    BrokenExecutor {
        /// What broke it.
        message: String,
    },
}

impl OpenClError {
    pub(crate) fn cl(operation: impl Into<String>, err: &ocl::Error) -> OpenClError {
        OpenClError::with_status(operation, err.api_status(), err)
    }

    pub(crate) fn cl_core(operation: impl Into<String>, err: &ocl::OclCoreError) -> OpenClError {
        OpenClError::with_status(operation, err.api_status(), err)
    }

    /// The status's name where the error carries one (`CL_INVALID_ARG_SIZE`), else its text.
    fn with_status(
        operation: impl Into<String>,
        status: Option<ocl::core::Status>,
        err: &dyn fmt::Display,
    ) -> OpenClError {
        OpenClError::Cl {
            operation: operation.into(),
            status: match status {
                Some(status) => format!("{status:?}"),
                None => err.to_string().trim().to_string(),
            },
        }
    }

    pub(crate) fn type_error(message: impl Into<String>) -> OpenClError {
        OpenClError::TypeError {
            message: message.into(),
        }
    }

    pub(crate) fn value_error(message: impl Into<String>) -> OpenClError {
        OpenClError::ValueError {
            message: message.into(),
        }
    }
}

impl fmt::Display for OpenClError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenClError::NoPlatform { detail } => {
                write!(f, "no OpenCL platform is installed ({detail})")
            }
            OpenClError::NoMatchingDevice { wanted, available } => {
                write!(f, "no OpenCL device matches {wanted}; available:")?;
                if available.is_empty() {
                    f.write_str(" none")?;
                }
                for (n, dev) in available.iter().enumerate() {
                    let sep = if n == 0 { " " } else { "; " };
                    write!(
                        f,
                        "{sep}[platform {} device {}] {dev}",
                        dev.platform_index, dev.device_index
                    )?;
                }
                Ok(())
            }
            OpenClError::Build { log } => write!(f, "the OpenCL program did not build:\n{log}"),
            OpenClError::Cl { operation, status } => write!(f, "{operation} failed: {status}"),
            OpenClError::TypeError { message } => write!(f, "TypeError: {message}"),
            OpenClError::ValueError { message } => write!(f, "ValueError: {message}"),
            OpenClError::Shutdown => {
                f.write_str("RuntimeError: cannot schedule new work after shutdown")
            }
            OpenClError::RuntimeError { message } => write!(f, "RuntimeError: {message}"),
            OpenClError::BrokenExecutor { message } => {
                write!(f, "the OpenCL device thread is broken: {message}")
            }
        }
    }
}

impl Error for OpenClError {}

/// A [`FutureError::Exception`] holding the error; it compares by value
/// ([`Exception::comparable`]), so futures failed with equal errors have equal exceptions.
impl From<OpenClError> for FutureError {
    fn from(err: OpenClError) -> FutureError {
        FutureError::Exception(Exception::comparable(err))
    }
}

impl From<FutureError> for OpenClError {
    /// Unwraps an `OpenClError` from a [`FutureError::Exception`]; maps the executor's own
    /// failures to [`Shutdown`](OpenClError::Shutdown) and
    /// [`BrokenExecutor`](OpenClError::BrokenExecutor).
    fn from(err: FutureError) -> OpenClError {
        if let Some(err) = err.downcast_ref::<OpenClError>() {
            return err.clone();
        }
        match err {
            FutureError::Shutdown | FutureError::Cancelled => OpenClError::Shutdown,
            other => OpenClError::BrokenExecutor {
                message: other.to_string(),
            },
        }
    }
}
