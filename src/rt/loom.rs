//! Loom backend: the same names as [`super::native`], on loom's model-checked types.
//!
//! Under loom there is no clock. [`now`] is frozen, and a timed wait is an untimed one — a
//! model that needs a timeout to fire is reported by loom as a deadlock. Inside
//! [`model_with_timeouts`], every timed wait instead gives its lock up, takes it back (loom
//! explores every interleaving of that with the other threads) and reports a timeout: the model then explores each
//! notify-versus-timeout interleaving.
#![allow(dead_code, unused_imports)]

use std::cell::Cell as StdCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

pub(crate) use crossbeam_utils::CachePadded;
pub(crate) use loom::sync::Arc;
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, fence};
/// std's (see the native facade): written only under an `rt::Mutex`, which loom does model.
pub(crate) use std::sync::OnceLock;
pub(crate) use std::sync::atomic::Ordering;
pub(crate) use std::time::Instant;

/// See the native facade: loom does not model `SeqCst` accesses (it treats them as
/// `AcqRel`), but does model `fence(SeqCst)`, which orders the store-then-load pattern the
/// same way.
pub(crate) const SPILL_RING_SLOTS: Option<usize> = Some(2);

pub(crate) fn seqcst_pair() {
    fence(Ordering::SeqCst);
}

/// The frozen clock: the same instant for the whole process.
pub(crate) fn now() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Like the native facade: `None` means "forever" (`Duration::MAX` and friends).
pub(crate) fn deadline_after(d: Duration) -> Option<Instant> {
    now().checked_add(d)
}

std::thread_local! {
    // loom runs every model thread as a coroutine on the thread that called `loom::model`,
    // so a plain (std) thread-local set around the model is seen by all of its threads.
    static TIMEOUTS_FIRE: StdCell<bool> = const { StdCell::new(false) };
}

fn timeouts_fire() -> bool {
    TIMEOUTS_FIRE.with(|f| f.get())
}

/// Held while a model is explored: one model at a time in the process.
///
/// The test harness runs tests on several threads, and two loom explorations side by side are
/// each about four times slower than alone (measured: the whole loom target took 224 s on two
/// test threads and 118 s on one, on 2 cores; most of the difference was system time, loom's
/// allocations churning the kernel's memory map). Exploring one model at a time gives the
/// single-thread time whatever `--test-threads` says.
fn one_model_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static EXPLORING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A model that failed (panicked) poisons the lock; the next one may still run.
    EXPLORING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Explores `f` exhaustively (within loom's bounds); timed waits never time out.
pub(crate) fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let _one = one_model_at_a_time();
    loom::model(f)
}

/// [`model`] with at most `preemptions` preemptions per execution unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise.
pub(crate) fn model_bounded<F: Fn() + Sync + Send + 'static>(preemptions: usize, f: F) {
    let _one = one_model_at_a_time();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemptions);
    }
    builder.check(f)
}

/// Explores `f` with every timed wait reporting a timeout after giving other threads a chance
/// to run: the notify-versus-timeout races. `preemptions` bounds the exploration unless
/// `LOOM_MAX_PREEMPTIONS` is set.
pub(crate) fn model_with_timeouts<F: Fn() + Sync + Send + 'static>(
    preemptions: Option<usize>,
    f: F,
) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            TIMEOUTS_FIRE.with(|flag| flag.set(false));
        }
    }
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = preemptions;
    }
    let _one = one_model_at_a_time();
    TIMEOUTS_FIRE.with(|flag| flag.set(true));
    let _reset = Reset;
    builder.check(f)
}

// ---------------------------------------------------------------------------------------------
// Mutex / Condvar, shaped like parking_lot's (no LockResult, `wait(&mut guard)`).

pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

pub(crate) struct MutexGuard<'a, T> {
    mutex: &'a loom::sync::Mutex<T>,
    guard: Option<loom::sync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            mutex: &self.0,
            guard: Some(self.0.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.0.try_lock() {
            Ok(guard) => Some(MutexGuard {
                mutex: &self.0,
                guard: Some(guard),
            }),
            Err(_) => None,
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mutex")
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard present outside a wait")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard present outside a wait")
    }
}

