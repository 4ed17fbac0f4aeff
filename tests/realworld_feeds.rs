//! The feed test suites of Universal Feed Parser and Miniflux, read from
//! `../shared/realworld/feeds/` (never copied here), scored against tidings' parser.
//!
//! Prints, and guards against regression: the share of well-formed feeds accepted, the
//! share of field assertions that agree (by field), the feeds feedparser recovers that
//! tidings recovers too, and the entries kept. Run with `-- --nocapture` to read it.
//!
//! feedparser's expectations are Python expressions over its result (`expect.rs` evaluates
//! them); Miniflux's are `path == literal` checks. Both are judged on a feedparser- (or
//! Miniflux-) shaped view of what tidings makes of the feed, holding only the fields tidings
//! has a counterpart for; clauses about anything else are listed as unmapped. Where tidings
//! differs on purpose, `tests/realworld/feed-differences.toml` says why.

#[path = "realworld_feeds/expect.rs"]
mod expect;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Timelike};
use serde_json::{json, Value};
use tidings::html::{escape, html_to_text, Sanitizer};
use tidings::links::Cleaner;
use tidings::model::SourceKey;
use tidings::sources::feed::{self, FeedContext, FeedError, Origin, ParsedFeed};

use expect::{Ast, Env, Kind, Miss};

fn suites() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld/feeds");
    assert!(
        dir.join("feedparser/INDEX.jsonl").is_file()
            && dir.join("miniflux/INLINE_INDEX.jsonl").is_file(),
        "the feed suites are missing: expected them in {} (see ../shared/realworld/README.md)",
        dir.display()
    );
    dir
}

/// Fields of feedparser's result that tidings has a counterpart for.
const FEEDPARSER_FIELDS: &[&str] = &[
    "feed.title",
    "feed.title_detail.value",
    "feed.link",
    "entries",
    "entries.title",
    "entries.title_detail.value",
    "entries.link",
    "entries.id",
    "entries.guid",
    "entries.guidislink",
    "entries.description",
    "entries.summary",
    "entries.summary_detail.value",
    "entries.content.value",
    "entries.published",
    "entries.published_parsed",
    "entries.updated",
    "entries.updated_parsed",
    "entries.tags.term",
    "entries.category",
    "entries.enclosures",
    "entries.enclosures.href",
    "entries.enclosures.url",
    "entries.enclosures.length",
    "entries.enclosures.type",
];

const MINIFLUX_FIELDS: &[&str] = &[
    "feed.Title",
    "feed.SiteURL",
    "feed.Entries",
    "feed.Entries.Title",
    "feed.Entries.URL",
    "feed.Entries.Content",
    "feed.Entries.Tags",
    "feed.Entries.Enclosures",
    "feed.Entries.Enclosures.URL",
    "feed.Entries.Enclosures.MimeType",
    "feed.Entries.Enclosures.Size",
];

fn kind_of(key: &str) -> Kind {
    match key {
        "title" | "value" | "description" | "summary" | "Title" | "Content" => Kind::Text,
        "link" | "href" | "url" | "URL" | "SiteURL" => Kind::Url,
        "published" | "updated" => Kind::Date,
        _ => Kind::Plain,
    }
}

fn text(s: &str) -> String {
    html_to_text(s)
}

struct Outcome {
    result: Result<ParsedFeed, String>,
    panicked: bool,
}

fn run_parse(bytes: &[u8], origin: &Origin) -> Outcome {
    let cleaner = Cleaner::default();
    let sanitizer = Sanitizer::new(&cleaner);
    let source = SourceKey("feed:suite".into());
    let ctx = FeedContext {
        source: &source,
        name: None,
        fallback_name: "suite",
        topic: None,
        cleaner: &cleaner,
        sanitizer: &sanitizer,
        origin,
    };
    match catch_unwind(AssertUnwindSafe(|| feed::parse(bytes, &ctx))) {
        Ok(r) => Outcome {
            result: r.map_err(|e: FeedError| e.to_string()),
            panicked: false,
        },
        Err(_) => Outcome {
            result: Err("panicked".into()),
            panicked: true,
        },
    }
}

