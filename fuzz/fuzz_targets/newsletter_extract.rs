//! Email bytes to stories: what `sources::maildir` does with each message file.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tidings::html::Sanitizer;
use tidings::links::Cleaner;
use tidings::model::SourceKey;
use tidings::sources::newsletter::{self, NewsletterContext};

static CLEANER: LazyLock<Cleaner> = LazyLock::new(Cleaner::default);
static SANITIZER: LazyLock<Sanitizer> = LazyLock::new(|| Sanitizer::new(&CLEANER));
static SOURCE: LazyLock<SourceKey> = LazyLock::new(|| SourceKey("mail:fuzz".into()));

fuzz_target!(|data: &[u8]| {
    let Some(msg) = mail_parser::MessageParser::default().parse(data) else {
        return;
    };
    // Sponsored blocks both dropped and kept: the two take different paths through the cutter.
    for include_sponsored in [false, true] {
        let ctx = NewsletterContext {
            source: &SOURCE,
            name: None,
            topic: None,
            cleaner: &CLEANER,
            sanitizer: &SANITIZER,
            fallback_id: "fuzz",
            include_sponsored,
        };
        let extracted = newsletter::extract(&msg, &ctx);
        assert!(
            extracted.message_id.starts_with('<') && extracted.message_id.ends_with('>'),
            "message id not bracketed: {:?}",
            extracted.message_id
        );
        for item in &extracted.items {
            assert!(
                !item.summary_html.to_ascii_lowercase().contains("<script"),
                "script survived sanitizing: {:?}",
                item.summary_html
            );
        }
    }
});
