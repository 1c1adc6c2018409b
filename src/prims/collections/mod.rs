//! Thread-safe versions of Python's `collections.deque` and the built-in `set`.
//!
//! | Python | gilfree |
//! |---|---|
//! | `collections.deque()`, `deque(maxlen=n)` | [`Deque::new()`](Deque::new), [`Deque::with_maxlen(n)`](Deque::with_maxlen) |
//! | `d.append(x)`, `d.appendleft(x)`, `d.pop()`, `d.popleft()` | [`append`](Deque::append), [`append_left`](Deque::append_left), [`pop`](Deque::pop), [`pop_left`](Deque::pop_left) |
//! | `d.extend(it)`, `d.extendleft(it)`, `d.insert(i, x)`, `d.rotate(n)` | [`extend`](Deque::extend), [`extend_left`](Deque::extend_left), [`insert`](Deque::insert), [`rotate`](Deque::rotate) |
//! | `set()` guarded by a `Lock` | [`Set::new()`](Set::new): sharded, every method on `&self` |
//! | `s.add(x)`, `s.remove(x)`, `s.discard(x)`, `x in s` | [`add`](Set::add), [`remove`](Set::remove), [`discard`](Set::discard), [`contains`](Set::contains) |
//!
//! Every method takes `&self`, so a `Deque` or `Set` is shared between threads with an `Arc`
//! (or a scoped borrow) and needs no lock around it. Python's free-threaded build gives its
//! `deque` and `set` the same per-operation atomicity.
//!
//! User code — an item's `Drop`, `Hash`, `Eq`, `Clone`, `Debug`, a closure, an iterator — never
//! hangs them and never breaks an invariant when it panics: `Drop` and `Hash` run with the
//! collection unlocked, and user code that must run under the lock (comparisons, clones,
//! `with_items`/`retain` closures) panics with `RuntimeError: … re-entered from user code` if it
//! calls back into the same collection, where Python raises `RuntimeError: deque mutated during
//! iteration`. Each method's docs say which ("# Re-entry").

use super::rt;

mod deque;
mod set;

pub use deque::Deque;
pub use set::Set;
