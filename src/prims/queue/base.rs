//! The one core behind `Queue`, `LifoQueue` and `PriorityQueue` (and `SimpleQueue`).

use super::super::Wait;
use super::super::user_lock::UserLock;
use super::super::waiters::{Place, WaitList, Waiter, Woke};
use super::ring::{Pop, Refused, Ring};
use super::rt::{
    self, AtomicBool, AtomicUsize, Backoff, CachePadded, MutexGuard, Ordering, seqcst_pair,
};
use crate::error::{GetError, PutError, ShutDown, ValueError};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

mod sealed {
    /// The storage of one queue order. Never blocks; the queue holds its lock around every call.
    // Public in a private module: nameable by `Order::Store`, implementable only here.
    #[allow(unreachable_pub)]
    pub trait Store<T>: Default {
        /// Whether the next `push` (`pushing`) or `pop` runs user code (a `PriorityQueue`
        /// item's `Ord`): the queue then marks it with `UserLock::run_user_code`, so that a
        /// re-entry panics. (A heap of one or two items compares nothing on the way out.)
        #[inline]
        fn runs_user_code(&self, pushing: bool) -> bool {
            let _ = pushing;
            false
        }
        /// Never loses an item: one whose `push` or `pop` panicked (in user code) is stored.
        fn with_capacity(capacity: usize) -> Self;
        fn push(&mut self, item: T);
        /// Stores `item` as the next one out (FIFO: at the front). Only a FIFO queue has a
        /// ring whose items, older than the stored ones, go back in front of them.
        fn push_oldest(&mut self, item: T) {
            self.push(item)
        }
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
    /// Whether a bounded queue of this order may keep its items in the lock-free ring
    /// (first in, first out only).
    #[doc(hidden)]
    const RING: bool = false;
}

/// First in, first out: Python's `queue.Queue`.
#[derive(Debug)]
pub enum Fifo {}

/// Last in, first out: Python's `queue.LifoQueue`.
#[derive(Debug)]
pub enum Lifo {}

/// Smallest item first: Python's `queue.PriorityQueue` (a binary heap; equal items come out in
/// no particular order, as in Python).
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
    fn push_oldest(&mut self, item: T) {
        self.0.push_front(item)
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

/// A binary min-heap on a `Vec`, moved by swaps only: a panicking `Ord` leaves every item in
/// the vector (the order after a panic is not promised, the items are), where
/// `std::collections::BinaryHeap::pop` would drop the item it took out.
#[doc(hidden)]
#[derive(Debug)]
pub struct PriorityStore<T>(Vec<T>);

impl<T: Ord> Default for PriorityStore<T> {
    fn default() -> Self {
        PriorityStore(Vec::new())
    }
}

impl<T: Ord> PriorityStore<T> {
    /// Moves the item at `at` down within `heap` until neither child is smaller.
    fn sift_down(heap: &mut [T], mut at: usize) {
        loop {
            let left = 2 * at + 1;
            if left >= heap.len() {
                return;
            }
            let right = left + 1;
            let child = if right < heap.len() && heap[right] < heap[left] {
                right
            } else {
                left
            };
            if heap[child] < heap[at] {
                heap.swap(child, at);
                at = child;
            } else {
                return;
            }
        }
    }
}

impl<T: Ord> Store<T> for PriorityStore<T> {
    #[inline]
    fn runs_user_code(&self, pushing: bool) -> bool {
        self.0.len() >= if pushing { 1 } else { 3 }
    }
    fn with_capacity(capacity: usize) -> Self {
        PriorityStore(Vec::with_capacity(capacity))
    }
    #[inline]
    fn push(&mut self, item: T) {
        let heap = &mut self.0;
        heap.push(item);
        let mut at = heap.len() - 1;
        while at > 0 {
            let parent = (at - 1) / 2;
            if heap[at] < heap[parent] {
                heap.swap(at, parent);
                at = parent;
            } else {
                break;
            }
        }
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        let last = self.0.len().checked_sub(1)?;
        // The smallest goes last and stays in the vector until the rest is a heap again: a
        // comparison that panics meanwhile leaves it queued.
        self.0.swap(0, last);
        Self::sift_down(&mut self.0[..last], 0);
        self.0.pop()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Order<T> for Fifo {
    type Store = FifoStore<T>;
    const NAME: &'static str = "Queue";
    const RING: bool = true;
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
/// assert_eq!(q.try_iter().collect::<Vec<_>>(), [222, 333, 111]); // newest first
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
/// assert_eq!(q.try_iter().collect::<Vec<_>>(), [111, 222, 333]); // smallest first
/// ```
///
/// # User code under the lock: `Ord`
///
/// The items' `Ord` runs under the queue's lock, in [`put`](BaseQueue::put) (and its
/// `_timeout`/`_nowait` forms) and in [`get`](BaseQueue::get) (and its forms, `iter` and
/// `try_iter`); no other method runs user code under it.
///
/// A panicking comparison unwinds out of the `put` or `get` that called it and leaves the queue
/// usable: the lock is released, sizes and the task count stay right and waiting threads are
/// woken. No item is lost: the item of a `put` whose comparison panicked is queued (and
/// counted, as a put); the item a `get` was taking out when its re-ordering panicked stays
/// queued. The order of the items after such a panic is not promised.
///
/// A comparison that calls back into the same queue: [`qsize`](BaseQueue::qsize),
/// [`empty`](BaseQueue::empty) and [`unfinished_tasks`](BaseQueue::unfinished_tasks) take no
/// lock and answer (as does [`task_done`](BaseQueue::task_done), unless it releases a
/// `join`); every other method needs the lock its own thread holds, so instead of deadlocking
/// it panics with `RuntimeError: PriorityQueue re-entered from user code …`, which unwinds out
/// of the `put` or `get` as above.
pub type PriorityQueue<T> = BaseQueue<T, Priority>;

/// The state behind the queue's lock.
struct State<S> {
    /// The items of the locked core (empty while the ring holds them).
    items: S,
    /// `0`: unbounded (Python's `maxsize <= 0`).
    maxsize: usize,
    shutdown: bool,
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
///   [`join`](Self::join) waits until all are.
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
/// # Async twins
///
/// [`put_async`](Self::put_async), [`get_async`](Self::get_async) and
/// [`join_async`](Self::join_async) are asyncio's `await q.put(x)`, `await q.get()` and
/// `await q.join()`: a task waits in the same lists as the threads blocked in `put`, `get` and
/// `join`, so threads and tasks can share one queue (on any executor). They take no timeout:
/// wrap them in the runtime's own (dropping the future is cancel-safe, see each method). A
/// shutdown wakes waiting tasks as it wakes threads.
///
/// # Fairness
///
/// Waiting getters, threads and tasks alike, are woken in the order they queued, one per put;
/// waiting putters likewise, one per get. A woken waiter that finds the item (or slot) taken
/// again keeps its place at the head. Nothing is reserved for a woken waiter: a caller
/// arriving while it is on its way may take the item or slot first, as in Python (`queue` and
/// asyncio alike).
///
/// # Memory ordering
///
/// Everything a thread wrote before `put(x)` is visible to the thread whose `get` returns `x`;
/// everything written before `task_done()` is visible to a `join` that it releases.
///
/// # Storage
///
/// A `Queue` (first in, first out) with `maxsize <= 65,536` keeps its items in a lock-free ring,
/// allocated up front: `maxsize` slots for a bounded queue, about 16 KiB of slots (16 to 1,024)
/// for an unbounded one (and for [`SimpleQueue`](crate::SimpleQueue)). A put and a get that find
/// room and an item take no lock and write no shared counter, only the slot they hand over and
/// their own end of the ring. A thread only takes the lock to fall asleep or to wake a sleeper.
///
/// An unbounded queue's ring overflows into the locked core: while that holds anything, puts
/// go there too (each producer's items stay in order) and gets take the ring's older items
/// first, so a queue that its consumers keep up with stays on the ring. The first
/// `set_maxsize` to a new bound, or a `shutdown`, moves the ring's items (in order) to the
/// locked core that larger bounds, `LifoQueue` and `PriorityQueue` use from the start, and the
/// queue stays there.
///
/// On the ring, a `get_nowait` (or a `get_timeout` whose time is up) that runs while another
/// thread is in the middle of a `put` may wait a moment for that put to finish, and reports
/// `Empty` if it does not finish within a short spin, even when later puts have already
/// returned (their items are queued behind it, in order).
///
/// # User code: `Ord` and `Drop`
///
/// The only user code a queue runs under its lock is a [`PriorityQueue`] item's `Ord`, in the
/// `put` and `get` families (`put`, `put_timeout`, `put_nowait`, `get`, `get_timeout`,
/// `get_nowait`, `iter`, `try_iter`); see [`PriorityQueue`] for what a panicking or
/// re-entering comparison does. The ring (`Queue`, `SimpleQueue`) runs none.
///
/// Items' `Drop` never runs under the lock: [`shutdown(true)`](Self::shutdown) drops the
/// items it discards after it has released the lock and finished the shutdown, and dropping
/// the queue drops what it holds. A `Drop` that panics there does not stop the others from
/// being dropped (as in a `Vec`, a second panic aborts), and the panic then continues to the
/// caller.
///
/// # Differences from Python
///
/// * A negative timeout cannot be written as a `Duration`, so Python's `ValueError` for one
///   has no counterpart.
/// * Failed puts return the item: `PutError::Full(item)`, `ShutDown(item)`.
/// * Python's `put(x, block=False)` is [`put_nowait`](Self::put_nowait).
pub struct BaseQueue<T, O: Order<T>> {
    /// The items of a bounded FIFO queue (`0 < maxsize <= RING_MAX`) until the ring is closed:
    /// puts and gets then take no lock. `shutdown` and `set_maxsize` close it and move its items
    /// into `state.items`, the locked core, which every other queue uses from the start.
    ring: Option<Ring<T>>,
    /// An unbounded queue's ring overflows into `state.items`: while those hold anything, puts
    /// go there too (so each producer's items stay in order), and gets take the ring's
    /// (older) items first.
    spills: bool,
    /// Whether the ring's items have been moved to the locked core (set under the lock, after
    /// `len` counts them): from then on `len` alone is the queue's size.
    retired: AtomicBool,
    /// A [`UserLock`]: a `PriorityQueue` item's `Ord` runs under it, and a re-entry from there
    /// panics instead of deadlocking. The lock-free ring paths never run user code.
    state: UserLock<State<O::Store>>,
    /// A copy of `items.len()`, written under the lock (`Release`, see `qsize`): `qsize`,
    /// `empty` and the spin before sleeping read it without taking the lock. (The ring counts
    /// its own.)
    len: AtomicUsize,
    /// Python's `unfinished_tasks` is kept as two sums, so that a put onto the ring writes no
    /// counter at all: `unfinished = puts - settled`, where the puts are those of the locked
    /// core (`locked_puts`, counted under the lock) plus the ring's own count of the positions
    /// its producers claimed (`Ring::pushes`, read from the tail). `settled` counts the
    /// `task_done` calls and the tasks of items discarded by an immediate shutdown; on its own
    /// cache line, since consumers write it.
    locked_puts: AtomicUsize,
    settled: CachePadded<AtomicUsize>,
    /// Waiters (threads and tasks) queued, or about to queue, in `get_waiters`, `put_waiters`
    /// and `join_waiters`: a waiter counts itself in under the lock, before it queues, and out
    /// once it has left the list. A put, get or task_done that finds the count zero skips the
    /// notify: nobody waiting costs no wake-up call (and no lock). With the ring, the check is lock-free: the sleeper
    /// counts itself in and then tries the ring once more, deciding "empty" from the tail (or
    /// "full" from the head); the waker has moved that tail (head) with its CAS before it
    /// reads the count. All four accesses are `SeqCst`, so one of the two sees the other
    /// (`rt::seqcst_pair`). A slot claimed but not yet published is waited out, not slept
    /// on, by the one thread holding the lock. The task count and `joiners` pair the same way.
    ///
    /// A waiter holds the lock from its count-in until it is in the list (it lets the lock go
    /// under the list's own lock, as it queues), and a waker takes the lock before it notifies:
    /// so the waker finds the waiter queued, and wakes it. A waker that changed the ring with
    /// the lock held reads the count then, and notifies once it has let the lock go
    /// ([`Owed`]): a task's `Waker` is user code, and may use the queue.
    getters: AtomicUsize,
    putters: AtomicUsize,
    joiners: AtomicUsize,
    /// The one FIFO of threads blocked in `get` and tasks awaiting `get_async`; likewise for
    /// puts and joins. Nothing is reserved for a woken waiter: it tries again.
    /// Boxed: inline, the three lists (48 bytes each) moved the fields above in the struct's
    /// layout, and a bounded put+get on one thread went from 16.3 to 17.7 ns (A/B against the
    /// old bench binary, alternating, same session); boxed, 16.6 ns, within noise. Only a
    /// waiter or a waker follows the pointer.
    waiters: Box<Waiters>,
}

/// A wake-up for the oldest waiter of a list, owed by a ring change made with the queue's
/// lock held, and given by the caller once it has released the lock: a task's `Waker` is
/// user code, which may use the queue (an executor may even poll the task inside `wake`),
/// and would deadlock on a lock the waking thread still holds.
#[must_use = "give it once the lock is released"]
struct Owed<'a>(Option<&'a WaitList>);

impl Owed<'_> {
    /// Gives the wake-up, if one is owed. Call it with the queue's lock released.
    fn give(self) {
        if let Some(list) = self.0 {
            list.notify_one();
        }
    }
}

/// The three waiter lists of a queue, boxed: see `BaseQueue::waiters`.
struct Waiters {
    get: WaitList,
    put: WaitList,
    join: WaitList,
}

/// Storage reserved up front for a bounded queue on the locked core (more is allocated as it
/// fills).
const PREALLOCATE: usize = 1024;

/// The largest `maxsize` whose queue gets the lock-free ring (allocated in full up front:
/// about `maxsize * (8 + size_of::<T>())` bytes). Bigger bounds use the locked core;
/// unbounded queues get a ring of [`spill_ring_slots`] slots that overflows into it.
pub(crate) const RING_MAX: usize = 1 << 16;

/// The slots of an unbounded queue's ring: about 16 KiB of slots, 16 to 1,024 of them.
fn spill_ring_slots<T>() -> usize {
    rt::SPILL_RING_SLOTS.unwrap_or((16 * 1024 / (8 + std::mem::size_of::<T>())).clamp(16, 1024))
}

/// How a ring operation ended: done, or the locked core must finish the job with what is
/// handed back (the ring is closed, or an unbounded queue's ring overflowed).
enum Ringed<R, T> {
    Done(R),
    Locked(T),
}

impl<T, O: Order<T>> BaseQueue<T, O> {
    /// A new queue holding at most `maxsize` items; `0` means unbounded.
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
        let ring = match maxsize {
            _ if !O::RING => None,
            0 => Some(Ring::new(spill_ring_slots::<T>())),
            1..=RING_MAX => Some(Ring::new(maxsize)),
            _ => None,
        };
        let items = if ring.is_some() {
            O::Store::default()
        } else {
            O::Store::with_capacity(maxsize.min(PREALLOCATE))
        };
        BaseQueue {
            ring,
            spills: maxsize == 0,
            retired: AtomicBool::new(false),
            state: UserLock::new(
                O::NAME,
                State {
                    items,
                    maxsize,
                    shutdown: false,
                },
            ),
            len: AtomicUsize::new(0),
            locked_puts: AtomicUsize::new(0),
            settled: CachePadded::new(AtomicUsize::new(0)),
            getters: AtomicUsize::new(0),
            putters: AtomicUsize::new(0),
            joiners: AtomicUsize::new(0),
            waiters: Box::new(Waiters {
                get: WaitList::new(),
                put: WaitList::new(),
                join: WaitList::new(),
            }),
        }
    }

    /// Puts `item`, waiting for room while the queue is full. Counts one unfinished task.
    ///
    /// Returns `Err(ShutDown(item))` once the queue is shut down, also while waiting: the item is
    /// not added, and comes back.
    ///
    /// User code under the lock: a `PriorityQueue` item's `Ord`, here and in `put_timeout` and
    /// `put_nowait` (see "User code" above).
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

    /// Puts `item`, waiting at most `timeout` for room.
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

    /// Puts `item` if there is room now; never waits. Python's `put(x, block=False)`.
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

    /// Puts `item` from an async task: the twin of [`put`](Self::put), asyncio's `await
    /// q.put(x)`. While the queue is full the task waits without holding its executor's
    /// thread, queued in the same list as threads blocked in `put`. Counts one unfinished task.
    ///
    /// Returns `Err(ShutDown(item))` once the queue is shut down, also while waiting (a shutdown
    /// wakes waiting tasks as it wakes threads): the item is not added, and comes back.
    ///
    /// Needs no particular runtime: any executor drives it. A blocking [`put`](Self::put)
    /// called from async code blocks its thread (it never panics), so use this one there.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe as to the queue: the future owns `item` until it is queued, so dropping the
    /// future before it completes drops the item, which was never added (nor counted as a
    /// task). Keep a copy (or use [`put_nowait`](Self::put_nowait), which hands the item back)
    /// if it must not be lost. A dropped putter that had been woken for a free slot passes the
    /// wake-up on to the next waiting putter, so no slot is left unused. A timeout is the
    /// runtime's: `tokio::time::timeout(d, q.put_async(x))`.
    ///
    /// # Fairness
    ///
    /// Waiting putters, threads and tasks alike, are woken in the order they queued, one per
    /// slot freed; a woken putter that finds the slot taken again keeps its place at the head.
    /// Nothing is reserved for it: a put arriving meanwhile may take the slot first (as with
    /// asyncio's and Python's queues).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Queue;
    ///
    /// let q = Queue::new(1);
    /// futures::executor::block_on(async {
    ///     q.put_async("a").await.unwrap();
    /// });
    /// assert_eq!(q.get(), Ok("a"));
    /// q.shutdown(false);
    /// let refused = futures::executor::block_on(q.put_async("b"));
    /// assert_eq!(refused.unwrap_err().0, "b"); // the item comes back
    /// ```
    #[doc(alias = "put")]
    pub fn put_async(&self, item: T) -> impl Future<Output = Result<(), ShutDown<T>>> + '_ {
        QueuePut {
            queue: self,
            item: Some(item),
            wait: AsyncWait::new(&self.waiters.put, &self.putters),
        }
    }

    /// Takes the next item, waiting while the queue is empty.
    ///
    /// After a [`shutdown`](Self::shutdown) it still returns what is left, then
    /// `Err(ShutDown)` at once, without waiting. Waiting getters wake on shutdown.
    ///
    /// User code under the lock: a `PriorityQueue` item's `Ord`, here and in `get_timeout`,
    /// `get_nowait`, `iter` and `try_iter` (see "User code" above).
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

    /// Takes the next item, waiting at most `timeout`.
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

    /// Takes the next item if there is one now; never waits. Python's
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

    /// Takes the next item from an async task: the twin of [`get`](Self::get), asyncio's
    /// `await q.get()`. While the queue is empty the task waits without holding its executor's
    /// thread, queued in the same list as threads blocked in `get`.
    ///
    /// After a [`shutdown`](Self::shutdown) it still returns what is left, then `Err(ShutDown)`
    /// at once; a shutdown wakes waiting tasks as it wakes threads.
    ///
    /// Needs no particular runtime: any executor drives it. A blocking [`get`](Self::get)
    /// called from async code blocks its thread (it never panics), so use this one there.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: an item is taken out of the queue only by the poll that returns it, so
    /// dropping the future before it completes loses no item. A dropped getter that had been
    /// woken by a put passes the wake-up on to the next waiting getter, which takes the item.
    /// A timeout is the runtime's: `tokio::time::timeout(d, q.get_async())`.
    ///
    /// # Fairness
    ///
    /// Waiting getters, threads and tasks alike, are woken in the order they queued, one per
    /// item put; a woken getter that finds the item taken again keeps its place at the head.
    /// Nothing is reserved for it: a get arriving meanwhile may take the item first (as with
    /// asyncio's and Python's queues).
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Queue;
    /// use std::sync::Arc;
    ///
    /// let q = Arc::new(Queue::new(0));
    /// let producer = {
    ///     let q = Arc::clone(&q);
    ///     std::thread::spawn(move || q.put(42).unwrap())
    /// };
    /// let got = futures::executor::block_on(q.get_async());
    /// producer.join().unwrap();
    /// assert_eq!(got, Ok(42));
    /// ```
    #[doc(alias = "get")]
    pub fn get_async(&self) -> impl Future<Output = Result<T, ShutDown>> + '_ {
        QueueGet {
            queue: self,
            wait: AsyncWait::new(&self.waiters.get, &self.getters),
        }
    }

    /// The number of queued items. Another thread may change it at any moment.
    ///
    /// Takes no lock, except for the moment when `set_maxsize` or `shutdown` moves the ring's
    /// items to the locked core (see "Storage"): it then waits for the move, rather than count
    /// those items twice or not at all.
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
        match &self.ring {
            Some(ring) if !self.retired.load(Ordering::Acquire) => {
                // The locked core's count first: if it already counts the ring's items (read
                // `Acquire`, it was stored after the ring closed), the ring reads as closed.
                let locked = self.len.load(Ordering::Acquire);
                match ring.open_len() {
                    Some(in_ring) => in_ring + locked,
                    None => self.qsize_retiring(),
                }
            }
            _ => self.len.load(Ordering::Relaxed),
        }
    }

