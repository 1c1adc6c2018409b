//! Stress: threads and tasks through one bounded `Queue`, with random cancellation of the
//! async waits (tokio's `timeout`), checking that no item is lost or duplicated and that
//! `join` returns.
//!
//! IDs from ASYNC_SEMANTICS.md §6: AQ-4, AQ-6, AQ-7, AQ-8, AQ-9, AQ-11, AQ-15 under load. Not
//! ported: see tests/async_queue.rs.

mod common;

use common::with_watchdog;
use gilfree::Queue;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

const ITEMS: usize = 100_000;
const MAXSIZE: usize = 64;
/// Two producers and two consumers of each kind.
const PRODUCERS: usize = 4;

/// A tiny xorshift: each worker its own stream, no shared state.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A short timeout: often zero (the wait is cancelled as soon as it queues), else 1 ms.
    fn timeout(&mut self) -> Duration {
        if self.next() % 3 == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(1)
        }
    }

    /// Now and then (one call in `PAUSE_EVERY`) a worker stops for a moment, so that the
    /// queue runs full or empty and the others have to wait (and be cancelled while waiting).
    fn pause(&mut self) -> bool {
        self.next() % PAUSE_EVERY == 0
    }
}

/// Far more than the test takes (under a second in a debug build): a `join` still waiting then
/// waits for an item that was lost.
const JOIN_WITHIN: Duration = Duration::from_secs(15);
const PAUSE_EVERY: u64 = 100;
const PAUSE: Duration = Duration::from_millis(1);

struct Seen {
    bits: Vec<AtomicBool>,
    count: AtomicUsize,
}

impl Seen {
    fn mark(&self, item: usize) {
        assert!(!self.bits[item].swap(true, SeqCst), "item {item} got twice");
        self.count.fetch_add(1, SeqCst);
    }
}

/// AQ-4/6/8/9/11/15: 2 producer threads, 2 producer tasks, 2 consumer threads and 2 consumer
/// tasks (tokio, 2 workers) move 100,000 items through `Queue(64)`. The tasks wrap every
/// `put_async`/`get_async` in a short `tokio::time::timeout` (zero or 1 ms), so waits are
/// cancelled while queued and after being woken; a cancelled put is retried with the same
/// item (the dropped future dropped only its copy: it must not have gone in), a cancelled get
/// is retried (it must not have taken an item). Every item is seen exactly once (a bitmap),
/// `join` and `join_async` return once all are done, and a shutdown ends the consumers.
#[test]
fn threads_and_tasks_with_random_cancellation_lose_and_duplicate_nothing() {
    with_watchdog(|| {
        let q = Arc::new(Queue::new(MAXSIZE));
        let seen = Arc::new(Seen {
            bits: (0..ITEMS).map(|_| AtomicBool::new(false)).collect(),
            count: AtomicUsize::new(0),
        });
        let cancelled = Arc::new(AtomicUsize::new(0));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let share = ITEMS / PRODUCERS;
        let range = move |p: usize| {
            p * share..if p == PRODUCERS - 1 {
                ITEMS
            } else {
                (p + 1) * share
            }
        };

        let mut tasks = Vec::new();
        for p in 0..2 {
            let (q, cancelled) = (Arc::clone(&q), Arc::clone(&cancelled));
            tasks.push(rt.spawn(async move {
                let mut rng = Rng(0x9E37_79B9 + p as u64);
                for item in range(p) {
                    if rng.pause() {
                        tokio::time::sleep(PAUSE).await;
                    }
                    // The item is a plain number: the retry puts the same one again.
                    loop {
                        match tokio::time::timeout(rng.timeout(), q.put_async(item)).await {
                            Ok(put) => break put.unwrap(),
                            Err(_) => {
                                cancelled.fetch_add(1, SeqCst);
                            }
                        }
                    }
                }
            }));
        }
        for c in 0..2 {
            let (q, seen, cancelled) = (Arc::clone(&q), Arc::clone(&seen), Arc::clone(&cancelled));
            tasks.push(rt.spawn(async move {
                let mut rng = Rng(0xDEAD_BEEF + c as u64);
                loop {
                    match tokio::time::timeout(rng.timeout(), q.get_async()).await {
                        Ok(Ok(item)) => {
                            seen.mark(item);
                            q.task_done().unwrap();
                            if rng.pause() {
                                tokio::time::sleep(PAUSE).await;
                            }
                        }
                        Ok(Err(_shutdown)) => break,
                        Err(_) => {
                            cancelled.fetch_add(1, SeqCst);
                        }
                    }
                }
            }));
        }
        let mut threads = Vec::new();
        for p in 2..4 {
            let q = Arc::clone(&q);
            threads.push(thread::spawn(move || {
                let mut rng = Rng(0x1234_5678 + p as u64);
                for item in range(p) {
                    if rng.pause() {
                        thread::sleep(PAUSE);
                    }
                    q.put(item).unwrap();
                }
            }));
        }
        for c in 0..2 {
            let (q, seen) = (Arc::clone(&q), Arc::clone(&seen));
            threads.push(thread::spawn(move || {
                let mut rng = Rng(0x8765_4321 + c as u64);
                while let Ok(item) = q.get() {
                    seen.mark(item);
                    q.task_done().unwrap();
                    if rng.pause() {
                        thread::sleep(PAUSE);
                    }
                }
            }));
        }
        let async_join = {
            let q = Arc::clone(&q);
            rt.spawn(async move {
                // Wait until something was put, so that this join has something to wait for.
                while q.unfinished_tasks() == 0 && q.qsize() == 0 {
                    tokio::task::yield_now().await;
                }
                q.join_async().await;
            })
        };
        // The producers first (two of the tasks, two of the threads), then join.
        let (producer_tasks, consumer_tasks) = {
            let mut it = tasks.into_iter();
            let producers: Vec<_> = it.by_ref().take(2).collect();
            (producers, it.collect::<Vec<_>>())
        };
        let producer_threads: Vec<_> = threads.drain(..2).collect();
        rt.block_on(async {
            for t in producer_tasks {
                t.await.unwrap();
            }
        });
        for t in producer_threads {
            t.join().unwrap();
        }
        let missing = |seen: &Seen| -> Vec<usize> {
            (0..ITEMS).filter(|&i| !seen.bits[i].load(SeqCst)).collect()
        };
        if !q.join_timeout(JOIN_WITHIN) {
            let lost = missing(&seen);
            panic!(
                "join did not return; {} items never reached a consumer: {:?}…",
                lost.len(),
                &lost[..lost.len().min(10)]
            );
        }
        assert_eq!(
            seen.count.load(SeqCst),
            ITEMS,
            "join returned before every item was done"
        );
        rt.block_on(async_join).unwrap();
        q.shutdown(false);
        rt.block_on(async {
            for t in consumer_tasks {
                t.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        let lost = missing(&seen);
        assert!(
            lost.is_empty(),
            "lost items: {:?}…",
            &lost[..lost.len().min(10)]
        );
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.empty());
        assert!(
            format!("{q:?}").contains("getters_waiting: 0, putters_waiting: 0"),
            "{q:?}"
        );
        // The random timeouts did cancel waits (otherwise this test checks less than it says).
        assert!(cancelled.load(SeqCst) > 0, "no wait was cancelled");
        eprintln!("cancelled waits: {}", cancelled.load(SeqCst));
    });
}
