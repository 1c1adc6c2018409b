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
    Barrier, BarrierBuilder, BoundedSemaphore, Condition, ConditionGuard, ConditionLock, Event,
    JoinAtExit, Lock, LockGuard, RLock, RLockGuard, Semaphore, SemaphoreGuard, Thread,
    ThreadBuilder, ThreadHandle, Timer,
};
