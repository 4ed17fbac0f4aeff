//! Feed bytes to items: the path every fetched feed body takes (`sources::collect::read_feed`).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tidings::html::Sanitizer;
use tidings::links::Cleaner;
use tidings::model::SourceKey;
use tidings::sources::feed::{self, FeedContext};

// Built once: the rule set is what a real run uses, and rebuilding it per input would make
// the fuzzer measure rule loading instead of parsing.
static CLEANER: LazyLock<Cleaner> = LazyLock::new(Cleaner::default);
static SANITIZER: LazyLock<Sanitizer> = LazyLock::new(|| Sanitizer::new(&CLEANER));
static SOURCE: LazyLock<SourceKey> = LazyLock::new(|| SourceKey("feed:fuzz".into()));

fuzz_target!(|data: &[u8]| {
    let ctx = FeedContext {
        source: &SOURCE,
        name: None,
        fallback_name: "fuzz",
        topic: None,
        cleaner: &CLEANER,
        sanitizer: &SANITIZER,
        origin: &feed::Origin::default(),
    };
    // An error is a fine answer to a broken feed; a panic is not.
    let Ok(parsed) = feed::parse(data, &ctx) else {
        return;
    };
    for item in &parsed.items {
        assert!(
            item.key.0.starts_with("feed:fuzz#"),
            "item key outside its source: {:?}",
            item.key
        );
        assert!(
            !item.summary_html.to_ascii_lowercase().contains("<script"),
            "script survived sanitizing: {:?}",
            item.summary_html
        );
    }
});
