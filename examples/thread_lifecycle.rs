//! The book's "Life of a Thread": names, states, joins and the module-level bookkeeping
//! functions, one step at a time.
//!
//! Notice, in order:
//! - the main thread is `MainThread`, and in it `main_thread().ident == get_ident()`;
//! - a thread without a name gets `Thread-N` from a process-wide counter; a given name is kept;
//! - `is_alive()` is True while the target runs and turns False *on its own* once it returns,
//!   without anyone calling `join()`;
//! - `join(timeout)` on a running thread gives up after the timeout and leaves it alive (in
//!   Python it returns None and you must ask `is_alive()`; here it answers `Ok(false)`);
//! - `enumerate()` and `active_count()` grow while threads run and shrink back after they end;
//! - `current_thread()` inside a thread is that thread (same name, same ident);
//! - a thread gilfree did not start (a `std::thread`) shows up as a daemon `Dummy-N` thread;
//! - a panic in a thread comes back from `join()` as an error (Python prints it through
//!   `threading.excepthook` and `join()` returns None; Rust's panic hook prints it too, on
//!   stderr, so the "panicked at" line there is expected);
//! - a thread joining itself gets a `RuntimeError` instead of waiting forever;
//! - a `Timer` runs its function once after its interval, unless `cancel()` comes first;
//! - a non-daemon thread still running when `main` returns finishes all the same, as Python's
//!   interpreter waits for it: the guard of `threading::join_at_exit()`, made at the top of
//!   `main`, waits for it (without it, Rust would end the process and the thread with it).
//!
//! Threads are held in each state with `Event`s and `Barrier`s, not sleeps, so every line
//! printed is a state the program has made sure of, on any machine.
//!
//! `cargo run --release --example thread_lifecycle`

