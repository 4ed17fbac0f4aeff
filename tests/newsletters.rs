//! Story extraction over the newsletter corpus in `tests/fixtures/newsletters/`: every
//! `NAME.eml` has a `NAME.expected.json` with the stories (title and cleaned URL, in newsletter
//! order) a reader would pick out by hand. Prints per-message precision and recall, and requires
//! 1.0 / 1.0 on every message.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tidings::html::Sanitizer;
use tidings::links::Cleaner;
use tidings::model::SourceKey;
use tidings::sources::newsletter::{extract, Extracted, NewsletterContext};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/newsletters");

fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .expect("corpus folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    v.sort();
    v
}

fn expected(eml: &Path) -> Value {
    let p = eml.with_extension("expected.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn run(eml: &Path, include_sponsored: bool) -> Extracted {
    let bytes = std::fs::read(eml).unwrap();
    let msg = mail_parser::MessageParser::default()
        .parse(&bytes[..])
        .unwrap_or_else(|| panic!("{} does not parse", eml.display()));
    let cleaner = Cleaner::default();
    let sanitizer = Sanitizer::new(&cleaner);
    let source = SourceKey("corpus".into());
    let ctx = NewsletterContext {
        source: &source,
        name: None,
        topic: None,
        cleaner: &cleaner,
        sanitizer: &sanitizer,
        fallback_id: "corpus",
        include_sponsored,
    };
    extract(&msg, &ctx)
}

fn pairs(v: &Value, key: &str) -> Vec<(String, String)> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["title"].as_str().unwrap().to_string(),
                        s["url"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn got_pairs(x: &Extracted) -> Vec<(String, String)> {
    x.items
        .iter()
        .map(|i| (i.title.clone(), i.url.clone().unwrap_or_default()))
        .collect()
}

/// (precision, recall) of `got` against `want`, on exact (title, URL) pairs. Both empty is a
/// perfect score: the message rightly has no stories.
fn score(got: &[(String, String)], want: &[(String, String)]) -> (f64, f64) {
    let g: HashSet<_> = got.iter().collect();
    let w: HashSet<_> = want.iter().collect();
    let hits = g.intersection(&w).count() as f64;
    let p = if g.is_empty() {
        if w.is_empty() {
            1.0
        } else {
            0.0
        }
    } else {
        hits / g.len() as f64
    };
    let r = if w.is_empty() {
        1.0
    } else {
        hits / w.len() as f64
    };
    (p, r)
}

#[test]
fn corpus_precision_and_recall() {
    let files = corpus();
    assert!(files.len() >= 15, "the corpus has {} messages", files.len());
    let mut failures = Vec::new();
    let (mut sum_p, mut sum_r) = (0.0, 0.0);
    println!(
        "{:<28} {:>6} {:>9} {:>6}",
        "message", "found", "precision", "recall"
    );
    for eml in &files {
        let name = eml.file_stem().unwrap().to_string_lossy().into_owned();
        let want = expected(eml);
        let x = run(eml, false);
        let got = got_pairs(&x);
        let want_pairs = pairs(&want, "stories");
        let (p, r) = score(&got, &want_pairs);
        sum_p += p;
        sum_r += r;
        println!("{name:<28} {:>6} {p:>9.2} {r:>6.2}", got.len());
        if (p, r) != (1.0, 1.0) {
            failures.push(format!("{name}: got {got:#?}\nwant {want_pairs:#?}"));
            continue;
        }
        // Newsletter order is kept.
        if got != want_pairs {
            failures.push(format!("{name}: order differs: {got:#?}"));
        }
        // Section headings travel with the story.
        for (item, w) in x.items.iter().zip(want["stories"].as_array().unwrap()) {
            if let Some(section) = w["section"].as_str() {
                if item.section.as_deref() != Some(section) {
                    failures.push(format!(
                        "{name}: `{}` has section {:?}",
                        item.title, item.section
                    ));
                }
            }
        }
        match want.get("attention") {
            Some(a) => match &x.attention {
                Some(got) if got.url.as_deref() == a["url"].as_str() => {}
                other => failures.push(format!("{name}: attention {other:?}, want {a}")),
            },
            None => {
                if x.attention.is_some() {
                    failures.push(format!("{name}: wrongly taken for a confirmation email"));
                }
            }
        }
        let want_warnings = want["warnings"].as_bool().unwrap_or(false);
        if want_warnings == x.warnings.is_empty() {
            failures.push(format!("{name}: warnings {:?}", x.warnings));
        }
        if let Some(subject) = want["subject"].as_str() {
            if x.subject != subject {
                failures.push(format!("{name}: subject {:?}", x.subject));
            }
        }
        // No summary carries the footer.
        for item in &x.items {
            let s = item.summary_text.to_lowercase();
            if s.contains("unsubscribe") || s.contains("all rights reserved") {
                failures.push(format!(
                    "{name}: `{}` has summary {:?}",
                    item.title, item.summary_text
                ));
            }
        }
    }
    let n = files.len() as f64;
    println!(
        "corpus: {} messages, mean precision {:.3}, mean recall {:.3}",
        files.len(),
        sum_p / n,
        sum_r / n
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn sponsored_blocks_are_kept_labelled_when_asked() {
    let mut checked = 0;
    for eml in corpus() {
        let want = expected(&eml);
        let sponsored = pairs(&want, "sponsored");
        if sponsored.is_empty() {
            continue;
        }
        checked += 1;
        let got: HashSet<(String, String)> = got_pairs(&run(&eml, true)).into_iter().collect();
        let mut all: HashSet<(String, String)> = pairs(&want, "stories").into_iter().collect();
        all.extend(
            sponsored
                .into_iter()
                .map(|(t, u)| (format!("Sponsored: {t}"), u)),
        );
        assert_eq!(got, all, "{}", eml.display());
    }
    assert!(checked >= 2, "the corpus needs sponsored examples");
}

#[test]
fn single_posts_carry_an_excerpt_of_their_opening() {
    for eml in corpus() {
        let want = expected(&eml);
        if want["shape"] != "single" {
            continue;
        }
        let x = run(&eml, false);
        let s = &x.items[0].summary_text;
        assert!(
            s.split_whitespace().count() >= 20,
            "{}: {s:?}",
            eml.display()
        );
        assert!(
            !s.contains("READ IN APP") && !s.to_lowercase().contains("view in browser"),
            "{s}"
        );
    }
}
