//! The language of a story, so its words are stemmed and stop-worded as that language's
//! words: "Kunden" and "Kunde" are one word in German, and "die" is not a word in any
//! German story, while an English stemmer would leave the one apart and keep the other.
//!
//! Detection is whatlang's trigram statistics over the story's title and the start of its
//! summary, limited to the languages rust-stemmers has a Snowball stemmer for. Text too
//! short or too mixed to be sure of is taken as English, the language most feeds are in.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use pure_rust_locales::{locale_match, Locale};
use rust_stemmers::{Algorithm, Stemmer};
use whatlang::{Detector, Lang};

/// How much text detection reads: the title and the start of the summary say enough, and
/// detection costs grow with the text.
const DETECT_CHARS: usize = 400;

/// A text detection is not sure of is in the language whose function words it uses, when
/// it uses at least this many ("Die Ampel braucht Geld, aber noch mehr Mut": die, aber,
/// noch, mehr) and more than of any other language.
const MIN_FUNCTION_WORDS: usize = 2;

/// The languages with a stemmer, in whatlang's, NLTK's and glibc's names.
const LANGUAGES: [(Language, Lang, &str, Locale); 15] = [
    (Language::English, Lang::Eng, "en", Locale::en_US),
    (Language::German, Lang::Deu, "de", Locale::de_DE),
    (Language::French, Lang::Fra, "fr", Locale::fr_FR),
    (Language::Spanish, Lang::Spa, "es", Locale::es_ES),
    (Language::Italian, Lang::Ita, "it", Locale::it_IT),
    (Language::Portuguese, Lang::Por, "pt", Locale::pt_PT),
    (Language::Dutch, Lang::Nld, "nl", Locale::nl_NL),
    (Language::Swedish, Lang::Swe, "sv", Locale::sv_SE),
    (Language::Danish, Lang::Dan, "da", Locale::da_DK),
    (Language::Norwegian, Lang::Nob, "no", Locale::nb_NO),
    (Language::Finnish, Lang::Fin, "fi", Locale::fi_FI),
    (Language::Hungarian, Lang::Hun, "hu", Locale::hu_HU),
    (Language::Romanian, Lang::Ron, "ro", Locale::ro_RO),
    (Language::Russian, Lang::Rus, "ru", Locale::ru_RU),
    (Language::Turkish, Lang::Tur, "tr", Locale::tr_TR),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Language {
    #[default]
    English,
    German,
    French,
    Spanish,
    Italian,
    Portuguese,
    Dutch,
    Swedish,
    Danish,
    Norwegian,
    Finnish,
    Hungarian,
    Romanian,
    Russian,
    Turkish,
}

impl Language {
    /// The language of a story's title and summary; English when detection is not sure.
    pub fn detect(title: &str, summary: &str) -> Language {
        let head = &summary[..summary.floor_char_boundary(DETECT_CHARS.min(summary.len()))];
        // Function words of each language: ASCII letters with as many English ones as any
        // other language's is English without running detection (most of a batch, at a
        // fraction of the cost), and they decide a headline too short for detection.
        let mut hits = [0usize; LANGUAGES.len()];
        let mut lower = String::new();
        for w in title
            .split(|c: char| !c.is_alphabetic())
            .chain(head.split(|c: char| !c.is_alphabetic()))
            .filter(|w| !w.is_empty())
        {
            lower.clear();
            lower.extend(w.chars().flat_map(char::to_lowercase));
            // One look-up a word: the languages whose stop word it is, as bits.
            if let Some(&langs) = stop_word_languages().get(lower.as_str()) {
                for (i, h) in hits.iter_mut().enumerate() {
                    *h += (langs >> i & 1) as usize;
                }
            }
        }
        let most = hits.iter().copied().max().unwrap_or(0);
        let leader = (hits.iter().filter(|&&h| h == most).count() == 1)
            .then(|| hits.iter().position(|&h| h == most))
            .flatten();
        // Ties count for English: the words English shares ("a", "in", "to") are most of
        // what a short headline has, and other Latin-script text rarely keeps to ASCII
        // letters for long. Typographic quotes and dashes are not letters.
        let ascii_letters = |s: &str| !s.chars().any(|c| !c.is_ascii() && c.is_alphabetic());
        if most > 0 && hits[0] == most && ascii_letters(title) && ascii_letters(head) {
            return Language::English;
        }
        static DETECTOR: OnceLock<Detector> = OnceLock::new();
        let detector = DETECTOR
            .get_or_init(|| Detector::with_allowlist(LANGUAGES.iter().map(|l| l.1).collect()));
        let mut text = String::with_capacity(DETECT_CHARS + 4);
        text.push_str(title);
        text.push_str(". ");
        text.extend(
            summary
                .chars()
                .take(DETECT_CHARS.saturating_sub(text.len())),
        );
        let detected = detector
            .detect(&text)
            .filter(|info| info.is_reliable())
            .and_then(|info| LANGUAGES.iter().find(|l| l.1 == info.lang()));
        match (detected, leader) {
            (Some(l), _) => l.0,
            (None, Some(at)) if most >= MIN_FUNCTION_WORDS => LANGUAGES[at].0,
            _ => Language::English,
        }
    }

    /// ISO 639-1 code ("de").
    pub fn code(self) -> &'static str {
        LANGUAGES.iter().find(|l| l.0 == self).map_or("en", |l| l.2)
    }

    /// The names of the months and weekdays, as the language writes them ("Dezember",
    /// "Montag"); abbreviations are left out, as too many are also words ("Jan", "Sun").
    pub fn calendar_words(self) -> impl Iterator<Item = &'static str> {
        let locale = LANGUAGES
            .iter()
            .find(|l| l.0 == self)
            .map_or(Locale::en_US, |l| l.3);
        let months: &[&str] = locale_match!(locale => LC_TIME::MON);
        let days: &[&str] = locale_match!(locale => LC_TIME::DAY);
        months.iter().chain(days).copied()
    }

    pub fn stemmer(self) -> Stemmer {
        Stemmer::create(match self {
            Language::English => Algorithm::English,
            Language::German => Algorithm::German,
            Language::French => Algorithm::French,
            Language::Spanish => Algorithm::Spanish,
            Language::Italian => Algorithm::Italian,
            Language::Portuguese => Algorithm::Portuguese,
            Language::Dutch => Algorithm::Dutch,
            Language::Swedish => Algorithm::Swedish,
            Language::Danish => Algorithm::Danish,
            Language::Norwegian => Algorithm::Norwegian,
            Language::Finnish => Algorithm::Finnish,
            Language::Hungarian => Algorithm::Hungarian,
            Language::Romanian => Algorithm::Romanian,
            Language::Russian => Algorithm::Russian,
            Language::Turkish => Algorithm::Turkish,
        })
    }

    /// Whether a lowercase word is a stop word of this language (English: the text model's
    /// own list, which also holds newswire filler; others: NLTK's lists).
    pub fn is_stop_word(self, lower: &str) -> bool {
        if self == Language::English {
            return super::text::is_stop_word(lower);
        }
        let at = LANGUAGES.iter().position(|l| l.0 == self).unwrap_or(0);
        stop_sets()[at].contains(lower) || super::text::is_markup_word(lower)
    }

    /// Whether a capital in the middle of a sentence marks a name: not in German, where
    /// every noun has one.
    pub fn capitals_mark_names(self) -> bool {
        self != Language::German
    }
}

