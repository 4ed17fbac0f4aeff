//! `tidings check` live, against the real test servers: everything answers; then a wrong SMTP
//! password, a closed SMTP port, a wrong IMAP password and a broken feed are each named.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;

#[derive(Clone, Copy)]
struct Setup<'a> {
    smtp_port: u16,
    smtp_pw: &'a str,
    imap_pw: &'a str,
    folder: &'a str,
}

fn config(
    dir: &Path,
    http: &HttpServer,
    mail: &MailEnv,
    s: &Setup<'_>,
) -> (PathBuf, Vec<(&'static str, String)>) {
    let text = format!(
        r#"
[delivery]
from = "t@example.org"
to = ["me@example.org"]

[smtp]
host = "{host}"
port = {smtp_port}
security = "starttls"
username = "{user}"
password_env = "CHECK_SMTP_PW"
ca_file = "{ca}"
timeout = "10s"

[[feeds]]
url = "{good}"
name = "Good feed"

[[feeds]]
url = "{bad}"
name = "Bakery"

[[mailboxes]]
type = "imap"
name = "Inbox"
host = "{imap_host}"
port = {imaps}
security = "tls"
username = "{imap_user}"
password_env = "CHECK_IMAP_PW"
ca_file = "{ca}"
folders = ["{folder}"]
"#,
        host = mail.host,
        smtp_port = s.smtp_port,
        user = mail.user,
        ca = mail.ca.display(),
        good = http.url("/rss2.xml"),
        bad = http.url("/bakery"),
        imap_host = std::env::var("TIDINGS_TEST_IMAP_HOST").unwrap(),
        imaps = std::env::var("TIDINGS_TEST_IMAPS_PORT").unwrap(),
        imap_user = std::env::var("TIDINGS_TEST_IMAP_USER").unwrap(),
        folder = s.folder,
    );
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    (
        p,
        vec![
            ("CHECK_SMTP_PW", s.smtp_pw.to_string()),
            ("CHECK_IMAP_PW", s.imap_pw.to_string()),
        ],
    )
}

fn check(cfg: &Path, envs: &[(&'static str, String)]) -> (Option<i32>, String, String) {
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = tidings(cfg, &["check"], &envs);
    (o.status.code(), stdout(&o), stderr(&o))
}

#[test]
fn live_check_names_every_problem_and_never_prints_a_secret() {
    let mail = MailEnv::get();
    let imap_pw = std::env::var("TIDINGS_TEST_IMAP_PASSWORD")
        .expect("run through tests/mail/with-servers.sh");
    let http = HttpServer::start(vec![
        ("/rss2.xml", Route::file("rss2.xml", "application/rss+xml")),
        ("/bakery", Route::file("not-a-feed.html", "text/html")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let good = Setup {
        smtp_port: mail.starttls_port,
        smtp_pw: &mail.password,
        imap_pw: &imap_pw,
        folder: "INBOX",
    };

    let (cfg, envs) = config(dir.path(), &http, &mail, &good);
    let (code, out, err) = check(&cfg, &envs);
    assert_eq!(code, Some(1), "the HTML page is not a feed: {out}{err}");
    assert!(out.contains("ok    templates render"), "{out}");
    assert!(out.contains("ok    feed Good feed (3 items)"), "{out}");
    assert!(
        out.contains("FAIL  feed Bakery: the response is an HTML page, not a feed"),
        "{out}"
    );
    assert!(
        out.contains("ok    mailbox") && out.contains("(1 folders)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "ok    SMTP {}:{} (TLS, logged in)",
            mail.host, mail.starttls_port
        )),
        "{out}"
    );
    assert!(err.contains("1 of 6 checks failed"), "{err}");

    let wrong_smtp = Setup {
        smtp_pw: "not-the-smtp-password",
        ..good
    };
    let (cfg, envs) = config(dir.path(), &http, &mail, &wrong_smtp);
    let (_, out, err) = check(&cfg, &envs);
    assert!(out.contains("FAIL  SMTP") && out.contains("535"), "{out}");
    assert!(!out.contains("not-the-smtp-password") && !err.contains("not-the-smtp-password"));

    let closed = Setup {
        smtp_port: closed_port(),
        ..good
    };
    let (cfg, envs) = config(dir.path(), &http, &mail, &closed);
    let (_, out, _) = check(&cfg, &envs);
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("FAIL  SMTP {}:{}", mail.host, closed.smtp_port))),
        "{out}"
    );

    let wrong_imap = Setup {
        imap_pw: "not-the-imap-password",
        ..good
    };
    let (cfg, envs) = config(dir.path(), &http, &mail, &wrong_imap);
    let (_, out, err) = check(&cfg, &envs);
    assert!(
        out.contains("FAIL  mailbox") && out.contains("login to"),
        "{out}"
    );
    assert!(!out.contains("not-the-imap-password") && !err.contains("not-the-imap-password"));

    let no_folder = Setup {
        folder: "NoSuchFolder",
        ..good
    };
    let (cfg, envs) = config(dir.path(), &http, &mail, &no_folder);
    let (_, out, _) = check(&cfg, &envs);
    assert!(
        out.contains("FAIL  mailbox")
            && out.contains("folder `NoSuchFolder` not found")
            && out.contains("the server has: ")
            && out.contains("INBOX"),
        "the folders the server has are named: {out}"
    );

    // A secret that is not set: check says which variable to set, and nothing else of it.
    let (cfg, mut envs) = config(dir.path(), &http, &mail, &good);
    envs.retain(|(k, _)| *k != "CHECK_SMTP_PW");
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = tidings(&cfg, &["check", "--offline"], &envs);
    assert!(
        stdout(&o).contains("CHECK_SMTP_PW"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}
