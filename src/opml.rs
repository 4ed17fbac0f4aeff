//! OPML, the outline file feed readers import and export subscriptions with
//! (`import-opml`, `export-opml`).
//!
//! A feed is an `<outline>` with an `xmlUrl`; an outline without one is a category (a folder,
//! in most readers), and a feed's innermost category becomes its `topic` hint. Exports are
//! written the same way, one category outline per topic, so a round trip through another reader
//! keeps feeds, names and topics.
//!
//! The XML is read with quick-xml, which expands only the five predefined entities and
//! character references: a DOCTYPE's own entities are never expanded, and a reference to one is
//! an error, so no entity bomb or external entity can do anything.

use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};

use crate::config::Config;
use crate::config::FeedLocation;
use crate::edit::{ConfigFile, EditError};

/// An OPML file larger than this is refused rather than read (a subscription list of ten
/// thousand feeds is about 2 MB).
pub const MAX_OPML_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is larger than {MAX_OPML_BYTES} bytes; is it an OPML file?", path.display())]
    TooLarge { path: PathBuf },
    #[error("`{}` is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("{}:{line}: not well-formed XML: {message}", path.display())]
    Xml {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("`{}` is not OPML: its root element is `<{root}>`, not `<opml>`", path.display())]
    NotOpml { path: PathBuf, root: String },
}

/// One feed of an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    /// `title`, else `text`; `None` when neither says more than the URL.
    pub title: Option<String>,
    pub html_url: Option<String>,
    /// The innermost category outline around the feed.
    pub category: Option<String>,
}

