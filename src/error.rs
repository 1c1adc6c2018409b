//! Error values named after Python's exceptions.
//!
//! Each type is the Rust value for the Python exception of the same name (SEMANTICS.md §14).
//! Python's subclass relations become `From` conversions: a [`BrokenBarrierError`] converts into
//! a [`RuntimeError`], as `BrokenBarrierError` subclasses `RuntimeError` in Python.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Python's `RuntimeError`: an operation was used in a state that does not allow it, such as
/// releasing an unlocked [`Lock`](crate::Lock) or an [`RLock`](crate::RLock) the
/// caller does not own.
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
/// such as `release(0)` on a [`Semaphore`](crate::Semaphore) or releasing a
/// [`BoundedSemaphore`](crate::BoundedSemaphore) above its initial value.
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
/// waiting, by a waiter's timeout, or by a panicking action.
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

/// `BrokenBarrierError` is a subclass of `RuntimeError` in Python.
impl From<BrokenBarrierError> for RuntimeError {
    fn from(_: BrokenBarrierError) -> Self {
        RuntimeError::new("the barrier is broken")
    }
}

/// Why [`Thread::join`](crate::Thread::join) returned no value.
///
/// Python's `join()` returns `None` whatever happened in the thread, and an exception in the
/// thread goes to `threading.excepthook`. In Rust the thread's value comes back from
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
        payload: PanicPayload,
    },
    /// Python's `RuntimeError`: a thread cannot join itself.
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

/// A panic's payload, as [`JoinError::Panicked`] carries it: the `Box<dyn Any + Send>` that
/// `std::thread::JoinHandle::join` returns, held so that the error is `Sync` and can pass
/// through `?` into a `Box<dyn Error + Send + Sync>`.
///
/// # Examples
///
/// ```
/// use gilfree::{JoinError, Thread};
///
/// let t = Thread::spawn(|| -> u8 { std::panic::panic_any(7_u32) });
/// let Err(JoinError::Panicked { payload, .. }) = t.join() else { unreachable!() };
/// let payload = payload.into_inner(); // for std::panic::resume_unwind
/// assert_eq!(payload.downcast_ref::<u32>(), Some(&7));
/// ```
pub struct PanicPayload(std::sync::Mutex<Box<dyn std::any::Any + Send + 'static>>);

impl PanicPayload {
    pub(crate) fn new(payload: Box<dyn std::any::Any + Send + 'static>) -> Self {
        PanicPayload(std::sync::Mutex::new(payload))
    }

    /// The payload, to re-raise it with `std::panic::resume_unwind` or to downcast it.
    pub fn into_inner(self) -> Box<dyn std::any::Any + Send + 'static> {
        // Nothing panics while the mutex is held: a poisoned one still holds the payload.
        self.0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The payload, borrowed mutably (no lock is taken: `&mut self` is exclusive).
    pub fn get_mut(&mut self) -> &mut (dyn std::any::Any + Send + 'static) {
        &mut **self
            .0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PanicPayload(..)")
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

/// Drops `value` where nobody can receive a panic from its `Drop` (a panic payload, a
/// detached thread's result): such a panic is caught, and its own payload — which might panic
/// when dropped in turn — is leaked.
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(value)))
    {
        std::mem::forget(payload);
    }
}

// ---------------------------------------------------------------------------------------------
// queue: Empty, Full, ShutDown

/// Python's `queue.Empty`: a non-blocking or timed `get` found nothing to take.
///
/// # Examples
///
/// ```
/// use gilfree::{Empty, GetError, Queue};
///
/// let q: Queue<u32> = Queue::new(0);
/// assert_eq!(q.get_nowait(), Err(GetError::Empty));
/// assert_eq!(gilfree::SimpleQueue::<u32>::new().get_nowait(), Err(Empty));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Empty;

impl fmt::Display for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue.Empty: the queue is empty")
    }
}

impl Error for Empty {}

