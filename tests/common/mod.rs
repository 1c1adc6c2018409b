//! Helpers shared by the integration tests (`mod common;` in each test file).
//!
//! The timing checks follow CPython's `test.lock_tests`: a wait of `t` must take at least
//! `0.6 * t` and less than `10 * t` ([`assert_timeout`]). Sleeps are never used as
//! synchronisation: a test that sleeps to let threads block ([`let_threads_block`],
//! [`start_blocked`]) then asserts only on observable state, and every "until it happens" wait
//! polls that state with a bound ([`poll_until`], [`join_within`], [`with_watchdog`]), so a bug
//! fails the test instead of hanging it.

// Each test binary compiles its own copy of this module and uses only a subset of it.
#![allow(dead_code)]

pub(crate) mod task;

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The wait used for timing assertions (CPython's tests use 0.5 s; this is faster). CPython's
/// bounds apply: a wait of `T` takes at least `0.6 * T` and less than `10 * T`.
pub(crate) const T: Duration = Duration::from_millis(100);

/// Upper bound for anything that should happen "soon"; reaching it means a hang.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// Generous bound for a call that must not block (the machine may be loaded).
pub(crate) const AT_ONCE: Duration = Duration::from_secs(1);

/// A timeout long enough to mean "forever" in a test, but that still ends a hung test.
pub(crate) const LONG: Duration = Duration::from_secs(30);

/// How long a watchdog ([`with_watchdog`]) lets a test body run before calling it a deadlock.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Time given to each thread that is to block ([`let_threads_block`]).
const BLOCK_PER_THREAD: Duration = Duration::from_millis(10);

/// Lead time for [`let_threads_block_after`] (and [`start_blocked`]): threads get 20 ms plus
/// 10 ms each to block.
pub(crate) const BLOCK_LEAD: Duration = Duration::from_millis(20);

/// CPython's `assertTimeout`: a wait of `t` takes at least `0.6 * t` and less than `10 * t`.
pub(crate) fn assert_timeout(elapsed: Duration, t: Duration) {
    assert!(
        elapsed >= t.mul_f64(0.6),
        "waited {elapsed:?}, expected at least 0.6 * {t:?}"
    );
    assert!(
        elapsed < t * 10,
        "waited {elapsed:?}, expected less than 10 * {t:?}"
    );
}

/// Polls `done` every millisecond until it is true; panics after [`DEADLINE`] (10 s).
pub(crate) fn poll_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// CPython's `wait_threads_blocked`: gives `n` threads that are known to be about to block
/// (or to misbehave) the time to do so, sleeping `10 ms * max(n, 5)`. Not used as
/// synchronisation: callers then assert on observable state, never on the sleep itself.
pub(crate) fn let_threads_block(n: u32) {
    let_threads_block_after(Duration::ZERO, n.max(5));
}

/// [`let_threads_block`] with a fixed lead time and no floor: sleeps `lead + 10 ms * n`. Not
/// used as synchronisation either: callers then assert on observable state.
pub(crate) fn let_threads_block_after(lead: Duration, n: u32) {
    thread::sleep(lead + BLOCK_PER_THREAD * n);
}

/// Starts one thread per closure, each announcing itself before it runs; returns once all have
/// started and had time to block ([`BLOCK_LEAD`] plus 10 ms each).
pub(crate) fn start_blocked<R, F>(fs: impl IntoIterator<Item = F>) -> Vec<JoinHandle<R>>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    start_blocked_after(BLOCK_LEAD, fs)
}

/// [`start_blocked`] with another lead time: the threads get `lead` plus 10 ms each to block.
pub(crate) fn start_blocked_after<R, F>(
    lead: Duration,
    fs: impl IntoIterator<Item = F>,
) -> Vec<JoinHandle<R>>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let started = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = fs
        .into_iter()
        .map(|f| {
            let started = Arc::clone(&started);
            thread::spawn(move || {
                started.fetch_add(1, SeqCst);
                f()
            })
        })
        .collect();
    let n = handles.len();
    poll_until("all threads to start", || started.load(SeqCst) == n);
    let_threads_block_after(lead, n as u32);
    handles
}

/// Asserts that none of `handles` has returned.
pub(crate) fn assert_blocked<R>(handles: &[JoinHandle<R>], what: &str) {
    for h in handles {
        assert!(!h.is_finished(), "{what} returned instead of blocking");
    }
}

/// Runs `f`, asserting it returns without waiting (within [`AT_ONCE`]).
pub(crate) fn at_once<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    let elapsed = start.elapsed();
    assert!(
        elapsed < AT_ONCE,
        "{what} took {elapsed:?}, expected no wait"
    );
    r
}

/// Runs `body` on its own thread and fails (instead of hanging) if it does not finish in 60 s.
pub(crate) fn with_watchdog(body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        body();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(WATCHDOG) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(payload) = worker.join() {
                panic::resume_unwind(payload);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: the test did not finish in 60 s"),
    }
}

/// Joins `h`, failing (instead of hanging) if it does not finish within [`DEADLINE`]; a panic
/// on the thread is passed on.
pub(crate) fn join_within<R>(h: JoinHandle<R>) -> R {
    poll_until("a thread to finish", || h.is_finished());
    match h.join() {
        Ok(r) => r,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// Runs `f` on a new (scoped) thread and returns its result (for "what does a non-owner see").
pub(crate) fn on_other_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    thread::scope(|s| s.spawn(f).join().unwrap())
}

/// The text of a panic payload (`panic!` with a message gives a `String` or a `&str`).
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
