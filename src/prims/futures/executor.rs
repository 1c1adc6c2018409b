//! `concurrent.futures.ThreadPoolExecutor`.

use super::super::Wait;
use super::super::queue::Queue;
use super::super::threading::Thread;
use super::future::{Future, Promise, report_panic};
use super::rt::{Arc, AtomicUsize, Condvar, Mutex, Ordering};
use crate::error::{FutureError, ValueError, panic_message};
use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;
use task::{Job, Task};

/// A queued task, with the one drop order that is sound for a scoped task.
///
/// A scoped task's closure may borrow the scope's environment, and its value `T` may too; the
/// task also holds a [`ScopeToken`], and [`ThreadPoolExecutor::scope`] returns once every token
/// of its scope is dropped. So everything of the task that may borrow — the closure, its
/// captures, the promise and through it the future's value — must be gone before its token
/// is. This module makes that order structural: [`Task`]'s fields are private to it, `Task`
/// implements `Drop` (so it cannot be taken apart by a move), and its work leaves it only
/// through [`Task::with_work`], which consumes it while the `Task` — and so the token — is
/// borrowed. Whatever path a task takes (it runs, is cancelled while queued, is cancelled by
/// `shutdown(cancel_futures = true)`, is failed by a broken pool, is dropped with the pool's
/// queue, or any of these panics, in the task or in a `Drop`), its token goes last.
mod task {
    use super::super::future::Promise;
    use super::ScopeToken;
    use crate::error::{FutureError, panic_message};
    use std::panic::{self, AssertUnwindSafe};

    /// One queued task, its value type erased.
    pub(super) trait Job: Send {
        /// Runs the task unless its future was cancelled; completes the future.
        fn run(self: Box<Self>);
        /// Cancels the future (shutdown with `cancel_futures`) and drops the task.
        fn cancel(self: Box<Self>);
        /// Completes the future with `error` (a broken pool) and drops the task.
        fn fail(self: Box<Self>, error: FutureError);
    }

    /// What a task owns that may borrow the scope's environment.
    struct Work<F, T> {
        f: F,
        promise: Promise<T>,
    }

    pub(super) struct Task<F, T> {
        /// Declared first, so that even the drop glue drops it before `scope`.
        work: Option<Work<F, T>>,
        /// For a scoped task: counts it out of its scope when dropped.
        scope: Option<ScopeToken>,
    }

    impl<F, T> Task<F, T> {
        pub(super) fn new(f: F, promise: Promise<T>, scope: Option<ScopeToken>) -> Self {
            Task {
                work: Some(Work { f, promise }),
                scope,
            }
        }

        /// Hands the work to `consume` by value, while `self` (the token) stays borrowed: the
        /// work is consumed or dropped inside `consume` — also when it unwinds — so before
        /// this returns, and before the token can be dropped.
        fn with_work(&mut self, consume: impl FnOnce(Work<F, T>)) {
            if let Some(work) = self.work.take() {
                consume(work);
            }
        }
    }

    impl<F, T> Drop for Task<F, T> {
        fn drop(&mut self) {
            // The work first (an unrun closure's captures, the promise). If its `Drop` panics,
            // the drop glue still drops `scope` afterwards, while unwinding.
            drop(self.work.take());
            drop(self.scope.take());
        }
    }

    /// `f`'s `Err` is the future's exception (a task of `submit_fallible`; `submit` wraps its
    /// value in `Ok`).
    impl<F, T> Job for Task<F, T>
    where
        F: FnOnce() -> Result<T, FutureError> + Send,
        T: Send + Sync,
    {
        fn run(mut self: Box<Self>) {
            self.with_work(|Work { f, promise }| {
                if promise.set_running() != Ok(true) {
                    return; // cancelled while queued (EXE-14): never runs; dropped here
                }
                // The task's panic is its exception (EXE-2). Its captures are dropped at the
                // end of the call, so a panic in their `Drop` is the task's exception too.
                match panic::catch_unwind(AssertUnwindSafe(f)) {
                    // The value drops here (inside the work) if nobody holds the future.
                    Ok(Ok(value)) => drop(promise.set_result(value)),
                    Ok(Err(error)) => drop(promise.set_exception(error)),
                    Err(payload) => {
                        let message = panic_message(payload.as_ref());
                        drop(promise.set_exception(FutureError::Panicked { message }));
                        // A payload whose `Drop` panics is the worker's to catch: the future
                        // is complete by now.
                        drop(payload);
                    }
                }
            });
        }

        fn cancel(self: Box<Self>) {
            if let Some(work) = &self.work {
                if let Some(fut) = work.promise.future() {
                    fut.cancel();
                }
            }
        }

        fn fail(mut self: Box<Self>, error: FutureError) {
            self.with_work(|Work { f, promise }| {
                drop(promise.set_exception(error));
                drop(f);
            });
        }
    }
}

