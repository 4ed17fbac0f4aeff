//! Automatic topics: the stories no configured topic claims, grouped by what they are about.
//!
//! A reader scans a digest by subject, so an automatic topic is a word or a name that the
//! headlines of stories from at least [`MIN_ORIGINS`] publications share ("Bitcoin", "Elon
//! Musk", "Lions · Football"). The word has to say what the stories are about, so it is never
//! a stop word of the story's language (stop words have no term), a figure, a month or a
//! weekday, a word of the publication's own name (every "Milk Road" story says "Milk
//! Road"), or the publication's furniture: a word that most of one publication's stories
//! carry ("Share", "Sponsored", "Newsletter") says what the publication is, not what a story
//! is about. Only the headline counts for membership: a summary mentions much in passing.
//!
//! What one newsletter alone tells stays together under the newsletter's name: its stories
//! were written to be read together, and a topic only one newsletter fills is that
//! newsletter.

use std::collections::{HashMap, HashSet};

use super::language::Language;
use super::text::{self, Corpus, Doc};
use crate::model::Origin;

/// An automatic topic needs at least this many stories sharing its word.
pub(crate) const MIN_SIZE: usize = 3;
/// ... from at least this many publications.
pub(crate) const MIN_ORIGINS: usize = 2;
/// Default number of automatic topics.
pub(crate) const DEFAULT_COUNT: usize = 3;
/// A word in at least this share of one publication's stories is its furniture, ...
const FURNITURE_SHARE: f32 = 0.5;
/// ... judged for a publication with at least this many stories in the batch (two stories
/// that share a word may simply share a subject).
const FURNITURE_MIN_STORIES: usize = 4;
/// The second word of a label is in at least this share of the topic's stories.
const SECOND_WORD_SHARE: f32 = 0.5;
/// A name of several words ("Elon Musk") labels the topic whole when at least this share
/// of its stories write it so.
const NAME_SHARE: f32 = 0.5;
/// A newsletter gets a section of its own for at least this many stories; a single one
/// goes to "Other".
const MIN_NEWSLETTER_SECTION: usize = 2;

/// One automatic topic: its label, its stories (indices into the batch) and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AutoTopic {
    pub label: String,
    pub members: Vec<usize>,
    pub reason: String,
}

/// What the automatic topics are made from: every story of the batch, analysed.
pub(crate) struct Batch<'a> {
    /// (title, summary) of each story.
    pub texts: &'a [(&'a str, &'a str)],
    pub docs: &'a [Doc],
    pub corpus: &'a Corpus,
    /// The publications of each story.
    pub origins: &'a [&'a [Origin]],
}

/// The terms that may not name a story's topic (see [`Batch::barred`]).
struct Barred {
    /// Months, weekdays and figures: barred for every story.
    everywhere: HashSet<u32>,
    /// Each publication's name, furniture and (not in English) stop words.
    own: Vec<HashSet<u32>>,
    /// The publications of each story, as indices into `own`.
    of_story: Vec<Vec<usize>>,
}

impl Barred {
    fn contains(&self, story: usize, term: u32) -> bool {
        self.everywhere.contains(&term)
            || self.of_story[story]
                .iter()
                .any(|&o| self.own[o].contains(&term))
    }

    fn same_publications(&self, a: usize, b: usize) -> bool {
        self.of_story[a] == self.of_story[b]
    }
}

