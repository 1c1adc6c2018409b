//! `threading.Semaphore` and `threading.BoundedSemaphore`.

use super::super::waiters::{WaitList, Waiter};
use super::Wait;
use super::rt::{AtomicUsize, Backoff, CachePadded, Ordering};
use crate::error::ValueError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The semaphore word: `permits << 1 | SLEEPERS`.
///
/// | bits | meaning |
/// |---|---|
/// | 0 (`SLEEPERS`) | threads or tasks may be queued in `waiters`: a release must wake some |
/// | 1.. | the number of permits (the semaphore's value) |
///
/// Keeping the flag in the same word as the count means a release learns whether anyone waits
/// from the very read-modify-write that adds its permits. With nobody waiting, a release is one
/// CAS and takes no lock.
///
/// The protocol (the lock's, with a count): a waiter raises the flag under the list's lock just
/// before it queues, and only while there is no permit, so a release that adds permits after
/// that sees the flag. A release that sees the flag clears it (in the same CAS) and wakes as
/// many waiters as it added permits. A woken waiter that takes a permit raises the flag again
/// (others may still be queued behind it) and, if permits are left over, wakes the next waiter
/// itself: a burst of releases that found the flag already cleared still wakes one waiter per
/// permit. A woken waiter that finds no permit (a newcomer took it) raises the flag as it
/// queues again, at its old place.
const SLEEPERS: usize = 1;
const ONE: usize = 2;

/// The counting state machine behind [`Semaphore`] and [`BoundedSemaphore`].
struct RawSemaphore {
    state: CachePadded<AtomicUsize>,
    /// Largest value a release may reach: `initial` for BoundedSemaphore, [`Semaphore::MAX_VALUE`]
    /// otherwise.
    bound: usize,
    /// BoundedSemaphore (refuses to pass `initial`) rather than Semaphore.
    bounded: bool,
    initial: usize,
    /// Threads and tasks waiting for a permit, in one FIFO.
    waiters: WaitList,
}

impl RawSemaphore {
    #[track_caller]
    fn new(value: usize, bounded: bool) -> Self {
        assert!(
            value <= Semaphore::MAX_VALUE,
            "ValueError: semaphore initial value must be <= Semaphore::MAX_VALUE"
        );
        RawSemaphore {
            state: CachePadded::new(AtomicUsize::new(value * ONE)),
            bound: if bounded { value } else { Semaphore::MAX_VALUE },
            bounded,
            initial: value,
            waiters: WaitList::new(),
        }
    }

    #[inline]
    fn value(&self) -> usize {
        self.state.load(Ordering::Relaxed) / ONE
    }

