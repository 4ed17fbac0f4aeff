//! The `tidings` binary: parse the command line, set up logging, run, map the outcome to an
//! exit code. All the work lives in the library.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use tidings::config::{self, Config};
use tidings::edit::{self, ConfigFile};
use tidings::links::Cleaner;
use tidings::opml;
use tidings::pipeline::{self, RunReport};

mod cli;
mod logging;
use cli::{Cli, Command};

/// How tidings exits (README, "Exit codes"). Several digests' runs exit with the highest code
/// of theirs (only `Ok` and `SourcesFailed` come from a run that finished).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Exit {
    /// Done: a digest was delivered, or there was nothing new.
    Ok = 0,
    /// Bad config, unusable state, a delivery that failed (nothing marked sent), or a URL
    /// `clean-url` could not clean.
    Fatal = 1,
    /// Done, but some sources failed (named in the digest and on stderr).
    SourcesFailed = 2,
    /// Another run holds the state database; this one did nothing.
    Locked = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// glibc gives each thread that allocates under contention an arena of its own, up to eight
/// per CPU, and keeps what is freed there for that arena. The feed parsers run on whichever
/// thread tokio hands them (`block_in_place` moves work to fresh threads), so a run ended up
/// holding a dozen part-empty arenas: on the bench corpus (500 feeds, 200 newsletters) the
/// peak was 108 MB with the default and 92–96 MB with one arena per CPU, no slower (mimalloc,
/// tried instead, peaked at 215–265 MB). `MALLOC_ARENA_MAX` in the environment still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(
    unsafe_code,
    reason = "the crate's only unsafe: one FFI call to glibc's mallopt"
)]
fn bound_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let cpus = libc::c_int::try_from(cpus).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a tuning parameter of the allocator, and this runs first
        // in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cpus);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_malloc_arenas() {}

fn main() -> ExitCode {
    bound_malloc_arenas();
    let cli = Cli::parse();
    logging::init(&cli);
    if !cli.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        tidings::progress::enable();
    }
    match real_main(cli) {
        Ok(code) => code.into(),
        Err(e)
            if matches!(
                e.downcast_ref::<pipeline::RunError>(),
                Some(pipeline::RunError::Lock(
                    tidings::lock::LockError::Busy { .. }
                ))
            ) =>
        {
            eprintln!("{e}");
            Exit::Locked.into()
        }
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            Exit::Fatal.into()
        }
    }
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

/// What one digest's run did, on stderr.
fn report_run(cli: &Cli, cfg: &Config, report: &RunReport, caught_up: bool, label: &str) {
    // What a dry run would send is the output asked for, quiet or not.
    if let Some(w) = &report.would_send {
        println!("Would send {}", w.to);
        println!("Subject: {}", w.subject);
        println!();
        println!("{}", w.text);
    }
    if cli.quiet {
        return;
    }
    if caught_up {
        eprintln!(
            "{label}caught up: {} items recorded as delivered, nothing sent; the next run sends only what is new",
            report.caught_up
        );
    } else if let Some(when) = report.already_sent {
        eprintln!(
            "{label}a digest already went out this period (at {}); nothing sent — use --force to send anyway",
            when.with_timezone(&cfg.digest.timezone)
                .format("%Y-%m-%d %H:%M %Z")
        );
    } else if report.stories == 0 {
        eprintln!("{label}nothing new: no digest sent");
    } else if report.sent {
        eprintln!(
            "{label}sent: {} stories {}",
            report.stories,
            cfg.delivery.destination()
        );
    }
}

/// The one digest `preview` shows: the config itself, or the `[[digests]]` entry named.
fn one_digest(cfg: Config, name: Option<&str>) -> anyhow::Result<Config> {
    let mut picked = cfg.select(name).map_err(anyhow::Error::msg)?;
    if picked.len() > 1 {
        let names: Vec<String> = picked
            .iter()
            .filter_map(|d| d.digest.name.clone())
            .collect();
        anyhow::bail!(
            "the config has several digests ({}): pick one with --digest NAME",
            names.join(", ")
        );
    }
    Ok(picked.remove(0))
}

