//! `threading.Thread` and the module functions that see every thread: `current_thread`,
//! `main_thread`, `enumerate`, `active_count`, `get_ident`, `get_native_id`; and Python's wait
//! at exit: `join_non_daemon_threads` and its guard, `join_at_exit`.

use super::super::waiters::{WaitList, Waiter};
use super::Wait;
use super::rt::{self, Arc, AtomicU64, Condvar, Mutex, Ordering};
use crate::error::{JoinError, PanicPayload, RuntimeError, panic_message};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// The registry: every live thread that gilfree knows of (Python's `_active` and `_limbo`).

/// What kind of thread a [`ThreadHandle`] stands for; shown by `Debug` as Python's class name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Started by [`Thread::spawn`] or [`ThreadBuilder::spawn`].
    Thread,
    /// Started by [`Timer::start`](super::Timer::start).
    Timer,
    /// The process's main thread (`_MainThread`).
    Main,
    /// A thread gilfree did not start, seen through `current_thread()` (`_DummyThread`).
    Dummy,
}

/// The life of one thread, under [`Shared::life`].
///
/// | field | meaning |
/// |---|---|
/// | `native_id` | `0` until the thread has run its first instruction and published its OS id; stays `0` if it never ran |
/// | `finished` | the thread's function has returned (or panicked), or its spawn failed; `is_alive()` is false |
/// | `never_started` | the operating system refused the spawn: `finished` too, and joins fail as before a start |
/// | `joining_all` | the thread is inside [`join_non_daemon_threads`], which other callers then skip |
#[derive(Debug, Default)]
struct Life {
    native_id: u64,
    finished: bool,
    never_started: bool,
    joining_all: bool,
}

/// What every handle to one thread shares.
pub(crate) struct Shared {
    ident: u64,
    kind: Kind,
    daemon: bool,
    name: Mutex<String>,
    life: Mutex<Life>,
    /// Signalled when `native_id` is published and when the thread finishes.
    changed: Condvar,
    /// Joins waiting for the thread to finish, threads and tasks in one FIFO; all woken when
    /// it does.
    joiners: WaitList,
}

impl Shared {
    fn new(ident: u64, kind: Kind, daemon: bool, name: String, native_id: u64) -> Self {
        Shared {
            ident,
            kind,
            daemon,
            name: Mutex::new(name),
            life: Mutex::new(Life {
                native_id,
                ..Life::default()
            }),
            changed: Condvar::new(),
            joiners: WaitList::new(),
        }
    }

    fn publish_native_id(&self, id: u64) {
        let mut life = self.life.lock();
        life.native_id = id;
        drop(life);
        self.changed.notify_all();
    }

    /// Marks the thread finished and releases every waiter; `never_started` when its spawn
    /// failed.
    fn finish(&self, never_started: bool) {
        let mut life = self.life.lock();
        life.finished = true;
        life.never_started |= never_started;
        drop(life);
        self.changed.notify_all();
        // After `finished` is set: a joiner checks it under the list's lock as it queues.
        self.joiners.notify_all();
    }

    fn never_started(&self) -> bool {
        self.life.lock().never_started
    }

    /// Enters or leaves [`join_non_daemon_threads`]; callers waiting for this thread there
    /// are woken to skip it.
    fn set_joining_all(&self, joining: bool) {
        self.life.lock().joining_all = joining;
        self.changed.notify_all();
    }

    /// [`join_non_daemon_threads`]' wait: until the thread finished (`true`) or entered
    /// `join_non_daemon_threads` itself (`false`: waiting for it could close a cycle).
    fn wait_finished_or_joining_all(&self) -> bool {
        let mut life = self.life.lock();
        while !life.finished && !life.joining_all {
            self.changed.wait(&mut life);
        }
        life.finished
    }

    fn is_finished(&self) -> bool {
        self.life.lock().finished
    }

    fn native_id(&self) -> u64 {
        let mut life = self.life.lock();
        // A spawned thread publishes its id as its first step; this waits at most that long.
        let spawned = matches!(self.kind, Kind::Thread | Kind::Timer);
        while spawned && life.native_id == 0 && !life.finished {
            self.changed.wait(&mut life);
        }
        life.native_id
    }

    /// Waits until the thread finished; `false` if `wait` ran out first.
    fn wait_finished(&self, wait: Wait) -> bool {
        let deadline = match wait {
            Wait::Never => return self.is_finished(),
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        self.joiners
            .wait_for(
                || self.is_finished().then_some(()),
                || !self.is_finished(),
                deadline,
            )
            .is_some()
    }

    /// The task's side of [`wait_finished`](Self::wait_finished).
    fn poll_finished(&self, waiter: &mut Waiter<'_>, cx: &mut Context<'_>) -> Poll<()> {
        waiter.poll_for(
            cx,
            || self.is_finished().then_some(()),
            || !self.is_finished(),
        )
    }
}

struct Registry {
    /// The `N` of `Thread-N` and `Dummy-N`: one counter for threads, timers and dummies, as in
    /// Python.
    names: AtomicU64,
    /// Idents are never reused: the next one to hand out.
    idents: AtomicU64,
    live: Mutex<BTreeMap<u64, Arc<Shared>>>,
    main: Arc<Shared>,
}

impl Registry {
    fn new() -> Self {
        let main = Arc::new(Shared::new(
            1,
            Kind::Main,
            false,
            "MainThread".to_owned(),
            rt::thread::main_native_id().unwrap_or(0),
        ));
        let mut live = BTreeMap::new();
        live.insert(1, Arc::clone(&main));
        Registry {
            names: AtomicU64::new(1),
            idents: AtomicU64::new(2),
            live: Mutex::new(live),
            main,
        }
    }