    /// Takes one permit if there is one.
    #[inline]
    fn try_acquire(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        while state >= ONE {
            match self.state.compare_exchange_weak(
                state,
                state - ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
        false
    }

    /// The slow path's attempt (a caller that may have queued, or was just woken): takes a
    /// permit and raises `SLEEPERS` in the same CAS, since other waiters may be queued behind
    /// this one and the release that woke it cleared the flag. Permits left over wake the next
    /// waiter (they may have been released while the flag was down).
    fn try_acquire_queued(&self) -> Option<()> {
        let mut state = self.state.load(Ordering::Relaxed);
        while state >= ONE {
            match self.state.compare_exchange_weak(
                state,
                (state - ONE) | SLEEPERS,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if state >= 2 * ONE {
                        self.waiters.notify_one();
                    }
                    return Some(());
                }
                Err(now) => state = now,
            }
        }
        None
    }

    /// Runs under the list's lock just before a waiter queues: raises `SLEEPERS` if there is no
    /// permit (then the waiter queues), or says to try again.
    fn blocked(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state >= ONE {
                return false;
            }
            if state & SLEEPERS != 0 {
                return true;
            }
            match self.state.compare_exchange_weak(
                state,
                state | SLEEPERS,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    #[inline]
    fn acquire(&self, wait: Wait) -> bool {
        self.try_acquire()
            || match wait {
                Wait::Never => false,
                Wait::Until(at) => self.acquire_slow(Some(at)),
                Wait::Forever => self.acquire_slow(None),
            }
    }

    #[cold]
    fn acquire_slow(&self, deadline: Option<super::rt::Instant>) -> bool {
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            if self.try_acquire() {
                return true;
            }
        }
        self.waiters
            .wait_for(|| self.try_acquire_queued(), || self.blocked(), deadline)
            .is_some()
    }

    /// The task's acquire: `Ready` once a permit is taken. No spinning.
    #[inline]
    fn poll_acquire(&self, waiter: &mut Waiter<'_>, cx: &mut Context<'_>) -> Poll<()> {
        if !waiter.is_queued() && self.try_acquire() {
            return Poll::Ready(());
        }
        waiter.poll_for(cx, || self.try_acquire_queued(), || self.blocked())
    }

    /// Adds `n` permits (all or none) and wakes up to `n` waiters.
    #[inline]
    fn release(&self, n: usize) -> Result<(), ValueError> {
        if n == 0 {
            return Err(ValueError::new("n must be one or more"));
        }
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let value = state / ONE;
            if n > self.bound - value.min(self.bound) {
                return Err(if self.bounded {
                    ValueError::new("Semaphore released too many times")
                } else {
                    ValueError::new("semaphore value would exceed Semaphore::MAX_VALUE")
                });
            }
            match self.state.compare_exchange_weak(
                state,
                (state + n * ONE) & !SLEEPERS,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if state & SLEEPERS != 0 {
            self.wake(n);
        }
        Ok(())
    }

    #[cold]
    fn wake(&self, n: usize) {
        self.waiters.notify(n);
    }

    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(name);
        d.field("value", &self.value());
        if self.bounded {
            d.field("initial", &self.initial);
        }
        // asyncio's repr shows the waiters; here threads and tasks alike.
        d.field("waiting", &self.waiters.len());
        d.finish()
    }
}

/// Python's `threading.Semaphore`: a counter of permits. [`acquire`](Semaphore::acquire) takes
/// one, waiting while there are none; [`release`](Semaphore::release) adds some. Any thread
/// may release, and the value may grow past its initial value.
///
/// # Examples
///
/// At most two threads inside at once:
///
/// ```
/// use gilfree::Semaphore;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let slots = Semaphore::new(2);
/// let inside = AtomicUsize::new(0);
/// let most = AtomicUsize::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..6 {
///         s.spawn(|| {
///             let _permit = slots.acquire();
///             let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
///             most.fetch_max(now, Ordering::SeqCst);
///             inside.fetch_sub(1, Ordering::SeqCst);
///         });
///     }
/// });
/// assert!(most.load(Ordering::SeqCst) <= 2);
/// ```
///
/// # Timeouts
///
/// [`try_acquire`](Semaphore::try_acquire) never blocks;
/// [`acquire_timeout`](Semaphore::acquire_timeout) gives up after the duration.
///
/// # Fairness
///
/// Waiters, threads blocked in [`acquire`](Semaphore::acquire) and tasks awaiting
/// [`acquire_async`](Semaphore::acquire_async) alike, queue in one FIFO and are woken in that
/// order, one per released permit. There is no hand-off: a caller arriving while a permit is
/// free takes it even if others wait, as in `threading`; a woken waiter that loses such a race
/// keeps its place at the head.
///
/// # Differences from Python
///
/// * The value is a `usize`: a negative initial value does not compile. Values are
///   capped at [`Semaphore::MAX_VALUE`] (half the `usize` range); `new` panics above it and a
///   release that would pass it returns [`ValueError`].
/// * `acquire(blocking=False, timeout=t)` and negative timeouts cannot be
///   written: the three forms are three methods.
pub struct Semaphore {
    raw: RawSemaphore,
}

impl Semaphore {
    /// The largest value a semaphore can hold: `usize::MAX / 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Semaphore;
    ///
    /// let sem = Semaphore::new(Semaphore::MAX_VALUE);
    /// assert!(sem.release(1).is_err()); // ValueError: it would pass the cap
    /// assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    /// ```
    pub const MAX_VALUE: usize = usize::MAX / ONE;

    /// A semaphore with `value` permits. `Semaphore::default()` has 1.
    ///
    /// # Panics
    ///
    /// If `value` exceeds [`Semaphore::MAX_VALUE`], with
    /// `ValueError: semaphore initial value must be <= Semaphore::MAX_VALUE` at the caller's
    /// line.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::Semaphore::new(0);
    /// assert!(sem.try_acquire().is_none());
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(value, false),
        }
    }

