//! `threading.Barrier`: a fixed number of threads wait for each other, round after round.

use super::Wait;
use super::rt::{self, AtomicU64, Backoff, Condvar, Mutex, Ordering};
use crate::error::{BrokenBarrierError, ValueError};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

/// The phases of the barrier's current generation (after Python's `_state`).
///
/// | phase | Python | meaning |
/// |---|---|---|
/// | `Filling` | 0 | threads are arriving; `count` of them wait |
/// | `Action` | — | all arrived; the last arriver runs the action (outside the lock) |
/// | `Resetting` | -1 | `reset()` broke the waiters, who are leaving; then back to `Filling` |
/// | `Broken` | -2 | `abort()`, a timeout or a panicking action; every `wait` fails until `reset()` |
///
/// Python's draining phase (1) is not needed: the last arriver closes a successful round
/// itself — `count = 0`, `generation += 1` — and its waiters leave on seeing the generation
/// change, without touching the state again. A fast thread's next `wait` therefore joins the
/// next round at once instead of sleeping through a drain, and lockstep holds
/// because each round is a distinct generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Filling,
    Action,
    Resetting,
    Broken,
}

struct State {
    phase: Phase,
    /// Threads of the current generation inside `wait`.
    count: usize,
    /// Rounds completed so far; a waiter is released when it moves past its own.
    generation: u64,
    /// `rt::thread::current_id()` of the thread running the action during `Action`, else 0:
    /// a `wait` from the action itself would wait for its own return.
    action_thread: usize,
}

type Action = Box<dyn Fn() + Send + Sync + 'static>;

/// Python's `threading.Barrier`: `parties` threads call [`wait`](Barrier::wait), and none
/// returns until all have arrived. Each gets a distinct index `0..parties` — the
/// arrival order, so the last to arrive gets `parties - 1`. Then the barrier is ready
/// for the next round.
///
/// An optional action runs once per round, in the last arriving thread, before anyone is
/// released. The barrier can be [`abort`](Barrier::abort)ed and
/// [`reset`](Barrier::reset); a broken barrier fails every `wait` with [`BrokenBarrierError`].
///
/// # Examples
///
/// ```
/// use gilfree::Barrier;
///
/// let barrier = Barrier::new(3);
/// let indices: Vec<usize> = std::thread::scope(|s| {
///     let handles: Vec<_> = (0..3).map(|_| s.spawn(|| barrier.wait().unwrap())).collect();
///     handles.into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// let mut sorted = indices.clone();
/// sorted.sort();
/// assert_eq!(sorted, [0, 1, 2]);
/// ```
///
/// # Timeouts
///
/// A waiter whose timeout passes breaks the barrier, and every waiter fails, as in
/// Python. The builder's [`timeout`](BarrierBuilder::timeout) is the default for
/// [`wait`](Barrier::wait); [`wait_timeout`](Barrier::wait_timeout) overrides it.
///
/// # Differences from Python
///
/// * `Barrier::new(0)` panics; [`Barrier::try_new`] and the builder return [`ValueError`]
///   instead.
/// * The action runs without the barrier's internal lock held, so it may call
///   [`n_waiting`](Barrier::n_waiting) or [`abort`](Barrier::abort). If it panics, the barrier
///   breaks, the others get [`BrokenBarrierError`] and the panic resumes in the thread that ran
///   the action. A [`wait`](Barrier::wait) from the action itself, which would wait for
///   its own return (a deadlock in Python), panics so: the barrier breaks.
pub struct Barrier {
    parties: usize,
    timeout: Option<Duration>,
    action: Option<Action>,
    state: Mutex<State>,
    changed: Condvar,
    /// `state.generation`, published after each completed round for waiters that spin before
    /// sleeping (a round often completes microseconds after a waiter arrives).
    completed: AtomicU64,
}

