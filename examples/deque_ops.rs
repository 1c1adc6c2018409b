//! The book's tour of `collections.deque`, on `gilfree::Deque`: a double-ended queue that
//! many threads can use at once (every method takes `&self` and is atomic).
//!
//! Notice, in order:
//! - `append` / `append_left` add at either end, `pop` / `pop_left` take from either end;
//! - `extend_left` adds its items one by one at the left, so they end up *reversed*;
//! - `insert` indexes like Python's `list.insert`: negative counts from the end, and an index
//!   out of range clamps to the nearest end instead of failing;
//! - `rotate(n)` turns right, `rotate(-n)` left, and `n` counts modulo the length;
//! - with a `maxlen`, adding at one end evicts from the other, and the evicted item is
//!   *returned* (Python just drops it); `insert` into a full bounded deque is an IndexError;
//! - `remove`, `count` and `index` compare by value, as in Python;
//! - two threads logging into one bounded deque keep "the last N events": nothing is lost or
//!   duplicated — every event is either still in the log or was handed back as evicted.
//!
//! `Debug` prints a deque as Python's `repr()` does: `deque([1, 2], maxlen=3)`. Every claim
//! printed is also asserted.
//!
//! `cargo run --release --example deque_ops`

use gilfree::{Barrier, Deque};
use std::collections::HashSet;
use std::thread;
use std::time::Instant;

fn main() {
    let started = Instant::now();
    both_ends();
    extending();
    inserting();
    rotating();
    bounded();
    searching();
    last_n_events();
    println!("\nall deque claims held ({:.0?})", started.elapsed());
}

fn text(dq: &Deque<char>) -> String {
    dq.to_vec().into_iter().collect()
}

/// append, append_left, pop, pop_left.
fn both_ends() {
    println!("== append and pop at both ends");
    let dq = Deque::new();
    dq.append('b');
    dq.append('c');
    dq.append_left('a');
    println!("append('b'), append('c'), append_left('a') -> {dq:?}");
    assert_eq!(text(&dq), "abc");
    let right = dq.pop();
    let left = dq.pop_left();
    println!("pop() -> {right:?}, pop_left() -> {left:?}, leaving {dq:?}");
    assert_eq!((right, left), (Some('c'), Some('a')));
    assert_eq!(text(&dq), "b");
    dq.pop();
    let nothing = dq.pop_left();
    println!("popping an empty deque -> {nothing:?} (Python raises IndexError)");
    assert_eq!(nothing, None);
}

/// extend and extend_left: the left one reverses.
fn extending() {
    println!("\n== extend and extend_left");
    let dq: Deque<i32> = [10, 20].into_iter().collect();
    dq.extend([1, 2, 3]);
    println!("deque([10, 20]).extend([1, 2, 3])      -> {dq:?}");
    assert_eq!(dq.to_vec(), [10, 20, 1, 2, 3]);
    let dq: Deque<i32> = [10, 20].into_iter().collect();
    dq.extend_left([1, 2, 3]);
    println!("deque([10, 20]).extend_left([1, 2, 3]) -> {dq:?}  (reversed: 1 went in first)");
    assert_eq!(dq.to_vec(), [3, 2, 1, 10, 20]);
}

/// insert with list.insert's indexing.
fn inserting() {
    println!("\n== insert(i, x): list.insert's indexes");
    for (at, want) in [
        (1, "AxBC"),
        (-1, "ABxC"),
        (-3, "xABC"),
        (-20, "xABC"),
        (3, "ABCx"),
        (20, "ABCx"),
    ] {
        let dq: Deque<char> = "ABC".chars().collect();
        dq.insert(at, 'x').unwrap();
        println!("deque('ABC').insert({at:>3}, 'x') -> {dq:?}");
        assert_eq!(text(&dq), want);
    }
    println!("(negative counts from the end; out of range clamps to the ends, no error)");
}

/// rotate right, left, and modulo the length.
fn rotating() {
    println!("\n== rotate(n)");
    let dq: Deque<char> = "abcde".chars().collect();
    dq.rotate(2);
    println!("deque('abcde').rotate(2)  -> {dq:?}  (right: the last two come to the front)");
    assert_eq!(text(&dq), "deabc");
    dq.rotate(-2);
    println!("then rotate(-2)           -> {dq:?}  (left: back where it was)");
    assert_eq!(text(&dq), "abcde");
    dq.rotate(-1);
    println!("then rotate(-1)           -> {dq:?}");
    assert_eq!(text(&dq), "bcdea");
    dq.rotate(6);
    println!("then rotate(6)            -> {dq:?}  (6 = 1 modulo the length 5)");
    assert_eq!(text(&dq), "abcde");
}