/// The pool's bookkeeping, under [`Shared::state`].
///
/// | field | meaning |
/// |---|---|
/// | `spawned` | worker threads started and not lost (never more than `max_workers`) |
/// | `named` | worker threads started so far: the next one's number in its name |
/// | `broken` | why the pool broke (an initializer panicked) |
/// | `workers` | the started workers not joined yet |
/// | `alive` | workers whose thread function has not returned yet |
/// | `ids` | `rt::thread::current_id()` of the workers running now (a shutdown from a task) |
/// | `waiting_inside` | workers whose task waits in `shutdown(wait = true)` of this pool |
/// | `joining` | `shutdown` callers joining workers they took from `workers` |
///
/// A submit takes this lock only to start a worker: the queue and `Shared::idle` do the rest.
/// `Shared::exited` is notified when `alive`, `waiting_inside` or `joining` goes down, a worker
/// waits inside, or the queued tasks are failed.
struct State {
    spawned: usize,
    named: usize,
    broken: Option<String>,
    workers: Vec<Thread<()>>,
    alive: usize,
    ids: Vec<usize>,
    waiting_inside: usize,
    joining: usize,
}

struct Shared {
    jobs: Queue<Box<dyn Job>>,
    /// Python's `_idle_semaphore`: workers about to wait for work. A submit uses one up
    /// instead of starting a thread.
    idle: AtomicUsize,
    state: Mutex<State>,
    /// `shutdown(wait = true)` callers wait here for the workers to exit (see [`State`]).
    exited: Condvar,
    max_workers: usize,
    prefix: String,
    initializer: Option<Box<dyn Fn() + Send + Sync>>,
}

/// Python's `concurrent.futures.ThreadPoolExecutor`: up to `max_workers` threads that run
/// submitted closures and hand their results back as [`Future`]s.
///
/// Workers start lazily, one per submit until `max_workers` is reached, and only when no idle
/// worker is waiting; an idle worker sleeps without using the CPU. A task's panic is
/// caught and stored in its future, and the worker goes on. A worker survives whatever
/// a task does: a panic that nobody can receive — in the `Drop` of a result whose future was
/// dropped, or of a cancelled task's captures — is reported on stderr, as Python reports an
/// exception it cannot raise. Dropping the pool shuts it down and waits for the submitted tasks.
///
/// # Examples
///
/// ```
/// use gilfree::futures::as_completed;
/// use gilfree::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(4);
/// let squares: Vec<_> = (1..=5).map(|n| pool.submit(move || n * n)).collect();
/// let mut sum = 0;
/// for fut in as_completed(&squares, None) {
///     sum += fut.unwrap().result().unwrap();
/// }
/// assert_eq!(sum, 55);
/// let doubled: Vec<i32> = pool.map(|n| n * 2, 1..=3).map(Result::unwrap).collect();
/// assert_eq!(doubled, [2, 4, 6]); // input order
/// ```
///
/// # Panics in tasks
///
/// A task that panics does not bring the pool down: the panic is caught, its message is
/// stored in the task's [`Future`], and [`result()`](Future::result) returns it as an error.
/// But the panic still goes through Rust's panic hook first, and the default hook prints
/// `thread 'ThreadPoolExecutor-0_0' panicked at …` on stderr the moment it happens, where
/// Python prints nothing until `result()` raises. To keep the pool's panics quiet, install a
/// hook that skips its threads: every worker's name is `{thread_name_prefix}_{n}` (the
/// default prefix is `ThreadPoolExecutor-{k}`), and the hook runs on the panicking thread.
/// The hook is process-wide, so restore the previous one when done.
///
/// ```
/// use std::panic;
/// use std::sync::Arc;
/// # use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
/// # static SILENCED: AtomicUsize = AtomicUsize::new(0);
///
/// let previous = Arc::new(panic::take_hook());
/// let inner = Arc::clone(&previous);
/// panic::set_hook(Box::new(move |info| {
///     let quiet = std::thread::current().name().is_some_and(|n| n.starts_with("quiet_"));
/// #   if quiet { SILENCED.fetch_add(1, Relaxed); }
///     if !quiet {
///         inner(info); // other threads' panics are reported as before
///     }
/// }));
///
/// let pool = gilfree::ThreadPoolExecutor::builder()
///     .thread_name_prefix("quiet")
///     .build()
///     .unwrap();
/// let fut = pool.submit(|| -> u32 { panic!("out of coffee") });
/// let err = fut.result().unwrap_err(); // nothing was printed
/// assert!(err.to_string().contains("out of coffee"));
/// # assert_eq!(SILENCED.load(Relaxed), 1);
/// drop(pool);
///
/// drop(panic::take_hook()); // ours, which holds the other reference to `previous`
/// let previous = Arc::into_inner(previous).expect("our hook was dropped");
/// panic::set_hook(previous);
/// ```
///
/// # Differences from Python
///
/// * `submit` after `shutdown` (or on a broken pool) does not raise: it returns a future that
///   is already done with `FutureError::Shutdown` or `FutureError::BrokenExecutor`, as tokio's
///   `JoinHandle` does.
/// * `map` takes one iterable of items (zip several yourself) and yields `Result`s: an error
///   comes back at its item's position, and the iteration ends there.
/// * `with ThreadPoolExecutor() as pool:` is the pool's `Drop`.
/// * A task's value must be `Send + Sync`: every clone of its [`Future`] may read it
///   (`result()` hands out `&T`) from any thread.
pub struct ThreadPoolExecutor {
    shared: Arc<Shared>,
}

