//! The one core behind `Queue`, `LifoQueue` and `PriorityQueue` (and `SimpleQueue`).

use super::super::Wait;
use super::rt::{AtomicUsize, Backoff, Condvar, Mutex, MutexGuard, Ordering};
use crate::error::{GetError, PutError, ShutDown, ValueError};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

mod sealed {
    /// The storage of one queue order. Never blocks; the queue holds its lock around every call.
    // Public in a private module: nameable by `Order::Store`, implementable only here.
    #[allow(unreachable_pub)]
    pub trait Store<T>: Default {
        fn with_capacity(capacity: usize) -> Self;
        fn push(&mut self, item: T);
        fn pop(&mut self) -> Option<T>;
        fn len(&self) -> usize;
    }
}
use sealed::Store;

/// The order in which a [`BaseQueue`] hands items out: [`Fifo`], [`Lifo`] or [`Priority`].
/// Sealed: the three orders are Python's three queue classes.
pub trait Order<T>: 'static {
    /// The storage the order keeps its items in.
    #[doc(hidden)]
    type Store: Store<T>;
    /// Python's class name, for `Debug`.
    #[doc(hidden)]
    const NAME: &'static str;
}

/// First in, first out: Python's `queue.Queue`.
#[derive(Debug)]
pub enum Fifo {}

/// Last in, first out: Python's `queue.LifoQueue`.
#[derive(Debug)]
pub enum Lifo {}

/// Smallest item first: Python's `queue.PriorityQueue` (a binary heap; equal items come out in
/// no particular order, as in Python, Q-1).
#[derive(Debug)]
pub enum Priority {}

#[doc(hidden)]
#[derive(Debug)]
pub struct FifoStore<T>(VecDeque<T>);

impl<T> Default for FifoStore<T> {
    fn default() -> Self {
        FifoStore(VecDeque::new())
    }
}

