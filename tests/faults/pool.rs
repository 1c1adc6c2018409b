//! Fault injection: the thread pool (`ThreadPoolExecutor`, its scope and its futures).
//!
//! User code runs in the pool in these places: the task itself, the `Drop` of its captures
//! (after it ran, or unrun when it was cancelled while queued, by the worker or by
//! `shutdown(cancel_futures = true)`), the `Drop` of its result when nobody holds the future
//! any more, the `Drop` of a panic's payload, done-callbacks, and the initializer. A panic in
//! any of them costs no worker (issue 14, item 3): later tasks run and their `result()`
//! returns, `shutdown(wait = true)` returns, and where a caller can see the panic (the task's
//! own future) it gets `FutureError::Panicked`; a panic nobody can receive is reported on stderr,
//! as Python reports an exception it cannot raise ("Exception ignored in …").
//!
//! Every wait is bounded: `result_timeout(DEADLINE)`, and a watchdog around each test.

use super::common::*;
use gilfree::{Event, FutureError, ThreadPoolExecutor};
use std::panic::panic_any;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Panics in its `Drop` (unless already unwinding, which would abort the test binary).
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// A one-worker pool whose worker is called `{prefix}_0`.
fn one_worker(prefix: &str) -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix(prefix)
        .build()
        .unwrap()
}

/// The pool's only worker still runs tasks: a new task's `result()` returns, from the same
/// thread, and the pool counts that one worker.
fn assert_worker_alive(pool: &ThreadPoolExecutor, prefix: &str) {
    let name = pool.submit(|| gilfree::threading::current_thread().name());
    assert_eq!(
        name.result_timeout(DEADLINE).map(String::as_str),
        Ok(format!("{prefix}_0").as_str()),
        "a later task did not run on the pool's worker"
    );
    assert_eq!(pool.worker_count(), 1);
}

/// Blocks the pool's only worker until the returned event is set.
fn occupy(pool: &ThreadPoolExecutor) -> Arc<Event> {
    let (started, release) = (Arc::new(Event::new()), Arc::new(Event::new()));
    let (s, r) = (Arc::clone(&started), Arc::clone(&release));
    pool.submit(move || {
        s.set();
        assert!(r.wait_timeout(DEADLINE), "never released");
    });
    assert!(started.wait_timeout(DEADLINE), "the blocker never ran");
    release
}

/// EXE-2: a task's panic is its future's exception; the worker lives on.
#[test]
fn a_panicking_task_costs_no_worker() {
    with_watchdog(|| {
        let pool = one_worker("fault_task");
        let fut = pool.submit(|| -> u8 { panic!("task boom") });
        assert_eq!(
            fut.result_timeout(DEADLINE),
            Err(FutureError::Panicked {
                message: "task boom".into()
            })
        );
        assert_worker_alive(&pool, "fault_task");
        at_once("shutdown", || pool.shutdown(true, false));
    });
}

/// A task panics with a payload whose own `Drop` panics: the future still holds the first
/// panic, and dropping the payload costs no worker.
#[test]
fn a_panic_payload_that_panics_in_drop_costs_no_worker() {
    with_watchdog(|| {
        let pool = one_worker("fault_payload");
        let fut = pool.submit(|| -> u8 { panic_any(PanicsOnDrop("payload drop boom")) });
        assert!(matches!(
            fut.result_timeout(DEADLINE),
            Err(FutureError::Panicked { .. })
        ));
        assert_worker_alive(&pool, "fault_payload");
        at_once("shutdown", || pool.shutdown(true, false));
    });
}

/// Issue 14 (3): the task's result panics in `Drop`, dropped by the worker because nobody
/// holds the future any more. The worker used to die of it (still counted, never replaced):
/// the next task never ran.
#[test]
fn a_result_that_panics_in_drop_costs_no_worker() {
    with_watchdog(|| {
        let pool = one_worker("fault_result");
        let release = occupy(&pool);
        drop(pool.submit(|| PanicsOnDrop("result drop boom")));
        release.set();
        assert_worker_alive(&pool, "fault_result");
        at_once("shutdown", || pool.shutdown(true, false));
    });
}

/// Issue 14 (3): a task cancelled while queued is dropped unrun by the worker that reaches
/// it; its captures panic in `Drop`. The future says `Cancelled`; the worker lives on.
#[test]
fn captures_of_a_cancelled_task_that_panic_in_drop_cost_no_worker() {
    with_watchdog(|| {
        let pool = one_worker("fault_cancelled");
        let release = occupy(&pool);
        let captured = PanicsOnDrop("cancelled captures boom");
        let fut = pool.submit(move || drop(captured));
        assert!(fut.cancel());
        release.set();
        assert_worker_alive(&pool, "fault_cancelled");
        assert_eq!(
            fut.result_timeout(Duration::ZERO),
            Err(FutureError::Cancelled)
        );
        at_once("shutdown", || pool.shutdown(true, false));
    });
}

