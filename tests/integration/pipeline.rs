//! End to end through the real protocols: feeds over HTTP from a local server, newsletters from
//! a Maildir, the digest sent to a real SMTP server (STARTTLS or implicit TLS, AUTH, verified
//! against the test CA) and read back from what the server stored.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use mail_parser::{MessageParser, MimeHeaders};

const PASSWORD_VAR: &str = "TIDINGS_IT_SMTP_PASSWORD";

fn feed_server() -> HttpServer {
    HttpServer::start(vec![
        (
            "/rss2.xml",
            Route::file("rss2.xml", "application/rss+xml").with_etag("\"rss-v1\""),
        ),
        (
            "/atom.xml",
            Route::file("atom.xml", "application/atom+xml").with_etag("\"atom-v1\""),
        ),
        (
            "/jsonfeed.json",
            Route::file("jsonfeed.json", "application/feed+json"),
        ),
        (
            "/malformed.xml",
            Route::file("malformed.xml", "application/rss+xml"),
        ),
        ("/bakery", Route::file("not-a-feed.html", "text/html")),
    ])
}

enum Smtp {
    StartTls,
    Tls,
    Down,
}

fn write_config(
    dir: &Path,
    http: &HttpServer,
    mail: &MailEnv,
    smtp: Smtp,
    to: &[String],
) -> PathBuf {
    let (port, security) = match smtp {
        Smtp::StartTls => (mail.starttls_port, "starttls"),
        Smtp::Tls => (mail.tls_port, "tls"),
        Smtp::Down => (closed_port(), "starttls"),
    };
    let maildir = dir.join("Newsletters");
    if !maildir.exists() {
        copy_maildir(&maildir);
    }
    let to = to
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        r#"
[digest]
title = "Test digest"
lookback = "3650d"

[state]
path = "state/tidings.db"

[delivery]
from = "Tidings <digest@example.org>"
to = [{to}]

[smtp]
host = "{host}"
port = {port}
security = "{security}"
username = "{user}"
password_env = "{PASSWORD_VAR}"
ca_file = "{ca}"
timeout = "10s"

[[feeds]]
url = "{rss}"

[[feeds]]
url = "{atom}"

[[feeds]]
url = "{json}"

[[feeds]]
url = "{malformed}"
name = "Broken Feed"

[[feeds]]
url = "{bakery}"
name = "Bakery"

[[mailboxes]]
type = "maildir"
path = "Newsletters"
{TOPICS}"#,
        host = mail.host,
        user = mail.user,
        ca = mail.ca.display(),
        rss = http.url("/rss2.xml"),
        atom = http.url("/atom.xml"),
        json = http.url("/jsonfeed.json"),
        malformed = http.url("/malformed.xml"),
        bakery = http.url("/bakery"),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

struct Received {
    raw: String,
    subject: String,
    text: String,
    html: String,
    content_type: String,
    first_part_type: String,
}

fn parse(raw: &str) -> Received {
    let msg = MessageParser::default()
        .parse(raw.as_bytes())
        .expect("parsable message");
    let ct = msg
        .content_type()
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
        .unwrap_or_default();
    let first = msg
        .part(1)
        .and_then(|p| p.content_type())
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
        .unwrap_or_default();
    Received {
        raw: raw.to_string(),
        subject: msg.subject().unwrap_or("").to_string(),
        // On the wire both parts are in MIME's canonical CRLF form; the preview files use `\n`.
        text: msg
            .body_text(0)
            .map(|t| t.replace("\r\n", "\n"))
            .unwrap_or_default(),
        html: msg
            .body_html(0)
            .map(|t| t.replace("\r\n", "\n"))
            .unwrap_or_default(),
        content_type: ct,
        first_part_type: first,
    }
}

/// The ten unique stories of the fixtures (see tests/fixtures/EXPECTED.md), by cleaned URL.
const EXPECTED_URLS: &[&str] = &[
    "https://fixture-daily.example.com/tech/rust-compiler-incremental-builds",
    "https://fixture-daily.example.com/world/story?id=4821",
    "https://fixture-daily.example.com/science/glacier-retreat",
    "https://fixture-wire.example.net/2026/11/parliament-ratifies-trade-treaty",
    "https://fixture-wire.example.net/2026/11/database-vector-search",
    "https://fixture-lab.example.org/posts/exoplanet-water-vapour",
    "https://fixture-lab.example.org/posts/cpu-scheduler?lang=en",
];

fn assert_complete_digest(m: &Received, recipients: &[String]) {
    for r in recipients {
        assert!(
            m.raw.contains(&format!("X-Envelope-To: {r}")),
            "envelope recipient {r} missing"
        );
    }
    assert!(
        m.subject.starts_with("Test digest — "),
        "subject: {}",
        m.subject
    );
    assert!(
        m.subject.ends_with("(10 stories)"),
        "subject: {}",
        m.subject
    );
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.first_part_type, "text/plain", "the text part comes first");
    for url in EXPECTED_URLS {
        assert!(m.text.contains(url), "text part lacks {url}");
        assert!(
            m.html
                .contains(&format!("href=\"{}\"", url.replace('&', "&amp;"))),
            "html part lacks a link to {url}"
        );
    }
    for tracking in [
        "utm_",
        "fbclid",
        "gclid",
        "mc_eid",
        "mc_cid",
        "<script",
        "track.example",
    ] {
        assert!(
            !m.text.contains(tracking) && !m.html.contains(tracking),
            "`{tracking}` reached the digest"
        );
    }
    // Topic sections in config order, each heading underlined in the text part.
    let t = m
        .text
        .find("Technology\n==========")
        .expect("Technology section");
    let s = m.text.find("Science\n=======").expect("Science section");
    let w = m.text.find("World\n=====").expect("World section");
    assert!(t < s && s < w, "topics out of config order");
    // The same story from two feeds is one entry listing both sources.
    assert!(
        m.text.contains("Fixture Daily, Fixture Wire")
            || m.text.contains("Fixture Wire, Fixture Daily"),
        "merged sources not listed"
    );
    // Failed sources are named in the footer, the other sources still made the digest. The
    // text part wraps at 72 columns, so a message may run over two lines.
    let flat = m.text.split_whitespace().collect::<Vec<_>>().join(" ");
    // A broken feed is read up to where it breaks (its one item is cut there, so not
    // shown) and the footer says where.
    assert!(
        flat.contains("Broken Feed: feed malformed at line 9, column 20"),
        "malformed feed not reported: {}",
        m.text
    );
    assert!(
        flat.contains("Bakery: the response is an HTML page, not a feed"),
        "HTML page not reported"
    );
    assert!(
        flat.contains("has no readable content"),
        "malformed email not reported"
    );
}

