//! Same story, several sources: exact merging.
//!
//! Two items are the same story when their cleaned URLs match (ignoring scheme, `www.`, a
//! trailing slash and the fragment) or, for items from different sources, when their
//! normalised titles match and are long enough to be distinctive.

use std::collections::HashMap;

use crate::model::{Item, Story, StorySource};

/// Titles shorter than this many words never merge on title alone ("Weekly update").
const MIN_TITLE_WORDS: usize = 4;

/// The comparison key of a URL: no scheme, no `www.`, no fragment, no trailing slash.
pub fn url_key(url: &str) -> String {
    let no_fragment = url.split('#').next().unwrap_or(url);
    let no_scheme = no_fragment
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(no_fragment);
    let (host, rest) = no_scheme
        .split_once('/')
        .map(|(h, r)| (h, format!("/{r}")))
        .unwrap_or((no_scheme, String::new()));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let rest = rest.trim_end_matches('/');
    format!("{host}{rest}")
}

/// Lowercase words of a title, punctuation dropped: "Rust 2.0 — out!" → "rust 2 0 out".
pub fn title_key(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // Keep the earlier index as root so story order follows item order.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }
}

/// Merges items that are the same story. Items keep their relative order.
pub fn merge(items: Vec<Item>) -> Vec<Story> {
    let mut uf = UnionFind((0..items.len()).collect());
    let mut by_url: HashMap<String, usize> = HashMap::new();
    let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(u) = &item.url {
            match by_url.get(&url_key(u)) {
                Some(&j) => uf.union(i, j),
                None => {
                    by_url.insert(url_key(u), i);
                }
            }
        }
        let tk = title_key(&item.title);
        if tk.split(' ').count() >= MIN_TITLE_WORDS {
            let seen = by_title.entry(tk).or_default();
            // Same title from the same source is two different items (a weekly column).
            if let Some(&j) = seen.iter().find(|&&j| items[j].source != item.source) {
                uf.union(i, j);
            }
            seen.push(i);
        }
    }

    let mut clusters: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut root_pos: HashMap<usize, usize> = HashMap::new();
    for i in 0..items.len() {
        let r = uf.find(i);
        match root_pos.get(&r) {
            Some(&p) => clusters[p].1.push(i),
            None => {
                root_pos.insert(r, clusters.len());
                clusters.push((r, vec![i]));
            }
        }
    }
    clusters
        .into_iter()
        .map(|(_, members)| story_of(members.iter().map(|&i| &items[i]).collect()))
        .collect()
}

/// One story from its items. The rules, so the choice is explainable:
/// title and link from the earliest report (undated items count as latest), summary the
/// longest one, sources once each in order of reporting.
fn story_of(mut members: Vec<&Item>) -> Story {
    members.sort_by_key(|i| (i.published.is_none(), i.published));
    let first = members[0];
    let url = members.iter().find_map(|i| i.url.clone());
    let longest = members
        .iter()
        .max_by_key(|i| i.summary_text.len())
        .copied()
        .unwrap_or(first);
    let mut sources: Vec<StorySource> = Vec::new();
    for m in &members {
        if !sources.iter().any(|s| s.name == m.source_name) {
            sources.push(StorySource {
                name: m.source_name.clone(),
                url: m.url.clone(),
            });
        }
    }
    let mut message_ids: Vec<String> = members
        .iter()
        .filter_map(|m| m.message_id.clone())
        .collect();
    message_ids.dedup();
    Story {
        title: first.title.clone(),
        url,
        summary: longest.summary_text.clone(),
        summary_html: longest.summary_html.clone(),
        published: first.published,
        sources,
        items: members.iter().map(|m| m.key.clone()).collect(),
        message_ids,
        topic_reason: String::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ItemKey, SourceKey};

    pub(crate) fn item(source: &str, title: &str, url: Option<&str>, summary: &str) -> Item {
        Item {
            key: ItemKey(format!("{source}#{title}")),
            source: SourceKey(source.into()),
            source_name: source.into(),
            title: title.into(),
            url: url.map(str::to_string),
            summary_html: summary.into(),
            summary_text: summary.into(),
            published: None,
            topic_hint: None,
            message_id: None,
        }
    }

    #[test]
    fn keys() {
        assert_eq!(url_key("https://WWW.Example.org/a/b/#x"), "example.org/a/b");
        assert_eq!(url_key("http://example.org"), "example.org");
        assert_eq!(title_key("Rust 2.0 — out, now!"), "rust 2 0 out now");
    }

    #[test]
    fn merges_on_url_and_on_title_across_sources() {
        let stories = merge(vec![
            item(
                "a",
                "Rust compiler halves build times",
                Some("https://e.org/rust"),
                "short",
            ),
            item(
                "b",
                "Glacier retreat speeds up sharply",
                Some("https://e.org/ice"),
                "",
            ),
            item(
                "c",
                "Rust compiler halves build times!",
                Some("https://other.org/r"),
                "a longer summary",
            ),
            item(
                "d",
                "Different title entirely here",
                Some("http://www.e.org/rust/"),
                "",
            ),
        ]);
        assert_eq!(stories.len(), 2);
        let names: Vec<&str> = stories[0].sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "d"]);
        assert_eq!(stories[0].summary, "a longer summary");
        assert_eq!(stories[0].items.len(), 3);
    }

    #[test]
    fn same_title_same_source_or_short_titles_do_not_merge() {
        let stories = merge(vec![
            item("a", "This week in Rust land", Some("https://e.org/1"), ""),
            item("a", "This week in Rust land", Some("https://e.org/2"), ""),
            item("b", "Weekly update", Some("https://e.org/3"), ""),
            item("c", "Weekly update", Some("https://e.org/4"), ""),
        ]);
        assert_eq!(stories.len(), 4);
    }
}