/// Builds a [`ThreadPoolExecutor`] with Python's keyword arguments: `max_workers`,
/// `thread_name_prefix` and `initializer`.
///
/// # Examples
///
/// ```
/// use gilfree::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(2)
///     .thread_name_prefix("crunch")
///     .initializer(|| println!("worker ready"))
///     .build()
///     .unwrap();
/// let name = pool.submit(|| gilfree::threading::current_thread().name());
/// assert!(name.result().unwrap().starts_with("crunch_"));
/// ```
pub struct ThreadPoolExecutorBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Box<dyn Fn() + Send + Sync>>,
}

/// Python's default pool size: `min(32, cpu_count + 4)`.
fn default_workers() -> usize {
    super::rt::thread::available_parallelism()
        .saturating_add(4)
        .min(32)
}

/// Numbers the pools without a prefix, as Python's `ThreadPoolExecutor-{k}`.
fn next_pool_number() -> usize {
    super::rt::global! {
        static POOLS: AtomicUsize = AtomicUsize::new(0);
    }
    POOLS.fetch_add(1, Ordering::Relaxed)
}

impl ThreadPoolExecutorBuilder {
    /// How many worker threads at most; `0` makes [`build`](Self::build) fail. The
    /// default is `min(32, cpus + 4)`.
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Names the workers `{prefix}_0`, `{prefix}_1`, …; the default prefix is
    /// `ThreadPoolExecutor-{k}` with `k` counting the pools.
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs `f` once in each worker before its first task. If it panics, the pool is
    /// broken: queued and later tasks fail with `FutureError::BrokenExecutor`.
    pub fn initializer(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.initializer = Some(Box::new(f));
        self
    }

    /// The pool; `Err(ValueError)` if `max_workers` is 0. No thread starts yet.
    pub fn build(self) -> Result<ThreadPoolExecutor, ValueError> {
        let max_workers = self.max_workers.unwrap_or_else(default_workers);
        if max_workers == 0 {
            return Err(ValueError::new("max_workers must be greater than 0"));
        }
        let prefix = self
            .prefix
            .unwrap_or_else(|| format!("ThreadPoolExecutor-{}", next_pool_number()));
        let pool = ThreadPoolExecutor {
            shared: Arc::new(Shared {
                jobs: Queue::new(0),
                idle: AtomicUsize::new(0),
                state: Mutex::new(State {
                    spawned: 0,
                    named: 0,
                    broken: None,
                    workers: Vec::new(),
                    alive: 0,
                    ids: Vec::new(),
                    waiting_inside: 0,
                    joining: 0,
                }),
                exited: Condvar::new(),
                max_workers,
                prefix,
                initializer: self.initializer,
            }),
        };
        live_pools::register(&pool.shared);
        Ok(pool)
    }
}

