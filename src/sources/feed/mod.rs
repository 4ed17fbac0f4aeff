//! Feed bytes (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to [`Item`]s.

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::html::{truncate_words, Sanitizer};
use crate::links::Cleaner;
use crate::model::{Item, ItemKey, Media, SourceKey};

mod decode;
mod normalize;

/// The category a YouTube Short is given, so a filter can mute Shorts.
pub const SHORT_CATEGORY: &str = "YouTube Short";

pub use decode::charset_param;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedError {
    #[error("the response is an HTML page, not a feed")]
    HtmlPage,
    #[error("the response is empty")]
    Empty,
    #[error("the document is XML with the root element <{root}>, not a feed (RSS, RDF or Atom)")]
    NotAFeed { root: String },
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
                let (line, column) = crate::config::line_col(bytes, offset);
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
    /// The feed's web site (its `alternate` link, resolved), else the feed's own URL.
    pub site: Option<String>,
    pub items: Vec<Item>,
    /// What was repaired to read an ill-formed document ("read up to line 9 (…)").
    pub repaired: Option<String>,
}

/// Where a feed's bytes came from, as the transport told it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The URL the body was finally read from (after redirects): the last base for relative
    /// links.
    pub url: Option<url::Url>,
    /// The HTTP `Content-Type`: its charset outranks the XML declaration (RFC 7303 §3).
    pub content_type: Option<String>,
    /// The HTTP `Content-Location`: a base for relative links before the document URL.
    pub content_location: Option<String>,
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
    pub origin: &'a Origin,
}

pub fn parse(bytes: &[u8], ctx: &FeedContext<'_>) -> Result<ParsedFeed, FeedError> {
    let decoded = decode::decode(bytes, ctx.origin.content_type.as_deref());
    tracing::trace!(feed = %ctx.source, charset = decoded.charset, "decoded");
    let text = decoded.text.trim_start_matches('\u{feff}').trim_start();
    if text.is_empty() {
        return Err(FeedError::Empty);
    }
    let head: String = text
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Err(FeedError::HtmlPage);
    }
    let base = base_url(ctx.origin);
    // An empty id means the entry had none: we apply our own identity chain below instead of
    // feed-rs' random UUIDs, which would make the same entry look new on every run.
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|_, _, _| String::new())
        .base_uri(base.as_ref().map(url::Url::as_str))
        .build();
    let (feed, facts, repaired) =
        if text.starts_with('{') || text.starts_with('[') || text == "null" {
            let json = json_feed(text)?;
            let feed = parser
                .parse(json.as_bytes())
                .map_err(|e| malformed(json.as_bytes(), &e))?;
            (feed, Vec::new(), None)
        } else if text.starts_with('<') {
            let prepared = normalize::prepare(text);
            match parser.parse(prepared.xml.as_bytes()) {
                Ok(feed) => {
                    let mut entries = prepared.entries;
                    if prepared.last_entry_cut {
                        // Marks the incomplete entry, dropped below once lined up with feed-rs'.
                        entries.push(normalize::EntryFacts::default());
                    }
                    (feed, entries, prepared.repaired)
                }
                Err(e) => return Err(not_read(text.as_bytes(), &prepared, &e)),
            }
        } else {
            return Err(FeedError::Malformed {
                message: "neither XML nor JSON".into(),
                at: None,
            });
        };
    if let Some(r) = &repaired {
        tracing::debug!(feed = %ctx.source, repaired = %r, "feed repaired before parsing");
    }
    let markup = markup_in_plain(&feed);
    let title = feed
        .title
        .as_ref()
        .map(|t| text_of(t, markup))
        .filter(|t| !t.is_empty());
    let name = ctx
        .name
        .map(str::to_string)
        .or_else(|| title.clone())
        .unwrap_or_else(|| ctx.fallback_name.to_string());
    // Facts line up with entries only when both saw the same entries; an entry the
    // document broke off in (marked by one fact too many) is not shown.
    let mut entries: &[feed_rs::model::Entry] = &feed.entries;
    let mut facts = facts;
    if repaired.is_some() && facts.len() == entries.len() + 1 {
        facts.pop();
        entries = &entries[..entries.len().saturating_sub(1)];
    }
    let facts = (facts.len() == entries.len()).then_some(facts);
    let site = feed
        .links
        .iter()
        .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .find_map(|l| {
            let href = l.href.trim();
            match &base {
                Some(b) => b.join(href).ok(),
                None => url::Url::parse(href).ok(),
            }
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        })
        .or_else(|| ctx.origin.url.clone())
        .map(|u| ctx.cleaner.clean(u.as_str()));
    let entry = Entry {
        ctx,
        name: &name,
        base: base.as_ref(),
        markup_in_plain: markup,
    };
    let mut items: Vec<Item> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| entry.item(e, facts.as_ref().and_then(|f| f.get(i))))
        .collect();
    keep_every_entry(&mut items);
    Ok(ParsedFeed {
        title,
        site,
        items,
        repaired,
    })
}

