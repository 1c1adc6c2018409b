//! `threading.Condition`: wait for a notification while atomically releasing a lock.

use super::super::waiters::{Deferred, Place, WaitList, Waiter, Woke};
use super::Wait;
use super::lock::{Lock, RawLock};
use super::rlock::RLock;
use super::rt::{AtomicUsize, Ordering};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};
use std::time::Duration;

mod sealed {
    use super::super::rt::Instant;

    // `cond_unlock`, not `cond_release`: rustc's "a method with a similar name" hint sent a
    // user who wrote `Lock::with_value(5).release()` into this private trait; without a
    // similar name it says that `release` exists on `Lock<()>`.

    /// The lock operations a [`Condition`](super::Condition) needs. Sealed: implemented for
    /// [`RLock<()>`](super::RLock), [`Lock<T>`](super::Lock), and pointers to a data-less
    /// `Lock` or `RLock`.
    #[allow(unreachable_pub)] // the sealed-trait pattern: public, but unnameable outside
    pub trait Sealed {
        /// What a held condition guard dereferences to.
        type Data;
        /// Makes the guard `Send`/`Sync` as the lock allows: never for a thread-owned RLock,
        /// as a `LockGuard` for a `Lock`.
        type Marker;
        fn cond_try_acquire(&self) -> bool;
        fn cond_acquire_until(&self, deadline: Option<Instant>) -> bool;
        fn cond_unlock(&self);
        /// Releases every level; returns what `cond_restore` needs.
        fn cond_unlock_all(&self) -> usize;
        fn cond_restore(&self, saved: usize);
        fn cond_locked(&self) -> bool;
        /// Whether the calling thread may wait: owns the RLock, or the Lock is locked.
        fn cond_held(&self) -> bool;
        /// Runs `f` with a pointer to the data. Only called while the lock is held.
        fn cond_with_data<R>(&self, f: impl FnOnce(*mut Self::Data) -> R) -> R;
    }

    /// The lock under a condition whose guard has async twins: a plain `Lock`, held by
    /// nobody in particular, so a task may hold it across threads.
    #[allow(missing_debug_implementations)] // never seen outside the crate
    pub struct Raw<'a>(pub(in super::super) &'a super::RawLock);

    /// The async side of [`Sealed`], for [`AsyncConditionLock`](super::AsyncConditionLock).
    #[allow(unreachable_pub)]
    pub trait AsyncSealed: Sealed {
        fn cond_raw(&self) -> Raw<'_>;
    }
}

/// A lock that a [`Condition`] can be built over: [`RLock<()>`](RLock) (the default, as in
/// Python), a [`Lock<T>`](Lock) (through [`Condition::with_value`]), or a pointer to a shared
/// data-less `Lock` or `RLock` — `Arc<Lock>`, `&Lock`, `Arc<RLock>`… (through
/// [`Condition::with_lock`], Python's `Condition(lock)`). Sealed.
pub trait ConditionLock: sealed::Sealed {}

/// A [`ConditionLock`] whose condition can be waited on from async code:
/// [`ConditionGuard::wait_async`] and [`ConditionGuard::wait_for_async`]. Implemented for a
/// [`Lock<T>`](Lock) and for pointers to a data-less `Lock` (`Arc<Lock>`, `&Lock`), whose
/// acquire has an async twin. Not for an [`RLock`]: an RLock belongs to the thread that holds
/// it, while a task may move from thread to thread between its polls. Sealed.
pub trait AsyncConditionLock: ConditionLock + sealed::AsyncSealed {}

impl<T> sealed::AsyncSealed for Lock<T> {
    fn cond_raw(&self) -> sealed::Raw<'_> {
        sealed::Raw(self.raw())
    }
}
impl<T> AsyncConditionLock for Lock<T> {}

impl<P> sealed::AsyncSealed for P
where
    P: Deref<Target = Lock<()>>,
{
    fn cond_raw(&self) -> sealed::Raw<'_> {
        sealed::Raw((**self).raw())
    }
}
impl<P> AsyncConditionLock for P where P: Deref<Target = Lock<()>> {}

/// The data-less locks a pointer passed to [`Condition::with_lock`] may point to.
#[doc(hidden)]
pub trait SharedConditionLock {
    /// See the sealed trait's `Marker`.
    #[doc(hidden)]
    type Marker;
    #[doc(hidden)]
    fn shared_try_acquire(&self) -> bool;
    #[doc(hidden)]
    fn shared_acquire_until(&self, deadline: Option<super::rt::Instant>) -> bool;
    #[doc(hidden)]
    fn shared_release(&self);
    #[doc(hidden)]
    fn shared_release_all(&self) -> usize;
    #[doc(hidden)]
    fn shared_restore(&self, saved: usize);
    #[doc(hidden)]
    fn shared_locked(&self) -> bool;
    #[doc(hidden)]
    fn shared_held(&self) -> bool;
}