impl Batch<'_> {
    /// Up to `max` automatic topics from the stories `open`, largest first, then a section
    /// for each newsletter whose remaining stories no other source shares.
    pub(crate) fn topics(&self, open: &[usize], max: usize) -> Vec<AutoTopic> {
        let barred = self.barred();
        let mut open: Vec<usize> = open.to_vec();
        let mut out = Vec::new();
        for _ in 0..max {
            let Some(topic) = self.largest(&open, &barred) else {
                break;
            };
            open.retain(|i| !topic.members.contains(i));
            out.push(topic);
        }
        out.extend(self.newsletters(&open));
        out
    }

    /// For each story, the terms that may not name its topic: its publications' names and
    /// furniture, months and weekdays, figures.
    fn barred(&self) -> Barred {
        let corpus = self.corpus;
        let mut everywhere: HashSet<u32> = HashSet::new();
        for lang in std::iter::once(Language::English).chain(corpus.languages.iter().copied()) {
            for w in lang.calendar_words() {
                everywhere.extend(corpus.lookup(&w.to_lowercase()));
            }
        }
        everywhere.extend((0..corpus.spelled.len() as u32).filter(|&t| {
            let w = &corpus.spelled[t as usize];
            w.chars().any(|c| c.is_ascii_digit()) || w.chars().count() < 2
        }));
        let mut stories_of: HashMap<&Origin, Vec<usize>> = HashMap::new();
        for (i, origins) in self.origins.iter().enumerate() {
            for o in origins.iter() {
                stories_of.entry(o).or_default().push(i);
            }
        }
        let (origin_index, own): (HashMap<&Origin, usize>, Vec<HashSet<u32>>) = stories_of
            .iter()
            .enumerate()
            .map(|(n, (&o, stories))| {
                let mut words: HashSet<u32> = text::words(&o.name)
                    .iter()
                    .filter_map(|w| corpus.lookup(w.text))
                    .collect();
                // A headline too short to tell its language by is in its publication's:
                // "Jetzt App laden" is German, whatever three words say.
                let mut languages: HashMap<Language, usize> = HashMap::new();
                for &i in stories {
                    *languages.entry(self.docs[i].language).or_default() += 1;
                }
                let main = languages
                    .into_iter()
                    .max_by_key(|e| (e.1, e.0))
                    .map(|e| e.0);
                if let Some(lang) = main.filter(|&l| l != Language::English) {
                    for &i in stories {
                        words.extend(
                            self.docs[i]
                                .counts
                                .iter()
                                .map(|e| e.0)
                                .filter(|&t| lang.is_stop_word(&corpus.spelled[t as usize])),
                        );
                    }
                }
                if stories.len() >= FURNITURE_MIN_STORIES {
                    let mut df: HashMap<u32, usize> = HashMap::new();
                    for &i in stories {
                        for &(t, _) in &self.docs[i].counts {
                            *df.entry(t).or_default() += 1;
                        }
                    }
                    let floor = FURNITURE_SHARE * stories.len() as f32;
                    words.extend(
                        df.into_iter()
                            .filter(|&(_, c)| c as f32 >= floor)
                            .map(|e| e.0),
                    );
                }
                ((o, n), words)
            })
            .unzip();
        // One set per publication, looked up per story, rather than a merged copy per story:
        // the figures alone can be thousands of terms, and a batch thousands of stories.
        let of_story = self
            .origins
            .iter()
            .map(|origins| origins.iter().map(|o| origin_index[o]).collect())
            .collect();
        Barred {
            everywhere,
            own,
            of_story,
        }
    }

    /// The topic of the headline word most open stories share, from enough publications;
    /// ties go to the word more publications use, then to the rarer word in the batch.
    fn largest(&self, open: &[usize], barred: &Barred) -> Option<AutoTopic> {
        let mut by_term: HashMap<u32, Vec<usize>> = HashMap::new();
        for &i in open {
            for &t in &self.docs[i].title {
                if !barred.contains(i, t) {
                    by_term.entry(t).or_default().push(i);
                }
            }
        }
        let origins_of = |members: &[usize]| -> usize {
            members
                .iter()
                .flat_map(|&i| self.origins[i].iter())
                .collect::<HashSet<_>>()
                .len()
        };
        // A word every open story has says nothing about any of them.
        let most = open.len().max(MIN_SIZE + 1);
        let mut candidates: Vec<(u32, Vec<usize>)> = by_term
            .into_iter()
            .filter(|(_, m)| m.len() >= MIN_SIZE && m.len() < most)
            .collect();
        candidates.sort_unstable_by(|a, b| {
            b.1.len()
                .cmp(&a.1.len())
                .then(self.corpus.df[a.0 as usize].cmp(&self.corpus.df[b.0 as usize]))
                .then(a.0.cmp(&b.0))
        });
        let mut best: Option<(u32, Vec<usize>, usize)> = None;
        for (term, stories) in candidates {
            // The core is never larger than the stories: none of the rest can do better.
            if best.as_ref().is_some_and(|b| b.1.len() >= stories.len()) {
                break;
            }
            // A word the batch never writes in lowercase and capitalises mid-sentence is a
            // name ("Lions", "India"): the stories that share it share a subject.
            let t = term as usize;
            let core = if self.corpus.lower[t] == 0 && self.corpus.capitalised[t] > 0 {
                stories
            } else {
                self.core(term, &stories, barred)
            };
            let origins = origins_of(&core);
            if core.len() >= MIN_SIZE
                && origins >= MIN_ORIGINS
                && best.as_ref().is_none_or(|b| core.len() > b.1.len())
            {
                best = Some((term, core, origins));
            }
        }
        let (term, members, origins) = best?;
        let label = self.label(term, &members, barred);
        let reason = format!(
            "automatic topic: the headlines of {} stories from {origins} sources say `{}`",
            members.len(),
            self.spell(term, &members)
        );
        Some(AutoTopic {
            label,
            members,
            reason,
        })
    }

    /// The stories of `stories` (which share the common word `term`) that are about one subject: those whose
    /// headline shares another rare word (in at most twice as many stories as share `term`)
    /// with the headline of one of them from another publication. A word of every kind of story ("Get", "Top",
    /// "App") joins headlines that have nothing else in common.
    fn core(&self, term: u32, stories: &[usize], barred: &Barred) -> Vec<usize> {
        let rare = 2 * stories.len() as u32;
        let words: Vec<Vec<u32>> = stories
            .iter()
            .map(|&i| {
                self.docs[i]
                    .title
                    .iter()
                    .copied()
                    .filter(|&t| {
                        t != term && self.corpus.df[t as usize] <= rare && !barred.contains(i, t)
                    })
                    .collect()
            })
            .collect();
        // Each word's first story, and whether a story from other publications shares it:
        // one pass, where comparing every pair of stories grew with the square of a big topic.
        let mut by_word: HashMap<u32, (usize, bool)> = HashMap::new();
        for (a, ws) in words.iter().enumerate() {
            for &w in ws {
                let entry = by_word.entry(w).or_insert((stories[a], false));
                entry.1 |= !barred.same_publications(entry.0, stories[a]);
            }
        }
        (0..stories.len())
            .filter(|&a| words[a].iter().any(|w| by_word[w].1))
            .map(|a| stories[a])
            .collect()
    }

    /// The name the stories write the word in ("Elon Musk" for `musk`), or the word and
    /// the next word most of them share ("Lions · Football").
    fn label(&self, term: u32, members: &[usize], barred: &Barred) -> String {
        let share = |s: f32| ((s * members.len() as f32).ceil() as usize).max(2);
        let mut units: HashMap<Vec<u32>, usize> = HashMap::new();
        for &i in members {
            let names = self.corpus.names(&self.docs[i]);
            let mut seen: HashSet<&Vec<u32>> = HashSet::new();
            for u in names
                .units
                .iter()
                .filter(|u| u.len() > 1 && u.contains(&term))
            {
                if seen.insert(u) {
                    *units.entry(u.clone()).or_default() += 1;
                }
            }
        }
        let name = units
            .into_iter()
            .filter(|(_, c)| *c >= share(NAME_SHARE))
            .max_by(|a, b| {
                a.1.cmp(&b.1)
                    .then(a.0.len().cmp(&b.0.len()))
                    .then(b.0.cmp(&a.0))
            });
        if let Some(phrase) = name.and_then(|(unit, _)| self.phrase(&unit, members)) {
            return phrase;
        }
        let mut df: HashMap<u32, usize> = HashMap::new();
        for &i in members {
            for &(t, _) in &self.docs[i].counts {
                if t != term && !barred.contains(i, t) {
                    *df.entry(t).or_default() += 1;
                }
            }
        }
        let second = df
            .into_iter()
            .filter(|&(_, c)| c >= share(SECOND_WORD_SHARE))
            .max_by(|a, b| {
                a.1.cmp(&b.1)
                    .then(self.corpus.df[b.0 as usize].cmp(&self.corpus.df[a.0 as usize]))
                    .then(b.0.cmp(&a.0))
            })
            .map(|(t, _)| t);
        match second {
            Some(s) => format!("{} · {}", self.spell(term, members), self.spell(s, members)),
            None => self.spell(term, members),
        }
    }

    /// A name's words as a headline writes them together, in their order.
    fn phrase(&self, unit: &[u32], members: &[usize]) -> Option<String> {
        for &i in members {
            let words = text::words(self.texts[i].0);
            let terms: Vec<Option<u32>> =
                words.iter().map(|w| self.corpus.lookup(w.text)).collect();
            for start in 0..words.len() {
                let run = terms[start..]
                    .iter()
                    .take_while(|t| t.is_some_and(|t| unit.contains(&t)))
                    .count();
                let covered: HashSet<u32> = terms[start..start + run]
                    .iter()
                    .flatten()
                    .copied()
                    .collect();
                if run > 0 && covered.len() == unit.len() {
                    let parts: Vec<String> = (start..start + run)
                        .map(|k| self.spell(terms[k].unwrap_or_default(), members))
                        .collect();
                    return Some(parts.join(" "));
                }
            }
        }
        None
    }

    /// A term as the stories write it: a name as spelled ("NASA", "iPhone"), a common word
    /// with a capital ("Football"); the most common spelling, not shouted if another exists.
    fn spell(&self, term: u32, members: &[usize]) -> String {
        let mut forms: HashMap<&str, usize> = HashMap::new();
        for &i in members {
            let (title, summary) = self.texts[i];
            for w in text::words(title).into_iter().chain(text::words(summary)) {
                if self.corpus.lookup(w.text) == Some(term) {
                    *forms.entry(w.text).or_default() += 1;
                }
            }
        }
        let shouted = |f: &str| f.chars().count() > 1 && !f.chars().any(char::is_lowercase);
        let best = forms
            .into_iter()
            .max_by(|a, b| {
                (!shouted(a.0), a.1)
                    .cmp(&(!shouted(b.0), b.1))
                    .then(b.0.cmp(a.0))
            })
            .map(|(f, _)| f.to_string())
            .unwrap_or_else(|| self.corpus.spelled[term as usize].clone());
        // A word the batch also writes in lowercase is a common word, however a headline
        // capitalised it.
        let word = if self.corpus.lower[term as usize] > 0 {
            best.to_lowercase()
        } else {
            best
        };
        let mut chars = word.chars();
        match chars.next() {
            Some(c) if c.is_lowercase() => c.to_uppercase().chain(chars).collect(),
            _ => word,
        }
    }

    /// A section for each newsletter with stories left that only it tells.
    fn newsletters(&self, open: &[usize]) -> Vec<AutoTopic> {
        let mut by_origin: Vec<(&Origin, Vec<usize>)> = Vec::new();
        for &i in open {
            let [o] = self.origins[i] else { continue };
            if !o.newsletter {
                continue;
            }
            match by_origin.iter_mut().find(|e| e.0 == o) {
                Some(e) => e.1.push(i),
                None => by_origin.push((o, vec![i])),
            }
        }
        by_origin
            .into_iter()
            .filter(|e| e.1.len() >= MIN_NEWSLETTER_SECTION)
            .map(|(o, members)| AutoTopic {
                label: o.name.clone(),
                reason: format!(
                    "from the newsletter {}, in no configured or automatic topic",
                    o.name
                ),
                members,
            })
            .collect()
    }
}
