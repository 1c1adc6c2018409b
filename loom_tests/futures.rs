//! Models of `Future`, `Promise`, `wait`/`as_completed` and `ThreadPoolExecutor`. Every pool
//! model ends with `shutdown(wait = true)`, so every worker thread finishes inside the model.

use crate::check_bounded;
use gilfree::__loom::futures::{Promise, ReturnWhen, ThreadPoolExecutor, as_completed, wait};
use gilfree::__loom::model;
use gilfree::FutureError;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;

/// EXE-1, FUT-7: a task submitted to a one-worker pool hands its value to `result()`,
/// whichever of the submitter and the (lazily started) worker runs first; `shutdown(wait)`
/// then joins the worker.
#[test]
fn submit_hands_the_value_to_result() {
    check_bounded(3, || {
        let pool = ThreadPoolExecutor::new(1);
        let fut = pool.submit(|| 7);
        assert_eq!(fut.result(), Ok(&7));
        pool.shutdown(true, false);
        assert_eq!(pool.worker_count(), 1);
    });
}

/// FUT-1, FUT-2, EXE-14: `cancel()` races the worker taking the task. Exactly one wins:
/// either the cancel returns true and the task never runs (its result is `Cancelled`), or
/// the task runs and the cancel returns false.
#[test]
fn cancel_races_the_worker_picking_the_task_up() {
    check_bounded(3, || {
        let pool = ThreadPoolExecutor::new(1);
        let ran = Arc::new(AtomicUsize::new(0));
        let fut = {
            let ran = Arc::clone(&ran);
            pool.submit(move || ran.fetch_add(1, Ordering::SeqCst))
        };
        let cancelled = fut.cancel();
        pool.shutdown(true, false);
        let ran = ran.load(Ordering::SeqCst);
        assert!(
            cancelled != (ran == 1),
            "cancelled {cancelled}, ran {ran} times"
        );
        if cancelled {
            assert_eq!(fut.result(), Err(FutureError::Cancelled));
        } else {
            assert_eq!(fut.result(), Ok(&0));
        }
    });
}

/// EXE-11, EXE-14, WAIT-7: `shutdown(cancel_futures = true)` on one thread races a
/// `submit` on another. The submitted future ends up done in every interleaving — run,
/// cancelled, or refused with `Shutdown` — so `result()` never hangs, and the shutdown
/// joins the worker if one was started.
#[test]
fn shutdown_with_cancel_futures_races_submit() {
    check_bounded(2, || {
        let pool = Arc::new(ThreadPoolExecutor::new(1));
        let submitter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.submit(|| 1))
        };
        pool.shutdown(true, true);
        let fut = submitter.join().unwrap();
        match fut.result() {
            Ok(&1) | Err(FutureError::Cancelled) | Err(FutureError::Shutdown) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
        // A worker started by a submit that came after our shutdown's join list was taken
        // is joined by the second shutdown (the pool's Drop does the same).
        pool.shutdown(true, false);
    });
}

