//! Integration tests for `Event` (SEMANTICS.md §5: EVT-*).
//!
//! EVT-5's negative timeout cannot be written (a `Duration` is never negative); its closest
//! value, `Duration::ZERO`, is tested under EVT-3. EVT-6 (repr, `isSet`, fork) is Python-only;
//! the Debug output is checked instead.

mod common;

use common::*;
use gilfree::Event;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Lead time for [`start_blocked_after`] in [`start_waiters`]: waiters get 150 ms plus 10 ms
/// each to block.
const WAITER_LEAD: Duration = Duration::from_millis(150);

static_assertions::assert_impl_all!(Event: Send, Sync, std::fmt::Debug, Default);

/// Starts `n` threads that each announce themselves, then run `wait` on the event
/// ([`start_blocked_after`]); returns once all have announced themselves and had time to block.
fn start_waiters<R: Send + 'static>(
    ev: &Arc<Event>,
    n: usize,
    wait: impl Fn(&Event) -> R + Send + Sync + Copy + 'static,
) -> Vec<JoinHandle<R>> {
    start_blocked_after(
        WAITER_LEAD,
        (0..n).map(|_| {
            let ev = Arc::clone(ev);
            move || wait(&ev)
        }),
    )
}

/// EVT-1: the flag starts unset; `set` and `clear` are idempotent.
#[test]
fn evt1_flag_and_idempotence() {
    let ev = Event::new();
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.is_set());

    assert!(!Event::default().is_set());
}

/// EVT-1, EVT-6: Debug shows whether the flag is set.
#[test]
fn evt1_debug_shows_flag() {
    let ev = Event::new();
    let s = format!("{ev:?}");
    assert!(s.contains("Event") && s.contains("false"), "{s}");
    ev.set();
    let s = format!("{ev:?}");
    assert!(s.contains("true"), "{s}");
}

/// EVT-2: `set` wakes every waiter (5 of them); later waits return at once; and it all works
/// again after `set(); clear()`.
#[test]
fn evt2_set_wakes_all_waiters_repeatedly() {
    let ev = Arc::new(Event::new());
    for round in 0..3 {
        let waiters = start_waiters(&ev, 5, |ev| ev.wait());
        let timed = start_waiters(&ev, 5, |ev| ev.wait_timeout(DEADLINE * 6));
        assert!(
            waiters.iter().all(|h| !h.is_finished()) && timed.iter().all(|h| !h.is_finished()),
            "a waiter returned before set() in round {round}"
        );
        ev.set();
        for h in waiters {
            join_within(h);
        }
        for h in timed {
            assert!(join_within(h), "wait_timeout returned false after set()");
        }
        // Already set: waits return at once.
        let start = Instant::now();
        ev.wait();
        assert!(ev.wait_timeout(DEADLINE));
        assert!(ev.wait_timeout(Duration::ZERO));
        assert!(
            start.elapsed() < AT_ONCE,
            "waits on a set event took {:?}",
            start.elapsed()
        );
        ev.clear();
        assert!(!ev.is_set());
    }
}

/// EVT-2: everything written before `set()` is visible to a thread whose wait returned.
#[test]
fn evt2_set_publishes_earlier_writes() {
    for _ in 0..50 {
        let ev = Arc::new(Event::new());
        let data = Arc::new(AtomicUsize::new(0));
        let h = {
            let (ev, data) = (Arc::clone(&ev), Arc::clone(&data));
            thread::spawn(move || {
                assert!(ev.wait_timeout(DEADLINE));
                data.load(Ordering::Relaxed)
            })
        };
        data.store(42, Ordering::Relaxed);
        ev.set();
        assert_eq!(join_within(h), 42);
    }
}

/// EVT-3, EVT-5: `wait_timeout(ZERO)` on an unset event returns false at once;
/// `wait_timeout(t)` returns false after about t; both return true once set.
#[test]
fn evt3_wait_timeout_on_unset_event() {
    let ev = Event::new();
    let start = Instant::now();
    assert!(!ev.wait_timeout(Duration::ZERO));
    assert!(
        start.elapsed() < AT_ONCE,
        "a zero timeout waited {:?}",
        start.elapsed()
    );

    let start = Instant::now();
    assert!(!ev.wait_timeout(T));
    assert_timeout(start.elapsed(), T);
    assert!(!ev.is_set());

    ev.set();
    let start = Instant::now();
    assert!(ev.wait_timeout(Duration::ZERO));
    assert!(ev.wait_timeout(DEADLINE));
    assert!(
        start.elapsed() < AT_ONCE,
        "waits on a set event took {:?}",
        start.elapsed()
    );
}

