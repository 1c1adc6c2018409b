//! Fault injection: opencl (compiled only with the `opencl` feature).

#[allow(unused_imports)]
use super::common::*;
