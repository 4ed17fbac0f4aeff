//! Inputs the fuzz targets (`fuzz/`) found crashing, kept as tests so the bugs stay fixed.
//! Each input lives in `tests/fixtures/fuzz/`, named after its bug.

use tidings::html::Sanitizer;
use tidings::links::Cleaner;
use tidings::model::{Item, SourceKey};
use tidings::sources::newsletter::{extract, NewsletterContext};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fuzz");

/// The items one email yields, read the way the Maildir reader reads it.
fn stories(name: &str) -> Vec<Item> {
    let path = format!("{FIXTURES}/{name}");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let msg = mail_parser::MessageParser::default()
        .parse(&bytes[..])
        .unwrap_or_else(|| panic!("{path} does not parse"));
    let cleaner = Cleaner::default();
    let sanitizer = Sanitizer::new(&cleaner);
    let source = SourceKey("fuzz".into());
    let ctx = NewsletterContext {
        source: &source,
        name: None,
        topic: None,
        cleaner: &cleaner,
        sanitizer: &sanitizer,
        fallback_id: "fuzz",
        include_sponsored: false,
    };
    extract(&msg, &ctx).items
}

/// newsletter_extract, plain text: a "headline / URL / blurb" story whose blurb runs straight
/// into the next URL line. The blurb skip jumped past that URL, and the next story's slice
/// `lines[chunk_start..i]` started after its end (panic: "slice index starts at 4 but ends at 3").
#[test]
fn text_blurb_followed_by_url() {
    let items = stories("text-blurb-followed-by-url.eml");
    let got: Vec<(&str, Option<&str>)> = items
        .iter()
        .map(|i| (i.title.as_str(), i.url.as_deref()))
        .collect();
    // The second URL has no headline or text of its own above it: not a story.
    assert_eq!(
        got,
        [("First headline here", Some("https://a.example/one"))]
    );
    assert_eq!(items[0].summary_text, "The blurb of the first story.");
}

/// The same bug as the fuzzer first found it: a mutated roundup whose blurb line lost its
/// line break before the next story's URL. The stories before and after it are still read.
#[test]
fn text_blurb_followed_by_url_original() {
    let items = stories("text-blurb-followed-by-url-original.eml");
    let urls: Vec<&str> = items.iter().filter_map(|i| i.url.as_deref()).collect();
    assert!(
        urls.contains(&"https://sqlite.example/news/blob-format"),
        "{urls:?}"
    );
    assert!(
        urls.iter()
            .all(|u| u.starts_with("https://") && !u.contains("utm_")),
        "{urls:?}"
    );
}
