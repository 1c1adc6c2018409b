//! The book's "Executors and Pools" chapter, one pattern at a time: `concurrent.futures` with
//! Python's names — `cargo run --release --example executor_patterns`.
//!
//! ```python
//! with ThreadPoolExecutor(max_workers=4) as executor:
//!     future = executor.submit(task, 3)
//!     print(future.result())
//!     for result in executor.map(task, [1, 2, 3]):        # input order
//!         print(result)
//!     futures = [executor.submit(task, n) for n in range(4)]
//!     for future in as_completed(futures):               # completion order
//!         print(future.result())
//!     done, not_done = wait(futures, timeout=1, return_when=FIRST_COMPLETED)
//! ```
//!
//! Each section is one function and prints what to notice; every printed claim is asserted.
//! Tasks that must stay unfinished for a while wait on an `Event` (a "gate") rather than
//! sleeping for long, so the program is deterministic and quick (about half a second). Where
//! tasks *should* take different times (map, as_completed), a short sleep is their work. Three tasks panic on purpose, through [`raise`]: the pool catches each panic and
//! stores it in the task's future. A panic hook prints those as one short line each, marked
//! "expected"; any other panic (a failed assertion) gets Rust's full report.

use gilfree::futures::{ReturnWhen, as_completed, wait};
use gilfree::threading::{current_thread, main_thread};
use gilfree::{
    Barrier, Event, FutureError, FutureState, Lock, Promise, SimpleQueue, Thread,
    ThreadPoolExecutor,
};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A timeout that is meant to pass: long enough to measure, short enough to keep the run fast.
const SHORT: Duration = Duration::from_millis(50);
/// A timeout that is never meant to pass; it only keeps a broken run from hanging.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() {
    report_expected_panics_briefly();
    let started = Instant::now();
    let sections: &[(&str, fn())] = &[
        ("submit() and result(); `with` is Drop", submit_and_result),
        ("map() — results in input order", map_in_input_order),
        (
            "as_completed() — results in completion order",
            completion_order,
        ),
        (
            "wait() — FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED",
            wait_modes,
        ),
        ("cancel() — a queued task that never runs", cancel_queued),
        ("add_done_callback()", done_callbacks),
        ("a task that raises (panics)", panicking_task),
        ("map(timeout=…)", map_with_timeout),
        (
            "shutdown(cancel_futures=True), then submit()",
            shutdown_cancel,
        ),
        ("thread_name_prefix and initializer", prefix_and_initializer),
        ("Promise — a Future without an executor", promise_directly),
        ("futures of different types in one wait()", mixed_types),
    ];
    for (title, run) in sections {
        println!("\n== {title} ==");
        run();
    }
    let elapsed = started.elapsed();
    println!("\nexecutor_patterns finished in {elapsed:.0?}: every section's assertions held");
    assert!(
        elapsed < PATIENCE,
        "nothing should have needed the patience timeout"
    );
}

thread_local! {
    /// Set by [`raise`] just before it panics, so the panic hook knows the panic is wanted.
    static RAISING: Cell<bool> = const { Cell::new(false) };
}

/// Python's `raise Exception(message)` inside a task: a panic the pool will catch.
fn raise(message: String) -> ! {
    RAISING.with(|r| r.set(true));
    panic!("{message}");
}

/// Panics from [`raise`] print one line; every other panic keeps the default hook's report.
fn report_expected_panics_briefly() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if RAISING.with(|r| r.replace(false)) {
            let thread = current_thread().name();
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map_or("?", String::as_str);
            eprintln!(
                "  (panic hook: {thread:?} raised {message:?}; expected, the pool catches it)"
            );
        } else {
            default_hook(info);
        }
    }));
}

/// A gate that tasks wait behind: `gate.set()` lets them all finish.
fn gate() -> Arc<Event> {
    Arc::new(Event::new())
}

/// What a blocked task does: wait for the gate, then return `value`.
fn behind(gate: &Arc<Event>, value: i32) -> impl FnOnce() -> i32 + Send + 'static {
    let gate = Arc::clone(gate);
    move || {
        assert!(gate.wait_timeout(PATIENCE), "the gate was never opened");
        value
    }
}

