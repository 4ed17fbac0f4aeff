//! Ranking: how much a story matters to this reader, from what only a merging digest knows.
//!
//! A story's rank is a sum of points, each one a reason a reader can check in `--explain`:
//! - **coverage**: how many of the reader's own sources carry it, after merging (outlets a
//!   newsletter merely points to do not count). It dominates: a story three of your sources
//!   carry outranks anything one source says, whatever its priority;
//! - **priority**: the source's `priority` (default 0; negative for a source you read last);
//! - **position**: the source's own ordering, a newsletter's lead story or a feed's first entry
//!   (editors put what matters first);
//! - **recency**: how fresh the story is within the digest's `lookback`.
//!
//! Within a topic stories are ordered by rank, so every cut that keeps "the first N" (the caps,
//! the size budget, the reading-time budget) drops the lowest-ranked, never merely the oldest.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::model::{Item, ItemKey, SourceKey, Story};

/// Points for each source beyond the first that carries the story.
pub(crate) const COVERAGE_POINTS: f32 = 10.0;
/// Points per level of a source's `priority`.
pub(crate) const PRIORITY_POINTS: f32 = 3.0;
/// Points for the first story of a newsletter or feed; the n-th (from 0) gets this / (1 + n).
pub(crate) const POSITION_POINTS: f32 = 2.0;
/// Points for a story published now, falling linearly to 0 at the end of `lookback`.
pub(crate) const RECENCY_POINTS: f32 = 1.0;

/// What the reader said about one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourcePolicy {
    /// The source's name, as the digest shows it ("N more from <name>").
    pub name: String,
    /// `priority` on the feed or mailbox: each level is worth [`PRIORITY_POINTS`].
    pub priority: i32,
    /// `max_stories` on the feed or mailbox: at most this many of its own stories per digest.
    pub max_stories: Option<usize>,
    /// Where the reader can see the rest (the feed's site).
    pub site: Option<String>,
}

/// The inputs of ranking that are not in the stories.
#[derive(Debug, Clone)]
pub struct RankSettings {
    /// The time the digest is made: recency is measured from it.
    pub now: DateTime<Utc>,
    /// The digest's `lookback`: a story this old has no recency points left.
    pub period: std::time::Duration,
    /// Per-source settings, by source key; sources not listed have the defaults.
    pub sources: HashMap<SourceKey, SourcePolicy>,
}

impl Default for RankSettings {
    fn default() -> Self {
        RankSettings {
            now: Utc::now(),
            period: std::time::Duration::from_secs(7 * 24 * 3600),
            sources: HashMap::new(),
        }
    }
}

/// Each item's place in its own source: 0 for a newsletter's first story or a feed's first
/// entry. Items arrive in their sources' order, so counting per message (newsletters) or per
/// source (feeds) is enough.
pub(crate) fn positions(items: &[Item]) -> HashMap<&ItemKey, usize> {
    let mut next: HashMap<(&SourceKey, Option<&str>), usize> = HashMap::new();
    items
        .iter()
        .map(|i| {
            let n = next
                .entry((&i.source, i.message_id.as_deref()))
                .or_default();
            let at = *n;
            *n += 1;
            (&i.key, at)
        })
        .collect()
}