    /// `qsize` while the ring closes: its items are on their way to the locked core, counted
    /// by neither exactly, until the retirement (which holds the lock) is over.
    #[cold]
    fn qsize_retiring(&self) -> usize {
        let st = self.state.lock();
        self.qsize_locked(&st)
    }

    /// `qsize` for a caller that holds the lock (a retirement is then over or not begun).
    fn qsize_locked(&self, st: &State<O::Store>) -> usize {
        let in_ring = self.ring.as_ref().and_then(Ring::open_len).unwrap_or(0);
        in_ring + st.items.len()
    }

    /// Whether the queue holds no items.
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

    /// Whether a bounded queue holds `maxsize` items or more; never for an unbounded one.
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
        if let Some(ring) = &self.ring {
            if let Some(in_ring) = ring.open_len() {
                return !self.spills && in_ring >= ring.capacity();
            }
        }
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

    /// Changes the bound at run time, as assigning Python's `q.maxsize` does. Shrinking
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
        let retired = match &self.ring {
            // Unbounded stays unbounded; a bounded ring keeps its own bound.
            Some(ring)
                if (self.spills && maxsize != 0)
                    || (!self.spills && maxsize != ring.capacity()) =>
            {
                self.retire_ring(ring, &mut st)
            }
            _ => false,
        };
        st.maxsize = maxsize;
        let wake = self.putters.load(Ordering::Relaxed) > 0 && (retired || st.has_room());
        let wake_getters = retired && self.getters.load(Ordering::Relaxed) > 0;
        drop(st);
        if wake {
            self.waiters.put.notify_all();
        }
        if wake_getters {
            // Asleep on the ring: they move to the locked core.
            self.waiters.get.notify_all();
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
        // `settled` first: it never passes the puts counted before it was read, and puts only
        // grow, so the difference cannot go below zero.
        let settled = self.settled.load(Ordering::SeqCst);
        self.puts().wrapping_sub(settled)
    }