/// What relative links resolve against: `Content-Location` (itself relative to the
/// document), else the document's URL. `xml:base` inside the document goes on from there
/// (feed-rs follows it).
fn base_url(origin: &Origin) -> Option<url::Url> {
    let doc = origin.url.as_ref();
    origin
        .content_location
        .as_deref()
        .and_then(|l| match doc {
            Some(d) => d.join(l.trim()).ok(),
            None => url::Url::parse(l.trim()).ok(),
        })
        .or_else(|| doc.cloned())
}

/// Why feed-rs could not read a prepared document, in a reader's words.
fn not_read(
    original: &[u8],
    prepared: &normalize::Prepared,
    e: &feed_rs::parser::ParseFeedError,
) -> FeedError {
    let feed_root = |root: &str| {
        let root = root.to_ascii_lowercase();
        ["rss", "rdf", "feed", "entry"]
            .iter()
            .any(|r| root.starts_with(r))
    };
    match prepared.root.as_deref() {
        Some(root) if !feed_root(root) => FeedError::NotAFeed {
            root: root.to_string(),
        },
        _ => match &prepared.repaired {
            Some(r) => FeedError::Malformed {
                message: format!("{r}, and what was read is not a feed ({e})"),
                at: None,
            },
            None => malformed(original, e),
        },
    }
}

/// A JSON Feed as feed-rs reads it: a missing `title` is empty, an `authors` object is a
/// list of one, numeric ids are strings, blank or null fields are absent (so a blank
/// `summary` does not hide the content).
fn json_feed(text: &str) -> Result<String, FeedError> {
    let bad = |message: String| FeedError::Malformed { message, at: None };
    let mut v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("JSON: {e}")))?;
    let Some(feed) = v.as_object_mut() else {
        return Err(bad("JSON, but not a JSON Feed object".into()));
    };
    if !feed.get("title").is_some_and(serde_json::Value::is_string) {
        feed.insert("title".into(), "".into());
    }
    fix_authors(feed);
    if let Some(items) = feed
        .get_mut("items")
        .and_then(serde_json::Value::as_array_mut)
    {
        for item in items
            .iter_mut()
            .filter_map(serde_json::Value::as_object_mut)
        {
            fix_authors(item);
            if let Some(n) = item
                .get("id")
                .filter(|i| i.is_number())
                .map(ToString::to_string)
            {
                item.insert("id".into(), n.into());
            }
            for key in [
                "summary",
                "title",
                "content_text",
                "content_html",
                "url",
                "external_url",
            ] {
                let blank = match item.get(key) {
                    Some(serde_json::Value::String(s)) => s.trim().is_empty(),
                    Some(serde_json::Value::Null) => true,
                    Some(_) => true,
                    None => false,
                };
                if blank {
                    item.remove(key);
                }
            }
        }
    }
    Ok(v.to_string())
}

fn fix_authors(obj: &mut serde_json::Map<String, serde_json::Value>) {
    if let Some(a) = obj.get("authors").filter(|a| a.is_object()).cloned() {
        obj.insert("authors".into(), serde_json::Value::Array(vec![a]));
    }
    if obj.get("authors").is_some_and(|a| !a.is_array()) {
        obj.remove("authors");
    }
    if obj.get("author").is_some_and(|a| !a.is_object()) {
        obj.remove("author");
    }
}

