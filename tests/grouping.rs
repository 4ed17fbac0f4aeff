//! Story merging measured on a labelled fixture of invented reports
//! (`tests/fixtures/grouping/stories.jsonl`): every line is one report with the id of the
//! story it belongs to. The fixture holds hard positives (one story told in different words)
//! and hard negatives (two earthquakes, day one and day two of the same talks, two storms).
//!
//! Scores: pairwise precision and recall over pairs of reports, and B-cubed F1.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tidings::group::dedup;
use tidings::model::{Item, ItemKey, SourceKey};

const MIN_PAIRWISE_PRECISION: f64 = 0.97;
const MIN_BCUBED_F1: f64 = 0.90;
/// Guards for follow-ups on real headlines (measured 2026-12-03: 0.137 and 0.231). Low, and
/// partly the labels' doing: UCI's story ids are clusters within a time window, so one
/// continuing story gets a new id on the second day (the same headline on both days carries
/// two ids), and a recall of it counts as wrong here.
const MIN_FOLLOWUP_PRECISION: f64 = 0.12;
const MIN_FOLLOWUP_RECALL: f64 = 0.20;

#[derive(Deserialize)]
struct Labelled {
    story: String,
    source: String,
    published: DateTime<Utc>,
    url: Option<String>,
    title: String,
    summary: String,
    guid: Option<String>,
}

fn load() -> (Vec<Item>, Vec<String>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/grouping/stories.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut items = Vec::new();
    let mut labels = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let l: Labelled =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let source = SourceKey(format!("feed:{}", l.source));
        let id = l.guid.clone().unwrap_or_else(|| format!("line-{n}"));
        items.push(Item {
            key: ItemKey(format!("{}#{id}", source.0)),
            source,
            source_name: l.source,
            title: l.title,
            url: l.url,
            summary_html: l.summary.clone(),
            summary_text: l.summary,
            published: Some(l.published),
            topic_hint: None,
            section: None,
            message_id: None,
            categories: Vec::new(),
            also: Vec::new(),
            tracker_host: None,
            media: Vec::new(),
        });
        labels.push(l.story);
    }
    (items, labels)
}

struct Scores {
    precision: f64,
    recall: f64,
    bcubed_f1: f64,
}

fn score(truth: &[usize], predicted: &[usize]) -> Scores {
    let n = truth.len();
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut bp, mut br) = (0.0, 0.0);
    for i in 0..n {
        let (mut same_both, mut same_pred, mut same_true) = (0usize, 0usize, 0usize);
        for j in 0..n {
            let t = truth[i] == truth[j];
            let p = predicted[i] == predicted[j];
            same_both += (t && p) as usize;
            same_pred += p as usize;
            same_true += t as usize;
            if j > i {
                match (t, p) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fn_ += 1,
                    _ => {}
                }
            }
        }
        bp += same_both as f64 / same_pred as f64;
        br += same_both as f64 / same_true as f64;
    }
    let (bp, br) = (bp / n as f64, br / n as f64);
    Scores {
        precision: tp as f64 / (tp + fp).max(1) as f64,
        recall: tp as f64 / (tp + fn_).max(1) as f64,
        bcubed_f1: 2.0 * bp * br / (bp + br),
    }
}

