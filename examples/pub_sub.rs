//! Publisher and subscribers around a `threading.Condition`.
//!
//! This is *broadcast*: every subscriber receives every item, in order (like a news feed),
//! rather than work-sharing, where each item goes to one consumer (that is what a queue is
//! for). The publisher and subscribers share one board, protected by the condition's lock:
//!
//! * a ring of at most `CAPACITY` items that some subscriber has not read yet,
//! * a cursor per subscriber: the sequence number of the next item it will read.
//!
//! The condition is used in both directions. Subscribers wait for "an item past my cursor, or
//! the feed is closed"; the publisher waits for "room in the ring" — back-pressure: a slow
//! subscriber holds the publisher back instead of letting the ring grow without bound. The
//! oldest item is dropped from the ring only once every cursor has passed it.
//!
//! `cargo run --release --example pub_sub`

use gilfree::Condition;
use std::collections::VecDeque;
use std::thread;
use std::time::Instant;

const ITEMS: u32 = 1_000;
const SUBSCRIBERS: usize = 3;
const CAPACITY: usize = 8;

/// What the condition's lock protects.
struct Board {
    /// Items not yet read by every subscriber; `ring[0]` has sequence number `first_seq`.
    ring: VecDeque<u32>,
    first_seq: usize,
    /// Per subscriber: the sequence number of the next item to read.
    cursors: [usize; SUBSCRIBERS],
    /// The publisher is done; nothing will be added.
    closed: bool,
}

impl Board {
    /// The sequence number the next published item will get.
    fn end_seq(&self) -> usize {
        self.first_seq + self.ring.len()
    }
}

fn main() {
    // Python: board = threading.Condition()  (with the state kept beside it)
    let board = Condition::with_value(Board {
        ring: VecDeque::with_capacity(CAPACITY),
        first_seq: 0,
        cursors: [0; SUBSCRIBERS],
        closed: false,
    });

    let started = Instant::now();
    let (stalls, received) = thread::scope(|s| {
        let subscribers: Vec<_> = (0..SUBSCRIBERS)
            .map(|me| {
                let board = &board;
                s.spawn(move || subscribe(board, me))
            })
            .collect();
        let stalls = publish(&board);
        let received: Vec<(Vec<u32>, usize)> =
            subscribers.into_iter().map(|h| h.join().unwrap()).collect();
        (stalls, received)
    });
    let elapsed = started.elapsed();

    let expected: Vec<u32> = (1..=ITEMS).collect();
    println!(
        "published 1..={ITEMS} to {SUBSCRIBERS} subscribers through a ring of {CAPACITY} in {elapsed:.0?}"
    );
    println!("publisher found the ring full (back-pressure) {stalls} times");
    for (me, (items, wakeups)) in received.iter().enumerate() {
        println!(
            "  subscriber {me}: {} items, first {:?}, last {:?}, read in {wakeups} batches",
            items.len(),
            items.first(),
            items.last()
        );
        // Every item, once, in publication order: none lost, none duplicated, none reordered.
        assert_eq!(items, &expected, "subscriber {me}");
    }
    let board = board.into_inner();
    assert!(
        board.ring.is_empty(),
        "every item was read by everyone and dropped"
    );
    assert_eq!(board.cursors, [ITEMS as usize; SUBSCRIBERS]);
}

/// Publishes 1..=ITEMS, then closes the feed. Returns how often it had to wait for room.
fn publish(board: &Condition<gilfree::Lock<Board>>) -> usize {
    let mut stalls = 0;
    for item in 1..=ITEMS {
        let mut b = board.acquire(); // with board:
        if b.ring.len() == CAPACITY {
            stalls += 1;
        }
        b.wait_for(|b| b.ring.len() < CAPACITY); //   board.wait_for(lambda: len(ring) < CAPACITY)
        b.ring.push_back(item);
        b.notify_all(); //   board.notify_all()
    }
    let mut b = board.acquire();
    b.closed = true;
    b.notify_all();
    stalls
}

/// Reads every item from its own cursor until the feed is closed and drained.
/// Returns the items and how many wake-ups (batches) it took.
fn subscribe(board: &Condition<gilfree::Lock<Board>>, me: usize) -> (Vec<u32>, usize) {
    let mut items = Vec::with_capacity(ITEMS as usize);
    let mut batches = 0;
    loop {
        let mut b = board.acquire();
        b.wait_for(|b| b.cursors[me] < b.end_seq() || b.closed);
        let (from, to) = (b.cursors[me], b.end_seq());
        if from == to {
            break; // closed, and nothing left for me
        }
        batches += 1;
        let skip = from - b.first_seq;
        items.extend(b.ring.iter().skip(skip).copied());
        b.cursors[me] = to;
        // Drop what every subscriber has now read; that makes room for the publisher.
        let slowest = *b.cursors.iter().min().unwrap();
        while b.first_seq < slowest {
            b.ring.pop_front();
            b.first_seq += 1;
        }
        b.notify_all();
    }
    (items, batches)
}
