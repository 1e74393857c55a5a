//! Timestamps of log lines, by hand-written byte checks: this runs on every line of every log file.
//!
//! Formats: ISO 8601 and its log variants (`T` or a space; `-` or `/` in the date as nginx writes it; fractions
//! with `.` or `,` as Python logging writes them; `Z`, `±HH:MM`, `±HHMM`, ` UTC`), syslog `Mon DD HH:MM:SS` (the
//! year inferred from the run date) and the ctime form `Wed Oct 11 14:32:52 2000` of Apache error logs, the
//! access-log form `[10/Oct/2000:13:55:36 -0700]` anywhere in the first 80 bytes, epoch seconds at the start of
//! a line, and the time field of a JSON line. Times without an offset are local time.

use chrono::{DateTime, Datelike, Local, LocalResult, NaiveDate, Offset as _, TimeZone};

use super::mask::{JsonValue, json_field};

/// How far into a line a timestamp may start (access logs put it after the client address and user).
const HEAD: usize = 80;

/// Keys of the time field of JSON log lines (pino, bunyan, logstash, structlog, python-json-logger, Serilog).
const JSON_TIME_KEYS: &[&str] = &[
    "time",
    "timestamp",
    "@timestamp",
    "ts",
    "@t",
    "datetime",
    "asctime",
    "t",
];

/// A timestamp found in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Unix seconds. Fractions are dropped, so `23:59:59.999` is still in the day it belongs to.
    pub(crate) unix: i64,
    /// The bytes of the line the timestamp takes (with its brackets), to cut it out of the message. Empty when the
    /// time is a field of a JSON line.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Finds and converts timestamps; holds the run date (for the year of syslog lines) and a cache of the local
/// UTC offset, so most naive times convert without asking the time zone database.
#[derive(Debug)]
pub(crate) struct TimestampParser {
    today: (i32, u32, u32),
    /// The 15-minute bucket of naive local seconds last converted, and its UTC offset in seconds.
    cache: Option<(i64, i64)>,
}

/// A time as written: naive seconds since 1970 (as if it were UTC), its offset if it had one, where it ends.
#[derive(Clone, Copy, Debug)]
struct Parsed {
    naive: i64,
    offset: Option<i64>,
    end: usize,
}

impl TimestampParser {
    pub(crate) fn new(run_date: NaiveDate) -> TimestampParser {
        TimestampParser {
            today: (run_date.year(), run_date.month(), run_date.day()),
            cache: None,
        }
    }

    /// The timestamp of `line`, if it has one where log lines put them.
    pub(crate) fn parse(&mut self, line: &[u8]) -> Option<Stamp> {
        let limit = line.len().min(HEAD);
        let first = line[..limit]
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
        if line[first] == b'{' {
            return self.json(line);
        }
        // `lead`: everything since `first` is an opening bracket or quote, so a time here starts the line.
        let mut lead = true;
        for p in first..limit {
            let c = line[p];
            let at_head = lead;
            lead = lead && matches!(c, b'[' | b'(' | b'<' | b'"' | b'\'');
            if !c.is_ascii_alphanumeric() {
                continue;
            }
            let prev = if p == 0 { b' ' } else { line[p - 1] };
            if !at_head && !matches!(prev, b' ' | b'\t' | b'[' | b'=' | b'(' | b'|' | b',' | b'>') {
                continue;
            }
            let found = if c.is_ascii_digit() {
                iso(line, p)
                    .filter(|_| at_head || plausible_prefix(line, p))
                    .or_else(|| if prev == b'[' { clf(line, p) } else { None })
                    .or_else(|| if at_head { epoch(line, p) } else { None })
            } else if at_head || prev == b'[' || prev == b'>' {
                self.syslog(line, p)
            } else {
                None
            };
            if let Some(parsed) = found {
                let (mut start, mut end) = (p, parsed.end);
                if start > 0 && line[start - 1] == b'[' && line.get(end) == Some(&b']') {
                    start -= 1;
                    end += 1;
                }
                return Some(Stamp {
                    unix: self.unix(parsed),
                    start,
                    end,
                });
            }
        }
        None
    }

