//! Fault injection: pool.

#[allow(unused_imports)]
use super::common::*;
