//! Editing the config from the command line (`feeds`, `recipients`, `topics`): through the real
//! binary, with `feeds add` fetching from a local HTTP server. Every edit must leave the rest of
//! the file byte for byte as it was, and a refused edit must leave the file untouched.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use tidings::config::{Config, FeedLocation};

/// A config as a person keeps it: comments above, beside and below everything, odd spacing,
/// single quotes, a multi-line list, a commented-out feed, a note at the end of the file.
const COMMENTED: &str = r#"# My tidings config — hand-written, please keep my notes!
#   (edited on the train; the spacing below is on purpose)

[digest]
title   =   'Evening digest'   # single quotes, odd spacing
lookback = "3d"

[delivery]
from = "Tidings <digest@example.org>"
to = [
    "me@example.org",                  # me
    "Partner <partner@example.org>",   # my partner
]  # both of us

[smtp]
host = "127.0.0.1"    # local relay
password_env = "TIDINGS_EDIT_TEST_SECRET"

# ---- feeds ---------------------------------------------------------
# Feeds I read every morning.

[[feeds]]
# the main one
url = "{BASE}/rss2.xml?utm_source=newsletter"   # with tracking, as I pasted it
name = "Daily"  # short name
topic = "Technology"

[[feeds]]
url = "https://blog.example.net/atom.xml"
# no name: use the feed's title

# [[feeds]]
# url = "https://disabled.example.org/feed"   # paused for now

# ---- topics --------------------------------------------------------
[[topics]]
name = "Technology"   # first topic
keywords = ["rust", "cpu"]
# end of file: nothing below this line
"#;

const PAGE_WITH_FEED: &str = r#"<!DOCTYPE html>
<html><head><title>Fixture Wire</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/atom+xml" title="Fixture Wire" href="../feeds/atom.xml">
</head><body><h1>Fixture Wire</h1></body></html>"#;

const PAGE_WITHOUT_FEED: &str = r#"<!DOCTYPE html>
<html><head><title>A shop</title><link rel="alternate" hreflang="de" href="/de/"></head>
<body>No feed here.</body></html>"#;

fn server() -> HttpServer {
    HttpServer::start(vec![
        ("/rss2.xml", Route::file("rss2.xml", "application/rss+xml")),
        (
            "/feeds/atom.xml",
            Route::file("atom.xml", "application/atom+xml"),
        ),
        (
            "/feed.json",
            Route::file("jsonfeed.json", "application/feed+json"),
        ),
        ("/site/", Route::body(200, "text/html", PAGE_WITH_FEED)),
        ("/shop/", Route::body(200, "text/html", PAGE_WITHOUT_FEED)),
        (
            "/plain.txt",
            Route::body(200, "text/plain", "just some text\n"),
        ),
        (
            "/broken-link/",
            Route::body(
                200,
                "text/html",
                r#"<html><head><link rel="alternate" type="application/rss+xml" href="/gone.xml"></head></html>"#,
            ),
        ),
    ])
}

/// A temp folder with `config.toml` holding `text` (`{BASE}` replaced by the server's base).
fn config_with(text: &str, srv: &HttpServer) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = text.replace("{BASE}", &srv.base);
    std::fs::write(&path, &text).unwrap();
    (dir, path, text)
}

/// Asserts that `new` is `old` with exactly one block of lines inserted, and returns that
/// block. Lines are compared with their line ends, so any other change fails.
fn inserted_block(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    assert_eq!(
        prefix + suffix,
        a.len(),
        "lines of the original were changed or removed:\n--- old\n{old}\n--- new\n{new}"
    );
    b[prefix..b.len() - suffix].concat()
}

fn load(path: &Path) -> Config {
    Config::load(path).unwrap_or_else(|e| panic!("the edited config does not load: {e}"))
}

fn urls(cfg: &Config) -> Vec<String> {
    cfg.feeds.iter().map(|f| f.location.to_string()).collect()
}

