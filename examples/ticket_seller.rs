//! The book's ticket sellers: four sellers share 100 tickets, and every ticket must be sold
//! exactly once — never twice, never skipped.
//!
//! The book guards a global `tickets_available` counter with `threading.Semaphore()` used as a
//! lock. In Rust a semaphore cannot guard data (a permit is not a borrow of anything), so here
//! the semaphore *is* the stock of tickets: `Semaphore(100)` holds one permit per unsold
//! ticket. A seller takes a permit with `acquire(blocking=False)` — Rust's `try_acquire()` —
//! and keeps it (`detach()`: a sold ticket does not come back). When no permit is left the
//! show is sold out. A second semaphore, `Semaphore(2)`, models the two counter windows: at
//! most two sellers serve a customer at any moment.
//!
//! `cargo run --release --example ticket_seller`

use gilfree::{Barrier, Lock, Semaphore};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const SELLERS: usize = 4;
const TICKETS: usize = 100;
const WINDOWS: usize = 2;

fn main() {
    let tickets_left = Semaphore::new(TICKETS); // one permit per unsold ticket
    let windows = Semaphore::new(WINDOWS); // counter windows open at once
    let next_number = AtomicUsize::new(1); // seat numbers, handed out in order
    let at_windows = AtomicUsize::new(0);
    let most_at_windows = AtomicUsize::new(0);
    // Every sale is written down as (ticket number, seller): Python's `sold.append(...)`.
    let ledger = Lock::with_value(Vec::with_capacity(TICKETS));
    let open_doors = Barrier::new(SELLERS); // all sellers start together, like `t.start()` in a loop

    let started = Instant::now();
    thread::scope(|s| {
        for seller in 0..SELLERS {
            let (tickets_left, windows, next_number) = (&tickets_left, &windows, &next_number);
            let (at_windows, most_at_windows, ledger) = (&at_windows, &most_at_windows, &ledger);
            let open_doors = &open_doors;
            s.spawn(move || {
                open_doors.wait().unwrap();
                loop {
                    // with windows:  (wait for a free window, leave it when done)
                    let _window = windows.acquire();
                    let serving = at_windows.fetch_add(1, Ordering::SeqCst) + 1;
                    most_at_windows.fetch_max(serving, Ordering::SeqCst);

                    // if not tickets_left.acquire(blocking=False): break  -> sold out
                    let Some(ticket) = tickets_left.try_acquire() else {
                        at_windows.fetch_sub(1, Ordering::SeqCst);
                        break;
                    };
                    ticket.detach(); // sold: the permit never goes back
                    // Holding a permit guarantees a ticket exists, so the number is <= TICKETS.
                    let number = next_number.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(1)); // printing the ticket
                    ledger.acquire().push((number, seller));

                    at_windows.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
    let elapsed = started.elapsed();

    let ledger = ledger.into_inner();
    let mut sold_by: BTreeMap<usize, usize> = BTreeMap::new();
    for &(number, seller) in &ledger {
        assert!(
            sold_by.insert(number, seller).is_none(),
            "ticket {number} sold twice"
        );
    }
    let numbers: Vec<usize> = sold_by.keys().copied().collect();
    let expected: Vec<usize> = (1..=TICKETS).collect();
    assert_eq!(numbers, expected, "every ticket 1..={TICKETS} sold once");
    assert_eq!(tickets_left.value(), 0, "sold out");
    assert_eq!(windows.value(), WINDOWS, "every window closed again");
    let most = most_at_windows.load(Ordering::SeqCst);
    assert!(most <= WINDOWS, "{most} sellers at {WINDOWS} windows");

    println!("{SELLERS} sellers sold tickets 1..={TICKETS}, each exactly once, in {elapsed:.0?}");
    println!("at most {most} sellers served at once (Semaphore({WINDOWS}) windows)");
    for seller in 0..SELLERS {
        let mine: Vec<usize> = ledger
            .iter()
            .filter(|&&(_, by)| by == seller)
            .map(|&(number, _)| number)
            .collect();
        let first: Vec<String> = mine.iter().take(6).map(|n| n.to_string()).collect();
        println!(
            "  seller {seller}: {:>3} tickets (first few: {}, ...)",
            mine.len(),
            first.join(", ")
        );
    }
    println!("tickets left: {tickets_left:?}");
}
