//! `queue.SimpleQueue`: an unbounded FIFO without task tracking or shutdown.

use super::super::Wait;
use super::base::{Queue, SimpleGet};
use crate::error::{Empty, GetError};
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// Python's `queue.SimpleQueue`: an unbounded first-in, first-out queue. `put` never blocks
/// and never fails; there is no `maxsize`, `task_done`, `join` or `shutdown`.
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
/// assert_eq!(got, (0..100).collect::<Vec<_>>()); // one producer: order kept
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
/// a `Duration`.
pub struct SimpleQueue<T> {
    // The Queue core, never bounded and never shut down; its task count is not exposed.
    inner: Queue<T>,
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
            inner: Queue::new(0),
        }
    }

    /// Adds `item`; never blocks.
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
        self.inner.put_unbounded(item);
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
            // Without a deadline the core returns an item, or ShutDown, which a SimpleQueue
            // never is.
            if let Ok(item) = self.inner.get_inner(Wait::Forever) {
                return item;
            }
        }
    }

    /// Takes the next item from an async task: the twin of [`get`](Self::get). While the
    /// queue is empty the task waits without holding its executor's thread, queued in the same
    /// list as threads blocked in `get`. Needs no particular runtime. A blocking `get` called
    /// from async code blocks its thread (it never panics), so use this one there.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: an item is taken out of the queue only by the poll that returns it, so
    /// dropping the future before it completes loses no item; a dropped getter that had been
    /// woken by a put passes the wake-up on to the next waiting getter. A timeout is the
    /// runtime's: `tokio::time::timeout(d, q.get_async())`.
    ///
    /// # Fairness
    ///
    /// Waiting getters, threads and tasks alike, are woken in the order they queued, one per
    /// item put; a woken getter that finds the item taken again keeps its place at the head.
    /// Nothing is reserved for it: a get arriving meanwhile may take the item first.
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
    ///     std::thread::spawn(move || q.put("hello"))
    /// };
    /// assert_eq!(futures::executor::block_on(q.get_async()), "hello");
    /// producer.join().unwrap();
    /// ```
    #[doc(alias = "get")]
    pub fn get_async(&self) -> impl Future<Output = T> + '_ {
        SimpleGet::new(&self.inner)
    }

    /// Takes the next item, waiting at most `timeout`.
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

    /// Takes the next item if there is one now; never waits.
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

    fn get_with(&self, wait: Wait) -> Result<T, Empty> {
        self.inner.get_inner(wait).map_err(|err| match err {
            GetError::Empty | GetError::ShutDown => Empty,
        })
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
        self.inner.qsize()
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
        self.inner.empty()
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