    fn next_ident(&self) -> u64 {
        self.idents.fetch_add(1, Ordering::Relaxed)
    }

    fn next_name(&self, prefix: &str) -> String {
        format!("{prefix}-{}", self.names.fetch_add(1, Ordering::Relaxed))
    }

    fn register(&self, shared: &Arc<Shared>) {
        self.live.lock().insert(shared.ident, Arc::clone(shared));
    }

    fn deregister(&self, ident: u64) {
        // The removed Arc is dropped after the registry's lock is released.
        let removed = self.live.lock().remove(&ident);
        drop(removed);
    }
}

rt::global! {
    static REGISTRY: Registry = Registry::new();
}

fn registry() -> &'static Registry {
    &REGISTRY
}

/// The calling thread's entry, kept in a thread-local. A dummy thread's entry leaves the
/// registry when its OS thread ends.
struct Current {
    shared: Arc<Shared>,
    leave_on_exit: bool,
}

impl Drop for Current {
    fn drop(&mut self) {
        if self.leave_on_exit {
            registry().deregister(self.shared.ident);
            self.shared.finish(false);
        }
    }
}

rt::thread_local! {
    // Not `const { .. }`: loom's `thread_local!` (edition 2018) does not take it.
    #[allow(clippy::missing_const_for_thread_local)]
    static CURRENT: RefCell<Option<Current>> = RefCell::new(None);
}

/// Records the calling thread's entry; `false` during the thread's own TLS teardown, when
/// there is no slot left.
fn set_current(shared: Arc<Shared>, leave_on_exit: bool) -> bool {
    CURRENT
        .try_with(|slot| {
            *slot.borrow_mut() = Some(Current {
                shared,
                leave_on_exit,
            })
        })
        .is_ok()
}

/// The calling thread's entry if it already has one (a gilfree thread, or a thread that
/// called `current_thread()` before).
fn known_current() -> Option<Arc<Shared>> {
    CURRENT
        .try_with(|slot| slot.borrow().as_ref().map(|c| Arc::clone(&c.shared)))
        .ok()
        .flatten()
}

fn current_shared() -> Arc<Shared> {
    if let Some(shared) = known_current() {
        return shared;
    }
    let reg = registry();
    if rt::thread::is_main() {
        let main = Arc::clone(&reg.main);
        if main.life.lock().native_id == 0 {
            // Where the platform cannot tell the main thread's id from elsewhere.
            main.publish_native_id(rt::thread::native_id());
        }
        set_current(Arc::clone(&main), false);
        return main;
    }
    // A thread gilfree did not start: Python's `_DummyThread` (THR-15), a daemon, alive
    // until its OS thread ends.
    let dummy = Arc::new(Shared::new(
        reg.next_ident(),
        Kind::Dummy,
        true,
        reg.next_name("Dummy"),
        rt::thread::native_id(),
    ));
    // In TLS teardown the slot is gone: hand out the dummy without registering it, since
    // nothing would remove it again.
    if set_current(Arc::clone(&dummy), true) {
        reg.register(&dummy);
    }
    dummy
}

/// The daemon flag a new thread inherits: the creator's, without registering the
/// creator as a dummy thread if it is not known yet (a foreign thread would be a daemon one).
fn inherited_daemon() -> bool {
    match known_current() {
        Some(shared) => shared.daemon,
        None => !rt::thread::is_main(),
    }
}

// ---------------------------------------------------------------------------------------------
// ThreadHandle

/// A handle to any thread: what [`current_thread`], [`main_thread`] and [`enumerate`] return,
/// and what a [`Thread`] derefs to for its getters.
///
/// Cheap to clone; two handles compare equal when they name the same thread.
///
/// # Examples
///
/// ```
/// use gilfree::threading::{self, Thread};
///
/// let t = Thread::spawn(|| threading::current_thread());
/// let seen_inside = t.handle().clone();
/// let inside = t.join().unwrap();
/// assert_eq!(inside, seen_inside); // current_thread() is the Thread itself
/// assert!(!inside.is_alive());
/// ```
#[derive(Clone)]
pub struct ThreadHandle {
    shared: Arc<Shared>,
}

impl ThreadHandle {
    /// The thread's name: the one given to [`ThreadBuilder::name`], else `Thread-N`;
    /// `MainThread` for the main thread and `Dummy-N` for threads gilfree did not start.
    pub fn name(&self) -> String {
        self.shared.name.lock().clone()
    }