/// maxlen: the other end is evicted, and the evicted item comes back.
fn bounded() {
    println!("\n== a bounded deque: deque(maxlen=3)");
    let dq = Deque::with_maxlen(3);
    for n in 1..=5 {
        let evicted = dq.append(n);
        println!("append({n}) -> evicted {evicted:?}, now {dq:?}");
        let want = if n > 3 { Some(n - 3) } else { None };
        assert_eq!(evicted, want);
    }
    let evicted = dq.append_left(0);
    println!("append_left(0) -> evicted {evicted:?} from the right, now {dq:?}");
    assert_eq!(evicted, Some(5));
    assert_eq!(dq.to_vec(), [0, 3, 4]);

    dq.extend(10..20);
    println!("extend(range(10, 20)) keeps the last 3: {dq:?}");
    assert_eq!(dq.to_vec(), [17, 18, 19]);
    assert_eq!(dq.len(), dq.maxlen().unwrap());

    let err = dq.insert(1, 99).unwrap_err();
    assert_eq!(err.message(), "deque already at its maximum size");
    println!("insert(1, 99) into the full deque -> {err}");
    let back = err.into_inner();
    println!("  and the item comes back: {back}");
    assert_eq!(back, 99);
    assert_eq!(dq.to_vec(), [17, 18, 19], "a failed insert changes nothing");
}

/// remove, count, index (and `in`).
fn searching() {
    println!("\n== remove, count and index");
    let dq: Deque<char> = "abracadabra".chars().collect();
    println!("{dq:?}");
    let a = dq.count(&'a');
    let c = dq.index(&'c');
    let b_after_2 = dq.index_range(&'b', 2, isize::MAX);
    println!("count('a') = {a}, index('c') = {c:?}, index('b', 2) = {b_after_2:?}");
    assert_eq!((a, c, b_after_2), (5, Some(4), Some(8)));
    assert_eq!(dq.index(&'z'), None);

    let removed = dq.remove(&'r');
    println!(
        "remove('r') takes the first 'r' only -> {removed:?}: {}",
        text(&dq)
    );
    assert_eq!(removed, Ok('r'));
    assert_eq!(text(&dq), "abacadabra");
    assert_eq!(dq.count(&'r'), 1);
    let err = dq.remove(&'z').unwrap_err();
    println!("remove('z') -> {err}");
    assert!(!dq.contains(&'z'));
    println!(
        "d[0] = {:?}, d[-1] = {:?}, 'd' in d: {}",
        dq.get(0),
        dq.get(-1),
        dq.contains(&'d')
    );
    assert_eq!((dq.get(0), dq.get(-1)), (Some('a'), Some('a')));
    assert!(dq.contains(&'d'));
}

/// Two threads append to one bounded deque: a log that keeps the last N events.
fn last_n_events() {
    const N: usize = 8;
    const EVENTS: u32 = 50_000;
    println!("\n== two threads logging into deque(maxlen={N}): the last {N} events");
    let log = Deque::with_maxlen(N);
    let start = Barrier::new(2); // both writers start together, so their appends interleave
    let evicted: Vec<Vec<(char, u32)>> = thread::scope(|s| {
        let writers: Vec<_> = ['A', 'B']
            .into_iter()
            .map(|who| {
                let (log, start) = (&log, &start);
                s.spawn(move || {
                    start.wait().unwrap();
                    // Each append that pushes out the oldest event hands it back.
                    (0..EVENTS)
                        .filter_map(|seq| log.append((who, seq)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let last = log.to_vec();
    println!("after 2 x {EVENTS} appends: {log:?}");
    assert_eq!(last.len(), N);

    // Nothing lost, nothing duplicated: every event is in the log or came back evicted, once.
    let evicted_count: usize = evicted.iter().map(Vec::len).sum();
    let mut all: HashSet<(char, u32)> = HashSet::new();
    for event in evicted.iter().flatten().chain(&last) {
        assert!(all.insert(*event), "{event:?} seen twice");
    }
    println!(
        "{evicted_count} events came back from append() as evicted + {} still in the log = {} (every event, each once)",
        last.len(),
        all.len()
    );
    assert_eq!(evicted_count + N, 2 * EVENTS as usize);
    assert_eq!(all.len(), 2 * EVENTS as usize);

    // How much the two writers interleaved (varies from run to run): evictions of the other
    // writer's events.
    let cross: Vec<usize> = evicted
        .iter()
        .zip(['A', 'B'])
        .map(|(events, me)| events.iter().filter(|(w, _)| *w != me).count())
        .collect();
    println!(
        "(this run: A's appends pushed out {} of B's events, B's pushed out {} of A's)",
        cross[0], cross[1]
    );

    // Each writer's events stay in the order it logged them: in the log, and in what each
    // thread was handed back as evicted (evictions happen oldest first).
    for events in evicted.iter().chain([&last]) {
        for who in ['A', 'B'] {
            let seqs: Vec<u32> = events
                .iter()
                .filter(|(w, _)| *w == who)
                .map(|&(_, seq)| seq)
                .collect();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "{who}'s events out of order"
            );
        }
    }
    // The log holds the newest events: its last one is the final append of all, which is the
    // final event of whichever writer finished last.
    let newest = last[N - 1];
    assert_eq!(newest.1, EVENTS - 1);
    println!(
        "each writer's events stay in order; the newest entry {newest:?} is writer {}'s final event",
        newest.0
    );
}
