//! The book's multithreaded web crawler: worker threads take URLs from a `Queue`, fetch them,
//! and put every link they have not seen yet back on the queue, until the whole site is done.
//!
//! ```python
//! def worker():
//!     while True:
//!         url = to_crawl.get()
//!         for link in links_on(fetch(url)):
//!             if link not in seen:          # a lock around this test-and-add in the book
//!                 seen.add(link)
//!                 to_crawl.put(link)
//!         to_crawl.task_done()
//!
//! to_crawl.put(base_url); to_crawl.join()
//! ```
//!
//! Here `seen` is a `gilfree::Set`: `add` returns `true` only for the thread that added the
//! link first, so "test and add" is one atomic step and no two workers can both decide to
//! fetch the same page. Notice three things:
//!
//! - `task_done()` comes *after* the page's new links were put, so the count of unfinished
//!   tasks cannot touch zero while work remains: `join()` returns exactly when the crawl is
//!   complete, with no polling and no "is the queue empty and is everybody idle?" guesswork;
//! - the frontier queue is unbounded on purpose: the workers are its only consumers *and* its
//!   producers, so with a bound they could all block in `put` with nobody left to `get`;
//! - after `join()`, `shutdown()` turns every worker's blocked `get()` into `Err(ShutDown)`,
//!   which ends its loop — no sentinel values, one per worker, as in older Python.
//!
//! To stay self-contained the example serves its own synthetic site on `127.0.0.1`: `PAGES`
//! pages, each linking home and to several pseudo-random others (so there are back-links,
//! cycles and duplicates, spelled as paths, absolute URLs and `#fragments`), a few broken links
//! (404) and external links the crawler must skip. The last `ORPHANS` pages exist on the server
//! but are linked from nowhere, so "reachable" is a real question; the example answers it from
//! the link graph directly and checks the crawl against it, and the server counts its hits: each
//! reachable page, and each broken link, must be requested exactly once, nothing else ever.
//! Every request takes `LATENCY` (a slow network), so the worker count matters: the crawl runs
//! once with one worker and once with `WORKERS`.
//!
//! Then the same crawl runs on a `ThreadPoolExecutor`, the way `concurrent.futures` code is
//! usually written: the main thread coordinates, and every fetch is a task.
//!
//! ```python
//! with ThreadPoolExecutor(max_workers=8) as pool:
//!     seen = {base_url}
//!     pending = {pool.submit(fetch_links, base_url)}
//!     while pending:
//!         done, pending = wait(pending, return_when=FIRST_COMPLETED)
//!         for future in done:
//!             for link in future.result():
//!                 if link not in seen:
//!                     seen.add(link)
//!                     pending.add(pool.submit(fetch_links, link))
//! ```
//!
//! Each finished page's new links become new tasks. Notice what the pool version does not
//! need: no queue of URLs, no `task_done`/`join` (the crawl is over when no future is
//! pending), no shutdown signal for the workers (leaving the `with` block is the pool's
//! `Drop`), and no shared set — `seen` is an ordinary `HashSet`, because only the
//! coordinating thread touches it. The tasks return their page's links instead of queueing
//! them, and a task's panic would come back in its future rather than stall the crawl.
//!
//! The server itself is a small worker pool too: an accept loop puts connections on a
//! `gilfree::Queue` and `HANDLERS` threads answer them (HTTP/1.0, one request per connection).
//!
//! `cargo run --release --example web_crawler`

use gilfree::futures::{ReturnWhen, wait};
use gilfree::threading::current_thread;
use gilfree::{Event, Future, Lock, Queue, Set, ShutDown, Thread, ThreadPoolExecutor};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Pages on the server: `/` is page 0, then `/page/1` … `/page/299`.
const PAGES: usize = 300;
/// The last pages are never linked to: they exist, but no crawl starting at `/` finds them.
const ORPHANS: usize = 20;
/// Pseudo-random links per page, on top of the link home.
const LINKS_PER_PAGE: usize = 5;
/// What every request costs on the server before it answers: the slow network.
const LATENCY: Duration = Duration::from_millis(5);
const WORKERS: usize = 8;
/// Server threads answering requests; more than `WORKERS`, so the server is not the limit.
const HANDLERS: usize = 16;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