#[test]
fn run_delivers_over_starttls_and_a_second_run_sends_nothing() {
    let mail = MailEnv::get();
    let http = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let n = nonce();
    let to = vec![
        format!("alice-{n}@example.org"),
        format!("bob-{n}@example.org"),
    ];
    let cfg = write_config(dir.path(), &http, &mail, Smtp::StartTls, &to);
    let env = [(PASSWORD_VAR, mail.password.as_str())];

    let first = tidings(&cfg, &["run"], &env);
    assert_eq!(
        first.status.code(),
        Some(2),
        "delivered, but some sources failed"
    );
    assert!(
        !stderr(&first).contains(&mail.password),
        "the password leaked into stderr"
    );
    let got = mail.received_for(&to[0]);
    assert_eq!(got.len(), 1, "exactly one digest");
    assert_eq!(
        mail.received_for(&to[1]).len(),
        1,
        "one message reaches both recipients"
    );
    assert_complete_digest(&parse(&got[0]), &to);

    let second = tidings(&cfg, &["run"], &env);
    assert_eq!(
        second.status.code(),
        Some(2),
        "the broken sources are still broken"
    );
    assert!(
        stderr(&second).contains("nothing new"),
        "{}",
        stderr(&second)
    );
    assert_eq!(mail.received_for(&to[0]).len(), 1, "nothing is sent twice");

    // A new newsletter arrives: the third run sends just that.
    let fresh = "From: Fresh <fresh@news.example>\nTo: me@example.org\nSubject: Fresh news\nDate: Fri, 27 Nov 2026 08:00:00 +0000\nMessage-ID: <fresh-1@news.example>\nContent-Type: text/plain; charset=utf-8\n\nRust database engine reaches 1.0\nhttps://fresh.example/rust-db?utm_source=nl\nThe embedded engine froze its file format.\n";
    std::fs::write(
        dir.path().join("Newsletters/new/1795800000.M9P1.fresh"),
        fresh,
    )
    .unwrap();
    let third = tidings(&cfg, &["run"], &env);
    assert_eq!(third.status.code(), Some(2));
    let got = mail.received_for(&to[0]);
    assert_eq!(got.len(), 2);
    let latest = got
        .iter()
        .map(|r| parse(r))
        .find(|m| m.subject.ends_with("(1 story)"))
        .expect("a one-story digest");
    assert!(
        latest.text.contains("https://fresh.example/rust-db\n"),
        "{}",
        latest.text
    );
    assert!(
        !latest.text.contains("glacier-retreat"),
        "old stories were sent again"
    );
}

#[test]
fn smtp_down_loses_nothing_and_a_304_still_delivers_the_stories() {
    let mail = MailEnv::get();
    let http = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let to = vec![format!("carol-{}@example.org", nonce())];
    let env = [(PASSWORD_VAR, mail.password.as_str())];

    let cfg = write_config(dir.path(), &http, &mail, Smtp::Down, &to);
    let down = tidings(&cfg, &["run"], &env);
    assert_eq!(down.status.code(), Some(1), "a failed delivery is fatal");
    assert!(
        stderr(&down).contains("SMTP delivery to 127.0.0.1"),
        "{}",
        stderr(&down)
    );
    assert!(mail.received_for(&to[0]).is_empty());

    // Server up again. The feeds now answer 304 Not Modified; the stories must still come.
    let cfg = write_config(dir.path(), &http, &mail, Smtp::StartTls, &to);
    let up = tidings(&cfg, &["run"], &env);
    assert_eq!(up.status.code(), Some(2));
    let got = mail.received_for(&to[0]);
    assert_eq!(got.len(), 1);
    assert_complete_digest(&parse(&got[0]), &to);

    let rss_requests = || -> Vec<Seen> {
        http.requests()
            .into_iter()
            .filter(|r| r.path == "/rss2.xml")
            .collect()
    };
    let rss = rss_requests();
    assert_eq!(rss.len(), 2);
    assert_eq!(rss[0].headers.get("if-none-match"), None);
    assert_eq!(
        rss[1].headers.get("if-none-match").map(String::as_str),
        Some("\"rss-v1\""),
        "validators are sent back"
    );
    assert_eq!(rss[1].status, 304);

    // A 304 cache that cannot be read (another version wrote it) is not an empty feed: the
    // run asks again for the whole feed.
    let db = rusqlite::Connection::open(dir.path().join("state/tidings.db")).unwrap();
    db.execute("UPDATE sources SET cached_items = x'00ff'", [])
        .unwrap();
    drop(db);
    let again = tidings(&cfg, &["run"], &env);
    assert!(
        again.status.success() || again.status.code() == Some(2),
        "{}",
        stderr(&again)
    );
    let rss = rss_requests();
    assert_eq!(rss.len(), 4);
    assert_eq!(rss[2].status, 304);
    assert_eq!(rss[3].headers.get("if-none-match"), None);
    assert_eq!(rss[3].status, 200);
    let ua = rss[0]
        .headers
        .get("user-agent")
        .cloned()
        .unwrap_or_default();
    assert!(
        ua.starts_with(concat!("tidings/", env!("CARGO_PKG_VERSION"))),
        "user agent: {ua}"
    );
}

