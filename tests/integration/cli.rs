//! The command line as a user meets it: config errors, `check`, `clean-url`.

use crate::common;

use common::*;

const MINIMAL: &str = r#"
[delivery]
from = "Tidings <digest@example.org>"
to = ["me@example.org"]

[smtp]
host = "127.0.0.1"
username = "me"
password_env = "TIDINGS_CLI_TEST_SECRET"
"#;

#[test]
fn a_misspelt_key_names_file_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, MINIMAL.replace("to = [", "recipents = [")).unwrap();
    let out = tidings(&cfg, &["check", "--offline"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:4:1: unknown key `recipents` in [delivery]",
            cfg.display()
        )),
        "{err}"
    );
    assert!(err.contains("known keys: from, to"), "{err}");
}

#[test]
fn check_reports_a_missing_secret_by_name_only_and_passes_when_set() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, MINIMAL).unwrap();
    let out = tidings(&cfg, &["check", "--offline"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        report.contains(
            "FAIL  SMTP password is available: environment variable `TIDINGS_CLI_TEST_SECRET`"
        ),
        "{report}"
    );

    let secret = "s3cret-value-never-printed";
    let ok = tidings(
        &cfg,
        &["check", "--offline"],
        &[("TIDINGS_CLI_TEST_SECRET", secret)],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("OK"));
    assert!(!stdout(&ok).contains(secret) && !stderr(&ok).contains(secret));
}

#[test]
fn check_names_a_broken_user_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tpl")).unwrap();
    std::fs::write(dir.path().join("tpl/digest.html"), "<p>\n{% if %}</p>").unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!("[digest]\ntemplates_dir = \"tpl\"\n{MINIMAL}"),
    )
    .unwrap();
    let out = tidings(
        &cfg,
        &["check", "--offline"],
        &[("TIDINGS_CLI_TEST_SECRET", "x")],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        report.contains("FAIL  templates render") && report.contains("tpl/digest.html"),
        "{report}"
    );
}

#[test]
fn the_config_is_found_through_tidings_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("elsewhere.toml");
    std::fs::write(&cfg, MINIMAL).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("check")
        .arg("--offline")
        .env("TIDINGS_CONFIG", &cfg)
        .env("TIDINGS_CLI_TEST_SECRET", "x")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("elsewhere.toml"));
}

#[test]
fn clean_url_from_arguments_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, format!("{MINIMAL}\n[links]\nstrip = [\"ref\"]\n")).unwrap();
    let args = tidings(
        &cfg,
        &["clean-url", "https://e.org/a?utm_source=x&id=1&ref=nl"],
        &[],
    );
    assert_eq!(
        stdout(&args),
        "https://e.org/a?id=1\n",
        "config [links] strip applies too"
    );
    let input = "https://www.zerohedge.com/geopolitical/x?utm_source=&utm_medium=email&utm_campaign=543\n\nhttps://e.org/keep?q=a+b,c\n";
    let piped = tidings_with_stdin(&cfg, &["clean-url", "--explain"], &[], Some(input));
    assert_eq!(
        stdout(&piped),
        "https://www.zerohedge.com/geopolitical/x\nhttps://e.org/keep?q=a+b,c\n"
    );
    assert!(
        stderr(&piped).contains("removed `utm_source`"),
        "{}",
        stderr(&piped)
    );
}