fn main() {
    let site = Arc::new(Site::new());
    println!(
        "site: {PAGES} pages ({} linked, {ORPHANS} orphans nobody links to), {} links in all, {LATENCY:?} per request",
        PAGES - ORPHANS,
        (0..PAGES).map(|p| site.links_of(p).len()).sum::<usize>(),
    );
    println!(
        "reachable from /, computed from the link graph: {} pages, {} broken links, {} external links",
        site.reachable.len(),
        site.broken.len(),
        site.external_links,
    );

    assert!(
        (PAGES - ORPHANS..PAGES).all(|orphan| !site.reachable.contains(&path_of(orphan))),
        "no orphan is reachable"
    );
    let missed = (0..PAGES - ORPHANS)
        .filter(|&page| !site.reachable.contains(&path_of(page)))
        .count();
    assert_eq!(site.reachable.len() + missed + ORPHANS, PAGES);
    println!(
        "  ({} pages cannot be reached: the {ORPHANS} orphans, and {missed} that no link from a reachable page happens to hit)",
        PAGES - site.reachable.len()
    );

    let single = crawl_and_check(&site, Crawler::Workers(1));
    let multi = crawl_and_check(&site, Crawler::Workers(WORKERS));
    let pooled = crawl_and_check(&site, Crawler::Pool(WORKERS));

    let speed_up = |crawl: &Crawl| single.elapsed.as_secs_f64() / crawl.elapsed.as_secs_f64();
    println!(
        "\nspeed-up over 1 worker (the waits overlap; the ideal is {WORKERS}x): {:.1}x with {WORKERS} workers, {:.1}x with a pool of {WORKERS}",
        speed_up(&multi),
        speed_up(&pooled),
    );
    for crawl in [&multi, &pooled] {
        assert!(
            crawl.elapsed < single.elapsed,
            "{WORKERS} workers must beat one: {:?} vs {:?}",
            crawl.elapsed,
            single.elapsed
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The site: a deterministic link graph, and what can be reached from `/`.

/// One link on a page.
#[derive(Debug)]
enum Link {
    /// Another page of the site.
    Page(usize),
    /// A link to a path that does not exist: the server answers 404.
    Broken(usize),
    /// Off the site: the crawler must not follow it.
    External(String),
}

struct Site {
    /// Paths reachable from `/` by following page links.
    reachable: HashSet<String>,
    /// Broken-link paths found on reachable pages.
    broken: HashSet<String>,
    /// External links on reachable pages (counting repeats).
    external_links: usize,
}

fn path_of(page: usize) -> String {
    if page == 0 {
        "/".to_string()
    } else {
        format!("/page/{page}")
    }
}

/// SplitMix64: a small, good, deterministic mixer, so the site is the same on every run.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Site {
    fn new() -> Site {
        let mut site = Site {
            reachable: HashSet::new(),
            broken: HashSet::new(),
            external_links: 0,
        };
        // Breadth-first search over the graph itself, not over HTML: an independent answer.
        let mut frontier = VecDeque::from([0]);
        let mut found = HashSet::from([0]);
        while let Some(page) = frontier.pop_front() {
            site.reachable.insert(path_of(page));
            for link in site.links_of(page) {
                match link {
                    Link::Page(to) => {
                        if found.insert(to) {
                            frontier.push_back(to);
                        }
                    }
                    Link::Broken(n) => {
                        site.broken.insert(format!("/missing/{n}"));
                    }
                    Link::External(_) => site.external_links += 1,
                }
            }
        }
        site
    }

    /// The links on `page`, in order: home, then pseudo-random pages among the linked ones
    /// (repeats and self-links included), then now and then a broken or an external link.
    fn links_of(&self, page: usize) -> Vec<Link> {
        let linked = (PAGES - ORPHANS) as u64;
        let mut links = vec![Link::Page(0)];
        links.extend(
            (0..LINKS_PER_PAGE).map(|k| Link::Page((mix(page as u64, k as u64) % linked) as usize)),
        );
        if page % 23 == 7 {
            links.push(Link::Broken(page));
        }
        if page % 10 == 3 {
            links.push(Link::External(format!("https://example.com/ref/{page}")));
        }
        if page % 37 == 1 {
            links.push(Link::External("mailto:webmaster@example.com".to_string()));
        }
        links
    }

    /// The HTML of `page`. Page links are spelled three ways — a path, an absolute URL on this
    /// host, a path with a `#fragment` — which the crawler must recognise as the same page.
    fn html(&self, page: usize, host: &str) -> String {
        let mut html = format!("<html><head><title>Page {page}</title></head><body>\n");
        for (i, link) in self.links_of(page).into_iter().enumerate() {
            let href = match link {
                Link::Page(to) => match i % 3 {
                    0 => path_of(to),
                    1 => format!("http://{host}{}", path_of(to)),
                    _ => format!("{}#section-{i}", path_of(to)),
                },
                Link::Broken(n) => format!("/missing/{n}"),
                Link::External(url) => url,
            };
            html.push_str(&format!("  <p><a href=\"{href}\">link {i}</a></p>\n"));
        }
        html.push_str("</body></html>\n");
        html
    }
}

// ---------------------------------------------------------------------------------------------
// The crawler.

/// What one crawl found, and how long it took.
struct Crawl {
    pages: Vec<String>,
    broken: Vec<String>,
    external_skipped: usize,
    per_worker: Vec<usize>,
    /// The pool crawl only: the most futures pending at once.
    most_pending: Option<usize>,
    elapsed: Duration,
}

/// What one worker did.
#[derive(Default)]
struct WorkerLog {
    pages: Vec<String>,
    broken: Vec<String>,
    external_skipped: usize,
    errors: Vec<String>,
}

/// Crawls the site from `/` with `workers` threads.
fn crawl(addr: SocketAddr, workers: usize) -> Crawl {
    let to_crawl: Arc<Queue<String>> = Arc::new(Queue::new(0)); // unbounded: see the top
    let seen: Arc<Set<String>> = Arc::new(Set::new());

    let started = Instant::now();
    let threads: Vec<Thread<WorkerLog>> = (0..workers)
        .map(|n| {
            let (to_crawl, seen) = (Arc::clone(&to_crawl), Arc::clone(&seen));
            Thread::builder()
                .name(format!("crawler-{n}"))
                .spawn(move || crawl_worker(addr, &to_crawl, &seen))
                .expect("spawn a crawler thread")
        })
        .collect();

    assert!(seen.add("/".to_string()));
    to_crawl.put("/".to_string()).expect("the queue is open");
    to_crawl.join(); // every URL put has been fetched and its links queued
    let elapsed = started.elapsed();
    assert!(to_crawl.empty() && to_crawl.unfinished_tasks() == 0);
    to_crawl.shutdown(false); // the workers' get() returns Err(ShutDown): their loops end

    let mut result = Crawl {
        pages: Vec::new(),
        broken: Vec::new(),
        external_skipped: 0,
        per_worker: Vec::new(),
        most_pending: None,
        elapsed,
    };
    for t in threads {
        let log = t.join().expect("a crawler thread panicked");
        result.per_worker.push(log.pages.len() + log.broken.len());
        result.pages.extend(log.pages);
        result.broken.extend(log.broken);
        result.external_skipped += log.external_skipped;
        assert!(log.errors.is_empty(), "failed requests: {:?}", log.errors);
    }
    assert_eq!(
        seen.len(),
        result.pages.len() + result.broken.len(),
        "every URL seen was fetched"
    );
    result
}

fn crawl_worker(addr: SocketAddr, to_crawl: &Queue<String>, seen: &Set<String>) -> WorkerLog {
    let host = addr.to_string();
    let mut log = WorkerLog::default();
    loop {
        let path = match to_crawl.get() {
            Ok(path) => path,
            Err(ShutDown(())) => return log, // the crawl is over
        };
        // A failure is recorded, not panicked on: a worker that died here would never call
        // task_done(), and join() would wait forever.
        match http_get(addr, &path) {
            Ok((200, body)) => {
                for href in hrefs(&body) {
                    match same_site_path(href, &host) {
                        // add() is true for the first thread only: it alone queues the link.
                        Some(link) => {
                            if seen.add(link.clone()) {
                                to_crawl
                                    .put(link)
                                    .expect("the queue is open during the crawl");
                            }
                        }
                        None => log.external_skipped += 1,
                    }
                }
                log.pages.push(path);
            }
            Ok((404, _)) => log.broken.push(path),
            Ok((status, _)) => log.errors.push(format!("GET {path}: status {status}")),
            Err(err) => log.errors.push(format!("GET {path}: {err}")),
        }
        // Only now, with this page's links already queued, is its task done.
        to_crawl.task_done().expect("one task_done per get");
    }
}

/// What one pool task found at one URL. `Clone` because `Future::into_result` asks for it
/// (another handle to the future may still be reading the value).
#[derive(Clone)]
struct Fetched {
    path: String,
    /// The status and the page's links, already reduced to same-site paths; or what failed.
    outcome: Result<(u16, Vec<String>), String>,
    external_skipped: usize,
    worker: String,
}

/// `fetch_links(url)`: one pool task. It only fetches and parses; deciding what to crawl next
/// is the coordinator's job.
fn fetch_links(addr: SocketAddr, path: String) -> Fetched {
    let host = addr.to_string();
    let mut external_skipped = 0;
    let outcome = match http_get(addr, &path) {
        Ok((200, body)) => {
            let links = hrefs(&body)
                .filter_map(|href| {
                    let link = same_site_path(href, &host);
                    external_skipped += usize::from(link.is_none());
                    link
                })
                .collect();
            Ok((200, links))
        }
        Ok((status, _)) => Ok((status, Vec::new())),
        Err(err) => Err(format!("GET {path}: {err}")),
    };
    Fetched {
        path,
        outcome,
        external_skipped,
        worker: current_thread().name(),
    }
}

/// Crawls the site from `/` with a pool of `workers` threads; the calling thread coordinates
/// with `wait(pending, FIRST_COMPLETED)`.
fn crawl_with_pool(addr: SocketAddr, workers: usize) -> Crawl {
    let started = Instant::now();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(workers)
        .thread_name_prefix("crawl-pool")
        .build()
        .expect("workers > 0");
    let mut seen = HashSet::from(["/".to_string()]); // only this thread touches it: no lock
    let mut pending: Vec<Future<Fetched>> =
        vec![pool.submit(move || fetch_links(addr, "/".into()))];
    let mut per_worker: HashMap<String, usize> = HashMap::new();
    let mut result = Crawl {
        pages: Vec::new(),
        broken: Vec::new(),
        external_skipped: 0,
        per_worker: Vec::new(),
        most_pending: None,
        elapsed: Duration::ZERO,
    };
    let mut errors = Vec::new();
    let mut most_pending = 0;
    while !pending.is_empty() {
        most_pending = most_pending.max(pending.len());
        let (done, not_done) = wait(pending, None, ReturnWhen::FirstCompleted);
        pending = not_done;
        for future in done {
            let fetched = future.into_result().expect("fetch_links does not panic");
            *per_worker.entry(fetched.worker).or_insert(0) += 1;
            result.external_skipped += fetched.external_skipped;
            match fetched.outcome {
                Ok((200, links)) => {
                    for link in links {
                        if seen.insert(link.clone()) {
                            pending.push(pool.submit(move || fetch_links(addr, link)));
                        }
                    }
                    result.pages.push(fetched.path);
                }
                Ok((404, _)) => result.broken.push(fetched.path),
                Ok((status, _)) => errors.push(format!("GET {}: status {status}", fetched.path)),
                Err(err) => errors.push(err),
            }
        }
    }
    // No future is pending: every URL submitted was fetched and its links looked at.
    result.elapsed = started.elapsed();
    assert!(errors.is_empty(), "failed requests: {errors:?}");
    assert!(pool.worker_count() <= workers);
    drop(pool); // the end of the `with` block
    result.most_pending = Some(most_pending);
    let mut per_worker: Vec<(String, usize)> = per_worker.into_iter().collect();
    per_worker.sort();
    result.per_worker = per_worker.into_iter().map(|(_, n)| n).collect();
    assert_eq!(
        seen.len(),
        result.pages.len() + result.broken.len(),
        "every URL seen was fetched"
    );
    result
}

/// The `href="…"` values on a page, in order (enough HTML parsing for this site).
fn hrefs(html: &str) -> impl Iterator<Item = &str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(href, _)| href))
}