/// Python's `queue.ShutDown` (3.13): the queue was shut down. A refused `put`
/// hands its item back inside: `ShutDown(item)`; a `get` carries nothing (`ShutDown<()>`).
///
/// # Examples
///
/// ```
/// use gilfree::{Queue, ShutDown};
///
/// let q = Queue::new(0);
/// q.shutdown(false);
/// assert_eq!(q.put("late"), Err(ShutDown("late")));
/// assert_eq!(q.get(), Err(ShutDown(())));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ShutDown<T = ()>(pub T);

impl<T> ShutDown<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShutDown(..)")
    }
}

impl<T> fmt::Display for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue.ShutDown: the queue is shut down")
    }
}

impl<T> Error for ShutDown<T> {}

/// Why a timed or non-blocking `put` did not store its item; the item is inside.
///
/// Python raises `queue.Full` or `queue.ShutDown`; here both hand the item back, so nothing is
/// lost. A shut-down queue reports `ShutDown` even when it is also full.
///
/// # Examples
///
/// ```
/// use gilfree::{PutError, Queue};
///
/// let q = Queue::new(1);
/// q.put_nowait(1).unwrap();
/// let err = q.put_nowait(2).unwrap_err();
/// assert_eq!(err, PutError::Full(2));
/// assert_eq!(err.into_inner(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// Python's `queue.Full`: the queue stayed full until the timeout passed.
    Full(T),
    /// Python's `queue.ShutDown`: the queue is shut down.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }

    /// Whether this is Python's `queue.Full`.
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Whether this is Python's `queue.ShutDown`.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("queue.Full: the queue is full"),
            PutError::ShutDown(_) => f.write_str("queue.ShutDown: the queue is shut down"),
        }
    }
}

impl<T> Error for PutError<T> {}

impl<T> From<ShutDown<T>> for PutError<T> {
    fn from(err: ShutDown<T>) -> Self {
        PutError::ShutDown(err.0)
    }
}

/// Why a timed or non-blocking `get` returned no item.
///
/// # Examples
///
/// ```
/// use gilfree::{GetError, Queue};
/// use std::time::Duration;
///
/// let q: Queue<u8> = Queue::new(0);
/// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GetError {
    /// Python's `queue.Empty`: nothing arrived before the timeout.
    Empty,
    /// Python's `queue.ShutDown`: the queue is shut down and has nothing left to give.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => Empty.fmt(f),
            GetError::ShutDown => ShutDown(()).fmt(f),
        }
    }
}

impl Error for GetError {}

impl From<Empty> for GetError {
    fn from(_: Empty) -> Self {
        GetError::Empty
    }
}

impl From<ShutDown> for GetError {
    fn from(_: ShutDown) -> Self {
        GetError::ShutDown
    }
}

// ---------------------------------------------------------------------------------------------
// collections: IndexError, KeyError

/// Python's `IndexError`: an index out of range, or an insert into a full
/// [`Deque`](crate::Deque). An item that could not be stored is inside.
///
/// # Examples
///
/// ```
/// let dq = gilfree::Deque::with_maxlen(1);
/// dq.append('a');
/// let err = dq.insert(0, 'z').unwrap_err();
/// assert_eq!(err.message(), "deque already at its maximum size");
/// assert_eq!(err.into_inner(), 'z');
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexError<T = ()> {
    message: &'static str,
    item: T,
}

impl<T> IndexError<T> {
    pub(crate) const fn new(message: &'static str, item: T) -> Self {
        IndexError { message, item }
    }

    /// The message Python would attach to the exception.
    pub fn message(&self) -> &'static str {
        self.message
    }

    /// The item that was not stored (`()` when there was none).
    pub fn into_inner(self) -> T {
        self.item
    }
}

impl<T> fmt::Debug for IndexError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexError")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for IndexError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexError: {}", self.message)
    }
}

impl<T> Error for IndexError<T> {}

/// Python's `KeyError`: the key is not in the [`Set`](crate::Set). It carries the key, as
/// Python's does — an owned copy ([`ToOwned`]: a `String` for a `&str` key), so the
/// error is `'static` when the key type is, and `?` can pass it on.
///
/// # Examples
///
/// ```
/// use std::error::Error;
///
/// fn forget(s: &gilfree::Set<String>, word: &str) -> Result<(), Box<dyn Error + Send + Sync>> {
///     s.remove(word)?;
///     Ok(())
/// }
///
/// let s: gilfree::Set<String> = gilfree::Set::new();
/// let err = forget(&s, "ghost").unwrap_err();
/// assert_eq!(err.to_string(), r#"KeyError: "ghost""#);
/// let err = s.remove("ghost").unwrap_err();
/// assert_eq!(err.key(), "ghost");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyError<K>(pub K);

