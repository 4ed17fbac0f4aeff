//! The `tidings` binary: parse the command line, set up logging, run, map the outcome to an
//! exit code. All the work lives in the library.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tidings::config::{self, Config};
use tidings::links::Cleaner;
use tidings::pipeline::{self, RunReport};

mod cli;
use cli::{Cli, Command};

/// Exit codes, documented in the README.
const EXIT_OK: u8 = 0;
const EXIT_FATAL: u8 = 1;
const EXIT_SOURCES_FAILED: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match real_main(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(EXIT_FATAL)
        }
    }
}

fn init_logging(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn load(cli: &Cli) -> anyhow::Result<Config> {
    let path = config::locate(cli.config.as_deref())?;
    Ok(Config::load(&path)?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn exit_for(report: &RunReport) -> u8 {
    if report.source_errors > 0 {
        EXIT_SOURCES_FAILED
    } else {
        EXIT_OK
    }
}

fn real_main(cli: Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Preview { out, explain } => {
            let cfg = load(&cli)?;
            let report = runtime()?.block_on(pipeline::preview_explained(&cfg, out, *explain))?;
            if !cli.quiet {
                eprintln!(
                    "preview: {} stories, {} source problems, written to {}",
                    report.stories,
                    report.source_errors,
                    out.display()
                );
            }
            Ok(exit_for(&report))
        }
        Command::Run { dry_run } => {
            let cfg = load(&cli)?;
            let report = runtime()?.block_on(pipeline::run(&cfg, *dry_run))?;
            if report.stories == 0 && !cli.quiet {
                eprintln!("nothing new: no digest sent");
            } else if report.sent && !cli.quiet {
                eprintln!(
                    "sent: {} stories to {}",
                    report.stories,
                    cfg.delivery.to.join(", ")
                );
            }
            Ok(exit_for(&report))
        }
        Command::Check => {
            let cfg = load(&cli)?;
            check(&cfg)?;
            Ok(EXIT_OK)
        }
        Command::CleanUrl { explain, urls } => {
            // The config's [links] rules apply when there is a config; without one, the built-ins.
            let cleaner = match config::locate(cli.config.as_deref()) {
                Ok(path) => Cleaner::new(&Config::load(&path)?.links),
                Err(_) => Cleaner::default(),
            };
            let print = |u: &str| {
                let (out, why) = cleaner.clean_explained(u.trim());
                println!("{out}");
                if *explain {
                    for r in why {
                        eprintln!("  removed `{}`: {}", r.param, r.rule);
                    }
                }
            };
            if urls.is_empty() {
                for line in std::io::stdin().lock().lines() {
                    let line = line.context("cannot read stdin")?;
                    if !line.trim().is_empty() {
                        print(&line);
                    }
                }
            } else {
                urls.iter().for_each(|u| print(u));
            }
            Ok(EXIT_OK)
        }
    }
}

/// Offline checks beyond parsing: templates compile and render, the SMTP secret is there.
fn check(cfg: &Config) -> anyhow::Result<()> {
    let renderer = tidings::render::Renderer::new(cfg.digest.templates_dir.as_deref())?;
    let empty = tidings::model::Digest {
        title: cfg.digest.title.clone(),
        generated_at: chrono::Utc::now(),
        groups: vec![],
        errors: vec![],
        muted: vec![],
        explain: None,
    };
    renderer.render(&empty).context("templates do not render")?;
    if let config::Transport::Smtp(smtp) = &cfg.delivery.transport {
        if let (Some(_), Some(secret)) = (&smtp.username, &smtp.password) {
            secret
                .read()
                .map_err(|e| anyhow::anyhow!("SMTP password: {e}"))?;
        }
    }
    println!(
        "{}: OK ({} feeds, {} mailboxes, {} topics; digest to {})",
        cfg.path.display(),
        cfg.feeds.len(),
        cfg.mailboxes.len(),
        cfg.topics.len(),
        cfg.delivery.to.join(", ")
    );
    Ok(())
}
