//! `concurrent.futures.Future`, and the `Promise` that completes it.

use super::super::Wait;
use super::super::waiters::{Place, WaitList};
use super::rt::{Arc, Backoff, Mutex, OnceLock};
use crate::error::{FutureError, InvalidStateError, RuntimeError};
use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Where a [`Future`] is in its life (Python's `_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FutureState {
    /// Not started; [`Future::cancel`] still succeeds.
    Pending,
    /// Running; it can no longer be cancelled.
    Running,
    /// Cancelled before it ran.
    Cancelled,
    /// Finished, with a value or an error.
    Finished,
}

type Callback<T> = Box<dyn FnOnce(&Future<T>) + Send + 'static>;

/// Asked before a blocking wait on a pending future, with the tag it was set with: an `Err`
/// is returned to the waiter instead of waiting. An executor whose futures are completed by
/// one thread sets it ([`Promise::with_wait_check`]), so that thread (running a done callback)
/// is refused a wait for itself, as Python refuses a thread that joins itself.
pub(crate) type WaitCheck = fn(u64) -> Result<(), FutureError>;

/// Told by a future when it is done: `wait` and `as_completed` (blocking or async) register
/// one on every future they watch. One call watches many futures through it, so it collects
/// the indexes of those done; its one consumer (the thread or the task of that call) sleeps on
/// its [`WaitList`].
pub(crate) struct Waiter {
    done: Mutex<Vec<usize>>,
    list: WaitList,
}

impl Waiter {
    pub(crate) fn new() -> Self {
        Waiter {
            done: Mutex::new(Vec::new()),
            list: WaitList::new(),
        }
    }

    fn notify(&self, index: usize) {
        // The index is in before the list is told: a consumer checking under the list's lock
        // either sees it or is queued and woken.
        self.done.lock().push(index);
        self.list.notify_all();
    }

    fn take_reported(&self) -> Option<Vec<usize>> {
        let mut done = self.done.lock();
        (!done.is_empty()).then(|| std::mem::take(&mut *done))
    }

    /// Takes the indexes reported so far, waiting (until `wait` runs out) while there are none.
    pub(crate) fn take(&self, wait: Wait) -> Vec<usize> {
        let deadline = match wait {
            Wait::Never => return self.take_reported().unwrap_or_default(),
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        self.list
            .wait_for(
                || self.take_reported(),
                || self.done.lock().is_empty(),
                deadline,
            )
            .unwrap_or_default()
    }

    /// The task's [`take`](Self::take): `Pending` (queued in `place`) while nothing is reported.
    pub(crate) fn poll_take(&self, place: &mut Place, cx: &mut Context<'_>) -> Poll<Vec<usize>> {
        self.list.poll_for(
            place,
            cx,
            || self.take_reported(),
            || self.done.lock().is_empty(),
        )
    }

    /// Leaves the list (a dropped async `wait` or `as_completed` stream).
    pub(crate) fn cancel(&self, place: &mut Place) {
        self.list.cancel(place);
    }
}

/// Reports a panic that nobody can receive on stderr — as Python logs an exception it cannot
/// raise (a done-callback's; one in `__del__`) — then drops its payload. Never panics:
/// a failed write is ignored, and a payload whose own `Drop` panics is leaked (with that
/// second panic's payload) rather than let loose on the thread that reports it.
pub(crate) fn report_panic(context: fmt::Arguments<'_>, payload: Box<dyn Any + Send>) {
    let message = crate::error::panic_message(payload.as_ref());
    let _ = writeln!(std::io::stderr(), "{context}: {message}");
    crate::error::drop_quietly(payload);
}

struct State<T> {
    status: FutureState,
    /// `set_running` has seen the cancellation (Python's `CANCELLED_AND_NOTIFIED`).
    cancel_seen: bool,
    callbacks: Vec<Callback<T>>,
    waiters: Vec<(Arc<Waiter>, usize)>,
    /// Someone has gone to wait on `sleepers` (set before queueing, never cleared): completion
    /// then wakes the list. Read and written under this lock, with the outcome, so completion
    /// without waiters takes no other lock.
    sleeping: bool,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    /// Threads blocked in `result` and friends, and tasks awaiting the future, in one FIFO;
    /// all woken by completion.
    sleepers: WaitList,
    /// Set once, under `state`'s lock, just before `status` becomes `Finished` or `Cancelled`;
    /// never changed again, so `result` can hand out `&T` without a lock.
    outcome: OnceLock<Result<T, FutureError>>,
    wait_check: Option<(WaitCheck, u64)>,
}

/// Python's `concurrent.futures.Future`: the result of work that runs somewhere else — a
/// [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) task, or anything holding its
/// [`Promise`].
///
/// A `Future` is a cheap handle: clones share the one result and compare equal, so a future
/// can be waited for from many threads and kept in sets.
///
/// # Examples
///
/// ```
/// use gilfree::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(2);
/// let fut = pool.submit(|| 6 * 7);
/// assert_eq!(fut.result(), Ok(&42)); // waits for the task
/// assert!(fut.done());
/// ```
///
/// # Timeouts
///
/// [`result_timeout`](Self::result_timeout) and [`exception_timeout`](Self::exception_timeout)
/// wait at most the given `Duration` and then return `FutureError::Timeout`
/// (`Duration::ZERO` looks without waiting).
///
/// # Memory ordering
///
/// Everything the task did before returning is visible to a thread whose `result` returns.
///
/// # Differences from Python
///
/// * An exception is a panic: the task's panic is caught and stored, and `result` returns
///   `FutureError::Panicked` with its message.
/// * `set_result` and friends live on [`Promise`], the completing side; a `Promise` is used
///   up by completing, so completing twice cannot be written.
pub struct Future<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> PartialEq for Future<T> {
    /// Clones of one future are equal; different futures never are.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T> Eq for Future<T> {}

impl<T> Hash for Future<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state)
    }
}

