//! The one waiter list: parked threads and pending tasks queue in one FIFO.
//!
//! Every primitive that makes a caller wait (a blocking call on a thread, or an `…_async`
//! future polled by a task) queues the caller here. A primitive keeps its own state word and
//! its own lock-free fast path; it reaches for its [`WaitList`] only when a caller has to wait,
//! or when its state word says that someone may be waiting.
//!
//! The list owns the rules that every primitive would otherwise repeat:
//!
//! * **FIFO wake-ups across kinds.** Threads and tasks queue in arrival order, and
//!   [`notify`](WaitList::notify) wakes the oldest first, whatever their kind.
//! * **A waiter keeps its place.** A woken waiter that finds the resource taken again (a
//!   newcomer barged in) queues again under its old key, so it goes back to where it stood, not
//!   to the end. A task polled again with a new `Waker` swaps the waker in place.
//! * **No lost wake-up when a waiter leaves.** A waiter that leaves (a thread's deadline passes,
//!   or a task's future is dropped) after a wake-up was handed to it, but before it used it,
//!   passes the wake-up to the next waiter ([`cancel`](WaitList::cancel)).
//! * **Check and queue are one step.** The caller's `blocked` check runs under the list's lock,
//!   and every notifier takes that lock after changing the state it checks, so a notifier
//!   either sees the new waiter or the waiter sees the new state.
//! * **Wake outside the lock, in bounded batches.** Wakers and parked threads are woken after
//!   the lock is released, at most [`BATCH`] per lock hold; a waker that panics does not keep
//!   the rest of its batch asleep.
//!
//! Notified waiters are taken out of the list: a waiter learns it was woken by no longer finding
//! its key there. Keys grow monotonically, so the list stays sorted by key and a waiter finds
//! its entry by binary search.
//!
//! Safe code only: a waiter is an entry in a `VecDeque` (its storage is reused, so queueing
//! allocates only when the list grows past its largest length so far). A blocked thread sleeps
//! on its own condition variable with the list's lock, so that a notifier wakes exactly the
//! threads it took out of the list (no thundering herd); the condition variable is allocated
//! once per blocking call that has to sleep (the slow path, next to a sleep of microseconds).

use super::rt::{self, Arc, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering};
use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Poll, Waker};

/// The most waiters woken per hold of the list's lock.
pub(crate) const BATCH: usize = 16;

/// Where a waiting call stands in a [`WaitList`]: kept by the call (a blocking method's local,
/// an async future's field) across its waits, so that it keeps its place.
#[derive(Default)]
pub(crate) struct Place {
    /// This waiter's key in the list; 0 before it first queues.
    key: u64,
    /// Whether this waiter believes it is queued. A notifier may have taken the entry out since
    /// (the waiter was woken); the list is the truth, checked under its lock.
    queued: bool,
    /// Where this waiter's thread sleeps, with the list's lock (threads only). A late signal
    /// (after a timeout) is harmless: a thread only leaves its sleep once its entry is gone.
    sleep: Option<Arc<Condvar>>,
}

impl Place {
    /// A waiter that has not queued yet.
    pub(crate) fn new() -> Self {
        Place::default()
    }

    /// Whether this waiter is (or, until it looks, was) queued: a future's `Drop` has to
    /// [`cancel`](WaitList::cancel) it.
    #[inline]
    pub(crate) fn is_queued(&self) -> bool {
        self.queued
    }
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Place")
            .field("key", &self.key)
            .field("queued", &self.queued)
            .finish()
    }
}

/// What a wait ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Woke {
    /// A notifier woke this waiter (its entry is gone): try again.
    Notified,
    /// The `blocked` check said there is no need to wait: try again.
    NotBlocked,
    /// The deadline passed first; the waiter has left the list.
    TimedOut,
}

/// How a queued waiter is woken.
enum Signal {
    Thread(Arc<Condvar>),
    Task(Waker),
}

impl Signal {
    fn wake(self) {
        match self {
            Signal::Thread(sleep) => {
                sleep.notify_one();
            }
            Signal::Task(waker) => waker.wake(),
        }
    }
}