impl<K> KeyError<K> {
    /// The key that was not found.
    pub fn key(&self) -> &K {
        &self.0
    }
}

impl<K: fmt::Debug> fmt::Display for KeyError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyError: {:?}", self.0)
    }
}

impl<K: fmt::Debug> Error for KeyError<K> {}

// ---------------------------------------------------------------------------------------------
// futures: FutureError, TimeoutError, InvalidStateError

/// Why a [`Future`](crate::Future) has no value: Python's `CancelledError`, `TimeoutError`,
/// the exception the task raised (a panic, or an error it returned — see
/// [`FutureError::Exception`]), `RuntimeError` ("cannot schedule new futures after shutdown")
/// or `BrokenThreadPool`.
///
/// # Examples
///
/// ```
/// use gilfree::{FutureError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(1);
/// let fut = pool.submit(|| -> u32 { panic!("division by zero") });
/// assert_eq!(
///     fut.result(),
///     Err(FutureError::Panicked { message: "division by zero".into() })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FutureError {
    /// Python's `CancelledError`: the future was cancelled before it ran.
    Cancelled,
    /// Python's `TimeoutError`: the future was not done when the timeout passed.
    Timeout,
    /// The task panicked (Python: it raised); `message` is the panic's text.
    Panicked {
        /// The panic message (`"<non-string panic payload>"` if it was no string).
        message: String,
    },
    /// Python's `RuntimeError`: the task was submitted after the executor shut down.
    Shutdown,
    /// Python's `BrokenThreadPool` (a `BrokenExecutor`): the executor cannot run the task — a
    /// worker's initializer panicked, or the future's [`Promise`](crate::Promise) was dropped
    /// without a result.
    BrokenExecutor {
        /// What broke it.
        message: String,
    },
    /// The error the task raised, as Python's `future.exception()` returns the raised
    /// exception object: the `Err` of a task submitted with
    /// [`submit_fallible`](crate::ThreadPoolExecutor::submit_fallible), an executor's own
    /// failure (the OpenCL executor's [`OpenClError`](crate::opencl::OpenClError), feature
    /// `opencl`), or whatever a [`Promise`](crate::Promise) was given in `set_exception`.
    /// [`downcast_ref`](FutureError::downcast_ref) gets the typed error back.
    Exception(Exception),
}

impl FutureError {
    /// `FutureError::Exception` holding `error`: what a [`Promise`](crate::Promise) takes to
    /// fail its future with an error of the caller's own type.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{FutureError, Promise};
    ///
    /// let (promise, fut) = Promise::<u8>::new();
    /// let parse = "x".parse::<u8>().unwrap_err();
    /// promise.set_exception(FutureError::exception(parse.clone())).unwrap();
    /// let err = fut.exception().unwrap();
    /// assert_eq!(err.downcast_ref::<std::num::ParseIntError>(), Some(&parse));
    /// ```
    pub fn exception<E>(error: E) -> Self
    where
        E: Error + Send + Sync + 'static,
    {
        FutureError::Exception(Exception::new(error))
    }

    /// The error inside a [`FutureError::Exception`], if it is an `E`; `None` for any other
    /// variant or another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::FutureError;
    ///
    /// let err = FutureError::exception(gilfree::BrokenBarrierError);
    /// assert_eq!(err.downcast_ref::<gilfree::BrokenBarrierError>(), Some(&gilfree::BrokenBarrierError));
    /// assert_eq!(FutureError::Cancelled.downcast_ref::<gilfree::BrokenBarrierError>(), None);
    /// ```
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        match self {
            FutureError::Exception(exception) => exception.downcast_ref(),
            _ => None,
        }
    }

    /// Whether this is the task's own failure (Python's `future.exception()` is not `None`),
    /// as opposed to a cancellation or a timeout (cancelled futures are no exception).
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            FutureError::Panicked { .. }
                | FutureError::Shutdown
                | FutureError::BrokenExecutor { .. }
                | FutureError::Exception(_)
        )
    }
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("CancelledError: the future was cancelled"),
            FutureError::Timeout => f.write_str("TimeoutError: the future is not done"),
            FutureError::Panicked { message } => write!(f, "the task panicked: {message}"),
            FutureError::Shutdown => {
                f.write_str("RuntimeError: cannot schedule new futures after shutdown")
            }
            FutureError::BrokenExecutor { message } => write!(f, "BrokenThreadPool: {message}"),
            FutureError::Exception(err) => err.fmt(f),
        }
    }
}