/// FUT-9, FUT-10: a done callback added while another thread completes the future runs
/// exactly once — from the completing thread, or at once in the adding thread — and sees
/// the result.
#[test]
fn done_callback_runs_exactly_once() {
    model(|| {
        let (promise, fut) = Promise::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let completer = thread::spawn(move || promise.set_result(5).unwrap());
        {
            let calls = Arc::clone(&calls);
            fut.add_done_callback(move |f| {
                assert_eq!(f.result(), Ok(&5));
                calls.fetch_add(1, Ordering::SeqCst);
            });
        }
        completer.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

/// FUT-3, FUT-9: cancel racing completion: one of them wins, the callbacks run once, and
/// the outcome is the winner's.
#[test]
fn cancel_races_completion() {
    model(|| {
        let (promise, fut) = Promise::new();
        let calls = Arc::new(AtomicUsize::new(0));
        {
            let calls = Arc::clone(&calls);
            fut.add_done_callback(move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
            });
        }
        let completer = thread::spawn(move || promise.set_result(1).is_ok());
        let cancelled = fut.cancel();
        let completed = completer.join().unwrap();
        assert!(cancelled != completed);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(fut.cancelled(), cancelled);
    });
}

/// ASC-1, ASC-5: `as_completed` over two futures (one listed twice) completed by two other
/// threads yields each distinct future exactly once, however the completions interleave
/// with its registration.
#[test]
fn as_completed_yields_each_future_once() {
    check_bounded(3, || {
        let (p1, f1) = Promise::new();
        let (p2, f2) = Promise::new();
        let t1 = thread::spawn(move || p1.set_result(1).unwrap());
        let t2 = thread::spawn(move || p2.set_result(2).unwrap());
        let mut seen: Vec<i32> = as_completed([&f1, &f2, &f1], None)
            .map(|f| *f.unwrap().result().unwrap())
            .collect();
        t1.join().unwrap();
        t2.join().unwrap();
        seen.sort();
        assert_eq!(seen, [1, 2]);
    });
}

/// WAIT-2, WAIT-4: `wait(FirstCompleted)` returns once one of two futures completes on
/// another thread (a lost notification would leave it asleep: deadlock), and
/// `wait(AllCompleted)` once both are.
#[test]
fn wait_wakes_on_completion() {
    check_bounded(3, || {
        let (p1, f1) = Promise::new();
        let (p2, f2) = Promise::<u8>::new();
        let completer = thread::spawn(move || {
            p1.set_result(1).unwrap();
            p2
        });
        let (done, _) = wait([&f1, &f2], None, ReturnWhen::FirstCompleted);
        assert_eq!(done, [&f1]);
        let p2 = completer.join().unwrap();
        drop(p2); // completes f2 with BrokenExecutor: also done
        let (done, not_done) = wait([&f1, &f2], None, ReturnWhen::AllCompleted);
        assert_eq!((done.len(), not_done.len()), (2, 0));
    });
}

/// A scoped task borrows a local of the model's thread; whichever way the worker and the
/// scope interleave, `scope` returns only after the task ran and let go of the borrow (a
/// scope that returned early would let the assertion see 0, or loom would see the worker
/// touch the local after the model thread moved on).
#[test]
fn scope_returns_after_its_task() {
    check_bounded(3, || {
        let pool = ThreadPoolExecutor::new(1);
        let hits = AtomicUsize::new(0);
        pool.scope(|s| {
            s.submit(|| hits.fetch_add(1, Ordering::SeqCst));
        });
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        pool.shutdown(true, false);
    });
}

/// Issue 14 (1): a scoped task cancelled while queued is dropped unrun by the worker that
/// reaches it (or ran, if the worker got there first). Either way its closure — whose captures
/// may borrow the scope's environment — is dropped before `scope` returns: the task's scope
/// token is dropped after the task's work on every path. (With the token dropped first, loom
/// finds the interleaving where `scope` returns and the flag is still unset.)
#[test]
fn scope_returns_after_a_cancelled_tasks_closure_is_dropped() {
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    check_bounded(3, || {
        let pool = ThreadPoolExecutor::new(1);
        let dropped = Arc::new(AtomicBool::new(false));
        pool.scope(|s| {
            let captured = SetOnDrop(Arc::clone(&dropped));
            let fut = s.submit(move || drop(captured));
            fut.cancel();
        });
        assert!(
            dropped.load(Ordering::SeqCst),
            "scope returned before its task's closure was dropped"
        );
        pool.shutdown(true, false);
    });
}

/// Issue 14 (8), EXE-12: two threads call `shutdown(wait = true)` while a task may still be
/// running; each returns only once the task is done and the worker has exited, whichever of
/// them joins it.
#[test]
fn every_concurrent_shutdown_waits_for_the_workers() {
    check_bounded(2, || {
        let pool = Arc::new(ThreadPoolExecutor::new(1));
        let fut = pool.submit(|| 1);
        let other = {
            let (pool, fut) = (Arc::clone(&pool), fut.clone());
            thread::spawn(move || {
                pool.shutdown(true, false);
                fut.done()
            })
        };
        pool.shutdown(true, false);
        assert!(fut.done(), "a shutdown returned before the task was done");
        assert!(
            other.join().unwrap(),
            "a shutdown returned before the task was done"
        );
    });
}

/// AFUT-10 (no loop hop), §9: a task awaiting a future races `set_result` on another thread.
/// The completion wakes the task's waker (no lost wake-up: loom reports a deadlock otherwise),
/// and the task gets the value.
#[test]
fn a_task_awaiting_a_future_races_set_result() {
    use std::future::IntoFuture;
    check_bounded(3, || {
        let (promise, fut) = Promise::new();
        let completer = thread::spawn(move || promise.set_result(7u32).unwrap());
        assert_eq!(gilfree::__loom::block_on(fut.clone().into_future()), Ok(7));
        completer.join().unwrap();
        assert!(!format!("{fut:?}").contains("waiting"), "{fut:?}");
    });
}

/// AFUT-6 (decided), AFUT-15: an await is dropped while another thread completes the future,
/// possibly after the completion woke it. It leaves the future's list (no waiter is left
/// behind), the completion is not undone, and the next await gets the value.
#[test]
fn a_dropped_await_while_completion_happens() {
    use std::future::{Future as _, IntoFuture};
    use std::pin::pin;
    use std::task::{Context, Waker};
    check_bounded(3, || {
        let (promise, fut) = Promise::new();
        let completer = thread::spawn(move || promise.set_result(5u32).unwrap());
        {
            let mut wait = pin!(fut.clone().into_future());
            let _ = wait.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        }
        assert!(!format!("{fut:?}").contains("waiting"), "{fut:?}");
        assert_eq!(gilfree::__loom::block_on(fut.clone().into_future()), Ok(5));
        completer.join().unwrap();
    });
}