    /// Takes a permit, blocking while there is none. The guard gives it back when dropped;
    /// [`SemaphoreGuard::detach`] keeps it.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::Semaphore::new(1);
    /// let permit = sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// drop(permit);
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    pub fn acquire(&self) -> SemaphoreGuard<'_> {
        self.raw.acquire(Wait::Forever);
        SemaphoreGuard { sem: &self.raw }
    }

    /// Takes a permit from an async task: the twin of [`acquire`](Semaphore::acquire), asyncio's
    /// `async with sem:`. The task waits without holding its executor's thread, queued in the
    /// same FIFO as threads blocked in [`acquire`](Semaphore::acquire); it returns the same
    /// [`SemaphoreGuard`], which gives the permit back when dropped.
    ///
    /// Needs no particular runtime: any executor drives it. A blocking
    /// [`acquire`](Semaphore::acquire) called from async code blocks that executor thread.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: dropping the future before it completes takes no permit and leaves the value
    /// as it was, and a wake-up handed to it passes to the next waiter, so no permit is left
    /// with nobody woken for it. A timeout is the runtime's own,
    /// `tokio::time::timeout(d, sem.acquire_async())`, which drops the future when time is up.
    ///
    /// # Fairness
    ///
    /// Waiters, threads and tasks alike, are woken in the order they queued, one per released
    /// permit (a release of `n` wakes `n`), and a woken waiter that finds the permit taken again
    /// keeps its place at the head. There is no hand-off: a release raises the value at once, so
    /// a caller arriving just then may take the permit before the woken waiter runs, as with
    /// `threading.Semaphore`, and [`value`](Semaphore::value) always reads the count. (asyncio
    /// reserves a released permit for the woken waiter; that would make every contended release
    /// wait for the woken thread to be scheduled.)
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let held = sem.acquire(); // a thread holds the only permit
    /// let task = {
    ///     let sem = Arc::clone(&sem);
    ///     std::thread::spawn(move || {
    ///         futures::executor::block_on(async {
    ///             let _permit = sem.acquire_async().await; // waits for the thread's permit
    ///         })
    ///     })
    /// };
    /// drop(held);
    /// task.join().unwrap();
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[doc(alias = "acquire")]
    pub fn acquire_async(&self) -> impl Future<Output = SemaphoreGuard<'_>> + '_ {
        SemaphoreAcquire {
            sem: &self.raw,
            waiter: Waiter::new(&self.raw.waiters),
        }
    }

    /// Takes a permit if one is free, without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::Semaphore::new(1);
    /// let a = sem.try_acquire();
    /// assert!(a.is_some());
    /// assert!(sem.try_acquire().is_none());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.raw
            .try_acquire()
            .then(|| SemaphoreGuard { sem: &self.raw })
    }

    /// Takes a permit, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = gilfree::Semaphore::new(0);
    /// assert!(sem.acquire_timeout(Duration::from_millis(5)).is_none());
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.raw
            .acquire(Wait::timeout(timeout))
            .then(|| SemaphoreGuard { sem: &self.raw })
    }

    /// Python's `release(n)`: adds `n` permits and wakes up to `n` waiting threads or tasks.
    /// Any thread may call it.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if `n == 0`, or if the value would exceed
    /// [`Semaphore::MAX_VALUE`]; the value is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::Semaphore::new(0);
    /// sem.release(3).unwrap();
    /// assert_eq!(sem.value(), 3);
    /// assert!(sem.release(0).is_err());
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), ValueError> {
        self.raw.release(n)
    }

    /// The number of free permits right now (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Semaphore::new(4).value(), 4);
    /// ```
    pub fn value(&self) -> usize {
        self.raw.value()
    }
}

