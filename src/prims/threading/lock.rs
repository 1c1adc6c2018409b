//! `threading.Lock`: a non-reentrant lock that any thread may release.

use super::super::waiters::{WaitList, Waiter};
use super::Wait;
use super::rt::{self, AtomicU8, Backoff, Ordering, UnsafeCell};
use crate::error::RuntimeError;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The lock word of [`RawLock`].
///
/// | value | meaning |
/// |---|---|
/// | `UNLOCKED` (0) | free |
/// | `LOCKED` (1) | held; no thread has gone to sleep waiting for it |
/// | `CONTENDED` (2) | held; threads or tasks may be queued in `waiters`, so the release must wake one |
///
/// A waiter always sets `CONTENDED` before queueing, and re-checks the word under the list's
/// lock as it queues; a release that swaps out `CONTENDED` notifies through the list (which
/// takes that lock), so no wake-up is lost. A woken waiter sets `CONTENDED` again as it retries,
/// so the next release wakes the next waiter.
const UNLOCKED: u8 = 0;
const LOCKED: u8 = 1;
const CONTENDED: u8 = 2;

/// The state machine under [`Lock`], [`RLock`](super::RLock) and
/// [`Condition`](super::Condition): one atomic RMW to acquire, one to release, and the one
/// waiter list (threads and tasks, FIFO) only when contended.
pub(crate) struct RawLock {
    state: AtomicU8,
    waiters: WaitList,
}

impl RawLock {
    pub(crate) fn new() -> Self {
        RawLock {
            state: AtomicU8::new(UNLOCKED),
            waiters: WaitList::new(),
        }
    }

    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    pub(crate) fn lock(&self) {
        if !self.try_lock() {
            self.lock_slow(None);
        }
    }

    /// Acquires within `wait`; `false` when it timed out.
    #[inline]
    pub(crate) fn lock_wait(&self, wait: Wait) -> bool {
        self.try_lock()
            || match wait {
                Wait::Never => false,
                Wait::Until(at) => self.lock_slow(Some(at)),
                Wait::Forever => self.lock_slow(None),
            }
    }

    #[cold]
    fn lock_slow(&self, deadline: Option<rt::Instant>) -> bool {
        // Spin briefly while the holder is likely to release soon (nobody sleeping yet).
        let backoff = Backoff::new();
        loop {
            match self.state.load(Ordering::Relaxed) {
                UNLOCKED => {
                    if self.try_lock() {
                        return true;
                    }
                }
                LOCKED if !backoff.is_completed() => backoff.snooze(),
                _ => break,
            }
        }
        self.waiters
            .wait_for(
                || self.try_lock_contended().then_some(()),
                || self.state.load(Ordering::Relaxed) == CONTENDED,
                deadline,
            )
            .is_some()
    }

    /// Takes the lock if it is free, marking it `CONTENDED` in the same swap: the caller is (or
    /// was just) a queued waiter, and others may still be queued behind it. If the lock is
    /// held, the mark stays and makes its release wake a waiter.
    #[inline]
    fn try_lock_contended(&self) -> bool {
        self.state.swap(CONTENDED, Ordering::Acquire) == UNLOCKED
    }

    /// The task's acquire: `Ready` once the lock is taken. No spinning: a task must not hold
    /// its executor's thread.
    #[inline]
    pub(crate) fn poll_lock(&self, waiter: &mut Waiter<'_>, cx: &mut Context<'_>) -> Poll<()> {
        if !waiter.is_queued() && self.try_lock() {
            return Poll::Ready(());
        }
        waiter.poll_for(
            cx,
            || self.try_lock_contended().then_some(()),
            || self.state.load(Ordering::Relaxed) == CONTENDED,
        )
    }

    /// A waiter in this lock's list, for [`poll_lock`](Self::poll_lock).
    pub(crate) fn waiter(&self) -> Waiter<'_> {
        Waiter::new(&self.waiters)
    }

    /// Threads and tasks queued for the lock (a snapshot).
    pub(crate) fn n_waiting(&self) -> usize {
        self.waiters.len()
    }

    /// Releases; returns `false` (and changes nothing) if it was not locked.
    #[inline]
    pub(crate) fn unlock(&self) -> bool {
        match self.state.swap(UNLOCKED, Ordering::Release) {
            UNLOCKED => false,
            LOCKED => true,
            _ => {
                self.wake_one();
                true
            }
        }
    }

    #[cold]
    fn wake_one(&self) {
        self.waiters.notify_one();
    }

    #[inline]
    pub(crate) fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }
}

