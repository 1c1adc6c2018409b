//! The book's chapter 9, "Event-Driven Programming", in one program:
//! `cargo run --release --example event_driven`.
//!
//! Python has two separate worlds: asyncio's primitives for tasks, threading's for threads, and
//! glue to cross between them (`run_in_executor`, `wrap_future`, the `janus` package for a queue
//! both sides can use). In gilfree one `Semaphore`, one `Queue`, one `Event` and one pool
//! `Future` serve both: a thread blocks on it while a task awaits it, at the same time.
//!
//! Three parts, on a tokio runtime with two worker threads:
//!
//! 1. **Fetching, limited by a Semaphore.** Sixteen tasks fetch articles from a loopback server
//!    the program starts itself; a gilfree `Semaphore(4)` keeps at most four requests in
//!    flight (`async with sem:` is `let _permit = sem.acquire_async().await;`).
//! 2. **CPU-bound work sent to a pool and awaited.** Each article's number decides how much
//!    work to do (counting primes); the work runs on a `ThreadPoolExecutor` and the task awaits
//!    its `Future` (`await loop.run_in_executor(pool, f)` is `pool.submit(f).await`), while a
//!    ticker task shows that the runtime's threads stay free.
//! 3. **A producer thread feeding async consumers through one Queue.** A plain thread puts
//!    1..=1000 into a bounded `Queue` with the blocking `put` (it blocks whenever the queue is
//!    full); three tasks take them with `get_async`; a task awaits `join_async`, another awaits
//!    an `Event` the thread sets when it is done.
//!
//! Every number printed is also checked: the program panics if a primitive misbehaves.

use gilfree::{Event, Queue, Semaphore, ShutDown, Thread, ThreadPoolExecutor};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How long the server takes to answer: the I/O wait that the tasks overlap.
const LATENCY: Duration = Duration::from_millis(20);
const ARTICLES: u64 = 16;
const IN_FLIGHT: usize = 4;

fn main() {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let server = start_server().await;
        println!("== 1 + 2: fetch through a Semaphore, offload CPU work to a pool ==");
        fetch_and_process(server).await;
        println!("\n== 3: a producer thread feeding async consumers through one Queue ==");
        thread_feeds_tasks().await;
    });
    println!("\nall checks passed in {:.2?}", started.elapsed());
}

/// A loopback "news server": for the request line `article N` it waits [`LATENCY`] (a slow
/// backend), then answers `N <title>` and closes the connection.
async fn start_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                if BufReader::new(read).read_line(&mut line).await.is_err() {
                    return;
                }
                let n: u64 = line
                    .trim()
                    .strip_prefix("article ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                tokio::time::sleep(LATENCY).await;
                let _ = write
                    .write_all(format!("{n} Breaking news, part {n}\n").as_bytes())
                    .await;
            });
        }
    });
    println!("loopback news server listening on {addr}");
    addr
}

async fn fetch(server: std::net::SocketAddr, n: u64) -> String {
    let mut stream = TcpStream::connect(server).await.expect("connect");
    stream
        .write_all(format!("article {n}\n").as_bytes())
        .await
        .expect("send");
    let mut reply = String::new();
    BufReader::new(stream)
        .read_line(&mut reply)
        .await
        .expect("receive");
    reply.trim_end().to_owned()
}

/// The CPU-bound part: the number of primes below `limit`, by trial division (deliberately
/// slow: a few milliseconds of work that must not run on the runtime's threads).
fn count_primes(limit: u64) -> u64 {
    (2..limit)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}

fn work_for(article: u64) -> u64 {
    20_000 + article * 1_000
}