fn wait_of(deadline: Option<super::rt::Instant>) -> Wait {
    match deadline {
        Some(at) => Wait::Until(at),
        None => Wait::Forever,
    }
}

impl SharedConditionLock for RLock<()> {
    type Marker = *const ();
    fn shared_try_acquire(&self) -> bool {
        self.raw().lock_wait(Wait::Never)
    }
    fn shared_acquire_until(&self, deadline: Option<super::rt::Instant>) -> bool {
        self.raw().lock_wait(wait_of(deadline))
    }
    fn shared_release(&self) {
        let _ = self.raw().unlock();
    }
    fn shared_release_all(&self) -> usize {
        self.raw().release_all()
    }
    fn shared_restore(&self, saved: usize) {
        self.raw().acquire_restore(saved)
    }
    fn shared_locked(&self) -> bool {
        self.raw().is_locked()
    }
    fn shared_held(&self) -> bool {
        self.raw().is_owned()
    }
}

impl SharedConditionLock for Lock<()> {
    type Marker = ();
    fn shared_try_acquire(&self) -> bool {
        self.raw().try_lock()
    }
    fn shared_acquire_until(&self, deadline: Option<super::rt::Instant>) -> bool {
        self.raw().lock_wait(wait_of(deadline))
    }
    fn shared_release(&self) {
        self.raw().unlock();
    }
    fn shared_release_all(&self) -> usize {
        self.raw().unlock();
        1
    }
    fn shared_restore(&self, _: usize) {
        self.raw().lock()
    }
    fn shared_locked(&self) -> bool {
        self.raw().is_locked()
    }
    fn shared_held(&self) -> bool {
        // An unowned lock: "held" means locked by anyone, as in CPython (COND-4's subtlety).
        self.raw().is_locked()
    }
}

/// A unit value to hand out for locks that protect nothing.
fn unit_ptr() -> *mut () {
    NonNull::<()>::dangling().as_ptr()
}

impl sealed::Sealed for RLock<()> {
    type Data = ();
    type Marker = *const ();
    fn cond_try_acquire(&self) -> bool {
        self.shared_try_acquire()
    }
    fn cond_acquire_until(&self, deadline: Option<super::rt::Instant>) -> bool {
        self.shared_acquire_until(deadline)
    }
    fn cond_unlock(&self) {
        self.shared_release()
    }
    fn cond_unlock_all(&self) -> usize {
        self.shared_release_all()
    }
    fn cond_restore(&self, saved: usize) {
        self.shared_restore(saved)
    }
    fn cond_locked(&self) -> bool {
        self.shared_locked()
    }
    fn cond_held(&self) -> bool {
        self.shared_held()
    }
    fn cond_with_data<R>(&self, f: impl FnOnce(*mut ()) -> R) -> R {
        f(unit_ptr())
    }
}
impl ConditionLock for RLock<()> {}

impl<P> sealed::Sealed for P
where
    P: Deref,
    P::Target: SharedConditionLock,
{
    type Data = ();
    type Marker = <P::Target as SharedConditionLock>::Marker;
    fn cond_try_acquire(&self) -> bool {
        (**self).shared_try_acquire()
    }
    fn cond_acquire_until(&self, deadline: Option<super::rt::Instant>) -> bool {
        (**self).shared_acquire_until(deadline)
    }
    fn cond_unlock(&self) {
        (**self).shared_release()
    }
    fn cond_unlock_all(&self) -> usize {
        (**self).shared_release_all()
    }
    fn cond_restore(&self, saved: usize) {
        (**self).shared_restore(saved)
    }
    fn cond_locked(&self) -> bool {
        (**self).shared_locked()
    }
    fn cond_held(&self) -> bool {
        (**self).shared_held()
    }
    fn cond_with_data<R>(&self, f: impl FnOnce(*mut ()) -> R) -> R {
        f(unit_ptr())
    }
}
impl<P> ConditionLock for P
where
    P: Deref,
    P::Target: SharedConditionLock,
{
}

impl<T> sealed::Sealed for Lock<T> {
    type Data = T;
    // As `LockGuard`: `Send` iff `T: Send` (the lock is not owned), `Sync` iff `T: Sync`.
    type Marker = Box<T>;
    fn cond_try_acquire(&self) -> bool {
        self.raw().try_lock()
    }
    fn cond_acquire_until(&self, deadline: Option<super::rt::Instant>) -> bool {
        self.raw().lock_wait(wait_of(deadline))
    }
    fn cond_unlock(&self) {
        self.raw().unlock();
    }
    fn cond_unlock_all(&self) -> usize {
        self.raw().unlock();
        1
    }
    fn cond_restore(&self, _: usize) {
        self.raw().lock()
    }
    fn cond_locked(&self) -> bool {
        self.raw().is_locked()
    }
    fn cond_held(&self) -> bool {
        // Lock<T> has no release() outside its guard: held whenever a guard exists.
        true
    }
    fn cond_with_data<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.data().with_mut(f)
    }
}
impl<T> ConditionLock for Lock<T> {}