/// `executor.submit(fn)` returns a Future; `result()` waits for it. The `with` block is the
/// pool's `Drop`: leaving the scope waits for every submitted task.
fn submit_and_result() {
    let pool = ThreadPoolExecutor::new(2);
    let fut = pool.submit(|| (1..=10u64).product::<u64>());
    let value = fut.result();
    println!("submit(factorial(10)).result() -> {value:?}; the future is now {fut:?}");
    assert_eq!(value, Ok(&3_628_800));
    assert!(fut.done() && !fut.running() && !fut.cancelled());
    assert_eq!(fut.state(), FutureState::Finished);
    assert_eq!(
        fut.result(),
        value,
        "result() can be asked again, any number of times"
    );
    let copy = fut.clone();
    assert_eq!(copy, fut, "clones of a future are the same future");
    assert_eq!(copy.into_result(), Ok(3_628_800));

    // with ThreadPoolExecutor(max_workers=4) as executor: ...
    let finished = Arc::new(AtomicUsize::new(0));
    {
        let executor = ThreadPoolExecutor::new(4);
        for _ in 0..8 {
            let finished = Arc::clone(&finished);
            executor.submit(move || {
                sleep(Duration::from_millis(5)); // the work
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        // The futures were dropped unread; the tasks still run.
    }
    let finished = finished.load(Ordering::SeqCst);
    println!("8 tasks submitted inside a `with` block: {finished} finished when it ended");
    assert_eq!(finished, 8);
}

/// `executor.map(fn, items)`: every item is submitted at once, and the results come back in
/// the order of the items, however the tasks finish.
fn map_in_input_order() {
    let pool = ThreadPoolExecutor::new(4);
    let finish_order = Arc::new(Lock::with_value(Vec::new()));
    let work_ms = [120u64, 10, 80, 40];
    let results: Vec<usize> = pool
        .map(
            {
                let finish_order = Arc::clone(&finish_order);
                move |(item, ms): (usize, u64)| {
                    sleep(Duration::from_millis(ms)); // the work: items take different times
                    finish_order.acquire().push(item);
                    item * 100
                }
            },
            work_ms.into_iter().enumerate(),
        )
        .collect::<Result<_, _>>()
        .expect("no task fails");
    let finish_order = finish_order.acquire().clone();
    println!("items 0..4, with {work_ms:?} ms of work, finished in the order {finish_order:?}");
    println!("but map() yielded {results:?}: input order");
    assert_eq!(results, [0, 100, 200, 300]);
    assert_eq!(finish_order.len(), 4);
}

/// `as_completed(futures)`: each future as soon as it is done; the ones already done first.
fn completion_order() {
    let pool = ThreadPoolExecutor::new(4);
    let early = pool.submit(|| 0u64);
    early.result().unwrap();
    let work_ms = [120u64, 10, 80, 40];
    // Each task notes when it finishes, as its last act: the order to compare against.
    let finished = Arc::new(Lock::with_value(Vec::new()));
    let mut futures = vec![early];
    futures.extend(work_ms.map(|ms| {
        let finished = Arc::clone(&finished);
        pool.submit(move || {
            sleep(Duration::from_millis(ms)); // the work
            finished.acquire().push(ms);
            ms
        })
    }));
    let yielded: Vec<u64> = as_completed(&futures, None)
        .map(|fut| *fut.expect("no timeout").result().unwrap())
        .collect();
    let finished = finished.acquire().clone();
    println!("submitted: one task already done (0), then tasks of {work_ms:?} ms of work");
    println!("they finished in the order {finished:?} (shortest first, on a quiet machine)");
    println!("as_completed yielded {yielded:?}: the done one first, then as they finished");
    assert_eq!(yielded[0], 0);
    assert_eq!(yielded[1..], finished);

    // as_completed(fs, timeout=…): a TimeoutError with Python's message, then the end.
    let gate = gate();
    let stuck = pool.submit(behind(&gate, 0));
    let quick = pool.submit(|| 1);
    let mut it = as_completed([&stuck, &quick], Some(SHORT));
    assert_eq!(it.next().map(|f| f.is_ok_and(|f| *f == quick)), Some(true));
    let err = it
        .next()
        .expect("an item")
        .expect_err("the stuck task cannot finish");
    println!("as_completed(timeout={SHORT:?}) with one task stuck: the quick one, then {err}");
    assert_eq!(err.message(), "1 (of 2) futures unfinished");
    assert!(it.next().is_none(), "after the timeout the iterator ends");
    gate.set();
    assert_eq!(stuck.result(), Ok(&0));
}

/// `wait(fs, timeout, return_when)` splits the futures into `(done, not_done)`.
fn wait_modes() {
    let pool = ThreadPoolExecutor::new(4);
    let gate = gate();
    let quick = pool.submit(|| 1);
    let blocked = [pool.submit(behind(&gate, 2)), pool.submit(behind(&gate, 3))];
    let all = [&quick, &blocked[0], &blocked[1]];

    let (done, not_done) = wait(all, None, ReturnWhen::FirstCompleted);
    println!(
        "FIRST_COMPLETED: {} done, {} not done — returns at the first, the others still blocked",
        done.len(),
        not_done.len()
    );
    assert_eq!(done, [&quick]);
    assert_eq!(not_done, [&blocked[0], &blocked[1]]);

    let boom = pool.submit(|| -> i32 { raise("no such file: config.ini".into()) });
    let (done, not_done) = wait(
        [&blocked[0], &boom, &blocked[1]],
        None,
        ReturnWhen::FirstException,
    );
    let why = done[0].exception();
    println!("FIRST_EXCEPTION: returns at the panic, the others still blocked: {why:?}");
    assert_eq!(done, [&boom]);
    assert_eq!(not_done.len(), 2);
    assert_eq!(
        why,
        Some(FutureError::Panicked {
            message: "no such file: config.ini".into()
        })
    );

    let t = Instant::now();
    let (done, not_done) = wait(all, Some(SHORT), ReturnWhen::AllCompleted);
    let waited = t.elapsed();
    println!(
        "ALL_COMPLETED, timeout={SHORT:?}: after {waited:.0?}, {} done and {} not done — a timeout is no error",
        done.len(),
        not_done.len()
    );
    assert!(
        waited >= SHORT.mul_f64(0.6),
        "gave up too early: {waited:?}"
    );
    assert_eq!((done, not_done.len()), (vec![&quick], 2));

    gate.set();
    let (done, not_done) = wait(all, None, ReturnWhen::AllCompleted);
    println!(
        "gate opened; ALL_COMPLETED, no timeout: {} done, {} not done",
        done.len(),
        not_done.len()
    );
    assert_eq!((done.len(), not_done.len()), (3, 0));
    let values: Vec<i32> = all.iter().map(|f| *f.result().unwrap()).collect();
    assert_eq!(values, [1, 2, 3]);
}

/// `future.cancel()` succeeds only while the task waits in the queue.
fn cancel_queued() {
    let pool = ThreadPoolExecutor::new(1);
    let (gate, started) = (gate(), gate());
    let blocker = pool.submit({
        let (gate, started) = (Arc::clone(&gate), Arc::clone(&started));
        move || {
            started.set();
            gate.wait_timeout(PATIENCE)
        }
    });
    let ran = Arc::new(AtomicBool::new(false));
    let queued = pool.submit({
        let ran = Arc::clone(&ran);
        move || ran.store(true, Ordering::SeqCst)
    });
    assert!(started.wait_timeout(PATIENCE));
    println!(
        "1 worker, busy: blocker {:?}, queued {:?}",
        blocker.state(),
        queued.state()
    );
    assert!(blocker.running());
    assert_eq!(queued.state(), FutureState::Pending);

    let cancelled = queued.cancel();
    let too_late = blocker.cancel();
    println!(
        "queued.cancel() -> {cancelled}, its result() -> {:?}; blocker.cancel() -> {too_late} (it is running)",
        queued.result()
    );
    assert!(cancelled && queued.cancelled() && queued.done());
    assert_eq!(queued.result(), Err(FutureError::Cancelled));
    assert!(!too_late && blocker.running());

    gate.set();
    assert_eq!(blocker.result(), Ok(&true));
    pool.shutdown(true, false);
    println!("after the blocker finished and the pool shut down: the cancelled task never ran");
    assert!(!ran.load(Ordering::SeqCst));
}

/// `future.add_done_callback(fn)`: runs in the thread that finishes the future — or at once, in
/// the caller, if it is already done.
fn done_callbacks() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("callbacks")
        .build()
        .unwrap();
    let gate = gate();
    let fut = pool.submit({
        let gate = Arc::clone(&gate);
        move || {
            assert!(gate.wait_timeout(PATIENCE));
            7u32
        }
    });
    // The callbacks report through a queue: `result()` may return a moment before they run.
    let reports = Arc::new(SimpleQueue::new());
    for label in ["first", "second"] {
        let reports = Arc::clone(&reports);
        fut.add_done_callback(move |f| {
            reports.put((label, current_thread().name(), *f.result().unwrap()));
        });
    }
    assert!(
        reports.empty(),
        "no callback runs before the future is done"
    );
    gate.set();
    let first = reports
        .get_timeout(PATIENCE)
        .expect("the first callback ran");
    let second = reports
        .get_timeout(PATIENCE)
        .expect("the second callback ran");
    println!("registered before completion, ran in the worker, in order: {first:?}, {second:?}");
    assert_eq!(first, ("first", "callbacks_0".to_string(), 7));
    assert_eq!(second, ("second", "callbacks_0".to_string(), 7));

    let ran_in = Arc::new(Lock::with_value(None));
    fut.add_done_callback({
        let ran_in = Arc::clone(&ran_in);
        move |_| *ran_in.acquire() = Some(current_thread().name())
    });
    let ran_in = ran_in.acquire().clone();
    println!(
        "registered after completion: it had already run when add_done_callback returned, in {ran_in:?}"
    );
    assert_eq!(ran_in, Some(main_thread().name()));
}

/// A task's exception is a panic: caught, stored in its future, re-raised by nobody. The worker
/// lives on and runs the next task.
fn panicking_task() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("sturdy")
        .build()
        .unwrap();
    let divisor = 0;
    let fut = pool.submit(move || -> u32 {
        if divisor == 0 {
            raise(format!("division by zero: 10 / {divisor}"));
        }
        10 / divisor
    });
    let err = fut.result().expect_err("the task panicked");
    println!("result() -> Err({err})");
    assert_eq!(
        err,
        FutureError::Panicked {
            message: "division by zero: 10 / 0".into()
        }
    );
    assert!(err.is_exception() && fut.done());
    assert_eq!(fut.exception(), Some(err));

    let next = pool.submit(|| current_thread().name());
    println!(
        "the next task ran on {:?}; the pool still has {} worker",
        next.result().unwrap(),
        pool.worker_count()
    );
    assert_eq!(next.result().map(String::as_str), Ok("sturdy_0"));
    assert_eq!(pool.worker_count(), 1, "the same worker lived on");

    // A task that returns Err raises without a panic: submit_fallible makes the Err the
    // future's exception, and downcast_ref gets the task's own error type back.
    let parsed = pool.submit_fallible(|| "ten".parse::<u32>());
    let err = parsed.exception().expect("the parse failed");
    println!("submit_fallible: exception() -> {err}");
    assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());

    // In map(), the error comes back at its item's position and the iteration ends there.
    let results: Vec<_> = pool
        .map(
            |n: u32| {
                if n == 3 {
                    raise(format!("item {n} is bad"));
                }
                n
            },
            0..6,
        )
        .collect();
    println!("map over 0..6 where item 3 panics -> {results:?}");
    assert_eq!(results.len(), 4);
    assert_eq!(results[..3], [Ok(0), Ok(1), Ok(2)]);
    assert_eq!(
        results[3],
        Err(FutureError::Panicked {
            message: "item 3 is bad".into()
        })
    );
}

