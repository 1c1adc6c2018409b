//! Fault injection: queue.

#[allow(unused_imports)]
use super::common::*;
