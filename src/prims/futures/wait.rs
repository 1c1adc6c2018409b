//! `concurrent.futures.wait` and `as_completed`, over futures of any value type.

use super::super::Wait;
use super::super::waiters::Place;
use super::future::{Future, Waiter};
use super::rt::Arc;
use crate::error::{FutureError, TimeoutError};
use futures_core::Stream;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

mod sealed {
    use super::super::future::Waiter;
    use super::super::rt::Arc;

    /// The `wait`/`as_completed` call that watches a future.
    #[allow(unreachable_pub)]
    pub struct Link(pub(super) Arc<Waiter>);

    impl std::fmt::Debug for Link {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Link")
        }
    }

    /// What `wait` and `as_completed` need of a future, whatever its value type.
    // Public in a private module: usable as a bound, implementable only here.
    #[allow(unreachable_pub)]
    pub trait Watch {
        fn id(&self) -> usize;
        fn done(&self) -> bool;
        fn failed(&self) -> bool;
        fn register(&self, link: &Link, index: usize) -> bool;
        fn unregister(&self, link: &Link);
        /// `Err` when the calling thread must not block for this future (it would wait for
        /// itself: an OpenCL future's done callback, on the device thread).
        fn check_wait(&self) -> Result<(), crate::error::FutureError>;
    }

    /// Object-safe, cloneable [`Watch`], for [`FutureHandle`](super::FutureHandle).
    #[allow(unreachable_pub)]
    pub trait ErasedFuture: Watch + Send + Sync {
        fn clone_box(&self) -> Box<dyn ErasedFuture>;
        fn debug(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result;
    }
}
use sealed::{ErasedFuture, Link, Watch};

/// Anything [`wait`] and [`as_completed`] can watch: a [`Future`], a reference to one, or a
/// type-erased [`FutureHandle`] (to mix futures of different value types). Sealed.
pub trait Waitable: Watch {}

impl<W: Watch + ?Sized> Waitable for W {}

impl<T> Watch for Future<T> {
    fn id(&self) -> usize {
        Future::id(self)
    }
    fn done(&self) -> bool {
        Future::done(self)
    }
    fn failed(&self) -> bool {
        Future::failed(self)
    }
    fn register(&self, link: &Link, index: usize) -> bool {
        Future::register(self, &link.0, index)
    }
    fn unregister(&self, link: &Link) {
        Future::unregister(self, &link.0)
    }
    fn check_wait(&self) -> Result<(), FutureError> {
        Future::check_wait(self, Wait::Forever)
    }
}

impl<W: Watch + ?Sized> Watch for &W {
    fn id(&self) -> usize {
        (**self).id()
    }
    fn done(&self) -> bool {
        (**self).done()
    }
    fn failed(&self) -> bool {
        (**self).failed()
    }
    fn register(&self, link: &Link, index: usize) -> bool {
        (**self).register(link, index)
    }
    fn unregister(&self, link: &Link) {
        (**self).unregister(link)
    }
    fn check_wait(&self) -> Result<(), FutureError> {
        (**self).check_wait()
    }
}

impl<T: Send + Sync + 'static> ErasedFuture for Future<T> {
    fn clone_box(&self) -> Box<dyn ErasedFuture> {
        Box::new(self.clone())
    }
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A [`Future`] with its value type erased, so that futures of different types — a pool's
/// and an OpenCL executor's, a `Future<u32>` and a `Future<String>` — go into one [`wait`] or
/// [`as_completed`]. Compares equal to the handles of the same future.
///
/// # Examples
///
/// ```
/// use gilfree::futures::{wait, ReturnWhen};
/// use gilfree::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(2);
/// let number = pool.submit(|| 1u32);
/// let text = pool.submit(|| String::from("one"));
/// let (done, not_done) = wait([number.handle(), text.handle()], None, ReturnWhen::AllCompleted);
/// assert_eq!((done.len(), not_done.len()), (2, 0));
/// ```
pub struct FutureHandle(Box<dyn ErasedFuture>);

