//! Collecting: every feed and mailbox read at once, each failure kept to its source, and
//! the items not delivered before. Feeds are fetched host by host, busiest first, with their
//! cached validators, held back while they are gone, rate limited or failing
//! ([`crate::health`]); mailboxes are read on the blocking pool, IMAP over the network.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedConfig, FeedLocation, MailboxConfig, MailboxKind};
use crate::health::hold_back;
use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::model::{Attention, Item, ItemKey, SourceError, SourceKey};
use crate::sources::examined::Remembered;
use crate::sources::feed::{self, FeedContext, Origin};
use crate::sources::http::error_chain;
use crate::sources::http::{FetchError, Fetched, Fetcher, Validators};
use crate::sources::{imap, maildir, mbox};
use crate::state::{ImapUid, SourceHealth, SourceUpdate, State, StateError};

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("cannot start the HTTP client: {0}")]
    Http(String),
}

/// Everything the sources yielded this run.
pub struct Collected {
    /// New items only: not delivered before, not older than the lookback cut-off.
    pub items: Vec<Item>,
    pub errors: Vec<SourceError>,
    pub updates: Vec<SourceUpdate>,
    /// Confirmation emails to list in the digest.
    pub attention: Vec<Attention>,
    /// IMAP messages read this run, by mailbox (index into `cfg.mailboxes`): recorded and acted
    /// on (`after`) only once the digest carrying them was accepted.
    pub imap_used: Vec<(usize, Vec<ImapUid>)>,
    /// What each mailbox's messages came to, for state (so they are not read again).
    pub learned: Vec<(SourceKey, Remembered)>,
    /// Delivered items their sources still offer: kept from pruning.
    pub seen_again: Vec<ItemKey>,
    /// Click-trackers resolved this run (wrapper, destination), for the state's cache.
    pub redirects: Vec<(String, String)>,
    /// Links left unpublished because they track the reader (see `links::publish`).
    pub links_withheld: usize,
    /// The blocks of this run's newsletter issues, learnt as their senders' template once
    /// the digest is out (see `sources::template`).
    pub template_blocks: Vec<crate::sources::template::Block>,
}

struct Tools {
    cleaner: Cleaner,
    sanitizer: Sanitizer,
    /// One permit per CPU core, for parsing feeds.
    cores: tokio::sync::Semaphore,
}

