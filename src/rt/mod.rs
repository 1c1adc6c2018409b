//! The one place that names a synchronisation backend.
//!
//! `src/prims/` is compiled twice: against [`native`] (parking_lot, std, crossbeam-utils) for
//! the public API, and against `loom` (feature `loom`) for model checking. Both modules export
//! the same names with the same signatures; nothing else in the crate may name a backend
//! (enforced by clippy's `disallowed-types` / `disallowed-methods`, see `clippy.toml`).
//!
//! The shared vocabulary:
//!
//! | name | native | loom |
//! |---|---|---|
//! | `Mutex`, `MutexGuard`, `Condvar` | parking_lot (no poisoning, no spurious wake-ups) | loom's, wrapped to the same shape |
//! | `RwLock` (`read` / `write`) | parking_lot | loom's, wrapped to the same shape |
//! | `AtomicBool`, `AtomicUsize`, `AtomicU64`, `Ordering`, `fence` | std | loom (`fence(SeqCst)` is modelled; `SeqCst` accesses are not) |
//! | `Arc`, `UnsafeCell` (`with` / `with_mut`) | std | loom (accesses are race-checked) |
//! | `Instant`, `now()` | the real clock | a frozen clock; timed waits are untimed unless "timeouts fire" |
//! | `Backoff`, `CachePadded` | crossbeam-utils | no spinning (straight to the slow path) |
//! | `thread::{spawn, yield_now, current_id, available_parallelism}` | std + a per-thread counter | loom (`available_parallelism()` is 1) |
//! | `model(f)` | calls `f` once | `loom::model(f)` |

pub(crate) mod native;

#[cfg(feature = "loom")]
pub(crate) mod loom;
