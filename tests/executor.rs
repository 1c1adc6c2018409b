//! Integration tests for `ThreadPoolExecutor` (SEMANTICS.md §13d: EXE-*), plus the pool's side
//! of FUT-12 (done callbacks run in the worker) and a stress test.
//!
//! Tasks are held back with an [`Event`] (a "gate") or a [`Barrier`], never with sleeps, so
//! that which task runs where and when is decided by the test; every wait is bounded.
//!
//! Left out, or replaced by their Rust equivalent:
//! * EXE-1's keyword arguments (and the kwargs named `fn`/`self`, TypeError arity) are [PY]: a
//!   task is a closure, and its arguments are what it captures.
//! * EXE-8's non-callable initializer (TypeError) cannot be written: `initializer` takes an
//!   `impl Fn()`.
//! * EXE-13's "a started task may or may not finish before the process exits" is about
//!   interpreter exit ([PY]); `shutdown(wait = false, cancel_futures = true)` returning at once
//!   and cancelling the queued tasks is tested.
//! * EXE-20 (interpreter exit, fork, ProcessPoolExecutor, GIL-less variants) is [PY].
//! * EXE-18's CRITICAL log record is [PY]; the pool writes "Exception in initializer:" to
//!   stderr, which is not captured here.

mod common;

use common::*;
use gilfree::futures::{Map, ReturnWhen, ThreadPoolExecutorBuilder, wait};
use gilfree::threading::{current_thread, enumerate};
use gilfree::{Barrier, Event, Future, FutureError, FutureState, ThreadPoolExecutor, ValueError};
use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

static_assertions::assert_impl_all!(ThreadPoolExecutor: Send, Sync, std::fmt::Debug, Default);
static_assertions::assert_impl_all!(ThreadPoolExecutorBuilder: Send, std::fmt::Debug);
static_assertions::assert_impl_all!(Map<u8>: Send, std::fmt::Debug);

// ---------------------------------------------------------------------------------------------
// Helpers

/// A closed gate: tasks that [`hold`] on it wait until the test sets it.
fn gate() -> Arc<Event> {
    Arc::new(Event::new())
}

/// Blocks a task until `gate` is set; fails the task (not hang it) if nobody sets it in time.
fn hold(gate: &Event) {
    assert!(gate.wait_timeout(DEADLINE), "the gate was never opened");
}

/// A barrier for `n` tasks that breaks (failing them) instead of hanging.
fn barrier(n: usize) -> Arc<Barrier> {
    Arc::new(Barrier::builder(n).timeout(DEADLINE).build().unwrap())
}