/// Reads every source concurrently and keeps the items not delivered before.
///
/// With `keep_cache`, each fetched feed's items also go into its [`SourceUpdate`] (as JSON)
/// for the state's 304 cache; previews and dry runs write no state and skip that copy.
pub(crate) async fn collect(
    cfg: &Config,
    state: &State,
    now: DateTime<Utc>,
    keep_cache: bool,
) -> Result<Collected, CollectError> {
    let cleaner = Cleaner::new(&cfg.links);
    let tools = Arc::new(Tools {
        sanitizer: Sanitizer::new(&cleaner),
        cleaner,
        cores: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
    });
    let fetcher = Fetcher::new(&cfg.fetch).map_err(|e| CollectError::Http(e.to_string()))?;

    let health: HashMap<String, SourceHealth> = state
        .all_health()?
        .into_iter()
        .map(|h| (h.key.clone(), h))
        .collect();
    // Taken out one by one below, as each feed's task starts.
    let mut cached = Vec::with_capacity(cfg.feeds.len());
    for f in &cfg.feeds {
        cached.push(Some(state.cached_feed(&f.key())?));
    }
    // Each feed is its own task so the runtime's worker threads share the parsing (parsing and
    // sanitizing cost more CPU than the I/O). The fetcher holds the download limits and lets
    // go once a body is read; this semaphore bounds the feeds between start and parsed, so
    // at most twice `concurrency` bodies wait in memory for a CPU.
    let fetcher = Arc::new(fetcher);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(2 * fetcher.concurrency()));
    let fetched = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let total_feeds = cfg.feeds.len();
    let mut tasks: Vec<Option<_>> = (0..cfg.feeds.len()).map(|_| None).collect();
    for i in start_order(&cfg.feeds, cfg.fetch.concurrency, cfg.fetch.per_host) {
        let (f, cache) = (cfg.feeds[i].clone(), cached[i].take().unwrap_or_default());
        tasks[i] = Some({
            let (fetcher, tools, in_flight, fetched) = (
                fetcher.clone(),
                tools.clone(),
                in_flight.clone(),
                fetched.clone(),
            );
            let h = health.get(&f.key().0).cloned();
            tokio::spawn(async move {
                let _permit = in_flight.acquire_owned().await;
                let result =
                    read_feed(&f, cache, h.as_ref(), now, &fetcher, &tools, keep_cache).await;
                let n = fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                crate::progress::update(&format!("feeds: {n}/{total_feeds} fetched"));
                result
            })
        });
    }
    let tasks: Vec<_> = tasks.into_iter().flatten().collect();
    let feeds = async move {
        let mut out = Vec::with_capacity(tasks.len());
        for (t, f) in futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .zip(&cfg.feeds)
        {
            out.push(t.unwrap_or_else(|e| {
                SourceResult::failed(
                    f.key(),
                    f.location.to_string(),
                    format!("feed reader crashed: {e}"),
                )
            }));
        }
        out
    };

    let lookback =
        chrono::Duration::from_std(cfg.digest.lookback).unwrap_or(chrono::Duration::days(7));
    let cutoff_of =
        |key: &SourceKey| cutoff(health.get(&key.0).and_then(|h| h.first_seen), now, lookback);
    let digested = Arc::new(state.digested_messages()?);
    let mailboxes = cfg.mailboxes.iter().map(|m| {
        let key = m.key();
        let cutoff = cutoff_of(&key);
        read_mailbox(m, key, state, digested.clone(), cutoff, tools.clone())
    });
    let (feed_results, mailbox_results) =
        tokio::join!(feeds, futures_util::future::join_all(mailboxes));

    let delivered = state.delivered_items()?;
    let mut out = Collected {
        items: Vec::new(),
        errors: Vec::new(),
        updates: Vec::new(),
        attention: Vec::new(),
        imap_used: Vec::new(),
        learned: Vec::new(),
        seen_again: Vec::new(),
        redirects: Vec::new(),
        links_withheld: 0,
        template_blocks: Vec::new(),
    };
    // In config order (join_all keeps the tasks' order), so the digest does not depend on
    // network timing.
    let mut results: Vec<SourceResult> = feed_results;
    for (i, (r, attention, used, learned)) in mailbox_results.into_iter().enumerate() {
        out.attention.extend(attention);
        if !used.is_empty() {
            out.imap_used.push((i, used));
        }
        if let Some(learned) = learned {
            out.learned.push((r.update.key.clone(), learned));
        }
        results.push(r);
    }
    for r in results {
        let cutoff = cutoff_of(&r.update.key);
        if let Some(e) = &r.update.error {
            // Failures in a row including this run (a skipped source did not fail again).
            let before = health
                .get(&r.update.key.0)
                .map_or(0, |h| h.consecutive_failures);
            let streak = if r.update.skipped {
                before.max(1)
            } else {
                before + 1
            };
            if streak >= cfg.digest.report_failures_after {
                tracing::warn!(source = %r.label, error = %e, "source failed");
                out.errors.push(SourceError {
                    source: r.label.clone(),
                    message: e.clone(),
                });
            } else {
                tracing::info!(source = %r.label, error = %e, streak, "source failed; not reported until it fails {} runs in a row", cfg.digest.report_failures_after);
            }
        }
        for w in &r.warnings {
            tracing::warn!(source = %r.label, warning = %w, "source warning");
            out.errors.push(SourceError {
                source: r.label.clone(),
                message: w.clone(),
            });
        }
        let mut seen: HashSet<ItemKey> = HashSet::new();
        for item in r.items {
            if item.published.is_some_and(|p| p < cutoff) {
                continue;
            }
            if delivered.contains(&item.key) {
                out.seen_again.push(item.key);
            } else if seen.insert(item.key.clone()) {
                out.items.push(item);
            }
        }
        out.updates.push(r.update);
    }
    // A block that came in an earlier issue of the same newsletter is its template.
    let (kept, blocks, template) =
        crate::sources::template::sift(std::mem::take(&mut out.items), &state.template_blocks()?);
    out.items = kept;
    out.template_blocks = blocks;
    tracing::info!(
        items = out.items.len(),
        errors = out.errors.len(),
        template,
        "sources read"
    );
    crate::progress::done(&format!(
        "sources: {} feeds, {} mailboxes read; {} new items; {} problems",
        cfg.feeds.len(),
        cfg.mailboxes.len(),
        out.items.len(),
        out.errors.len()
    ));
    // Links: no tracker and no personal data may reach the digest. Opaque trackers are resolved
    // from the cache, or over HTTP when the user allowed it; the rest are dropped.
    let resolver = if cfg.links.resolve_redirects {
        Some(
            crate::links::resolve::Resolver::new(&cfg.links)
                .map_err(|e| CollectError::Http(e.to_string()))?,
        )
    } else {
        None
    };
    let settled =
        crate::links::publish::settle(&mut out.items, &tools.cleaner, resolver.as_ref(), |w| {
            state.redirect_target(w).ok().flatten()
        })
        .await;
    out.redirects = settled.resolved;
    out.links_withheld = settled.dropped;
    Ok(out)
}

