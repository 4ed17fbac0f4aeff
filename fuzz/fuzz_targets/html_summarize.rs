//! HTML summaries and plain text: every feed summary and newsletter blurb goes through these.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tidings::html::{html_to_text, Sanitizer, MAX_SUMMARY_CHARS};
use tidings::links::Cleaner;

static CLEANER: LazyLock<Cleaner> = LazyLock::new(Cleaner::default);
static SANITIZER: LazyLock<Sanitizer> = LazyLock::new(|| Sanitizer::new(&CLEANER));

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else {
        return;
    };
    let (summary_html, summary_text) = SANITIZER.summarize(html);
    let lower = summary_html.to_ascii_lowercase();
    for banned in [
        "<script",
        "<iframe",
        "<form",
        "<style",
        "<img",
        "href=\"javascript:",
    ] {
        assert!(
            !lower.contains(banned),
            "`{banned}` survived sanitizing: {html:?} -> {summary_html:?}"
        );
    }
    // Plain text never grows past the summary cap by more than the ellipsis.
    assert!(
        summary_text.chars().count() <= MAX_SUMMARY_CHARS + 1,
        "summary text too long: {} chars",
        summary_text.chars().count()
    );
    // On raw (unsanitized) input too: newsletters convert bodies before cutting them.
    let _ = html_to_text(html);
});