/// Every stop word of [`stop_sets`], with the languages it is one of as bits in the order of
/// [`LANGUAGES`]: counting function words is one hash look-up a word, not one a language.
fn stop_word_languages() -> &'static HashMap<&'static str, u16> {
    static MAP: OnceLock<HashMap<&'static str, u16>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for (i, set) in stop_sets().iter().enumerate() {
            for w in set {
                *map.entry(*w).or_insert(0u16) |= 1 << i;
            }
        }
        map
    })
}

/// NLTK's stop words of every language, in the order of [`LANGUAGES`].
fn stop_sets() -> &'static [HashSet<&'static str>] {
    static SETS: OnceLock<Vec<HashSet<&'static str>>> = OnceLock::new();
    SETS.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|l| {
                stop_words::lookup(l.2)
                    .unwrap_or_default()
                    .iter()
                    .copied()
                    .collect()
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_told_apart_and_short_text_is_english() {
        assert_eq!(
            Language::detect(
                "Neue Regeln für den Nahverkehr",
                "Die Stadt hat beschlossen, dass die Busse ab dem nächsten Monat häufiger fahren."
            ),
            Language::German
        );
        assert_eq!(
            Language::detect(
                "Les prix du gaz baissent",
                "Le gouvernement a annoncé une baisse des tarifs réglementés pour les ménages."
            ),
            Language::French
        );
        assert_eq!(
            Language::detect(
                "Gas prices fall as storage fills",
                "European sites are full."
            ),
            Language::English
        );
        assert_eq!(Language::detect("Ok", ""), Language::English);
        // Too short for the trigrams, told by its function words.
        assert_eq!(
            Language::detect("Die Ampel braucht Geld, aber noch mehr Mut", ""),
            Language::German
        );
    }

    #[test]
    fn stop_words_and_stems_follow_the_language() {
        assert!(Language::German.is_stop_word("und"));
        assert!(Language::French.is_stop_word("les"));
        let de = Language::German.stemmer();
        assert_eq!(de.stem("kunden"), de.stem("kunde"));
        assert_eq!(Language::German.code(), "de");
    }
}
