//! The primitives on the native backend: the public API.

use crate::rt::native as rt;

#[deny(clippy::disallowed_types, clippy::disallowed_methods)]
#[path = "prims/mod.rs"]
mod prims;

pub use prims::*;

#[cfg(test)]
#[path = "waiters_tests.rs"]
mod waiters_tests;
