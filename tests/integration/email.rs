//! The digest as a mail client sees it: the MIME structure parsed back with mail-parser, and
//! the HTML part checked for what mail clients refuse or mangle.

use chrono::{DateTime, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use tidings::config::{DeliveryConfig, Transport};
use tidings::model::{Attention, Digest, SourceError, Story, StorySource, TopicGroup};
use tidings::render::Renderer;

fn story(title: &str, url: &str, summary_html: &str) -> Story {
    Story {
        title: title.into(),
        url: Some(url.into()),
        summary: "A summary.".into(),
        summary_html: summary_html.into(),
        published: Some(at("2026-11-27T18:30:00Z")),
        sources: vec![StorySource {
            name: "Feed A".into(),
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

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Five topics (so there is a table of contents), a collapsed story, an error, an attention item.
fn fixture() -> Digest {
    let topics = ["Technology", "Science", "Économie", "Culture", "Other"];
    Digest {
        title: "Morgenpost — Überblick".into(),
        generated_at: at("2026-11-28T06:00:00Z"),
        groups: topics
            .iter()
            .enumerate()
            .map(|(i, t)| TopicGroup {
                topic: (*t).into(),
                stories: vec![story(
                    &format!("Story {i} <b>not bold</b>"),
                    &format!("https://news.example/{i}?a=1&b=2"),
                    "<p>Summary with a <a href=\"https://link.example/x\">link</a>.</p>",
                )],
                more: i,
                collapsed: vec![story(
                    &format!("Title only {i}"),
                    &format!("https://t.example/{i}"),
                    "",
                )],
                ..Default::default()
            })
            .collect(),
        errors: vec![SourceError {
            source: "Broken Feed".into(),
            message: "not a valid feed".into(),
        }],
        attention: vec![Attention {
            source: "Harbour Notes".into(),
            subject: "Confirm your subscription".into(),
            url: Some("https://harbour.example/confirm?t=1".into()),
            message_id: "<c@x>".into(),
        }],
        muted: vec![],
        links_withheld: 0,
        links_resolving: false,
        explain: None,
        ..Default::default()
    }
}

fn delivery() -> DeliveryConfig {
    DeliveryConfig {
        from: "Tidings <digest@example.org>".into(),
        to: vec!["me@example.org".into()],
        transport: Transport::Sendmail { command: None },
        list_id: None,
    }
}

#[test]
fn mime_structure_parses_back_text_first_with_list_headers() {
    let d = fixture();
    let r = Renderer::new(None)
        .unwrap()
        .zone(chrono_tz::Europe::Berlin)
        .render(&d)
        .unwrap();
    let out = tidings::deliver::build(&delivery(), &r, d.generated_at).unwrap();
    let raw = out.formatted();
    let head = String::from_utf8_lossy(&raw[..raw.len().min(2000)]).to_string();
    let subject_line = head
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or_default();
    assert!(
        subject_line.contains("=?utf-8?"),
        "RFC 2047 encoded: {head}"
    );
    let msg = MessageParser::default().parse(&raw[..]).expect("parses");
    assert_eq!(
        msg.subject(),
        Some("Morgenpost — Überblick — 28 Nov 2026 (10 stories)")
    );
    assert!(msg.date().is_some());
    assert_eq!(
        msg.message_id(),
        Some(&out.message_id[1..out.message_id.len() - 1])
    );
    let ct = msg.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(msg.text_body.len(), 1);
    assert_eq!(msg.html_body.len(), 1);
    let first = msg.parts.get(1).unwrap().content_type().unwrap();
    assert_eq!(first.subtype(), Some("plain"), "text part comes first");
    assert!(msg
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n")
        .contains("Économie\n========"));
    assert!(msg.body_html(0).unwrap().contains("Title only 3"));
    let header = |name: &str| {
        msg.header_raw(name)
            .unwrap_or_else(|| panic!("{name} missing: {head}"))
            .trim()
            .to_string()
    };
    assert_eq!(header("Auto-Submitted"), "auto-generated");
    assert_eq!(
        header("List-Id"),
        "Morgenpost  berblick <digest.tidings.example.org>"
    );
    // Two builds never share a Message-ID.
    let again = tidings::deliver::build(&delivery(), &r, d.generated_at).unwrap();
    assert_ne!(again.message_id, out.message_id);
}

#[test]
fn html_part_is_safe_for_mail_clients() {
    let d = fixture();
    let r = Renderer::new(None).unwrap().render(&d).unwrap();
    let doc = scraper::Html::parse_document(&r.html);
    // Well-formed enough: every container the layout uses is closed.
    for tag in [
        "table", "tr", "td", "div", "ul", "li", "h1", "h2", "h3", "p", "a", "nav",
    ] {
        let open = r.html.matches(&format!("<{tag} ")).count()
            + r.html.matches(&format!("<{tag}>")).count();
        let close = r.html.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open} times, closed {close}");
    }
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    assert_eq!(doc.select(&sel("script")).count(), 0);
    assert_eq!(
        doc.select(&sel("[src]")).count(),
        0,
        "no remote images or frames"
    );
    assert_eq!(
        doc.select(&sel("link")).count(),
        0,
        "no external stylesheets or fonts"
    );
    assert_eq!(doc.select(&sel("html[lang]")).count(), 1);
    let ids: Vec<&str> = doc
        .select(&sel("[id]"))
        .filter_map(|e| e.value().attr("id"))
        .collect();
    let links: Vec<_> = doc.select(&sel("a")).collect();
    assert!(links.len() >= 20, "{}", links.len());
    for a in links {
        let href = a.value().attr("href").expect("every <a> has an href");
        match href.strip_prefix('#') {
            Some(id) => assert!(ids.contains(&id), "dangling anchor {href}"),
            None => {
                let u = url::Url::parse(href).unwrap_or_else(|e| panic!("{href}: {e}"));
                assert!(matches!(u.scheme(), "http" | "https"), "{href}");
            }
        }
        let text: String = a.text().collect();
        assert!(!text.trim().is_empty(), "link text for {href}");
    }
    // Headings go h1 → h2 → h3 without skipping a level.
    let mut last = 0;
    for h in doc.select(&sel("h1, h2, h3, h4, h5, h6")) {
        let level: usize = h.value().name()[1..].parse().unwrap();
        assert!(level <= last + 1, "h{level} after h{last}");
        last = level;
    }
    // Every style is inline except the media queries.
    let style: String = doc.select(&sel("style")).flat_map(|s| s.text()).collect();
    let outside_media = style.split("@media").next().unwrap_or_default();
    assert!(outside_media.trim().is_empty(), "{outside_media}");
    // … and the stylesheet's rules reached the elements (css-inline at render time).
    for e in doc.select(&sel("body, h1, h2, a, [class]")) {
        let style = e.value().attr("style").unwrap_or_default();
        assert!(
            style.contains(':'),
            "<{} class={:?}> has no inlined style",
            e.value().name(),
            e.value().attr("class")
        );
    }
}

#[test]
fn fixture_digest_snapshots() {
    let d = fixture();
    let next = Some(at("2026-11-29T06:00:00Z"));
    let r = Renderer::new(None)
        .unwrap()
        .zone(chrono_tz::Europe::Berlin)
        .next_digest(next)
        .render(&d)
        .unwrap();
    assert!(r
        .text
        .contains("Next digest: Sunday, 29 November 2026, 07:00 CET"));
    insta::assert_snapshot!("digest_subject", r.subject);
    insta::assert_snapshot!("digest_text", r.text);
    insta::assert_snapshot!("digest_html", r.html);
}

/// `[digest] language = "de"`: dates, the overview, headings, "more" lines and the footer are
/// German in both parts, and the HTML says `lang="de"`. The same fixture as above; with
/// muted stories and withheld links so those lines show too.
#[test]
fn a_german_digest_has_german_dates_headings_and_footer() {
    let mut d = fixture();
    d.links_withheld = 2;
    d.lead_title = tidings::locale::Strings::builtin("de")
        .unwrap()
        .text("top_stories", None, &[]);
    d.lead = vec![story(
        "Leitartikel",
        "https://news.example/lead",
        "<p>Zuerst.</p>",
    )];
    let strings = std::sync::Arc::new(tidings::locale::Strings::builtin("de").unwrap());
    let r = Renderer::new(None)
        .unwrap()
        .zone(chrono_tz::Europe::Berlin)
        .strings(strings)
        .next_digest(Some(at("2026-11-29T06:00:00Z")))
        .render(&d)
        .unwrap();
    for german in [
        "Samstag, 28. November 2026",
        "Bitte ansehen",
        "Das Wichtigste",
        "Nächster Digest: Sonntag, 29. November 2026, 07:00 CET",
        "Quellen mit Problemen in diesem Lauf:",
        "Erstellt von tidings am Samstag, 28. November 2026 um 07:00 CET.",
        "Weiteres",
        "2 Links weggelassen",
    ] {
        assert!(
            r.text.contains(german),
            "text lacks {german:?}:\n{}",
            r.text
        );
        assert!(r.html.contains(german), "html lacks {german:?}");
    }
    assert!(r.html.contains("<html lang=\"de\">"), "{}", &r.html[..200]);
    for english in [
        "Needs your attention",
        "Next digest",
        "Made by",
        "stories",
        "Other\n",
    ] {
        assert!(
            !r.text.contains(english),
            "English left: {english:?}\n{}",
            r.text
        );
    }
    insta::assert_snapshot!("digest_subject_de", r.subject);
    insta::assert_snapshot!("digest_text_de", r.text);
}
