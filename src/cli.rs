//! The command line (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tidings",
    version,
    about = "The newsletters and feeds you follow, as one clean email digest"
)]
pub struct Cli {
    /// Config file [default: $TIDINGS_CONFIG, then $XDG_CONFIG_HOME/tidings/config.toml]
    #[arg(short, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the digest and write it to a folder; sends nothing and changes no state.
    Preview {
        /// Folder for digest.html, digest.txt, digest.eml and digest.json.
        #[arg(long, value_name = "DIR", default_value = "preview")]
        out: PathBuf,
        /// Add an "explain" section to digest.json: which reports merged and at what
        /// similarity, which keyword, hint or centroid placed each story, which filter muted
        /// what.
        #[arg(long)]
        explain: bool,
    },
    /// Build the digest, send it, and record what was sent (what cron runs).
    Run {
        /// Print what would be sent instead; changes nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Validate the config and report problems.
    Check,
    /// Print each URL with its tracking removed; reads lines from stdin when no URL is given.
    CleanUrl {
        /// Also say which rule removed each parameter (on stderr).
        #[arg(long)]
        explain: bool,
        urls: Vec<String>,
    },
}