#[test]
fn implicit_tls_works_and_a_wrong_password_is_a_clear_error_without_the_secret() {
    let mail = MailEnv::get();
    let http = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let to = vec![format!("dave-{}@example.org", nonce())];
    let cfg = write_config(dir.path(), &http, &mail, Smtp::Tls, &to);

    let wrong = "hunter2-not-the-password";
    let bad = tidings(&cfg, &["run"], &[(PASSWORD_VAR, wrong)]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(
        err.contains("SMTP delivery") && err.contains("535"),
        "{err}"
    );
    assert!(!err.contains(wrong), "the password leaked: {err}");
    assert!(mail.received_for(&to[0]).is_empty());

    let missing = tidings(&cfg, &["run"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains(&format!("environment variable `{PASSWORD_VAR}`")),
        "{}",
        stderr(&missing)
    );

    let ok = tidings(&cfg, &["run"], &[(PASSWORD_VAR, mail.password.as_str())]);
    assert_eq!(ok.status.code(), Some(2));
    assert_eq!(mail.received_for(&to[0]).len(), 1);
}

#[test]
fn preview_writes_the_four_files_and_changes_no_state() {
    let mail = MailEnv::get();
    let http = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let to = vec!["erin@example.org".to_string()];
    let cfg = write_config(dir.path(), &http, &mail, Smtp::Down, &to);
    let out = dir.path().join("preview");

    let run = tidings(&cfg, &["preview", "--out", out.to_str().unwrap()], &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        !dir.path().join("state").exists(),
        "preview must not create the state database"
    );

    let html = read_to_string(&out.join("digest.html"));
    let text = read_to_string(&out.join("digest.txt"));
    let eml = read_to_string(&out.join("digest.eml"));
    let m = parse(&eml);
    assert_eq!(m.text, text, "digest.txt is the text part exactly");
    assert_eq!(m.html, html, "digest.html is the HTML part exactly");
    for header in [
        "Subject: ",
        "From: ",
        "To: ",
        "Date: ",
        "Message-ID: <",
        "MIME-Version: 1.0",
    ] {
        assert!(eml.contains(header), "digest.eml lacks {header}");
    }
    assert_complete_digest_without_envelope(&m);

    let json: serde_json::Value =
        serde_json::from_str(&read_to_string(&out.join("digest.json"))).unwrap();
    assert_eq!(json["title"], "Test digest");
    assert!(chrono::DateTime::parse_from_rfc3339(json["generated_at"].as_str().unwrap()).is_ok());
    let groups = json["groups"].as_array().unwrap();
    let topics: Vec<&str> = groups
        .iter()
        .map(|g| g["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["Technology", "Science", "World"]);
    // The stories two sources carry lead the digest, shown once, not again under a topic.
    let lead = json["lead"].as_array().unwrap();
    assert!(!lead.is_empty() && lead.iter().all(|s| s["coverage"].as_u64() >= Some(2)));
    let stories: Vec<&serde_json::Value> = lead
        .iter()
        .chain(groups.iter().flat_map(|g| g["stories"].as_array().unwrap()))
        .collect();
    assert_eq!(stories.len(), 10);
    assert!(stories.iter().all(|s| s["rank"].is_number()));
    let glacier = stories
        .iter()
        .find(|s| s["url"] == "https://fixture-daily.example.com/science/glacier-retreat")
        .unwrap();
    let names: Vec<&str> = glacier["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Fixture Daily", "Fixture Wire"]);
    assert!(stories.iter().all(|s| s["title"].is_string()
        && s["summary"].is_string()
        && (s["published"].is_null() || s["published"].is_string())));
    let errors = json["errors"].as_array().unwrap();
    let failed: Vec<&str> = errors
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert!(
        failed.contains(&"Broken Feed") && failed.contains(&"Bakery"),
        "{failed:?}"
    );
}

fn assert_complete_digest_without_envelope(m: &Received) {
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.first_part_type, "text/plain");
    for url in EXPECTED_URLS {
        assert!(m.text.contains(url), "text part lacks {url}");
    }
}

#[test]
fn dry_run_prints_the_digest_and_changes_nothing() {
    let mail = MailEnv::get();
    let http = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let to = vec![format!("frank-{}@example.org", nonce())];
    let cfg = write_config(dir.path(), &http, &mail, Smtp::StartTls, &to);
    let out = tidings(
        &cfg,
        &["run", "--dry-run"],
        &[(PASSWORD_VAR, mail.password.as_str())],
    );
    assert_eq!(out.status.code(), Some(2));
    let printed = stdout(&out);
    assert!(
        printed.contains(&format!("Would send to {}", to[0])),
        "{printed}"
    );
    assert!(printed.contains("https://fixture-daily.example.com/science/glacier-retreat"));
    assert!(mail.received_for(&to[0]).is_empty(), "dry run sent mail");
    assert!(!dir.path().join("state").exists(), "dry run wrote state");
}

/// `run --catch-up` sends nothing and starts from now: the next run has nothing new, a new
/// newsletter then comes alone; `feeds add --only-new` does the same for one feed added later.
#[test]
fn catch_up_starts_from_now_and_only_new_counts_a_feed_as_read() {
    let mail = MailEnv::get();
    let http = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let n = nonce();
    let to = vec![format!("catchup-{n}@example.org")];
    let cfg = write_config(dir.path(), &http, &mail, Smtp::StartTls, &to);
    // A period must not stop the run after a catch-up: nothing was sent.
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "lookback = \"3650d\"",
        "lookback = \"3650d\"\nperiod = \"daily\"",
    );
    std::fs::write(&cfg, text).unwrap();
    let env = [(PASSWORD_VAR, mail.password.as_str())];

    let caught = tidings(&cfg, &["run", "--catch-up"], &env);
    assert!(
        stderr(&caught).contains("caught up:") && !stderr(&caught).contains("caught up: 0 items"),
        "{}",
        stderr(&caught)
    );
    assert_eq!(
        mail.received_for(&to[0]).len(),
        0,
        "a catch-up sends nothing"
    );
    let second = tidings(&cfg, &["run"], &env);
    assert!(
        stderr(&second).contains("nothing new"),
        "{}",
        stderr(&second)
    );
    assert_eq!(mail.received_for(&to[0]).len(), 0);

    let fresh = "From: Fresh <fresh@news.example>\nTo: me@example.org\nSubject: Fresh news\nDate: Fri, 27 Nov 2026 08:00:00 +0000\nMessage-ID: <fresh-catchup@news.example>\nContent-Type: text/plain; charset=utf-8\n\nRust database engine reaches 1.0\nhttps://fresh.example/rust-db?utm_source=nl\nThe embedded engine froze its file format.\n";
    std::fs::write(
        dir.path().join("Newsletters/new/1795800000.M9P2.fresh"),
        fresh,
    )
    .unwrap();
    let third = tidings(&cfg, &["run"], &env);
    let got = mail.received_for(&to[0]);
    assert_eq!(got.len(), 1, "{}", stderr(&third));
    let m = parse(&got[0]);
    assert!(
        m.subject.ends_with("(1 story)"),
        "only the new story: {}",
        m.subject
    );

    // A feed added with --only-new: what it lists now never comes, though the period allows
    // another digest with --force.
    let other = HttpServer::start(vec![(
        "/later.xml",
        Route::file("rss2.xml", "application/rss+xml"),
    )]);
    let add = tidings(
        &cfg,
        &[
            "feeds",
            "add",
            &other.url("/later.xml"),
            "--name",
            "Later",
            "--only-new",
        ],
        &env,
    );
    assert_eq!(add.status.code(), Some(0), "{}", stderr(&add));
    assert!(
        stderr(&add).contains("count as delivered"),
        "{}",
        stderr(&add)
    );
    let fourth = tidings(&cfg, &["run", "--force"], &env);
    assert!(
        stderr(&fourth).contains("nothing new"),
        "{}",
        stderr(&fourth)
    );
    assert_eq!(mail.received_for(&to[0]).len(), 1);
}

/// Maildir and mbox read each message once: a Maildir file older than the cut-off is never
/// opened, a settled one not again (even after a flag change moves it to cur/), an mbox is
/// read from where the last run stopped and from the start only once it was rewritten.
#[test]
fn local_mailboxes_read_each_message_once() {
    let mail = MailEnv::get();
    let dir = tempfile::tempdir().unwrap();
    let to = format!("local-once-{}@example.org", nonce());
    let now = chrono::Utc::now().to_rfc2822();
    let maildir = empty_maildir(dir.path(), "Local");
    let put = |name: &str, bytes: &[u8]| {
        let path = maildir.join("new").join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    for n in 0..3 {
        put(
            &format!("17900{n}.M1.host"),
            &synthetic_issue(n, "news@quay.example", &now, 0),
        );
    }
    // Files from a year ago that are not even mail: reading one would be a warning.
    let a_year_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(365 * 86_400);
    for n in 0..50 {
        let path = put(&format!("16000{n}.M1.host"), b"\x00\x01 not a message");
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(a_year_ago)
            .unwrap();
    }
    let mbox = dir.path().join("archive.mbox");
    let entry = |n: usize| {
        let mut e = b"From news@quay.example Wed Dec  2 08:00:00 2026\n".to_vec();
        e.extend(synthetic_issue(n, "news@quay.example", &now, 0));
        e.extend(b"\n");
        e
    };
    // Made once: each carries its own Message-ID.
    let entries: Vec<Vec<u8>> = (10..14).map(entry).collect();
    let first_three: Vec<u8> = entries[..3].concat();
    std::fs::write(&mbox, &first_three).unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"{head}
[[mailboxes]]
type = "maildir"
name = "Local"
path = "Local"

[[mailboxes]]
type = "mbox"
name = "Archive"
path = "archive.mbox"
"#,
            head = starttls_config("Local mail", &mail, &to),
        ),
    )
    .unwrap();
    let env = [(PASSWORD_VAR, mail.password.as_str())];
    let run = || {
        let out = tidings(&cfg, &["run"], &env);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stderr(&out)
    };
    let digests = || -> Vec<String> {
        mail.received_for(&to)
            .iter()
            .map(|raw| parse(raw).text)
            .collect()
    };

    run();
    let got = digests();
    assert_eq!(got.len(), 1);
    for n in [0, 2, 10, 12] {
        assert!(got[0].contains(&format!("Issue {n} story 1")), "{}", got[0]);
    }
    assert!(!got[0].contains("not a parsable"), "{}", got[0]);

    // The digested files become unreadable and one moves to cur/ with a flag: none is read.
    for n in 0..3 {
        std::fs::write(
            maildir.join("new").join(format!("17900{n}.M1.host")),
            b"\x00 gone",
        )
        .unwrap();
    }
    std::fs::rename(
        maildir.join("new/179000.M1.host"),
        maildir.join("cur/179000.M1.host:2,S"),
    )
    .unwrap();
    let quiet = run();
    assert!(quiet.contains("nothing new"), "{quiet}");
    assert_eq!(digests().len(), 1);

    // New mail in both: only it.
    put(
        "1790099.M1.host",
        &synthetic_issue(3, "news@quay.example", &now, 0),
    );
    let mut appended = first_three.clone();
    appended.extend(&entries[3]);
    std::fs::write(&mbox, &appended).unwrap();
    run();
    let got = digests();
    assert_eq!(got.len(), 2);
    let newest = got.iter().find(|t| t.contains("Issue 13 story 1")).unwrap();
    assert!(newest.contains("Issue 3 story 1"), "{newest}");
    assert!(
        !newest.contains("Issue 10 story") && !newest.contains("Issue 0 story"),
        "{newest}"
    );

    // The mbox rewritten (its first message expunged): scanned again from the start, and
    // nothing already digested comes back.
    let rewritten: Vec<u8> = entries[1..].concat();
    std::fs::write(&mbox, &rewritten).unwrap();
    let quiet = run();
    assert!(quiet.contains("nothing new"), "{quiet}");
    assert_eq!(digests().len(), 2);

    let sources = stdout(&tidings(&cfg, &["sources"], &env));
    assert!(sources.contains("4 examined: 4 used"), "{sources}");
    assert!(sources.contains("3 examined: 3 used"), "{sources}");
}