impl<T> Future<T> {
    fn pending(wait_check: Option<(WaitCheck, u64)>) -> Self {
        Future {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    status: FutureState::Pending,
                    cancel_seen: false,
                    callbacks: Vec::new(),
                    waiters: Vec::new(),
                    sleeping: false,
                }),
                sleepers: WaitList::new(),
                outcome: OnceLock::new(),
                wait_check,
            }),
        }
    }

    /// A number that identifies the future (shared by its clones).
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as *const () as usize
    }

    /// Where the future is now.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{FutureState, Promise};
    ///
    /// let (promise, fut) = Promise::new();
    /// assert_eq!(fut.state(), FutureState::Pending);
    /// promise.set_result(1).unwrap();
    /// assert_eq!(fut.state(), FutureState::Finished);
    /// ```
    pub fn state(&self) -> FutureState {
        self.inner.state.lock().status
    }

    /// Whether the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_promise, fut) = gilfree::Promise::<u8>::new();
    /// fut.cancel();
    /// assert!(fut.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.state() == FutureState::Cancelled
    }

    /// Whether the future is running now: started and not finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, fut) = gilfree::Promise::<u8>::new();
    /// assert!(!fut.running());
    /// promise.set_running().unwrap();
    /// assert!(fut.running());
    /// ```
    pub fn running(&self) -> bool {
        self.state() == FutureState::Running
    }

    /// Whether the future is finished or cancelled. Never blocks, takes no lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, fut) = gilfree::Promise::new();
    /// assert!(!fut.done());
    /// promise.set_result("ok").unwrap();
    /// assert!(fut.done());
    /// ```
    #[inline]
    pub fn done(&self) -> bool {
        self.inner.outcome.get().is_some()
    }

    /// Cancels the future if it has not started: `true` if it is cancelled now (or was
    /// already), `false` if it is running or finished. A successful
    /// cancel runs the done callbacks in the calling thread, once.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{FutureError, Promise};
    ///
    /// let (_promise, fut) = Promise::<u8>::new();
    /// assert!(fut.cancel());
    /// assert_eq!(fut.result(), Err(FutureError::Cancelled));
    /// ```
    pub fn cancel(&self) -> bool {
        let mut st = self.inner.state.lock();
        match st.status {
            FutureState::Cancelled => true,
            FutureState::Running | FutureState::Finished => false,
            FutureState::Pending => {
                let _ = self.inner.outcome.set(Err(FutureError::Cancelled));
                st.status = FutureState::Cancelled;
                self.announce(st);
                true
            }
        }
    }

    /// Waits until the future is done and returns its value, or why there is none. Can be called
    /// any number of times, from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(1);
    /// let fut = pool.submit(|| String::from("done"));
    /// assert_eq!(fut.result().map(String::as_str), Ok("done"));
    /// ```
    pub fn result(&self) -> Result<&T, FutureError> {
        self.check_wait(Wait::Forever)?;
        self.wait_done(Wait::Forever);
        self.outcome()
    }

    /// [`result`](Self::result), waiting at most `timeout`: `Err(FutureError::Timeout)` if the
    /// future is not done by then.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{FutureError, Promise};
    /// use std::time::Duration;
    ///
    /// let (_promise, fut) = Promise::<u8>::new();
    /// assert_eq!(fut.result_timeout(Duration::ZERO), Err(FutureError::Timeout));
    /// ```
    pub fn result_timeout(&self, timeout: Duration) -> Result<&T, FutureError> {
        self.check_wait(Wait::timeout(timeout))?;
        self.wait_done(Wait::timeout(timeout));
        self.outcome()
    }

    /// Waits until the future is done and returns its error, if any: `None` when it finished
    /// with a value. Python's `exception()`; a cancelled future gives
    /// `Some(FutureError::Cancelled)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(1);
    /// assert_eq!(pool.submit(|| 1).exception(), None);
    /// assert!(pool.submit(|| -> u8 { panic!("boom") }).exception().is_some());
    /// ```
    pub fn exception(&self) -> Option<FutureError> {
        self.result().err()
    }

    /// [`exception`](Self::exception), waiting at most `timeout`: `Some(FutureError::Timeout)`
    /// if the future is not done by then.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{FutureError, Promise};
    /// use std::time::Duration;
    ///
    /// let (_promise, fut) = Promise::<u8>::new();
    /// assert_eq!(fut.exception_timeout(Duration::ZERO), Some(FutureError::Timeout));
    /// ```
    pub fn exception_timeout(&self, timeout: Duration) -> Option<FutureError> {
        self.result_timeout(timeout).err()
    }

    /// Waits, as a task, until the future is done and returns its value, or why there is none:
    /// the async [`result`](Self::result), the same values included (a panic is
    /// `FutureError::Panicked`, a cancelled future `FutureError::Cancelled`). asyncio's
    /// `await asyncio.wrap_future(f)` without taking the value; awaiting the future itself
    /// (`fut.await`, see [`ResultFuture`]) takes it.
    ///
    /// Completion wakes the task straight from the completing thread (a pool worker, or
    /// whoever holds the [`Promise`]); a future already done is ready on the first poll.
    /// Threads blocked in `result` and tasks awaiting this wait side by side, and all are woken
    /// by completion. It never blocks the thread, so it is not refused where a blocking wait
    /// would be (a done callback of an OpenCL future waiting for its own executor).
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: dropping the returned future only stops waiting. It never cancels the job,
    /// which runs on and completes the future for whoever waits next; to cancel a job that has
    /// not started, call [`cancel`](Self::cancel). A timeout is the runtime's own, e.g.
    /// `tokio::time::timeout(d, fut.result_async())`, which drops the wait when time is up.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(1);
    /// let fut = pool.submit(|| 6 * 7);
    /// let answer = futures::executor::block_on(async { *fut.result_async().await.unwrap() });
    /// assert_eq!(answer, 42);
    /// assert_eq!(fut.result(), Ok(&42)); // still there for other waiters
    /// ```
    #[doc(alias = "wrap_future")]
    pub fn result_async(&self) -> impl std::future::Future<Output = Result<&T, FutureError>> + '_ {
        ResultAsync {
            fut: self,
            place: Place::new(),
        }
    }

    /// Calls `f(&future)` once the future is done: at once, in this thread, if it already is;
    /// otherwise in the thread that finishes it (a pool worker) or cancels it. Callbacks run in the
    /// order they were added; a panicking callback is reported on stderr and the others still run.
    /// As in Python, threads waiting in `result()` are woken before the callbacks run, so
    /// `result()` may return first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    ///
    /// let (promise, fut) = gilfree::Promise::new();
    /// let seen = Arc::new(AtomicU32::new(0));
    /// let s = Arc::clone(&seen);
    /// fut.add_done_callback(move |f| s.store(*f.result().unwrap(), Ordering::SeqCst));
    /// promise.set_result(7).unwrap();
    /// assert_eq!(seen.load(Ordering::SeqCst), 7);
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<T>) + Send + 'static) {
        let mut st = self.inner.state.lock();
        if matches!(st.status, FutureState::Pending | FutureState::Running) {
            st.callbacks.push(Box::new(f));
            return;
        }
        drop(st);
        self.run_callbacks(vec![Box::new(f)]);
    }

    /// Waits until done, then the value, moved out when this is the last handle and cloned
    /// otherwise (other clones keep seeing it through [`result`](Self::result)). Right after
    /// completion the completing side may still hold its handle for a moment, so even a sole
    /// owner can get a clone.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(1);
    /// let fut = pool.submit(|| vec![1, 2, 3]);
    /// assert_eq!(fut.into_result(), Ok(vec![1, 2, 3]));
    /// ```
    pub fn into_result(self) -> Result<T, FutureError>
    where
        T: Clone,
    {
        self.check_wait(Wait::Forever)?;
        self.wait_done(Wait::Forever);
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => Self::take_outcome(inner),
            Err(shared) => Future { inner: shared }.outcome().cloned(),
        }
    }

    /// Waits until done, then moves the value out, waiting for the completing side to let go
    /// of its handle (it does so right after completing). For handles nobody else holds
    /// (`map`'s own futures).
    pub(crate) fn into_result_unique(self) -> Result<T, FutureError> {
        self.wait_done(Wait::Forever);
        let mut inner = self.inner;
        loop {
            match Arc::try_unwrap(inner) {
                Ok(inner) => return Self::take_outcome(inner),
                Err(shared) => {
                    inner = shared;
                    super::rt::thread::yield_now();
                }
            }
        }
    }

    fn take_outcome(inner: Inner<T>) -> Result<T, FutureError> {
        inner
            .outcome
            .into_inner()
            .unwrap_or(Err(FutureError::BrokenExecutor {
                message: "the future was never completed".into(),
            }))
    }

    fn outcome(&self) -> Result<&T, FutureError> {
        match self.inner.outcome.get() {
            Some(Ok(value)) => Ok(value),
            Some(Err(err)) => Err(err.clone()),
            None => Err(FutureError::Timeout),
        }
    }

    /// The future's [`WaitCheck`], asked when `wait` would block.
    pub(crate) fn check_wait(&self, wait: Wait) -> Result<(), FutureError> {
        match self.inner.wait_check {
            Some((check, tag)) if !matches!(wait, Wait::Never) && !self.done() => check(tag),
            _ => Ok(()),
        }
    }

    /// Blocks until the future is done or `wait` runs out.
    pub(crate) fn wait_done(&self, wait: Wait) {
        if self.done() || matches!(wait, Wait::Never) {
            return;
        }
        // A short task is often about to finish: look again for a moment before sleeping
        // (and before making the completer pay for a wake-up), as every primitive does.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            if self.done() {
                return;
            }
        }
        let deadline = match wait {
            Wait::Never => return,
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        if !self.announce_sleeper() {
            return;
        }
        let _ =
            self.inner
                .sleepers
                .wait_for(|| self.done().then_some(()), || !self.done(), deadline);
    }

    /// Tells the completer that someone is about to sleep on `sleepers`; `false` if the future
    /// is done already. Under the state lock, so that completion, which sets the outcome under
    /// that lock, either sees the flag (and wakes the list after setting the outcome, so a
    /// sleeper's check under the list's lock cannot miss it) or came first (and the sleeper's
    /// check sees the outcome).
    fn announce_sleeper(&self) -> bool {
        let mut st = self.inner.state.lock();
        if matches!(st.status, FutureState::Pending | FutureState::Running) {
            st.sleeping = true;
            true
        } else {
            false
        }
    }

    /// The task's side of [`wait_done`](Self::wait_done): `Ready` once done, else queued in
    /// `place` (the caller's `Drop` must [`leave`](Self::leave)). Done on the first poll is
    /// ready at once.
    fn poll_done(&self, place: &mut Place, cx: &mut Context<'_>) -> Poll<()> {
        if self.done() {
            self.leave(place);
            return Poll::Ready(());
        }
        if !place.is_queued() && !self.announce_sleeper() {
            return Poll::Ready(());
        }
        self.inner
            .sleepers
            .poll_for(place, cx, || self.done().then_some(()), || !self.done())
    }

    /// Takes `place` out of the sleepers' list (a dropped or finished await).
    fn leave(&self, place: &mut Place) {
        self.inner.sleepers.cancel(place);
    }

    /// Registers `waiter` to be told `index` when the future is done; `false` (and no
    /// registration) if it already is.
    pub(crate) fn register(&self, waiter: &Arc<Waiter>, index: usize) -> bool {
        let mut st = self.inner.state.lock();
        if matches!(st.status, FutureState::Pending | FutureState::Running) {
            st.waiters.push((Arc::clone(waiter), index));
            true
        } else {
            false
        }
    }

    pub(crate) fn unregister(&self, waiter: &Arc<Waiter>) {
        self.inner
            .state
            .lock()
            .waiters
            .retain(|(w, _)| !Arc::ptr_eq(w, waiter));
    }

    /// Whether the future finished with an exception (not a cancellation).
    pub(crate) fn failed(&self) -> bool {
        matches!(self.inner.outcome.get(), Some(Err(err)) if err.is_exception())
    }

    /// The outcome is set and the status final: wake `result` waiters and `wait`/`as_completed`,
    /// then run the callbacks, all with the lock released.
    fn announce(&self, mut st: super::rt::MutexGuard<'_, State<T>>) {
        let callbacks = std::mem::take(&mut st.callbacks);
        let waiters = std::mem::take(&mut st.waiters);
        let sleeping = st.sleeping;
        drop(st);
        if sleeping {
            self.inner.sleepers.notify_all();
        }
        for (waiter, index) in waiters {
            waiter.notify(index);
        }
        self.run_callbacks(callbacks);
    }

    fn run_callbacks(&self, callbacks: Vec<Callback<T>>) {
        for callback in callbacks {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| callback(self))) {
                // Python logs "exception calling callback for <Future>" and goes on (FUT-11).
                report_panic(
                    format_args!("exception calling callback for {self:?}"),
                    payload,
                );
            }
        }
    }

    /// Completes a pending or running future; the outcome comes back if it is already done.
    fn complete(&self, outcome: Result<T, FutureError>) -> Result<(), Result<T, FutureError>> {
        let mut st = self.inner.state.lock();
        if !matches!(st.status, FutureState::Pending | FutureState::Running) {
            return Err(outcome);
        }
        self.inner.outcome.set(outcome)?;
        st.status = FutureState::Finished;
        self.announce(st);
        Ok(())
    }
}