use gilfree::threading::{self, Thread, ThreadHandle, Timer};
use gilfree::{Barrier, Event, JoinError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A generous upper bound for anything that should happen "at once": only reached on failure.
const PATIENCE: Duration = Duration::from_secs(5);

fn main() {
    // Python's wait at exit, opted in: dropped when `main` returns, it joins the non-daemon
    // threads still running (and lets every live thread pool finish its tasks).
    let _exit = threading::join_at_exit();
    main_thread();
    let baseline = names_states_and_enumerate();
    alive_until_the_target_returns();
    foreign_thread(baseline);
    panicking_thread();
    joining_oneself();
    timers();
    assert_eq!(
        threading::active_count(),
        baseline,
        "every thread started here has ended"
    );
    println!(
        "\nback to {baseline} active thread(s): {}",
        names(&threading::enumerate())
    );
    left_running_at_exit();
}

/// A non-daemon thread that outlives `main`: the guard made at the top of `main` waits for it.
fn left_running_at_exit() {
    println!("\n== a thread still running when main returns");
    let last = Thread::spawn(|| {
        // Work that takes a while (no synchronisation depends on this sleep).
        std::thread::sleep(Duration::from_millis(100));
        println!(
            "{:?} finished after main returned: nothing was cut off",
            threading::current_thread()
        );
    });
    println!("main returns now, while {last:?} runs; join_at_exit() waits for it");
    drop(last); // detached, like a Python thread that nobody joins
}

fn main_thread() {
    println!("== the main thread");
    // threading.main_thread(), threading.current_thread(), threading.get_ident()
    let main = threading::main_thread();
    let me = threading::current_thread();
    assert_eq!(main.name(), "MainThread");
    assert_eq!(main.ident(), threading::get_ident());
    assert_eq!(me.ident(), main.ident());
    assert_eq!(main.native_id(), threading::get_native_id());
    assert!(main.is_alive() && !main.daemon());
    println!("main_thread()      = {main:?}");
    println!(
        "get_ident()        = {}  (the same as main_thread().ident)",
        threading::get_ident()
    );
    println!(
        "get_native_id()    = {}  (the OS's id for this thread)",
        threading::get_native_id()
    );
}

/// Two threads held inside their targets: their names, their states and the thread list.
/// Returns the number of threads active when nothing started here is running.
fn names_states_and_enumerate() -> usize {
    println!("\n== names, states, join(timeout) and enumerate()");
    let before = threading::enumerate();
    assert_eq!(threading::active_count(), before.len());
    println!(
        "before: active_count() = {}: {}",
        before.len(),
        names(&before)
    );

    // Both targets and the main thread meet at `inside`; the targets then wait for `release`.
    let inside = Arc::new(Barrier::new(3));
    let release = Arc::new(Event::new());
    let target = || {
        let (inside, release) = (Arc::clone(&inside), Arc::clone(&release));
        move || -> (ThreadHandle, u64) {
            inside.wait().expect("barrier");
            release.wait();
            // current_thread() is this very thread: the handle main holds, same ident.
            (threading::current_thread(), threading::get_ident())
        }
    };
    // Thread(target=work).start()
    let unnamed = Thread::spawn(target());
    // Thread(target=work, name="worker-1").start()
    let named = Thread::builder()
        .name("worker-1")
        .spawn(target())
        .expect("spawn worker-1");
    inside.wait().expect("barrier");

    let number = unnamed
        .name()
        .strip_prefix("Thread-")
        .map(str::parse::<u64>);
    assert!(
        matches!(number, Some(Ok(_))),
        "default name {:?}",
        unnamed.name()
    );
    assert_eq!(named.name(), "worker-1");
    for t in [&unnamed, &named] {
        assert!(t.is_alive(), "{} is inside its target", t.name());
        assert!(
            !t.daemon(),
            "daemon defaults to the creator's flag: main is not a daemon"
        );
        assert_ne!(t.ident(), threading::get_ident());
        println!(
            "{:<9} is_alive()={}  daemon={}  ident={}  native_id={}",
            t.name(),
            t.is_alive(),
            t.daemon(),
            t.ident(),
            t.native_id()
        );
    }
    println!("repr: {:?}", unnamed.handle());

    let during = threading::enumerate();
    assert_eq!(threading::active_count(), during.len());
    assert_eq!(during.len(), before.len() + 2);
    assert!(during.contains(unnamed.handle()) && during.contains(named.handle()));
    println!(
        "during: active_count() = {}: {}",
        during.len(),
        names(&during)
    );

    // t.join(timeout=0.05) on a thread that is still running: gives up, thread still alive.
    let waited = Instant::now();
    let finished = unnamed
        .join_timeout(Duration::from_millis(50))
        .expect("join_timeout");
    let waited = waited.elapsed();
    assert!(!finished && unnamed.is_alive());
    println!(
        "{}.join_timeout(50ms) = Ok({finished}) after {waited:.0?}; is_alive() still {}",
        unnamed.name(),
        unnamed.is_alive()
    );

    release.set();
    for t in [unnamed, named] {
        let (handle, name, ident) = (t.handle().clone(), t.name(), t.ident());
        let (seen_inside, ident_inside) = t.join().expect("the target returns normally");
        assert_eq!(
            seen_inside, handle,
            "current_thread() inside is the Thread itself"
        );
        assert_eq!(seen_inside.name(), name);
        assert_eq!(ident_inside, ident);
        assert!(
            !seen_inside.is_alive(),
            "joined: the handle kept from inside sees the end"
        );
        println!("joined {name}: inside, current_thread() was {seen_inside:?} (same ident)");
    }

    let after = threading::enumerate();
    assert_eq!(
        after.len(),
        before.len(),
        "joined threads leave enumerate()"
    );
    println!(
        "after:  active_count() = {}: {}",
        after.len(),
        names(&after)
    );
    after.len()
}

/// is_alive() turns False once the target has returned, with no join().
fn alive_until_the_target_returns() {
    println!("\n== is_alive() without join()");
    let go = Arc::new(Event::new());
    let t = Thread::spawn({
        let go = Arc::clone(&go);
        move || {
            go.wait();
            42
        }
    });
    assert!(t.is_alive());
    println!(
        "target waiting:  {}.is_alive() = {}",
        t.name(),
        t.is_alive()
    );
    go.set();
    // Watch the flag, do not join: it goes False on its own once the target has returned.
    let watched = Instant::now();
    while t.is_alive() {
        assert!(watched.elapsed() < PATIENCE, "is_alive() stayed True");
        std::thread::sleep(Duration::from_micros(100));
    }
    println!(
        "target returned: {}.is_alive() = {} (seen after {:.0?}, no join() called yet)",
        t.name(),
        t.is_alive(),
        watched.elapsed()
    );
    let repr = format!("{:?}", t.handle());
    assert_eq!(t.join().expect("no panic"), 42);
    println!("repr: {repr}; join() then hands back its value, 42");
}

/// A std::thread, which gilfree did not start, is a `Dummy-N` thread to `current_thread()`.
fn foreign_thread(baseline: usize) {
    println!("\n== a thread gilfree did not start");
    let (dummy, repr, alive, listed, count, join) = std::thread::spawn(|| {
        let me = threading::current_thread();
        let listed = threading::enumerate().contains(&me);
        let repr = format!("{me:?}");
        let (alive, count, join) = (me.is_alive(), threading::active_count(), me.join());
        (me, repr, alive, listed, count, join)
    })
    .join() // std's join: the OS thread, thread-locals included, is gone after it
    .expect("the std thread does not panic");
    let number = dummy.name().strip_prefix("Dummy-").map(str::parse::<u64>);
    assert!(
        matches!(number, Some(Ok(_))),
        "dummy name {:?}",
        dummy.name()
    );
    assert!(
        dummy.is_dummy() && dummy.daemon(),
        "a dummy thread is a daemon"
    );
    assert!(
        alive && listed,
        "alive and in enumerate() while its OS thread runs"
    );
    assert_eq!(count, baseline + 1);
    let err = join.expect_err("a dummy thread cannot be joined");
    println!("std::thread::spawn: current_thread() = {repr}");
    println!("  is_alive()={alive}, in enumerate()={listed}, active_count()={count}");
    println!("  its join() = Err({err})");
    let now = threading::enumerate();
    assert!(!dummy.is_alive() && !now.contains(&dummy));
    assert_eq!(
        now.len(),
        baseline,
        "the dummy left when its OS thread ended"
    );
    println!("after it ended: {dummy:?}, active_count() = {}", now.len());
}

/// A panic in the target comes back from join() instead of the value.
fn panicking_thread() {
    println!("\n== a thread that panics");
    let t = Thread::builder()
        .name("doomed")
        .spawn(|| -> u32 { panic!("division by zero (on purpose)") })
        .expect("spawn doomed");
    let err = t.join().expect_err("the panic comes back from join()");
    let JoinError::Panicked {
        thread, message, ..
    } = &err
    else {
        panic!("expected JoinError::Panicked, got {err:?}");
    };
    assert_eq!(thread, "doomed");
    assert_eq!(message, "division by zero (on purpose)");
    println!("join() = Err({err})");
    println!("  (the \"panicked at\" line on stderr is Rust's hook, Python's excepthook)");
}

/// Joining the current thread is a RuntimeError, never a deadlock.
fn joining_oneself() {
    println!("\n== joining oneself");
    // Python: threading.current_thread().join()  ->  RuntimeError
    let err = threading::current_thread()
        .join()
        .expect_err("the main thread cannot join itself");
    println!("main: current_thread().join() = Err({err})");
    let t = Thread::spawn(|| {
        let me = threading::current_thread();
        (me.join(), me.join_timeout(Duration::from_millis(10)))
    });
    let name = t.name();
    let (join, join_timeout) = t.join().expect("no panic");
    let (join, join_timeout) = (
        join.expect_err("a thread cannot join itself"),
        join_timeout.expect_err("not even with a timeout"),
    );
    println!("{name}: current_thread().join() = Err({join})");
    println!("{name}: current_thread().join_timeout(10ms) = Err({join_timeout})");
}

/// A Timer that fires, and one that is cancelled first.
fn timers() {
    println!("\n== Timer");
    // Timer(0.05, fired.set).start()
    let fired = Arc::new(Event::new());
    let started = Instant::now();
    let timer = Timer::start(Duration::from_millis(50), {
        let fired = Arc::clone(&fired);
        move || fired.set()
    });
    assert!(fired.wait_timeout(PATIENCE), "the timer never fired");
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(50),
        "fired early, after {after:?}"
    );
    assert!(timer.join_timeout(PATIENCE).expect("join_timeout"));
    assert!(!timer.cancel(), "too late to cancel: it has fired");
    println!("Timer(50ms) fired after {after:.0?}; then its thread ended: {timer:?}");
    timer.join().expect("the timer's function does not panic");

    // Timer(60, ring).start(); timer.cancel()
    let rang = Arc::new(Event::new());
    let timer = Timer::start(Duration::from_secs(60), {
        let rang = Arc::clone(&rang);
        move || rang.set()
    });
    assert!(timer.is_alive());
    println!("Timer(60s) started: {timer:?}");
    let started = Instant::now();
    let stopped = timer.cancel();
    let again = timer.cancel();
    assert!(
        stopped && !again,
        "the first cancel stops it, the second has nothing to do"
    );
    // The cancelled timer's thread ends at once, not after the 60 s.
    assert!(timer.join_timeout(PATIENCE).expect("join_timeout"));
    let ended = started.elapsed();
    assert!(!timer.is_alive() && !rang.is_set());
    println!("cancel() = {stopped}, cancel() again = {again}");
    println!("its thread ended {ended:.0?} later, the function never ran: {timer:?}");
    timer.join().expect("a cancelled timer joins cleanly");
}

fn names(threads: &[ThreadHandle]) -> String {
    let names: Vec<String> = threads.iter().map(ThreadHandle::name).collect();
    names.join(", ")
}
