//! `threading.RLock`: a reentrant lock owned by the thread that acquired it.

use super::Wait;
use super::lock::RawLock;
use super::rt::{self, AtomicUsize, Ordering, UnsafeCell};
use crate::error::RuntimeError;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::time::Duration;

/// The reentrancy layer over [`RawLock`], shared by [`RLock`] and the default
/// [`Condition`](super::Condition).
///
/// | field | meaning |
/// |---|---|
/// | `owner` | `rt::thread::current_id()` of the holder; 0 when free |
/// | `count` | recursion depth; written only by the owner |
///
/// Both are read `Relaxed`: a thread that sees its own id in `owner` wrote it itself (ids are
/// never reused, and the owner clears `owner` before releasing), so it is the owner.
pub(crate) struct RawRLock {
    raw: RawLock,
    owner: AtomicUsize,
    count: AtomicUsize,
}

impl RawRLock {
    pub(crate) fn new() -> Self {
        RawRLock {
            raw: RawLock::new(),
            owner: AtomicUsize::new(0),
            count: AtomicUsize::new(0),
        }
    }

    #[inline]
    fn owned_by(&self, me: usize) -> bool {
        self.owner.load(Ordering::Relaxed) == me
    }

    /// Acquires one level within `wait`; `false` on timeout.
    #[inline]
    pub(crate) fn lock_wait(&self, wait: Wait) -> bool {
        let me = rt::thread::current_id();
        if self.owned_by(me) {
            let count = self.count.load(Ordering::Relaxed);
            // Unreachable in practice: needs 2^64 live (detached) levels.
            let next = count
                .checked_add(1)
                .expect("RLock recursion count overflow");
            self.count.store(next, Ordering::Relaxed);
            return true;
        }
        if !self.raw.lock_wait(wait) {
            return false;
        }
        self.owner.store(me, Ordering::Relaxed);
        self.count.store(1, Ordering::Relaxed);
        true
    }

    /// Releases one level if the caller owns the lock.
    #[inline]
    pub(crate) fn unlock(&self) -> Result<(), RuntimeError> {
        if !self.owned_by(rt::thread::current_id()) {
            return Err(RuntimeError::new("cannot release un-acquired lock"));
        }
        let count = self.count.load(Ordering::Relaxed) - 1;
        self.count.store(count, Ordering::Relaxed);
        if count == 0 {
            self.owner.store(0, Ordering::Relaxed);
            self.raw.unlock();
        }
        Ok(())
    }

