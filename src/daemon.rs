//! `tidings daemon`: run on the config's schedule until told to stop; with `[[digests]]`, each
//! digest on its own schedule (a digest without one is left to `run`).
//!
//! The config is read again before every run, so edits take effect without a restart (a config
//! that no longer loads is reported and the previous one kept). SIGTERM or Ctrl-C while waiting
//! stops at once; during a run, the run finishes first.

use std::path::Path;

use chrono::Utc;
use tokio::signal::unix::{signal, SignalKind};

use crate::config::Config;
use crate::pipeline::{self, RunOptions};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("`[digest] schedule` is not set: the daemon needs it to know when to run")]
    NoSchedule,
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
}

pub async fn daemon(config_path: &Path) -> Result<(), DaemonError> {
    let mut cfg = Config::load(config_path)?;
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    // When each digest last fired (from the start, for those that have not): the next time
    // of each is after that, so two digests due at the same minute both run, one after the
    // other, however long the first takes.
    let started = Utc::now();
    let mut fired: std::collections::HashMap<Option<String>, chrono::DateTime<Utc>> =
        Default::default();
    loop {
        let digests = cfg.select(None).unwrap_or_default();
        if digests.iter().all(|d| d.digest.schedule.is_none()) {
            return Err(DaemonError::NoSchedule);
        }
        // The digest due first; ties go to the one listed first.
        let Some((next, due)) = digests
            .iter()
            .filter_map(|d| {
                let s = d.digest.schedule.as_ref()?;
                let after = fired.get(&d.digest.name).copied().unwrap_or(started);
                let mut at = s.next_after(after, d.digest.timezone)?;
                // Times missed by more than a minute (a run that took hours) are not made up.
                let now = Utc::now();
                if at < now - chrono::Duration::minutes(1) {
                    at = s.next_after(now, d.digest.timezone)?;
                }
                Some((at, d.digest.name.clone()))
            })
            .min_by_key(|(t, _)| *t)
        else {
            tracing::error!("no schedule fires again; stopping");
            return Ok(());
        };
        tracing::info!(next = %next.with_timezone(&cfg.digest.timezone), digest = due.as_deref().unwrap_or("-"), "waiting for the next run");
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); return Ok(()); }
            _ = int.recv() => { tracing::info!("interrupted: stopping"); return Ok(()); }
        }
        match Config::load(config_path) {
            Ok(fresh) => cfg = fresh,
            Err(e) => {
                tracing::error!(error = %e, "the config no longer loads; running with the previous one")
            }
        }
        fired.insert(due.clone(), next);
        // The digest due, as the config now says (it may have been edited meanwhile).
        let Some(current) = cfg
            .select(due.as_deref())
            .ok()
            .and_then(|mut v| (!v.is_empty()).then(|| v.remove(0)))
        else {
            tracing::warn!(
                digest = due.as_deref().unwrap_or("-"),
                "the digest is no longer in the config; skipping"
            );
            continue;
        };
        let run = pipeline::run(&current, RunOptions::default());
        tokio::pin!(run);
        let mut stop_after = false;
        let result = loop {
            tokio::select! {
                r = &mut run => break r,
                _ = term.recv() => { tracing::info!("SIGTERM: stopping after the run in progress"); stop_after = true; }
                _ = int.recv() => { tracing::info!("interrupted: stopping after the run in progress"); stop_after = true; }
            }
        };
        match result {
            Ok(r) if r.sent => tracing::info!(
                stories = r.stories,
                source_errors = r.source_errors,
                "run finished: digest sent"
            ),
            Ok(r) if r.already_sent.is_some() => {
                tracing::info!("run finished: a digest already went out this period")
            }
            Ok(r) => tracing::info!(source_errors = r.source_errors, "run finished: nothing new"),
            // A failed run is logged and retried at the next scheduled time; nothing was lost.
            Err(e) => tracing::error!(error = %crate::sources::http::error_chain(&e), "run failed"),
        }
        if stop_after {
            return Ok(());
        }
    }
}