/// The future of [`Future::result_async`]: leaves the list when dropped.
struct ResultAsync<'a, T> {
    fut: &'a Future<T>,
    place: Place,
}

impl<'a, T> std::future::Future for ResultAsync<'a, T> {
    type Output = Result<&'a T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let fut = this.fut;
        fut.poll_done(&mut this.place, cx).map(|()| fut.outcome())
    }
}

impl<T> Drop for ResultAsync<'_, T> {
    fn drop(&mut self) {
        self.fut.leave(&mut self.place);
    }
}

/// Awaiting a `Future` waits for it as a task and returns its value, moved out or cloned as
/// [`into_result`](Future::into_result) does: Python's `await loop.run_in_executor(…)` is
/// `pool.submit(f).await`.
///
/// Completion wakes the task straight from the completing thread; a future already done is
/// ready on the first poll. Errors are the same values as the blocking calls give.
///
/// # Cancellation and timeouts
///
/// Dropping the await (a timeout, a `select!` that took another branch) only stops waiting: it
/// never cancels the job, which runs on (as asyncio's does once it has started). Keep a clone
/// to await again or to [`cancel`](Future::cancel) a job that has not started. A timeout is
/// the runtime's, e.g. `tokio::time::timeout(d, fut)`.
impl<T: Clone> std::future::IntoFuture for Future<T> {
    type Output = Result<T, FutureError>;
    type IntoFuture = ResultFuture<T>;