impl Barrier {
    /// A barrier for `parties` threads, without action or default timeout.
    ///
    /// # Panics
    ///
    /// If `parties == 0`, with Python's message `ValueError: parties must be > 0`, at
    /// the caller's line. [`Barrier::try_new`] returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = gilfree::Barrier::new(1);
    /// assert_eq!(barrier.wait(), Ok(0)); // one party never waits
    /// ```
    #[track_caller]
    pub fn new(parties: usize) -> Self {
        match Barrier::try_new(parties) {
            Ok(barrier) => barrier,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Barrier::new`], but returns [`ValueError`] "parties must be > 0" for 0.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gilfree::Barrier::try_new(0).is_err());
    /// assert!(gilfree::Barrier::try_new(2).is_ok());
    /// ```
    pub fn try_new(parties: usize) -> Result<Self, ValueError> {
        Barrier::builder(parties).build()
    }

    /// A builder for a barrier with an action and/or a default timeout: Python's
    /// `Barrier(parties, action, timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let counted = Arc::clone(&rounds);
    /// let barrier = gilfree::Barrier::builder(1)
    ///     .action(move || {
    ///         counted.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .timeout(Duration::from_secs(5))
    ///     .build()
    ///     .unwrap();
    /// barrier.wait().unwrap();
    /// assert_eq!(rounds.load(Ordering::SeqCst), 1);
    /// ```
    pub fn builder(parties: usize) -> BarrierBuilder {
        BarrierBuilder {
            parties,
            action: None,
            timeout: None,
        }
    }

    /// Waits for all parties, using the default timeout if the barrier has one.
    /// Returns this thread's index in the round, `0..parties`.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is or becomes broken while waiting.
    ///
    /// # Panics
    ///
    /// Resumes the action's panic in the thread that ran it. Panics when called from
    /// the barrier's own action (which then panics, breaking the barrier) instead of waiting
    /// for itself, with `RuntimeError: ...` at the caller's line.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = gilfree::Barrier::new(2);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| barrier.wait().unwrap());
    ///     barrier.wait().unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn wait(&self) -> Result<usize, BrokenBarrierError> {
        self.wait_inner(self.timeout.map_or(Wait::Forever, Wait::timeout))
    }

    /// Waits for all parties for at most `timeout`; when it passes, the barrier breaks for
    /// everybody. A zero timeout breaks it at once unless this thread is the last to
    /// arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let barrier = gilfree::Barrier::new(2);
    /// assert!(barrier.wait_timeout(Duration::from_millis(10)).is_err());
    /// assert!(barrier.broken());
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        self.wait_inner(Wait::timeout(timeout))
    }

    #[track_caller]
    fn wait_inner(&self, wait: Wait) -> Result<usize, BrokenBarrierError> {
        let mut state = self.state.lock();
        if state.action_thread != 0 && state.action_thread == rt::thread::current_id() {
            drop(state);
            // The round cannot end before the action returns: a deadlock in Python, where the
            // action holds the barrier's lock. A panic here breaks the barrier (BAR-12).
            panic!(
                "RuntimeError: Barrier::wait called from the barrier's own action: it would \
                 wait for itself"
            );
        }
        // A full round still running its action, or a reset still letting its waiters out:
        // this thread belongs to the round after (BAR-14).
        while matches!(state.phase, Phase::Action | Phase::Resetting) {
            self.changed.wait(&mut state);
        }
        if state.phase == Phase::Broken {
            return Err(BrokenBarrierError);
        }
        let index = state.count;
        state.count += 1;
        if index + 1 == self.parties {
            return self.release(state);
        }
        let generation = state.generation;
        if !matches!(wait, Wait::Never) {
            drop(state);
            let backoff = Backoff::new();
            while !backoff.is_completed() {
                backoff.snooze();
                if self.completed.load(Ordering::Acquire) != generation {
                    return Ok(index);
                }
            }
            state = self.state.lock();
        }
        let result = self.wait_for_release(&mut state, wait, generation);
        if result.is_err() {
            self.leave(&mut state);
        }
        result.map(|()| index)
    }

    /// A thread of the current generation leaves without the round completing.
    fn leave(&self, state: &mut State) {
        state.count -= 1;
        if state.count == 0 && state.phase == Phase::Resetting {
            state.phase = Phase::Filling;
            self.changed.notify_all();
        }
    }

