//! The text model shared by merging and topics, with nothing to download: Unicode-aware
//! words, English stop words, Snowball stems, TF-IDF weights and cosine similarity.
//!
//! A [`Corpus`] is built once per batch: every distinct word is lowercased and stemmed once
//! (stemming is the costly part), and every document becomes a sparse, L2-normalised vector
//! of term ids sorted by id, so a cosine is one merge-walk over two short lists.

use std::collections::HashMap;

use super::language::Language;

/// A title word counts this many times a summary word: titles say what the story is.
pub const TITLE_WEIGHT: f32 = 2.0;
/// Number tokens shorter than this ("3", "12") are too common to be evidence of anything.
const MIN_SALIENT_NUMBER_LEN: usize = 2;

/// Words that carry no topic: articles, pronouns, auxiliaries, newswire filler.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "said",
    "says",
    "say",
    "new",
    "one",
    "two",
    "its",
    "s",
    "t",
    "de",
    "la",
    "le",
    "el",
    "der",
    "die",
    "das",
    "und",
    "quot",
    "amp",
    "lt",
    "gt",
    "nbsp",
    "reuters",
    "ap",
    "afp",
    "com",
    "www",
    "http",
    "https",
    "href",
    "target",
    "br",
    "yesterday",
    "today",
    "tomorrow",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "week",
    "year",
    "years",
    "last",
    "first",
    "may",
    "will",
    "told",
    "per",
    "cent",
    "percent",
    "since",
    "still",
    // What is left of a contraction ("doesn't" splits into "doesn" and "t").
    "doesn",
    "didn",
    "isn",
    "wasn",
    "aren",
    "weren",
    "hasn",
    "haven",
    "hadn",
    "won",
    "wouldn",
    "couldn",
    "shouldn",
    "don",
    "ll",
    "ve",
    "re",
    "yet",
    "amid",
    "among",
    "via",
];

/// Whether a lowercase word is one of the (English) words that carry no topic.
pub fn is_stop_word(lower: &str) -> bool {
    STOP_WORDS.contains(&lower)
}

/// Words of markup and addresses, in no language, that leak into text.
const MARKUP_WORDS: &[&str] = &[
    "quot", "amp", "lt", "gt", "nbsp", "com", "www", "http", "https", "href", "target", "br",
];

/// Whether a lowercase word is markup or address residue (a stop word in every language).
pub fn is_markup_word(lower: &str) -> bool {
    MARKUP_WORDS.contains(&lower)
}

/// One word as it stood in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Word<'a> {
    pub text: &'a str,
    /// Starts with a capital and is not the first word of a sentence: likely a name.
    pub capitalized_mid_sentence: bool,
    /// Only spaces since the previous word (no punctuation, no possessive `'s`): the two
    /// may be one name ("Miley Cyrus", not "Keibler, George" or "Morocco's High").
    pub spaced: bool,
}

/// Splits text into words: runs of letters and digits (any script), keeping `6.8` and
/// `400,000` whole and dropping a possessive `'s`.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let mut sentence_start = true;
    let mut spaced = false;
    while i < bytes.len() {
        let (start, c) = bytes[i];
        if !c.is_alphanumeric() {
            if matches!(c, '.' | '!' | '?' | ':' | ';' | '\n' | '|' | '-' | '—') {
                sentence_start = true;
            }
            spaced &= c == ' ';
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < bytes.len() {
            let c = bytes[j].1;
            let joins_digits = matches!(c, '.' | ',')
                && bytes[j - 1].1.is_ascii_digit()
                && bytes.get(j + 1).is_some_and(|n| n.1.is_ascii_digit());
            if c.is_alphanumeric() || joins_digits {
                j += 1;
            } else {
                break;
            }
        }
        let end = bytes.get(j).map(|b| b.0).unwrap_or(text.len());
        out.push(Word {
            text: &text[start..end],
            capitalized_mid_sentence: !sentence_start && c.is_uppercase(),
            spaced: spaced && !out.is_empty(),
        });
        sentence_start = false;
        spaced = true;
        // A possessive `'s` / `’s` is not a word.
        if bytes.get(j).is_some_and(|b| matches!(b.1, '\'' | '’'))
            && bytes.get(j + 1).is_some_and(|b| b.1 == 's' || b.1 == 'S')
            && bytes.get(j + 2).is_none_or(|b| !b.1.is_alphanumeric())
        {
            j += 2;
            spaced = false;
        }
        i = j;
    }
    out
}

