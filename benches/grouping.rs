//! Merging + grouping cost for 1,000 and 5,000 items (`cargo bench --bench grouping`), and
//! the cost of memory across digests: 1,000 new items grouped against 10,000 stories sent
//! before, next to the same 1,000 grouped with no memory (the ratio is what the issue's "under
//! 50 ms more" is about). Items are synthetic news-like entries from 20 sources: stories
//! reported by one to four sources with reworded titles, drawn from a fixed vocabulary with a
//! fixed seed (a small vocabulary: every remembered story shares words with the new ones, the
//! worst case for the prefilter).

use chrono::{DateTime, Duration, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tidings::config::TopicConfig;
use tidings::group::{self, GroupSettings, SentStory};
use tidings::model::{Item, ItemKey, SourceKey};

const WORDS: &[&str] = &[
    "market", "shares", "profit", "election", "minister", "storm", "flood", "team", "season",
    "coach", "software", "network", "chip", "bank", "rates", "oil", "talks", "treaty", "border",
    "court", "ruling", "strike", "union", "vaccine", "trial", "rocket", "launch", "orbit",
    "climate", "glacier", "museum", "festival", "film", "record", "sales", "budget", "tax",
    "school", "police", "fire", "bridge", "council", "mayor", "startup", "data", "privacy",
];
const NAMES: &[&str] = &[
    "Arland", "Belmark", "Chivay", "Dorsen", "Ercis", "Falkner", "Garrow", "Hallam", "Istra",
    "Jorvik", "Kessel", "Lumen", "Marrow", "Norwick", "Oxlade", "Pellam", "Quarry", "Rusk",
];

/// A tiny deterministic generator so the benchmark input is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn items(n: usize) -> Vec<Item> {
    let mut rng = Lcg(42);
    let base: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut out = Vec::with_capacity(n);
    let mut story = 0;
    while out.len() < n {
        story += 1;
        let topic: Vec<&str> = (0..6).map(|_| WORDS[rng.next(WORDS.len())]).collect();
        let names = [NAMES[rng.next(NAMES.len())], NAMES[rng.next(NAMES.len())]];
        let hours = rng.next(24 * 7) as i64;
        for copy in 0..(1 + rng.next(4)).min(n - out.len()) {
            let source = format!("source-{}", (story * 7 + copy * 3) % 20);
            let pick = |rng: &mut Lcg| topic[rng.next(topic.len())];
            let title = format!(
                "{} {} {} in {}",
                pick(&mut rng),
                pick(&mut rng),
                pick(&mut rng),
                names[0]
            );
            let summary = format!(
                "{} and {} {} {} {} {} after {} {} the {}.",
                names[0],
                names[1],
                pick(&mut rng),
                pick(&mut rng),
                WORDS[rng.next(WORDS.len())],
                pick(&mut rng),
                story,
                pick(&mut rng),
                WORDS[rng.next(WORDS.len())]
            );
            out.push(Item {
                key: ItemKey(format!("feed:{source}#{story}-{copy}")),
                source: SourceKey(format!("feed:{source}")),
                source_name: source.clone(),
                title,
                url: Some(format!("https://{source}.example/{story}/{copy}")),
                summary_html: summary.clone(),
                summary_text: summary,
                published: Some(base + Duration::hours(hours + copy as i64)),
                topic_hint: None,
                section: None,
                message_id: None,
                categories: Vec::new(),
                also: Vec::new(),
                tracker_host: None,
                media: Vec::new(),
            });
        }
    }
    out
}

fn topics() -> Vec<TopicConfig> {
    let t = |name: &str, kw: &[&str]| TopicConfig {
        name: name.into(),
        keywords: kw.iter().map(|k| k.to_string()).collect(),
        exclude: vec![],
    };
    vec![
        t("Business", &["market", "shares", "profit", "bank", "rates"]),
        t(
            "World",
            &["election", "minister", "talks", "treaty", "border"],
        ),
        t("Sports", &["team", "season", "coach"]),
        t("Technology", &["software", "network", "chip", "data"]),
    ]
}

fn bench(c: &mut Criterion) {
    let topics = topics();
    let settings = GroupSettings::default();
    let mut g = c.benchmark_group("merge+group");
    g.sample_size(10);
    for n in [1000, 5000] {
        let input = items(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| {
            b.iter(|| group::group_with(input, &topics, &[], &settings))
        });
    }
    g.finish();

    // 11,000 items: the first 10,000 as what earlier digests sent (their stories, a day or
    // more before), the last 1,000 as this run's.
    let all = items(11_000);
    let (earlier, new) = all.split_at(10_000);
    let sent: Vec<SentStory> = earlier
        .iter()
        .map(|i| SentStory {
            source: i.source.clone(),
            source_name: i.source_name.clone(),
            title: i.title.clone(),
            url: i.url.clone(),
            gist: group::memory::gist(&i.summary_text),
            published: i.published.map(|p| p - Duration::days(1)),
        })
        .collect();
    let mut g = c.benchmark_group("rank+memory");
    g.sample_size(10);
    g.bench_function("1000 new, no memory", |b| {
        b.iter(|| group::group_items(new.to_vec(), &topics, &[], &settings, &[]))
    });
    g.bench_function("1000 new, 10000 remembered", |b| {
        b.iter(|| group::group_items(new.to_vec(), &topics, &[], &settings, &sent))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
