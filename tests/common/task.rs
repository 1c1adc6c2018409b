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

/// A waker that runs user code before it wakes the executor's waker.
struct Touching {
    touch: Arc<dyn Fn() + Send + Sync>,
    inner: Waker,
}

impl Wake for Touching {
    fn wake(self: Arc<Self>) {
        (self.touch)();
        self.inner.wake_by_ref();
    }
}

/// `fut`, polled with a waker that calls `touch` before waking the task: user code in a
/// `Waker` that uses the object the task waits on (a query that takes its lock, say). The
/// library must never call a waker with its own lock held, or this deadlocks.
pub(crate) async fn touching<F: Future>(
    fut: F,
    touch: impl Fn() + Send + Sync + 'static,
) -> F::Output {
    let touch: Arc<dyn Fn() + Send + Sync> = Arc::new(touch);
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        let waker = Waker::from(Arc::new(Touching {
            touch: Arc::clone(&touch),
            inner: cx.waker().clone(),
        }));
        fut.as_mut().poll(&mut Context::from_waker(&waker))
    })
    .await
}

/// A `touch` for [`touching`] that runs `f` on `obj` while it lives (held weakly: a waker in
/// the object's own waiter list must not keep it alive).
pub(crate) fn using<T, F>(obj: &Arc<T>, f: F) -> impl Fn() + Send + Sync + 'static + use<T, F>
where
    T: Send + Sync + 'static,
    F: Fn(&T) + Send + Sync + 'static,
{
    let weak = Arc::downgrade(obj);
    move || {
        if let Some(obj) = weak.upgrade() {
            f(&obj);
        }
    }
}