async fn fetch_and_process(server: std::net::SocketAddr) {
    let limit = Arc::new(Semaphore::new(IN_FLIGHT));
    let pool = Arc::new(ThreadPoolExecutor::new(2));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most_in_flight = Arc::new(AtomicUsize::new(0));

    // A ticker on the runtime: it keeps ticking while the pool does the CPU work, because no
    // task blocks a runtime thread.
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(2)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let started = Instant::now();
    let tasks: Vec<_> = (1..=ARTICLES)
        .map(|n| {
            let (limit, pool) = (Arc::clone(&limit), Arc::clone(&pool));
            let (in_flight, most) = (Arc::clone(&in_flight), Arc::clone(&most_in_flight));
            tokio::spawn(async move {
                let reply = {
                    // Python: async with sem: reply = await fetch(n)
                    let _permit = limit.acquire_async().await;
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let reply = fetch(server, n).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    reply
                };
                let article: u64 = reply
                    .split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("the server's reply starts with the article number");
                assert_eq!(article, n, "got someone else's article");
                // Python: primes = await loop.run_in_executor(pool, count_primes, work)
                let primes = pool
                    .submit(move || count_primes(work_for(article)))
                    .await
                    .expect("count_primes does not panic");
                (reply, primes)
            })
        })
        .collect();

    let mut total = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        let (reply, primes) = task.await.expect("the task does not panic");
        if i < 3 || i + 1 == ARTICLES as usize {
            println!(
                "  {reply:<28} -> {primes} primes below {}",
                work_for(i as u64 + 1)
            );
        } else if i == 3 {
            println!("  …");
        }
        total += primes;
    }
    let elapsed = started.elapsed();
    ticker.abort();

    let most = most_in_flight.load(Ordering::SeqCst);
    assert!(
        (1..=IN_FLIGHT).contains(&most),
        "the semaphore let {most} in"
    );
    assert_eq!(limit.value(), IN_FLIGHT, "every permit came back");
    let expected: u64 = (1..=ARTICLES).map(|n| count_primes(work_for(n))).sum();
    assert_eq!(total, expected);
    let rounds = ARTICLES as u32 / IN_FLIGHT as u32;
    println!(
        "{ARTICLES} fetches, at most {most} in flight (Semaphore({IN_FLIGHT})): {elapsed:.0?} \
         — at least {rounds} rounds of the server's {LATENCY:?}"
    );
    println!(
        "{total} primes counted on the pool's threads; meanwhile the runtime ticked {} times",
        ticks.load(Ordering::Relaxed)
    );
    assert!(elapsed >= LATENCY * rounds * 6 / 10);
}

async fn thread_feeds_tasks() {
    const ITEMS: u64 = 1_000;
    let queue = Arc::new(Queue::<u64>::new(8));
    let produced = Arc::new(Event::new());

    // A plain thread, using the blocking API: `put` blocks while the queue is full.
    let producer = {
        let (queue, produced) = (Arc::clone(&queue), Arc::clone(&produced));
        Thread::builder()
            .name("producer")
            .spawn(move || {
                for item in 1..=ITEMS {
                    queue.put(item).expect("not shut down yet");
                }
                produced.set();
            })
            .expect("spawn the producer")
    };

    // Async consumers on the runtime: `get_async` waits without holding a runtime thread.
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                let (mut sum, mut count) = (0u64, 0u64);
                loop {
                    match queue.get_async().await {
                        Ok(item) => {
                            sum += item;
                            count += 1;
                            queue.task_done().expect("one task_done per get");
                        }
                        Err(ShutDown(())) => return (sum, count),
                    }
                }
            })
        })
        .collect();

    // One task waits for the thread's Event, the other for every item to be processed.
    produced.wait_async().await;
    println!("the producer thread set its Event: all {ITEMS} items are in");
    queue.join_async().await;
    assert_eq!(queue.unfinished_tasks(), 0);
    println!("join_async returned: every item was taken and marked done");
    queue.shutdown(false); // wakes the consumers waiting in get_async: they end

    let mut total = 0;
    let mut counts = Vec::new();
    for consumer in consumers {
        let (sum, count) = consumer.await.expect("a consumer does not panic");
        total += sum;
        counts.push(count);
    }
    producer.join().expect("the producer does not panic");
    assert_eq!(total, ITEMS * (ITEMS + 1) / 2);
    assert_eq!(counts.iter().sum::<u64>(), ITEMS);
    println!(
        "3 async consumers took {counts:?} items (sum {total} = 1 + … + {ITEMS}) from one \
         bounded Queue fed by a blocking thread"
    );
}