/// `executor.map(fn, items, timeout=…)`: the deadline counts from the call; a result not
/// ready by then is a timeout, and the tasks not yet started are cancelled.
fn map_with_timeout() {
    let pool = ThreadPoolExecutor::new(1);
    let gate = gate();
    let ran = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let results: Vec<_> = pool
        .map_timeout(
            {
                let (gate, ran) = (Arc::clone(&gate), Arc::clone(&ran));
                move |n: u32| {
                    ran.fetch_add(1, Ordering::SeqCst);
                    if n == 2 {
                        assert!(gate.wait_timeout(PATIENCE)); // item 2 is slow
                    }
                    n * n
                }
            },
            0..6,
            SHORT,
        )
        .collect();
    let waited = t.elapsed();
    println!(
        "map_timeout over 0..6, timeout={SHORT:?}, item 2 stuck: {results:?} after {waited:.0?}"
    );
    assert_eq!(results, [Ok(0), Ok(1), Err(FutureError::Timeout)]);
    assert!(
        waited >= SHORT.mul_f64(0.6),
        "gave up too early: {waited:?}"
    );
    gate.set();
    pool.shutdown(true, false);
    let ran = ran.load(Ordering::SeqCst);
    println!("tasks that ran: {ran} of 6 — items 3, 4 and 5 were cancelled before they started");
    assert_eq!(ran, 3);
}

