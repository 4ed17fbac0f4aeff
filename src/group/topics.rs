//! Topics: every story is placed on the strongest evidence it has.
//!
//! 1. A configured topic's **keyword** (whole words, case-insensitive, phrases allowed; a
//!    title hit counts [`TITLE_WEIGHT`] times). A topic's `exclude` words veto it.
//! 2. A **topic hint** naming a configured topic: the feed's `topic`, or the newsletter
//!    section heading the story sat under.
//! 3. The nearest **topic centroid**. Keyword- and hint-placed stories seed one TF-IDF centroid
//!    per topic; then a few rounds of self-training (assign the unplaced stories to the
//!    nearest centroid, recompute the centroids from seeds and confident assignments) let
//!    each topic learn its vocabulary from the batch itself, with no labelled data. Below
//!    [`ABSTAIN`] cosine, or too close to call, a story abstains.
//! 4. A hint naming a topic that is not configured becomes that topic.
//! 5. What is left is grouped automatically by a shared distinctive word
//!    (at least [`MIN_AUTO_SIZE`] stories, at most `auto_topics` such groups), then "Other".

use std::collections::HashMap;

use super::text::{self, Corpus, Vector};
use crate::config::TopicConfig;
use crate::model::{Item, Story, TopicGroup};

pub const OTHER: &str = "Other";
/// A keyword in the title counts this many times a keyword in the summary.
const TITLE_WEIGHT: usize = 2;
/// Below this cosine to every centroid a story is not claimed by any configured topic.
pub const ABSTAIN: f32 = 0.02;
/// Self-training rounds; the assignments settle in a handful.
const ROUNDS: usize = 6;
/// A keyword score below this (one summary mention) seeds its topic's centroid, but the
/// centroid has the last word when it clearly disagrees.
const DECISIVE_KEYWORD_SCORE: usize = 3;
/// In each round only this share of the centroid-placed stories, the most confident,
/// feed back into the centroids, so early mistakes are not learnt.
const CONFIDENT_SHARE: f32 = 0.7;
/// An automatic topic needs at least this many stories sharing its word.
pub const MIN_AUTO_SIZE: usize = 3;
/// Default number of automatic topics.
pub const DEFAULT_AUTO_TOPICS: usize = 3;

/// Lowercase words, split on anything that is not a letter or digit (Unicode-aware).
pub fn words(text: &str) -> Vec<String> {
    text::plain_words(text)
}

struct Topic {
    name: String,
    keywords: Vec<(String, Vec<String>)>,
    exclude: Vec<(String, Vec<String>)>,
}

/// Where a story goes and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub topic: String,
    pub reason: String,
}

pub struct Classifier {
    topics: Vec<Topic>,
    auto_topics: usize,
}

impl Classifier {
    pub fn new(topics: &[TopicConfig]) -> Classifier {
        let split = |list: &[String]| list.iter().map(|k| (k.clone(), words(k))).collect();
        Classifier {
            topics: topics
                .iter()
                .map(|t| Topic {
                    name: t.name.clone(),
                    keywords: split(&t.keywords),
                    exclude: split(&t.exclude),
                })
                .collect(),
            auto_topics: DEFAULT_AUTO_TOPICS,
        }
    }

    /// How many automatic topics may be made from what no configured topic claims.
    pub fn with_auto_topics(mut self, n: usize) -> Classifier {
        self.auto_topics = n;
        self
    }

    /// Keyword score of every topic for one text; a topic whose exclude word appears is
    /// vetoed (None).
    fn keyword_scores(&self, title: &[String], summary: &[String]) -> Vec<Option<(usize, &str)>> {
        self.topics
            .iter()
            .map(|t| {
                let vetoed = t.exclude.iter().any(|(_, w)| {
                    text::count_phrase(title, w) + text::count_phrase(summary, w) > 0
                });
                if vetoed {
                    return None;
                }
                let mut score = 0;
                let mut top: Option<(&str, usize)> = None;
                for (kw, kw_words) in &t.keywords {
                    let s = TITLE_WEIGHT * text::count_phrase(title, kw_words)
                        + text::count_phrase(summary, kw_words);
                    score += s;
                    if s > 0 && top.is_none_or(|(_, b)| s > b) {
                        top = Some((kw, s));
                    }
                }
                Some((score, top.map(|k| k.0).unwrap_or("")))
            })
            .collect()
    }

