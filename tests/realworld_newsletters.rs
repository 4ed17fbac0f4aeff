//! Real newsletters (`../shared/realworld/newsletters/`, read at run time, never copied).
//!
//! Those received by two recipients (`../shared/realworld/newsletters/pairs/`, read
//! at run time, never copied): the stories are the same, only per-recipient tokens differ, so
//! any published link that differs between the two copies identifies its reader. Prints, per
//! campaign, the links a digest would publish (after cleaning and the offline publish check)
//! and how many differ between the copies; requires none to differ.
//!
//! The German ones also check that a story is read in its own language: detected German,
//! stemmed and stop-worded as German.
//!
//! Run: `cargo test --test realworld_newsletters -- --nocapture`

use std::collections::BTreeMap;
use std::path::PathBuf;

use tidings::html::Sanitizer;
use tidings::links::Cleaner;
use tidings::model::SourceKey;
use tidings::sources::newsletter::{extract, Extracted, NewsletterContext};

fn shared() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld/newsletters");
    assert!(
        p.join("pairs").is_dir(),
        "the real newsletters are missing: expected `{}` (shared/realworld beside the repository)",
        p.display()
    );
    p
}

/// (title, published link) of each story, in order.
fn published(path: &std::path::Path, cleaner: &Cleaner) -> Vec<(String, Option<String>)> {
    stories(path, cleaner)
        .into_iter()
        .map(|i| (i.title, i.url))
        .collect()
}

/// The stories a digest would take from one message, links settled.
fn stories(path: &std::path::Path, cleaner: &Cleaner) -> Vec<tidings::model::Item> {
    let bytes = std::fs::read(path).unwrap();
    message_stories(&bytes, cleaner).unwrap_or_else(|| panic!("{} does not parse", path.display()))
}

/// What extraction makes of one message, as a mailbox without a configured name would;
/// None if it does not parse.
fn extracted(bytes: &[u8], cleaner: &Cleaner) -> Option<Extracted> {
    let msg = mail_parser::MessageParser::default().parse(bytes)?;
    let sanitizer = Sanitizer::new(cleaner);
    let source = SourceKey("real".into());
    let ctx = NewsletterContext {
        source: &source,
        name: None,
        topic: None,
        cleaner,
        sanitizer: &sanitizer,
        fallback_id: "real",
        include_sponsored: false,
    };
    Some(extract(&msg, &ctx))
}

/// Every single real message (`eml/` and `wrapped/`), sorted.
fn real_messages() -> Vec<PathBuf> {
    let dir = shared();
    let mut files: Vec<PathBuf> = ["eml", "wrapped"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(dir.join(d))
                .unwrap()
                .flatten()
                .map(|e| e.path())
        })
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

/// The stories of one message, links settled; None if it does not parse.
fn message_stories(bytes: &[u8], cleaner: &Cleaner) -> Option<Vec<tidings::model::Item>> {
    let mut items = extracted(bytes, cleaner)?.items;
    // The pipeline's own link step, offline (no resolver): what a digest would publish.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(tidings::links::publish::settle(
        &mut items,
        cleaner,
        None,
        |_| None,
    ));
    Some(items)
}