impl Default for Semaphore {
    /// One permit, as Python's `Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.debug("Semaphore", f)
    }
}

/// Python's `threading.BoundedSemaphore`: a [`Semaphore`] that refuses to be released above
/// its initial value — the usual sign of a bug — with [`ValueError`] and no change.
///
/// # Examples
///
/// ```
/// let pool = gilfree::BoundedSemaphore::new(2);
/// let conn = pool.acquire();
/// assert!(pool.release(2).is_err()); // would make 3 of 2: refused, nothing changed
/// assert_eq!(pool.value(), 1);
/// drop(conn);
/// assert_eq!(pool.value(), 2);
/// ```
///
/// # Differences from Python
///
/// As for [`Semaphore`]. Also: dropping a guard whose permit was already given back by an
/// explicit [`release`](BoundedSemaphore::release) leaves the value at its bound instead of
/// raising `ValueError` (a destructor cannot fail).
pub struct BoundedSemaphore {
    raw: RawSemaphore,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` permits, which is also its upper bound.
    ///
    /// # Panics
    ///
    /// If `value` exceeds [`Semaphore::MAX_VALUE`], with
    /// `ValueError: semaphore initial value must be <= Semaphore::MAX_VALUE` at the caller's
    /// line.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::BoundedSemaphore::new(3);
    /// assert_eq!(sem.initial_value(), 3);
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            raw: RawSemaphore::new(value, true),
        }
    }

    /// Takes a permit, blocking while there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::BoundedSemaphore::new(1);
    /// let _permit = sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// ```
    #[inline]
    pub fn acquire(&self) -> SemaphoreGuard<'_> {
        self.raw.acquire(Wait::Forever);
        SemaphoreGuard { sem: &self.raw }
    }

    /// Takes a permit from an async task: the twin of [`acquire`](BoundedSemaphore::acquire), asyncio's
    /// `async with sem:`. The task waits without holding its executor's thread, queued in the
    /// same FIFO as threads blocked in [`acquire`](BoundedSemaphore::acquire); it returns the same
    /// [`SemaphoreGuard`], which gives the permit back when dropped.
    ///
    /// Needs no particular runtime: any executor drives it. A blocking
    /// [`acquire`](BoundedSemaphore::acquire) called from async code blocks that executor thread.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: dropping the future before it completes takes no permit and leaves the value
    /// as it was, and a wake-up handed to it passes to the next waiter, so no permit is left
    /// with nobody woken for it. A timeout is the runtime's own,
    /// `tokio::time::timeout(d, sem.acquire_async())`, which drops the future when time is up.
    ///
    /// # Fairness
    ///
    /// Waiters, threads and tasks alike, are woken in the order they queued, one per released
    /// permit (a release of `n` wakes `n`), and a woken waiter that finds the permit taken again
    /// keeps its place at the head. There is no hand-off: a release raises the value at once, so
    /// a caller arriving just then may take the permit before the woken waiter runs, as with
    /// `threading.Semaphore`, and [`value`](BoundedSemaphore::value) always reads the count. (asyncio
    /// reserves a released permit for the woken waiter; that would make every contended release
    /// wait for the woken thread to be scheduled.)
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::BoundedSemaphore;
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(BoundedSemaphore::new(1));
    /// let held = sem.acquire(); // a thread holds the only permit
    /// let task = {
    ///     let sem = Arc::clone(&sem);
    ///     std::thread::spawn(move || {
    ///         futures::executor::block_on(async {
    ///             let _permit = sem.acquire_async().await; // waits for the thread's permit
    ///         })
    ///     })
    /// };
    /// drop(held);
    /// task.join().unwrap();
    /// assert_eq!(sem.value(), 1);
    /// assert!(sem.release(1).is_err()); // still refused above the bound
    /// ```
    #[doc(alias = "acquire")]
    pub fn acquire_async(&self) -> impl Future<Output = SemaphoreGuard<'_>> + '_ {
        SemaphoreAcquire {
            sem: &self.raw,
            waiter: Waiter::new(&self.raw.waiters),
        }
    }

    /// Takes a permit if one is free, without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::BoundedSemaphore::new(0);
    /// assert!(sem.try_acquire().is_none());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.raw
            .try_acquire()
            .then(|| SemaphoreGuard { sem: &self.raw })
    }

    /// Takes a permit, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = gilfree::BoundedSemaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::from_millis(5)).is_some());
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.raw
            .acquire(Wait::timeout(timeout))
            .then(|| SemaphoreGuard { sem: &self.raw })
    }

    /// Adds `n` permits and wakes up to `n` waiters, unless that would take the value above
    /// the initial value.
    ///
    /// # Errors
    ///
    /// [`ValueError`] "Semaphore released too many times" when `value + n > initial`, with the
    /// value unchanged; [`ValueError`] for `n == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::BoundedSemaphore::new(1);
    /// sem.acquire().detach();
    /// assert!(sem.release(1).is_ok());
    /// assert!(sem.release(1).is_err());
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), ValueError> {
        self.raw.release(n)
    }

    /// The number of free permits right now (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::BoundedSemaphore::new(2).value(), 2);
    /// ```
    pub fn value(&self) -> usize {
        self.raw.value()
    }

    /// The initial value, which is also the bound.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::BoundedSemaphore::new(2).initial_value(), 2);
    /// ```
    pub fn initial_value(&self) -> usize {
        self.raw.initial
    }
}