impl Error for FutureError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            FutureError::Exception(err) => err.source(),
            _ => None,
        }
    }
}

impl From<Exception> for FutureError {
    fn from(exception: Exception) -> Self {
        FutureError::Exception(exception)
    }
}

type DynError = dyn Error + Send + Sync + 'static;

/// How an [`Exception`] made by [`Exception::comparable`] compares and hashes its error.
#[derive(Clone, Copy)]
struct ByValue {
    eq: fn(&DynError, &DynError) -> bool,
    hash: fn(&DynError, &mut dyn Hasher),
}

fn eq_as<E: Error + PartialEq + 'static>(a: &DynError, b: &DynError) -> bool {
    match (a.downcast_ref::<E>(), b.downcast_ref::<E>()) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn hash_as<E: Error + Hash + 'static>(error: &DynError, mut state: &mut dyn Hasher) {
    if let Some(error) = error.downcast_ref::<E>() {
        error.hash(&mut state);
    }
}

/// An error a task raised, of any type: Python's exception object, as
/// [`FutureError::Exception`] carries it. Cloning it shares the one error (an `Arc`), so every
/// holder of the future sees the same object; [`downcast_ref`](Self::downcast_ref) gets the
/// typed error back. `Display`, `Debug` and `source` are the error's own.
///
/// Two exceptions are equal when they are the same object (a clone of one another), as
/// Python's exceptions compare by identity. One made with [`comparable`](Self::comparable)
/// also equals another made so from an equal value of the same type.
///
/// # Examples
///
/// ```
/// use gilfree::{Exception, ValueError};
/// use std::num::ParseIntError;
///
/// let parse = "x".parse::<u8>().unwrap_err();
/// let exc = Exception::new(parse.clone());
/// assert_eq!(exc.downcast_ref::<ParseIntError>(), Some(&parse));
/// assert!(exc.downcast_ref::<ValueError>().is_none());
/// assert_eq!(exc.to_string(), parse.to_string());
/// assert_eq!(exc.clone(), exc); // the same object
/// assert_ne!(Exception::new(parse.clone()), exc); // another object
/// let broken = Exception::comparable(gilfree::BrokenBarrierError);
/// assert_eq!(broken, Exception::comparable(gilfree::BrokenBarrierError)); // equal values
/// ```
#[derive(Clone)]
pub struct Exception {
    error: Arc<DynError>,
    by_value: Option<ByValue>,
}

impl Exception {
    /// Wraps `error`; it compares by identity. An `Exception` given here is returned as it is.
    ///
    /// ```
    /// use gilfree::Exception;
    ///
    /// let exc = Exception::new(std::fmt::Error);
    /// assert_eq!(Exception::new(exc.clone()), exc); // not wrapped twice
    /// assert_ne!(Exception::new(std::fmt::Error), exc); // another object
    /// ```
    pub fn new<E>(error: E) -> Self
    where
        E: Error + Send + Sync + 'static,
    {
        let mut error = Some(error);
        if let Some(exception) = (&mut error as &mut dyn Any).downcast_mut::<Option<Exception>>() {
            if let Some(exception) = exception.take() {
                return exception;
            }
        }
        let error = error.expect("taken only when it is an Exception");
        Exception {
            error: Arc::new(error),
            by_value: None,
        }
    }