#[derive(Default)]
pub(crate) struct Condvar(loom::sync::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar(loom::sync::Condvar::new())
    }

    pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        let inner = guard.guard.take().expect("guard present");
        guard.guard = Some(self.0.wait(inner).unwrap_or_else(|e| e.into_inner()));
    }

    /// See the module docs: untimed, unless inside [`model_with_timeouts`].
    pub(crate) fn wait_until<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> bool {
        if deadline.is_some() && timeouts_fire() {
            // Unlock and re-lock: loom explores both orders of this thread's re-lock and the
            // other threads' steps. (A yield here would always let the other thread's next
            // step go first, hiding the "timeout fired before the notify" branch.)
            drop(guard.guard.take());
            guard.guard = Some(guard.mutex.lock().unwrap_or_else(|e| e.into_inner()));
            true
        } else {
            self.wait(guard);
            false
        }
    }

    /// loom's Condvar does not say whether anyone was woken; callers must not depend on it.
    pub(crate) fn notify_one(&self) -> bool {
        self.0.notify_one();
        true
    }

    pub(crate) fn notify_all(&self) -> usize {
        self.0.notify_all();
        0
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar")
    }
}

// ---------------------------------------------------------------------------------------------
// RwLock, shaped like parking_lot's (no LockResult).

pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);
pub(crate) struct RwLockReadGuard<'a, T>(loom::sync::RwLockReadGuard<'a, T>);
pub(crate) struct RwLockWriteGuard<'a, T>(loom::sync::RwLockWriteGuard<'a, T>);

impl<T> RwLock<T> {
    pub(crate) fn new(value: T) -> Self {
        RwLock(loom::sync::RwLock::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard(self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard(self.0.write().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

// ---------------------------------------------------------------------------------------------
// UnsafeCell

pub(crate) struct UnsafeCell<T>(loom::cell::UnsafeCell<T>);

impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        UnsafeCell(loom::cell::UnsafeCell::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.0.with(f)
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.0.with_mut(f)
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no other access to the cell exists for the returned
        // borrow's lifetime; loom records the access as a mutable one.
        self.0.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: Default> Default for UnsafeCell<T> {
    fn default() -> Self {
        UnsafeCell::new(T::default())
    }
}

// ---------------------------------------------------------------------------------------------
// Spinning: one step under loom, so that every spin path (the re-check inside it, and the
// fall-through to sleeping) is explored without multiplying the interleavings.

#[derive(Default)]
pub(crate) struct Backoff {
    steps: StdCell<u32>,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff::default()
    }
    pub(crate) fn spin(&self) {
        self.step()
    }
    pub(crate) fn snooze(&self) {
        self.step()
    }
    fn step(&self) {
        // No loom::thread::yield_now(): it would always let the other threads' next step run
        // first (the bias removed from timed waits too); the step is bounded anyway.
        self.steps.set(self.steps.get() + 1);
    }
    pub(crate) fn is_completed(&self) -> bool {
        self.steps.get() >= 1
    }
}

// ---------------------------------------------------------------------------------------------
// Threads

pub(crate) mod thread {
    /// One: under loom, sizes derived from the CPU count stay small and the same everywhere.
    pub(crate) fn available_parallelism() -> usize {
        1
    }

    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(crate) use loom::thread::{JoinHandle, spawn, yield_now};

    static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

    loom::thread_local! {
        static ID: usize = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    }

    /// A non-zero number unique to the calling (loom) thread.
    pub(crate) fn current_id() -> usize {
        ID.with(|id| *id)
    }

    /// Spawns a named loom thread. Loom threads have no stacks; a `stack_size` of 2^48 bytes
    /// or more — beyond any 64-bit process's address space, so the OS refuses it natively —
    /// fails the same way here (the closure is dropped, as std drops it), so that models can
    /// explore a failed spawn.
    pub(crate) fn spawn_named<F, T>(
        name: String,
        stack_size: Option<usize>,
        f: F,
    ) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if stack_size.is_some_and(|size| (size as u64) >= 1 << 48) {
            drop(f);
            return Err(std::io::Error::from(std::io::ErrorKind::OutOfMemory));
        }
        loom::thread::Builder::new().name(name).spawn(f)
    }

    /// Under loom, the thread's model id stands in for the OS id.
    pub(crate) fn native_id() -> u64 {
        current_id() as u64
    }

    /// No process behind a model: the main thread's id is unknown.
    pub(crate) fn main_native_id() -> Option<u64> {
        None
    }

    /// A model's threads are all "foreign" to gilfree (dummies), the model's own included.
    pub(crate) fn is_main() -> bool {
        false
    }
}

// ---------------------------------------------------------------------------------------------
// Process-wide values and thread-locals

/// Like the native `global!`, on `loom::lazy_static!`: built once per model execution.
macro_rules! global {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        loom::lazy_static! {
            $(#[$meta])*
            static ref $name: $ty = $init;
        }
    };
}
pub(crate) use global;

/// loom's thread-locals: dropped when the model thread ends.
pub(crate) use loom::thread_local;

/// The native `thread_local_const!` on loom's thread-locals (which take no `const` block).
macro_rules! thread_local_const {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        loom::thread_local! {
            $(#[$meta])*
            static $name: $ty = $init;
        }
    };
}
pub(crate) use thread_local_const;
