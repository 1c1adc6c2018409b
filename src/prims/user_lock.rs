//! A lock under which user code runs, that names re-entry instead of deadlocking.
//!
//! The collections and the queues keep their items under one internal lock, and some of their
//! methods call user code while they hold it: an item's `PartialEq` (`Deque::contains`), `Hash`
//! and `Eq` (`Set`), `Ord` (`PriorityQueue`), `Clone`, a `retain` closure. If that code calls
//! back into the same object — `x == y` that asks `dq.len()` — it asks for a lock its own
//! thread holds, and a plain mutex would deadlock in silence. Python raises instead
//! (`RuntimeError: deque mutated during iteration`); gilfree panics with a message that says
//! what happened, so the caller sees the mistake at once.
//!
//! # How
//!
//! A method that is about to run user code under the lock wraps that code in
//! [`UserLock::run_user_code`], which records the lock's address on a per-thread list for the
//! duration. Taking the lock tries it first ([`rt::Mutex::try_lock`]); only when that fails — the
//! slow path, where the thread would block — is the list consulted: if this thread is inside
//! user code run under this very lock, blocking can never end, so it panics.
//!
//! | case | cost |
//! |---|---|
//! | a method that runs no user code | nothing: `try_lock`, as the plain lock's fast path |
//! | a method that runs user code | one thread-local push and pop per call, not per item |
//! | contended lock | one thread-local read before sleeping |
//!
//! Only re-entry from the same thread is a certain deadlock, and only that is detected: user
//! code that waits for *another* thread which needs the lock is a deadlock this cannot see.

use super::rt::{self, Mutex, MutexGuard};
use std::cell::RefCell;

rt::thread_local! {
    /// Addresses of the [`UserLock`]s whose holder (this thread) is running user code.
    // Not `const { .. }`: loom's `thread_local!` (edition 2018) does not take it.
    #[allow(clippy::missing_const_for_thread_local)]
    static IN_USER_CODE: RefCell<Vec<usize>> = RefCell::new(Vec::new());
}

/// A mutex whose holder may run user code; re-entry from that code panics instead of hanging.
pub(crate) struct UserLock<T> {
    inner: Mutex<T>,
    /// Named in the panic message: the Python class of the object (`"Deque"`).
    name: &'static str,
}

impl<T> UserLock<T> {
    pub(crate) fn new(name: &'static str, value: T) -> Self {
        UserLock {
            inner: Mutex::new(value),
            name,
        }
    }

    pub(crate) fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// Takes the lock.
    ///
    /// # Panics
    ///
    /// When the calling thread already holds it and is running user code under it (see the
    /// module docs): the call could never return.
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        match self.inner.try_lock() {
            Some(guard) => guard,
            None => self.lock_slow(),
        }
    }

    #[cold]
    fn lock_slow(&self) -> MutexGuard<'_, T> {
        if self.is_held_in_user_code() {
            self.reentered();
        }
        self.inner.lock()
    }

    #[cold]
    #[track_caller]
    fn reentered(&self) -> ! {
        panic!(
            "RuntimeError: {name} re-entered from user code run under its lock (an item's \
             PartialEq, Ord, Hash, Clone or Drop, or a closure, called back into the same \
             {name}); this would deadlock",
            name = self.name
        );
    }

    /// Panics, with the message of a re-entering [`lock`](Self::lock), when the calling thread
    /// is running user code under this lock; otherwise does nothing.
    ///
    /// For an object guarded by several locks (the `Set`'s shards), which marks its user code
    /// with one of them as its identity: calling this at the entry of every method catches a
    /// re-entry that would take *another* of its locks — no self-deadlock by itself, but one
    /// that breaks the object's lock order and can deadlock against a second thread.
    #[inline]
    pub(crate) fn forbid_reentry(&self) {
        if self.is_held_in_user_code() {
            self.reentered();
        }
    }

    /// Whether this thread is running user code under this lock.
    fn is_held_in_user_code(&self) -> bool {
        let me = self.addr();
        // During thread-local teardown the list is gone: nothing is recorded then.
        IN_USER_CODE
            .try_with(|held| held.borrow().contains(&me))
            .unwrap_or(false)
    }

    /// Runs `f`, user code, while the caller holds this lock: a re-entry from `f` panics
    /// instead of deadlocking. The mark is removed however `f` ends, a panic included.
    #[inline]
    pub(crate) fn run_user_code<R>(&self, f: impl FnOnce() -> R) -> R {
        let _mark = Mark::push(self.addr());
        f()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for UserLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserLock")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// One entry on this thread's list, removed when dropped (on unwind too).
struct Mark(Option<usize>);

impl Mark {
    fn push(addr: usize) -> Mark {
        let pushed = IN_USER_CODE
            .try_with(|held| held.borrow_mut().push(addr))
            .is_ok();
        Mark(pushed.then_some(addr))
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        if let Some(addr) = self.0 {
            let _ = IN_USER_CODE.try_with(|held| {
                let mut held = held.borrow_mut();
                // Marks nest, so this one is the last entry for `addr`.
                if let Some(at) = held.iter().rposition(|&a| a == addr) {
                    held.remove(at);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reentry_from_user_code_panics_instead_of_hanging() {
        rt::model(|| {
            let lock = UserLock::new("Deque", 0_u32);
            let guard = lock.lock();
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                lock.run_user_code(|| drop(lock.lock()))
            }));
            let message = caught.expect_err("re-entry must panic");
            let text = message
                .downcast_ref::<String>()
                .expect("a formatted message");
            assert!(text.starts_with("RuntimeError: Deque re-entered"), "{text}");
            drop(guard);
            // The mark went with the panic: the lock is usable again, also from user code
            // that does not hold it.
            assert_eq!(*lock.lock(), 0);
            assert!(!lock.is_held_in_user_code());
        });
    }

    #[test]
    fn user_code_under_another_lock_may_take_this_one() {
        rt::model(|| {
            let a = UserLock::new("Deque", 1_u32);
            let b = UserLock::new("Set", 2_u32);
            let _ga = a.lock();
            let sum = a.run_user_code(|| *b.lock() + 1);
            assert_eq!(sum, 3);
        });
    }
}
