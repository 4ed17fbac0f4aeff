//! Same story, several sources: merging in three tiers.
//!
//! 1. **Exact**: same cleaned URL (ignoring scheme, `www.`, a trailing slash, an empty query
//!    and the fragment), same GUID, or — across sources — the same normalised title, long
//!    enough to be distinctive.
//! 2. **Near duplicate**: TF-IDF cosine of title + summary at least [`NEAR_DUPLICATE`].
//! 3. **Same story, different wording**: cosine at least [`SAME_STORY`] *and* at least
//!    [`MIN_EVIDENCE`] shared names or figures ("Chivay", "6.8", "Powell").
//!
//! Tiers 2 and 3 only join reports published within the time window of each other, from
//! different sources: one source's two items are two stories unless they are exact repeats.
//! Clusters grow by average linkage, strongest pair first, and every pair of reports in a
//! cluster must reach [`PAIR_FLOOR`], so A~B and B~C cannot drag an unrelated C next to A.
//!
//! Candidates come from an inverted index over rare terms (those in at most
//! [`RARE_DF_CAP`] groups), so the cost grows with the number of reports times a constant,
//! not with every pair.

use std::collections::{BinaryHeap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::text::{self, Corpus, Doc, Vector};
use crate::model::{Item, MergeNote, SourceKey, Story, StorySource};
use crate::parallel;

/// Titles shorter than this many words never merge on title alone ("Weekly update").
const MIN_TITLE_WORDS: usize = 4;
/// Cosine at which two reports are the same text, reworded a little.
pub const NEAR_DUPLICATE: f32 = 0.5;
/// Cosine at which two reports may be the same story, if names or figures back it up.
pub const SAME_STORY: f32 = 0.2;
/// Shared names or figures needed for a tier-3 merge.
pub const MIN_EVIDENCE: usize = 2;
/// No two reports in one story may be less similar than this.
pub const PAIR_FLOOR: f32 = 0.1;
/// Terms in more groups than this are too common to propose candidates (they still count in
/// the cosine).
pub const RARE_DF_CAP: usize = 40;
/// Names and figures weigh this many times their TF-IDF weight: they say *which* event a
/// report is about, and in a small batch the IDF alone cannot tell them from common words.
pub const NAME_BOOST: f32 = 2.0;
/// Reports with fewer distinct terms than this merge only as exact repeats ("Weekly update").
pub const MIN_TEXT_TERMS: usize = 4;
/// Default time window for tiers 2 and 3.
pub const DEFAULT_WINDOW: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

/// The comparison key of a URL: no scheme, no `www.`, no fragment, no empty query, no
/// trailing slash.
pub fn url_key(url: &str) -> String {
    let no_fragment = url.split('#').next().unwrap_or(url);
    let no_fragment = no_fragment.strip_suffix('?').unwrap_or(no_fragment);
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
    let rest = rest.strip_suffix('?').unwrap_or(rest).trim_end_matches('/');
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

/// The item's own id within its source (the feed GUID), when it has one that is not just
/// its link or a content hash. Keys are `source#id` (see `sources::feed`).
pub fn guid(item: &Item) -> Option<&str> {
    let prefix = format!("{}#", item.source.0);
    let id = item.key.0.strip_prefix(&prefix)?;
    let is_link = id.starts_with("http://") || id.starts_with("https://");
    (!id.is_empty() && !is_link && !id.starts_with("sha256:") && item.message_id.is_none())
        .then_some(id)
}

/// How far along the window the similarity of two reports fades: at the window's edge a
/// pair keeps `1 - TIME_DISCOUNT` of its cosine.
pub const TIME_DISCOUNT: f32 = 0.5;

#[derive(Debug, Clone, Copy)]
pub struct MergeSettings {
    /// Tiers 2 and 3 only join reports published within this of each other.
    pub window: std::time::Duration,
    pub near_duplicate: f32,
    pub same_story: f32,
    pub min_evidence: usize,
    pub pair_floor: f32,
}

impl Default for MergeSettings {
    fn default() -> Self {
        MergeSettings {
            window: DEFAULT_WINDOW,
            near_duplicate: NEAR_DUPLICATE,
            same_story: SAME_STORY,
            min_evidence: MIN_EVIDENCE,
            pair_floor: PAIR_FLOOR,
        }
    }
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
    /// Joins two sets; true when they were apart.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        // Keep the earlier index as root so story order follows item order.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.0[hi] = lo;
        true
    }
}

/// Exact repeats joined: one group per set of items with the same URL, GUID or title.
struct Group {
    members: Vec<usize>,
    sources: Vec<SourceKey>,
    earliest: Option<DateTime<Utc>>,
    latest: Option<DateTime<Utc>>,
    vector: Vector,
    salient: Vec<u32>,
}

/// Merges items that are the same story, with a text model built from these items alone.
pub fn merge(items: Vec<Item>) -> Vec<Story> {
    let mut corpus = Corpus::new();
    let docs: Vec<Doc> = items
        .iter()
        .map(|i| corpus.add(&i.title, &i.summary_text))
        .collect();
    merge_with(&items, &corpus, &docs, &MergeSettings::default())
}

/// Merges items (analysed into `docs` by `corpus`) that are the same story. Stories come
/// out in the order of their first item.
pub fn merge_with(
    items: &[Item],
    corpus: &Corpus,
    docs: &[Doc],
    settings: &MergeSettings,
) -> Vec<Story> {
    let (groups, mut notes) = exact_groups(items, corpus, docs);
    let linker = Linker {
        groups: &groups,
        settings,
        window: Duration::from_std(settings.window).unwrap_or(Duration::hours(48)),
    };

    // Candidate pairs through rare terms; accepted links become edges.
    let mut postings: HashMap<u32, Vec<usize>> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        for &(t, _) in &group.vector {
            postings.entry(t).or_default().push(g);
        }
    }
    let mut adjacent: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    let mut heap: BinaryHeap<Candidate> = BinaryHeap::new();
    let mut seen = vec![usize::MAX; groups.len()];
    for (g, group) in groups.iter().enumerate() {
        for &(t, _) in &group.vector {
            let list = &postings[&t];
            if list.len() > RARE_DF_CAP {
                continue;
            }
            for &h in list {
                if h <= g || seen[h] == g {
                    continue;
                }
                seen[h] = g;
                if let Some(link) = linker.link(g, h).filter(|l| l.accepted) {
                    adjacent[g].push(h);
                    adjacent[h].push(g);
                    heap.push(Candidate {
                        score: link.score,
                        a: g,
                        b: h,
                        stamp: (0, 0),
                    });
                }
            }
        }
    }

    // Average linkage: repeatedly join the two clusters with the highest average link,
    // as long as every pair across them is compatible and above the floor.
    let mut cluster_of: Vec<usize> = (0..groups.len()).collect();
    let mut clusters: Vec<Vec<usize>> = (0..groups.len()).map(|g| vec![g]).collect();
    let mut version: Vec<u32> = vec![0; groups.len()];
    while let Some(c) = heap.pop() {
        let stale = (version[c.a], version[c.b]) != c.stamp;
        if stale || clusters[c.a].is_empty() || clusters[c.b].is_empty() {
            continue;
        }
        // A single accepted edge was scored alone; check the whole clusters now.
        let Some(avg) = linker.average(&clusters[c.a], &clusters[c.b]) else {
            continue;
        };
        let (keep, gone) = (c.a.min(c.b), c.a.max(c.b));
        // Notes first, while the clusters are still apart: each joining report says which
        // report it is closest to and why.
        for &g in &clusters[gone] {
            let best = clusters[keep]
                .iter()
                .filter_map(|&k| linker.link(g, k).map(|l| (k, l)))
                .max_by(|x, y| x.1.score.total_cmp(&y.1.score));
            let Some((k, link)) = best else { continue };
            let lead = &items[groups[k].members[0]];
            let shared: Vec<&str> = shared_evidence(&groups[g], &groups[k])
                .into_iter()
                .map(|t| corpus.stems[t as usize].as_str())
                .collect();
            let tier = if link.cosine >= settings.near_duplicate {
                "near-duplicate text"
            } else {
                "same story, different wording"
            };
            for &m in &groups[g].members {
                if notes[m].as_ref().is_some_and(|n| n.similarity.is_none()) {
                    continue; // an exact repeat keeps its exact reason
                }
                notes[m] = Some(MergeNote {
                    title: items[m].title.clone(),
                    source: items[m].source_name.clone(),
                    reason: format!(
                        "{tier} with “{}” ({}): cosine {:.2}, time-weighted {:.2}, \
                         cluster average {avg:.2}, shared names/figures [{}]",
                        lead.title,
                        lead.source_name,
                        link.cosine,
                        link.score,
                        shared.join(", ")
                    ),
                    similarity: Some(link.cosine),
                });
            }
        }
        let moved = std::mem::take(&mut clusters[gone]);
        for &m in &moved {
            cluster_of[m] = keep;
        }
        clusters[keep].extend(moved);
        version[keep] += 1;
        version[gone] += 1;
        let mut neighbours: Vec<usize> = clusters[keep]
            .iter()
            .flat_map(|&g| adjacent[g].iter().map(|&h| cluster_of[h]))
            .filter(|&o| o != keep)
            .collect();
        neighbours.sort_unstable();
        neighbours.dedup();
        for o in neighbours {
            if let Some(score) = linker.average(&clusters[keep], &clusters[o]) {
                heap.push(Candidate {
                    score,
                    a: keep,
                    b: o,
                    stamp: (version[keep], version[o]),
                });
            }
        }
    }

    let mut order: Vec<(usize, Vec<usize>)> = clusters
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            let mut members: Vec<usize> = c
                .iter()
                .flat_map(|&g| groups[g].members.iter().copied())
                .collect();
            members.sort_unstable();
            (members[0], members)
        })
        .collect();
    order.sort_unstable_by_key(|(first, _)| *first);
    // Each story with its members' notes, then all stories made on all cores.
    let clusters: Vec<_> = order
        .into_iter()
        .map(|(_, members)| {
            let notes: Vec<(usize, MergeNote)> = members
                .iter()
                .filter_map(|&m| Some((m, notes[m].take()?)))
                .collect();
            (members, notes)
        })
        .collect();
    parallel::map(&clusters, |(members, notes)| {
        story_of(items, members, corpus, docs, notes)
    })
}

