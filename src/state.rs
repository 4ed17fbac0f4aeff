//! What tidings remembers between runs, in one SQLite file.
//!
//! - `sources`: when each source was first seen (its lookback cut-off), its conditional-GET
//!   validators and the items of its last full fetch (so a `304 Not Modified` after a failed
//!   send still has the items to send), and its health.
//! - `delivered_items` / `digested_messages`: what reached the SMTP server. Written in the same
//!   transaction as the `digests` row, when the server agreed to take the message (`pending`);
//!   confirmed (`sent`) when it accepted it, deleted again when it refused it. A `pending` digest
//!   found by a later run means that run crashed mid-send: see [`State::reconcile_pending`].
//! - `link_redirects`: click-tracker → destination, found by `[links] resolve_redirects`; kept
//!   for good (a tracker always leads to the same place) so a link is resolved only once.

#[cfg(test)]
use std::collections::HashMap;
use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use rusqlite::{params, Connection, OptionalExtension};

use crate::group::SentStory;
use crate::model::{Item, ItemKey, SourceKey};
use crate::sources::examined::{Examined, Forget, Outcome, Remembered, Tally};
use crate::sources::http::Validators;

#[derive(Debug, thiserror::Error)]
#[error("state database `{path}`")]
pub struct StateError {
    path: String,
    #[source]
    source: rusqlite::Error,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sources (
    key TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    cached_items TEXT, -- deflated JSON (a BLOB); plain JSON text before 2026-11-30
    last_success INTEGER,
    last_error TEXT,
    last_error_at INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS digests (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    story_count INTEGER NOT NULL,
    recipients TEXT NOT NULL,
    -- 'pending' from the moment the SMTP server agreed to take the message until its answer
    -- is known; 'sent' after. A 'pending' row found by the next run is the one crash window.
    status TEXT NOT NULL DEFAULT 'sent'
);
CREATE TABLE IF NOT EXISTS delivered_items (
    item_key TEXT PRIMARY KEY,
    digest_id INTEGER NOT NULL REFERENCES digests(id)
);
CREATE TABLE IF NOT EXISTS link_redirects (
    wrapper TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    resolved_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS digested_messages (
    message_id TEXT PRIMARY KEY,
    digest_id INTEGER NOT NULL REFERENCES digests(id)
);
-- Each story a digest carried, as merging needs it to know the story again in a later
-- report (see group::memory): a few hundred bytes a story.
CREATE TABLE IF NOT EXISTS sent_stories (
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    gist TEXT NOT NULL,
    published INTEGER
);
CREATE INDEX IF NOT EXISTS sent_stories_digest ON sent_stories (digest_id);
";

/// Columns added after the first schema: added to older databases on open.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("sources", "fetches", "INTEGER NOT NULL DEFAULT 0"),
    ("sources", "total_latency_ms", "INTEGER NOT NULL DEFAULT 0"),
    ("sources", "retry_after", "INTEGER"),
    ("sources", "gone_since", "INTEGER"),
    ("sources", "moved_to", "TEXT"),
    // When a run last found the item in its source; with the digest's time, what pruning
    // goes by (an item still in its feed is never forgotten, so never sent twice).
    ("delivered_items", "seen_at", "INTEGER"),
    // Which newsletter of a mailbox a sent story came from (see `group::memory`).
    ("sent_stories", "source_name", "TEXT NOT NULL DEFAULT ''"),
];
/// IMAP messages already digested, by folder, UIDVALIDITY and UID: a UID means nothing once the
/// folder's UIDVALIDITY changes, so both are kept.
const IMAP_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS imap_digested (
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    PRIMARY KEY (mailbox, folder, uidvalidity, uid)
);
";

/// What became of each message a mailbox reader opened (see [`crate::sources::examined`]), and
/// where an mbox file's scan stopped, so that no message is read twice.
const EXAMINED_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS examined (
    source TEXT NOT NULL,
    folder TEXT NOT NULL,
    validity INTEGER NOT NULL,
    id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    message_id TEXT,
    dated INTEGER,
    basis TEXT NOT NULL,
    examined_at INTEGER NOT NULL,
    PRIMARY KEY (source, folder, validity, id)
);
CREATE INDEX IF NOT EXISTS examined_message ON examined (message_id);
CREATE TABLE IF NOT EXISTS mbox_scans (
    source TEXT PRIMARY KEY,
    head TEXT NOT NULL,
    scanned_to INTEGER NOT NULL
);
";

/// Each newsletter sender's template: fingerprints of the blocks its issues carried (see
/// [`crate::sources::template`]), with the issue each was first seen in.
const TEMPLATE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS template_blocks (
    sender TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (sender, fingerprint)
);
";

/// How long past `lookback` delivered items, digested messages and resolved links are kept:
/// items older than `lookback` plus this are ignored ([`State::prune`] and the cut-off in
/// [`crate::pipeline`] go together), so forgetting them sends nothing twice.
pub const KEEP_MARGIN: chrono::Duration = chrono::Duration::days(30);

/// One IMAP message that went into an accepted digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUid {
    pub mailbox: String,
    pub folder: String,
    pub uidvalidity: u32,
    pub uid: u32,
    pub message_id: String,
}

/// What one run learned about one source.
#[derive(Debug, Clone, Default)]
pub struct SourceUpdate {
    pub key: SourceKey,
    pub error: Option<String>,
    /// Time the fetch took, when there was one.
    pub elapsed_ms: Option<u64>,
    /// The server asked not to be asked again before this time (429 + Retry-After).
    pub retry_after: Option<DateTime<Utc>>,
    /// The server said 410 Gone: stop fetching.
    pub gone: bool,
    /// Every redirect was permanent: fetch this URL from now on.
    pub moved_to: Option<String>,
    /// The fetch was skipped (backoff, rate limit, gone): health is left as it was.
    pub skipped: bool,
    /// New validators and the items (as the cache stores them, see [`cache_blob`]) after a
    /// full fetch (`None` after a 304 or for mailboxes).
    pub fetched: Option<(Validators, Vec<u8>)>,
}

/// A feed's items as its 304 cache stores them: JSON, deflated. Made where the feed is
/// parsed (on a worker thread, while other feeds download) rather than in the run's one
/// state transaction, and held until then: deflated, the bench corpus's 18 MB of JSON is
/// about a fifth of that, which keeps a first run's peak memory down.
pub fn cache_blob(items: &[Item]) -> Vec<u8> {
    let mut out = DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to memory cannot fail, and items always serialise.
    let _ = serde_json::to_writer(&mut out, items);
    out.finish().unwrap_or_default()
}

/// The items of a 304 cache: deflated JSON ([`cache_blob`]), or the plain JSON text that
/// earlier versions stored. None if unreadable (another version's items): a full fetch.
fn cached_items(value: rusqlite::types::ValueRef<'_>) -> Option<Vec<Item>> {
    match value {
        rusqlite::types::ValueRef::Blob(b) => {
            serde_json::from_reader(std::io::BufReader::new(DeflateDecoder::new(b))).ok()
        }
        rusqlite::types::ValueRef::Text(t) => serde_json::from_slice(t).ok(),
        _ => None,
    }
}

/// How a source has been doing, for backoff decisions and `tidings sources`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SourceHealth {
    pub key: String,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub average_latency_ms: Option<u64>,
    pub retry_after: Option<DateTime<Utc>>,
    pub gone_since: Option<DateTime<Utc>>,
    pub moved_to: Option<String>,
}

