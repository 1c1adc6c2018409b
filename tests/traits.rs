//! Static checks of the auto traits the API promises (every primitive is `Send + Sync`; guards
//! of owned locks stay on their thread; data-carrying locks are only as shareable as their
//! data allows), plus runtime checks that the primitives really cross threads.

use gilfree::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, ConditionGuard, Deque, Empty, Event,
    Future, FutureError, FutureHandle, GetError, IndexError, InvalidStateError, JoinError,
    KeyError, LifoQueue, Lock, LockGuard, PriorityQueue, Promise, PutError, Queue, RLock,
    RLockGuard, RuntimeError, Semaphore, SemaphoreGuard, Set, ShutDown, SimpleQueue, Thread,
    ThreadBuilder, ThreadHandle, ThreadPoolExecutor, TimeoutError, Timer, ValueError,
};
use static_assertions::{assert_impl_all, assert_not_impl_any};
use std::cell::Cell;
use std::error::Error;
use std::rc::Rc;
use std::sync::Arc;
use std::thread;

// Every primitive can be shared between threads and moved to another thread.
assert_impl_all!(Lock<()>: Send, Sync);
assert_impl_all!(Lock<Vec<u8>>: Send, Sync);
assert_impl_all!(Lock<Cell<u8>>: Send, Sync); // T: Send is enough: one &mut T at a time
assert_impl_all!(RLock: Send, Sync);
assert_impl_all!(RLock<Vec<u8>>: Send, Sync);
assert_impl_all!(Condition: Send, Sync);
assert_impl_all!(Condition<Lock<i32>>: Send, Sync);
assert_impl_all!(Condition<Arc<Lock>>: Send, Sync);
assert_impl_all!(Condition<Arc<RLock>>: Send, Sync);
assert_impl_all!(Condition<&'static Lock>: Send, Sync);
assert_impl_all!(Condition<RLock>: Send, Sync);
assert_impl_all!(Semaphore: Send, Sync);
assert_impl_all!(BoundedSemaphore: Send, Sync);
assert_impl_all!(Event: Send, Sync);
assert_impl_all!(Barrier: Send, Sync);
// Thread handles cross threads (THR-9: joined from many threads at once).
assert_impl_all!(Thread<u8>: Send, Sync, std::fmt::Debug);
assert_impl_all!(Thread<Cell<u8>>: Send); // the value only moves to the joiner
assert_impl_all!(ThreadHandle: Send, Sync, Clone, Eq, std::hash::Hash, std::fmt::Debug);
assert_impl_all!(ThreadBuilder: Send, Sync, Clone, std::fmt::Debug);
assert_impl_all!(Timer: Send, Sync, std::fmt::Debug);
// Queues and collections are shared by reference (every method takes &self) …
assert_impl_all!(Queue<u8>: Send, Sync, std::fmt::Debug, Default);
assert_impl_all!(LifoQueue<String>: Send, Sync, std::fmt::Debug, Default);
assert_impl_all!(PriorityQueue<u8>: Send, Sync, std::fmt::Debug, Default);
assert_impl_all!(SimpleQueue<Vec<u8>>: Send, Sync, std::fmt::Debug, Default);
assert_impl_all!(Queue<Cell<u8>>: Send, Sync); // items only move, never shared
assert_impl_all!(Deque<u8>: Send, Sync, std::fmt::Debug, Default, Clone, PartialEq);
assert_impl_all!(Set<u8>: Send, Sync, std::fmt::Debug, Default, Clone, PartialEq);
// … but never carry what cannot cross threads.
assert_not_impl_any!(Queue<Rc<u8>>: Send, Sync);
assert_not_impl_any!(SimpleQueue<Rc<u8>>: Send, Sync);
assert_not_impl_any!(Deque<Rc<u8>>: Send, Sync);
assert_not_impl_any!(Set<Rc<u8>>: Send, Sync);
// Futures are shared handles; the pool is shared by reference (or Arc).
assert_impl_all!(Future<u8>: Send, Sync, Clone, Eq, std::hash::Hash, std::fmt::Debug);
assert_impl_all!(FutureHandle: Send, Sync, Clone, Eq, std::hash::Hash, std::fmt::Debug);
assert_impl_all!(Promise<String>: Send, Sync, std::fmt::Debug);
assert_impl_all!(ThreadPoolExecutor: Send, Sync, std::fmt::Debug, Default);
assert_not_impl_any!(ThreadPoolExecutor: Clone); // Drop shuts it down: one owner
assert_not_impl_any!(Future<Cell<u8>>: Send, Sync); // result() shares &T between threads
// A JoinError carries the panic payload in a PanicPayload, which makes it Sync too (issue 15).
assert_impl_all!(JoinError: Send, Sync, Error, From<RuntimeError>);

// All types implement Debug (missing_debug_implementations is a crate lint; check the public
// guards too).
assert_impl_all!(LockGuard<'static, ()>: std::fmt::Debug);
assert_impl_all!(RLockGuard<'static, ()>: std::fmt::Debug);
assert_impl_all!(ConditionGuard<'static>: std::fmt::Debug);
assert_impl_all!(SemaphoreGuard<'static>: std::fmt::Debug);

// A Lock is unowned (LOCK-13): its guard may be released on another thread.
assert_impl_all!(LockGuard<'static, ()>: Send, Sync);
assert_impl_all!(LockGuard<'static, Vec<u8>>: Send, Sync);
// … but a guard must not share a !Sync value between threads, nor move a !Send one.
assert_impl_all!(LockGuard<'static, Cell<u8>>: Send);
assert_not_impl_any!(LockGuard<'static, Cell<u8>>: Sync);
assert_not_impl_any!(LockGuard<'static, Rc<u8>>: Send, Sync);

// A lock around data that cannot cross threads cannot either.
assert_not_impl_any!(Lock<Rc<u8>>: Send, Sync);
assert_not_impl_any!(RLock<Rc<u8>>: Send, Sync);
assert_not_impl_any!(Condition<Lock<Rc<u8>>>: Send, Sync);

// An RLock level belongs to the thread that took it (RLOCK-3 becomes a compile error), and a
// condition guard may sit on an RLock, so both guards stay on their thread. Neither is Sync
// either: sharing `&RLockGuard<Cell<_>>` would put `&Cell` on two threads.
assert_not_impl_any!(RLockGuard<'static, ()>: Send, Sync);
assert_not_impl_any!(RLockGuard<'static, Cell<u8>>: Send, Sync);
assert_not_impl_any!(ConditionGuard<'static>: Send, Sync);
assert_not_impl_any!(ConditionGuard<'static, Arc<RLock>>: Send, Sync);
// Over a Lock (not owned) the guard is as a LockGuard: a task holding it may move between
// threads (wait_async), and it is Send only if the value is.
assert_impl_all!(ConditionGuard<'static, Lock<i32>>: Send, Sync);
assert_impl_all!(ConditionGuard<'static, Arc<Lock>>: Send, Sync);
assert_not_impl_any!(ConditionGuard<'static, Lock<Rc<u8>>>: Send, Sync);

// Errors fit `Box<dyn Error + Send + Sync + 'static>` and `?` in threaded code.
assert_impl_all!(RuntimeError: Send, Sync, Error, Clone, PartialEq);
assert_impl_all!(ValueError: Send, Sync, Error, Clone, PartialEq);
assert_impl_all!(BrokenBarrierError: Send, Sync, Error, Copy, PartialEq);
assert_impl_all!(RuntimeError: From<BrokenBarrierError>);
assert_impl_all!(Empty: Send, Sync, Error, Copy, PartialEq);
assert_impl_all!(GetError: Send, Sync, Error, Copy, PartialEq, From<Empty>, From<ShutDown>);
assert_impl_all!(ShutDown: Send, Sync, Error, Copy, PartialEq);
assert_impl_all!(ShutDown<String>: Send, Sync, Error, PartialEq);
assert_impl_all!(PutError<String>: Send, Sync, Error, PartialEq, From<ShutDown<String>>);
assert_impl_all!(IndexError: Send, Sync, Error, Copy, PartialEq);
assert_impl_all!(IndexError<String>: Send, Sync, Error);
assert_impl_all!(KeyError<u32>: Send, Sync, Error, Copy, PartialEq);
assert_impl_all!(FutureError: Send, Sync, Error, Clone, PartialEq);
assert_impl_all!(TimeoutError: Send, Sync, Error, Clone, PartialEq);
assert_impl_all!(InvalidStateError<u8>: Send, Sync, Error, Copy, PartialEq);
// The item inside an error need not be Debug (the error's Debug leaves it out).
assert_impl_all!(PutError<Cell<u8>>: Error);
assert_impl_all!(IndexError<Cell<u8>>: Error);

fn boxed<E: Error + Send + Sync + 'static>(e: E) -> Box<dyn Error + Send + Sync + 'static> {
    Box::new(e)
}

/// The errors box into `dyn Error + Send + Sync + 'static`, cross threads, and keep their
/// messages (LOCK-14, BSEM-1, BAR-15).
#[test]
fn errors_are_thread_safe_static_errors() {
    let runtime = Lock::new().release().unwrap_err();
    let value = BoundedSemaphore::new(1).release(1).unwrap_err();
    let broken = {
        let barrier = Barrier::new(2);
        barrier.abort();
        barrier.wait().unwrap_err()
    };
    let errors = [boxed(runtime), boxed(value), boxed(broken)];
    let messages: Vec<String> =
        thread::spawn(move || errors.iter().map(|e| e.to_string()).collect())
            .join()
            .unwrap();
    assert!(
        messages[0].contains("release unlocked lock"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("Semaphore released too many times"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("BrokenBarrierError"),
        "{}",
        messages[2]
    );

    let converted: RuntimeError = BrokenBarrierError.into();
    assert!(!converted.message().is_empty());
    let any: Box<dyn Error + Send + Sync> = boxed(BrokenBarrierError);
    assert!(any.downcast_ref::<BrokenBarrierError>().is_some());
}

/// LOCK-1, RLOCK-1, COND-1, SEM-2, EVT-1, BAR-3: each primitive is moved into another
/// thread, used there, and handed back (Send), and used from two threads at once through `&`
/// (Sync).
#[test]
fn primitives_cross_threads() {
    let lock = Lock::with_value(vec![1u8]);
    let rlock = RLock::with_value(2u8);
    let cond = Condition::with_value(3u8);
    let sem = Semaphore::new(1);
    let bsem = BoundedSemaphore::new(1);
    let event = Event::new();
    let barrier = Barrier::new(2);

    let (lock, rlock, cond, sem, bsem, event, barrier) = thread::spawn(move || {
        lock.acquire().push(10);
        assert_eq!(*rlock.acquire(), 2);
        *cond.acquire() += 1;
        drop(sem.acquire());
        drop(bsem.acquire());
        event.set();
        (lock, rlock, cond, sem, bsem, event, barrier)
    })
    .join()
    .unwrap();
    assert_eq!(*lock.acquire(), [1, 10]);
    assert_eq!(*cond.acquire(), 4);
    assert!(event.is_set());
    assert_eq!(sem.value(), 1);
    assert_eq!(bsem.value(), 1);

    thread::scope(|s| {
        let other = s.spawn(|| {
            let _g = rlock.acquire();
            barrier.wait().unwrap()
        });
        let mine = barrier.wait().unwrap();
        let theirs = other.join().unwrap();
        // BAR-3: the two parties get distinct indices 0 and 1.
        assert_eq!(mine + theirs, 1);
    });
    assert!(!rlock.locked());
}

/// LOCK-13: a `LockGuard<()>` acquired on one thread is released on another (it is `Send`).
#[test]
fn lock_guard_moves_to_another_thread() {
    let lock = Lock::new();
    let guard = lock.acquire();
    let lock_ref = &lock;
    thread::scope(|s| {
        s.spawn(move || {
            assert!(lock_ref.locked());
            drop(guard);
        });
    });
    assert!(!lock.locked());
}
