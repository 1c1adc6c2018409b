//! `threading.Semaphore` and `threading.BoundedSemaphore`.

use super::Wait;
use super::rt::{AtomicUsize, Backoff, CachePadded, Condvar, Mutex, Ordering};
use crate::error::ValueError;
use std::fmt;
use std::time::Duration;

/// The semaphore word: `permits << 1 | SLEEPERS`.
///
/// | bits | meaning |
/// |---|---|
/// | 0 (`SLEEPERS`) | at least one thread is asleep (or about to sleep) on `wake` |
/// | 1.. | the number of permits (the semaphore's value) |
///
/// Keeping the flag in the same word as the count means a release learns whether anyone sleeps
/// from the very read-modify-write that adds its permits: a sleeper sets the flag with a CAS
/// that also sees the count, so the two can never miss each other. With nobody asleep, a
/// release is one CAS and takes no lock.
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
    /// Threads asleep on `wake`; the `SLEEPERS` bit is set exactly while this is non-zero.
    sleepers: Mutex<usize>,
    wake: Condvar,
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
            sleepers: Mutex::new(0),
            wake: Condvar::new(),
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
        let mut sleepers = self.sleepers.lock();
        *sleepers += 1;
        let acquired = loop {
            // Take a permit, or (in the same CAS) raise the flag that makes releases wake us.
            let state = self.state.load(Ordering::Relaxed);
            let (next, took) = if state >= ONE {
                (state - ONE, true)
            } else {
                (state | SLEEPERS, false)
            };
            if self
                .state
                .compare_exchange(state, next, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            if took {
                break true;
            }
            if self.wake.wait_until(&mut sleepers, deadline) {
                // Timed out: a permit released just now is still ours to take.
                break self.try_acquire();
            }
        };
        *sleepers -= 1;
        if *sleepers == 0 {
            self.state.fetch_and(!SLEEPERS, Ordering::Relaxed);
        }
        acquired
    }

    /// Adds `n` permits (all or none) and wakes up to `n` sleepers.
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
                state + n * ONE,
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
        // Reading `sleepers` under the mutex also orders this wake after the sleeper's
        // flag-raising CAS and its entry into the wait.
        let sleeping = *self.sleepers.lock();
        for _ in 0..n.min(sleeping) {
            self.wake.notify_one();
        }
    }

    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(name);
        d.field("value", &self.value());
        if self.bounded {
            d.field("initial", &self.initial);
        }
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
/// None: a thread arriving while a permit is free takes it even if others sleep. Sleepers are
/// woken one per released permit.
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

    /// Python's `release(n)`: adds `n` permits and wakes up to `n` waiting threads.
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
