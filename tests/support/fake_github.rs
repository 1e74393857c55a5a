//! A stateful fake of the GitHub REST API, for driving the real `gh` (and daydream through it) in tests.
//!
//! std and `serde_json` only, because it is compiled into two crates with `#[path]`: the library's unit tests
//! and the integration test binary. Each uses a part of it, hence the module-wide `dead_code` allowance.
//!
//! gh reaches it as an HTTP proxy (see [`FakeGitHub::gh_env`]): for the host `github.localhost` gh speaks
//! plain http to `api.github.localhost`, so requests arrive in absolute form
//! (`GET http://api.github.localhost/repos/o/r/issues?per_page=100 HTTP/1.1`) with chunked bodies.
//! Origin-form targets and a `/api/v3` prefix are served the same way. Every answer closes its connection.

#![allow(
    dead_code,
    reason = "shared by the unit tests and the integration tests, each of which uses a subset"
)]

#[allow(
    clippy::duplicate_mod,
    reason = "every fake includes the HTTP core privately; a test binary may hold several fakes"
)]
#[path = "http_core.rs"]
mod http_core;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_core::Incoming;
use serde_json::{Value, json};

/// Base of the `url` fields, as gh sees the API of `github.localhost`.
const API: &str = "http://api.github.localhost";
/// Base of the `html_url` fields.
const WEB: &str = "http://github.localhost";
/// After this long the server stops answering, so a stuck test fails instead of hanging CI.
const LIFETIME: Duration = Duration::from_secs(10 * 60);
/// A connection that sends nothing for this long is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The login of issues created through the API (seeded ones are by `octocat`).
const API_USER: &str = "fake-user";
const SEED_USER: &str = "octocat";

/// A fake GitHub listening on `127.0.0.1`; stops when dropped.
pub struct FakeGitHub {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
    watchdog: Option<JoinHandle<()>>,
}

/// One request as the fake received it: `path` without scheme, host, `/api/v3` and query; `body` de-chunked.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked leaves consistent data behind: every change is made under one lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct State {
    repos: BTreeMap<String, Repo>,
    requests: Vec<Recorded>,
    failures: Vec<Failure>,
    create_delay: Duration,
    /// Every answer waits this long first (a GitHub far away), outside the lock.
    latency: Duration,
    /// Ids of comments and labels.
    next_id: u64,
}