    /// Places every story; `hints[i]` are the topic hints of story `i`'s items.
    pub fn place(&self, stories: &[Story], hints: &[Vec<String>]) -> Vec<Placement> {
        let n = stories.len();
        let mut corpus = Corpus::new();
        let docs: Vec<_> = stories
            .iter()
            .map(|s| corpus.add(&s.title, &s.summary))
            .collect();
        let vectors: Vec<Vector> = docs.iter().map(|d| corpus.tfidf(d)).collect();

        let mut placed: Vec<Option<(usize, String)>> = vec![None; n];
        let mut vetoed: Vec<Vec<bool>> = vec![vec![false; self.topics.len()]; n];
        let mut weak: Vec<bool> = vec![false; n];
        for (i, s) in stories.iter().enumerate() {
            let scores = self.keyword_scores(&words(&s.title), &words(&s.summary));
            for (t, sc) in scores.iter().enumerate() {
                vetoed[i][t] = sc.is_none();
            }
            // Strictly greater: ties go to the topic listed first in config.
            let mut best: Option<(usize, usize, &str)> = None;
            for (t, sc) in scores.iter().enumerate() {
                if let Some((score, kw)) = sc {
                    if *score > 0 && best.is_none_or(|(b, _, _)| *score > b) {
                        best = Some((*score, t, kw));
                    }
                }
            }
            if let Some((score, t, kw)) = best {
                placed[i] = Some((t, format!("keyword `{kw}` (score {score})")));
                weak[i] = score < DECISIVE_KEYWORD_SCORE;
                continue;
            }
            for h in &hints[i] {
                let hinted = self
                    .topics
                    .iter()
                    .position(|t| t.name.eq_ignore_ascii_case(h))
                    .filter(|&t| !vetoed[i][t]);
                if let Some(t) = hinted {
                    placed[i] = Some((t, format!("topic hint `{h}` of its source")));
                    break;
                }
            }
        }

        let seeded: Vec<bool> = placed.iter().map(Option::is_some).collect();
        let mut centroid_of: Vec<Option<(usize, f32, f32)>> = vec![None; n];
        if seeded.iter().any(|&s| s) && seeded.iter().any(|&s| !s) {
            for _ in 0..ROUNDS {
                let centroids = self.centroids(&vectors, &placed, &centroid_of);
                let mut changed = false;
                for i in (0..n).filter(|&i| !seeded[i]) {
                    let best = nearest(&vectors[i], &centroids, &vetoed[i]);
                    changed |= best.map(|b| b.0) != centroid_of[i].map(|b| b.0);
                    centroid_of[i] = best;
                }
                if !changed {
                    break;
                }
            }
            let centroids = self.centroids(&vectors, &placed, &centroid_of);
            for i in (0..n).filter(|&i| seeded[i] && weak[i]) {
                let kw_topic = placed[i].as_ref().map(|p| p.0);
                if let Some((t, sim, runner_up)) = nearest(&vectors[i], &centroids, &vetoed[i]) {
                    if Some(t) != kw_topic {
                        let reason = format!(
                            "nearest topic centroid (cosine {sim:.2}, next best {runner_up:.2}) \
                             outweighs a single keyword mention ({})",
                            placed[i].as_ref().map(|p| p.1.as_str()).unwrap_or("")
                        );
                        placed[i] = Some((t, reason));
                    }
                }
            }
            for i in (0..n).filter(|&i| !seeded[i]) {
                if let Some((t, sim, runner_up)) = centroid_of[i] {
                    let top: Vec<&str> = top_shared_terms(&vectors[i], &centroids[t], 3)
                        .into_iter()
                        .map(|t| corpus.stems[t as usize].as_str())
                        .collect();
                    placed[i] = Some((
                        t,
                        format!(
                            "nearest topic centroid (cosine {sim:.2}, next best {runner_up:.2}; \
                             words in common: {})",
                            top.join(", ")
                        ),
                    ));
                }
            }
        }

        let mut out: Vec<Option<Placement>> = placed
            .into_iter()
            .map(|p| {
                p.map(|(t, reason)| Placement {
                    topic: self.topics[t].name.clone(),
                    reason,
                })
            })
            .collect();
        // Hints that name no configured topic become topics of their own.
        for (i, o) in out.iter_mut().enumerate() {
            if o.is_none() {
                if let Some(h) = hints[i].first() {
                    *o = Some(Placement {
                        topic: h.clone(),
                        reason: format!("topic hint `{h}` of its source"),
                    });
                }
            }
        }
        self.auto_group(&mut out, &docs, &corpus);
        out.into_iter()
            .map(|p| {
                p.unwrap_or_else(|| Placement {
                    topic: OTHER.to_string(),
                    reason: "no keyword, hint or topic matched".into(),
                })
            })
            .collect()
    }