fn exit_for(report: &RunReport) -> Exit {
    if report.source_errors > 0 {
        Exit::SourcesFailed
    } else {
        Exit::Ok
    }
}

fn real_main(cli: Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Init { path, from_opml } => {
            let path = path
                .clone()
                .or_else(|| cli.config.clone())
                .unwrap_or_else(config::default_path);
            let written = tidings::init::init(&path, from_opml.as_deref())?;
            for (url, why) in &written.feeds_skipped {
                eprintln!("skipped {url}: {why}");
            }
            let shown = written.path.display();
            let c = if cli.config.is_some() || path != config::default_path() {
                format!(" -c {shown}")
            } else {
                String::new()
            };
            println!(
                "wrote {shown}{}",
                if from_opml.is_some() {
                    format!(" with {} feeds", written.feeds_added)
                } else {
                    String::new()
                }
            );
            println!("next:");
            println!("  1. edit it: [delivery] from and to, [smtp], your feeds and mailboxes");
            println!("  2. tidings{c} check              # is every source and the SMTP server reachable?");
            println!("  3. tidings{c} preview --open     # the digest as it would go out, in your browser");
            // cron's PATH rarely has ~/.cargo/bin: the line names this binary by its path.
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "tidings".into());
            println!("  then, for a daily digest at 7:00, a crontab line (crontab -e):");
            println!("     0 7 * * * {exe}{c} run");
            Ok(Exit::Ok)
        }
        Command::Preview {
            out,
            explain,
            open,
            serve,
            serve_to_network,
            digest,
        } => {
            let cfg = one_digest(load(&cli)?, digest.as_deref())?;
            let rt = runtime()?;
            let report = rt.block_on(pipeline::preview_explained(&cfg, out, *explain))?;
            if !cli.quiet {
                eprintln!(
                    "preview: {} stories, {} source problems, written to {}",
                    report.stories,
                    report.source_errors,
                    out.display()
                );
            }
            if *open {
                tidings::preview::open(&out.join("digest.html"));
            }
            if let Some(addr) = serve {
                let listener = std::net::TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on `{addr}`"))?;
                let local = listener.local_addr()?;
                if !local.ip().is_loopback() {
                    if !serve_to_network {
                        anyhow::bail!(
                            "`{addr}` is not a loopback address: anyone on the network could read your digest; add --serve-to-network if that is what you want"
                        );
                    }
                    tracing::warn!(address = %local, "the preview is served to the network: anyone who can reach it can read your digest");
                }
                let mut watched = vec![config::locate(cli.config.as_deref())?];
                watched.extend(cfg.digest.templates_dir.clone());
                eprintln!(
                    "serving the preview on http://{}/ (/text, /eml, /json); Ctrl-C stops",
                    listener.local_addr()?
                );
                let mut rebuild = || -> Result<(), String> {
                    let cfg = load(&cli)
                        .and_then(|c| one_digest(c, digest.as_deref()))
                        .map_err(|e| format!("{e:#}"))?;
                    rt.block_on(pipeline::preview_explained(&cfg, out, *explain))
                        .map(|_| ())
                        .map_err(|e| tidings::sources::http::error_chain(&e))
                };
                tidings::preview::serve(listener, out, &watched, *serve_to_network, &mut rebuild)?;
            }
            Ok(exit_for(&report))
        }
        Command::Run {
            dry_run,
            force,
            catch_up,
            digest,
        } => {
            let all = load(&cli)?;
            let digests = all.select(digest.as_deref()).map_err(anyhow::Error::msg)?;
            let opts = pipeline::RunOptions {
                dry_run: *dry_run,
                force: *force,
                catch_up: *catch_up,
            };
            let rt = runtime()?;
            let mut code = Exit::Ok;
            // Several digests run one after another; one that fails does not stop the others.
            let mut failed = None;
            for cfg in &digests {
                let label = cfg
                    .digest
                    .name
                    .as_deref()
                    .map(|n| format!("{n}: "))
                    .unwrap_or_default();
                let report = match rt.block_on(pipeline::run(cfg, opts)) {
                    Ok(r) => r,
                    Err(e) if digests.len() > 1 => {
                        eprintln!("{label}error: {}", tidings::sources::http::error_chain(&e));
                        failed = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                report_run(&cli, cfg, &report, *catch_up && !*dry_run, &label);
                code = code.max(exit_for(&report));
            }
            match failed {
                Some(e) => Err(anyhow::Error::new(e).context("a digest failed; the others ran")),
                None => Ok(code),
            }
        }
        Command::Daemon => {
            let path = config::locate(cli.config.as_deref())?;
            runtime()?.block_on(tidings::daemon::daemon(&path))?;
            Ok(Exit::Ok)
        }
        Command::Check { offline } => {
            let cfg = load(&cli)?;
            let rt = runtime()?;
            let mut findings = rt.block_on(tidings::check::run(&cfg, !*offline));
            println!(
                "{}: config OK ({} feeds, {} mailboxes, {} topics; digest {})",
                cfg.path.display(),
                cfg.feeds.len(),
                cfg.mailboxes.len(),
                cfg.topics.len(),
                cfg.delivery.destination()
            );
            for f in &findings {
                println!("{f}");
            }
            // Each of several digests: what it takes, and its own templates and schedule
            // (sources and servers were checked above, once).
            for d in &cfg.digests {
                let name = d.digest.name.as_deref().unwrap_or_default();
                println!(
                    "digest {name}: {} feeds, {} mailboxes, {} topics; {}",
                    d.feeds.len(),
                    d.mailboxes.len(),
                    d.topics.len(),
                    d.delivery.destination()
                );
                for mut f in rt.block_on(tidings::check::run(d, false)) {
                    if f.what.starts_with("templates") || f.what.starts_with("schedule") {
                        f.what = format!("{name}: {}", f.what);
                        println!("{f}");
                        findings.push(f);
                    }
                }
            }
            let failed = findings.iter().filter(|f| f.problem.is_some()).count();
            if failed > 0 {
                anyhow::bail!("{failed} of {} checks failed", findings.len());
            }
            Ok(Exit::Ok)
        }
        Command::Sources { json } => {
            let cfg = load(&cli)?;
            // With [[digests]], each digest's sources as its own state file has them.
            let mut by_digest = serde_json::Map::new();
            for d in cfg.select(None).map_err(anyhow::Error::msg)? {
                let state = tidings::state::State::open_read_only(&d.state_path)?;
                let rows = tidings::health::report(&d, &state, chrono::Utc::now())?;
                match (&d.digest.name, *json) {
                    (None, true) => println!("{}", serde_json::to_string_pretty(&rows)?),
                    (None, false) => print!("{}", tidings::health::table(&rows)),
                    (Some(name), true) => {
                        by_digest.insert(name.clone(), serde_json::to_value(&rows)?);
                    }
                    (Some(name), false) => {
                        println!("digest {name}:");
                        print!("{}", tidings::health::table(&rows));
                        println!();
                    }
                }
            }
            if !by_digest.is_empty() {
                println!("{}", serde_json::to_string_pretty(&by_digest)?);
            }
            Ok(Exit::Ok)
        }
        Command::CleanUrl { explain, urls } => {
            // The config's [links] rules apply when there is a config; without one, the built-ins.
            let cleaner = match config::locate(cli.config.as_deref()) {
                Ok(path) => Cleaner::new(&Config::load(&path)?.links),
                Err(_) => Cleaner::default(),
            };
            let mut still_tracking = 0usize;
            let mut stdout = std::io::stdout().lock();
            let mut print = |u: &str| -> std::io::Result<()> {
                let (out, why) = cleaner.clean_explained(u.trim());
                writeln!(stdout, "{out}")?;
                if *explain {
                    for r in why {
                        eprintln!("  removed `{}`: {}", r.param, r.rule);
                    }
                }
                // Said whether or not --explain was asked: a script must not take this link
                // for a clean one.
                match cleaner.assess(&out) {
                    tidings::links::Verdict::Publish => {}
                    tidings::links::Verdict::Resolve(what) => {
                        still_tracking += 1;
                        eprintln!(
                            "tidings: {out}: still tracks the reader: {what} (only resolving it over HTTP finds the destination: [links] resolve_redirects)"
                        );
                    }
                    tidings::links::Verdict::Drop(why) => {
                        still_tracking += 1;
                        eprintln!("tidings: {out}: still tracks the reader: {why}");
                    }
                }
                Ok(())
            };
            let printed = if urls.is_empty() {
                let mut result = Ok(());
                for line in std::io::stdin().lock().lines() {
                    let line = line.context("cannot read stdin")?;
                    if !line.trim().is_empty() {
                        result = print(&line);
                        if result.is_err() {
                            break;
                        }
                    }
                }
                result
            } else {
                urls.iter().try_for_each(|u| print(u))
            };
            match printed {
                // A reader that stopped reading (`| head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Ok),
                Err(e) => return Err(e).context("cannot write to stdout"),
                Ok(()) => {}
            }
            if still_tracking > 0 {
                eprintln!("tidings: {still_tracking} URL(s) could not be cleaned of tracking");
                return Ok(Exit::Fatal);
            }
            Ok(Exit::Ok)
        }
        Command::Feeds { action } => feeds_command(&cli, action),
        Command::Recipients { action } => recipients_command(&cli, action),
        Command::Topics { action } => topics_command(&cli, action),
        Command::ImportOpml { file } => import_opml(&cli, file),
        Command::ExportOpml { out } => export_opml(&cli, out.as_deref()),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "tidings", &mut buf);
            write_stdout(&buf)
        }
        Command::Man { dir: Some(dir) } => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
                .with_context(|| format!("cannot write the man pages into `{}`", dir.display()))?;
            Ok(Exit::Ok)
        }
        Command::Man { dir: None } => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .context("cannot render the man page")?;
            write_stdout(&buf)
        }
    }
}