#[test]
fn feeds_add_keeps_every_comment_and_byte_outside_the_added_block() {
    let srv = server();
    let (_dir, cfg, before) = config_with(COMMENTED, &srv);
    let url = srv.url("/feeds/atom.xml");
    let out = tidings(&cfg, &["feeds", "add", &url, "--topic", "Science"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = read_to_string(&cfg);
    let block = inserted_block(&before, &after);
    // The feed's own title is its name; the block goes below the comment that hangs under the
    // last feed, and above the commented-out feed and the topics.
    assert_eq!(
        block,
        format!("[[feeds]]\nurl = \"{url}\"\nname = \"Fixture Wire\"\ntopic = \"Science\"\n\n")
    );
    let at = after.find(&block).unwrap();
    assert!(
        after[..at].ends_with("# no name: use the feed's title\n\n"),
        "{after}"
    );
    assert!(
        after[at + block.len()..].starts_with("# [[feeds]]\n"),
        "{after}"
    );

    let loaded = load(&cfg);
    assert_eq!(loaded.feeds.len(), 3);
    assert_eq!(
        loaded.feeds[2].location,
        FeedLocation::Url(url.parse().unwrap())
    );
    assert_eq!(loaded.feeds[2].topic.as_deref(), Some("Science"));

    // And a second one goes after the first, again touching nothing else.
    let json = srv.url("/feed.json");
    let out = tidings(&cfg, &["feeds", "add", &json, "--name", "JSON"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let third = read_to_string(&cfg);
    assert_eq!(
        inserted_block(&after, &third),
        format!("[[feeds]]\nurl = \"{json}\"\nname = \"JSON\"\n\n")
    );
    assert_eq!(urls(&load(&cfg))[3], json);

    let list = stdout(&tidings(&cfg, &["feeds", "list"], &[]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "Daily\t{}/rss2.xml?utm_source=newsletter\tTechnology",
                srv.base
            ),
            "-\thttps://blog.example.net/atom.xml\t-".to_string(),
            format!("Fixture Wire\t{url}\tScience"),
            format!("JSON\t{json}\t-"),
        ]
    );
}

#[test]
fn feeds_add_keeps_the_layout_of_other_configs() {
    // Through the library, layouts the main test does not have: a config with no feeds yet,
    // one whose feeds are followed by a blank line and a section comment, and a file that ends
    // right after the last feed without a newline.
    let cases = [
        (
            "[delivery]\nfrom = \"a@example.org\"\nto = [\"b@example.org\"] # me\ntransport = \"sendmail\"\n\n# topics come later\n",
            "[[feeds]]\nurl = \"https://new.example.org/feed\"",
        ),
        (
            "[delivery]\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\ntransport = \"sendmail\"\n\n[[feeds]]\nurl = \"https://a.example.org/feed\" # A\n\n# --- topics ---\n[[topics]]\nname = \"X\"\n",
            "[[feeds]]\nurl = \"https://new.example.org/feed\"",
        ),
        (
            "[delivery]\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\ntransport = \"sendmail\"\n\n[[feeds]]\nurl = \"https://a.example.org/feed\"",
            "[[feeds]]\nurl = \"https://new.example.org/feed\"",
        ),
    ];
    for (before, want) in cases {
        let mut file =
            tidings::edit::ConfigFile::from_text(Path::new("/tmp/config.toml"), before.to_string())
                .unwrap();
        file.add_feed("https://new.example.org/feed", None, None)
            .unwrap();
        let after = file.render();
        // A file without a final newline gets one where the new table starts.
        let old = if before.ends_with('\n') {
            before.to_string()
        } else {
            format!("{before}\n")
        };
        assert_eq!(inserted_block(&old, &after).trim(), want, "{after}");
        file.validate().unwrap();
    }
}

#[test]
fn feeds_add_discovers_the_feed_of_a_web_page() {
    let srv = server();
    let (_dir, cfg, before) = config_with(COMMENTED, &srv);
    let out = tidings(&cfg, &["feeds", "add", &srv.url("/site/")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // `../feeds/atom.xml` on `/site/` is `/feeds/atom.xml`.
    let feed = srv.url("/feeds/atom.xml");
    assert!(
        stderr(&out).contains(&format!("its feed is {feed}")),
        "{}",
        stderr(&out)
    );
    let after = read_to_string(&cfg);
    assert_eq!(
        inserted_block(&before, &after),
        format!("[[feeds]]\nurl = \"{feed}\"\nname = \"Fixture Wire\"\n\n")
    );
    let paths: Vec<String> = srv.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/site/", "/feeds/atom.xml"]);
}

/// Runs `feeds add URL` and asserts it was refused, the file untouched; returns stderr.
fn refused(srv: &HttpServer, url: &str) -> String {
    let (_dir, cfg, before) = config_with(COMMENTED, srv);
    let out = tidings(&cfg, &["feeds", "add", url], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        read_to_string(&cfg),
        before,
        "a refused add changed the file"
    );
    let leftovers: Vec<_> = std::fs::read_dir(cfg.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["config.toml"],
        "temporary files were left behind"
    );
    stderr(&out)
}

#[test]
fn feeds_add_refuses_what_is_not_a_feed_and_says_why() {
    let srv = server();
    let err = refused(&srv, &srv.url("/shop/"));
    assert!(
        err.contains(&format!(
            "`{}` is an HTML page that names no feed",
            srv.url("/shop/")
        )),
        "{err}"
    );
    let err = refused(&srv, &srv.url("/missing.xml"));
    assert!(
        err.contains(&format!(
            "cannot fetch `{}`: HTTP 404",
            srv.url("/missing.xml")
        )),
        "{err}"
    );
    let err = refused(&srv, &srv.url("/plain.txt"));
    assert!(
        err.contains("is not a feed: malformed feed: neither XML nor JSON"),
        "{err}"
    );
    let err = refused(&srv, &srv.url("/broken-link/"));
    assert!(
        err.contains(&format!(
            "names `{}` as its feed, but it cannot be fetched: HTTP 404",
            srv.url("/gone.xml")
        )),
        "{err}"
    );
    let err = refused(
        &srv,
        &format!("http://127.0.0.1:{}/feed.xml", closed_port()),
    );
    assert!(err.contains("cannot fetch"), "{err}");
}

#[test]
fn feeds_add_refuses_a_feed_already_in_the_config_without_fetching_it() {
    let srv = server();
    // The config has `{BASE}/rss2.xml?utm_source=newsletter`: without the tracking parameter,
    // with a trailing slash and a fragment it is the same feed.
    let same = format!("{}/rss2.xml/#latest", srv.base);
    let err = refused(&srv, &same);
    assert!(
        err.contains("config.toml:22: ")
            && err.contains("is already in the config as `feeds[0]` (`Daily`"),
        "{err}"
    );
    assert!(srv.requests().is_empty(), "a duplicate was fetched");

    // A page whose feed is already there is refused after discovery.
    let (_dir, cfg, _) = config_with(COMMENTED, &srv);
    assert_eq!(
        tidings(&cfg, &["feeds", "add", &srv.url("/feeds/atom.xml")], &[])
            .status
            .code(),
        Some(0)
    );
    let before = read_to_string(&cfg);
    let out = tidings(&cfg, &["feeds", "add", &srv.url("/site/")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is already in the config as `feeds[2]`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_to_string(&cfg), before);
}

#[test]
fn feeds_remove_by_name_and_by_url_takes_only_that_feed() {
    let srv = server();
    let (_dir, cfg, before) = config_with(COMMENTED, &srv);

    let out = tidings(&cfg, &["feeds", "remove", "Daily"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = read_to_string(&cfg);
    // The header and the keys with their inline comments go; the comments above the header
    // (the section's introduction) stay, and so does everything else, byte for byte.
    let daily = format!("[[feeds]]\n# the main one\nurl = \"{}/rss2.xml?utm_source=newsletter\"   # with tracking, as I pasted it\nname = \"Daily\"  # short name\ntopic = \"Technology\"\n\n", srv.base);
    assert_eq!(after, before.replacen(&daily, "", 1));
    assert_ne!(after, before);
    assert_eq!(urls(&load(&cfg)), ["https://blog.example.net/atom.xml"]);

    // By URL, written differently from the config.
    let out = tidings(
        &cfg,
        &["feeds", "remove", "http://www.blog.example.net/atom.xml/"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let last = read_to_string(&cfg);
    let blog = "[[feeds]]\nurl = \"https://blog.example.net/atom.xml\"\n";
    assert_eq!(last, after.replacen(blog, "", 1));
    assert_ne!(last, after);
    // Every comment line outside the removed tables is still there.
    for comment in COMMENTED
        .lines()
        .filter(|l| l.trim_start().starts_with('#') && *l != "# the main one")
    {
        assert!(last.contains(comment), "lost comment {comment:?}:\n{last}");
    }
    assert!(load(&cfg).feeds.is_empty());

    let out = tidings(&cfg, &["feeds", "remove", "Daily"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no feed is named `Daily` or has that URL; the feeds are:"));
    assert_eq!(read_to_string(&cfg), last);
}

#[test]
fn feeds_remove_unknown_lists_the_feeds() {
    let srv = server();
    let (_dir, cfg, before) = config_with(COMMENTED, &srv);
    let out = tidings(&cfg, &["feeds", "remove", "Weekly"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no feed is named `Weekly`"), "{err}");
    assert!(
        err.contains(&format!(
            "  Daily  {}/rss2.xml?utm_source=newsletter",
            srv.base
        )),
        "{err}"
    );
    assert!(
        err.contains("  -  https://blog.example.net/atom.xml"),
        "{err}"
    );
    assert_eq!(read_to_string(&cfg), before);
}

#[test]
fn recipients_add_and_remove_keep_the_list_layout_and_validate_the_address() {
    let srv = server();
    let (_dir, cfg, before) = config_with(COMMENTED, &srv);

    let out = tidings(&cfg, &["recipients", "add", "Kid <kid@example.org>"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = read_to_string(&cfg);
    // One address per line, same indent, trailing comma kept.
    assert_eq!(
        inserted_block(&before, &after),
        "    \"Kid <kid@example.org>\",\n"
    );
    assert_eq!(
        load(&cfg).delivery.to,
        [
            "me@example.org",
            "Partner <partner@example.org>",
            "Kid <kid@example.org>"
        ]
    );
    let list = stdout(&tidings(&cfg, &["recipients", "list"], &[]));
    assert_eq!(
        list,
        "me@example.org\nPartner <partner@example.org>\nKid <kid@example.org>\n"
    );

    // Invalid and duplicate addresses are refused; the file stays as it is.
    for (bad, why) in [
        ("not an address", "is not a valid email address"),
        ("kid@", "is not a valid email address"),
        ("KID@example.org", "is already a recipient"),
    ] {
        let out = tidings(&cfg, &["recipients", "add", bad], &[]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(stderr(&out).contains(why), "{bad}: {}", stderr(&out));
        assert_eq!(read_to_string(&cfg), after, "{bad} changed the file");
    }

    // Remove by bare address, though the list has it with a name.
    let out = tidings(&cfg, &["recipients", "remove", "partner@example.org"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let removed = read_to_string(&cfg);
    // The line goes, with its comment; the comment on the line above stays.
    assert_eq!(
        removed,
        after.replacen(
            "    \"Partner <partner@example.org>\",   # my partner\n",
            "",
            1
        )
    );
    assert_ne!(removed, after);
    assert_eq!(
        load(&cfg).delivery.to,
        ["me@example.org", "Kid <kid@example.org>"]
    );

    let out = tidings(&cfg, &["recipients", "remove", "nobody@example.org"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out)
        .contains("is not a recipient; the recipients are: me@example.org, Kid <kid@example.org>"));
}

#[test]
fn recipients_on_one_line_stay_on_one_line_and_the_last_one_cannot_go() {
    let srv = server();
    let text = COMMENTED.replace(
        "to = [\n    \"me@example.org\",                  # me\n    \"Partner <partner@example.org>\",   # my partner\n]  # both of us",
        "to = [ \"me@example.org\" ]  # just me",
    );
    let (_dir, cfg, before) = config_with(&text, &srv);
    assert_eq!(
        tidings(&cfg, &["recipients", "add", "b@example.org"], &[])
            .status
            .code(),
        Some(0)
    );
    let after = read_to_string(&cfg);
    assert_eq!(
        after,
        before.replace(
            "to = [ \"me@example.org\" ]  # just me\n",
            "to = [ \"me@example.org\", \"b@example.org\" ]  # just me\n"
        )
    );
    assert_eq!(
        tidings(&cfg, &["recipients", "remove", "me@example.org"], &[])
            .status
            .code(),
        Some(0)
    );
    assert!(read_to_string(&cfg).contains("to = [ \"b@example.org\" ]  # just me\n"));
    let out = tidings(&cfg, &["recipients", "remove", "b@example.org"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is the only recipient"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn topics_add_goes_after_the_last_topic_and_refuses_a_duplicate() {
    let srv = server();
    let (_dir, cfg, before) = config_with(COMMENTED, &srv);
    let out = tidings(
        &cfg,
        &[
            "topics",
            "add",
            "Science",
            "--keywords",
            "space, telescope,climate",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = read_to_string(&cfg);
    assert_eq!(
        inserted_block(&before, &after).trim(),
        "[[topics]]\nname = \"Science\"\nkeywords = [\"space\", \"telescope\", \"climate\"]"
    );
    // The end-of-file note stays the last line.
    assert!(
        after.ends_with("# end of file: nothing below this line\n"),
        "{after}"
    );
    let topics = load(&cfg).topics;
    assert_eq!(topics[1].name, "Science");
    assert_eq!(topics[1].keywords, ["space", "telescope", "climate"]);
    assert_eq!(
        stdout(&tidings(&cfg, &["topics", "list"], &[])),
        "Technology\trust, cpu\nScience\tspace, telescope, climate\n"
    );

    let out = tidings(&cfg, &["topics", "add", "technology"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("config.toml:36: there is already a topic named `technology`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_to_string(&cfg), after);
}

#[test]
fn an_edit_that_would_not_load_is_not_written() {
    // The config names a templates folder; it disappears before the edit is saved. The edited
    // text is checked as `run` would check it, so the write is refused.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tpl")).unwrap();
    let path = dir.path().join("config.toml");
    let text = "[digest]\ntemplates_dir = \"tpl\"\n\n[delivery]\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\ntransport = \"sendmail\"\n";
    std::fs::write(&path, text).unwrap();
    let mut file = tidings::edit::ConfigFile::open(&path).unwrap();
    file.add_recipient("c@example.org").unwrap();
    std::fs::remove_dir(dir.path().join("tpl")).unwrap();
    let err = file.save().unwrap_err();
    assert!(
        matches!(err, tidings::edit::EditError::WouldBreak { .. }),
        "{err:?}"
    );
    let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(
        chain.contains("the edited config would not load"),
        "{chain}"
    );
    assert!(chain.contains("config.toml:2:"), "{chain}");
    assert_eq!(read_to_string(&path), text);
}

#[test]
fn a_config_that_does_not_load_is_not_edited() {
    let srv = server();
    let broken = COMMENTED.replace("lookback = \"3d\"", "lookbak = \"3d\"");
    let (_dir, cfg, before) = config_with(&broken, &srv);
    let out = tidings(&cfg, &["recipients", "add", "x@example.org"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "{}:6:1: unknown key `lookbak` in [digest]",
            cfg.display()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_to_string(&cfg), before);
}

#[cfg(unix)]
#[test]
fn the_file_keeps_its_permissions_and_a_symlink_is_written_through() {
    use std::os::unix::fs::PermissionsExt;
    let srv = server();
    let (dir, cfg, _) = config_with(COMMENTED, &srv);
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&cfg, &link).unwrap();

    let out = tidings(&link, &["recipients", "add", "x@example.org"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(read_to_string(&cfg).contains("\"x@example.org\""));
    let mode = std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn a_file_changed_on_disk_during_the_edit_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = "[delivery]\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\ntransport = \"sendmail\"\n";
    std::fs::write(&path, text).unwrap();
    let mut file = tidings::edit::ConfigFile::open(&path).unwrap();
    file.add_recipient("c@example.org").unwrap();
    let someone_else = format!("{text}# edited meanwhile\n");
    std::fs::write(&path, &someone_else).unwrap();
    assert!(matches!(
        file.save(),
        Err(tidings::edit::EditError::Changed { .. })
    ));
    assert_eq!(read_to_string(&path), someone_else);
}
