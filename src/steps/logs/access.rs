//! Access-log lines (nginx, Apache: `"POST /checkout HTTP/1.1" 502 166`) as templates that keep what matters:
//! the method, the path and the status, `POST /checkout -> 502`. A generic template masks the status with the
//! other numbers, and then a path's 502s and 200s are one template whose first line is a 200.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// The request and status of an access-log line.
static REQUEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""([A-Z]{3,7}) ([^" ]+) HTTP/[0-9.]+" ([1-5][0-9]{2}) "#).expect("valid regex")
});
/// A path segment that identifies one thing (a number, a hex id, a UUID), masked as the miner masks them.
static ID: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^(?:[0-9]+|[0-9a-fA-F]{12,}|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27})$")
        .expect("valid regex")
});

/// Whether a template is one [`template`] made: the clustering of similar templates leaves it as it is, so
/// that statuses stay apart.
pub(super) fn is_template(text: &str) -> bool {
    text.rsplit_once(" -> ").is_some_and(|(request, status)| {
        status.len() == 3
            && status.bytes().all(|b| b.is_ascii_digit())
            && request.split_once(' ').is_some_and(|(method, path)| {
                method.bytes().all(|b| b.is_ascii_uppercase()) && path.starts_with('/')
            })
    })
}

/// The template of an access-log line, `METHOD /path -> STATUS` (the query string dropped, ids masked), or
/// `None` when the line is no access-log line.
pub(super) fn template(line: &[u8]) -> Option<String> {
    let found = REQUEST.captures(line)?;
    let method = std::str::from_utf8(&found[1]).ok()?;
    let target = String::from_utf8_lossy(&found[2]);
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') {
        return None;
    }
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| if ID.is_match(segment) { "<*>" } else { segment })
        .collect();
    let status = std::str::from_utf8(&found[3]).ok()?;
    Some(format!("{method} {} -> {status}", path.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines_keep_method_path_and_status() {
        let line = br#"10.0.1.23 - - [20/Nov/2026:02:38:19 +0000] "POST /checkout HTTP/1.1" 502 166 "https://shop.example.com/cart" "Mozilla/5.0""#;
        assert_eq!(template(line).as_deref(), Some("POST /checkout -> 502"));
        assert_eq!(
            template(br#"::1 - - "GET /orders/18202/items?page=2 HTTP/2.0" 200 12 "-" "-""#)
                .as_deref(),
            Some("GET /orders/<*>/items -> 200")
        );
        assert_eq!(template(b"GET /x HTTP/1.1 took 5000ms"), None);
        assert!(is_template("POST /checkout -> 502"));
        assert!(!is_template("[app] state -> 502"));
    }
}
