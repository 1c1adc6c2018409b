//! Python's `threading` module: threads, timers, locks, conditions, semaphores, events and
//! barriers.
//!
//! | Python | gilfree |
//! |---|---|
//! | `threading.Lock()` | [`Lock::new()`](Lock::new) (and [`Lock::with_value`] to protect data) |
//! | `threading.RLock()` | [`RLock::new()`](RLock::new) |
//! | `threading.Condition(lock=None)` | [`Condition::new()`](Condition::new), [`Condition::with_lock`], [`Condition::with_value`] |
//! | `threading.Semaphore(n)` | [`Semaphore::new(n)`](Semaphore::new) |
//! | `threading.BoundedSemaphore(n)` | [`BoundedSemaphore::new(n)`](BoundedSemaphore::new) |
//! | `threading.Event()` | [`Event::new()`](Event::new) |
//! | `threading.Barrier(n, action, timeout)` | [`Barrier::new(n)`](Barrier::new), [`Barrier::builder`] |
//! | `threading.Thread(target=f, name=n, daemon=d).start()` | [`Thread::spawn(f)`](Thread::spawn), [`Thread::builder`] |
//! | `threading.Timer(t, f).start()` | [`Timer::start(t, f)`](Timer::start) |
//! | `current_thread()`, `main_thread()`, `enumerate()`, `active_count()` | [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`] |
//! | `get_ident()`, `get_native_id()` | [`get_ident`], [`get_native_id`] |
//! | `with lock:` | `let _guard = lock.acquire();` — the guard releases on drop |
//! | `threading.local()` | std's [`thread_local!`](std::thread_local); see [below](#thread-local-data-threadinglocal) |
//!
//! Python's interpreter waits for every non-daemon thread (and lets every thread pool finish
//! its tasks) before it exits; a Rust process ends when `main` returns. Opt in to Python's
//! behaviour with `let _exit = gilfree::threading::join_at_exit();` at the start of `main`
//! (see [`join_at_exit`]).
//!
//! # Thread-local data (`threading.local`)
//!
//! gilfree has no `local` type: Rust's own [`thread_local!`](std::thread_local) is the same
//! thing, checked at compile time. Where Python creates a `local()` object and sets attributes
//! on it, Rust declares one `static` per value; each thread that touches it gets its own copy,
//! starting from the initial value, dropped when the thread ends. A pool's worker keeps its
//! copy from one task to the next, as in Python, so an
//! [`initializer`](crate::futures::ThreadPoolExecutorBuilder::initializer) can set it up.
//!
//! ```
//! use std::cell::Cell;
//!
//! thread_local! {
//!     static CALLS: Cell<u32> = const { Cell::new(0) };
//! }
//!
//! CALLS.set(5);
//! let t = gilfree::Thread::spawn(|| {
//!     CALLS.set(CALLS.get() + 1);
//!     CALLS.get()
//! });
//! assert_eq!(t.join().unwrap(), 1); // the new thread started from 0
//! assert_eq!(CALLS.get(), 5); // this thread's copy is untouched
//! ```
//!
//! For a value that is not `Copy`, use a `RefCell` and `with_borrow_mut`.

use super::rt;

mod barrier;
mod condition;
mod event;
mod lock;
mod rlock;
mod semaphore;
mod thread;
mod timer;

pub use barrier::{Barrier, BarrierBuilder};
pub use condition::{AsyncConditionLock, Condition, ConditionGuard, ConditionLock};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use thread::{
    JoinAtExit, Thread, ThreadBuilder, ThreadHandle, active_count, current_thread, enumerate,
    get_ident, get_native_id, join_at_exit, join_non_daemon_threads, main_thread,
};
pub use timer::Timer;

/// The panic payload inside [`JoinError::Panicked`](crate::JoinError::Panicked).
pub use crate::error::PanicPayload;

pub(crate) use super::Wait;
