//! Native backend: parking_lot, std atomics, crossbeam-utils.
//!
//! Thin `#[inline]` newtypes rather than re-exports, so that clippy's `disallowed-types` can
//! forbid the backend's own names inside `src/prims/` while the facade's names stay allowed.
#![allow(dead_code)]

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

pub(crate) use crossbeam_utils::CachePadded;
pub(crate) use std::sync::atomic::Ordering;
pub(crate) use std::time::Instant;

/// Marks a store-then-load pattern ("Dekker": I write mine, then read yours) made of `SeqCst`
/// accesses on both sides, such as a sleeper counting itself in and then looking at the
/// queue, against a producer changing the queue and then reading the count. The C++ memory
/// model puts all `SeqCst` accesses in one total order, so at least one side sees the other's
/// write: nothing to emit here (no `mfence` after a store to a contended line). loom models
/// `SeqCst` accesses as `AcqRel` only, so its facade puts a `fence(SeqCst)` here, which gives
/// the pattern the same guarantee in the model.
#[inline(always)]
pub(crate) fn seqcst_pair() {}

/// The slots of an unbounded queue's ring, or `None` for the size-based default (the queue's
/// choice). loom sets a tiny one, so that its models reach the overflow into the locked core.
pub(crate) const SPILL_RING_SLOTS: Option<usize> = None;

/// The current time; the one clock every primitive reads.
#[inline]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Runs `f` once (under loom: exhaustively). Unit tests inside `prims` go through this.
pub(crate) fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    f()
}

// ---------------------------------------------------------------------------------------------
// Mutex / Condvar

/// A mutual-exclusion lock for the primitives' internal state (parking_lot: one byte, no
/// poisoning, no syscall when uncontended).
#[derive(Default)]
pub(crate) struct Mutex<T: ?Sized>(parking_lot::Mutex<T>);

/// Guard of [`Mutex`]; unlocks on drop.
pub(crate) struct MutexGuard<'a, T: ?Sized>(parking_lot::MutexGuard<'a, T>);

impl<T> Mutex<T> {
    #[inline]
    pub(crate) fn new(value: T) -> Self {
        Mutex(parking_lot::Mutex::new(value))
    }

    #[inline]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard(self.0.lock())
    }

    #[inline]
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.0.try_lock().map(MutexGuard)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A condition variable paired with [`Mutex`]. parking_lot's: never wakes spuriously, and
/// notifying with nobody waiting is one atomic load.
#[derive(Default)]
pub(crate) struct Condvar(parking_lot::Condvar);

impl Condvar {
    #[inline]
    pub(crate) fn new() -> Self {
        Condvar(parking_lot::Condvar::new())
    }

    #[inline]
    pub(crate) fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        self.0.wait(&mut guard.0)
    }

    /// Waits until notified or until `deadline` (`None`: no deadline). Returns `true` when it
    /// returned because the deadline passed.
    #[inline]
    pub(crate) fn wait_until<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> bool {
        match deadline {
            None => {
                self.0.wait(&mut guard.0);
                false
            }
            Some(deadline) => self.0.wait_until(&mut guard.0, deadline).timed_out(),
        }
    }

    /// Wakes one waiter; returns whether one was woken.
    #[inline]
    pub(crate) fn notify_one(&self) -> bool {
        self.0.notify_one()
    }

    /// Wakes every waiter; returns how many were woken.
    #[inline]
    pub(crate) fn notify_all(&self) -> usize {
        self.0.notify_all()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar")
    }
}

// ---------------------------------------------------------------------------------------------
// RwLock

/// A reader-writer lock for state that is read far more often than written (the `Set`'s
/// shards): parking_lot's, one atomic operation to read-lock when uncontended.
#[derive(Default)]
pub(crate) struct RwLock<T: ?Sized>(parking_lot::RwLock<T>);

/// Shared guard of [`RwLock`].
pub(crate) struct RwLockReadGuard<'a, T: ?Sized>(parking_lot::RwLockReadGuard<'a, T>);

/// Exclusive guard of [`RwLock`].
pub(crate) struct RwLockWriteGuard<'a, T: ?Sized>(parking_lot::RwLockWriteGuard<'a, T>);

impl<T> RwLock<T> {
    #[inline]
    pub(crate) fn new(value: T) -> Self {
        RwLock(parking_lot::RwLock::new(value))
    }