struct Entry {
    key: u64,
    signal: Signal,
}

struct Queue {
    /// Sorted by key: new waiters get the next key and go to the back; a waiter queueing again
    /// keeps its key and goes back to its place.
    entries: VecDeque<Entry>,
    next_key: u64,
}

impl Queue {
    fn find(&self, key: u64) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&key, |e| e.key)
    }
}

/// Wakes what it holds when dropped, after the list's lock is released (the field order of its
/// users guarantees it), and also when one of the wakers panics: the rest still wake.
struct Batch {
    signals: [Option<Signal>; BATCH],
    len: usize,
}

impl Batch {
    fn new() -> Self {
        Batch {
            signals: std::array::from_fn(|_| None),
            len: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.len == BATCH
    }

    fn push(&mut self, signal: Signal) {
        self.signals[self.len] = Some(signal);
        self.len += 1;
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        for slot in &mut self.signals[..self.len] {
            if let Some(signal) = slot.take() {
                signal.wake();
            }
        }
    }
}

/// One FIFO of waiting threads and tasks. See the [module docs](self).
pub(crate) struct WaitList {
    queue: Mutex<Queue>,
}

impl Default for WaitList {
    fn default() -> Self {
        WaitList::new()
    }
}

impl WaitList {
    pub(crate) fn new() -> Self {
        WaitList {
            queue: Mutex::new(Queue {
                entries: VecDeque::new(),
                next_key: 1,
            }),
        }
    }

    /// How many waiters are queued, as a snapshot (for `Debug` and statistics; a primitive's
    /// correctness rests on its own state word, not on this). Takes the list's lock: there is
    /// no counter to keep up to date on every wait, which would cost each wait an atomic
    /// write (and each loom model a branch per write).
    pub(crate) fn len(&self) -> usize {
        self.queue.lock().entries.len()
    }

    /// Wakes the oldest waiter, if any; whether one was woken.
    pub(crate) fn notify_one(&self) -> bool {
        self.notify(1) == 1
    }

    /// Wakes every waiter queued when the call began (not those that queue meanwhile).
    pub(crate) fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// Wakes up to `n` of the oldest waiters queued when the call began; how many it woke.
    pub(crate) fn notify(&self, n: usize) -> usize {
        let mut woken = 0;
        let mut limit = None;
        while woken < n {
            let mut batch = Batch::new();
            let mut queue = self.queue.lock();
            // Keys handed out from here on belong to waiters that queued after this call began.
            let limit = *limit.get_or_insert(queue.next_key);
            while woken < n && !batch.is_full() {
                match queue.entries.front() {
                    Some(entry) if entry.key < limit => {}
                    _ => break,
                }
                if let Some(entry) = queue.entries.pop_front() {
                    batch.push(entry.signal);
                    woken += 1;
                }
            }
            let more = woken < n && queue.entries.front().is_some_and(|e| e.key < limit);
            drop(queue);
            drop(batch);
            if !more {
                break;
            }
        }
        woken
    }

    /// Like [`notify`](Self::notify), but the wake-ups are only taken out of the list (the
    /// waiters count as notified from now on) and handed to `deferred`, which gives them when
    /// [`Deferred::wake`] is called. For a condition, whose notifier holds the user's lock:
    /// woken at once, the waiters would only wake up to block on that lock; woken when it is
    /// released, each gets it on its first try.
    pub(crate) fn notify_deferred(&self, n: usize, deferred: &Deferred) -> usize {
        if n == 0 {
            return 0;
        }
        let mut queue = self.queue.lock();
        let mut pending = deferred.signals.lock();
        let take = n.min(queue.entries.len());
        pending.extend(queue.entries.drain(..take).map(|entry| entry.signal));
        deferred.len.store(pending.len(), Ordering::Relaxed);
        take
    }

