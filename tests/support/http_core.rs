//! The HTTP/1.1 that the local fakes (GitHub, the Anthropic API, Telegram and Slack) share: reading one request
//! (a `Content-Length` or chunked body, bounded), and writing one `Connection: close` response. Each fake
//! includes this file as a module of its own with `#[path]`: std only.

#![allow(dead_code, reason = "shared by fakes that each use a subset")]

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Larger request bodies are refused (a real claude request with all tools is about 100 KB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// One request as it arrived.
pub struct Request {
    pub method: String,
    /// As sent: a path, or an absolute URI when the client talks to a proxy.
    pub target: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What reading a connection gave.
pub enum Incoming {
    Request(Request),
    /// The client closed the connection before a request line.
    Closed,
    /// The body is over [`MAX_BODY`]: answer 413.
    TooLarge,
}

/// Reads one request from `stream`, waiting at most `timeout` for each read.
pub fn read_request(stream: &TcpStream, timeout: Duration) -> io::Result<Incoming> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(Incoming::Closed);
    }
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or_default().to_ascii_uppercase();
    let target = words.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    request.body = if chunked {
        match read_chunked(&mut reader)? {
            Some(body) => body,
            None => return Ok(Incoming::TooLarge),
        }
    } else {
        let length: usize = request
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if length > MAX_BODY {
            return Ok(Incoming::TooLarge);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(Incoming::Request(request))
}

/// A chunked body; `None` when it grows over [`MAX_BODY`].
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        let size_hex = size_line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
        if size == 0 {
            // Trailers, then the blank line that ends the body.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(Some(body));
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Ok(None);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

/// The reason phrase of the statuses the fakes send.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}

/// Writes one response and closes the writing side: `Content-Type`, then `headers`, `Content-Length` and
/// `Connection: close`.
pub fn write_response(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\n",
        reason(status)
    );
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(
        head,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)
}