/// RSS titles are plain text by the spec and HTML in practice (`AT&amp;T` in CDATA,
/// `Jenny&#8217;s`, `<b>new</b>`): readers read markup in them, and so do we. Atom says
/// what its text is, and JSON Feed titles are plain.
fn markup_in_plain(feed: &feed_rs::model::Feed) -> bool {
    use feed_rs::model::FeedType;
    matches!(
        feed.feed_type,
        FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2
    )
}

/// Entries that share a GUID are still different entries when their link or title differs
/// (feeds reuse GUIDs by mistake): each gets a key of its own. A true repeat is dropped.
fn keep_every_entry(items: &mut Vec<Item>) {
    let mut seen: std::collections::HashMap<String, (String, Option<String>)> =
        std::collections::HashMap::new();
    items.retain_mut(|item| match seen.get(&item.key.0) {
        None => {
            seen.insert(item.key.0.clone(), (item.title.clone(), item.url.clone()));
            true
        }
        Some((title, url)) if *title == item.title && *url == item.url => false,
        Some(_) => {
            let mut h = Sha256::new();
            h.update(item.title.as_bytes());
            h.update([0]);
            h.update(item.url.as_deref().unwrap_or("").as_bytes());
            let digest = format!("{:x}", h.finalize());
            item.key.0 = format!("{}~{}", item.key.0, &digest[..12]);
            // The same title and link again under that GUID: a repeat after all.
            seen.insert(item.key.0.clone(), (item.title.clone(), item.url.clone()))
                .is_none()
        }
    });
}

/// What every entry of one feed is read with.
struct Entry<'a> {
    ctx: &'a FeedContext<'a>,
    name: &'a str,
    base: Option<&'a url::Url>,
    markup_in_plain: bool,
}

impl Entry<'_> {
    /// A link resolved against the document's base; only http(s) links count.
    fn resolve_url(&self, link: &str) -> Option<url::Url> {
        let link = link.trim();
        let url = match self.base {
            Some(b) => b.join(link).ok()?,
            None => url::Url::parse(link).ok()?,
        };
        matches!(url.scheme(), "http" | "https").then_some(url)
    }

    fn item(&self, e: &feed_rs::model::Entry, facts: Option<&normalize::EntryFacts>) -> Item {
        let ctx = self.ctx;
        // feedburner:origLink is the article itself (the `<link>` is FeedBurner's redirect);
        // a permalink GUID stands in for a missing link, as RSS 2.0 says it may.
        // Then an Atom `<id>` that is a web address.
        // Links are cleaned as parsed here: cleaning does not parse them a second time.
        let resolved = facts
            .and_then(|f| f.orig_link.as_deref())
            .and_then(|l| self.resolve_url(l))
            .or_else(|| entry_links(e).find_map(|l| self.resolve_url(l)))
            .or_else(|| {
                facts
                    .and_then(|f| f.atom_link.as_deref())
                    .and_then(|l| self.resolve_url(l))
            })
            .or_else(|| {
                facts
                    .and_then(|f| f.permalink.as_deref())
                    .and_then(|l| self.resolve_url(l))
            })
            .map(|u| ctx.cleaner.clean_url(&u));
        let own_link = resolved.or_else(|| {
            let id = e.id.trim();
            // RSS GUIDs are never links unless they say so (the permalink above).
            if self.markup_in_plain {
                return None;
            }
            (id.starts_with("http://") || id.starts_with("https://")).then(|| ctx.cleaner.clean(id))
        });
        // An enclosure whose address is blank resolves to the document itself: not media.
        let media = media_of(e, facts, |u| {
            self.resolve_url(u)
                .filter(|u| self.base.is_none_or(|b| b != u))
                .map(|u| ctx.cleaner.clean_url(&u))
        });
        let raw_summary = e
            .summary
            .as_ref()
            .filter(|s| !s.content.trim().is_empty())
            .map(summary_html)
            .or_else(|| {
                e.content
                    .as_ref()
                    .and_then(|c| c.body.clone())
                    .filter(|b| !b.trim().is_empty())
            })
            .or_else(|| {
                e.media
                    .iter()
                    .find_map(|m| m.description.as_ref())
                    .map(summary_html)
            })
            .or_else(|| {
                facts
                    .and_then(|f| f.dc_description.as_deref())
                    .map(crate::html::escape)
            })
            .unwrap_or_default();
        let (summary_html, summary_text) = ctx.sanitizer.summarize(&raw_summary);
        let raw_title = e
            .title
            .as_ref()
            .map(|t| text_of(t, self.markup_in_plain))
            .filter(|t| !t.is_empty())
            .or_else(|| facts.and_then(|f| f.dc_title.clone()))
            .or_else(|| {
                e.media
                    .iter()
                    .find_map(|m| m.title.as_ref())
                    .map(|t| text_of(t, false))
            });
        let title = choose_title(raw_title.as_deref(), &summary_text, own_link.as_deref());
        let dc_date = || {
            facts
                .into_iter()
                .flat_map(|f| f.dc_dates.iter())
                .find_map(|d| parse_date(d))
        };
        let published = choose_date(e.published.or_else(dc_date), e.updated);
        // The identity comes from the entry's own link only: the fallbacks below are shared
        // by other entries.
        let id = identity(&e.id, own_link.as_deref(), &title, &summary_text);
        let mut categories = categories(e, facts);
        if own_link.as_deref().is_some_and(crate::model::is_short_url) {
            categories.push(SHORT_CATEGORY.to_string());
        }
        // Without a link of its own, an episode links to its audio. Nothing else stands
        // in: the site's home page is not the story.
        let link = own_link.or_else(|| media.first().map(|m| m.url.clone()));
        Item {
            key: ItemKey(format!("{}#{}", ctx.source, id)),
            source: ctx.source.clone(),
            source_name: self.name.to_string(),
            title,
            url: link,
            summary_html,
            summary_text,
            published,
            topic_hint: ctx.topic.map(str::to_string),
            section: None,
            message_id: None,
            categories,
            also: Vec::new(),
            tracker_host: None,
            media,
        }
    }
}

fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .map(|d| d.to_utc())
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc())
        })
}

/// The entry's audio and video: enclosures and `media:content`, each file once, with its
/// type, size and running time when the feed gives them.
fn media_of(
    e: &feed_rs::model::Entry,
    facts: Option<&normalize::EntryFacts>,
    resolve: impl Fn(&str) -> Option<String>,
) -> Vec<Media> {
    let mut out: Vec<Media> = Vec::new();
    let mut add = |url: &str, mime: Option<String>, length: Option<u64>, seconds: Option<u64>| {
        let Some(url) = Some(url.trim())
            .filter(|u| !u.is_empty())
            .and_then(&resolve)
        else {
            return;
        };
        if let Some(m) = out.iter_mut().find(|m| m.url == url) {
            m.mime = m.mime.take().or(mime);
            m.length = m.length.or(length);
            m.seconds = m.seconds.or(seconds);
        } else {
            out.push(Media {
                url,
                mime,
                length: length.filter(|l| *l > 0),
                seconds,
            });
        }
    };
    let itunes = facts
        .and_then(|f| f.duration.as_deref())
        .and_then(duration_seconds);
    for m in &e.media {
        for c in &m.content {
            if let Some(u) = &c.url {
                // Our reading of `itunes:duration` first: feed-rs takes `45:30` for 45
                // seconds (an upstream bug: `MM:SS` falls through to plain seconds).
                let seconds = itunes.or(c.duration.or(m.duration).map(|d| d.as_secs()));
                let mime = c.content_type.as_ref().map(ToString::to_string);
                add(u.as_str(), mime, c.size, seconds);
            }
        }
    }
    for l in e
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure") || is_attachment(l))
    {
        add(&l.href, l.media_type.clone(), l.length, itunes);
    }
    // FeedBurner's enclosure redirect stands for the file named in origEnclosureLink.
    if let (Some(orig), Some(first)) = (
        facts.and_then(|f| f.orig_enclosure.as_deref()),
        out.first_mut(),
    ) {
        if let Some(u) = resolve(orig.trim()) {
            first.url = u;
        }
    }
    out
}