/// Stories of real German newsletters (`eml/de-*.eml`) are read as German: most are detected
/// as German, and none of their terms is a German stop word ("und", "mit", "für" would be
/// terms under English rules). Prints the share detected per message.
#[test]
fn german_newsletters_are_read_as_german() {
    use tidings::group::language::Language;
    use tidings::group::text::Corpus;
    let cleaner = Cleaner::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared().join("eml"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("de-"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "expected the German newsletters");
    let (mut german, mut all) = (0, 0);
    let german_stop = stop_words::get("de");
    for f in &files {
        let items = stories(f, &cleaner);
        // Stories with some text to go on; a two-word call to action is no sentence.
        let texts: Vec<(&str, &str)> = items
            .iter()
            .filter(|i| (i.title.len() + i.summary_text.len()) >= 40)
            .map(|i| (i.title.as_str(), i.summary_text.as_str()))
            .collect();
        let (corpus, docs) = Corpus::analyse(&texts);
        let de = docs
            .iter()
            .filter(|d| d.language == Language::German)
            .count();
        println!(
            "{}: {de} of {} stories detected German",
            f.file_name().unwrap().to_string_lossy(),
            docs.len()
        );
        for d in docs.iter().filter(|d| d.language == Language::German) {
            for &(t, _) in &d.counts {
                let word = corpus.spelled[t as usize].as_str();
                assert!(
                    !german_stop.contains(&word),
                    "{}: German stop word `{word}` is a term",
                    f.display()
                );
            }
        }
        german += de;
        all += docs.len();
    }
    let share = german as f64 / all.max(1) as f64;
    println!("German newsletters: {german} of {all} stories detected German ({share:.2})");
    assert!(share >= MIN_GERMAN_SHARE, "{share:.2}");
}

/// Measured 2026-12-03: 22 of 31 (0.71); the rest are postal addresses, phone numbers and
/// product names with no sentence to tell a language by.
const MIN_GERMAN_SHARE: f64 = 0.65;

#[test]
fn no_published_link_differs_between_two_recipients_copies() {
    let dir = shared();
    let cleaner = Cleaner::default();
    let mut pairs: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(dir.join("pairs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter_map(|twin| {
            let name = twin.file_name()?.to_str()?.replace(".u2.eml", ".eml");
            Some((dir.join("eml").join(name), twin))
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs.len(),
        14,
        "the 14 campaigns of shared/realworld/newsletters/pairs"
    );
    let (mut links, mut differ, mut withheld) = (0, 0, 0);
    let mut per: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut examples = Vec::new();
    for (a, b) in &pairs {
        let (x, y) = (published(a, &cleaner), published(b, &cleaner));
        let name = a.file_stem().unwrap().to_string_lossy().to_string();
        let row = per.entry(name.clone()).or_default();
        // Stories are matched by title: the same campaign has the same headlines.
        let theirs: BTreeMap<&str, &Option<String>> =
            y.iter().map(|(t, l)| (t.as_str(), l)).collect();
        for (title, link) in &x {
            match (link, theirs.get(title.as_str())) {
                (Some(l), Some(Some(m))) => {
                    links += 1;
                    row.0 += 1;
                    if l != m {
                        differ += 1;
                        row.1 += 1;
                        if examples.len() < 12 {
                            examples.push(format!("  {name}: `{title}`\n    {l}\n    {m}"));
                        }
                    }
                }
                (None, _) => {
                    withheld += 1;
                    row.2 += 1;
                }
                _ => {}
            }
        }
    }
    println!("\ntwin copies of 14 real campaigns: links published in both, differing, stories without a link");
    for (name, (n, d, w)) in &per {
        println!("  {name:<48} {n:>4} {d:>4} {w:>4}");
    }
    println!("total: {links} links, {differ} differ between the two recipients, {withheld} stories without a link");
    if !examples.is_empty() {
        println!("examples:\n{}", examples.join("\n"));
    }
    assert_eq!(
        differ, 0,
        "published links that carry the reader's identity"
    );
}

/// Informational, over every real message (`eml/`, `wrapped/`): which host each message's
/// click-tracker is, and how many of its stories keep a link offline.
#[test]
fn click_tracker_hosts_of_the_real_newsletters() {
    let cleaner = Cleaner::default();
    let files = real_messages();
    println!("\nmessage, its click-tracker host, stories with a link / stories");
    for f in &files {
        let Some(x) = extracted(&std::fs::read(f).unwrap(), &cleaner) else {
            continue;
        };
        let host = x
            .items
            .first()
            .and_then(|i| i.tracker_host.clone())
            .unwrap_or_default();
        let stories = published(f, &cleaner);
        let linked = stories.iter().filter(|(_, l)| l.is_some()).count();
        println!(
            "  {:<58} {:<32} {linked}/{}",
            f.file_name().unwrap().to_string_lossy(),
            host,
            stories.len()
        );
    }
}

/// Every real newsletter here in one digest with no topic configured: the automatic topics
/// are named by what the stories share, never by a stop word, a month or weekday, a figure,
/// or a word of a member newsletter's own name; each holds stories of at least two
/// newsletters; and what one newsletter alone tells sits under that newsletter's name.
/// Prints every section with its sources.
#[test]
fn automatic_topics_on_real_newsletters_name_what_the_stories_share() {
    use tidings::group::{self, GroupSettings};
    let dir = shared();
    let cleaner = Cleaner::default();
    let mut items = Vec::new();
    for f in real_messages() {
        items.extend(stories(&f, &cleaner));
    }
    for f in std::fs::read_dir(dir.join("mbox")).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        for msg in tidings::sources::mbox::split(&bytes) {
            items.extend(message_stories(&msg, &cleaner).unwrap_or_default());
        }
    }
    assert!(items.len() >= 200, "only {} stories", items.len());
    let settings = GroupSettings {
        lead_stories: 0,
        auto_topics: Some(AUTO_TOPICS),
        ..GroupSettings::default()
    };
    let grouped = group::group_with(&items, &[], &[], &settings);
    let by_key: std::collections::HashMap<_, _> = items.iter().map(|i| (&i.key, i)).collect();
    let mut not_words: Vec<String> = ["en", "de", "fr"]
        .iter()
        .flat_map(|l| stop_words::get(l))
        .map(|w| w.to_lowercase())
        .collect();
    for locale in [
        pure_rust_locales::Locale::en_US,
        pure_rust_locales::Locale::de_DE,
        pure_rust_locales::Locale::fr_FR,
    ] {
        let months: &[&str] = pure_rust_locales::locale_match!(locale => LC_TIME::MON);
        let days: &[&str] = pure_rust_locales::locale_match!(locale => LC_TIME::DAY);
        not_words.extend(months.iter().chain(days).map(|w| w.to_lowercase()));
    }
    let (mut automatic, mut newsletter_sections, mut faults) = (0, 0, Vec::new());
    for g in &grouped.groups {
        let names: BTreeMap<&str, usize> = g
            .stories
            .iter()
            .flat_map(|s| s.items.iter().filter_map(|k| by_key.get(k)))
            .fold(BTreeMap::new(), |mut m, i| {
                *m.entry(i.source_name.as_str()).or_default() += 1;
                m
            });
        let reason = &g.stories[0].topic_reason;
        println!(
            "{} ({} stories; {names:?}): {reason}",
            g.topic,
            g.stories.len()
        );
        if reason.starts_with("automatic topic") {
            automatic += 1;
            for s in &g.stories {
                println!(
                    "    {} [{}]",
                    s.title,
                    s.summary.chars().take(100).collect::<String>()
                );
            }
            if names.len() < 2 {
                faults.push(format!("`{}` holds one newsletter's stories", g.topic));
            }
            for word in g.topic.split([' ', '·']).filter(|w| !w.is_empty()) {
                let lower = word.to_lowercase();
                let own = names.keys().any(|n| {
                    n.to_lowercase()
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|p| p == lower)
                });
                if not_words.contains(&lower) || own || word.chars().any(|c| c.is_ascii_digit()) {
                    faults.push(format!("`{}`: `{word}` names nothing", g.topic));
                }
            }
        } else if reason.starts_with("from the newsletter") {
            newsletter_sections += 1;
            if names.len() != 1 || !names.contains_key(g.topic.as_str()) {
                faults.push(format!("`{}` holds {names:?}", g.topic));
            }
        }
    }
    println!(
        "{} stories: {automatic} automatic topics, {newsletter_sections} newsletter sections, \
         {} faults",
        items.len(),
        faults.len()
    );
    assert!(faults.is_empty(), "{faults:#?}");
    assert!(newsletter_sections >= 10, "{newsletter_sections}");
}