impl<T: Send + Sync + 'static> Future<T> {
    /// A type-erased handle to this future, for [`wait`] and [`as_completed`] over futures
    /// of different value types.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_promise, fut) = gilfree::Promise::<u8>::new();
    /// assert!(!fut.handle().done());
    /// ```
    pub fn handle(&self) -> FutureHandle {
        FutureHandle(Box::new(self.clone()))
    }
}

impl<T: Send + Sync + 'static> From<Future<T>> for FutureHandle {
    fn from(fut: Future<T>) -> Self {
        FutureHandle(Box::new(fut))
    }
}

impl FutureHandle {
    /// Whether the future is finished or cancelled.
    pub fn done(&self) -> bool {
        self.0.done()
    }
}

impl Watch for FutureHandle {
    fn id(&self) -> usize {
        self.0.id()
    }
    fn done(&self) -> bool {
        self.0.done()
    }
    fn failed(&self) -> bool {
        self.0.failed()
    }
    fn register(&self, link: &Link, index: usize) -> bool {
        self.0.register(link, index)
    }
    fn unregister(&self, link: &Link) {
        self.0.unregister(link)
    }
    fn check_wait(&self) -> Result<(), FutureError> {
        self.0.check_wait()
    }
}

impl Clone for FutureHandle {
    fn clone(&self) -> Self {
        FutureHandle(self.0.clone_box())
    }
}

impl PartialEq for FutureHandle {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}

impl Eq for FutureHandle {}

impl std::hash::Hash for FutureHandle {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id().hash(state)
    }
}

impl fmt::Debug for FutureHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f)
    }
}

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any future is done.
    FirstCompleted,
    /// As soon as any future fails (a panic, not a cancellation); otherwise when all are done.
    FirstException,
    /// When every future is done: finished, failed or cancelled.
    #[default]
    AllCompleted,
}

impl ReturnWhen {
    /// Whether a wait for `total` futures, `done` of them done and some `failed`, is over.
    fn satisfied(self, total: usize, done: usize, failed: bool) -> bool {
        match self {
            // Nothing to wait for is done at once, whatever `return_when` says (WAIT-6;
            // CPython would wait for ever on `wait([], return_when=FIRST_COMPLETED)`).
            ReturnWhen::FirstCompleted => done > 0 || total == 0,
            ReturnWhen::FirstException => failed || done == total,
            ReturnWhen::AllCompleted => done == total,
        }
    }
}

/// Distinct futures, first occurrence kept.
fn distinct<F: Waitable>(fs: impl IntoIterator<Item = F>) -> Vec<F> {
    let mut seen = HashSet::new();
    fs.into_iter().filter(|f| seen.insert(f.id())).collect()
}

/// Python's `concurrent.futures.wait`: waits until `return_when` holds or `timeout` passes
/// (`None`: no timeout), then returns `(done, not_done)`, each in input order, duplicates
/// removed. A timeout is no error: the split is returned as it stands.
///
/// A cancelled future counts as done, as Python documents (CPython's own `wait` can
/// hang on futures cancelled by `shutdown(cancel_futures=True)`; this one cannot).
///
/// # Panics
///
/// With `RuntimeError`'s message when it would block inside a done callback of an OpenCL
/// future for another future of the same executor: the callback runs on the executor's device
/// thread, which that future needs, so the wait could never end. A zero timeout only looks.
///
/// # Examples
///
/// ```
/// use gilfree::futures::{wait, ReturnWhen};
/// use gilfree::{Promise, ThreadPoolExecutor};
/// use std::time::Duration;
///
/// let pool = ThreadPoolExecutor::new(2);
/// let quick = pool.submit(|| 1);
/// let (_never, stuck) = Promise::new();
/// let (done, not_done) = wait([&quick, &stuck], Some(Duration::from_millis(50)), ReturnWhen::AllCompleted);
/// assert_eq!(done, [&quick]);
/// assert_eq!(not_done, [&stuck]);
/// ```
#[track_caller]
pub fn wait<F: Waitable>(
    fs: impl IntoIterator<Item = F>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<F>, Vec<F>) {
    let fs = distinct(fs);
    let wait = timeout.map_or(Wait::Forever, Wait::timeout);
    let satisfied = |done: usize, failed: bool| return_when.satisfied(fs.len(), done, failed);
    let mut done = fs.iter().filter(|f| f.done()).count();
    let mut failed = fs.iter().any(|f| f.failed());
    if !satisfied(done, failed) && !matches!(wait, Wait::Never) {
        refuse_waiting_for_self(fs.iter(), wait);
        let link = Link(Arc::new(Waiter::new()));
        // Count what is done by now: registering reports the ones done meanwhile.
        done = 0;
        failed = false;
        for (i, f) in fs.iter().enumerate() {
            if !f.register(&link, i) {
                done += 1;
                failed |= f.failed();
            }
        }
        while !satisfied(done, failed) {
            let reported = link.0.take(wait);
            if reported.is_empty() {
                break; // the timeout passed
            }
            done += reported.len();
            failed |= reported.iter().any(|&i| fs[i].failed());
        }
        for f in &fs {
            f.unregister(&link);
        }
    }
    fs.into_iter().partition(|f| f.done())
}