/// A JSON Feed attachment: feed-rs gives it as a link without `rel`, typed with the file's
/// MIME type (a web page is `text/html` or untyped).
fn is_attachment(l: &feed_rs::model::Link) -> bool {
    l.rel.is_none()
        && l.media_type
            .as_deref()
            .is_some_and(|t| !t.is_empty() && !t.contains("html"))
}

/// `itunes:duration` as podcasts write it: `3723`, `62:03`, `1:02:03`.
fn duration_seconds(s: &str) -> Option<u64> {
    let parts: Vec<u64> = s
        .trim()
        .split(':')
        .map(|p| p.trim().parse::<f64>().ok().map(|f| f as u64))
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [s] => Some(*s),
        [m, s] => Some(m * 60 + s),
        [h, m, s] => Some(h * 3600 + m * 60 + s),
        _ => None,
    }
}

/// The entry's categories as a reader would see them: the label when there is one, else the
/// term; trimmed, without blanks or repeats.
fn categories(e: &feed_rs::model::Entry, facts: Option<&normalize::EntryFacts>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let labels = e
        .categories
        .iter()
        .map(|c| c.label.as_deref().unwrap_or(&c.term));
    let subjects = facts
        .into_iter()
        .flat_map(|f| f.subjects.iter().map(String::as_str));
    for name in labels.chain(subjects) {
        let name = name.trim();
        if !name.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            out.push(name.to_string());
        }
    }
    out
}

/// The entry's web pages, best first: `alternate` links (or links without `rel`), then any
/// other that is not an enclosure or the feed itself. Relative ones are resolved by the caller.
fn entry_links(e: &feed_rs::model::Entry) -> impl Iterator<Item = &str> {
    let alternate = |l: &&feed_rs::model::Link| {
        l.rel.as_deref().is_none_or(|r| r == "alternate") && !is_attachment(l)
    };
    let other = |l: &&feed_rs::model::Link| {
        !matches!(
            l.rel.as_deref(),
            None | Some("alternate" | "enclosure" | "self")
        )
    };
    e.links
        .iter()
        .filter(alternate)
        .chain(e.links.iter().filter(other))
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

/// A text construct as a reader sees it. `markup_in_plain`: plain text that holds markup or
/// references (RSS) is read as HTML.
fn text_of(t: &feed_rs::model::Text, markup_in_plain: bool) -> String {
    if is_html(t) || (markup_in_plain && looks_like_markup(&t.content)) {
        crate::html::html_to_text(&t.content)
    } else {
        t.content.trim().to_string()
    }
}

/// An HTML tag (`<b>`, `</i>`, `<br/>`) or a reference (`&amp;`, `&#8217;`) in text. A tag
/// HTML does not have (`</example>`) is text.
fn looks_like_markup(s: &str) -> bool {
    const INLINE: &[&str] = &[
        "a", "abbr", "b", "br", "cite", "code", "del", "em", "i", "ins", "kbd", "mark", "q", "s",
        "small", "span", "strong", "sub", "sup", "u",
    ];
    let tag = s.match_indices('<').any(|(i, _)| {
        let rest = s[i + 1..].trim_start_matches('/');
        let name: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        INLINE.contains(&name.as_str())
            && rest[name.len()..].starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace())
    });
    tag || s.match_indices('&').any(|(i, _)| {
        let rest = &s[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '#')
            .collect();
        !name.is_empty() && rest[name.len()..].starts_with(';')
    })
}