    /// Marks one task finished: call it once per item taken, when the work on it is done.
    /// When the count reaches zero, every [`join`](Self::join) returns.
    ///
    /// Returns `Err(ValueError)` when there is no unfinished task; the count never goes
    /// negative.
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
        let mut settled = self.settled.load(Ordering::SeqCst);
        loop {
            let puts = self.puts();
            if settled == puts {
                return Err(ValueError::new("task_done() called too many times"));
            }
            match self.settled.compare_exchange(
                settled,
                settled.wrapping_add(1),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => {
                    if settled.wrapping_add(1) == puts {
                        // Zero, unless a put came meanwhile (a joiner then looks and sleeps on).
                        self.wake_joiners();
                    }
                    return Ok(());
                }
                Err(current) => settled = current,
            }
        }
    }

    /// Waits until every item put has been marked done with [`task_done`](Self::task_done). Returns
    /// at once when nothing is unfinished; can be called again and from many threads. A plain
    /// [`shutdown`](Self::shutdown) does not release it; an immediate one does, by discarding the
    /// queued items' tasks.
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

    /// Waits from an async task until every item put has been marked done with
    /// [`task_done`](Self::task_done): the twin of [`join`](Self::join), asyncio's `await
    /// q.join()`. Ready at once when nothing is unfinished. The task waits without holding its
    /// executor's thread, with the threads blocked in `join`; all of them wake when the count
    /// reaches zero.
    ///
    /// # Cancellation and timeouts
    ///
    /// Cancel-safe: dropping the future changes nothing in the queue. A timeout is the
    /// runtime's: `tokio::time::timeout(d, q.join_async())`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Queue;
    /// use std::sync::Arc;
    ///
    /// let q = Arc::new(Queue::new(0));
    /// q.put(1).unwrap();
    /// let worker = {
    ///     let q = Arc::clone(&q);
    ///     std::thread::spawn(move || {
    ///         q.get().unwrap();
    ///         q.task_done().unwrap();
    ///     })
    /// };
    /// futures::executor::block_on(q.join_async());
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// worker.join().unwrap();
    /// ```
    #[doc(alias = "join")]
    pub fn join_async(&self) -> impl Future<Output = ()> + '_ {
        QueueJoin {
            queue: self,
            wait: AsyncWait::new(&self.waiters.join, &self.joiners),
        }
    }

    /// Shuts the queue down (Python 3.13). From now on every put fails with
    /// `ShutDown`, also for putters that are waiting now.
    ///
    /// * `immediate = false`: getters still receive the queued items, then `ShutDown`;
    ///   `join` still waits for `task_done` on every item.
    /// * `immediate = true`: the queued items are dropped, each one's task counted as done, so
    ///   `join` returns once nothing else is unfinished; every getter gets `ShutDown`.
    ///
    /// A later plain shutdown changes nothing; an immediate one after a plain one drains.
    /// There is no way back. The dropped items' destructors run after the queue's lock
    /// is released and the shutdown is complete (counts, wake-ups), so they may use the queue;
    /// if one panics, the others are still dropped and the panic then leaves `shutdown`.
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
        if let Some(ring) = &self.ring {
            self.retire_ring(ring, &mut st);
        }
        let discarded = if immediate {
            let items = std::mem::take(&mut st.items);
            let n = items.len();
            // Never below zero (Python's `if unfinished_tasks > 0` per item): the puts are
            // frozen now (the ring is closed, the locked core refuses under this lock), and
            // task_done may race this.
            let puts = self.puts();
            let _ = self
                .settled
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |settled| {
                    let unfinished = puts.wrapping_sub(settled);
                    Some(settled.wrapping_add(n.min(unfinished)))
                });
            self.len.store(0, Ordering::Release);
            Some(items)
        } else {
            None
        };
        let getters = self.getters.load(Ordering::Relaxed) > 0;
        let putters = self.putters.load(Ordering::Relaxed) > 0;
        // Joiners check the count under the lock after counting themselves in, so reading
        // both here, under the lock, misses none.
        let joiners = self.joiners.load(Ordering::Relaxed) > 0 && self.unfinished_tasks() == 0;
        drop(st);
        if getters {
            self.waiters.get.notify_all();
        }
        if putters {
            self.waiters.put.notify_all();
        }
        if joiners {
            self.waiters.join.notify_all();
        }
        // After the lock and the wake-ups: an item's `Drop` may use the queue, and one that
        // panics finds the shutdown done (the store drops the others first, as a `Vec` does).
        drop(discarded);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
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

    /// Closes the ring and moves what it holds to the locked core, in order; `true` if this
    /// call closed it. Called with the lock held, so nobody sleeps or runs the locked core
    /// meanwhile. A lock-free get that claimed an item before the close finishes with it; no
    /// get claims one after (a get that raced the move would otherwise overtake the items in
    /// transit). Pushes that claimed a slot before the close are waited for.
    fn retire_ring(&self, ring: &Ring<T>, st: &mut State<O::Store>) -> bool {
        let Some(older) = ring.close_and_drain() else {
            return false;
        };
        // The ring's items are older than any overflow already in `items`: in front of it.
        for item in older.into_iter().rev() {
            st.items.push_oldest(item);
        }
        self.len.store(st.items.len(), Ordering::Release);
        self.retired.store(true, Ordering::Release);
        true
    }

    /// After this thread published to or freed a slot of the ring without the lock, wakes the
    /// oldest waiter of `list` (counted in `sleepers`), if any. The pairing with the waiter is
    /// described on the `getters` field; taking the lock waits for a waiter between counting
    /// itself in and queueing.
    #[inline]
    fn wake_one_after_ring_change(&self, sleepers: &AtomicUsize, list: &WaitList) {
        // The pair's fence (for loom) is in the ring, right after the CAS: the stamp store
        // that follows it is not ordered before this load.
        if sleepers.load(Ordering::SeqCst) > 0 {
            self.wake_one_slow(list);
        }
    }

    #[cold]
    fn wake_one_slow(&self, list: &WaitList) {
        drop(self.state.lock());
        list.notify_one();
    }

    /// The same with the lock held: every waiter counted in now is in `list` already (it
    /// queued before letting the lock go), and one that counts in later looks at the ring
    /// again first. The wake-up is given after the lock: see [`Owed`].
    #[inline]
    fn owed_after_ring_change<'a>(&self, sleepers: &AtomicUsize, list: &'a WaitList) -> Owed<'a> {
        Owed((sleepers.load(Ordering::SeqCst) > 0).then_some(list))
    }

    /// Wakes every joiner after the task count reached zero (lock-free, as above).
    fn wake_joiners(&self) {
        seqcst_pair();
        if self.joiners.load(Ordering::SeqCst) > 0 {
            drop(self.state.lock());
            self.waiters.join.notify_all();
        }
    }

    /// Every put so far: see the `settled` field.
    #[inline]
    fn puts(&self) -> usize {
        let ring = self.ring.as_ref().map_or(0, Ring::pushes);
        self.locked_puts.load(Ordering::SeqCst).wrapping_add(ring)
    }

    fn put_inner(&self, mut item: T, mut wait: Wait) -> Result<(), PutError<T>> {
        // The push finds out itself whether the ring is closed, from the tail it reads anyway.
        if let Some(ring) = &self.ring {
            match self.ring_put(ring, item, &mut wait) {
                Ringed::Done(result) => return result,
                Ringed::Locked(back) => item = back,
            }
        }
        self.locked_put(item, wait)
    }

    /// One lock-free push onto the ring, waking a getter if it published. Its task is counted
    /// by the claim of the tail position, before the item is published, so a `task_done` for
    /// it can never come first.
    #[inline]
    fn push_waking(&self, ring: &Ring<T>, item: T) -> Result<(), Refused<T>> {
        let pushed = ring.try_push(item);
        if pushed.is_ok() {
            self.wake_one_after_ring_change(&self.getters, &self.waiters.get);
        }
        pushed
    }

    /// The same with the lock held (`_st`), a `Pending` slot waited out; the wake-up of a
    /// getter, if one is owed, is the caller's to give after the lock.
    fn push_locked(
        &self,
        ring: &Ring<T>,
        item: T,
        _st: &MutexGuard<'_, State<O::Store>>,
    ) -> (Result<(), Refused<T>>, Owed<'_>) {
        let pushed = ring.push_settled(item);
        let owed = match pushed {
            Ok(()) => self.owed_after_ring_change(&self.getters, &self.waiters.get),
            Err(_) => Owed(None),
        };
        (pushed, owed)
    }

    /// `put` on the ring.
    fn ring_put(
        &self,
        ring: &Ring<T>,
        mut item: T,
        wait: &mut Wait,
    ) -> Ringed<Result<(), PutError<T>>, T> {
        let backoff = Backoff::new();
        let mut place = Place::new();
        loop {
            if self.spills && self.len.load(Ordering::Relaxed) > 0 {
                // Earlier items overflowed into the locked core: this one goes after them.
                return Ringed::Locked(item);
            }
            match self.push_waking(ring, item) {
                Ok(()) => return Ringed::Done(Ok(())),
                Err(Refused::Closed(back)) => return Ringed::Locked(back),
                Err(Refused::Full(back) | Refused::Pending(back)) if self.spills => {
                    return Ringed::Locked(back);
                }
                Err(Refused::Full(back) | Refused::Pending(back)) => item = back,
            }
            let deadline = match *wait {
                Wait::Never => return Ringed::Done(Err(PutError::Full(item))),
                Wait::Until(at) => Some(at),
                Wait::Forever => None,
            };
            if !backoff.is_completed() {
                // A getter is probably on its way: give it a moment before sleeping.
                backoff.snooze();
                continue;
            }
            // Count in, then try once more: a get that frees a slot after this try sees the
            // count (see the `getters` field) and wakes us.
            let st = self.state.lock();
            self.putters.fetch_add(1, Ordering::SeqCst);
            seqcst_pair();
            let (result, owed) = self.push_locked(ring, item, &st);
            let timed_out = match result {
                Ok(()) | Err(Refused::Closed(_)) => {
                    drop(st);
                    owed.give();
                    false
                }
                Err(Refused::Full(_) | Refused::Pending(_)) => {
                    self.sleep(&self.waiters.put, &mut place, st, deadline)
                }
            };
            self.putters.fetch_sub(1, Ordering::Relaxed);
            match result {
                Ok(()) => return Ringed::Done(Ok(())),
                Err(Refused::Closed(back)) => return Ringed::Locked(back),
                Err(Refused::Full(back) | Refused::Pending(back)) => item = back,
            }
            if timed_out {
                // One last try (at the top of the loop), then Full.
                *wait = Wait::Never;
            }
        }
    }

    fn locked_put(&self, item: T, mut wait: Wait) -> Result<(), PutError<T>> {
        let mut st = self.state.lock();
        let backoff = Backoff::new();
        let mut place = Place::new();
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
                while self.len.load(Ordering::Relaxed) >= maxsize && !backoff.is_completed() {
                    backoff.snooze();
                }
                st = self.state.lock();
                continue;
            }
            self.putters.fetch_add(1, Ordering::Relaxed);
            let timed_out = self.sleep(&self.waiters.put, &mut place, st, deadline);
            self.putters.fetch_sub(1, Ordering::Relaxed);
            st = self.state.lock();
            if timed_out {
                // One last look (at the top of the loop), then Full.
                wait = Wait::Never;
            }
        }
    }

    /// Puts `item` into an unbounded queue that is never shut down: `SimpleQueue`.
    #[inline]
    pub(super) fn put_unbounded(&self, item: T) {
        if let Err(err) = self.put_inner(item, Wait::Forever) {
            // Cannot happen (no bound, no shutdown); stored anyway rather than lost.
            let st = self.state.lock();
            self.enqueue(st, err.into_inner());
        }
    }

    /// Takes the oldest item of an unbounded queue, from its ring or else its overflow, if
    /// there is one. Under the lock, so that the puts that overflowed happened before: a ring
    /// item a put published before overflowing (which a lock-free look may not have seen yet)
    /// is seen now, and taken first. `Closed`: the ring was retired since the caller looked,
    /// and the locked core holds every item (the caller must get from there: the overflow
    /// alone is not the queue any more). Never `Pending`.
    fn pop_overflow(&self, ring: &Ring<T>) -> Pop<T> {
        let mut st = self.state.lock();
        let (popped, owed) = self.pop_locked(ring, &mut st);
        drop(st);
        owed.give();
        popped
    }

    /// With the lock held: the ring's next item (a pending one waited out), or else the
    /// overflow's oldest. Never `Pending`. The wake-up of a putter, if a ring slot was freed
    /// and one is owed, is the caller's to give after the lock.
    fn pop_locked(&self, ring: &Ring<T>, st: &mut State<O::Store>) -> (Pop<T>, Owed<'_>) {
        match ring.pop_settled() {
            Pop::Empty => {
                let popped = match st.items.pop() {
                    Some(item) => {
                        self.len.store(st.items.len(), Ordering::Release);
                        Pop::Item(item)
                    }
                    None => Pop::Empty,
                };
                (popped, Owed(None))
            }
            Pop::Item(item) => (
                Pop::Item(item),
                self.owed_after_ring_change(&self.putters, &self.waiters.put),
            ),
            popped => (popped, Owed(None)),
        }
    }

    /// Stores `item` in the locked core (room was checked by the caller), counts its task and
    /// wakes one getter.
    #[inline]
    fn enqueue(&self, mut st: MutexGuard<'_, State<O::Store>>, item: T) {
        // Counted before it is stored: a push whose `Ord` panics stores the item all the same
        // (see `Store`), so the count is right either way.
        self.locked_puts.fetch_add(1, Ordering::SeqCst);
        // Only a PriorityQueue's push runs user code (`Ord`); the catch costs nothing when
        // nothing panics, and keeps the bookkeeping right when something does (Q-11).
        let pushed = panic::catch_unwind(AssertUnwindSafe(|| {
            if st.items.runs_user_code(true) {
                self.state.run_user_code(|| st.items.push(item))
            } else {
                st.items.push(item)
            }
        }));
        self.len.store(st.items.len(), Ordering::Release);
        let wake = self.getters.load(Ordering::Relaxed) > 0;
        drop(st);
        if wake {
            self.waiters.get.notify_one();
        }
        if let Err(payload) = pushed {
            panic::resume_unwind(payload);
        }
    }

    pub(super) fn get_inner(&self, mut wait: Wait) -> Result<T, GetError> {
        // The pop finds out whether the ring is closed: a get must not read the producers' tail
        // line unless the ring looks empty.
        if let Some(ring) = &self.ring {
            if let Ringed::Done(result) = self.ring_get(ring, &mut wait) {
                return result;
            }
        }
        self.locked_get(wait)
    }

    /// One lock-free pop from the ring, waking a putter if it freed a slot.
    #[inline]
    fn pop_waking(&self, ring: &Ring<T>) -> Pop<T> {
        let popped = ring.try_pop();
        if let Pop::Item(_) = popped {
            self.wake_one_after_ring_change(&self.putters, &self.waiters.put);
        }
        popped
    }

    /// `get` on the ring.
    fn ring_get(&self, ring: &Ring<T>, wait: &mut Wait) -> Ringed<Result<T, GetError>, ()> {
        let backoff = Backoff::new();
        let mut place = Place::new();
        loop {
            // `Closed` (here and below): the ring was retired under this get. The retirement
            // holds the lock until it has moved every item to the locked core, so the locked
            // get, which takes the lock, finds them all there: never a false `Empty`.
            match self.pop_waking(ring) {
                Pop::Item(item) => return Ringed::Done(Ok(item)),
                Pop::Closed => return Ringed::Locked(()),
                Pop::Empty | Pop::Pending => {}
            }
            if self.len.load(Ordering::Relaxed) > 0 {
                // An unbounded queue's overflow (the ring's items are older: see there).
                match self.pop_overflow(ring) {
                    Pop::Item(item) => return Ringed::Done(Ok(item)),
                    Pop::Closed => return Ringed::Locked(()),
                    Pop::Empty | Pop::Pending => {}
                }
            }
            let deadline = match *wait {
                Wait::Never => return Ringed::Done(Err(GetError::Empty)),
                Wait::Until(at) => Some(at),
                Wait::Forever => None,
            };
            if !backoff.is_completed() {
                // A putter is probably on its way: give it a moment before sleeping.
                backoff.snooze();
                continue;
            }
            // Count in, then look once more (see the `getters` field).
            let mut st = self.state.lock();
            self.getters.fetch_add(1, Ordering::SeqCst);
            seqcst_pair();
            let (popped, owed) = self.pop_locked(ring, &mut st);
            let timed_out = match popped {
                Pop::Empty | Pop::Pending => {
                    self.sleep(&self.waiters.get, &mut place, st, deadline)
                }
                Pop::Item(_) | Pop::Closed => {
                    drop(st);
                    owed.give();
                    false
                }
            };
            self.getters.fetch_sub(1, Ordering::Relaxed);
            match popped {
                Pop::Item(item) => return Ringed::Done(Ok(item)),
                Pop::Closed => return Ringed::Locked(()),
                Pop::Empty | Pop::Pending => {}
            }
            if timed_out {
                *wait = Wait::Never;
            }
        }
    }

    fn locked_get(&self, mut wait: Wait) -> Result<T, GetError> {
        let mut st = self.state.lock();
        let backoff = Backoff::new();
        let mut place = Place::new();
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
                while self.len.load(Ordering::Relaxed) == 0 && !backoff.is_completed() {
                    backoff.snooze();
                }
                st = self.state.lock();
                continue;
            }
            self.getters.fetch_add(1, Ordering::Relaxed);
            let timed_out = self.sleep(&self.waiters.get, &mut place, st, deadline);
            self.getters.fetch_sub(1, Ordering::Relaxed);
            st = self.state.lock();
            if timed_out {
                wait = Wait::Never;
            }
        }
    }

    /// Takes the next item from the locked core (the caller saw one) and wakes one putter.
    #[inline]
    fn dequeue(&self, mut st: MutexGuard<'_, State<O::Store>>) -> Option<T> {
        let popped = panic::catch_unwind(AssertUnwindSafe(|| {
            if st.items.runs_user_code(false) {
                self.state.run_user_code(|| st.items.pop())
            } else {
                st.items.pop()
            }
        }));
        self.len.store(st.items.len(), Ordering::Release);
        match popped {
            Ok(item) => {
                let wake = self.putters.load(Ordering::Relaxed) > 0;
                drop(st);
                if wake {
                    self.waiters.put.notify_one();
                }
                item
            }
            Err(payload) => {
                // From the items' `Ord` (a PriorityQueue): the item stays queued (see `Store`),
                // so nobody gets room; a wake-up this getter was given passes on to the next
                // getter. The panic goes back to the caller, the queue intact.
                let wake = self.getters.load(Ordering::Relaxed) > 0 && st.items.len() > 0;
                drop(st);
                if wake {
                    self.waiters.get.notify_one();
                }
                panic::resume_unwind(payload)
            }
        }
    }

    fn join_inner(&self, wait: Wait) -> bool {
        if self.unfinished_tasks() == 0 {
            return true;
        }
        let deadline = match wait {
            Wait::Never => return self.unfinished_tasks() == 0,
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        let mut place = Place::new();
        loop {
            let st = self.state.lock();
            // Counted in before the last look, so the task_done that reaches zero sees us.
            self.joiners.fetch_add(1, Ordering::SeqCst);
            seqcst_pair();
            let timed_out = if self.unfinished_tasks() > 0 {
                self.sleep(&self.waiters.join, &mut place, st, deadline)
            } else {
                drop(st);
                false
            };
            self.joiners.fetch_sub(1, Ordering::Relaxed);
            let done = self.unfinished_tasks() == 0;
            if done || timed_out {
                return done;
            }
        }
    }

    /// Queues this thread in `list` and sleeps until woken or `deadline` passes (`true`: timed
    /// out). The caller has counted itself in and looked once more under `st`, the lock, which
    /// is let go only under the list's lock, as the thread queues: a waker, which takes the
    /// lock before notifying, finds it queued.
    fn sleep(
        &self,
        list: &WaitList,
        place: &mut Place,
        st: MutexGuard<'_, State<O::Store>>,
        deadline: Option<rt::Instant>,
    ) -> bool {
        let woke = list.wait(
            place,
            move || {
                drop(st);
                true
            },
            deadline,
        );
        woke == Woke::TimedOut
    }

    // -----------------------------------------------------------------------------------------
    // The async twins: one attempt per poll (lock-free where the blocking form is), then the
    // same count-in, look-again-under-the-lock and queue as a thread, without sleeping.

    /// Queues the task of `wait`, letting `st` go under the list's lock (see `sleep`).
    fn park(wait: &mut AsyncWait<'_>, cx: &mut Context<'_>, st: MutexGuard<'_, State<O::Store>>) {
        // Not queued (the caller saw to it), so this always queues: `Pending`.
        let _ = wait.waiter.poll_wait(cx, move || {
            drop(st);
            true
        });
    }

    fn poll_get(
        &self,
        wait: &mut AsyncWait<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, ShutDown>> {
        loop {
            if wait.waiter.is_queued() && wait.waiter.poll_wait(cx, || true).is_pending() {
                return Poll::Pending;
            }
            let got = match self.get_inner(Wait::Never) {
                Ok(item) => Ok(item),
                Err(GetError::ShutDown) => Err(ShutDown(())),
                Err(GetError::Empty) => {
                    let mut st = self.state.lock();
                    wait.count_in();
                    seqcst_pair();
                    let (found, owed) = self.get_locked_once(&mut st);
                    match found {
                        Some(Ok(())) => match self.dequeue(st) {
                            Some(item) => Ok(item),
                            None => continue,
                        },
                        Some(Err(got)) => {
                            drop(st);
                            owed.give();
                            got
                        }
                        None => {
                            Self::park(wait, cx, st);
                            return Poll::Pending;
                        }
                    }
                }
            };
            wait.count_out();
            return Poll::Ready(got);
        }
    }

    /// One look for an item with the lock held, after counting in: `Some(Err(result))` when
    /// done (an item from the ring, or `ShutDown`), `Some(Ok(()))` when the locked core holds
    /// an item for `dequeue`, `None` when there is none. With it, the wake-up the caller owes
    /// a putter after the lock (an item from the ring freed a slot).
    #[allow(clippy::type_complexity)]
    fn get_locked_once(
        &self,
        st: &mut MutexGuard<'_, State<O::Store>>,
    ) -> (Option<Result<(), Result<T, ShutDown>>>, Owed<'_>) {
        if let Some(ring) = &self.ring {
            match self.pop_locked(ring, st) {
                (Pop::Item(item), owed) => return (Some(Err(Ok(item))), owed),
                (Pop::Empty | Pop::Pending, _) => return (None, Owed(None)),
                (Pop::Closed, _) => {}
            }
        }
        let found = if st.items.len() > 0 {
            Some(Ok(()))
        } else if st.shutdown {
            Some(Err(Err(ShutDown(()))))
        } else {
            None
        };
        (found, Owed(None))
    }

    fn poll_put(
        &self,
        slot: &mut Option<T>,
        wait: &mut AsyncWait<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ShutDown<T>>> {
        if wait.waiter.is_queued() && wait.waiter.poll_wait(cx, || true).is_pending() {
            return Poll::Pending;
        }
        let Some(item) = slot.take() else {
            // Polled after it completed: nothing left to put.
            return Poll::Pending;
        };
        let put = match self.put_inner(item, Wait::Never) {
            Ok(()) => Ok(()),
            Err(PutError::ShutDown(item)) => Err(ShutDown(item)),
            Err(PutError::Full(item)) => {
                let st = self.state.lock();
                wait.count_in();
                seqcst_pair();
                match self.put_locked_once(st, item) {
                    Ok(put) => put,
                    Err((st, item)) => {
                        *slot = Some(item);
                        Self::park(wait, cx, st);
                        return Poll::Pending;
                    }
                }
            }
        };
        wait.count_out();
        Poll::Ready(put)
    }

    /// One try to put with the lock held, after counting in; the lock and the item back when
    /// there is no room. A wake-up owed to a getter is given after the lock.
    #[allow(clippy::type_complexity)]
    fn put_locked_once<'s>(
        &'s self,
        st: MutexGuard<'s, State<O::Store>>,
        mut item: T,
    ) -> Result<Result<(), ShutDown<T>>, (MutexGuard<'s, State<O::Store>>, T)> {
        if let Some(ring) = &self.ring {
            // An unbounded queue's overflow holds older items: this one goes after them.
            if !(self.spills && self.len.load(Ordering::Relaxed) > 0) {
                match self.push_locked(ring, item, &st) {
                    (Ok(()), owed) => {
                        drop(st);
                        owed.give();
                        return Ok(Ok(()));
                    }
                    (Err(Refused::Full(back) | Refused::Pending(back)), _) if !self.spills => {
                        return Err((st, back));
                    }
                    (
                        Err(Refused::Closed(back) | Refused::Full(back) | Refused::Pending(back)),
                        _,
                    ) => item = back,
                }
            }
        }
        if st.shutdown {
            Ok(Err(ShutDown(item)))
        } else if st.has_room() {
            self.enqueue(st, item);
            Ok(Ok(()))
        } else {
            Err((st, item))
        }
    }

    fn poll_join(&self, wait: &mut AsyncWait<'_>, cx: &mut Context<'_>) -> Poll<()> {
        if wait.waiter.is_queued() && wait.waiter.poll_wait(cx, || true).is_pending() {
            return Poll::Pending;
        }
        if self.unfinished_tasks() > 0 {
            let st = self.state.lock();
            // Counted in before the last look, so the task_done that reaches zero sees us.
            wait.count_in();
            seqcst_pair();
            if self.unfinished_tasks() > 0 {
                Self::park(wait, cx, st);
                return Poll::Pending;
            }
        }
        wait.count_out();
        Poll::Ready(())
    }
}

/// A task's place in one of a queue's waiter lists, and its count in the matching counter
/// (`getters`, `putters`, `joiners`): counted in from its first look under the lock until the
/// future completes or is dropped. Dropping it leaves the list first (passing on a wake-up it
/// was handed and never used), then counts out.
struct AsyncWait<'a> {
    waiter: Waiter<'a>,
    count: &'a AtomicUsize,
    counted: bool,
}

