//! Integration tests for awaiting `gilfree::Future` and the async `wait`/`as_completed`
//! (ASYNC_SEMANTICS.md §7, AFUT-1 … AFUT-17, and §9's notes on awaiting a pool future).
//!
//! Not tested here, on purpose:
//! * AFUT-1 … AFUT-4 describe asyncio's own Future (InvalidStateError from a pending
//!   `result()`, callbacks scheduled on the loop, `remove_done_callback`): gilfree has one
//!   `Future`, the concurrent one, whose blocking `result()` waits (tests/future.rs). Awaiting
//!   it is the port of `wrap_future`, tested here.
//! * AFUT-10's loop hop is deliberately not copied: there is no loop, the completing thread
//!   wakes the task itself, and a future already done is ready on its first poll (checked
//!   below). A "closed loop" has no counterpart.
//! * AFUT-11 … AFUT-14 (the loop's default executor, `run_in_executor` on a closed loop,
//!   `shutdown_default_executor`, `to_thread`'s contextvars) have no counterpart: there is no
//!   loop and no default executor; `pool.submit(f).await` is `run_in_executor(pool, f)`.
//! * AFUT-16 (`_chain_future`'s TypeError) cannot be written: the types say what is a future.
//! * AFUT-17 is [PY] (StopIteration, exception classes, tb logger, repr, `loop=` rules).
//! * AFUT-6, decided differently (§9): dropping an await (the Rust form of cancelling the
//!   wrapper) never cancels the job, queued or running; `Future::cancel` is the explicit way,
//!   and does what asyncio's wrapper cancel does (only a job that has not started).
//! * Timeouts: the async forms take none; the runtime's timeout drops the await (tested with
//!   `tokio::time::timeout`).

mod common;

use common::task::*;
use common::*;
use futures::StreamExt;
use futures::executor::block_on;
use gilfree::futures::{ReturnWhen, as_completed_stream, wait_async};
use gilfree::{Event, FutureError, Promise, ThreadPoolExecutor};
use std::future::{Future as _, IntoFuture};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::thread;

/// The `waiting: N` a future's Debug shows (threads and tasks waiting for it alone).
fn waiting<T>(fut: &gilfree::Future<T>) -> usize {
    count(&format!("{fut:?}"), "waiting: ")
}

/// The `watching: N` a future's Debug shows (`wait`/`as_completed` calls registered on it).
fn watching<T>(fut: &gilfree::Future<T>) -> usize {
    count(&format!("{fut:?}"), "watching: ")
}