impl State {
    fn repo(&mut self, repo: &str) -> &mut Repo {
        self.repos.entry(repo.to_owned()).or_default()
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

#[derive(Default)]
struct Repo {
    /// The commit authors of each pull request (`GET pulls/N/commits`), by number; none unless set.
    commit_authors: BTreeMap<u64, Vec<String>>,
    /// Issues and pull requests, by number.
    items: BTreeMap<u64, Item>,
    labels: Vec<Label>,
    comments: BTreeMap<u64, Vec<Value>>,
}

impl Repo {
    fn next_number(&self) -> u64 {
        self.items.keys().next_back().map_or(1, |n| n + 1)
    }

    fn label(&self, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

struct Item {
    number: u64,
    title: String,
    body: Option<String>,
    state: String,
    state_reason: Option<String>,
    labels: Vec<String>,
    created_at: String,
    updated_at: String,
    closed_at: Option<String>,
    author: String,
    comments: u64,
    pull: Option<Pull>,
}

struct Pull {
    head: String,
    base: String,
    draft: bool,
    merged_at: Option<String>,
}

struct Label {
    id: u64,
    name: String,
    color: String,
    description: Option<String>,
}

struct Failure {
    method: String,
    path_prefix: String,
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
    left: usize,
}

impl FakeGitHub {
    /// Binds `127.0.0.1:0` and serves each connection on its own thread.
    pub fn start() -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake GitHub");
        let addr = listener.local_addr().expect("address of the fake GitHub");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            stop: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
        });
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || serve(&shared, stream));
                }
            })
        };
        let watchdog = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let deadline = Instant::now() + LIFETIME;
                loop {
                    if shared.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        eprintln!(
                            "fake GitHub on {addr}: lifetime of {}s over, no longer answering",
                            LIFETIME.as_secs()
                        );
                        shared.stop.store(true, Ordering::SeqCst);
                        // Wakes the accept loop so that it sees the flag.
                        let _ = TcpStream::connect(addr);
                        return;
                    }
                    std::thread::park_timeout(deadline - now);
                }
            })
        };
        FakeGitHub {
            shared,
            addr,
            accept: Some(accept),
            watchdog: Some(watchdog),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The environment for the real `gh` to talk to this server, with its config in `config_dir`.
    pub fn gh_env(&self, config_dir: &std::path::Path) -> Vec<(String, String)> {
        let proxy = format!("http://127.0.0.1:{}", self.port());
        [
            ("GH_HOST", "github.localhost"),
            ("GH_ENTERPRISE_TOKEN", "fake"),
            ("HTTP_PROXY", proxy.as_str()),
            ("http_proxy", proxy.as_str()),
            // A NO_PROXY of the machine that matched `api.github.localhost` would bypass the fake.
            ("NO_PROXY", ""),
            ("no_proxy", ""),
            ("GH_CONFIG_DIR", &config_dir.to_string_lossy()),
            ("GH_PROMPT_DISABLED", "1"),
            ("NO_COLOR", "1"),
            ("GH_NO_UPDATE_NOTIFIER", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Seeds an issue by `octocat`, created and updated at `updated_at`; returns its number.
    pub fn add_issue(
        &self,
        repo: &str,
        title: &str,
        body: &str,
        labels: &[&str],
        state: &str,
        updated_at: &str,
    ) -> u64 {
        let mut state_guard = self.shared.lock();
        let labels = ensure_labels(&mut state_guard, repo, labels.iter().copied());
        let repo = state_guard.repo(repo);
        let number = repo.next_number();
        let closed = state == "closed";
        repo.items.insert(
            number,
            Item {
                number,
                title: title.to_owned(),
                body: Some(body.to_owned()),
                state: state.to_owned(),
                state_reason: closed.then(|| "completed".to_owned()),
                labels,
                created_at: updated_at.to_owned(),
                updated_at: updated_at.to_owned(),
                closed_at: closed.then(|| updated_at.to_owned()),
                author: SEED_USER.to_owned(),
                comments: 0,
                pull: None,
            },
        );
        number
    }

    /// Seeds a pull request from branch `head` into `main`; it takes the next issue number.
    pub fn add_pull(&self, repo: &str, title: &str, body: &str, head: &str, state: &str) -> u64 {
        let now = now();
        let mut guard = self.shared.lock();
        let repo = guard.repo(repo);
        let number = repo.next_number();
        repo.items.insert(
            number,
            Item {
                number,
                title: title.to_owned(),
                body: Some(body.to_owned()),
                state: state.to_owned(),
                state_reason: None,
                labels: Vec::new(),
                created_at: now.clone(),
                updated_at: now.clone(),
                closed_at: (state == "closed").then_some(now),
                author: SEED_USER.to_owned(),
                comments: 0,
                pull: Some(Pull {
                    head: head.to_owned(),
                    base: "main".to_owned(),
                    draft: false,
                    merged_at: None,
                }),
            },
        );
        number
    }

    /// The commit authors pull request `number` of `repo` reports.
    pub fn set_commit_authors(&self, repo: &str, number: u64, authors: &[&str]) {
        let mut guard = self.shared.lock();
        guard
            .repo(repo)
            .commit_authors
            .insert(number, authors.iter().map(|a| (*a).to_owned()).collect());
    }

    /// Merges pull request `number` of `repo` at `at` (`YYYY-MM-DDTHH:MM:SSZ`): closed, with `merged_at`.
    pub fn merge_pull(&self, repo: &str, number: u64, at: &str) {
        let mut guard = self.shared.lock();
        let item = guard
            .repo(repo)
            .items
            .get_mut(&number)
            .expect("the pull request exists");
        "closed".clone_into(&mut item.state);
        item.closed_at = Some(at.to_owned());
        item.pull.as_mut().expect("a pull request").merged_at = Some(at.to_owned());
    }

    /// Every issue of `repo` (open and closed, no pull requests) as the API shows it, by number ascending.
    pub fn issues(&self, repo: &str) -> Vec<Value> {
        let guard = self.shared.lock();
        let Some(r) = guard.repos.get(repo) else {
            return Vec::new();
        };
        r.items
            .values()
            .filter(|i| i.pull.is_none())
            .map(|i| item_json(repo, r, i))
            .collect()
    }

    /// Every pull request of `repo` as the pulls API shows it, by number ascending.
    pub fn pulls(&self, repo: &str) -> Vec<Value> {
        let guard = self.shared.lock();
        let Some(r) = guard.repos.get(repo) else {
            return Vec::new();
        };
        r.items
            .values()
            .filter_map(|i| Some(pull_json(repo, r, i, i.pull.as_ref()?)))
            .collect()
    }

    /// The comments of issue `number`, oldest first.
    pub fn comments(&self, repo: &str, number: u64) -> Vec<Value> {
        let guard = self.shared.lock();
        guard
            .repos
            .get(repo)
            .and_then(|r| r.comments.get(&number))
            .cloned()
            .unwrap_or_default()
    }

    /// The labels of `repo`, in creation order.
    pub fn labels(&self, repo: &str) -> Vec<Value> {
        let guard = self.shared.lock();
        guard
            .repos
            .get(repo)
            .map(|r| r.labels.iter().map(|l| label_json(repo, l)).collect())
            .unwrap_or_default()
    }

    /// Every request received so far, in arrival order, including those answered by [`Self::fail_next`].
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The next `times` requests with this method whose path starts with `path_prefix` are answered with
    /// `status`, `body` and `headers` instead of being served.
    pub fn fail_next(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        body: &str,
        headers: &[(&str, &str)],
        times: usize,
    ) {
        let path_prefix = if path_prefix.starts_with('/') {
            path_prefix.to_owned()
        } else {
            format!("/{path_prefix}")
        };
        self.shared.lock().failures.push(Failure {
            method: method.to_ascii_uppercase(),
            path_prefix,
            status,
            body: body.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            left: times,
        });
    }

    /// The most requests that were being answered at once.
    pub fn most_in_flight(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }

    /// Every answer waits this long first, as a GitHub across the ocean does; requests overlap.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Issue creation waits this long before it takes a number (nothing is locked meanwhile), so that
    /// concurrent creators both get past their "does it exist?" check.
    pub fn set_create_delay(&self, delay: Duration) {
        self.shared.lock().create_delay = delay;
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.thread().unpark();
            let _ = watchdog.join();
        }
        // Wakes the accept loop; once it sees the flag it drops the listener.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

struct Request {
    method: String,
    path: String,
    /// The raw query string, without `?`.
    query: String,
    body: Vec<u8>,
}

impl Request {
    fn param(&self, name: &str) -> Option<String> {
        query_pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    fn json(&self) -> Result<Value, Response> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.body)
            .map_err(|_| Response::error(400, "Problems parsing JSON"))
    }
}

struct Response {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
}

impl Response {
    fn json(status: u16, value: &Value) -> Response {
        Response {
            status,
            body: value.to_string(),
            headers: Vec::new(),
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response::json(
            status,
            &json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        )
    }

    fn not_found() -> Response {
        Response::error(404, "Not Found")
    }

    fn validation(resource: &str, code: &str, field: &str) -> Response {
        Response::json(
            422,
            &json!({
                "message": "Validation Failed",
                "errors": [{ "resource": resource, "code": code, "field": field }],
                "documentation_url": "https://docs.github.com/rest",
            }),
        )
    }
}

fn serve(shared: &Shared, mut stream: TcpStream) {
    if shared.stop.load(Ordering::SeqCst) {
        return;
    }
    let request = match http_core::read_request(&stream, READ_TIMEOUT) {
        Ok(Incoming::Request(request)) => {
            let (path, query) = split_target(&request.target);
            Request {
                method: request.method,
                path,
                query,
                body: request.body,
            }
        }
        Ok(Incoming::Closed) => return,
        Ok(Incoming::TooLarge) => {
            write_response(&mut stream, &Response::error(413, "Payload Too Large"));
            return;
        }
        Err(_) => {
            write_response(&mut stream, &Response::error(400, "Bad Request"));
            return;
        }
    };
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let latency = shared.lock().latency;
    std::thread::sleep(latency);
    let response = handle(shared, &request);
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    write_response(&mut stream, &response);
}

fn write_response(stream: &mut TcpStream, response: &Response) {
    let headers: Vec<(&str, &str)> = response
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let _ = http_core::write_response(
        stream,
        response.status,
        "application/json; charset=utf-8",
        &headers,
        response.body.as_bytes(),
    );
}

/// `http://host/api/v3/x?q` and `/x?q` both become (`/x`, `q`).
fn split_target(target: &str) -> (String, String) {
    let mut rest = target;
    for scheme in ["http://", "https://"] {
        if let Some(after) = rest.strip_prefix(scheme) {
            rest = after.find('/').map_or("/", |i| &after[i..]);
        }
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let path = if path.is_empty() { "/" } else { path };
    (path.to_owned(), query.to_owned())
}

fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_is_space => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Routes

fn handle(shared: &Shared, request: &Request) -> Response {
    {
        let mut state = shared.lock();
        state.requests.push(Recorded {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        });
        let failure = state.failures.iter_mut().find(|f| {
            f.left > 0 && f.method == request.method && request.path.starts_with(&f.path_prefix)
        });
        if let Some(failure) = failure {
            failure.left -= 1;
            return Response {
                status: failure.status,
                body: failure.body.clone(),
                headers: failure.headers.clone(),
            };
        }
    }
    let segments: Vec<String> = request
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    let (owner, name, rest) = match segments.as_slice() {
        ["repos", owner, name, rest @ ..] => (*owner, *name, rest),
        _ => return Response::not_found(),
    };
    let repo = format!("{owner}/{name}");
    let number = |s: &str| s.parse::<u64>().ok();
    match (method, rest) {
        ("GET", []) => get_repo(&repo),
        ("GET", ["issues"]) => list_issues(shared, &repo, request),
        ("POST", ["issues"]) => create_issue(shared, &repo, request),
        ("GET", ["issues", n]) => with_number(number(n), |n| get_issue(shared, &repo, n)),
        ("PATCH", ["issues", n]) => {
            with_number(number(n), |n| edit_issue(shared, &repo, n, request))
        }
        ("GET", ["issues", n, "comments"]) => {
            with_number(number(n), |n| list_comments(shared, &repo, n, request))
        }
        ("POST", ["issues", n, "comments"]) => {
            with_number(number(n), |n| create_comment(shared, &repo, n, request))
        }
        ("GET", ["issues", n, "labels"]) => {
            with_number(number(n), |n| issue_labels(shared, &repo, n, request))
        }
        ("POST", ["issues", n, "labels"]) => {
            with_number(number(n), |n| add_issue_labels(shared, &repo, n, request))
        }
        ("GET", ["labels"]) => list_labels(shared, &repo, request),
        ("POST", ["labels"]) => create_label(shared, &repo, request),
        ("GET", ["labels", label]) => get_label(shared, &repo, label),
        ("GET", ["pulls"]) => list_pulls(shared, &repo, request),
        ("POST", ["pulls"]) => create_pull(shared, &repo, request),
        ("GET", ["pulls", n]) => with_number(number(n), |n| get_pull(shared, &repo, n)),
        ("GET", ["pulls", n, "commits"]) => with_number(number(n), |n| {
            let mut guard = shared.lock();
            let authors = guard
                .repo(&repo)
                .commit_authors
                .get(&n)
                .cloned()
                .unwrap_or_default();
            let commits: Vec<Value> = authors
                .iter()
                .enumerate()
                .map(|(i, name)| json!({ "sha": format!("{i:040}"), "commit": { "author": { "name": name } } }))
                .collect();
            Response::json(200, &json!(commits))
        }),
        // Who was asked is in `requests()`; GitHub answers with the pull request.
        ("POST", ["pulls", n, "requested_reviewers"]) => {
            with_number(number(n), |n| get_pull(shared, &repo, n))
        }
        _ => Response::not_found(),
    }
}

fn with_number(number: Option<u64>, f: impl FnOnce(u64) -> Response) -> Response {
    number.map_or_else(Response::not_found, f)
}

fn get_repo(repo: &str) -> Response {
    let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
    Response::json(
        200,
        &json!({
            "name": name,
            "full_name": repo,
            "owner": { "login": owner },
            "private": false,
            "html_url": format!("{WEB}/{repo}"),
            "url": format!("{API}/repos/{repo}"),
            "default_branch": "main",
        }),
    )
}

fn list_issues(shared: &Shared, repo: &str, request: &Request) -> Response {
    let state_filter = request.param("state").unwrap_or_else(|| "open".to_owned());
    if !matches!(state_filter.as_str(), "open" | "closed" | "all") {
        return Response::validation("Issue", "invalid", "state");
    }
    let wanted: Vec<String> = request
        .param("labels")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let since = request.param("since");
    let sort = request
        .param("sort")
        .unwrap_or_else(|| "created".to_owned());
    let ascending = request.param("direction").as_deref() == Some("asc");
    let guard = shared.lock();
    let Some(r) = guard.repos.get(repo) else {
        return paginate(Vec::new(), request);
    };
    let mut items: Vec<&Item> = r
        .items
        .values()
        .filter(|i| state_filter == "all" || i.state == state_filter)
        .filter(|i| {
            wanted
                .iter()
                .all(|w| i.labels.iter().any(|l| l.eq_ignore_ascii_case(w)))
        })
        .filter(|i| since.as_deref().is_none_or(|s| i.updated_at.as_str() >= s))
        .collect();
    match sort.as_str() {
        "updated" => {
            items.sort_by(|a, b| (&a.updated_at, a.number).cmp(&(&b.updated_at, b.number)));
        }
        "comments" => items.sort_by_key(|i| (i.comments, i.number)),
        _ => items.sort_by_key(|i| i.number),
    }
    if !ascending {
        items.reverse();
    }
    let values = items.into_iter().map(|i| item_json(repo, r, i)).collect();
    paginate(values, request)
}

fn create_issue(shared: &Shared, repo: &str, request: &Request) -> Response {
    let input = match request.json() {
        Ok(v) => v,
        Err(response) => return response,
    };
    let Some(title) = input["title"].as_str().filter(|t| !t.trim().is_empty()) else {
        return Response::validation("Issue", "missing_field", "title");
    };
    let delay = shared.lock().create_delay;
    if !delay.is_zero() {
        std::thread::sleep(delay);
    }
    let now = now();
    let mut guard = shared.lock();
    let labels = ensure_labels(
        &mut guard,
        repo,
        label_names(&input["labels"]).iter().map(String::as_str),
    );
    let r = guard.repo(repo);
    let number = r.next_number();
    let item = Item {
        number,
        title: title.to_owned(),
        body: input["body"].as_str().map(str::to_owned),
        state: "open".to_owned(),
        state_reason: None,
        labels,
        created_at: now.clone(),
        updated_at: now,
        closed_at: None,
        author: API_USER.to_owned(),
        comments: 0,
        pull: None,
    };
    let value = item_json(repo, r, &item);
    r.items.insert(number, item);
    Response::json(201, &value)
}

fn get_issue(shared: &Shared, repo: &str, number: u64) -> Response {
    let guard = shared.lock();
    match guard
        .repos
        .get(repo)
        .and_then(|r| Some((r, r.items.get(&number)?)))
    {
        Some((r, item)) => Response::json(200, &item_json(repo, r, item)),
        None => Response::not_found(),
    }
}

fn edit_issue(shared: &Shared, repo: &str, number: u64, request: &Request) -> Response {
    let input = match request.json() {
        Ok(v) => v,
        Err(response) => return response,
    };
    let now = now();
    let mut guard = shared.lock();
    let exists = guard
        .repos
        .get(repo)
        .is_some_and(|r| r.items.contains_key(&number));
    if !exists {
        return Response::not_found();
    }
    if let Some(state) = input.get("state").and_then(Value::as_str)
        && !matches!(state, "open" | "closed")
    {
        return Response::validation("Issue", "invalid", "state");
    }
    let labels = input
        .get("labels")
        .map(|l| ensure_labels(&mut guard, repo, label_names(l).iter().map(String::as_str)));
    let r = guard.repo(repo);
    let item = r.items.get_mut(&number).expect("checked above");
    if let Some(title) = input.get("title").and_then(Value::as_str) {
        title.clone_into(&mut item.title);
    }
    if let Some(body) = input.get("body") {
        item.body = body.as_str().map(str::to_owned);
    }
    if let Some(labels) = labels {
        item.labels = labels;
    }
    let reason = input.get("state_reason").and_then(Value::as_str);
    match input.get("state").and_then(Value::as_str) {
        Some("closed") if item.state != "closed" => {
            "closed".clone_into(&mut item.state);
            item.closed_at = Some(now.clone());
            item.state_reason = Some(reason.unwrap_or("completed").to_owned());
        }
        Some("open") if item.state != "open" => {
            "open".clone_into(&mut item.state);
            item.closed_at = None;
            item.state_reason = Some(reason.unwrap_or("reopened").to_owned());
        }
        _ => {
            if let Some(reason) = reason {
                item.state_reason = Some(reason.to_owned());
            }
        }
    }
    item.updated_at = now;
    let r = &guard.repos[repo];
    Response::json(200, &item_json(repo, r, &r.items[&number]))
}

fn list_comments(shared: &Shared, repo: &str, number: u64, request: &Request) -> Response {
    let guard = shared.lock();
    let Some(r) = guard
        .repos
        .get(repo)
        .filter(|r| r.items.contains_key(&number))
    else {
        return Response::not_found();
    };
    paginate(
        r.comments.get(&number).cloned().unwrap_or_default(),
        request,
    )
}

fn create_comment(shared: &Shared, repo: &str, number: u64, request: &Request) -> Response {
    let input = match request.json() {
        Ok(v) => v,
        Err(response) => return response,
    };
    let Some(body) = input["body"].as_str() else {
        return Response::validation("IssueComment", "missing_field", "body");
    };
    let now = now();
    let mut guard = shared.lock();
    let exists = guard
        .repos
        .get(repo)
        .is_some_and(|r| r.items.contains_key(&number));
    if !exists {
        return Response::not_found();
    }
    let id = guard.id();
    let r = guard.repo(repo);
    let item = r.items.get_mut(&number).expect("checked above");
    item.comments += 1;
    item.updated_at.clone_from(&now);
    let kind = if item.pull.is_some() {
        "pull"
    } else {
        "issues"
    };
    let comment = json!({
        "id": id,
        "node_id": format!("IC_{id}"),
        "url": format!("{API}/repos/{repo}/issues/comments/{id}"),
        "html_url": format!("{WEB}/{repo}/{kind}/{number}#issuecomment-{id}"),
        "issue_url": format!("{API}/repos/{repo}/issues/{number}"),
        "body": body,
        "user": user_json(API_USER),
        "created_at": now,
        "updated_at": now,
        "author_association": "OWNER",
    });
    r.comments.entry(number).or_default().push(comment.clone());
    Response::json(201, &comment)
}

fn issue_labels(shared: &Shared, repo: &str, number: u64, request: &Request) -> Response {
    let guard = shared.lock();
    let Some((r, item)) = guard
        .repos
        .get(repo)
        .and_then(|r| Some((r, r.items.get(&number)?)))
    else {
        return Response::not_found();
    };
    paginate(item_labels_json(repo, r, item), request)
}

fn add_issue_labels(shared: &Shared, repo: &str, number: u64, request: &Request) -> Response {
    let input = match request.json() {
        Ok(v) => v,
        Err(response) => return response,
    };
    let names = if input.is_array() {
        label_names(&input)
    } else {
        label_names(&input["labels"])
    };
    let now = now();
    let mut guard = shared.lock();
    let exists = guard
        .repos
        .get(repo)
        .is_some_and(|r| r.items.contains_key(&number));
    if !exists {
        return Response::not_found();
    }
    let names = ensure_labels(&mut guard, repo, names.iter().map(String::as_str));
    let r = guard.repo(repo);
    let item = r.items.get_mut(&number).expect("checked above");
    for name in names {
        if !item.labels.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
            item.labels.push(name);
        }
    }
    item.updated_at = now;
    let r = &guard.repos[repo];
    Response::json(
        200,
        &Value::Array(item_labels_json(repo, r, &r.items[&number])),
    )
}

fn list_labels(shared: &Shared, repo: &str, request: &Request) -> Response {
    let guard = shared.lock();
    let labels = guard
        .repos
        .get(repo)
        .map(|r| r.labels.iter().map(|l| label_json(repo, l)).collect())
        .unwrap_or_default();
    paginate(labels, request)
}

fn get_label(shared: &Shared, repo: &str, name: &str) -> Response {
    let guard = shared.lock();
    match guard.repos.get(repo).and_then(|r| r.label(name)) {
        Some(label) => Response::json(200, &label_json(repo, label)),
        None => Response::not_found(),
    }
}

fn create_label(shared: &Shared, repo: &str, request: &Request) -> Response {
    let input = match request.json() {
        Ok(v) => v,
        Err(response) => return response,
    };
    let Some(name) = input["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return Response::validation("Label", "missing_field", "name");
    };
    let color = input["color"]
        .as_str()
        .map_or("ededed", |c| c.trim_start_matches('#'));
    if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
        return Response::validation("Label", "invalid", "color");
    }
    let mut guard = shared.lock();
    if guard.repos.get(repo).and_then(|r| r.label(name)).is_some() {
        return Response::validation("Label", "already_exists", "name");
    }
    let label = Label {
        id: guard.id(),
        name: name.to_owned(),
        color: color.to_ascii_lowercase(),
        description: input["description"].as_str().map(str::to_owned),
    };
    let value = label_json(repo, &label);
    guard.repo(repo).labels.push(label);
    Response::json(201, &value)
}

fn list_pulls(shared: &Shared, repo: &str, request: &Request) -> Response {
    let state_filter = request.param("state").unwrap_or_else(|| "open".to_owned());
    let owner = repo.split('/').next().unwrap_or_default();
    let head = request.param("head");
    let base = request.param("base");
    let guard = shared.lock();
    let Some(r) = guard.repos.get(repo) else {
        return paginate(Vec::new(), request);
    };
    let values = r
        .items
        .values()
        .rev()
        .filter(|i| state_filter == "all" || i.state == state_filter)
        .filter_map(|i| Some((i, i.pull.as_ref()?)))
        .filter(|(_, p)| {
            head.as_deref().is_none_or(|h| match h.split_once(':') {
                Some((user, branch)) => user.eq_ignore_ascii_case(owner) && p.head == branch,
                None => p.head == h,
            })
        })
        .filter(|(_, p)| base.as_deref().is_none_or(|b| p.base == b))
        .map(|(i, p)| pull_json(repo, r, i, p))
        .collect();
    paginate(values, request)
}

fn get_pull(shared: &Shared, repo: &str, number: u64) -> Response {
    let guard = shared.lock();
    let found = guard
        .repos
        .get(repo)
        .and_then(|r| r.items.get(&number).map(|i| (r, i)))
        .and_then(|(r, i)| Some((r, i, i.pull.as_ref()?)));
    match found {
        Some((r, i, p)) => Response::json(200, &pull_json(repo, r, i, p)),
        None => Response::not_found(),
    }
}

fn create_pull(shared: &Shared, repo: &str, request: &Request) -> Response {
    let input = match request.json() {
        Ok(v) => v,
        Err(response) => return response,
    };
    let (Some(title), Some(head)) = (input["title"].as_str(), input["head"].as_str()) else {
        return Response::validation("PullRequest", "missing_field", "head");
    };
    let head = head.split_once(':').map_or(head, |(_, branch)| branch);
    let now = now();
    let mut guard = shared.lock();
    let r = guard.repo(repo);
    let duplicate = r
        .items
        .values()
        .any(|i| i.state == "open" && i.pull.as_ref().is_some_and(|p| p.head == head));
    if duplicate {
        let owner = repo.split('/').next().unwrap_or_default();
        return Response::json(
            422,
            &json!({
                "message": "Validation Failed",
                "errors": [{ "resource": "PullRequest", "code": "custom",
                             "message": format!("A pull request already exists for {owner}:{head}.") }],
            }),
        );
    }
    let number = r.next_number();
    let item = Item {
        number,
        title: title.to_owned(),
        body: input["body"].as_str().map(str::to_owned),
        state: "open".to_owned(),
        state_reason: None,
        labels: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
        closed_at: None,
        author: API_USER.to_owned(),
        comments: 0,
        pull: Some(Pull {
            head: head.to_owned(),
            base: input["base"].as_str().unwrap_or("main").to_owned(),
            draft: input["draft"].as_bool().unwrap_or(false),
            merged_at: None,
        }),
    };
    r.items.insert(number, item);
    let item = &r.items[&number];
    let value = pull_json(repo, r, item, item.pull.as_ref().expect("just made"));
    Response::json(201, &value)
}

/// Slices `items` by `per_page` (default 30, at most 100) and `page`, with GitHub's `Link` header.
fn paginate(items: Vec<Value>, request: &Request) -> Response {
    let per_page = request
        .param("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = request
        .param("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let url = |n: usize| {
        let mut query: Vec<&str> = request
            .query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("page="))
            .collect();
        let page = format!("page={n}");
        query.push(&page);
        format!("<{API}{}?{}>", request.path, query.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    let mut response = Response::json(200, &Value::Array(slice));
    if !links.is_empty() {
        response.headers.push(("Link".to_owned(), links.join(", ")));
    }
    response
}

// ---------------------------------------------------------------------------------------------------------
// JSON shapes

/// Label names from `["a", {"name": "b"}]`.
fn label_names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|labels| {
            labels
                .iter()
                .filter_map(|l| l.as_str().or_else(|| l["name"].as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Creates the labels `names` that `repo` lacks (like GitHub does when an issue names them) and returns the
/// names as the repository spells them.
fn ensure_labels<'a>(
    state: &mut State,
    repo: &str,
    names: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let existing = state.repo(repo).label(name).map(|l| l.name.clone());
        let name = if let Some(existing) = existing {
            existing
        } else {
            let id = state.id();
            state.repo(repo).labels.push(Label {
                id,
                name: name.to_owned(),
                color: "ededed".to_owned(),
                description: None,
            });
            name.to_owned()
        };
        if !out.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    }
    out
}

fn user_json(login: &str) -> Value {
    json!({ "login": login, "id": 1, "type": "User", "html_url": format!("{WEB}/{login}") })
}

fn label_json(repo: &str, label: &Label) -> Value {
    json!({
        "id": label.id,
        "node_id": format!("LA_{}", label.id),
        "url": format!("{API}/repos/{repo}/labels/{}", label.name.replace(' ', "%20")),
        "name": label.name,
        "color": label.color,
        "default": false,
        "description": label.description,
    })
}

fn item_labels_json(repo: &str, r: &Repo, item: &Item) -> Vec<Value> {
    item.labels
        .iter()
        .filter_map(|name| r.label(name))
        .map(|l| label_json(repo, l))
        .collect()
}

fn item_json(repo: &str, r: &Repo, item: &Item) -> Value {
    let n = item.number;
    let url = format!("{API}/repos/{repo}/issues/{n}");
    let kind = if item.pull.is_some() {
        "pull"
    } else {
        "issues"
    };
    let mut value = json!({
        "id": 1_000_000 + n,
        "node_id": format!("I_{n}"),
        "number": n,
        "title": item.title,
        "body": item.body,
        "state": item.state,
        "state_reason": item.state_reason,
        "locked": false,
        "html_url": format!("{WEB}/{repo}/{kind}/{n}"),
        "url": url,
        "repository_url": format!("{API}/repos/{repo}"),
        "comments_url": format!("{url}/comments"),
        "labels_url": format!("{url}/labels{{/name}}"),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "closed_at": item.closed_at,
        "labels": item_labels_json(repo, r, item),
        "user": user_json(&item.author),
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "comments": item.comments,
        "author_association": "OWNER",
    });
    if item.pull.is_some() {
        value["pull_request"] = json!({
            "url": format!("{API}/repos/{repo}/pulls/{n}"),
            "html_url": format!("{WEB}/{repo}/pull/{n}"),
            "merged_at": item.pull.as_ref().and_then(|p| p.merged_at.clone()),
        });
        value["draft"] = json!(item.pull.as_ref().is_some_and(|p| p.draft));
    }
    value
}

fn pull_json(repo: &str, r: &Repo, item: &Item, pull: &Pull) -> Value {
    let n = item.number;
    let owner = repo.split('/').next().unwrap_or_default();
    json!({
        "id": 2_000_000 + n,
        "node_id": format!("PR_{n}"),
        "number": n,
        "title": item.title,
        "body": item.body,
        "state": item.state,
        "draft": pull.draft,
        "locked": false,
        "html_url": format!("{WEB}/{repo}/pull/{n}"),
        "url": format!("{API}/repos/{repo}/pulls/{n}"),
        "issue_url": format!("{API}/repos/{repo}/issues/{n}"),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "closed_at": item.closed_at,
        "merged_at": pull.merged_at,
        "labels": item_labels_json(repo, r, item),
        "user": user_json(&item.author),
        "head": { "ref": pull.head, "label": format!("{owner}:{}", pull.head), "sha": "0".repeat(40) },
        "base": { "ref": pull.base, "label": format!("{owner}:{}", pull.base), "sha": "0".repeat(40) },
    })
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ`, like GitHub's timestamps.
fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
