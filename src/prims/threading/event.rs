//! `threading.Event`: a flag that threads can wait for.

use super::super::waiters::{Place, WaitList, Waiter, Woke};
use super::Wait;
use super::rt::{AtomicUsize, Backoff, Ordering};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The event word.
///
/// | bit | meaning |
/// |---|---|
/// | 0 (`SET`) | the flag |
/// | 1 (`WAITERS`) | threads or tasks may be queued in `waiters` |
///
/// `set()` learns from its own `fetch_or` whether anyone waits: with nobody, it takes no lock.
/// A waiter raises `WAITERS` under the list's lock just before it queues, and queues only if
/// that same `fetch_or` found the flag down; a `set()` that then raises the flag sees
/// `WAITERS`, clears it and wakes every queued waiter through the list.
const SET: usize = 1;
const WAITERS: usize = 2;

/// Python's `threading.Event`: a boolean flag; [`wait`](Event::wait) blocks until it is set.
///
/// # Examples
///
/// ```
/// use gilfree::Event;
/// use std::sync::Arc;
///
/// let ready = Arc::new(Event::new());
/// let waiter = {
///     let ready = Arc::clone(&ready);
///     std::thread::spawn(move || {
///         ready.wait();
///         "started"
///     })
/// };
/// ready.set();
/// assert_eq!(waiter.join().unwrap(), "started");
/// ```
///
/// # Timeouts
///
/// [`wait_timeout`](Event::wait_timeout) returns the flag: `false` only if the timeout passed
/// with the flag unset. `Duration::ZERO` reads the flag without waiting.
///
/// # Memory ordering
///
/// Everything written before `set()` is visible to a thread whose `wait` returned because of
/// it, or whose `is_set()` returned `true`.
///
/// # Differences from Python
///
/// `wait()` returns nothing (it can only return once the event is set); Python returns `True`.
pub struct Event {
    state: AtomicUsize,
    /// Counts the `set()` calls that had waiters to wake. A waiter returns once it changes
    /// after the waiter began, even if the flag was cleared again since (CPython issue
    /// gh-57711): each waiter is released by the `set()` itself, not by what the flag reads
    /// when it runs. A wake-up without a change (one passed on by a dropped waiter) is not a
    /// `set()`: the waiter queues again.
    generation: AtomicUsize,
    /// Threads and tasks waiting for the flag, in one FIFO.
    waiters: WaitList,
}

