//! `queue.SimpleQueue`: an unbounded FIFO without task tracking or shutdown.

use super::super::Wait;
use super::rt::{AtomicUsize, Backoff, CachePadded, Condvar, Mutex, Ordering, SegQueue};
use crate::error::Empty;
use std::fmt;
use std::time::Duration;

/// Python's `queue.SimpleQueue`: an unbounded first-in, first-out queue. `put` never blocks
/// and never fails; there is no `maxsize`, `task_done`, `join` or `shutdown` (SQ-1).
///
/// # Examples
///
/// ```
/// use gilfree::SimpleQueue;
/// use std::sync::Arc;
///
/// let q = Arc::new(SimpleQueue::new());
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || (0..100).for_each(|n| q.put(n)))
/// };
/// let got: Vec<i32> = (0..100).map(|_| q.get()).collect();
/// producer.join().unwrap();
/// assert_eq!(got, (0..100).collect::<Vec<_>>()); // one producer: order kept (SQ-4)
/// ```
///
/// # Timeouts
///
/// [`get_timeout`](Self::get_timeout) waits at most the given `Duration` (`Duration::ZERO`
/// tries once, `Duration::MAX` waits forever); [`get_nowait`](Self::get_nowait) never waits.
///
/// # Memory ordering
///
/// Everything a thread wrote before `put(x)` is visible to the thread whose `get` returns `x`.
///
/// # Differences from Python
///
/// `get` cannot fail, so it returns the item itself; a negative timeout cannot be written as
/// a `Duration` (SQ-3).
pub struct SimpleQueue<T> {
    /// The items: a lock-free FIFO (crossbeam's `SegQueue`), so a put and a get by different
    /// threads mostly touch different cache lines, and neither takes a lock.
    items: SegQueue<T>,
    /// Getters counted in to sleep on `wake`. Only a getter about to sleep writes it, so the
    /// read-modify-write every `put` makes on it stays in the putter's cache while getters
    /// find items.
    sleepers: CachePadded<AtomicUsize>,
    /// Held by a getter from counting itself in until it sleeps, and by a put that wakes one.
    lock: Mutex<()>,
    wake: Condvar,
}

impl<T> SimpleQueue<T> {
    /// A new, empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: gilfree::SimpleQueue<String> = gilfree::SimpleQueue::new();
    /// assert!(q.empty());
    /// ```
    pub fn new() -> Self {
        SimpleQueue {
            items: SegQueue::new(),
            sleepers: CachePadded::new(AtomicUsize::new(0)),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Adds `item`; never blocks (SQ-1).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::SimpleQueue::new();
    /// q.put("x");
    /// assert_eq!(q.qsize(), 1);
    /// ```
    #[doc(alias = "put_nowait")]
    #[inline]
    pub fn put(&self, item: T) {
        self.items.push(item);
        // A read-modify-write, not a load: it reads the latest count. If a getter counted
        // itself in first, this sees it and wakes it (under the lock the getter holds until it
        // sleeps, so the wake cannot come too early). If not, the getter's own count-in reads
        // this one's write, which orders the push before the getter's last look at `items`.
        if self.sleepers.fetch_add(0, Ordering::AcqRel) != 0 {
            let _guard = self.lock.lock();
            self.wake.notify_one();
        }
    }

    /// Takes the next item, waiting while the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::SimpleQueue::new();
    /// q.put(3);
    /// assert_eq!(q.get(), 3);
    /// ```
    pub fn get(&self) -> T {
        loop {
            // Without a deadline `get_with` returns only with an item.
            if let Ok(item) = self.get_with(Wait::Forever) {
                return item;
            }
        }
    }

    /// Takes the next item, waiting at most `timeout` (SQ-2).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{Empty, SimpleQueue};
    /// use std::time::Duration;
    ///
    /// let q: SimpleQueue<u8> = SimpleQueue::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, Empty> {
        self.get_with(Wait::timeout(timeout))
    }

    /// Takes the next item if there is one now; never waits (SQ-2).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{Empty, SimpleQueue};
    ///
    /// let q = SimpleQueue::new();
    /// q.put('a');
    /// assert_eq!(q.get_nowait(), Ok('a'));
    /// assert_eq!(q.get_nowait(), Err(Empty));
    /// ```
    #[doc(alias = "get(block=False)")]
    pub fn get_nowait(&self) -> Result<T, Empty> {
        self.get_with(Wait::Never)
    }

    #[inline]
    fn get_with(&self, wait: Wait) -> Result<T, Empty> {
        match self.items.pop() {
            Some(item) => Ok(item),
            None if matches!(wait, Wait::Never) => Err(Empty),
            None => self.get_slow(wait),
        }
    }

    #[cold]
    fn get_slow(&self, wait: Wait) -> Result<T, Empty> {
        let deadline = match wait {
            Wait::Never => return self.items.pop().ok_or(Empty),
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        // A putter is probably on its way: give it a moment before sleeping.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            if let Some(item) = self.items.pop() {
                return Ok(item);
            }
        }
        let mut guard = self.lock.lock();
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let got = loop {
            if let Some(item) = self.items.pop() {
                break Ok(item);
            }
            if self.wake.wait_until(&mut guard, deadline) {
                // Timed out: an item put just now is still ours to take.
                break self.items.pop().ok_or(Empty);
            }
        };
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
        got
    }

    /// The number of queued items.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::SimpleQueue::new();
    /// q.put(1);
    /// q.put(2);
    /// assert_eq!(q.qsize(), 2);
    /// ```
    #[inline]
    pub fn qsize(&self) -> usize {
        self.items.len()
    }

    /// Whether the queue holds no items.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gilfree::SimpleQueue::<()>::new().empty());
    /// ```
    #[inline]
    #[doc(alias = "is_empty")]
    pub fn empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        SimpleQueue::new()
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("qsize", &self.qsize())
            .finish()
    }
}
