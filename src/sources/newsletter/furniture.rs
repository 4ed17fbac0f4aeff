//! Newsletter furniture, recognised by what it is: links and blocks that are the sender's
//! template (view online, unsubscribe, share, addresses, calls to action, sponsor labels), not
//! stories.

use std::sync::LazyLock;

use serde::Deserialize;

/// The phrase lists, kept as data in `furniture.toml` beside this file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Phrases {
    pub(super) links: LinkPhrases,
    pub(super) calls_to_action: CallsToAction,
    pub(super) sponsor: SponsorPhrases,
    pub(super) confirm: ConfirmPhrases,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkPhrases {
    /// In a link's text or URL, or in a paragraph.
    pub(super) texts: Vec<String>,
    /// In a link's URL.
    pub(super) urls: Vec<String>,
    /// A link's whole text.
    pub(super) generic: Vec<String>,
    pub(super) web_version: Vec<String>,
    pub(super) related_prefixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallsToAction {
    pub(super) verbs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SponsorPhrases {
    pub(super) markers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfirmPhrases {
    pub(super) phrases: Vec<String>,
    pub(super) welcome_subjects: Vec<String>,
    pub(super) link: Vec<String>,
}

/// Parsed on first use; the file is compiled in, and the unit test below parses it, so a
/// broken edit fails the tests rather than a run.
pub(super) static PHRASES: LazyLock<Phrases> = LazyLock::new(|| {
    toml::from_str(include_str!("furniture.toml")).expect("furniture.toml parses (unit-tested)")
});

pub(super) fn is_web_version(text: &str) -> bool {
    let t = text.to_lowercase();
    PHRASES
        .links
        .web_version
        .iter()
        .any(|w| t.contains(w.as_str()))
}

/// A paragraph of newsletter furniture (unsubscribe lines, addresses, legal text).
pub(super) fn is_furniture_text(p: &str) -> bool {
    let l = p.to_lowercase();
    is_web_version(&l)
        || PHRASES.links.texts.iter().any(|b| l.contains(b.as_str()))
        || l.contains("you are receiving")
        || l.contains("you received this")
        || l.contains("you're receiving")
        || l.contains("all rights reserved")
        || l.contains("©")
        || l.contains("(c) 20")
        || is_social_junk(p)
}

/// True for links that are newsletter furniture rather than stories.
pub(super) fn is_boilerplate(text: &str, url: &str) -> bool {
    let t = text.to_lowercase();
    let u = url.to_lowercase();
    u.starts_with("mailto:")
        || PHRASES
            .links
            .texts
            .iter()
            .chain(&PHRASES.links.urls)
            .any(|b| t.contains(b.as_str()) || u.contains(b.as_str()))
        || is_related_pointer(&t)
}

pub(super) fn is_related_pointer(text: &str) -> bool {
    let t = text.trim_start().to_lowercase();
    PHRASES
        .links
        .related_prefixes
        .iter()
        .any(|p| t.starts_with(p.as_str()))
}

/// A postal address or a phone line set like a headline ("Tel. 030 311 777 - 700",
/// "Reinhardtstr. 18 10117 Berlin"): seven digits or more in groups split by spaces, or
/// a street number and a four- or five-digit postcode followed by a place name.
pub(super) fn looks_like_contact(text: &str) -> bool {
    // Digits in groups split by spaces (a date, "15.02.2023" or "2022-10-14", is one group).
    let (mut run, mut spaced) = (0, false);
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 7 && spaced {
                return true;
            }
        } else if c == ' ' && run > 0 {
            spaced = true;
        } else if !matches!(c, '-' | '(' | ')' | '+') {
            (run, spaced) = (0, false);
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |w: &str, len: std::ops::RangeInclusive<usize>| {
        w.chars().all(|c| c.is_ascii_digit()) && len.contains(&w.len())
    };
    words.windows(3).any(|w| {
        number(w[0], 1..=4)
            && number(w[1], 4..=5)
            && w[2].chars().next().is_some_and(char::is_uppercase)
    })
}

/// A link that asks to be clicked rather than names a story: a generic text ("Read more",
/// "Mehr lesen") or any text that ends in an arrow ("Read it in the Journal →").
pub(super) fn is_call_to_action(text: &str) -> bool {
    let t = text.trim();
    // "»" and "›" also quote, German style »so« and French style «so»: an arrow only when
    // nothing opens the quote it would close.
    let arrow_end =
        t.ends_with(['→', '>', '⟶']) || (t.ends_with(['»', '›']) && !t.contains(['«', '‹']));
    if arrow_end || t.starts_with(['→', '>', '⟶']) {
        return true;
    }
    let lower = t.to_lowercase();
    if PHRASES
        .links
        .generic
        .iter()
        .any(|g| g == lower.trim_end_matches(['.', '!', ' ']).trim())
    {
        return true;
    }
    // A short imperative ("Read the full story", "Jetzt App laden", "Lire en ligne"); a
    // headline that opens with such a verb goes on past a colon or runs longer.
    let words: Vec<&str> = lower
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    words.len() <= MAX_CALL_TO_ACTION_WORDS
        && !t.contains(':')
        && words
            .first()
            .is_some_and(|w| PHRASES.calls_to_action.verbs.iter().any(|v| v == w))
}

/// Longest call to action recognised by its opening verb.
pub(super) const MAX_CALL_TO_ACTION_WORDS: usize = 6;

/// A sponsor label is short; longer text that mentions a sponsor is prose.
pub(super) const MAX_SPONSOR_LABEL_CHARS: usize = 60;

pub(super) fn is_sponsor_label(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    t.len() <= MAX_SPONSOR_LABEL_CHARS
        && PHRASES
            .sponsor
            .markers
            .iter()
            .any(|m| t.starts_with(m.as_str()))
}

/// A short label in capitals ("LEAD STORY", "OTHER STORIES") heads a section, not a story.
pub(super) fn is_caps_label(p: &str) -> bool {
    p.split_whitespace().count() <= 4
        && p.chars().any(char::is_alphabetic)
        && !p.chars().any(char::is_lowercase)
}

/// `Facebooktwitterredditpinterestlinkedinmail` and friends.
pub(super) fn is_social_junk(p: &str) -> bool {
    let l = p.to_lowercase();
    let names = [
        "facebook",
        "twitter",
        "reddit",
        "pinterest",
        "linkedin",
        "whatsapp",
        "mail",
        "email",
    ];
    let hits = names.iter().filter(|n| l.contains(*n)).count();
    hits >= 3 && !l.contains(' ')
}

#[cfg(test)]
mod tests {
    use super::PHRASES;

    #[test]
    fn the_phrase_lists_parse_and_are_lower_case() {
        let p = &*PHRASES;
        let lists = [
            &p.links.texts,
            &p.links.urls,
            &p.links.generic,
            &p.links.web_version,
            &p.links.related_prefixes,
            &p.calls_to_action.verbs,
            &p.sponsor.markers,
            &p.confirm.phrases,
            &p.confirm.welcome_subjects,
            &p.confirm.link,
        ];
        for list in lists {
            assert!(!list.is_empty());
            for phrase in list {
                assert_eq!(phrase, &phrase.to_lowercase(), "matched against lower case");
                assert_eq!(phrase.trim(), phrase);
            }
        }
        assert!(p.links.urls.iter().all(|u| u.contains('/')));
    }
}
