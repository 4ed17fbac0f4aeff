//! The size budget: a digest far over `[digest] max_bytes` is cut to fit, lowest-ranked
//! stories first, and the digest left behind says exactly what the mail shows.

use chrono::{DateTime, Utc};
use tidings::model::{Digest, Story, StorySource, TopicGroup};
use tidings::render::Renderer;

const TOPICS: [&str; 5] = ["Technology", "Science", "Politics", "Culture", "Other"];

fn story(topic: usize, rank: usize) -> Story {
    let summary = format!(
        "Story {rank} of topic {topic}: {}",
        "a sentence long enough to look like a real summary of a real story. ".repeat(4)
    );
    Story {
        title: format!("{} story number {rank}", TOPICS[topic]),
        url: Some(format!("https://news.example/{topic}/{rank}")),
        summary_html: format!("<p>{summary}</p>"),
        summary,
        published: None,
        sources: vec![StorySource {
            name: format!("Source {}", rank % 37),
            url: None,
        }],
        media: None,
        items: vec![],
        message_ids: vec![],
        topic_reason: String::new(),
        merged: vec![],
        ..Default::default()
    }
}

fn digest(stories: usize) -> Digest {
    Digest {
        title: "Budget".into(),
        generated_at: DateTime::parse_from_rfc3339("2026-11-28T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        groups: (0..TOPICS.len())
            .map(|t| TopicGroup {
                topic: TOPICS[t].into(),
                stories: (0..stories / TOPICS.len()).map(|r| story(t, r)).collect(),
                more: 2,
                collapsed: vec![],
                ..Default::default()
            })
            .collect(),
        errors: vec![],
        attention: vec![],
        muted: vec![],
        links_withheld: 0,
        links_resolving: false,
        explain: None,
        ..Default::default()
    }
}

#[test]
fn five_hundred_stories_fit_in_max_bytes_with_honest_counts() {
    let max = 100_000;
    let mut d = digest(500);
    let r = Renderer::new(None).unwrap();
    let unbudgeted = r.render(&d).unwrap().html.len();
    assert!(
        unbudgeted > 2 * max,
        "the fixture must be over budget: {unbudgeted}"
    );
    let (out, fitted) = r.render_within(&mut d, max).unwrap();
    assert!(out.html.len() <= max, "{} > {max}", out.html.len());
    assert!(fitted.collapsed > 0, "{fitted:?}");
    let full: usize = d.groups.iter().map(|g| g.stories.len()).sum();
    let collapsed: usize = d.groups.iter().map(|g| g.collapsed.len()).sum();
    assert_eq!(collapsed, fitted.collapsed);
    assert_eq!(full + collapsed + fitted.left_out, 500);
    assert_eq!(d.story_count(), 500 - fitted.left_out);
    assert_eq!(d.stories().count(), d.story_count(), "recorded = shown");
    for g in &d.groups {
        // The caps' 2 and what the budget left out.
        assert_eq!(g.stories.len() + g.collapsed.len() + g.more, 100 + 2);
        // Rank order kept: full stories first, then titles, then what is left out.
        for (i, s) in g.stories.iter().chain(&g.collapsed).enumerate() {
            assert!(s.title.ends_with(&format!("number {i}")), "{}", s.title);
        }
        for s in &g.collapsed {
            assert!(out.html.contains(&s.url.clone().unwrap()));
        }
        assert!(
            out.html.contains(&format!(
                "+{} more in {} (in a later digest)",
                g.more, g.topic
            )),
            "{}",
            g.topic
        );
    }
    assert!(out.text.contains(&format!("{} stories", d.story_count())));
    assert!(out
        .subject
        .ends_with(&format!("({} stories)", d.story_count())));
}

#[test]
fn tight_budget_leaves_stories_out_and_generous_budget_changes_nothing() {
    let r = Renderer::new(None).unwrap();
    let mut d = digest(500);
    let (out, fitted) = r.render_within(&mut d, 20_000).unwrap();
    assert!(out.html.len() <= 20_000, "{}", out.html.len());
    assert!(fitted.left_out > 0, "{fitted:?}");
    assert_eq!(d.story_count() + fitted.left_out, 500);

    let mut small = digest(10);
    let before = r.render(&small).unwrap().html;
    let (out, fitted) = r.render_within(&mut small, 100_000).unwrap();
    assert_eq!(fitted, Default::default());
    assert_eq!(out.html, before);
    assert_eq!(small.story_count(), 10);
}