#[test]
fn story_merging_meets_precision_and_bcubed_targets() {
    let (items, labels) = load();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let truth: Vec<usize> = labels
        .iter()
        .map(|l| {
            let next = ids.len();
            *ids.entry(l).or_insert(next)
        })
        .collect();
    assert!(items.len() >= 150 && ids.len() >= 60, "fixture too small");

    let stories = dedup::merge(items.clone());
    let by_key: HashMap<&ItemKey, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (&it.key, i))
        .collect();
    let mut predicted = vec![usize::MAX; items.len()];
    for (s, story) in stories.iter().enumerate() {
        for k in &story.items {
            predicted[by_key[k]] = s;
        }
    }
    assert!(
        predicted.iter().all(|&p| p != usize::MAX),
        "an item was lost"
    );

    // The errors, so a regression says what went wrong.
    for story in &stories {
        let members: Vec<usize> = story.items.iter().map(|k| by_key[k]).collect();
        let first = truth[members[0]];
        if members.iter().any(|&m| truth[m] != first) {
            eprintln!("FALSE MERGE:");
            for &m in &members {
                eprintln!(
                    "  [{}] {} — {}",
                    labels[m], items[m].source_name, items[m].title
                );
            }
            for n in &story.merged {
                eprintln!("    why: {}", n.reason);
            }
        }
    }
    for (label, &t) in &ids {
        let mut parts: Vec<usize> = (0..items.len())
            .filter(|&i| truth[i] == t)
            .map(|i| predicted[i])
            .collect();
        parts.sort_unstable();
        parts.dedup();
        if parts.len() > 1 {
            eprintln!("SPLIT {label}: {} pieces", parts.len());
        }
    }

    let s = score(&truth, &predicted);
    println!(
        "story merging on {} reports in {} stories → {} stories: pairwise precision {:.3}, \
         recall {:.3}; B-cubed F1 {:.3}",
        items.len(),
        ids.len(),
        stories.len(),
        s.precision,
        s.recall,
        s.bcubed_f1
    );
    assert!(
        s.precision >= MIN_PAIRWISE_PRECISION,
        "pairwise precision {:.3}",
        s.precision
    );
    assert!(
        s.bcubed_f1 >= MIN_BCUBED_F1,
        "B-cubed F1 {:.3}",
        s.bcubed_f1
    );
}

#[test]
fn scores_are_right_on_a_hand_worked_case() {
    // Truth {0,1},{2}; predicted {0},{1,2}: no true pair found, one false pair.
    let s = score(&[0, 0, 1], &[0, 1, 1]);
    assert_eq!((s.precision, s.recall), (0.0, 0.0));
    // B-cubed precision (1 + 1/2 + 1/2)/3, recall (1/2 + 1/2 + 1)/3 → F1 2/3.
    assert!((s.bcubed_f1 - 2.0 / 3.0).abs() < 1e-9);
}

/// Memory across digests on real headlines (`../shared/realworld/stories/`, the UCI News
/// Aggregator's first 6,366 titles from many outlets with gold story ids, two days of
/// March 2014, titles only): the first day is grouped and "sent", then each report of the
/// second day is recalled against what was sent. A recall is right when the sent story it
/// names holds a report of the same gold story. Prints precision and recall; guards them.
#[derive(Deserialize)]
struct Headline {
    story: String,
    /// UCI's category: Business, Entertainment, Technology, Health.
    topic: String,
    source: String,
    title: String,
    published: DateTime<Utc>,
    url: String,
}

impl Headline {
    fn item(&self, n: usize) -> Item {
        Item {
            key: ItemKey(format!("{}#{n}", self.source)),
            source: SourceKey(format!("feed:{}", self.source)),
            source_name: self.source.clone(),
            title: self.title.clone(),
            url: Some(self.url.clone()),
            published: Some(self.published),
            ..Default::default()
        }
    }
}

/// The UCI headlines of `../shared/realworld/stories/` (`part`: "head" for all 6,366,
/// "subset" for the 522 of six distinct publishers per story).
fn headlines(part: &str) -> Vec<Headline> {
    let path = format!(
        "{}/../shared/realworld/stories/uci-news-aggregator.{part}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (the real-world data must sit beside the repo)"));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Gold clusters as numbers, in order of first appearance.
fn numbered<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    labels
        .into_iter()
        .map(|l| {
            let next = ids.len();
            *ids.entry(l).or_insert(next)
        })
        .collect()
}

/// Each item's story number in `stories`.
fn predicted(items: &[Item], stories: &[tidings::model::Story]) -> Vec<usize> {
    let by_key: HashMap<&ItemKey, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (&it.key, i))
        .collect();
    let mut out = vec![usize::MAX; items.len()];
    for (s, story) in stories.iter().enumerate() {
        for k in &story.items {
            out[by_key[k]] = s;
        }
    }
    assert!(out.iter().all(|&p| p != usize::MAX), "an item was lost");
    out
}