/// Python's `threading.Lock`: a non-reentrant lock that is not owned — any thread may
/// [`release`](Lock::release) it.
///
/// [`Lock::new()`] is Python's data-less lock. [`Lock::with_value`] is the Rust bonus: the lock
/// protects a value and its guard dereferences to it (`&mut T`), like `std::sync::Mutex` without
/// poisoning.
///
/// Acquiring returns a [`LockGuard`]; dropping the guard releases the lock — the guard is
/// Python's `with lock:` block, and it releases even when the block panics.
///
/// # Examples
///
/// ```
/// use gilfree::Lock;
/// use std::sync::Arc;
///
/// let counter = Arc::new(Lock::with_value(0u64));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         std::thread::spawn(move || {
///             for _ in 0..1000 {
///                 *counter.acquire() += 1; // acquire, add, release: no lost update
///             }
///         })
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// assert_eq!(*counter.acquire(), 4000);
/// ```
///
/// # Timeouts
///
/// [`try_acquire`](Lock::try_acquire) never blocks; [`acquire_timeout`](Lock::acquire_timeout)
/// gives up after the duration (`Duration::ZERO` tries once, `Duration::MAX` waits forever).
///
/// # Fairness
///
/// None, as in CPython: a releasing thread may re-acquire before a woken waiter. Every waiter
/// still gets the lock once the holders stop re-acquiring.
///
/// # Memory ordering
///
/// Acquiring synchronises with the previous release: everything written before a release is
/// visible after the next acquire, whichever threads they run on.
///
/// # Differences from Python
///
/// * `acquire(blocking=False, timeout=t)` and negative timeouts cannot be
///   written: the three forms are three methods taking a `Duration`.
/// * [`release`](Lock::release) and [`LockGuard::detach`] exist only on the data-less `Lock<()>`:
///   on `Lock<T>` a release from another thread while a guard is alive would hand out a second
///   `&mut T`. A data-carrying lock is released by dropping its guard:
///
/// ```compile_fail,E0599
/// let lock = gilfree::Lock::with_value(5);
/// lock.release(); // no `release` on Lock<i32>: drop the guard instead
/// ```
pub struct Lock<T = ()> {
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one guard at a time, so sharing a `Lock<T>` across
// threads moves `T` between threads but never shares it: `T: Send` is enough, as for
// `std::sync::Mutex`.
unsafe impl<T: Send> Sync for Lock<T> {}
// SAFETY: a `Lock<T>` owns its `T`; sending the lock sends the value.
unsafe impl<T: Send> Send for Lock<T> {}

impl Lock<()> {
    /// Creates an unlocked, data-less lock: Python's `threading.Lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> Self {
        Lock::with_value(())
    }

    /// Python's `release()`: unlocks the lock from any thread, not only the one that acquired it.
    /// Pair it with [`LockGuard::detach`] or use it to unlock on someone else's behalf.
    ///
    /// # Errors
    ///
    /// [`RuntimeError`] "release unlocked lock" if the lock is not locked.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::Lock::new();
    /// lock.acquire().detach(); // stays locked after the guard is gone
    /// assert!(lock.locked());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| lock.release().unwrap()); // another thread releases it
    /// });
    /// assert!(!lock.locked());
    /// assert!(lock.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), RuntimeError> {
        if self.raw.unlock() {
            Ok(())
        } else {
            Err(RuntimeError::new("release unlocked lock"))
        }
    }
}

impl<T> Lock<T> {
    /// Creates an unlocked lock protecting `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let names = gilfree::Lock::with_value(Vec::<String>::new());
    /// names.acquire().push("ada".into());
    /// assert_eq!(names.acquire().len(), 1);
    /// ```
    pub fn with_value(value: T) -> Self {
        Lock {
            raw: RawLock::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Blocks until the lock is acquired; Python's `acquire()`. The lock is
    /// released when the guard is dropped.
    ///
    /// Not reentrant: a thread that acquires a lock it already holds waits until another thread
    /// releases it — for a data-carrying lock, forever. Use [`RLock`](super::RLock)
    /// for re-entry.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::Lock::with_value(1);
    /// {
    ///     let mut guard = lock.acquire();
    ///     *guard += 1;
    ///     assert!(lock.locked());
    /// } // released here
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn acquire(&self) -> LockGuard<'_, T> {
        self.raw.lock();
        LockGuard::new(self)
    }

    /// Acquires the lock from an async task: the twin of [`acquire`](Lock::acquire), asyncio's
    /// `async with lock:`. The task waits without holding its executor's thread, queued in the
    /// same FIFO as threads blocked in [`acquire`](Lock::acquire); the guard it returns is the
    /// same [`LockGuard`], released on drop.
    ///
    /// Needs no particular runtime: any executor (tokio, smol, `futures::executor`) drives it.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: dropping the future before it completes leaves the lock as it was, and a
    /// wake-up handed to it passes to the next waiter. So a timeout is the runtime's own,
    /// `tokio::time::timeout(d, lock.acquire_async())`, which drops the future when time is up.
    ///
    /// # Fairness
    ///
    /// Waiters, threads and tasks alike, are woken one per release in the order they queued,
    /// and a woken waiter that finds the lock taken again keeps its place at the head. There is
    /// no hand-off: a caller arriving just as the lock is released may take it before the woken
    /// waiter runs, as with `threading.Lock`. (asyncio's lock hands over strictly in FIFO
    /// order; a hand-off would make every contended release wait for the woken thread to be
    /// scheduled.)
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Lock;
    /// use std::sync::Arc;
    ///
    /// let total = Arc::new(Lock::with_value(0));
    /// futures::executor::block_on(async {
    ///     *total.acquire_async().await += 1;
    /// });
    /// // A thread and a task share the same lock.
    /// let t = {
    ///     let total = Arc::clone(&total);
    ///     std::thread::spawn(move || *total.acquire() += 1)
    /// };
    /// t.join().unwrap();
    /// assert_eq!(*total.acquire(), 2);
    /// ```
    #[doc(alias = "acquire")]
    pub fn acquire_async(&self) -> impl Future<Output = LockGuard<'_, T>> + '_ {
        LockAcquire {
            lock: self,
            waiter: self.raw.waiter(),
        }
    }

    /// Acquires the lock if it is free, without blocking: Python's `acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::Lock::new();
    /// let guard = lock.try_acquire().expect("free");
    /// assert!(lock.try_acquire().is_none());
    /// drop(guard);
    /// assert!(lock.try_acquire().is_some());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        self.raw.try_lock().then(|| LockGuard::new(self))
    }

