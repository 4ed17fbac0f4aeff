//! Source health as the user sees it (`tidings sources`): every configured source joined with
//! what state remembers about it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, MailboxConfig};
use crate::model::SourceKey;
use crate::sources::examined::Tally;
use crate::state::{SourceHealth, State, StateError};

#[derive(Debug, Serialize)]
pub struct SourceStatus {
    /// The name from config, else the URL or path.
    pub name: String,
    /// `feed:...` or `maildir:...`: how state knows it.
    pub source: String,
    /// `ok`, `failing`, `backing off`, `rate limited`, `gone`, `moved`, `never run`.
    pub status: &'static str,
    #[serde(flatten)]
    pub health: SourceHealth,
    /// When a source that keeps failing will be tried again.
    pub next_attempt: Option<DateTime<Utc>>,
    /// Mailboxes: the messages examined so far, by what they came to.
    pub messages: Option<Tally>,
}

pub fn report(
    cfg: &Config,
    state: &State,
    now: DateTime<Utc>,
) -> Result<Vec<SourceStatus>, StateError> {
    let all = state.all_health()?;
    let configured = cfg
        .feeds
        .iter()
        .map(|f| {
            (
                f.name.clone().unwrap_or_else(|| f.location.to_string()),
                f.key(),
            )
        })
        .chain(cfg.mailboxes.iter().map(|m| (m.label(), m.key())));
    let mailboxes: Vec<SourceKey> = cfg.mailboxes.iter().map(MailboxConfig::key).collect();
    configured
        .map(|(name, key)| {
            let messages = if mailboxes.contains(&key) {
                Some(state.examined_tally(&key.0)?)
            } else {
                None
            };
            let health = all
                .iter()
                .find(|h| h.key == key.0)
                .cloned()
                .unwrap_or(SourceHealth {
                    key: key.0.clone(),
                    ..Default::default()
                });
            let next = next_attempt(&health).filter(|t| *t > now);
            let status = if health.gone_since.is_some() {
                "gone"
            } else if health.retry_after.is_some_and(|t| t > now) {
                "rate limited"
            } else if next.is_some() {
                "backing off"
            } else if health.consecutive_failures > 0 {
                "failing"
            } else if health.moved_to.is_some() {
                "moved"
            } else if health.first_seen.is_none() {
                "never run"
            } else {
                "ok"
            };
            Ok(SourceStatus {
                name,
                source: key.0,
                status,
                health,
                next_attempt: next,
                messages,
            })
        })
        .collect()
}

/// A plain table for the terminal.
pub fn table(rows: &[SourceStatus]) -> String {
    let when = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    };
    let mut lines = vec![[
        "SOURCE".to_string(),
        "STATUS".into(),
        "LAST SUCCESS".into(),
        "FAILS".into(),
        "AVG MS".into(),
        "MESSAGES".into(),
        "LAST ERROR".into(),
    ]];
    for r in rows {
        lines.push([
            r.name.clone(),
            r.status.to_string(),
            when(r.health.last_success),
            r.health.consecutive_failures.to_string(),
            r.health
                .average_latency_ms
                .map(|m| m.to_string())
                .unwrap_or_else(|| "-".into()),
            r.messages.as_ref().map_or_else(|| "-".into(), messages),
            r.health.last_error.clone().unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    lines
        .iter()
        .map(|l| {
            let mut s = String::new();
            for (c, w) in widths.iter().enumerate() {
                s.push_str(&format!("{:<w$}  ", l[c], w = w));
            }
            s.push_str(&l[6]);
            s.trim_end().to_string() + "\n"
        })
        .collect()
}

/// A mailbox's examined messages in a few words: `4003 examined: 3 used, 4000 too old`.
fn messages(t: &Tally) -> String {
    let parts: Vec<String> = [
        (t.used, "used"),
        (t.too_old, "too old"),
        (t.filtered, "filtered"),
        (t.unusable, "unusable"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "none examined".into()
    } else {
        format!("{} examined: {}", t.examined, parts.join(", "))
    }
}

/// A feed that failed this many runs in a row is fetched less and less often.
pub const BACKOFF_AFTER_FAILURES: u32 = 3;

const BACKOFF_BASE: chrono::Duration = chrono::Duration::hours(1);

const BACKOFF_MAX: chrono::Duration = chrono::Duration::days(7);

/// When a feed that keeps failing may be tried again: 1 h after the third failure in a row,
/// then doubling, at most a week.
pub fn next_attempt(h: &SourceHealth) -> Option<DateTime<Utc>> {
    if h.consecutive_failures < BACKOFF_AFTER_FAILURES {
        return None;
    }
    let doublings = (h.consecutive_failures - BACKOFF_AFTER_FAILURES).min(16);
    let wait = (BACKOFF_BASE * 2i32.pow(doublings)).min(BACKOFF_MAX);
    h.last_error_at.map(|t| t + wait)
}

/// Why a feed is not fetched this run, if it is not: gone, rate limited, or backing off.
pub fn hold_back(h: &SourceHealth, now: DateTime<Utc>) -> Option<String> {
    if let Some(since) = h.gone_since {
        return Some(format!(
            "gone (HTTP 410) since {}; no longer fetched — remove it from your config",
            since.format("%Y-%m-%d")
        ));
    }
    if let Some(t) = h.retry_after.filter(|t| *t > now) {
        return Some(format!(
            "rate limited by the server; next try after {}",
            t.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if let Some(t) = next_attempt(h).filter(|t| *t > now) {
        let last = h.last_error.as_deref().unwrap_or("unknown error");
        return Some(format!(
            "failed {} runs in a row (last: {last}); next try after {}",
            h.consecutive_failures,
            t.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    None
}