    /// Queues `signal` under the waiter's key (a new one the first time), in key order.
    fn enqueue(&self, queue: &mut MutexGuard<'_, Queue>, place: &mut Place, signal: Signal) {
        if place.key == 0 {
            place.key = queue.next_key;
            queue.next_key += 1;
        }
        let at = match queue.find(place.key) {
            Err(at) => at,
            // Unreachable: a waiter's key is in the list only while it is queued, and a queued
            // waiter does not queue again. Replace rather than duplicate if it ever happens.
            Ok(at) => {
                queue.entries.remove(at);
                at
            }
        };
        queue.entries.insert(
            at,
            Entry {
                key: place.key,
                signal,
            },
        );
        place.queued = true;
    }

    /// Takes the waiter's entry out if it is still there: its signal if it was (the waiter had
    /// not been woken), `None` if a notifier had taken it (the waiter was woken). The caller
    /// drops the signal after the lock: a task's `Waker` may be the last one, and its `Drop`
    /// is user code, which may use this list.
    #[must_use = "drop it after the list's lock"]
    fn remove(&self, queue: &mut MutexGuard<'_, Queue>, place: &mut Place) -> Option<Signal> {
        place.queued = false;
        match queue.find(place.key) {
            Ok(at) => queue.entries.remove(at).map(|entry| entry.signal),
            Err(_) => None,
        }
    }

    /// Blocks the calling thread until a notifier wakes it or `deadline` passes.
    ///
    /// `blocked` runs under the list's lock, before queueing: `false` returns
    /// [`Woke::NotBlocked`] at once. A notifier that changes the state `blocked` reads before
    /// notifying cannot miss this waiter. `blocked` may release a lock the caller holds (a
    /// queue's core, a condition's lock: the waiter then queues atomically with the release),
    /// but must never acquire one: the list's lock is the innermost.
    ///
    /// On [`Woke::TimedOut`] the waiter has left the list without having been woken; if a
    /// wake-up raced with the deadline, the result is [`Woke::Notified`] and the caller uses it.
    pub(crate) fn wait(
        &self,
        place: &mut Place,
        blocked: impl FnOnce() -> bool,
        deadline: Option<rt::Instant>,
    ) -> Woke {
        with_sleep(place, |place, sleep| {
            let mut queue = self.queue.lock();
            if !blocked() {
                return Woke::NotBlocked;
            }
            self.enqueue(&mut queue, place, Signal::Thread(Arc::clone(sleep)));
            self.sleep_queued(queue, place, sleep, deadline)
        })
    }

    /// Sleeps until this queued waiter's entry is gone (woken) or `deadline` passes.
    fn sleep_queued(
        &self,
        mut queue: MutexGuard<'_, Queue>,
        place: &mut Place,
        sleep: &Condvar,
        deadline: Option<rt::Instant>,
    ) -> Woke {
        // Woken means taken out of the list by a notifier; anything else is spurious (a late
        // signal meant for an earlier wait of this place).
        while queue.find(place.key).is_ok() {
            if sleep.wait_until(&mut queue, deadline) {
                // A thread's own signal: nothing of the user's to drop.
                return if self.remove(&mut queue, place).is_some() {
                    Woke::TimedOut
                } else {
                    Woke::Notified
                };
            }
        }
        place.queued = false;
        Woke::Notified
    }

    /// [`wait`](Self::wait) for a waiter that must give up a lock of the caller's once it is
    /// sure to be queued (a condition's wait): queues, then runs `release` outside the list's
    /// lock, then sleeps. Correct because a notifier has to hold that lock to notify, so it
    /// comes after `release` and finds the waiter queued; and `release` may wake waiters of
    /// other lists (the lock's own), whose wakers must not run under this list's lock.
    pub(crate) fn wait_releasing(
        &self,
        place: &mut Place,
        release: impl FnOnce(),
        deadline: Option<rt::Instant>,
    ) -> Woke {
        with_sleep(place, |place, sleep| {
            let mut queue = self.queue.lock();
            self.enqueue(&mut queue, place, Signal::Thread(Arc::clone(sleep)));
            drop(queue);
            release();
            self.sleep_queued(self.queue.lock(), place, sleep, deadline)
        })
    }