    /// Renames the thread, at any time. Only gilfree's name changes: the name the
    /// operating system (and Rust's panic messages) show stays the one it started with.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = gilfree::threading::current_thread();
    /// let before = me.name();
    /// me.set_name("renamed");
    /// assert_eq!(gilfree::threading::current_thread().name(), "renamed");
    /// me.set_name(before);
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        *self.shared.name.lock() = name.into();
    }

    /// Python's `ident`: a non-zero number unique to this thread for the life of the process. It
    /// stays the same after the thread ends, and is never reused.
    pub fn ident(&self) -> u64 {
        self.shared.ident
    }

    /// The operating system's id for the thread (Linux: its tid, what `top -H` shows), unique
    /// among live threads. A thread that has only just been spawned publishes it as
    /// its first step; this waits for that step. `0` — Python's `None` — for a thread that
    /// never ran: one whose spawn the operating system refused (seen through [`enumerate`]
    /// while the spawn was under way).
    pub fn native_id(&self) -> u64 {
        self.shared.native_id()
    }

    /// Whether the thread is a daemon thread. See [`ThreadBuilder::daemon`] for what
    /// that means in Rust.
    pub fn daemon(&self) -> bool {
        self.shared.daemon
    }

    /// `true` from the moment `spawn` returns until the thread's function has returned or
    /// panicked, without needing a `join`. The main thread is always alive;
    /// a dummy thread is alive until its OS thread ends. A thread whose spawn failed is not
    /// alive, whenever its handle was taken.
    pub fn is_alive(&self) -> bool {
        !self.shared.is_finished()
    }

    /// Whether this is a thread gilfree did not start (Python's `_DummyThread`).
    pub fn is_dummy(&self) -> bool {
        self.shared.kind == Kind::Dummy
    }

    /// Waits until the thread has finished; any number of threads may wait at once.
    ///
    /// # Errors
    ///
    /// `RuntimeError` instead of a deadlock when the thread would wait for itself
    /// (`main_thread().join()` in the main thread included), and for a dummy thread, whose end
    /// gilfree cannot wait for. `RuntimeError` "cannot join thread before it is
    /// started" for a thread whose spawn the operating system refused — at once, and
    /// for joiners already waiting when the spawn failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = gilfree::Thread::spawn(|| gilfree::threading::current_thread().join());
    /// let err = t.join().unwrap().unwrap_err();
    /// assert_eq!(err.message(), "cannot join current thread");
    /// ```
    pub fn join(&self) -> Result<(), RuntimeError> {
        self.join_wait(Wait::Forever).map(|_| ())
    }

    /// Waits at most `timeout` for the thread to finish; `Ok(true)` once it has.
    /// `Duration::ZERO` polls.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join): joining oneself or a dummy thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{Event, Thread};
    /// use std::{sync::Arc, time::Duration};
    ///
    /// let go = Arc::new(Event::new());
    /// let t = Thread::spawn({
    ///     let go = Arc::clone(&go);
    ///     move || go.wait()
    /// });
    /// assert_eq!(t.join_timeout(Duration::from_millis(10)), Ok(false)); // still running
    /// assert!(t.is_alive());
    /// go.set();
    /// assert_eq!(t.join_timeout(Duration::MAX), Ok(true));
    /// assert!(!t.is_alive());
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, RuntimeError> {
        self.join_wait(Wait::timeout(timeout))
    }

    /// Waits for the thread to finish from an async task: the twin of [`join`](Self::join)
    /// (asyncio has none; `await asyncio.to_thread(t.join)` is the nearest). The task waits
    /// without holding its executor's thread, queued with the threads in
    /// [`join`](Self::join) and [`join_timeout`](Self::join_timeout); the thread's end wakes
    /// them all.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join), on the first poll: joining the thread that polls (a task
    /// driven on the very thread it waits for), a dummy thread, or a thread that never
    /// started.
    ///
    /// # Cancellation and timeouts
    ///
    /// Dropping the future changes nothing: the thread runs on and can still be joined. A
    /// timeout is the runtime's, `tokio::time::timeout(d, handle.join_async())`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = gilfree::Thread::spawn(|| 7);
    /// let handle = t.handle().clone();
    /// futures::executor::block_on(async { handle.join_async().await.unwrap() });
    /// assert!(!handle.is_alive());
    /// assert_eq!(t.join().unwrap(), 7); // the value is still there
    /// ```
    #[doc(alias = "join")]
    pub fn join_async(&self) -> impl Future<Output = Result<(), RuntimeError>> + '_ {
        JoinAsync {
            handle: self,
            waiter: Waiter::new(&self.shared.joiners),
            checked: false,
        }
    }

    fn join_wait(&self, wait: Wait) -> Result<bool, RuntimeError> {
        self.check_joinable()?;
        let finished = self.shared.wait_finished(wait);
        // The spawn may have failed while this thread waited.
        self.check_started()?;
        Ok(finished)
    }

    /// A thread that never started cannot be joined.
    fn check_started(&self) -> Result<(), RuntimeError> {
        if self.shared.never_started() {
            return Err(RuntimeError::new("cannot join thread before it is started"));
        }
        Ok(())
    }

    fn check_joinable(&self) -> Result<(), RuntimeError> {
        // Python's `_DummyThread.join` refuses before anything else, itself included.
        if self.shared.kind == Kind::Dummy {
            return Err(RuntimeError::new("cannot join a dummy thread"));
        }
        if known_current().is_some_and(|me| Arc::ptr_eq(&me, &self.shared))
            || (self.shared.kind == Kind::Main && rt::thread::is_main())
        {
            return Err(RuntimeError::new("cannot join current thread"));
        }
        self.check_started()
    }
}