    /// Wraps `error` so that it compares and hashes by value: equal to any other exception
    /// made by `comparable` from an equal `E`.
    ///
    /// ```
    /// use gilfree::Exception;
    ///
    /// let exc = Exception::comparable(std::fmt::Error);
    /// assert_eq!(exc, Exception::comparable(std::fmt::Error));
    /// assert_ne!(exc, Exception::new(std::fmt::Error)); // that one compares by identity
    /// ```
    pub fn comparable<E>(error: E) -> Self
    where
        E: Error + PartialEq + Eq + Hash + Send + Sync + 'static,
    {
        Exception {
            error: Arc::new(error),
            by_value: Some(ByValue {
                eq: eq_as::<E>,
                hash: hash_as::<E>,
            }),
        }
    }

    /// The error, if it is an `E`.
    ///
    /// ```
    /// let exc = gilfree::Exception::new(std::fmt::Error);
    /// assert_eq!(exc.downcast_ref::<std::fmt::Error>(), Some(&std::fmt::Error));
    /// ```
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        self.error.downcast_ref()
    }

    /// Whether the error is an `E`.
    ///
    /// ```
    /// let exc = gilfree::Exception::new(gilfree::BrokenBarrierError);
    /// assert!(exc.is::<gilfree::BrokenBarrierError>());
    /// assert!(!exc.is::<std::fmt::Error>());
    /// ```
    pub fn is<E: Error + 'static>(&self) -> bool {
        self.error.is::<E>()
    }

    /// The error, as a trait object.
    ///
    /// ```
    /// let exc = gilfree::Exception::new(std::fmt::Error);
    /// assert_eq!(exc.get_ref().to_string(), std::fmt::Error.to_string());
    /// ```
    pub fn get_ref(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.error
    }
}

impl PartialEq for Exception {
    fn eq(&self, other: &Self) -> bool {
        if std::ptr::addr_eq(Arc::as_ptr(&self.error), Arc::as_ptr(&other.error)) {
            return true;
        }
        match (self.by_value, other.by_value) {
            (Some(by_value), Some(_)) => (by_value.eq)(&*self.error, &*other.error),
            _ => false,
        }
    }
}

impl Eq for Exception {}

impl Hash for Exception {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.by_value {
            Some(by_value) => (by_value.hash)(&*self.error, state),
            None => Arc::as_ptr(&self.error).cast::<()>().hash(state),
        }
    }
}

impl fmt::Debug for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.error, f)
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.error, f)
    }
}

impl Error for Exception {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// Python's `TimeoutError` from [`as_completed`](crate::futures::as_completed): the timeout
/// passed with futures still unfinished; the message is Python's, `"2 (of 4) futures
/// unfinished"`.
///
/// # Examples
///
/// ```
/// use gilfree::Promise;
/// use std::time::Duration;
///
/// let (_promise, fut) = Promise::<u8>::new();
/// let mut it = gilfree::futures::as_completed([fut], Some(Duration::ZERO));
/// let err = it.next().unwrap().unwrap_err();
/// assert_eq!(err.message(), "1 (of 1) futures unfinished");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimeoutError {
    message: String,
}

impl TimeoutError {
    pub(crate) fn new(message: String) -> Self {
        TimeoutError { message }
    }

    /// The message Python would attach to the exception.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeoutError: {}", self.message)
    }
}

impl Error for TimeoutError {}

/// Python's `concurrent.futures.InvalidStateError`: a [`Promise`](crate::Promise) tried to
/// complete a future that is already done (cancelled). The value that could not be
/// stored is inside.
///
/// # Examples
///
/// ```
/// use gilfree::Promise;
///
/// let (promise, fut) = Promise::new();
/// assert!(fut.cancel());
/// let err = promise.set_result(42).unwrap_err();
/// assert_eq!(err.into_inner(), 42);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvalidStateError<T = ()> {
    message: &'static str,
    item: T,
}

impl<T> InvalidStateError<T> {
    pub(crate) const fn new(message: &'static str, item: T) -> Self {
        InvalidStateError { message, item }
    }

    /// The message Python would attach to the exception.
    pub fn message(&self) -> &'static str {
        self.message
    }

    /// The value that was not stored.
    pub fn into_inner(self) -> T {
        self.item
    }
}

impl<T> fmt::Debug for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvalidStateError")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvalidStateError: {}", self.message)
    }
}

impl<T> Error for InvalidStateError<T> {}
