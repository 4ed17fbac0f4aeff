//! The run, stage by stage: collect → group → render → deliver → record.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};

use crate::config::{Config, FeedConfig, FeedLocation};
use crate::deliver::{self, DeliverError, Outgoing};
use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::model::{Digest, Item, ItemKey, SourceError, SourceKey};
use crate::render::{RenderError, Rendered, Renderer};
use crate::sources::feed::{self, FeedContext};
use crate::sources::http::{Fetched, Fetcher, Validators};
use crate::sources::maildir;
use crate::state::{Delivery, SourceUpdate, State, StateError};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Deliver(#[from] DeliverError),
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the HTTP client: {0}")]
    Http(String),
}

/// Everything the sources yielded this run.
pub struct Collected {
    /// New items only: not delivered before, not older than the lookback cut-off.
    pub items: Vec<Item>,
    pub errors: Vec<SourceError>,
    pub updates: Vec<SourceUpdate>,
}

/// What a run did, for the exit code and the final report.
#[derive(Debug, Default)]
pub struct RunReport {
    pub stories: usize,
    pub source_errors: usize,
    pub sent: bool,
    pub message_id: Option<String>,
}

struct Tools {
    cleaner: Cleaner,
    sanitizer: Sanitizer,
}

/// Reads every source concurrently and keeps the items not delivered before.
pub async fn collect(
    cfg: &Config,
    state: &State,
    now: DateTime<Utc>,
) -> Result<Collected, RunError> {
    let cleaner = Cleaner::new(&cfg.links);
    let tools = Arc::new(Tools {
        sanitizer: Sanitizer::new(&cleaner),
        cleaner,
    });
    let fetcher = Fetcher::new(&cfg.fetch).map_err(|e| RunError::Http(e.to_string()))?;

    let mut cached = Vec::with_capacity(cfg.feeds.len());
    for f in &cfg.feeds {
        cached.push(state.cached_feed(&feed_key(f))?);
    }
    let feeds = stream::iter(cfg.feeds.iter().zip(cached))
        .map(|(f, cache)| read_feed(f, cache, &fetcher, &tools))
        .buffer_unordered(fetcher.concurrency())
        .collect::<Vec<_>>();

    let digested = Arc::new(state.digested_messages()?);
    let mailboxes = cfg.mailboxes.iter().cloned().map(|m| {
        let (tools, digested) = (tools.clone(), digested.clone());
        async move {
            let key = maildir::source_key(&m);
            let label = m
                .name
                .clone()
                .unwrap_or_else(|| m.path.display().to_string());
            let res = tokio::task::spawn_blocking(move || {
                maildir::read(&m, &digested, &tools.cleaner, &tools.sanitizer)
            })
            .await;
            match res {
                Ok(Ok(read)) => SourceResult {
                    key,
                    label,
                    items: read.items,
                    error: None,
                    warnings: read.warnings,
                    fetched: None,
                },
                Ok(Err(e)) => SourceResult::failed(key, label, format!("cannot read mailbox: {e}")),
                Err(e) => SourceResult::failed(key, label, format!("mailbox reader crashed: {e}")),
            }
        }
    });
    let (feed_results, mailbox_results) =
        tokio::join!(feeds, futures_util::future::join_all(mailboxes));

    let delivered = state.delivered_items()?;
    let lookback =
        chrono::Duration::from_std(cfg.digest.lookback).unwrap_or(chrono::Duration::days(7));
    let mut out = Collected {
        items: Vec::new(),
        errors: Vec::new(),
        updates: Vec::new(),
    };
    // Results are re-ordered as in config so the digest does not depend on network timing.
    let mut results: Vec<SourceResult> = feed_results;
    results.sort_by_key(|r| cfg.feeds.iter().position(|f| feed_key(f) == r.key));
    results.extend(mailbox_results);
    for r in results {
        // The cut-off is fixed at the source's first sighting, so items that were too old on
        // the first run do not turn up on the second.
        let cutoff = state.first_seen(&r.key)?.unwrap_or(now) - lookback;
        if let Some(e) = &r.error {
            tracing::warn!(source = %r.label, error = %e, "source failed");
            out.errors.push(SourceError {
                source: r.label.clone(),
                message: e.clone(),
            });
        }
        for w in &r.warnings {
            tracing::warn!(source = %r.label, warning = %w, "message skipped");
            out.errors.push(SourceError {
                source: r.label.clone(),
                message: w.clone(),
            });
        }
        let mut seen: HashSet<ItemKey> = HashSet::new();
        for item in &r.items {
            let too_old = item.published.is_some_and(|p| p < cutoff);
            if !too_old && !delivered.contains(&item.key) && seen.insert(item.key.clone()) {
                out.items.push(item.clone());
            }
        }
        out.updates.push(SourceUpdate {
            key: r.key,
            error: r.error,
            fetched: r.fetched,
        });
    }
    tracing::info!(
        items = out.items.len(),
        errors = out.errors.len(),
        "sources read"
    );
    Ok(out)
}

