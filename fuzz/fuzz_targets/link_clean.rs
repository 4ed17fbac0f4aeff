//! The link cleaner: `clean`, `clean_explained` and the publishability check.
//!
//! Invariants checked on every input:
//! - no panic;
//! - the output is an http(s) URL, or the input unchanged;
//! - `clean` and `clean_explained` agree;
//! - cleaning is idempotent: `clean(clean(x)) == clean(x)`;
//! - a publishable link is the cleaned link (http(s), or the input passed through).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tidings::links::unwrap::has_http_scheme;
use tidings::links::Cleaner;

static CLEANER: LazyLock<Cleaner> = LazyLock::new(Cleaner::default);

fuzz_target!(|data: &[u8]| {
    // Links reach the cleaner as `&str` (from parsed HTML, feeds, text bodies).
    let Ok(link) = std::str::from_utf8(data) else {
        return;
    };
    let c = &*CLEANER;
    let once = c.clean(link);
    assert!(
        has_http_scheme(&once) || once == link,
        "output neither http(s) nor the input: {link:?} -> {once:?}"
    );

    // The removals are not checked against the output: an empty trailing `?` is dropped without
    // one being logged, so "nothing removed" does not imply "byte-identical".
    let (explained, _removed) = c.clean_explained(link);
    assert_eq!(
        explained, once,
        "clean and clean_explained disagree on {link:?}"
    );

    let twice = c.clean(&once);
    assert_eq!(
        twice, once,
        "not idempotent: {link:?} -> {once:?} -> {twice:?}"
    );

    if let Some(p) = c.publishable(link) {
        assert_eq!(
            p, once,
            "publishable link differs from the cleaned one: {link:?}"
        );
        // Anything that is not a URL (a fragment, a mailto:) is passed through, not judged.
        assert!(
            has_http_scheme(&p) || p == link,
            "published a changed non-http link: {link:?} -> {p:?}"
        );
    }
});
