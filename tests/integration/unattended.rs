//! Running unattended: one run at a time, and no duplicate or lost digest when a run dies
//! mid-send. Through the real SMTP server started by `tests/mail/with-servers.sh`.

use crate::common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const PASSWORD_VAR: &str = "TIDINGS_UNATTENDED_PW";

fn config(dir: &Path, feed_url: &str, port: u16, mail: &MailEnv, to: &str) -> PathBuf {
    let text = format!(
        "[digest]\nlookback = \"3650d\"\n\n[delivery]\nfrom = \"t@example.org\"\nto = [\"{to}\"]\n\n[smtp]\nhost = \"{host}\"\nport = {port}\nsecurity = \"starttls\"\nusername = \"{user}\"\npassword_env = \"{PASSWORD_VAR}\"\nca_file = \"{ca}\"\ntimeout = \"20s\"\n\n[[feeds]]\nurl = \"{feed_url}\"\n",
        host = mail.host,
        user = mail.user,
        ca = mail.ca.display()
    );
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn spawn_run(cfg: &Path, pw: &str, extra_env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidings"));
    cmd.arg("-c")
        .arg(cfg)
        .arg("run")
        .env(PASSWORD_VAR, pw)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

#[test]
fn a_second_run_while_one_is_active_stops_at_once_and_one_digest_arrives() {
    let mail = MailEnv::get();
    let http = HttpServer::start(vec![(
        "/slow.xml",
        Route::file("rss2.xml", "application/rss+xml").with_delay(Duration::from_secs(3)),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let to = format!("lock-{}@example.org", nonce());
    let cfg = config(
        dir.path(),
        &http.url("/slow.xml"),
        mail.starttls_port,
        &mail,
        &to,
    );

    let first = spawn_run(&cfg, &mail.password, &[]);
    // Wait until the first run is fetching (it holds the lock for its whole life).
    while http.requests().is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = tidings(&cfg, &["run"], &[(PASSWORD_VAR, mail.password.as_str())]);
    assert_eq!(
        second.status.code(),
        Some(3),
        "the second run must stop with its own exit code"
    );
    assert!(
        stderr(&second).contains("another tidings run"),
        "{}",
        stderr(&second)
    );

    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(mail.received_for(&to).len(), 1, "exactly one digest");
    // The lock died with its holder: a third run works (and finds nothing new).
    let third = tidings(&cfg, &["run"], &[(PASSWORD_VAR, mail.password.as_str())]);
    assert_eq!(third.status.code(), Some(0));
    assert!(stderr(&third).contains("nothing new"));
    assert_eq!(mail.received_for(&to).len(), 1);
}

#[test]
fn a_crash_after_the_server_accepted_does_not_send_the_digest_twice() {
    let mail = MailEnv::get();
    let http = HttpServer::start(vec![(
        "/feed.xml",
        Route::file("rss2.xml", "application/rss+xml"),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let to = format!("crash-{}@example.org", nonce());
    let cfg = config(
        dir.path(),
        &http.url("/feed.xml"),
        mail.starttls_port,
        &mail,
        &to,
    );

    let crashed = tidings(
        &cfg,
        &["run"],
        &[
            (PASSWORD_VAR, mail.password.as_str()),
            ("TIDINGS_FAILPOINT", "after-send"),
        ],
    );
    assert_ne!(
        crashed.status.code(),
        Some(0),
        "the failpoint must kill the run"
    );
    assert!(
        crashed.status.code().is_none() || crashed.status.code() == Some(134),
        "killed by a signal (abort)"
    );
    assert_eq!(
        mail.received_for(&to).len(),
        1,
        "the server had accepted the digest"
    );

    let next = tidings(&cfg, &["run"], &[(PASSWORD_VAR, mail.password.as_str())]);
    assert_eq!(next.status.code(), Some(0));
    assert!(
        stderr(&next).contains("stopped while sending"),
        "the reconciliation is logged: {}",
        stderr(&next)
    );
    assert_eq!(
        mail.received_for(&to).len(),
        1,
        "no duplicate after the crash"
    );
}

#[test]
fn a_run_killed_while_the_server_hangs_loses_no_story() {
    let mail = MailEnv::get();
    let http = HttpServer::start(vec![(
        "/feed.xml",
        Route::file("rss2.xml", "application/rss+xml"),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let to = format!("hang-{}@example.org", nonce());
    // An "SMTP server" that accepts connections and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let cfg = config(dir.path(), &http.url("/feed.xml"), silent_port, &mail, &to);

    let mut hung = spawn_run(&cfg, &mail.password, &[]);
    // Wait until tidings is connected to the silent server, then kill it hard.
    silent.set_nonblocking(false).unwrap();
    let (_conn, _) = silent.accept().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    hung.kill().unwrap(); // SIGKILL
    hung.wait().unwrap();
    assert!(mail.received_for(&to).is_empty());

    let cfg = config(
        dir.path(),
        &http.url("/feed.xml"),
        mail.starttls_port,
        &mail,
        &to,
    );
    let next = tidings(&cfg, &["run"], &[(PASSWORD_VAR, mail.password.as_str())]);
    assert_eq!(next.status.code(), Some(0), "{}", stderr(&next));
    let got = mail.received_for(&to);
    assert_eq!(
        got.len(),
        1,
        "the stories of the killed run arrive with the next one"
    );
    assert!(
        got[0].contains("(3 stories)"),
        "all three stories, none lost"
    );
}

/// A config whose digests go to a "sendmail" that swallows them: for tests about fetching.
fn sendmail_config(dir: &Path, feeds: &[(&str, String)]) -> PathBuf {
    sendmail_config_with(dir, feeds, "")
}

/// How many digests the sendmail sink of `sendmail_config` received.
fn sunk(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("sent.txt"))
        .map(|s| s.matches("=====SINK=====").count())
        .unwrap_or(0)
}

fn sendmail_config_with(dir: &Path, feeds: &[(&str, String)], digest_extra: &str) -> PathBuf {
    let sink = dir.join("sendmail-sink");
    // Appends each message to `sent.txt` beside it, followed by a separator line.
    std::fs::write(&sink, "#!/bin/sh\ncat >> \"$(dirname \"$0\")/sent.txt\"\necho '=====SINK=====' >> \"$(dirname \"$0\")/sent.txt\"\n").unwrap();
    std::fs::set_permissions(&sink, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut text = format!(
        "[digest]\nlookback = \"3650d\"\n{digest_extra}\n\n[delivery]\nfrom = \"t@example.org\"\nto = [\"me@example.org\"]\ntransport = \"sendmail\"\nsendmail_command = \"{}\"\n",
        sink.display()
    );
    for (name, url) in feeds {
        text.push_str(&format!(
            "\n[[feeds]]\nurl = \"{url}\"\nname = \"{name}\"\n"
        ));
    }
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn polite_fetching_rate_limits_gone_moved_and_backoff_and_sources_reports_them() {
    let http = HttpServer::start(vec![
        ("/ok.xml", Route::file("rss2.xml", "application/rss+xml")),
        (
            "/limited.xml",
            Route::status(429).with_header("Retry-After", "3600"),
        ),
        ("/gone.xml", Route::status(410)),
        (
            "/old-home.xml",
            Route::status(301).with_header("Location", "/new-home.xml"),
        ),
        (
            "/new-home.xml",
            Route::file("atom.xml", "application/atom+xml"),
        ),
        ("/broken.xml", Route::status(500)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let feeds = [
        ("Fine", http.url("/ok.xml")),
        ("Limited", http.url("/limited.xml")),
        ("Gone", http.url("/gone.xml")),
        ("Moved", http.url("/old-home.xml")),
        ("Broken", http.url("/broken.xml")),
    ];
    let cfg = sendmail_config(dir.path(), &feeds);
    let hits = |path: &str| http.requests().iter().filter(|r| r.path == path).count();

    for _ in 0..4 {
        let run = tidings(&cfg, &["run"], &[]);
        assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    }
    assert_eq!(hits("/ok.xml"), 4, "a healthy feed is fetched every run");
    assert_eq!(hits("/limited.xml"), 1, "Retry-After is honoured");
    assert_eq!(hits("/gone.xml"), 1, "a 410 disables the feed");
    assert_eq!(
        hits("/old-home.xml"),
        1,
        "after a 301 the new address is fetched directly"
    );
    assert_eq!(hits("/new-home.xml"), 4);
    assert_eq!(
        hits("/broken.xml"),
        3,
        "after three failures in a row the feed backs off"
    );

    let out = tidings(
        &cfg,
        &["preview", "--out", dir.path().join("p").to_str().unwrap()],
        &[],
    );
    let json: serde_json::Value =
        serde_json::from_str(&read_to_string(&dir.path().join("p/digest.json"))).unwrap();
    let msg = |src: &str| {
        json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["source"] == src)
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert!(
        msg("Moved").contains(&format!(
            "moved permanently to {}",
            http.url("/new-home.xml")
        )),
        "{}",
        msg("Moved")
    );
    assert!(
        msg("Gone").contains("remove it from your config"),
        "{}",
        msg("Gone")
    );
    assert!(
        msg("Limited").contains("rate limited"),
        "{}",
        msg("Limited")
    );
    assert!(
        msg("Broken").contains("failed 3 runs in a row"),
        "{}",
        msg("Broken")
    );
    assert_eq!(out.status.code(), Some(2));

    let sources = tidings(&cfg, &["sources", "--json"], &[]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&sources)).unwrap();
    let row = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(row("Fine")["status"], "ok");
    assert!(row("Fine")["average_latency_ms"].is_u64());
    assert!(row("Fine")["last_success"].is_string());
    assert_eq!(row("Limited")["status"], "rate limited");
    assert_eq!(row("Gone")["status"], "gone");
    assert_eq!(row("Moved")["status"], "moved");
    assert_eq!(row("Broken")["status"], "backing off");
    assert_eq!(row("Broken")["consecutive_failures"], 3);
    assert!(row("Broken")["next_attempt"].is_string());
    let table = stdout(&tidings(&cfg, &["sources"], &[]));
    assert!(
        table.starts_with("SOURCE") && table.contains("backing off") && table.contains("HTTP 500"),
        "{table}"
    );
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn sigterm(child: &std::process::Child) {
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    for _ in 0..150 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("the daemon did not stop within 15 s of SIGTERM");
}

/// `tidings -v daemon` on `cfg`, its log on a pipe.
fn spawn_daemon(cfg: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("-c")
        .arg(cfg)
        .arg("-v")
        .arg("daemon")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn the_daemon_runs_on_schedule_and_stops_cleanly_on_sigterm() {
    let http = HttpServer::start(vec![(
        "/ok.xml",
        Route::file("rss2.xml", "application/rss+xml"),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = sendmail_config_with(
        dir.path(),
        &[("Fine", http.url("/ok.xml"))],
        "schedule = \"* * * * * *\"\ntimezone = \"Europe/Berlin\"",
    );
    let mut daemon = spawn_daemon(&cfg);
    let runs = || {
        http.requests()
            .iter()
            .filter(|r| r.path == "/ok.xml")
            .count()
    };
    wait_for("three scheduled runs", || runs() >= 3);
    assert_eq!(
        sunk(dir.path()),
        1,
        "the first run sends, the next ones find nothing new"
    );
    sigterm(&daemon);
    let status = wait_exit(&mut daemon);
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut daemon.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("SIGTERM"), "{err}");
}

#[test]
fn sigterm_during_a_run_lets_the_run_finish() {
    let http = HttpServer::start(vec![(
        "/slow.xml",
        Route::file("rss2.xml", "application/rss+xml").with_delay(Duration::from_secs(2)),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = sendmail_config_with(
        dir.path(),
        &[("Slow", http.url("/slow.xml"))],
        "schedule = \"* * * * * *\"",
    );
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("-c")
        .arg(&cfg)
        .arg("daemon")
        .env_remove("RUST_LOG")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first run to start fetching", || {
        !http.requests().is_empty()
    });
    sigterm(&daemon);
    let status = wait_exit(&mut daemon);
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        sunk(dir.path()),
        1,
        "the run in progress finished and sent its digest before the daemon stopped"
    );
}

#[test]
fn one_digest_per_period_unless_forced() {
    let http = HttpServer::start(vec![
        ("/ok.xml", Route::file("rss2.xml", "application/rss+xml")),
        ("/more.xml", Route::file("atom.xml", "application/atom+xml")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = sendmail_config_with(
        dir.path(),
        &[("Fine", http.url("/ok.xml"))],
        "period = \"daily\"",
    );
    assert_eq!(tidings(&cfg, &["run"], &[]).status.code(), Some(0));
    assert_eq!(sunk(dir.path()), 1);
    // New stories arrive the same day: the period is spent, so nothing is sent or even fetched.
    let cfg = sendmail_config_with(
        dir.path(),
        &[
            ("Fine", http.url("/ok.xml")),
            ("More", http.url("/more.xml")),
        ],
        "period = \"daily\"",
    );
    let again = tidings(&cfg, &["run"], &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stderr(&again).contains("already went out this period"),
        "{}",
        stderr(&again)
    );
    assert_eq!(sunk(dir.path()), 1);
    assert!(http.requests().iter().all(|r| r.path != "/more.xml"));
    let forced = tidings(&cfg, &["run", "--force"], &[]);
    assert_eq!(forced.status.code(), Some(0));
    assert_eq!(sunk(dir.path()), 2, "--force sends the new stories");
}

#[test]
fn a_failure_is_reported_only_after_the_configured_streak_and_progress_only_on_a_terminal() {
    let http = HttpServer::start(vec![
        ("/ok.xml", Route::file("rss2.xml", "application/rss+xml")),
        ("/broken.xml", Route::status(500)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = sendmail_config_with(
        dir.path(),
        &[
            ("Fine", http.url("/ok.xml")),
            ("Broken", http.url("/broken.xml")),
        ],
        "report_failures_after = 2",
    );
    let first = tidings(&cfg, &["run"], &[]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "one failure is not news: {}",
        stderr(&first)
    );
    assert!(!stderr(&first).contains("Broken"), "{}", stderr(&first));
    assert!(
        !stderr(&first).contains("feeds:"),
        "no progress lines when stderr is not a terminal"
    );
    let second = tidings(&cfg, &["run"], &[]);
    assert_eq!(second.status.code(), Some(2), "two in a row are reported");
    assert!(stderr(&second).contains("Broken"), "{}", stderr(&second));

    // Under a pseudo-terminal (util-linux `script`), the same command shows its progress.
    let cmd = format!(
        "{} -c {} preview --out {}",
        env!("CARGO_BIN_EXE_tidings"),
        cfg.display(),
        dir.path().join("p").display()
    );
    let tty = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(
        shown.contains("feeds: 2/2 fetched") && shown.contains("sources: 2 feeds"),
        "{shown}"
    );
    // On a terminal the warnings may be coloured; through a pipe (the `second` run above,
    // as cron sees it) never, and NO_COLOR turns colour off on a terminal too.
    assert!(
        shown.contains("\u{1b}[") && shown.contains("Broken"),
        "{shown:?}"
    );
    assert!(!stderr(&second).contains('\u{1b}'), "{:?}", stderr(&second));
    let plain_tty = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&plain_tty.stdout);
    assert!(
        shown.contains("warning: ") && shown.contains("Broken"),
        "{shown:?}"
    );
    assert!(
        !shown
            .lines()
            .any(|l| l.contains("warning") && l.contains("\u{1b}[3")),
        "no colour with NO_COLOR: {shown:?}"
    );
}

/// With `[[digests]]` the daemon runs each on its own schedule: two due at the same second
/// both run (one after the other), and one without a schedule is left to `run`.
#[test]
fn the_daemon_runs_each_digest_on_its_own_schedule() {
    let http = HttpServer::start(vec![(
        "/ok.xml",
        Route::file("rss2.xml", "application/rss+xml"),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = sendmail_config_with(dir.path(), &[("Fine", http.url("/ok.xml"))], "");
    let mut text = read_to_string(&cfg);
    for (name, schedule) in [("a", "* * * * * *"), ("b", "* * * * * *"), ("c", "")] {
        text.push_str(&format!(
            "\n[[digests]]\nname = \"{name}\"\nto = [\"{name}@example.org\"]\n"
        ));
        if !schedule.is_empty() {
            text.push_str(&format!("schedule = \"{schedule}\"\n"));
        }
    }
    std::fs::write(&cfg, text).unwrap();
    let mut daemon = spawn_daemon(&cfg);
    let runs = || {
        http.requests()
            .iter()
            .filter(|r| r.path == "/ok.xml")
            .count()
    };
    wait_for("three rounds of both scheduled digests", || runs() >= 6);
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon).code(), Some(0));
    let sent = std::fs::read_to_string(dir.path().join("sent.txt")).unwrap_or_default();
    assert_eq!(sunk(dir.path()), 2, "a and b each send once: {sent}");
    assert!(sent.contains("To: a@example.org"), "{sent}");
    assert!(sent.contains("To: b@example.org"), "{sent}");
    assert!(
        !sent.contains("To: c@example.org"),
        "c has no schedule: {sent}"
    );
}
