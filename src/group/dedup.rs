//! Same story, several sources: merging in three tiers.
//!
//! 1. **Exact**: same cleaned URL (ignoring scheme, `www.`, a trailing slash, an empty query
//!    and the fragment), same GUID, or — across sources — the same normalised title, long
//!    enough to be distinctive.
//! 2. **Near duplicate**: TF-IDF cosine of title + summary at least [`NEAR_DUPLICATE`], and
//!    the names agree when there are any.
//! 3. **Same story, different wording**: cosine at least [`SAME_STORY`] *and* at least
//!    [`MIN_EVIDENCE`] shared names or figures ("Chivay", "6.8", "Jerome Powell").
//!
//! Names come from capitals where capitals say something, and in Title Case or ALL-CAPS
//! headlines from what the whole batch says about the word ([`Corpus::names`]); a name of
//! several words ("Miley Cyrus") is one piece of evidence, so two stories about one person
//! need more in common than the person.
//!
//! Tiers 2 and 3 only join reports published within the time window of each other. Two
//! reports of one source are two stories unless they are exact repeats; only a story other
//! sources already tell may take a second report of a source. Clusters grow best link
//! first, and a cluster is compared by its own vector, the sum of its reports': a large
//! story holds together through what it says as a whole, and after two reports join they
//! must clear [`JOIN_NEAR`] (or the evidence bar) against the joined story's words.
//!
//! Candidates come from an inverted index over rare terms (those in at most
//! [`RARE_DF_CAP`] groups), and after each join from the joined story's [`TOP_TERMS`]
//! strongest terms, so the cost grows with the number of reports times a constant, not
//! with every pair.

use std::collections::{BinaryHeap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::text::{self, Corpus, Doc, Names, Vector};
use crate::model::{Item, MergeNote, SourceKey, Story, StorySource};
use crate::parallel;

/// Titles shorter than this many words never merge on title alone ("Weekly update").
const MIN_TITLE_WORDS: usize = 4;
/// Cosine at which two reports are the same text, reworded a little.
pub const NEAR_DUPLICATE: f32 = 0.5;
/// Cosine a report or story needs with a story of several reports to join it on wording
/// alone: a story's summed vector spreads over all its reports' words, so the bar is lower.
pub const JOIN_NEAR: f32 = 0.45;
/// Cosine at which two reports may be the same story, if names or figures back it up.
pub const SAME_STORY: f32 = 0.2;
/// Shared names or figures needed for a tier-3 merge.
pub const MIN_EVIDENCE: usize = 2;
/// A term or name is part of what a story is about when this share of its reports use it.
const CORE_SHARE: f32 = 0.3;
/// A story that takes a second report of a source may share at most this share of its
/// sources with the story joining it.
const MAX_SHARED_SOURCES: f32 = 0.5;
/// A joined story looks for more reports through this many of its strongest terms.
const TOP_TERMS: usize = 6;
/// Terms in more groups than this are too common to propose candidates (they still count in
/// the cosine).
pub const RARE_DF_CAP: usize = 40;
/// Names and figures weigh this many times their TF-IDF weight: they say *which* event a
/// report is about, and in a small batch the IDF alone cannot tell them from common words.
pub const NAME_BOOST: f32 = 2.0;
/// Reports with fewer distinct terms than this are short: they join only on wording, with a
/// shared name or figure and all their rare terms (at least [`MIN_SHORT_RARE`]) in the
/// other report ("Weekly update" twice is two stories).
pub const MIN_TEXT_TERMS: usize = 4;
const MIN_SHORT_RARE: usize = 2;
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
}

