//! When digests go out: cron schedules in a time zone, and digest periods.
//!
//! A schedule is a cron expression of five fields (`minute hour day-of-month month day-of-week`)
//! or six (seconds first), each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a list
//! of those. As in Vixie cron, when both day fields are restricted a day matching either counts.
//! Times are wall-clock times in the configured zone and stay right across DST changes: a time
//! that does not exist (the spring-forward gap) fires at the first instant after the gap, and a
//! time that exists twice (fall back) fires once, at its first occurrence.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    seconds: Vec<u32>,
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days: Vec<u32>,
    months: Vec<u32>,
    weekdays: Vec<u32>,
    days_restricted: bool,
    weekdays_restricted: bool,
}

fn field(text: &str, min: u32, max: u32, name: &str) -> Result<(Vec<u32>, bool), ScheduleError> {
    let bad = |why: &str| ScheduleError(format!("{name} field `{text}`: {why}"));
    let mut values = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .map_err(|_| bad("the step must be a number"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err(bad("a step of 0"));
        }
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                a.parse().map_err(|_| bad("not a number"))?,
                b.parse().map_err(|_| bad("not a number"))?,
            )
        } else {
            let v: u32 = range.parse().map_err(|_| bad("not a number"))?;
            (v, if part.contains('/') { max } else { v })
        };
        // Sunday may be written 7 as well as 0.
        let upper = if name == "day-of-week" { 7 } else { max };
        if lo < min || hi > upper || lo > hi {
            return Err(bad(&format!("out of range {min}-{max}")));
        }
        values.extend((lo..=hi).step_by(step as usize).map(|v| {
            if name == "day-of-week" {
                v % 7
            } else {
                v
            }
        }));
    }
    values.sort_unstable();
    values.dedup();
    Ok((values, text != "*"))
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Schedule, ScheduleError> {
        let parts: Vec<&str> = s.split_whitespace().collect();
        let (sec, rest) = match parts.len() {
            5 => ("0", &parts[..]),
            6 => (parts[0], &parts[1..]),
            n => return Err(ScheduleError(format!("a schedule has 5 fields (minute hour day month weekday) or 6 (seconds first), not {n}"))),
        };
        let (days, days_restricted) = field(rest[2], 1, 31, "day-of-month")?;
        let (weekdays, weekdays_restricted) = field(rest[4], 0, 6, "day-of-week")?;
        Ok(Schedule {
            seconds: field(sec, 0, 59, "second")?.0,
            minutes: field(rest[0], 0, 59, "minute")?.0,
            hours: field(rest[1], 0, 23, "hour")?.0,
            days,
            months: field(rest[3], 1, 12, "month")?.0,
            weekdays,
            days_restricted,
            weekdays_restricted,
        })
    }
}

impl Schedule {
    fn day_matches(&self, d: NaiveDate) -> bool {
        if !self.months.contains(&d.month()) {
            return false;
        }
        let dom = self.days.contains(&d.day());
        let dow = self.weekdays.contains(&d.weekday().num_days_from_sunday());
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        }
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local_after = after.with_timezone(&tz).naive_local();
        let mut day = local_after.date();
        // Four years covers every day-of-month/month/weekday combination that exists.
        for _ in 0..(366 * 4) {
            if self.day_matches(day) {
                for &h in &self.hours {
                    for &m in &self.minutes {
                        for &s in &self.seconds {
                            let Some(t) = NaiveTime::from_hms_opt(h, m, s) else {
                                continue;
                            };
                            if let Some(instant) =
                                resolve(tz, day.and_time(t)).filter(|i| *i > after)
                            {
                                return Some(instant);
                            }
                        }
                    }
                }
            }
            day = day.succ_opt()?;
        }
        None
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
pub fn zone(name: Option<&str>) -> Result<Tz, ScheduleError> {
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
