//! `threading.Barrier`: a fixed number of threads wait for each other, round after round.

use super::super::waiters::{Place, WaitList, Waiter, Woke};
use super::Wait;
use super::rt::{self, AtomicU64, Backoff, Mutex, MutexGuard, Ordering};
use crate::error::{BrokenBarrierError, ValueError};
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
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
    /// Parties (threads and tasks) of the current generation inside `wait`.
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
/// # Threads and tasks
///
/// Threads calling [`wait`](Barrier::wait) and async tasks awaiting
/// [`wait_async`](Barrier::wait_async) are parties of the same rounds, in any mix; whoever
/// arrives last runs the action. [`n_waiting`](Barrier::n_waiting) counts both.
///
/// # Timeouts and cancellation
///
/// The two kinds of waiter give up differently, each as in its Python original:
///
/// * **A thread whose timeout passes breaks the barrier**, and every waiter, thread or task,
///   fails with [`BrokenBarrierError`], as in `threading`. The builder's
///   [`timeout`](BarrierBuilder::timeout) is the default for [`wait`](Barrier::wait);
///   [`wait_timeout`](Barrier::wait_timeout) overrides it.
/// * **A task whose `wait_async` future is dropped** (its runtime's timeout, or any other
///   cancellation) while the round fills **withdraws without breaking it**, as in asyncio: the
///   count of waiting parties drops by one and the round still trips when `parties` parties
///   are in. A later arrival may then get the index the dropped party had.
///
/// Once every party has arrived, neither can fail the round any more: it completes (or
/// breaks) with its action.
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
    /// Threads and tasks waiting for the state to change (their round to complete or break,
    /// or a full round or a reset to finish before they join the next one), in one FIFO.
    /// Every change they wait for wakes them all. Lock order: `state`, then the list's lock.
    waiters: WaitList,
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

    /// Waits for all parties from an async task: the twin of [`wait`](Barrier::wait), asyncio's
    /// `await barrier.wait()`. Threads in [`wait`](Barrier::wait) and tasks here are parties of
    /// the same rounds and queue in one list; the result is the same: this party's index in
    /// the round, or [`BrokenBarrierError`]. If this task arrives last, it runs the action (if
    /// any) before the round is released, as a thread would. [`abort`](Barrier::abort) and
    /// [`reset`](Barrier::reset) wake waiting tasks with [`BrokenBarrierError`].
    ///
    /// The builder's default [`timeout`](BarrierBuilder::timeout) does not apply to tasks.
    /// Needs no particular runtime: any executor drives it. A blocking
    /// [`wait`](Barrier::wait) called from async code blocks that executor thread.
    ///
    /// # Cancellation and timeouts
    ///
    /// Dropping the future while its round is filling withdraws this party: the barrier is not
    /// broken, [`n_waiting`](Barrier::n_waiting) drops by one, and the round still needs
    /// `parties` arrivals (a later arrival may get the index this party had). A dropped party
    /// of a round that has already completed changes nothing. So a timeout is the runtime's
    /// own, `tokio::time::timeout(d, barrier.wait_async())`, and unlike a thread's timeout it
    /// does not break the barrier; see [`Barrier`]'s docs for both rules.
    ///
    /// # Panics
    ///
    /// As [`wait`](Barrier::wait): resumes the action's panic in the task that ran it, and
    /// panics when called (and polled) from the barrier's own action.
    ///
    /// # Examples
    ///
    /// ```
    /// use gilfree::Barrier;
    /// use std::sync::Arc;
    ///
    /// let barrier = Arc::new(Barrier::new(2));
    /// let task = {
    ///     let barrier = Arc::clone(&barrier);
    ///     std::thread::spawn(move || futures::executor::block_on(barrier.wait_async()))
    /// };
    /// let mine = barrier.wait().unwrap(); // a thread and a task in one round
    /// let theirs = task.join().unwrap().unwrap();
    /// assert_eq!(mine + theirs, 1); // indices 0 and 1
    /// ```
    #[doc(alias = "wait")]
    pub fn wait_async(&self) -> impl Future<Output = Result<usize, BrokenBarrierError>> + '_ {
        BarrierWait {
            barrier: self,
            waiter: Waiter::new(&self.waiters),
            stage: Stage::Arriving,
        }
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
        self.check_not_in_action(&state);
        let mut place = Place::new();
        // A full round still running its action, or a reset still letting its waiters out:
        // this thread belongs to the round after (BAR-14).
        while matches!(state.phase, Phase::Action | Phase::Resetting) {
            self.sleep(&mut place, state, None);
            state = self.state.lock();
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
        let (state, result) = self.wait_for_release(state, &mut place, wait, generation);
        if let (Some(mut state), Err(_)) = (state, &result) {
            // Broken here (a timeout), or by an abort or reset: wake everyone (at worst a
            // spurious wake-up for a reset's waiters, who look again and wait).
            let _ = self.leave(&mut state);
            drop(state);
            self.waiters.notify_all();
        }
        result.map(|()| index)
    }

    /// Panics if the calling thread is running this barrier's action.
    #[track_caller]
    fn check_not_in_action(&self, state: &State) {
        if state.action_thread != 0 && state.action_thread == rt::thread::current_id() {
            // The round cannot end before the action returns: a deadlock in Python, where the
            // action holds the barrier's lock. A panic here breaks the barrier (BAR-12).
            panic!(
                "RuntimeError: Barrier::wait called from the barrier's own action: it would \
                 wait for itself"
            );
        }
    }

    /// Queues the calling thread and then lets go of `state`, both under the list's lock, so
    /// that a change made under `state` after the caller looked at it wakes the caller; then
    /// sleeps until such a change (or `deadline`).
    fn sleep(
        &self,
        place: &mut Place,
        state: MutexGuard<'_, State>,
        deadline: Option<rt::Instant>,
    ) -> Woke {
        self.waiters.wait(
            place,
            move || {
                drop(state);
                true
            },
            deadline,
        )
    }

    /// A party of the current generation leaves without the round completing. Returns whether
    /// it ended a reset: the caller then wakes the waiters with [`Self::wake_all`], after
    /// letting go of the state (a waker may run its task on the spot, and that task takes the
    /// state).
    #[must_use]
    fn leave(&self, state: &mut State) -> bool {
        state.count -= 1;
        if state.count == 0 && state.phase == Phase::Resetting {
            state.phase = Phase::Filling;
            return true;
        }
        false
    }

    fn wake_all(&self, wake: bool) {
        if wake {
            self.waiters.notify_all();
        }
    }

    /// The last arriver: run the action, then close the round.
    fn release<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
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
                let _ = self.leave(&mut state); // broken: every waiter is woken below
                drop(state);
                self.waiters.notify_all();
                panic::resume_unwind(payload);
            }
            if state.phase != Phase::Action {
                // abort() or reset() while the action ran.
                let wake = self.leave(&mut state);
                drop(state);
                self.wake_all(wake);
                return Err(BrokenBarrierError);
            }
        }
        state.phase = Phase::Filling;
        state.count = 0;
        state.generation = state.generation.wrapping_add(1);
        self.completed.store(state.generation, Ordering::Release);
        drop(state);
        self.waiters.notify_all();
        Ok(self.parties - 1)
    }

    /// A non-last arriving thread: wait until its round completes (`Ok`) or breaks.
    fn wait_for_release<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        place: &mut Place,
        wait: Wait,
        generation: u64,
    ) -> (
        Option<MutexGuard<'a, State>>,
        Result<(), BrokenBarrierError>,
    ) {
        let mut deadline = match wait {
            Wait::Never => {
                // BAR-13: a zero timeout by a non-last thread breaks the barrier at once.
                self.break_locked(&mut state);
                return (Some(state), Err(BrokenBarrierError));
            }
            Wait::Until(at) => Some(at),
            Wait::Forever => None,
        };
        loop {
            // Released first: a round that completed stays completed even if the barrier was
            // aborted or reset before this thread woke up.
            if state.generation != generation {
                return (Some(state), Ok(()));
            }
            match state.phase {
                Phase::Filling | Phase::Action => {}
                Phase::Resetting | Phase::Broken => return (Some(state), Err(BrokenBarrierError)),
            }
            let timed_out = self.sleep(place, state, deadline) == Woke::TimedOut;
            if !timed_out && self.completed.load(Ordering::Acquire) != generation {
                // Released (the usual wake-up): the round is over for this thread, whatever
                // happens to the barrier next; no need to take the state.
                return (None, Ok(()));
            }
            state = self.state.lock();
            if timed_out && state.generation == generation {
                match state.phase {
                    // BAR-8: the round is incomplete and this thread's time is up.
                    Phase::Filling => {
                        self.break_locked(&mut state);
                        return (Some(state), Err(BrokenBarrierError));
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

    /// Breaks the barrier; the caller wakes the waiters once it has let go of the state.
    fn break_locked(&self, state: &mut State) {
        state.phase = Phase::Broken;
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
        self.waiters.notify_all();
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
        drop(state);
        self.waiters.notify_all();
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

    /// Parties (threads and tasks) currently waiting in the round being filled; 0 while the
    /// barrier drains, is being reset or is broken.
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

/// Where a [`BarrierWait`] stands.
#[derive(Clone, Copy)]
enum Stage {
    /// Not counted in a round yet (it may be waiting for a full round or a reset to end).
    Arriving,
    /// Counted in the round of `generation` as `index`.
    Waiting { index: usize, generation: u64 },
    /// Returned its result.
    Done,
}

/// The future of [`Barrier::wait_async`]. Dropped while `Waiting` in a round that has not
/// completed, it leaves the round; its waiter leaves the list.
struct BarrierWait<'a> {
    barrier: &'a Barrier,
    waiter: Waiter<'a>,
    stage: Stage,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let barrier = this.barrier;
        loop {
            if this.waiter.is_queued() && this.waiter.poll_wait(cx, || true).is_pending() {
                return Poll::Pending;
            }
            let mut state = barrier.state.lock();
            match this.stage {
                Stage::Arriving => {
                    barrier.check_not_in_action(&state);
                    if !matches!(state.phase, Phase::Action | Phase::Resetting) {
                        if state.phase == Phase::Broken {
                            this.stage = Stage::Done;
                            return Poll::Ready(Err(BrokenBarrierError));
                        }
                        let index = state.count;
                        state.count += 1;
                        if index + 1 == barrier.parties {
                            this.stage = Stage::Done;
                            return Poll::Ready(barrier.release(state));
                        }
                        this.stage = Stage::Waiting {
                            index,
                            generation: state.generation,
                        };
                    }
                }
                Stage::Waiting { index, generation } => {
                    // Released first, as for threads.
                    if state.generation != generation {
                        this.stage = Stage::Done;
                        return Poll::Ready(Ok(index));
                    }
                    if matches!(state.phase, Phase::Resetting | Phase::Broken) {
                        let wake = barrier.leave(&mut state);
                        drop(state);
                        barrier.wake_all(wake);
                        this.stage = Stage::Done;
                        return Poll::Ready(Err(BrokenBarrierError));
                    }
                }
                Stage::Done => panic!("Barrier::wait_async polled after it completed"),
            }
            // Queue, then let go of the state, under the list's lock: a change made under the
            // state after this look wakes this task.
            let queued = this.waiter.poll_wait(cx, move || {
                drop(state);
                true
            });
            if queued.is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Stage::Waiting { generation, .. } = self.stage {
            let mut state = self.barrier.state.lock();
            if state.generation == generation {
                // Withdraws from a round that has not completed, without breaking it; during a
                // reset or after a break, leaves like any other party.
                let wake = self.barrier.leave(&mut state);
                drop(state);
                self.barrier.wake_all(wake);
            }
        }
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
            waiters: WaitList::new(),
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