impl<'a> AsyncWait<'a> {
    fn new(list: &'a WaitList, count: &'a AtomicUsize) -> Self {
        AsyncWait {
            waiter: Waiter::new(list),
            count,
            counted: false,
        }
    }

    /// Before the look under the lock that precedes queueing (see the `getters` field).
    #[inline]
    fn count_in(&mut self) {
        if !self.counted {
            self.count.fetch_add(1, Ordering::SeqCst);
            self.counted = true;
        }
    }

    #[inline]
    fn count_out(&mut self) {
        if self.counted {
            self.count.fetch_sub(1, Ordering::Relaxed);
            self.counted = false;
        }
    }
}

impl Drop for AsyncWait<'_> {
    fn drop(&mut self) {
        self.waiter.cancel();
        self.count_out();
    }
}

/// The future of [`BaseQueue::put_async`]: owns the item until it is queued.
struct QueuePut<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    item: Option<T>,
    wait: AsyncWait<'a>,
}

// The item is never pinned (it is moved into the queue), so the future moves freely.
impl<T, O: Order<T>> Unpin for QueuePut<'_, T, O> {}

impl<T, O: Order<T>> Future for QueuePut<'_, T, O> {
    type Output = Result<(), ShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.queue.poll_put(&mut this.item, &mut this.wait, cx)
    }
}