fn count(debug: &str, field: &str) -> usize {
    debug.find(field).map_or(0, |at| {
        debug[at + field.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    })
}

/// Holds a pool's worker until set; sets itself when dropped, so that a failing test does not
/// hang in the pool's `Drop` (which waits for the worker).
struct Gate(Arc<Event>);

impl Gate {
    fn set(&self) {
        self.0.set();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Fails a tokio test that would otherwise hang.
async fn within<R>(body: impl std::future::Future<Output = R>) -> R {
    tokio::time::timeout(DEADLINE, body)
        .await
        .expect("the test did not finish in time: a lost wake-up?")
}

/// A one-worker pool whose worker is held until the returned gate is set (or dropped).
fn held_pool() -> (ThreadPoolExecutor, Gate, gilfree::Future<()>) {
    let pool = ThreadPoolExecutor::new(1);
    let gate = Gate(Arc::new(Event::new()));
    let g = Arc::clone(&gate.0);
    let blocker = pool.submit(move || {
        g.wait();
    });
    poll_until("the worker to take the blocker", || blocker.running());
    (pool, gate, blocker)
}

/// AFUT-5, AFUT-11: `pool.submit(f).await` (asyncio's `run_in_executor`) runs `f` on a worker
/// thread and gives its value, on tokio's multi-thread runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn afut5_await_submit_on_tokio() {
    within(async move {
        let pool = ThreadPoolExecutor::new(2);
        let here = thread::current().id();
        let (value, ran_on) = pool
            .submit(move || (6 * 7, thread::current().id()))
            .await
            .unwrap();
        assert_eq!(value, 42);
        assert_ne!(ran_on, here);
        // Many tasks awaiting many jobs at once.
        let tasks: Vec<_> = (0..16u64)
            .map(|n| {
                let fut = pool.submit(move || n * n);
                tokio::spawn(async move { fut.await })
            })
            .collect();
        for (n, task) in (0..16u64).zip(tasks) {
            assert_eq!(task.await.unwrap(), Ok(n * n));
        }
    })
    .await
}

/// AFUT-5: the same on `futures`' executors (block_on and a thread pool), through both the
/// owned await and the borrowed `result_async`.
#[test]
fn afut5_await_submit_on_futures_executor() {
    with_watchdog(|| {
        let pool = ThreadPoolExecutor::new(2);
        let fut = pool.submit(|| String::from("done"));
        assert_eq!(block_on(fut.result_async()).map(String::as_str), Ok("done"));
        assert_eq!(block_on(fut.into_future()), Ok(String::from("done")));

        let runner = futures::executor::ThreadPool::new().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let fut = pool.submit(|| 7u8);
        runner.spawn_ok(async move {
            tx.send(fut.await).unwrap();
        });
        assert_eq!(rx.recv_timeout(LONG).unwrap(), Ok(7));
    });
}

/// AFUT-10 (not copied): a future already done is ready on the first poll, with no wake-up
/// and no queueing.
#[test]
fn afut10_done_future_is_ready_on_first_poll() {
    let (promise, fut) = Promise::new();
    promise.set_result(5).unwrap();
    let (f, waker) = flag();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(pin!(fut.result_async()).poll(&mut cx), Poll::Ready(Ok(&5)));
    assert_eq!(
        pin!(fut.clone().into_future()).poll(&mut cx),
        Poll::Ready(Ok(5))
    );
    let mut wait = pin!(wait_async([&fut], ReturnWhen::AllCompleted));
    assert!(wait.as_mut().poll(&mut cx).is_ready());
    let mut stream = as_completed_stream([&fut]);
    assert_eq!(stream.poll_next_unpin(&mut cx), Poll::Ready(Some(&fut)));
    assert_eq!(stream.poll_next_unpin(&mut cx), Poll::Ready(None));
    assert_eq!(wakes(&f), 0);
    assert_eq!((waiting(&fut), watching(&fut)), (0, 0));
}

/// AFUT-10 (the wake-up itself): the completing thread wakes the stored waker straight away.
#[test]
fn completion_wakes_the_awaiting_task_from_the_completing_thread() {
    with_watchdog(|| {
        let (promise, fut) = Promise::new();
        let (f, waker) = flag();
        let mut cx = Context::from_waker(&waker);
        let mut wait = pin!(fut.result_async());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert_eq!(waiting(&fut), 1);
        join_within(thread::spawn(move || promise.set_result(3).unwrap()));
        assert_eq!(wakes(&f), 1, "set_result woke the task");
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(Ok(&3)));
    });
}

/// §9 "waker updates": polled again with another waker, the await swaps it and completion
/// wakes the new one only.
#[test]
fn repolled_with_a_new_waker_the_new_one_is_woken() {
    let (promise, fut) = Promise::new();
    let (fa, wa) = flag();
    let (fb, wb) = flag();
    let mut wait = pin!(fut.clone().into_future());
    assert!(
        wait.as_mut()
            .poll(&mut Context::from_waker(&wa))
            .is_pending()
    );
    assert!(
        wait.as_mut()
            .poll(&mut Context::from_waker(&wb))
            .is_pending()
    );
    assert_eq!(waiting(&fut), 1, "one place, not two");
    promise.set_result(1).unwrap();
    assert_eq!((wakes(&fa), wakes(&fb)), (0, 1));
    assert_eq!(
        wait.as_mut().poll(&mut Context::from_waker(&wb)),
        Poll::Ready(Ok(1))
    );
}

/// AFUT-9: a panic and an exception come back through await as the same `FutureError`
/// values as the blocking calls give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn afut9_panics_and_exceptions_come_back_as_the_same_values() {
    within(async move {
        let pool = ThreadPoolExecutor::new(2);
        let panicked = pool.submit(|| -> u8 { panic!("boom") });
        let awaited = panicked.result_async().await.unwrap_err();
        assert_eq!(Some(awaited.clone()), panicked.exception());
        assert!(
            matches!(&awaited, FutureError::Panicked { message } if message.contains("boom")),
            "{awaited:?}"
        );
        assert_eq!(panicked.clone().await.unwrap_err(), awaited);

        let failed = pool.submit_fallible(|| -> Result<u8, gilfree::KeyError<&'static str>> {
            Err(gilfree::KeyError("missing"))
        });
        let awaited = failed.clone().await.unwrap_err();
        assert_eq!(Some(awaited.clone()), failed.exception());
        assert!(
            awaited.downcast_ref::<gilfree::KeyError<&str>>().is_some(),
            "{awaited:?}"
        );
    })
    .await
}