/// `s` as a number if it is a non-empty string of ASCII digits.
fn digits(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `i` if `name` is `{prefix}_{i}` (EXE-10's `^{prefix}_[0-9]+$`).
fn worker_index(name: &str, prefix: &str) -> Option<usize> {
    digits(name.strip_prefix(prefix)?.strip_prefix('_')?)
}

/// `(k, i)` if `name` is the default `ThreadPoolExecutor-{k}_{i}` (EXE-10).
fn default_name(name: &str) -> Option<(usize, usize)> {
    let (k, i) = name.strip_prefix("ThreadPoolExecutor-")?.split_once('_')?;
    Some((digits(k)?, digits(i)?))
}

/// The names of the live threads called `{prefix}_{i}`: the workers of the pool with that
/// prefix (every test uses its own prefix).
fn pool_threads(prefix: &str) -> Vec<String> {
    enumerate()
        .iter()
        .map(|t| t.name())
        .filter(|name| worker_index(name, prefix).is_some())
        .collect()
}

/// A pool of `max_workers` threads named `{prefix}_{i}`.
fn named_pool(max_workers: usize, prefix: &str) -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(max_workers)
        .thread_name_prefix(prefix)
        .build()
        .unwrap()
}

/// Waits until the pool's Debug output shows `n` idle workers (waiting for a task).
fn wait_idle(pool: &ThreadPoolExecutor, n: usize) {
    let want = format!("idle: {n},");
    poll_until("the workers to be idle", || {
        format!("{pool:?}").contains(&want)
    });
}

/// The panic message a task's future holds, or a failure naming what it holds instead.
fn panicked<T: std::fmt::Debug>(outcome: Result<T, FutureError>) -> String {
    match outcome {
        Err(FutureError::Panicked { message }) => message,
        other => panic!("expected FutureError::Panicked, got {other:?}"),
    }
}

/// The message of a `BrokenExecutor` outcome, or a failure naming the outcome.
fn broken<T: std::fmt::Debug>(outcome: Result<T, FutureError>) -> String {
    match outcome {
        Err(FutureError::BrokenExecutor { message }) => message,
        other => panic!("expected FutureError::BrokenExecutor, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// EXE-1, EXE-2: submit

/// EXE-1: `submit(f)` returns a future whose result is `f()`; the arguments are what the
/// closure captures, and the result can be read any number of times, from any thread.
#[test]
fn exe1_submit_returns_the_result() {
    let pool = ThreadPoolExecutor::new(2);
    let (base, exp) = (2u64, 8);
    let power = pool.submit(move || base.pow(exp));
    let text = pool.submit(|| String::from("forty-two"));
    assert_eq!(power.result_timeout(DEADLINE), Ok(&256));
    assert_eq!(power.result(), Ok(&256));
    assert_eq!(power.exception(), None);
    assert_eq!(power.state(), FutureState::Finished);
    assert!(power.done() && !power.running() && !power.cancelled());
    assert_eq!(
        text.result_timeout(DEADLINE).map(String::as_str),
        Ok("forty-two")
    );
    let clone = text.clone();
    let from_elsewhere = thread::spawn(move || clone.result_timeout(DEADLINE).cloned());
    assert_eq!(join_within(from_elsewhere), Ok("forty-two".to_owned()));
    assert_eq!(text.into_result(), Ok("forty-two".to_owned()));

    // Submitting from many threads at once: the pool is shared by reference.
    let pool = Arc::new(pool);
    let submitters: Vec<_> = (0..4u64)
        .map(|t| {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.submit(move || t * 10))
        })
        .collect();
    for (t, h) in submitters.into_iter().enumerate() {
        let fut = join_within(h);
        assert_eq!(fut.result_timeout(DEADLINE), Ok(&(t as u64 * 10)));
    }
}

/// EXE-2: a panicking task stores `FutureError::Panicked` with its message; `result` and
/// `exception` return it, `wait(FirstException)` sees it, and the worker lives on: the next
/// task runs on the same (only) worker.
#[test]
fn exe2_panic_is_stored_and_the_worker_lives_on() {
    let pool = named_pool(1, "exe2pool");
    let fut = pool.submit(|| -> u32 { panic!("division by zero") });
    assert_eq!(panicked(fut.result_timeout(DEADLINE)), "division by zero");
    assert_eq!(
        fut.exception(),
        Some(FutureError::Panicked {
            message: "division by zero".into()
        })
    );
    assert!(fut.done() && !fut.cancelled());
    assert_eq!(fut.state(), FutureState::Finished);
    assert!(fut.exception().unwrap().is_exception());
    let (done, not_done) = wait([&fut], Some(DEADLINE), ReturnWhen::FirstException);
    assert_eq!((done, not_done.len()), (vec![&fut], 0));

    let formatted = pool.submit(|| -> u32 { panic!("bad value {}", 7) });
    assert_eq!(panicked(formatted.result_timeout(DEADLINE)), "bad value 7");
    let any = pool.submit(|| -> u32 { std::panic::panic_any(42u8) });
    assert_eq!(
        panicked(any.result_timeout(DEADLINE)),
        "<non-string panic payload>"
    );

    // The worker survived all three panics.
    let after = pool.submit(|| current_thread().name());
    assert_eq!(
        after.result_timeout(DEADLINE).map(String::as_str),
        Ok("exe2pool_0")
    );
    assert_eq!(pool.worker_count(), 1);
    assert_eq!(pool_threads("exe2pool"), ["exe2pool_0"]);
}

// ---------------------------------------------------------------------------------------------
// EXE-3 … EXE-7: map

/// EXE-3: `map` yields results in input order, not completion order: item 2 finishes before
/// item 0 (which waits for it), yet item 0's result comes first. Zipped inputs stop at the
/// shortest, and the results equal the sequential `map`.
#[test]
fn exe3_map_keeps_input_order() {
    let pool = ThreadPoolExecutor::new(3);
    let finished = Arc::new(Mutex::new(Vec::new()));
    let item2_done = gate();
    let (fin, ev) = (Arc::clone(&finished), Arc::clone(&item2_done));
    let results: Vec<_> = pool
        .map(
            move |i: usize| {
                if i == 0 {
                    hold(&ev);
                }
                fin.lock().unwrap().push(i);
                if i == 2 {
                    ev.set();
                }
                i * 100
            },
            0..3,
        )
        .collect();
    assert_eq!(results, [Ok(0), Ok(100), Ok(200)]);
    let finished = finished.lock().unwrap().clone();
    let pos = |i| finished.iter().position(|&x| x == i).unwrap();
    assert!(pos(2) < pos(0), "completion order {finished:?}");

    // `list(map(pow, range(10), range(10)))` equals the builtin map.
    let powers: Result<Vec<u64>, _> = pool
        .map(|(b, e): (u64, u32)| b.pow(e), (0..10).zip(0..10))
        .collect();
    let expected: Vec<u64> = (0..10u64).zip(0..10u32).map(|(b, e)| b.pow(e)).collect();
    assert_eq!(powers, Ok(expected));

    // Zipping stops at the shortest input.
    let short: Vec<_> = pool
        .map(|(a, b): (u32, u32)| a + b, (0..10).zip(0..5))
        .collect();
    assert_eq!(short.len(), 5);
    assert_eq!(pool.map(|x: u8| x, Vec::new()).count(), 0);
}

/// EXE-4: `map` submits every task at call time: after `map(record, 0..10)` and
/// `shutdown(wait = true)`, all 10 have run though nobody iterated.
#[test]
fn exe4_map_submits_without_iteration() {
    let pool = ThreadPoolExecutor::new(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let results = pool.map(
        move |i: usize| {
            r.fetch_add(1, SeqCst);
            i
        },
        0..10,
    );
    pool.shutdown(true, false);
    assert_eq!(ran.load(SeqCst), 10);
    let results: Result<Vec<_>, _> = results.collect();
    assert_eq!(results, Ok((0..10).collect()));
}

/// EXE-5: an error from `map` (a panicking item) comes out at that item's position, after
/// the earlier results; the iterator then ends (Python's StopIteration).
#[test]
fn exe5_map_error_at_its_position_then_ends() {
    let pool = ThreadPoolExecutor::new(4);
    let divmod = |(a, b): (u32, u32)| {
        if b == 0 {
            panic!("integer division or modulo by zero");
        }
        (a / b, a % b)
    };
    let mut it = pool.map(divmod, [1, 1, 1, 1].into_iter().zip([2, 2, 0, 2]));
    assert_eq!(it.next(), Some(Ok((0, 1))));
    assert_eq!(it.next(), Some(Ok((0, 1))));
    match it.next() {
        Some(Err(FutureError::Panicked { message })) => {
            assert_eq!(message, "integer division or modulo by zero")
        }
        other => panic!("expected the item's panic, got {other:?}"),
    }
    assert_eq!(it.size_hint(), (0, Some(0)));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
}

/// EXE-6: `map_timeout` with a task held past the deadline yields the earlier results, then
/// `Err(Timeout)` about `T` after the `map` call, then ends; the running task is not killed,
/// and with one worker the later queued task never runs (EXE-7).
#[test]
fn exe6_map_timeout_yields_earlier_results_then_timeout() {
    let pool = ThreadPoolExecutor::new(1);
    let release = gate();
    let item2_started = gate();
    let ran: Arc<Vec<AtomicBool>> = Arc::new((0..4).map(|_| AtomicBool::new(false)).collect());
    let (rel, started, r) = (
        Arc::clone(&release),
        Arc::clone(&item2_started),
        Arc::clone(&ran),
    );
    let start = Instant::now();
    let mut it = pool.map_timeout(
        move |i: usize| {
            if i == 2 {
                started.set();
                hold(&rel);
            }
            r[i].store(true, SeqCst);
            i * 10
        },
        0..4,
        T,
    );
    assert_eq!(it.next(), Some(Ok(0)));
    assert_eq!(it.next(), Some(Ok(10)));
    assert!(item2_started.wait_timeout(DEADLINE));
    assert_eq!(it.next(), Some(Err(FutureError::Timeout)));
    assert_timeout(start.elapsed(), T);
    assert_eq!(it.next(), None);

    release.set();
    pool.shutdown(true, false);
    let ran: Vec<bool> = ran.iter().map(|b| b.load(SeqCst)).collect();
    assert_eq!(ran, [true, true, true, false]);
}

/// EXE-6: the deadline is measured from the `map` call, and results already done when it has
/// passed still come out: with a zero timeout and every task finished before iterating,
/// nothing times out.
#[test]
fn exe6_results_done_at_the_deadline_still_come_out() {
    let pool = ThreadPoolExecutor::new(1);
    let it = pool.map_timeout(|i: u32| i + 1, 0..3, Duration::ZERO);
    // One worker takes tasks in order: once this one runs, the map's three are finished.
    assert_eq!(pool.submit(|| ()).result_timeout(DEADLINE), Ok(&()));
    let results: Vec<_> = it.collect();
    assert_eq!(results, [Ok(1), Ok(2), Ok(3)]);
}

/// EXE-7: when `map` times out, the timed-out future and all later ones are cancelled, so
/// the queued items never run (`test_executor_map_current_future_cancel`: one worker busy
/// with "first", `timeout = 0`; neither "second" nor "third" runs).
#[test]
fn exe7_timeout_cancels_the_current_and_later_items() {
    let pool = ThreadPoolExecutor::new(1);
    let stop = gate();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log_n_wait = {
        let (stop, log) = (Arc::clone(&stop), Arc::clone(&log));
        move |ident: &'static str| {
            log.lock().unwrap().push(format!("{ident} started"));
            hold(&stop);
            log.lock().unwrap().push(format!("{ident} stopped"));
        }
    };
    let first = {
        let f = log_n_wait.clone();
        pool.submit(move || f("first"))
    };
    let mut it = pool.map_timeout(log_n_wait, ["second", "third"], Duration::ZERO);
    assert_eq!(
        at_once("next() past the deadline", || it.next()),
        Some(Err(FutureError::Timeout))
    );
    assert_eq!(it.next(), None);
    stop.set();
    assert_eq!(first.result_timeout(DEADLINE), Ok(&()));
    pool.shutdown(true, false);
    assert_eq!(*log.lock().unwrap(), ["first started", "first stopped"]);
}

/// EXE-7: when `map` yields an error, the later items that have not started are cancelled:
/// item 0 panics while item 1 holds the only worker; items 2 and 3 never run.
#[test]
fn exe7_error_cancels_the_later_items() {
    let pool = ThreadPoolExecutor::new(1);
    let (release, item1_started) = (gate(), gate());
    let ran: Arc<Vec<AtomicBool>> = Arc::new((0..4).map(|_| AtomicBool::new(false)).collect());
    let (rel, started, r) = (
        Arc::clone(&release),
        Arc::clone(&item1_started),
        Arc::clone(&ran),
    );
    let mut it = pool.map(
        move |i: usize| {
            r[i].store(true, SeqCst);
            match i {
                0 => panic!("item 0 failed"),
                1 => {
                    started.set();
                    hold(&rel);
                }
                _ => {}
            }
            i
        },
        0..4,
    );
    assert!(item1_started.wait_timeout(DEADLINE));
    assert_eq!(
        panicked(it.next().expect("item 0's outcome")),
        "item 0 failed"
    );
    assert_eq!(it.next(), None);
    release.set();
    pool.shutdown(true, false);
    let ran: Vec<bool> = ran.iter().map(|b| b.load(SeqCst)).collect();
    assert_eq!(ran, [true, true, false, false]);
}

/// EXE-7: dropping a `Map` (Python's closing the generator) cancels its tasks that have not
/// started: with the only worker busy, none of the five items ever runs.
#[test]
fn exe7_dropping_map_cancels_unstarted_tasks() {
    let pool = ThreadPoolExecutor::new(1);
    let (release, started) = (gate(), gate());
    let busy = {
        let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
        pool.submit(move || {
            st.set();
            hold(&rel);
        })
    };
    assert!(started.wait_timeout(DEADLINE));
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let it = pool.map(
        move |i: usize| {
            r.fetch_add(1, SeqCst);
            i
        },
        0..5,
    );
    drop(it);
    release.set();
    assert_eq!(busy.result_timeout(DEADLINE), Ok(&()));
    pool.shutdown(true, false);
    assert_eq!(ran.load(SeqCst), 0);
}

// ---------------------------------------------------------------------------------------------
// EXE-8 … EXE-10: construction, workers, names

/// EXE-8: `max_workers = 0` is a ValueError with Python's message; the default is
/// `min(32, cpus + 4)`; no thread starts before the first submit.
#[test]
fn exe8_max_workers_validation_and_default() {
    let err: ValueError = ThreadPoolExecutor::try_new(0).unwrap_err();
    assert_eq!(err.message(), "max_workers must be greater than 0");
    assert!(
        err.to_string()
            .contains("max_workers must be greater than 0")
    );
    let err = ThreadPoolExecutor::builder()
        .max_workers(0)
        .build()
        .unwrap_err();
    assert_eq!(err.message(), "max_workers must be greater than 0");

    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let expected = 32.min(cpus + 4);
    let pool = ThreadPoolExecutor::default();
    assert_eq!(pool.max_workers(), expected);
    assert_eq!(pool.worker_count(), 0);
    assert_eq!(
        ThreadPoolExecutor::builder().build().unwrap().max_workers(),
        expected
    );
    assert_eq!(ThreadPoolExecutor::try_new(1).unwrap().max_workers(), 1);
    assert_eq!(ThreadPoolExecutor::new(7).max_workers(), 7);
}

/// EXE-8: `new(0)` panics with the ValueError's message.
#[test]
#[should_panic(expected = "max_workers must be greater than 0")]
fn exe8_new_zero_panics() {
    let _ = ThreadPoolExecutor::new(0);
}

/// EXE-9: workers start lazily and an idle worker is reused: three sequential
/// `submit(..).result()` calls use one thread (`test_idle_thread_reuse`, [IMPL]; the test
/// waits for the worker to be idle before each submit, which is what the reuse is about).
#[test]
fn exe9_idle_worker_is_reused() {
    let pool = named_pool(8, "exe9idle");
    assert_eq!(pool.worker_count(), 0);
    for round in 0..3 {
        let fut = pool.submit(|| current_thread().name());
        assert_eq!(
            fut.result_timeout(DEADLINE).map(String::as_str),
            Ok("exe9idle_0"),
            "round {round}"
        );
        assert_eq!(pool.worker_count(), 1, "round {round}");
        wait_idle(&pool, 1);
    }
    assert_eq!(pool.worker_count(), 1);
    assert_eq!(pool_threads("exe9idle"), ["exe9idle_0"]);
}

/// EXE-9: 15 × max blocking tasks start exactly `max_workers` threads (`test_saturation`).
#[test]
fn exe9_saturation_starts_exactly_max_workers() {
    let max = 4;
    let pool = named_pool(max, "exe9sat");
    let release = gate();
    let started = Arc::new(AtomicUsize::new(0));
    let futs: Vec<_> = (0..15 * max)
        .map(|_| {
            let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
            pool.submit(move || {
                st.fetch_add(1, SeqCst);
                hold(&rel);
            })
        })
        .collect();
    poll_until("max tasks to start", || started.load(SeqCst) == max);
    assert_eq!(pool.worker_count(), max);
    assert_eq!(pool_threads("exe9sat").len(), max);
    assert_eq!(started.load(SeqCst), max, "more tasks started than workers");
    release.set();
    pool.shutdown(true, false);
    assert!(
        futs.iter()
            .all(|f| f.result_timeout(Duration::ZERO) == Ok(&()))
    );
    assert_eq!(pool.worker_count(), max);
    assert_eq!(started.load(SeqCst), 15 * max);
}

/// EXE-9, EXE-12: three blocking tasks on a 5-worker pool start exactly 3 threads; after
/// `shutdown(wait = true)` they have exited (`test_threads_terminate`).
#[test]
fn exe9_three_tasks_start_three_threads() {
    let pool = named_pool(5, "exe9three");
    let release = gate();
    let started = Arc::new(AtomicUsize::new(0));
    let futs: Vec<_> = (0..3)
        .map(|_| {
            let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
            pool.submit(move || {
                st.fetch_add(1, SeqCst);
                hold(&rel);
            })
        })
        .collect();
    poll_until("the 3 tasks to start", || started.load(SeqCst) == 3);
    assert_eq!(pool.worker_count(), 3);
    assert_eq!(pool_threads("exe9three").len(), 3);
    release.set();
    pool.shutdown(true, false);
    assert!(futs.iter().all(|f| f.done()));
    assert_eq!(pool.worker_count(), 3);
    assert_eq!(pool_threads("exe9three"), Vec::<String>::new());
}

/// EXE-9: Debug shows the pool's state (max_workers, workers started, shutdown).
#[test]
fn exe9_debug_shows_state() {
    let pool = ThreadPoolExecutor::new(3);
    let s = format!("{pool:?}");
    assert!(
        s.contains("ThreadPoolExecutor")
            && s.contains("max_workers: 3")
            && s.contains("workers: 0"),
        "{s}"
    );
    assert!(s.contains("shutdown: false"), "{s}");
    pool.submit(|| ()).result_timeout(DEADLINE).unwrap();
    pool.shutdown(true, false);
    let s = format!("{pool:?}");
    assert!(
        s.contains("workers: 1") && s.contains("shutdown: true"),
        "{s}"
    );
}

/// EXE-10: with a prefix, the workers are named `{prefix}_{i}` for i in `0..max_workers`
/// (`^SpecialPool_[0-4]$`).
#[test]
fn exe10_thread_names_with_prefix() {
    let pool = named_pool(5, "SpecialPool");
    let all_in = barrier(5);
    let futs: Vec<_> = (0..5)
        .map(|_| {
            let b = Arc::clone(&all_in);
            pool.submit(move || {
                b.wait().expect("all five tasks run at once");
                current_thread().name()
            })
        })
        .collect();
    let names: BTreeSet<String> = futs
        .iter()
        .map(|f| f.result_timeout(DEADLINE).unwrap().clone())
        .collect();
    let indexes: BTreeSet<usize> = names
        .iter()
        .map(|n| worker_index(n, "SpecialPool").unwrap_or_else(|| panic!("bad name {n:?}")))
        .collect();
    assert_eq!(indexes, (0..5).collect());
}

/// EXE-10: without a prefix, the workers are named `ThreadPoolExecutor-{k}_{i}`, `k` from a
/// global counter: a later pool gets a larger `k`.
#[test]
fn exe10_thread_names_default() {
    let names_of = |pool: &ThreadPoolExecutor| -> Vec<(usize, usize)> {
        let all_in = barrier(2);
        let futs: Vec<_> = (0..2)
            .map(|_| {
                let b = Arc::clone(&all_in);
                pool.submit(move || {
                    b.wait().expect("both tasks run at once");
                    current_thread().name()
                })
            })
            .collect();
        futs.iter()
            .map(|f| {
                let name = f.result_timeout(DEADLINE).unwrap();
                default_name(name).unwrap_or_else(|| panic!("bad default name {name:?}"))
            })
            .collect()
    };
    let first = ThreadPoolExecutor::new(2);
    let second = ThreadPoolExecutor::new(2);
    let (a, b) = (names_of(&first), names_of(&second));
    assert_eq!(a[0].0, a[1].0, "one pool, one k: {a:?}");
    assert_eq!(b[0].0, b[1].0, "one pool, one k: {b:?}");
    assert!(
        b[0].0 > a[0].0,
        "the later pool has the larger k: {a:?} {b:?}"
    );
    for names in [&a, &b] {
        let indexes: BTreeSet<usize> = names.iter().map(|&(_, i)| i).collect();
        assert_eq!(indexes, BTreeSet::from([0, 1]));
    }
}

// ---------------------------------------------------------------------------------------------
// EXE-11 … EXE-16: shutdown

/// EXE-11: `submit` after `shutdown` returns a future that is already done with
/// `FutureError::Shutdown` (Python's RuntimeError "cannot schedule new futures after
/// shutdown"), also through `map`; `shutdown` is idempotent.
#[test]
fn exe11_submit_after_shutdown() {
    let pool = ThreadPoolExecutor::new(2);
    assert_eq!(pool.submit(|| 1).result_timeout(DEADLINE), Ok(&1));
    pool.shutdown(true, false);
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let late = pool.submit(move || r.store(true, SeqCst));
    assert!(late.done(), "the refused future must already be done");
    assert_eq!(
        late.result_timeout(Duration::ZERO),
        Err(FutureError::Shutdown)
    );
    assert_eq!(late.exception(), Some(FutureError::Shutdown));
    assert!(
        FutureError::Shutdown
            .to_string()
            .contains("cannot schedule new futures after shutdown")
    );
    let mut it = pool.map(|x: u8| x, [1, 2]);
    assert_eq!(it.next(), Some(Err(FutureError::Shutdown)));
    assert_eq!(it.next(), None);

    // Idempotent, with any arguments.
    at_once("a second shutdown", || pool.shutdown(true, false));
    at_once("a third shutdown", || pool.shutdown(false, true));
    assert_eq!(pool.submit(|| 2).result(), Err(FutureError::Shutdown));
    assert!(!ran.load(SeqCst));
}

/// EXE-12: `shutdown(wait = true)` returns only after every queued and running task has
/// finished, so all 50 queued results are there (`test_hang_issue12364`); the workers have
/// exited.
#[test]
fn exe12_shutdown_wait_finishes_all_tasks() {
    let pool = Arc::new(named_pool(5, "exe12pool"));
    let release = gate();
    let futs: Vec<_> = (0..50u32)
        .map(|i| {
            let rel = Arc::clone(&release);
            pool.submit(move || {
                hold(&rel);
                i * 2
            })
        })
        .collect();
    let p = Arc::clone(&pool);
    let shutdown = start_blocked([move || p.shutdown(true, false)]);
    assert_blocked(&shutdown, "shutdown(wait = true) with tasks running");
    assert!(futs.iter().all(|f| !f.done()));
    release.set();
    join_within(shutdown.into_iter().next().unwrap());
    for (i, f) in futs.iter().enumerate() {
        assert_eq!(f.result_timeout(Duration::ZERO), Ok(&(i as u32 * 2)));
    }
    assert_eq!(pool.worker_count(), 5);
    assert_eq!(pool_threads("exe12pool"), Vec::<String>::new());
}

/// EXE-12: `shutdown(wait = true)` called from inside a task does not wait for that task's own
/// worker (which would never return).
#[test]
fn exe12_shutdown_from_a_task_does_not_wait_for_itself() {
    with_watchdog(|| {
        let pool = Arc::new(ThreadPoolExecutor::new(1));
        let p = Arc::clone(&pool);
        let fut = pool.submit(move || p.shutdown(true, false));
        assert_eq!(fut.result_timeout(DEADLINE), Ok(&()));
        assert_eq!(pool.submit(|| ()).result(), Err(FutureError::Shutdown));
    });
}

/// EXE-13: `shutdown(wait = false)` returns at once, yet the queued tasks still run to the
/// end and the workers exit afterwards; with `cancel_futures` it also returns at once and the
/// queued tasks are cancelled.
#[test]
fn exe13_shutdown_no_wait() {
    let pool = named_pool(3, "exe13pool");
    let release = gate();
    let futs: Vec<_> = (0..10u32)
        .map(|i| {
            let rel = Arc::clone(&release);
            pool.submit(move || {
                hold(&rel);
                i + 1
            })
        })
        .collect();
    at_once("shutdown(wait = false)", || pool.shutdown(false, false));
    assert!(futs.iter().all(|f| !f.done()));
    assert_eq!(pool.submit(|| 0).result(), Err(FutureError::Shutdown));
    release.set();
    poll_until("the queued tasks to finish", || {
        futs.iter().all(|f| f.done())
    });
    for (i, f) in futs.iter().enumerate() {
        assert_eq!(f.result_timeout(Duration::ZERO), Ok(&(i as u32 + 1)));
    }
    poll_until("the workers to exit", || {
        pool_threads("exe13pool").is_empty()
    });

    // `shutdown(wait = false, cancel_futures = true)`.
    let pool = named_pool(1, "exe13cancel");
    let (release, started) = (gate(), gate());
    let running = {
        let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
        pool.submit(move || {
            st.set();
            hold(&rel);
            "finished"
        })
    };
    let queued: Vec<_> = (0..5).map(|_| pool.submit(|| "ran")).collect();
    assert!(started.wait_timeout(DEADLINE));
    at_once("shutdown(wait = false, cancel_futures = true)", || {
        pool.shutdown(false, true)
    });
    assert!(queued.iter().all(Future::cancelled));
    assert!(!running.done());
    release.set();
    assert_eq!(running.result_timeout(DEADLINE), Ok(&"finished"));
    poll_until("the worker to exit", || {
        pool_threads("exe13cancel").is_empty()
    });
}

/// EXE-14: `shutdown(cancel_futures = true)` with 5 workers busy and 45 tasks queued cancels
/// the 45; the 5 running ones finish normally; `wait` on all 50 returns at once (WAIT-7: the
/// cancelled futures count as done, no hang).
#[test]
fn exe14_shutdown_cancel_futures() {
    with_watchdog(|| {
        let pool = Arc::new(ThreadPoolExecutor::new(5));
        let release = gate();
        let started = Arc::new(AtomicUsize::new(0));
        let futs: Vec<_> = (0..50u32)
            .map(|i| {
                let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
                pool.submit(move || {
                    st.fetch_add(1, SeqCst);
                    hold(&rel);
                    i
                })
            })
            .collect();
        poll_until("5 tasks to start", || started.load(SeqCst) == 5);
        let p = Arc::clone(&pool);
        let shutdown = thread::spawn(move || p.shutdown(true, true));
        poll_until("the queued tasks to be cancelled", || {
            futs.iter().filter(|f| f.cancelled()).count() == 45
        });
        assert!(
            !shutdown.is_finished(),
            "shutdown(wait) returned with tasks running"
        );
        release.set();
        join_within(shutdown);

        let cancelled = futs.iter().filter(|f| f.cancelled()).count();
        assert_eq!(cancelled, 45);
        assert_eq!(started.load(SeqCst), 5, "a cancelled task ran");
        let finished: Vec<_> = futs.iter().filter(|f| !f.cancelled()).collect();
        assert_eq!(finished.len(), 5);
        for f in finished {
            assert!(f.result_timeout(Duration::ZERO).is_ok(), "{f:?}");
        }
        for f in futs.iter().filter(|f| f.cancelled()) {
            assert_eq!(
                f.result_timeout(Duration::ZERO),
                Err(FutureError::Cancelled)
            );
        }
        let (done, not_done) = at_once("wait() on cancelled futures", || {
            wait(&futs, Some(DEADLINE), ReturnWhen::AllCompleted)
        });
        assert_eq!((done.len(), not_done.len()), (50, 0));
    });
}

/// EXE-15: submitting a task, cancelling it, then `shutdown(wait = true)` does not hang
/// (gh-94440), whether or not the cancel came in time; `map` then `shutdown` does not
/// deadlock (`test_shutdown_race_issue12456`).
#[test]
fn exe15_cancel_then_shutdown_does_not_hang() {
    with_watchdog(|| {
        // The cancel certainly comes in time: the only worker is busy.
        let pool = Arc::new(ThreadPoolExecutor::new(1));
        let (release, started) = (gate(), gate());
        let busy = {
            let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
            pool.submit(move || {
                st.set();
                hold(&rel);
            })
        };
        assert!(started.wait_timeout(DEADLINE));
        let ran = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&ran);
        let fut = pool.submit(move || r.store(true, SeqCst));
        assert!(fut.cancel());
        let p = Arc::clone(&pool);
        let shutdown = thread::spawn(move || p.shutdown(true, false));
        release.set();
        join_within(shutdown);
        assert!(fut.cancelled() && !ran.load(SeqCst));
        assert_eq!(busy.result_timeout(Duration::ZERO), Ok(&()));

        // Racing the worker, on fresh pools.
        for _ in 0..50 {
            let pool = Arc::new(ThreadPoolExecutor::new(1));
            let fut = pool.submit(|| 1);
            fut.cancel();
            let p = Arc::clone(&pool);
            join_within(thread::spawn(move || p.shutdown(true, false)));
            assert!(fut.done());
        }

        // map, then shutdown.
        let pool = ThreadPoolExecutor::new(5);
        let squares = pool.map(|x: u64| x * x, 0..100);
        pool.shutdown(true, false);
        let squares: Result<Vec<u64>, _> = squares.collect();
        assert_eq!(squares, Ok((0..100).map(|x| x * x).collect()));
    });
}

/// EXE-16: dropping the pool (Python's `with` exit) waits for the submitted tasks, and its
/// threads exit; results are available inside the block.
#[test]
fn exe16_drop_waits_for_tasks() {
    let pool = named_pool(2, "exe16pool");
    let release = gate();
    let futs: Vec<_> = (0..6u32)
        .map(|i| {
            let rel = Arc::clone(&release);
            pool.submit(move || {
                hold(&rel);
                i
            })
        })
        .collect();
    let dropper = start_blocked([move || drop(pool)]);
    assert_blocked(&dropper, "dropping the pool with tasks running");
    assert!(futs.iter().all(|f| !f.done()));
    release.set();
    join_within(dropper.into_iter().next().unwrap());
    for (i, f) in futs.iter().enumerate() {
        assert_eq!(f.result_timeout(Duration::ZERO), Ok(&(i as u32)));
    }
    assert_eq!(pool_threads("exe16pool"), Vec::<String>::new());

    let fut = {
        let pool = ThreadPoolExecutor::new(1);
        let fut = pool.submit(|| "inside");
        assert_eq!(fut.result_timeout(DEADLINE), Ok(&"inside"));
        pool.submit(|| "queued")
    };
    assert_eq!(fut.result_timeout(Duration::ZERO), Ok(&"queued"));
}

// ---------------------------------------------------------------------------------------------
// EXE-17, EXE-18: initializer

thread_local! {
    /// Set by EXE-17's initializer in each of its workers.
    static INITIALIZED: Cell<bool> = const { Cell::new(false) };
}

/// EXE-17: the initializer runs once in each worker, before that worker's first task, so
/// every task sees its effect.
#[test]
fn exe17_initializer_runs_once_per_worker() {
    let runs: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let r = Arc::clone(&runs);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("exe17pool")
        .initializer(move || {
            *r.lock()
                .unwrap()
                .entry(current_thread().name())
                .or_insert(0) += 1;
            INITIALIZED.with(|i| i.set(true));
        })
        .build()
        .unwrap();
    let all_in = barrier(3);
    let task = || (current_thread().name(), INITIALIZED.with(Cell::get));
    let mut futs: Vec<_> = (0..3)
        .map(|_| {
            let b = Arc::clone(&all_in);
            pool.submit(move || {
                b.wait().expect("three workers");
                task()
            })
        })
        .collect();
    futs.extend((0..30).map(|_| pool.submit(task)));
    pool.shutdown(true, false);

    let expected: BTreeSet<String> = (0..3).map(|i| format!("exe17pool_{i}")).collect();
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(runs.values().all(|&n| n == 1), "{runs:?}");
    for f in &futs {
        let (name, initialized) = f.result_timeout(Duration::ZERO).unwrap();
        assert!(*initialized, "a task on {name} ran before the initializer");
        assert!(expected.contains(name), "{name}");
    }
}

/// EXE-18: a panicking initializer breaks the pool: the queued futures fail with
/// `BrokenExecutor` (Python's BrokenThreadPool) and their tasks never run; later submits return
/// an already-failed future; a done callback that submits sees the broken pool; nothing hangs.
#[test]
fn exe18_failing_initializer_breaks_the_pool() {
    with_watchdog(|| {
        let release = gate();
        let rel = Arc::clone(&release);
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(2)
                .initializer(move || {
                    hold(&rel);
                    panic!("error in initializer");
                })
                .build()
                .unwrap(),
        );
        let ran = Arc::new(AtomicUsize::new(0));
        let futs: Vec<_> = (0..5)
            .map(|_| {
                let r = Arc::clone(&ran);
                pool.submit(move || {
                    r.fetch_add(1, SeqCst);
                })
            })
            .collect();
        let (tx, rx) = mpsc::channel();
        let p = Arc::clone(&pool);
        futs[4].add_done_callback(move |_| {
            let _ = tx.send(p.submit(|| ()));
        });
        release.set();
        for f in &futs {
            let message = broken(f.result_timeout(DEADLINE));
            assert!(message.contains("error in initializer"), "{message}");
            assert!(message.contains("initializer failed"), "{message}");
        }
        let from_callback = rx.recv_timeout(DEADLINE).expect("the callback ran");
        assert!(from_callback.done());
        let message = broken(from_callback.result());
        assert!(message.contains("error in initializer"), "{message}");

        let late = pool.submit(|| ());
        assert!(late.done(), "a submit to a broken pool must fail at once");
        let message = broken(late.result_timeout(Duration::ZERO));
        assert!(message.contains("error in initializer"), "{message}");
        assert_eq!(
            pool.map(|x: u8| x, [1]).next().map(|r| r.is_err()),
            Some(true)
        );
        pool.shutdown(true, false);
        assert_eq!(ran.load(SeqCst), 0);
        assert!(format!("{pool:?}").contains("error in initializer"));
    });
}

// ---------------------------------------------------------------------------------------------
// EXE-19: no stale references

/// EXE-19: once a task has completed, the pool keeps nothing of it: its closure and captured
/// values are dropped (also for a panicking task, `map`'s shared function, and tasks cancelled
/// by `shutdown(cancel_futures)` or a dropped `Map`), and its result lives only in its future.
#[test]
fn exe19_no_stale_references() {
    let pool = ThreadPoolExecutor::new(1);
    let captured = Arc::new(());
    let settled = |what: &str| {
        poll_until(what, || Arc::strong_count(&captured) == 1);
    };

    let c = Arc::clone(&captured);
    let fut = pool.submit(move || {
        let _keep = &c;
        7
    });
    assert_eq!(fut.result_timeout(DEADLINE), Ok(&7));
    settled("the task's closure to be dropped");

    let c = Arc::clone(&captured);
    let fut = pool.submit(move || -> u8 {
        let _keep = &c;
        panic!("boom")
    });
    panicked(fut.result_timeout(DEADLINE));
    settled("the panicking task's closure to be dropped");

    let c = Arc::clone(&captured);
    let results: Vec<_> = pool
        .map(
            move |i: u32| {
                let _keep = &c;
                i
            },
            0..10,
        )
        .collect();
    assert_eq!(results.len(), 10);
    settled("map's function to be dropped");

    // The result is held by the future alone.
    let result = Arc::new(());
    let r = Arc::clone(&result);
    let fut = pool.submit(move || r);
    assert!(fut.result_timeout(DEADLINE).is_ok());
    drop(fut);
    poll_until("the result to be dropped", || {
        Arc::strong_count(&result) == 1
    });

    // Cancelled tasks: by a dropped Map, and by shutdown(cancel_futures).
    let (release, started) = (gate(), gate());
    let busy = {
        let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
        pool.submit(move || {
            st.set();
            hold(&rel);
        })
    };
    assert!(started.wait_timeout(DEADLINE));
    let c = Arc::clone(&captured);
    drop(pool.map(
        move |i: u32| {
            let _keep = &c;
            i
        },
        0..3,
    ));
    let queued: Vec<_> = (0..3)
        .map(|_| {
            let c = Arc::clone(&captured);
            pool.submit(move || {
                let _keep = &c;
            })
        })
        .collect();
    let p = Arc::new(pool);
    let pc = Arc::clone(&p);
    let shutdown = thread::spawn(move || pc.shutdown(true, true));
    poll_until("the queued tasks to be cancelled", || {
        queued.iter().all(Future::cancelled)
    });
    release.set();
    join_within(shutdown);
    assert_eq!(busy.result_timeout(Duration::ZERO), Ok(&()));
    settled("the cancelled tasks' closures to be dropped");
}

// ---------------------------------------------------------------------------------------------
// FUT-12: done callbacks of the pool's futures

/// FUT-12: a done callback added while the task runs is called in the worker thread that
/// completed it; a callback may call `submit` on the same pool without deadlocking (even on
/// a one-worker pool); a callback fired by `shutdown(cancel_futures)` runs in the thread that
/// shuts down and may call `submit` too (it gets the Shutdown future).
#[test]
fn fut12_done_callbacks_run_in_the_worker_and_may_submit() {
    with_watchdog(|| {
        let pool = Arc::new(named_pool(1, "fut12pool"));
        let release = gate();
        let rel = Arc::clone(&release);
        let fut = pool.submit(move || {
            hold(&rel);
            5
        });
        let (tx, rx) = mpsc::channel();
        let p = Arc::clone(&pool);
        fut.add_done_callback(move |f| {
            let value = *f.result().unwrap();
            let inner = p.submit(move || value * 2);
            tx.send((current_thread().name(), inner)).unwrap();
        });
        release.set();
        let (name, inner) = rx.recv_timeout(DEADLINE).expect("the callback ran");
        assert_eq!(name, "fut12pool_0");
        assert_eq!(inner.result_timeout(DEADLINE), Ok(&10));

        // Already done: the callback runs at once, in this thread (FUT-10).
        let me = current_thread().name();
        let seen = Arc::new(Mutex::new(None));
        let s = Arc::clone(&seen);
        fut.add_done_callback(move |_| *s.lock().unwrap() = Some(current_thread().name()));
        assert_eq!(seen.lock().unwrap().as_deref(), Some(me.as_str()));

        // Cancelled by shutdown: runs in the thread calling shutdown, not under the pool's lock.
        let (release, started) = (gate(), gate());
        let busy = {
            let (rel, st) = (Arc::clone(&release), Arc::clone(&started));
            pool.submit(move || {
                st.set();
                hold(&rel);
            })
        };
        assert!(started.wait_timeout(DEADLINE));
        let queued = pool.submit(|| 0);
        let (tx, rx) = mpsc::channel();
        let p = Arc::clone(&pool);
        queued.add_done_callback(move |f| {
            assert!(f.cancelled());
            tx.send((current_thread().name(), p.submit(|| 1))).unwrap();
        });
        let p = Arc::clone(&pool);
        let shutdown = thread::spawn(move || {
            let me = current_thread().name();
            p.shutdown(true, true);
            me
        });
        let (cb_thread, refused) = rx.recv_timeout(DEADLINE).expect("the callback ran");
        assert_eq!(refused.result(), Err(FutureError::Shutdown));
        release.set();
        assert_eq!(join_within(shutdown), cb_thread);
        assert_eq!(busy.result_timeout(Duration::ZERO), Ok(&()));
    });
}

// ---------------------------------------------------------------------------------------------
// Stress

/// Stress: 100,000 tiny tasks submitted from 4 threads at once to one pool. Every task runs
/// once, every future resolves exactly once (its done callback is called once), and the
/// results add up.
#[test]
fn stress_100k_tasks_from_4_threads() {
    with_watchdog(|| {
        const N: usize = 100_000;
        const SUBMITTERS: usize = 4;
        let counters =
            || -> Arc<Vec<AtomicU8>> { Arc::new((0..N).map(|_| AtomicU8::new(0)).collect()) };
        let (runs, callbacks) = (counters(), counters());
        let pool = Arc::new(ThreadPoolExecutor::new(4));
        let start_line = barrier(SUBMITTERS);
        let submitters: Vec<_> = (0..SUBMITTERS)
            .map(|s| {
                let (pool, runs, callbacks, start_line) = (
                    Arc::clone(&pool),
                    Arc::clone(&runs),
                    Arc::clone(&callbacks),
                    Arc::clone(&start_line),
                );
                thread::spawn(move || {
                    start_line.wait().expect("all submitters start together");
                    (s..N)
                        .step_by(SUBMITTERS)
                        .map(|i| {
                            let runs = Arc::clone(&runs);
                            let fut: Future<u64> = pool.submit(move || {
                                runs[i].fetch_add(1, SeqCst);
                                i as u64
                            });
                            let callbacks = Arc::clone(&callbacks);
                            fut.add_done_callback(move |f| {
                                assert_eq!(f.result(), Ok(&(i as u64)));
                                callbacks[i].fetch_add(1, SeqCst);
                            });
                            fut
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let futs: Vec<Future<u64>> = submitters.into_iter().flat_map(join_within).collect();
        assert_eq!(futs.len(), N);
        let sum: u64 = futs
            .iter()
            .map(|f| *f.result_timeout(DEADLINE).expect("every task succeeds"))
            .sum();
        assert_eq!(sum, (N as u64) * (N as u64 - 1) / 2);
        // The callbacks run in the workers (or the submitters): all done once they are joined.
        pool.shutdown(true, false);
        assert!(pool.worker_count() <= 4);
        let once = |c: &[AtomicU8]| c.iter().all(|n| n.load(SeqCst) == 1);
        assert!(once(&runs), "a task ran more or less than once");
        assert!(once(&callbacks), "a future resolved more or less than once");
    });
}

// ---------------------------------------------------------------------------------------------
// Scoped submit (issue 5's "scoped submit", as std::thread::scope): tasks borrow the caller's
// stack, and the scope returns only once they are all done.

/// `scope` returns only after its tasks finished: a task released only once the scope's
/// closure has returned has still run (its write is visible) when `scope` returns, and the
/// borrowed counter holds every task's increment.
#[test]
fn scope_waits_for_every_task_and_lends_the_stack() {
    with_watchdog(|| {
        let pool = ThreadPoolExecutor::new(2);
        let hits = AtomicUsize::new(0);
        let (closure_done, release) = (AtomicBool::new(false), Event::new());
        let late_done = AtomicBool::new(false);
        thread::scope(|outer| {
            // Releases the late task only after the scope's closure has returned.
            outer.spawn(|| {
                poll_until("the scope's closure to return", || {
                    closure_done.load(SeqCst)
                });
                release.set();
            });
            pool.scope(|s| {
                for _ in 0..10 {
                    s.submit(|| hits.fetch_add(1, SeqCst));
                }
                s.submit(|| {
                    assert!(release.wait_timeout(DEADLINE), "never released");
                    late_done.store(true, SeqCst);
                });
                closure_done.store(true, SeqCst);
            });
            assert!(
                late_done.load(SeqCst),
                "scope returned before its last task"
            );
        });
        assert_eq!(hits.load(SeqCst), 10);
    });
}

/// A scoped task's panic is its future's exception, as for `submit`; the scope itself
/// returns normally. A panic in the scope's closure waits for the tasks, then goes on.
#[test]
fn scope_panics_stay_in_futures_and_closure_panics_wait_for_tasks() {
    with_watchdog(|| {
        let pool = ThreadPoolExecutor::new(2);
        let outcome = pool.scope(|s| s.submit(|| -> u8 { panic!("scoped boom") }).exception());
        assert_eq!(
            outcome,
            Some(FutureError::Panicked {
                message: "scoped boom".into()
            })
        );

        let ran = AtomicUsize::new(0);
        let gate = Event::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.scope(|s| {
                for _ in 0..4 {
                    s.submit(|| {
                        gate.wait_timeout(DEADLINE);
                        ran.fetch_add(1, SeqCst);
                    });
                }
                gate.set();
                panic!("the closure fails");
            })
        }));
        assert!(caught.is_err());
        // The unwinding waited for all four tasks.
        assert_eq!(ran.load(SeqCst), 4);
    });
}

/// EXE-11 in a scope: after `shutdown`, scoped submits are refused (their futures are done
/// with `Shutdown`) and the scope returns at once; a scoped task cancelled while queued is
/// dropped by the worker that reaches it, and the scope returns then.
#[test]
fn scope_after_shutdown_and_with_cancelled_tasks_never_hangs() {
    with_watchdog(|| {
        let pool = ThreadPoolExecutor::new(1);
        let gate = Event::new();
        let ran = AtomicBool::new(false);
        pool.scope(|s| {
            let blocker = s.submit(|| gate.wait_timeout(DEADLINE));
            let queued = s.submit(|| ran.store(true, SeqCst));
            poll_until("the blocker to run", || blocker.running());
            assert!(queued.cancel());
            gate.set();
        });
        assert!(!ran.load(SeqCst), "a cancelled scoped task ran");

        pool.shutdown(true, false);
        let refused = at_once("a scope on a shut-down pool", || {
            pool.scope(|s| s.submit(|| 1).result().cloned())
        });
        assert_eq!(refused, Err(FutureError::Shutdown));
    });
}

/// Issue 14 (1): a scoped task cancelled while queued is dropped, unrun, by the worker that
/// reaches it; its captures borrow the caller's heap, so they must be dropped before `scope`
/// returns. Dropping them after (the token first) let the caller free the box while the
/// captures' `Drop` still wrote to it: Miri reports the use-after-free, and natively the flag
/// is still unset when `scope` returns. The `Drop` yields first, so an early return has the time
/// to happen. Small enough for Miri.
#[test]
fn scope_drops_a_cancelled_tasks_captures_before_returning() {
    struct SetOnDrop<'a>(&'a AtomicBool);
    impl Drop for SetOnDrop<'_> {
        fn drop(&mut self) {
            for _ in 0..50 {
                thread::yield_now();
            }
            self.0.store(true, SeqCst);
        }
    }
    with_watchdog(|| {
        let pool = ThreadPoolExecutor::new(1);
        let dropped = Box::new(AtomicBool::new(false));
        let gate = Event::new();
        pool.scope(|s| {
            let blocker = s.submit(|| hold(&gate));
            let captured = SetOnDrop(&dropped);
            let queued = s.submit(move || drop(captured));
            poll_until("the blocker to run", || blocker.running());
            assert!(queued.cancel());
            gate.set();
        });
        let seen = dropped.load(SeqCst);
        drop(dropped);
        assert!(
            seen,
            "scope returned before the cancelled task's captures were dropped"
        );
    });
}

/// Issue 14 (8), EXE-12: two threads calling `shutdown(wait = true)` at once both return only
/// once the running task is done and the worker has exited (the second used to return at once,
/// finding the join list already taken by the first).
#[test]
fn exe12_every_concurrent_shutdown_waits() {
    let pool = Arc::new(named_pool(1, "exe12both"));
    let release = gate();
    let rel = Arc::clone(&release);
    let task = pool.submit(move || hold(&rel));
    poll_until("the task to run", || task.running());
    let shutdowns = start_blocked((0..2).map(|_| {
        let (p, t) = (Arc::clone(&pool), task.clone());
        move || {
            p.shutdown(true, false);
            t.done()
        }
    }));
    assert_blocked(&shutdowns, "a shutdown(wait = true) with a task running");
    release.set();
    for h in shutdowns {
        assert!(join_within(h), "shutdown returned before the task was done");
    }
    assert_eq!(pool_threads("exe12both"), Vec::<String>::new());
}

/// Issue 14 (8), EXE-12: `shutdown(wait = true)` from inside a task waits for the other
/// workers but not for its own; two tasks doing so at once do not wait for each other; a
/// shutdown from outside still waits for those tasks to end.
#[test]
fn exe12_shutdown_from_two_tasks_at_once_does_not_deadlock() {
    with_watchdog(|| {
        let pool = Arc::new(named_pool(3, "exe12inside"));
        let (both_in, release) = (barrier(2), gate());
        let slow = {
            let rel = Arc::clone(&release);
            pool.submit(move || hold(&rel))
        };
        let inside: Vec<_> = (0..2)
            .map(|_| {
                let (p, b, s) = (Arc::clone(&pool), Arc::clone(&both_in), slow.clone());
                pool.submit(move || {
                    b.wait().unwrap();
                    p.shutdown(true, false);
                    s.done()
                })
            })
            .collect();
        let p = Arc::clone(&pool);
        let outside = start_blocked([move || p.shutdown(true, false)]);
        assert_blocked(&outside, "shutdown(wait = true) with tasks running");
        assert!(
            inside.iter().all(|f| !f.done()),
            "an inner shutdown did not wait"
        );
        release.set();
        for f in &inside {
            assert_eq!(f.result_timeout(DEADLINE), Ok(&true));
        }
        join_within(outside.into_iter().next().unwrap());
        assert_eq!(pool_threads("exe12inside"), Vec::<String>::new());
    });
}

/// The error a fallible task returns in these tests: a type of the user's own.
#[derive(Debug, Clone, PartialEq)]
struct Overdrawn {
    by: u32,
}

impl std::fmt::Display for Overdrawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "overdrawn by {}", self.by)
    }
}

