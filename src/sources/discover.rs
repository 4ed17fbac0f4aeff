//! What a URL given to `feeds add` is: a feed is taken as it is, an HTML page is searched for
//! its `<link rel="alternate">` feed, anything else is refused with the reason.

use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::model::SourceKey;
use crate::sources::feed::{self, FeedContext, FeedError, Origin};
use crate::sources::http::{Fetched, Fetcher, Validators};

/// `type` values of a `<link rel="alternate">` that names a feed.
const FEED_LINK_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
];

/// How far into a response to look for signs of an HTML page.
const HTML_SNIFF_BYTES: usize = 2048;

/// Why `feeds add` refused a URL after fetching it.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("cannot fetch `{url}`: {reason}")]
    Fetch { url: String, reason: String },
    #[error("`{url}` is not a feed: {reason}")]
    NotAFeed { url: String, reason: String },
    #[error("`{url}` is an HTML page that names no feed (it has no <link rel=\"alternate\"> of type RSS, Atom or JSON Feed); give the feed's own URL")]
    NoFeedLink { url: String },
    #[error("`{page}` names `{url}` as its feed, but {reason}")]
    LinkedFeedBroken {
        page: String,
        url: String,
        reason: String,
    },
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

/// What [`discover`] found: the feed's URL (the given one, or the one an HTML page named) and
/// the feed's own title.
#[derive(Debug, Clone)]
pub(crate) struct Discovered {
    pub url: url::Url,
    /// The HTML page the feed was found on, when the given URL was a page.
    pub page: Option<url::Url>,
    pub title: Option<String>,
    pub entries: usize,
}

/// Fetches `url` and makes sure it is a feed. An HTML page is searched for the feed it names
/// (`<link rel="alternate" type="application/rss+xml" href=...>`, Atom and JSON Feed too), and
/// that feed is fetched and checked in turn.
pub(crate) async fn discover(
    fetcher: &Fetcher,
    cleaner: &Cleaner,
    url: &url::Url,
) -> Result<Discovered, DiscoverError> {
    let (bytes, origin) = get(fetcher, url).await?;
    let reason = match read_feed(&bytes, cleaner, url, &origin) {
        Ok((title, entries)) => {
            return Ok(Discovered {
                url: url.clone(),
                page: None,
                title,
                entries,
            })
        }
        Err(e) if looks_like_html(&bytes, &e) => e,
        Err(e) => {
            return Err(DiscoverError::NotAFeed {
                url: url.to_string(),
                reason: e.to_string(),
            })
        }
    };
    tracing::debug!(url = %url, %reason, "an HTML page: looking for its feed link");
    let Some(feed_url) = feed_link(&String::from_utf8_lossy(&bytes), url) else {
        return Err(DiscoverError::NoFeedLink {
            url: url.to_string(),
        });
    };
    let broken = |reason: String| DiscoverError::LinkedFeedBroken {
        page: url.to_string(),
        url: feed_url.to_string(),
        reason,
    };
    let (bytes, origin) = match get(fetcher, &feed_url).await {
        Ok(b) => b,
        Err(DiscoverError::Fetch { reason, .. }) => {
            return Err(broken(format!("it cannot be fetched: {reason}")))
        }
        Err(e) => return Err(e),
    };
    let (title, entries) = read_feed(&bytes, cleaner, &feed_url, &origin)
        .map_err(|e| broken(format!("it is not a feed: {e}")))?;
    Ok(Discovered {
        url: feed_url,
        page: Some(url.clone()),
        title,
        entries,
    })
}