/// More than the default three, so that more labels are checked.
const AUTO_TOPICS: usize = 8;

/// Every real message (`eml/`, `wrapped/`, the mbox) gives each story once: no two of its
/// stories share a published link or a headline of three words or more (image link and
/// headline link, desktop and mobile copies, one article under two sections). Prints the
/// repeats per message.
#[test]
fn a_real_newsletter_gives_each_story_once() {
    let cleaner = Cleaner::default();
    let messages: Vec<(String, Vec<tidings::model::Item>)> = real_messages()
        .into_iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            (name, stories(&f, &cleaner))
        })
        .collect();
    let (mut stories_seen, mut repeats) = (0, 0);
    for (name, items) in &messages {
        let mut links: BTreeMap<&str, usize> = BTreeMap::new();
        let mut titles: BTreeMap<String, usize> = BTreeMap::new();
        let mut twice: Vec<&str> = Vec::new();
        for i in items {
            let key = tidings::group::dedup::title_key(&i.title);
            let by_link = i.url.as_deref().map(|u| {
                let n = links.entry(u).or_default();
                *n += 1;
                *n > 1
            });
            let by_title = key.split(' ').count() >= 3 && {
                let n = titles.entry(key).or_default();
                *n += 1;
                *n > 1
            };
            if by_link == Some(true) || by_title {
                twice.push(&i.title);
            }
        }
        stories_seen += items.len();
        repeats += twice.len();
        if !twice.is_empty() {
            println!(
                "{name}: {} of {} stories repeat an earlier one: {twice:?}",
                twice.len(),
                items.len()
            );
        }
    }
    println!(
        "{} messages, {stories_seen} stories, {repeats} repeats",
        messages.len()
    );
    assert_eq!(repeats, 0);
}