    /// One centroid per topic: the mean of its seeds and its most confident centroid-placed
    /// stories.
    fn centroids(
        &self,
        vectors: &[Vector],
        placed: &[Option<(usize, String)>],
        centroid_of: &[Option<(usize, f32, f32)>],
    ) -> Vec<Vector> {
        let mut acc: Vec<HashMap<u32, f32>> = vec![HashMap::new(); self.topics.len()];
        for (i, p) in placed.iter().enumerate() {
            if let Some((t, _)) = p {
                text::add_into(&mut acc[*t], &vectors[i], 1.0);
            }
        }
        // Confidence is the margin over the runner-up; the top share per topic feeds back.
        let mut by_topic: Vec<Vec<(f32, usize)>> = vec![Vec::new(); self.topics.len()];
        for (i, c) in centroid_of.iter().enumerate() {
            if let (None, Some((t, sim, runner_up))) = (&placed[i], c) {
                by_topic[*t].push((sim - runner_up, i));
            }
        }
        for (t, mut list) in by_topic.into_iter().enumerate() {
            list.sort_by(|a, b| b.0.total_cmp(&a.0));
            let keep = (list.len() as f32 * CONFIDENT_SHARE).ceil() as usize;
            for &(_, i) in &list[..keep] {
                text::add_into(&mut acc[t], &vectors[i], 1.0);
            }
        }
        acc.into_iter()
            .map(|m| {
                let mut v = text::from_map(m);
                text::normalize(&mut v);
                v
            })
            .collect()
    }

    /// Groups unplaced stories that share a distinctive word, largest first, labelled by
    /// their most common words.
    fn auto_group(&self, out: &mut [Option<Placement>], docs: &[text::Doc], corpus: &Corpus) {
        for _ in 0..self.auto_topics {
            let open: Vec<usize> = (0..out.len()).filter(|&i| out[i].is_none()).collect();
            let mut df: HashMap<u32, usize> = HashMap::new();
            for &i in &open {
                for &(t, _) in &docs[i].counts {
                    *df.entry(t).or_default() += 1;
                }
            }
            // The word most open stories share; ties to the rarer word in the whole batch.
            let Some((&term, &count)) = df
                .iter()
                .filter(|(_, &c)| c >= MIN_AUTO_SIZE && c < open.len().max(MIN_AUTO_SIZE + 1))
                .max_by(|a, b| {
                    a.1.cmp(b.1)
                        .then(corpus.df[*b.0 as usize].cmp(&corpus.df[*a.0 as usize]))
                        .then(b.0.cmp(a.0))
                })
            else {
                break;
            };
            let members: Vec<usize> = open
                .into_iter()
                .filter(|&i| docs[i].counts.binary_search_by_key(&term, |e| e.0).is_ok())
                .collect();
            let label = self.label(term, &members, docs, corpus);
            for i in members {
                out[i] = Some(Placement {
                    topic: label.clone(),
                    reason: format!(
                        "automatic topic: {count} stories share the word `{}`",
                        corpus.stems[term as usize]
                    ),
                });
            }
        }
    }

