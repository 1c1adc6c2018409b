//! Every primitive, written once and compiled twice: against `rt::native` (the public API) and
//! against `rt::loom` (the hidden `gilfree::__loom`, model-checked by `loom_tests/`).
//!
//! Every backend-dependent name comes from `super::rt`; clippy's `disallowed-types` and
//! `disallowed-methods` (see `clippy.toml`) are denied in this tree.

use super::rt;

pub mod collections;
pub mod futures;
pub mod queue;
pub mod threading;
pub(crate) mod user_lock;
pub(crate) mod waiters;

use rt::Instant;
use std::time::Duration;

/// How long a blocking call may wait.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Try once, never sleep (`Duration::ZERO`, Python's `blocking=False`).
    Never,
    /// Sleep until this instant at the latest.
    Until(Instant),
    /// No deadline.
    Forever,
}

impl Wait {
    /// `Duration::ZERO` tries once; a deadline too far to represent (`Duration::MAX`) waits
    /// forever rather than panicking.
    #[inline]
    pub(crate) fn timeout(d: Duration) -> Wait {
        if d.is_zero() {
            Wait::Never
        } else {
            match rt::deadline_after(d) {
                Some(at) => Wait::Until(at),
                None => Wait::Forever,
            }
        }
    }
}
