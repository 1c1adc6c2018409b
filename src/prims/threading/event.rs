//! `threading.Event`: a flag that threads can wait for.

use super::Wait;
use super::rt::{AtomicUsize, Backoff, Condvar, Mutex, Ordering};
use std::fmt;
use std::time::Duration;

/// The event word: `sleepers << 1 | SET`.
///
/// | bits | meaning |
/// |---|---|
/// | 0 (`SET`) | the flag |
/// | 1.. | threads asleep (or about to sleep) in `wait` |
///
/// `set()` learns from its own `fetch_or` whether anyone sleeps: with nobody, it takes no lock.
/// Sleepers count themselves in with a `fetch_add` on the same word, so the two are ordered.
const SET: usize = 1;
const SLEEPER: usize = 2;

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
    /// Counts the `set()` calls that had sleepers to wake. A sleeper returns when it changes,
    /// even if the flag was cleared again since (CPython issue gh-57711).
    generation: Mutex<u64>,
    wake: Condvar,
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
            generation: Mutex::new(0),
            wake: Condvar::new(),
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

    /// Sets the flag and wakes every waiting thread. Idempotent. With nobody waiting it
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
        if prev & SET == 0 && prev >= SLEEPER {
            self.wake_all();
        }
    }

    #[cold]
    fn wake_all(&self) {
        *self.generation.lock() += 1;
        self.wake.notify_all();
    }

    /// Clears the flag. Threads already woken by a `set()` still return.
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
        // A hand-off is often microseconds away: spin briefly before paying for a sleep.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            if self.is_set() {
                return true;
            }
        }
        let mut generation = self.generation.lock();
        let prev = self.state.fetch_add(SLEEPER, Ordering::Acquire);
        let woken = if prev & SET != 0 {
            true
        } else {
            let mine = *generation;
            loop {
                let timed_out = self.wake.wait_until(&mut generation, deadline);
                if *generation != mine {
                    break true;
                }
                if timed_out {
                    // The flag may have been set by a set() that found no sleeper yet.
                    break self.is_set();
                }
            }
        };
        self.state.fetch_sub(SLEEPER, Ordering::Relaxed);
        woken
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
            .finish()
    }
}
