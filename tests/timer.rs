//! Integration tests for `gilfree::Timer` (SEMANTICS.md §8, TMR-1 … TMR-4).
//!
//! Not tested here, on purpose: TMR-2 (fresh default `args`/`kwargs` per Timer) is Python-only;
//! a Rust closure owns what it captures. "Cancel before start" and "start twice" (TMR-3, TMR-4)
//! cannot be written: `Timer::start` creates and starts in one step (a cancel right after the
//! start is tested instead).

mod common;

use common::*;
use gilfree::threading;
use gilfree::{Event, JoinError, Timer};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// TMR-1: the function runs once, on the timer's own thread, after about the interval.
#[test]
fn fires_once_after_the_interval_on_its_own_thread() {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let timer = Timer::start(T, move || {
        let me = threading::current_thread();
        tx.send((start.elapsed(), me.ident(), me.name())).unwrap();
    });
    let (elapsed, ident, name) = rx.recv_timeout(DEADLINE).unwrap();
    assert_timeout(elapsed, T);
    assert_eq!(ident, timer.handle().ident());
    assert_ne!(ident, threading::get_ident());
    assert_eq!(name, timer.name());
    assert!(timer.join_timeout(DEADLINE).unwrap());
    assert!(rx.try_recv().is_err(), "fired twice");
    assert!(timer.finished());
    timer.join().unwrap();
}

/// TMR-3: a cancel before the interval ends: the function never runs, and the thread ends
/// soon after (not after the interval). A second cancel has no effect.
#[test]
fn cancel_before_the_interval_stops_it() {
    let ran = Arc::new(AtomicUsize::new(0));
    let timer = Timer::start(LONG, {
        let ran = Arc::clone(&ran);
        move || {
            ran.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert!(timer.is_alive());
    assert!(!timer.finished());
    let start = Instant::now();
    assert!(timer.cancel(), "the first cancel stops it");
    assert!(!timer.cancel(), "the second has no effect");
    assert!(timer.finished());
    assert!(timer.join_timeout(DEADLINE).unwrap());
    assert!(start.elapsed() < DEADLINE);
    assert!(!timer.is_alive());
    timer.join().unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

/// TMR-3: a cancel after the timer fired returns false and changes nothing.
#[test]
fn cancel_after_firing_has_no_effect() {
    let fired = Arc::new(Event::new());
    let timer = Timer::start(Duration::from_millis(1), {
        let fired = Arc::clone(&fired);
        move || fired.set()
    });
    assert!(fired.wait_timeout(DEADLINE));
    assert!(!timer.cancel());
    assert!(timer.join_timeout(DEADLINE).unwrap());
    assert!(timer.finished());
    timer.join().unwrap();
}

/// TMR-3: the function is running when cancel is called: too late; cancel returns false at
/// once (it does not wait for the function) and the function completes.
#[test]
fn cancel_while_the_function_runs_is_too_late() {
    let (started_tx, started_rx) = mpsc::channel();
    let finish = Arc::new(Event::new());
    let timer = Timer::start(Duration::ZERO, {
        let finish = Arc::clone(&finish);
        move || {
            started_tx.send(()).unwrap();
            assert!(finish.wait_timeout(LONG));
        }
    });
    started_rx.recv_timeout(DEADLINE).unwrap();
    assert!(!timer.cancel());
    assert!(!timer.finished(), "still running its function");
    assert!(timer.is_alive());
    finish.set();
    timer.join().unwrap();
}

/// TMR-4: a Timer is a thread: `Thread-N` name, ident, listed while alive, joins.
#[test]
fn a_timer_is_a_thread() {
    let timer = Timer::start(LONG, || ());
    assert!(timer.name().starts_with("Thread-"), "{}", timer.name());
    assert_ne!(timer.handle().ident(), 0);
    assert!(timer.is_alive());
    assert!(threading::enumerate().contains(timer.handle()));
    assert!(
        format!("{timer:?}").starts_with("<Timer(Thread-"),
        "{timer:?}"
    );
    assert!(timer.cancel());
    let handle = timer.handle().clone();
    timer.join().unwrap();
    assert!(!handle.is_alive());
    assert!(!threading::enumerate().contains(&handle));
}

/// TMR-4: `Duration::ZERO` fires at once (Python's negative interval); `Duration::MAX` never
/// fires by itself (no overflow), and is cancelled.
#[test]
fn zero_fires_at_once_and_max_waits_forever() {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let now = Timer::start(Duration::ZERO, move || tx.send(()).unwrap());
    rx.recv_timeout(DEADLINE).unwrap();
    assert!(start.elapsed() < AT_ONCE);
    now.join().unwrap();

    let never = Timer::start(Duration::MAX, || panic!("Duration::MAX fired"));
    assert_eq!(never.join_timeout(T), Ok(false));
    assert!(never.cancel());
    never.join().unwrap();
}

/// A panicking function: the panic comes back from `join`; the timer counts as finished.
#[test]
fn a_panicking_function_comes_back_from_join() {
    let timer = Timer::start(Duration::ZERO, || panic!("timer went off badly"));
    assert!(timer.join_timeout(DEADLINE).unwrap());
    assert!(timer.finished());
    match timer.join() {
        Err(JoinError::Panicked { message, .. }) => assert_eq!(message, "timer went off badly"),
        other => panic!("expected the panic, got {other:?}"),
    }
}

/// TMR-3 under contention: cancel racing the firing. For each timer, the function ran exactly
/// once if cancel returned false, and never if it returned true.
#[test]
fn cancel_racing_the_firing_is_all_or_nothing() {
    let timers: Vec<(Timer, Arc<AtomicUsize>)> = (0..100)
        .map(|i| {
            let ran = Arc::new(AtomicUsize::new(0));
            let timer = Timer::start(Duration::from_micros(i * 20), {
                let ran = Arc::clone(&ran);
                move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                }
            });
            (timer, ran)
        })
        .collect();
    let mut cancelled = 0;
    for (timer, ran) in timers {
        let stopped = timer.cancel();
        timer.join().unwrap();
        let runs = ran.load(Ordering::SeqCst);
        assert_eq!(
            runs,
            usize::from(!stopped),
            "cancel returned {stopped}, ran {runs}"
        );
        cancelled += usize::from(stopped);
    }
    // Nothing to assert on the split itself: it depends on the scheduler.
    let _ = cancelled;
}
