//! The book's I/O-bound workload: downloading images (and fetching the weather), first one
//! request after another, then with one `gilfree::Thread` per request, then through a
//! `ThreadPoolExecutor` (`pool.map` and `pool.submit`).
//!
//! A download spends nearly all its time waiting for the network, not computing, so even
//! CPython's threads speed it up (the GIL is released while a thread waits on a socket). To
//! keep the example self-contained and repeatable, it starts its own HTTP/1.1 server on
//! `127.0.0.1` that answers every request after a fixed `LATENCY`, standing in for a slow
//! network. Notice that the sequential run takes about `URLS x LATENCY`, while the threaded
//! run takes about one `LATENCY`: the waits overlap, so the speed-up approaches the number of
//! requests (here 20), minus the cost of starting threads and connections. The number of cores
//! does not matter: the threads are waiting, not computing.
//!
//! ```python
//! def download_image(url):
//!     data = requests.get(url).content
//!     ...
//!
//! threads = [Thread(target=download_image, args=(url,)) for url in urls]
//! for t in threads: t.start()
//! for t in threads: t.join()
//!
//! with ThreadPoolExecutor(max_workers=20) as pool:
//!     images = list(pool.map(download_image, urls))
//! ```
//!
//! The pool of 20 overlaps all 20 waits, like the 20 threads, and returns the bodies in URL
//! order. A pool of 5 shows what `max_workers` is for: it caps how many requests are in flight
//! (a polite crawler, a server's connection limit), so 20 requests take 4 rounds of `LATENCY`.
//!
//! The client is a minimal hand-written `GET` (`Connection: close`, the body length from
//! `Content-Length`) with timeouts on every socket operation, so nothing can hang. The server
//! stops by itself at the end: the main thread sets a stop `Event` and then connects once more
//! to wake the blocked `accept()`.
//!
//! `cargo run --release --example concurrent_downloads`

use gilfree::{Event, Future, Thread, ThreadPoolExecutor};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const URLS: usize = 20;
/// A pool smaller than the number of URLS: at most this many requests in flight.
const SMALL_POOL: usize = 5;
const LATENCY: Duration = Duration::from_millis(60);
const IO_TIMEOUT: Duration = Duration::from_secs(5);
const CITIES: [&str; 5] = ["London", "Paris", "Tokyo", "Lima", "Nairobi"];