/// The future of [`ThreadHandle::join_async`]: its waiter leaves the list when dropped.
struct JoinAsync<'a> {
    handle: &'a ThreadHandle,
    waiter: Waiter<'a>,
    /// Whether the first poll's checks passed.
    checked: bool,
}

impl Future for JoinAsync<'_> {
    type Output = Result<(), RuntimeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), RuntimeError>> {
        let this = self.get_mut();
        if !this.checked {
            this.handle.check_joinable()?;
            this.checked = true;
        }
        let shared = &this.handle.shared;
        std::task::ready!(shared.poll_finished(&mut this.waiter, cx));
        // The spawn may have failed while this task waited.
        Poll::Ready(this.handle.check_started())
    }
}

impl PartialEq for ThreadHandle {
    fn eq(&self, other: &Self) -> bool {
        self.shared.ident == other.shared.ident
    }
}

impl Eq for ThreadHandle {}

impl std::hash::Hash for ThreadHandle {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.shared.ident.hash(state)
    }
}

/// Python's repr, with the thread's [`ident`](ThreadHandle::ident) as Python shows it:
/// `<Thread(Thread-1, started 2)>` from the moment `spawn` returns, `<Thread(Thread-1,
/// stopped 2)>`, `<_MainThread(MainThread, started 1)>`, `<_DummyThread(Dummy-2, started
/// daemon 5)>`; `<Thread(Thread-3, initial)>`, without an ident, for a thread whose spawn
/// failed.
///
/// # Examples
///
/// ```
/// let go = std::sync::Arc::new(gilfree::Event::new());
/// let t = gilfree::Thread::spawn({
///     let go = go.clone();
///     move || go.wait()
/// });
/// // Right after spawn, as after Python's start(): started, with its ident.
/// assert_eq!(format!("{t:?}"), format!("<Thread({}, started {})>", t.name(), t.ident()));
/// go.set();
/// t.join().unwrap();
/// ```
impl fmt::Debug for ThreadHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.shared.kind {
            Kind::Thread => "Thread",
            Kind::Timer => "Timer",
            Kind::Main => "_MainThread",
            Kind::Dummy => "_DummyThread",
        };
        let status = {
            let life = self.shared.life.lock();
            match (life.never_started, life.finished) {
                (true, _) => "initial",
                (false, true) => "stopped",
                (false, false) => "started",
            }
        };
        let daemon = if self.shared.daemon { " daemon" } else { "" };
        write!(f, "<{class}({}, {status}{daemon}", self.name())?;
        // Every thread has its ident from its registration on, before `spawn` returns; only
        // one that never started shows none, as Python's `ident` is `None` before `start()`.
        if status != "initial" {
            write!(f, " {}", self.shared.ident)?;
        }
        f.write_str(")>")
    }
}

// ---------------------------------------------------------------------------------------------
// Thread<T>

/// What the thread's function left: its value, or the payload of its panic.
type Outcome<T> = Result<T, Box<dyn std::any::Any + Send + 'static>>;

/// The thread's [`Outcome`] on its way to [`Thread::join`]. When nobody joins — the `Thread`
/// was dropped, detaching it — std drops the outcome itself and aborts the process if that
/// drop panics. A value (or panic payload) whose `Drop` panics is user code like any other:
/// here its drop runs under `catch_unwind`, so the panic hook reports it and the process goes
/// on.
struct Unjoined<T>(Option<Outcome<T>>);

impl<T> Unjoined<T> {
    fn take(mut self) -> Outcome<T> {
        self.0.take().expect("an outcome is taken once")
    }
}

impl<T> Drop for Unjoined<T> {
    fn drop(&mut self) {
        let Some(outcome) = self.0.take() else {
            return;
        };
        crate::error::drop_quietly(outcome);
    }
}

/// A spawned thread's registry entry, from just before the spawn until the thread is done:
/// dropping it deregisters the thread and marks it finished, releasing every waiter (joins,
/// `native_id()`, [`join_non_daemon_threads`]). It travels inside the thread's closure, so it
/// is dropped whatever becomes of the closure: on the new thread once `f` has returned or
/// panicked, or unrun — the thread `never_started` — where the operating system refuses the
/// spawn and std drops the closure before returning the error.
struct Entry {
    shared: Arc<Shared>,
    ran: bool,
}

impl Drop for Entry {
    fn drop(&mut self) {
        registry().deregister(self.shared.ident);
        self.shared.finish(!self.ran);
    }
}

/// What the new thread's closure owns. Fields drop in declaration order, so an unrun closure
/// drops `f` and its captures before the entry marks the thread finished.
struct Start<F> {
    f: F,
    entry: Entry,
}

