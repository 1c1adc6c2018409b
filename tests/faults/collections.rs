//! Fault injection: collections.

#[allow(unused_imports)]
use super::common::*;