    fn json(&mut self, line: &[u8]) -> Option<Stamp> {
        let parsed = match json_field(line, JSON_TIME_KEYS)?.1 {
            JsonValue::Str(text) => iso(text, 0)
                .or_else(|| self.syslog(text, 0))
                .or_else(|| clf(text, 0))?,
            JsonValue::Num(digits) => {
                let int = digits
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(digits.len());
                let value: i64 = std::str::from_utf8(&digits[..int]).ok()?.parse().ok()?;
                let seconds = match int {
                    9 | 10 => value,
                    13 => value.div_euclid(1000),
                    16 => value.div_euclid(1_000_000),
                    19 => value.div_euclid(1_000_000_000),
                    _ => return None,
                };
                return Some(Stamp {
                    unix: seconds,
                    start: 0,
                    end: 0,
                });
            }
        };
        Some(Stamp {
            unix: self.unix(parsed),
            start: 0,
            end: 0,
        })
    }

    fn unix(&mut self, parsed: Parsed) -> i64 {
        match parsed.offset {
            Some(offset) => parsed.naive - offset,
            None => self.local_to_unix(parsed.naive),
        }
    }

    /// Naive local seconds to Unix seconds. Offsets change only on quarter hours (DST and the zones that have
    /// moved), so the offset of a 15-minute bucket is cached when the bucket's time is unambiguous.
    fn local_to_unix(&mut self, naive: i64) -> i64 {
        let bucket = naive.div_euclid(900);
        if let Some((cached, offset)) = self.cache
            && cached == bucket
        {
            return naive - offset;
        }
        let Some(local) = DateTime::from_timestamp(naive, 0).map(|t| t.naive_utc()) else {
            return naive;
        };
        match Local.offset_from_local_datetime(&local) {
            LocalResult::Single(offset) => {
                let offset = i64::from(offset.fix().local_minus_utc());
                self.cache = Some((bucket, offset));
                naive - offset
            }
            // The hour that repeats when clocks go back: the first of the two.
            LocalResult::Ambiguous(first, _) => naive - i64::from(first.fix().local_minus_utc()),
            // The hour skipped when clocks go forward: read with the offset before the change.
            LocalResult::None => {
                naive
                    - i64::from(
                        Local
                            .offset_from_utc_datetime(&local)
                            .fix()
                            .local_minus_utc(),
                    )
            }
        }
    }

    /// `[Www ]Mmm DD HH:MM:SS[.ffffff][ YYYY]`; without a year, the latest date not after the run date.
    fn syslog(&self, b: &[u8], mut p: usize) -> Option<Parsed> {
        if weekday(b, p) && b.get(p + 3) == Some(&b' ') {
            p += 4;
        }
        let month = month(b, p)?;
        p += 3;
        if b.get(p) != Some(&b' ') {
            return None;
        }
        p += 1;
        let day = if b.get(p) == Some(&b' ') {
            p += 1;
            num(b, p, 1)?
        } else if let Some(d) = num(b, p, 2) {
            p += 1;
            d
        } else {
            num(b, p, 1)?
        };
        p += 1;
        if b.get(p) != Some(&b' ') {
            return None;
        }
        let (seconds, mut p) = clock(b, p + 1, true)?;
        let mut year = None;
        if b.get(p) == Some(&b' ')
            && let Some(y) = num(b, p + 1, 4)
            && !b.get(p + 5).is_some_and(u8::is_ascii_digit)
        {
            year = Some(i64::from(y));
            p += 5;
        }
        let (ty, tm, td) = self.today;
        let year = year.unwrap_or_else(|| i64::from(ty) - i64::from((month, day) > (tm, td)));
        Some(Parsed {
            naive: civil_seconds(year, month, day, seconds)?,
            offset: None,
            end: p,
        })
    }
}