/// The `[digest]` to `[smtp]` tables of a config that sends to `to` over STARTTLS, with
/// its state in `state/` beside the config.
fn starttls_config(title: &str, mail: &MailEnv, to: &str) -> String {
    format!(
        r#"
[digest]
title = "{title}"
lookback = "7d"

[state]
path = "state/tidings.db"

[delivery]
from = "Tidings <digest@example.org>"
to = ["{to}"]

[smtp]
host = "{host}"
port = {port}
security = "starttls"
username = "{user}"
password_env = "{PASSWORD_VAR}"
ca_file = "{ca}"
"#,
        host = mail.host,
        port = mail.starttls_port,
        user = mail.user,
        ca = mail.ca.display(),
    )
}

/// An RSS 2.0 feed of (title, link, summary, hours ago) entries.
fn rss(name: &str, entries: &[(String, String, String, i64)]) -> String {
    let now = chrono::Utc::now();
    let items: String = entries
        .iter()
        .map(|(title, link, summary, hours)| {
            let date = (now - chrono::Duration::hours(*hours)).to_rfc2822();
            format!(
                "<item><title>{title}</title><link>{link}</link><guid>{link}</guid><description>{summary}</description><pubDate>{date}</pubDate></item>\n"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{name}</title><link>https://example.org/</link><description>d</description>\n{items}</channel></rss>"
    )
}

fn entry(title: &str, link: &str, summary: &str, hours: i64) -> (String, String, String, i64) {
    (title.into(), link.into(), summary.into(), hours)
}

/// The text part of the one digest for `to` that is not in `seen` (which it joins).
fn new_digest(mail: &MailEnv, to: &str, seen: &mut Vec<String>) -> String {
    let fresh: Vec<String> = mail
        .received_for(to)
        .into_iter()
        .filter(|r| !seen.contains(r))
        .collect();
    assert_eq!(fresh.len(), 1, "expected one new digest for {to}");
    seen.extend(fresh.iter().cloned());
    parse(&fresh[0]).text
}

/// "+N more from SOURCE" lines, summed over the topics.
fn held_from(text: &str, source: &str) -> usize {
    let suffix = format!(" more from {source}");
    text.lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix('+')?;
            let (n, rest) = l.split_once(' ')?;
            format!(" {rest}")
                .starts_with(&suffix)
                .then(|| n.parse::<usize>().ok())?
        })
        .sum()
}