impl<T> Store<T> for FifoStore<T> {
    fn with_capacity(capacity: usize) -> Self {
        FifoStore(VecDeque::with_capacity(capacity))
    }
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push_back(item)
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[doc(hidden)]
#[derive(Debug)]
pub struct LifoStore<T>(Vec<T>);

impl<T> Default for LifoStore<T> {
    fn default() -> Self {
        LifoStore(Vec::new())
    }
}

impl<T> Store<T> for LifoStore<T> {
    fn with_capacity(capacity: usize) -> Self {
        LifoStore(Vec::with_capacity(capacity))
    }
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push(item)
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[doc(hidden)]
#[derive(Debug)]
pub struct PriorityStore<T>(BinaryHeap<Reverse<T>>);

impl<T: Ord> Default for PriorityStore<T> {
    fn default() -> Self {
        PriorityStore(BinaryHeap::new())
    }
}

impl<T: Ord> Store<T> for PriorityStore<T> {
    fn with_capacity(capacity: usize) -> Self {
        PriorityStore(BinaryHeap::with_capacity(capacity))
    }
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item))
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Order<T> for Fifo {
    type Store = FifoStore<T>;
    const NAME: &'static str = "Queue";
}

impl<T> Order<T> for Lifo {
    type Store = LifoStore<T>;
    const NAME: &'static str = "LifoQueue";
}

impl<T: Ord> Order<T> for Priority {
    type Store = PriorityStore<T>;
    const NAME: &'static str = "PriorityQueue";
}

/// Python's `queue.Queue`: first in, first out. `Queue::new(0)` is unbounded.
///
/// All methods are documented on [`BaseQueue`], the type this alias names.
///
/// # Examples
///
/// ```
/// use gilfree::Queue;
/// use std::sync::Arc;
///
/// let q = Arc::new(Queue::new(0));
/// let worker = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || {
///         let mut total = 0;
///         while let Ok(n) = q.get() {
///             total += n;
///             q.task_done().unwrap();
///         }
///         total
///     })
/// };
/// for n in 1..=10 {
///     q.put(n).unwrap();
/// }
/// q.join(); // every item was taken and marked done
/// q.shutdown(false); // the worker's get() now returns Err(ShutDown)
/// assert_eq!(worker.join().unwrap(), 55);
/// ```
pub type Queue<T> = BaseQueue<T, Fifo>;

/// Python's `queue.LifoQueue`: last in, first out (a stack).
///
/// All methods are documented on [`BaseQueue`], the type this alias names.
///
/// # Examples
///
/// ```
/// let q = gilfree::LifoQueue::new(0);
/// for n in [111, 333, 222] {
///     q.put(n).unwrap();
/// }
/// assert_eq!(q.try_iter().collect::<Vec<_>>(), [222, 333, 111]); // Q-1
/// ```
pub type LifoQueue<T> = BaseQueue<T, Lifo>;

/// Python's `queue.PriorityQueue`: the smallest item first. Use a tuple such as
/// `(priority, item)` to order by a key, as in Python.
///
/// All methods are documented on [`BaseQueue`], the type this alias names.
///
/// # Examples
///
/// ```
/// let q = gilfree::PriorityQueue::new(0);
/// for n in [111, 333, 222] {
///     q.put(n).unwrap();
/// }
/// assert_eq!(q.try_iter().collect::<Vec<_>>(), [111, 222, 333]); // Q-1
/// ```
///
/// # Panics in `Ord`
///
/// A panicking comparison unwinds out of the `put` or `get` that called it and leaves the queue
/// usable: the lock is released, sizes stay right and waiting threads are woken (Q-11). An item
/// whose comparison panicked during `put` stays queued; one taken out by a `get` whose
/// re-ordering panicked is dropped.
pub type PriorityQueue<T> = BaseQueue<T, Priority>;

/// The state behind the queue's lock.
struct State<S> {
    items: S,
    /// `0`: unbounded (Python's `maxsize <= 0`).
    maxsize: usize,
    /// Python's `unfinished_tasks`: puts not yet matched by a `task_done`.
    unfinished: usize,
    shutdown: bool,
    /// Threads asleep on `not_empty`, `not_full` and `all_tasks_done`. A put, get or task_done
    /// that finds the count zero skips the notify: nobody waiting costs no wake-up call.
    getters: usize,
    putters: usize,
    joiners: usize,
}

impl<S> State<S> {
    #[inline]
    fn has_room<T>(&self) -> bool
    where
        S: Store<T>,
    {
        self.maxsize == 0 || self.items.len() < self.maxsize
    }
}

/// A thread-safe queue with Python's `queue.Queue` semantics; [`Queue`], [`LifoQueue`] and
/// [`PriorityQueue`] name it with their [`Order`].
///
/// * `maxsize` bounds the number of queued items; `0` means unbounded, as in Python (not a
///   rendezvous channel). A bounded queue makes `put` wait for room.
/// * Every `put` counts a task; [`task_done`](Self::task_done) marks one finished and
///   [`join`](Self::join) waits until all are (Q-9).
/// * [`shutdown`](Self::shutdown) (Python 3.13) refuses new puts and lets getters drain what is
///   left, or discards it (`immediate`).
///
/// # Examples
///
/// ```
/// use gilfree::{PutError, Queue};
///
/// let q = Queue::new(2);
/// q.put("a").unwrap();
/// q.put("b").unwrap();
/// assert!(q.full());
/// assert_eq!(q.put_nowait("c"), Err(PutError::Full("c"))); // the item comes back
/// assert_eq!(q.get(), Ok("a"));
/// assert_eq!(q.qsize(), 1);
/// ```
///
/// # Timeouts
///
/// `put`, `get` and `join` block; `put_timeout`, `get_timeout` and `join_timeout` wait at most
/// the given `Duration` (`Duration::ZERO` tries once, `Duration::MAX` waits forever); the
/// `_nowait` forms never wait.
///
/// # Fairness
///
/// Each put wakes one sleeping getter and each get wakes one sleeping putter (Q-6); a thread
/// that arrives while a woken one is on its way may take the item first, as in Python.
///
/// # Memory ordering
///
/// Everything a thread wrote before `put(x)` is visible to the thread whose `get` returns `x`;
/// everything written before `task_done()` is visible to a `join` that it releases.
///
/// # Differences from Python
///
/// * A negative timeout cannot be written as a `Duration`, so Python's `ValueError` for one
///   (Q-7) has no counterpart.
/// * Failed puts return the item: `PutError::Full(item)`, `ShutDown(item)`.
/// * Python's `put(x, block=False)` is [`put_nowait`](Self::put_nowait).
pub struct BaseQueue<T, O: Order<T>> {
    state: Mutex<State<O::Store>>,
    /// A copy of `items.len()`, written under the lock: `qsize`, `empty` and the spin before
    /// sleeping read it without taking the lock.
    len: AtomicUsize,
    not_empty: Condvar,
    not_full: Condvar,
    all_tasks_done: Condvar,
}

/// Storage reserved up front for a bounded queue (more is allocated as it fills).
const PREALLOCATE: usize = 1024;

impl<T, O: Order<T>> BaseQueue<T, O> {
    /// A new queue holding at most `maxsize` items; `0` means unbounded (Q-3).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Queue;
    ///
    /// let unbounded: Queue<u32> = Queue::new(0);
    /// assert!(!unbounded.full());
    /// assert_eq!(Queue::<u32>::new(8).maxsize(), 8);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        BaseQueue {
            state: Mutex::new(State {
                items: O::Store::with_capacity(maxsize.min(PREALLOCATE)),
                maxsize,
                unfinished: 0,
                shutdown: false,
                getters: 0,
                putters: 0,
                joiners: 0,
            }),
            len: AtomicUsize::new(0),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_tasks_done: Condvar::new(),
        }
    }

    /// Puts `item`, waiting for room while the queue is full (Q-6). Counts one unfinished task.
    ///
    /// Returns `Err(ShutDown(item))` once the queue is shut down, also while waiting (QS-2,
    /// QS-7): the item is not added, and comes back.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(0);
    /// q.put(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
        self.put_inner(item, Wait::Forever)
            .map_err(|err| ShutDown(err.into_inner()))
    }

    /// Puts `item`, waiting at most `timeout` for room (Q-4, Q-6).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{PutError, Queue};
    /// use std::time::Duration;
    ///
    /// let q = Queue::new(1);
    /// q.put_timeout('a', Duration::from_millis(10)).unwrap();
    /// let err = q.put_timeout('b', Duration::from_millis(10)).unwrap_err();
    /// assert_eq!(err, PutError::Full('b'));
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_inner(item, Wait::timeout(timeout))
    }

    /// Puts `item` if there is room now; never waits (Q-4). Python's `put(x, block=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{PutError, Queue};
    ///
    /// let q = Queue::new(1);
    /// assert_eq!(q.put_nowait(1), Ok(()));
    /// assert_eq!(q.put_nowait(2), Err(PutError::Full(2)));
    /// ```
    #[doc(alias = "put(block=False)")]
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        self.put_inner(item, Wait::Never)
    }

    /// Takes the next item, waiting while the queue is empty (Q-6).
    ///
    /// After a [`shutdown`](Self::shutdown) it still returns what is left, then
    /// `Err(ShutDown)` at once, without waiting (QS-3). Waiting getters wake on shutdown (QS-6).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{Queue, ShutDown};
    ///
    /// let q = Queue::new(0);
    /// q.put("last").unwrap();
    /// q.shutdown(false);
    /// assert_eq!(q.get(), Ok("last"));
    /// assert_eq!(q.get(), Err(ShutDown(())));
    /// ```
    pub fn get(&self) -> Result<T, ShutDown> {
        self.get_inner(Wait::Forever).map_err(|_| ShutDown(()))
    }

    /// Takes the next item, waiting at most `timeout` (Q-5).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{GetError, Queue};
    /// use std::time::Duration;
    ///
    /// let q: Queue<i32> = Queue::new(0);
    /// assert_eq!(q.get_timeout(Duration::from_millis(10)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_inner(Wait::timeout(timeout))
    }

    /// Takes the next item if there is one now; never waits (Q-5). Python's
    /// `get(block=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{GetError, Queue};
    ///
    /// let q = Queue::new(0);
    /// q.put(7).unwrap();
    /// assert_eq!(q.get_nowait(), Ok(7));
    /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
    /// ```
    #[doc(alias = "get(block=False)")]
    pub fn get_nowait(&self) -> Result<T, GetError> {
        self.get_inner(Wait::Never)
    }

    /// The number of queued items (Q-2). Another thread may change it at any moment.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(0);
    /// q.put(()).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    #[inline]
    pub fn qsize(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the queue holds no items (Q-2).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gilfree::Queue::<u8>::new(0).empty());
    /// ```
    #[inline]
    #[doc(alias = "is_empty")]
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether a bounded queue holds `maxsize` items or more (Q-2); never for an unbounded one.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(1);
    /// q.put(1).unwrap();
    /// assert!(q.full());
    /// ```
    #[doc(alias = "is_full")]
    pub fn full(&self) -> bool {
        let st = self.state.lock();
        !st.has_room()
    }

    /// The bound given at construction (or by [`set_maxsize`](Self::set_maxsize)); `0`:
    /// unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Queue::<u8>::new(3).maxsize(), 3);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.state.lock().maxsize
    }

    /// Changes the bound at run time, as assigning Python's `q.maxsize` does (Q-10). Shrinking
    /// below [`qsize`](Self::qsize) keeps the items and makes puts wait; growing wakes waiting
    /// putters.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(0);
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// q.set_maxsize(1);
    /// assert!(q.put_nowait(3).is_err());
    /// ```
    pub fn set_maxsize(&self, maxsize: usize) {
        let mut st = self.state.lock();
        st.maxsize = maxsize;
        let wake = st.putters > 0 && st.has_room();
        drop(st);
        if wake {
            self.not_full.notify_all();
        }
    }

    /// Python's `unfinished_tasks`: puts not yet matched by a [`task_done`](Self::task_done).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(0);
    /// q.put('x').unwrap();
    /// q.get().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1); // get() does not finish the task
    /// q.task_done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.state.lock().unfinished
    }

    /// Marks one task finished (Q-9): call it once per item taken, when the work on it is done.
    /// When the count reaches zero, every [`join`](Self::join) returns.
    ///
    /// Returns `Err(ValueError)` when there is no unfinished task; the count never goes
    /// negative (Q-8).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(0);
    /// q.put(1).unwrap();
    /// q.get().unwrap();
    /// assert!(q.task_done().is_ok());
    /// let err = q.task_done().unwrap_err();
    /// assert_eq!(err.message(), "task_done() called too many times");
    /// ```
    pub fn task_done(&self) -> Result<(), ValueError> {
        let mut st = self.state.lock();
        if st.unfinished == 0 {
            return Err(ValueError::new("task_done() called too many times"));
        }
        st.unfinished -= 1;
        let wake = st.unfinished == 0 && st.joiners > 0;
        drop(st);
        if wake {
            self.all_tasks_done.notify_all();
        }
        Ok(())
    }

    /// Waits until every item put has been marked done with [`task_done`](Self::task_done)
    /// (Q-9). Returns at once when nothing is unfinished; can be called again and from many
    /// threads. A plain [`shutdown`](Self::shutdown) does not release it; an immediate one
    /// does, by discarding the queued items' tasks (QS-4, QS-8).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::<u8>::new(0);
    /// q.join(); // nothing was put
    /// ```
    pub fn join(&self) {
        self.join_inner(Wait::Forever);
    }

    /// [`join`](Self::join) for at most `timeout`; `true` if every task was done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = gilfree::Queue::new(0);
    /// q.put(1).unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(10)));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.join_inner(Wait::timeout(timeout))
    }

    /// Shuts the queue down (Python 3.13, QS-1 … QS-9). From now on every put fails with
    /// `ShutDown`, also for putters that are waiting now (QS-2, QS-7).
    ///
    /// * `immediate = false`: getters still receive the queued items, then `ShutDown` (QS-3);
    ///   `join` still waits for `task_done` on every item (QS-8).
    /// * `immediate = true`: the queued items are dropped, each one's task counted as done, so
    ///   `join` returns once nothing else is unfinished; every getter gets `ShutDown` (QS-4).
    ///
    /// A later plain shutdown changes nothing; an immediate one after a plain one drains.
    /// There is no way back (QS-1). The dropped items' destructors run after the queue's lock
    /// is released, so they may use the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::{GetError, Queue};
    ///
    /// let q = Queue::new(0);
    /// q.put(1).unwrap();
    /// q.shutdown(true);
    /// assert_eq!(q.qsize(), 0);
    /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    /// q.join(); // the discarded item's task counts as done
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut st = self.state.lock();
        st.shutdown = true;
        let discarded = if immediate {
            let items = std::mem::take(&mut st.items);
            st.unfinished = st.unfinished.saturating_sub(items.len());
            self.len.store(0, Ordering::Relaxed);
            Some(items)
        } else {
            None
        };
        let (getters, putters) = (st.getters > 0, st.putters > 0);
        let joiners = st.joiners > 0 && st.unfinished == 0;
        drop(st);
        if getters {
            self.not_empty.notify_all();
        }
        if putters {
            self.not_full.notify_all();
        }
        if joiners {
            self.all_tasks_done.notify_all();
        }
        drop(discarded);
    }

    /// Whether [`shutdown`](Self::shutdown) was called (QS-1).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::<u8>::new(0);
    /// assert!(!q.is_shutdown());
    /// q.shutdown(false);
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.state.lock().shutdown
    }

    /// An iterator that [`get`](Self::get)s items, waiting for each, until the queue is shut
    /// down and drained: a worker's loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(0);
    /// for n in 0..3 {
    ///     q.put(n).unwrap();
    /// }
    /// q.shutdown(false);
    /// assert_eq!(q.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T, O> {
        Iter { queue: self }
    }

    /// An iterator that takes the items queued now, without waiting
    /// ([`get_nowait`](Self::get_nowait) until it fails).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = gilfree::Queue::new(0);
    /// q.put('a').unwrap();
    /// q.put('b').unwrap();
    /// assert_eq!(q.try_iter().collect::<String>(), "ab");
    /// assert!(q.empty());
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T, O> {
        TryIter { queue: self }
    }

    // -----------------------------------------------------------------------------------------
    // The core: every public put and get goes through these.

    fn put_inner(&self, item: T, mut wait: Wait) -> Result<(), PutError<T>> {
        let mut st = self.state.lock();
        let backoff = Backoff::new();
        loop {
            if st.shutdown {
                return Err(PutError::ShutDown(item));
            }
            if st.has_room() {
                self.enqueue(st, item);
                return Ok(());
            }
            let deadline = match wait {
                Wait::Never => return Err(PutError::Full(item)),
                Wait::Until(at) => Some(at),
                Wait::Forever => None,
            };
            if !backoff.is_completed() {
                // A getter is probably on its way: give it a moment before sleeping.
                let maxsize = st.maxsize;
                drop(st);
                while self.qsize() >= maxsize && !backoff.is_completed() {
                    backoff.snooze();
                }
                st = self.state.lock();
                continue;
            }
            st.putters += 1;
            let timed_out = self.not_full.wait_until(&mut st, deadline);
            st.putters -= 1;
            if timed_out {
                // One last look (at the top of the loop), then Full.
                wait = Wait::Never;
            }
        }
    }

    /// Puts `item` without looking at `maxsize` or shutdown: `SimpleQueue`, which has neither.
    #[inline]
    pub(super) fn put_unbounded(&self, item: T) {
        let st = self.state.lock();
        self.enqueue(st, item);
    }

    /// Stores `item` (room was checked by the caller), counts its task and wakes one getter.
    #[inline]
    fn enqueue(&self, mut st: MutexGuard<'_, State<O::Store>>, item: T) {
        st.unfinished += 1;
        // Only a PriorityQueue's push runs user code (`Ord`); the catch costs nothing when
        // nothing panics, and keeps the bookkeeping right when something does (Q-11).
        let pushed = panic::catch_unwind(AssertUnwindSafe(|| st.items.push(item)));
        self.len.store(st.items.len(), Ordering::Relaxed);
        let wake = st.getters > 0;
        drop(st);
        if wake {
            self.not_empty.notify_one();
        }
        if let Err(payload) = pushed {
            panic::resume_unwind(payload);
        }
    }

    pub(super) fn get_inner(&self, mut wait: Wait) -> Result<T, GetError> {
        let mut st = self.state.lock();
        let backoff = Backoff::new();
        loop {
            if st.items.len() > 0 {
                if let Some(item) = self.dequeue(st) {
                    return Ok(item);
                }
                st = self.state.lock();
                continue;
            }
            if st.shutdown {
                return Err(GetError::ShutDown);
            }
            let deadline = match wait {
                Wait::Never => return Err(GetError::Empty),
                Wait::Until(at) => Some(at),
                Wait::Forever => None,
            };
            if !backoff.is_completed() {
                // A putter is probably on its way: give it a moment before sleeping.
                drop(st);
                while self.qsize() == 0 && !backoff.is_completed() {
                    backoff.snooze();
                }
                st = self.state.lock();
                continue;
            }
            st.getters += 1;
            let timed_out = self.not_empty.wait_until(&mut st, deadline);
            st.getters -= 1;
            if timed_out {
                wait = Wait::Never;
            }
        }
    }

    /// Takes the next item (the caller saw one) and wakes one putter.
    #[inline]
    fn dequeue(&self, mut st: MutexGuard<'_, State<O::Store>>) -> Option<T> {
        let popped = panic::catch_unwind(AssertUnwindSafe(|| st.items.pop()));
        self.len.store(st.items.len(), Ordering::Relaxed);
        let wake = st.putters > 0;
        drop(st);
        if wake {
            self.not_full.notify_one();
        }
        match popped {
            Ok(item) => item,
            // From the items' `Ord` (a PriorityQueue): back to the caller, the queue intact.
            Err(payload) => panic::resume_unwind(payload),
        }
    }

    fn join_inner(&self, wait: Wait) -> bool {
        let mut st = self.state.lock();
        while st.unfinished > 0 {
            let deadline = match wait {
                Wait::Never => return false,
                Wait::Until(at) => Some(at),
                Wait::Forever => None,
            };
            st.joiners += 1;
            let timed_out = self.all_tasks_done.wait_until(&mut st, deadline);
            st.joiners -= 1;
            if timed_out && st.unfinished > 0 {
                return false;
            }
        }
        true
    }
}

