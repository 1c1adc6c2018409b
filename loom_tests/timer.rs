//! Models of `Timer`: cancel racing the firing.

use crate::check_with_timeouts;
use gilfree::__loom::model;
use gilfree::__loom::threading::Timer;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// TMR-3: cancel races the timer's interval running out (the timeout fires at every point
/// loom can put it). The function runs at most once, and never when `cancel()` returned true.
#[test]
fn cancel_races_the_firing() {
    check_with_timeouts(3, || {
        let runs = Arc::new(AtomicUsize::new(0));
        let timer = Timer::start(Duration::from_millis(5), {
            let runs = Arc::clone(&runs);
            move || {
                runs.fetch_add(1, Ordering::Relaxed);
            }
        });
        let cancelled = timer.cancel();
        timer.join().unwrap();
        let ran = runs.load(Ordering::Relaxed);
        if cancelled {
            assert_eq!(ran, 0, "ran after cancel() returned true");
        } else {
            assert_eq!(ran, 1, "neither cancelled nor run exactly once");
        }
    });
}

/// TMR-3: with a timeout that never fires, only the cancel can end the timer: it always wins,
/// and the timer thread, asleep or not yet asleep, is woken (no lost wake-up).
#[test]
fn cancel_wakes_a_sleeping_timer() {
    model(|| {
        let timer = Timer::start(Duration::from_secs(60), || panic!("fired"));
        assert!(timer.cancel());
        assert!(!timer.cancel());
        timer.join().unwrap();
        // `finished` after cancel (TMR-4).
    });
}