/// Ranking through the whole pipeline: a story four of the reader's sources carry (three
/// feeds over HTTP, one newsletter in a Maildir) leads the digest; a loud feed is cut to its
/// cap and the rest come in the next digest; and on day 2 a new report of day 1's story is a
/// follow-up line (an update) or not shown (a bare repeat), while a different story sharing
/// its words is new.
#[test]
fn rank_leads_with_coverage_caps_loud_sources_and_remembers_what_was_sent() {
    let mail = MailEnv::get();
    let dir = tempfile::tempdir().unwrap();
    let to = format!("rank-{}@example.org", nonce());
    let env = [(PASSWORD_VAR, mail.password.as_str())];
    let ferry = "Ferry capsizes off Lesbos island, dozens rescued";
    let ferry_summary = "A ferry carrying 300 passengers capsized near Mytilene on Lesbos; the coast guard rescued dozens.";
    let loud: Vec<_> = (0..200)
        .map(|i| {
            entry(
                &format!(
                    "Loud Daily item {i}: note on {} markets",
                    ["grain", "steel", "copper", "cotton"][i % 4]
                ),
                &format!("https://loud.example/{i}"),
                "A short market note.",
                1 + i as i64 / 10,
            )
        })
        .collect();
    let day1 = HttpServer::start(vec![
        (
            "/herald.xml",
            Route::body(
                200,
                "application/rss+xml",
                &rss(
                    "Harbour Herald",
                    &[
                        entry(
                            "Council approves new cycling budget",
                            "https://herald.example/budget",
                            "The council voted for more bike lanes.",
                            3,
                        ),
                        entry(ferry, "https://herald.example/ferry", ferry_summary, 26),
                    ],
                ),
            ),
        ),
        (
            "/times.xml",
            Route::body(
                200,
                "application/rss+xml",
                &rss(
                    "Island Times",
                    &[entry(
                        ferry,
                        "https://times.example/ferry",
                        ferry_summary,
                        26,
                    )],
                ),
            ),
        ),
        (
            "/wire.xml",
            Route::body(
                200,
                "application/rss+xml",
                &rss(
                    "Coast Wire",
                    &[entry(
                        ferry,
                        "https://wire.example/ferry",
                        ferry_summary,
                        25,
                    )],
                ),
            ),
        ),
        (
            "/loud.xml",
            Route::body(200, "application/rss+xml", &rss("Loud Daily", &loud)),
        ),
    ]);
    let maildir = empty_maildir(dir.path(), "News");
    let date = (chrono::Utc::now() - chrono::Duration::hours(24)).to_rfc2822();
    let letter = format!(
        "From: Aegean Letter <letter@aegean.example>\r\nTo: reader@example.org\r\nSubject: Aegean Letter\r\nDate: {date}\r\nMessage-ID: <aegean-1-{n}@aegean.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><h2>Aegean Letter</h2>\n\
         <h3><a href=\"https://letter.example/ferry\">{ferry}</a></h3><p>{ferry_summary}</p>\n\
         <h3><a href=\"https://letter.example/olives\">Olive harvest starts early on Crete</a></h3><p>Farmers began picking two weeks ahead of the usual date.</p>\n\
         <h3><a href=\"https://letter.example/museum\">Thessaloniki museum reopens its Byzantine wing</a></h3><p>The wing was closed for six years of restoration.</p>\n\
         </body></html>\r\n",
        n = nonce()
    );
    std::fs::write(maildir.join("new/1790000.M1.host"), letter).unwrap();
    let config = |feeds: &str| {
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            format!(
                r#"{head}
[[mailboxes]]
type = "maildir"
path = "News"
{feeds}"#,
                head = starttls_config("Ranked", &mail, &to),
            ),
        )
        .unwrap();
        path
    };
    let cfg = config(&format!(
        "[[feeds]]\nurl = \"{}\"\n[[feeds]]\nurl = \"{}\"\n[[feeds]]\nurl = \"{}\"\n[[feeds]]\nurl = \"{}\"\nmax_stories = 5\n",
        day1.url("/herald.xml"),
        day1.url("/times.xml"),
        day1.url("/wire.xml"),
        day1.url("/loud.xml"),
    ));

    let mut seen = Vec::new();
    let run = tidings(&cfg, &["run"], &env);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = new_digest(&mail, &to, &mut seen);
    let lead_at = text
        .find("Top stories\n===========")
        .expect("a lead section");
    let first_story = text[lead_at..]
        .find("\n* ")
        .map(|i| &text[lead_at + i + 3..])
        .unwrap();
    assert!(first_story.starts_with(ferry), "{text}");
    assert!(text.contains("In 4 of your sources:"), "{text}");
    assert_eq!(
        text.matches(&format!("* {ferry}")).count(),
        1,
        "shown once: {text}"
    );
    let lead_end = text[lead_at..]
        .find("\n\n\n")
        .map_or(text.len(), |i| lead_at + i);
    assert!(
        text[lead_end..].find("\n\n\n").is_some(),
        "topics follow the lead: {text}"
    );
    let loud_shown: Vec<usize> = (0..200)
        .filter(|i| text.contains(&format!("* Loud Daily item {i}:")))
        .collect();
    assert_eq!(
        loud_shown,
        [0, 1, 2, 3, 4],
        "the loud feed's best five: {text}"
    );
    assert_eq!(held_from(&text, "Loud Daily"), 195, "{text}");
    assert!(
        text.contains("Council approves new cycling budget"),
        "{text}"
    );

    // The next run sends what the cap held back, and nothing shown before.
    let run = tidings(&cfg, &["run"], &env);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = new_digest(&mail, &to, &mut seen);
    let loud_shown: Vec<usize> = (0..200)
        .filter(|i| text.contains(&format!("* Loud Daily item {i}:")))
        .collect();
    assert_eq!(loud_shown, [5, 6, 7, 8, 9], "{text}");
    assert_eq!(held_from(&text, "Loud Daily"), 190, "{text}");
    assert!(
        !text.contains(ferry) && !text.contains("cycling budget"),
        "{text}"
    );

    // Day 2: other outlets report the ferry again.
    let update = "Lesbos ferry capsize: death toll rises to 41";
    let repeat_link = "https://repeat.example/ferry-again";
    let timetable = "New ferry timetable for Lesbos island routes";
    let day2 = HttpServer::start(vec![
        (
            "/post.xml",
            Route::body(200, "application/rss+xml", &rss("Aegean Post", &[entry(
                update,
                "https://post.example/toll",
                "The death toll from the ferry capsize near Mytilene on Lesbos rose to 41, the coast guard said.",
                2,
            )])),
        ),
        (
            "/again.xml",
            Route::body(200, "application/rss+xml", &rss("Echo News", &[entry(ferry, repeat_link, "A ferry capsized near Mytilene on Lesbos; the coast guard rescued dozens.", 20)])),
        ),
        (
            "/travel.xml",
            Route::body(200, "application/rss+xml", &rss("Travel Desk", &[entry(
                timetable,
                "https://travel.example/timetable",
                "Summer sailings add a second daily crossing to Piraeus.",
                1,
            )])),
        ),
    ]);
    let cfg = config(&format!(
        "[[feeds]]\nurl = \"{}\"\n[[feeds]]\nurl = \"{}\"\n[[feeds]]\nurl = \"{}\"\n",
        day2.url("/post.xml"),
        day2.url("/again.xml"),
        day2.url("/travel.xml"),
    ));
    let run = tidings(&cfg, &["run"], &env);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = new_digest(&mail, &to, &mut seen);
    // The update and the repeat are one story here; the update speaks for it.
    // The text part wraps at 72 columns: the follow-up is its line and those under it.
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("- Update on"))
        .unwrap_or_else(|| panic!("a follow-up line: {text}"));
    let line = lines[at..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        line.contains(&format!("\"{ferry}\": {update} (")) && line.contains("Aegean Post"),
        "{line}"
    );
    assert!(
        !text.contains(&format!("* {ferry}")) && !text.contains(&format!("* {update}")),
        "{text}"
    );
    assert!(
        !text.contains(repeat_link),
        "a bare repeat is not shown: {text}"
    );
    assert!(
        text.contains(&format!("* {timetable}")),
        "a different story is new: {text}"
    );
}