/// The prefix before a timestamp that does not start the line must look like a log prefix (`INFO `, `E, [`,
/// `time=`, a client address), not the message of an exception that quotes a time (`ValueError: ... '2026-...'`).
fn plausible_prefix(line: &[u8], p: usize) -> bool {
    p <= 48 && !line[..p].windows(2).any(|w| w == b": ")
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.f]][Z|±HH:MM|±HHMM|±HH| UTC]`, also with `/` in the date.
fn iso(b: &[u8], i: usize) -> Option<Parsed> {
    let year = num(b, i, 4)?;
    let sep = *b.get(i + 4)?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    let month = num(b, i + 5, 2)?;
    if b.get(i + 7) != Some(&sep) {
        return None;
    }
    let day = num(b, i + 8, 2)?;
    if !matches!(b.get(i + 10), Some(b'T' | b' ')) {
        return None;
    }
    let (seconds, mut p) = clock(b, i + 11, false)?;
    let mut offset = None;
    match b.get(p) {
        Some(b'Z') if !b.get(p + 1).is_some_and(u8::is_ascii_alphanumeric) => {
            offset = Some(0);
            p += 1;
        }
        Some(b'+' | b'-') => {
            if let Some((o, end)) = zone(b, p, true) {
                offset = Some(o);
                p = end;
            }
        }
        Some(b' ') => {
            if let Some((o, end)) = zone(b, p + 1, false) {
                offset = Some(o);
                p = end;
            } else if matches!(b.get(p + 1..p + 4), Some(b"UTC" | b"GMT"))
                && !b.get(p + 4).is_some_and(u8::is_ascii_alphanumeric)
            {
                offset = Some(0);
                p += 4;
            }
        }
        _ => {}
    }
    Some(Parsed {
        naive: civil_seconds(i64::from(year), month, day, seconds)?,
        offset,
        end: p,
    })
}

/// `DD/Mon/YYYY:HH:MM:SS[ ±HHMM]`, the common log format of Apache and nginx.
fn clf(b: &[u8], i: usize) -> Option<Parsed> {
    let day = num(b, i, 2)?;
    if b.get(i + 2) != Some(&b'/') {
        return None;
    }
    let month = month(b, i + 3)?;
    if b.get(i + 6) != Some(&b'/') {
        return None;
    }
    let year = num(b, i + 7, 4)?;
    if b.get(i + 11) != Some(&b':') {
        return None;
    }
    let (seconds, mut p) = clock(b, i + 12, true)?;
    let mut offset = None;
    if b.get(p) == Some(&b' ')
        && let Some((o, end)) = zone(b, p + 1, false)
    {
        offset = Some(o);
        p = end;
    }
    Some(Parsed {
        naive: civil_seconds(i64::from(year), month, day, seconds)?,
        offset,
        end: p,
    })
}

/// Ten digits of Unix seconds (2001 to 2286), optionally with a fraction, standing alone.
fn epoch(b: &[u8], i: usize) -> Option<Parsed> {
    let digits = b[i..]
        .iter()
        .take(11)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits != 10 || b[i] == b'0' {
        return None;
    }
    let mut p = i + 10;
    if b.get(p) == Some(&b'.') && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
        p += 1;
        while b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
    }
    if b.get(p)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
    {
        return None;
    }
    let value = b[i..i + 10]
        .iter()
        .fold(0_i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    Some(Parsed {
        naive: value,
        offset: Some(0),
        end: p,
    })
}

/// `HH:MM[:SS][.fff|,fff]` at `i`: seconds of the day and the end. Seconds are required when `full`.
fn clock(b: &[u8], i: usize, full: bool) -> Option<(u32, usize)> {
    let hour = num(b, i, 2)?;
    if b.get(i + 2) != Some(&b':') {
        return None;
    }
    let minute = num(b, i + 3, 2)?;
    let mut p = i + 5;
    let mut second = 0;
    if b.get(p) == Some(&b':') {
        second = num(b, p + 1, 2)?;
        p += 3;
    } else if full {
        return None;
    }
    if matches!(b.get(p), Some(b'.' | b',')) && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
        p += 1;
        while b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
    }
    if b.get(p).is_some_and(u8::is_ascii_digit) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // A leap second is read as the last second of its minute.
    Some((hour * 3600 + minute * 60 + second.min(59), p))
}

/// A UTC offset at `i`: `±HH:MM`, `±HHMM`, or (only when `short` is allowed) `±HH`; seconds east and the end.
fn zone(b: &[u8], i: usize, short: bool) -> Option<(i64, usize)> {
    let sign = match b.get(i)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = num(b, i + 1, 2)?;
    let (minutes, end) = if b.get(i + 3) == Some(&b':') {
        (num(b, i + 4, 2)?, i + 6)
    } else if let Some(m) = num(b, i + 3, 2) {
        (m, i + 5)
    } else if short {
        (0, i + 3)
    } else {
        return None;
    };
    if hours > 23 || minutes > 59 || b.get(end).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((sign * i64::from(hours * 3600 + minutes * 60), end))
}

/// Exactly `n` ASCII digits at `i`.
fn num(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let digits = b.get(i..i + n)?;
    digits.iter().try_fold(0_u32, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

fn month(b: &[u8], i: usize) -> Option<u32> {
    let m = b.get(i..i + 3)?;
    if !m[0].is_ascii_uppercase() {
        return None;
    }
    let name = [m[0], m[1].to_ascii_lowercase(), m[2].to_ascii_lowercase()];
    let index = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ]
    .iter()
    .position(|n| **n == name)?;
    if b.get(i + 3).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    u32::try_from(index + 1).ok()
}

fn weekday(b: &[u8], i: usize) -> bool {
    b.get(i..i + 3).is_some_and(|w| {
        [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"]
            .iter()
            .any(|n| *n == w)
    })
}

/// Seconds since 1970-01-01 00:00 of a date and a time of day, if the date exists.
fn civil_seconds(year: i64, month: u32, day: u32, seconds: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + i64::from(seconds))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Window;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Unix seconds of a local wall-clock time, as chrono computes it: no assumption about the test's time zone.
    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        Local
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .earliest()
            .unwrap()
            .timestamp()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
            .and_utc()
            .timestamp()
    }

    fn at(line: &str) -> Option<i64> {
        TimestampParser::new(date("2026-11-21"))
            .parse(line.as_bytes())
            .map(|s| s.unix)
    }

    #[test]
    fn iso_8601_with_offsets_is_exact() {
        assert_eq!(
            at("2026-11-20T10:11:12Z ERROR boom"),
            Some(utc(2026, 11, 20, 10, 11, 12))
        );
        assert_eq!(
            at("2026-11-20T10:11:12.345+01:00 x"),
            Some(utc(2026, 11, 20, 9, 11, 12))
        );
        assert_eq!(
            at("2026-11-20T10:11:12,5-0530 x"),
            Some(utc(2026, 11, 20, 15, 41, 12))
        );
        assert_eq!(
            at("2026-11-20 10:11:12.123456789 +0200 x"),
            Some(utc(2026, 11, 20, 8, 11, 12))
        );
        assert_eq!(
            at("2026-11-20 10:11:12 UTC x"),
            Some(utc(2026, 11, 20, 10, 11, 12))
        );
        assert_eq!(
            at("2026-11-20T10:11+05 x"),
            Some(utc(2026, 11, 20, 5, 11, 0))
        );
        assert_eq!(
            at("<34>1 2026-11-20T22:14:15.003Z host app - - msg"),
            Some(utc(2026, 11, 20, 22, 14, 15))
        );
    }

    #[test]
    fn naive_times_are_local() {
        // Python logging, with its comma before the milliseconds.
        assert_eq!(
            at("2026-11-20 10:11:12,345 - app.pay - ERROR - Payment failed"),
            Some(local(2026, 11, 20, 10, 11, 12))
        );
        assert_eq!(
            at("2026-11-20T10:11:12.345678 INFO x"),
            Some(local(2026, 11, 20, 10, 11, 12))
        );
        // nginx error log.
        assert_eq!(
            at("2026/11/20 03:04:05 [error] 12#0: *1 open() failed"),
            Some(local(2026, 11, 20, 3, 4, 5))
        );
        // Bracketed, and after a level letter as Ruby's Logger writes it.
        assert_eq!(
            at("[2026-11-20 23:00:01] local.ERROR: x"),
            Some(local(2026, 11, 20, 23, 0, 1))
        );
        assert_eq!(
            at("E, [2026-11-20T01:02:03.123 #42] ERROR -- : x"),
            Some(local(2026, 11, 20, 1, 2, 3))
        );
        assert_eq!(
            at("time=2026-11-20T01:02:03 level=error msg=x"),
            Some(local(2026, 11, 20, 1, 2, 3))
        );
        // Two days in a row with the same cache bucket logic.
        let mut p = TimestampParser::new(date("2026-11-21"));
        assert_eq!(
            p.parse(b"2026-11-20 10:00:00 a").unwrap().unix,
            local(2026, 11, 20, 10, 0, 0)
        );
        assert_eq!(
            p.parse(b"2026-11-20 10:14:59 a").unwrap().unix,
            local(2026, 11, 20, 10, 14, 59)
        );
        assert_eq!(
            p.parse(b"2026-07-20 10:14:59 a").unwrap().unix,
            local(2026, 7, 20, 10, 14, 59)
        );
    }

    #[test]
    fn syslog_infers_the_year_from_the_run_date() {
        assert_eq!(
            at("Nov 20 10:11:12 host sshd[123]: Failed password"),
            Some(local(2026, 11, 20, 10, 11, 12))
        );
        assert_eq!(
            at("Nov  2 01:02:03 host cron[1]: x"),
            Some(local(2026, 11, 2, 1, 2, 3))
        );
        let mut january = TimestampParser::new(date("2027-01-01"));
        assert_eq!(
            january.parse(b"Dec 31 23:59:59 host app: x").unwrap().unix,
            local(2026, 12, 31, 23, 59, 59)
        );
        assert_eq!(
            january.parse(b"Jan  1 00:00:01 host app: x").unwrap().unix,
            local(2027, 1, 1, 0, 0, 1)
        );
        // The ctime form of Apache error logs carries its year.
        assert_eq!(
            at("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1] x"),
            Some(local(2000, 10, 11, 14, 32, 52))
        );
        assert_eq!(
            at("<13>Nov 20 10:11:12 host app: x"),
            Some(local(2026, 11, 20, 10, 11, 12))
        );
    }

    #[test]
    fn access_log_time_after_the_client_address() {
        let line = r#"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
        let stamp = TimestampParser::new(date("2026-11-21"))
            .parse(line.as_bytes())
            .unwrap();
        assert_eq!(stamp.unix, 971_211_336);
        assert_eq!(
            &line[stamp.start..stamp.end],
            "[10/Oct/2000:13:55:36 -0700]"
        );
        assert_eq!(
            at("[20/Nov/2026:10:11:12] x"),
            Some(local(2026, 11, 20, 10, 11, 12))
        );
    }

    #[test]
    fn epoch_seconds_and_json_fields() {
        assert_eq!(at("1795000000 worker started"), Some(1_795_000_000));
        assert_eq!(at("1795000000.123456 worker started"), Some(1_795_000_000));
        assert_eq!(at("[1795000000.5] x"), Some(1_795_000_000));
        assert_eq!(
            at(r#"{"level":"error","time":"2026-11-20T10:11:12Z","msg":"x"}"#),
            Some(utc(2026, 11, 20, 10, 11, 12))
        );
        assert_eq!(
            at(r#"{"level":50,"time":1795000000123,"msg":"x"}"#),
            Some(1_795_000_000)
        );
        assert_eq!(at(r#"{"ts":1795000000.25,"msg":"x"}"#), Some(1_795_000_000));
        assert_eq!(
            at(r#"{"asctime":"2026-11-20 10:11:12,001","msg":"x"}"#),
            Some(local(2026, 11, 20, 10, 11, 12))
        );
    }

    #[test]
    fn lines_without_a_timestamp_are_none() {
        for line in [
            "",
            "Traceback (most recent call last):",
            "  File \"/app/main.py\", line 12, in <module>",
            "\tat com.example.Foo.bar(Foo.java:42)",
            "Caused by: java.io.IOException: closed at 2026-11-20 10:11:12",
            "ValueError: time data '2026-11-20 10:11:12' does not match format",
            "12345 things happened",
            "2026-13-01 10:00:00 bad month",
            "2026-02-30 10:00:00 no such day",
            "2026-11-20 24:00:00 no such hour",
            "2026-11-20 only a date",
            "May the force be with you",
            "17950000001 eleven digits",
            r#"{"msg":"no time here"}"#,
        ] {
            assert_eq!(at(line), None, "{line:?}");
        }
    }

    #[test]
    fn the_stamp_range_covers_brackets() {
        let line = "[2026-11-20 10:11:12,123] ERROR x";
        let stamp = TimestampParser::new(date("2026-11-21"))
            .parse(line.as_bytes())
            .unwrap();
        assert_eq!((stamp.start, stamp.end), (0, 25));
        let line = "2026-11-20T10:11:12Z INFO x";
        let stamp = TimestampParser::new(date("2026-11-21"))
            .parse(line.as_bytes())
            .unwrap();
        assert_eq!(&line[stamp.end..], " INFO x");
    }

    #[test]
    fn window_edges_are_half_open() {
        let window = Window::previous_day(date("2026-11-21"));
        let inside = |line: &str| window.contains(at(line).unwrap());
        assert!(inside("2026-11-20 00:00:00 first second of the day"));
        assert!(inside("2026-11-20 23:59:59.999 last millisecond"));
        assert!(!inside("2026-11-21 00:00:00 the next day"));
        assert!(!inside("2026-11-19 23:59:59.999 the day before"));
        assert!(inside("Nov 20 00:00:00 host x: syslog at midnight"));
        assert!(!inside("Nov 21 00:00:00 host x: syslog the next day"));
    }

    #[test]
    fn civil_days_match_chrono() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (2026, 11, 20),
            (1969, 12, 31),
            (2100, 3, 1),
        ] {
            let expected = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
                / 86_400;
            assert_eq!(days_from_civil(i64::from(y), m, d), expected, "{y}-{m}-{d}");
        }
    }
}