    /// Python's `_release_save`: releases every level, returning the depth to restore. The
    /// caller must own the lock.
    pub(crate) fn release_all(&self) -> usize {
        debug_assert!(self.owned_by(rt::thread::current_id()));
        let count = self.count.load(Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        self.raw.unlock();
        count
    }

    /// Python's `_acquire_restore`: blocks, then restores `count` levels.
    pub(crate) fn acquire_restore(&self, count: usize) {
        self.raw.lock();
        self.owner
            .store(rt::thread::current_id(), Ordering::Relaxed);
        self.count.store(count, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn is_owned(&self) -> bool {
        self.owned_by(rt::thread::current_id())
    }

    pub(crate) fn recursion_count(&self) -> usize {
        if self.is_owned() {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    pub(crate) fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    fn debug_fields(&self, d: &mut fmt::DebugStruct<'_, '_>) {
        let owner = self.owner.load(Ordering::Relaxed);
        d.field("locked", &self.is_locked());
        d.field("owner", &(owner != 0).then_some(owner));
        d.field(
            "count",
            &if owner == 0 {
                0
            } else {
                self.count.load(Ordering::Relaxed)
            },
        );
    }
}

/// Python's `threading.RLock`: a reentrant lock. The thread that acquired it may acquire it
/// again without blocking; it is free again once every level has been released.
///
/// [`RLock::new()`] is Python's data-less RLock; [`RLock::with_value`] protects a value, and
/// its guards dereference to `&T` (shared: two guards of the same thread alias the value, so
/// there is no `&mut T` — put a `Cell` or `RefCell` inside for mutation).
///
/// # Examples
///
/// ```
/// use gilfree::RLock;
///
/// let lock = RLock::new();
/// let outer = lock.acquire();
/// let inner = lock.acquire(); // same thread: no deadlock
/// assert_eq!(lock.recursion_count(), 2);
/// drop(inner);
/// assert!(lock.locked());
/// drop(outer);
/// assert!(!lock.locked());
/// ```
///
/// # Timeouts
///
/// [`try_acquire`](RLock::try_acquire) never blocks; [`acquire_timeout`](RLock::acquire_timeout)
/// gives up after the duration. Re-entry by the owner always succeeds at once.
///
/// # Fairness
///
/// None, as in CPython.
///
/// # Async
///
/// `RLock` has no async twin (no `acquire_async`), and neither does a
/// [`Condition`](super::Condition) over one. An RLock belongs to the thread that holds it,
/// and re-entry means "the same thread again"; a task may move from one thread to another
/// between two polls, so a thread-owned lock means nothing to it (and one task could not
/// re-enter the lock it holds after it moved). asyncio has no RLock either. In async code use
/// [`Lock::acquire_async`](super::Lock::acquire_async), or a condition over a `Lock`
/// ([`Condition::with_value`](super::Condition::with_value)). A blocking
/// [`acquire`](RLock::acquire) called from a task works, but blocks its executor's thread.
///
/// # Differences from Python
///
/// * Guards are `!Send`: a guard cannot be dropped (released) on another thread, so Python's
///   release by a thread that does not own the lock is a compile error.
///   [`release`](RLock::release) keeps the runtime check for the data-less `RLock<()>`.
/// * `locked()` exists (Python 3.14 adds it; 3.13 has none).
pub struct RLock<T = ()> {
    raw: RawRLock,
    data: UnsafeCell<T>,
}

// SAFETY: only the owning thread can hold guards, and guards give out `&T` only; moving
// ownership between threads moves access to `T`, so `T: Send` suffices (the same bound as
// `parking_lot::ReentrantMutex`).
unsafe impl<T: Send> Sync for RLock<T> {}
// SAFETY: an `RLock<T>` owns its `T`.
unsafe impl<T: Send> Send for RLock<T> {}

impl RLock<()> {
    /// Creates an unlocked, data-less reentrant lock: Python's `threading.RLock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// assert!(!lock.is_owned());
    /// ```
    pub fn new() -> Self {
        RLock::with_value(())
    }

    /// Python's `release()`: releases one level held by the calling thread.
    ///
    /// # Errors
    ///
    /// [`RuntimeError`] "cannot release un-acquired lock" if the caller does not own the lock —
    /// whether it is free or held by another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// assert!(lock.release().is_err());
    /// lock.acquire().detach();
    /// assert!(lock.release().is_ok());
    /// assert!(lock.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), RuntimeError> {
        self.raw.unlock()
    }
}

impl<T> RLock<T> {
    /// Creates an unlocked reentrant lock protecting `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// let log = gilfree::RLock::with_value(RefCell::new(Vec::new()));
    /// let g = log.acquire();
    /// g.borrow_mut().push("outer");
    /// log.acquire().borrow_mut().push("inner"); // re-entry
    /// assert_eq!(g.borrow().len(), 2);
    /// ```
    pub fn with_value(value: T) -> Self {
        RLock {
            raw: RawRLock::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Blocks until the calling thread holds the lock; returns at once if it already does.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// let _a = lock.acquire();
    /// let _b = lock.acquire();
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    #[inline]
    pub fn acquire(&self) -> RLockGuard<'_, T> {
        self.raw.lock_wait(Wait::Forever);
        RLockGuard::new(self)
    }

    /// Acquires without blocking: succeeds if the lock is free or already owned by the caller.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// let a = lock.try_acquire().unwrap();
    /// let b = lock.try_acquire().unwrap(); // re-entry never blocks
    /// drop((b, a));
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<RLockGuard<'_, T>> {
        self.raw
            .lock_wait(Wait::Never)
            .then(|| RLockGuard::new(self))
    }

    /// Acquires, waiting at most `timeout`; `None` after about `timeout` when another thread
    /// holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = gilfree::RLock::new();
    /// let _held = lock.acquire();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(lock.acquire_timeout(Duration::from_millis(10)).is_none()));
    /// });
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_, T>> {
        self.raw
            .lock_wait(Wait::timeout(timeout))
            .then(|| RLockGuard::new(self))
    }

    /// Whether the calling thread holds the lock: Python's `_is_owned()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// let _g = lock.acquire();
    /// assert!(lock.is_owned());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!lock.is_owned()));
    /// });
    /// ```
    pub fn is_owned(&self) -> bool {
        self.raw.is_owned()
    }

    /// How many times the calling thread holds the lock; 0 for any other thread: Python's
    /// `_recursion_count()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// assert_eq!(lock.recursion_count(), 0);
    /// let _a = lock.acquire();
    /// assert_eq!(lock.recursion_count(), 1);
    /// ```
    pub fn recursion_count(&self) -> usize {
        self.raw.recursion_count()
    }

    /// Whether any thread holds the lock right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// assert!(!lock.locked());
    /// let _g = lock.acquire();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves exclusivity.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = gilfree::RLock::with_value(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(*lock.acquire(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::RLock::with_value(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }

    pub(crate) fn raw(&self) -> &RawRLock {
        &self.raw
    }
}

impl Default for RLock<()> {
    fn default() -> Self {
        RLock::new()
    }
}

impl<T> fmt::Debug for RLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RLock");
        self.raw.debug_fields(&mut d);
        d.finish_non_exhaustive()
    }
}

/// One level of an [`RLock`] held by the current thread; released when dropped.
/// Dereferences to `&T`. Not `Send`: the owner must release it.
///
/// # Examples
///
/// ```
/// let lock = gilfree::RLock::with_value(5);
/// let guard = lock.acquire();
/// assert_eq!(*guard, 5);
/// ```
#[doc(alias = "release")]
#[must_use = "dropping the guard releases one level of the lock at once"]
pub struct RLockGuard<'a, T = ()> {
    lock: &'a RLock<T>,
    // !Send: the level belongs to this thread. !Sync too, which costs nothing.
    _not_send: PhantomData<*const ()>,
}

impl<'a, T> RLockGuard<'a, T> {
    #[inline]
    fn new(lock: &'a RLock<T>) -> Self {
        RLockGuard {
            lock,
            _not_send: PhantomData,
        }
    }
}

impl RLockGuard<'_, ()> {
    /// Forgets the guard but keeps its level held, for a later [`RLock::release`] by this
    /// thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::RLock::new();
    /// lock.acquire().detach();
    /// assert_eq!(lock.recursion_count(), 1);
    /// lock.release().unwrap();
    /// assert!(!lock.locked());
    /// ```
    pub fn detach(self) {
        std::mem::forget(self);
    }
}

impl<T> Deref for RLockGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard proves this thread owns the lock; only this thread's guards exist,
        // and they hand out shared references only.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> Drop for RLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // The guard is !Send, so the caller is the owner; on RLock<()> a stray release() by
        // this same thread may have taken the level already, which is harmless.
        let _ = self.lock.raw.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for RLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("value", &**self)
            .finish()
    }
}