struct SourceResult {
    label: String,
    items: Vec<Item>,
    /// Problems reported without failing the source: a mailbox's unreadable messages, a feed
    /// that has moved.
    warnings: Vec<String>,
    update: SourceUpdate,
}

/// A mailbox that cannot be read, in one sentence naming it.
fn mailbox_problem(path: &std::path::Path, e: &std::io::Error) -> String {
    let path = path.display();
    match e.kind() {
        std::io::ErrorKind::NotFound => format!("mailbox {path} does not exist"),
        std::io::ErrorKind::PermissionDenied => format!("no permission to read mailbox {path}"),
        _ => format!("cannot read mailbox {path}: {e}"),
    }
}

impl SourceResult {
    fn failed(key: SourceKey, label: String, error: String) -> SourceResult {
        SourceResult {
            label,
            items: Vec::new(),
            warnings: Vec::new(),
            update: SourceUpdate {
                key,
                error: Some(error),
                ..Default::default()
            },
        }
    }
}

/// The oldest an item may be to go in the digest. Fixed at the source's first sighting minus
/// `lookback`, so items too old on the first run do not turn up on the second; but never
/// before `lookback` plus [`crate::state::KEEP_MARGIN`] ago, which is what lets state forget
/// what was delivered long ago ([`State::prune`]) without sending it again.
pub(crate) fn cutoff(
    first_seen: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    lookback: chrono::Duration,
) -> DateTime<Utc> {
    let fixed = first_seen.unwrap_or(now) - lookback;
    fixed.max(now - lookback - crate::state::KEEP_MARGIN)
}

/// What reading one mailbox gave: its result, its confirmation emails, (IMAP) the messages
/// used, and what its messages came to.
type MailboxResult = (
    SourceResult,
    Vec<Attention>,
    Vec<ImapUid>,
    Option<Remembered>,
);

/// One mailbox, whatever its kind.
async fn read_mailbox(
    m: &MailboxConfig,
    key: SourceKey,
    state: &State,
    digested: Arc<HashSet<String>>,
    cutoff: DateTime<Utc>,
    tools: Arc<Tools>,
) -> MailboxResult {
    let started = std::time::Instant::now();
    let label = m.label();
    let failed = |message: String| {
        (
            SourceResult::failed(key.clone(), label.clone(), message),
            Vec::new(),
            Vec::new(),
            None,
        )
    };
    let ok = |read: crate::sources::mailbox::MailboxRead| SourceResult {
        label: label.clone(),
        items: read.items,
        warnings: read.warnings,
        update: SourceUpdate {
            key: key.clone(),
            elapsed_ms: Some(started.elapsed().as_millis() as u64),
            ..Default::default()
        },
    };
    let (path, is_mbox) = match &m.kind {
        MailboxKind::Imap(server) => {
            return match imap::read(
                m,
                server,
                state,
                &digested,
                cutoff,
                &tools.cleaner,
                &tools.sanitizer,
            )
            .await
            {
                Ok(mut r) => {
                    let attention = std::mem::take(&mut r.read.attention);
                    (ok(r.read), attention, r.used, Some(r.learned))
                }
                Err(e) => failed(format!("IMAP mailbox failed: {}", error_chain(&e))),
            };
        }
        MailboxKind::Mbox(path) => (path.clone(), true),
        MailboxKind::Maildir(path) => (path.clone(), false),
    };
    let records = match state.examined(&key.0) {
        Ok(r) => r,
        Err(e) => return failed(error_chain(&e)),
    };
    let scanned = if is_mbox {
        state.mbox_scan(&key.0).ok().flatten()
    } else {
        None
    };
    let m = m.clone();
    let at = path.clone();
    let res = tokio::task::spawn_blocking(move || {
        if is_mbox {
            mbox::read(
                &m,
                &at,
                records,
                scanned,
                &digested,
                cutoff,
                &tools.cleaner,
                &tools.sanitizer,
            )
        } else {
            maildir::read(
                &m,
                &at,
                records,
                &digested,
                cutoff,
                &tools.cleaner,
                &tools.sanitizer,
            )
        }
    })
    .await;
    match res {
        Ok(Ok((mut read, learned))) => {
            let attention = std::mem::take(&mut read.attention);
            (ok(read), attention, Vec::new(), Some(learned))
        }
        Ok(Err(e)) => failed(mailbox_problem(&path, &e)),
        Err(e) => failed(format!("mailbox reader crashed: {e}")),
    }
}

