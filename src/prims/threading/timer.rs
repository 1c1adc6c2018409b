//! `threading.Timer`: a thread that runs a function once, after an interval, unless cancelled.

use super::Wait;
use super::rt::{Arc, Condvar, Mutex};
use super::thread::{Kind, Thread, ThreadBuilder, ThreadHandle};
use crate::error::{JoinError, RuntimeError};
use std::fmt;
use std::io;
use std::time::Duration;

/// Where a timer is, under [`Shared::phase`].
///
/// | phase | meaning |
/// |---|---|
/// | `Waiting` | the interval is running; `cancel()` still stops the function |
/// | `Running` | the interval passed and the function is running; too late to cancel |
/// | `Done` | the function returned (or panicked) |
/// | `Cancelled` | `cancel()` won: the function never runs |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    Running,
    Done,
    Cancelled,
}

struct Shared {
    phase: Mutex<Phase>,
    changed: Condvar,
}

impl Shared {
    fn set(&self, phase: Phase) {
        *self.phase.lock() = phase;
        self.changed.notify_all();
    }

    /// The timer thread: waits out `interval` unless cancelled; `true` if the function may
    /// run (the phase is then `Running`, so a later `cancel()` returns `false`).
    fn wait_out(&self, interval: Duration) -> bool {
        let wait = Wait::timeout(interval);
        let mut phase = self.phase.lock();
        loop {
            if *phase != Phase::Waiting {
                return false;
            }
            let deadline = match wait {
                Wait::Never => break,
                Wait::Until(at) => Some(at),
                Wait::Forever => None,
            };
            if self.changed.wait_until(&mut phase, deadline) {
                break;
            }
        }
        if *phase == Phase::Waiting {
            *phase = Phase::Running;
            true
        } else {
            false
        }
    }
}

/// Marks the timer `Done` when the function returns or unwinds.
struct DoneOnDrop(Arc<Shared>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        self.0.set(Phase::Done);
    }
}

/// Python's `threading.Timer`: runs a function once, on a thread of its own, after an interval,
/// unless [`cancel`](Self::cancel)led first.
///
/// A `Timer` is a thread: it has a `Thread-N` name, an ident, `is_alive()`, and joins.
///
/// # Examples
///
/// ```
/// use gilfree::{Event, Timer};
/// use std::{sync::Arc, time::Duration};
///
/// let rang = Arc::new(Event::new());
/// let timer = Timer::start(Duration::from_millis(20), {
///     let rang = Arc::clone(&rang);
///     move || rang.set()
/// });
/// assert!(rang.wait_timeout(Duration::from_secs(10)));
/// assert!(!timer.cancel()); // too late: it already fired
/// timer.join().unwrap();
/// ```
///
/// # Differences from Python
///
/// `Timer::start` creates and starts it in one step, so "cancel before start" is a
/// timer cancelled straight after `start`, and "start twice" cannot be written.
/// [`cancel`](Self::cancel) says whether it stopped the function. An interval of
/// `Duration::ZERO` fires at once (Python's negative interval); `Duration::MAX` never
/// fires unless cancelled.
#[must_use = "dropping a Timer does not cancel it; keep it to cancel() or join()"]
pub struct Timer {
    thread: Thread<()>,
    shared: Arc<Shared>,
}

impl Timer {
    /// Starts a timer that calls `f` once after `interval`.
    ///
    /// # Panics
    ///
    /// If the operating system cannot create a thread, with Python's
    /// `RuntimeError: can't start new thread` at the caller's line;
    /// [`try_start`](Self::try_start) returns the error instead.
    #[track_caller]
    pub fn start<F>(interval: Duration, f: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        match Timer::try_start(interval, f) {
            Ok(timer) => timer,
            Err(err) => panic!("RuntimeError: can't start new thread: {err}"),
        }
    }

    /// [`start`](Self::start), returning the operating system's error when no thread can be
    /// created.
    ///
    /// # Errors
    ///
    /// The `io::Error` of the thread spawn.
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = gilfree::Timer::try_start(std::time::Duration::MAX, || unreachable!())?;
    /// assert!(timer.cancel());
    /// timer.join().unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_start<F>(interval: Duration, f: F) -> io::Result<Timer>
    where
        F: FnOnce() + Send + 'static,
    {
        let shared = Arc::new(Shared {
            phase: Mutex::new(Phase::Waiting),
            changed: Condvar::new(),
        });
        let inside = Arc::clone(&shared);
        let thread = ThreadBuilder::new().spawn_kind(Kind::Timer, move || {
            if inside.wait_out(interval) {
                let _done = DoneOnDrop(Arc::clone(&inside));
                f();
            }
        })?;
        Ok(Timer { thread, shared })
    }

    /// Stops the timer if it has not fired yet: returns `true` when this call stopped it — the
    /// function then never runs — and `false` when it had already fired (or was cancelled
    /// before), which changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = gilfree::Timer::start(Duration::from_secs(3600), || unreachable!());
    /// assert!(timer.cancel());
    /// assert!(!timer.cancel()); // the second time has no effect
    /// assert_eq!(timer.join_timeout(Duration::from_secs(10)), Ok(true)); // the thread ends soon
    /// ```
    pub fn cancel(&self) -> bool {
        let mut phase = self.shared.phase.lock();
        if *phase != Phase::Waiting {
            return false;
        }
        *phase = Phase::Cancelled;
        drop(phase);
        self.shared.changed.notify_all();
        true
    }

    /// Python's `timer.finished.is_set()`: the timer was cancelled, or its function has run
    /// to the end.
    pub fn finished(&self) -> bool {
        matches!(*self.shared.phase.lock(), Phase::Done | Phase::Cancelled)
    }

    /// Waits until the timer thread ends: after the function ran, or soon after a cancel.
    ///
    /// # Errors
    ///
    /// [`JoinError::Panicked`] if the function panicked; [`JoinError::Runtime`] when called
    /// from the timer's own function.
    pub fn join(self) -> Result<(), JoinError> {
        self.thread.join()
    }

    /// Waits at most `timeout` for the timer thread to end; `Ok(true)` once it has.
    ///
    /// # Errors
    ///
    /// `RuntimeError` when called from the timer's own function.
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, RuntimeError> {
        self.thread.join_timeout(timeout)
    }

    /// Whether the timer thread is still running (waiting or running the function).
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// The timer's thread handle: name (`Thread-N`), ident, native id.
    pub fn handle(&self) -> &ThreadHandle {
        self.thread.handle()
    }

    /// See [`ThreadHandle::name`].
    pub fn name(&self) -> String {
        self.thread.name()
    }
}

/// Python's repr of the timer's thread, `<Timer(Thread-3, started 7)>` (7: its ident), plus
/// its phase.
impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} ({:?})",
            self.thread.handle(),
            *self.shared.phase.lock()
        )
    }
}