fn id_of(key: &str) -> &str {
    key.split_once('#').map_or(key, |(_, id)| id)
}

fn parsed_tuple(d: chrono::DateTime<chrono::Utc>) -> Value {
    json!([
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.weekday().num_days_from_monday(),
        d.ordinal(),
        0
    ])
}

/// What tidings made of a feed, in the shape of feedparser's result.
fn feedparser_view(f: &ParsedFeed) -> Value {
    let entries: Vec<Value> = f
        .items
        .iter()
        .map(|i| {
            // Text fields are compared as text, so ours (plain text already) go in escaped:
            // read back, they are exactly what the reader sees.
            let (title, summary) = (escape(&i.title), escape(&i.summary_text));
            let mut e = json!({
                "title": title,
                "title_detail": {"value": title},
                "id": id_of(&i.key.0),
                "guid": id_of(&i.key.0),
                "guidislink": i.url.as_deref() == Some(id_of(&i.key.0)),
                "description": summary,
                "summary": summary,
                "summary_detail": {"value": summary},
                "content": [{"value": summary}],
                "tags": i.categories.iter().map(|c| json!({"term": c})).collect::<Vec<_>>(),
                "enclosures": i.media.iter().map(|m| json!({
                    "href": m.url, "url": m.url,
                    "length": m.length.map(|l| l.to_string()),
                    "type": m.mime,
                })).collect::<Vec<_>>(),
            });
            if let Some(c) = i.categories.first() {
                e["category"] = json!(c);
            }
            if let Some(u) = &i.url {
                e["link"] = json!(u);
            }
            if let Some(d) = i.published {
                for k in ["published", "updated"] {
                    e[k] = json!(d.to_rfc3339());
                    e[format!("{k}_parsed")] = parsed_tuple(d);
                }
            }
            e
        })
        .collect();
    let mut feed = json!({});
    if let Some(t) = &f.title {
        feed["title"] = json!(escape(t));
        feed["title_detail"] = json!({"value": escape(t)});
    }
    if let Some(s) = &f.site {
        feed["link"] = json!(s);
    }
    json!({"feed": feed, "entries": entries})
}

