//! Memory across digests: a new report of a story an earlier digest already sent is a
//! follow-up, not a new story.
//!
//! Each sent story is kept in the state database as a [`SentStory`]: its headline, link and
//! the start of its summary, a few hundred bytes. Recognising it again is merging's job, so
//! that the same guards keep different stories apart (two earthquakes, two matches of one
//! club): the remembered stories join this run's items in a merge of their own, and every
//! item that lands with a remembered story is a report of it. Today's merging of the new
//! items among themselves is left as it was.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::group::dedup::{self, MergeSettings};
use crate::group::text::{self, Corpus, Doc};
use crate::model::{Earlier, Item, ItemKey, SourceKey, Story};

/// How much of a sent story's summary is remembered: enough words for merging to know it.
pub const GIST_CHARS: usize = 280;
/// The item keys of remembered stories while they take part in a merge.
const REMEMBERED: &str = "remembered:";

/// What is done with a new report of a story already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Followups {
    /// One line under its topic: "Update on <earlier title>: <source>" (a bare repeat is
    /// not shown).
    #[default]
    Show,
    /// Not shown at all.
    Hide,
}

/// A story as remembered once a digest carrying it was accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentStory {
    /// The source that first reported it: merging never joins two reports of one source by
    /// their words alone, and a remembered story is no exception.
    pub source: SourceKey,
    /// That source's name: with the source, which publication it was (one mailbox brings
    /// many newsletters). Empty for stories remembered before the name was.
    pub source_name: String,
    pub title: String,
    pub url: Option<String>,
    /// The start of its summary, at most [`GIST_CHARS`].
    pub gist: String,
    pub published: Option<DateTime<Utc>>,
}

impl SentStory {
    pub fn of(story: &Story) -> SentStory {
        SentStory {
            source: story.source_keys.first().cloned().unwrap_or_default(),
            source_name: story
                .sources
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            title: story.title.clone(),
            url: story.url.clone(),
            gist: gist(&story.summary),
            published: story.published,
        }
    }
}

/// The first [`GIST_CHARS`] of a summary, cut at a word.
pub fn gist(summary: &str) -> String {
    if summary.chars().count() <= GIST_CHARS {
        return summary.to_string();
    }
    let cut: String = summary.chars().take(GIST_CHARS).collect();
    match cut.rfind(char::is_whitespace) {
        Some(i) => cut[..i].to_string(),
        None => cut,
    }
}

/// Which of `items` (analysed into `docs` by `corpus`) report a story in `sent`, and what
/// that story was.
pub fn recall(
    items: &[Item],
    corpus: &Corpus,
    docs: &[Doc],
    sent: &[SentStory],
    settings: &MergeSettings,
) -> HashMap<ItemKey, Earlier> {
    let mut out = HashMap::new();
    if sent.is_empty() || items.is_empty() {
        return out;
    }
    // Only a remembered story that could join a new report takes part: one with the same
    // link or headline (the exact tier), or a word in its headline, or a name or figure in
    // its gist, that the new reports use and that is rare enough among them for merging to
    // pair reports through it (see `dedup::RARE_DF_CAP`). With thousands remembered, the
    // merge stays about the size of the run.
    let urls: HashSet<String> = items
        .iter()
        .filter_map(|i| i.url.as_deref().map(dedup::url_key))
        .collect();
    let titles: HashSet<String> = items.iter().map(|i| dedup::title_key(&i.title)).collect();
    let rare = |w: &text::Word| {
        corpus
            .known(&w.text.to_lowercase())
            .is_some_and(|t| (corpus.df[t as usize] as usize) <= 2 * dedup::RARE_DF_CAP)
    };
    let candidates: Vec<&SentStory> = sent
        .iter()
        .filter(|s| {
            s.url
                .as_deref()
                .is_some_and(|u| urls.contains(&dedup::url_key(u)))
                || titles.contains(&dedup::title_key(&s.title))
                || text::words(&s.title).iter().any(rare)
                || text::words(&s.gist)
                    .iter()
                    .filter(|w| {
                        w.capitalized_mid_sentence || w.text.chars().any(|c| c.is_ascii_digit())
                    })
                    .any(rare)
        })
        .collect();
    if candidates.is_empty() {
        return out;
    }
    let mut all: Vec<Item> = items.to_vec();
    let mut corpus = corpus.clone();
    let mut docs = docs.to_vec();
    for (n, s) in candidates.iter().enumerate() {
        let item = remembered_item(n, s);
        docs.push(corpus.add(&item.title, &item.summary_text));
        all.push(item);
    }
    let stories = dedup::merge_with(&all, &corpus, &docs, settings);
    let index: HashMap<&ItemKey, usize> =
        all.iter().enumerate().map(|(n, i)| (&i.key, n)).collect();
    for story in stories {
        let members: Vec<usize> = story
            .items
            .iter()
            .filter_map(|k| index.get(k).copied())
            .collect();
        let Some(earlier) = members
            .iter()
            .filter_map(|&m| m.checked_sub(items.len()))
            .map(|n| candidates[n])
            .min_by_key(|s| s.published)
        else {
            continue;
        };
        for &m in members.iter().filter(|&&m| m < items.len()) {
            let new = &items[m];
            out.insert(
                new.key.clone(),
                Earlier {
                    title: earlier.title.clone(),
                    update: adds_facts(&new.title, &gist(&new.summary_text), earlier),
                    report_title: new.title.clone(),
                    report_url: new.url.clone(),
                },
            );
        }
    }
    out
}