/// A proposed join of two clusters, ordered by score (ties: lower indices first).
struct Candidate {
    score: f32,
    a: usize,
    b: usize,
    /// The clusters' versions when scored; a changed cluster makes the candidate stale.
    stamp: (u32, u32),
}

impl PartialEq for Candidate {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&o.score)
            .then(o.a.cmp(&self.a))
            .then(o.b.cmp(&self.b))
    }
}

struct Link {
    cosine: f32,
    /// The cosine discounted by the time between the reports.
    score: f32,
    /// Whether this pair alone is enough to merge (tier 2 or 3).
    accepted: bool,
}

struct Linker<'a> {
    groups: &'a [Group],
    settings: &'a MergeSettings,
    window: Duration,
}

impl Linker<'_> {
    /// How two groups relate, or None when they may never merge (a source in common, or
    /// further apart than the window).
    fn link(&self, g: usize, h: usize) -> Option<Link> {
        let (a, b) = (&self.groups[g], &self.groups[h]);
        if a.sources.iter().any(|s| b.sources.contains(s)) {
            return None;
        }
        if a.vector.len() < MIN_TEXT_TERMS || b.vector.len() < MIN_TEXT_TERMS {
            return None;
        }
        let far = |x: Option<DateTime<Utc>>, y: Option<DateTime<Utc>>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() > self.window,
            _ => false,
        };
        if far(a.earliest, b.latest) || far(a.latest, b.earliest) {
            return None;
        }
        let gap = match (a.earliest, b.earliest) {
            (Some(x), Some(y)) => ((x - y).num_seconds().abs() as f32
                / self.window.num_seconds().max(1) as f32)
                .min(1.0),
            _ => 0.0,
        };
        let cosine = text::cosine(&a.vector, &b.vector);
        // Reports of one event come out close together; a day later it is often news of
        // the next step (day two of the talks), so similarity fades with the gap.
        let score = cosine * (1.0 - TIME_DISCOUNT * gap);
        let evidence = shared_evidence(a, b).len();
        let s = self.settings;
        // Near-identical wording about different places ("wildfire near Perth" / "near
        // Santa Rosa") is a template, not a story: names, when there are any, must agree.
        let names_agree = evidence >= 1 || (a.salient.is_empty() && b.salient.is_empty());
        let accepted = (score >= s.near_duplicate && names_agree)
            || (score >= s.same_story && evidence >= s.min_evidence);
        Some(Link {
            cosine,
            score,
            accepted,
        })
    }

    /// Average link between two clusters, or None when any pair may not merge or falls
    /// below the floor, or no pair is strong enough on its own.
    fn average(&self, a: &[usize], b: &[usize]) -> Option<f32> {
        let mut sum = 0.0;
        let mut any_accepted = false;
        for &x in a {
            for &y in b {
                let l = self.link(x, y)?;
                if l.score < self.settings.pair_floor {
                    return None;
                }
                any_accepted |= l.accepted;
                sum += l.score;
            }
        }
        let avg = sum / (a.len() * b.len()) as f32;
        (any_accepted && avg >= self.settings.same_story).then_some(avg)
    }
}