/// The future of [`BaseQueue::get_async`].
struct QueueGet<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    wait: AsyncWait<'a>,
}

impl<T, O: Order<T>> Future for QueueGet<'_, T, O> {
    type Output = Result<T, ShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.queue.poll_get(&mut this.wait, cx)
    }
}

/// The future of `SimpleQueue::get_async`: the queue's get, which never meets a shutdown.
pub(super) struct SimpleGet<'a, T> {
    queue: &'a Queue<T>,
    wait: AsyncWait<'a>,
}

impl<'a, T> SimpleGet<'a, T> {
    pub(super) fn new(queue: &'a Queue<T>) -> Self {
        SimpleGet {
            queue,
            wait: AsyncWait::new(&queue.waiters.get, &queue.getters),
        }
    }
}

impl<T> Future for SimpleGet<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        loop {
            match this.queue.poll_get(&mut this.wait, cx) {
                Poll::Ready(Ok(item)) => return Poll::Ready(item),
                Poll::Pending => return Poll::Pending,
                // A SimpleQueue is never shut down: cannot happen; look again.
                Poll::Ready(Err(_)) => {}
            }
        }
    }
}

/// The future of [`BaseQueue::join_async`].
struct QueueJoin<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    wait: AsyncWait<'a>,
}

impl<T, O: Order<T>> Future for QueueJoin<'_, T, O> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.queue.poll_join(&mut this.wait, cx)
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
            .field("qsize", &self.qsize_locked(&st))
            .field("maxsize", &st.maxsize)
            .field("unfinished_tasks", &self.unfinished_tasks())
            .field("shutdown", &st.shutdown)
            .field("getters_waiting", &self.getters.load(Ordering::Relaxed))
            .field("putters_waiting", &self.putters.load(Ordering::Relaxed))
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
