//! Dining philosophers: five philosophers round a table, one fork between each pair; a
//! philosopher needs both neighbouring forks to eat.
//!
//! Part 1 shows the classic deadlock — everyone picks up their left fork, then reaches for the
//! right one, which their neighbour is holding — and uses `acquire_timeout` (Python's
//! `acquire(timeout=...)`) to *detect* it instead of hanging forever.
//!
//! Part 2 fixes it with resource ordering (Dijkstra's solution): number the forks and always
//! pick up the lower-numbered one first. Then no cycle of waiting philosophers can form, so
//! there is no deadlock to recover from, and the proof does not depend on timing.
//!
//! Why not the book's other fix, "take the left fork, *try* the right one, put the left one
//! down and retry if it is busy"? It avoids deadlock too, but all five can keep picking up and
//! putting down in step (livelock), and how long it takes depends on back-off tuning. Ordering
//! needs neither.
//!
//! `cargo run --release --example dining_philosophers`

use gilfree::{Barrier, Lock};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

const PHILOSOPHERS: usize = 5;
const MEALS: u32 = 10_000;

fn main() {
    deadlock_detected();
    ordered_forks();
}

/// Everyone holds their left fork; nobody can get a right fork. `acquire_timeout` reports it.
fn deadlock_detected() {
    println!("Part 1: everyone takes the left fork first");
    // forks = [threading.Lock() for _ in range(5)]
    let forks: Vec<Lock> = (0..PHILOSOPHERS).map(|_| Lock::new()).collect();
    // Barriers make the bad interleaving certain instead of merely likely.
    let all_holding_left = Barrier::new(PHILOSOPHERS);
    let all_tried_right = Barrier::new(PHILOSOPHERS);
    let patience = Duration::from_millis(100);

    let started = Instant::now();
    let got_right: Vec<bool> = thread::scope(|s| {
        let handles: Vec<_> = (0..PHILOSOPHERS)
            .map(|i| {
                let (forks, all_holding_left, all_tried_right) =
                    (&forks, &all_holding_left, &all_tried_right);
                s.spawn(move || {
                    let _left = forks[i].acquire(); // with left_fork:
                    all_holding_left.wait().unwrap();
                    // right_fork.acquire(timeout=0.1): held by the neighbour, who is waiting
                    // for *their* right fork...
                    let right = forks[(i + 1) % PHILOSOPHERS].acquire_timeout(patience);
                    let got = right.is_some();
                    drop(right);
                    all_tried_right.wait().unwrap(); // keep the left fork until all have tried
                    got
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        got_right.iter().all(|&got| !got),
        "with every left fork held, no right fork can be free: {got_right:?}"
    );
    println!(
        "  all {PHILOSOPHERS} gave up on their right fork after {patience:?}: a deadlock, \
         detected in {:.0?} instead of hanging forever\n",
        started.elapsed()
    );
}

/// Resource ordering: always the lower-numbered fork first. Everyone eats every meal.
fn ordered_forks() {
    println!("Part 2: always take the lower-numbered fork first");
    // Each fork counts the meals it has served, so we can check how they were shared.
    let forks: Vec<Lock<u32>> = (0..PHILOSOPHERS).map(|_| Lock::with_value(0)).collect();

    let started = Instant::now();
    // Per philosopher: (meals eaten, times a fork was busy and they had to wait for it).
    let results: Vec<(u32, u32)> = thread::scope(|s| {
        let handles: Vec<_> = (0..PHILOSOPHERS)
            .map(|i| {
                let forks = &forks;
                s.spawn(move || {
                    let (left, right) = (i, (i + 1) % PHILOSOPHERS);
                    let (first, second) = (left.min(right), left.max(right));
                    let (mut meals, mut waited) = (0, 0);
                    while meals < MEALS {
                        think();
                        // acquire(blocking=False) first, only to count contention; then wait.
                        let mut a = forks[first].try_acquire().unwrap_or_else(|| {
                            waited += 1;
                            forks[first].acquire()
                        });
                        let mut b = forks[second].try_acquire().unwrap_or_else(|| {
                            waited += 1;
                            forks[second].acquire()
                        });
                        eat();
                        *a += 1;
                        *b += 1;
                        meals += 1;
                    }
                    (meals, waited)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    for (i, &(meals, waited)) in results.iter().enumerate() {
        println!("  philosopher {i}: {meals} meals, waited for a busy fork {waited} times");
        assert_eq!(meals, MEALS, "philosopher {i} went hungry");
    }
    let served: Vec<u32> = forks.into_iter().map(Lock::into_inner).collect();
    println!("  meals served by each fork: {served:?}");
    for (j, &n) in served.iter().enumerate() {
        // Fork j lies between philosophers j-1 and j: it served both of their meals, no more.
        assert_eq!(n, 2 * MEALS, "fork {j}");
    }
    let total: u32 = results.iter().map(|&(meals, _)| meals).sum();
    println!("  all {total} meals eaten in {elapsed:.0?}, no deadlock");
}

/// A moment of thought (work done without forks).
fn think() {
    black_box((0..200u32).fold(0u32, |acc, x| acc.wrapping_add(black_box(x))));
}

/// A moment of eating (work done holding both forks).
fn eat() {
    black_box((0..100u32).fold(0u32, |acc, x| {
        acc.wrapping_mul(31).wrapping_add(black_box(x))
    }));
}