/// AFUT-8: a future cancelled by `shutdown(cancel_futures = true)` gives `Cancelled` through
/// await, to a task already waiting and to one that comes later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn afut8_shutdown_cancel_futures_gives_cancelled_through_await() {
    within(async move {
        let (pool, gate, blocker) = held_pool();
        let queued = pool.submit(|| 1u8);
        let early = tokio::spawn(queued.clone().into_future());
        let q = queued.clone();
        poll_until("the task to wait", || waiting(&q) == 1);
        pool.shutdown(false, true);
        assert_eq!(early.await.unwrap(), Err(FutureError::Cancelled));
        assert_eq!(queued.result_async().await, Err(FutureError::Cancelled));
        assert_eq!(queued.await, Err(FutureError::Cancelled));
        gate.set();
        assert_eq!(blocker.await, Ok(()));
    })
    .await
}

/// AFUT-6 (decided): dropping an await — here by the runtime's timeout — never cancels the
/// job, queued or running; awaiting again still gets the value. `cancel()` is the explicit
/// way, and only stops a job that has not started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn afut6_dropping_an_await_never_cancels_and_awaiting_again_gets_the_value() {
    within(async move {
        let (pool, gate, blocker) = held_pool();
        let queued = pool.submit(|| 9u8);
        let timed_out = tokio::time::timeout(T, queued.clone().into_future()).await;
        assert!(timed_out.is_err(), "the job is held behind the blocker");
        let timed_out = tokio::time::timeout(T, blocker.result_async()).await;
        assert!(timed_out.is_err());
        assert_eq!(
            (waiting(&queued), waiting(&blocker)),
            (0, 0),
            "dropped awaits left"
        );
        assert!(!queued.cancelled() && !queued.done());
        assert!(blocker.running());
        gate.set();
        assert_eq!(queued.clone().await, Ok(9));
        assert_eq!(blocker.await, Ok(()));

        // The explicit form: cancel a queued job, and the await sees it.
        let (pool2, gate2, _blocker2) = held_pool();
        let queued = pool2.submit(|| 1u8);
        assert!(queued.cancel());
        assert_eq!(queued.await, Err(FutureError::Cancelled));
        gate2.set();
        drop(pool);
    })
    .await
}