impl Event {
    /// A new event, not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!gilfree::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Event {
            state: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            waiters: WaitList::new(),
        }
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = gilfree::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and wakes every waiting thread and task: each of them returns, even if
    /// [`clear`](Event::clear) follows at once. Idempotent. With nobody waiting it
    /// is one atomic operation, no lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = gilfree::Event::new();
    /// ev.set();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    #[inline]
    pub fn set(&self) {
        let prev = self.state.fetch_or(SET, Ordering::AcqRel);
        if prev & SET == 0 && prev & WAITERS != 0 {
            self.wake_all();
        }
    }

    #[cold]
    fn wake_all(&self) {
        // Waiters that queue from here on raise WAITERS again; those already queued see the
        // new generation once the list (whose lock orders them after this) wakes them.
        self.state.fetch_and(!WAITERS, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
        self.waiters.notify_all();
    }

    /// Runs under the list's lock just before a waiter queues: whether it has to wait (no
    /// `set()` since `began`, flag down), raising `WAITERS` if so.
    fn blocked(&self, began: usize) -> bool {
        if self.generation.load(Ordering::Acquire) != began
            || self.state.load(Ordering::Acquire) & SET != 0
        {
            return false;
        }
        self.state.fetch_or(WAITERS, Ordering::Acquire) & SET == 0
    }

    /// Whether a `set()` released the waiter that began at generation `began`.
    fn released(&self, began: usize) -> bool {
        self.generation.load(Ordering::Acquire) != began
    }

    /// Clears the flag. Threads and tasks already woken by a `set()` still return.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = gilfree::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    #[inline]
    pub fn clear(&self) {
        self.state.fetch_and(!SET, Ordering::Relaxed);
    }

    /// Blocks until the flag is set; returns at once if it is.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = gilfree::Event::new();
    /// ev.set();
    /// ev.wait(); // already set: returns at once
    /// ```
    #[inline]
    pub fn wait(&self) {
        if !self.is_set() {
            self.wait_slow(None);
        }
    }

    /// Blocks until the flag is set or `timeout` passes; returns the flag.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let ev = gilfree::Event::new();
    /// assert!(!ev.wait_timeout(Duration::from_millis(10)));
    /// ev.set();
    /// assert!(ev.wait_timeout(Duration::ZERO));
    /// ```
    #[inline]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.is_set() {
            return true;
        }
        match Wait::timeout(timeout) {
            Wait::Never => false,
            Wait::Until(at) => self.wait_slow(Some(at)),
            Wait::Forever => self.wait_slow(None),
        }
    }

    #[cold]
    fn wait_slow(&self, deadline: Option<super::rt::Instant>) -> bool {
        let began = self.generation.load(Ordering::Relaxed);
        // A hand-off is often microseconds away: spin briefly before paying for a sleep.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            if self.is_set() {
                return true;
            }
        }
        let mut place = Place::new();
        loop {
            match self
                .waiters
                .wait(&mut place, || self.blocked(began), deadline)
            {
                Woke::NotBlocked => return true,
                Woke::Notified if self.released(began) => return true,
                Woke::Notified => {}
                // The flag may have been set by a set() that found no waiter yet.
                Woke::TimedOut => return self.released(began) || self.is_set(),
            }
        }
    }

    /// Waits for the flag from an async task: the twin of [`wait`](Event::wait), asyncio's
    /// `await event.wait()`. Returns at once if the flag is set; otherwise the task queues,
    /// without holding its executor's thread, in the same list as threads blocked in
    /// [`wait`](Event::wait), and every `set()` releases all of them — even if
    /// [`clear`](Event::clear) follows at once, and even if the task runs only after that.
    ///
    /// Needs no particular runtime: any executor drives it. A blocking [`wait`](Event::wait)
    /// called from async code blocks that executor thread.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: dropping the future leaves the list and changes nothing else; the other
    /// waiters are not affected. A timeout is the runtime's own,
    /// `tokio::time::timeout(d, event.wait_async())`, which drops the future when time is up.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Event;
    /// use std::sync::Arc;
    ///
    /// let ready = Arc::new(Event::new());
    /// let task = {
    ///     let ready = Arc::clone(&ready);
    ///     std::thread::spawn(move || {
    ///         futures::executor::block_on(async {
    ///             ready.wait_async().await;
    ///             "started"
    ///         })
    ///     })
    /// };
    /// ready.set();
    /// assert_eq!(task.join().unwrap(), "started");
    /// ```
    #[doc(alias = "wait")]
    pub fn wait_async(&self) -> impl Future<Output = ()> + '_ {
        EventWait {
            event: self,
            waiter: Waiter::new(&self.waiters),
            began: None,
        }
    }
}

/// The future of [`Event::wait_async`]: its waiter leaves the list when dropped.
struct EventWait<'a> {
    event: &'a Event,
    waiter: Waiter<'a>,
    /// The generation when this wait first found the flag down.
    began: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let event = this.event;
        let began = match this.began {
            Some(began) => began,
            None => {
                let began = event.generation.load(Ordering::Relaxed);
                if event.is_set() {
                    return Poll::Ready(());
                }
                *this.began.insert(began)
            }
        };
        loop {
            match this.waiter.poll_wait(cx, || event.blocked(began)) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Woke::Notified) if !event.released(began) => {}
                Poll::Ready(_) => return Poll::Ready(()),
            }
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            // asyncio's repr shows the waiters; here threads and tasks alike.
            .field("waiting", &self.waiters.len())
            .finish()
    }
}
