//! Models of `Event`: set, clear and wait racing each other.

use crate::check_bounded;
use gilfree::__loom::threading::Event;
use gilfree::__loom::{model, model_with_timeouts};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::time::Duration;

/// EVT-1, EVT-2: a waiter and a setter. Whether the waiter checks the flag before or after
/// the `set()`, or is on its way to sleep, it returns and sees the flag: a `set()` that found
/// it between its check and its sleep would be lost (deadlock).
#[test]
fn set_wakes_a_waiter() {
    model(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = Arc::clone(&event);
            thread::spawn(move || {
                event.wait();
                assert!(event.is_set());
            })
        };
        event.set();
        waiter.join().unwrap();
        assert!(event.is_set());
    });
}

/// EVT-2: `set()` wakes every waiter, not one.
#[test]
fn set_wakes_every_waiter() {
    check_bounded(4, || {
        let event = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let event = Arc::clone(&event);
                thread::spawn(move || event.wait())
            })
            .collect();
        event.set();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

/// EVT-4: the setter only ever sets the flag and clears it again at once, round after round,
/// until the waiter is out. A waiter that is asleep during a `set()` must wake even though the
/// flag is clear again by the time it runs; if it went back to sleep because the flag is
/// clear, it would never get out and loom would fail the model (it runs out of branches).
#[test]
fn set_then_clear_still_wakes_the_waiter() {
    model(|| {
        let event = Arc::new(Event::new());
        let out = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (event, out) = (Arc::clone(&event), Arc::clone(&out));
            thread::spawn(move || {
                event.wait();
                out.store(true, Ordering::Release);
            })
        };
        while !out.load(Ordering::Acquire) {
            event.set();
            event.clear();
            thread::yield_now();
        }
        waiter.join().unwrap();
        assert!(!event.is_set());
    });
}

/// EVT-3, EVT-5 (timeouts fire): `wait_timeout` races `set()`. It reports `true` only after
/// the `set()` began (never out of thin air), and it always reports `true` when the `set()`
/// had finished before the wait started. (The setter is the spawned thread: with the setter on
/// the main thread, the facade never lets the wait time out first — see
/// `timeouts_mode_explores_a_timeout_before_set`.)
#[test]
fn wait_timeout_races_set() {
    model_with_timeouts(|| {
        let event = Arc::new(Event::new());
        let setting = Arc::new(AtomicBool::new(false));
        let set_done = Arc::new(AtomicBool::new(false));
        let setter = {
            let (event, setting, set_done) = (
                Arc::clone(&event),
                Arc::clone(&setting),
                Arc::clone(&set_done),
            );
            thread::spawn(move || {
                setting.store(true, Ordering::Relaxed);
                event.set();
                set_done.store(true, Ordering::Release);
            })
        };
        let set_before = set_done.load(Ordering::Acquire);
        let woke = event.wait_timeout(Duration::from_secs(1));
        if set_before {
            assert!(woke, "EVT-5: the flag was set before the wait began");
        }
        if woke {
            assert!(setting.load(Ordering::Relaxed), "woken without a set()");
        }
        setter.join().unwrap();
        assert!(event.is_set());
    });
}

/// EVT-3 (timeouts fire) — a check of the loom facade itself, whose docs promise that
/// `model_with_timeouts` "explores each notify-versus-timeout interleaving". In the smallest
/// race (a spawned waiter's `wait_timeout` against the main thread's `set()`), both outcomes
/// are possible on real hardware: the wait times out before the `set()` (`false`), or sees it
/// (`true`). Both must occur among the explored executions.
///
/// Fails today: the timed wait in `src/rt/loom.rs` gives up its mutex and calls
/// `loom::thread::yield_now()`, which hands the processor to the setter; loom preempts the
/// setter just before its first conflicting operation (the `fetch_or` in `set()`), so that
/// operation is always the one the yield lets through, and the timeout never fires first.
#[test]
fn timeouts_mode_explores_a_timeout_before_set() {
    static TIMED_OUT: StdAtomicUsize = StdAtomicUsize::new(0);
    static WOKEN: StdAtomicUsize = StdAtomicUsize::new(0);
    model_with_timeouts(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = Arc::clone(&event);
            thread::spawn(move || event.wait_timeout(Duration::from_secs(1)))
        };
        event.set();
        let outcome = if waiter.join().unwrap() {
            &WOKEN
        } else {
            &TIMED_OUT
        };
        outcome.fetch_add(1, StdOrdering::Relaxed);
    });
    let (woken, timed_out) = (
        WOKEN.load(StdOrdering::Relaxed),
        TIMED_OUT.load(StdOrdering::Relaxed),
    );
    assert!(woken > 0, "no execution saw the set()");
    assert!(
        timed_out > 0,
        "model_with_timeouts explored {woken} executions, none in which the wait timed out \
         before the set()"
    );
}

/// AEVT-4: a task queued in `wait_async` (polled once by hand) is then driven by `block_on`
/// (a new waker swapped in, racing the wake-up) while `set()` and `clear()` follow each other
/// at once: the `set()` itself releases it, though the flag may be down again by the time it
/// runs (a re-read of the flag would leave it waiting: deadlock).
#[test]
fn set_then_clear_releases_a_task_waiter() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};
    check_bounded(3, || {
        let event = Arc::new(Event::new());
        let queued = Arc::new(AtomicBool::new(false));
        let task = {
            let (event, queued) = (Arc::clone(&event), Arc::clone(&queued));
            thread::spawn(move || {
                let mut wait = pin!(event.wait_async());
                let first = wait.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                assert!(first.is_pending(), "the flag is down until queued is seen");
                queued.store(true, Ordering::Release);
                gilfree::__loom::block_on(wait);
            })
        };
        while !queued.load(Ordering::Acquire) {
            thread::yield_now();
        }
        event.set();
        event.clear();
        task.join().unwrap();
        assert!(!event.is_set());
    });
}