impl Default for BoundedSemaphore {
    /// One permit, as Python's `BoundedSemaphore()`.
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.debug("BoundedSemaphore", f)
    }
}

/// The future of `acquire_async`: its waiter leaves the list when dropped.
struct SemaphoreAcquire<'a> {
    sem: &'a RawSemaphore,
    waiter: Waiter<'a>,
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = SemaphoreGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphoreGuard<'a>> {
        let this = self.get_mut();
        let sem = this.sem;
        sem.poll_acquire(&mut this.waiter, cx)
            .map(|()| SemaphoreGuard { sem })
    }
}

/// A permit taken from a [`Semaphore`] or [`BoundedSemaphore`]; given back when dropped.
///
/// # Examples
///
/// ```
/// let sem = gilfree::Semaphore::new(1);
/// {
///     let _permit = sem.acquire();
///     assert_eq!(sem.value(), 0);
/// }
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "dropping the guard gives the permit back at once"]
pub struct SemaphoreGuard<'a> {
    sem: &'a RawSemaphore,
}

impl SemaphoreGuard<'_> {
    /// Keeps the permit: the semaphore's value stays lower until some thread calls `release`.
    /// Python's `acquire()` without `with`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = gilfree::Semaphore::new(1);
    /// sem.acquire().detach();
    /// assert_eq!(sem.value(), 0);
    /// sem.release(1).unwrap();
    /// ```
    pub fn detach(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphoreGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // Fails only when a bounded semaphore is already at its bound because the permit was
        // returned by an explicit release(): leave it there (see BoundedSemaphore's docs).
        let _ = self.sem.release(1);
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard")
            .field("value", &self.sem.value())
            .finish()
    }
}
