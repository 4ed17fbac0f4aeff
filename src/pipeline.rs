//! The run, stage by stage: collect → group → render → deliver → record.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedLocation};
use crate::deliver::{self, DeliverError, Outgoing};
use crate::group::{RankSettings, SentStory, SourcePolicy};
use crate::model::{Digest, ItemKey, SourceKey};
use crate::render::{RenderError, Rendered, Renderer};
use crate::sources::collect::{collect, CollectError, Collected};
use crate::sources::examined::Remembered;
use crate::sources::http::error_chain;
use crate::sources::imap;
use crate::state::{Delivery, ImapUid, State, StateError};

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
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
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
    /// `run --dry-run`: the digest that would have been sent, for the command line to show.
    pub would_send: Option<WouldSend>,
}

/// The digest a dry run would have sent.
#[derive(Debug)]
pub struct WouldSend {
    /// Where it would have gone (`cfg.delivery.destination()`).
    pub to: String,
    pub subject: String,
    pub text: String,
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
        (f.key(), f.name.clone(), f.priority, f.max_stories, site)
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
/// With `explain` (`--explain`), `digest.json` gains an `"explain"` section saying why each
/// story sits where it is (merges, topic evidence, filters).
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
        report.would_send = Some(WouldSend {
            to: cfg.delivery.destination(),
            subject: rendered.subject,
            text: rendered.text,
        });
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
        imap: carried
            .iter()
            .flat_map(|(_, u)| u.iter().cloned())
            .collect(),
    };
    let mut pending = None;
    // The digest is recorded as pending once the server has agreed to take it, just before the
    // body goes out; confirmed when the server accepts it, removed if it refuses.
    let sent = deliver::send(&cfg.delivery, &outgoing, || {
        pending = Some(state.record_pending(now, &delivery)?);
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
        imap: c
            .imap_used
            .iter()
            .flat_map(|(_, u)| u.iter().cloned())
            .collect(),
    };
    state.record_caught_up(now, &delivery)?;
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
