//! Misuse, reported well (issue 15): a misuse panic names Python's exception first and points
//! at the caller's line, not into gilfree; every error a user passes on with `?` fits
//! `Box<dyn Error + Send + Sync>` (it is `'static`, `Send` and `Sync` when its payload is).

use gilfree::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Deque, Empty, Exception, FutureError,
    GetError, IndexError, InvalidStateError, JoinError, KeyError, Lock, Promise, PutError, Queue,
    RuntimeError, Semaphore, Set, ShutDown, SimpleQueue, Thread, ThreadPoolExecutor, TimeoutError,
    ValueError,
};
use static_assertions::assert_impl_all;
use std::error::Error;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

/// One misuse, which must panic.
type Misuse = Box<dyn FnOnce()>;

/// What the panic hook saw: the panicking thread, the message and the file of the panic's
/// location.
static SEEN: Mutex<Vec<(ThreadId, String, String)>> = Mutex::new(Vec::new());

/// Runs `f`, which must panic, and returns the message and the file the panic points at.
/// Only this thread's panics count: the hook is process-wide, and the other tests of this
/// file panic on purpose in threads of their own (`join_error`) while this one runs.
fn panic_site(f: impl FnOnce()) -> (String, String) {
    let me = std::thread::current().id();
    SEEN.lock().unwrap().retain(|(thread, ..)| *thread != me);
    let caught = panic::catch_unwind(AssertUnwindSafe(f));
    assert!(caught.is_err(), "the misuse must panic");
    let mut seen = SEEN.lock().unwrap();
    let mine = seen
        .iter()
        .rposition(|(thread, ..)| *thread == me)
        .expect("the hook saw the panic");
    let (_, message, file) = seen.remove(mine);
    (message, file)
}

