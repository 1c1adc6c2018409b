//! # gilfree
//!
//! Python's concurrency toolkit — the one *Learning Concurrency in Python* teaches — with
//! Python's names and semantics, Rust's safety, and no GIL: the threads really run in parallel.
//!
//! | Python | gilfree |
//! |---|---|
//! | `threading.Lock()` | [`Lock::new()`](Lock::new), [`Lock::with_value`] |
//! | `threading.RLock()` | [`RLock::new()`](RLock::new), [`RLock::with_value`] |
//! | `threading.Condition()` / `Condition(lock)` | [`Condition::new()`](Condition::new), [`Condition::with_lock`], [`Condition::with_value`] |
//! | `threading.Semaphore(n)` | [`Semaphore::new(n)`](Semaphore::new) |
//! | `threading.BoundedSemaphore(n)` | [`BoundedSemaphore::new(n)`](BoundedSemaphore::new) |
//! | `threading.Event()` | [`Event::new()`](Event::new) |
//! | `threading.Barrier(n, action, timeout)` | [`Barrier::new(n)`](Barrier::new), [`Barrier::builder`], whose [`build()`](BarrierBuilder::build) returns `Result<Barrier, ValueError>` |
//! | `threading.Thread(target=f).start()` | [`Thread::spawn(f)`](Thread::spawn), [`Thread::builder`], whose [`spawn(f)`](ThreadBuilder::spawn) returns `io::Result<Thread<T>>` |
//! | `threading.local()` | std's [`thread_local!`](std::thread_local) (one value per thread, in a `static`) |
//! | `threading.Timer(t, f).start()` | [`Timer::start(t, f)`](Timer::start) |
//! | `threading.current_thread()`, `enumerate()`, `active_count()`, … | [`threading::current_thread`], [`threading::enumerate`], [`threading::active_count`], … |
//! | `queue.Queue(maxsize)`, `LifoQueue`, `PriorityQueue` | [`Queue::new(maxsize)`](queue::BaseQueue::new), [`LifoQueue`], [`PriorityQueue`] |
//! | `queue.SimpleQueue()` | [`SimpleQueue::new()`](SimpleQueue::new) |
//! | `collections.deque(maxlen=n)` | [`Deque::new()`](Deque::new), [`Deque::with_maxlen(n)`](Deque::with_maxlen) |
//! | a `set` guarded by a `Lock` | [`Set::new()`](Set::new) (sharded; every method on `&self`) |
//! | `concurrent.futures.ThreadPoolExecutor(n)` | [`ThreadPoolExecutor::new(n)`](ThreadPoolExecutor::new), [`ThreadPoolExecutor::builder`], whose [`build()`](futures::ThreadPoolExecutorBuilder::build) returns `Result<ThreadPoolExecutor, ValueError>` |
//! | `pool.submit(fn)` → `Future`, `wait`, `as_completed` | [`ThreadPoolExecutor::submit`] → [`Future`], [`futures::wait`], [`futures::as_completed`] |
//! | PyOpenCL's `ElementwiseKernel`, `ReductionKernel`, `cl_array.to_device` (feature `opencl`) | `OpenClExecutor::elementwise`, `reduction`, `to_device` in `gilfree::opencl`, with the same [`Future`] |
//! | `RuntimeError`, `ValueError`, `BrokenBarrierError` | [`RuntimeError`], [`ValueError`], [`BrokenBarrierError`] |
//! | `queue.Empty`, `queue.Full`, `queue.ShutDown` | [`Empty`], [`PutError::Full`], [`ShutDown`] (and [`GetError`]) |
//! | `IndexError`, `KeyError` | [`IndexError`], [`KeyError`] |
//! | `CancelledError`, `TimeoutError`, `BrokenThreadPool`, `InvalidStateError` | [`FutureError`], [`TimeoutError`], [`InvalidStateError`] |
//!
//! Every blocking call has three forms: blocking (`acquire`, `wait`), non-blocking
//! (`try_acquire`) and timed (`acquire_timeout(Duration)`, `wait_timeout(Duration)`). Any
//! `Duration` is accepted: `Duration::ZERO` tries once, `Duration::MAX` waits forever.
//!
//! `with lock:` is a guard: `let guard = lock.acquire();` releases when dropped, also when the
//! code holding it panics. There is no poisoning.
//!
//! ```
//! use gilfree::{Lock, Semaphore};
//! use std::sync::Arc;
//!
//! let tickets = Arc::new(Lock::with_value(100));
//! let sellers = Arc::new(Semaphore::new(4));
//! let handles: Vec<_> = (0..8)
//!     .map(|_| {
//!         let (tickets, sellers) = (Arc::clone(&tickets), Arc::clone(&sellers));
//!         std::thread::spawn(move || {
//!             let _seat = sellers.acquire(); // at most 4 selling at once
//!             let mut left = tickets.acquire();
//!             if *left > 0 {
//!                 *left -= 1;
//!             }
//!         })
//!     })
//!     .collect();
//! for h in handles {
//!     h.join().unwrap();
//! }
//! assert_eq!(*tickets.acquire(), 92);
//! ```
//!
//! # Threads and async tasks: one set of primitives
//!
//! Python has two sets of primitives that do not mix: `threading`'s for threads and
//! `asyncio`'s for tasks, with glue between them (`run_in_executor`, `wrap_future`, the `janus`
//! package). In gilfree every wait has an async twin **on the same object**, so one `Queue` is
//! served to a thread blocked in [`get`](Queue::get) and a task awaiting
//! [`get_async`](Queue::get_async) at the same time:
//!
//! | asyncio | gilfree |
//! |---|---|
//! | `async with lock:` | `let _guard = lock.`[`acquire_async`](Lock::acquire_async)`().await;` |
//! | `async with sem:` | `let _permit = sem.`[`acquire_async`](Semaphore::acquire_async)`().await;` |
//! | `await event.wait()` | `event.`[`wait_async`](Event::wait_async)`().await` |
//! | `async with cond: await cond.wait()` | `guard.`[`wait_async`](ConditionGuard::wait_async)`().await` |
//! | `await barrier.wait()` | `barrier.`[`wait_async`](Barrier::wait_async)`().await` |
//! | `await q.put(x)`, `await q.get()`, `await q.join()` | [`put_async`](Queue::put_async), [`get_async`](Queue::get_async), [`join_async`](Queue::join_async) |
//! | `await loop.run_in_executor(pool, f)` | `pool.`[`submit`](ThreadPoolExecutor::submit)`(f).await` |
//! | `asyncio.as_completed(fs)`, `asyncio.wait(fs)` | [`futures::as_completed_stream`], [`futures::wait_async`] |
//!
//! * **Any runtime.** The twins use only `std::task`: tokio, smol, `futures::executor` or a
//!   hand-written executor drive them, and one primitive may serve several at once.
//! * **Cancel-safe; timeouts are the runtime's.** Like asyncio's, the twins take no timeout:
//!   wrap them in your runtime's (`tokio::time::timeout(d, q.get_async())`), which drops the
//!   future when time is up. Dropping a pending future loses nothing: a lock or permit it did
//!   not get stays free, an item stays queued, and a wake-up it was handed passes to the next
//!   waiter.
//! * **One queue of waiters.** Threads and tasks wait in one FIFO per primitive and are woken
//!   oldest first, whatever their kind.
//! * **Blocking calls inside async code block; they never panic.** Calling `get()` from a task
//!   blocks that executor thread until an item comes, as a `threading` call inside asyncio
//!   does. It is allowed (nothing panics, unlike some runtimes' blocking helpers) but it holds
//!   a runtime thread: use the `…_async` twin in async code.
//! * [`RLock`] has no async twin: a task moves between threads, so a lock owned by a thread
//!   means nothing to it (asyncio has no RLock either).
//!
//! ```
//! use gilfree::{Queue, ShutDown};
//! use std::sync::Arc;
//!
//! let queue = Arc::new(Queue::new(4)); // bounded: the thread blocks while it is full
//! let producer = {
//!     let queue = Arc::clone(&queue);
//!     std::thread::spawn(move || {
//!         for item in 1..=100 {
//!             queue.put(item).unwrap(); // a plain thread, blocking
//!         }
//!         queue.shutdown(false);
//!     })
//! };
//! let total = futures::executor::block_on(async {
//!     let mut total = 0;
//!     while let Ok(item) = queue.get_async().await { // a task, awaiting
//!         total += item;
//!     }
//!     total
//! });
//! producer.join().unwrap();
//! assert_eq!(total, 5050);
//! ```
//!
//! Behaviour follows CPython 3.13; where gilfree differs, the type's docs say so under
//! *Differences from Python*. Each behaviour these docs describe is checked by a test in the
//! repository's `tests/` directory.
#![deny(missing_docs)]
// docs.rs (and CI's copy of its build) passes `--cfg docsrs` on nightly: show which items need a
// feature (`opencl`) as a badge on each of them.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]