/// `shutdown(cancel_futures = true)` drops the queued tasks in the calling thread; the
/// captures of the first panic in `Drop`. Every queued task is still cancelled (none left
/// behind or failed otherwise), the shutdown returns, and the panic does not reach its caller
/// (Python ignores, and reports, an exception in `__del__`).
#[test]
fn cancel_futures_survives_captures_that_panic_in_drop() {
    with_watchdog(|| {
        let pool = one_worker("fault_cancel_futures");
        let release = occupy(&pool);
        let ran = Arc::new(AtomicUsize::new(0));
        let futs: Vec<_> = (0..3)
            .map(|_| {
                let (captured, ran) = (PanicsOnDrop("cancel_futures boom"), Arc::clone(&ran));
                pool.submit(move || {
                    drop(captured);
                    ran.fetch_add(1, SeqCst);
                })
            })
            .collect();
        let shutdown = std::thread::spawn(move || {
            pool.shutdown(true, true);
            pool
        });
        for f in &futs {
            assert_eq!(f.result_timeout(DEADLINE), Err(FutureError::Cancelled));
        }
        release.set();
        let pool = join_within(shutdown);
        assert_eq!(ran.load(SeqCst), 0);
        assert_eq!(pool.submit(|| ()).result(), Err(FutureError::Shutdown));
    });
}

/// The task ran, then its captures panic in `Drop` (at the end of the closure's call): the
/// future holds that panic, the worker lives on.
#[test]
fn captures_that_panic_in_drop_after_the_task_ran_are_its_exception() {
    with_watchdog(|| {
        let pool = one_worker("fault_after_run");
        let captured = PanicsOnDrop("captures drop boom");
        let fut = pool.submit(move || {
            let _keep = &captured;
            5u8
        });
        assert_eq!(
            fut.result_timeout(DEADLINE),
            Err(FutureError::Panicked {
                message: "captures drop boom".into()
            })
        );
        assert_worker_alive(&pool, "fault_after_run");
        at_once("shutdown", || pool.shutdown(true, false));
    });
}

/// FUT-11: a done-callback run by the worker panics — once with a message, once with a
/// payload whose `Drop` panics too. The other callbacks still run, in order, and the worker
/// lives on.
#[test]
fn panicking_done_callbacks_cost_no_worker_and_no_callback() {
    with_watchdog(|| {
        let pool = one_worker("fault_callback");
        let release = occupy(&pool);
        let fut = pool.submit(|| 1u8);
        let calls = Arc::new(Mutex::new(Vec::new()));
        for i in 0..4 {
            let calls = Arc::clone(&calls);
            fut.add_done_callback(move |_| {
                calls.lock().unwrap().push(i);
                match i {
                    1 => panic!("callback boom"),
                    2 => panic_any(PanicsOnDrop("callback payload boom")),
                    _ => {}
                }
            });
        }
        release.set();
        assert_eq!(fut.result_timeout(DEADLINE), Ok(&1));
        assert_worker_alive(&pool, "fault_callback");
        assert_eq!(*calls.lock().unwrap(), [0, 1, 2, 3]);
        at_once("shutdown", || pool.shutdown(true, false));
    });
}

/// EXE-18: the initializer panics (with a payload whose `Drop` panics too), breaking the
/// pool; the queued tasks' captures panic in `Drop` as they are failed. Every future fails
/// with the initializer's `BrokenExecutor`, none runs, nothing hangs.
#[test]
fn a_panicking_initializer_fails_every_queued_task_cleanly() {
    with_watchdog(|| {
        let go = Arc::new(Event::new());
        let g = Arc::clone(&go);
        let pool = ThreadPoolExecutor::builder()
            .max_workers(1)
            .initializer(move || {
                assert!(g.wait_timeout(DEADLINE));
                panic_any(PanicsOnDrop("initializer payload boom"));
            })
            .build()
            .unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let futs: Vec<_> = (0..3)
            .map(|_| {
                let (captured, ran) = (PanicsOnDrop("failed captures boom"), Arc::clone(&ran));
                pool.submit(move || {
                    drop(captured);
                    ran.store(true, SeqCst);
                })
            })
            .collect();
        go.set();
        for f in &futs {
            match f.result_timeout(DEADLINE) {
                Err(FutureError::BrokenExecutor { message }) => {
                    assert!(message.contains("initializer failed"), "{message}")
                }
                other => panic!("expected the initializer's BrokenExecutor, got {other:?}"),
            }
        }
        assert!(!ran.load(SeqCst));
        at_once("shutdown", || pool.shutdown(true, false));
    });
}

/// Issue 14 (1, 3) in a scope: a scoped task's dropped result and a cancelled scoped task's
/// captures panic in `Drop`; the scope returns, the worker lives on.
#[test]
fn scoped_drops_that_panic_cost_no_worker_and_no_scope() {
    with_watchdog(|| {
        let pool = one_worker("fault_scope");
        let gate = Event::new();
        pool.scope(|s| {
            let blocker = s.submit(|| assert!(gate.wait_timeout(DEADLINE)));
            drop(s.submit(|| PanicsOnDrop("scoped result boom")));
            let captured = PanicsOnDrop("scoped captures boom");
            let cancelled = s.submit(move || drop(captured));
            poll_until("the blocker to run", || blocker.running());
            assert!(cancelled.cancel());
            gate.set();
        });
        assert_worker_alive(&pool, "fault_scope");
        at_once("shutdown", || pool.shutdown(true, false));
    });
}
