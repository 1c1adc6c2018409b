//! Error values named after Python's exceptions.
//!
//! Each type is the Rust value for the Python exception of the same name (SEMANTICS.md §14).
//! Python's subclass relations become `From` conversions: a [`BrokenBarrierError`] converts into
//! a [`RuntimeError`], as `BrokenBarrierError` subclasses `RuntimeError` in Python (BAR-15).

use std::error::Error;
use std::fmt;

/// Python's `RuntimeError`: an operation was used in a state that does not allow it, such as
/// releasing an unlocked [`Lock`](crate::Lock) (LOCK-14) or an [`RLock`](crate::RLock) the
/// caller does not own (RLOCK-2, RLOCK-3).
///
/// # Examples
///
/// ```
/// let lock = gilfree::Lock::new();
/// let err = lock.release().unwrap_err();
/// assert_eq!(err.message(), "release unlocked lock");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuntimeError {
    message: &'static str,
}

impl RuntimeError {
    pub(crate) const fn new(message: &'static str) -> Self {
        RuntimeError { message }
    }

    /// The message Python would attach to the exception.
    pub fn message(&self) -> &'static str {
        self.message
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuntimeError: {}", self.message)
    }
}

impl Error for RuntimeError {}

/// Python's `ValueError`: an argument has the right type but a value the operation refuses,
/// such as `release(0)` on a [`Semaphore`](crate::Semaphore) (SEM-8) or releasing a
/// [`BoundedSemaphore`](crate::BoundedSemaphore) above its initial value (BSEM-1).
///
/// # Examples
///
/// ```
/// let sem = gilfree::BoundedSemaphore::new(1);
/// let err = sem.release(1).unwrap_err();
/// assert_eq!(err.message(), "Semaphore released too many times");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValueError {
    message: &'static str,
}

impl ValueError {
    pub(crate) const fn new(message: &'static str) -> Self {
        ValueError { message }
    }

    /// The message Python would attach to the exception.
    pub fn message(&self) -> &'static str {
        self.message
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValueError: {}", self.message)
    }
}

impl Error for ValueError {}

/// Python's `threading.BrokenBarrierError`: the [`Barrier`](crate::Barrier) was broken — by
/// [`abort`](crate::Barrier::abort), by [`reset`](crate::Barrier::reset) while threads were
/// waiting, by a waiter's timeout, or by a panicking action (BAR-5, BAR-6, BAR-8, BAR-12).
///
/// # Examples
///
/// ```
/// let barrier = gilfree::Barrier::new(2);
/// barrier.abort();
/// assert_eq!(barrier.wait(), Err(gilfree::BrokenBarrierError));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrokenBarrierError: the barrier is broken")
    }
}

impl Error for BrokenBarrierError {}

/// `BrokenBarrierError` is a subclass of `RuntimeError` in Python (BAR-15).
impl From<BrokenBarrierError> for RuntimeError {
    fn from(_: BrokenBarrierError) -> Self {
        RuntimeError::new("the barrier is broken")
    }
}

/// Why [`Thread::join`](crate::Thread::join) returned no value.
///
/// Python's `join()` returns `None` whatever happened in the thread, and an exception in the
/// thread goes to `threading.excepthook` (THR-17). In Rust the thread's value comes back from
/// `join`, so a panic comes back too, in place of the value — nothing is lost. Rust's panic
/// hook has already printed the message with the thread's name, as Python's default
/// `excepthook` prints `Exception in thread <name>:`.
///
/// # Examples
///
/// ```
/// use gilfree::{JoinError, Thread};
///
/// let t = Thread::spawn(|| -> u32 { panic!("out of coffee") });
/// match t.join() {
///     Err(JoinError::Panicked { message, .. }) => assert_eq!(message, "out of coffee"),
///     other => panic!("expected the panic back, got {other:?}"),
/// }
/// ```
#[non_exhaustive]
pub enum JoinError {
    /// The thread's function panicked; `message` is the panic's text when it was a string
    /// (as `panic!` makes), and `payload` is the value `std::panic::resume_unwind` takes.
    Panicked {
        /// The thread's name, as `Thread::name` gave it when the thread ended.
        thread: String,
        /// The panic message (`"<non-string panic payload>"` if it was no string).
        message: String,
        /// The panic payload, to re-raise it with `std::panic::resume_unwind`.
        payload: Box<dyn std::any::Any + Send + 'static>,
    },
    /// Python's `RuntimeError`: a thread cannot join itself (THR-7).
    Runtime(RuntimeError),
}

impl JoinError {
    /// The panic message of a [`JoinError::Panicked`], or the `RuntimeError`'s message.
    pub fn message(&self) -> &str {
        match self {
            JoinError::Panicked { message, .. } => message,
            JoinError::Runtime(err) => err.message(),
        }
    }

    /// Whether the thread panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked { .. })
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked {
                thread, message, ..
            } => f
                .debug_struct("Panicked")
                .field("thread", thread)
                .field("message", message)
                .finish_non_exhaustive(),
            JoinError::Runtime(err) => f.debug_tuple("Runtime").field(err).finish(),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked {
                thread, message, ..
            } => write!(f, "exception in thread {thread}: {message}"),
            JoinError::Runtime(err) => err.fmt(f),
        }
    }
}

impl Error for JoinError {}

impl From<RuntimeError> for JoinError {
    fn from(err: RuntimeError) -> Self {
        JoinError::Runtime(err)
    }
}

/// The text of a panic payload: `panic!("...")` makes a `&str` or a `String`.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}
