//! When digests go out: cron schedules in a time zone, and digest periods.
//!
//! A schedule is a cron expression as people write it in a crontab, read by `croner`: five
//! fields (`minute hour day-of-month month day-of-week`) or six (seconds first); `*`, numbers,
//! ranges, steps and lists; names of days and months (`MON-FRI`, `JAN`); `@daily`, `@weekly`
//! and the other nicknames; `L`, `W` and `#`. As in Vixie cron, when both day fields are
//! restricted a day matching either counts.
//!
//! croner is asked about wall-clock times only (a naive local time posing as UTC); turning
//! them into instants is ours, so DST behaves as a crontab user expects: a time that does not
//! exist (the spring-forward gap) fires at the first instant after the gap, and a time that
//! exists twice (fall back) fires once, at its first occurrence.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.cron.as_str() == other.cron.as_str()
    }
}

impl Eq for Schedule {}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Schedule, ScheduleError> {
        let fields = s.split_whitespace().count();
        if !s.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
            return Err(ScheduleError(format!(
                "a schedule has 5 fields (minute hour day month weekday) or 6 (seconds first), not {fields}"
            )));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            // Vixie cron: both day fields restricted means either day counts.
            .dom_and_dow(false)
            .build();
        parser
            .parse(s)
            .map(|cron| Schedule { cron })
            .map_err(|e| ScheduleError(format!("`{}`: {e}", s.trim())))
    }
}

impl Schedule {
    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let mut wall = after.with_timezone(&tz).naive_local();
        // A few steps at most: only a firing in the repeated hour after a fall-back (already
        // passed) or one resolved into an instant already passed is stepped over.
        for _ in 0..64 {
            let next = self
                .cron
                .find_next_occurrence(&Utc.from_utc_datetime(&wall), false)
                .ok()?
                .naive_utc();
            if let Some(instant) = resolve(tz, next).filter(|i| *i > after) {
                return Some(instant);
            }
            wall = next;
        }
        None
    }

    /// In words, for `tidings check`: "At 07:00 on Monday through Friday".
    pub fn describe(&self) -> String {
        self.cron.describe()
    }
}

/// A wall-clock time in `tz` as an instant: the first occurrence when it happens twice, the
/// first instant after the gap when it does not happen at all.
fn resolve(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Walk forward minute by minute to the end of the gap (gaps are at most a few hours).
            let mut probe = naive;
            for _ in 0..(3 * 60) {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe.with_second(0)?).earliest() {
                    return Some(t.with_timezone(&Utc));
                }
            }
            None
        }
    }
}

/// How often a digest may go out: a second `run` in the same period sends nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hourly,
    Daily,
    Weekly,
}

impl std::str::FromStr for Period {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Period, ScheduleError> {
        match s {
            "hourly" => Ok(Period::Hourly),
            "daily" => Ok(Period::Daily),
            "weekly" => Ok(Period::Weekly),
            other => Err(ScheduleError(format!(
                "unknown period `{other}`: use \"hourly\", \"daily\" or \"weekly\""
            ))),
        }
    }
}

impl Period {
    /// The start of the period that contains `now`, in `tz` (weeks start on Monday).
    pub fn start(self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = now.with_timezone(&tz).naive_local();
        let naive = match self {
            Period::Hourly => local.date().and_hms_opt(local.hour(), 0, 0),
            Period::Daily => local.date().and_hms_opt(0, 0, 0),
            Period::Weekly => (local.date()
                - Duration::days(local.weekday().num_days_from_monday() as i64))
            .and_hms_opt(0, 0, 0),
        };
        naive.and_then(|n| resolve(tz, n)).unwrap_or(now)
    }
}

