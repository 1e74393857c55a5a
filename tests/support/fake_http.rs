//! A tiny scripted HTTP/1.1 server for tests: Telegram, Slack, Sentry and the like, on 127.0.0.1.
//!
//! Responses are queued per path prefix and handed out in order; a request nobody scripted gets 200 with
//! `{"ok":true,"result":{}}`. Every request is recorded. One thread per connection, `Connection: close` on
//! every response (so no client reuses a socket the server is about to drop), and the whole server stops when
//! the `FakeHttp` is dropped or after [`LIFETIME`], whichever comes first, so a test that forgets it cannot hang.
//!
//! Included with `#[path]` by the library's unit tests and by the integration tests: std and `serde_json` only,
//! no `crate::` paths.

#![allow(dead_code)]

#[allow(
    clippy::duplicate_mod,
    reason = "every fake includes the HTTP core privately; a test binary may hold several fakes"
)]
#[path = "http_core.rs"]
mod http_core;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use http_core::Incoming;

/// The longest a server lives, dropped or not.
pub const LIFETIME: Duration = Duration::from_secs(300);
/// How long a connection may sit idle before the server gives up on it.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// The request target as sent: path and query (`/bot123:abc/sendMessage?x=1`).
    pub path: String,
    /// Header names lowercased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| {
            panic!("body of {} is not JSON ({err}): {}", self.path, self.body)
        })
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Scripted {
    path_prefix: String,
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Vec<Scripted>>,
    received: Mutex<Vec<Received>>,
    stop: AtomicBool,
}

/// A running fake server; stops when dropped.
pub struct FakeHttp {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeHttp {
    /// Listens on 127.0.0.1 on a free port and serves until dropped.
    pub fn start() -> FakeHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let shared = Arc::new(Shared::default());
        let accept = Arc::clone(&shared);
        thread::Builder::new()
            .name(format!("fake-http-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &accept))
            .expect("spawn the fake server");
        FakeHttp { addr, shared }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a response for the next request whose path starts with `path_prefix`; responses for the same
    /// prefix are used in the order queued.
    pub fn respond(&self, path_prefix: &str, status: u16, body: &str, headers: &[(&str, &str)]) {
        lock(&self.shared.queue).push(Scripted {
            path_prefix: path_prefix.to_owned(),
            status,
            body: body.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        });
    }

    /// Every request seen so far, in the order they arrived.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test thread must not turn every later assertion into a poison error.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let deadline = Instant::now() + LIFETIME;
    while !shared.stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                thread::spawn(move || {
                    // A client that hangs up early is its own problem; the server just moves on.
                    let _ = serve(stream, &shared);
                });
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let request = match http_core::read_request(&stream, READ_TIMEOUT)? {
        Incoming::Request(request) => request,
        Incoming::Closed => return Ok(()),
        Incoming::TooLarge => return respond(&mut stream, 413, "{\"ok\":false}", &[]),
    };
    let path = request.target.clone();
    let scripted = {
        let mut queue = lock(&shared.queue);
        queue
            .iter()
            .position(|s| path.starts_with(&s.path_prefix))
            .map(|i| queue.remove(i))
    };
    // Recorded before answering: once the client has its response, `received()` shows the request.
    lock(&shared.received).push(Received {
        method: request.method,
        path,
        headers: request.headers,
        body: String::from_utf8_lossy(&request.body).into_owned(),
    });
    match scripted {
        Some(s) => {
            let headers: Vec<(&str, &str)> = s
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            respond(&mut stream, s.status, &s.body, &headers)
        }
        None => respond(&mut stream, 200, r#"{"ok":true,"result":{}}"#, &[]),
    }
}

/// A response whose content type is JSON unless `headers` name another.
fn respond(
    stream: &mut TcpStream,
    status: u16,
    body: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<()> {
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("application/json", |(_, v)| *v);
    let others: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("content-type"))
        .copied()
        .collect();
    http_core::write_response(stream, status, content_type, &others, body.as_bytes())
}