/// A condition's waiters: threads blocked in `wait` and tasks awaiting `wait_async`, in one
/// FIFO, and a count that lets `notify` skip the list when nobody waits.
struct Waiters {
    list: WaitList,
    /// Notified waiters whose wake-up waits for the user's lock to be released (the guard's
    /// drop, or the notifier's own wait): woken while the notifier still holds it, they would
    /// only wake up to block on it. Measured on the `handoff/condition` bench: about 50 µs
    /// per round trip woken at once, against 30 µs before the port, deferred.
    deferred: Deferred,
    /// Waits between joining the list (under the user's lock, just before releasing it) and
    /// leaving it. Never below the number of entries in `list`, and raised under the user's
    /// lock: a notifier, which holds that lock, that reads 0 knows the list is empty without
    /// taking the list's lock.
    waits: AtomicUsize,
}

impl Waiters {
    fn new() -> Self {
        Waiters {
            list: WaitList::new(),
            deferred: Deferred::new(),
            waits: AtomicUsize::new(0),
        }
    }

    /// Notifies up to `n` of the oldest waiters not notified yet; they are woken when the
    /// user's lock is released ([`released`](Self::released)). Called with the user's lock held.
    #[inline]
    fn notify(&self, n: usize) {
        if n != 0 && self.waits.load(Ordering::Relaxed) != 0 {
            self.list.notify_deferred(n, &self.deferred);
        }
    }

    /// The user's lock was just released: wakes the waiters notified under it.
    #[inline]
    fn released(&self) {
        self.deferred.wake();
    }

    /// A wait joins: called with the user's lock held, before it is released.
    fn enter(&self) {
        self.waits.fetch_add(1, Ordering::Relaxed);
    }

    /// A wait has left the list (woken, timed out, or dropped).
    fn leave(&self) {
        self.waits.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Python's `threading.Condition`: threads wait on it until another thread notifies them,
/// atomically releasing the underlying lock while they wait and re-acquiring it before they
/// return.
///
/// * [`Condition::new()`] is over a fresh [`RLock`], as Python's default.
/// * [`Condition::with_lock`] is over a lock you share with other code, as `Condition(lock)`:
///   `Arc<Lock>`, `Arc<RLock>`, or a plain reference.
/// * [`Condition::with_value`] is over a [`Lock`] protecting a value: the guard is `DerefMut`,
///   and [`wait_for`](ConditionGuard::wait_for) hands the predicate the value.
///
/// [`acquire`](Condition::acquire) returns a [`ConditionGuard`]; waiting and notifying are
/// methods of the guard, so they can only be called with the lock held.
///
/// # Examples
///
/// A producer hands items to a consumer:
///
/// ```
/// use gilfree::Condition;
/// use std::collections::VecDeque;
/// use std::sync::Arc;
///
/// let cond = Arc::new(Condition::with_value(VecDeque::new()));
/// let consumer = {
///     let cond = Arc::clone(&cond);
///     std::thread::spawn(move || {
///         let mut items = cond.acquire();
///         items.wait_for(|q| q.len() == 3);
///         items.drain(..).sum::<i32>()
///     })
/// };
/// for i in 1..=3 {
///     let mut items = cond.acquire();
///     items.push_back(i);
///     items.notify_one();
/// }
/// assert_eq!(consumer.join().unwrap(), 6);
/// ```
///
/// # Timeouts
///
/// [`wait_timeout`](ConditionGuard::wait_timeout) returns `false` on timeout;
/// `Duration::ZERO` returns `false` at once.
/// [`wait_for_timeout`](ConditionGuard::wait_for_timeout) takes one deadline for the whole
/// loop.
///
/// # Fairness
///
/// Waiters, threads in [`wait`](ConditionGuard::wait) and tasks in
/// [`wait_async`](ConditionGuard::wait_async) alike, are woken in the order they started
/// waiting. A woken waiter then competes for the lock like any other caller: there is no
/// hand-off.
///
/// # Async
///
/// A condition over a [`Lock`] (through [`Condition::with_value`], or [`Condition::with_lock`]
/// with an `Arc<Lock>` or `&Lock`) is also asyncio's `Condition`:
/// [`acquire_async`](Condition::acquire_async), then
/// [`wait_async`](ConditionGuard::wait_async) and
/// [`wait_for_async`](ConditionGuard::wait_for_async) on the guard, queued with the threads
/// that wait on the same condition. A condition over an [`RLock`] (the default of
/// [`Condition::new`]) has no async twins: an RLock belongs to a thread, and a task may move
/// between threads. This does not compile:
///
/// ```compile_fail,E0599
/// let cond = gilfree::Condition::new(); // over an RLock
/// let guard = cond.acquire();
/// let _ = guard.wait_async(); // no async wait over an RLock
/// ```
///
/// # Differences from Python
///
/// * Waiting or notifying without holding the lock does not compile.
/// * No spurious wake-ups for threads: `wait()` returns only after a notify (or, for the
///   timed forms, the
///   timeout).
/// * A waiter that times out just as it is notified reports `true` and consumes the notify;
///   CPython may report `false` and lose it.
/// * asyncio's `Condition()` is over an `asyncio.Lock`; here [`Condition::new`] is
///   threading's, over an RLock, and asyncio's is [`Condition::with_value`] (or
///   [`Condition::with_lock`] with an `Arc<Lock>`).
/// * A dropped (cancelled) [`wait_async`](ConditionGuard::wait_async) leaves the lock
///   released, where asyncio's cancelled `wait()` re-acquires it before it raises.
pub struct Condition<L: ConditionLock = RLock<()>> {
    lock: L,
    waiters: Waiters,
}

impl Condition<RLock<()>> {
    /// A condition over a new [`RLock`]: Python's `threading.Condition()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = gilfree::Condition::new();
    /// let a = cond.acquire();
    /// let b = cond.acquire(); // reentrant, like Python's default
    /// drop((b, a));
    /// ```
    pub fn new() -> Self {
        Condition::with_lock(RLock::new())
    }
}

impl Default for Condition<RLock<()>> {
    fn default() -> Self {
        Condition::new()
    }
}

impl<T> Condition<Lock<T>> {
    /// A condition over a [`Lock`] protecting `value`; guards dereference to it.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = gilfree::Condition::with_value(0);
    /// *cond.acquire() += 1;
    /// assert_eq!(*cond.acquire(), 1);
    /// ```
    pub fn with_value(value: T) -> Self {
        Condition::with_lock(Lock::with_value(value))
    }

    /// Consumes the condition and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Condition::with_value(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.lock.into_inner()
    }
}

impl<L: ConditionLock> Condition<L> {
    /// A condition over `lock`: Python's `Condition(lock)`. Pass a shared pointer
    /// (`Arc<Lock>`, `Arc<RLock>`, `&Lock`) when other code locks the same lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{Condition, Lock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// let cond = Condition::with_lock(Arc::clone(&lock));
    /// let guard = cond.acquire();
    /// assert!(lock.locked()); // the condition holds the shared lock
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    pub fn with_lock(lock: L) -> Self {
        Condition {
            lock,
            waiters: Waiters::new(),
        }
    }

