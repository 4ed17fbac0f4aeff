//! Feed XML as feed-rs reads it, and what feed-rs does not read.
//!
//! feed-rs refuses or half-reads variants that every reader accepts: RSS without a version or
//! with one it does not know (0.90, 0.93, 0.94, 2.01, 2.1), `<rss>` without `<channel>`, RSS
//! 0.90's namespace, every Atom 0.3 entry, Atom text constructs typed as MIME types
//! (`text/html`, `application/xhtml+xml`, `text/plain`, `""`, base64 in
//! `application/octet-stream`), HTML entities (`&hellip;`), a bare `&` in a link, a document
//! cut short or with a stray end tag. One streaming pass rewrites those into the forms feed-rs
//! knows (RSS 2.0, RSS 1.0, Atom 1.0), and on the way gathers per entry the facts feed-rs
//! drops: a permalink `<guid>`, `feedburner:origLink`, `dc:title`, Dublin Core dates and
//! `itunes:duration`.

use std::borrow::Cow;

use base64::Engine as _;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::{QName, ResolveResult};

const ATOM: &[u8] = b"http://www.w3.org/2005/Atom";
const ATOM_03: &[u8] = b"http://purl.org/atom/ns#";
const RSS_10: &[u8] = b"http://purl.org/rss/1.0/";
const RSS_090: [&[u8]; 2] = [
    b"http://my.netscape.com/rdf/simple/0.9/",
    b"http://channel.netscape.com/rdf/simple/0.9/",
];
const FEEDBURNER: &[u8] = b"http://rssnamespace.org/feedburner/ext/1.0";
const DC: &[u8] = b"http://purl.org/dc/elements/1.1/";
const DCTERMS: &[u8] = b"http://purl.org/dc/terms/";
const ITUNES: &[u8] = b"http://www.itunes.com/dtds/podcast-1.0.dtd";

/// What a feed entry says that feed-rs does not pass on.
#[derive(Debug, Default, Clone)]
pub(super) struct EntryFacts {
    /// An RSS `<link>` with text, or an Atom `<link>`.
    pub has_link: bool,
    /// The `<guid>`, when it is a permalink (`isPermaLink` not `false`) and a web address.
    pub permalink: Option<String>,
    /// `feedburner:origLink`: the article's own address behind FeedBurner's redirect.
    pub orig_link: Option<String>,
    pub dc_title: Option<String>,
    /// `dcterms:issued`, `created`, `modified` or `dc:date`, best first.
    pub dc_dates: Vec<String>,
    /// `itunes:duration` as written (`1:02:03`, `3723`).
    pub duration: Option<String>,
    /// `dc:subject`s: categories in RSS 1.0.
    pub subjects: Vec<String>,
    /// An `atom:link` (alternate, or without `rel`) inside an RSS item.
    pub atom_link: Option<String>,
    /// `feedburner:origEnclosureLink`: the enclosure's own address behind FeedBurner.
    pub orig_enclosure: Option<String>,
    /// `dc:description`, for an item without `<description>`.
    pub dc_description: Option<String>,
}