impl std::error::Error for Overdrawn {}

/// `submit_fallible` flattens a task's `Result` as Python's future of a raising task: the `Err`
/// is the future's exception — in `exception()`, downcastable to the task's own type, ending
/// `wait(FirstException)` while another task is still held, first out of `as_completed` — and
/// the `Ok` is its result. `submit` of the same task still gives a `Future<Result<..>>`.
#[test]
fn submit_fallible_err_is_the_futures_exception() {
    let pool = ThreadPoolExecutor::new(3);
    let release = gate();
    let held = {
        let release = Arc::clone(&release);
        pool.submit_fallible(move || -> Result<u32, Overdrawn> {
            hold(&release);
            Ok(1)
        })
    };
    let failed = pool.submit_fallible(|| -> Result<u32, Overdrawn> { Err(Overdrawn { by: 7 }) });

    let (done, not_done) = wait([&held, &failed], Some(DEADLINE), ReturnWhen::FirstException);
    assert_eq!((done, not_done), (vec![&failed], vec![&held]));
    let err = failed.exception().expect("the Err is the exception");
    assert!(err.is_exception());
    assert_eq!(err.downcast_ref::<Overdrawn>(), Some(&Overdrawn { by: 7 }));
    assert_eq!(err.to_string(), "overdrawn by 7");
    assert_eq!(failed.result().unwrap_err(), err);
    assert!(matches!(err, FutureError::Exception(_)));

    let mut it = gilfree::futures::as_completed([held.clone(), failed.clone()], Some(DEADLINE));
    let first = it.next().unwrap().unwrap();
    assert!(
        first
            .exception()
            .unwrap()
            .downcast_ref::<Overdrawn>()
            .is_some()
    );
    release.set();
    assert_eq!(it.next().unwrap().unwrap().result(), Ok(&1));
    assert_eq!(held.into_result(), Ok(1));

    let plain = pool.submit(|| -> Result<u32, Overdrawn> { Err(Overdrawn { by: 2 }) });
    assert_eq!(
        plain.result_timeout(DEADLINE),
        Ok(&Err(Overdrawn { by: 2 }))
    );
    assert_eq!(plain.exception(), None);
}