    /// Acquires the underlying lock (blocking) and returns a guard to wait and notify with.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = gilfree::Condition::new();
    /// let guard = cond.acquire();
    /// guard.notify_all(); // nobody waiting: a no-op
    /// ```
    pub fn acquire(&self) -> ConditionGuard<'_, L> {
        self.lock.cond_acquire_until(None);
        ConditionGuard::new(self)
    }

    /// Acquires the underlying lock if that is possible without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = gilfree::Condition::with_value(());
    /// let held = cond.acquire();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(cond.try_acquire().is_none()));
    /// });
    /// drop(held);
    /// ```
    pub fn try_acquire(&self) -> Option<ConditionGuard<'_, L>> {
        self.lock
            .cond_try_acquire()
            .then(|| ConditionGuard::new(self))
    }

    /// Acquires the underlying lock, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = gilfree::Condition::new();
    /// assert!(cond.acquire_timeout(Duration::from_millis(5)).is_some());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<ConditionGuard<'_, L>> {
        let acquired = match Wait::timeout(timeout) {
            Wait::Never => self.lock.cond_try_acquire(),
            Wait::Until(at) => self.lock.cond_acquire_until(Some(at)),
            Wait::Forever => self.lock.cond_acquire_until(None),
        };
        acquired.then(|| ConditionGuard::new(self))
    }

    /// How many threads and tasks are waiting to be notified right now (a snapshot); a
    /// notified waiter no longer counts.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Condition::new().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.waiters.list.len()
    }

    /// The lock the condition is built over.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = gilfree::Condition::new();
    /// assert!(!cond.lock().locked());
    /// ```
    pub fn lock(&self) -> &L {
        &self.lock
    }
}

impl<L: AsyncConditionLock> Condition<L> {
    /// Acquires the underlying lock from an async task: the twin of
    /// [`acquire`](Condition::acquire), asyncio's `async with cond:`. The task waits without
    /// holding its executor's thread, queued in the same FIFO as the threads blocked acquiring
    /// the lock. Only for a condition over a [`Lock`] (see [`AsyncConditionLock`]).
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: dropping the future before it completes leaves the lock as it was, and a
    /// wake-up handed to it passes to the next waiter for the lock. A timeout is the runtime's:
    /// `tokio::time::timeout(d, cond.acquire_async())`.
    ///
    /// # Fairness
    ///
    /// As [`Lock::acquire_async`]: FIFO wake-ups, threads and tasks alike, and no hand-off.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = gilfree::Condition::with_value(1);
    /// futures::executor::block_on(async {
    ///     *cond.acquire_async().await += 1;
    /// });
    /// assert_eq!(*cond.acquire(), 2);
    /// ```
    #[doc(alias = "acquire")]
    pub fn acquire_async(&self) -> impl Future<Output = ConditionGuard<'_, L>> + '_ {
        CondAcquire {
            cond: self,
            waiter: self.lock.cond_raw().0.waiter(),
        }
    }
}