    /// The task's side of [`wait_releasing`](Self::wait_releasing): queues the task's waker,
    /// then runs `release` outside the list's lock. Always `Pending`; poll again with
    /// [`poll_wait`](Self::poll_wait).
    pub(crate) fn poll_wait_releasing(
        &self,
        place: &mut Place,
        cx: &mut Context<'_>,
        release: impl FnOnce(),
    ) {
        let mut queue = self.queue.lock();
        self.enqueue(&mut queue, place, Signal::Task(cx.waker().clone()));
        drop(queue);
        release();
    }

    /// The task's side of [`wait`](WaitList::wait): queues the task's waker (or, if it is
    /// already queued, swaps in the new waker without losing its place) and returns `Pending`
    /// until a notifier takes it out.
    ///
    /// `Ready(Woke::Notified)`: woken, try again. `Ready(Woke::NotBlocked)`: `blocked` (run
    /// under the lock, only when not queued) said there is no need to wait.
    pub(crate) fn poll_wait(
        &self,
        place: &mut Place,
        cx: &mut Context<'_>,
        blocked: impl FnOnce() -> bool,
    ) -> Poll<Woke> {
        let mut old_waker = None;
        let mut queue = self.queue.lock();
        if place.queued {
            return match queue.find(place.key) {
                Ok(at) => {
                    if let Signal::Task(waker) = &mut queue.entries[at].signal {
                        if !waker.will_wake(cx.waker()) {
                            old_waker = Some(std::mem::replace(waker, cx.waker().clone()));
                        }
                    }
                    drop(queue);
                    drop(old_waker);
                    Poll::Pending
                }
                Err(_) => {
                    place.queued = false;
                    Poll::Ready(Woke::Notified)
                }
            };
        }
        if !blocked() {
            return Poll::Ready(Woke::NotBlocked);
        }
        self.enqueue(&mut queue, place, Signal::Task(cx.waker().clone()));
        Poll::Pending
    }

    /// Leaves the list, for a waiter that gives up (a dropped future). A wake-up it was handed
    /// and never saw passes to the oldest remaining waiter. Cheap when not queued.
    #[inline]
    pub(crate) fn cancel(&self, place: &mut Place) {
        if place.queued {
            self.cancel_slow(place);
        }
    }

    #[cold]
    fn cancel_slow(&self, place: &mut Place) {
        let mut batch = Batch::new();
        let mut queue = self.queue.lock();
        let own = self.remove(&mut queue, place);
        if own.is_none() {
            if let Some(next) = queue.entries.pop_front() {
                batch.push(next.signal);
            }
        }
        drop(queue);
        drop(own);
        drop(batch);
    }

    /// The blocking loop most primitives need: `attempt` until it succeeds, waiting in the list
    /// between attempts, until `deadline`. After the deadline, one last attempt.
    ///
    /// `blocked` runs under the list's lock just before queueing (see [`wait`](Self::wait)).
    pub(crate) fn wait_for<R>(
        &self,
        mut attempt: impl FnMut() -> Option<R>,
        mut blocked: impl FnMut() -> bool,
        deadline: Option<rt::Instant>,
    ) -> Option<R> {
        let mut place = Place::new();
        loop {
            if let Some(done) = attempt() {
                return Some(done);
            }
            if self.wait(&mut place, &mut blocked, deadline) == Woke::TimedOut {
                return attempt();
            }
        }
    }

