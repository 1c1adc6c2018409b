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