/// `executor.shutdown(wait=False, cancel_futures=True)`: queued tasks are cancelled, the running
/// one finishes, and the pool refuses new work.
fn shutdown_cancel() {
    let pool = ThreadPoolExecutor::new(1);
    let (gate, started) = (gate(), gate());
    let running = pool.submit({
        let (gate, started) = (Arc::clone(&gate), Arc::clone(&started));
        move || {
            started.set();
            assert!(gate.wait_timeout(PATIENCE));
            "finished"
        }
    });
    let ran = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..5)
        .map(|_| {
            let ran = Arc::clone(&ran);
            pool.submit(move || ran.fetch_add(1, Ordering::SeqCst))
        })
        .collect();
    assert!(started.wait_timeout(PATIENCE));
    pool.shutdown(false, true);
    let cancelled = queued.iter().filter(|f| f.cancelled()).count();
    println!(
        "shutdown(wait=False, cancel_futures=True): {cancelled} queued tasks cancelled; the running one is {:?}",
        running.state()
    );
    assert_eq!(cancelled, 5);
    assert!(running.running());

    let late = pool.submit(|| "too late");
    let err = late.result().expect_err("the pool is shut down");
    println!("submit() after shutdown -> a future already done with: {err}");
    assert_eq!(err, FutureError::Shutdown);
    assert!(late.done());

    gate.set();
    assert_eq!(running.result(), Ok(&"finished"));
    pool.shutdown(true, false); // again: harmless; now waits for the worker to exit
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    println!("the running task finished normally: {:?}", running.result());
}