    fn into_future(self) -> ResultFuture<T> {
        ResultFuture {
            fut: Some(self),
            place: Place::new(),
        }
    }
}

/// What `fut.await` runs on a [`Future`] (its [`IntoFuture`](std::future::IntoFuture)): waits
/// as a task until the future is done, then gives its value like
/// [`into_result`](Future::into_result). Dropping it stops waiting and never cancels the job.
///
/// # Examples
///
/// ```
/// use gilfree::{FutureError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2);
/// futures::executor::block_on(async {
///     assert_eq!(pool.submit(|| 6 * 7).await, Ok(42));
///     let failed = pool.submit(|| -> u8 { panic!("boom") }).await;
///     assert!(matches!(failed, Err(FutureError::Panicked { .. })));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ResultFuture<T> {
    /// `None` once it has returned.
    fut: Option<Future<T>>,
    place: Place,
}

impl<T: Clone> std::future::Future for ResultFuture<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(fut) = &this.fut else {
            panic!("`ResultFuture` polled after it returned");
        };
        if fut.poll_done(&mut this.place, cx).is_pending() {
            return Poll::Pending;
        }
        let Some(fut) = this.fut.take() else {
            unreachable!("checked above");
        };
        // Out of the list already (`poll_done` leaves it when done), so the handle can go.
        Poll::Ready(match Arc::try_unwrap(fut.inner) {
            Ok(inner) => Future::take_outcome(inner),
            Err(shared) => Future { inner: shared }.outcome().cloned(),
        })
    }
}