/// What tidings made of a feed, in the shape of Miniflux's `model.Feed`.
fn miniflux_view(f: &ParsedFeed) -> Value {
    let entries: Vec<Value> = f
        .items
        .iter()
        .map(|i| {
            json!({
                "Title": escape(&i.title),
                "URL": i.url.clone().unwrap_or_default(),
                "Content": escape(&i.summary_text),
                "Tags": i.categories,
                "Enclosures": i.media.iter().map(|m| json!({
                    "URL": m.url, "MimeType": m.mime.clone().unwrap_or_default(),
                    "Size": m.length.unwrap_or(0),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"feed": {"Title": escape(f.title.as_deref().unwrap_or_default()), "SiteURL": f.site.clone().unwrap_or_default(), "Entries": entries}})
}

#[derive(Default)]
struct Score {
    must_accept: usize,
    accepted: usize,
    rejected: Vec<String>,
    recoverable: usize,
    recovered: usize,
    not_recovered: Vec<String>,
    ill_formed: usize,
    ill_formed_accepted: usize,
    panics: Vec<String>,
    /// field → (agree, total)
    fields: BTreeMap<String, (usize, usize)>,
    disagreements: Vec<String>,
    deliberate: Vec<String>,
    unmapped: BTreeMap<String, usize>,
    entries_in_files: usize,
    entries_kept: usize,
    lost: Vec<String>,
    dates: (usize, usize),
}

impl Score {
    fn agree(&self) -> (usize, usize) {
        self.fields
            .values()
            .fold((0, 0), |(a, t), (x, y)| (a + x, t + y))
    }
}

/// Files whose expectation tidings differs from on purpose: `file → reason`.
fn deliberate() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realworld/feed-differences.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    table
        .get("differs")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|d| {
            Some((
                format!("{} {}", d.get("file")?.as_str()?, d.get("field")?.as_str()?),
                d.get("why")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// How many entries the file holds, counted by element name (`item`, `entry`) or JSON items.
fn entries_in(bytes: &[u8]) -> Option<usize> {
    let start = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *start == b'{' {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        return Some(v.get("items")?.as_array()?.len());
    }
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut n = 0;
    // An Atom feed's entries are `entry` elements; an `item` in it is no entry.
    let mut atom = None;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                let local = e.local_name();
                let atom = *atom.get_or_insert(local.as_ref() == b"feed");
                if local.as_ref() == b"entry" || (!atom && local.as_ref() == b"item") {
                    n += 1;
                }
            }
            Ok(quick_xml::events::Event::Eof) => return Some(n),
            Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

fn judge(
    score: &mut Score,
    file: &str,
    view: &Value,
    clause: &Ast,
    field: &str,
    env: &Env<'_>,
    differs: &BTreeMap<String, String>,
) {
    let normal: String = field.to_string();
    let Some(known) = (if env.known.contains(&normal.as_str()) {
        Some(normal.clone())
    } else {
        None
    }) else {
        *score.unmapped.entry(normal).or_default() += 1;
        return;
    };
    let _ = view;
    let ok = match env.truthy(clause) {
        Ok(b) => b,
        Err(Miss::Unmapped(p)) => {
            *score.unmapped.entry(format!("{known} ({p})")).or_default() += 1;
            return;
        }
        Err(Miss::Absent) => false,
    };
    if known.ends_with("published") || known.ends_with("updated") || known.ends_with("_parsed") {
        score.dates.1 += 1;
        score.dates.0 += usize::from(ok);
    }
    if !ok {
        if let Some(why) = differs.get(&format!("{file} {known}")) {
            score.deliberate.push(format!("{file} {known}: {why}"));
            return;
        }
    }
    let slot = score.fields.entry(known.clone()).or_default();
    slot.1 += 1;
    if ok {
        slot.0 += 1;
    } else {
        score.disagreements.push(format!("{file}: {known}"));
    }
}

fn feedparser(score: &mut Score, dir: &Path, differs: &BTreeMap<String, String>) {
    let index =
        std::fs::read_to_string(dir.join("feedparser/INDEX.jsonl")).expect("feedparser index");
    for line in index.lines() {
        let case: Value = serde_json::from_str(line).expect("index line");
        let file = case["file"].as_str().expect("file");
        let bytes = std::fs::read(dir.join("feedparser").join(file)).expect("suite file");
        let mut origin = Origin {
            url: url::Url::parse(&format!("http://127.0.0.1:8097/tests/{file}")).ok(),
            ..Origin::default()
        };
        for h in case["header"].as_array().into_iter().flatten() {
            let (name, value) = h.as_str().unwrap_or("").split_once(':').unwrap_or(("", ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => origin.content_type = Some(value.trim().to_string()),
                "content-location" => origin.content_location = Some(value.trim().to_string()),
                _ => {}
            }
        }
        let outcome = run_parse(&bytes, &origin);
        if outcome.panicked {
            score.panics.push(file.to_string());
        }
        let expr = case["expect"].as_str().unwrap_or("1");
        // The few expressions beyond the evaluator (`'modified' in locals()`) are about
        // feedparser's internals: only their `not bozo` counts.
        let clauses = match expect::parse(expr) {
            Ok(ast) => expect::clauses(ast),
            Err(_) => {
                *score
                    .unmapped
                    .entry(format!("(expression) {expr}"))
                    .or_default() += 1;
                Vec::new()
            }
        };
        let says_bozo = clauses
            .iter()
            .any(|c| matches!(c, Ast::Name(n) if n == "bozo"));
        let says_well_formed = expr.starts_with("not bozo");
        let fields: Vec<(&Ast, String)> = clauses
            .iter()
            .filter_map(|c| expect::field(c).map(|f| (c, f)))
            .filter(|(_, f)| f != "bozo")
            .collect();
        let asserts_content = fields
            .iter()
            .any(|(_, f)| f.starts_with("entries") || f.starts_with("feed"));
        let well_formed = says_well_formed || case["suite_kind"] == "wellformed";
        if well_formed {
            score.must_accept += 1;
            match &outcome.result {
                Ok(_) => score.accepted += 1,
                Err(e) => reject(score, differs, &format!("feedparser/{file}"), e),
            }
        } else if !says_bozo || asserts_content {
            // feedparser reads it (it says so by asserting what it found): so must we.
            score.recoverable += 1;
            match &outcome.result {
                Ok(_) => score.recovered += 1,
                Err(e) => score.not_recovered.push(format!("feedparser/{file}: {e}")),
            }
        } else {
            score.ill_formed += 1;
            score.ill_formed_accepted += usize::from(outcome.result.is_ok());
        }
        let Ok(parsed) = &outcome.result else {
            for (_, f) in &fields {
                *score
                    .unmapped
                    .entry(format!("(feed rejected) {f}"))
                    .or_default() += 0;
                if FEEDPARSER_FIELDS.contains(&f.as_str()) {
                    let slot = score.fields.entry(f.clone()).or_default();
                    slot.1 += 1;
                    score
                        .disagreements
                        .push(format!("{file}: {f} (feed rejected)"));
                }
            }
            continue;
        };
        count_entries(
            score,
            differs,
            &format!("feedparser/{file}"),
            &bytes,
            parsed,
        );
        let view = feedparser_view(parsed);
        let env = Env {
            root: &view,
            known: FEEDPARSER_FIELDS,
            kind_of,
            text,
        };
        for (clause, f) in &fields {
            judge(score, file, &view, clause, f, &env, differs);
        }
    }
}

/// A feed tidings refused: a failure, unless the differences file says why it is no feed.
fn reject(score: &mut Score, differs: &BTreeMap<String, String>, file: &str, e: &str) {
    match differs.get(&format!("{file} accept")) {
        Some(why) => {
            score.must_accept -= 1;
            score
                .deliberate
                .push(format!("{file}: refused ({e}): {why}"));
        }
        None => score.rejected.push(format!("{file}: {e}")),
    }
}

fn count_entries(
    score: &mut Score,
    differs: &BTreeMap<String, String>,
    file: &str,
    bytes: &[u8],
    parsed: &ParsedFeed,
) {
    if let Some(n) = entries_in(bytes) {
        let kept = parsed.items.len().min(n);
        if kept < n {
            if let Some(why) = differs.get(&format!("{file} entries")) {
                score
                    .deliberate
                    .push(format!("{file}: {kept} of {n} entries: {why}"));
                return;
            }
            score.lost.push(format!("{file}: {kept} of {n}"));
        }
        score.entries_in_files += n;
        score.entries_kept += kept;
    }
}

fn miniflux(score: &mut Score, dir: &Path, differs: &BTreeMap<String, String>) {
    let index =
        std::fs::read_to_string(dir.join("miniflux/INLINE_INDEX.jsonl")).expect("miniflux index");
    let mut files: Vec<(String, Option<String>, bool, Vec<Value>)> = index
        .lines()
        .map(|l| {
            let c: Value = serde_json::from_str(l).expect("index line");
            (
                c["file"].as_str().unwrap_or("").to_string(),
                c["parse_url"].as_str().map(str::to_string),
                c["expect_error"].as_bool().unwrap_or(false),
                c["assertions"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect();
    for entry in std::fs::read_dir(dir.join("miniflux/testdata")).expect("miniflux testdata") {
        let name = entry
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        files.push((format!("testdata/{name}"), None, false, Vec::new()));
    }
    for (file, parse_url, expect_error, assertions) in files {
        let bytes = std::fs::read(dir.join("miniflux").join(&file)).expect("suite file");
        let origin = Origin {
            url: parse_url.as_deref().and_then(|u| url::Url::parse(u).ok()),
            ..Origin::default()
        };
        let outcome = run_parse(&bytes, &origin);
        if outcome.panicked {
            score.panics.push(file.clone());
        }
        if expect_error {
            score.ill_formed += 1;
            score.ill_formed_accepted += usize::from(outcome.result.is_ok());
            continue;
        }
        score.must_accept += 1;
        let parsed = match &outcome.result {
            Ok(p) => {
                score.accepted += 1;
                p
            }
            Err(e) => {
                reject(score, differs, &format!("miniflux/{file}"), e);
                continue;
            }
        };
        count_entries(score, differs, &format!("miniflux/{file}"), &bytes, parsed);
        let view = miniflux_view(parsed);
        let env = Env {
            root: &view,
            known: MINIFLUX_FIELDS,
            kind_of,
            text,
        };
        for a in assertions {
            let path = a["path"].as_str().unwrap_or("").replace("[]rune(", "(");
            let Ok(left) = expect::parse(&path) else {
                *score.unmapped.entry(path).or_default() += 1;
                continue;
            };
            let clause = Ast::Cmp(
                Box::new(left),
                true,
                Box::new(Ast::Lit(a["equals"].clone())),
            );
            let Some(f) = expect::field(&clause) else {
                continue;
            };
            judge(score, &file, &view, &clause, &f, &env, differs);
        }
    }
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

#[test]
fn the_feed_suites_parse_with_their_fields_right() {
    let dir = suites();
    let differs = deliberate();
    let mut score = Score::default();
    feedparser(&mut score, &dir, &differs);
    miniflux(&mut score, &dir, &differs);

    let (agree, total) = score.agree();
    println!(
        "well-formed accepted: {} of {} ({:.1}%)",
        score.accepted,
        score.must_accept,
        pct(score.accepted, score.must_accept)
    );
    for r in &score.rejected {
        println!("  rejected {r}");
    }
    println!(
        "recovered as feedparser does: {} of {}",
        score.recovered, score.recoverable
    );
    for r in &score.not_recovered {
        println!("  not recovered {r}");
    }
    println!(
        "ill-formed (no crash required): {} read, {} refused",
        score.ill_formed_accepted,
        score.ill_formed - score.ill_formed_accepted
    );
    println!(
        "field assertions agreeing: {agree} of {total} ({:.1}%)",
        pct(agree, total)
    );
    for (f, (a, t)) in &score.fields {
        println!("  {f:<34} {a:>3} of {t:<3}");
    }
    for d in &score.disagreements {
        println!("  differs {d}");
    }
    println!("differ on purpose: {}", score.deliberate.len());
    for d in &score.deliberate {
        println!("  {d}");
    }
    println!("dates agreeing: {} of {}", score.dates.0, score.dates.1);
    println!(
        "entries kept: {} of {}",
        score.entries_kept, score.entries_in_files
    );
    for l in &score.lost {
        println!("  lost entries in {l}");
    }
    let unmapped: usize = score.unmapped.values().sum();
    println!("unmapped clauses (no tidings counterpart): {unmapped}");
    for (p, n) in &score.unmapped {
        if *n > 0 {
            println!("  {n:>3} {p}");
        }
    }

    assert!(
        score.panics.is_empty(),
        "the parser panicked on {:?}",
        score.panics
    );
    // The targets, and regression guards at what this commit reaches.
    assert!(
        score.rejected.is_empty(),
        "well-formed feeds refused: {:#?}",
        score.rejected
    );
    assert!(
        score.not_recovered.is_empty(),
        "feeds feedparser recovers, refused: {:#?}",
        score.not_recovered
    );
    assert!(score.lost.is_empty(), "entries lost: {:#?}", score.lost);
    assert!(
        score.accepted >= 597,
        "well-formed accepted: {}",
        score.accepted
    );
    assert!(
        agree >= 415 && agree * 100 >= total * 95,
        "field assertions agreeing: {agree} of {total}"
    );
}