/// Terms both groups use that are a name or a figure in at least one of them.
fn shared_evidence(a: &Group, b: &Group) -> Vec<u32> {
    let has = |g: &Group, t: u32| g.vector.binary_search_by_key(&t, |e| e.0).is_ok();
    let mut out: Vec<u32> = a
        .salient
        .iter()
        .chain(&b.salient)
        .copied()
        .filter(|&t| has(a, t) && has(b, t))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Tier 1: union-find over URL keys, GUIDs and (across sources) normalised titles.
fn exact_groups(
    items: &[Item],
    corpus: &Corpus,
    docs: &[Doc],
) -> (Vec<Group>, Vec<Option<MergeNote>>) {
    let mut uf = UnionFind((0..items.len()).collect());
    let mut notes: Vec<Option<MergeNote>> = vec![None; items.len()];
    let mut by_url: HashMap<String, usize> = HashMap::new();
    let mut by_guid: HashMap<&str, usize> = HashMap::new();
    let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
    let note = |i: usize, j: usize, why: &str, notes: &mut Vec<Option<MergeNote>>| {
        notes[i] = Some(MergeNote {
            title: items[i].title.clone(),
            source: items[i].source_name.clone(),
            reason: format!(
                "exact: {why} as “{}” ({})",
                items[j].title, items[j].source_name
            ),
            similarity: None,
        });
    };
    // The keys are worked out on all cores; joining on them is the quick part.
    let keys: Vec<(Option<String>, String)> = parallel::map(items, |i| {
        (i.url.as_deref().map(url_key), title_key(&i.title))
    });
    for (i, (item, (url, tk))) in items.iter().zip(keys).enumerate() {
        if let Some(key) = url {
            match by_url.get(&key) {
                Some(&j) => {
                    if uf.union(i, j) {
                        note(i, j, "same link", &mut notes);
                    }
                }
                None => {
                    by_url.insert(key, i);
                }
            }
        }
        if let Some(id) = guid(item) {
            match by_guid.get(id) {
                Some(&j) => {
                    if uf.union(i, j) {
                        note(i, j, "same GUID", &mut notes);
                    }
                }
                None => {
                    by_guid.insert(id, i);
                }
            }
        }
        if tk.split(' ').count() >= MIN_TITLE_WORDS {
            let seen = by_title.entry(tk).or_default();
            // Same title from the same source is two different items (a weekly column).
            if let Some(&j) = seen.iter().find(|&&j| items[j].source != item.source) {
                if uf.union(i, j) {
                    note(i, j, "same title", &mut notes);
                }
            }
            seen.push(i);
        }
    }

    let mut root_pos: HashMap<usize, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for i in 0..items.len() {
        let r = uf.find(i);
        let p = *root_pos.entry(r).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[p].push(i);
    }
    let groups = parallel::map(&members, |m| {
        let m = m.clone();
        let mut salient: Vec<u32> = Vec::new();
        let mut sources: Vec<SourceKey> = Vec::new();
        for &i in &m {
            salient.extend(&docs[i].salient);
            if !sources.contains(&items[i].source) {
                sources.push(items[i].source.clone());
            }
        }
        let mut vector = match m.as_slice() {
            // Most reports stand alone: their vector needs no summing (the same numbers).
            [i] => {
                let mut v = corpus.tfidf_boosted(&docs[*i], NAME_BOOST);
                v.retain(|e| e.1 > 0.0);
                v
            }
            _ => {
                let mut acc: HashMap<u32, f32> = HashMap::new();
                for &i in &m {
                    text::add_into(&mut acc, &corpus.tfidf_boosted(&docs[i], NAME_BOOST), 1.0);
                }
                text::from_map(acc)
            }
        };
        text::normalize(&mut vector);
        salient.sort_unstable();
        salient.dedup();
        let dates = m.iter().filter_map(|&i| items[i].published);
        Group {
            earliest: dates.clone().min(),
            latest: dates.max(),
            members: m,
            sources,
            vector,
            salient,
        }
    });
    (groups, notes)
}

/// One story from its items. The rules, so the choice is explainable:
/// - title: the headline that shares the most words with the other reports (the one that
///   says what they all say); ties go to the earliest report (undated count as latest);
/// - link: that report's cleaned link, else the earliest report's link;
/// - summary: the longest one; sources: once each, in order of reporting.
fn story_of(
    items: &[Item],
    members: &[usize],
    corpus: &Corpus,
    docs: &[Doc],
    notes: &[(usize, MergeNote)],
) -> Story {
    let mut members: Vec<usize> = members.to_vec();
    members.sort_by_key(|&i| (items[i].published.is_none(), items[i].published, i));
    let title_score = |i: usize| -> usize {
        if members.len() == 1 {
            return 0;
        }
        let terms: HashSet<u32> = text::words(&items[i].title)
            .iter()
            .filter_map(|w| corpus.lookup(w.text))
            .collect();
        terms
            .iter()
            .filter(|&&t| {
                members
                    .iter()
                    .any(|&o| o != i && docs[o].counts.binary_search_by_key(&t, |e| e.0).is_ok())
            })
            .count()
    };
    let mut best = members[0];
    let mut best_score = title_score(best);
    for &m in &members[1..] {
        let s = title_score(m);
        if s > best_score {
            best = m;
            best_score = s;
        }
    }
    let lead = &items[best];
    let first = &items[members[0]];
    let url = lead
        .url
        .clone()
        .or_else(|| members.iter().find_map(|&i| items[i].url.clone()));
    let longest = members
        .iter()
        .map(|&i| &items[i])
        .max_by_key(|i| i.summary_text.len())
        .unwrap_or(first);
    let mut sources: Vec<StorySource> = Vec::new();
    for &m in &members {
        let m = &items[m];
        let pointed = m.also.iter().map(|(name, url)| (name, Some(url)));
        for (name, url) in std::iter::once((&m.source_name, m.url.as_ref())).chain(pointed) {
            if !sources.iter().any(|s| s.name == *name) {
                sources.push(StorySource {
                    name: name.clone(),
                    url: url.cloned(),
                });
            }
        }
    }
    let mut message_ids: Vec<String> = members
        .iter()
        .filter_map(|&m| items[m].message_id.clone())
        .collect();
    message_ids.sort();
    message_ids.dedup();
    let merged = if members.len() > 1 {
        let mut out = vec![MergeNote {
            title: lead.title.clone(),
            source: lead.source_name.clone(),
            reason: if best_score > 0 {
                format!("headline chosen: shares {best_score} words with the other reports")
            } else {
                "headline chosen: earliest report".into()
            },
            similarity: None,
        }];
        out.extend(
            members
                .iter()
                .filter_map(|&m| notes.iter().find(|(i, _)| *i == m).map(|(_, n)| n.clone())),
        );
        out
    } else {
        Vec::new()
    };
    Story {
        title: lead.title.clone(),
        url,
        summary: longest.summary_text.clone(),
        summary_html: longest.summary_html.clone(),
        published: first.published,
        sources,
        media: members
            .iter()
            .find_map(|&m| items[m].media.first().cloned()),
        items: members.iter().map(|&m| items[m].key.clone()).collect(),
        source_keys: {
            let mut keys: Vec<SourceKey> = Vec::new();
            for &m in &members {
                if !keys.contains(&items[m].source) {
                    keys.push(items[m].source.clone());
                }
            }
            keys
        },
        message_ids,
        merged,
        ..Default::default()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ItemKey, SourceKey};

    pub(crate) fn item(source: &str, title: &str, url: Option<&str>, summary: &str) -> Item {
        Item {
            // Keyed by link like a feed without GUIDs, so tests do not merge on GUID.
            key: ItemKey(format!("{source}#{}", url.unwrap_or(title))),
            source: SourceKey(source.into()),
            source_name: source.into(),
            title: title.into(),
            url: url.map(str::to_string),
            summary_html: summary.into(),
            summary_text: summary.into(),
            published: None,
            topic_hint: None,
            message_id: None,
            categories: Vec::new(),
            also: Vec::new(),
            tracker_host: None,
            media: Vec::new(),
        }
    }

    #[test]
    fn outlets_a_newsletter_points_to_are_sources_of_its_story() {
        let mut i = item("Dispatch", "Treaty signed", Some("https://a.example/t"), "");
        i.also = vec![
            ("World Wire".into(), "https://w.example/t".into()),
            ("Dispatch".into(), "https://a.example/again".into()),
        ];
        let stories = merge(vec![i]);
        let names: Vec<(&str, Option<&str>)> = stories[0]
            .sources
            .iter()
            .map(|s| (s.name.as_str(), s.url.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("Dispatch", Some("https://a.example/t")),
                ("World Wire", Some("https://w.example/t"))
            ]
        );
    }

    #[test]
    fn keys() {
        assert_eq!(url_key("https://WWW.Example.org/a/b/#x"), "example.org/a/b");
        assert_eq!(url_key("http://example.org"), "example.org");
        assert_eq!(url_key("https://example.org/a?"), "example.org/a");
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
        assert!(stories[0]
            .merged
            .iter()
            .any(|n| n.reason.contains("same link")));
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

    #[test]
    fn reworded_report_merges_only_with_names_to_back_it() {
        let stories = merge(vec![
            item(
                "a",
                "Magnitude 6.8 earthquake strikes southern Peru",
                Some("https://a.org/1"),
                "A strong quake shook the Arequipa region, damaging homes in Chivay.",
            ),
            item(
                "b",
                "Arequipa tremor leaves villages without power",
                Some("https://b.org/1"),
                "Residents of Chivay spent the night outdoors after the 6.8 quake.",
            ),
            item(
                "c",
                "Magnitude 6.1 earthquake strikes eastern Turkey",
                Some("https://c.org/1"),
                "A strong quake shook Van province, damaging homes in Ercis.",
            ),
        ]);
        let sizes: Vec<usize> = stories.iter().map(|s| s.items.len()).collect();
        assert_eq!(sizes, [2, 1], "{stories:#?}");
        assert!(stories[0].merged[1].reason.contains("chivay"));
    }

    #[test]
    fn one_source_never_merges_with_itself_on_text() {
        let stories = merge(vec![
            item(
                "a",
                "Magnitude 6.8 earthquake strikes southern Peru",
                Some("https://a.org/1"),
                "Homes damaged in Chivay, Arequipa.",
            ),
            item(
                "a",
                "Magnitude 6.8 earthquake strikes southern Peru again",
                Some("https://a.org/2"),
                "Homes damaged in Chivay, Arequipa.",
            ),
        ]);
        assert_eq!(stories.len(), 2);
    }
}