struct SourceResult {
    key: SourceKey,
    label: String,
    items: Vec<Item>,
    error: Option<String>,
    warnings: Vec<String>,
    fetched: Option<(Validators, Vec<Item>)>,
}

impl SourceResult {
    fn failed(key: SourceKey, label: String, error: String) -> SourceResult {
        SourceResult {
            key,
            label,
            items: Vec::new(),
            error: Some(error),
            warnings: Vec::new(),
            fetched: None,
        }
    }
}

pub fn feed_key(f: &FeedConfig) -> SourceKey {
    SourceKey(format!("feed:{}", f.location))
}

async fn read_feed(
    f: &FeedConfig,
    cache: crate::state::CachedFeed,
    fetcher: &Fetcher,
    tools: &Tools,
) -> SourceResult {
    let key = feed_key(f);
    let label = f.name.clone().unwrap_or_else(|| f.location.to_string());
    let bytes = match &f.location {
        FeedLocation::Url(u) => match fetcher.fetch(u, &cache.validators).await {
            Ok(Fetched::NotModified) => {
                tracing::debug!(source = %label, "not modified");
                return SourceResult {
                    key,
                    label,
                    items: cache.items,
                    error: None,
                    warnings: Vec::new(),
                    fetched: None,
                };
            }
            Ok(Fetched::Body { bytes, validators }) => (bytes, validators),
            Err(e) => return SourceResult::failed(key, label, e.to_string()),
        },
        FeedLocation::File(p) => match read_capped(p, fetcher.max_bytes()) {
            Ok(b) => (b, Validators::default()),
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
    };
    match feed::parse(&bytes.0, &ctx) {
        Ok(parsed) => {
            let label = f.name.clone().or(parsed.title).unwrap_or(label);
            let fetched = Some((bytes.1, parsed.items.clone()));
            SourceResult {
                key,
                label,
                items: parsed.items,
                error: None,
                warnings: Vec::new(),
                fetched,
            }
        }
        Err(e) => SourceResult::failed(key, label, e.to_string()),
    }
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
pub fn build(cfg: &Config, collected: &Collected, now: DateTime<Utc>) -> Digest {
    let grouped =
        crate::group::group_with(&collected.items, &cfg.topics, &cfg.filters, &cfg.grouping);
    Digest {
        title: cfg.digest.title.clone(),
        generated_at: now,
        groups: grouped.groups,
        errors: collected.errors.clone(),
        muted: grouped.muted,
        explain: None,
    }
}

/// The digest rendered and wrapped as the message `run` would send.
pub fn compose(cfg: &Config, digest: &Digest) -> Result<(Rendered, Outgoing), RunError> {
    let rendered = Renderer::new(cfg.digest.templates_dir.as_deref())?.render(digest)?;
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
    let collected = collect(cfg, &state, now).await?;
    let mut digest = build(cfg, &collected, now);
    if explain {
        digest.explain = Some(digest.explain());
    }
    let (rendered, outgoing) = compose(cfg, &digest)?;
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
    })
}

/// `run`: builds, sends, and records what was sent. With `dry_run`, prints instead and
/// changes nothing.
pub async fn run(cfg: &Config, dry_run: bool) -> Result<RunReport, RunError> {
    let now = Utc::now();
    let mut state = if dry_run {
        State::open_read_only(&cfg.state_path)?
    } else {
        State::open(&cfg.state_path)?
    };
    let collected = collect(cfg, &state, now).await?;
    if !dry_run {
        // Validators, first sightings and health are worth keeping even if the send fails:
        // the items of a 304'd feed come back from the cache, so nothing is lost.
        state.record_sources(now, &collected.updates)?;
    }
    let digest = build(cfg, &collected, now);
    let mut report = RunReport {
        stories: digest.story_count(),
        source_errors: digest.errors.len(),
        ..Default::default()
    };
    if digest.is_empty() {
        return Ok(report);
    }
    let (rendered, outgoing) = compose(cfg, &digest)?;
    report.message_id = Some(outgoing.message_id.clone());
    if dry_run {
        println!("Would send to: {}", cfg.delivery.to.join(", "));
        println!("Subject: {}", rendered.subject);
        println!();
        println!("{}", rendered.text);
        return Ok(report);
    }
    deliver::send(&cfg.delivery, &outgoing).await?;
    // Only now, after the server accepted the message, is anything marked delivered.
    // Muted stories count as delivered too, so the footer does not count them again.
    let items: Vec<&ItemKey> = digest
        .stories()
        .flat_map(|s| s.items.iter())
        .chain(digest.muted.iter().flat_map(|m| m.items.iter()))
        .collect();
    let messages: Vec<&str> = digest
        .stories()
        .flat_map(|s| s.message_ids.iter().map(String::as_str))
        .collect();
    state.record_delivery(
        now,
        &Delivery {
            message_id: &outgoing.message_id,
            recipients: &cfg.delivery.to,
            items,
            messages,
        },
    )?;
    report.sent = true;
    tracing::info!(stories = report.stories, message_id = %outgoing.message_id, "digest delivered");
    Ok(report)
}
