//! `[[topics]]`, `[grouping]` and `[[filters]]`: how stories are grouped, ranked and muted.

use super::diagnostics::ConfigError;
use super::raw::RawConfig;
use super::Resolver;

#[derive(Debug, Clone)]
pub struct TopicConfig {
    pub name: String,
    pub keywords: Vec<String>,
    pub exclude: Vec<String>,
}

impl Resolver<'_> {
    pub(super) fn grouping(
        &self,
        raw: &RawConfig,
    ) -> Result<crate::group::GroupSettings, ConfigError> {
        use crate::group::{Followups, GroupSettings, MergeSettings, Order};
        let g = &raw.grouping;
        let order = match &g.order {
            None => Order::Config,
            Some(o) => match o.get_ref().as_str() {
                "config" => Order::Config,
                "size" => Order::Size,
                "rank" => Order::Rank,
                other => {
                    return Err(self.err(
                        o.span(),
                        "grouping.order",
                        format!("`grouping.order`: unknown order `{other}`"),
                        Some("use \"config\", \"rank\" or \"size\"".into()),
                    ))
                }
            },
        };
        let followups = match &g.followups {
            None => Followups::Show,
            Some(f) => match f.get_ref().as_str() {
                "show" => Followups::Show,
                "hide" => Followups::Hide,
                other => {
                    return Err(self.err(
                        f.span(),
                        "grouping.followups",
                        format!("`grouping.followups`: unknown value `{other}`"),
                        Some("use \"show\" or \"hide\"".into()),
                    ))
                }
            },
        };
        Ok(GroupSettings {
            merge: MergeSettings {
                window: self.duration(
                    &g.window,
                    "grouping.window",
                    crate::group::dedup::DEFAULT_WINDOW,
                )?,
                ..MergeSettings::default()
            },
            order,
            max_per_topic: g.max_per_topic.filter(|&n| n > 0),
            max_stories: g.max_stories.filter(|&n| n > 0),
            max_per_source: g.max_per_source.filter(|&n| n > 0),
            max_words: raw
                .digest
                .reading_minutes
                .filter(|&n| n > 0)
                .map(|m| m * crate::group::WORDS_PER_MINUTE),
            auto_topics: g.auto_topics,
            lead_stories: match g.lead {
                Some(false) => 0,
                _ => g.lead_stories.unwrap_or(crate::group::DEFAULT_LEAD_STORIES),
            },
            lead_title: g
                .lead_title
                .clone()
                .unwrap_or_else(|| crate::group::DEFAULT_LEAD_TITLE.into()),
            followups,
            // Filled in per run from the sources (their keys) and the clock.
            rank: Default::default(),
        })
    }
}