impl fmt::Debug for ThreadPoolExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolExecutorBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads.
    ///
    /// # Panics
    ///
    /// If `max_workers` is 0, with Python's message
    /// `ValueError: max_workers must be greater than 0`, at the caller's line;
    /// [`try_new`](Self::try_new) and the [`builder`](Self::builder) return the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(3);
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    #[track_caller]
    pub fn new(max_workers: usize) -> Self {
        match Self::try_new(max_workers) {
            Ok(pool) => pool,
            Err(err) => panic!("{err}"),
        }
    }

    /// A pool of at most `max_workers` threads; `Err(ValueError)` if it is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gilfree::ThreadPoolExecutor::try_new(0).is_err());
    /// ```
    pub fn try_new(max_workers: usize) -> Result<Self, ValueError> {
        Self::builder().max_workers(max_workers).build()
    }

    /// A builder for the name prefix and initializer.
    pub fn builder() -> ThreadPoolExecutorBuilder {
        ThreadPoolExecutorBuilder {
            max_workers: None,
            prefix: None,
            initializer: None,
        }
    }

    /// The most worker threads this pool starts.
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// How many worker threads it has started so far (they start lazily). A worker
    /// survives whatever its tasks do; should one ever be lost all the same, it is no longer
    /// counted and another is started in its place.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(8);
    /// assert_eq!(pool.worker_count(), 0);
    /// pool.submit(|| ()).result().unwrap();
    /// assert_eq!(pool.worker_count(), 1);
    /// ```
    pub fn worker_count(&self) -> usize {
        self.shared.state.lock().spawned
    }

    /// Schedules `f` and returns its [`Future`]. After [`shutdown`](Self::shutdown),
    /// or once the pool is broken, the future is already done with `FutureError::Shutdown` or
    /// `FutureError::BrokenExecutor`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{FutureError, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new(2);
    /// assert_eq!(pool.submit(|| "hi").result(), Ok(&"hi"));
    /// pool.shutdown(true, false);
    /// assert_eq!(pool.submit(|| "late").result(), Err(FutureError::Shutdown));
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + Sync + 'static,
    {
        let (promise, future) = Promise::new();
        self.enqueue(Box::new(Task::new(move || Ok(f()), promise, None)));
        future
    }

    /// [`submit`](Self::submit) for a task that returns a `Result`, flattened as Python's
    /// future of a task that raises: `Ok(value)` is the future's result, and the `Err` is its
    /// exception, a [`FutureError::Exception`] — so it shows in
    /// [`exception`](Future::exception), ends a [`wait`](crate::futures::wait) with
    /// [`ReturnWhen::FirstException`](crate::ReturnWhen::FirstException), and
    /// [`downcast_ref`](FutureError::downcast_ref) gets the `E` back. With `submit`, the same
    /// task gives a `Future<Result<T, E>>` whose errors are values.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::ThreadPoolExecutor;
    /// use std::num::ParseIntError;
    ///
    /// let pool = ThreadPoolExecutor::new(2);
    /// let good = pool.submit_fallible(|| "42".parse::<u8>());
    /// let bad = pool.submit_fallible(|| "x".parse::<u8>());
    /// assert_eq!(good.result(), Ok(&42));
    /// let err = bad.exception().unwrap();
    /// assert!(err.downcast_ref::<ParseIntError>().is_some());
    /// ```
    #[doc(alias = "raise", alias = "submit_result", alias = "try_submit")]
    pub fn submit_fallible<F, T, E>(&self, f: F) -> Future<T>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + Sync + 'static,
        E: Error + Send + Sync + 'static,
    {
        let (promise, future) = Promise::new();
        let f = move || f().map_err(FutureError::exception);
        self.enqueue(Box::new(Task::new(f, promise, None)));
        future
    }

    /// Queues `job` and makes sure a worker will run it; fails it if the pool cannot.
    fn enqueue(&self, job: Box<dyn Job>) {
        // A shut-down or broken pool has shut its queue: the put is the one check, so a
        // submit racing `shutdown` is either queued (and run) or refused, never lost.
        if let Err(refused) = self.shared.jobs.put(job) {
            let error = match &self.shared.state.lock().broken {
                Some(why) => FutureError::BrokenExecutor {
                    message: why.clone(),
                },
                None => FutureError::Shutdown,
            };
            let job = refused.into_inner();
            contain("a refused task", || job.fail(error));
            return;
        }
        // Python's `_adjust_thread_count`: an idle worker takes the new task…
        let took_idle = self
            .shared
            .idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if !took_idle {
            // … otherwise start one, up to `max_workers`.
            let failed = start_worker(&self.shared, &mut self.shared.state.lock());
            fail_all(&self.shared, failed);
        }
    }

    /// Runs `f` with a [`Scope`] whose tasks may borrow from the caller's stack, as
    /// `std::thread::scope` does for threads: `scope` returns only once every task submitted
    /// through it has finished (or was cancelled) and its captures are dropped — also when `f`
    /// panics, whose panic then goes on.
    ///
    /// Do not call it from one of this pool's own tasks when all workers could be busy waiting
    /// like this: the scoped tasks would have no worker left to run on.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(4);
    /// let words = vec!["alpha", "beta", "gamma"];
    /// let total = pool.scope(|s| {
    ///     let lengths: Vec<_> = words.iter().map(|w| s.submit(|| w.len())).collect();
    ///     lengths.iter().map(|f| *f.result().unwrap()).sum::<usize>()
    /// });
    /// assert_eq!(total, 14);
    /// assert_eq!(words.len(), 3); // still ours: the tasks only borrowed it
    /// ```
    pub fn scope<'env, F, R>(&'env self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
    {
        let scope = Scope {
            pool: self,
            state: Arc::new(ScopeState {
                pending: Mutex::new(0),
                all_done: Condvar::new(),
            }),
            _scope: PhantomData,
            _env: PhantomData,
        };
        let result = panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
        let mut pending = scope.state.pending.lock();
        while *pending > 0 {
            scope.state.all_done.wait(&mut pending);
        }
        drop(pending);
        match result {
            Ok(value) => value,
            Err(payload) => panic::resume_unwind(payload),
        }
    }

    /// Python's `map(fn, iterable, timeout=None)`: submits `f(item)` for every item at once and
    /// returns an iterator over the results in input order. An error (the task panicked, the pool
    /// shut down) is yielded at its item's position, the not yet started tasks after it are
    /// cancelled, and the iteration ends. Dropping the iterator cancels the tasks that have not
    /// started.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(4);
    /// let lengths: Result<Vec<usize>, _> = pool.map(|s: &str| s.len(), ["a", "bb", "ccc"]).collect();
    /// assert_eq!(lengths, Ok(vec![1, 2, 3]));
    /// ```
    pub fn map<I, F, T>(&self, f: F, items: I) -> Map<T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + Sync + 'static,
    {
        self.map_with(f, items, Wait::Forever)
    }

    /// [`map`](Self::map) for an `f` returning `Result<T, E>`, flattened as
    /// [`submit_fallible`](Self::submit_fallible) does: an item's `Err` is yielded at its
    /// position as a [`FutureError::Exception`], and, as for a panic, the tasks not started
    /// after it are cancelled and the iteration ends — Python's `map` raising the task's
    /// exception.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::ParseIntError;
    ///
    /// let pool = gilfree::ThreadPoolExecutor::new(2);
    /// let mut it = pool.map_fallible(|s: &str| s.parse::<u8>(), ["1", "x", "3"]);
    /// assert_eq!(it.next(), Some(Ok(1)));
    /// let err = it.next().unwrap().unwrap_err();
    /// assert!(err.downcast_ref::<ParseIntError>().is_some());
    /// assert_eq!(it.next(), None);
    /// ```
    #[doc(alias = "try_map")]
    pub fn map_fallible<I, F, T, E>(&self, f: F, items: I) -> Map<T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> Result<T, E> + Send + Sync + 'static,
        T: Send + Sync + 'static,
        E: Error + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        Map::of(items, Wait::Forever, |item| {
            let f = Arc::clone(&f);
            self.submit_fallible(move || f(item))
        })
    }

    /// [`map`](Self::map) with a deadline `timeout` after this call: a result not
    /// ready by then is yielded as `Err(FutureError::Timeout)`, and the tasks not started are
    /// cancelled. Results already done at the deadline still come out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = gilfree::ThreadPoolExecutor::new(2);
    /// let mut it = pool.map_timeout(|n: u64| n + 1, [1, 2], Duration::from_secs(10));
    /// assert_eq!(it.next(), Some(Ok(2)));
    /// ```
    pub fn map_timeout<I, F, T>(&self, f: F, items: I, timeout: Duration) -> Map<T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + Sync + 'static,
    {
        self.map_with(f, items, Wait::timeout(timeout))
    }

    fn map_with<I, F, T>(&self, f: F, items: I, deadline: Wait) -> Map<T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + Sync + 'static,
    {
        let f = Arc::new(f);
        Map::of(items, deadline, |item| {
            let f = Arc::clone(&f);
            self.submit(move || f(item))
        })
    }

    /// Python's `shutdown(wait=True, cancel_futures=False)`: refuses new tasks from now on. With
    /// `cancel_futures`, the tasks that have not started are cancelled; the others still run. With
    /// `wait`, returns once every running and queued task is done and the workers have exited;
    /// without, returns at once and the workers exit when the queue is empty. Calling it again is
    /// harmless, and every caller with `wait`, from however many threads at once, returns only once
    /// the workers have exited. Called with `wait` from inside one of this pool's tasks (or a
    /// done-callback its worker runs), it waits for the other workers but not for its own, nor for
    /// any other worker whose task waits the same way: those would wait for each other for ever.
    ///
    /// A cancelled task is dropped in the calling thread; a panic in its `Drop` is reported on
    /// stderr and cancels no fewer tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(2);
    /// let futs: Vec<_> = (0..10).map(|n| pool.submit(move || n)).collect();
    /// pool.shutdown(true, false);
    /// assert!(futs.iter().all(|f| f.done())); // every task finished before it returned
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        // Relies only on `try_iter` yielding every task queued before the queue shuts; a task
        // it missed would still run, not be lost.
        let cancelled: Vec<_> = if cancel_futures {
            self.shared.jobs.try_iter().collect()
        } else {
            Vec::new()
        };
        // Workers finish what is queued, then see ShutDown and exit; later submits are refused.
        self.shared.jobs.shutdown(false);
        // Cancelling runs the futures' callbacks and drops the tasks: no lock is held here, and
        // a panic in a task's `Drop` cancels no less of the others.
        for job in cancelled {
            contain("a cancelled task", || job.cancel());
        }
        if wait {
            self.wait_for_workers();
        }
    }

    /// `shutdown`'s wait: every caller returns only once the workers have exited and
    /// been joined, whoever joins them. Called from one of this pool's own tasks, it waits for
    /// every worker except the ones whose tasks wait here too (itself among them): waiting for
    /// those would be waiting for ever.
    fn wait_for_workers(&self) {
        let shared = &self.shared;
        let me = super::rt::thread::current_id();
        let mut st = shared.state.lock();
        let inside = st.ids.contains(&me);
        if inside {
            st.waiting_inside += 1;
            shared.exited.notify_all();
        }
        loop {
            if inside {
                if st.alive == st.waiting_inside {
                    st.waiting_inside -= 1;
                    shared.exited.notify_all();
                    // The workers are left for an outside caller (or the pool's drop) to join:
                    // this thread is one of them.
                    return;
                }
            } else if st.alive == 0 && !st.workers.is_empty() {
                // Every worker has returned from its thread function: the joins are short.
                let workers = std::mem::take(&mut st.workers);
                st.joining += 1;
                drop(st);
                for worker in workers {
                    // Not this thread (it is no worker), and a worker catches all it runs.
                    let _ = worker.join();
                }
                st = shared.state.lock();
                st.joining -= 1;
                shared.exited.notify_all();
                continue;
            } else if st.alive == 0 && st.joining == 0 && shared.jobs.empty() {
                // A task still queued with no worker alive was put just before the queue shut,
                // by a submit about to start a worker for it (or fail it): wait for that too.
                return;
            }
            shared.exited.wait(&mut st);
        }
    }
}