impl<T> Drop for ResultFuture<T> {
    fn drop(&mut self) {
        if let Some(fut) = &self.fut {
            fut.leave(&mut self.place);
        }
    }
}

impl<T> fmt::Debug for ResultFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultFuture")
            .field("future", &self.fut)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Future<T> {
    /// Like Python's repr: `Future { state: Finished, outcome: "returned" }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self
            .inner
            .state
            .try_lock()
            .map(|st| (st.status, st.waiters.len()));
        let mut d = f.debug_struct("Future");
        match state {
            Some((state, _)) => d.field("state", &state),
            None => d.field("state", &"<busy>"),
        };
        match self.inner.outcome.get() {
            Some(Ok(_)) => d.field("outcome", &"returned"),
            Some(Err(err)) => d.field("outcome", err),
            None => &mut d,
        };
        // Who waits for it, when anyone does: threads and tasks waiting for this future alone,
        // and `wait`/`as_completed` calls (blocking or async) watching it among others.
        let watching = state.map_or(0, |(_, n)| n);
        let waiting = self.inner.sleepers.len();
        if waiting > 0 || watching > 0 {
            d.field("waiting", &waiting).field("watching", &watching);
        }
        d.finish()
    }
}

/// The completing side of a [`Future`]: Python's executor-facing `set_running_or_notify_cancel`,
/// `set_result` and `set_exception`. Executors (the thread pool, the OpenCL offload) hold one
/// per task; anything else that computes a value can too.
///
/// Completing uses the promise up. A promise dropped without completing finishes its future
/// with `FutureError::BrokenExecutor`, so nobody waits for ever.
///
/// # Examples
///
/// ```
/// use gilfree::Promise;
///
/// let (promise, fut) = Promise::new();
/// let worker = std::thread::spawn(move || {
///     if promise.set_running() == Ok(true) {
///         promise.set_result(2 + 2).unwrap();
///     }
/// });
/// assert_eq!(fut.result(), Ok(&4));
/// worker.join().unwrap();
/// ```
pub struct Promise<T> {
    future: Option<Future<T>>,
}

