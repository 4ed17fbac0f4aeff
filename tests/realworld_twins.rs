//! Real newsletters received by two recipients (`../shared/realworld/newsletters/pairs/`, read
//! at run time, never copied): the stories are the same, only per-recipient tokens differ, so
//! any published link that differs between the two copies identifies its reader. Prints, per
//! campaign, the links a digest would publish (after cleaning and the offline publish check)
//! and how many differ between the copies; requires none to differ.
//!
//! Run: `cargo test --test realworld_twins -- --nocapture`

use std::collections::BTreeMap;
use std::path::PathBuf;

use tidings::html::Sanitizer;
use tidings::links::Cleaner;
use tidings::model::SourceKey;
use tidings::sources::newsletter::{extract, NewsletterContext};

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
    let bytes = std::fs::read(path).unwrap();
    let msg = mail_parser::MessageParser::default()
        .parse(&bytes[..])
        .unwrap_or_else(|| panic!("{} does not parse", path.display()));
    let sanitizer = Sanitizer::new(cleaner);
    let source = SourceKey("twins".into());
    let ctx = NewsletterContext {
        source: &source,
        name: None,
        topic: None,
        cleaner,
        sanitizer: &sanitizer,
        fallback_id: "twins",
        include_sponsored: false,
    };
    let mut items = extract(&msg, &ctx).items;
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
    items.into_iter().map(|i| (i.title, i.url)).collect()
}

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
    let dir = shared();
    let cleaner = Cleaner::default();
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
    println!("\nmessage, its click-tracker host, stories with a link / stories");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let Some(msg) = mail_parser::MessageParser::default().parse(&bytes[..]) else {
            continue;
        };
        let sanitizer = Sanitizer::new(&cleaner);
        let source = SourceKey("t".into());
        let ctx = NewsletterContext {
            source: &source,
            name: None,
            topic: None,
            cleaner: &cleaner,
            sanitizer: &sanitizer,
            fallback_id: "t",
            include_sponsored: false,
        };
        let x = extract(&msg, &ctx);
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