/// Writes generated text to stdout; a reader that stopped reading (`| head`) is no error.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<Exit> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Ok),
        Err(e) => Err(e).context("cannot write to stdout"),
        Ok(()) => Ok(Exit::Ok),
    }
}

fn open_config(cli: &Cli) -> anyhow::Result<ConfigFile> {
    let path = config::locate(cli.config.as_deref())?;
    Ok(ConfigFile::open(&path)?)
}

fn feeds_command(cli: &Cli, action: &cli::FeedsCommand) -> anyhow::Result<Exit> {
    let mut file = open_config(cli)?;
    match action {
        cli::FeedsCommand::List => {
            for f in file.feeds() {
                println!(
                    "{}\t{}\t{}",
                    f.name.as_deref().unwrap_or("-"),
                    f.url,
                    f.topic.as_deref().unwrap_or("-")
                );
            }
            return Ok(Exit::Ok);
        }
        cli::FeedsCommand::Add {
            url,
            name,
            topic,
            only_new,
        } => {
            let rt = runtime()?;
            let added = rt.block_on(edit::fetch_and_add(
                &mut file,
                url,
                name.as_deref(),
                topic.as_deref(),
            ))?;
            let mut cfg = file.save()?;
            if *only_new {
                // A catch-up run of this feed alone: its items now count as delivered.
                // `fetch_and_add` appends the feed: it is the last one.
                cfg.feeds = cfg.feeds.pop().into_iter().collect();
                cfg.mailboxes.clear();
                let opts = pipeline::RunOptions {
                    catch_up: true,
                    ..Default::default()
                };
                let report = rt.block_on(pipeline::run(&cfg, opts))?;
                if !cli.quiet {
                    eprintln!(
                        "{} items it lists now count as delivered; the next digest has only new ones",
                        report.caught_up
                    );
                }
            }
            if !cli.quiet {
                if let Some(page) = &added.page {
                    eprintln!("{page} is a web page; its feed is {}", added.url);
                }
                eprintln!(
                    "added {} ({}, {} entries) to {}",
                    added.name.as_deref().unwrap_or("the feed"),
                    added.url,
                    added.entries,
                    file.path().display()
                );
            }
        }
        cli::FeedsCommand::Remove { feed } => {
            let removed = file.remove_feed(feed)?;
            file.save()?;
            if !cli.quiet {
                eprintln!(
                    "removed {} ({}) from {}",
                    removed.name.as_deref().unwrap_or("the feed"),
                    removed.url,
                    file.path().display()
                );
            }
        }
    }
    Ok(Exit::Ok)
}

