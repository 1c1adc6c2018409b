//! Panics and re-entry in user code, injected wherever gilfree runs it.
//!
//! User code — an item's `Drop`, `Ord`, `Eq`, `Hash` or `Clone`, a task, a done-callback, a
//! `wait_for` predicate, an initializer, a barrier action, a timer function — may panic, or call
//! back into the object that called it. Whatever it does, gilfree must not hang, lose or
//! duplicate an item, or break an invariant, and the caller must see a clear error. Each module
//! below covers one area; every test bounds its waits, so a regression fails instead of hanging.

mod common;

#[path = "faults/collections.rs"]
mod collections;
#[cfg(feature = "opencl")]
#[path = "faults/opencl.rs"]
mod opencl;
#[path = "faults/pool.rs"]
mod pool;
#[path = "faults/queue.rs"]
mod queue;
#[path = "faults/threading.rs"]
mod threading;
