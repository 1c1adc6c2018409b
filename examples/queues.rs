//! The book's "Communication between threads", queue by queue: `queue.Queue` (FIFO),
//! `LifoQueue` and `PriorityQueue`, a bounded queue that pushes back, a worker pool that
//! knows when its work is done (`task_done` / `join`), and Python 3.13's `shutdown`.
//!
//! Notice, in order:
//! - the same five puts come out in three different orders: as put (FIFO), reversed (LIFO),
//!   and smallest first (priority; `(priority, name)` tuples order by priority, then name);
//! - a full bounded queue refuses `put_nowait` at once and `put_timeout` after the timeout,
//!   and in both cases hands the item back inside `PutError::Full(item)`: nothing is lost;
//!   a blocking `put` simply waits until a `get` makes room;
//! - `join()` returns only when every item put has been marked `task_done()` — *after* the
//!   workers finished with them, not when they were taken — so the results are complete;
//! - with jobs as tiny as these, the jobs per worker are uneven, often all on one worker:
//!   a job takes well under a microsecond and waking a sleeping thread takes tens of them,
//!   so the worker that is already running takes the next job before another wakes up (the
//!   same happens in Python); jobs that wait a little, as for I/O, keep their worker busy
//!   and the others share the queue;
//! - `shutdown()` refuses new puts (the item comes back in `ShutDown(item)`), lets consumers
//!   drain what is left and then gives them `Err(ShutDown)`: the worker loop's exit;
//! - `shutdown(immediate=True)` discards what is queued (the items are dropped), counts their
//!   tasks as done and so releases `join()`, except for items a worker already holds.
//!
//! Every line printed is also asserted; threads are coordinated with the queues themselves,
//! never with sleeps.
//!
//! `cargo run --release --example queues`

use gilfree::{GetError, LifoQueue, PriorityQueue, PutError, Queue, ShutDown, Thread};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// How long the "nobody will make room" demonstrations wait.
const SHORT: Duration = Duration::from_millis(50);

fn main() {
    let started = Instant::now();
    three_orders();
    bounded_queue();
    worker_pool();
    sharing();
    plain_shutdown();
    immediate_shutdown();
    println!("\nall queue claims held ({:.0?})", started.elapsed());
}

/// `Queue`, `LifoQueue` and `PriorityQueue`: the same puts, three get orders.
fn three_orders() {
    println!("== FIFO, LIFO and priority: the same puts, three orders");
    let jobs = [
        (3, "write report"),
        (1, "fix outage"),
        (2, "review patch"),
        (1, "answer page"),
        (5, "tidy desk"),
    ];
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for job in jobs {
        fifo.put(job).unwrap();
        lifo.put(job).unwrap();
        prio.put(job).unwrap();
    }
    println!("put, in this order:  {:?}", names(&jobs));
    println!("{fifo:?}");
    let fifo_order: Vec<_> = fifo.try_iter().collect();
    let lifo_order: Vec<_> = lifo.try_iter().collect();
    let prio_order: Vec<_> = prio.try_iter().collect();
    println!("Queue         gets:  {:?}", names(&fifo_order));
    println!("LifoQueue     gets:  {:?}", names(&lifo_order));
    println!("PriorityQueue gets:  {:?}", prio_order);

    assert_eq!(fifo_order, jobs, "FIFO: the order of the puts");
    let reversed: Vec<_> = jobs.iter().rev().copied().collect();
    assert_eq!(lifo_order, reversed, "LIFO: the last put comes out first");
    let mut sorted = jobs.to_vec();
    sorted.sort();
    assert_eq!(prio_order, sorted, "priority: the smallest tuple first");
    assert_eq!(prio_order[0], (1, "answer page"), "ties broken by the name");
    assert!(fifo.empty() && lifo.empty() && prio.empty());
}

fn names<'a>(jobs: &[(u32, &'a str)]) -> Vec<&'a str> {
    jobs.iter().map(|&(_, name)| name).collect()
}