impl Default for ThreadPoolExecutor {
    /// A pool of `min(32, cpus + 4)` workers.
    fn default() -> Self {
        match Self::builder().build() {
            Ok(pool) => pool,
            // The default worker count is never 0.
            Err(err) => panic!("{err}"),
        }
    }
}

impl ThreadPoolExecutor {
    /// See [`live_pools::shut_down_all`]: the pools' part of
    /// [`join_at_exit`](super::super::threading::join_at_exit).
    pub(crate) fn shut_down_live_pools() -> usize {
        live_pools::shut_down_all()
    }
}

impl Drop for ThreadPoolExecutor {
    /// `shutdown(wait = true)`: the submitted tasks finish first.
    fn drop(&mut self) {
        self.shutdown(true, false);
        live_pools::deregister(&self.shared);
    }
}

/// The pools that have not been dropped, for [`join_at_exit`](super::super::threading::join_at_exit):
/// Python 3.9+ lets every pool finish the tasks it accepted before the interpreter exits,
/// even a pool that is never dropped (one kept in a `static`).
mod live_pools {
    use super::super::rt::{Arc, Mutex};
    use super::Shared;

    super::super::rt::global! {
        static LIVE: Mutex<Vec<Arc<Shared>>> = Mutex::new(Vec::new());
    }

