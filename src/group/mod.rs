//! Grouping: merge items that are the same story, then place stories in topics.

pub mod dedup;
pub mod text;
pub mod topics;

use crate::config::TopicConfig;
use crate::model::{Item, TopicGroup};

pub fn group(items: &[Item], topics: &[TopicConfig]) -> Vec<TopicGroup> {
    let stories = dedup::merge(items.to_vec());
    topics::Classifier::new(topics).group(stories, items)
}