/// EVT-3, EVT-5: `wait_timeout` returns true as soon as another thread sets the event, long
/// before its timeout.
#[test]
fn evt3_wait_timeout_woken_by_set() {
    let ev = Arc::new(Event::new());
    let h = start_waiters(&ev, 1, |ev| {
        let start = Instant::now();
        (ev.wait_timeout(Duration::from_secs(60)), start.elapsed())
    })
    .pop()
    .unwrap();
    assert!(!h.is_finished());
    ev.set();
    let (woken, elapsed) = join_within(h);
    assert!(woken);
    assert!(elapsed < DEADLINE);
}

/// EVT-4: `set()` immediately followed by `clear()` still wakes every thread that was already
/// waiting, and their waits report true (gh-57711).
#[test]
fn evt4_set_then_clear_wakes_waiters() {
    let ev = Arc::new(Event::new());
    for _ in 0..3 {
        let timed = start_waiters(&ev, 5, |ev| ev.wait_timeout(DEADLINE * 3));
        let untimed = start_waiters(&ev, 2, |ev| ev.wait());
        assert!(timed.iter().all(|h| !h.is_finished()));
        assert!(untimed.iter().all(|h| !h.is_finished()));
        ev.set();
        ev.clear();
        for h in timed {
            assert!(
                join_within(h),
                "a waiter missed a set() followed by clear()"
            );
        }
        for h in untimed {
            join_within(h);
        }
        assert!(!ev.is_set());
    }
}

/// EVT-5: `Duration::MAX` on a set event returns true at once; on an unset one it waits like
/// `wait()` (no overflow) until set.
#[test]
fn evt5_duration_max() {
    let ev = Arc::new(Event::new());
    ev.set();
    let start = Instant::now();
    assert!(ev.wait_timeout(Duration::MAX));
    assert!(start.elapsed() < AT_ONCE, "took {:?}", start.elapsed());

    ev.clear();
    let h = start_waiters(&ev, 1, |ev| ev.wait_timeout(Duration::MAX))
        .pop()
        .unwrap();
    assert!(
        !h.is_finished(),
        "wait_timeout(MAX) returned on an unset event"
    );
    ev.set();
    assert!(join_within(h));
}

/// EVT-2, EVT-4: stress: many rounds in which waiters start while `set()` runs; every wait
/// that began before the `set()` of its round returns true, and nothing hangs.
#[test]
fn evt_stress_rounds_of_set_and_clear() {
    const WAITERS: usize = 4;
    const ROUNDS: usize = 300;
    let ev = Arc::new(Event::new());
    let gate = Arc::new(std::sync::Barrier::new(WAITERS + 1));
    let handles: Vec<_> = (0..WAITERS)
        .map(|_| {
            let (ev, gate) = (Arc::clone(&ev), Arc::clone(&gate));
            thread::spawn(move || {
                let mut woken = 0;
                for _ in 0..ROUNDS {
                    gate.wait(); // the event is clear
                    if ev.wait_timeout(DEADLINE) {
                        woken += 1;
                    }
                    gate.wait(); // everyone has passed this round's set()
                }
                woken
            })
        })
        .collect();
    for _ in 0..ROUNDS {
        gate.wait();
        ev.set();
        gate.wait();
        ev.clear();
    }
    for h in handles {
        assert_eq!(join_within(h), ROUNDS);
    }
}

/// EVT-2, EVT-3, EVT-4: chaotic stress: waiters with short timeouts race a thread toggling the
/// flag; a timed-out wait took at least 0.6 t, and after a final `set()` every waiter returns.
#[test]
fn evt_stress_toggling_with_timed_waiters() {
    const WAITERS: usize = 4;
    let ev = Arc::new(Event::new());
    let stop = Arc::new(AtomicBool::new(false));
    let toggler = {
        let (ev, stop) = (Arc::clone(&ev), Arc::clone(&stop));
        thread::spawn(move || {
            for toggle in 0..2_000 {
                ev.set();
                if toggle % 10 == 0 {
                    thread::yield_now();
                }
                ev.clear();
            }
            stop.store(true, Ordering::SeqCst);
            ev.set();
        })
    };
    let t = Duration::from_millis(2);
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let (ev, stop) = (Arc::clone(&ev), Arc::clone(&stop));
            thread::spawn(move || {
                let mut woken = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    let start = Instant::now();
                    if ev.wait_timeout(t) {
                        woken += 1;
                    } else {
                        assert!(start.elapsed() >= t.mul_f64(0.6), "early timeout");
                    }
                }
                // The toggler ends with the flag set.
                ev.wait();
                woken
            })
        })
        .collect();
    join_within(toggler);
    for h in waiters {
        join_within(h);
    }
    assert!(ev.is_set());
}