/// Panics with the refusal when blocking for one of `fs` would mean waiting for the calling
/// thread itself (a done callback of an OpenCL future, on its executor's device thread, waiting
/// for another future of that executor): that wait could never end. `wait` and `as_completed`
/// have no error to return it in, and Python raises `RuntimeError` for such a wait.
#[track_caller]
fn refuse_waiting_for_self<'a, F: Waitable + 'a>(fs: impl Iterator<Item = &'a F>, wait: Wait) {
    if matches!(wait, Wait::Never) {
        return;
    }
    for f in fs {
        if let Err(refused) = f.check_wait() {
            panic!("{refused}");
        }
    }
}

/// Python's `concurrent.futures.as_completed`: an iterator over `fs` that yields each
/// distinct future once as it is done — those already done first, in input order, then the
/// rest in the order they finish. Cancelled futures count as done.
///
/// With a `timeout` (measured from this call), once it passes with futures unfinished the
/// iterator yields `Err(TimeoutError)` with Python's message, `"2 (of 4) futures unfinished"`,
/// and then ends. A future that has been yielded is no longer held.
///
/// # Panics
///
/// As [`wait`]: `next()` panics with `RuntimeError`'s message where it would block for the
/// calling thread itself (an OpenCL future's done callback waiting for its own executor).
///
/// # Examples
///
/// ```
/// use gilfree::futures::as_completed;
/// use gilfree::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(4);
/// let futs: Vec<_> = (1..=4).map(|n| pool.submit(move || n * n)).collect();
/// let mut total = 0;
/// for fut in as_completed(futs, None) {
///     total += fut.unwrap().result().unwrap();
/// }
/// assert_eq!(total, 30);
/// ```
pub fn as_completed<F: Waitable>(
    fs: impl IntoIterator<Item = F>,
    timeout: Option<Duration>,
) -> AsCompleted<F> {
    AsCompleted {
        watched: Watched::new(fs),
        wait: timeout.map_or(Wait::Forever, Wait::timeout),
        timed_out: false,
    }
}

/// The futures an `as_completed` watches: those done (to yield) and those not yet (registered
/// with the link, which reports their indexes as they finish).
struct Watched<F: Waitable> {
    total: usize,
    unfinished: usize,
    ready: VecDeque<F>,
    /// Indexed as reported by the waiter; `None` once moved to `ready`.
    pending: Vec<Option<F>>,
    link: Link,
}

impl<F: Waitable> Watched<F> {
    fn new(fs: impl IntoIterator<Item = F>) -> Self {
        let fs = distinct(fs);
        let total = fs.len();
        let link = Link(Arc::new(Waiter::new()));
        let mut ready = VecDeque::new();
        let mut pending: Vec<Option<F>> = Vec::with_capacity(total);
        for (i, f) in fs.into_iter().enumerate() {
            if f.register(&link, i) {
                pending.push(Some(f));
            } else {
                ready.push_back(f);
                pending.push(None);
            }
        }
        Watched {
            total,
            unfinished: pending.iter().filter(|f| f.is_some()).count(),
            ready,
            pending,
            link,
        }
    }