/// The baseline a merge must beat: title TF-IDF cosine of at least 0.5 between reports of
/// different sources, joined transitively.
fn tfidf_baseline(items: &[Item]) -> Vec<usize> {
    use tidings::group::text::{cosine, Corpus};
    let texts: Vec<(&str, &str)> = items.iter().map(|i| (i.title.as_str(), "")).collect();
    let (corpus, docs) = Corpus::analyse(&texts);
    let vectors: Vec<_> = docs.iter().map(|d| corpus.tfidf(d)).collect();
    let mut root: Vec<usize> = (0..items.len()).collect();
    fn find(root: &mut [usize], mut x: usize) -> usize {
        while root[x] != x {
            root[x] = root[root[x]];
            x = root[x];
        }
        x
    }
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            if items[i].source != items[j].source && cosine(&vectors[i], &vectors[j]) >= 0.5 {
                let (a, b) = (find(&mut root, i), find(&mut root, j));
                root[a.max(b)] = a.min(b);
            }
        }
    }
    (0..items.len()).map(|i| find(&mut root, i)).collect()
}

/// Minimums for merging real headlines (UCI, titles only): the 522 subset and all 6,366.
/// All 6,366 meet the targets (0.85, 0.50; measured 0.867, 0.555). The subset does
/// not yet (targets 0.90 and 0.75; measured 0.891, 0.665): these two are guards just under
/// the measured level, so a regression fails while the gap stays open.
const MIN_REAL_SUBSET_PRECISION: f64 = 0.88;
const MIN_REAL_SUBSET_BCUBED: f64 = 0.65;
const MIN_REAL_ALL_PRECISION: f64 = 0.85;
const MIN_REAL_ALL_BCUBED: f64 = 0.50;