/// AFUT-15: a task whose await is dropped while the job runs leaves the job running to the
/// end; its value is there for the next waiter.
#[test]
fn afut15_a_running_job_finishes_after_its_await_is_dropped() {
    with_watchdog(|| {
        let pool = ThreadPoolExecutor::new(1);
        let gate = Arc::new(Event::new());
        let g = Arc::clone(&gate);
        let finished = Arc::new(AtomicBool::new(false));
        let f2 = Arc::clone(&finished);
        let fut = pool.submit(move || {
            g.wait();
            f2.store(true, Ordering::SeqCst);
            "value"
        });
        poll_until("the job to run", || fut.running());
        {
            let (_f, waker) = flag();
            let mut wait = pin!(fut.clone().into_future());
            assert!(
                wait.as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            assert_eq!(waiting(&fut), 1);
        }
        assert_eq!(waiting(&fut), 0, "the dropped await left the future's list");
        gate.set();
        assert_eq!(block_on(fut.clone().into_future()), Ok("value"));
        assert!(finished.load(Ordering::SeqCst));
    });
}

/// A woken await dropped before it is polled passes nothing it needed to: every other waiter,
/// thread or task, is still woken by completion, and awaiting again gets the value.
#[test]
fn a_dropped_await_after_its_wake_up_loses_nothing() {
    with_watchdog(|| {
        let (promise, fut) = Promise::new();
        let (fa, wa) = flag();
        let (fb, wb) = flag();
        let mut a = Box::pin(fut.result_async());
        let mut b = pin!(fut.result_async());
        assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
        assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
        assert_eq!(waiting(&fut), 2);
        promise.set_result(4).unwrap();
        assert_eq!((wakes(&fa), wakes(&fb)), (1, 1));
        drop(a);
        assert_eq!(
            b.as_mut().poll(&mut Context::from_waker(&wb)),
            Poll::Ready(Ok(&4))
        );
        assert_eq!(block_on(fut.clone().into_future()), Ok(4));
    });
}

/// A thread blocked in `result()` and a task awaiting the same future wait in one list and
/// are both woken by the completion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_in_result_and_a_task_awaiting_share_one_future() {
    within(async move {
        let (promise, fut) = Promise::new();
        let thread_side = {
            let fut = fut.clone();
            thread::spawn(move || fut.result().copied())
        };
        let task_side = tokio::spawn(fut.clone().into_future());
        let f = fut.clone();
        poll_until("a thread and a task to wait", || waiting(&f) == 2);
        promise.set_result(11u32).unwrap();
        assert_eq!(task_side.await.unwrap(), Ok(11));
        assert_eq!(join_within(thread_side), Ok(11));
        assert_eq!(waiting(&fut), 0);
    })
    .await
}

/// `as_completed_stream`: done futures first in input order, then the rest in the order they
/// finish, each once (duplicates removed), then the end; the runtime is tokio's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_completed_stream_yields_in_completion_order_each_once() {
    within(async move {
        let (p0, f0) = Promise::new();
        let (p1, f1) = Promise::new();
        let (p2, f2) = Promise::new();
        let (p3, f3) = Promise::new();
        p3.set_result(3).unwrap();
        p1.set_result(1).unwrap();
        let all = [&f0, &f1, &f2, &f3, &f1].map(|f| f.clone());
        let mut stream = as_completed_stream(all);
        assert_eq!(futures::Stream::size_hint(&stream), (2, Some(4)));
        assert_eq!(stream.next().await.as_ref(), Some(&f1));
        assert_eq!(stream.next().await.as_ref(), Some(&f3));
        let order = tokio::spawn(async move {
            let mut order = Vec::new();
            let mut stream = stream;
            while let Some(f) = stream.next().await {
                order.push(*f.result().unwrap());
            }
            order
        });
        poll_until("the stream to watch", || watching(&f2) == 1);
        thread::spawn(move || p2.set_result(2).unwrap());
        poll_until("f2 to be reported", || watching(&f2) == 0);
        p0.set_result(0).unwrap();
        assert_eq!(order.await.unwrap(), [2, 0]);
        assert_eq!((watching(&f0), watching(&f2)), (0, 0));
    })
    .await
}