/// The feed's stored validators and the items of its last full fetch, still encoded: they
/// are decoded only when the server answers 304 (on the feed's own task), not for every
/// feed before any is fetched.
#[derive(Debug, Clone, Default)]
pub struct CachedFeed {
    pub validators: Validators,
    items: Option<rusqlite::types::Value>,
}

impl CachedFeed {
    /// The cached items; None if there are none or they are unreadable (written by another
    /// version): the feed must then be fetched in full.
    pub fn items(&self) -> Option<Vec<Item>> {
        cached_items(self.items.as_ref()?.into())
    }
}

/// An accepted send, to be recorded.
pub struct Delivery<'a> {
    pub message_id: &'a str,
    pub recipients: &'a [String],
    pub items: Vec<&'a ItemKey>,
    pub messages: Vec<&'a str>,
    /// The stories the digest shows, remembered for follow-ups.
    pub stories: Vec<SentStory>,
    /// The IMAP messages it carries: recorded in the same transaction as the digest, so a
    /// crash can never leave a digest recorded without the messages it used.
    pub imap: Vec<ImapUid>,
}

pub struct State {
    conn: Connection,
    path: String,
}

impl State {
    /// Opens (creating if needed) the state database for a run that may write.
    pub fn open(path: &Path) -> Result<State, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StateError {
            path: p.clone(),
            source,
        })?;
        State::init(conn, p)
    }

    /// Opens the state without ever writing it (preview, dry-run): read-only if the file exists,
    /// an empty in-memory database otherwise.
    pub fn open_read_only(path: &Path) -> Result<State, StateError> {
        let p = path.display().to_string();
        if path.exists() {
            let conn =
                Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(|source| StateError {
                        path: p.clone(),
                        source,
                    })?;
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(|source| StateError {
                    path: p.clone(),
                    source,
                })?;
            Ok(State { conn, path: p })
        } else {
            let conn = Connection::open_in_memory().map_err(|source| StateError {
                path: p.clone(),
                source,
            })?;
            State::init(conn, p)
        }
    }

    fn init(conn: Connection, path: String) -> Result<State, StateError> {
        let wrap = |source| StateError {
            path: path.clone(),
            source,
        };
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.execute_batch(SCHEMA).map_err(wrap)?;
        for (table, column, decl) in ADDED_COLUMNS {
            let exists: bool = conn
                .prepare(&format!(
                    "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
                ))
                .and_then(|mut st| st.exists([column]))
                .map_err(wrap)?;
            if !exists {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))
                    .map_err(wrap)?;
            }
        }
        conn.execute_batch(IMAP_SCHEMA).map_err(wrap)?;
        conn.execute_batch(EXAMINED_SCHEMA).map_err(wrap)?;
        conn.execute_batch(TEMPLATE_SCHEMA).map_err(wrap)?;
        Ok(State { conn, path })
    }

    fn err(&self, source: rusqlite::Error) -> StateError {
        StateError {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in one transaction, committed only if it succeeds.
    fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StateError> {
        let path = self.path.clone();
        let wrap = |source| StateError {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let value = f(&tx).map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        Ok(value)
    }

    pub fn first_seen(&self, key: &SourceKey) -> Result<Option<DateTime<Utc>>, StateError> {
        let secs: Option<i64> = self
            .conn
            .query_row(
                "SELECT first_seen FROM sources WHERE key = ?1",
                [&key.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(secs.and_then(|s| DateTime::from_timestamp(s, 0)))
    }

    pub fn all_health(&self) -> Result<Vec<SourceHealth>, StateError> {
        let ts = |v: Option<i64>| v.and_then(|s| DateTime::from_timestamp(s, 0));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, first_seen, last_success, last_error, last_error_at, consecutive_failures, fetches, total_latency_ms, retry_after, gone_since, moved_to FROM sources ORDER BY key",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let fetches: i64 = r.get(6)?;
                let total: i64 = r.get(7)?;
                Ok(SourceHealth {
                    key: r.get(0)?,
                    first_seen: ts(r.get(1)?),
                    last_success: ts(r.get(2)?),
                    last_error: r.get(3)?,
                    last_error_at: ts(r.get(4)?),
                    consecutive_failures: r.get::<_, i64>(5)?.max(0) as u32,
                    average_latency_ms: (fetches > 0).then(|| (total / fetches) as u64),
                    retry_after: ts(r.get(8)?),
                    gone_since: ts(r.get(9)?),
                    moved_to: r.get(10)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn cached_feed(&self, key: &SourceKey) -> Result<CachedFeed, StateError> {
        type Row = (Option<String>, Option<String>, rusqlite::types::Value);
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT etag, last_modified, cached_items FROM sources WHERE key = ?1",
                [&key.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match row {
            // Validators without items to go with them would turn a 304 into an empty feed.
            None | Some((_, _, rusqlite::types::Value::Null)) => Ok(CachedFeed::default()),
            Some((etag, last_modified, items)) => Ok(CachedFeed {
                validators: Validators {
                    etag,
                    last_modified,
                },
                items: Some(items),
            }),
        }
    }

    pub fn delivered_items(&self) -> Result<HashSet<ItemKey>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT item_key FROM delivered_items")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.map(|r| r.map(ItemKey))
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// (sender, fingerprint) → the issue each template block was first seen in. A state
    /// written before templates were learnt (opened read-only, so not upgraded) knows none.
    pub fn template_blocks(
        &self,
    ) -> Result<std::collections::HashMap<(String, String), String>, StateError> {
        let exists = self
            .conn
            .prepare(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'template_blocks'",
            )
            .and_then(|mut st| st.exists([]))
            .map_err(|e| self.err(e))?;
        if !exists {
            return Ok(Default::default());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT sender, fingerprint, message_id FROM template_blocks")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Learns the blocks of the issues read this run; a block keeps the issue it was first
    /// seen in.
    pub fn record_template_blocks(
        &mut self,
        now: DateTime<Utc>,
        blocks: &[crate::sources::template::Block],
    ) -> Result<(), StateError> {
        self.in_transaction(|tx| {
            for (sender, fp, message) in blocks {
                tx.execute(
                    "INSERT OR IGNORE INTO template_blocks (sender, fingerprint, message_id, seen_at) VALUES (?1, ?2, ?3, ?4)",
                    params![sender, fp, message, now.timestamp()],
                )?;
            }
            Ok(())
        })
    }

    pub fn digested_messages(&self) -> Result<HashSet<String>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT message_id FROM digested_messages")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// When the last digest went out (pending ones count: the server had agreed to take them).
    pub fn last_sent_at(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        let secs: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(sent_at) FROM digests WHERE status != 'caught-up'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(secs.and_then(|s| DateTime::from_timestamp(s, 0)))
    }

    /// UIDs of `folder` (at `uidvalidity`) already digested for IMAP mailbox `mailbox`.
    pub fn imap_digested(
        &self,
        mailbox: &str,
        folder: &str,
        uidvalidity: u32,
    ) -> Result<HashSet<u32>, StateError> {
        // A read-only state written by an older version has no such table yet: nothing digested.
        if !self.has_table("imap_digested")? {
            return Ok(HashSet::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT uid FROM imap_digested WHERE mailbox = ?1 AND folder = ?2 AND uidvalidity = ?3")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![mailbox, folder, uidvalidity], |r| {
                r.get::<_, u32>(0)
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every message record of mailbox `source` ([`crate::sources::examined`]); none from a
    /// read-only database an older version wrote.
    pub fn examined(&self, source: &str) -> Result<Vec<Examined>, StateError> {
        if !self.has_table("examined")? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT folder, validity, id, outcome, message_id, dated, basis FROM examined WHERE source = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (folder, validity, id, outcome, message_id, dated, basis) =
                row.map_err(|e| self.err(e))?;
            // An outcome a later version wrote is no reason to skip a message.
            if let Some(outcome) = Outcome::parse(&outcome) {
                out.push(Examined {
                    folder,
                    validity,
                    id,
                    outcome,
                    message_id,
                    dated,
                    basis,
                });
            }
        }
        Ok(out)
    }

    /// Counts of mailbox `source`'s records by outcome, for `tidings sources`.
    pub fn examined_tally(&self, source: &str) -> Result<Tally, StateError> {
        let mut tally = Tally::default();
        if !self.has_table("examined")? {
            return Ok(tally);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT outcome, COUNT(*) FROM examined WHERE source = ?1 GROUP BY outcome")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (outcome, n) = row.map_err(|e| self.err(e))?;
            if let Some(o) = Outcome::parse(&outcome) {
                tally.add(o, n.max(0) as u64);
            }
        }
        Ok(tally)
    }

    /// Where the last scan of mbox `source` stopped, and the identity of the file it scanned.
    pub fn mbox_scan(&self, source: &str) -> Result<Option<(String, u64)>, StateError> {
        if !self.has_table("mbox_scans")? {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT head, scanned_to FROM mbox_scans WHERE source = ?1",
                [source],
                |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Writes what the mailbox readers learned, all sources in one transaction.
    pub fn remember(
        &mut self,
        now: DateTime<Utc>,
        learned: &[(SourceKey, Remembered)],
    ) -> Result<(), StateError> {
        self.in_transaction(|tx| {
            for (key, r) in learned {
                let source = key.0.as_str();
                for f in &r.forget {
                    match f {
                        Forget::One {
                            folder,
                            validity,
                            id,
                        } => tx.execute(
                            "DELETE FROM examined WHERE source = ?1 AND folder = ?2 AND validity = ?3 AND id = ?4",
                            params![source, folder, validity, id],
                        )?,
                        Forget::OtherValidity { folder, validity } => tx.execute(
                            "DELETE FROM examined WHERE source = ?1 AND folder = ?2 AND validity != ?3",
                            params![source, folder, validity],
                        )?,
                        Forget::All => {
                            tx.execute("DELETE FROM examined WHERE source = ?1", [source])?
                        }
                    };
                }
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO examined (source, folder, validity, id, outcome, message_id, dated, basis, examined_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for e in &r.add {
                    insert.execute(params![
                        source,
                        e.folder,
                        e.validity,
                        e.id,
                        e.outcome.as_str(),
                        e.message_id,
                        e.dated,
                        e.basis,
                        now.timestamp()
                    ])?;
                }
                if let Some((head, to)) = &r.mbox_scan {
                    tx.execute(
                        "INSERT OR REPLACE INTO mbox_scans (source, head, scanned_to) VALUES (?1, ?2, ?3)",
                        params![source, head, *to as i64],
                    )?;
                }
            }
            Ok(())
        })
    }

    /// Notes that this run found these delivered items in their sources again: an item still
    /// offered is never pruned (see [`State::prune`]).
    pub fn record_seen_again(
        &mut self,
        now: DateTime<Utc>,
        keys: &[ItemKey],
    ) -> Result<(), StateError> {
        self.in_transaction(|tx| {
            let mut update =
                tx.prepare_cached("UPDATE delivered_items SET seen_at = ?1 WHERE item_key = ?2")?;
            for k in keys {
                update.execute(params![now.timestamp(), k.0])?;
            }
            Ok(())
        })
    }

    /// Forgets, in one transaction, what can no longer matter: delivered items not offered by
    /// any source since `before`, digested messages of digests sent before it that no mailbox
    /// still holds (no `used` record names them), links resolved before it, and the digests
    /// nothing refers to any more (the newest is always kept: the period check needs it).
    /// `before` is now minus `lookback` minus [`KEEP_MARGIN`]: anything older is ignored by
    /// the cut-off anyway. Returns the rows deleted.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<usize, StateError> {
        let t = before.timestamp();
        self.in_transaction(|tx| {
            let mut n = tx.execute(
                "DELETE FROM delivered_items WHERE COALESCE(seen_at, (SELECT sent_at FROM digests d WHERE d.id = digest_id), 0) < ?1",
                [t],
            )?;
            for table in ["digested_messages", "imap_digested"] {
                n += tx.execute(
                    &format!("DELETE FROM {table} WHERE COALESCE((SELECT sent_at FROM digests d WHERE d.id = digest_id), 0) < ?1 AND message_id NOT IN (SELECT message_id FROM examined WHERE outcome = 'used' AND message_id IS NOT NULL)"),
                    [t],
                )?;
            }
            n += tx.execute("DELETE FROM link_redirects WHERE resolved_at < ?1", [t])?;
            n += tx.execute(
                "DELETE FROM sent_stories WHERE digest_id IN (SELECT id FROM digests WHERE sent_at < ?1)",
                [t],
            )?;
            n += tx.execute(
                "DELETE FROM digests WHERE sent_at < ?1 AND status != 'pending' AND id != (SELECT MAX(id) FROM digests)
                 AND id NOT IN (SELECT digest_id FROM delivered_items)
                 AND id NOT IN (SELECT digest_id FROM digested_messages)
                 AND id NOT IN (SELECT digest_id FROM imap_digested)
                 AND id NOT IN (SELECT digest_id FROM sent_stories)",
                [t],
            )?;
            Ok(n)
        })
    }

    fn has_table(&self, name: &str) -> Result<bool, StateError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    pub fn digest_count(&self) -> Result<u64, StateError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM digests WHERE status != 'caught-up'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Records what the run learned about its sources (first sighting, validators, health).
    pub fn record_sources(
        &mut self,
        now: DateTime<Utc>,
        updates: &[SourceUpdate],
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction().map_err(|source| StateError {
            path: self.path.clone(),
            source,
        })?;
        let ts = now.timestamp();
        let res: rusqlite::Result<()> = (|| {
            for u in updates {
                tx.execute(
                    "INSERT OR IGNORE INTO sources (key, first_seen) VALUES (?1, ?2)",
                    params![u.key.0, ts],
                )?;
                if u.skipped {
                    continue;
                }
                if let Some(ms) = u.elapsed_ms {
                    tx.execute(
                        "UPDATE sources SET fetches = fetches + 1, total_latency_ms = total_latency_ms + ?2 WHERE key = ?1",
                        params![u.key.0, ms as i64],
                    )?;
                }
                tx.execute(
                    "UPDATE sources SET retry_after = ?2, moved_to = COALESCE(?3, moved_to), gone_since = CASE WHEN ?4 THEN COALESCE(gone_since, ?5) ELSE NULL END WHERE key = ?1",
                    params![u.key.0, u.retry_after.map(|t| t.timestamp()), u.moved_to, u.gone, ts],
                )?;
                match &u.error {
                    None => {
                        tx.execute("UPDATE sources SET last_success = ?2, consecutive_failures = 0 WHERE key = ?1", params![u.key.0, ts])?;
                    }
                    Some(e) => {
                        tx.execute(
                            "UPDATE sources SET last_error = ?2, last_error_at = ?3, consecutive_failures = consecutive_failures + 1 WHERE key = ?1",
                            params![u.key.0, e, ts],
                        )?;
                    }
                }
                if let Some((v, blob)) = &u.fetched {
                    tx.execute(
                        "UPDATE sources SET etag = ?2, last_modified = ?3, cached_items = ?4 WHERE key = ?1",
                        params![u.key.0, v.etag, v.last_modified, blob],
                    )?;
                }
            }
            Ok(())
        })();
        res.and_then(|_| tx.commit()).map_err(|source| StateError {
            path: self.path.clone(),
            source,
        })
    }

    /// The stories of the digests sent since `since`, oldest first: what a new report may
    /// follow up.
    pub fn sent_stories(&self, since: DateTime<Utc>) -> Result<Vec<SentStory>, StateError> {
        if !self.has_table("sent_stories")? {
            // A read-only database written by an older version.
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.source, s.title, s.url, s.gist, s.published, s.source_name FROM sent_stories s JOIN digests d ON d.id = s.digest_id
                 WHERE d.sent_at >= ?1 AND d.status != 'caught-up' ORDER BY s.rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([since.timestamp()], |r| {
                Ok(SentStory {
                    source: SourceKey(r.get(0)?),
                    source_name: r.get(5)?,
                    title: r.get(1)?,
                    url: r.get(2)?,
                    gist: r.get(3)?,
                    published: r
                        .get::<_, Option<i64>>(4)?
                        .and_then(|t| DateTime::from_timestamp(t, 0)),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The destination a click-tracker was resolved to on an earlier run.
    pub fn redirect_target(&self, wrapper: &str) -> Result<Option<String>, StateError> {
        self.conn
            .query_row(
                "SELECT destination FROM link_redirects WHERE wrapper = ?1",
                [wrapper],
                |r| r.get(0),
            )
            .optional()
            .or_else(|e| {
                // A read-only database written by an older version has no cache table yet.
                if e.to_string().contains("no such table") {
                    Ok(None)
                } else {
                    Err(e)
                }
            })
            .map_err(|e| self.err(e))
    }

    /// Remembers resolved click-trackers (wrapper, destination), in one transaction.
    pub fn record_redirects(
        &mut self,
        now: DateTime<Utc>,
        redirects: &[(String, String)],
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction().map_err(|source| StateError {
            path: self.path.clone(),
            source,
        })?;
        let res: rusqlite::Result<()> = redirects.iter().try_for_each(|(w, d)| {
            tx.execute(
                "INSERT OR REPLACE INTO link_redirects (wrapper, destination, resolved_at) VALUES (?1, ?2, ?3)",
                params![w, d, now.timestamp()],
            )
            .map(|_| ())
        });
        res.and_then(|_| tx.commit()).map_err(|source| StateError {
            path: self.path.clone(),
            source,
        })
    }

    /// Records a digest whose body is about to be handed to the server, with everything in it,
    /// in one transaction, as `pending`. Returns its id for [`State::confirm`] / [`State::discard`].
    pub fn record_pending(
        &mut self,
        now: DateTime<Utc>,
        d: &Delivery<'_>,
    ) -> Result<i64, StateError> {
        self.record_digest(now, d, "pending")
    }

    /// `run --catch-up`: what is available now counts as delivered, with no digest sent (the
    /// row says so, and neither the period nor the digest count sees it).
    pub fn record_caught_up(
        &mut self,
        now: DateTime<Utc>,
        d: &Delivery<'_>,
    ) -> Result<i64, StateError> {
        self.record_digest(now, d, "caught-up")
    }

    fn record_digest(
        &mut self,
        now: DateTime<Utc>,
        d: &Delivery<'_>,
        status: &str,
    ) -> Result<i64, StateError> {
        let tx = self.conn.transaction().map_err(|source| StateError {
            path: self.path.clone(),
            source,
        })?;
        let res: rusqlite::Result<i64> = (|| {
            tx.execute(
                "INSERT INTO digests (message_id, sent_at, story_count, recipients, status) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![d.message_id, now.timestamp(), d.items.len() as i64, d.recipients.join(", "), status],
            )?;
            let id = tx.last_insert_rowid();
            for k in &d.items {
                tx.execute(
                    "INSERT OR IGNORE INTO delivered_items (item_key, digest_id) VALUES (?1, ?2)",
                    params![k.0, id],
                )?;
            }
            for m in &d.messages {
                tx.execute("INSERT OR IGNORE INTO digested_messages (message_id, digest_id) VALUES (?1, ?2)", params![m, id])?;
            }
            for u in &d.imap {
                tx.execute(
                    "INSERT OR IGNORE INTO imap_digested (mailbox, folder, uidvalidity, uid, message_id, digest_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![u.mailbox, u.folder, u.uidvalidity, u.uid, u.message_id, id],
                )?;
            }
            let mut remember = tx.prepare_cached(
                "INSERT INTO sent_stories (digest_id, source, title, url, gist, published, source_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for st in &d.stories {
                remember.execute(params![
                    id,
                    st.source.0,
                    st.title,
                    st.url,
                    st.gist,
                    st.published.map(|t| t.timestamp()),
                    st.source_name
                ])?;
            }
            Ok(id)
        })();
        let id = res.map_err(|source| StateError {
            path: self.path.clone(),
            source,
        })?;
        tx.commit().map_err(|source| StateError {
            path: self.path.clone(),
            source,
        })?;
        Ok(id)
    }

    /// The server accepted the digest.
    pub fn confirm(&mut self, digest_id: i64) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE digests SET status = 'sent' WHERE id = ?1",
                [digest_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The server refused the digest: its items are not delivered after all.
    pub fn discard(&mut self, digest_id: i64) -> Result<(), StateError> {
        self.in_transaction(|tx| {
            tx.execute(
                "DELETE FROM delivered_items WHERE digest_id = ?1",
                [digest_id],
            )?;
            tx.execute(
                "DELETE FROM digested_messages WHERE digest_id = ?1",
                [digest_id],
            )?;
            tx.execute(
                "DELETE FROM imap_digested WHERE digest_id = ?1",
                [digest_id],
            )?;
            tx.execute("DELETE FROM sent_stories WHERE digest_id = ?1", [digest_id])?;
            tx.execute("DELETE FROM digests WHERE id = ?1", [digest_id])?;
            Ok(())
        })
    }

    /// Settles digests left `pending` by a run that died while the server had the message.
    ///
    /// They count as sent: the server had agreed to take the message and was being given its
    /// body, and the product's promise is never to send the same digest twice. The one window
    /// left is a crash during the body transfer itself, before the server's final answer: then
    /// that digest's stories are counted as sent without having arrived. Returns the
    /// Message-IDs settled, for the log.
    pub fn reconcile_pending(&mut self) -> Result<Vec<String>, StateError> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT message_id FROM digests WHERE status = 'pending'")
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        if !ids.is_empty() {
            self.conn
                .execute(
                    "UPDATE digests SET status = 'sent' WHERE status = 'pending'",
                    [],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A year of daily runs, as `run` writes state: a feed offering the last ten days' items
    /// (twenty new a day), a mailbox with five new newsletters a day whose records fall out
    /// of the search window after five weeks, a resolved link per item. The database must
    /// stop growing once what it holds is older than the cut-off.
    /// The IMAP messages a digest carries go in with it, in one transaction: a pending
    /// digest always has them, a refused one takes them away again.
    #[test]
    fn a_digest_and_its_imap_messages_are_recorded_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(&dir.path().join("s.db")).unwrap();
        let uid = |n: u32| ImapUid {
            mailbox: "imap:me@host:993".into(),
            folder: "News".into(),
            uidvalidity: 7,
            uid: n,
            message_id: format!("<{n}@x>"),
        };
        let held = |st: &State| st.imap_digested("imap:me@host:993", "News", 7).unwrap();
        let delivery = |n: u32| Delivery {
            stories: Vec::new(),
            message_id: "<d@t>",
            recipients: &[],
            items: Vec::new(),
            messages: Vec::new(),
            imap: vec![uid(n)],
        };
        let refused = st.record_pending(Utc::now(), &delivery(1)).unwrap();
        assert_eq!(held(&st).len(), 1, "recorded with the pending digest");
        st.discard(refused).unwrap();
        assert!(held(&st).is_empty(), "a refused digest keeps none");
        let sent = st.record_pending(Utc::now(), &delivery(2)).unwrap();
        st.confirm(sent).unwrap();
        assert_eq!(held(&st).into_iter().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn a_year_of_daily_runs_keeps_the_database_small() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut st = State::open(&path).unwrap();
        let lookback = chrono::Duration::days(7);
        let start = DateTime::from_timestamp(1_767_225_600, 0).unwrap(); // 2026-01-01
        let mailbox = SourceKey("imap:me@mail.example:993".into());
        let key = |day: i64, n: i64| ItemKey(format!("feed:https://e.org/feed#{day}-{n}"));
        let mut size_at = HashMap::new();
        for day in 0..365 {
            let now = start + chrono::Duration::days(day);
            let offered: Vec<ItemKey> = ((day - 9).max(0)..=day)
                .flat_map(|d| (0..20).map(move |n| key(d, n)))
                .collect();
            let delivered = st.delivered_items().unwrap();
            let (old, new): (Vec<ItemKey>, Vec<ItemKey>) =
                offered.into_iter().partition(|k| delivered.contains(k));
            let messages: Vec<String> = (0..5).map(|n| format!("<{day}.{n}@news>")).collect();
            let mut learned = Remembered::default();
            for (n, m) in messages.iter().enumerate() {
                learned.add.push(Examined {
                    folder: "INBOX".into(),
                    validity: 1,
                    id: (day * 5 + n as i64).to_string(),
                    outcome: Outcome::Used,
                    message_id: Some(m.clone()),
                    dated: None,
                    basis: String::new(),
                });
            }
            // The search window (SINCE the cut-off) no longer returns five-week-old UIDs.
            for n in 0..5 {
                learned.forget.push(Forget::One {
                    folder: "INBOX".into(),
                    validity: 1,
                    id: ((day - 37) * 5 + n).to_string(),
                });
            }
            st.remember(now, &[(mailbox.clone(), learned)]).unwrap();
            st.record_seen_again(now, &old).unwrap();
            let redirects: Vec<(String, String)> = new
                .iter()
                .map(|k| (format!("https://click.example/{}", k.0), k.0.clone()))
                .collect();
            st.record_redirects(now, &redirects).unwrap();
            st.prune(now - lookback - KEEP_MARGIN).unwrap();
            let id = st
                .record_pending(
                    now,
                    &Delivery {
                        stories: new.iter().map(|k| sent_story(&k.0)).collect(),
                        message_id: &format!("<digest.{day}@tidings>"),
                        recipients: &["me@e.org".into()],
                        items: new.iter().collect(),
                        messages: messages.iter().map(String::as_str).collect(),
                        imap: Vec::new(),
                    },
                )
                .unwrap();
            st.confirm(id).unwrap();
            if day == 59 || day == 364 {
                let pages: i64 = st
                    .conn
                    .query_row("PRAGMA page_count", [], |r| r.get(0))
                    .unwrap();
                size_at.insert(day, pages);
            }
        }
        let (at60, at365) = (size_at[&59], size_at[&364]);
        eprintln!("state database: {at60} pages after 60 daily runs, {at365} after 365");
        assert!(
            at365 as f64 <= at60 as f64 * 1.2,
            "the database grew from {at60} pages after 60 runs to {at365} after 365"
        );
        // What pruning kept is what can still matter: the last ten days' items are all known.
        let delivered = st.delivered_items().unwrap();
        assert!((355..365).all(|d| delivered.contains(&key(d, 0))));
        assert!(!delivered.contains(&key(100, 0)));
        assert!(st.digested_messages().unwrap().contains("<364.0@news>"));
        assert!(st.last_sent_at().unwrap().is_some());
        // Stories are remembered for the lookback, then forgotten with their digests.
        let end = start + chrono::Duration::days(364);
        let recent = st.sent_stories(end - lookback).unwrap();
        assert_eq!(recent.len(), 8 * 20, "{}", recent.len());
        assert!(recent[0].title.contains("feed:https://e.org/feed#357-"));
        let kept: i64 = st
            .conn
            .query_row("SELECT COUNT(*) FROM sent_stories", [], |r| r.get(0))
            .unwrap();
        assert!(kept <= 38 * 20, "{kept} stories kept");
    }

    /// A story as a digest would remember it: a long headline, a link, a full gist.
    fn sent_story(key: &str) -> SentStory {
        SentStory {
            source: SourceKey("feed:https://news.example.org/world/rss.xml".into()),
            source_name: "World".into(),
            title: format!(
                "{key}: ministers agree on a plan after a night of talks in the capital"
            ),
            url: Some(format!(
                "https://news.example.org/world/2026/12/03/{key}-ministers-agree-on-a-plan"
            )),
            gist: "word "
                .repeat(100)
                .chars()
                .take(crate::group::memory::GIST_CHARS)
                .collect(),
            published: Some(Utc::now()),
        }
    }

    #[test]
    fn a_remembered_story_costs_under_a_kilobyte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut st = State::open(&path).unwrap();
        let size = |st: &State| -> i64 {
            st.conn
                .query_row(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let before = size(&st);
        let n = 2_000;
        let stories: Vec<SentStory> = (0..n).map(|i| sent_story(&format!("story-{i}"))).collect();
        st.record_pending(
            Utc::now(),
            &Delivery {
                stories,
                message_id: "<big@x>",
                recipients: &[],
                items: Vec::new(),
                messages: Vec::new(),
                imap: Vec::new(),
            },
        )
        .unwrap();
        let per_story = (size(&st) - before) / n;
        eprintln!("{per_story} bytes per remembered story");
        assert!(per_story < 1024, "{per_story} bytes per remembered story");
        assert_eq!(
            st.sent_stories(Utc::now() - chrono::Duration::days(1))
                .unwrap()
                .len(),
            n as usize
        );
    }

    #[test]
    fn an_item_still_offered_or_a_message_still_held_is_not_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(&dir.path().join("s.db")).unwrap();
        let then = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        let later = then + chrono::Duration::days(100);
        let (offered, gone) = (ItemKey("a#1".into()), ItemKey("a#2".into()));
        let id = st
            .record_pending(
                then,
                &Delivery {
                    stories: Vec::new(),
                    message_id: "<d@t>",
                    recipients: &[],
                    items: vec![&offered, &gone],
                    messages: vec!["<held@x>", "<gone@x>"],
                    imap: Vec::new(),
                },
            )
            .unwrap();
        st.confirm(id).unwrap();
        st.record_seen_again(later, std::slice::from_ref(&offered))
            .unwrap();
        let mut learned = Remembered::default();
        learned.add.push(Examined {
            folder: String::new(),
            validity: 0,
            id: "f1".into(),
            outcome: Outcome::Used,
            message_id: Some("<held@x>".into()),
            dated: None,
            basis: String::new(),
        });
        st.remember(later, &[(SourceKey("maildir:m".into()), learned)])
            .unwrap();
        assert!(st.prune(later - chrono::Duration::days(37)).unwrap() > 0);
        let delivered = st.delivered_items().unwrap();
        assert!(delivered.contains(&offered) && !delivered.contains(&gone));
        let digested = st.digested_messages().unwrap();
        assert!(digested.contains("<held@x>") && !digested.contains("<gone@x>"));
        assert_eq!(st.examined_tally("maildir:m").unwrap().used, 1);
    }

    #[test]
    fn delivery_and_sources_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut st = State::open(&path).unwrap();
        let key = SourceKey("feed:x".into());
        assert_eq!(st.first_seen(&key).unwrap(), None);
        let now = Utc::now();
        st.record_sources(
            now,
            &[SourceUpdate {
                key: key.clone(),
                error: None,
                fetched: Some((
                    Validators {
                        etag: Some("\"e1\"".into()),
                        last_modified: None,
                    },
                    cache_blob(&[]),
                )),
                ..Default::default()
            }],
        )
        .unwrap();
        assert_eq!(
            st.first_seen(&key).unwrap().map(|d| d.timestamp()),
            Some(now.timestamp())
        );
        assert_eq!(
            st.cached_feed(&key).unwrap().validators.etag.as_deref(),
            Some("\"e1\"")
        );
        let k = ItemKey("feed:x#1".into());
        let id = st
            .record_pending(
                now,
                &Delivery {
                    stories: Vec::new(),
                    message_id: "<m@x>",
                    recipients: &["a@b".into()],
                    items: vec![&k],
                    messages: vec!["<n@x>"],
                    imap: Vec::new(),
                },
            )
            .unwrap();
        st.confirm(id).unwrap();
        drop(st);
        let ro = State::open_read_only(&path).unwrap();
        assert!(ro.delivered_items().unwrap().contains(&k));
        assert!(ro.digested_messages().unwrap().contains("<n@x>"));
        assert_eq!(ro.digest_count().unwrap(), 1);
    }

    #[test]
    fn cached_items_round_trip_deflated_and_earlier_plain_json_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(&dir.path().join("s.db")).unwrap();
        let items = vec![
            crate::group::dedup::tests::item("a", "First story", Some("https://e.org/1"), "One."),
            crate::group::dedup::tests::item("a", "Second story", None, "Two."),
        ];
        let key = SourceKey("a".into());
        let blob = cache_blob(&items);
        let json = serde_json::to_string(&items).unwrap();
        assert!(blob.len() < json.len(), "{} >= {}", blob.len(), json.len());
        st.record_sources(
            Utc::now(),
            &[SourceUpdate {
                key: key.clone(),
                fetched: Some((Validators::default(), blob)),
                ..Default::default()
            }],
        )
        .unwrap();
        let titles = |st: &State| -> Vec<String> {
            st.cached_feed(&key)
                .unwrap()
                .items()
                .unwrap_or_default()
                .into_iter()
                .map(|i| i.title)
                .collect()
        };
        assert_eq!(titles(&st), ["First story", "Second story"]);
        // A state written before the cache was deflated holds the JSON as text.
        st.conn
            .execute("UPDATE sources SET cached_items = ?1", [&json])
            .unwrap();
        assert_eq!(titles(&st), ["First story", "Second story"]);
        // Garbage is a cache miss (a full fetch), not an error.
        st.conn
            .execute("UPDATE sources SET cached_items = x'00ff'", [])
            .unwrap();
        assert!(st.cached_feed(&key).unwrap().items().is_none());
    }

    #[test]
    fn a_refused_send_is_discarded_and_a_crashed_one_reconciled() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(&dir.path().join("s.db")).unwrap();
        let (a, b) = (ItemKey("a".into()), ItemKey("b".into()));
        let refused = st
            .record_pending(
                Utc::now(),
                &Delivery {
                    stories: Vec::new(),
                    message_id: "<1@x>",
                    recipients: &[],
                    items: vec![&a],
                    messages: vec!["<m1>"],
                    imap: Vec::new(),
                },
            )
            .unwrap();
        st.discard(refused).unwrap();
        assert!(st.delivered_items().unwrap().is_empty());
        assert!(st.digested_messages().unwrap().is_empty());
        assert_eq!(st.digest_count().unwrap(), 0);
        st.record_pending(
            Utc::now(),
            &Delivery {
                stories: Vec::new(),
                message_id: "<2@x>",
                recipients: &[],
                items: vec![&b],
                messages: vec![],
                imap: Vec::new(),
            },
        )
        .unwrap();
        // ...and the process dies here. The next run:
        assert_eq!(st.reconcile_pending().unwrap(), vec!["<2@x>".to_string()]);
        assert!(st.delivered_items().unwrap().contains(&b));
        assert!(st.reconcile_pending().unwrap().is_empty());
    }

    #[test]
    fn redirect_cache_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut st = State::open(&path).unwrap();
        assert_eq!(st.redirect_target("https://t.co/x").unwrap(), None);
        st.record_redirects(
            Utc::now(),
            &[("https://t.co/x".into(), "https://e.org/a".into())],
        )
        .unwrap();
        drop(st);
        let ro = State::open_read_only(&path).unwrap();
        assert_eq!(
            ro.redirect_target("https://t.co/x").unwrap().as_deref(),
            Some("https://e.org/a")
        );
    }

    #[test]
    fn read_only_open_of_a_missing_file_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.db");
        let st = State::open_read_only(&path).unwrap();
        assert!(st.delivered_items().unwrap().is_empty());
        assert!(!path.exists());
    }
}