/// What a reader of the plain-text part sees: every real message here (copied at run time
/// into a temporary Maildir) through `tidings preview`; every line of `digest.txt` fits in
/// 72 columns except a bare link, and no line is left holding only the invisible characters
/// templates pad their preview text with. Prints how many lines and stories.
#[test]
fn the_plain_text_digest_of_real_mail_fits_72_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let mail = tmp.path().join("Mail");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(mail.join(sub)).unwrap();
    }
    let files = real_messages();
    let n = files.len();
    for (k, f) in files.iter().enumerate() {
        std::fs::copy(f, mail.join("new").join(format!("{k}.M1.host"))).unwrap();
    }
    let cfg = tmp.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[digest]\ntitle = \"Real mail\"\nlookback = \"36500d\"\n\
         [state]\npath = \"state.db\"\n\
         [delivery]\nfrom = \"Tidings <digest@example.org>\"\nto = [\"you@example.org\"]\n\
         [smtp]\nhost = \"localhost\"\nport = 25\nsecurity = \"none\"\n\
         [[mailboxes]]\ntype = \"maildir\"\npath = \"Mail\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["-c", cfg.to_str().unwrap(), "preview", "--out"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(tmp.path().join("out/digest.txt")).unwrap();
    let bare_link = |l: &str| {
        let t = l.trim();
        t.starts_with("http") && !t.contains(' ')
    };
    let long: Vec<&str> = text
        .lines()
        .filter(|l| l.chars().count() > 72 && !bare_link(l))
        .collect();
    let blank = |c: char| c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}');
    let padding: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && l.chars().all(blank))
        .collect();
    println!(
        "{} messages: {} lines of digest.txt, {} longer than 72 columns, {} of invisible padding",
        n,
        text.lines().count(),
        long.len(),
        padding.len()
    );
    assert!(long.is_empty(), "{long:#?}");
    assert!(padding.len() <= MAX_PADDING_LINES, "{padding:?}");
}