/// Python's `threading.Thread`: a thread with a name, an ident, a daemon flag, `is_alive()`,
/// and joins with a timeout — whose function's value (or panic) comes back from [`join`].
///
/// `spawn` is Python's `Thread(target=f)` followed by `start()`: when it returns, the thread
/// has its ident, `is_alive()` is true and it is in [`enumerate`].
///
/// # Examples
///
/// ```
/// use gilfree::Thread;
///
/// let t = Thread::builder().name("adder").spawn(|| 2 + 2).unwrap();
/// assert_eq!(t.name(), "adder");
/// assert_eq!(t.join().unwrap(), 4);
/// ```
///
/// # Differences from Python
///
/// * Creating and starting are one step, so `start()` twice and `join()` before
///   `start()` cannot be written, and the daemon flag cannot change after the start.
/// * [`join`](Self::join) consumes the handle and returns the function's value, or its panic
///   as [`JoinError::Panicked`]. Rust's panic hook prints the panic first, naming the thread,
///   as Python's `excepthook` does. [`join_timeout`](Self::join_timeout) borrows, so
///   many threads may wait at once.
/// * Dropping a `Thread` detaches it: it keeps running, as a Python thread object that nobody
///   references any more.
/// * Daemon threads: see [`ThreadBuilder::daemon`]. A Rust process does not wait for
///   non-daemon threads when `main` returns; `let _exit = threading::join_at_exit();` at the
///   start of `main` opts in to Python's wait (see [`join_at_exit`]).
/// * There is no unstarted `Thread`: the [`ThreadBuilder`] plays that part. Build it (name,
///   daemon flag) whenever you like and `spawn` it later; `spawn` consumes it, so the thread
///   it describes starts once. A separate "created, not yet started" state would only add
///   answers for what Python reports as errors (`start()` twice, `join()` before `start()`),
///   which Rust rules out at compile time here.
///
/// [`join`]: Self::join
#[must_use = "dropping a Thread detaches it; join() waits for it and returns its value"]
pub struct Thread<T> {
    handle: ThreadHandle,
    os: rt::thread::JoinHandle<Unjoined<T>>,
}

impl Thread<()> {
    /// Starts building a thread with a name and a daemon flag.
    pub fn builder() -> ThreadBuilder {
        ThreadBuilder::new()
    }
}

impl<T: Send + 'static> Thread<T> {
    /// Starts `f` on a new thread named `Thread-N`, with the creator's daemon flag.
    ///
    /// # Panics
    ///
    /// If the operating system cannot create a thread, as `std::thread::spawn` does, with
    /// Python's `RuntimeError: can't start new thread` at the caller's line; use
    /// [`ThreadBuilder::spawn`] to get the `io::Error` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = gilfree::Thread::spawn(|| "done");
    /// assert_eq!(t.join().unwrap(), "done");
    /// ```
    #[track_caller]
    pub fn spawn<F>(f: F) -> Thread<T>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        match ThreadBuilder::new().spawn(f) {
            Ok(thread) => thread,
            Err(err) => panic!("RuntimeError: can't start new thread: {err}"),
        }
    }
}

impl<T> Thread<T> {
    /// Waits for the thread to finish and returns its function's value.
    ///
    /// # Errors
    ///
    /// [`JoinError::Panicked`] if the function panicked (the payload comes back with it);
    /// [`JoinError::Runtime`] if the calling thread is this thread — the handle must
    /// have been sent into the thread itself — instead of a deadlock.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = gilfree::Thread::spawn(|| (1..=10).sum::<u32>());
    /// assert_eq!(t.join().unwrap(), 55);
    /// ```
    pub fn join(self) -> Result<T, JoinError> {
        self.handle.check_joinable()?;
        let thread = self.handle.name();
        match self.os.join().map(Unjoined::take) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(payload)) | Err(payload) => Err(JoinError::Panicked {
                thread,
                message: panic_message(&*payload),
                payload: PanicPayload::new(payload),
            }),
        }
    }

    /// Waits for the thread to finish from an async task and returns its function's value:
    /// the twin of [`join`](Self::join), with the same result. The task waits without holding
    /// its executor's thread, queued with every other joiner of the thread.
    ///
    /// Once the function has returned, the thread still runs its last steps (its thread-local
    /// destructors) before the value can be taken: the final poll blocks its executor's
    /// thread for those, as `join` would.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join).
    ///
    /// # Cancellation and timeouts
    ///
    /// The future owns the `Thread`: dropping it before it completes drops the `Thread`,
    /// which detaches the thread (it runs on; its value is dropped when it ends), as dropping a
    /// `Thread` does. To wait with a timeout and keep the `Thread`, wait on its handle,
    /// `tokio::time::timeout(d, thread.handle().join_async())`, which loses nothing when
    /// dropped, then `join` (at once, once the handle's join returned).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = gilfree::Thread::spawn(|| (1..=10).sum::<u32>());
    /// let sum = futures::executor::block_on(t.join_async()).unwrap();
    /// assert_eq!(sum, 55);
    /// ```
    #[doc(alias = "join")]
    pub async fn join_async(self) -> Result<T, JoinError> {
        self.handle.join_async().await?;
        self.join()
    }

    /// Waits at most `timeout` for the thread to finish; `Ok(true)` once it has. The value
    /// stays for [`join`](Self::join). See [`ThreadHandle::join_timeout`].
    ///
    /// # Errors
    ///
    /// `RuntimeError` when called from the thread itself.
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, RuntimeError> {
        self.handle.join_timeout(timeout)
    }

    /// The handle that [`current_thread`] returns inside the thread and [`enumerate`] lists.
    pub fn handle(&self) -> &ThreadHandle {
        &self.handle
    }

    /// See [`ThreadHandle::name`].
    pub fn name(&self) -> String {
        self.handle.name()
    }

    /// See [`ThreadHandle::ident`].
    pub fn ident(&self) -> u64 {
        self.handle.ident()
    }

    /// See [`ThreadHandle::native_id`].
    pub fn native_id(&self) -> u64 {
        self.handle.native_id()
    }

    /// See [`ThreadHandle::daemon`].
    pub fn daemon(&self) -> bool {
        self.handle.daemon()
    }

    /// See [`ThreadHandle::is_alive`].
    pub fn is_alive(&self) -> bool {
        self.handle.is_alive()
    }
}