fn main() {
    let server = Server::start().expect("start the local HTTP server");
    let base = format!("http://{}", server.addr);
    println!("serving on {base} (every response takes {LATENCY:?}, like a slow network)\n");

    let urls: Vec<String> = (0..URLS).map(|n| format!("{base}/image/{n}")).collect();

    // for url in urls: download_image(url)
    let started = Instant::now();
    let sequential: Vec<Vec<u8>> = urls.iter().map(|url| download(url)).collect();
    let sequential_time = started.elapsed();

    // One thread per URL; the results come back through join(), in URL order.
    let started = Instant::now();
    let threads: Vec<Thread<Vec<u8>>> = urls
        .iter()
        .map(|url| {
            let url = url.clone();
            Thread::spawn(move || download(&url))
        })
        .collect();
    let threaded: Vec<Vec<u8>> = threads
        .into_iter()
        .map(|t| t.join().expect("a download thread panicked"))
        .collect();
    let threaded_time = started.elapsed();

    for (n, (one, other)) in sequential.iter().zip(&threaded).enumerate() {
        assert_eq!(
            *one,
            image_bytes(n),
            "sequential image {n} arrived incomplete"
        );
        assert_eq!(
            *other,
            image_bytes(n),
            "threaded image {n} arrived incomplete"
        );
    }

    // with ThreadPoolExecutor(max_workers=20) as pool: list(pool.map(download_image, urls))
    let started = Instant::now();
    let pool = ThreadPoolExecutor::new(URLS);
    let pooled: Vec<Vec<u8>> = pool
        .map(|url: String| download(&url), urls.clone())
        .collect::<Result<_, _>>()
        .unwrap_or_else(|err| panic!("a pooled download failed: {err}"));
    drop(pool); // the end of the `with` block: the workers exit
    let pooled_time = started.elapsed();

    // A pool of SMALL_POOL: submit() every URL, keep the futures in URL order.
    let started = Instant::now();
    let pool = ThreadPoolExecutor::new(SMALL_POOL);
    let futures: Vec<Future<Vec<u8>>> = urls
        .iter()
        .map(|url| {
            let url = url.clone();
            pool.submit(move || download(&url))
        })
        .collect();
    let small_pooled: Vec<Vec<u8>> = futures
        .into_iter()
        .map(|f| f.into_result().expect("a pooled download panicked"))
        .collect();
    let most_workers = pool.worker_count();
    drop(pool);
    let small_pooled_time = started.elapsed();

    for (n, (pooled, small)) in pooled.iter().zip(&small_pooled).enumerate() {
        assert_eq!(*pooled, image_bytes(n), "pool image {n} arrived incomplete");
        assert_eq!(
            *small,
            image_bytes(n),
            "small-pool image {n} arrived incomplete"
        );
    }
    assert!(
        most_workers <= SMALL_POOL,
        "never more than max_workers threads"
    );

    let total: usize = threaded.iter().map(Vec::len).sum();
    println!("{URLS} images, {total} bytes, every body complete and equal in all four runs");
    let rounds = URLS.div_ceil(SMALL_POOL);
    let speed_up = |time: Duration| sequential_time.as_secs_f64() / time.as_secs_f64().max(1e-9);
    println!(
        "{:<20} {:>10}  {:<19} {:>6}",
        "", "time", "(expected)", "speed-up"
    );
    for (how, time, rounds) in [
        ("sequential".to_string(), sequential_time, URLS),
        (format!("{URLS} threads"), threaded_time, 1),
        (format!("pool of {URLS}, map()"), pooled_time, 1),
        (
            format!("pool of {SMALL_POOL}, submit()"),
            small_pooled_time,
            rounds,
        ),
    ] {
        println!(
            "{how:<20} {time:>10.2?}  (about {rounds:>2} x {LATENCY:?})  {:>5.1}x",
            speed_up(time)
        );
    }
    println!(
        "(the ideal speed-up is {URLS}x, or {SMALL_POOL}x for the pool of {SMALL_POOL}: it lets {SMALL_POOL} requests wait at once)"
    );
    assert!(
        threaded_time < sequential_time && pooled_time < sequential_time,
        "overlapping the waits must beat waiting for each request in turn"
    );
    // Every response takes at least LATENCY: one worker's share of requests cannot be faster.
    assert!(sequential_time >= LATENCY * URLS as u32);
    assert!(small_pooled_time >= LATENCY * rounds as u32);

    // The book's weather fetch: the same pattern with a handful of small JSON answers.
    let started = Instant::now();
    let lookups: Vec<(&str, Thread<String>)> = CITIES
        .iter()
        .map(|&city| {
            let url = format!("{base}/weather/{city}");
            let t = Thread::builder()
                .name(format!("weather-{city}"))
                .spawn(move || String::from_utf8(download(&url)).expect("UTF-8 JSON"))
                .expect("spawn a weather thread");
            (city, t)
        })
        .collect();
    println!("\nweather for {} cities, one thread each:", CITIES.len());
    for (city, t) in lookups {
        let name = t.name();
        let report = t.join().expect("a weather thread panicked");
        assert_eq!(report, weather_json(city));
        println!("  {name:<16} {report}");
    }
    println!("  ({:.2?} for all of them)", started.elapsed());

    let served = server.stop();
    let expected = 4 * URLS + CITIES.len();
    assert_eq!(served, expected, "the server answered every request once");
    println!("\nserver stopped after {served} requests");
}

/// The bytes of image `n`: 8 KiB to 40 KiB of a pattern that depends on `n`, so that a short,
/// padded or mixed-up body cannot compare equal.
fn image_bytes(n: usize) -> Vec<u8> {
    let len = 8 * 1024 + (n * 1_637) % (32 * 1024);
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ n.wrapping_mul(97)) as u8)
        .collect()
}

