//! Models of `RLock`: ownership, re-entry and the recursion count.

use gilfree::__loom::model;
use gilfree::__loom::threading::RLock;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// Marks the section between taking the outermost level and giving it back; panics if two
/// threads are ever inside at once.
fn enter(inside: &AtomicUsize) {
    assert_eq!(inside.fetch_add(1, Ordering::Relaxed), 0, "two holders");
}

fn leave(inside: &AtomicUsize) {
    inside.fetch_sub(1, Ordering::Relaxed);
}

/// RLOCK-1, RLOCK-4, RLOCK-5: the owner re-enters without blocking (a blocked re-entry would
/// be a deadlock) while another thread contends; the two never hold it together, the count
/// goes 1, 2, 1, and the contender gets the lock in the end.
#[test]
fn owner_reenters_while_another_thread_contends() {
    model(|| {
        let lock = Arc::new(RLock::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let contender = {
            let (lock, inside) = (Arc::clone(&lock), Arc::clone(&inside));
            thread::spawn(move || {
                let guard = lock.acquire();
                enter(&inside);
                assert_eq!(lock.recursion_count(), 1);
                leave(&inside);
                drop(guard);
                assert_eq!(lock.recursion_count(), 0);
            })
        };
        let outer = lock.acquire();
        enter(&inside);
        let inner = lock.acquire();
        assert!(lock.is_owned());
        assert_eq!(lock.recursion_count(), 2);
        drop(inner);
        assert_eq!(lock.recursion_count(), 1);
        assert!(lock.locked());
        leave(&inside);
        drop(outer);
        assert!(!lock.is_owned());
        contender.join().unwrap();
        assert!(!lock.locked());
    });
}

/// RLOCK-2, RLOCK-3: while the main thread owns two levels, another thread's `release()` is
/// an error and changes nothing (before it owns the lock, it is never the owner); once the
/// owner releases both levels, the other thread acquires it, and then the former owner's
/// `release()` is an error in turn.
#[test]
fn only_the_owner_releases() {
    model(|| {
        let lock = Arc::new(RLock::new());
        // 1 while the main thread holds the lock, 2 while the other thread does.
        let holder = Arc::new(AtomicUsize::new(0));
        lock.acquire().detach();
        lock.acquire().detach();
        holder.store(1, Ordering::Relaxed);
        let other = {
            let (lock, holder) = (Arc::clone(&lock), Arc::clone(&holder));
            thread::spawn(move || {
                let err = lock.release().expect_err("not the owner");
                assert_eq!(err.message(), "cannot release un-acquired lock");
                assert_eq!(lock.recursion_count(), 0);
                lock.acquire().detach();
                assert_eq!(
                    holder.swap(2, Ordering::Relaxed),
                    0,
                    "the owner still held it"
                );
                assert_eq!(lock.recursion_count(), 1);
                holder.store(0, Ordering::Relaxed);
                lock.release().expect("owner releases");
            })
        };
        lock.release().expect("owner releases level 2");
        assert_eq!(lock.recursion_count(), 1);
        assert!(lock.is_owned());
        holder.store(0, Ordering::Relaxed);
        lock.release().expect("owner releases level 1");
        // Either the other thread owns it now, or nobody does: never this thread.
        assert!(lock.release().is_err());
        other.join().unwrap();
        assert!(!lock.locked());
        assert_eq!(lock.recursion_count(), 0);
    });
}