/// The future of [`Condition::acquire_async`]: its waiter leaves the lock's list when dropped.
struct CondAcquire<'a, L: AsyncConditionLock> {
    cond: &'a Condition<L>,
    waiter: Waiter<'a>,
}

impl<'a, L: AsyncConditionLock> Future for CondAcquire<'a, L> {
    type Output = ConditionGuard<'a, L>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConditionGuard<'a, L>> {
        let this = self.get_mut();
        let cond = this.cond;
        cond.lock
            .cond_raw()
            .0
            .poll_lock(&mut this.waiter, cx)
            .map(|()| ConditionGuard::new(cond))
    }
}

impl<L: ConditionLock> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.lock.cond_locked())
            .field("n_waiting", &self.n_waiting())
            .finish_non_exhaustive()
    }
}

/// The lock of a [`Condition`], held. Wait and notify through it; dropping it releases the
/// lock (one level, for an RLock). Dereferences to the value of
/// [`Condition::with_value`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let cond = gilfree::Condition::with_value(false);
/// let mut ready = cond.acquire();
/// assert!(!ready.wait_for_timeout(|r| *r, Duration::from_millis(10)));
/// *ready = true;
/// assert!(ready.wait_for(|r| *r)); // true at once: no wait
/// ```
#[must_use = "dropping the guard releases the condition's lock at once"]
pub struct ConditionGuard<'a, L: ConditionLock = RLock<()>> {
    cond: &'a Condition<L>,
    // An RLock is owned by this thread: its guard stays on it. A Lock's guard is `Send` as a
    // `LockGuard` is.
    _marker: PhantomData<L::Marker>,
}

impl<'a, L: ConditionLock> ConditionGuard<'a, L> {
    fn new(cond: &'a Condition<L>) -> Self {
        ConditionGuard {
            cond,
            _marker: PhantomData,
        }
    }