/// A bounded queue: `put_nowait` and `put_timeout` give the item back; `put` waits for room.
fn bounded_queue() {
    println!("\n== a bounded queue: Queue(maxsize=2)");
    let q = Queue::new(2);
    q.put("a".to_string()).unwrap();
    q.put("b".to_string()).unwrap();
    assert!(q.full() && q.qsize() == 2);
    println!("two puts: full() = {} -> {q:?}", q.full());

    // Python: q.put("c", block=False) raises queue.Full, and "c" is gone unless you kept it.
    let err = q.put_nowait("c".to_string()).unwrap_err();
    assert!(err.is_full());
    let c = err.into_inner();
    println!("put_nowait(\"c\") -> Full, and the item comes back: {c:?}");
    assert_eq!(c, "c");

    let t = Instant::now();
    let err = q.put_timeout(c, SHORT).unwrap_err();
    let waited = t.elapsed();
    assert!(
        waited >= SHORT.mul_f64(0.6),
        "gave up too early: {waited:?}"
    );
    assert_eq!(err, PutError::Full("c".to_string()));
    let c = err.into_inner();
    println!("put_timeout(\"c\", {SHORT:?}) -> Full after {waited:.0?}, {c:?} handed back again");

    // A blocking put from another thread cannot complete while the queue is full; the get
    // below makes room, and only then does it go through.
    thread::scope(|s| {
        let putter = s.spawn(|| q.put(c));
        assert!(
            !putter.is_finished(),
            "put() must wait while the queue is full"
        );
        let first = q.get().unwrap();
        putter.join().unwrap().unwrap();
        println!(
            "another thread's blocking put(\"c\") went through once get() took {first:?} and made room"
        );
        assert_eq!(first, "a");
    });
    let rest: Vec<_> = q.try_iter().collect();
    println!("left in the queue, in order: {rest:?}");
    assert_eq!(rest, ["b", "c"]);
}

/// The book's worker pool: producers put jobs, workers take them, `join()` waits for all of
/// them to be finished, then `shutdown()` ends the workers' loops.
fn worker_pool() {
    const WORKERS: usize = 4;
    const JOBS: u64 = 200;
    println!("\n== a worker pool: {WORKERS} workers, {JOBS} jobs, task_done() and join()");
    let jobs = Arc::new(Queue::new(16)); // bounded: the producer cannot run far ahead
    let results = Arc::new(Queue::new(0));
    let workers: Vec<Thread<u64>> = (0..WORKERS)
        .map(|_| {
            let (jobs, results) = (Arc::clone(&jobs), Arc::clone(&results));
            Thread::spawn(move || {
                let mut done = 0;
                // Python: while True: n = q.get(); ...; q.task_done()
                // Here the loop ends on its own once the queue is shut down and drained.
                while let Ok(n) = jobs.get() {
                    results.put((n, collatz_steps(n))).unwrap();
                    jobs.task_done().unwrap();
                    done += 1;
                }
                done
            })
        })
        .collect();

    for n in 1..=JOBS {
        jobs.put(n).unwrap();
    }
    jobs.join(); // every job put has been task_done()'d
    println!("join() returned: {jobs:?}");
    assert_eq!(jobs.unfinished_tasks(), 0);
    // task_done() came after each result was put, so every result is already there.
    assert_eq!(results.qsize() as u64, JOBS);
    let mut answers: Vec<(u64, u32)> = results.try_iter().collect();
    answers.sort();
    assert!(answers.iter().map(|&(n, _)| n).eq(1..=JOBS));
    let (n, steps) = answers
        .iter()
        .max_by_key(|&&(_, steps)| steps)
        .copied()
        .unwrap();
    println!(
        "all {JOBS} results were in when join() returned; the longest Collatz run: {n} takes {steps} steps"
    );
    assert_eq!((n, steps), (171, 124));

    jobs.shutdown(false); // the workers' get() now returns Err(ShutDown)
    let per_worker: Vec<u64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    println!("shutdown() ended the workers' loops; jobs per worker: {per_worker:?}");
    println!(
        "  (uneven, at times all on one worker: a job takes under a microsecond, less than \
         waking a sleeping worker, so a worker already running takes the next job first)"
    );
    assert_eq!(per_worker.iter().sum::<u64>(), JOBS);
    let err = jobs.task_done().unwrap_err();
    println!("one task_done() too many -> {err}");
}

/// The same kind of pool with jobs that wait (as for I/O): a waiting worker cannot take the
/// next job, so a sleeping one is woken for it and the workers share the queue.
fn sharing() {
    const WORKERS: usize = 4;
    const JOBS: u64 = 100;
    const WAIT: Duration = Duration::from_millis(2);
    println!("\n== {JOBS} jobs that each wait {WAIT:?} (as for I/O): the {WORKERS} workers share");
    let jobs = Arc::new(Queue::new(0));
    for n in 1..=JOBS {
        jobs.put(n).unwrap();
    }
    jobs.shutdown(false); // the workers drain the queue, then their loops end
    let started = Instant::now();
    let workers: Vec<Thread<u64>> = (0..WORKERS)
        .map(|_| {
            let jobs = Arc::clone(&jobs);
            Thread::spawn(move || {
                let mut done = 0;
                while jobs.get().is_ok() {
                    thread::sleep(WAIT); // the job's work: waiting, as for a download
                    jobs.task_done().unwrap();
                    done += 1;
                }
                done
            })
        })
        .collect();
    let per_worker: Vec<u64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    println!(
        "jobs per worker: {per_worker:?}, in {:.0?} (one worker alone: at least {:.0?})",
        started.elapsed(),
        WAIT * JOBS as u32
    );
    assert_eq!(per_worker.iter().sum::<u64>(), JOBS);
    assert_eq!(jobs.unfinished_tasks(), 0);
}