async fn get(fetcher: &Fetcher, url: &url::Url) -> Result<(Vec<u8>, Origin), DiscoverError> {
    match fetcher.fetch(url, &Validators::default()).await {
        Ok(Fetched::Body { bytes, origin, .. }) => Ok((bytes, *origin)),
        Ok(Fetched::NotModified) => Err(DiscoverError::Fetch {
            url: url.to_string(),
            reason: "the server answered 304 Not Modified to a plain GET".into(),
        }),
        Err(e) => Err(DiscoverError::Fetch {
            url: url.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Parses feed bytes as `run` would; returns the feed's title and how many entries it has.
fn read_feed(
    bytes: &[u8],
    cleaner: &Cleaner,
    url: &url::Url,
    origin: &Origin,
) -> Result<(Option<String>, usize), FeedError> {
    let sanitizer = Sanitizer::new(cleaner);
    let source = SourceKey(format!("feed:{url}"));
    let ctx = FeedContext {
        source: &source,
        name: None,
        fallback_name: url.host_str().unwrap_or("feed"),
        topic: None,
        cleaner,
        sanitizer: &sanitizer,
        origin,
    };
    feed::parse(bytes, &ctx).map(|p| (p.title, p.items.len()))
}

/// The feed parser says "HTML page" only for a page that starts with `<!doctype html>` or
/// `<html>`; a page that starts with a comment or a bare `<head>` comes back as malformed XML.
fn looks_like_html(bytes: &[u8], e: &FeedError) -> bool {
    match e {
        FeedError::HtmlPage => true,
        FeedError::NotAFeed { root } => {
            root.eq_ignore_ascii_case("html") || root.eq_ignore_ascii_case("head")
        }
        FeedError::Malformed { .. } => {
            let head = &bytes[..bytes.len().min(HTML_SNIFF_BYTES)];
            let head = String::from_utf8_lossy(head).to_ascii_lowercase();
            head.contains("<html") || head.contains("<head") || head.contains("<!doctype html")
        }
        FeedError::Empty => false,
    }
}

/// The first feed an HTML page names with `<link rel="alternate" type=... href=...>`, resolved
/// against the page's `<base href>` or its URL. Only http(s) results count.
pub(crate) fn feed_link(html: &str, page: &url::Url) -> Option<url::Url> {
    let doc = scraper::Html::parse_document(html);
    let base_sel = scraper::Selector::parse("base[href]").ok()?;
    let link_sel = scraper::Selector::parse("link[href]").ok()?;
    let base = doc
        .select(&base_sel)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone());
    doc.select(&link_sel).find_map(|el| {
        let el = el.value();
        let alternate = el.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case("alternate"))
        });
        let kind = el
            .attr("type")
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if !alternate || !FEED_LINK_TYPES.contains(&kind.as_str()) {
            return None;
        }
        let href = el.attr("href")?.trim();
        base.join(href)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    })
}

#[cfg(test)]
mod tests {
    use super::feed_link;

    #[test]
    fn feed_link_finds_the_alternate_feed_and_resolves_it() {
        let page = url::Url::parse("https://example.org/blog/post.html").unwrap();
        let cases = [
            (
                r#"<html><head><link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" href="feed.xml"></head></html>"#,
                Some("https://example.org/blog/feed.xml"),
            ),
            (
                r#"<html><head><link rel="Alternate home" type="Application/Atom+XML; charset=utf-8" href="/atom"></head></html>"#,
                Some("https://example.org/atom"),
            ),
            (
                r#"<html><head><base href="https://cdn.example.net/x/"><link rel="alternate" type="application/feed+json" href="feed.json"></head></html>"#,
                Some("https://cdn.example.net/x/feed.json"),
            ),
            // An alternate that is not a feed (a translation), and a feed type with no rel.
            (
                r#"<html><head><link rel="alternate" hreflang="de" href="/de/"><link type="application/rss+xml" href="/rss"></head></html>"#,
                None,
            ),
            (
                r#"<html><head><link rel="alternate" type="application/rss+xml" href="javascript:alert(1)"></head></html>"#,
                None,
            ),
        ];
        for (html, want) in cases {
            assert_eq!(
                feed_link(html, &page).map(|u| u.to_string()).as_deref(),
                want,
                "{html}"
            );
        }
    }
}