    /// "Lions · Bears": the group's word and the next most common word among its stories,
    /// spelled as in the first title or summary that uses them.
    fn label(&self, term: u32, members: &[usize], docs: &[text::Doc], corpus: &Corpus) -> String {
        let mut df: HashMap<u32, usize> = HashMap::new();
        for &i in members {
            for &(t, _) in &docs[i].counts {
                if t != term {
                    *df.entry(t).or_default() += 1;
                }
            }
        }
        let second = df
            .into_iter()
            .filter(|(_, c)| *c >= 2)
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(t, _)| t);
        let spell = |t: u32| -> String {
            let stem = &corpus.stems[t as usize];
            let mut s: Vec<char> = stem.chars().collect();
            if let Some(c) = s.first_mut() {
                *c = c.to_uppercase().next().unwrap_or(*c);
            }
            s.into_iter().collect()
        };
        match second {
            Some(s) => format!("{} · {}", spell(term), spell(s)),
            None => spell(term),
        }
    }

    /// Places stories in topics: configured topics in config order, then other topics in
    /// order of first appearance, then "Other". Newest stories first within a topic.
    pub fn group(&self, stories: Vec<Story>, items: &[Item]) -> Vec<TopicGroup> {
        let hints = hints_of(&stories, items);
        let placements = self.place(&stories, &hints);
        let mut groups: Vec<TopicGroup> = self
            .topics
            .iter()
            .map(|t| TopicGroup {
                topic: t.name.clone(),
                stories: Vec::new(),
                more: 0,
                collapsed: Vec::new(),
            })
            .collect();
        for (mut story, p) in stories.into_iter().zip(placements) {
            story.topic_reason = p.reason;
            match groups.iter_mut().find(|g| g.topic == p.topic) {
                Some(g) => g.stories.push(story),
                None => groups.push(TopicGroup {
                    topic: p.topic,
                    stories: vec![story],
                    more: 0,
                    collapsed: Vec::new(),
                }),
            }
        }
        if let Some(pos) = groups.iter().position(|g| g.topic == OTHER) {
            let other = groups.remove(pos);
            groups.push(other);
        }
        groups.retain(|g| !g.stories.is_empty());
        for g in &mut groups {
            g.stories.sort_by_key(|s| std::cmp::Reverse(s.published));
        }
        groups
    }
}

/// The topic hints of each story's items, in item order, without repeats.
pub fn hints_of(stories: &[Story], items: &[Item]) -> Vec<Vec<String>> {
    let by_key: HashMap<_, _> = items.iter().map(|i| (&i.key, i)).collect();
    stories
        .iter()
        .map(|s| {
            let mut h: Vec<String> = Vec::new();
            for k in &s.items {
                if let Some(hint) = by_key.get(k).and_then(|i| i.topic_hint.as_ref()) {
                    if !h.contains(hint) {
                        h.push(hint.clone());
                    }
                }
            }
            h
        })
        .collect()
}

/// The nearest allowed centroid: (topic, cosine, runner-up cosine), or None when nothing is
/// above [`ABSTAIN`].
fn nearest(v: &[(u32, f32)], centroids: &[Vector], vetoed: &[bool]) -> Option<(usize, f32, f32)> {
    let mut best: Option<(usize, f32)> = None;
    let mut second = 0.0f32;
    for (t, c) in centroids.iter().enumerate() {
        if vetoed[t] || c.is_empty() {
            continue;
        }
        let s = text::cosine(v, c);
        match best {
            Some((_, b)) if s <= b => second = second.max(s),
            _ => {
                if let Some((_, b)) = best {
                    second = second.max(b);
                }
                best = Some((t, s));
            }
        }
    }
    best.filter(|b| b.1 >= ABSTAIN).map(|(t, s)| (t, s, second))
}

