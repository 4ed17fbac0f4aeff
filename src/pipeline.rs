//! The run, stage by stage: collect → group → render → deliver → record.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedConfig, FeedLocation, MailboxConfig, MailboxKind};
use crate::deliver::{self, DeliverError, Outgoing};
use crate::group::{RankSettings, SentStory, SourcePolicy};
use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::model::{Attention, Digest, Item, ItemKey, SourceError, SourceKey};
use crate::render::{RenderError, Rendered, Renderer};
use crate::sources::examined::Remembered;
use crate::sources::feed::{self, FeedContext, Origin};
use crate::sources::http::error_chain;
use crate::sources::http::{FetchError, Fetched, Fetcher, Validators};
use crate::sources::{imap, maildir, mbox};
use crate::state::{Delivery, ImapUid, SourceHealth, SourceUpdate, State, StateError};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Deliver(#[from] DeliverError),
    #[error("cannot write `{path}`")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the HTTP client: {0}")]
    Http(String),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
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

/// What a run did, for the exit code and the final report.
#[derive(Debug, Default)]
pub struct RunReport {
    pub stories: usize,
    /// `run --catch-up`: items recorded as delivered without a digest.
    pub caught_up: usize,
    pub source_errors: usize,
    pub sent: bool,
    pub message_id: Option<String>,
    /// Set when nothing was done because a digest already went out in this period.
    pub already_sent: Option<DateTime<Utc>>,
}

/// How `run` behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Print what would be sent; change nothing.
    pub dry_run: bool,
    /// Send even if a digest already went out in this `[digest] period`.
    pub force: bool,
    /// Send nothing; record everything available now as delivered (a first run that starts
    /// from today's news, not the whole lookback).
    pub catch_up: bool,
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
pub async fn collect(
    cfg: &Config,
    state: &State,
    now: DateTime<Utc>,
    keep_cache: bool,
) -> Result<Collected, RunError> {
    let cleaner = Cleaner::new(&cfg.links);
    let tools = Arc::new(Tools {
        sanitizer: Sanitizer::new(&cleaner),
        cleaner,
        cores: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
    });
    let fetcher = Fetcher::new(&cfg.fetch).map_err(|e| RunError::Http(e.to_string()))?;

    let health: HashMap<String, SourceHealth> = state
        .all_health()?
        .into_iter()
        .map(|h| (h.key.clone(), h))
        .collect();
    // Taken out one by one below, as each feed's task starts.
    let mut cached = Vec::with_capacity(cfg.feeds.len());
    for f in &cfg.feeds {
        cached.push(Some(state.cached_feed(&feed_key(f))?));
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
            let h = health.get(&feed_key(&f).0).cloned();
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
                    feed_key(f),
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
                .map_err(|e| RunError::Http(e.to_string()))?,
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
pub fn cutoff(
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

pub fn feed_key(f: &FeedConfig) -> SourceKey {
    SourceKey(format!("feed:{}", f.location))
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

/// Why a feed is not fetched this run, if it is not.
fn hold_back(h: &SourceHealth, now: DateTime<Utc>) -> Option<String> {
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

async fn read_feed(
    f: &FeedConfig,
    cache: crate::state::CachedFeed,
    health: Option<&SourceHealth>,
    now: DateTime<Utc>,
    fetcher: &Fetcher,
    tools: &Tools,
    keep_cache: bool,
) -> SourceResult {
    let key = feed_key(f);
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

/// Groups the collected items into the digest.
/// The items are taken out of `collected` (the stories own them from here on).
/// Groups and ranks what was collected into the digest; `sent` is what earlier digests sent
/// within `lookback` (a new report of one of those is a follow-up).
pub fn build(
    cfg: &Config,
    collected: &mut Collected,
    now: DateTime<Utc>,
    sent: &[SentStory],
) -> Digest {
    let started = std::time::Instant::now();
    let items = std::mem::take(&mut collected.items);
    let count = items.len();
    let mut settings = cfg.grouping.clone();
    settings.rank = RankSettings {
        now,
        period: cfg.digest.lookback,
        sources: source_policies(cfg),
    };
    let grouped = crate::group::group_items(items, &cfg.topics, &cfg.filters, &settings, sent);
    tracing::debug!(
        items = count,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "grouped"
    );
    Digest {
        title: cfg.digest.title.clone(),
        generated_at: now,
        lead: grouped.lead,
        lead_title: settings.lead_title,
        repeats: grouped.repeats,
        groups: grouped.groups,
        errors: collected.errors.clone(),
        attention: collected.attention.clone(),
        muted: grouped.muted,
        links_withheld: collected.links_withheld,
        links_resolving: cfg.links.resolve_redirects,
        explain: None,
    }
}

/// What the config says about each source, by the key its items carry.
fn source_policies(cfg: &Config) -> HashMap<SourceKey, SourcePolicy> {
    let feeds = cfg.feeds.iter().map(|f| {
        let site = match &f.location {
            FeedLocation::Url(u) => u.host_str().map(|h| format!("{}://{h}/", u.scheme())),
            FeedLocation::File(_) => None,
        };
        (feed_key(f), f.name.clone(), f.priority, f.max_stories, site)
    });
    let mailboxes = cfg
        .mailboxes
        .iter()
        .map(|m| (m.key(), m.name.clone(), m.priority, m.max_stories, None));
    feeds
        .chain(mailboxes)
        .map(|(key, name, priority, max_stories, site)| {
            (
                key,
                SourcePolicy {
                    name: name.unwrap_or_default(),
                    priority,
                    max_stories,
                    site,
                },
            )
        })
        .collect()
}

/// The stories the digests within `lookback` sent, for follow-ups.
fn remembered(cfg: &Config, state: &State, now: DateTime<Utc>) -> Result<Vec<SentStory>, RunError> {
    let lookback =
        chrono::Duration::from_std(cfg.digest.lookback).unwrap_or(chrono::Duration::days(7));
    Ok(state.sent_stories(now - lookback)?)
}

/// The renderer `config` asks for: its templates, its time zone, the next scheduled digest.
pub fn renderer(cfg: &Config, now: DateTime<Utc>) -> Result<Renderer, RenderError> {
    let next = cfg
        .digest
        .schedule
        .as_ref()
        .and_then(|s| s.next_after(now, cfg.digest.timezone));
    Ok(Renderer::new(cfg.digest.templates_dir.as_deref())?
        .zone(cfg.digest.timezone)
        .strings(cfg.digest.strings.clone())
        .next_digest(next))
}

/// The digest rendered and wrapped as the message `run` would send (no size budget).
pub fn compose(cfg: &Config, digest: &Digest) -> Result<(Rendered, Outgoing), RunError> {
    let rendered = renderer(cfg, digest.generated_at)?.render(digest)?;
    let outgoing = deliver::build(&cfg.delivery, &rendered, digest.generated_at)?;
    Ok((rendered, outgoing))
}

/// As [`compose`], within `[digest] max_bytes`: `digest` becomes what the mail shows (stories
/// cut to titles or left out), so that exactly its stories are recorded as delivered.
pub fn compose_within(cfg: &Config, digest: &mut Digest) -> Result<(Rendered, Outgoing), RunError> {
    let started = std::time::Instant::now();
    let (rendered, _) =
        renderer(cfg, digest.generated_at)?.render_within(digest, cfg.digest.max_bytes)?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rendered"
    );
    let outgoing = deliver::build(&cfg.delivery, &rendered, digest.generated_at)?;
    Ok((rendered, outgoing))
}

/// `preview --out DIR`: builds the digest from the current state, writes it, changes nothing.
pub async fn preview(cfg: &Config, out_dir: &Path) -> Result<RunReport, RunError> {
    preview_explained(cfg, out_dir, false).await
}

/// `preview --explain`: as [`preview`], and `digest.json` gains an `"explain"` section
/// saying why each story sits where it is (merges, topic evidence, filters).
pub async fn preview_explained(
    cfg: &Config,
    out_dir: &Path,
    explain: bool,
) -> Result<RunReport, RunError> {
    let now = Utc::now();
    let state = State::open_read_only(&cfg.state_path)?;
    let mut collected = collect(cfg, &state, now, false).await?;
    let mut digest = build(cfg, &mut collected, now, &remembered(cfg, &state, now)?);
    drop(collected);
    if explain {
        digest.explain = Some(digest.explain());
    }
    let (rendered, outgoing) = compose_within(cfg, &mut digest)?;
    std::fs::create_dir_all(out_dir).map_err(|source| RunError::Write {
        path: out_dir.display().to_string(),
        source,
    })?;
    let json = serde_json::to_string_pretty(&digest).unwrap_or_default();
    for (name, bytes) in [
        ("digest.html", rendered.html.as_bytes().to_vec()),
        ("digest.txt", rendered.text.as_bytes().to_vec()),
        ("digest.eml", outgoing.formatted()),
        ("digest.json", json.into_bytes()),
    ] {
        let path = out_dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| RunError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(RunReport {
        stories: digest.story_count(),
        source_errors: digest.errors.len(),
        sent: false,
        message_id: Some(outgoing.message_id),
        ..Default::default()
    })
}

/// `run`: builds, sends, and records what was sent. With `dry_run`, prints instead and
/// changes nothing.
pub async fn run(cfg: &Config, opts: RunOptions) -> Result<RunReport, RunError> {
    let dry_run = opts.dry_run;
    let now = Utc::now();
    // One run at a time; a dry run reads state and needs no lock.
    let _lock = if dry_run {
        None
    } else {
        Some(crate::lock::RunLock::acquire(&cfg.state_path)?)
    };
    let mut state = if dry_run {
        State::open_read_only(&cfg.state_path)?
    } else {
        State::open(&cfg.state_path)?
    };
    if !dry_run {
        for id in state.reconcile_pending()? {
            tracing::warn!(message_id = %id, "the previous run stopped while sending this digest; counting it as sent, so it is not sent twice");
        }
    }
    if let (Some(period), false) = (cfg.digest.period, opts.force || opts.catch_up) {
        let start = period.start(now, cfg.digest.timezone);
        if let Some(last) = state.last_sent_at()?.filter(|t| *t >= start) {
            return Ok(RunReport {
                already_sent: Some(last),
                ..Default::default()
            });
        }
    }
    let mut collected = collect(cfg, &state, now, !dry_run).await?;
    if !dry_run {
        // Validators, first sightings and health are worth keeping even if the send fails:
        // the items of a 304'd feed come back from the cache, so nothing is lost.
        state.record_sources(now, &std::mem::take(&mut collected.updates))?;
        state.record_redirects(now, &collected.redirects)?;
        state.record_seen_again(now, &std::mem::take(&mut collected.seen_again))?;
        let lookback =
            chrono::Duration::from_std(cfg.digest.lookback).unwrap_or(chrono::Duration::days(7));
        let pruned = state.prune(now - lookback - crate::state::KEEP_MARGIN)?;
        tracing::debug!(rows = pruned, "state pruned");
    }
    // What the mailbox readers learned is written once the run's digest is out (or there is
    // none to send): a failed send reads the same messages again, and a message's problem is
    // not forgotten before a digest has reported it.
    let learned = std::mem::take(&mut collected.learned);
    if opts.catch_up && !dry_run {
        state.remember(now, &learned)?;
        state.record_template_blocks(now, &collected.template_blocks)?;
        return catch_up(&mut state, now, &collected);
    }
    let mut digest = build(cfg, &mut collected, now, &remembered(cfg, &state, now)?);
    let mut report = RunReport {
        stories: digest.story_count(),
        source_errors: digest.errors.len(),
        ..Default::default()
    };
    // A digest with only confirmation emails is still sent: a subscription must not wait.
    if digest.is_empty() && digest.attention.is_empty() {
        if !dry_run {
            state.remember(now, &without_unusable(learned))?;
            state.record_template_blocks(now, &collected.template_blocks)?;
        }
        return Ok(report);
    }
    // Only what the mail shows is recorded below: stories the size budget left out stay
    // undelivered and come in the next digest.
    // (items, newsletter messages) of each newsletter story, before the budget cut.
    let before: Vec<(Vec<ItemKey>, Vec<String>)> = digest
        .stories()
        .filter(|s| !s.message_ids.is_empty())
        .map(|s| (s.items.clone(), s.message_ids.clone()))
        .collect();
    let (rendered, outgoing) = compose_within(cfg, &mut digest)?;
    report.stories = digest.story_count();
    // A newsletter with a story left out must be read again next time (its delivered stories
    // are skipped there by item), so it is not recorded as digested, nor moved or deleted.
    let shown: HashSet<&ItemKey> = digest.stories().flat_map(|s| s.items.iter()).collect();
    let unfinished: HashSet<&str> = before
        .iter()
        .filter(|(items, _)| !items.iter().any(|i| shown.contains(i)))
        .flat_map(|(_, ids)| ids.iter().map(String::as_str))
        .collect();
    report.message_id = Some(outgoing.message_id.clone());
    if dry_run {
        println!("Would send {}", cfg.delivery.destination());
        println!("Subject: {}", rendered.subject);
        println!();
        println!("{}", rendered.text);
        return Ok(report);
    }

    // Muted stories and repeats of stories already sent count as delivered too, so they are
    // not weighed (or counted in the footer) again.
    let items: Vec<&ItemKey> = digest
        .stories()
        .flat_map(|s| s.items.iter())
        .chain(digest.followups().flat_map(|f| f.items.iter()))
        .chain(digest.muted.iter().flat_map(|m| m.items.iter()))
        .chain(digest.repeats.iter())
        .collect();
    let messages: Vec<&str> = digest
        .stories()
        .flat_map(|s| s.message_ids.iter().map(String::as_str))
        .chain(
            digest
                .followups()
                .flat_map(|f| f.message_ids.iter().map(String::as_str)),
        )
        .filter(|m| !unfinished.contains(m))
        .chain(digest.attention.iter().map(|a| a.message_id.as_str()))
        .collect();
    let carried = imap_carried(&messages, &collected.imap_used);
    let stories: Vec<SentStory> = digest
        .stories()
        .map(SentStory::of)
        .chain(digest.followups().map(|f| SentStory {
            source: f.source.clone(),
            source_name: f.sources.first().cloned().unwrap_or_default(),
            title: f.title.clone(),
            url: f.url.clone(),
            gist: String::new(),
            published: Some(now),
        }))
        .collect();
    let delivery = Delivery {
        message_id: &outgoing.message_id,
        recipients: &cfg.delivery.to,
        items,
        messages,
        stories,
    };
    let mut pending = None;
    // The digest is recorded as pending once the server has agreed to take it, just before the
    // body goes out; confirmed when the server accepts it, removed if it refuses.
    let sent = deliver::send(&cfg.delivery, &outgoing, || {
        let id = state.record_pending(now, &delivery)?;
        pending = Some(id);
        let uids: Vec<ImapUid> = carried
            .iter()
            .flat_map(|(_, u)| u.iter().cloned())
            .collect();
        state.record_imap_digested(id, &uids)?;
        Ok::<(), StateError>(())
    })
    .await;
    match (sent, pending) {
        (Ok(()), Some(id)) => {
            crash_here_for_tests("after-send");
            state.confirm(id)?;
        }
        (Ok(()), None) => {
            unreachable!("a send cannot succeed without passing its point of no return")
        }
        (Err(e), pending) => {
            if let Some(id) = pending {
                state.discard(id)?;
            }
            return Err(e.into());
        }
    }
    report.sent = true;
    state.remember(now, &learned)?;
    state.record_template_blocks(now, &collected.template_blocks)?;
    tracing::info!(stories = report.stories, message_id = %outgoing.message_id, "digest delivered");
    after_delivery(cfg, &carried).await;
    Ok(report)
}

/// `run --catch-up`: every item and newsletter collected now is recorded as delivered in one
/// transaction, and the IMAP messages read as digested; nothing is sent, and no IMAP `after`
/// action runs (nobody has read them).
fn catch_up(state: &mut State, now: DateTime<Utc>, c: &Collected) -> Result<RunReport, RunError> {
    let message_id = format!("<catch-up.{}@tidings.invalid>", now.timestamp_micros());
    let delivery = Delivery {
        stories: Vec::new(),
        message_id: &message_id,
        recipients: &[],
        items: c.items.iter().map(|i| &i.key).collect(),
        messages: c
            .items
            .iter()
            .filter_map(|i| i.message_id.as_deref())
            .chain(c.attention.iter().map(|a| a.message_id.as_str()))
            .collect::<HashSet<&str>>()
            .into_iter()
            .collect(),
    };
    let id = state.record_caught_up(now, &delivery)?;
    let uids: Vec<ImapUid> = c
        .imap_used
        .iter()
        .flat_map(|(_, u)| u.iter().cloned())
        .collect();
    state.record_imap_digested(id, &uids)?;
    tracing::info!(
        items = c.items.len(),
        "caught up: recorded as delivered, nothing sent"
    );
    Ok(RunReport {
        caught_up: c.items.len(),
        source_errors: c.errors.len(),
        ..Default::default()
    })
}

/// Records to write when no digest goes out: all but the unusable messages, whose problem
/// no digest has reported yet (they are read, and reported, again next run).
fn without_unusable(mut learned: Vec<(SourceKey, Remembered)>) -> Vec<(SourceKey, Remembered)> {
    for (_, r) in &mut learned {
        r.add
            .retain(|e| e.outcome != crate::sources::examined::Outcome::Unusable);
    }
    learned
}

/// Crash injection for the crash-safety tests: with `TIDINGS_FAILPOINT=<name>` the process
/// aborts at that point, as abruptly as a SIGKILL (no destructors, no state commit).
fn crash_here_for_tests(name: &str) {
    if std::env::var("TIDINGS_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("failpoint `{name}`: aborting");
        std::process::abort();
    }
}

/// The IMAP messages of each mailbox (by its index in config) that the digest carries.
fn imap_carried(
    messages: &[&str],
    imap_used: &[(usize, Vec<ImapUid>)],
) -> Vec<(usize, Vec<ImapUid>)> {
    let delivered: HashSet<&str> = messages.iter().copied().collect();
    imap_used
        .iter()
        .map(|(i, used)| {
            (
                *i,
                used.iter()
                    .filter(|u| delivered.contains(u.message_id.as_str()))
                    .cloned()
                    .collect(),
            )
        })
        .collect()
}

/// After an accepted send: applies each IMAP mailbox's `after` action to the messages the
/// digest carried. A failing action is logged, not fatal: the digest is out, and the messages
/// are already recorded as digested.
async fn after_delivery(cfg: &Config, carried: &[(usize, Vec<ImapUid>)]) {
    for (i, uids) in carried {
        let Some(m) = cfg.mailboxes.get(*i) else {
            continue;
        };
        let Some(server) = m.imap() else {
            continue;
        };
        match imap::apply_after(server, uids).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(source = %m.label(), messages = n, "after-delivery action applied")
            }
            Err(e) => {
                tracing::warn!(source = %m.label(), error = %error_chain(&e), "after-delivery action failed")
            }
        }
    }
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