    pub(super) fn register(shared: &Arc<Shared>) {
        LIVE.lock().push(Arc::clone(shared));
    }

    pub(super) fn deregister(shared: &Arc<Shared>) {
        let mut live = LIVE.lock();
        let gone = live
            .iter()
            .position(|p| Arc::ptr_eq(p, shared))
            .map(|at| live.swap_remove(at));
        // Dropped after the registry's lock is released.
        drop(live);
        drop(gone);
    }

    /// `shutdown(wait = true)` on every pool registered so far, which leaves the registry:
    /// each has finished its accepted tasks and refuses new ones. Returns how many there were.
    pub(super) fn shut_down_all() -> usize {
        let pools = std::mem::take(&mut *LIVE.lock());
        let n = pools.len();
        for shared in pools {
            // A second handle to the pool, whose `Drop` is `shutdown(wait = true)`; the real
            // handle's own drop later finds nothing left to do.
            drop(super::ThreadPoolExecutor { shared });
        }
        n
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.shared.max_workers)
            .field("workers", &st.spawned)
            .field("idle", &self.shared.idle.load(Ordering::Relaxed))
            .field("queued", &self.shared.jobs.qsize())
            // The shut queue is what refuses submits (a broken pool shuts it too).
            .field("shutdown", &self.shared.jobs.is_shutdown())
            .field("broken", &st.broken)
            .finish()
    }
}

/// Starts a worker unless `max_workers` are running. Returns the tasks to fail if none
/// could be started (the caller fails them once the lock is released).
fn start_worker(shared: &Arc<Shared>, st: &mut State) -> Failed {
    if st.spawned >= shared.max_workers {
        return None;
    }
    let name = format!("{}_{}", shared.prefix, st.named);
    let for_worker = Arc::clone(shared);
    // Daemon, so that `join_non_daemon_threads` never waits for an idle pool.
    let spawned = Thread::builder()
        .name(name)
        .daemon(true)
        .spawn(move || worker(&for_worker));
    match spawned {
        Ok(thread) => {
            st.spawned += 1;
            st.named += 1;
            // Counted before the worker can run: it counts itself out under this lock.
            st.alive += 1;
            st.workers.push(thread);
            None
        }
        Err(err) if st.spawned == 0 => {
            // Nobody would ever run the queued tasks: fail them rather than hang.
            let why = format!("cannot start a worker thread: {err}");
            st.broken = Some(why.clone());
            Some((take_queued(shared), why))
        }
        // The running workers will get to the task.
        Err(_) => None,
    }
}