/// `as_completed_stream` on `futures`' executor: every job of a pool comes through, and a
/// cancelled future counts as done.
#[test]
fn as_completed_stream_is_complete_on_futures_executor() {
    with_watchdog(|| {
        let (pool, gate, blocker) = held_pool();
        let jobs: Vec<_> = (0..8u32).map(|n| pool.submit(move || n)).collect();
        assert!(jobs[7].cancel());
        let mut seen: Vec<_> = block_on(async {
            gate.set();
            as_completed_stream(jobs.iter().map(|f| f.handle()))
                .collect::<Vec<_>>()
                .await
        })
        .into_iter()
        .map(|h| jobs.iter().position(|f| h == f.handle()).unwrap())
        .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
        assert_eq!(blocker.result(), Ok(&()));
    });
}

/// Dropping an `as_completed_stream` (or an async `wait`) that is waiting unregisters from
/// every future not yet yielded: nothing is left in the futures' lists.
#[test]
fn dropped_async_wait_and_as_completed_leave_no_registration() {
    let (p0, f0) = Promise::<u8>::new();
    let (_p1, f1) = Promise::<u8>::new();
    let (_f, waker) = flag();
    let mut cx = Context::from_waker(&waker);
    {
        let mut stream = as_completed_stream([&f0, &f1]);
        assert!(stream.poll_next_unpin(&mut cx).is_pending());
        assert_eq!((watching(&f0), watching(&f1)), (1, 1));
    }
    assert_eq!((watching(&f0), watching(&f1)), (0, 0));
    {
        let mut wait = pin!(wait_async([&f0, &f1], ReturnWhen::AllCompleted));
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        p0.set_result(0).unwrap();
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert_eq!(watching(&f1), 1);
    }
    assert_eq!(watching(&f1), 0);
}

/// `wait_async`: each `ReturnWhen` returns when it holds, with `(done, not_done)` in input
/// order, on tokio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_async_returns_when_return_when_holds() {
    within(async move {
        let pool = ThreadPoolExecutor::new(2);
        let (_never, stuck) = Promise::<u32>::new();
        let quick = pool.submit(|| 1u32);
        let (done, not_done) = wait_async([&stuck, &quick], ReturnWhen::FirstCompleted).await;
        assert_eq!((done, not_done), (vec![&quick], vec![&stuck]));

        let failing = pool.submit(|| -> u32 { panic!("first exception") });
        let (done, not_done) =
            wait_async([&stuck, &failing, &quick], ReturnWhen::FirstException).await;
        assert_eq!((done, not_done), (vec![&failing, &quick], vec![&stuck]));

        let (p, later) = Promise::new();
        let all = tokio::spawn({
            let (quick, later) = (quick.clone(), later.clone());
            async move { wait_async([quick, later], ReturnWhen::AllCompleted).await }
        });
        poll_until("the wait to watch", || watching(&later) == 1);
        thread::spawn(move || p.set_result(2).unwrap());
        let (done, not_done) = all.await.unwrap();
        assert_eq!(
            (done, not_done),
            (vec![quick.clone(), later.clone()], vec![])
        );
        assert_eq!(watching(&later), 0);

        // Nothing to wait for is done at once.
        let none: [&gilfree::Future<u32>; 0] = [];
        assert_eq!(
            wait_async(none, ReturnWhen::FirstCompleted).await,
            (vec![], vec![])
        );
    })
    .await
}

/// `wait_async` on `futures`' executor, mixed with a thread blocked in the blocking `wait` on
/// the same futures.
#[test]
fn wait_async_and_blocking_wait_side_by_side() {
    with_watchdog(|| {
        let (p, fut) = Promise::<u8>::new();
        let thread_side = {
            let fut = fut.clone();
            thread::spawn(move || {
                gilfree::futures::wait([fut], None, ReturnWhen::AllCompleted)
                    .0
                    .len()
            })
        };
        let task_side = {
            let fut = fut.clone();
            thread::spawn(move || {
                block_on(wait_async([fut], ReturnWhen::AllCompleted))
                    .0
                    .len()
            })
        };
        poll_until("both waits to watch", || watching(&fut) == 2);
        p.set_result(1).unwrap();
        assert_eq!(join_within(thread_side), 1);
        assert_eq!(join_within(task_side), 1);
    });
}