/// A feed rewritten for feed-rs.
pub(super) struct Prepared {
    pub xml: String,
    /// One per entry, in document order.
    pub entries: Vec<EntryFacts>,
    /// What was repaired, for the reader of `tidings check` ("cut short at line 9").
    pub repaired: Option<String>,
    /// The root element and its version, as the document wrote it (`rss 0.94`).
    pub root: Option<String>,
    /// The document broke off inside its last entry: that entry is incomplete (its title
    /// may hold the markup that follows) and is not to be shown.
    pub last_entry_cut: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Capture {
    Link,
    Guid { permalink: bool },
    OrigLink,
    DcTitle,
    DcDate(u8),
    Duration,
    Subject,
    OrigEnclosure,
    DcDescription,
}

struct Open {
    /// The name written for this element (renamed for Atom 0.3).
    name: Vec<u8>,
    /// This element opened an entry.
    entry: bool,
    /// Text inside is base64 to decode before writing.
    base64: bool,
    /// An RSS root whose `<channel>` this pass opened.
    synthetic_channel: bool,
    rss_root: bool,
    /// An RSS 1.0 item, with its `rdf:about`: feed-rs drops an item without a `<link>`
    /// (an upstream bug), so one is written for it (its `rdf:about`, or a placeholder that
    /// is no web address) before the item closes.
    rdf_item: Option<String>,
}

pub(super) fn prepare(text: &str) -> Prepared {
    let text = fix_references(text);
    let mut reader = quick_xml::NsReader::from_str(&text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.check_comments = false;
    let mut out = quick_xml::Writer::new(Vec::with_capacity(text.len() + 64));
    let mut stack: Vec<Open> = Vec::new();
    let mut entries: Vec<EntryFacts> = Vec::new();
    let mut in_entry = false;
    // What is being captured, and the stack index of the element holding it.
    let mut capture: Option<(Capture, String, usize)> = None;
    let mut base64_text = String::new();
    // Inside inline XHTML: the stack index of its text construct, and its markup so far.
    let mut inline: Option<(usize, String)> = None;
    let mut root: Option<String> = None;
    let mut repaired = None;
    // The root element, once seen: an RSS root's first child decides whether a channel
    // must be opened for it.
    let mut rss_root_children = 0usize;
    out.get_mut()
        .extend_from_slice(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    // Writing to a Vec cannot fail: the results of `write_event` are dropped below.
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = (reader.error_position() as usize).min(text.len());
                let (line, column) = crate::config::line_col(text.as_bytes(), at);
                repaired = Some(format!(
                    "malformed at line {line}, column {column} ({e}): read what came before"
                ));
                break;
            }
        };
        match event {
            Event::Start(e) => {
                if let Some((_, buf)) = &mut inline {
                    buf.push('<');
                    buf.push_str(&String::from_utf8_lossy(&e));
                    buf.push('>');
                    stack.push(Open::child(e.name().as_ref()));
                    continue;
                }
                let (ns, local) = resolve(&reader, e.name());
                if stack.is_empty() {
                    root = Some(root_label(&e));
                } else if stack.len() == 1 && stack[0].rss_root {
                    rss_root_children += 1;
                    if rss_root_children == 1 && local != b"channel" {
                        let _ = out.write_event(Event::Start(BytesStart::new("channel")));
                        stack[0].synthetic_channel = true;
                    }
                }
                let is_entry = !in_entry && is_entry(&ns, &local);
                if is_entry {
                    in_entry = true;
                    entries.push(EntryFacts::default());
                } else if in_entry && capture.is_none() {
                    capture = capture_for(&ns, &local, &e).map(|c| (c, String::new(), stack.len()));
                    if is_atom(&ns) && local == b"link" {
                        atom_link(entries.last_mut(), &e);
                    }
                }
                if !needs_rewrite(&e, &ns, &local, stack.is_empty()) {
                    // Most elements: copied as they are, no tag rebuilt.
                    let w = out.get_mut();
                    w.push(b'<');
                    w.extend_from_slice(&e);
                    w.push(b'>');
                    stack.push(Open {
                        entry: is_entry,
                        rdf_item: (is_entry
                            && local == b"item"
                            && (ns == RSS_10 || RSS_090.contains(&ns.as_slice())))
                        .then(|| attr(&e, b"about").unwrap_or_default()),
                        ..Open::child(e.name().as_ref())
                    });
                    continue;
                }
                let (start, base64, xhtml) = rewrite_start(&e, &ns, &local, stack.is_empty());
                if xhtml {
                    inline = Some((stack.len(), String::new()));
                }
                let name = start.name().as_ref().to_vec();
                let rss_root = stack.is_empty() && local == b"rss";
                let rdf_item = (is_entry
                    && local == b"item"
                    && (ns == RSS_10 || RSS_090.contains(&ns.as_slice())))
                .then(|| attr(&e, b"about").unwrap_or_default());
                let _ = out.write_event(Event::Start(start));
                stack.push(Open {
                    name,
                    entry: is_entry,
                    base64,
                    synthetic_channel: false,
                    rss_root,
                    rdf_item,
                });
                base64_text.clear();
            }
            Event::Empty(e) => {
                let (ns, local) = resolve(&reader, e.name());
                if stack.is_empty() {
                    root = Some(root_label(&e));
                }
                if in_entry && is_atom(&ns) && local == b"link" {
                    atom_link(entries.last_mut(), &e);
                }
                if !in_entry && is_entry(&ns, &local) {
                    entries.push(EntryFacts::default());
                }
                if let Some((_, buf)) = &mut inline {
                    buf.push('<');
                    buf.push_str(&String::from_utf8_lossy(&e));
                    buf.push_str("/>");
                    continue;
                }
                let (start, _, _) = rewrite_start(&e, &ns, &local, stack.is_empty());
                if stack.is_empty() && start.name().as_ref() == b"rss" {
                    // `<rss version="2.0"/>`: an empty feed, still a feed.
                    let name = start.name().as_ref().to_vec();
                    let _ = out.write_event(Event::Start(start));
                    let _ = out.write_event(Event::Empty(BytesStart::new("channel")));
                    let _ =
                        out.write_event(Event::End(BytesEnd::new(String::from_utf8_lossy(&name))));
                    continue;
                }
                let _ = out.write_event(Event::Empty(start));
            }
            Event::End(e) => {
                // A stray end tag is dropped; one that closes several elements closes each.
                let name = e.name();
                let Some(depth) = stack
                    .iter()
                    .rposition(|o| same_local(&o.name, name.as_ref()))
                else {
                    continue;
                };
                while stack.len() > depth {
                    let open = stack.pop().expect("depth is within the stack");
                    if flush_inline(&mut inline, &open, stack.len(), &mut out) {
                        continue;
                    }
                    if let Some(about) = &open.rdf_item {
                        if !entries.last().is_some_and(|f| f.has_link) {
                            let href = if about.trim().is_empty() {
                                "about:blank"
                            } else {
                                about.trim()
                            };
                            let _ = out.write_event(Event::Start(BytesStart::new("link")));
                            let _ = out.write_event(Event::Text(BytesText::from_escaped(href)));
                            let _ = out.write_event(Event::End(BytesEnd::new("link")));
                        }
                    }
                    close(&mut out, &open, &mut base64_text, rss_root_children);
                    if open.entry {
                        in_entry = false;
                    }
                    if capture.as_ref().is_some_and(|c| c.2 == stack.len()) {
                        if let Some((what, value, _)) = capture.take() {
                            store(entries.last_mut(), what, value);
                        }
                    }
                }
            }
            Event::Text(t) => {
                let base64 = stack.last().is_some_and(|o| o.base64);
                if inline.is_none() && capture.is_none() && !base64 {
                    // The common case, so no copy: text as the document escaped it.
                    if !stack.is_empty() {
                        out.get_mut().extend_from_slice(t.as_ref());
                    }
                    continue;
                }
                let raw = String::from_utf8_lossy(t.as_ref());
                if let Some((_, buf)) = &mut inline {
                    buf.push_str(&raw);
                    continue;
                }
                if let Some((_, value, _)) = &mut capture {
                    value.push_str(
                        &quick_xml::escape::unescape(&raw).unwrap_or(Cow::Borrowed(&*raw)),
                    );
                }
                if base64 {
                    base64_text.push_str(&raw);
                } else if !stack.is_empty() {
                    // Already escaped as the document wrote it: copied as it is.
                    out.get_mut().extend_from_slice(t.as_ref());
                }
            }
            Event::CData(c) => {
                let raw = String::from_utf8_lossy(c.as_ref()).into_owned();
                if let Some((_, buf)) = &mut inline {
                    buf.push_str(&quick_xml::escape::escape(raw.as_str()));
                    continue;
                }
                if let Some((_, value, _)) = &mut capture {
                    value.push_str(&raw);
                }
                if stack.last().is_some_and(|o| o.base64) {
                    base64_text.push_str(&raw);
                } else if !stack.is_empty() {
                    let _ = out.write_event(Event::CData(c));
                }
            }
            Event::GeneralRef(r) => {
                let base64 = stack.last().is_some_and(|o| o.base64);
                if inline.is_none() && capture.is_none() && !base64 {
                    // As common as text in escaped HTML (`&lt;p&gt;`): copied with no detour.
                    if !stack.is_empty() {
                        let w = out.get_mut();
                        w.push(b'&');
                        w.extend_from_slice(r.as_ref());
                        w.push(b';');
                    }
                    continue;
                }
                let raw = String::from_utf8_lossy(r.as_ref()).into_owned();
                let escaped = format!("&{raw};");
                if let Some((_, buf)) = &mut inline {
                    buf.push_str(&escaped);
                    continue;
                }
                if let Some((_, value, _)) = &mut capture {
                    value.push_str(
                        &quick_xml::escape::unescape(&escaped)
                            .unwrap_or(Cow::Borrowed(escaped.as_str())),
                    );
                }
                if stack.last().is_some_and(|o| o.base64) {
                    base64_text.push_str(&escaped);
                } else if !stack.is_empty() {
                    let _ = out.write_event(Event::Text(BytesText::from_escaped(escaped)));
                }
            }
            Event::Eof => break,
            // The declaration is rewritten (the text is UTF-8 now); a DOCTYPE is dropped, as
            // feedparser does (its entities are HTML's, resolved above); comments and
            // processing instructions carry nothing for a digest.
            Event::Decl(_) | Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    let last_entry_cut = in_entry && !stack.is_empty();
    if !stack.is_empty() && repaired.is_none() {
        repaired = Some("the document ends before its elements close: read what came".into());
    }
    while let Some(open) = stack.pop() {
        if !flush_inline(&mut inline, &open, stack.len(), &mut out) {
            close(&mut out, &open, &mut base64_text, rss_root_children);
        }
    }
    let xml = String::from_utf8(out.into_inner())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Prepared {
        xml,
        entries,
        repaired,
        root,
        last_entry_cut,
    }
}

impl Open {
    /// An element inside inline XHTML: kept on the stack to match its end tag only.
    fn child(name: &[u8]) -> Open {
        Open {
            name: name.to_vec(),
            entry: false,
            base64: false,
            synthetic_channel: false,
            rss_root: false,
            rdf_item: None,
        }
    }
}

/// Inline XHTML being passed on as text: a child's end tag goes into the markup (true: the
/// caller writes nothing); at the text construct's own end the markup is written as its
/// text (false: the caller closes the construct).
fn flush_inline(
    inline: &mut Option<(usize, String)>,
    open: &Open,
    depth_after_pop: usize,
    out: &mut quick_xml::Writer<Vec<u8>>,
) -> bool {
    let Some((at, buf)) = inline else {
        return false;
    };
    if depth_after_pop > *at {
        buf.push_str("</");
        buf.push_str(&String::from_utf8_lossy(&open.name));
        buf.push('>');
        return true;
    }
    let _ = out.write_event(Event::Text(BytesText::new(buf)));
    *inline = None;
    false
}

fn close(
    out: &mut quick_xml::Writer<Vec<u8>>,
    open: &Open,
    base64_text: &mut String,
    rss_children: usize,
) {
    if open.base64 {
        let compact: String = base64_text.chars().filter(|c| !c.is_whitespace()).collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|_| base64_text.clone());
        let _ = out.write_event(Event::Text(BytesText::new(&decoded)));
        base64_text.clear();
    }
    if open.synthetic_channel {
        let _ = out.write_event(Event::End(BytesEnd::new("channel")));
    } else if open.rss_root && rss_children == 0 {
        // `<rss version="2.0"></rss>`: an empty feed, still a feed.
        let _ = out.write_event(Event::Empty(BytesStart::new("channel")));
    }
    let _ = out.write_event(Event::End(BytesEnd::new(String::from_utf8_lossy(
        &open.name,
    ))));
}

fn same_local(written: &[u8], end: &[u8]) -> bool {
    let local = |n: &[u8]| {
        n.rsplit(|b| *b == b':')
            .next()
            .unwrap_or(n)
            .to_ascii_lowercase()
    };
    written == end
        || local(written) == local(end)
        || atom03_rename(&local(end)).is_some_and(|r| r.as_bytes() == local(written))
}

fn resolve(reader: &quick_xml::NsReader<&[u8]>, name: QName<'_>) -> (Vec<u8>, Vec<u8>) {
    let (ns, local) = reader.resolver().resolve_element(name);
    let ns = match ns {
        ResolveResult::Bound(ns) => ns.as_ref().to_vec(),
        _ => Vec::new(),
    };
    (ns, local.as_ref().to_vec())
}

fn is_atom(ns: &[u8]) -> bool {
    ns == ATOM || ns == ATOM_03
}

fn is_rss(ns: &[u8]) -> bool {
    ns.is_empty() || ns == RSS_10 || RSS_090.contains(&ns)
}

fn is_entry(ns: &[u8], local: &[u8]) -> bool {
    (local == b"item" && is_rss(ns)) || (local == b"entry" && is_atom(ns))
}

fn capture_for(ns: &[u8], local: &[u8], e: &BytesStart<'_>) -> Option<Capture> {
    match (ns, local) {
        (ns, b"link") if is_rss(ns) => Some(Capture::Link),
        (ns, b"guid") if is_rss(ns) => {
            let permalink =
                attr(e, b"isPermaLink").is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
            Some(Capture::Guid { permalink })
        }
        (FEEDBURNER, b"origLink") => Some(Capture::OrigLink),
        (FEEDBURNER, b"origEnclosureLink") => Some(Capture::OrigEnclosure),
        (DC, b"title") => Some(Capture::DcTitle),
        (DCTERMS, b"issued") => Some(Capture::DcDate(0)),
        (DCTERMS, b"created") => Some(Capture::DcDate(1)),
        (DCTERMS, b"modified") => Some(Capture::DcDate(2)),
        (DC, b"date") => Some(Capture::DcDate(3)),
        (ITUNES, b"duration") => Some(Capture::Duration),
        (DC, b"subject") => Some(Capture::Subject),
        (DC, b"description") => Some(Capture::DcDescription),
        _ => None,
    }
}

fn store(facts: Option<&mut EntryFacts>, what: Capture, value: String) {
    let Some(f) = facts else { return };
    let value = value.trim().to_string();
    if value.is_empty() {
        return;
    }
    match what {
        Capture::Link => f.has_link = true,
        Capture::Guid { permalink } => {
            if permalink && (value.starts_with("http://") || value.starts_with("https://")) {
                f.permalink = Some(value);
            }
        }
        Capture::OrigLink => f.orig_link = Some(value),
        Capture::DcTitle => f.dc_title = Some(value),
        Capture::DcDate(rank) => {
            let at = (rank as usize).min(f.dc_dates.len());
            f.dc_dates.insert(at, value);
        }
        Capture::Duration => f.duration = Some(value),
        Capture::Subject => f.subjects.push(value),
        Capture::OrigEnclosure => f.orig_enclosure = Some(value),
        Capture::DcDescription => f.dc_description = Some(value),
    }
}

fn atom_link(facts: Option<&mut EntryFacts>, e: &BytesStart<'_>) {
    let Some(f) = facts else { return };
    f.has_link = true;
    let alternate = attr(e, b"rel").is_none_or(|r| r.trim() == "alternate");
    if let (true, None, Some(href)) = (alternate, &f.atom_link, attr(e, b"href")) {
        f.atom_link = Some(href.trim().to_string());
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

fn root_label(e: &BytesStart<'_>) -> String {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    match attr(e, b"version") {
        Some(v) => format!("{name} {v}"),
        None => name,
    }
}

fn atom03_rename(local: &[u8]) -> Option<&'static str> {
    Some(match local {
        b"issued" => "published",
        b"modified" => "updated",
        b"tagline" => "subtitle",
        b"copyright" => "rights",
        b"url" => "uri",
        _ => return None,
    })
}

/// Whether a start tag must be rebuilt: an RSS root (its version), anything Atom 0.3, an Atom
/// text construct that says its type or mode, or a declaration of an old namespace.
fn needs_rewrite(e: &BytesStart<'_>, ns: &[u8], local: &[u8], root: bool) -> bool {
    let raw = e.attributes_raw();
    let holds = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    (root && local == b"rss")
        || ns == ATOM_03
        || (is_atom(ns)
            && matches!(
                local,
                b"title" | b"subtitle" | b"summary" | b"content" | b"rights"
            )
            && (holds(b"type") || holds(b"mode")))
        || holds(b"purl.org/atom/ns#")
        || holds(b"netscape.com/rdf/simple/0.9/")
}

/// The start tag as feed-rs will read it, whether its text is base64 to decode, and whether
/// it holds inline XHTML to pass on as HTML text.
///
/// Inline XHTML is handed to feed-rs as escaped HTML (`type="html"`): feed-rs unescapes the
/// XHTML's text as it copies it, so `&lt;S&gt;` in it became a tag (an upstream bug).
fn rewrite_start<'a>(
    e: &'a BytesStart<'a>,
    ns: &[u8],
    local: &[u8],
    root: bool,
) -> (BytesStart<'a>, bool, bool) {
    let mut name = e.name().as_ref().to_vec();
    if ns == ATOM_03 {
        if let Some(new) = atom03_rename(local) {
            let prefix_len = name.len() - local.len();
            name.truncate(prefix_len);
            name.extend_from_slice(new.as_bytes());
        }
    }
    let rss_root = root && local == b"rss";
    let text_construct = is_atom(ns)
        && matches!(
            local,
            b"title"
                | b"subtitle"
                | b"tagline"
                | b"summary"
                | b"content"
                | b"rights"
                | b"copyright"
                | b"info"
        );
    let mode = text_construct
        .then(|| attr(e, b"mode"))
        .flatten()
        .map(|m| m.trim().to_ascii_lowercase());
    let mut base64 = mode.as_deref() == Some("base64");
    let mut inline = false;
    let mut start = BytesStart::new(String::from_utf8_lossy(&name).into_owned());
    let mut saw_type = false;
    for a in e.attributes().with_checks(false).flatten() {
        let key = a.key.as_ref();
        if text_construct && key == b"mode" {
            continue;
        }
        if rss_root && key == b"version" {
            continue;
        }
        let value: Cow<[u8]> = if key == b"xmlns" || key.starts_with(b"xmlns:") {
            if a.value.as_ref() == ATOM_03 {
                Cow::Borrowed(ATOM)
            } else if RSS_090.contains(&a.value.as_ref()) {
                Cow::Borrowed(RSS_10)
            } else {
                a.value.clone()
            }
        } else if text_construct && key == b"type" {
            saw_type = true;
            let t = String::from_utf8_lossy(&a.value)
                .trim()
                .to_ascii_lowercase();
            let has_src = attr(e, b"src").is_some();
            let mapped = match t.as_str() {
                "text" | "html" | "xhtml" => t.clone(),
                "text/html" => "html".into(),
                "application/xhtml+xml" => "xhtml".into(),
                "" | "text/plain" => "text".into(),
                "application/octet-stream" if !has_src => {
                    base64 = true;
                    "html".into()
                }
                _ if local == b"content" => t.clone(),
                _ => "text".into(),
            };
            let mapped = if mode.as_deref() == Some("xml") && mapped != "text" {
                "xhtml".into()
            } else {
                mapped
            };
            if mapped == "xhtml" {
                inline = true;
                Cow::Borrowed(b"html".as_slice())
            } else {
                Cow::Owned(mapped.into_bytes())
            }
        } else {
            a.value.clone()
        };
        start.push_attribute(Attribute {
            key: QName(a.key.as_ref()),
            value,
        });
    }
    if text_construct && !saw_type && (mode.is_some() || ns == ATOM_03) {
        // Atom 0.3's default type is text/plain; `mode="xml"` is inline XHTML.
        inline = mode.as_deref() == Some("xml");
        let t: &[u8] = match mode.as_deref() {
            Some("xml") => b"html",
            Some("escaped") | Some("base64") => b"html",
            _ => b"text",
        };
        start.push_attribute(Attribute {
            key: QName(b"type"),
            value: Cow::Borrowed(t),
        });
    }
    if rss_root {
        start.push_attribute(Attribute {
            key: QName(b"version"),
            value: Cow::Borrowed(b"2.0"),
        });
    }
    (start, base64, inline)
}

