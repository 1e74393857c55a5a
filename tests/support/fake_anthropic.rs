//! A scripted fake of the Anthropic Messages API, for driving the real `claude` binary in tests.
//!
//! `claude --print` sends `POST /v1/messages?beta=true` with `"stream": true`; each such request takes the
//! next [`Reply`] of the script (then the `repeat` reply forever) and gets it as server-sent events:
//! `message_start` (with `usage.input_tokens`), one content block (`content_block_start`, one
//! `content_block_delta` of `text_delta` or `input_json_delta`, `content_block_stop`), `message_delta` (with
//! `stop_reason` and `usage.output_tokens`) and `message_stop`. Every response has its own message id:
//! responses that share one are merged by the client into one assistant message and the conversation
//! never advances. The binary prices the usage numbers it is given, so [`FakeAnthropic::set_usage`] controls
//! what a call costs.
//!
//! Anything else (`count_tokens`, model listing, telemetry if it were not disabled) gets a 404 in the API's
//! error shape, which the binary treats as "not available". One thread per connection, `Connection: close`
//! on every answer; the server stops when dropped or after [`LIFETIME`], and a [`Reply::Hang`] holds its
//! connection open until then.
//!
//! Included with `#[path]` by the library's unit tests and the integration tests: std and `serde_json` only.

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

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use http_core::Incoming;
use serde_json::{Value, json};

/// After this long the server stops answering (and hanging replies end), so a stuck test cannot hang CI.
pub const LIFETIME: Duration = Duration::from_secs(10 * 60);
/// A connection that sends nothing for this long is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a hanging connection looks at the stop flag.
const HANG_POLL: Duration = Duration::from_millis(50);

/// What the fake answers to one `POST /v1/messages`.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An assistant text block; `stop_reason` `end_turn`.
    Text(String),
    /// A `tool_use` block calling `name` with `input`; `stop_reason` `tool_use`. The binary runs the tool if
    /// it is allowed (with `--json-schema`, `StructuredOutput` carries the answer) and sends its result in
    /// the next request.
    Tool { name: String, input: Value },
    /// An HTTP error with this status and JSON body, e.g. [`error_body`].
    Status(u16, String),
    /// Reads the request and never answers (until the server stops).
    Hang,
}

impl Reply {
    /// A `tool_use` reply.
    pub fn tool(name: &str, input: Value) -> Reply {
        Reply::Tool {
            name: name.to_owned(),
            input,
        }
    }

    /// An HTTP error in the API's shape: `{"type":"error","error":{"type":..,"message":..}}`.
    pub fn status(status: u16, message: &str) -> Reply {
        Reply::Status(status, error_body(status, message))
    }
}

/// The API's error body for `status`, with the error type the real API uses for it.
pub fn error_body(status: u16, message: &str) -> String {
    let kind = match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    json!({ "type": "error", "error": { "type": kind, "message": message } }).to_string()
}

/// A fake Anthropic API on `127.0.0.1`; stops when dropped.
pub struct FakeAnthropic {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler leaves consistent data behind: every change is made under one lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self, deadline: Instant) -> bool {
        self.stop.load(Ordering::SeqCst) || Instant::now() >= deadline
    }
}

struct State {
    script: VecDeque<Reply>,
    then: Reply,
    input_tokens: u64,
    output_tokens: u64,
    /// Bodies of the `/v1/messages` requests, in the order they arrived.
    requests: Vec<Value>,
    /// Method and target of every request, messages included.
    seen: Vec<String>,
    next_id: u64,
}