async fn read_feed(
    f: &FeedConfig,
    cache: crate::state::CachedFeed,
    health: Option<&SourceHealth>,
    now: DateTime<Utc>,
    fetcher: &Fetcher,
    tools: &Tools,
    keep_cache: bool,
) -> SourceResult {
    let key = f.key();
    let label = f.name.clone().unwrap_or_else(|| f.location.to_string());
    if let Some(reason) = health.and_then(|h| hold_back(h, now)) {
        // Not fetched: the items of the last good fetch still count, nothing else changes.
        return SourceResult {
            label,
            items: cache.items().unwrap_or_default(),
            warnings: Vec::new(),
            update: SourceUpdate {
                key,
                error: Some(reason),
                skipped: true,
                ..Default::default()
            },
        };
    }
    let moved = health
        .and_then(|h| h.moved_to.as_deref())
        .and_then(|u| url::Url::parse(u).ok());
    let started = std::time::Instant::now();
    let mut update = SourceUpdate {
        key: key.clone(),
        ..Default::default()
    };
    let mut warnings = Vec::new();
    let bytes = match (&f.location, moved) {
        (FeedLocation::Url(configured), moved) => {
            let url = moved.unwrap_or_else(|| configured.clone());
            let mut result = fetcher.fetch(&url, &cache.validators).await;
            let mut cached_items = Vec::new();
            if matches!(result, Ok(Fetched::NotModified)) {
                match cache.items() {
                    Some(items) => cached_items = items,
                    // Unchanged, but the cache cannot be read (another version wrote it).
                    None => result = fetcher.fetch(&url, &Validators::default()).await,
                }
            }
            update.elapsed_ms = Some(started.elapsed().as_millis() as u64);
            match result {
                Ok(Fetched::NotModified) => {
                    tracing::debug!(source = %label, "not modified");
                    let warnings = moved_notice(configured, &url).into_iter().collect();
                    return SourceResult {
                        label,
                        items: cached_items,
                        warnings,
                        update,
                    };
                }
                Ok(Fetched::Body {
                    bytes,
                    validators,
                    moved_to,
                    origin,
                }) => {
                    let now_at = moved_to.unwrap_or(url);
                    if now_at != *configured {
                        update.moved_to = Some(now_at.to_string());
                    }
                    warnings.extend(moved_notice(configured, &now_at));
                    (bytes, validators, *origin)
                }
                Err(e) => {
                    update.retry_after = match &e {
                        FetchError::RateLimited(wait) => Some(
                            now + chrono::Duration::from_std(
                                wait.unwrap_or(RATE_LIMIT_DEFAULT_WAIT),
                            )
                            .unwrap_or(chrono::Duration::hours(1)),
                        ),
                        _ => None,
                    };
                    update.gone = matches!(e, FetchError::Gone);
                    update.error = Some(e.to_string());
                    return SourceResult {
                        label,
                        items: Vec::new(),
                        warnings: Vec::new(),
                        update,
                    };
                }
            }
        }
        (FeedLocation::File(p), _) => match read_capped(p, fetcher.max_bytes()) {
            Ok(b) => (b, Validators::default(), Origin::default()),
            Err(e) => return SourceResult::failed(key, label, e),
        },
    };
    let fallback = match &f.location {
        FeedLocation::Url(u) => u.host_str().unwrap_or("feed").to_string(),
        FeedLocation::File(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "feed".into()),
    };
    let ctx = FeedContext {
        source: &key,
        name: f.name.as_deref(),
        fallback_name: &fallback,
        topic: f.topic.as_deref(),
        cleaner: &tools.cleaner,
        sanitizer: &tools.sanitizer,
        origin: &bytes.2,
    };
    // CPU-bound: one feed per core at a time (more would only take turns, each holding its
    // parse in memory), and the runtime moves this worker's other tasks elsewhere meanwhile.
    let _core = tools.cores.acquire().await;
    let parsed = tokio::task::block_in_place(|| {
        feed::parse(&bytes.0, &ctx).map(|parsed| {
            let cache = keep_cache.then(|| crate::state::cache_blob(&parsed.items));
            (parsed, cache)
        })
    });
    match parsed {
        Ok((parsed, cache)) => {
            if let Some(r) = &parsed.repaired {
                warnings.push(format!("feed {r}"));
            }
            let label = f.name.clone().or(parsed.title).unwrap_or(label);
            update.fetched = cache.map(|c| (bytes.1, c));
            SourceResult {
                label,
                items: parsed.items,
                warnings,
                update,
            }
        }
        Err(e) => {
            update.error = Some(e.to_string());
            SourceResult {
                label,
                items: Vec::new(),
                warnings,
                update,
            }
        }
    }
}