/// Lowercase words of a text, for keyword and filter matching (no stemming, stop words kept).
pub fn plain_words(text: &str) -> Vec<String> {
    words(text).iter().map(|w| w.text.to_lowercase()).collect()
}

/// How often `phrase` (already split into words) occurs as whole words in `haystack`.
pub fn count_phrase(haystack: &[String], phrase: &[String]) -> usize {
    if phrase.is_empty() || phrase.len() > haystack.len() {
        return 0;
    }
    haystack
        .windows(phrase.len())
        .filter(|w| *w == phrase)
        .count()
}

/// A sparse vector: `(term id, weight)` sorted by term id.
pub type Vector = Vec<(u32, f32)>;

pub fn cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

pub fn normalize(v: &mut Vector) {
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, w)| *w /= norm);
    }
}

/// One analysed document: term counts (title counted [`TITLE_WEIGHT`] times), and the terms
/// that look like names or figures (evidence that two reports are about the same event).
#[derive(Debug, Clone, Default)]
pub struct Doc {
    /// The language its words were stemmed in.
    pub language: Language,
    pub counts: Vec<(u32, f32)>,
    /// The terms of the title alone, sorted: what the story is about, for automatic topics.
    pub title: Vec<u32>,
    /// Names and figures by the text's own capitals (a capital mid-sentence in sentence-case
    /// text) and digits.
    pub salient: Vec<u32>,
    /// Every word that may be part of a name or a figure, in text order, for
    /// [`Corpus::names`] to decide with what the whole batch says about the word.
    pub marked: Vec<Marked>,
}

/// A word of a document that may be part of a name or a figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marked {
    /// Word position in the document (title first, then the summary), with a gap wherever
    /// punctuation stands: adjacent positions are one name ("Miley Cyrus").
    pub pos: u32,
    pub term: u32,
    pub kind: Mark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A figure: has a digit, at least [`MIN_SALIENT_NUMBER_LEN`] long ("6.8", "2014").
    Figure,
    /// Capitalised where capitals say something (mid-sentence in sentence-case text), or
    /// camel case ("iPhone", "eBay"): a name by its own spelling.
    Name,
    /// Capitalised where every word is (a Title Case headline, a sentence start): a name
    /// only if the batch never writes the word in lowercase and somewhere capitalises it
    /// where capitals say something.
    Capitalised,
    /// All capitals in text that has lowercase ("NHTSA", "GM"): an acronym, a name unless
    /// the batch writes the word in lowercase.
    Acronym,
}

/// A document's names and figures, decided against the batch ([`Corpus::names`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    /// Every term that is part of a name or a figure, sorted.
    pub terms: Vec<u32>,
    /// Each name (adjacent name words together) and each figure as a sorted set of terms:
    /// "Miley Cyrus" is one unit, so one shared name is one piece of evidence.
    pub units: Vec<Vec<u32>>,
}

/// Vocabulary and document frequencies for one batch.
#[derive(Clone)]
pub struct Corpus {
    /// lowercase word → term id (None for stop words), so each distinct word is stemmed once:
    /// English words here, words of other languages in `foreign_ids`. A stem is one term
    /// whatever language it came from, so a name ("berlin") joins stories across languages.
    word_ids: HashMap<String, Option<u32>>,
    foreign_ids: HashMap<(Language, String), Option<u32>>,
    /// The languages other than English in the batch.
    pub languages: Vec<Language>,
    stem_ids: HashMap<String, u32>,
    /// The stem of every term id, for explanations.
    pub stems: Vec<String>,
    /// The first word seen for every term id ("cities" for `citi`), for topic labels.
    pub spelled: Vec<String>,
    pub df: Vec<u32>,
    pub docs: usize,
    /// How often each term was written all in lowercase, and how often capitalised where
    /// capitals say something (mid-sentence in sentence-case text): what the batch says
    /// about whether a word is a name.
    pub lower: Vec<u32>,
    pub capitalised: Vec<u32>,
}

impl Default for Corpus {
    fn default() -> Self {
        Corpus::new()
    }
}