thread_local! {
    /// Per-worker state set up by the initializer: a stand-in for a database connection.
    static CONNECTION: Cell<Option<usize>> = const { Cell::new(None) };
}

/// `ThreadPoolExecutor(thread_name_prefix="db", initializer=connect)`.
fn prefix_and_initializer() {
    let opened = Arc::new(AtomicUsize::new(0));
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("db")
        .initializer({
            let opened = Arc::clone(&opened);
            move || {
                let id = opened.fetch_add(1, Ordering::SeqCst);
                CONNECTION.with(|c| c.set(Some(id)));
            }
        })
        .build()
        .unwrap();
    let who = || (current_thread().name(), CONNECTION.with(Cell::get));

    // Three tasks that must meet at a barrier need three workers at once.
    let meet = Arc::new(Barrier::new(3));
    let first: Vec<_> = (0..3)
        .map(|_| {
            let meet = Arc::clone(&meet);
            pool.submit(move || {
                meet.wait_timeout(PATIENCE).expect("three workers meet");
                who()
            })
        })
        .collect();
    let first: Vec<(String, Option<usize>)> = first
        .into_iter()
        .map(|f| f.into_result().unwrap())
        .collect();
    let names: BTreeSet<&str> = first.iter().map(|(name, _)| name.as_str()).collect();
    println!("3 tasks that meet at a Barrier ran on {names:?}");
    assert_eq!(names, BTreeSet::from(["db_0", "db_1", "db_2"]));
    assert!(first.iter().all(|(_, conn)| conn.is_some()));

    let later: Vec<_> = (0..20).map(|_| pool.submit(who)).collect();
    let conns: BTreeSet<usize> = later
        .iter()
        .map(|f| {
            f.result()
                .unwrap()
                .1
                .expect("every worker has a connection")
        })
        .collect();
    let opened = opened.load(Ordering::SeqCst);
    println!(
        "20 more tasks used connections {conns:?}; the initializer ran {opened} times (once per worker, not per task)"
    );
    assert_eq!(opened, 3);
    assert_eq!(opened, pool.worker_count());
    assert!(conns.iter().all(|&c| c < 3));
}