/// A worker thread's life: the initializer, then tasks until the queue is shut down and
/// drained. Whatever a task does — panic, or panic in the `Drop` of its captures, its result
/// or its panic's payload — is caught around the whole job, so the worker lives on (issue 14).
fn worker(shared: &Arc<Shared>) {
    let mut life = WorkerLife::begin(shared);
    if let Some(init) = &shared.initializer {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(init)) {
            let why = format!(
                "A thread initializer failed, the thread pool is not usable anymore: {}",
                panic_message(payload.as_ref())
            );
            report_panic(format_args!("Exception in initializer"), payload);
            let mut st = shared.state.lock();
            if st.broken.is_none() {
                st.broken = Some(why.clone());
            }
            let queued = take_queued(shared);
            drop(st);
            fail_all(shared, Some((queued, why)));
            life.clean = true;
            return;
        }
    }
    loop {
        let job = match shared.jobs.get_nowait() {
            Ok(job) => job,
            Err(_) => {
                // About to wait for work: count as idle, so the next submit uses this worker
                // instead of starting another (Python's `_idle_semaphore.release()`).
                shared.idle.fetch_add(1, Ordering::AcqRel);
                match shared.jobs.get() {
                    Ok(job) => job,
                    Err(_) => break, // shut down and drained
                }
            }
        };
        contain("a task", move || job.run());
    }
    life.clean = true;
}

/// A worker's presence in [`State`]: counted in when it starts, out when its thread function
/// returns — or unwinds. A worker that unwinds (never from a task: those are contained) is
/// lost: the pool stops counting it and starts another if tasks are queued, so none waits for
/// a worker that is gone.
struct WorkerLife<'a> {
    shared: &'a Arc<Shared>,
    id: usize,
    /// Set when the worker ends normally.
    clean: bool,
}

impl<'a> WorkerLife<'a> {
    fn begin(shared: &'a Arc<Shared>) -> Self {
        let id = super::rt::thread::current_id();
        shared.state.lock().ids.push(id);
        WorkerLife {
            shared,
            id,
            clean: false,
        }
    }
}

impl Drop for WorkerLife<'_> {
    fn drop(&mut self) {
        let shared = self.shared;
        let mut st = shared.state.lock();
        st.alive -= 1;
        st.ids.retain(|&id| id != self.id);
        let mut failed = None;
        if !self.clean {
            st.spawned -= 1;
            if !shared.jobs.empty() {
                failed = start_worker(shared, &mut st);
            }
        }
        drop(st);
        shared.exited.notify_all();
        fail_all(shared, failed);
    }
}

/// Runs `f`, which ends a job (runs, cancels, fails or drops it), and contains any panic it
/// lets out — from a `Drop` of user data after the job's future was completed, so nobody can
/// receive it — by reporting it on stderr, as Python reports an exception it cannot raise.
fn contain(what: &str, f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        report_panic(
            format_args!("Exception ignored in {what} of a thread pool"),
            payload,
        );
    }
}

/// Tasks to fail, and why (a pool that cannot run them).
type Failed = Option<(Vec<Box<dyn Job>>, String)>;

/// Shuts the queue so nothing more lands there and takes what is queued.
fn take_queued(shared: &Shared) -> Vec<Box<dyn Job>> {
    shared.jobs.shutdown(false);
    shared.jobs.try_iter().collect()
}

/// Fails `failed`'s tasks with `BrokenExecutor`; called with no lock held (their futures'
/// callbacks run here). Each one is contained: a panic in one task's `Drop` fails no fewer.
fn fail_all(shared: &Shared, failed: Failed) {
    if let Some((jobs, why)) = failed {
        for job in jobs {
            let error = FutureError::BrokenExecutor {
                message: why.clone(),
            };
            contain("a failed task", || job.fail(error));
        }
        // The queue is empty now: a shutdown may be waiting for that.
        shared.exited.notify_all();
    }
}

/// What a scope and its tasks share: how many of its tasks are not dropped yet.
struct ScopeState {
    pending: Mutex<usize>,
    all_done: Condvar,
}

/// Held by each scoped task; dropping it (after the task's future is complete) counts the
/// task out of its scope.
struct ScopeToken(Arc<ScopeState>);

impl Drop for ScopeToken {
    fn drop(&mut self) {
        let mut pending = self.0.pending.lock();
        *pending -= 1;
        if *pending == 0 {
            self.0.all_done.notify_all();
        }
    }
}

/// The handle [`ThreadPoolExecutor::scope`] passes to its closure: submits tasks that may
/// borrow anything that outlives the scope (`'env`).
pub struct Scope<'scope, 'env: 'scope> {
    pool: &'env ThreadPoolExecutor,
    state: Arc<ScopeState>,
    // Invariant in both lifetimes, as std's `thread::Scope`.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