/// References an XML parser can read: HTML's named entities (`&hellip;`, which feeds use
/// without a DTD declaring them) as numeric references, an unknown name and a bare `&`
/// (`?a=1&b=2`) as the text they were meant to be. CDATA sections are left as they are.
fn fix_references(text: &str) -> Cow<'_, str> {
    // Copied only from the first reference that needs a change: most feeds need none.
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    let mut next_cdata = text.find("<![CDATA[");
    while let Some(off) = text[i..].find('&') {
        let at = i + off;
        if let Some(c) = next_cdata.filter(|c| *c < at) {
            let end = text[c..].find("]]>").map_or(text.len(), |e| c + e + 3);
            i = end;
            next_cdata = text[end..].find("<![CDATA[").map(|x| end + x);
            continue;
        }
        let rest = &text[at..];
        let name_len = rest[1..]
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || c == '#' || c == '_' || c == '.' || c == '-')
            })
            .unwrap_or(rest.len() - 1);
        let name = &rest[1..1 + name_len];
        let closed = rest[1 + name_len..].starts_with(';');
        let (replacement, consumed): (Cow<str>, usize) = if closed && !name.is_empty() {
            let known_xml = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos");
            let digits = name.strip_prefix('#');
            let decimal = digits.filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
            let hex = digits
                .and_then(|d| d.strip_prefix(['x', 'X']))
                .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()));
            let c1 = decimal
                .and_then(|d| d.parse::<u32>().ok())
                .filter(|n| (0x80..=0x9f).contains(n))
                .and_then(char::from_u32);
            if let Some(c) = c1 {
                // `&#146;`: windows-1252 punctuation, as HTML reads it.
                let c = super::decode::demoronize(c) as u32;
                (Cow::Owned(format!("&#{c};")), name_len + 2)
            } else if known_xml || decimal.is_some() || hex.is_some() {
                i = at + name_len + 2;
                continue;
            } else if let Some((a, b)) = web_atoms::NAMED_ENTITIES.get(format!("{name};").as_str())
            {
                let mut r = format!("&#{a};");
                if *b != 0 {
                    r.push_str(&format!("&#{b};"));
                }
                (Cow::Owned(r), name_len + 2)
            } else {
                (Cow::Owned(format!("&amp;{name};")), name_len + 2)
            }
        } else {
            (Cow::Borrowed("&amp;"), 1)
        };
        let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
        o.push_str(&text[copied..at]);
        o.push_str(&replacement);
        copied = at + consumed;
        i = copied;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_readable() {
        assert_eq!(fix_references("a &hellip; b"), "a &#8230; b");
        assert_eq!(fix_references("?a=1&b=2&c"), "?a=1&amp;b=2&amp;c");
        assert_eq!(
            fix_references("&amp; &#38; &#x26; &nope;"),
            "&amp; &#38; &#x26; &amp;nope;"
        );
        assert_eq!(fix_references("<![CDATA[a&b]]>&"), "<![CDATA[a&b]]>&amp;");
    }

    #[test]
    fn rss_variants_become_rss_2_with_a_channel() {
        let p = prepare("<rss version='0.94'><item><title>x</title></item></rss>");
        assert!(
            p.xml.contains("<rss version=\"2.0\"><channel><item>"),
            "{}",
            p.xml
        );
        assert!(p.xml.contains("</item></channel></rss>"), "{}", p.xml);
        assert_eq!(p.root.as_deref(), Some("rss 0.94"));
        assert_eq!(p.entries.len(), 1);
    }

    #[test]
    fn atom_03_becomes_atom_10() {
        let p = prepare(
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><issued>2004-01-01T00:00:00Z</issued>
               <title type="text/html" mode="escaped">&lt;b&gt;x&lt;/b&gt;</title>
               <content type="application/octet-stream" mode="base64">PHA+aGk8L3A+</content></entry></feed>"#,
        );
        assert!(
            p.xml.contains("xmlns=\"http://www.w3.org/2005/Atom\""),
            "{}",
            p.xml
        );
        assert!(
            p.xml
                .contains("<published>2004-01-01T00:00:00Z</published>"),
            "{}",
            p.xml
        );
        assert!(p.xml.contains("<title type=\"html\">"), "{}", p.xml);
        assert!(p.xml.contains("&lt;p&gt;hi&lt;/p&gt;"), "{}", p.xml);
    }

    #[test]
    fn a_cut_document_is_closed_and_says_so() {
        let p = prepare("<rss><channel><title>t</title></channel></rss");
        assert!(p.xml.ends_with("</channel></rss>"), "{}", p.xml);
        assert!(p.repaired.is_some());
        let p = prepare("<feed xmlns='http://www.w3.org/2005/Atom'><entry><content>x</b></content></entry></feed>");
        assert!(
            p.xml.contains("<content>x</content></entry></feed>"),
            "{}",
            p.xml
        );
    }

    #[test]
    fn entry_facts_are_gathered() {
        let p = prepare(
            r#"<rss xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
               <item><guid>https://e.org/1</guid><dc:title>T</dc:title><feedburner:origLink>https://o.org/1</feedburner:origLink></item>
               <item><guid isPermaLink="false">https://e.org/2</guid><link>https://e.org/p2</link></item></channel></rss>"#,
        );
        assert_eq!(p.entries.len(), 2);
        let (a, b) = (&p.entries[0], &p.entries[1]);
        assert_eq!(a.permalink.as_deref(), Some("https://e.org/1"));
        assert_eq!(a.orig_link.as_deref(), Some("https://o.org/1"));
        assert_eq!(a.dc_title.as_deref(), Some("T"));
        assert!(!a.has_link);
        assert!(b.permalink.is_none() && b.has_link);
    }

    #[test]
    fn inline_xhtml_keeps_its_escapes() {
        let p = super::prepare(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">History of the &lt;blink&gt; <b>tag</b></div></title></entry></feed>"#,
        );
        assert!(
            p.xml.contains(r#"<title type="html">&lt;div xmlns=&quot;http://www.w3.org/1999/xhtml&quot;&gt;History of the &amp;lt;blink&amp;gt; &lt;b&gt;tag&lt;/b&gt;&lt;/div&gt;</title>"#),
            "{}",
            p.xml
        );
    }
}