    /// The last arriver: run the action, then close the round.
    fn release<'a>(
        &'a self,
        mut state: super::rt::MutexGuard<'a, State>,
    ) -> Result<usize, BrokenBarrierError> {
        if let Some(action) = &self.action {
            state.phase = Phase::Action;
            state.action_thread = rt::thread::current_id();
            drop(state);
            let outcome = panic::catch_unwind(AssertUnwindSafe(action));
            state = self.state.lock();
            state.action_thread = 0;
            if let Err(payload) = outcome {
                // BAR-12: the others get BrokenBarrierError, this thread the action's panic.
                state.phase = Phase::Broken;
                self.leave(&mut state);
                drop(state);
                self.changed.notify_all();
                panic::resume_unwind(payload);
            }
            if state.phase != Phase::Action {
                // abort() or reset() while the action ran.
                self.leave(&mut state);
                return Err(BrokenBarrierError);
            }
        }
        state.phase = Phase::Filling;
        state.count = 0;
        state.generation = state.generation.wrapping_add(1);
        self.completed.store(state.generation, Ordering::Release);
        drop(state);
        self.changed.notify_all();
        Ok(self.parties - 1)
    }

    /// A non-last arriver: wait until this thread's round completes (`Ok`) or breaks.
    fn wait_for_release(
        &self,
        state: &mut super::rt::MutexGuard<'_, State>,
        wait: Wait,
        generation: u64,
    ) -> Result<(), BrokenBarrierError> {
        let mut deadline = match wait {
            Wait::Never => {
                // BAR-13: a zero timeout by a non-last thread breaks the barrier at once.
                self.break_locked(state);
                return Err(BrokenBarrierError);
            }
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        loop {
            // Released first: a round that completed stays completed even if the barrier was
            // aborted or reset before this thread woke up.
            if state.generation != generation {
                return Ok(());
            }
            match state.phase {
                Phase::Filling | Phase::Action => {}
                Phase::Resetting | Phase::Broken => return Err(BrokenBarrierError),
            }
            if self.changed.wait_until(state, deadline) && state.generation == generation {
                match state.phase {
                    // BAR-8: the round is incomplete and this thread's time is up.
                    Phase::Filling => {
                        self.break_locked(state);
                        return Err(BrokenBarrierError);
                    }
                    // Every party has arrived; the action decides the round. CPython runs the
                    // action under the lock, so a waiter's timeout cannot break a full round:
                    // wait, without a deadline, for its outcome.
                    Phase::Action => deadline = None,
                    Phase::Resetting | Phase::Broken => {}
                }
            }
        }
    }

    fn break_locked(&self, state: &mut State) {
        state.phase = Phase::Broken;
        self.changed.notify_all();
    }

    /// Python's `reset()`: returns the barrier to its initial state. Threads waiting now get
    /// [`BrokenBarrierError`]; a broken barrier becomes usable again.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = gilfree::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reset(&self) {
        let mut state = self.state.lock();
        if state.count > 0 {
            // The waiters still inside leave with BrokenBarrierError; the last one out
            // returns the barrier to Filling.
            state.phase = Phase::Resetting;
        } else {
            state.phase = Phase::Filling;
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Python's `abort()`: breaks the barrier. Current and future waiters get
    /// [`BrokenBarrierError`] until [`reset`](Barrier::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = gilfree::Barrier::new(3);
    /// barrier.abort();
    /// assert!(barrier.wait().is_err());
    /// ```
    pub fn abort(&self) {
        let mut state = self.state.lock();
        self.break_locked(&mut state);
    }

    /// The number of threads needed to pass the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Threads currently waiting in the round being filled; 0 while the barrier drains,
    /// is being reset or is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let state = self.state.lock();
        match state.phase {
            Phase::Filling | Phase::Action => state.count,
            Phase::Resetting | Phase::Broken => 0,
        }
    }

    /// Whether the barrier is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = gilfree::Barrier::new(2);
    /// assert!(!barrier.broken());
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }

    /// The default timeout of [`wait`](Barrier::wait), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gilfree::Barrier::new(2).timeout(), None);
    /// ```
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        let waiting = match state.phase {
            Phase::Filling | Phase::Action => state.count,
            Phase::Resetting | Phase::Broken => 0,
        };
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &waiting)
            .field("broken", &(state.phase == Phase::Broken))
            .finish_non_exhaustive()
    }
}

/// Builds a [`Barrier`] with an action and a default timeout. See [`Barrier::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let barrier = gilfree::Barrier::builder(1)
///     .timeout(Duration::from_secs(5))
///     .action(|| println!("everyone is here"))
///     .build()
///     .unwrap();
/// assert_eq!(barrier.wait(), Ok(0));
/// ```
#[must_use = "a builder does nothing until build() is called"]
pub struct BarrierBuilder {
    parties: usize,
    action: Option<Action>,
    timeout: Option<Duration>,
}

impl BarrierBuilder {
    /// Runs `action` once per round, in the last thread to arrive, before any thread is
    /// released.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = gilfree::Barrier::builder(1).action(|| println!("round done")).build().unwrap();
    /// barrier.wait().unwrap();
    /// ```
    pub fn action(mut self, action: impl Fn() + Send + Sync + 'static) -> Self {
        self.action = Some(Box::new(action));
        self
    }

    /// The default timeout of [`Barrier::wait`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let barrier = gilfree::Barrier::builder(2).timeout(Duration::from_millis(10)).build().unwrap();
    /// assert!(barrier.wait().is_err()); // nobody else came
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the barrier.
    ///
    /// # Errors
    ///
    /// [`ValueError`] "parties must be > 0" for 0 parties.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gilfree::Barrier::builder(0).build().is_err());
    /// ```
    pub fn build(self) -> Result<Barrier, ValueError> {
        if self.parties == 0 {
            return Err(ValueError::new("parties must be > 0"));
        }
        Ok(Barrier {
            parties: self.parties,
            timeout: self.timeout,
            action: self.action,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
                generation: 0,
                action_thread: 0,
            }),
            changed: Condvar::new(),
            completed: AtomicU64::new(0),
        })
    }
}

impl fmt::Debug for BarrierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierBuilder")
            .field("parties", &self.parties)
            .field("action", &self.action.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}