/// The configured zone, else the system's, else UTC.
pub(crate) fn zone(name: Option<&str>) -> Result<Tz, ScheduleError> {
    match name {
        Some(n) => n.parse().map_err(|_| {
            ScheduleError(format!(
                "unknown time zone `{n}` (use an IANA name such as \"Europe/Berlin\")"
            ))
        }),
        None => Ok(iana_time_zone::get_timezone()
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(Tz::UTC)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, after: &str, tz: Tz) -> String {
        expr.parse::<Schedule>()
            .unwrap()
            .next_after(at(after), tz)
            .unwrap()
            .to_rfc3339()
    }

    #[test]
    fn daily_in_a_zone_and_across_dst() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            next("0 7 * * *", "2026-11-28T05:00:00Z", berlin),
            "2026-11-28T06:00:00+00:00"
        );
        assert_eq!(
            next("0 7 * * *", "2026-11-28T06:00:00Z", berlin),
            "2026-11-29T06:00:00+00:00"
        );
        // Summer time: 07:00 in Berlin is 05:00 UTC.
        assert_eq!(
            next("0 7 * * *", "2026-07-01T12:00:00Z", berlin),
            "2026-07-02T05:00:00+00:00"
        );
        // 29 March 2026: 02:00-03:00 does not exist in Berlin; 02:30 fires at 03:00 local.
        assert_eq!(
            next("30 2 * * *", "2026-03-28T12:00:00Z", berlin),
            "2026-03-29T01:00:00+00:00"
        );
        // 25 October 2026: 02:30 happens twice; it fires once, at the first.
        let first = next("30 2 * * *", "2026-10-24T12:00:00Z", berlin);
        assert_eq!(first, "2026-10-25T00:30:00+00:00");
        assert_eq!(
            next("30 2 * * *", &first, berlin),
            "2026-10-26T01:30:00+00:00"
        );
    }

    #[test]
    fn fields_steps_lists_and_day_rules() {
        let utc = Tz::UTC;
        assert_eq!(
            next("*/15 * * * *", "2026-11-28T10:07:00Z", utc),
            "2026-11-28T10:15:00+00:00"
        );
        assert_eq!(
            next("0 9 * * 1-5", "2026-11-28T10:00:00Z", utc),
            "2026-11-30T09:00:00+00:00"
        ); // Sat → Mon
        assert_eq!(
            next("0 9 * * 7", "2026-11-28T10:00:00Z", utc),
            "2026-11-29T09:00:00+00:00"
        ); // 7 = Sunday
        assert_eq!(
            next("0 0 1,15 * *", "2026-11-28T10:00:00Z", utc),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(
            next("0 0 29 2 *", "2026-11-28T10:00:00Z", utc),
            "2028-02-29T00:00:00+00:00"
        );
        // Both day fields restricted: either matches (the 1st, or any Monday).
        assert_eq!(
            next("0 0 1 * 1", "2026-11-28T10:00:00Z", utc),
            "2026-11-30T00:00:00+00:00"
        );
        assert_eq!(
            next("* * * * * *", "2026-11-28T10:00:00Z", utc),
            "2026-11-28T10:00:01+00:00"
        );
        for bad in [
            "* * * *",
            "61 * * * *",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
        ] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn crontab_names_nicknames_and_special_days() {
        let utc = Tz::UTC;
        let sat = "2026-11-28T10:00:00Z"; // a Saturday
        assert_eq!(
            next("30 6 * * MON-FRI", sat, utc),
            "2026-11-30T06:30:00+00:00"
        );
        assert_eq!(
            next("0 8 * * sat,sun", sat, utc),
            "2026-11-29T08:00:00+00:00"
        );
        assert_eq!(next("0 0 1 JAN *", sat, utc), "2027-01-01T00:00:00+00:00");
        assert_eq!(next("@daily", sat, utc), "2026-11-29T00:00:00+00:00");
        assert_eq!(next("@weekly", sat, utc), "2026-11-29T00:00:00+00:00");
        assert_eq!(next("@hourly", sat, utc), "2026-11-28T11:00:00+00:00");
        assert_eq!(
            next("0 12-18/3 * * *", sat, utc),
            "2026-11-28T12:00:00+00:00"
        );
        // The last day of the month, and the first Monday of it.
        assert_eq!(next("0 9 L * *", sat, utc), "2026-11-30T09:00:00+00:00");
        assert_eq!(next("0 9 * * MON#1", sat, utc), "2026-12-07T09:00:00+00:00");
        // Nicknames keep the DST rules: @daily in Berlin is local midnight.
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(next("@daily", sat, berlin), "2026-11-28T23:00:00+00:00");
        let described = "0 7 * * MON-FRI".parse::<Schedule>().unwrap().describe();
        assert!(described.contains("07:00"), "{described}");
        for bad in ["0 7 * * FUNDAY", "@fortnightly", "0 7 * * * * *"] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn period_starts() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let now = at("2026-11-28T22:30:00Z"); // 23:30 Saturday in Berlin
        assert_eq!(
            Period::Daily.start(now, berlin).to_rfc3339(),
            "2026-11-27T23:00:00+00:00"
        );
        assert_eq!(
            Period::Weekly.start(now, berlin).to_rfc3339(),
            "2026-11-22T23:00:00+00:00"
        );
        assert_eq!(
            Period::Hourly.start(now, berlin).to_rfc3339(),
            "2026-11-28T22:00:00+00:00"
        );
        assert!(zone(Some("Mars/Olympus")).is_err());
    }
}
