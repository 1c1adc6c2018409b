//! Every primitive, written once and compiled twice: against `rt::native` (the public API) and
//! against `rt::loom` (the hidden `gilfree::__loom`, model-checked by `loom_tests/`).
//!
//! Every backend-dependent name comes from `super::rt`; clippy's `disallowed-types` and
//! `disallowed-methods` (see `clippy.toml`) are denied in this tree.

use super::rt;

pub mod threading;