impl<T> fmt::Debug for Thread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt(f)
    }
}

/// Builds a [`Thread`]: Python's `Thread(name=..., daemon=...)`.
///
/// # Examples
///
/// ```
/// let t = gilfree::Thread::builder()
///     .name("downloader")
///     .daemon(true)
///     .spawn(|| gilfree::threading::current_thread().name())
///     .unwrap();
/// assert!(t.daemon());
/// assert_eq!(t.join().unwrap(), "downloader");
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a builder does nothing until spawn() is called"]
pub struct ThreadBuilder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl ThreadBuilder {
    /// A builder with Python's defaults: name `Thread-N`, the creator's daemon flag.
    pub fn new() -> Self {
        ThreadBuilder::default()
    }

    /// The thread's name; names need not be unique. An empty name gets
    /// `Thread-N`, as in Python.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Python's daemon flag; without this call the thread inherits the creating
    /// thread's flag: `false` from the main thread or a non-daemon thread, `true` from a daemon
    /// thread or a thread gilfree did not start (a dummy thread is a daemon, as in Python).
    ///
    /// # Differences from Python
    ///
    /// Python waits for every non-daemon thread before the interpreter exits. A Rust process
    /// ends when `main` returns, whatever threads still run, daemon or not; for Python's
    /// behaviour create the guard of [`join_at_exit`] at the start of `main`, or call
    /// [`join_non_daemon_threads`] at its end.
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// The new thread's stack size in bytes: Python's `threading.stack_size(size)`, for this
    /// thread only. Without it the thread gets Rust's default (2 MiB, or `RUST_MIN_STACK`).
    /// The operating system may round the size up to its minimum or to whole pages.
    ///
    /// # Differences from Python
    ///
    /// Python sets one size for every thread created afterwards and raises `ValueError` for a
    /// size under 32 KiB; here the size belongs to one builder, and a size the operating
    /// system cannot provide (more memory than the process can map) makes
    /// [`spawn`](Self::spawn) return the operating system's error.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = gilfree::Thread::builder().stack_size(256 * 1024).spawn(|| 7).unwrap();
    /// assert_eq!(t.join().unwrap(), 7);
    ///
    /// // No process can map a 1 EiB stack: the spawn fails, and nothing is left running.
    /// # #[cfg(target_pointer_width = "64")]
    /// assert!(gilfree::Thread::builder().stack_size(1 << 60).spawn(|| ()).is_err());
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts `f` on the new thread.
    ///
    /// # Errors
    ///
    /// The operating system's error when it cannot create a thread (see
    /// [`stack_size`](Self::stack_size)). Nothing stays registered then: a handle that
    /// [`enumerate`] returned while the spawn was under way is not alive, its joins fail at
    /// once as before a start, and its `native_id()` is 0.
    pub fn spawn<F, T>(self, f: F) -> io::Result<Thread<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_kind(Kind::Thread, f)
    }

    pub(crate) fn spawn_kind<F, T>(self, kind: Kind, f: F) -> io::Result<Thread<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let reg = registry();
        let name = match self.name {
            Some(name) if !name.is_empty() => name,
            _ => reg.next_name("Thread"),
        };
        let daemon = self.daemon.unwrap_or_else(inherited_daemon);
        let shared = Arc::new(Shared::new(reg.next_ident(), kind, daemon, name.clone(), 0));
        // Registered before the thread runs, so that when spawn returns the thread is alive
        // and listed (THR-4) even if it has not been scheduled yet. From here on, `Entry`
        // owns the registration: it ends when the closure is dropped, run or not.
        reg.register(&shared);
        let start = Start {
            f,
            entry: Entry {
                shared: Arc::clone(&shared),
                ran: false,
            },
        };
        // The OS refuses names with NUL bytes; gilfree's own name keeps them.
        let os_name = name.replace('\0', "\u{FFFD}");
        let spawned = rt::thread::spawn_named(os_name, self.stack_size, move || {
            // Moves `start` whole into the closure (not field by field), for its drop order.
            let start = start;
            let Start { f, mut entry } = start;
            entry.ran = true;
            entry.shared.publish_native_id(rt::thread::native_id());
            set_current(Arc::clone(&entry.shared), false);
            // THR-18: `f` (and everything it captured) is consumed here, before the thread
            // is marked finished.
            let outcome = catch_unwind(AssertUnwindSafe(f));
            drop(entry);
            Unjoined(Some(outcome))
        });
        match spawned {
            Ok(os) => Ok(Thread {
                handle: ThreadHandle { shared },
                os,
            }),
            Err(err) => {
                // The closure, and with it the entry, is gone: whoever took a handle from
                // `enumerate()` meanwhile sees a thread that never started.
                debug_assert!(shared.is_finished(), "the failed spawn kept its closure");
                Err(err)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Module functions

/// Python's `threading.current_thread()`: the calling thread's handle. A thread that
/// gilfree did not start (`std::thread`, libtest's test threads) gets a dummy entry named
/// `Dummy-N`, a daemon, listed by [`enumerate`] until its OS thread ends. The main
/// thread is `MainThread`.
///
/// # Examples
///
/// ```
/// use gilfree::threading;
///
/// let t = gilfree::Thread::builder()
///     .name("worker")
///     .spawn(|| threading::current_thread().name())
///     .unwrap();
/// assert_eq!(t.join().unwrap(), "worker");
///
/// let foreign = std::thread::spawn(|| threading::current_thread());
/// let dummy = foreign.join().unwrap();
/// assert!(dummy.is_dummy() && dummy.daemon() && dummy.name().starts_with("Dummy-"));
/// ```
pub fn current_thread() -> ThreadHandle {
    ThreadHandle {
        shared: current_shared(),
    }
}

/// Python's `threading.main_thread()`: the thread the process started with, `MainThread`,
/// from any thread.
///
/// # Examples
///
/// ```
/// use gilfree::threading;
///
/// let main = threading::main_thread();
/// assert_eq!(main.name(), "MainThread");
/// assert!(main.is_alive());
/// // A doctest runs on its process's main thread:
/// assert_eq!(threading::current_thread(), main);
/// assert_eq!(threading::get_ident(), main.ident());
/// assert_eq!(main.join().unwrap_err().message(), "cannot join current thread");
/// // Elsewhere, it is someone else:
/// let elsewhere = gilfree::Thread::spawn(|| threading::main_thread() != threading::current_thread());
/// assert!(elsewhere.join().unwrap());
/// ```
pub fn main_thread() -> ThreadHandle {
    ThreadHandle {
        shared: Arc::clone(&registry().main),
    }
}

/// Python's `threading.enumerate()`: every live thread — the main thread, the threads that
/// gilfree started and that have not finished, and the dummy threads that are still running —
/// in the order they became known.
///
/// # Examples
///
/// ```
/// use gilfree::threading;
///
/// let t = gilfree::Thread::spawn(|| ());
/// let listed = threading::enumerate().contains(t.handle()) || !t.is_alive();
/// assert!(listed);
/// t.join().unwrap();
/// let me = threading::current_thread();
/// assert!(threading::enumerate().contains(&me));
/// ```
pub fn enumerate() -> Vec<ThreadHandle> {
    registry()
        .live
        .lock()
        .values()
        .map(|shared| ThreadHandle {
            shared: Arc::clone(shared),
        })
        .collect()
}

/// Python's `threading.active_count()`: `enumerate().len()`, without building the list.
///
/// # Examples
///
/// ```
/// assert!(gilfree::threading::active_count() >= 1); // the main thread is always there
/// ```
pub fn active_count() -> usize {
    registry().live.lock().len()
}

/// Python's `threading.get_ident()`: `current_thread().ident()`.
///
/// # Examples
///
/// ```
/// use gilfree::threading;
/// assert_eq!(threading::get_ident(), threading::current_thread().ident());
/// ```
pub fn get_ident() -> u64 {
    current_shared().ident
}

/// Python's `threading.get_native_id()`: the operating system's id of the calling thread.
///
/// # Examples
///
/// ```
/// use gilfree::threading;
/// assert_eq!(threading::get_native_id(), threading::current_thread().native_id());
/// ```
pub fn get_native_id() -> u64 {
    rt::thread::native_id()
}

/// Joins every live non-daemon thread that gilfree started, including those started while it
/// waits: what Python's interpreter does before it exits. Call it at the end of `main` for
/// Python's behaviour (a Rust process otherwise ends when `main` returns), or let the guard of
/// [`join_at_exit`] call it, which needs no call at the end and also lets the live pools
/// finish their tasks. Returns how many threads it waited for.
///
/// Threads are joined through their handles, so their values stay for [`Thread::join`].
///
/// # Calling it from other threads
///
/// Python runs this wait only in the main thread at exit; here any thread may call it. It
/// never waits for the calling thread, nor for a thread that is itself inside
/// `join_non_daemon_threads` (however long it stays there): two non-daemon threads that call
/// it at once skip each other instead of each waiting for the other for ever. Such a thread is
/// waited for again if it leaves the call and keeps running while this call still waits for
/// others.
///
/// # Examples
///
/// ```
/// let t = gilfree::Thread::builder().daemon(false).spawn(|| ()).unwrap();
/// gilfree::threading::join_non_daemon_threads();
/// assert!(!t.is_alive());
///
/// // Two non-daemon threads calling it at once do not wait for each other.
/// let both = || gilfree::Thread::builder().daemon(false).spawn(gilfree::threading::join_non_daemon_threads).unwrap();
/// let (a, b) = (both(), both());
/// a.join().unwrap();
/// b.join().unwrap();
/// ```
pub fn join_non_daemon_threads() -> usize {
    let me = known_current();
    // Marked for the whole call, so that other callers skip this thread (and are woken to
    // skip it if they already wait for it).
    let _joining = me.as_ref().map(|me| JoiningAll::enter(Arc::clone(me)));
    let mut joined = 0;
    loop {
        let pending: Vec<ThreadHandle> = enumerate()
            .into_iter()
            .filter(|t| {
                matches!(t.shared.kind, Kind::Thread | Kind::Timer)
                    && !t.shared.daemon
                    && !me.as_ref().is_some_and(|me| Arc::ptr_eq(me, &t.shared))
                    && !t.shared.life.lock().joining_all
            })
            .collect();
        if pending.is_empty() {
            return joined;
        }
        for t in pending {
            if t.shared.wait_finished_or_joining_all() {
                joined += 1;
            }
        }
    }
}

/// The calling thread's mark while it is inside [`join_non_daemon_threads`].
struct JoiningAll(Arc<Shared>);

impl JoiningAll {
    fn enter(shared: Arc<Shared>) -> Self {
        shared.set_joining_all(true);
        JoiningAll(shared)
    }
}

impl Drop for JoiningAll {
    fn drop(&mut self) {
        self.0.set_joining_all(false);
    }
}

/// Python's wait at interpreter exit, as an opt-in guard: create it at the start of `main`,
/// and when it is dropped — as `main` returns, or unwinds from a panic — it waits for what
/// Python's interpreter waits for before the process ends.
///
/// A Rust process ends when `main` returns, killing every thread still running. Python's
/// interpreter first waits for every non-daemon thread, and (Python 3.9+) lets every
/// `ThreadPoolExecutor` finish the tasks it accepted, even a pool that is never dropped (one
/// kept in a `static`). Dropping the guard does both, in rounds until nothing is left:
///
/// 1. [`join_non_daemon_threads`]: every non-daemon thread, including the ones started
///    meanwhile. The pools still accept tasks here, so a thread that submits work and waits
///    for it finishes as it would in Python.
/// 2. Every [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) not yet dropped is shut down
///    with `wait = true`: its queued and running tasks finish, and it refuses new ones from
///    then on (as Python refuses submits once the interpreter is shutting down).
/// 3. Again from 1 if either step found something: a pool's task may have started a
///    non-daemon thread, or a thread may have built another pool.
///
/// Daemon threads are not waited for; they end with the process, as in Python.
///
/// # Examples
///
/// ```
/// use gilfree::{Thread, ThreadPoolExecutor};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::LazyLock;
///
/// static POOL: LazyLock<ThreadPoolExecutor> = LazyLock::new(|| ThreadPoolExecutor::new(2));
/// static DONE: AtomicUsize = AtomicUsize::new(0);
///
/// fn main() {
///     let _exit = gilfree::threading::join_at_exit();
///     // Neither the thread nor the pool's tasks are waited for below: the guard does it.
///     let _detached = Thread::builder().daemon(false).spawn(|| {
///         DONE.fetch_add(1, Ordering::SeqCst);
///     });
///     for _ in 0..3 {
///         let _ = POOL.submit(|| DONE.fetch_add(1, Ordering::SeqCst));
///     }
/// #   drop(_exit);
/// #   assert_eq!(DONE.load(Ordering::SeqCst), 4);
/// }
/// ```
///
/// # Differences from Python
///
/// Python waits on its own; Rust has no safe hook at process exit, so the wait is this guard,
/// which must live as long as `main`. Bind it to a name (`let _exit = …`; `let _ = …` drops it
/// at once). It does not run when the process ends otherwise: `std::process::exit`, an abort,
/// or a panic with `panic = "abort"`. When `main` unwinds, the guard still waits, as Python
/// waits for its threads after an uncaught exception in the main thread.
pub fn join_at_exit() -> JoinAtExit {
    JoinAtExit { _private: () }
}

/// The guard that [`join_at_exit`] returns: dropping it waits for the non-daemon threads and
/// the live pools, as Python's interpreter does before it exits.
///
/// # Examples
///
/// ```
/// let exit = gilfree::threading::join_at_exit();
/// let t = gilfree::Thread::builder().daemon(false).spawn(|| ()).unwrap();
/// drop(exit); // waits for `t`
/// assert!(!t.is_alive());
/// ```
#[derive(Debug)]
#[must_use = "the wait happens when the guard is dropped: bind it with `let _exit = ...`"]
pub struct JoinAtExit {
    _private: (),
}

impl JoinAtExit {
    /// Waits now, as dropping the guard does. Returns how many threads and pools it waited
    /// for.
    ///
    /// # Examples
    ///
    /// ```
    /// let exit = gilfree::threading::join_at_exit();
    /// let t = gilfree::Thread::builder().daemon(false).spawn(|| ()).unwrap();
    /// let (threads, _pools) = exit.wait();
    /// assert!(threads <= 1 && !t.is_alive()); // 0 if `t` had finished already
    /// ```
    pub fn wait(self) -> (usize, usize) {
        // The guard has nothing to do once this wait is over.
        std::mem::forget(self);
        wait_at_exit()
    }
}

impl Drop for JoinAtExit {
    fn drop(&mut self) {
        wait_at_exit();
    }
}

/// [`JoinAtExit`]'s wait: threads first, while the pools still accept their tasks; then the
/// pools; again until a round finds neither.
fn wait_at_exit() -> (usize, usize) {
    let (mut threads, mut pools) = (0, 0);
    loop {
        let joined = join_non_daemon_threads();
        let shut = super::super::futures::ThreadPoolExecutor::shut_down_live_pools();
        threads += joined;
        pools += shut;
        if joined == 0 && shut == 0 {
            return (threads, pools);
        }
    }
}
