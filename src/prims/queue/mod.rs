//! Python's `queue` module: [`Queue`] (FIFO), [`LifoQueue`], [`PriorityQueue`] and
//! [`SimpleQueue`].
//!
//! | Python | gilfree |
//! |---|---|
//! | `queue.Queue(maxsize=0)` | [`Queue::new(maxsize)`](BaseQueue::new) — `0` means unbounded |
//! | `queue.LifoQueue(maxsize)` | [`LifoQueue::new(maxsize)`](BaseQueue::new) |
//! | `queue.PriorityQueue(maxsize)` | [`PriorityQueue::new(maxsize)`](BaseQueue::new) — smallest first |
//! | `q.put(x)` / `q.put(x, timeout=t)` / `q.put_nowait(x)` | [`put`](BaseQueue::put) / [`put_timeout`](BaseQueue::put_timeout) / [`put_nowait`](BaseQueue::put_nowait) |
//! | `q.get()` / `q.get(timeout=t)` / `q.get_nowait()` | [`get`](BaseQueue::get) / [`get_timeout`](BaseQueue::get_timeout) / [`get_nowait`](BaseQueue::get_nowait) |
//! | `q.qsize()`, `q.empty()`, `q.full()`, `q.maxsize` | [`qsize`](BaseQueue::qsize), [`empty`](BaseQueue::empty), [`full`](BaseQueue::full), [`maxsize`](BaseQueue::maxsize) |
//! | `q.task_done()`, `q.join()` | [`task_done`](BaseQueue::task_done), [`join`](BaseQueue::join), [`join_timeout`](BaseQueue::join_timeout) |
//! | asyncio's `await q.put(x)`, `await q.get()`, `await q.join()` | [`put_async`](BaseQueue::put_async), [`get_async`](BaseQueue::get_async), [`join_async`](BaseQueue::join_async) — the same queue, shared with threads |
//! | `q.shutdown(immediate=False)` (3.13) | [`shutdown`](BaseQueue::shutdown), [`is_shutdown`](BaseQueue::is_shutdown) |
//! | `queue.SimpleQueue()` | [`SimpleQueue::new()`](SimpleQueue::new); [`get_async`](SimpleQueue::get_async) for tasks |
//! | `queue.Empty`, `queue.Full`, `queue.ShutDown` | [`Empty`](crate::Empty), [`PutError::Full`](crate::PutError), [`ShutDown`](crate::ShutDown) |
//!
//! The three queue kinds are one type, [`BaseQueue`], with a different [`Order`]: the
//! aliases [`Queue`], [`LifoQueue`] and [`PriorityQueue`] pick it. Everything else — blocking,
//! timeouts, task tracking and shutdown — is shared.

use super::rt;

mod base;
mod ring;
mod simple;

pub use base::{
    BaseQueue, Fifo, Iter, Lifo, LifoQueue, Order, Priority, PriorityQueue, Queue, TryIter,
};
pub use simple::SimpleQueue;
