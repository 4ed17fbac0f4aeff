//! Cleaning throughput on a fixed generated corpus of 10,000 newsletter-like URLs, next to
//! `url::Url::parse` alone on the same corpus (the ratio is the figure to watch).
//!
//! Run: `cargo bench --bench links`

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tidings::links::Cleaner;

const CORPUS_SIZE: usize = 10_000;

fn corpus() -> Vec<String> {
    let hosts = [
        "www.example.org",
        "news.example.com",
        "www.scmp.com",
        "github.com",
        "www.youtube.com",
        "blog.example.net",
        "www.nytimes.com",
        "substack.com",
    ];
    let paths = [
        "/2024/06/14/health/a-long-article-slug-about-things",
        "/p/weekly-issue-42",
        "/watch",
        "/rust-lang/rust/pull/12345",
        "/news/china/article/3170517/x",
        "/",
    ];
    let queries = [
        "",
        "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly",
        "?id=42&page=2",
        "?v=dQw4w9WgXcQ&si=AbCdEf&t=42",
        "?fbclid=IwAR0abcdef&ref=hn",
        "?q=a+b,c&mc_cid=1&mc_eid=2",
        "?tpcc=enlz&UUID=6d7f3ce4&tc=5",
    ];
    let mut state: u64 = 7;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    (0..CORPUS_SIZE)
        .map(|i| {
            let h = hosts[next() % hosts.len()];
            let p = paths[next() % paths.len()];
            let q = queries[next() % queries.len()];
            if i % 50 == 0 {
                format!("https://www.google.com/url?q=https%3A%2F%2F{h}{p}&sa=D")
            } else {
                format!("https://{h}{p}{q}")
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let urls = corpus();
    let cleaner = Cleaner::default();
    let mut g = c.benchmark_group("links");
    g.sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    g.bench_function("url_parse_10k", |b| {
        b.iter(|| {
            for u in &urls {
                black_box(url::Url::parse(black_box(u)).ok());
            }
        })
    });
    g.bench_function("clean_10k", |b| {
        b.iter(|| {
            for u in &urls {
                black_box(cleaner.clean(black_box(u)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
