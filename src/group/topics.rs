//! Topics: configured keywords first, then the source's topic hint, then "Other".

use crate::config::TopicConfig;
use crate::model::{Item, Story, TopicGroup};

pub const OTHER: &str = "Other";
/// A keyword in the title counts this many times a keyword in the summary.
const TITLE_WEIGHT: usize = 2;

/// Lowercase words, split on anything that is not a letter or digit (Unicode-aware).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// How often `phrase` (already split into words) occurs as whole words in `haystack`.
fn count_phrase(haystack: &[String], phrase: &[String]) -> usize {
    if phrase.is_empty() || phrase.len() > haystack.len() {
        return 0;
    }
    haystack
        .windows(phrase.len())
        .filter(|w| *w == phrase)
        .count()
}

struct Topic {
    name: String,
    keywords: Vec<(String, Vec<String>)>,
}

pub struct Classifier {
    topics: Vec<Topic>,
}

impl Classifier {
    pub fn new(topics: &[TopicConfig]) -> Classifier {
        Classifier {
            topics: topics
                .iter()
                .map(|t| Topic {
                    name: t.name.clone(),
                    keywords: t.keywords.iter().map(|k| (k.clone(), words(k))).collect(),
                })
                .collect(),
        }
    }

    /// The topic for a story and the reason, e.g. ("Technology", "keyword `rust` (score 3)").
    pub fn classify(&self, story: &Story, hints: &[&str]) -> (String, String) {
        let title = words(&story.title);
        let summary = words(&story.summary);
        let mut best: Option<(usize, &Topic, &str)> = None;
        for t in &self.topics {
            let mut score = 0;
            let mut top_kw: Option<(&str, usize)> = None;
            for (kw, kw_words) in &t.keywords {
                let s = TITLE_WEIGHT * count_phrase(&title, kw_words)
                    + count_phrase(&summary, kw_words);
                score += s;
                if s > 0 && top_kw.is_none_or(|(_, b)| s > b) {
                    top_kw = Some((kw, s));
                }
            }
            // Strictly greater: ties go to the topic listed first in config.
            if score > 0 && best.is_none_or(|(b, _, _)| score > b) {
                best = Some((score, t, top_kw.map(|k| k.0).unwrap_or("")));
            }
        }
        if let Some((score, t, kw)) = best {
            return (t.name.clone(), format!("keyword `{kw}` (score {score})"));
        }
        if let Some(hint) = hints.first() {
            // Use the config's spelling when the hint names a configured topic.
            let name = self
                .topics
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(hint))
                .map(|t| t.name.clone())
                .unwrap_or_else(|| hint.to_string());
            return (name, format!("topic hint `{hint}` of its source"));
        }
        (OTHER.to_string(), "no keyword or hint matched".to_string())
    }

    /// Places stories in topics: configured topics in config order, then hinted topics in
    /// order of first appearance, then "Other". Newest stories first within a topic.
    pub fn group(&self, stories: Vec<Story>, items: &[Item]) -> Vec<TopicGroup> {
        let mut groups: Vec<TopicGroup> = self
            .topics
            .iter()
            .map(|t| TopicGroup {
                topic: t.name.clone(),
                stories: Vec::new(),
            })
            .collect();
        for mut story in stories {
            let hints: Vec<&str> = items
                .iter()
                .filter(|i| story.items.contains(&i.key))
                .filter_map(|i| i.topic_hint.as_deref())
                .collect();
            let (topic, reason) = self.classify(&story, &hints);
            story.topic_reason = reason;
            match groups.iter_mut().find(|g| g.topic == topic) {
                Some(g) => g.stories.push(story),
                None => groups.push(TopicGroup {
                    topic,
                    stories: vec![story],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::dedup::{merge, tests::item};

    fn topics() -> Vec<TopicConfig> {
        vec![
            TopicConfig {
                name: "Technology".into(),
                keywords: vec!["rust".into(), "cpu".into(), "machine learning".into()],
            },
            TopicConfig {
                name: "Science".into(),
                keywords: vec!["space".into(), "glacier".into()],
            },
        ]
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
        let layout: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|g| {
                (
                    g.topic.as_str(),
                    g.stories.iter().map(|s| s.title.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            layout,
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
}
