//! OPML import and export through the binary, with subscription lists as other readers write
//! them (Feedly, Thunderbird, NetNewsWire; in `tests/fixtures/opml/`).

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use tidings::config::Config;

const FRESH: &str = r#"# digest for the household
[delivery]
from = "Tidings <digest@example.org>"
to = ["me@example.org"]   # just me for now
transport = "sendmail"
"#;

const EXISTING_FEED: &str = r#"
# the one feed I had before switching readers
[[feeds]]
url = "https://lwn.net/headlines/rss"
name = "LWN"   # my name for it
"#;

type FeedSet = BTreeSet<(String, Option<String>, Option<String>)>;

fn opml(name: &str) -> PathBuf {
    Path::new(FIXTURES).join("opml").join(name)
}

fn config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn feed_set(path: &Path) -> FeedSet {
    let cfg = Config::load(path).unwrap_or_else(|e| panic!("{e}"));
    cfg.feeds
        .iter()
        .map(|f| (f.location.to_string(), f.name.clone(), f.topic.clone()))
        .collect()
}

fn entry(url: &str, name: &str, topic: Option<&str>) -> (String, Option<String>, Option<String>) {
    (
        url.to_string(),
        Some(name.to_string()),
        topic.map(str::to_string),
    )
}

fn import(cfg: &Path, file: &Path) -> String {
    let out = tidings(cfg, &["import-opml", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stderr(&out)
}

#[test]
fn import_export_reimport_keeps_feeds_names_and_topics() {
    let dir = tempfile::tempdir().unwrap();
    let before = format!("{FRESH}{EXISTING_FEED}");
    let a = config(dir.path(), "a.toml", &before);

    // Feedly: 7 feeds in 3 categories (and an empty one); LWN is already there.
    let report = import(&a, &opml("feedly.opml"));
    assert!(report.contains("6 feeds added, 1 skipped"), "{report}");
    assert!(
        report.contains("skipped https://lwn.net/headlines/rss: ")
            && report.contains("`feeds[0]` (`LWN`"),
        "{report}"
    );
    // Everything before is kept; the feeds are appended after the last one.
    let after = read_to_string(&a);
    assert!(after.starts_with(&before), "{after}");
    assert!(after[before.len()..].starts_with("\n[[feeds]]\nurl = \"https://blog.rust-lang.org/feed.xml\"\nname = \"Rust Blog\"\ntopic = \"Tech\"\n"), "{after}");

    // Thunderbird: nested folders; NASA is a duplicate, and so is the Rust blog over http.
    let report = import(&a, &opml("thunderbird.opml"));
    assert!(report.contains("3 feeds added, 2 skipped"), "{report}");
    // NetNewsWire: top-level feeds without a folder; Julia Evans is a duplicate.
    let report = import(&a, &opml("netnewswire.opml"));
    assert!(report.contains("4 feeds added, 1 skipped"), "{report}");

    let imported = feed_set(&a);
    assert_eq!(imported.len(), 14, "{imported:#?}");
    for want in [
        entry("https://lwn.net/headlines/rss", "LWN", None),
        entry("https://jvns.ca/atom.xml", "Julia Evans", Some("Tech")),
        entry(
            "https://www.nasa.gov/rss/dyn/breaking_news.rss",
            "NASA Breaking News",
            Some("Science & Space"),
        ),
        entry(
            "https://feeds.bbci.co.uk/news/world/rss.xml?edition=uk",
            "BBC News - World",
            Some("World"),
        ),
        // The innermost folder is the topic; a feed directly in the outer folder gets that.
        entry(
            "https://www.esa.int/rssfeed/TopNews",
            "ESA Top News",
            Some("Space"),
        ),
        entry(
            "https://feeds.arstechnica.com/arstechnica/science",
            "Ars Technica - Science",
            Some("Science"),
        ),
        entry(
            "https://hacks.mozilla.org/feed/",
            "Mozilla Hacks – the Web developer blog",
            Some("Dev Blogs"),
        ),
        entry(
            "https://daringfireball.net/feeds/main",
            "Daring Fireball",
            None,
        ),
        entry(
            "https://simonwillison.net/atom/everything/",
            "Simon Willison's Weblog",
            Some("Programming"),
        ),
    ] {
        assert!(
            imported.contains(&want),
            "missing {want:?} in {imported:#?}"
        );
    }

    // Export, to a file and to stdout: the same document.
    let exported = dir.path().join("export.opml");
    let out = tidings(
        &a,
        &["export-opml", "--out", exported.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let to_stdout = stdout(&tidings(&a, &["export-opml"], &[]));
    assert_eq!(read_to_string(&exported), to_stdout);
    assert!(
        to_stdout.contains("<outline text=\"Science &amp; Space\" title=\"Science &amp; Space\">"),
        "{to_stdout}"
    );

    // Into a fresh config: the same feeds, names and topics.
    let b = config(dir.path(), "b.toml", FRESH);
    let report = import(&b, &exported);
    assert!(report.contains("14 feeds added, 0 skipped"), "{report}");
    assert_eq!(feed_set(&b), imported);
}

#[test]
fn importing_the_same_file_again_adds_nothing_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "config.toml", FRESH);
    import(&cfg, &opml("netnewswire.opml"));
    let once = read_to_string(&cfg);
    let modified = std::fs::metadata(&cfg).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = import(&cfg, &opml("netnewswire.opml"));
    assert!(report.contains("0 feeds added, 5 skipped"), "{report}");
    assert_eq!(read_to_string(&cfg), once);
    assert_eq!(
        std::fs::metadata(&cfg).unwrap().modified().unwrap(),
        modified
    );
}

#[test]
fn hostile_or_broken_opml_is_refused_and_the_config_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "config.toml", FRESH);
    let cases = [
        (
            "laughs.opml",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE opml [\n<!ENTITY a \"aaaaaaaaaaaaaaaa\">\n<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n]>\n<opml version=\"2.0\"><body>\n<outline text=\"&c;\" xmlUrl=\"https://a.example/feed\"/>\n</body></opml>\n",
            "laughs.opml:8: not well-formed XML",
        ),
        (
            "xxe.opml",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE opml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<opml version=\"2.0\"><body>\n<outline text=\"x\" title=\"&x;\" xmlUrl=\"https://a.example/feed\"/>\n</body></opml>\n",
            "xxe.opml:4: not well-formed XML",
        ),
        (
            "truncated.opml",
            "<opml version=\"2.0\"><body>\n<outline text=\"x\" xmlUrl=\"https://a.example/feed\"\n",
            "truncated.opml:",
        ),
        (
            "feed.xml",
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>x</title></channel></rss>\n",
            "is not OPML: its root element is `<rss>`",
        ),
    ];
    for (name, text, want) in cases {
        let file = config(dir.path(), name, text);
        let out = tidings(&cfg, &["import-opml", file.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(stderr(&out).contains(want), "{name}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("root:"),
            "{name}: file contents leaked"
        );
        assert_eq!(read_to_string(&cfg), FRESH, "{name} changed the config");
    }
}

#[test]
fn export_names_local_file_feeds_it_cannot_list() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "config.toml",
        &format!("{FRESH}\n[[feeds]]\nurl = \"feeds/local.xml\"\n\n[[feeds]]\nurl = \"https://a.example/feed\"\n"),
    );
    let out = tidings(&cfg, &["export-opml"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("local.xml` is a local file"),
        "{}",
        stderr(&out)
    );
    let xml = stdout(&out);
    // The unnamed feed is written with its URL as text, which import reads back as no name.
    assert!(xml.contains("<outline type=\"rss\" text=\"https://a.example/feed\" xmlUrl=\"https://a.example/feed\"/>"), "{xml}");
    assert!(!xml.contains("local.xml"), "{xml}");
    let parsed = tidings::opml::parse(&xml, Path::new("stdout")).unwrap();
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].title, None);
}