    /// Moves the reported futures to `ready`, in the order they were reported.
    fn report(&mut self, reported: Vec<usize>) {
        for i in reported {
            if let Some(f) = self.pending[i].take() {
                self.unfinished -= 1;
                self.ready.push_back(f);
            }
        }
    }
}

impl<F: Waitable> Drop for Watched<F> {
    fn drop(&mut self) {
        for f in self.pending.iter().flatten() {
            f.unregister(&self.link);
        }
    }
}

/// The iterator [`as_completed`] returns.
pub struct AsCompleted<F: Waitable> {
    watched: Watched<F>,
    wait: Wait,
    timed_out: bool,
}

impl<F: Waitable> Iterator for AsCompleted<F> {
    type Item = Result<F, TimeoutError>;

    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        let w = &mut self.watched;
        loop {
            if let Some(f) = w.ready.pop_front() {
                return Some(Ok(f));
            }
            if w.unfinished == 0 || self.timed_out {
                return None;
            }
            refuse_waiting_for_self(w.pending.iter().flatten(), self.wait);
            let reported = w.link.0.take(self.wait);
            if reported.is_empty() {
                self.timed_out = true;
                return Some(Err(TimeoutError::new(format!(
                    "{} (of {}) futures unfinished",
                    w.unfinished, w.total
                ))));
            }
            w.report(reported);
        }
    }
}

impl<F: Waitable> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("total", &self.watched.total)
            .field("unfinished", &self.watched.unfinished)
            .field("ready", &self.watched.ready.len())
            .finish()
    }
}

/// The async [`as_completed`]: a [`Stream`] that yields each distinct future of `fs` once as
/// it is done — those already done first, in input order, then the rest in the order they
/// finish — and ends when all have been yielded. Cancelled futures count as done. asyncio's
/// `for f in asyncio.as_completed(fs)`, yielding the futures themselves.
///
/// Completion wakes the task straight from the completing thread. A yielded future is no
/// longer held.
///
/// # Cancellation and timeouts
///
/// There is no timeout parameter: the runtime's timeout around each `next()` (e.g.
/// `tokio::time::timeout(d, stream.next())`) gives up on one step, and the stream can be
/// polled again afterwards or dropped. Dropping the stream stops watching: it unregisters from
/// every future not yet yielded, and cancels none of them.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use gilfree::futures::as_completed_stream;
/// use gilfree::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(4);
/// let futs: Vec<_> = (1..=4).map(|n| pool.submit(move || n * n)).collect();
/// let total = futures::executor::block_on(async {
///     let mut total = 0;
///     let mut done = as_completed_stream(futs);
///     while let Some(fut) = done.next().await {
///         total += fut.result().unwrap(); // done: no wait
///     }
///     total
/// });
/// assert_eq!(total, 30);
/// ```
#[doc(alias = "as_completed")]
pub fn as_completed_stream<F: Waitable>(
    fs: impl IntoIterator<Item = F>,
) -> impl Stream<Item = F> + Unpin {
    AsCompletedStream {
        watched: Watched::new(fs),
        place: Place::new(),
    }
}

/// The stream of [`as_completed_stream`]: leaves its waiter's list when dropped, then (through
/// `Watched`) unregisters from the futures.
struct AsCompletedStream<F: Waitable> {
    watched: Watched<F>,
    place: Place,
}

// Nothing is pinned: the futures are only moved in and out of the queues.
impl<F: Waitable> Unpin for AsCompletedStream<F> {}