/// Sets every story's `rank`, `coverage` and `rank_reason`.
pub(crate) fn rank(stories: &mut [Story], items: &[Item], settings: &RankSettings) {
    let by_key: HashMap<&ItemKey, &Item> = items.iter().map(|i| (&i.key, i)).collect();
    let position = positions(items);
    let period = settings.period.as_secs_f32().max(1.0);
    for story in stories {
        let members: Vec<&Item> = story
            .items
            .iter()
            .filter_map(|k| by_key.get(k).copied())
            .collect();
        story.coverage = members
            .iter()
            .map(|i| i.origin_key())
            .collect::<HashSet<_>>()
            .len()
            .max(1);
        let sources: HashSet<&SourceKey> = members.iter().map(|i| &i.source).collect();
        let priority = sources
            .iter()
            .map(|s| settings.sources.get(*s).map_or(0, |p| p.priority))
            .max()
            .unwrap_or(0);
        let first = members
            .iter()
            .filter_map(|i| position.get(&i.key).copied())
            .min();
        let age = story
            .published
            .map(|p| (settings.now - p).num_seconds().max(0) as f32);

        let coverage_points = COVERAGE_POINTS * (story.coverage - 1) as f32;
        let priority_points = PRIORITY_POINTS * priority as f32;
        let position_points = first.map_or(0.0, |n| POSITION_POINTS / (1 + n) as f32);
        let recency_points = age.map_or(0.0, |a| RECENCY_POINTS * (1.0 - a / period).max(0.0));
        story.rank = coverage_points + priority_points + position_points + recency_points;

        let mut why = vec![format!(
            "in {} of your sources (+{coverage_points:.0})",
            story.coverage
        )];
        if priority != 0 {
            why.push(format!("priority {priority} ({priority_points:+.0})"));
        }
        match first {
            Some(0) => why.push(format!("first in its source (+{position_points:.1})")),
            Some(n) => why.push(format!("#{} in its source (+{position_points:.1})", n + 1)),
            None => {}
        }
        match age {
            Some(a) => why.push(format!(
                "{} old (+{recency_points:.1})",
                humanize_age(a as u64)
            )),
            None => why.push("no date (+0)".into()),
        }
        story.rank_reason = format!("rank {:.1}: {}", story.rank, why.join(", "));
    }
}

/// Orders stories best first; equal ranks keep the newest first.
pub(crate) fn sort(stories: &mut [Story]) {
    stories.sort_by(|a, b| {
        b.rank
            .total_cmp(&a.rank)
            .then_with(|| b.published.cmp(&a.published))
    });
}

fn humanize_age(seconds: u64) -> String {
    match seconds {
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::dedup::tests::item;

    fn story(title: &str, items: &[&Item]) -> Story {
        Story {
            title: title.into(),
            published: items.iter().filter_map(|i| i.published).max(),
            items: items.iter().map(|i| i.key.clone()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn coverage_outranks_priority_position_and_age() {
        let now = Utc::now();
        let mut items = vec![
            item("a", "Loud source's lead", Some("https://a.org/1"), ""),
            item("b", "Carried twice", Some("https://b.org/1"), ""),
            item("c", "Carried twice", Some("https://c.org/1"), ""),
        ];
        items[0].published = Some(now);
        items[1].published = Some(now - chrono::Duration::days(3));
        items[2].published = Some(now - chrono::Duration::days(3));
        let mut settings = RankSettings {
            now,
            ..Default::default()
        };
        settings.sources.insert(
            items[0].source.clone(),
            SourcePolicy {
                priority: 2,
                ..Default::default()
            },
        );
        let mut stories = vec![
            story("Loud source's lead", &[&items[0]]),
            story("Carried twice", &[&items[1], &items[2]]),
        ];
        rank(&mut stories, &items, &settings);
        assert_eq!(stories[1].coverage, 2);
        assert_eq!(stories[0].coverage, 1);
        // 10 for the second source against 6 for priority 2 plus fresher.
        assert!(stories[1].rank > stories[0].rank, "{stories:?}");
        assert!(stories[0].rank_reason.contains("priority 2 (+6)"));
        assert!(stories[1]
            .rank_reason
            .contains("in 2 of your sources (+10)"));
        sort(&mut stories);
        assert_eq!(stories[0].title, "Carried twice");
    }

    #[test]
    fn a_sources_own_order_and_freshness_count() {
        let now = Utc::now();
        let mut items = vec![
            item("a", "First", Some("https://a.org/1"), ""),
            item("a", "Second", Some("https://a.org/2"), ""),
            item("a", "Third", Some("https://a.org/3"), ""),
        ];
        for i in &mut items {
            i.published = Some(now - chrono::Duration::hours(1));
        }
        items[2].published = Some(now);
        let settings = RankSettings {
            now,
            ..Default::default()
        };
        let mut stories: Vec<Story> = items.iter().map(|i| story(&i.title, &[i])).collect();
        rank(&mut stories, &items, &settings);
        assert!(stories[0].rank > stories[1].rank);
        assert!(stories[1].rank > stories[2].rank - 0.5);
        assert!(stories[0].rank_reason.contains("first in its source"));
        assert!(stories[2].rank_reason.contains("#3 in its source"));
    }
}