fn summary_html(t: &feed_rs::model::Text) -> String {
    if is_html(t) {
        t.content.clone()
    } else {
        crate::html::escape(&t.content)
    }
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
                origin: &Origin::default(),
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
        assert_eq!(
            ctx_parse(b"<?xml version='1.0'?><note><to>x</to></note>").err(),
            Some(FeedError::NotAFeed {
                root: "note".into()
            })
        );
        assert!(matches!(
            ctx_parse(b"{\"title\": ").err(),
            Some(FeedError::Malformed { .. })
        ));
    }

    #[test]
    fn a_feed_cut_short_keeps_what_arrived_and_says_so() {
        let f = ctx_parse(
            b"<rss version='2.0'><channel><title>Ex</title><item><title>One</title></item><item><title>Tw",
        )
        .unwrap();
        // The entry the document broke off in is incomplete: not shown.
        assert_eq!(f.items.len(), 1);
        assert_eq!(f.items[0].title, "One");
        assert!(f.repaired.is_some());
    }

    #[test]
    fn readers_variants_are_read() {
        // RSS 0.94 without a channel, an HTML entity, a permalink GUID as the only link.
        let f = ctx_parse(
            b"<rss version='0.94'><title>Caf&eacute;</title><item><title>AT&amp;amp;T</title><guid>https://e.org/1</guid></item></rss>",
        )
        .unwrap();
        assert_eq!(f.title.as_deref(), Some("Caf\u{e9}"));
        assert_eq!(f.items[0].title, "AT&T");
        assert_eq!(f.items[0].url.as_deref(), Some("https://e.org/1"));
        // Entries that share a GUID but not a title are two entries.
        let f = ctx_parse(
            b"<rss version='2.0'><channel><item><title>A</title><guid>g</guid></item><item><title>B</title><guid>g</guid></item><item><title>B</title><guid>g</guid></item></channel></rss>",
        )
        .unwrap();
        assert_eq!(f.items.len(), 2);
        assert_ne!(f.items[0].key, f.items[1].key);
    }

    #[test]
    fn relative_links_resolve_against_the_document() {
        let cleaner = Cleaner::default();
        let sanitizer = Sanitizer::new(&cleaner);
        let source = SourceKey("feed:test".into());
        let origin = Origin {
            url: url::Url::parse("https://e.org/blog/feed.xml").ok(),
            content_type: Some("application/rss+xml; charset=windows-1252".into()),
            content_location: None,
        };
        let ctx = FeedContext {
            source: &source,
            name: None,
            fallback_name: "test",
            topic: None,
            cleaner: &cleaner,
            sanitizer: &sanitizer,
            origin: &origin,
        };
        let f = parse(
            b"<rss version='2.0'><channel><title>Caf\xe9</title><link>/</link><item><title>a</title><link>posts/1</link></item></channel></rss>",
            &ctx,
        )
        .unwrap();
        assert_eq!(f.title.as_deref(), Some("Caf\u{e9}"));
        assert_eq!(f.site.as_deref(), Some("https://e.org/"));
        assert_eq!(
            f.items[0].url.as_deref(),
            Some("https://e.org/blog/posts/1")
        );
    }

    #[test]
    fn future_dates_are_clamped() {
        let future = Utc::now() + chrono::Duration::days(400);
        assert!(choose_date(Some(future), None).unwrap() <= Utc::now());
    }

    #[test]
    fn feed_rs_bugs_are_worked_around() {
        // Inline XHTML keeps its escapes (feed-rs turned `&lt;blink&gt;` into a tag).
        let f = ctx_parse(br#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">History of the &lt;blink&gt; tag</div></title></entry></feed>"#).unwrap();
        assert_eq!(f.items[0].title, "History of the <blink> tag");
        // An RSS 1.0 item without <link> is kept (feed-rs dropped it), its rdf:about the link.
        let f = ctx_parse(br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>c</title></channel><item rdf:about="https://e.org/1"><title>T</title></item></rdf:RDF>"#).unwrap();
        assert_eq!(f.items.len(), 1);
        assert_eq!(f.items[0].url.as_deref(), Some("https://e.org/1"));
        // itunes:duration MM:SS (feed-rs read "45:30" as 45 seconds).
        let f = ctx_parse(br#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><item><title>E</title><enclosure url="https://e.org/e.mp3" type="audio/mpeg" length="10"/><itunes:duration>45:30</itunes:duration></item></channel></rss>"#).unwrap();
        assert_eq!(f.items[0].media[0].seconds, Some(2730));
        assert_eq!(f.items[0].url.as_deref(), Some("https://e.org/e.mp3"));
    }
}