fn remembered_item(n: usize, s: &SentStory) -> Item {
    Item {
        key: ItemKey(format!("{REMEMBERED}{n}")),
        source: s.source.clone(),
        source_name: s.source_name.clone(),
        title: s.title.clone(),
        url: s.url.clone(),
        summary_text: s.gist.clone(),
        published: s.published,
        ..Default::default()
    }
}

/// Whether a new report says something the sent story did not: a figure (any number) in its
/// headline or the start of its summary, or a name in its headline. Headlines in Title Case
/// capitalise every word, so there only figures count.
fn adds_facts(title: &str, gist: &str, earlier: &SentStory) -> bool {
    let known: HashSet<String> = text::words(&earlier.title)
        .iter()
        .chain(text::words(&earlier.gist).iter())
        .map(|w| w.text.to_lowercase())
        .collect();
    let is_new = |w: &text::Word| !known.contains(&w.text.to_lowercase());
    let figure = |w: &text::Word| w.text.chars().any(|c| c.is_ascii_digit());
    let title_words = text::words(title);
    let capitalised = title_words
        .iter()
        .filter(|w| w.text.chars().next().is_some_and(char::is_uppercase))
        .count();
    let title_case = title_words.len() >= 3 && capitalised * 3 >= title_words.len() * 2;
    let new_name = !title_case
        && title_words.iter().any(|w| {
            w.capitalized_mid_sentence && is_new(w) && !text::is_stop_word(&w.text.to_lowercase())
        });
    let new_figure = title_words
        .iter()
        .chain(text::words(gist).iter())
        .any(|w| figure(w) && is_new(w));
    new_name || new_figure
}

/// Marks the stories that report a sent story (see [`recall`]); of several such reports in
/// one story, one that adds something speaks for it.
pub fn mark(stories: &mut [Story], recalled: &HashMap<ItemKey, Earlier>) {
    for story in stories {
        let mut reports = story.items.iter().filter_map(|k| recalled.get(k));
        let first = reports.next().cloned();
        story.earlier = match first {
            Some(e) if !e.update => Some(reports.find(|r| r.update).cloned().unwrap_or(e)),
            other => other,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::dedup::tests::item;

    fn sent(title: &str, gist: &str) -> SentStory {
        SentStory {
            source: SourceKey("earlier".into()),
            source_name: "earlier".into(),
            title: title.into(),
            url: None,
            gist: gist.into(),
            published: Some(Utc::now() - chrono::Duration::hours(20)),
        }
    }

    fn recall_for(items: &[Item], sent: &[SentStory]) -> HashMap<ItemKey, Earlier> {
        let texts: Vec<(&str, &str)> = items
            .iter()
            .map(|i| (i.title.as_str(), i.summary_text.as_str()))
            .collect();
        let (corpus, docs) = Corpus::analyse(&texts);
        recall(items, &corpus, &docs, sent, &MergeSettings::default())
    }

    fn dated(mut i: Item) -> Item {
        i.published = Some(Utc::now());
        i
    }

    #[test]
    fn a_new_report_of_a_sent_story_is_recalled_and_a_different_one_is_not() {
        let memory = [sent(
            "Earthquake of magnitude 6.8 strikes central Morocco, killing 300",
            "A powerful earthquake struck Morocco's High Atlas mountains late on Friday, killing at least 300 people.",
        )];
        let items = [
            dated(item(
                "wire",
                "Morocco earthquake death toll rises to 2,000 in High Atlas",
                Some("https://w.example/quake"),
                "The death toll from the earthquake in Morocco's High Atlas mountains rose to 2,000.",
            )),
            dated(item(
                "wire",
                "Earthquake of magnitude 5.1 shakes western Turkey",
                Some("https://w.example/turkey"),
                "A moderate earthquake shook western Turkey on Saturday; no damage was reported.",
            )),
        ];
        let recalled = recall_for(&items, &memory);
        let first = recalled
            .get(&items[0].key)
            .expect("the Morocco report is recalled");
        assert!(first.title.starts_with("Earthquake of magnitude 6.8"));
        assert!(
            first.update,
            "2,000 is a figure the sent story did not have"
        );
        assert!(!recalled.contains_key(&items[1].key), "{recalled:?}");
    }

    #[test]
    fn a_bare_repeat_is_no_update() {
        let memory = [sent(
            "Sbarro files for bankruptcy again",
            "The pizza chain Sbarro filed for bankruptcy protection for the second time.",
        )];
        let mut repeat = dated(item(
            "other",
            "Sbarro Again Files for Bankruptcy",
            Some("https://o.example/sbarro"),
            "Pizza chain Sbarro filed for bankruptcy protection again.",
        ));
        repeat.url = Some("https://o.example/sbarro".into());
        let recalled = recall_for(std::slice::from_ref(&repeat), &memory);
        let e = recalled.get(&repeat.key).expect("recalled");
        assert!(!e.update, "{e:?}");
    }

    #[test]
    fn the_same_link_is_recalled_whatever_the_headline() {
        let mut memory = sent("Council approves new budget", "");
        memory.url = Some("https://city.example/budget".into());
        let new = dated(item(
            "b",
            "What the spending plan means for you",
            Some("https://city.example/budget"),
            "",
        ));
        let recalled = recall_for(std::slice::from_ref(&new), &[memory]);
        assert!(recalled.contains_key(&new.key));
    }

    #[test]
    fn gists_are_cut_at_a_word() {
        let long = "word ".repeat(100);
        let g = gist(&long);
        assert!(g.len() <= GIST_CHARS && g.ends_with("word"), "{g}");
    }
}
