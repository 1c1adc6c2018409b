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
use std::cell::Cell;

/// How many marks a thread records: user code nested deeper than this (user code under one
/// lock calling a collection that runs user code under another, and so on) goes unrecorded
/// beyond it — a re-entry there deadlocks as before, and nothing else changes.
const MAX_MARKS: usize = 8;

/// This thread's marks: the addresses of the [`UserLock`]s whose holder (this thread) is
/// running user code, innermost last. Plain cells, so reading them is a few loads: every
/// method of a `Set` reads them ([`UserLock::forbid_reentry`]).
struct Marks {
    /// Marks pushed and not yet popped (may exceed [`MAX_MARKS`]; only that many are kept).
    depth: Cell<usize>,
    addrs: [Cell<usize>; MAX_MARKS],
}

impl Marks {
    const fn new() -> Self {
        Marks {
            depth: Cell::new(0),
            addrs: [const { Cell::new(0) }; MAX_MARKS],
        }
    }

    fn holds(&self, addr: usize) -> bool {
        let kept = self.depth.get().min(MAX_MARKS);
        self.addrs[..kept].iter().any(|a| a.get() == addr)
    }

    fn push(&self, addr: usize) {
        let depth = self.depth.get();
        if let Some(slot) = self.addrs.get(depth) {
            slot.set(addr);
        }
        self.depth.set(depth + 1);
    }

    fn pop(&self) {
        self.depth.set(self.depth.get() - 1);
    }
}

rt::thread_local_const! {
    static IN_USER_CODE: Marks = Marks::new();
}

/// The identity that user code is marked with: a re-entry check for one object.
///
/// [`UserLock`] holds one for its mutex. An object guarded by several locks (the `Set`'s
/// shards, read-write locks) holds one for itself: it runs its user code through
/// [`run_user_code`](Self::run_user_code) and calls [`forbid`](Self::forbid) at the entry of
/// every method, which catches a re-entry that would take *another* of its locks — no
/// self-deadlock by itself, but a break of the object's lock order that can deadlock against a
/// second thread. Its address is its identity: it is not zero-sized, and the object is
/// borrowed (so not moved) while a mark is set.
pub(crate) struct Reentry {
    /// Named in the panic message: the Python class of the object (`"Deque"`).
    name: &'static str,
}

impl Reentry {
    pub(crate) fn new(name: &'static str) -> Self {
        Reentry { name }
    }

    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// Whether this thread is running user code marked with this identity.
    #[inline]
    fn is_marked(&self) -> bool {
        let me = self.addr();
        // During thread-local teardown (under loom) the marks may be gone: none are kept then.
        IN_USER_CODE
            .try_with(|marks| marks.holds(me))
            .unwrap_or(false)
    }

    /// Panics, with `RuntimeError`'s message, when the calling thread is running user code
    /// marked with this identity; otherwise does nothing.
    #[inline]
    #[track_caller]
    pub(crate) fn forbid(&self) {
        if self.is_marked() {
            self.reentered();
        }
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

    /// Runs `f`, user code, marked with this identity: a re-entry from `f` panics instead of
    /// deadlocking. The mark is removed however `f` ends, a panic included.
    #[inline]
    pub(crate) fn run_user_code<R>(&self, f: impl FnOnce() -> R) -> R {
        let _mark = Mark::push(self.addr());
        f()
    }
}

impl std::fmt::Debug for Reentry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reentry").field("name", &self.name).finish()
    }
}

/// A mutex whose holder may run user code; re-entry from that code panics instead of hanging.
pub(crate) struct UserLock<T> {
    inner: Mutex<T>,
    reentry: Reentry,
}

impl<T> UserLock<T> {
    pub(crate) fn new(name: &'static str, value: T) -> Self {
        UserLock {
            inner: Mutex::new(value),
            reentry: Reentry::new(name),
        }
    }

    pub(crate) fn into_inner(self) -> T {
        self.inner.into_inner()
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
        self.reentry.forbid();
        self.inner.lock()
    }

    /// Whether this thread is running user code under this lock.
    #[cfg(test)]
    fn is_held_in_user_code(&self) -> bool {
        self.reentry.is_marked()
    }

    /// Runs `f`, user code, while the caller holds this lock: a re-entry from `f` panics
    /// instead of deadlocking. The mark is removed however `f` ends, a panic included.
    #[inline]
    pub(crate) fn run_user_code<R>(&self, f: impl FnOnce() -> R) -> R {
        self.reentry.run_user_code(f)
    }
}

impl<T> std::fmt::Debug for UserLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserLock")
            .field("name", &self.reentry.name)
            .finish_non_exhaustive()
    }
}

/// One entry on this thread's marks, removed when dropped (on unwind too). Marks are scoped
/// values, so they are dropped in the reverse order of their pushes: the stack stays exact.
struct Mark(bool);

impl Mark {
    #[inline]
    fn push(addr: usize) -> Mark {
        Mark(IN_USER_CODE.try_with(|marks| marks.push(addr)).is_ok())
    }
}

impl Drop for Mark {
    #[inline]
    fn drop(&mut self) {
        if self.0 {
            let _ = IN_USER_CODE.try_with(Marks::pop);
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
    fn reentry_through_another_lock_is_found_and_marks_unwind() {
        rt::model(|| {
            let a = UserLock::new("Deque", 1_u32);
            let b = UserLock::new("Set", 2_u32);
            let _ga = a.lock();
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                a.run_user_code(|| {
                    let _gb = b.lock();
                    b.run_user_code(|| drop(a.lock()))
                })
            }));
            assert!(caught.is_err(), "a -> b -> a must panic");
            assert!(!a.is_held_in_user_code() && !b.is_held_in_user_code());
            // Deeper than the marks kept: no false positive, and the stack unwinds exactly.
            let locks: Vec<_> = (0..MAX_MARKS + 2)
                .map(|i| UserLock::new("Deque", i))
                .collect();
            fn nest(locks: &[UserLock<usize>], depth: usize) -> usize {
                match locks.split_first() {
                    None => depth,
                    Some((first, rest)) => {
                        let _g = first.lock();
                        first.run_user_code(|| nest(rest, depth + 1))
                    }
                }
            }
            assert_eq!(nest(&locks, 0), MAX_MARKS + 2);
            assert!(locks.iter().all(|l| !l.is_held_in_user_code()));
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