impl<T> Promise<T> {
    /// A new pending future and the promise that completes it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, fut) = gilfree::Promise::<String>::new();
    /// assert!(!fut.done());
    /// drop(promise);
    /// assert!(fut.result().is_err()); // never a hang
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> (Promise<T>, Future<T>) {
        Promise::pair(None)
    }

    /// [`new`](Self::new), with a check asked (with `tag`) before each blocking wait.
    #[allow(dead_code)] // the OpenCL executor's (native copy only)
    pub(crate) fn with_wait_check(check: WaitCheck, tag: u64) -> (Promise<T>, Future<T>) {
        Promise::pair(Some((check, tag)))
    }

    fn pair(wait_check: Option<(WaitCheck, u64)>) -> (Promise<T>, Future<T>) {
        let future = Future::pending(wait_check);
        (
            Promise {
                future: Some(future.clone()),
            },
            future,
        )
    }

    /// The future this promise completes.
    pub fn future(&self) -> Option<&Future<T>> {
        self.future.as_ref()
    }

    /// Python's `set_running_or_notify_cancel()`: `Ok(true)` moves a pending future
    /// to running (it can no longer be cancelled); `Ok(false)` means it was cancelled — skip
    /// the work. `Err(RuntimeError)` if it is already running or finished, or when asked
    /// again after reporting the cancellation, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, fut) = gilfree::Promise::<u8>::new();
    /// assert_eq!(promise.set_running(), Ok(true));
    /// assert!(!fut.cancel()); // running: too late
    /// assert!(promise.set_running().is_err());
    /// ```
    pub fn set_running(&self) -> Result<bool, RuntimeError> {
        let Some(fut) = &self.future else {
            return Err(RuntimeError::new("the promise is used up"));
        };
        let mut st = fut.inner.state.lock();
        match st.status {
            FutureState::Pending => {
                st.status = FutureState::Running;
                Ok(true)
            }
            FutureState::Cancelled if !st.cancel_seen => {
                st.cancel_seen = true;
                Ok(false)
            }
            FutureState::Cancelled | FutureState::Running | FutureState::Finished => Err(
                RuntimeError::new("Future in unexpected state: already running or finished"),
            ),
        }
    }