/// A Future is not tied to a pool: whoever holds its Promise completes it (Python's
/// `set_running_or_notify_cancel`, `set_result`, `set_exception`).
fn promise_directly() {
    let (promise, fut) = Promise::new();
    assert_eq!(
        fut.result_timeout(Duration::ZERO),
        Err(FutureError::Timeout)
    );
    let producer = Thread::spawn(move || {
        if promise.set_running() == Ok(true) {
            let answer: u64 = (1..=100).sum();
            promise.set_result(answer).expect("not cancelled");
        }
    });
    println!(
        "a plain Thread completed a Promise: result() -> {:?}",
        fut.result()
    );
    assert_eq!(fut.result(), Ok(&5050));
    producer.join().unwrap();

    // Cancelled before the producer starts: set_running() says so, and the work is skipped.
    let (promise, fut) = Promise::<u64>::new();
    let cancelled_in = Arc::new(Lock::with_value(String::new()));
    fut.add_done_callback({
        let cancelled_in = Arc::clone(&cancelled_in);
        move |_| *cancelled_in.acquire() = current_thread().name()
    });
    assert!(fut.cancel());
    assert_eq!(promise.set_running(), Ok(false));
    let refused = promise.set_result(1).expect_err("the future is cancelled");
    println!(
        "cancelled first: set_running() -> Ok(false), set_result(1) -> {refused} (the 1 comes back: {})",
        refused.into_inner()
    );
    assert_eq!(
        *cancelled_in.acquire(),
        main_thread().name(),
        "cancel() ran the callback"
    );

    // A promise dropped unfulfilled breaks its future instead of leaving waiters hanging.
    let (promise, fut) = Promise::<u64>::new();
    drop(promise);
    let err = fut.result().expect_err("no value will ever come");
    println!("a Promise dropped without a result -> {err}");
    assert!(matches!(err, FutureError::BrokenExecutor { .. }));
}

/// `Future<u32>`, `Future<String>` and a Promise's `Future<Vec<u8>>` in one `wait()` and one
/// `as_completed()`, through type-erased handles.
fn mixed_types() {
    let pool = ThreadPoolExecutor::new(2);
    let number = pool.submit(|| 42u32);
    let text = pool.submit(|| String::from("forty-two"));
    let (promise, bytes) = Promise::<Vec<u8>>::new();
    let handles = [number.handle(), text.handle(), bytes.handle()];

    let (done, not_done) = wait(&handles, Some(SHORT), ReturnWhen::AllCompleted);
    println!(
        "wait() over a Future<u32>, a Future<String> and an unfulfilled Future<Vec<u8>>: {} done, not done: {not_done:?}",
        done.len()
    );
    assert_eq!(done, [&handles[0], &handles[1]]);
    assert_eq!(not_done, [&handles[2]]);

    promise.set_result(b"42".to_vec()).unwrap();
    let finished = as_completed(handles.clone(), None)
        .filter(Result::is_ok)
        .count();
    println!("after set_result: as_completed yields all {finished}");
    assert_eq!(finished, 3);
    // The typed futures still hold the typed values.
    assert_eq!(number.result(), Ok(&42));
    assert_eq!(text.result().map(String::as_str), Ok("forty-two"));
    assert_eq!(bytes.result().map(Vec::as_slice), Ok(&b"42"[..]));
    println!(
        "read back through the typed futures: {:?}, {:?}, {:?}",
        number.result().unwrap(),
        text.result().unwrap(),
        String::from_utf8_lossy(bytes.result().unwrap())
    );
}
