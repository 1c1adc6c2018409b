//! Python's `concurrent.futures`: [`ThreadPoolExecutor`], [`Future`], [`wait`](fn@wait) and
//! [`as_completed`].
//!
//! | Python | gilfree |
//! |---|---|
//! | `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)` | [`ThreadPoolExecutor::new(n)`](ThreadPoolExecutor::new), [`ThreadPoolExecutor::builder`] |
//! | `pool.submit(fn)`, `pool.map(fn, it, timeout)`, `pool.shutdown(wait, cancel_futures=…)` | [`submit`](ThreadPoolExecutor::submit), [`map`](ThreadPoolExecutor::map) / [`map_timeout`](ThreadPoolExecutor::map_timeout), [`shutdown`](ThreadPoolExecutor::shutdown); a task returning `Result<T, E>` whose `Err` is the future's exception: [`submit_fallible`](ThreadPoolExecutor::submit_fallible), [`map_fallible`](ThreadPoolExecutor::map_fallible) |
//! | `with ThreadPoolExecutor() as pool:` | the pool's `Drop` waits for its tasks |
//! | `f.result(timeout)`, `f.exception(timeout)` | [`result`](Future::result) / [`result_timeout`](Future::result_timeout), [`exception`](Future::exception) / [`exception_timeout`](Future::exception_timeout) |
//! | `f.cancel()`, `cancelled()`, `running()`, `done()`, `add_done_callback(fn)` | [`cancel`](Future::cancel), [`cancelled`](Future::cancelled), [`running`](Future::running), [`done`](Future::done), [`add_done_callback`](Future::add_done_callback) |
//! | `set_running_or_notify_cancel()`, `set_result`, `set_exception` | [`Promise`]: [`set_running`](Promise::set_running), [`set_result`](Promise::set_result), [`set_exception`](Promise::set_exception) |
//! | `wait(fs, timeout, return_when)` | [`wait(fs, timeout, ReturnWhen::…)`](fn@wait) |
//! | `as_completed(fs, timeout)` | [`as_completed(fs, timeout)`](as_completed) |
//! | `await asyncio.wrap_future(f)`, `await loop.run_in_executor(None, fn)` | `fut.await` (owned, see [`ResultFuture`]), [`fut.result_async().await`](Future::result_async) (borrowed) |
//! | `asyncio.wait(fs, return_when=…)`, `asyncio.as_completed(fs)` | [`wait_async(fs, ReturnWhen::…)`](wait_async), [`as_completed_stream(fs)`](as_completed_stream) (a `Stream`) |
//! | `CancelledError`, `TimeoutError`, `BrokenThreadPool`, `InvalidStateError` | [`FutureError`](crate::FutureError), [`TimeoutError`](crate::TimeoutError), [`InvalidStateError`](crate::InvalidStateError) |
//! | the exception object a task raised, `future.exception()` | [`FutureError::Exception`](crate::FutureError::Exception)`(`[`Exception`](crate::Exception)`)`, [`downcast_ref`](crate::FutureError::downcast_ref) |
//!
//! A [`Future`] does not depend on the pool: whatever holds its [`Promise`] completes it, so
//! futures of other executors mix with the pool's in [`wait`](fn@wait) and [`as_completed`] (through
//! [`FutureHandle`] when their value types differ).
//!
//! Threads blocked in `result`, `wait` or `as_completed` and tasks awaiting a future or its
//! async forms are woken by the completing thread itself, with no event loop in between.
//! Awaiting never cancels a job; [`Future::cancel`] does, while the job has not started.

use super::rt;

mod executor;
mod future;
mod wait;

pub use executor::{Map, Scope, ThreadPoolExecutor, ThreadPoolExecutorBuilder};
pub use future::{Future, FutureState, Promise, ResultFuture};
pub use wait::{
    AsCompleted, FutureHandle, ReturnWhen, Waitable, as_completed, as_completed_stream, wait,
    wait_async,
};