    /// Releases the lock (every level), sleeps until notified, re-acquires the lock (restoring
    /// every level) and returns `true` if notified, `false` if `deadline` passed.
    #[track_caller]
    fn wait_deadline(&mut self, wait: Wait) -> bool {
        let cond = self.cond;
        // Only reachable by releasing the lock behind the guard's back (e.g.
        // `cond.lock().release()` on the default RLock); Python raises RuntimeError here.
        assert!(
            cond.lock.cond_held(),
            "RuntimeError: cannot wait on un-acquired lock (the condition's lock was released \
             behind the guard's back)"
        );
        let deadline = match wait {
            // COND-11: a zero timeout does not block.
            Wait::Never => return false,
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        cond.waiters.enter();
        let mut saved = 0;
        // The lock is released once this thread is queued: a notifier needs the lock, then
        // the list's lock, so it finds this thread queued. The release runs outside the list's
        // lock, since it may wake the lock's waiters (tasks among them, whose wakers must not
        // run under it).
        let woke = cond.waiters.list.wait_releasing(
            &mut Place::new(),
            || {
                saved = cond.lock.cond_unlock_all();
                cond.waiters.released();
            },
            deadline,
        );
        cond.waiters.leave();
        cond.lock.cond_restore(saved);
        // A notify that races with the deadline counts: the list says `Notified` and the
        // notify is used, not lost.
        woke == Woke::Notified
    }

    /// Python's `wait()`: releases the lock — every level of an RLock — sleeps until
    /// notified, and re-acquires it before returning.
    ///
    /// # Panics
    ///
    /// With `RuntimeError: cannot wait on un-acquired lock`, at the caller's line, if the lock
    /// behind this guard was released behind its back (`release()` on a data-less lock); so do
    /// [`wait_timeout`](Self::wait_timeout), [`wait_for`](Self::wait_for) and
    /// [`wait_for_timeout`](Self::wait_for_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let cond = Arc::new(gilfree::Condition::with_value(0));
    /// let mut guard = cond.acquire();
    /// let notifier = {
    ///     let cond = Arc::clone(&cond);
    ///     std::thread::spawn(move || {
    ///         let mut g = cond.acquire();
    ///         *g = 42;
    ///         g.notify_one();
    ///     })
    /// };
    /// while *guard != 42 {
    ///     guard.wait();
    /// }
    /// notifier.join().unwrap();
    /// ```
    #[track_caller]
    pub fn wait(&mut self) {
        self.wait_deadline(Wait::Forever);
    }

    /// Python's `wait(timeout)`: like [`wait`](Self::wait), but gives up after `timeout` and
    /// returns `false`. The lock is re-acquired either way. `Duration::ZERO`
    /// returns `false` without releasing the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = gilfree::Condition::new();
    /// let mut guard = cond.acquire();
    /// assert!(!guard.wait_timeout(Duration::from_millis(10))); // nobody notifies
    /// ```
    #[track_caller]
    pub fn wait_timeout(&mut self, timeout: Duration) -> bool {
        self.wait_deadline(Wait::timeout(timeout))
    }

    /// Python's `wait_for(predicate)`: waits until `predicate` is true, checking it first and
    /// after every wake-up. The predicate receives the protected value.
    ///
    /// # Panics
    ///
    /// A panic in `predicate` unwinds out of `wait_for` with the lock still held by this guard
    /// (which releases it when it is dropped). If the panic follows a notification, the
    /// notification is not lost with it: it passes to the next waiter, as if this thread had
    /// not been waiting. (Python's exception consumes it.)
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let cond = Arc::new(gilfree::Condition::with_value(0));
    /// let worker = {
    ///     let cond = Arc::clone(&cond);
    ///     std::thread::spawn(move || {
    ///         for _ in 0..5 {
    ///             let mut n = cond.acquire();
    ///             *n += 1;
    ///             n.notify_all();
    ///         }
    ///     })
    /// };
    /// assert!(cond.acquire().wait_for(|n| *n == 5));
    /// worker.join().unwrap();
    /// ```
    #[track_caller]
    pub fn wait_for(&mut self, predicate: impl FnMut(&mut L::Data) -> bool) -> bool {
        self.wait_for_deadline(predicate, Wait::Forever)
    }

    /// Python's `wait_for(predicate, timeout)`: one deadline for the whole loop; returns the
    /// predicate's last value.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = gilfree::Condition::with_value(0);
    /// let mut n = cond.acquire();
    /// assert!(!n.wait_for_timeout(|n| *n > 0, Duration::from_millis(10)));
    /// ```
    #[track_caller]
    pub fn wait_for_timeout(
        &mut self,
        predicate: impl FnMut(&mut L::Data) -> bool,
        timeout: Duration,
    ) -> bool {
        self.wait_for_deadline(predicate, Wait::timeout(timeout))
    }

    #[track_caller]
    fn wait_for_deadline(
        &mut self,
        mut predicate: impl FnMut(&mut L::Data) -> bool,
        wait: Wait,
    ) -> bool {
        let mut woken = false;
        loop {
            // A notified waiter holds a wake-up until its predicate has had its say; should
            // the predicate panic, the wake-up passes to the next waiter (woken when the
            // unwinding guard releases the lock) instead of dying with this one.
            let pass_on = woken.then(|| PassOnWakeUp(&self.cond.waiters));
            // SAFETY: the guard proves the lock is held, and `&mut self` makes this the only
            // access through it.
            let ready = self
                .cond
                .lock
                .cond_with_data(|p| predicate(unsafe { &mut *p }));
            std::mem::forget(pass_on);
            if ready {
                return true;
            }
            woken = self.wait_deadline(wait);
            if !woken {
                // Timed out (or a zero timeout): the predicate's final say.
                // SAFETY: as above.
                return self
                    .cond
                    .lock
                    .cond_with_data(|p| predicate(unsafe { &mut *p }));
            }
        }
    }

    /// Python's `notify(n)`: wakes at most `n` waiters not notified yet, threads and tasks alike,
    /// longest-waiting first. They return from their wait once they re-acquire the lock, so
    /// after this guard is dropped. With nobody waiting, or `n == 0`, nothing happens, and no
    /// lock is taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = gilfree::Condition::new();
    /// cond.acquire().notify(3);
    /// ```
    pub fn notify(&self, n: usize) {
        self.cond.waiters.notify(n);
    }

    /// Python's `notify()`: wakes one waiter (thread or task), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// gilfree::Condition::new().acquire().notify_one();
    /// ```
    pub fn notify_one(&self) {
        self.cond.waiters.notify(1);
    }

    /// Python's `notify_all()`: wakes every thread and task waiting now.
    ///
    /// # Examples
    ///
    /// ```
    /// gilfree::Condition::new().acquire().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.cond.waiters.notify(usize::MAX);
    }
}