impl Corpus {
    pub fn new() -> Corpus {
        Corpus {
            word_ids: HashMap::new(),
            foreign_ids: HashMap::new(),
            languages: Vec::new(),
            stem_ids: HashMap::new(),
            stems: Vec::new(),
            spelled: Vec::new(),
            df: Vec::new(),
            docs: 0,
            lower: Vec::new(),
            capitalised: Vec::new(),
        }
    }

    /// The term id of an English word, or None for a stop word.
    pub fn term(&mut self, word: &str) -> Option<u32> {
        self.term_in(word, Language::English)
    }

    /// The term id of a word of `language`, or None for a stop word of it.
    pub fn term_in(&mut self, word: &str, language: Language) -> Option<u32> {
        let english = language == Language::English;
        // Most words are already lowercase ASCII: look them up without a copy first.
        if english
            && !word
                .bytes()
                .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            if let Some(id) = self.word_ids.get(word) {
                return *id;
            }
        }
        let lower = word.to_lowercase();
        let known = if english {
            self.word_ids.get(&lower)
        } else {
            self.foreign_ids.get(&(language, lower.clone()))
        };
        if let Some(id) = known {
            return *id;
        }
        let id = if language.is_stop_word(&lower) {
            None
        } else {
            let stem = language.stemmer().stem(&lower).into_owned();
            Some(self.stem_id(stem, &lower))
        };
        if english {
            self.word_ids.insert(lower, id);
        } else {
            if !self.languages.contains(&language) {
                self.languages.push(language);
            }
            self.foreign_ids.insert((language, lower), id);
        }
        id
    }

    /// The term of a stem, new or known.
    fn stem_id(&mut self, stem: String, spelled: &str) -> u32 {
        let next = self.stems.len() as u32;
        let id = *self.stem_ids.entry(stem.clone()).or_insert(next);
        if id == next {
            self.stems.push(stem);
            self.spelled.push(spelled.to_string());
            self.df.push(0);
            self.lower.push(0);
            self.capitalised.push(0);
        }
        id
    }

    /// The term of a word exactly as spelled (lowercase) in a text already added, without
    /// stemming: a cheap test of whether a word occurs in the corpus at all.
    pub fn known(&self, lower: &str) -> Option<u32> {
        self.word_ids.get(lower).copied().flatten().or_else(|| {
            self.languages.iter().find_map(|&l| {
                self.foreign_ids
                    .get(&(l, lower.to_string()))
                    .copied()
                    .flatten()
            })
        })
    }

    /// Looks a word up without adding it (for keywords against a finished corpus): as
    /// spelled in any of the batch's languages, else by its stem in each.
    pub fn lookup(&self, word: &str) -> Option<u32> {
        let lower = word.to_lowercase();
        if let Some(id) = self.word_ids.get(&lower) {
            return *id;
        }
        for &l in &self.languages {
            if let Some(id) = self.foreign_ids.get(&(l, lower.clone())) {
                return *id;
            }
        }
        std::iter::once(Language::English)
            .chain(self.languages.iter().copied())
            .find_map(|l| {
                self.stem_ids
                    .get(l.stemmer().stem(&lower).as_ref())
                    .copied()
            })
    }

    /// Analyses a title and summary and counts the document in the document frequencies.
    pub fn add(&mut self, title: &str, summary: &str) -> Doc {
        let mut counts: HashMap<u32, f32> = HashMap::new();
        let mut salient: Vec<u32> = Vec::new();
        let mut marked: Vec<Marked> = Vec::new();
        let mut title_terms: Vec<u32> = Vec::new();
        let language = Language::detect(title, summary);
        let title_words = words(title);
        // Title-case headlines capitalise every word, so capitals in a title say nothing.
        let title_is_sentence_case = title_words
            .iter()
            .skip(1)
            .any(|w| w.text.chars().next().is_some_and(char::is_lowercase) && w.text.len() > 3);
        let title_has_lowercase = title.chars().any(char::is_lowercase);
        // Word positions, with a gap wherever punctuation stands between two words, so only
        // names written together are adjacent; the summary starts after a gap too.
        let positions = |ws: &[Word], from: u32| -> Vec<u32> {
            let mut pos = from;
            ws.iter()
                .map(|w| {
                    pos += 1 + !w.spaced as u32;
                    pos
                })
                .collect()
        };
        let title_pos = positions(&title_words, 0);
        let summary_words = words(summary);
        let summary_pos = positions(&summary_words, title_pos.last().map_or(0, |p| p + 1));
        for (in_title, text_words, weight, names_count, has_lowercase, pos) in [
            (
                true,
                &title_words,
                TITLE_WEIGHT,
                title_is_sentence_case,
                title_has_lowercase,
                title_pos,
            ),
            (false, &summary_words, 1.0, true, true, summary_pos),
        ] {
            // In German every noun has a capital: there a capital alone says nothing.
            let names_count = names_count && language.capitals_mark_names();
            for (n, w) in text_words.iter().enumerate() {
                let Some(id) = self.term_in(w.text, language) else {
                    continue;
                };
                *counts.entry(id).or_default() += weight;
                if in_title {
                    title_terms.push(id);
                }
                let digits = w.text.chars().any(|c| c.is_ascii_digit());
                let is_figure = digits && w.text.chars().count() >= MIN_SALIENT_NUMBER_LEN;
                let mut chars = w.text.chars();
                let first = chars.next().unwrap_or(' ');
                let camel = first.is_lowercase()
                    && w.text.chars().all(char::is_alphabetic)
                    && chars.any(char::is_uppercase);
                let is_name = (names_count && w.capitalized_mid_sentence) || camel;
                let all_lower = !w.text.chars().any(char::is_uppercase)
                    && w.text.chars().any(char::is_lowercase);
                if all_lower && !camel {
                    self.lower[id as usize] += 1;
                } else if names_count && w.capitalized_mid_sentence {
                    self.capitalised[id as usize] += 1;
                }
                let alphabetic = w.text.chars().all(char::is_alphabetic);
                let kind = if is_figure {
                    Some(Mark::Figure)
                } else if is_name {
                    Some(Mark::Name)
                } else if alphabetic
                    && has_lowercase
                    && w.text.chars().count() >= 2
                    && !w.text.chars().any(char::is_lowercase)
                {
                    Some(Mark::Acronym)
                } else if alphabetic && first.is_uppercase() {
                    Some(Mark::Capitalised)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    marked.push(Marked {
                        pos: pos[n],
                        term: id,
                        kind,
                    });
                }
                if is_name || is_figure {
                    salient.push(id);
                }
            }
        }
        let mut counts: Vector = counts.into_iter().collect();
        counts.sort_unstable_by_key(|(t, _)| *t);
        for &(t, _) in &counts {
            self.df[t as usize] += 1;
        }
        self.docs += 1;
        salient.sort_unstable();
        salient.dedup();
        title_terms.sort_unstable();
        title_terms.dedup();
        Doc {
            language,
            counts,
            title: title_terms,
            salient,
            marked,
        }
    }

    /// The names and figures of a document, now that the whole batch is in: a word counts
    /// as a name by its own capitals ([`Mark::Name`]), or, capitalised where every word is
    /// (a Title Case or ALL-CAPS headline), when the batch never writes it in lowercase and
    /// capitalises it somewhere capitals say something ("Sbarro Again Files for
    /// Bankruptcy": `sbarro` is a name if another report writes "files for bankruptcy").
    pub fn names(&self, doc: &Doc) -> Names {
        let is_name = |m: &Marked| {
            let t = m.term as usize;
            match m.kind {
                Mark::Figure | Mark::Name => true,
                Mark::Capitalised => self.lower[t] == 0 && self.capitalised[t] > 0,
                Mark::Acronym => self.lower[t] == 0,
            }
        };
        let mut names = Names::default();
        let mut unit: Vec<u32> = Vec::new();
        let mut last: Option<u32> = None;
        for m in doc.marked.iter().filter(|m| is_name(m)) {
            let joins = m.kind != Mark::Figure && last.is_some_and(|p| m.pos == p + 1);
            if !joins && !unit.is_empty() {
                names.units.push(std::mem::take(&mut unit));
            }
            unit.push(m.term);
            names.terms.push(m.term);
            // A figure is a unit of its own.
            last = (m.kind != Mark::Figure).then_some(m.pos);
        }
        if !unit.is_empty() {
            names.units.push(unit);
        }
        for u in &mut names.units {
            u.sort_unstable();
            u.dedup();
        }
        names.terms.sort_unstable();
        names.terms.dedup();
        names
    }

    /// A corpus of `texts` (title, summary) and their docs, on all cores: each core analyses
    /// a contiguous share into a corpus of its own, then the shares are joined in order. A
    /// share's new stems are numbered in the order it first met them, after the terms of the
    /// shares before it, so term ids, spellings, frequencies and docs are exactly those of
    /// [`Corpus::add`] called text by text.
    pub fn analyse(texts: &[(&str, &str)]) -> (Corpus, Vec<Doc>) {
        Corpus::analyse_in(texts, 0)
    }

    /// [`Corpus::analyse`] in `shares` shares (0: one per core).
    fn analyse_in(texts: &[(&str, &str)], shares: usize) -> (Corpus, Vec<Doc>) {
        let analyse = |share: &[(&str, &str)]| {
            let mut corpus = Corpus::new();
            let docs: Vec<Doc> = share.iter().map(|(t, s)| corpus.add(t, s)).collect();
            (corpus, docs)
        };
        let mut shares = match shares {
            0 => crate::parallel::map_shares(texts, analyse),
            n => crate::parallel::map_in_shares(texts, n, analyse),
        }
        .into_iter();
        let (mut corpus, mut all) = shares.next().unwrap_or_default();
        for (part, mut docs) in shares {
            corpus.absorb(part, &mut docs);
            all.append(&mut docs);
        }
        (corpus, all)
    }

    /// Takes in the terms of `other`, a corpus of the texts after this one's, renumbering
    /// `docs` (made by `other`) to this corpus's ids.
    fn absorb(&mut self, other: Corpus, docs: &mut [Doc]) {
        let ids: Vec<u32> = other
            .stems
            .into_iter()
            .zip(other.spelled)
            .zip(other.df)
            .zip(other.lower.into_iter().zip(other.capitalised))
            .map(|(((stem, spelled), df), (lower, capitalised))| {
                let next = self.stems.len() as u32;
                let id = match self.stem_ids.get(&stem) {
                    Some(&id) => id,
                    None => {
                        self.stem_ids.insert(stem.clone(), next);
                        self.stems.push(stem);
                        self.spelled.push(spelled);
                        self.df.push(0);
                        self.lower.push(0);
                        self.capitalised.push(0);
                        next
                    }
                };
                self.df[id as usize] += df;
                self.lower[id as usize] += lower;
                self.capitalised[id as usize] += capitalised;
                id
            })
            .collect();
        for (word, id) in other.word_ids {
            self.word_ids
                .entry(word)
                .or_insert_with(|| id.map(|i| ids[i as usize]));
        }
        for (word, id) in other.foreign_ids {
            self.foreign_ids
                .entry(word)
                .or_insert_with(|| id.map(|i| ids[i as usize]));
        }
        for l in other.languages {
            if !self.languages.contains(&l) {
                self.languages.push(l);
            }
        }
        self.docs += other.docs;
        for d in docs {
            for e in &mut d.counts {
                e.0 = ids[e.0 as usize];
            }
            d.counts.sort_unstable_by_key(|e| e.0);
            for list in [&mut d.salient, &mut d.title] {
                for t in list.iter_mut() {
                    *t = ids[*t as usize];
                }
                list.sort_unstable();
            }
            for m in &mut d.marked {
                m.term = ids[m.term as usize];
            }
        }
    }

    /// Smoothed inverse document frequency.
    pub fn idf(&self, term: u32) -> f32 {
        let n = self.docs as f32;
        ((n + 1.0) / (self.df[term as usize] as f32 + 1.0)).ln() + 1.0
    }

    /// The L2-normalised TF-IDF vector of a document (sublinear term frequency).
    pub fn tfidf(&self, doc: &Doc) -> Vector {
        self.tfidf_boosted(doc, 1.0)
    }

    /// [`Corpus::tfidf`] with the document's names and figures weighted `boost` times.
    pub fn tfidf_boosted(&self, doc: &Doc, boost: f32) -> Vector {
        self.tfidf_with(doc, &doc.salient, boost)
    }

    /// [`Corpus::tfidf`] with the terms in `boosted` (sorted) weighted `boost` times.
    pub fn tfidf_with(&self, doc: &Doc, boosted: &[u32], boost: f32) -> Vector {
        let mut v: Vector = doc
            .counts
            .iter()
            .map(|&(t, c)| {
                let b = if boosted.binary_search(&t).is_ok() {
                    boost
                } else {
                    1.0
                };
                (t, (1.0 + c.ln()) * self.idf(t) * b)
            })
            .collect();
        normalize(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_figures_and_drop_possessives() {
        let w: Vec<&str> = words("Peru's 6.8 quake: 400,000 hit — Zürich café, K2-18c.")
            .iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(
            w,
            ["Peru", "6.8", "quake", "400,000", "hit", "Zürich", "café", "K2", "18c"]
        );
    }

    #[test]
    fn names_are_capitals_after_the_first_word() {
        let w = words("Residents of Chivay left. Rescue teams came");
        let names: Vec<&str> = w
            .iter()
            .filter(|w| w.capitalized_mid_sentence)
            .map(|w| w.text)
            .collect();
        assert_eq!(names, ["Chivay"]);
    }

    #[test]
    fn title_case_names_are_found_from_the_batch_and_written_together_are_one() {
        let mut c = Corpus::new();
        let title_case = c.add("Sbarro Again Files For Bankruptcy, Stacy Keibler Weds", "");
        let sentence = c.add(
            "Pizza chain files for bankruptcy",
            "The chain, Sbarro, blames losses for the bankruptcy, as Stacy Keibler's wedding nears.",
        );
        let acronym = c.add("GM recall probe widens", "");
        let spelled = |n: &Names| -> Vec<Vec<&str>> {
            n.units
                .iter()
                .map(|u| u.iter().map(|&t| c.spelled[t as usize].as_str()).collect())
                .collect()
        };
        // "sbarro" is capitalised mid-sentence and never lowercase; "bankruptcy" and "files"
        // are written in lowercase elsewhere, "again" is capitalised nowhere it says
        // something.
        assert_eq!(
            spelled(&c.names(&title_case)),
            [vec!["sbarro"], vec!["stacy", "keibler"]]
        );
        // The possessive ends the name: "Keibler's wedding" has no "wedding" in the name.
        assert_eq!(
            spelled(&c.names(&sentence)),
            [vec!["sbarro"], vec!["stacy", "keibler"]]
        );
        assert_eq!(spelled(&c.names(&acronym)), [vec!["gm"]]);
    }

    #[test]
    fn analysing_on_all_cores_gives_what_adding_in_order_gives() {
        // Enough texts for several shares, with words that first appear in later shares.
        let texts: Vec<(String, String)> = (0..3000)
            .map(|i| {
                (
                    format!("Report {i} on Topic{} from Place{}", i % 97, i / 7),
                    format!(
                        "Residents of Town{} said {} things; the Mayor{} agreed.",
                        i / 3,
                        i % 13,
                        i % 500
                    ),
                )
            })
            .collect();
        let pairs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(t, s)| (t.as_str(), s.as_str()))
            .collect();
        let mut one = Corpus::new();
        let docs: Vec<Doc> = pairs.iter().map(|(t, s)| one.add(t, s)).collect();
        for shares in [0, 2, 3, 7] {
            let (all, par_docs) = Corpus::analyse_in(&pairs, shares);
            assert_eq!(all.stems, one.stems);
            assert_eq!(all.spelled, one.spelled);
            assert_eq!(all.df, one.df);
            assert_eq!(all.docs, one.docs);
            assert_eq!(
                (&all.lower, &all.capitalised),
                (&one.lower, &one.capitalised)
            );
            assert_eq!(all.stem_ids, one.stem_ids);
            assert_eq!(all.word_ids, one.word_ids);
            assert_eq!(all.foreign_ids, one.foreign_ids);
            for (a, b) in par_docs.iter().zip(&docs) {
                assert_eq!(
                    (&a.counts, &a.title, &a.salient, &a.marked),
                    (&b.counts, &b.title, &b.salient, &b.marked)
                );
            }
            assert_eq!(par_docs.len(), docs.len());
        }
    }

    #[test]
    fn stems_merge_inflections_and_stop_words_vanish() {
        let mut c = Corpus::new();
        assert_eq!(c.term("earthquakes"), c.term("Earthquake"));
        assert_eq!(c.term("the"), None);
        let a = c.add("Earthquake strikes Peru", "");
        let b = c.add("Earthquakes struck Peru", "");
        let (va, vb) = (c.tfidf(&a), c.tfidf(&b));
        assert!(cosine(&va, &vb) > 0.5);
        assert!((cosine(&va, &va) - 1.0).abs() < 1e-5);
    }
}