/// A URL that still tracks the reader after cleaning is printed (a script sees every line) but
/// named on stderr, and the exit code is 1; a reader that stops reading is not an error.
#[test]
fn clean_url_says_what_it_could_not_clean_and_survives_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, MINIMAL).unwrap();
    let out = tidings(
        &cfg,
        &[
            "clean-url",
            "https://e.org/a?id=1&utm_source=x",
            "https://acct.us21.list-manage.com/track/click?u=4a1f&id=9c1&e=b7c2",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "https://e.org/a?id=1\nhttps://acct.us21.list-manage.com/track/click?u=4a1f&id=9c1&e=b7c2\n"
    );
    let err = stderr(&out);
    assert!(
        err.contains("list-manage.com/track/click") && err.contains("still tracks the reader"),
        "{err}"
    );
    assert!(
        !err.contains("e.org/a"),
        "the clean URL is not named: {err}"
    );
    let clean = tidings(&cfg, &["clean-url", "https://e.org/a?id=1&fbclid=x"], &[]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));

    // `| head -1`: stdout closes after the first line; tidings stops quietly.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("-c")
        .arg(&cfg)
        .arg("clean-url")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        for i in 0..200_000 {
            if writeln!(stdin, "https://e.org/?utm_source={i}").is_err() {
                break;
            }
        }
    });
    {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first, "https://e.org/\n");
    } // stdout dropped: the pipe is closed
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// `preview --explain` end to end: digest.json says why each story sits where it is (merges,
/// keywords, the model) and which filter muted what, and the digest counts the muted.
/// The demo plus a one-story "Culture" topic: that small topic must not claim a world-news
/// story full of words no topic was seeded with (it did, before the model had topic priors).
#[test]
fn preview_explain_names_merges_topics_and_filters() {
    let (dir, config) = demo_with(
        r#"
[[feeds]]
url = "culture.xml"

[[topics]]
name = "Culture"
keywords = ["museum", "gallery", "film"]

[[filters]]
exclude = ["comet"]
"#,
    );
    std::fs::write(dir.path().join("culture.xml"), CULTURE_FEED).unwrap();
    let out = dir.path().join("out");
    let o = tidings(
        &config,
        &["preview", "--explain", "--out", out.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&read_to_string(&out.join("digest.json"))).unwrap();
    let explained = json["explain"]["stories"].as_array().unwrap();
    let story = |needle: &str| {
        explained
            .iter()
            .find(|s| s["title"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no story with {needle:?} in {explained:#?}"))
    };
    let museum = story("Museum opens a gallery");
    assert_eq!(museum["topic"], "Culture");
    assert!(
        museum["topic_reason"]
            .as_str()
            .unwrap()
            .starts_with("keyword `"),
        "{museum}"
    );
    // No keyword of any topic; on a batch this small the model's guess is shown, not used.
    let grain = story("grain corridor");
    assert_eq!(grain["topic"], "Other", "{grain}");
    let why = grain["topic_reason"].as_str().unwrap();
    assert!(
        why.contains("the model alone is not trusted") && why.contains("would say World"),
        "{grain}"
    );
    let merged = story("parallel front end");
    let reports = merged["merged"].as_array().expect("merge explained");
    assert_eq!(reports.len(), 2, "{merged}");
    assert!(
        reports.iter().any(|r| r["reason"]
            .as_str()
            .unwrap()
            .starts_with("exact: same link")),
        "{merged}"
    );
    // The filter: gone from the topics, named in explain, counted in the digest.
    let muted = json["explain"]["muted"].as_array().unwrap();
    assert_eq!(muted.len(), 1, "{muted:?}");
    assert!(muted[0]["title"].as_str().unwrap().contains("comet"));
    assert_eq!(muted[0]["filter"], "filters[0]: exclude `comet`");
    assert!(!explained
        .iter()
        .any(|s| s["title"].as_str().unwrap().contains("comet")));
    // "See also World Wire" under the Pacific treaty story in a plain-text newsletter is a
    // second outlet for that story (the newsletter tests check where it goes), not a story.
    assert!(!explained
        .iter()
        .any(|s| s["title"].as_str().unwrap().starts_with("See also")));
    let html = read_to_string(&out.join("digest.html"));
    assert!(html.contains("1 story muted by your filters"), "{html}");
    let text = read_to_string(&out.join("digest.txt"));
    assert!(text.contains("1 story muted by your filters"), "{text}");
}

/// A one-item feed about a museum, for the Culture topic above.
const CULTURE_FEED: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>\
    <title>Arts Desk</title><link>https://arts.example/</link><item><title>Museum opens a \
    gallery of film posters</title><link>https://arts.example/posters</link><guid>a1</guid>\
    <pubDate>Fri, 27 Nov 2026 04:00:00 GMT</pubDate><description>A short piece about an \
    exhibition of film posters.</description></item></channel></rss>";

/// `init` into a fresh XDG_CONFIG_HOME: the folder is created, the file is 0600, `feeds list`
/// and `check --offline` load it without `-c`, a second `init` refuses, and `--from-opml`
/// takes the outline's feeds instead of the sample.
#[test]
fn init_writes_a_starter_config_once() {
    let home = tempfile::tempdir().unwrap();
    let xdg = home.path().join("xdg");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
            .args(args)
            .env_remove("TIDINGS_CONFIG")
            .env_remove("RUST_LOG")
            .env("XDG_CONFIG_HOME", &xdg)
            .env("HOME", home.path())
            .output()
            .unwrap()
    };
    let out = run(&["init"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = xdg.join("tidings/config.toml");
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains(&path.display().to_string()), "{said}");
    assert!(
        said.contains("check") && said.contains("preview --open") && said.contains("* * *"),
        "{said}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let listed = run(&["feeds", "list"]);
    assert_eq!(
        listed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("https://"),
        "a sample feed"
    );
    let checked = run(&["check", "--offline"]);
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let before = std::fs::read(&path).unwrap();
    let again = run(&["init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the config is untouched"
    );

    let opml = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/opml/netnewswire.opml");
    let other = home.path().join("elsewhere/config.toml");
    let out = run(&[
        "init",
        other.to_str().unwrap(),
        "--from-opml",
        opml.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&other).unwrap();
    let wanted = std::fs::read_to_string(&opml)
        .unwrap()
        .matches("xmlUrl")
        .count();
    assert_eq!(
        text.lines().filter(|l| l.trim() == "[[feeds]]").count(),
        wanted,
        "{text}"
    );
    assert!(
        !text.contains("blog.rust-lang.org"),
        "the sample feed is replaced: {text}"
    );
}

/// Problems in plain words: an unresolvable host, a refused port, a 404, an HTML page and a
/// missing Maildir are five short footer lines naming the source and what went wrong, and
/// stderr through a pipe is one plain line each, without a single escape byte.
#[test]
fn source_problems_are_one_short_sentence_each() {
    let http = HttpServer::start(vec![
        ("/page", Route::file("not-a-feed.html", "text/html")),
        ("/gone", Route::status(404)),
        ("/good.xml", Route::file("rss2.xml", "application/rss+xml")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"{MINIMAL}
[[feeds]]
url = "{good}"
name = "Good"

[[feeds]]
url = "http://no-such-host.invalid/feed.xml"
name = "Nowhere"

[[feeds]]
url = "http://127.0.0.1:{closed}/feed.xml"
name = "Closed"

[[feeds]]
url = "{gone}"
name = "Missing page"

[[feeds]]
url = "{page}"
name = "Web page"

[[mailboxes]]
type = "maildir"
path = "{maildir}"
name = "Letters"
"#,
            good = http.url("/good.xml"),
            closed = closed_port(),
            gone = http.url("/gone"),
            page = http.url("/page"),
            maildir = dir.path().join("no-such-maildir").display(),
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let o = tidings(&cfg, &["preview", "--out", out_dir.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let text = std::fs::read_to_string(out_dir.join("digest.txt")).unwrap();
    let problems: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Sources with problems"))
        .skip(1)
        .take_while(|l| l.starts_with("- "))
        .collect();
    assert_eq!(problems.len(), 5, "{text}");
    for (name, words) in [
        ("Nowhere", "cannot resolve no-such-host.invalid"),
        ("Closed", "connection refused by 127.0.0.1"),
        ("Missing page", "HTTP 404"),
        ("Web page", "an HTML page, not a feed"),
        ("Letters", "does not exist"),
    ] {
        assert!(
            problems
                .iter()
                .any(|l| l.contains(name) && l.contains(words)),
            "{name}: {words} in {problems:#?}"
        );
    }
    for l in &problems {
        assert!(l.chars().count() < 100, "too long: {l}");
        assert!(!l.contains("error sending request"), "{l}");
    }
    let err = stderr(&o);
    assert!(
        !err.contains('\u{1b}'),
        "no escape bytes through a pipe: {err:?}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("warning: Nowhere: ") && l.contains("cannot resolve")),
        "{err}"
    );
    // The structured form on request: one JSON object per event.
    let j = tidings(
        &cfg,
        &[
            "--log-format",
            "json",
            "preview",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &[],
    );
    let first = stderr(&j).lines().next().unwrap_or("").to_string();
    let v: serde_json::Value =
        serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert_eq!(v["level"], "WARN", "{first}");
}

/// A newsletter whose mail service rewrites every link into an opaque per-recipient token on
/// its own host (the `List-Unsubscribe` host): no such link is published, each story keeps
/// its title, and the footer says how many links were left out and how to resolve them.
#[test]
fn a_newsletters_own_click_tracker_is_never_published() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = empty_maildir(dir.path(), "Letters");
    let story = |token: &str, title: &str| {
        format!(
            "<tr><td><h2><a href=\"https://click.orchard-mail.example/go/7/{token}.html\">{title}</a></h2><p>Growers in the valley report a record harvest of heritage varieties this autumn, with cider presses running late into the night.</p></td></tr>"
        )
    };
    let html = format!(
        "<html><body><table>{}{}{}</table><p><a href=\"https://click.orchard-mail.example/go/7/Q9X2K7VB-5512ZT4W-8HQ3.html\">Unsubscribe</a></p></body></html>",
        story("Q9X2K7VB-5512ZT4W-1AB7C9", "Heritage apples return to the valley"),
        story("Q9X2K7VB-5512ZT4W-2CD8E1", "Cider presses run through the night"),
        story("Q9X2K7VB-5512ZT4W-3EF9G2", "A frost warning for late pears"),
    );
    let msg = format!(
        "From: Orchard Weekly <news@orchard-mail.example>\r\nTo: me@example.org\r\nSubject: Orchard Weekly\r\nDate: Tue, 01 Dec 2026 07:00:00 +0000\r\nMessage-ID: <ow-48@orchard-mail.example>\r\nList-Unsubscribe: <https://click.orchard-mail.example/u/Q9X2K7VB-5512ZT4W>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    );
    std::fs::write(maildir.join("new/1796100000.M1P1.orchard"), msg).unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!("{MINIMAL}\n[digest]\nlookback = \"3650d\"\n\n[[mailboxes]]\ntype = \"maildir\"\npath = \"Letters\"\n"),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let o = tidings(&cfg, &["preview", "--out", out_dir.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(out_dir.join("digest.txt")).unwrap();
    let html = std::fs::read_to_string(out_dir.join("digest.html")).unwrap();
    assert!(
        text.contains("Heritage apples return to the valley"),
        "{text}"
    );
    assert!(!text.contains("click.orchard-mail.example"), "{text}");
    assert!(!html.contains("click.orchard-mail.example"), "{html}");
    assert!(text.contains("links were left out"), "{text}");
    assert!(text.contains("resolve_redirects = true"), "{text}");
}

/// A podcast in windows-1252 announced only by the HTTP charset, with relative links and an
/// `itunes:duration`, and a YouTube channel with a Short, over real HTTP: the digest reads the
/// text right, links the episode and its audio, says how long they run, marks the Short, and
/// a filter on its category mutes it.
#[test]
fn podcasts_and_videos_get_listen_and_watch_lines() {
    let http = HttpServer::start(vec![
        (
            "/shows/feed.xml",
            Route::file(
                "podcast-windows-1252.xml",
                "application/rss+xml; charset=windows-1252",
            ),
        ),
        (
            "/videos.atom",
            Route::file("videos.atom", "application/atom+xml"),
        ),
    ]);
    let feeds = format!(
        "[[feeds]]\nurl = \"{}\"\n\n[[feeds]]\nurl = \"{}\"\n",
        http.url("/shows/feed.xml"),
        http.url("/videos.atom")
    );
    let (dir, config) = demo_with(&feeds);
    let out = dir.path().join("out");
    let preview = |config: &std::path::Path| {
        let o = tidings(config, &["preview", "--out", out.to_str().unwrap()], &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        read_to_string(&out.join("digest.txt"))
    };
    let text = preview(&config);
    let episode = http.url("/shows/episodes/12");
    let audio = http.url("/shows/audio/12.mp3");
    assert!(
        text.contains("* Caf\u{e9} owners \u{2013} episode 12"),
        "{text}"
    );
    assert!(text.contains(&format!("  {episode}\n")), "{text}");
    assert!(
        text.contains(&format!("  Listen (46 min): {audio}")),
        "{text}"
    );
    assert!(
        text.contains("  Watch (13 min): https://www.youtube.com/watch?v=tour1"),
        "{text}"
    );
    assert!(text.contains("We unpack the lathe"), "{text}");
    let short = text
        .lines()
        .skip_while(|l| !l.contains("Sharpening a gouge"))
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(short.contains("· Short"), "{text}");
    let html = read_to_string(&out.join("digest.html"));
    // The stylesheet is inlined, so the link carries a style attribute.
    let listen = html
        .split(&format!("<a href=\"{audio}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no link to the audio in {html}"));
    assert!(listen.contains(">Listen</a> (46 min)"), "{html}");

    let muted = format!(
        "{}\n[[filters]]\nexclude = [\"YouTube Short\"]\n",
        read_to_string(&config)
    );
    std::fs::write(&config, muted).unwrap();
    let text = preview(&config);
    assert!(!text.contains("Sharpening a gouge"), "{text}");
    assert!(text.contains("A tour of the new lathe"), "{text}");
}

/// `tidings completions SHELL` and `tidings man` need no config, name every subcommand, and
/// stop quietly when the reader closes the pipe.
#[test]
fn completions_and_the_man_page_cover_every_subcommand_without_a_config() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
            .args(args)
            .env_remove("TIDINGS_CONFIG")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .unwrap()
    };
    let subcommands = [
        "init",
        "preview",
        "run",
        "daemon",
        "check",
        "sources",
        "clean-url",
        "feeds",
    ];
    let man = run(&["man"]);
    assert_eq!(man.status.code(), Some(0), "{}", stderr(&man));
    let page = stdout(&man);
    assert!(page.contains(".TH tidings 1"), "{page}");
    for sub in subcommands {
        assert!(
            page.contains(&format!("tidings\\-{}", sub.replace('-', "\\-"))),
            "{sub}: {page}"
        );
    }
    for (shell, registers) in [
        ("bash", "complete -F _tidings"),
        ("zsh", "#compdef tidings"),
        ("fish", "complete -c tidings"),
    ] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(registers), "{shell}: {script}");
        for sub in subcommands {
            assert!(script.contains(sub), "{shell} lacks {sub}");
        }
    }
    let wrong = run(&["completions", "cmd.exe"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("possible values"),
        "{}",
        stderr(&wrong)
    );

    assert!(page.contains("Exit status"), "{page}");

    // `man --dir`: one page per subcommand, each a page of its own.
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let out = run(&["man", "--dir", pages.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for sub in subcommands {
        let page = read_to_string(&pages.join(format!("tidings-{sub}.1")));
        assert!(
            page.contains(&format!(".TH tidings-{sub} 1")),
            "{sub}: {page}"
        );
    }
    assert!(read_to_string(&pages.join("tidings-run.1")).contains("\\-\\-dry\\-run"));
}

/// A crontab-style schedule (names of days, a nickname) is accepted, and `check` says in words
/// when it fires and when next, in the configured zone; a misspelt day is named.
#[test]
fn check_tells_when_a_crontab_schedule_fires_next() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    let with = |schedule: &str| {
        format!("[digest]\nschedule = \"{schedule}\"\ntimezone = \"Europe/Berlin\"\n{MINIMAL}")
    };
    std::fs::write(&cfg, with("30 6 * * MON-FRI")).unwrap();
    let out = tidings(
        &cfg,
        &["check", "--offline"],
        &[("TIDINGS_CLI_TEST_SECRET", "x")],
    );
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("schedule"))
        .unwrap_or_else(|| panic!("no schedule line: {text}"));
    assert!(line.starts_with("ok"), "{line}");
    assert!(line.contains("06:30"), "{line}");
    assert!(
        ["Mon ", "Tue ", "Wed ", "Thu ", "Fri "]
            .iter()
            .any(|d| line.contains(&format!("next {d}"))),
        "{line}"
    );
    assert!(line.contains("CE"), "Berlin time: {line}");

    std::fs::write(&cfg, with("@weekly")).unwrap();
    let out = tidings(
        &cfg,
        &["check", "--offline"],
        &[("TIDINGS_CLI_TEST_SECRET", "x")],
    );
    assert!(stdout(&out).contains("next Sun "), "{}", stdout(&out));

    std::fs::write(&cfg, with("30 6 * * MON-FRY")).unwrap();
    let out = tidings(&cfg, &["check", "--offline"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(":2:12: `digest.schedule`"), "{err}");
    assert!(err.contains("FRY"), "{err}");
}

/// `security = "none"` (a relay on the same host, as the demo's config has it): the demo's
/// digest goes out over plain SMTP to the test server, is accepted, and a second run sends
/// nothing, because what was delivered was recorded.
#[test]
fn the_demo_delivers_over_plain_smtp_once() {
    let mail = MailEnv::get();
    let to = format!("plain-{}@example.org", nonce());
    let (_dir, config) = demo_with("");
    let text = read_to_string(&config)
        .replace("host = \"localhost\"", &format!("host = \"{}\"", mail.host))
        .replace("port = 25", &format!("port = {}", mail.plain_port))
        .replace("to = [\"you@example.org\"]", &format!("to = [\"{to}\"]"));
    assert!(
        text.contains(&to) && text.contains("security = \"none\""),
        "{text}"
    );
    std::fs::write(&config, text).unwrap();

    let first = tidings(&config, &["run"], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 1, "one digest accepted");
    assert!(got[0].contains("Tidings demo digest"), "{}", got[0]);

    let second = tidings(&config, &["run"], &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(mail.received_for(&to).len(), 1, "the demo was sent twice");
}