/// Measured 2026-12-03: one plain-text part's line of a lone zero-width space (HTML parts
/// drop them; the plain-text path does not yet).
const MAX_PADDING_LINES: usize = 1;

/// Welcome mails go to "Needs your attention", nothing else does: over `eml/` and
/// `wrapped/`, the three messages the corpus names as welcome mails (`*-welcome-*`) against
/// every other message. Prints both counts; guards that no newsletter is taken for a
/// welcome mail and that the welcome mails found do not fall below what was measured.
#[test]
fn real_welcome_mails_need_attention_and_newsletters_do_not() {
    let cleaner = Cleaner::default();
    let (mut welcome, mut flagged, mut wrongly) = (0, 0, Vec::new());
    for path in real_messages() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let attention = extracted(&std::fs::read(&path).unwrap(), &cleaner)
            .unwrap_or_else(|| panic!("{name} does not parse"))
            .attention
            .is_some();
        if name.contains("-welcome-") {
            welcome += 1;
            flagged += attention as usize;
            println!(
                "{name}: {}",
                if attention {
                    "needs attention"
                } else {
                    "MISSED"
                }
            );
        } else if attention {
            wrongly.push(name);
        }
    }
    println!("welcome mails in attention: {flagged} of {welcome}; newsletters taken for one: {wrongly:?}");
    assert!(wrongly.is_empty(), "{wrongly:?}");
    assert!(flagged >= MIN_WELCOME_FLAGGED, "{flagged} of {welcome}");
}

/// Measured 2026-12-06: 3 of 3 (2026-12-03: 2; before: 0). WWF's ("Der WWF stellt sich
/// vor", 1,400 words of teasers) says "welcome" only in its links' campaign tag.
const MIN_WELCOME_FLAGGED: usize = 3;

#[path = "realworld_newsletters/gold.rs"]
mod gold;