/// Steps for `n` to reach 1 in the Collatz sequence: a little work per job.
fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

/// Python 3.13's `shutdown()`: no more puts; consumers drain what is left, then see ShutDown.
fn plain_shutdown() {
    println!("\n== shutdown(): consumers drain the queue, then get ShutDown");
    let q = Queue::new(0);
    for n in 1..=6 {
        q.put(n).unwrap();
    }
    q.shutdown(false);
    let late = q.put(99);
    assert_eq!(late, Err(ShutDown(99)));
    let ShutDown(back) = late.unwrap_err();
    println!("after shutdown(): put(99) -> Err(ShutDown({back})), the item handed back; {q:?}");
    assert!(q.is_shutdown() && q.qsize() == 6);

    let drained: Vec<Vec<i32>> = thread::scope(|s| {
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut got = Vec::new();
                    loop {
                        match q.get() {
                            Ok(n) => {
                                got.push(n);
                                q.task_done().unwrap();
                            }
                            Err(ShutDown(())) => return got, // empty and shut down
                        }
                    }
                })
            })
            .collect();
        consumers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let mut all: Vec<i32> = drained.concat();
    all.sort();
    println!("two consumers drained {drained:?}, then both got Err(ShutDown)");
    assert_eq!(all, [1, 2, 3, 4, 5, 6]);
    q.join(); // every drained item was task_done()'d
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));

    // A consumer waiting on an empty queue is woken by shutdown() too.
    let idle: Queue<i32> = Queue::new(0);
    let woke = thread::scope(|s| {
        let waiter = s.spawn(|| idle.get());
        idle.shutdown(false);
        waiter.join().unwrap()
    });
    assert_eq!(woke, Err(ShutDown(())));
    println!(
        "a consumer waiting on an empty queue: shutdown() woke it with {}",
        woke.unwrap_err()
    );
}

/// `shutdown(immediate=True)`: the queued items are discarded and their tasks count as done.
fn immediate_shutdown() {
    println!("\n== shutdown(immediate=True): discard the backlog, release join()");
    let q = Queue::new(0);
    let token = Arc::new(()); // each item holds a clone, so we can watch them being dropped
    for n in 0..10 {
        q.put((n, Arc::clone(&token))).unwrap();
    }
    let in_hand = q.get().unwrap(); // a worker has started on item 0
    assert_eq!(Arc::strong_count(&token), 11);
    println!("10 put, 1 taken and still being worked on: {q:?}");

    thread::scope(|s| {
        let joiner = s.spawn(|| {
            q.join();
            Instant::now()
        });
        q.shutdown(true);
        println!("shutdown(immediate=True): {q:?}");
        assert_eq!(q.qsize(), 0);
        assert_eq!(
            q.unfinished_tasks(),
            1,
            "only the item in hand is unfinished"
        );
        assert_eq!(
            Arc::strong_count(&token),
            2,
            "the 9 queued items were dropped"
        );
        println!(
            "the 9 queued items were dropped (only the one in hand is alive); get_nowait() -> {:?}",
            q.get_nowait().map(|(n, _)| n)
        );
        assert_eq!(q.get_nowait().map(|(n, _)| n), Err(GetError::ShutDown));

        let released = q.join_timeout(SHORT);
        println!("join_timeout({SHORT:?}) -> {released}: the item in hand is not done yet");
        assert!(!released && !joiner.is_finished());
        let finished_at = Instant::now();
        drop(in_hand);
        q.task_done().unwrap();
        let returned_at = joiner.join().unwrap();
        assert!(
            returned_at >= finished_at,
            "join() returned before task_done()"
        );
    });
    println!("task_done() on it -> the thread waiting in join() returned; {q:?}");
    assert_eq!(Arc::strong_count(&token), 1);
    assert_eq!(q.unfinished_tasks(), 0);
}