fn weather_json(city: &str) -> String {
    let temperature = city.bytes().map(u32::from).sum::<u32>() % 35;
    format!("{{\"city\": \"{city}\", \"temp_c\": {temperature}}}")
}

/// `requests.get(url).content`: a blocking HTTP/1.1 `GET`, panicking on any error (a failed
/// download is a failed example).
fn download(url: &str) -> Vec<u8> {
    http_get(url).unwrap_or_else(|err| panic!("GET {url}: {err}"))
}

fn http_get(url: &str) -> io::Result<Vec<u8>> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("only http:// URLs"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = host.parse().map_err(|_| invalid("host must be ip:port"))?;
    let path = if path.is_empty() { "/" } else { path };

    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;

    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    if !status.starts_with("HTTP/1.1 200 ") {
        return Err(invalid(&format!(
            "unexpected status {:?}",
            status.trim_end()
        )));
    }
    let mut content_length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("connection closed inside the headers"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                let value = value.trim().parse::<usize>();
                content_length = Some(value.map_err(|_| invalid("bad Content-Length"))?);
            }
        }
    }
    let len = content_length.ok_or_else(|| invalid("no Content-Length"))?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?; // fails (does not hang) if the body is cut short
    Ok(body)
}

/// A tiny HTTP/1.1 server: an accept loop on its own `gilfree::Thread`, and one more thread per
/// connection, each of which sleeps `LATENCY` (the slow network) before answering.
struct Server {
    addr: SocketAddr,
    stop: Arc<Event>,
    accept_loop: Thread<usize>,
}

impl Server {
    fn start() -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(Event::new());
        let accept_loop = Thread::builder().name("http-server").spawn({
            let stop = Arc::clone(&stop);
            move || {
                let mut connections = Vec::new();
                for (n, stream) in listener.incoming().enumerate() {
                    if stop.is_set() {
                        break; // the wake-up connection from Server::stop
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = Thread::builder()
                        .name(format!("http-conn-{n}"))
                        .spawn(move || serve(stream))
                        .expect("spawn a connection thread");
                    connections.push(handler);
                }
                // Answer everything accepted so far before reporting how much was served.
                connections
                    .into_iter()
                    .map(|c| c.join().expect("a connection thread panicked"))
                    .filter(|&answered| answered)
                    .count()
            }
        })?;
        Ok(Server {
            addr,
            stop,
            accept_loop,
        })
    }

    /// Stops accepting, waits for the open connections, and returns how many requests were
    /// answered with a 200.
    fn stop(self) -> usize {
        self.stop.set();
        // accept() is blocked: one last connection wakes it up to see the stop flag.
        drop(TcpStream::connect_timeout(&self.addr, IO_TIMEOUT));
        assert!(
            self.accept_loop
                .join_timeout(IO_TIMEOUT)
                .expect("join the server thread"),
            "the server did not stop"
        );
        self.accept_loop.join().expect("the server thread panicked")
    }
}

/// Answers one request; true if it was a 200. A client that sends nothing, or garbage, gets a
/// 400 or a closed socket, never a hung thread: the socket has timeouts too.
fn serve(stream: TcpStream) -> bool {
    let answer = || -> io::Result<bool> {
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut reader = BufReader::new(&stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
                break;
            }
        }
        let path = match request_line.split_whitespace().collect::<Vec<_>>()[..] {
            ["GET", path, "HTTP/1.1"] => path.to_string(),
            _ => return respond(&stream, "400 Bad Request", b"bad request\n").map(|()| false),
        };
        let body = if let Some(n) = path.strip_prefix("/image/") {
            n.parse().ok().map(image_bytes)
        } else {
            path.strip_prefix("/weather/")
                .map(|city| weather_json(city).into_bytes())
        };
        std::thread::sleep(LATENCY); // the slow network
        match body {
            Some(body) => respond(&stream, "200 OK", &body).map(|()| true),
            None => respond(&stream, "404 Not Found", b"not found\n").map(|()| false),
        }
    };
    answer().unwrap_or(false)
}

fn respond(mut stream: &TcpStream, status: &str, body: &[u8]) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}