/// Story recall against our own reading of every real message (`tests/realworld/
/// newsletter-stories/`, one file per message: the stories a reader wants, by title and clean
/// link). Prints per message and in total: stories we expect and found, extras (emitted,
/// matching nothing expected), duplicates, titles fused with more than their headline, links
/// that equal the clean link we know, and whether each welcome or confirmation mail went to
/// "Needs your attention"; then the titles missed and the extras, for whoever works on
/// extraction next. Guards the totals measured.
#[test]
fn real_newsletters_give_the_stories_we_read_in_them() {
    let dir = shared();
    let cleaner = Cleaner::default();
    let gold_dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/realworld/newsletter-stories");
    let files = gold::load(&gold_dir);
    assert!(files.len() >= 40, "only {} gold files", files.len());
    let mut total = gold::Score::default();
    let (mut attention_wanted, mut attention_given, mut attention_wrong) = (0, 0, 0);
    let mut details = Vec::new();
    println!("\nmessage: expected/found, emitted, extra, duplicate, fused, same link/known links");
    for (gold_path, g) in &files {
        let bytes = std::fs::read(dir.join(&g.file))
            .unwrap_or_else(|e| panic!("{}: {}: {e}", gold_path.display(), g.file));
        let messages: Vec<Vec<u8>> = if g.file.ends_with(".mbox") {
            tidings::sources::mbox::split(&bytes)
        } else {
            vec![bytes]
        };
        for gm in &g.message {
            let msg = match &gm.message_id {
                None => &messages[0],
                Some(id) => messages
                    .iter()
                    .find(|m| extracted(m, &cleaner).is_some_and(|x| &x.message_id == id))
                    .unwrap_or_else(|| panic!("{}: no message {id}", g.file)),
            };
            let x = extracted(msg, &cleaner).unwrap_or_else(|| panic!("{} does not parse", g.file));
            let flagged = x.attention.is_some();
            let items = message_stories(msg, &cleaner).unwrap();
            let emitted: Vec<gold::Emitted> = items
                .into_iter()
                .map(|i| gold::Emitted {
                    title: i.title,
                    link: i.url,
                })
                .collect();
            let s = gold::score(&gm.story, &emitted);
            if std::env::var("GOLD_SHOW").is_ok_and(|v| g.file.contains(&v)) {
                for e in &emitted {
                    println!(
                        "    emitted: {} <{}>",
                        e.title,
                        e.link.as_deref().unwrap_or("-")
                    );
                }
            }
            let name = match &gm.message_id {
                Some(id) => format!("{} {id}", g.file),
                None => g.file.clone(),
            };
            let mark = if gm.kind.needs_attention() {
                attention_wanted += 1;
                attention_given += flagged as usize;
                if flagged {
                    " attention"
                } else {
                    " ATTENTION MISSED"
                }
            } else if flagged {
                attention_wrong += 1;
                " TAKEN FOR A WELCOME MAIL"
            } else {
                ""
            };
            println!(
                "  {name:<64} {:>3}/{:<3} {:>3} {:>3} {:>3} {:>3} {:>3}/{:<3}{mark}",
                s.sure,
                s.found,
                s.emitted,
                s.extra,
                s.duplicate,
                s.fused,
                s.same_link,
                s.gold_links
            );
            if !s.missed_titles.is_empty() || !s.extra_titles.is_empty() {
                details.push(format!(
                    "{name}\n    missed: {:?}\n    extra: {:?}",
                    s.missed_titles, s.extra_titles
                ));
            }
            total.add(&s);
        }
    }
    let recall = total.found as f64 / total.sure.max(1) as f64;
    let extra_share = total.extra as f64 / total.emitted.max(1) as f64;
    println!(
        "total: recall {recall:.2} ({} of {}), {} emitted, extras {} ({extra_share:.2}), duplicates {}, fused {}, \
         links equal to the clean link {} of {}, stories only a tracker points to published with a link {} of {}, \
         attention {} of {} (+{} wrongly)",
        total.found,
        total.sure,
        total.emitted,
        total.extra,
        total.duplicate,
        total.fused,
        total.same_link,
        total.gold_links,
        total.tracked_linked,
        total.tracked,
        attention_given,
        attention_wanted,
        attention_wrong
    );
    println!("\nmissed and extra stories:\n{}", details.join("\n"));
    assert!(recall >= MIN_GOLD_RECALL, "recall {recall:.2}");
    assert!(
        extra_share <= MAX_GOLD_EXTRA_SHARE,
        "extras {extra_share:.2}"
    );
    assert_eq!(total.duplicate, 0, "a story given twice");
    assert_eq!(total.fused, 0, "a headline fused with its standfirst");
    assert_eq!(total.tracked_linked, 0, "a tracker published");
    assert_eq!(attention_wrong, 0, "newsletters taken for welcome mails");
}

/// Measured 2026-12-04, when the expected stories were first written: recall 0.32 (143 of
/// 444), extras 0.33 (81 of 244 emitted), no duplicates, 88 trackers published; after
/// plain-text headline lists, headline-and-standfirst paragraphs and ids with dots: 0.52
/// (232), extras 0.21 (65 of 317), no tracker published; after headed teasers (a heading
/// or bold lead with prose and a call to action) and short names set in bold: 0.64 (282),
/// extras 0.20 (84 of 416); after headline lists (one link a line) and headlines above a
/// URL link: 0.68 (300), extras 0.20 (87 of 445); after calls to action by their opening
/// verb, polls and contact lines: 0.68 (301), extras 0.15 (61 of 419); a byline indented
/// under its headline: no title fused with its standfirst (12 before); headings set by
/// inline style: 0.68 (304), extras 0.15 (64 of 426); headed calls to action dropped, a
/// German »quote« no arrow: 0.68 (304), extras 0.15 (62 of 424).
const MIN_GOLD_RECALL: f64 = 0.66;
const MAX_GOLD_EXTRA_SHARE: f64 = 0.17;
