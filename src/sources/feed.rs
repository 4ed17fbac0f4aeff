//! Feed bytes (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to [`Item`]s.

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::html::{truncate_words, Sanitizer};
use crate::links::Cleaner;
use crate::model::{Item, ItemKey, SourceKey};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedError {
    #[error("the response is an HTML page, not a feed")]
    HtmlPage,
    #[error("the response is empty")]
    Empty,
    #[error("malformed feed{}: {message}", .at.map(|(l, c)| format!(" at line {l}, column {c}")).unwrap_or_default())]
    Malformed {
        message: String,
        /// Line and column of the XML error, when the XML reader can say.
        at: Option<(usize, usize)>,
    },
}

/// feed-rs says what is wrong but not where: for XML, the reader is run again to find the
/// line and column, and its message (shorter than feed-rs' chain) is the one shown.
fn malformed(bytes: &[u8], e: &feed_rs::parser::ParseFeedError) -> FeedError {
    let start = bytes
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(bytes)
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    if !matches!(start, Some(b'<') | Some(b'{')) {
        return FeedError::Malformed {
            message: "neither XML nor JSON".into(),
            at: None,
        };
    }
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    // Bounded by the document: every event consumes input, and the loop ends at Eof or an error.
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => buf.clear(),
            Err(xml) => {
                let offset = usize::try_from(reader.error_position())
                    .unwrap_or(0)
                    .min(bytes.len());
                let before = &bytes[..offset];
                let line = before.iter().filter(|b| **b == b'\n').count() + 1;
                let line_start = before
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1);
                let column = String::from_utf8_lossy(&before[line_start..])
                    .chars()
                    .count()
                    + 1;
                return FeedError::Malformed {
                    message: xml.to_string(),
                    at: Some((line, column)),
                };
            }
        }
    }
    FeedError::Malformed {
        message: e.to_string(),
        at: None,
    }
}

/// What a parsed feed says about itself.
pub struct ParsedFeed {
    pub title: Option<String>,
    pub items: Vec<Item>,
}

pub struct FeedContext<'a> {
    pub source: &'a SourceKey,
    /// Name from config; when absent the feed's own title is used.
    pub name: Option<&'a str>,
    /// Fallback name when the feed has no title either.
    pub fallback_name: &'a str,
    pub topic: Option<&'a str>,
    pub cleaner: &'a Cleaner,
    pub sanitizer: &'a Sanitizer,
}

pub fn parse(bytes: &[u8], ctx: &FeedContext<'_>) -> Result<ParsedFeed, FeedError> {
    let head = sniff_start(bytes);
    if head.is_empty() {
        return Err(FeedError::Empty);
    }
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Err(FeedError::HtmlPage);
    }
    // An empty id means the entry had none: we apply our own identity chain below instead of
    // feed-rs' random UUIDs, which would make the same entry look new on every run.
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|_, _, _| String::new())
        .build();
    let feed = parser.parse(bytes).map_err(|e| malformed(bytes, &e))?;

    let title = feed.title.as_ref().map(text_of).filter(|t| !t.is_empty());
    let name = ctx
        .name
        .map(str::to_string)
        .or_else(|| title.clone())
        .unwrap_or_else(|| ctx.fallback_name.to_string());
    let items = feed
        .entries
        .iter()
        .map(|e| entry_to_item(e, ctx, &name))
        .collect();
    Ok(ParsedFeed { title, items })
}

fn entry_to_item(e: &feed_rs::model::Entry, ctx: &FeedContext<'_>, name: &str) -> Item {
    let link = entry_link(e).map(|l| ctx.cleaner.clean(l.trim()));
    let raw_summary = e
        .summary
        .as_ref()
        .map(summary_html)
        .or_else(|| e.content.as_ref().and_then(|c| c.body.clone()))
        .unwrap_or_default();
    let (summary_html, summary_text) = ctx.sanitizer.summarize(&raw_summary);
    let raw_title = e.title.as_ref().map(text_of);
    let title = choose_title(raw_title.as_deref(), &summary_text, link.as_deref());
    let published = choose_date(e.published, e.updated);
    let id = identity(&e.id, link.as_deref(), &title, &summary_text);
    Item {
        key: ItemKey(format!("{}#{}", ctx.source, id)),
        source: ctx.source.clone(),
        source_name: name.to_string(),
        title,
        url: link,
        summary_html,
        summary_text,
        published,
        topic_hint: ctx.topic.map(str::to_string),
        message_id: None,
        categories: categories(e),
        also: Vec::new(),
        tracker_host: None,
    }
}

/// The entry's categories as a reader would see them: the label when there is one, else the
/// term; trimmed, without blanks or repeats.
fn categories(e: &feed_rs::model::Entry) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &e.categories {
        let name = c.label.as_deref().unwrap_or(&c.term).trim();
        if !name.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            out.push(name.to_string());
        }
    }
    out
}

/// The entry's web page: the `alternate` link, else the first link that is not an enclosure.
fn entry_link(e: &feed_rs::model::Entry) -> Option<&str> {
    let usable = |l: &&feed_rs::model::Link| l.href.starts_with("http");
    e.links
        .iter()
        .filter(usable)
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| {
            e.links
                .iter()
                .filter(usable)
                .find(|l| l.rel.as_deref() != Some("enclosure"))
        })
        .map(|l| l.href.as_str())
}