mod error;
mod native;
mod rt;

#[cfg(all(feature = "loom", not(doctest)))]
#[doc(hidden)]
pub mod __loom;

#[cfg(feature = "opencl")]
#[cfg_attr(docsrs, doc(cfg(feature = "opencl")))]
pub mod opencl;
#[cfg(feature = "opencl")]
pub use opencl::{
    DeviceBuffer, DeviceInfo, DeviceKind, ElementwiseKernel, OpenClError, OpenClExecutor,
    ReductionKernel,
};

pub use error::{
    BrokenBarrierError, Empty, Exception, FutureError, GetError, IndexError, InvalidStateError,
    JoinError, KeyError, PanicPayload, PutError, RuntimeError, ShutDown, TimeoutError, ValueError,
};
pub use native::collections;
pub use native::collections::{Deque, Set};
pub use native::futures;
pub use native::futures::{
    Future, FutureHandle, FutureState, Promise, ReturnWhen, ThreadPoolExecutor,
};
pub use native::queue;
pub use native::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
pub use native::threading;
pub use native::threading::{
    AsyncConditionLock, Barrier, BarrierBuilder, BoundedSemaphore, Condition, ConditionGuard,
    ConditionLock, Event, JoinAtExit, Lock, LockGuard, RLock, RLockGuard, Semaphore,
    SemaphoreGuard, Thread, ThreadBuilder, ThreadHandle, Timer,
};
