//! Unit tests of the waiter list (`src/prims/waiters.rs`) on the native backend. They live
//! outside `src/prims/` because their wakers need std's `Arc` (`std::task::Wake`), which
//! `src/prims/` may not name; the loom models in `loom_tests/` drive the list through every
//! primitive built on it.

use super::prims::waiters::{BATCH, Place, WaitList, Woke};
use crate::rt::native as rt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::task::{Context, Poll, Wake, Waker};

struct Flag(AtomicBool, StdAtomicUsize);
impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, StdOrdering::SeqCst);
        self.1.fetch_add(1, StdOrdering::SeqCst);
    }
}

fn flag() -> (Arc<Flag>, Waker) {
    let f = Arc::new(Flag(AtomicBool::new(false), StdAtomicUsize::new(0)));
    (f.clone(), Waker::from(f))
}

#[test]
fn tasks_are_woken_in_fifo_order_and_keep_their_place_when_repolled() {
    rt::model(|| {
        let list = WaitList::new();
        let (fa, wa) = flag();
        let (fb, wb) = flag();
        let (mut a, mut b) = (Place::new(), Place::new());
        assert!(
            list.poll_wait(&mut a, &mut Context::from_waker(&wa), || true)
                .is_pending()
        );
        assert!(
            list.poll_wait(&mut b, &mut Context::from_waker(&wb), || true)
                .is_pending()
        );
        // `a` is polled again with `b`'s waker: it keeps its place, with the new waker.
        assert!(
            list.poll_wait(&mut a, &mut Context::from_waker(&wb), || true)
                .is_pending()
        );
        assert_eq!(list.len(), 2);
        assert!(list.notify_one());
        assert!(
            fb.0.load(StdOrdering::SeqCst),
            "the oldest (a) was woken, through b's waker"
        );
        assert!(!fa.0.load(StdOrdering::SeqCst));
        assert_eq!(
            list.poll_wait(&mut a, &mut Context::from_waker(&wa), || true),
            Poll::Ready(Woke::Notified)
        );
        list.cancel(&mut b);
        assert_eq!(list.len(), 0);
    });
}

#[test]
fn a_cancelled_waiter_passes_its_unseen_wake_up_on() {
    rt::model(|| {
        let list = WaitList::new();
        let (_fa, wa) = flag();
        let (fb, wb) = flag();
        let (mut a, mut b) = (Place::new(), Place::new());
        let _ = list.poll_wait(&mut a, &mut Context::from_waker(&wa), || true);
        let _ = list.poll_wait(&mut b, &mut Context::from_waker(&wb), || true);
        list.notify_one(); // a is woken, but dropped before it is polled
        list.cancel(&mut a);
        assert!(fb.0.load(StdOrdering::SeqCst), "the wake-up passed to b");
        // A waiter cancelled before any wake-up passes nothing on.
        let (fc, wc) = flag();
        let mut c = Place::new();
        let _ = list.poll_wait(&mut c, &mut Context::from_waker(&wc), || true);
        let mut d = Place::new();
        let (fd, wd) = flag();
        let _ = list.poll_wait(&mut d, &mut Context::from_waker(&wd), || true);
        list.cancel(&mut c);
        assert!(!fc.0.load(StdOrdering::SeqCst) && !fd.0.load(StdOrdering::SeqCst));
        assert_eq!(list.len(), 1); // d: b was woken (its entry is gone), c left
    });
}

#[test]
fn a_woken_waiter_that_queues_again_goes_back_to_its_place() {
    rt::model(|| {
        let list = WaitList::new();
        let wakers: Vec<_> = (0..3).map(|_| flag()).collect();
        let mut places: Vec<_> = (0..3).map(|_| Place::new()).collect();
        for (place, (_, w)) in places.iter_mut().zip(&wakers) {
            let _ = list.poll_wait(place, &mut Context::from_waker(w), || true);
        }
        list.notify_one();
        let cx0 = &mut Context::from_waker(&wakers[0].1);
        assert_eq!(
            list.poll_wait(&mut places[0], cx0, || true),
            Poll::Ready(Woke::Notified)
        );
        // It lost the race for the resource: it queues again, ahead of 1 and 2.
        assert!(list.poll_wait(&mut places[0], cx0, || true).is_pending());
        list.notify_one();
        assert_eq!(wakers[0].0.1.load(StdOrdering::SeqCst), 2);
        assert_eq!(wakers[1].0.1.load(StdOrdering::SeqCst), 0);
        for place in &mut places {
            list.cancel(place);
        }
    });
}

#[test]
fn notify_wakes_only_waiters_queued_before_it_began_and_batches_beyond_the_limit() {
    rt::model(|| {
        let list = WaitList::new();
        let wakers: Vec<_> = (0..BATCH * 2 + 3).map(|_| flag()).collect();
        let mut places: Vec<_> = wakers.iter().map(|_| Place::new()).collect();
        for (place, (_, w)) in places.iter_mut().zip(&wakers) {
            let _ = list.poll_wait(place, &mut Context::from_waker(w), || true);
        }
        assert_eq!(list.notify_all(), BATCH * 2 + 3);
        assert!(
            wakers
                .iter()
                .all(|(f, _)| f.1.load(StdOrdering::SeqCst) == 1)
        );
        assert_eq!(list.len(), 0);
        assert_eq!(list.notify(0), 0);
    });
}

#[test]
fn a_thread_is_woken_from_another_thread_and_not_blocked_returns_at_once() {
    rt::model(|| {
        let list = Arc::new(WaitList::new());
        let mut place = Place::new();
        assert_eq!(list.wait(&mut place, || false, None), Woke::NotBlocked);
        let notifier = {
            let list = Arc::clone(&list);
            std::thread::spawn(move || {
                while !list.notify_one() {
                    std::thread::yield_now();
                }
            })
        };
        assert_eq!(list.wait(&mut place, || true, None), Woke::Notified);
        notifier.join().unwrap();
        assert_eq!(list.len(), 0);
    });
}
