//! Running unattended: one run at a time, and no duplicate or lost digest when a run dies
//! mid-send. Through the real SMTP server started by `tests/mail/with-servers.sh`.

mod common;

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