    #[inline]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    #[inline]
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard(self.0.read())
    }

    #[inline]
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard(self.0.write())
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Atomics

macro_rules! atomic_newtype {
    ($name:ident, $std:ty, $int:ty) => {
        #[derive(Default)]
        #[repr(transparent)]
        pub(crate) struct $name($std);

        impl $name {
            #[inline]
            pub(crate) fn new(v: $int) -> Self {
                Self(<$std>::new(v))
            }
            #[inline]
            pub(crate) fn load(&self, o: Ordering) -> $int {
                self.0.load(o)
            }
            #[inline]
            pub(crate) fn store(&self, v: $int, o: Ordering) {
                self.0.store(v, o)
            }
            #[inline]
            pub(crate) fn swap(&self, v: $int, o: Ordering) -> $int {
                self.0.swap(v, o)
            }
            #[inline]
            pub(crate) fn compare_exchange(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                self.0.compare_exchange(current, new, success, failure)
            }
            #[inline]
            pub(crate) fn compare_exchange_weak(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                self.0.compare_exchange_weak(current, new, success, failure)
            }
            #[inline]
            pub(crate) fn fetch_update<F: FnMut($int) -> Option<$int>>(
                &self,
                set: Ordering,
                fetch: Ordering,
                f: F,
            ) -> Result<$int, $int> {
                self.0.fetch_update(set, fetch, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

macro_rules! atomic_arith {
    ($name:ident, $int:ty) => {
        impl $name {
            #[inline]
            pub(crate) fn fetch_add(&self, v: $int, o: Ordering) -> $int {
                self.0.fetch_add(v, o)
            }
            #[inline]
            pub(crate) fn fetch_sub(&self, v: $int, o: Ordering) -> $int {
                self.0.fetch_sub(v, o)
            }
            #[inline]
            pub(crate) fn fetch_or(&self, v: $int, o: Ordering) -> $int {
                self.0.fetch_or(v, o)
            }
            #[inline]
            pub(crate) fn fetch_and(&self, v: $int, o: Ordering) -> $int {
                self.0.fetch_and(v, o)
            }
        }
    };
}

atomic_newtype!(AtomicBool, std::sync::atomic::AtomicBool, bool);
atomic_newtype!(AtomicU8, std::sync::atomic::AtomicU8, u8);
atomic_newtype!(AtomicUsize, std::sync::atomic::AtomicUsize, usize);
atomic_newtype!(AtomicU64, std::sync::atomic::AtomicU64, u64);
atomic_arith!(AtomicU8, u8);
atomic_arith!(AtomicUsize, usize);
atomic_arith!(AtomicU64, u64);

// ---------------------------------------------------------------------------------------------
// Arc, UnsafeCell

/// `std::sync::Arc`, under the facade's name (loom's Arc checks for leaks).
pub(crate) struct Arc<T: ?Sized>(std::sync::Arc<T>);

impl<T> Arc<T> {
    #[inline]
    pub(crate) fn new(value: T) -> Self {
        Arc(std::sync::Arc::new(value))
    }
}

impl<T> Arc<T> {
    #[inline]
    pub(crate) fn try_unwrap(this: Self) -> Result<T, Self> {
        std::sync::Arc::try_unwrap(this.0).map_err(Arc)
    }
}

impl<T: ?Sized> Arc<T> {
    #[inline]
    pub(crate) fn ptr_eq(a: &Self, b: &Self) -> bool {
        std::sync::Arc::ptr_eq(&a.0, &b.0)
    }

    #[inline]
    pub(crate) fn as_ptr(this: &Self) -> *const T {
        std::sync::Arc::as_ptr(&this.0)
    }
}

/// A value written once and then only read (a future's outcome). std's, in both backends: it
/// is only ever written while the owner's `rt::Mutex` is held, which is what orders it for
/// loom.
pub(crate) use std::sync::OnceLock;

impl<T: ?Sized> Clone for Arc<T> {
    #[inline]
    fn clone(&self) -> Self {
        Arc(self.0.clone())
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `std::cell::UnsafeCell` with loom's closure-based access API.
#[derive(Default)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

impl<T> UnsafeCell<T> {
    #[inline]
    pub(crate) fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    /// Calls `f` with a shared pointer to the contents.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a unique pointer to the contents.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// Exclusive access through `&mut self`: no synchronisation needed.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

// ---------------------------------------------------------------------------------------------
// Spinning

/// Exponential back-off for the short spin before a primitive sleeps.
#[derive(Default)]
pub(crate) struct Backoff(crossbeam_utils::Backoff);

impl Backoff {
    #[inline]
    pub(crate) fn new() -> Self {
        Backoff(crossbeam_utils::Backoff::new())
    }
    #[inline]
    pub(crate) fn spin(&self) {
        self.0.spin()
    }
    #[inline]
    pub(crate) fn snooze(&self) {
        self.0.snooze()
    }
    #[inline]
    pub(crate) fn is_completed(&self) -> bool {
        self.0.is_completed()
    }
}

// ---------------------------------------------------------------------------------------------
// Threads

pub(crate) mod thread {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(crate) use std::thread::JoinHandle;

    #[inline]
    pub(crate) fn spawn<F, T>(f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        std::thread::spawn(f)
    }

    /// Spawns a thread whose OS-level name is `name` (Rust's panic messages show it), with a
    /// stack of `stack_size` bytes if given (std's default otherwise).
    pub(crate) fn spawn_named<F, T>(
        name: String,
        stack_size: Option<usize>,
        f: F,
    ) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let builder = std::thread::Builder::new().name(name);
        match stack_size {
            Some(size) => builder.stack_size(size),
            None => builder,
        }
        .spawn(f)
    }

    #[inline]
    pub(crate) fn yield_now() {
        std::thread::yield_now()
    }

    /// How many threads can run at once (std's `available_parallelism`; 1 if unknown).
    pub(crate) fn available_parallelism() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// The operating system's id of the calling thread (Linux: `gettid`); elsewhere a number
    /// unique to the thread.
    pub(crate) fn native_id() -> u64 {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: gettid(2) takes no arguments, touches no memory and cannot fail.
            let tid = unsafe { libc::gettid() };
            tid as u64
        }
        #[cfg(not(target_os = "linux"))]
        {
            current_id() as u64
        }
    }

    /// The native id of the process's main thread, from any thread (Linux: the main thread's
    /// tid is the process id). `None` where the platform does not say.
    pub(crate) fn main_native_id() -> Option<u64> {
        if cfg!(target_os = "linux") {
            Some(u64::from(std::process::id()))
        } else {
            None
        }
    }

    /// Whether the calling thread is the process's main thread.
    pub(crate) fn is_main() -> bool {
        match main_native_id() {
            Some(main) => native_id() == main,
            None => std::thread::current().name() == Some("main"),
        }
    }

    static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

    std::thread_local! {
        static ID: Cell<usize> = const { Cell::new(0) };
    }

    /// A non-zero number unique to the calling thread for the life of the process (never
    /// reused, unlike a TLS address), cheap enough for RLock's fast path.
    #[inline]
    pub(crate) fn current_id() -> usize {
        ID.with(|id| match id.get() {
            0 => {
                let fresh = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                id.set(fresh);
                fresh
            }
            known => known,
        })
    }
}

/// `rt::global! { static NAME: Type = init; }`: a process-wide value built on first use (under
/// loom: once per model execution, so no state leaks between executions).
macro_rules! global {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        $(#[$meta])*
        static $name: std::sync::LazyLock<$ty> = std::sync::LazyLock::new(|| $init);
    };
}
pub(crate) use global;

/// Thread-local storage (std's; loom's under loom, dropped when the model thread ends).
pub(crate) use std::thread_local;

/// `rt::thread_local_const! { static NAME: Type = init; }`: a thread-local whose initial value
/// is a constant expression. Natively std's `const` form, read without a lazy-initialisation
/// check (for a type without `Drop`, one load); under loom, loom's thread-local, which takes
/// no `const` block.
macro_rules! thread_local_const {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        std::thread_local! {
            $(#[$meta])*
            static $name: $ty = const { $init };
        }
    };
}
pub(crate) use thread_local_const;

/// Converts a timeout into a deadline; `None` means "wait forever" (also when `now + d` does
/// not fit in an `Instant`, e.g. `Duration::MAX`).
#[inline]
pub(crate) fn deadline_after(d: Duration) -> Option<Instant> {
    now().checked_add(d)
}
