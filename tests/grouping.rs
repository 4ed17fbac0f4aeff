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
