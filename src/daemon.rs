//! `tidings daemon`: run on the config's schedule until told to stop.
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
    loop {
        let schedule = cfg.digest.schedule.clone().ok_or(DaemonError::NoSchedule)?;
        let Some(next) = schedule.next_after(Utc::now(), cfg.digest.timezone) else {
            tracing::error!("the schedule never fires again; stopping");
            return Ok(());
        };
        tracing::info!(next = %next.with_timezone(&cfg.digest.timezone), "waiting for the next run");
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
        let run = pipeline::run(&cfg, RunOptions::default());
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
