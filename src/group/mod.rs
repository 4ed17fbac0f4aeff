//! Grouping: mute what filters exclude, merge items that are the same story
//! ([`dedup`]), place stories in topics ([`topics`]), then order topics and apply the caps.

pub mod bayes;
pub mod dedup;
pub mod filters;
pub mod text;
pub mod topics;

use std::collections::HashSet;

use crate::config::TopicConfig;
use crate::model::{Item, Muted, TopicGroup};

pub use dedup::MergeSettings;
pub use filters::Filter;

/// How topics are ordered in the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Configured topics in config order, then the others as they appear; "Other" last.
    #[default]
    Config,
    /// Largest topic first (ties in config order); "Other" last.
    Size,
}

#[derive(Debug, Clone, Default)]
pub struct GroupSettings {
    pub merge: MergeSettings,
    pub order: Order,
    /// At most this many stories per topic; the rest are counted as "+N more".
    pub max_per_topic: Option<usize>,
    /// At most this many stories in the whole digest.
    pub max_stories: Option<usize>,
    /// How many automatic topics may be made from unclaimed stories.
    pub auto_topics: Option<usize>,
}

/// The grouped digest body.
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    pub groups: Vec<TopicGroup>,
    /// Stories the filters muted, with the filter that muted each.
    pub muted: Vec<Muted>,
}

/// Groups with the defaults and no filters.
pub fn group(items: &[Item], topics: &[TopicConfig]) -> Vec<TopicGroup> {
    group_with(items, topics, &[], &GroupSettings::default()).groups
}

pub fn group_with(
    items: &[Item],
    topics: &[TopicConfig],
    filters: &[Filter],
    settings: &GroupSettings,
) -> Grouped {
    group_items(items.to_vec(), topics, filters, settings)
}

/// As [`group_with`], taking the items: a run's thousands of items are not copied again.
pub fn group_items(
    items: Vec<Item>,
    topics: &[TopicConfig],
    filters: &[Filter],
    settings: &GroupSettings,
) -> Grouped {
    let mut kept: Vec<Item> = Vec::with_capacity(items.len());
    let mut muted: Vec<Muted> = Vec::new();
    // A story carried by two sources is muted once: count distinct links/titles.
    let mut muted_keys: HashSet<String> = HashSet::new();
    for item in items {
        match filters::muted_by(filters, &item) {
            None => kept.push(item),
            Some(filter) => {
                let key = item
                    .url
                    .as_deref()
                    .map(dedup::url_key)
                    .unwrap_or_else(|| dedup::title_key(&item.title));
                let first = muted_keys.insert(key);
                tracing::debug!(title = %item.title, %filter, "muted");
                match muted.iter_mut().find(|m| !first && m.filter == filter) {
                    Some(m) => m.items.push(item.key.clone()),
                    None => muted.push(Muted {
                        title: item.title.clone(),
                        source: item.source_name.clone(),
                        filter,
                        items: vec![item.key.clone()],
                        repeat: !first,
                    }),
                }
            }
        }
    }

    let started = std::time::Instant::now();
    let texts: Vec<(&str, &str)> = kept
        .iter()
        .map(|i| (i.title.as_str(), i.summary_text.as_str()))
        .collect();
    let (corpus, docs) = text::Corpus::analyse(&texts);
    let analysed = started.elapsed();
    let stories = dedup::merge_with(&kept, &corpus, &docs, &settings.merge);
    let merged = started.elapsed();
    let mut classifier = topics::Classifier::new(topics);
    if let Some(n) = settings.auto_topics {
        classifier = classifier.with_auto_topics(n);
    }
    let mut groups = classifier.group(stories, &kept);
    tracing::debug!(
        items = kept.len(),
        analyse_ms = analysed.as_millis() as u64,
        merge_ms = (merged - analysed).as_millis() as u64,
        topics_ms = (started.elapsed() - merged).as_millis() as u64,
        "grouping stages"
    );
    order(&mut groups, settings.order);
    cap(&mut groups, settings.max_per_topic, settings.max_stories);
    Grouped { groups, muted }
}

fn order(groups: &mut [TopicGroup], order: Order) {
    if order == Order::Size {
        // Stable: equal sizes keep config order. "Other" stays last.
        groups.sort_by_key(|g| (g.topic == topics::OTHER, std::cmp::Reverse(g.stories.len())));
    }
}

/// Keeps the newest stories of each topic up to the caps; the rest become "+N more".
/// The total cap takes from the last topics first, so the first topics stay whole.
fn cap(groups: &mut [TopicGroup], per_topic: Option<usize>, total: Option<usize>) {
    let mut left = total.unwrap_or(usize::MAX);
    for g in groups.iter_mut() {
        let keep = g
            .stories
            .len()
            .min(per_topic.unwrap_or(usize::MAX))
            .min(left);
        g.more += g.stories.len() - keep;
        g.stories.truncate(keep);
        left -= keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::dedup::tests::item;

    fn topic(name: &str, kw: &[&str]) -> TopicConfig {
        TopicConfig {
            name: name.into(),
            keywords: kw.iter().map(|k| k.to_string()).collect(),
            exclude: vec![],
        }
    }

    #[test]
    fn size_order_caps_and_muted_counts() {
        let items = vec![
            item("a", "Rust one", Some("https://e.org/1"), ""),
            item("a", "Space one", Some("https://e.org/2"), ""),
            item("a", "Space two", Some("https://e.org/3"), ""),
            item("a", "Space three", Some("https://e.org/4"), ""),
            item("a", "Space horoscope", Some("https://e.org/5"), ""),
            item("b", "Space horoscope", Some("https://e.org/5"), ""),
        ];
        let topics = [topic("Tech", &["rust"]), topic("Science", &["space"])];
        let filters = [Filter::new(0, None, &[], &["horoscope".into()], false).unwrap()];
        let settings = GroupSettings {
            order: Order::Size,
            max_per_topic: Some(2),
            max_stories: Some(3),
            ..Default::default()
        };
        let g = group_with(&items, &topics, &filters, &settings);
        let layout: Vec<(&str, usize, usize)> = g
            .groups
            .iter()
            .map(|t| (t.topic.as_str(), t.stories.len(), t.more))
            .collect();
        assert_eq!(layout, [("Science", 2, 1), ("Tech", 1, 0)]);
        assert_eq!(g.muted.iter().filter(|m| !m.repeat).count(), 1);
        assert_eq!(g.muted.iter().map(|m| m.items.len()).sum::<usize>(), 2);
    }
}