/// A sender's template is learnt from its own issues: a block that came in the first issue
/// (a standing "advertise with us" slot) is gone from the second, whose own stories all come.
#[test]
fn a_senders_standing_block_is_left_out_of_its_next_issue() {
    let mail = MailEnv::get();
    let dir = tempfile::tempdir().unwrap();
    let to = format!("template-{}@example.org", nonce());
    let now = chrono::Utc::now().to_rfc2822();
    let maildir = empty_maildir(dir.path(), "Local");
    let issue = |n: usize| {
        let standing = "<h3><a href=\"https://quay.example/advertise\">Advertise in Quay Notes this season</a></h3>\n\
             <p>Reach ten thousand harbour readers every week with one small box.</p>\n";
        let mut body = String::from_utf8(synthetic_issue(n, "news@quay.example", &now, 0)).unwrap();
        body = body.replace(
            "<h2>Quay Notes</h2>",
            &format!("<h2>Quay Notes</h2>\n{standing}"),
        );
        body.into_bytes()
    };
    std::fs::write(maildir.join("new/1790001.M1.host"), issue(1)).unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "{head}\n[[mailboxes]]\ntype = \"maildir\"\npath = \"Local\"\n",
            head = starttls_config("Template", &mail, &to),
        ),
    )
    .unwrap();
    let env = [(PASSWORD_VAR, mail.password.as_str())];
    let run = || {
        let out = tidings(&cfg, &["run"], &env);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    run();
    std::fs::write(maildir.join("new/1790002.M1.host"), issue(2)).unwrap();
    run();
    let got: Vec<String> = mail
        .received_for(&to)
        .iter()
        .map(|raw| parse(raw).text)
        .collect();
    assert_eq!(got.len(), 2);
    // The mail store lists messages in no particular order.
    let of = |n: usize| {
        got.iter()
            .find(|t| t.contains(&format!("Issue {n} story 1")))
            .unwrap_or_else(|| panic!("no digest of issue {n}: {got:?}"))
    };
    let (first, second) = (of(1), of(2));
    assert!(first.contains("Advertise in Quay Notes"), "{first}");
    for k in 1..=3 {
        assert!(second.contains(&format!("Issue 2 story {k}")), "{second}");
    }
    assert!(!second.contains("Advertise in Quay Notes"), "{second}");
}