    /// Finishes the future with `value` (Python's `set_result`). `Err(InvalidStateError)`
    /// with the value back if the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, fut) = gilfree::Promise::new();
    /// promise.set_result('x').unwrap();
    /// assert_eq!(fut.result(), Ok(&'x'));
    /// ```
    pub fn set_result(self, value: T) -> Result<(), InvalidStateError<T>> {
        match self.finish(Ok(value)) {
            Ok(()) => Ok(()),
            Err(Ok(value)) => Err(InvalidStateError::new(
                "the future is already done (cancelled)",
                value,
            )),
            // `finish` hands back what it was given: an Ok.
            Err(Err(_)) => Ok(()),
        }
    }

    /// Finishes the future with an error (Python's `set_exception`), such as
    /// `FutureError::Panicked` for a task that panicked, or an error of the caller's own type
    /// through [`FutureError::exception`].
    /// `Err(InvalidStateError)` if the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{FutureError, Promise};
    ///
    /// let (promise, fut) = Promise::<u8>::new();
    /// let err = FutureError::Panicked { message: "no".into() };
    /// promise.set_exception(err.clone()).unwrap();
    /// assert_eq!(fut.exception(), Some(err));
    ///
    /// let (promise, fut) = Promise::<u8>::new();
    /// promise.set_exception(FutureError::exception(gilfree::BrokenBarrierError)).unwrap();
    /// assert!(fut.exception().unwrap().downcast_ref::<gilfree::BrokenBarrierError>().is_some());
    /// ```
    pub fn set_exception(self, error: FutureError) -> Result<(), InvalidStateError<FutureError>> {
        match self.finish(Err(error)) {
            Ok(()) => Ok(()),
            Err(Err(error)) => Err(InvalidStateError::new(
                "the future is already done (cancelled)",
                error,
            )),
            Err(Ok(_)) => Ok(()),
        }
    }

    fn finish(mut self, outcome: Result<T, FutureError>) -> Result<(), Result<T, FutureError>> {
        match self.future.take() {
            Some(fut) => fut.complete(outcome),
            None => Err(outcome),
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if let Some(fut) = self.future.take() {
            let _ = fut.complete(Err(FutureError::BrokenExecutor {
                message: "the promise was dropped without a result".into(),
            }));
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("future", &self.future)
            .finish()
    }
}
