//! `threading.Condition`: wait for a notification while atomically releasing a lock.

use super::Wait;
use super::lock::Lock;
use super::rlock::RLock;
use super::rt::{Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
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
}

/// A lock that a [`Condition`] can be built over: [`RLock<()>`](RLock) (the default, as in
/// Python), a [`Lock<T>`](Lock) (through [`Condition::with_value`]), or a pointer to a shared
/// data-less `Lock` or `RLock` — `Arc<Lock>`, `&Lock`, `Arc<RLock>`… (through
/// [`Condition::with_lock`], Python's `Condition(lock)`). Sealed.
pub trait ConditionLock: sealed::Sealed {}

/// The data-less locks a pointer passed to [`Condition::with_lock`] may point to.
#[doc(hidden)]
pub trait SharedConditionLock {
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

/// One sleeping `wait()`. Woken alone (its own condition variable), so `notify(n)` wakes
/// exactly n threads and never a herd.
struct Waiter {
    /// Set, under the queue mutex, by the notify that removed this waiter from the queue.
    notified: AtomicBool,
    wake: Condvar,
}

/// The sleeping waiters, in arrival order (CPython wakes in arrival order, and so do
/// we), and the notified ones whose wake-up is deferred until the lock is released.
struct Queue {
    waiting: VecDeque<Arc<Waiter>>,
    /// Removed from `waiting` and marked `notified` by a notify, not yet woken. The notifier
    /// still holds the user's lock, so waking them now would only make them spin on it: they
    /// are woken when it is released (guard drop, or the notifier's own `wait`).
    pending: VecDeque<Arc<Waiter>>,
}

struct WaitQueue {
    queue: Mutex<Queue>,
    /// Length of `queue.waiting`. Waiters join only while holding the user's lock, and notifiers
    /// hold it too, so a notifier that reads 0 here knows nobody is waiting without locking.
    len: AtomicUsize,
    /// Length of `queue.pending`: a release with nothing pending costs one load.
    pending: AtomicUsize,
}

/// How many waiters one pass over the queue mutex wakes (no allocation, short hold times).
const WAKE_BATCH: usize = 8;

impl WaitQueue {
    fn new() -> Self {
        WaitQueue {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                pending: VecDeque::new(),
            }),
            len: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
        }
    }

    /// Moves up to `n` waiters, oldest first, from `waiting` to `pending`. Called with the
    /// user's lock held.
    fn notify(&self, n: usize) {
        if n == 0 || self.len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut queue = self.queue.lock();
        let take = n.min(queue.waiting.len());
        for _ in 0..take {
            let waiter = queue.waiting.pop_front().expect("counted above");
            waiter.notified.store(true, Ordering::Relaxed);
            queue.pending.push_back(waiter);
        }
        self.len.store(queue.waiting.len(), Ordering::Relaxed);
        self.pending.store(queue.pending.len(), Ordering::Relaxed);
    }

    /// Wakes the pending waiters. Called after the user's lock was released.
    #[inline]
    fn wake_pending(&self) {
        if self.pending.load(Ordering::Relaxed) != 0 {
            self.wake_pending_slow();
        }
    }

    #[cold]
    fn wake_pending_slow(&self) {
        loop {
            let mut batch: [Option<Arc<Waiter>>; WAKE_BATCH] = Default::default();
            {
                let mut queue = self.queue.lock();
                for slot in batch.iter_mut() {
                    match queue.pending.pop_front() {
                        Some(waiter) => *slot = Some(waiter),
                        None => break,
                    }
                }
                self.pending.store(queue.pending.len(), Ordering::Relaxed);
            }
            if batch[0].is_none() {
                return;
            }
            // Notified outside the queue mutex, so the woken threads do not bump into it.
            for waiter in batch.iter().flatten() {
                waiter.wake.notify_one();
            }
        }
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
/// Waiters are woken in the order they started waiting. A woken waiter then competes
/// for the lock like any other thread.
///
/// # Differences from Python
///
/// * Waiting or notifying without holding the lock does not compile.
/// * No spurious wake-ups: `wait()` returns only after a notify (or, for the timed forms, the
///   timeout).
/// * A waiter that times out just as it is notified reports `true` and consumes the notify;
///   CPython may report `false` and lose it.
pub struct Condition<L: ConditionLock = RLock<()>> {
    lock: L,
    waiters: WaitQueue,
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
            waiters: WaitQueue::new(),
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

    /// How many threads are waiting right now (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Condition::new().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.waiters.len.load(Ordering::Relaxed)
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
    // The lock may be an RLock owned by this thread: the guard stays on it.
    _not_send: PhantomData<*const ()>,
}

impl<'a, L: ConditionLock> ConditionGuard<'a, L> {
    fn new(cond: &'a Condition<L>) -> Self {
        ConditionGuard {
            cond,
            _not_send: PhantomData,
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
        let me = Arc::new(Waiter {
            notified: AtomicBool::new(false),
            wake: Condvar::new(),
        });
        {
            let mut queue = cond.waiters.queue.lock();
            queue.waiting.push_back(Arc::clone(&me));
            cond.waiters
                .len
                .store(queue.waiting.len(), Ordering::Relaxed);
        }
        // Joined the queue while still holding the user's lock: a notify can only come after
        // this release, and it marks us `notified` under the queue mutex, which we check
        // before sleeping.
        let saved = cond.lock.cond_unlock_all();
        cond.waiters.wake_pending();
        let mut queue = cond.waiters.queue.lock();
        let mut notified = me.notified.load(Ordering::Relaxed);
        while !notified {
            let timed_out = me.wake.wait_until(&mut queue, deadline);
            notified = me.notified.load(Ordering::Relaxed);
            if timed_out {
                break;
            }
        }
        if !notified {
            // Timed out while still queued: leave without consuming anybody's notify.
            if let Some(i) = queue.waiting.iter().position(|w| Arc::ptr_eq(w, &me)) {
                queue.waiting.remove(i);
            }
            cond.waiters
                .len
                .store(queue.waiting.len(), Ordering::Relaxed);
        }
        drop(queue);
        cond.lock.cond_restore(saved);
        notified
    }

    /// Python's `wait()`: releases the lock — every level of an RLock — sleeps until
    /// notified, and re-acquires it before returning.
    ///
    /// # Panics
    ///
    /// If the lock was released behind the guard's back (`cond.lock().release()` on an
    /// `RLock<()>`), where Python raises `RuntimeError` "cannot wait on un-acquired lock". The
    /// timed and predicate forms panic likewise.
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

    /// Python's `notify(n)`: wakes at most `n` waiting threads, longest-waiting first. They return
    /// from `wait` once they re-acquire the lock, so after this guard is dropped. With nobody
    /// waiting, or `n == 0`, nothing happens, and no lock is taken.
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

    /// Python's `notify()`: wakes one waiting thread, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// gilfree::Condition::new().acquire().notify_one();
    /// ```
    pub fn notify_one(&self) {
        self.cond.waiters.notify(1);
    }

    /// Python's `notify_all()`: wakes every thread waiting now.
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

/// Armed while a notified waiter's predicate runs; dropped only when the predicate panics
/// (it is forgotten otherwise). Runs with the user's lock still held, as `notify` requires.
struct PassOnWakeUp<'a>(&'a WaitQueue);

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
        self.cond.waiters.wake_pending();
    }
}

impl<L: ConditionLock> fmt::Debug for ConditionGuard<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("n_waiting", &self.cond.n_waiting())
            .finish_non_exhaustive()
    }
}