    /// Acquires the lock, waiting at most `timeout`: Python's `acquire(timeout=t)`. A free lock
    /// is taken at once; `None` after the timeout, and the lock keeps working. `Duration::ZERO`
    /// tries once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = gilfree::Lock::new();
    /// let _held = lock.acquire();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)).is_none());
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, T>> {
        self.raw
            .lock_wait(Wait::timeout(timeout))
            .then(|| LockGuard::new(self))
    }

    /// Whether the lock is held by some thread right now: Python's `locked()`. The answer may
    /// be stale by the time the caller looks at it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::Lock::new();
    /// let guard = lock.acquire();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Mutable access without locking: `&mut self` already proves exclusivity.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = gilfree::Lock::with_value(1);
    /// *lock.get_mut() = 2;
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
    /// let lock = gilfree::Lock::with_value(String::from("x"));
    /// assert_eq!(lock.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }

    pub(crate) fn raw(&self) -> &RawLock {
        &self.raw
    }

    pub(crate) fn data(&self) -> &UnsafeCell<T> {
        &self.data
    }
}

impl Default for Lock<()> {
    fn default() -> Self {
        Lock::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Lock");
        match self.try_acquire() {
            Some(guard) => {
                d.field("locked", &false);
                d.field("value", &&*guard);
            }
            None => {
                d.field("locked", &true);
                // asyncio's repr shows the waiters; here threads and tasks alike.
                d.field("waiting", &self.raw.n_waiting());
            }
        }
        d.finish_non_exhaustive()
    }
}

/// The future of [`Lock::acquire_async`]: its waiter leaves the list when dropped.
struct LockAcquire<'a, T> {
    lock: &'a Lock<T>,
    waiter: Waiter<'a>,
}

impl<'a, T> Future for LockAcquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let this = self.get_mut();
        let lock = this.lock;
        lock.raw
            .poll_lock(&mut this.waiter, cx)
            .map(|()| LockGuard::new(lock))
    }
}

/// Holds a [`Lock`]; releases it when dropped. Dereferences to the protected value.
///
/// # Examples
///
/// ```
/// let lock = gilfree::Lock::with_value(vec![1, 2]);
/// let mut guard = lock.acquire();
/// guard.push(3);
/// assert_eq!(*guard, [1, 2, 3]);
/// ```
#[doc(alias = "release")]
#[must_use = "dropping the guard releases the lock at once"]
pub struct LockGuard<'a, T = ()> {
    lock: &'a Lock<T>,
    // Send iff T: Send (the guard may be released on another thread: the lock is unowned),
    // Sync iff T: Sync (a shared guard shares &T).
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T> LockGuard<'a, T> {
    #[inline]
    fn new(lock: &'a Lock<T>) -> Self {
        LockGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

impl LockGuard<'_, ()> {
    /// Forgets the guard but keeps the lock held, for a later [`Lock::release`] — possibly
    /// from another thread. Python's `acquire()` without `with`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = gilfree::Lock::new();
    /// lock.acquire().detach();
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// assert!(!lock.locked());
    /// ```
    pub fn detach(self) {
        std::mem::forget(self);
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held, so no other guard can access the value;
        // the reference lives no longer than the guard.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference handed out
        // by this guard.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for LockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // A data-carrying lock cannot be released other than through its guard, so this is
        // always a real release; on Lock<()> a stray `release()` may have beaten us to it,
        // which is harmless.
        self.lock.raw.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").field("value", &**self).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_excludes_and_release_reports_state() {
        rt::model(|| {
            let lock = Lock::new();
            let guard = lock.acquire();
            assert!(lock.try_acquire().is_none());
            drop(guard);
            assert!(lock.release().is_err());
            lock.acquire().detach();
            assert!(lock.release().is_ok());
            assert!(!lock.locked());
        });
    }
}