#[test]
fn a_digest_filed_into_a_maildir_appears_whole_once_and_a_failure_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    maildir_with_one_issue(dir.path(), "Newsletters");
    let filed = dir.path().join("Mail/Digests");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        r#"
[digest]
title = "Filed digest"
lookback = "3650d"

[state]
path = "state/tidings.db"

[delivery]
from = "Tidings <digest@example.org>"
to = ["reader@example.org"]
maildir = "Mail/Digests"

[[mailboxes]]
type = "maildir"
path = "Newsletters"
"#,
    )
    .unwrap();

    // Where the Maildir should be there is a file: a clear error, nothing recorded.
    std::fs::create_dir_all(filed.parent().unwrap()).unwrap();
    std::fs::write(&filed, "not a directory").unwrap();
    let check = tidings(&cfg, &["check", "--offline"], &[]);
    assert_ne!(check.status.code(), Some(0), "{}", stdout(&check));
    let failed = tidings(&cfg, &["run"], &[]);
    assert_ne!(failed.status.code(), Some(0));
    let err = stderr(&failed);
    assert!(
        err.contains(&format!(
            "cannot file the digest into the Maildir `{}`",
            filed.display()
        )),
        "{err}"
    );

    // With the way clear, the same stories are filed: one message in new/, none left in tmp/.
    std::fs::remove_file(&filed).unwrap();
    let check = tidings(&cfg, &["check", "--offline"], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    assert!(stdout(&check).contains("will be created at the first delivery"));
    let first = tidings(&cfg, &["run"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("into the Maildir"),
        "{}",
        stderr(&first)
    );
    let files = |sub: &str| -> Vec<PathBuf> {
        std::fs::read_dir(filed.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    let new = files("new");
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(files("tmp").is_empty());
    let raw = read_to_string(&new[0]);
    let m = parse(&raw);
    assert!(m.subject.starts_with("Filed digest"), "{}", m.subject);
    assert!(
        m.text
            .contains("Rust compiler cuts incremental build times in half"),
        "{}",
        m.text
    );
    assert!(m.html.contains("<html"), "{}", m.html);

    // Recorded as delivered: a second run has nothing to file.
    let second = tidings(&cfg, &["run"], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(files("new").len(), 1);
}

/// `[[digests]]`: a news digest and a tech digest from one config, each with its recipients,
/// topics and sources, through the real SMTP server. A feed both take gives its stories to
/// both; each remembers what it sent in its own state file; preview needs to be told which.
#[test]
fn two_digests_from_one_config_each_get_their_sources_and_remember_on_their_own() {
    let mail = MailEnv::get();
    let http = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let news_to = format!("news-{}@example.org", nonce());
    let tech_to = format!("tech-{}@example.org", nonce());
    let text = format!(
        r#"{base}
[[feeds]]
url = "{rss}"
name = "Daily"

[[feeds]]
url = "{atom}"
name = "Wire"

[[feeds]]
url = "{json}"
name = "Lab"
{TOPICS}
[[digests]]
name = "news"
title = "Morning news"
to = ["{news_to}"]
topics = ["World"]
sources = ["Daily", "Wire"]

[[digests]]
name = "tech"
title = "Tech weekly"
to = ["{tech_to}"]
topics = ["Technology", "Science"]
sources = ["Daily", "Lab"]
schedule = "0 8 * * MON"
"#,
        base = starttls_config("Defaults", &mail, "nobody@example.org")
            .replace("lookback = \"7d\"", "lookback = \"3650d\""),
        rss = http.url("/rss2.xml"),
        atom = http.url("/atom.xml"),
        json = http.url("/jsonfeed.json"),
    );
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, &text).unwrap();
    let env = [(PASSWORD_VAR, mail.password.as_str())];

    let check = tidings(&cfg, &["check", "--offline"], &env);
    let report = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{report}");
    assert!(
        report.contains("digest news: 2 feeds, 0 mailboxes, 1 topics"),
        "{report}"
    );
    assert!(
        report.contains("ok    tech: schedule (At 08:00"),
        "{report}"
    );

    let run = tidings(&cfg, &["run"], &env);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains("news: sent: ") && err.contains(&news_to),
        "{err}"
    );
    assert!(
        err.contains("tech: sent: ") && err.contains(&tech_to),
        "{err}"
    );
    let news = mail.received_for(&news_to);
    let tech = mail.received_for(&tech_to);
    assert_eq!((news.len(), tech.len()), (1, 1));
    let (news, tech) = (parse(&news[0]), parse(&tech[0]));
    assert!(news.subject.starts_with("Morning news"), "{}", news.subject);
    assert!(tech.subject.starts_with("Tech weekly"), "{}", tech.subject);
    // Each its own sources: Wire only in the news, Lab only in tech; Daily in both.
    assert!(
        news.text
            .contains("Parliament ratifies regional trade treaty"),
        "{}",
        news.text
    );
    assert!(!tech.text.contains("Parliament ratifies"), "{}", tech.text);
    assert!(
        tech.text.contains("Telescope detects water vapour"),
        "{}",
        tech.text
    );
    assert!(!news.text.contains("Telescope detects"), "{}", news.text);
    for m in [&news, &tech] {
        assert!(
            m.text
                .contains("Rust compiler cuts incremental build times in half"),
            "a story both digests take goes to both: {}",
            m.text
        );
    }
    // Each its own topics: the news digest has no Technology heading.
    assert!(!news.text.contains("\nTechnology\n"), "{}", news.text);
    assert!(tech.text.contains("\nTechnology\n"), "{}", tech.text);
    for name in ["news", "tech"] {
        assert!(dir
            .path()
            .join(format!("state/tidings-{name}.db"))
            .is_file());
    }
    // `sources` reads each digest's own state: Lab is tech's, and it has run.
    let sources = tidings(&cfg, &["sources", "--json"], &env);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&sources)).unwrap();
    let status = |digest: &str, name: &str| {
        rows[digest]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(status("tech", "Lab").as_deref(), Some("ok"), "{rows}");
    assert_eq!(status("news", "Lab"), None, "{rows}");
    assert_eq!(status("news", "Wire").as_deref(), Some("ok"), "{rows}");
    let table = stdout(&tidings(&cfg, &["sources"], &env));
    assert!(table.starts_with("digest news:\nSOURCE"), "{table}");
    assert!(table.contains("digest tech:\nSOURCE"), "{table}");

    // Each remembers on its own: nothing new for tech; news can still be forced alone.
    let again = tidings(&cfg, &["run", "--digest", "tech"], &env);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("tech: nothing new"),
        "{}",
        stderr(&again)
    );
    assert_eq!(mail.received_for(&tech_to).len(), 1);
    assert_eq!(mail.received_for(&news_to).len(), 1);

    let wrong = tidings(&cfg, &["run", "--digest", "sports"], &env);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("the config has news, tech"),
        "{}",
        stderr(&wrong)
    );
    let out = dir.path().join("preview");
    let out_arg = out.to_str().unwrap();
    let both = tidings(&cfg, &["preview", "--out", out_arg], &env);
    assert_eq!(both.status.code(), Some(1));
    assert!(stderr(&both).contains("--digest NAME"), "{}", stderr(&both));
    let one = tidings(
        &cfg,
        &["preview", "--out", out_arg, "--digest", "news"],
        &env,
    );
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert!(read_to_string(&out.join("digest.txt")).starts_with("Morning news"));

    // A topic no [[topics]] has is named with file, line and key.
    std::fs::write(
        &cfg,
        text.replace("topics = [\"World\"]", "topics = [\"Wrld\"]"),
    )
    .unwrap();
    let bad = tidings(&cfg, &["check", "--offline"], &env);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(
        err.contains("`digests[0].topics`: there is no [[topics]] named `Wrld`"),
        "{err}"
    );
    assert!(err.contains("World"), "the fix is suggested: {err}");
}