fn recipients_command(cli: &Cli, action: &cli::RecipientsCommand) -> anyhow::Result<Exit> {
    let mut file = open_config(cli)?;
    let done = match action {
        cli::RecipientsCommand::List => {
            file.recipients().iter().for_each(|r| println!("{r}"));
            return Ok(Exit::Ok);
        }
        cli::RecipientsCommand::Add { address } => {
            file.add_recipient(address)?;
            format!("added {} to", address.trim())
        }
        cli::RecipientsCommand::Remove { address } => {
            format!("removed {} from", file.remove_recipient(address)?)
        }
    };
    file.save()?;
    if !cli.quiet {
        eprintln!("{done} delivery.to in {}", file.path().display());
    }
    Ok(Exit::Ok)
}

fn topics_command(cli: &Cli, action: &cli::TopicsCommand) -> anyhow::Result<Exit> {
    let mut file = open_config(cli)?;
    match action {
        cli::TopicsCommand::List => {
            for t in file.topics() {
                println!("{}\t{}", t.name, t.keywords.join(", "));
            }
        }
        cli::TopicsCommand::Add { name, keywords } => {
            file.add_topic(name, keywords)?;
            file.save()?;
            if !cli.quiet {
                eprintln!("added topic {} to {}", name.trim(), file.path().display());
            }
        }
    }
    Ok(Exit::Ok)
}

