//! The same primitives compiled against loom, for `loom_tests/` only. Not part of the API.
//!
//! ```text
//! gilfree::__loom::model(|| { let lock = gilfree::__loom::threading::Lock::new(); ... });
//! ```

use crate::rt::loom as rt;

#[deny(clippy::disallowed_types, clippy::disallowed_methods)]
#[path = "prims/mod.rs"]
mod prims;

pub use prims::*;

/// Explores every interleaving of `f` (within loom's bounds). Timed waits never time out.
pub fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    rt::model(f)
}

/// [`model`] with at most `preemptions` preemptions per execution, unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise: for models with three threads, whose unbounded
/// state space would take minutes.
pub fn model_bounded<F: Fn() + Sync + Send + 'static>(preemptions: usize, f: F) {
    rt::model_bounded(preemptions, f)
}

/// Like [`model`], but every timed wait times out after letting other threads run: explores
/// the races between a notify and a timeout.
pub fn model_with_timeouts<F: Fn() + Sync + Send + 'static>(f: F) {
    rt::model_with_timeouts(None, f)
}

/// [`model_with_timeouts`] with at most `preemptions` preemptions per execution, unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise: for models with three threads.
pub fn model_with_timeouts_bounded<F: Fn() + Sync + Send + 'static>(preemptions: usize, f: F) {
    rt::model_with_timeouts(Some(preemptions), f)
}

/// loom's own thread, sync and cell types, so models need no direct loom dependency.
pub use loom::{sync as loom_sync, thread};

/// loom's `block_on`: runs a future on a model thread, its waker model-checked (for the async
/// twins' waker paths).
pub use loom::future::block_on;