/// The order to start feeds in, planned as if every request took as long: in each round of
/// `concurrency` starts, at most `per_host` per host, the hosts with most feeds left go
/// first; each host's feeds in config order.
///
/// A host's feeds wait for one another (`per_host` at a time), so a host with many feeds is
/// the run's longest chain and must keep its slots busy from the start. Left in config
/// order, the bench corpus (40 of its 500 feeds on one host, 50 ms a request) ended with
/// that host's queue fetched two at a time while every other slot sat idle: 0.35 s of a
/// 2.2 s fetch.
fn start_order(feeds: &[FeedConfig], concurrency: usize, per_host: usize) -> Vec<usize> {
    let mut queues: Vec<(String, std::collections::VecDeque<usize>)> = Vec::new();
    for (i, f) in feeds.iter().enumerate() {
        let host = match &f.location {
            FeedLocation::Url(u) => u.host_str().unwrap_or(""),
            FeedLocation::File(_) => "",
        };
        match queues.iter_mut().find(|(h, _)| h == host) {
            Some((_, q)) => q.push_back(i),
            None => queues.push((host.to_string(), [i].into())),
        }
    }
    let (concurrency, per_host) = (concurrency.max(1), per_host.max(1));
    let mut order = Vec::with_capacity(feeds.len());
    while order.len() < feeds.len() {
        // Stable: equal queues keep the order their hosts first appear in.
        queues.sort_by_key(|(_, q)| std::cmp::Reverse(q.len()));
        let mut round = 0;
        for (_, q) in &mut queues {
            let take = per_host.min(q.len()).min(concurrency - round);
            order.extend(q.drain(..take));
            round += take;
            if round == concurrency {
                break;
            }
        }
    }
    order
}

/// How long to leave a server alone after a 429 that did not say.
const RATE_LIMIT_DEFAULT_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

/// The notice for a feed that has moved for good: the user should update the config.
fn moved_notice(configured: &url::Url, now_at: &url::Url) -> Option<String> {
    (configured != now_at).then(|| format!("moved permanently to {now_at}; update `url` in your config (fetched from the new address meanwhile)"))
}

fn read_capped(p: &Path, max: u64) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(p)
        .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?
        .len();
    if len > max {
        return Err(format!("`{}` is larger than {max} bytes", p.display()));
    }
    std::fs::read(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_start_host_by_host_busiest_first() {
        let feed = |url: &str| FeedConfig {
            location: FeedLocation::Url(url::Url::parse(url).unwrap()),
            name: None,
            topic: None,
            priority: 0,
            max_stories: None,
        };
        let feeds = [
            feed("https://a.example/1"),
            feed("https://b.example/1"),
            feed("https://b.example/2"),
            feed("https://c.example/1"),
            feed("https://b.example/3"),
            feed("https://a.example/2"),
        ];
        // Rounds of 3 starts, 1 per host: b has most feeds left in every round.
        assert_eq!(start_order(&feeds, 3, 1), [1, 0, 3, 2, 5, 4]);
        // Rounds of 2, 2 per host: b twice, then a twice (a now has more left than b), ...
        assert_eq!(start_order(&feeds, 2, 2), [1, 2, 0, 5, 4, 3]);
        assert_eq!(start_order(&feeds, 16, 2), [1, 2, 0, 5, 3, 4]);
        assert!(start_order(&[], 16, 2).is_empty());
    }
}