fn import_opml(cli: &Cli, opml_path: &std::path::Path) -> anyhow::Result<Exit> {
    let mut file = open_config(cli)?;
    let feeds = opml::read(opml_path)?;
    let report = opml::import(&mut file, &feeds)?;
    if file.is_changed() {
        file.save()?;
    }
    if !cli.quiet {
        for f in &report.added {
            eprintln!(
                "added   {} ({}){}",
                f.title.as_deref().unwrap_or("-"),
                f.url,
                f.category
                    .as_deref()
                    .map(|c| format!(", topic {c}"))
                    .unwrap_or_default()
            );
        }
        for (f, why) in &report.skipped {
            eprintln!("skipped {}: {why}", f.url);
        }
        eprintln!(
            "{}: {} feeds added, {} skipped",
            file.path().display(),
            report.added.len(),
            report.skipped.len()
        );
    }
    Ok(Exit::Ok)
}

fn export_opml(cli: &Cli, out: Option<&std::path::Path>) -> anyhow::Result<Exit> {
    let cfg = load(cli)?;
    let (xml, skipped) = opml::export(&cfg);
    for s in &skipped {
        eprintln!("not exported: `{s}` is a local file, which OPML cannot list");
    }
    match out {
        Some(path) => std::fs::write(path, &xml)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => print!("{xml}"),
    }
    Ok(Exit::Ok)
}