impl<F: Waitable> Stream for AsCompletedStream<F> {
    type Item = F;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F>> {
        let this = self.get_mut();
        let w = &mut this.watched;
        loop {
            if let Some(f) = w.ready.pop_front() {
                return Poll::Ready(Some(f));
            }
            if w.unfinished == 0 {
                return Poll::Ready(None);
            }
            match w.link.0.poll_take(&mut this.place, cx) {
                Poll::Ready(reported) => w.report(reported),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let w = &self.watched;
        (w.ready.len(), Some(w.ready.len() + w.unfinished))
    }
}

impl<F: Waitable> Drop for AsCompletedStream<F> {
    fn drop(&mut self) {
        self.watched.link.0.cancel(&mut self.place);
    }
}

/// The async [`wait`](fn@wait): waits as a task until `return_when` holds, then returns
/// `(done, not_done)`, each in input order, duplicates removed. asyncio's
/// `asyncio.wait(fs, return_when=…)`.
///
/// Completion wakes the task straight from the completing thread; when `return_when` already
/// holds, the first poll is ready.
///
/// # Cancellation and timeouts
///
/// There is no timeout parameter: the runtime's timeout (e.g.
/// `tokio::time::timeout(d, wait_async(fs, ReturnWhen::AllCompleted))`) drops the wait when
/// time is up. Dropping it unregisters from every future it watches and cancels none of them;
/// the futures it was given are dropped with it (pass references or clones to keep them).
///
/// # Examples
///
/// ```
/// use gilfree::futures::{wait_async, ReturnWhen};
/// use gilfree::{Promise, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2);
/// let quick = pool.submit(|| 1);
/// let (_never, stuck) = Promise::new();
/// let (done, not_done) =
///     futures::executor::block_on(wait_async([&quick, &stuck], ReturnWhen::FirstCompleted));
/// assert_eq!(done, [&quick]);
/// assert_eq!(not_done, [&stuck]);
/// ```
#[doc(alias = "wait")]
pub fn wait_async<F: Waitable>(
    fs: impl IntoIterator<Item = F>,
    return_when: ReturnWhen,
) -> impl std::future::Future<Output = (Vec<F>, Vec<F>)> + Unpin {
    WaitAsync {
        fs: distinct(fs),
        return_when,
        link: None,
        done: 0,
        failed: false,
        place: Place::new(),
    }
}

/// The future of [`wait_async`]: registers with the futures on its first pending poll, and
/// unregisters (and leaves its waiter's list) when it returns or is dropped.
struct WaitAsync<F: Waitable> {
    fs: Vec<F>,
    return_when: ReturnWhen,
    /// Registered with every future of `fs` not done when it registered; `None` before.
    link: Option<Link>,
    done: usize,
    failed: bool,
    place: Place,
}

// Nothing is pinned: the futures are only moved out at the end.
impl<F: Waitable> Unpin for WaitAsync<F> {}

impl<F: Waitable> WaitAsync<F> {
    fn satisfied(&self) -> bool {
        self.return_when
            .satisfied(self.fs.len(), self.done, self.failed)
    }

    fn stop_watching(&mut self) {
        if let Some(link) = self.link.take() {
            link.0.cancel(&mut self.place);
            for f in &self.fs {
                f.unregister(&link);
            }
        }
    }
}

impl<F: Waitable> std::future::Future for WaitAsync<F> {
    type Output = (Vec<F>, Vec<F>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.link.is_none() {
            this.done = this.fs.iter().filter(|f| f.done()).count();
            this.failed = this.fs.iter().any(|f| f.failed());
            if !this.satisfied() {
                // Count again while registering: registering reports those done meanwhile.
                let link = Link(Arc::new(Waiter::new()));
                this.done = 0;
                this.failed = false;
                for (i, f) in this.fs.iter().enumerate() {
                    if !f.register(&link, i) {
                        this.done += 1;
                        this.failed |= f.failed();
                    }
                }
                this.link = Some(link);
            }
        }
        while !this.satisfied() {
            let Some(link) = &this.link else {
                unreachable!("registered above while unsatisfied");
            };
            match link.0.poll_take(&mut this.place, cx) {
                Poll::Ready(reported) => {
                    this.done += reported.len();
                    this.failed |= reported.iter().any(|&i| this.fs[i].failed());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        this.stop_watching();
        Poll::Ready(
            std::mem::take(&mut this.fs)
                .into_iter()
                .partition(|f| f.done()),
        )
    }
}

impl<F: Waitable> Drop for WaitAsync<F> {
    fn drop(&mut self) {
        self.stop_watching();
    }
}
