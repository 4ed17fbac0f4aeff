//! The command line (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Shown by `--help` and as the man page's closing section.
const AFTER_HELP: &str = "\
Start with `tidings init`, then `tidings preview --open`; cron or a systemd timer runs \
`tidings run`. Every key of the config is documented in config.example.toml (installed \
under /usr/share/doc/tidings/).

Exit status: 0 done (a digest was delivered, or there was nothing new); 1 fatal (bad config, \
unusable state, delivery failed: nothing is marked sent); 2 done, but some sources failed; \
3 another run holds the state database.";

#[derive(Debug, Parser)]
#[command(
    name = "tidings",
    version,
    about = "The newsletters and feeds you follow, as one clean email digest",
    after_long_help = AFTER_HELP
)]
pub(crate) struct Cli {
    /// Config file [default: $TIDINGS_CONFIG, then $XDG_CONFIG_HOME/tidings/config.toml]
    #[arg(short, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// How log lines look on stderr [default: plain, or full with -v]. Colour only when stderr
    /// is a terminal and NO_COLOR is unset.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One line per problem: `warning: Example: source failed: cannot resolve example.org`.
    Plain,
    /// tracing's own lines: time, level and every field.
    Full,
    /// One JSON object per event, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write a commented starter config (mode 0600) where `run` will find it, or to PATH;
    /// never overwrites one.
    Init {
        /// Where to write it [default: -c FILE, $TIDINGS_CONFIG, else
        /// $XDG_CONFIG_HOME/tidings/config.toml]
        path: Option<PathBuf>,
        /// Take the feeds from this OPML file (another reader's export) instead of the sample.
        #[arg(long, value_name = "FILE")]
        from_opml: Option<PathBuf>,
    },
    /// Build the digest and write it to a folder; sends nothing and changes no state.
    Preview {
        /// Folder for digest.html, digest.txt, digest.eml and digest.json.
        #[arg(long, value_name = "DIR", default_value = "preview")]
        out: PathBuf,
        /// Add an "explain" section to digest.json: which reports merged and at what
        /// similarity, which keyword, hint, feed category or model placed each story, which filter muted
        /// what.
        #[arg(long)]
        explain: bool,
        /// Open digest.html in the desktop's browser (xdg-open / open); failure is a warning.
        #[arg(long)]
        open: bool,
        /// Serve the preview on ADDR (default 127.0.0.1:8025): / (HTML), /text, /eml, /json;
        /// rebuilt when the config or a template changes. Runs until interrupted. Only for
        /// this machine: a loopback address, and requests whose Host is that address,
        /// localhost or 127.0.0.1 (other pages cannot read the digest by DNS rebinding).
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = tidings::preview::DEFAULT_ADDR)]
        serve: Option<String>,
        /// Let --serve listen on a non-loopback address and answer any Host: everyone who
        /// can reach it can read your digest.
        #[arg(long, requires = "serve")]
        serve_to_network: bool,
        /// With [[digests]]: the digest to preview (needed when there are several).
        #[arg(long, value_name = "NAME")]
        digest: Option<String>,
    },
    /// Build the digest, send it, and record what was sent (what cron runs).
    Run {
        /// Print what would be sent instead; changes nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send even if a digest already went out in this `[digest] period`.
        #[arg(long)]
        force: bool,
        /// Send nothing; record everything available now as delivered, so the next digest
        /// has only what is new (for a first run, instead of the whole lookback).
        #[arg(long, conflicts_with = "force")]
        catch_up: bool,
        /// With [[digests]]: run only this one [default: every digest, one after another].
        #[arg(long, value_name = "NAME")]
        digest: Option<String>,
    },
    /// Stay in the foreground and run on `[digest] schedule` (for containers and hosts
    /// without cron). SIGTERM or Ctrl-C stops it, after a run in progress has finished.
    Daemon,
    /// Validate the config, then check live that every feed, mailbox and the SMTP server
    /// answers (logs in, sends nothing) and the templates render.
    Check {
        /// Skip the checks that touch the network or mail servers.
        #[arg(long)]
        offline: bool,
    },
    /// How every source has been doing: last success, failures in a row, latency.
    Sources {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Print each URL with its tracking removed; reads lines from stdin when no URL is given.
    CleanUrl {
        /// Also say which rule removed each parameter (on stderr).
        #[arg(long)]
        explain: bool,
        urls: Vec<String>,
    },
    /// List, add or remove feeds in the config file (comments and layout are kept).
    Feeds {
        #[command(subcommand)]
        action: FeedsCommand,
    },
    /// List, add or remove the digest's recipients (`delivery.to`).
    Recipients {
        #[command(subcommand)]
        action: RecipientsCommand,
    },
    /// List or add topics.
    Topics {
        #[command(subcommand)]
        action: TopicsCommand,
    },
    /// Add the feeds of an OPML file (from another reader) that the config does not have yet.
    ImportOpml {
        /// The OPML file; each feed's category becomes its topic.
        file: PathBuf,
    },
    /// Write the config's feeds as OPML, for another reader.
    ExportOpml {
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the shell completion script for SHELL, e.g.
    /// `tidings completions bash > ~/.local/share/bash-completion/completions/tidings`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `tidings man | man -l -`, or write it and one page per
    /// subcommand (tidings-run.1, …) into DIR.
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum FeedsCommand {
    /// Fetch URL, make sure it is a feed (or find the feed an HTML page names), and add it.
    Add {
        /// The feed, or a site whose page links to its feed (`https://` may be left out).
        url: String,
        /// Name shown in the digest [default: the feed's own title].
        #[arg(long)]
        name: Option<String>,
        /// Topic hint for items no keyword places.
        #[arg(long)]
        topic: Option<String>,
        /// Count what the feed lists now as delivered: the next digest has only its new items.
        #[arg(long)]
        only_new: bool,
    },
    /// Remove the feed with this name or URL.
    Remove {
        #[arg(value_name = "NAME|URL")]
        feed: String,
    },
    /// Print each feed: name, URL, topic.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecipientsCommand {
    /// Add an address ("a@example.org" or "Name <a@example.org>").
    Add { address: String },
    /// Remove an address.
    Remove { address: String },
    /// Print the recipients, one per line.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TopicsCommand {
    /// Add a topic after the others.
    Add {
        name: String,
        /// Words that place a story in this topic, comma-separated.
        #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
        keywords: Vec<String>,
    },
    /// Print each topic with its keywords.
    List,
}