impl<T, O: Order<T>> Default for BaseQueue<T, O> {
    /// An unbounded queue, as Python's `Queue()`.
    fn default() -> Self {
        BaseQueue::new(0)
    }
}

impl<T, O: Order<T>> fmt::Debug for BaseQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct(O::NAME)
            .field("qsize", &st.items.len())
            .field("maxsize", &st.maxsize)
            .field("unfinished_tasks", &st.unfinished)
            .field("shutdown", &st.shutdown)
            .field("getters_waiting", &st.getters)
            .field("putters_waiting", &st.putters)
            .finish()
    }
}

impl<'a, T, O: Order<T>> IntoIterator for &'a BaseQueue<T, O> {
    type Item = T;
    type IntoIter = Iter<'a, T, O>;
    fn into_iter(self) -> Iter<'a, T, O> {
        self.iter()
    }
}

/// The iterator of [`BaseQueue::iter`]: waits for each item; ends once the queue is shut down
/// and drained.
pub struct Iter<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
}

impl<T, O: Order<T>> Iterator for Iter<'_, T, O> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.queue.get().ok()
    }
}

impl<T, O: Order<T>> fmt::Debug for Iter<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Iter").field(self.queue).finish()
    }
}

/// The iterator of [`BaseQueue::try_iter`]: takes what is queued now; never waits.
pub struct TryIter<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
}

impl<T, O: Order<T>> Iterator for TryIter<'_, T, O> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.queue.get_nowait().ok()
    }
}

impl<T, O: Order<T>> fmt::Debug for TryIter<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TryIter").field(self.queue).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::rt;
    use super::*;

    /// Q-1 through the core, on both backends: the three orders differ only in their store.
    #[test]
    fn the_three_orders() {
        rt::model(|| {
            let fifo = Queue::new(0);
            let lifo = LifoQueue::new(0);
            let prio = PriorityQueue::new(0);
            for n in [111, 333, 222] {
                fifo.put(n).unwrap();
                lifo.put(n).unwrap();
                prio.put(n).unwrap();
            }
            assert_eq!(fifo.try_iter().collect::<Vec<_>>(), [111, 333, 222]);
            assert_eq!(lifo.try_iter().collect::<Vec<_>>(), [222, 333, 111]);
            assert_eq!(prio.try_iter().collect::<Vec<_>>(), [111, 222, 333]);
        });
    }
}