/// Each misuse panics with `<Python exception>: …` and the location is the call in this
/// file (`#[track_caller]` through the whole chain). One test, so the process-wide hook is
/// installed once and restored after, whatever the other tests of this file do meanwhile.
#[test]
fn misuse_panics_name_the_exception_and_point_at_the_callers_line() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            String::new()
        };
        let file = info.location().map_or("", |l| l.file()).to_owned();
        SEEN.lock()
            .unwrap()
            .push((std::thread::current().id(), message, file));
    }));

    let cases: Vec<(&str, &str, Misuse)> = vec![
        (
            "ThreadPoolExecutor::new(0)",
            "ValueError: max_workers must be greater than 0",
            Box::new(|| drop(ThreadPoolExecutor::new(0))),
        ),
        (
            "Barrier::new(0)",
            "ValueError: parties must be > 0",
            Box::new(|| {
                let _ = Barrier::new(0);
            }),
        ),
        (
            "Semaphore::new(MAX_VALUE + 1)",
            "ValueError: semaphore initial value",
            Box::new(|| {
                let _ = Semaphore::new(Semaphore::MAX_VALUE + 1);
            }),
        ),
        (
            "BoundedSemaphore::new(MAX_VALUE + 1)",
            "ValueError: semaphore initial value",
            Box::new(|| {
                let _ = BoundedSemaphore::new(Semaphore::MAX_VALUE + 1);
            }),
        ),
        (
            "Condition::wait_timeout after the lock was released behind the guard",
            "RuntimeError: cannot wait on un-acquired lock",
            Box::new(|| {
                let lock = Arc::new(Lock::new());
                let cond = Condition::with_lock(Arc::clone(&lock));
                let mut guard = cond.acquire();
                lock.release().unwrap();
                guard.wait_timeout(Duration::from_millis(1));
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (what, expected, f) in cases {
        let (message, file) = panic_site(f);
        if !message.starts_with(expected) || !file.ends_with("misuse.rs") {
            failures.push(format!("{what}: {message:?} at {file}"));
        }
    }
    panic::set_hook(previous);
    assert!(failures.is_empty(), "{failures:#?}");
}

// Every public error is `'static + Send + Sync + Error` when its payload is.
assert_impl_all!(RuntimeError: Error, Send, Sync);
assert_impl_all!(ValueError: Error, Send, Sync);
assert_impl_all!(BrokenBarrierError: Error, Send, Sync);
assert_impl_all!(JoinError: Error, Send, Sync);
assert_impl_all!(Empty: Error, Send, Sync);
assert_impl_all!(ShutDown: Error, Send, Sync);
assert_impl_all!(ShutDown<String>: Error, Send, Sync);
assert_impl_all!(PutError<String>: Error, Send, Sync);
assert_impl_all!(GetError: Error, Send, Sync);
assert_impl_all!(IndexError: Error, Send, Sync);
assert_impl_all!(IndexError<String>: Error, Send, Sync);
assert_impl_all!(KeyError<String>: Error, Send, Sync);
assert_impl_all!(FutureError: Error, Send, Sync, Clone);
assert_impl_all!(Exception: Error, Send, Sync, Clone);
assert_impl_all!(TimeoutError: Error, Send, Sync);
assert_impl_all!(InvalidStateError<String>: Error, Send, Sync);
#[cfg(feature = "opencl")]
assert_impl_all!(gilfree::OpenClError: Error, Send, Sync);

type BoxError = Box<dyn Error + Send + Sync>;
/// A function that fails with one kind of error, passed on with `?`.
type Case = fn() -> Result<(), BoxError>;

fn runtime_error() -> Result<(), BoxError> {
    Lock::new().release()?;
    Ok(())
}

fn value_error() -> Result<(), BoxError> {
    BoundedSemaphore::new(1).release(1)?;
    Ok(())
}

fn broken_barrier_error() -> Result<(), BoxError> {
    let barrier = Barrier::new(2);
    barrier.abort();
    barrier.wait()?;
    Ok(())
}

fn join_error() -> Result<(), BoxError> {
    Thread::spawn(|| -> u8 { panic::panic_any(7_u32) }).join()?;
    Ok(())
}

fn empty() -> Result<(), BoxError> {
    SimpleQueue::<u8>::new().get_nowait()?;
    Ok(())
}

fn shut_down() -> Result<(), BoxError> {
    let q: Queue<String> = Queue::new(0);
    q.shutdown(false);
    q.put("late".to_owned())?;
    Ok(())
}

fn put_error() -> Result<(), BoxError> {
    let q: Queue<String> = Queue::new(1);
    q.put_nowait("one".to_owned())?;
    q.put_nowait("two".to_owned())?;
    Ok(())
}

fn get_error() -> Result<(), BoxError> {
    Queue::<u8>::new(0).get_nowait()?;
    Ok(())
}

fn index_error() -> Result<(), BoxError> {
    let dq = Deque::with_maxlen(1);
    dq.append("a".to_owned());
    dq.insert(0, "z".to_owned())?;
    Ok(())
}

fn key_error() -> Result<(), BoxError> {
    let s: Set<String> = Set::new();
    let key = String::from("ghost");
    s.remove(&key)?; // a local key: the error must not borrow it
    Ok(())
}

fn future_error() -> Result<(), BoxError> {
    let (_promise, fut) = Promise::<u8>::new();
    assert!(fut.cancel());
    fut.result()?;
    Ok(())
}

fn timeout_error() -> Result<(), BoxError> {
    let (_promise, fut) = Promise::<u8>::new();
    for f in gilfree::futures::as_completed([fut], Some(Duration::ZERO)) {
        f?;
    }
    Ok(())
}

fn invalid_state_error() -> Result<(), BoxError> {
    let (promise, fut) = Promise::<String>::new();
    assert!(fut.cancel());
    promise.set_result("late".to_owned())?;
    Ok(())
}

/// Each error passes through `?` into `Box<dyn Error + Send + Sync>`, crosses a thread, and
/// keeps its Python name in its message.
#[test]
fn every_error_propagates_with_question_mark_into_a_send_sync_box() {
    let cases: [(&str, Case); 13] = [
        ("RuntimeError: ", runtime_error),
        ("ValueError: ", value_error),
        ("BrokenBarrierError: ", broken_barrier_error),
        ("exception in thread ", join_error),
        ("queue.Empty: ", empty),
        ("queue.ShutDown: ", shut_down),
        ("queue.Full: ", put_error),
        ("queue.Empty: ", get_error),
        ("IndexError: ", index_error),
        ("KeyError: \"ghost\"", key_error),
        ("CancelledError: ", future_error),
        ("TimeoutError: ", timeout_error),
        ("InvalidStateError: ", invalid_state_error),
    ];
    for (expected, case) in cases {
        let err = case().expect_err(expected);
        let text = std::thread::spawn(move || err.to_string()).join().unwrap();
        assert!(
            text.starts_with(expected),
            "{text:?} should start with {expected:?}"
        );
    }
}
