//! Hand-polling helpers for the async tests: a waker that counts its wake-ups, and one poll of
//! a future with a given waker (to put a task in a queue, or to check it was woken, without an
//! executor in the way).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wake-ups.
pub(crate) struct Flag(AtomicUsize);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A counting waker, and the count to look at.
pub(crate) fn flag() -> (Arc<Flag>, Waker) {
    let f = Arc::new(Flag(AtomicUsize::new(0)));
    (Arc::clone(&f), Waker::from(f))
}

/// Whether `f` was woken at least once.
pub(crate) fn woken(f: &Flag) -> bool {
    wakes(f) > 0
}

/// How many times `f` was woken.
pub(crate) fn wakes(f: &Flag) -> usize {
    f.0.load(Ordering::SeqCst)
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}