/// A fallible task that panics is `Panicked` as any task; after shutdown it is `Shutdown`.
#[test]
fn submit_fallible_panic_and_shutdown() {
    let pool = ThreadPoolExecutor::new(1);
    let fut = pool.submit_fallible(|| -> Result<u8, Overdrawn> { panic!("no funds") });
    assert_eq!(panicked(fut.result_timeout(DEADLINE)), "no funds");
    assert_eq!(fut.exception().unwrap().downcast_ref::<Overdrawn>(), None);
    pool.shutdown(true, false);
    let late = pool.submit_fallible(|| -> Result<u8, Overdrawn> { Ok(1) });
    assert_eq!(late.result(), Err(FutureError::Shutdown));
}

/// `Scope::submit_fallible`: a borrowing task's `Err` is its future's exception.
#[test]
fn scope_submit_fallible_err_is_the_futures_exception() {
    let pool = ThreadPoolExecutor::new(2);
    let balances = [5u32, 0];
    pool.scope(|s| {
        let futs: Vec<_> = balances
            .iter()
            .map(|b| {
                s.submit_fallible(move || b.checked_sub(3).ok_or_else(|| Overdrawn { by: 3 - *b }))
            })
            .collect();
        assert_eq!(futs[0].result_timeout(DEADLINE), Ok(&2));
        let err = futs[1].exception_timeout(DEADLINE).unwrap();
        assert_eq!(err.downcast_ref::<Overdrawn>(), Some(&Overdrawn { by: 3 }));
    });
}

/// `map_fallible`: an item's `Err` comes out at its position as the task's exception, the
/// tasks queued after it are cancelled, and the iteration ends, as for a panic in `map`. One
/// worker: item 2 holds it until the iteration has ended, so item 3 is still queued then.
#[test]
fn map_fallible_err_ends_the_iteration() {
    let pool = ThreadPoolExecutor::new(1);
    let later = gate();
    let ran = Arc::new(AtomicUsize::new(0));
    let (counted, held) = (Arc::clone(&ran), Arc::clone(&later));
    let mut it = pool.map_fallible(
        move |n: u32| {
            counted.fetch_add(1, SeqCst);
            match n {
                1 => Err(Overdrawn { by: n }),
                2 => {
                    hold(&held);
                    Ok(20)
                }
                _ => Ok(n * 10),
            }
        },
        0..4,
    );
    assert_eq!(it.next(), Some(Ok(0)));
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(err.downcast_ref::<Overdrawn>(), Some(&Overdrawn { by: 1 }));
    assert_eq!(it.next(), None);
    later.set();
    pool.shutdown(true, false);
    assert_eq!(ran.load(SeqCst), 3, "item 3 was cancelled, never run");
}