impl<'scope> Scope<'scope, '_> {
    /// [`ThreadPoolExecutor::submit`] for a task that may borrow from outside the scope. The
    /// future behaves as any other; the scope waits for the task before it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(2);
    /// let mut counts = [0u32; 2];
    /// let (left, right) = counts.split_at_mut(1);
    /// pool.scope(|s| {
    ///     s.submit(|| left[0] += 1);
    ///     s.submit(|| right[0] += 2);
    /// });
    /// assert_eq!(counts, [1, 2]);
    /// ```
    pub fn submit<F, T>(&'scope self, f: F) -> Future<T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + Sync + 'scope,
    {
        self.submit_task(move || Ok(f()))
    }

    /// [`ThreadPoolExecutor::submit_fallible`] for a task that may borrow from outside the
    /// scope: the task's `Err` is the future's exception.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = gilfree::ThreadPoolExecutor::new(2);
    /// let text = String::from("12 x");
    /// pool.scope(|s| {
    ///     let numbers: Vec<_> = text
    ///         .split(' ')
    ///         .map(|word| s.submit_fallible(move || word.parse::<u32>()))
    ///         .collect();
    ///     assert_eq!(numbers[0].result(), Ok(&12));
    ///     assert!(numbers[1].exception().unwrap().downcast_ref::<std::num::ParseIntError>().is_some());
    /// });
    /// ```
    #[doc(alias = "raise", alias = "submit_result", alias = "try_submit")]
    pub fn submit_fallible<F, T, E>(&'scope self, f: F) -> Future<T>
    where
        F: FnOnce() -> Result<T, E> + Send + 'scope,
        T: Send + Sync + 'scope,
        E: Error + Send + Sync + 'static,
    {
        self.submit_task(move || f().map_err(FutureError::exception))
    }

    fn submit_task<F, T>(&'scope self, f: F) -> Future<T>
    where
        F: FnOnce() -> Result<T, FutureError> + Send + 'scope,
        T: Send + Sync + 'scope,
    {
        *self.state.pending.lock() += 1;
        let (promise, future) = Promise::new();
        let token = ScopeToken(Arc::clone(&self.state));
        let job: Box<dyn Job + 'scope> = Box::new(Task::new(f, promise, Some(token)));
        // SAFETY: only the lifetime bound changes (same type, same layout); what must hold is
        // that nothing the job borrows for `'scope` is used after `'scope` ends.
        // `ThreadPoolExecutor::scope` does not return (nor unwind) before every token of its
        // scope is dropped, and the `task` module makes "the token drops last" structural:
        // `Task`'s work (the closure with its captures, and the promise) leaves it only through
        // `with_work`, which consumes it while the `Task` is borrowed, and `Task`'s `Drop`
        // drops the work before the token, also when that drop panics (the drop glue then
        // drops the token while unwinding). So on every path — run, cancelled while queued,
        // cancelled by `shutdown(cancel_futures)`, failed, dropped with the queue, a panic in
        // the task or in any `Drop` — the job's borrows end before its token does. The future's
        // value `T: 'scope` lives in the future's shared state: the job's handle to it (in the
        // promise) is part of the work, so it is gone before the token; every other handle is
        // typed with `T`, so the borrow checker keeps it inside `'scope` (in the scope's
        // closure, or in another scoped task, itself gone before its token); a done-callback
        // is `'static`, so it can keep one only where `T` is `'static` too.
        let job: Box<dyn Job + 'static> =
            unsafe { std::mem::transmute::<Box<dyn Job + 'scope>, Box<dyn Job + 'static>>(job) };
        self.pool.enqueue(job);
        future
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("pending", &*self.state.pending.lock())
            .field("pool", self.pool)
            .finish()
    }
}

/// The iterator [`ThreadPoolExecutor::map`] returns: results in input order.
pub struct Map<T> {
    futures: VecDeque<Future<T>>,
    deadline: Wait,
    ended: bool,
}

impl<T> Map<T> {
    /// One task per item, submitted in input order by `submit`.
    fn of<I: IntoIterator>(
        items: I,
        deadline: Wait,
        submit: impl FnMut(I::Item) -> Future<T>,
    ) -> Self {
        Map {
            futures: items.into_iter().map(submit).collect(),
            deadline,
            ended: false,
        }
    }

    fn cancel_rest(&mut self) {
        self.ended = true;
        for fut in self.futures.drain(..) {
            fut.cancel();
        }
    }
}

impl<T> Iterator for Map<T> {
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let fut = self.futures.pop_front()?;
        fut.wait_done(self.deadline);
        if !fut.done() {
            fut.cancel();
            self.cancel_rest();
            return Some(Err(FutureError::Timeout));
        }
        let result = fut.into_result_unique();
        if result.is_err() {
            self.cancel_rest();
        }
        Some(result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.ended {
            (0, Some(0))
        } else {
            (0, Some(self.futures.len()))
        }
    }
}

impl<T> Drop for Map<T> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<T> fmt::Debug for Map<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("remaining", &self.futures.len())
            .field("ended", &self.ended)
            .finish()
    }
}