/// title ← first words of the summary ← the URL ← "(untitled)".
pub fn choose_title(title: Option<&str>, summary_text: &str, url: Option<&str>) -> String {
    let folded = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(t) = title.map(folded).filter(|t| !t.is_empty()) {
        return t;
    }
    if !summary_text.trim().is_empty() {
        return truncate_words(&folded(summary_text), 80);
    }
    url.map(str::to_string)
        .unwrap_or_else(|| "(untitled)".to_string())
}

/// published ← updated. A date in the future is clamped to now, so a wrong clock upstream
/// cannot pin an item to the top of every digest.
pub fn choose_date(
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    published.or(updated).map(|d| d.min(Utc::now()))
}

/// guid ← cleaned URL ← hash of title and summary.
pub fn identity(guid: &str, url: Option<&str>, title: &str, summary: &str) -> String {
    if !guid.trim().is_empty() {
        return guid.trim().to_string();
    }
    if let Some(u) = url {
        return u.to_string();
    }
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0]);
    h.update(summary.as_bytes());
    format!("sha256:{:x}", h.finalize())
}

fn is_html(t: &feed_rs::model::Text) -> bool {
    t.content_type.subty().as_str().contains("html")
}

fn text_of(t: &feed_rs::model::Text) -> String {
    if is_html(t) {
        crate::html::html_to_text(&t.content)
    } else {
        t.content.trim().to_string()
    }
}

fn summary_html(t: &feed_rs::model::Text) -> String {
    if is_html(t) {
        t.content.clone()
    } else {
        crate::html::escape(&t.content)
    }
}

fn sniff_start(bytes: &[u8]) -> String {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start: Vec<u8> = start
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(64)
        .copied()
        .collect();
    String::from_utf8_lossy(&start).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_parse(bytes: &[u8]) -> Result<ParsedFeed, FeedError> {
        let cleaner = Cleaner::default();
        let sanitizer = Sanitizer::new(&cleaner);
        let source = SourceKey("feed:test".into());
        parse(
            bytes,
            &FeedContext {
                source: &source,
                name: None,
                fallback_name: "test",
                topic: Some("Tech"),
                cleaner: &cleaner,
                sanitizer: &sanitizer,
            },
        )
    }

    #[test]
    fn rss_items_are_cleaned_and_sanitized() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Ex</title>
          <item><title>One</title><link>https://e.org/1?utm_source=rss&amp;id=1</link><guid>g1</guid>
          <description>&lt;p&gt;Hi&lt;script&gt;x()&lt;/script&gt;&lt;img src="https://t.example/p.gif"&gt;&lt;/p&gt;</description>
          <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>
          <item><description>No title here but a summary</description></item>
        </channel></rss>"#;
        let f = ctx_parse(rss).unwrap();
        assert_eq!(f.title.as_deref(), Some("Ex"));
        assert_eq!(f.items.len(), 2);
        let a = &f.items[0];
        assert_eq!(a.url.as_deref(), Some("https://e.org/1?id=1"));
        assert_eq!(a.key.0, "feed:test#g1");
        assert_eq!(a.source_name, "Ex");
        assert!(
            !a.summary_html.contains("script") && !a.summary_html.contains("img"),
            "{}",
            a.summary_html
        );
        assert_eq!(a.topic_hint.as_deref(), Some("Tech"));
        assert_eq!(f.items[1].title, "No title here but a summary");
        assert!(f.items[1].key.0.starts_with("feed:test#sha256:"));
    }

    #[test]
    fn entry_categories_become_item_categories() {
        let rss = br#"<rss version="2.0"><channel><title>Ex</title><item><title>A</title>
          <category>Sports</category><category> sports </category><category></category>
          <category domain="x">Football</category></item></channel></rss>"#;
        assert_eq!(
            ctx_parse(rss).unwrap().items[0].categories,
            ["Sports", "Football"]
        );
    }

    #[test]
    fn identity_is_stable_without_guid_or_link() {
        let rss = br#"<rss version="2.0"><channel><title>Ex</title><item><description>Same</description></item></channel></rss>"#;
        assert_eq!(
            ctx_parse(rss).unwrap().items[0].key,
            ctx_parse(rss).unwrap().items[0].key
        );
    }

    #[test]
    fn non_feeds_are_named() {
        assert_eq!(
            ctx_parse(b"  <!DOCTYPE html><html><body>x</body></html>").err(),
            Some(FeedError::HtmlPage)
        );
        assert_eq!(ctx_parse(b"   ").err(), Some(FeedError::Empty));
        assert!(matches!(
            ctx_parse(b"<rss><channel><item><title>x</ti").err(),
            Some(FeedError::Malformed {
                at: Some((1, _)),
                ..
            })
        ));
    }

    #[test]
    fn future_dates_are_clamped() {
        let future = Utc::now() + chrono::Duration::days(400);
        assert!(choose_date(Some(future), None).unwrap() <= Utc::now());
    }
}