    /// The async loop most primitives need: `attempt` whenever this waiter is not queued (first
    /// poll, or woken), queueing between attempts; `Pending` while queued and not woken.
    ///
    /// The caller's `Drop` must [`cancel`](Self::cancel) `place`.
    pub(crate) fn poll_for<R>(
        &self,
        place: &mut Place,
        cx: &mut Context<'_>,
        mut attempt: impl FnMut() -> Option<R>,
        mut blocked: impl FnMut() -> bool,
    ) -> Poll<R> {
        if place.queued && self.poll_wait(place, cx, || true).is_pending() {
            return Poll::Pending;
        }
        loop {
            if let Some(done) = attempt() {
                return Poll::Ready(done);
            }
            if self.poll_wait(place, cx, &mut blocked).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

/// Wake-ups taken out of a list by [`WaitList::notify_deferred`] and not yet given.
pub(crate) struct Deferred {
    signals: Mutex<VecDeque<Signal>>,
    /// `signals.len()`, written under its lock: [`wake`](Deferred::wake) with nothing
    /// pending costs one load. The thread that deferred a wake-up reads its own write, so the
    /// release that follows its notify never misses it.
    len: AtomicUsize,
}

impl Deferred {
    pub(crate) fn new() -> Self {
        Deferred {
            signals: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    /// Gives the deferred wake-ups (outside any lock, in batches).
    #[inline]
    pub(crate) fn wake(&self) {
        if self.len.load(Ordering::Relaxed) != 0 {
            self.wake_slow();
        }
    }

    #[cold]
    fn wake_slow(&self) {
        loop {
            let mut batch = Batch::new();
            let mut pending = self.signals.lock();
            while !batch.is_full() {
                match pending.pop_front() {
                    Some(signal) => batch.push(signal),
                    None => break,
                }
            }
            self.len.store(pending.len(), Ordering::Relaxed);
            let more = !pending.is_empty();
            drop(pending);
            drop(batch);
            if !more {
                return;
            }
        }
    }
}

/// Runs a thread's wait with the place's condition variable, made on its first wait and kept
/// across waits. The list's entry holds the only other reference: one clone per wait (under
/// loom each clone and drop of an `Arc` is a branch point).
fn with_sleep<R>(place: &mut Place, f: impl FnOnce(&mut Place, &Arc<Condvar>) -> R) -> R {
    let sleep = place
        .sleep
        .take()
        .unwrap_or_else(|| Arc::new(Condvar::new()));
    let result = f(place, &sleep);
    place.sleep = Some(sleep);
    result
}

/// An async waiter's place in one [`WaitList`], for a future to own: dropping it leaves the
/// list, passing on a wake-up it was handed and never saw (the cancellation rule every async
/// twin relies on). `Unpin`, so futures built on it are too.
pub(crate) struct Waiter<'a> {
    list: &'a WaitList,
    place: Place,
}

impl<'a> Waiter<'a> {
    pub(crate) fn new(list: &'a WaitList) -> Self {
        Waiter {
            list,
            place: Place::new(),
        }
    }

    /// See [`WaitList::poll_for`].
    #[inline]
    pub(crate) fn poll_for<R>(
        &mut self,
        cx: &mut Context<'_>,
        attempt: impl FnMut() -> Option<R>,
        blocked: impl FnMut() -> bool,
    ) -> Poll<R> {
        self.list.poll_for(&mut self.place, cx, attempt, blocked)
    }

    /// See [`WaitList::poll_wait`].
    #[inline]
    pub(crate) fn poll_wait(
        &mut self,
        cx: &mut Context<'_>,
        blocked: impl FnOnce() -> bool,
    ) -> Poll<Woke> {
        self.list.poll_wait(&mut self.place, cx, blocked)
    }

    /// See [`WaitList::poll_wait_releasing`].
    #[inline]
    pub(crate) fn poll_wait_releasing(&mut self, cx: &mut Context<'_>, release: impl FnOnce()) {
        self.list.poll_wait_releasing(&mut self.place, cx, release)
    }

    /// Whether this waiter is (or, until it looks, was) queued.
    #[inline]
    pub(crate) fn is_queued(&self) -> bool {
        self.place.is_queued()
    }

    /// Leaves the list now, as dropping would (passing on an unseen wake-up).
    #[inline]
    pub(crate) fn cancel(&mut self) {
        self.list.cancel(&mut self.place);
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.list.cancel(&mut self.place);
    }
}

impl fmt::Debug for Waiter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.place.fmt(f)
    }
}

impl fmt::Debug for WaitList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("waiting", &self.len())
            .finish()
    }
}