/// The terms contributing most to the cosine of `v` and `c`.
fn top_shared_terms(v: &[(u32, f32)], c: &[(u32, f32)], n: usize) -> Vec<u32> {
    let cm: HashMap<u32, f32> = c.iter().copied().collect();
    let mut contrib: Vec<(f32, u32)> = v
        .iter()
        .filter_map(|&(t, w)| cm.get(&t).map(|cw| (w * cw, t)))
        .collect();
    contrib.sort_by(|a, b| b.0.total_cmp(&a.0));
    contrib.into_iter().take(n).map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::dedup::{merge, tests::item};

    fn topics() -> Vec<TopicConfig> {
        vec![
            TopicConfig {
                name: "Technology".into(),
                keywords: vec!["rust".into(), "cpu".into(), "machine learning".into()],
                exclude: vec![],
            },
            TopicConfig {
                name: "Science".into(),
                keywords: vec!["space".into(), "glacier".into()],
                exclude: vec!["horoscope".into()],
            },
        ]
    }

    fn layout(groups: &[TopicGroup]) -> Vec<(&str, Vec<&str>)> {
        groups
            .iter()
            .map(|g| {
                (
                    g.topic.as_str(),
                    g.stories.iter().map(|s| s.title.as_str()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn whole_words_phrases_title_weight_and_fallbacks() {
        let c = Classifier::new(&topics());
        let mut items = vec![
            item("a", "Rust 2.0 ships", None, ""),
            item(
                "b",
                "Trusted computing news",
                None,
                "nothing about the language",
            ),
            item("c", "Machine learning on a CPU", None, ""),
            item(
                "d",
                "Glacier melts",
                None,
                "a rust-coloured glacier in space",
            ),
            item("e", "Local bakery opens", None, ""),
        ];
        items[4].topic_hint = Some("technology".into());
        let groups = c.group(merge(items.clone()), &items);
        assert_eq!(
            layout(&groups),
            vec![
                (
                    "Technology",
                    vec![
                        "Rust 2.0 ships",
                        "Machine learning on a CPU",
                        "Local bakery opens"
                    ]
                ),
                ("Science", vec!["Glacier melts"]),
                ("Other", vec!["Trusted computing news"]),
            ]
        );
        assert!(groups[0].stories[2].topic_reason.contains("hint"));
    }

    #[test]
    fn exclude_words_veto_a_topic() {
        let c = Classifier::new(&topics());
        let items = vec![item("a", "Your space horoscope", None, "stars say")];
        let groups = c.group(merge(items.clone()), &items);
        assert_eq!(groups[0].topic, OTHER);
    }

    #[test]
    fn centroids_place_stories_without_keywords() {
        let c = Classifier::new(&topics());
        let items = vec![
            item(
                "a",
                "Rust compiler gets faster",
                None,
                "the compiler caches builds",
            ),
            item(
                "a",
                "Glacier retreat in the Alps",
                None,
                "ice melt measured by satellites",
            ),
            // Same source: one feed's items never merge on text, so this stays a story.
            item(
                "a",
                "Compiler caches make builds faster",
                None,
                "incremental builds",
            ),
        ];
        let groups = c.group(merge(items.clone()), &items);
        assert_eq!(groups[0].topic, "Technology");
        assert_eq!(groups[0].stories.len(), 2, "{:?}", layout(&groups));
        let placed = groups[0]
            .stories
            .iter()
            .find(|s| s.title.starts_with("Compiler"))
            .unwrap();
        assert!(
            placed.topic_reason.contains("centroid"),
            "{}",
            placed.topic_reason
        );
    }

    #[test]
    fn unclaimed_stories_with_a_shared_word_get_an_automatic_topic() {
        let c = Classifier::new(&topics());
        let items = vec![
            item("a", "Lions win the derby", None, "football"),
            item("b", "Lions sign a striker", None, "football transfer"),
            item("c", "Lions coach renews", None, "football club"),
            item("d", "Bakery opens downtown", None, "bread"),
        ];
        let groups = Classifier::new(&[]).group(merge(items.clone()), &items);
        let _ = c;
        assert_eq!(groups.len(), 2, "{:?}", layout(&groups));
        assert!(groups[0].topic.starts_with("Lion") || groups[0].topic.starts_with("Footbal"));
        assert_eq!(groups[0].stories.len(), 3);
        assert_eq!(groups[1].topic, OTHER);
    }
}
