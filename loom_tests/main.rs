//! loom models of gilfree's primitives: threading, queue, collections and futures.
//!
//! Every model drives the real sources in `src/prims/`, compiled a second time on
//! loom's types (`gilfree::__loom`; DESIGN.md, "Why the primitives are compiled twice"). loom
//! runs each model under every interleaving of its threads (within the preemption bound) and
//! every value a relaxed or acquire load may see, and reports data races on the locks'
//! `UnsafeCell`s, deadlocks (a lost wake-up leaves a thread asleep for ever) and failed
//! assertions.
//!
//! The async twins are modelled through their real waker paths: a model thread runs a task
//! with `gilfree::__loom::block_on` (loom's executor, whose waker loom tracks), or polls a
//! future by hand and drops it, beside threads blocked on the same primitive.
//!
//! Run with `cargo test --features loom`. Models stay small: loom allows a handful of threads,
//! and every thread in a model runs to completion. `LOOM_MAX_PREEMPTIONS` overrides the bounds
//! set by [`check_bounded`] and [`check_with_timeouts`]; models without one are exhaustive.

mod barrier;
mod collections;
mod condition;
mod event;
mod futures;
mod lock;
mod queue;
mod rlock;
mod semaphore;
mod thread;
mod timer;

/// Explores `f` like `gilfree::__loom::model`, with at most `preemptions` preemptions per
/// execution unless `LOOM_MAX_PREEMPTIONS` says otherwise: for the models with three threads,
/// whose unbounded state space would take minutes. Timed waits never time out here.
pub(crate) fn check_bounded<F>(preemptions: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    gilfree::__loom::model_bounded(preemptions, f);
}

/// Runs `f` under `gilfree::__loom::model_with_timeouts_bounded` (every timed wait times out
/// after letting the other threads run) with at most `preemptions` preemptions per execution,
/// unless `LOOM_MAX_PREEMPTIONS` says otherwise.
pub(crate) fn check_with_timeouts<F>(preemptions: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    gilfree::__loom::model_with_timeouts_bounded(preemptions, f);
}