/// The path of `href` if it points into this site (`host`), without its fragment; `None` for
/// links elsewhere (other hosts, other schemes).
fn same_site_path(href: &str, host: &str) -> Option<String> {
    let href = href.split_once('#').map_or(href, |(before, _)| before);
    let path = match href
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_prefix(host))
    {
        Some("") => "/",
        Some(path) if path.starts_with('/') => path,
        Some(_) => return None, // e.g. our host's name followed by more digits: another port
        None if href.starts_with('/') => href,
        None => return None,
    };
    Some(path.to_string())
}

/// A minimal HTTP/1.0 GET: one request per connection, the body ends when the server closes.
fn http_get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers".into()))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid(format!("bad status line in {head:?}")))?;
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|n| n.parse::<usize>().ok());
    if length != Some(body.len()) {
        return Err(invalid(format!(
            "body of {} bytes, Content-Length {length:?}",
            body.len()
        )));
    }
    Ok((status, body.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Running and checking one crawl.

/// Which crawler to run.
#[derive(Clone, Copy)]
enum Crawler {
    /// The book's worker threads around a `Queue`.
    Workers(usize),
    /// A `ThreadPoolExecutor` of this many workers, coordinated with `wait`.
    Pool(usize),
}

fn crawl_and_check(site: &Arc<Site>, crawler: Crawler) -> Crawl {
    let server = Server::start(Arc::clone(site)).expect("start the local HTTP server");
    let result = match crawler {
        Crawler::Workers(workers) => crawl(server.addr, workers),
        Crawler::Pool(workers) => crawl_with_pool(server.addr, workers),
    };
    let hits = server.stop();

    // Crawler's side: every reachable page exactly once, every broken link exactly once.
    let pages: HashSet<String> = result.pages.iter().cloned().collect();
    assert_eq!(pages.len(), result.pages.len(), "a page was fetched twice");
    assert_eq!(
        pages, site.reachable,
        "the crawl must find exactly the reachable pages"
    );
    let broken: HashSet<String> = result.broken.iter().cloned().collect();
    assert_eq!(
        broken.len(),
        result.broken.len(),
        "a broken link was tried twice"
    );
    assert_eq!(broken, site.broken);
    assert_eq!(result.external_skipped, site.external_links);

    // Server's side: exactly one request per reachable page and per broken link; no orphan,
    // no external URL, nothing else was ever asked for.
    let expected: HashMap<String, usize> = site
        .reachable
        .iter()
        .chain(&site.broken)
        .map(|path| (path.clone(), 1))
        .collect();
    if hits != expected {
        let wrong: Vec<_> = hits
            .iter()
            .filter(|(p, n)| expected.get(*p) != Some(n))
            .collect();
        panic!(
            "server hits differ from one per reachable URL: {wrong:?} (and {} expected)",
            expected.len()
        );
    }
    let requests: usize = hits.values().sum();

    let label = match crawler {
        Crawler::Workers(1) => "1 worker ".to_string(),
        Crawler::Workers(workers) => format!("{workers} workers"),
        Crawler::Pool(workers) => format!("pool of {workers} (ThreadPoolExecutor + wait)"),
    };
    println!(
        "\n{label}: {} pages + {} broken links in {:.2?} = {:.0} pages/s; {} external links skipped",
        result.pages.len(),
        result.broken.len(),
        result.elapsed,
        result.pages.len() as f64 / result.elapsed.as_secs_f64(),
        result.external_skipped,
    );
    println!(
        "  server: {requests} requests, each reachable page and each broken link exactly once, no orphans",
    );
    if result.per_worker.len() > 1 {
        println!("  requests per worker: {:?}", result.per_worker);
    }
    if let Some(most) = result.most_pending {
        println!(
            "  up to {most} futures pending at once: the frontier outgrew the workers, and the rest waited in the pool's queue"
        );
        let Crawler::Pool(workers) = crawler else {
            unreachable!("only the pool crawl counts pending futures")
        };
        assert!(most > workers);
    }
    assert_eq!(result.per_worker.iter().sum::<usize>(), requests);
    result
}

// ---------------------------------------------------------------------------------------------
// The server: an accept loop feeding a `gilfree::Queue` of connections to `HANDLERS` threads.

struct Server {
    addr: SocketAddr,
    stop: Arc<Event>,
    accept_loop: Thread<()>,
    handlers: Vec<Thread<()>>,
    connections: Arc<Queue<TcpStream>>,
    hits: Arc<Lock<HashMap<String, usize>>>,
}

impl Server {
    fn start(site: Arc<Site>) -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(Event::new());
        let connections = Arc::new(Queue::new(0));
        let hits = Arc::new(Lock::with_value(HashMap::new()));

        let handlers = (0..HANDLERS)
            .map(|n| {
                let (connections, hits, site) = (
                    Arc::clone(&connections),
                    Arc::clone(&hits),
                    Arc::clone(&site),
                );
                Thread::builder()
                    .name(format!("http-handler-{n}"))
                    .spawn(move || {
                        let host = addr.to_string();
                        for stream in connections.iter() {
                            // A failed connection is the client's problem: it sees the error.
                            let _ = serve(&stream, &site, &host, &hits);
                        }
                    })
            })
            .collect::<io::Result<Vec<_>>>()?;

        let accept_loop = Thread::builder().name("http-accept").spawn({
            let (stop, connections) = (Arc::clone(&stop), Arc::clone(&connections));
            move || {
                for stream in listener.incoming() {
                    if stop.is_set() {
                        break; // the wake-up connection from Server::stop
                    }
                    if let Ok(stream) = stream {
                        connections.put(stream).expect("open while accepting");
                    }
                }
            }
        })?;
        Ok(Server {
            addr,
            stop,
            accept_loop,
            handlers,
            connections,
            hits,
        })
    }

    /// Stops the server and returns how often each path was requested.
    fn stop(self) -> HashMap<String, usize> {
        self.stop.set();
        // accept() is blocked: one last connection wakes it up to see the stop flag.
        drop(TcpStream::connect_timeout(&self.addr, IO_TIMEOUT));
        self.accept_loop.join().expect("the accept loop panicked");
        // The handlers answer what is queued, then their iter() ends.
        self.connections.shutdown(false);
        for h in self.handlers {
            h.join().expect("a handler panicked");
        }
        std::mem::take(&mut *self.hits.acquire())
    }
}

/// Answers one HTTP/1.0 request, counting the hit, after the artificial `LATENCY`.
fn serve(
    stream: &TcpStream,
    site: &Site,
    host: &str,
    hits: &Lock<HashMap<String, usize>>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
    }
    let path = match request_line.split_whitespace().collect::<Vec<_>>()[..] {
        ["GET", path, _version] => path.to_string(),
        _ => return respond(stream, "400 Bad Request", "bad request\n"),
    };
    *hits.acquire().entry(path.clone()).or_insert(0) += 1;
    let page = if path == "/" {
        Some(0)
    } else {
        path.strip_prefix("/page/")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| (1..PAGES).contains(&n))
    };
    thread::sleep(LATENCY); // the slow network
    match page {
        Some(page) => respond(stream, "200 OK", &site.html(page, host)),
        None => respond(stream, "404 Not Found", "not found\n"),
    }
}

fn respond(mut stream: &TcpStream, status: &str, body: &str) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.0 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