impl<'a, L: AsyncConditionLock> ConditionGuard<'a, L> {
    /// Waits for a notification from an async task: the twin of [`wait`](Self::wait),
    /// asyncio's `await cond.wait()`. Releases the lock, waits until notified (queued in the
    /// same FIFO as the threads in [`wait`](Self::wait)), re-acquires the lock asynchronously
    /// (queued with the lock's other waiters, threads included) and returns the guard.
    ///
    /// The guard moves into the future, which releases the lock on its first poll. The wait
    /// may return without a notification of its own (a notification passed on by a waiter
    /// that gave up counts as one, and later versions may wake spuriously, as asyncio allows):
    /// re-check the state after it, or use [`wait_for_async`](Self::wait_for_async).
    ///
    /// Only for a condition over a [`Lock`] (see [`AsyncConditionLock`]); waiting without
    /// holding the lock cannot be written, since only a guard has this method.
    ///
    /// # Cancellation and timeouts
    ///
    /// Rust has no async `Drop`, so a dropped wait cannot re-acquire the lock as asyncio's
    /// cancelled wait does: **dropping the future leaves the lock released** (before its first
    /// poll, dropping it drops the guard, which releases the lock too). A notification it was
    /// handed and did not use is not lost: dropped after the notify woke it but before it saw
    /// it, or while it re-acquires the lock after the notify, it passes the notification to
    /// the oldest waiter still waiting. Dropped before any notify, it just leaves the queue.
    /// A timeout is the runtime's, `tokio::time::timeout(d, guard.wait_async())`; after it,
    /// acquire again.
    ///
    /// # Fairness
    ///
    /// Notifications wake waiters, threads and tasks alike, in the order they started
    /// waiting; the woken waiter then competes for the lock, with no hand-off.
    ///
    /// # Panics
    ///
    /// On its first poll, as [`wait`](Self::wait), if the lock was released behind the guard's
    /// back.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Condition;
    /// use std::sync::Arc;
    ///
    /// let cond = Arc::new(Condition::with_value(false));
    /// let notifier = {
    ///     let cond = Arc::clone(&cond);
    ///     std::thread::spawn(move || {
    ///         let mut ready = cond.acquire();
    ///         *ready = true;
    ///         ready.notify_all();
    ///     })
    /// };
    /// futures::executor::block_on(async {
    ///     let mut ready = cond.acquire_async().await;
    ///     while !*ready {
    ///         ready = ready.wait_async().await;
    ///     }
    /// });
    /// notifier.join().unwrap();
    /// ```
    #[doc(alias = "wait")]
    pub fn wait_async(self) -> impl Future<Output = ConditionGuard<'a, L>> + 'a {
        CondWait::new(self, None::<fn(&mut L::Data) -> bool>)
    }

    /// Waits until `predicate` is true, from an async task: the twin of
    /// [`wait_for`](Self::wait_for), asyncio's `await cond.wait_for(predicate)`. Checks the
    /// predicate first (with the lock held, returning at once if it is true) and after every
    /// wake-up; returns the guard, with the predicate true.
    ///
    /// # Cancellation and timeouts
    ///
    /// As [`wait_async`](Self::wait_async): dropping the future leaves the lock released
    /// (unless it is dropped before its first poll, or while the predicate is being checked,
    /// when it drops the guard), and passes on a notification it was handed and did not
    /// use. A timeout is the runtime's: `tokio::time::timeout(d, guard.wait_for_async(p))`.
    ///
    /// # Panics
    ///
    /// A panic in `predicate` unwinds out of the poll with the lock held by the future (which
    /// releases it when dropped); a notification that woke this wait passes to the next
    /// waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Condition;
    /// use std::sync::Arc;
    ///
    /// let cond = Arc::new(Condition::with_value(0));
    /// let worker = {
    ///     let cond = Arc::clone(&cond);
    ///     std::thread::spawn(move || {
    ///         for _ in 0..3 {
    ///             let mut n = cond.acquire();
    ///             *n += 1;
    ///             n.notify_all();
    ///         }
    ///     })
    /// };
    /// let n = futures::executor::block_on(async {
    ///     *cond.acquire_async().await.wait_for_async(|n| *n == 3).await
    /// });
    /// assert_eq!(n, 3);
    /// worker.join().unwrap();
    /// ```
    #[doc(alias = "wait_for")]
    pub fn wait_for_async(
        self,
        predicate: impl FnMut(&mut L::Data) -> bool + 'a,
    ) -> impl Future<Output = ConditionGuard<'a, L>> + 'a {
        CondWait::new(self, Some(predicate))
    }
}

/// Where a [`CondWait`] stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The lock is held (by `guard`): check the predicate, then queue and release.
    Held,
    /// Queued for a notification, the lock released.
    Waiting,
    /// Notified; re-acquiring the lock. A drop here forwards the notification.
    Relock,
    /// Returned the guard.
    Done,
}

/// The future of [`ConditionGuard::wait_async`] (no predicate) and
/// [`ConditionGuard::wait_for_async`]. Both waiters leave their lists when it is dropped.
struct CondWait<'a, L: AsyncConditionLock, P> {
    cond: &'a Condition<L>,
    /// The guard while the lock is held by this future (`Held`).
    guard: Option<ConditionGuard<'a, L>>,
    predicate: Option<P>,
    stage: Stage,
    /// Whether this wait was notified, for a predicate's panic to pass the notification on.
    woken: bool,
    /// Its place among the condition's waiters; a fresh one for every wait.
    notify: Waiter<'a>,
    /// Its place among the lock's waiters; a fresh one for every re-acquire.
    relock: Waiter<'a>,
}

// The predicate is never pinned (only called through `&mut`), so the future is `Unpin`
// whatever the predicate is.
impl<L: AsyncConditionLock, P> Unpin for CondWait<'_, L, P> {}