impl Default for MergeSettings {
    fn default() -> Self {
        MergeSettings {
            window: DEFAULT_WINDOW,
            near_duplicate: NEAR_DUPLICATE,
            same_story: SAME_STORY,
            min_evidence: MIN_EVIDENCE,
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

/// Reports already known to be one story: first the exact repeats (same URL, GUID or
/// title), then whatever merging joins. A cluster is compared by its own vector (the sum of
/// its reports'), so a large story holds together through what its reports say in common
/// rather than needing every pair of them to agree.
struct Cluster {
    members: Vec<usize>,
    /// Source ids, sorted.
    sources: Vec<u32>,
    earliest: Option<DateTime<Utc>>,
    latest: Option<DateTime<Utc>>,
    /// Sum and count of the dated members' times (seconds): the cluster's mean time.
    time_sum: f64,
    dated: usize,
    /// The sum of the members' vectors, and that sum normalised.
    sum: Vector,
    vector: Vector,
    /// How many members use each term / each name or figure (sorted keys).
    term_count: Vec<(u32, u32)>,
    unit_count: Vec<(Vec<u32>, u32)>,
    /// Terms and names at least [`CORE_SHARE`] of the members use: what the story is about.
    core_terms: Vec<u32>,
    core_units: Vec<Vec<u32>>,
    any_name: bool,
}

impl Cluster {
    fn new(
        members: Vec<usize>,
        items: &[Item],
        source_ids: &[u32],
        vectors: &[Vector],
        names: &[Names],
    ) -> Cluster {
        let mut c = Cluster {
            members: Vec::new(),
            sources: Vec::new(),
            earliest: None,
            latest: None,
            time_sum: 0.0,
            dated: 0,
            sum: Vec::new(),
            vector: Vec::new(),
            term_count: Vec::new(),
            unit_count: Vec::new(),
            core_terms: Vec::new(),
            core_units: Vec::new(),
            any_name: false,
        };
        for &i in &members {
            let mut units = names[i].units.clone();
            units.sort_unstable();
            units.dedup();
            let one = Cluster {
                members: vec![i],
                sources: vec![source_ids[i]],
                earliest: items[i].published,
                latest: items[i].published,
                time_sum: items[i].published.map_or(0.0, |t| t.timestamp() as f64),
                dated: items[i].published.is_some() as usize,
                sum: vectors[i].clone(),
                vector: Vec::new(),
                term_count: vectors[i].iter().map(|&(t, _)| (t, 1)).collect(),
                unit_count: units.into_iter().map(|u| (u, 1)).collect(),
                core_terms: Vec::new(),
                core_units: Vec::new(),
                any_name: !names[i].terms.is_empty(),
            };
            c.absorb(one);
        }
        c.finish();
        c
    }

    /// Takes in another cluster's reports (call [`Cluster::finish`] after).
    fn absorb(&mut self, o: Cluster) {
        self.members.extend(o.members);
        self.sources.extend(o.sources);
        self.sources.sort_unstable();
        self.sources.dedup();
        self.earliest = [self.earliest, o.earliest].into_iter().flatten().min();
        self.latest = [self.latest, o.latest].into_iter().flatten().max();
        self.time_sum += o.time_sum;
        self.dated += o.dated;
        self.sum = add_sorted(&self.sum, &o.sum);
        self.term_count = add_sorted(&self.term_count, &o.term_count);
        self.unit_count = add_sorted(&self.unit_count, &o.unit_count);
        self.any_name |= o.any_name;
    }

    fn finish(&mut self) {
        self.vector = self.sum.clone();
        text::normalize(&mut self.vector);
        let least = (CORE_SHARE * self.members.len() as f32).max(1.0);
        self.core_terms = self
            .term_count
            .iter()
            .filter(|e| e.1 as f32 >= least)
            .map(|e| e.0)
            .collect();
        self.core_units = self
            .unit_count
            .iter()
            .filter(|e| e.1 as f32 >= least)
            .map(|e| e.0.clone())
            .collect();
    }

    fn mean_time(&self) -> Option<f64> {
        (self.dated > 0).then(|| self.time_sum / self.dated as f64)
    }
}

/// Two sorted sparse lists added key by key.
fn add_sorted<K: Ord + Clone, V: Copy + std::ops::Add<Output = V>>(
    a: &[(K, V)],
    b: &[(K, V)],
) -> Vec<(K, V)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0.clone(), a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
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
    // Names are decided against the whole batch, so only now.
    let analysed: Vec<(Names, Vector)> = parallel::map(docs, |d| {
        let names = corpus.names(d);
        let mut v = corpus.tfidf_with(d, &names.terms, NAME_BOOST);
        v.retain(|e| e.1 > 0.0);
        (names, v)
    });
    let (names, vectors): (Vec<Names>, Vec<Vector>) = analysed.into_iter().unzip();
    // Two newsletters of one mailbox are two sources: each may confirm the other's story.
    let mut source_of: HashMap<(&SourceKey, &str), u32> = HashMap::new();
    let source_ids: Vec<u32> = items
        .iter()
        .map(|i| {
            let next = source_of.len() as u32;
            *source_of.entry(i.origin_key()).or_insert(next)
        })
        .collect();
    let (members, mut notes) = exact_groups(items);
    let mut clusters: Vec<Option<Cluster>> = parallel::map(&members, |m| {
        Some(Cluster::new(
            m.clone(),
            items,
            &source_ids,
            &vectors,
            &names,
        ))
    });
    let judge = Judge {
        corpus,
        settings,
        window: Duration::from_std(settings.window).unwrap_or(Duration::hours(48)),
    };

    // Candidate pairs through rare terms; the accepted ones start the queue.
    let mut postings: Vec<Vec<usize>> = vec![Vec::new(); corpus.stems.len()];
    for (g, c) in clusters.iter().enumerate() {
        for &(t, _) in c.iter().flat_map(|c| &c.vector) {
            postings[t as usize].push(g);
        }
    }
    let mut heap: BinaryHeap<Candidate> = BinaryHeap::new();
    let mut seen = vec![usize::MAX; clusters.len()];
    for (g, c) in clusters.iter().enumerate() {
        let Some(c) = c else { continue };
        for &(t, _) in &c.vector {
            let list = &postings[t as usize];
            if list.len() > RARE_DF_CAP {
                continue;
            }
            for &h in list {
                if h <= g || seen[h] == g {
                    continue;
                }
                seen[h] = g;
                let Some(other) = &clusters[h] else { continue };
                if let Some(link) = judge.link(c, other, true) {
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

    // Best first: join the two clusters with the strongest link, then look for what the
    // joined story's own vector links to, through its strongest terms.
    let mut version: Vec<u32> = vec![0; clusters.len()];
    while let Some(c) = heap.pop() {
        if (version[c.a], version[c.b]) != c.stamp {
            continue;
        }
        let (keep, gone) = (c.a.min(c.b), c.a.max(c.b));
        let (Some(kept), Some(joining)) = (clusters[keep].take(), clusters[gone].take()) else {
            continue;
        };
        note_join(&kept, &joining, items, corpus, &judge, &mut notes);
        for &(t, _) in &joining.vector {
            let list = &mut postings[t as usize];
            list.retain(|&x| x != gone);
            if kept.sum.binary_search_by_key(&t, |e| e.0).is_err() {
                list.push(keep);
            }
        }
        let mut joined = kept;
        joined.absorb(joining);
        joined.finish();
        version[keep] += 1;
        version[gone] += 1;
        let mut strongest: Vec<(u32, f32)> = joined.vector.clone();
        strongest.sort_unstable_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        let mut near: Vec<usize> = strongest
            .iter()
            .take(TOP_TERMS)
            .flat_map(|&(t, _)| postings[t as usize].iter().copied())
            .filter(|&o| o != keep)
            .collect();
        near.sort_unstable();
        near.dedup();
        for o in near {
            let Some(other) = &clusters[o] else { continue };
            if let Some(link) = judge.link(&joined, other, false) {
                let (a, b) = (keep.min(o), keep.max(o));
                heap.push(Candidate {
                    score: link.score,
                    a,
                    b,
                    stamp: (version[a], version[b]),
                });
            }
        }
        clusters[keep] = Some(joined);
    }

    let mut order: Vec<Vec<usize>> = clusters
        .into_iter()
        .flatten()
        .map(|c| {
            let mut m = c.members;
            m.sort_unstable();
            m
        })
        .collect();
    order.sort_unstable_by_key(|m| m[0]);
    // Each story with its members' notes, then all stories made on all cores.
    let clusters: Vec<_> = order
        .into_iter()
        .map(|members| {
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

/// Says, on each report of `joining`, why it joined `kept`'s story (an exact repeat keeps
/// its exact reason).
fn note_join(
    kept: &Cluster,
    joining: &Cluster,
    items: &[Item],
    corpus: &Corpus,
    judge: &Judge,
    notes: &mut [Option<MergeNote>],
) {
    let Some(link) = judge.link(
        kept,
        joining,
        kept.members.len() + joining.members.len() == 2,
    ) else {
        return;
    };
    let lead = &items[kept.members[0]];
    let shared: Vec<String> = link
        .evidence
        .iter()
        .map(|u| {
            u.iter()
                .map(|&t| corpus.stems[t as usize].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let tier = if link.score >= judge.settings.near_duplicate {
        "near-duplicate text"
    } else {
        "same story, different wording"
    };
    for &m in &joining.members {
        if notes[m].as_ref().is_some_and(|n| n.similarity.is_none()) {
            continue;
        }
        notes[m] = Some(MergeNote {
            title: items[m].title.clone(),
            source: items[m].source_name.clone(),
            reason: format!(
                "{tier} with “{}” ({}): cosine {:.2}, time-weighted {:.2}, shared names/figures [{}]",
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

/// An accepted link between two clusters.
struct Link {
    cosine: f32,
    /// The cosine discounted by the time between the clusters.
    score: f32,
    /// The names and figures one cluster's story has that the other's uses too.
    evidence: Vec<Vec<u32>>,
}

struct Judge<'a> {
    corpus: &'a Corpus,
    settings: &'a MergeSettings,
    window: Duration,
}

impl Judge<'_> {
    /// The link between two clusters when they are the same story, else None. `first`:
    /// the pair is judged as two reports (the stricter near-duplicate bar).
    fn link(&self, a: &Cluster, b: &Cluster, first: bool) -> Option<Link> {
        let common = a.sources.iter().filter(|s| b.sources.contains(s)).count();
        if common > 0 {
            // One source twice in a story only when other sources already tell it: two
            // reports of one source are two stories, and a lone report never joins a story
            // its own source already has.
            let fewer = a.sources.len().min(b.sources.len());
            if a.members.len() + b.members.len() == 2
                || fewer < 2
                || common as f32 > MAX_SHARED_SOURCES * fewer as f32
            {
                return None;
            }
        }
        let far = |x: Option<DateTime<Utc>>, y: Option<DateTime<Utc>>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() > self.window,
            _ => false,
        };
        if far(a.earliest, b.latest) || far(a.latest, b.earliest) {
            return None;
        }
        let gap = match (a.mean_time(), b.mean_time()) {
            (Some(x), Some(y)) => {
                ((x - y).abs() as f32 / self.window.num_seconds().max(1) as f32).min(1.0)
            }
            _ => 0.0,
        };
        let cosine = text::cosine(&a.vector, &b.vector);
        // Reports of one event come out close together; a day later it is often news of
        // the next step (day two of the talks), so similarity fades with the gap.
        let score = cosine * (1.0 - TIME_DISCOUNT * gap);
        let s = self.settings;
        if score < s.same_story {
            return None;
        }
        let near = if first || a.members.len() + b.members.len() == 2 {
            s.near_duplicate
        } else {
            JOIN_NEAR
        };
        let evidence = shared_evidence(a, b);
        // Near-identical wording about different places ("wildfire near Perth" / "near
        // Santa Rosa") is a template, not a story: names, when there are any, must agree.
        let names_agree = !evidence.is_empty() || (!a.any_name && !b.any_name);
        let short = a.vector.len() < MIN_TEXT_TERMS || b.vector.len() < MIN_TEXT_TERMS;
        let accepted = if short {
            // A short title joins on its rare words: all of them, at least two.
            let (x, y) = if a.vector.len() <= b.vector.len() {
                (a, b)
            } else {
                (b, a)
            };
            let rare: Vec<u32> = x
                .vector
                .iter()
                .map(|e| e.0)
                .filter(|&t| self.corpus.df[t as usize] as usize <= RARE_DF_CAP)
                .collect();
            score >= near
                && !evidence.is_empty()
                && rare.len() >= MIN_SHORT_RARE
                && rare
                    .iter()
                    .all(|t| y.vector.binary_search_by_key(t, |e| e.0).is_ok())
        } else {
            (score >= near && names_agree) || evidence.len() >= s.min_evidence
        };
        accepted.then_some(Link {
            cosine,
            score,
            evidence,
        })
    }
}

/// The names and figures of one cluster's core found whole among the other's core terms,
/// each counted once: a name inside a longer shared one ("Cyrus" in "Miley Cyrus") is the
/// same piece of evidence.
fn shared_evidence(a: &Cluster, b: &Cluster) -> Vec<Vec<u32>> {
    let within = |u: &Vec<u32>, terms: &[u32]| u.iter().all(|t| terms.binary_search(t).is_ok());
    let mut found: Vec<Vec<u32>> = a
        .core_units
        .iter()
        .filter(|u| within(u, &b.core_terms))
        .chain(b.core_units.iter().filter(|u| within(u, &a.core_terms)))
        .cloned()
        .collect();
    found.sort_unstable_by(|x, y| y.len().cmp(&x.len()).then(x.cmp(y)));
    found.dedup();
    let mut kept: Vec<Vec<u32>> = Vec::new();
    for u in found {
        if !kept.iter().any(|k| within(&u, k)) {
            kept.push(u);
        }
    }
    kept
}

/// Tier 1: union-find over URL keys, GUIDs and (across sources) normalised titles.
fn exact_groups(items: &[Item]) -> (Vec<Vec<usize>>, Vec<Option<MergeNote>>) {
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
            if let Some(&j) = seen
                .iter()
                .find(|&&j| items[j].origin_key() != item.origin_key())
            {
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
    (members, notes)
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
            section: None,
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

    /// Two newsletters in one mailbox are two sources: the same story in both is one story,
    /// while one newsletter's two issues still keep their own stories.
    #[test]
    fn newsletters_of_one_mailbox_are_sources_of_their_own() {
        let letter = |name: &str, issue: &str, title: &str| {
            let mut i = item(
                "imap:reader@mail.example:993",
                title,
                None,
                "The harbour authority approved the new ferry terminal in Kiel on Monday.",
            );
            i.source_name = name.into();
            i.message_id = Some(format!("{name}-{issue}"));
            i.key = ItemKey(format!("{name}#{issue}#{title}"));
            i
        };
        let stories = merge(vec![
            letter("Coast Weekly", "1", "Kiel approves new ferry terminal"),
            letter("Port Brief", "7", "New ferry terminal approved in Kiel"),
            letter(
                "Coast Weekly",
                "2",
                "Kiel approves new ferry terminal plans",
            ),
        ]);
        let sizes: Vec<usize> = stories.iter().map(|s| s.items.len()).collect();
        assert_eq!(sizes, [2, 1], "{stories:#?}");
        let names: Vec<&str> = stories[0].sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Coast Weekly", "Port Brief"]);
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
