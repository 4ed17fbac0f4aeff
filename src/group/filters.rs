//! Filters: mute what the reader never wants, pin what they always want.
//!
//! A `[[filters]]` entry applies to every source, or to one (`source = "Asia Wire"`, the
//! source's name). Words and phrases match whole words, case-insensitively ("tt" does not
//! match "Matt"); with `regex = true` the patterns are regular expressions, case-insensitive
//! unless they say otherwise. A story matching an `include` pattern of any filter that
//! applies is kept even when an `exclude` pattern matches too.

use regex::Regex;

use super::text;
use crate::model::Item;

#[derive(Debug, Clone)]
enum Pattern {
    Words { text: String, words: Vec<String> },
    Regex(Regex),
}

impl Pattern {
    fn matches(&self, words: &[String], raw: &str) -> bool {
        match self {
            Pattern::Words { words: w, .. } => text::count_phrase(words, w) > 0,
            Pattern::Regex(r) => r.is_match(raw),
        }
    }

    fn describe(&self) -> String {
        match self {
            Pattern::Words { text, .. } => format!("`{text}`"),
            Pattern::Regex(r) => format!("/{}/", r.as_str()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Filter {
    /// Source name this filter is limited to, or None for all sources.
    pub source: Option<String>,
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
    /// "filter 2 (source `Asia Wire`)", for explanations.
    label: String,
}

impl Filter {
    /// Builds a filter; a bad regular expression is an error naming the pattern.
    pub fn new(
        index: usize,
        source: Option<String>,
        include: &[String],
        exclude: &[String],
        regex: bool,
    ) -> Result<Filter, String> {
        let build = |list: &[String]| -> Result<Vec<Pattern>, String> {
            list.iter()
                .map(|p| {
                    if regex {
                        regex::RegexBuilder::new(p)
                            .case_insensitive(true)
                            .build()
                            .map(Pattern::Regex)
                            .map_err(|e| format!("invalid regular expression `{p}`: {e}"))
                    } else {
                        Ok(Pattern::Words {
                            text: p.clone(),
                            words: text::plain_words(p),
                        })
                    }
                })
                .collect()
        };
        let label = match &source {
            Some(s) => format!("filters[{index}] (source `{s}`)"),
            None => format!("filters[{index}]"),
        };
        Ok(Filter {
            source,
            include: build(include)?,
            exclude: build(exclude)?,
            label,
        })
    }

    fn applies(&self, item: &Item) -> bool {
        self.source
            .as_ref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&item.source_name) || *s == item.source.0)
    }
}

/// Why an item is muted, or None when it stays: "filters[0]: exclude `horoscope`".
pub(crate) fn muted_by(filters: &[Filter], item: &Item) -> Option<String> {
    let applicable: Vec<&Filter> = filters.iter().filter(|f| f.applies(item)).collect();
    if applicable.is_empty() {
        return None;
    }
    // The entry's own categories count too: `exclude = ["YouTube Short"]` mutes Shorts.
    let raw = format!(
        "{}\n{}\n{}",
        item.title,
        item.summary_text,
        item.categories.join("\n")
    );
    let words = text::plain_words(&raw);
    let pinned = applicable
        .iter()
        .any(|f| f.include.iter().any(|p| p.matches(&words, &raw)));
    if pinned {
        return None;
    }
    applicable.iter().find_map(|f| {
        f.exclude
            .iter()
            .find(|p| p.matches(&words, &raw))
            .map(|p| format!("{}: exclude {}", f.label, p.describe()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::dedup::tests::item;

    #[test]
    fn whole_words_case_insensitive_and_include_wins() {
        let f = vec![
            Filter::new(0, None, &[], &["horoscope".into(), "tt".into()], false).unwrap(),
            Filter::new(
                1,
                Some("b".into()),
                &["must read".into()],
                &["sponsored".into()],
                false,
            )
            .unwrap(),
        ];
        let cases = [
            (item("a", "Your HOROSCOPE for today", None, ""), true),
            (item("a", "Matt wins the race", None, "no tt here"), true),
            (item("a", "Matt wins the race", None, "plain"), false),
            (item("a", "Sponsored post", None, ""), false),
            (item("b", "Sponsored post", None, ""), true),
            (item("b", "Sponsored but a must-read", None, ""), false),
            (item("b", "Sponsored, must read", None, ""), false),
        ];
        for (it, muted) in cases {
            assert_eq!(muted_by(&f, &it).is_some(), muted, "{}", it.title);
        }
        assert_eq!(
            muted_by(&f, &item("a", "Horoscope", None, "")).unwrap(),
            "filters[0]: exclude `horoscope`"
        );
    }

    #[test]
    fn regex_filters_and_bad_patterns() {
        let f = vec![Filter::new(0, None, &[], &[r"\bpromo(tion)?s?\b".into()], true).unwrap()];
        assert!(muted_by(&f, &item("a", "Big PROMOTION today", None, "")).is_some());
        assert!(muted_by(&f, &item("a", "Promoted to manager", None, "")).is_none());
        assert!(Filter::new(0, None, &[], &["(".into()], true).is_err());
    }
}
