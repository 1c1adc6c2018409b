//! Fault injection: threading.

#[allow(unused_imports)]
use super::common::*;