impl FakeAnthropic {
    /// Listens on a free port of 127.0.0.1 and answers message requests with `script` in order, then with
    /// the [`FakeAnthropic::repeat`] reply (by default `Text("done")`).
    pub fn start(script: Vec<Reply>) -> FakeAnthropic {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                script: script.into(),
                then: Reply::Text("done".to_owned()),
                input_tokens: 1000,
                output_tokens: 100,
                requests: Vec::new(),
                seen: Vec::new(),
                next_id: 0,
            }),
            stop: AtomicBool::new(false),
        });
        let accept = Arc::clone(&shared);
        let deadline = Instant::now() + LIFETIME;
        thread::Builder::new()
            .name(format!("fake-anthropic-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &accept, deadline))
            .expect("spawn the fake server");
        FakeAnthropic { addr, shared }
    }

    /// What to answer once the script is used up (a `Tool` reply forever makes an agent that loops).
    pub fn repeat(&self, reply: Reply) {
        self.shared.lock().then = reply;
    }

    /// Tokens reported in every later response: the binary computes `total_cost_usd` from them.
    /// Appends `replies` to the script, for a test that knows them only once the server runs.
    pub fn script(&self, replies: Vec<Reply>) {
        self.shared.lock().script.extend(replies);
    }

    pub fn set_usage(&self, input_tokens: u64, output_tokens: u64) {
        let mut state = self.shared.lock();
        state.input_tokens = input_tokens;
        state.output_tokens = output_tokens;
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the `ANTHROPIC_BASE_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The JSON bodies of the message requests received so far, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.lock().requests.clone()
    }

    /// `METHOD target` of every request received so far, message requests included.
    pub fn seen(&self) -> Vec<String> {
        self.shared.lock().seen.clone()
    }

    /// The environment that points `claude` at this server with a fresh `home`, and keeps it off the
    /// network otherwise.
    pub fn env(&self, home: &Path) -> Vec<(String, String)> {
        [
            ("ANTHROPIC_BASE_URL", self.url()),
            ("ANTHROPIC_API_KEY", "fake".to_owned()),
            ("DISABLE_AUTOUPDATER", "1".to_owned()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_owned()),
            ("HOME", home.to_string_lossy().into_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

/// The text of every user message of a request body, its `text` blocks and `tool_result` contents, joined
/// by newlines: what a test searches for the prompt or a tool's output.
pub fn user_text(body: &Value) -> String {
    let mut out = Vec::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        if message["role"] != "user" {
            continue;
        }
        match &message["content"] {
            Value::String(text) => out.push(text.clone()),
            Value::Array(blocks) => {
                for block in blocks {
                    match &block["content"] {
                        Value::String(text) => out.push(text.clone()),
                        Value::Array(parts) => out.extend(
                            parts
                                .iter()
                                .filter_map(|p| p["text"].as_str().map(str::to_owned)),
                        ),
                        _ => {}
                    }
                    if let Some(text) = block["text"].as_str() {
                        out.push(text.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    out.join("\n")
}

/// The names of the tools a request body offers the model.
pub fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, deadline: Instant) {
    while !shared.stopped(deadline) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                let spawned = thread::Builder::new()
                    .name("fake-anthropic-conn".to_owned())
                    .spawn(move || {
                        // A client that hangs up early is its own problem; the server moves on.
                        let _ = serve(stream, &shared, deadline);
                    });
                if spawned.is_err() {
                    thread::sleep(Duration::from_millis(20));
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn serve(mut writer: TcpStream, shared: &Shared, deadline: Instant) -> io::Result<()> {
    let request = match http_core::read_request(&writer, READ_TIMEOUT)? {
        Incoming::Request(request) => request,
        Incoming::Closed => return Ok(()),
        Incoming::TooLarge => {
            let body = error_body(413, "request too large");
            return respond(&mut writer, 413, "application/json", &body);
        }
    };
    let (method, target, body) = (request.method, request.target, request.body);
    let path = target.split('?').next().unwrap_or_default();
    let is_message = method == "POST" && path == "/v1/messages";
    let reply = {
        let mut state = shared.lock();
        state.seen.push(format!("{method} {target}"));
        if is_message {
            let json = serde_json::from_slice(&body).unwrap_or_else(|err| {
                json!({ "unparsed": String::from_utf8_lossy(&body), "error": err.to_string() })
            });
            state.requests.push(json);
            let reply = state
                .script
                .pop_front()
                .unwrap_or_else(|| state.then.clone());
            state.next_id += 1;
            Some((
                reply,
                state.next_id,
                state.input_tokens,
                state.output_tokens,
            ))
        } else {
            None
        }
    };
    let Some((reply, id, input_tokens, output_tokens)) = reply else {
        let body = error_body(404, &format!("no fake for {method} {path}"));
        return respond(&mut writer, 404, "application/json", &body);
    };
    let model = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["model"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "claude-fake".to_owned());
    match reply {
        Reply::Status(status, body) => respond(&mut writer, status, "application/json", &body),
        Reply::Hang => {
            while !shared.stopped(deadline) {
                thread::sleep(HANG_POLL);
            }
            Ok(())
        }
        Reply::Text(text) => {
            let events = stream_events(
                id,
                &model,
                (input_tokens, output_tokens),
                &json!({ "type": "text", "text": "" }),
                &json!({ "type": "text_delta", "text": text }),
                "end_turn",
            );
            respond(&mut writer, 200, "text/event-stream", &events)
        }
        Reply::Tool { name, input } => {
            let input = with_cwd(&input, &body);
            let events = stream_events(
                id,
                &model,
                (input_tokens, output_tokens),
                &json!({ "type": "tool_use", "id": format!("toolu_fake{id:020}"), "name": name, "input": {} }),
                &json!({ "type": "input_json_delta", "partial_json": input.to_string() }),
                "tool_use",
            );
            respond(&mut writer, 200, "text/event-stream", &events)
        }
    }
}

/// `input` with every `{cwd}` in its strings replaced by the working directory the request's system prompt
/// names, and `{cwd_parent}` by its parent ("Working directory: /tmp/..."), so a script can give the absolute paths the file tools want in a
/// directory the test cannot know in advance (auto-fix's worktree).
fn with_cwd(input: &Value, body: &[u8]) -> Value {
    let text = input.to_string();
    if !text.contains("{cwd}") {
        return input.clone();
    }
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut system = String::new();
    match &request["system"] {
        Value::String(s) => system.push_str(s),
        Value::Array(blocks) => {
            for block in blocks {
                system.push_str(block["text"].as_str().unwrap_or_default());
                system.push('\n');
            }
        }
        _ => {}
    }
    system.push_str(&user_text(&request));
    let Some(cwd) = system
        .split("orking directory: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .map(str::trim)
    else {
        return input.clone();
    };
    let escape = |path: &str| {
        let quoted = serde_json::to_string(path).unwrap_or_default();
        quoted.trim_matches('"').to_owned()
    };
    let parent = Path::new(cwd)
        .parent()
        .map_or_else(String::new, |p| p.to_string_lossy().into_owned());
    let text = text
        .replace("{cwd_parent}", &escape(&parent))
        .replace("{cwd}", &escape(cwd));
    serde_json::from_str(&text).unwrap_or_else(|_| input.clone())
}

/// One streamed message with one content block, as server-sent events.
fn stream_events(
    id: u64,
    model: &str,
    (input_tokens, output_tokens): (u64, u64),
    block: &Value,
    delta: &Value,
    stop_reason: &str,
) -> String {
    let events = [
        (
            "message_start",
            json!({
                "type": "message_start",
                "message": {
                    "id": format!("msg_fake{id:020}"),
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": { "input_tokens": input_tokens, "output_tokens": 1 },
                },
            }),
        ),
        (
            "content_block_start",
            json!({ "type": "content_block_start", "index": 0, "content_block": block }),
        ),
        (
            "content_block_delta",
            json!({ "type": "content_block_delta", "index": 0, "delta": delta }),
        ),
        (
            "content_block_stop",
            json!({ "type": "content_block_stop", "index": 0 }),
        ),
        (
            "message_delta",
            json!({
                "type": "message_delta",
                "delta": { "stop_reason": stop_reason, "stop_sequence": null },
                "usage": { "output_tokens": output_tokens },
            }),
        ),
        ("message_stop", json!({ "type": "message_stop" })),
    ];
    let mut out = String::new();
    for (event, data) in events {
        let _ = write!(out, "event: {event}\ndata: {data}\n\n");
    }
    out
}

fn respond(writer: &mut TcpStream, status: u16, content_type: &str, body: &str) -> io::Result<()> {
    let headers = [("Cache-Control", "no-cache"), ("request-id", "req_fake")];
    http_core::write_response(writer, status, content_type, &headers, body.as_bytes())
}
