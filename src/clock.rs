//! The time daydream believes it is, and the log window of a run date.
//!
//! `DAYDREAM_NOW` (RFC 3339) fixes the clock, so tests and reproductions get identical reports.

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDate, NaiveTime, TimeZone};

use crate::env::Env;

#[derive(Clone, Debug)]
pub(crate) enum Clock {
    System,
    Fixed(DateTime<FixedOffset>),
}

impl Clock {
    pub(crate) fn from_env(env: &Env) -> anyhow::Result<Clock> {
        match env.get("DAYDREAM_NOW") {
            None => Ok(Clock::System),
            Some(raw) => DateTime::parse_from_rfc3339(raw)
                .map(|t| Clock::Fixed(t.with_timezone(&Local).fixed_offset()))
                .map_err(|err| anyhow::anyhow!("failed to read `DAYDREAM_NOW={raw}`: {err} (expected RFC 3339, e.g. `2026-11-21T06:00:00+01:00`)")),
        }
    }

    /// Now, in the local time zone.
    pub(crate) fn now(&self) -> DateTime<FixedOffset> {
        match self {
            Clock::System => Local::now().fixed_offset(),
            Clock::Fixed(t) => *t,
        }
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// A half-open interval of time `[start, end)` in Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl Window {
    /// The logs window of run date `date`: from the day before at 00:00 to `date` at 00:00, local time.
    pub(crate) fn previous_day(date: NaiveDate) -> Window {
        Window {
            start: local_midnight(date - Duration::days(1)),
            end: local_midnight(date),
        }
    }

    pub(crate) fn contains(&self, unix_seconds: i64) -> bool {
        (self.start..self.end).contains(&unix_seconds)
    }
}

/// Unix seconds of local midnight on `date` (the first instant of that day when a DST change skips it).
pub(crate) fn local_midnight(date: NaiveDate) -> i64 {
    let naive = date.and_time(NaiveTime::MIN);
    match Local.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.timestamp(),
        // Midnight does not exist that day: the day starts at the first valid instant after the gap.
        chrono::LocalResult::None => (1..=4)
            .find_map(|h| {
                Local
                    .from_local_datetime(&(naive + Duration::hours(h)))
                    .earliest()
            })
            .map_or_else(|| naive.and_utc().timestamp(), |t| t.timestamp()),
    }
}