impl<'a, L: AsyncConditionLock, P: FnMut(&mut L::Data) -> bool> CondWait<'a, L, P> {
    fn new(guard: ConditionGuard<'a, L>, predicate: Option<P>) -> Self {
        let cond = guard.cond;
        CondWait {
            cond,
            guard: Some(guard),
            predicate,
            stage: Stage::Held,
            woken: false,
            notify: Waiter::new(&cond.waiters.list),
            relock: cond.lock.cond_raw().0.waiter(),
        }
    }

    /// Whether the predicate (if any) says there is no need to wait. Called with the lock held.
    fn satisfied(&mut self) -> bool {
        let Some(predicate) = self.predicate.as_mut() else {
            // A plain wait: done once it was notified.
            return self.woken;
        };
        let pass_on = self.woken.then(|| PassOnWakeUp(&self.cond.waiters));
        // SAFETY: the lock is held by this future (`guard`), the only access to the data.
        let ready = self
            .cond
            .lock
            .cond_with_data(|p| predicate(unsafe { &mut *p }));
        std::mem::forget(pass_on);
        ready
    }
}

impl<'a, L: AsyncConditionLock, P: FnMut(&mut L::Data) -> bool> Future for CondWait<'a, L, P> {
    type Output = ConditionGuard<'a, L>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConditionGuard<'a, L>> {
        let this = self.get_mut();
        let cond = this.cond;
        loop {
            match this.stage {
                Stage::Held => {
                    if this.satisfied() {
                        this.stage = Stage::Done;
                        return Poll::Ready(this.guard.take().expect("held"));
                    }
                    assert!(
                        cond.lock.cond_held(),
                        "RuntimeError: cannot wait on un-acquired lock (the condition's lock \
                         was released behind the guard's back)"
                    );
                    // A new wait queues at the back of both lists.
                    this.notify = Waiter::new(&cond.waiters.list);
                    this.relock = cond.lock.cond_raw().0.waiter();
                    cond.waiters.enter();
                    let guard = this.guard.take().expect("held");
                    // Queued before the lock is released, as a thread's wait: a notifier
                    // (who needs the lock) cannot miss this task.
                    this.notify.poll_wait_releasing(cx, || {
                        cond.lock.cond_unlock();
                        cond.waiters.released();
                    });
                    // Released above: the guard must not release it again.
                    std::mem::forget(guard);
                    this.stage = Stage::Waiting;
                    return Poll::Pending;
                }
                Stage::Waiting => {
                    if this.notify.poll_wait(cx, || true).is_pending() {
                        return Poll::Pending;
                    }
                    cond.waiters.leave();
                    this.stage = Stage::Relock;
                }
                Stage::Relock => {
                    if cond
                        .lock
                        .cond_raw()
                        .0
                        .poll_lock(&mut this.relock, cx)
                        .is_pending()
                    {
                        return Poll::Pending;
                    }
                    this.guard = Some(ConditionGuard::new(cond));
                    this.woken = true;
                    this.stage = Stage::Held;
                }
                Stage::Done => panic!("`wait_async` polled after it completed"),
            }
        }
    }
}

impl<L: AsyncConditionLock, P> Drop for CondWait<'_, L, P> {
    fn drop(&mut self) {
        match self.stage {
            Stage::Waiting => {
                // Leaves the queue; a notification that woke it unseen passes on.
                self.notify.cancel();
                self.cond.waiters.leave();
            }
            Stage::Relock => {
                // Leaves the lock's queue (passing on a lock wake-up), then forwards the
                // notification it consumed and cannot use: the lock stays released.
                self.relock.cancel();
                self.cond.waiters.list.notify_one();
            }
            // `Held`: the guard (a field) releases the lock as it drops.
            Stage::Held | Stage::Done => {}
        }
    }
}

/// Armed while a notified waiter's predicate runs; dropped only when the predicate panics
/// (it is forgotten otherwise). Runs with the user's lock still held, as `notify` requires.
struct PassOnWakeUp<'a>(&'a Waiters);

impl Drop for PassOnWakeUp<'_> {
    #[cold]
    fn drop(&mut self) {
        self.0.notify(1);
    }
}

impl<T> Deref for ConditionGuard<'_, Lock<T>> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held; the borrow lives no longer than the guard.
        self.cond.lock.data().with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for ConditionGuard<'_, Lock<T>> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, with `&mut self` making this the only reference.
        self.cond.lock.data().with_mut(|p| unsafe { &mut *p })
    }
}

impl<L: ConditionLock> Drop for ConditionGuard<'_, L> {
    #[inline]
    fn drop(&mut self) {
        self.cond.lock.cond_unlock();
        self.cond.waiters.released();
    }
}

impl<L: ConditionLock> fmt::Debug for ConditionGuard<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("n_waiting", &self.cond.n_waiting())
            .finish_non_exhaustive()
    }
}