/// Merging measured on real headlines: the UCI News Aggregator's titles from many outlets,
/// with the aggregator's own story ids as gold (`../shared/realworld/stories/`). Prints
/// pairwise precision/recall and B-cubed F1 beside the TF-IDF baseline and items left alone.
/// `TIDINGS_SHOW_MERGES=1` lists false merges and split stories of the subset.
#[test]
fn story_merging_on_real_headlines() {
    let mut failed: Vec<String> = Vec::new();
    for (part, min_p, min_b3) in [
        ("subset", MIN_REAL_SUBSET_PRECISION, MIN_REAL_SUBSET_BCUBED),
        ("head", MIN_REAL_ALL_PRECISION, MIN_REAL_ALL_BCUBED),
    ] {
        let rows = headlines(part);
        let items: Vec<Item> = rows.iter().enumerate().map(|(n, h)| h.item(n)).collect();
        let truth = numbered(rows.iter().map(|h| h.story.as_str()));
        // As grouping does it: the batch analysed on all cores, then merged.
        let started = std::time::Instant::now();
        let texts: Vec<(&str, &str)> = items.iter().map(|i| (i.title.as_str(), "")).collect();
        let (corpus, docs) = tidings::group::text::Corpus::analyse(&texts);
        let stories = dedup::merge_with(&items, &corpus, &docs, &Default::default());
        let elapsed = started.elapsed();
        let got = predicted(&items, &stories);
        if part == "subset" && std::env::var_os("TIDINGS_SHOW_MERGES").is_some() {
            show_errors(&items, &truth, &got);
        }
        let s = score(&truth, &got);
        let alone = score(&truth, &(0..items.len()).collect::<Vec<_>>());
        let base = if part == "subset" {
            let b = score(&truth, &tfidf_baseline(&items));
            format!(
                "precision {:.3}, recall {:.3}, B-cubed {:.3}",
                b.precision, b.recall, b.bcubed_f1
            )
        } else {
            "not run (quadratic)".into()
        };
        println!(
            "real headlines ({part}): {} reports in {} stories -> {} stories in {} ms: \
             pairwise precision {:.3}, recall {:.3}, B-cubed F1 {:.3}; TF-IDF baseline {base}; \
             items left alone B-cubed {:.3}",
            items.len(),
            truth.iter().max().map_or(0, |m| m + 1),
            stories.len(),
            elapsed.as_millis(),
            s.precision,
            s.recall,
            s.bcubed_f1,
            alone.bcubed_f1
        );
        if s.precision < min_p || s.bcubed_f1 < min_b3 {
            failed.push(format!(
                "{part}: pairwise precision {:.3} (at least {min_p}), B-cubed F1 {:.3} (at least {min_b3})",
                s.precision, s.bcubed_f1
            ));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Lists false merges (one predicted story holding several gold stories) and splits.
fn show_errors(items: &[Item], truth: &[usize], got: &[usize]) {
    let mut by_pred: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, &p) in got.iter().enumerate() {
        by_pred.entry(p).or_default().push(i);
    }
    let mut preds: Vec<_> = by_pred.into_values().collect();
    preds.sort();
    for members in &preds {
        if members.iter().any(|&m| truth[m] != truth[members[0]]) {
            eprintln!("FALSE MERGE:");
            for &m in members {
                eprintln!(
                    "  [{}] {} — {}",
                    truth[m], items[m].source_name, items[m].title
                );
            }
        }
    }
    let stories = truth.iter().max().map_or(0, |m| m + 1);
    for t in 0..stories {
        let parts: Vec<&Vec<usize>> = preds
            .iter()
            .filter(|p| p.iter().any(|&m| truth[m] == t))
            .collect();
        if parts.len() > 1 {
            eprintln!("SPLIT [{t}] in {} pieces:", parts.len());
            for p in parts {
                let titles: Vec<&str> = p
                    .iter()
                    .filter(|&&m| truth[m] == t)
                    .map(|&m| items[m].title.as_str())
                    .collect();
                eprintln!("  {titles:?}");
            }
        }
    }
}

#[test]
fn follow_ups_are_recognised_on_real_headlines_of_two_days() {
    use tidings::group::memory::{self, SentStory};
    use tidings::group::text::Corpus;

    let rows = headlines("head");
    let item = |n: usize, h: &Headline| h.item(n);
    let mut times: Vec<DateTime<Utc>> = rows.iter().map(|h| h.published).collect();
    times.sort();
    let cut = times[times.len() / 2];
    let gold: HashMap<ItemKey, &str> = rows
        .iter()
        .enumerate()
        .map(|(n, h)| (item(n, h).key, h.story.as_str()))
        .collect();
    let (day1, day2): (Vec<Item>, Vec<Item>) = rows
        .iter()
        .enumerate()
        .map(|(n, h)| item(n, h))
        .partition(|i| i.published < Some(cut));

    // Day one, as a digest would send it: merged stories, each remembered once.
    let sent_stories = dedup::merge(day1.clone());
    // Each sent story by headline, with the gold stories of its reports (merging may have
    // joined reports of more than one).
    let mut story_gold: HashMap<String, std::collections::HashSet<&str>> = HashMap::new();
    let sent: Vec<SentStory> = sent_stories
        .iter()
        .map(|s| {
            story_gold
                .entry(s.title.clone())
                .or_default()
                .extend(s.items.iter().map(|k| gold[k]));
            memory::SentStory::of(s)
        })
        .collect();
    let day1_gold: std::collections::HashSet<&str> = day1.iter().map(|i| gold[&i.key]).collect();

    let texts: Vec<(&str, &str)> = day2
        .iter()
        .map(|i| (i.title.as_str(), i.summary_text.as_str()))
        .collect();
    let (corpus, docs) = Corpus::analyse(&texts);
    let started = std::time::Instant::now();
    let recalled = memory::recall(
        &day2,
        &corpus,
        &docs,
        &sent,
        &dedup::MergeSettings::default(),
    );
    let elapsed = started.elapsed();
    let positives = day2
        .iter()
        .filter(|i| day1_gold.contains(gold[&i.key]))
        .count();
    let right = recalled
        .iter()
        .filter(|(k, e)| story_gold[&e.title].contains(gold[*k]))
        .count();
    if std::env::var_os("TIDINGS_SHOW_FOLLOWUPS").is_some() {
        for i in &day2 {
            if let Some(e) = recalled.get(&i.key) {
                let ok = story_gold[&e.title].contains(gold[&i.key]);
                eprintln!(
                    "{} {:?} <- {:?}",
                    if ok { "ok " } else { "BAD" },
                    i.title,
                    e.title
                );
            }
        }
    }
    let precision = right as f64 / recalled.len().max(1) as f64;
    let recall = right as f64 / positives.max(1) as f64;
    let updates = recalled.values().filter(|e| e.update).count();
    eprintln!(
        "follow-ups on real headlines: day 1 {} reports -> {} stories sent; day 2 {} reports, {} of stories sent on day 1; recalled {} ({} right: precision {precision:.3}, recall {recall:.3}); {updates} counted as updates; recall took {} ms",
        day1.len(),
        sent.len(),
        day2.len(),
        positives,
        recalled.len(),
        right,
        elapsed.as_millis()
    );
    assert!(
        precision >= MIN_FOLLOWUP_PRECISION,
        "precision {precision:.3}"
    );
    assert!(recall >= MIN_FOLLOWUP_RECALL, "recall {recall:.3}");
}

/// Automatic topics on real headlines: the 522 UCI headlines of the subset (titles only, 104
/// publishers), no topic configured, eight automatic topics. Prints each label with its
/// stories' UCI categories; every topic spans two publishers, no label word is a stop word
/// or a figure, and most stories of a topic are of one category (purity, guarded).
#[test]
fn automatic_topics_on_real_headlines_hold_one_kind_of_story() {
    use tidings::group::{self, GroupSettings};
    let rows = headlines("subset");
    let items: Vec<Item> = rows.iter().enumerate().map(|(n, h)| h.item(n)).collect();
    let settings = GroupSettings {
        lead_stories: 0,
        auto_topics: Some(8),
        ..GroupSettings::default()
    };
    let grouped = group::group_with(&items, &[], &[], &settings);
    let row = |k: &ItemKey| -> &Headline {
        let n: usize = k.0.rsplit('#').next().unwrap().parse().unwrap();
        &rows[n]
    };
    let stop = stop_words::get("en");
    let (mut placed, mut majority, mut topics) = (0, 0, 0);
    for g in grouped
        .groups
        .iter()
        .filter(|g| g.stories[0].topic_reason.starts_with("automatic topic"))
    {
        topics += 1;
        let mut kinds: HashMap<&str, usize> = HashMap::new();
        let mut publishers: Vec<&str> = Vec::new();
        for k in g.stories.iter().flat_map(|s| &s.items) {
            let h = row(k);
            *kinds.entry(h.topic.as_str()).or_default() += 1;
            if !publishers.contains(&h.source.as_str()) {
                publishers.push(&h.source);
            }
        }
        let n: usize = kinds.values().sum();
        placed += n;
        majority += kinds.values().max().unwrap();
        println!(
            "{} ({} reports, {} publishers): {kinds:?}",
            g.topic,
            n,
            publishers.len()
        );
        assert!(publishers.len() >= 2, "{}: one publisher", g.topic);
        for w in g.topic.split([' ', '·']).filter(|w| !w.is_empty()) {
            assert!(
                !stop.contains(&w.to_lowercase().as_str())
                    && !w.chars().any(|c| c.is_ascii_digit()),
                "{}: `{w}`",
                g.topic
            );
        }
    }
    let purity = majority as f64 / placed.max(1) as f64;
    println!("{topics} automatic topics, {placed} reports, purity {purity:.3}");
    assert!(topics >= 4, "{topics} automatic topics");
    assert!(purity >= MIN_AUTO_PURITY, "purity {purity:.3}");
}

const MIN_AUTO_PURITY: f64 = 0.8;