/// Reads an OPML file (at most [`MAX_OPML_BYTES`]).
pub fn read(path: &Path) -> Result<Vec<OpmlFeed>, OpmlError> {
    let read_err = |source| OpmlError::Read {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > MAX_OPML_BYTES {
        return Err(OpmlError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    let text = String::from_utf8(bytes).map_err(|_| OpmlError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    parse(&text, path)
}

/// Parses OPML text; `path` names the file in errors.
pub fn parse(text: &str, path: &Path) -> Result<Vec<OpmlFeed>, OpmlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = quick_xml::Reader::from_str(text);
    let xml_err = |pos: u64, message: String| OpmlError::Xml {
        path: path.to_path_buf(),
        line: line_of(text, pos as usize),
        message,
    };
    // One entry per open <outline>: the category it opens, if it is one.
    let mut open: Vec<Option<String>> = Vec::new();
    let mut root_seen = false;
    let mut feeds = Vec::new();
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| xml_err(reader.error_position(), e.to_string()))?;
        let (start, empty) = match &event {
            Event::Start(s) => (s, false),
            Event::Empty(s) => (s, true),
            Event::End(e) => {
                if e.local_name().as_ref().eq_ignore_ascii_case(b"outline") {
                    open.pop();
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        if !root_seen {
            root_seen = true;
            if !name.eq_ignore_ascii_case("opml") {
                return Err(OpmlError::NotOpml {
                    path: path.to_path_buf(),
                    root: name,
                });
            }
        }
        if !name.eq_ignore_ascii_case("outline") {
            continue;
        }
        let attrs = outline_attributes(start).map_err(|m| xml_err(pos, m))?;
        let category = open.iter().rev().find_map(|c| c.clone());
        let opens = match attrs.xml_url.filter(|u| !u.is_empty()) {
            Some(url) => {
                let title = [attrs.title, attrs.text]
                    .into_iter()
                    .flatten()
                    .find(|t| !t.is_empty() && *t != url);
                feeds.push(OpmlFeed {
                    url,
                    title,
                    html_url: attrs.html_url.filter(|u| !u.is_empty()),
                    category,
                });
                None
            }
            None => [attrs.text, attrs.title]
                .into_iter()
                .flatten()
                .find(|t| !t.is_empty()),
        };
        if !empty {
            open.push(opens);
        }
    }
    if !root_seen {
        return Err(OpmlError::NotOpml {
            path: path.to_path_buf(),
            root: "(none)".into(),
        });
    }
    Ok(feeds)
}

#[derive(Default)]
struct OutlineAttributes {
    xml_url: Option<String>,
    html_url: Option<String>,
    title: Option<String>,
    text: Option<String>,
}

/// The attributes tidings reads, unescaped (predefined entities and character references only)
/// and with whitespace folded. Readers disagree on case (`xmlUrl`, `xmlurl`), so it is ignored.
fn outline_attributes(start: &BytesStart<'_>) -> Result<OutlineAttributes, String> {
    let mut out = OutlineAttributes::default();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).to_ascii_lowercase();
        let slot = match key.as_str() {
            "xmlurl" => &mut out.xml_url,
            "htmlurl" => &mut out.html_url,
            "title" => &mut out.title,
            "text" => &mut out.text,
            _ => continue,
        };
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("attribute `{key}`: {e}"))?;
        *slot = Some(value.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    Ok(out)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// What `import-opml` did with each feed of the file.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub added: Vec<OpmlFeed>,
    /// Feeds not added, with the reason (already in the config, not an http(s) URL).
    pub skipped: Vec<(OpmlFeed, String)>,
}

/// Adds every feed of `feeds` that the config does not have yet, with its title as `name` and
/// its category as `topic`. Nothing is fetched: a subscription list from another reader is
/// taken as it is. The caller saves the file (which validates the result).
pub fn import(file: &mut ConfigFile, feeds: &[OpmlFeed]) -> Result<ImportReport, EditError> {
    let mut report = ImportReport::default();
    for f in feeds {
        // Some readers write `feed://` for what is an http(s) feed.
        let url = match f.url.strip_prefix("feed://") {
            Some(rest) => format!("https://{rest}"),
            None => f.url.trim().to_string(),
        };
        match file.add_feed(&url, f.title.as_deref(), f.category.as_deref()) {
            Ok(()) => report.added.push(OpmlFeed { url, ..f.clone() }),
            Err(e @ (EditError::DuplicateFeed { .. } | EditError::BadUrl { .. })) => {
                report.skipped.push((f.clone(), e.to_string()))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// The config's feeds as OPML 2.0: feeds with a topic inside a category outline of that name
/// (in the order topics first appear), the others at the top. Local-file feeds cannot be
/// expressed in OPML; they are returned separately so the caller can say so.
pub fn export(config: &Config) -> (String, Vec<String>) {
    let mut skipped = Vec::new();
    let mut categories: Vec<(Option<&str>, Vec<String>)> = Vec::new();
    for f in &config.feeds {
        let url = match &f.location {
            FeedLocation::Url(u) => u.as_str(),
            FeedLocation::File(p) => {
                skipped.push(p.display().to_string());
                continue;
            }
        };
        let line = match &f.name {
            Some(n) => format!(
                "<outline type=\"rss\" text=\"{0}\" title=\"{0}\" xmlUrl=\"{1}\"/>",
                escape(n),
                escape(url)
            ),
            // `text` is required; a feed with no name is written with its URL, which import
            // reads back as no name.
            None => format!(
                "<outline type=\"rss\" text=\"{0}\" xmlUrl=\"{0}\"/>",
                escape(url)
            ),
        };
        let topic = f.topic.as_deref().map(str::trim).filter(|t| !t.is_empty());
        match categories.iter_mut().find(|(t, _)| *t == topic) {
            Some((_, lines)) => lines.push(line),
            None => categories.push((topic, vec![line])),
        }
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n",
    );
    out.push_str(&format!(
        "    <title>{}</title>\n  </head>\n  <body>\n",
        escape(&format!("{}: feeds", config.digest.title))
    ));
    // Uncategorised feeds last, as most readers list them.
    categories.sort_by_key(|(t, _)| t.is_none());
    for (topic, lines) in &categories {
        match topic {
            Some(t) => {
                out.push_str(&format!(
                    "    <outline text=\"{0}\" title=\"{0}\">\n",
                    escape(t)
                ));
                for l in lines {
                    out.push_str(&format!("      {l}\n"));
                }
                out.push_str("    </outline>\n");
            }
            None => {
                for l in lines {
                    out.push_str(&format!("    {l}\n"));
                }
            }
        }
    }
    out.push_str("  </body>\n</opml>\n");
    (out, skipped)
}

/// Escapes text for a double-quoted XML attribute. Characters XML 1.0 does not allow at all
/// (most C0 controls) are dropped; tab and line breaks are kept as character references so they
/// survive attribute normalisation.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<OpmlFeed>, OpmlError> {
        parse(text, Path::new("subs.opml"))
    }

    #[test]
    fn nested_categories_give_the_innermost_as_topic() {
        let feeds = p(r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>x</title></head><body>
  <outline text="Tech"><outline text="Rust">
    <outline type="rss" text="This Week" xmlUrl="https://a.example/feed"/>
  </outline>
    <outline type="rss" title="Lobsters" text="lobste.rs" xmlUrl="https://b.example/rss"></outline>
  </outline>
  <outline type="rss" text="https://c.example/atom" xmlurl="https://c.example/atom"/>
</body></opml>"#)
        .unwrap();
        let got: Vec<(&str, Option<&str>, Option<&str>)> = feeds
            .iter()
            .map(|f| (f.url.as_str(), f.title.as_deref(), f.category.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("https://a.example/feed", Some("This Week"), Some("Rust")),
                ("https://b.example/rss", Some("Lobsters"), Some("Tech")),
                ("https://c.example/atom", None, None),
            ]
        );
    }

    #[test]
    fn entities_beyond_the_predefined_ones_are_refused_not_expanded() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<opml version="2.0"><body>
<outline text="&b;" xmlUrl="https://a.example/feed"/>
</body></opml>"#;
        match p(bomb) {
            Err(OpmlError::Xml { line, message, .. }) => {
                assert_eq!(line, 4);
                assert!(message.contains('b'), "{message}");
            }
            other => panic!("expected an XML error, got {other:?}"),
        }
        let ok = p(r#"<opml><body><outline text="A &amp; B &#233;" xmlUrl="https://a.example/?a=1&amp;b=2"/></body></opml>"#).unwrap();
        assert_eq!(ok[0].title.as_deref(), Some("A & B é"));
        assert_eq!(ok[0].url, "https://a.example/?a=1&b=2");
    }

    #[test]
    fn not_opml_and_broken_xml_are_named() {
        assert!(matches!(
            p("<rss><channel/></rss>"),
            Err(OpmlError::NotOpml { root, .. }) if root == "rss"
        ));
        assert!(matches!(p(""), Err(OpmlError::NotOpml { .. })));
        assert!(matches!(
            p("<opml><body>\n<outline text=\"a\" text=\"b\"/></body></opml>"),
            Err(OpmlError::Xml { line: 2, .. })
        ));
    }

    #[test]
    fn escape_round_trips_through_the_parser() {
        let nasty = "Tom & \"Jerry\" <news>\u{1}";
        let xml = format!(
            "<opml><body><outline text=\"{}\" xmlUrl=\"https://a.example/\"/></body></opml>",
            escape(nasty)
        );
        assert_eq!(
            p(&xml).unwrap()[0].title.as_deref(),
            Some("Tom & \"Jerry\" <news>")
        );
    }
}
