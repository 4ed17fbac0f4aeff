//! HTML from strangers in, safe HTML or plain text out.
//!
//! Everything a feed or an email says in HTML passes through [`Sanitizer`] before it can reach a
//! template: a small allow-list of tags, no images at all (so no remote pixels), only http(s)
//! and mailto links, every link cleaned of tracking.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::links::Cleaner;

/// Summaries longer than this (in characters of text) are cut at a word boundary.
pub const MAX_SUMMARY_CHARS: usize = 400;
/// How much of a long summary's HTML is read first (see `Sanitizer::summarize`): enough
/// for `MAX_SUMMARY_CHARS` of text under the markup of ordinary articles.
const SUMMARY_PREFIX_BYTES: usize = 4096;
/// Text read past the cut-off before the prefix is trusted: the last word of the prefix may
/// be cut short, and whitespace at its end folds differently.
const SUMMARY_MARGIN_CHARS: usize = 64;
/// HTML nested deeper than this is not handed to the HTML parser: html5ever's tree builder
/// does work proportional to the depth for every element, so hostile nesting (100,000 `<div>`s)
/// would take minutes. Such HTML is reduced to its text instead.
pub const MAX_NESTING: usize = 512;

const ALLOWED_TAGS: &[&str] = &[
    "a",
    "p",
    "br",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
    "h5",
    "h6",
];

pub struct Sanitizer {
    builder: ammonia::Builder<'static>,
}

impl Sanitizer {
    pub fn new(cleaner: &Cleaner) -> Sanitizer {
        let cleaner = cleaner.clone();
        let mut builder = ammonia::Builder::empty();
        builder
            .add_tags(ALLOWED_TAGS.iter().copied())
            .add_tag_attributes("a", ["href"])
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer"))
            .clean_content_tags(HashSet::from([
                "script", "style", "title", "noscript", "template",
            ]))
            .attribute_filter(
                move |element, attribute, value| match (element, attribute) {
                    ("a", "href") => Some(Cow::Owned(cleaner.clean(value))),
                    _ => Some(Cow::Borrowed(value)),
                },
            );
        Sanitizer { builder }
    }

    pub fn sanitize(&self, html: &str) -> String {
        if too_deep(html, MAX_NESTING) {
            return escape(&strip_tags(html));
        }
        self.builder.clean(&space_dropped_blocks(html)).to_string()
    }

    /// The (html, text) summary pair for an item. Long summaries become their shortened text,
    /// escaped, because cutting HTML in the middle is how broken markup gets into a digest.
    ///
    /// A summary shows at most `MAX_SUMMARY_CHARS` of text, so a long article (full-content
    /// feeds send whole essays) is first read from a prefix: when the prefix alone has well
    /// over that much text, the words kept are the same as from the whole, and sanitizing the
    /// rest would be thrown away. A cut inside a tag, entity or comment only touches text past
    /// the margin.
    pub fn summarize(&self, html: &str) -> (String, String) {
        if html.len() > SUMMARY_PREFIX_BYTES {
            let prefix = &html[..html.floor_char_boundary(SUMMARY_PREFIX_BYTES)];
            let text = sanitized_to_text(&self.sanitize(prefix));
            if text.chars().count() > MAX_SUMMARY_CHARS + SUMMARY_MARGIN_CHARS {
                let short = truncate_words(&text, MAX_SUMMARY_CHARS);
                return (escape(&short), short);
            }
        }
        self.summarize_whole(html)
    }

    fn summarize_whole(&self, html: &str) -> (String, String) {
        let safe = self.sanitize(html);
        let text = sanitized_to_text(&safe);
        if text.chars().count() > MAX_SUMMARY_CHARS {
            let short = truncate_words(&text, MAX_SUMMARY_CHARS);
            (escape(&short), short)
        } else {
            (safe, text)
        }
    }
}

/// Table cells, divs and other blocks the allow-list drops would otherwise glue their texts
/// together ("Price</td><td>Change" became "PriceChange"): a space after each one's end tag
/// survives the sanitizer and keeps the words apart.
fn space_dropped_blocks(html: &str) -> Cow<'_, str> {
    static BLOCK_END: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)</(?:td|th|tr|table|div|section|article|header|footer|dt|dd)\s*>")
            .expect("valid regex")
    });
    BLOCK_END.replace_all(html, "$0 ")
}

/// Plain text from HTML: block elements become line breaks, whitespace is folded.
/// Iterative, so hostile nesting depth cannot overflow the stack.
pub fn html_to_text(html: &str) -> String {
    if too_deep(html, MAX_NESTING) {
        return strip_tags(html);
    }
    let doc = scraper::Html::parse_fragment(html);
    let mut out = String::new();
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                scraper::Node::Text(t) => push_folded(&mut out, t),
                scraper::Node::Element(e) if is_block(e.name()) => push_break(&mut out),
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                if let scraper::Node::Element(e) = node.value() {
                    if is_block(e.name()) {
                        push_break(&mut out);
                    }
                }
            }
        }
    }
    out.trim().to_string()
}

/// [`html_to_text`] for HTML that [`Sanitizer::sanitize`] wrote, without parsing it again:
/// the sanitizer's serializer writes well-formed markup (every attribute double-quoted, text
/// escaped with a handful of entities, no comments, scripts or styles), so a scan over its
/// tags gives the same text. Anything else it meets (an unknown entity) falls back to the
/// parser.
pub fn sanitized_to_text(html: &str) -> String {
    if too_deep(html, MAX_NESTING) {
        return strip_tags(html);
    }
    scan_text(html).unwrap_or_else(|| html_to_text(html))
}

fn scan_text(html: &str) -> Option<String> {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while !rest.is_empty() {
        let text_end = rest.find('<').unwrap_or(rest.len());
        if text_end > 0 {
            push_folded(&mut out, &decode_entities(&rest[..text_end])?);
        }
        rest = &rest[text_end..];
        if rest.is_empty() {
            break;
        }
        // A tag: up to the first `>` outside a double-quoted attribute value.
        let mut quoted = false;
        let end = rest.find(|c: char| {
            if c == '"' {
                quoted = !quoted;
            }
            c == '>' && !quoted
        })?;
        let name: String = rest[1..end]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if is_block(&name) {
            push_break(&mut out);
        }
        rest = &rest[end + 1..];
    }
    Some(out.trim().to_string())
}

/// Decodes the entities an HTML serializer writes; None for any other.
fn decode_entities(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('&') {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';')?;
        let c = match &rest[1..end] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "nbsp" => '\u{a0}',
            "#39" => '\'',
            _ => return None,
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "tr"
            | "table"
            | "td"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "hr"
    )
}

fn push_folded(out: &mut String, text: &str) {
    let words = text
        .split_whitespace()
        .filter(|w| !w.chars().all(is_invisible));
    for (i, word) in words.enumerate() {
        let starts_with_space = i > 0 || text.starts_with(char::is_whitespace);
        if starts_with_space && !out.is_empty() && !out.ends_with([' ', '\n']) {
            out.push(' ');
        }
        if word.contains(is_invisible) {
            out.extend(word.chars().filter(|&c| !is_invisible(c) || is_joiner(c)));
        } else {
            out.push_str(word);
        }
    }
    if text.ends_with(char::is_whitespace) && !out.is_empty() && !out.ends_with([' ', '\n']) {
        out.push(' ');
    }
}

/// Characters that take no room: zero-width spaces and joiners, the byte-order mark, soft
/// hyphens. Mail templates pad their preview text with runs of them ("&zwnj; &zwnj; …") so
/// the mail client's preview line shows nothing else; in a summary they are empty space.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}'
    )
}

/// Joiners inside a word do something (an emoji sequence, Persian spelling): kept there.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

fn push_break(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
    }
}

/// Parses a whole HTML document, unless it nests deeper than [`MAX_NESTING`]: then its text
/// alone is parsed, so hostile nesting costs linear time. Every document parse goes through here.
pub fn parse_document(html: &str) -> scraper::Html {
    if too_deep(html, MAX_NESTING) {
        return scraper::Html::parse_document(&format!("<p>{}</p>", escape(&strip_tags(html))));
    }
    scraper::Html::parse_document(html)
}

/// A linear over-estimate of the element nesting depth: opening tags minus closing tags, void
/// elements and `/>` not counted. Over-estimates (unclosed `<p>`) only cost formatting.
pub fn too_deep(html: &str, limit: usize) -> bool {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    let b = html.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off + 1;
        match b.get(i) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name_end = b[i..]
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric())
                    .map_or(b.len(), |p| i + p);
                let name = html[i..name_end].to_ascii_lowercase();
                let tag_end = b[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(b.len(), |p| i + p);
                let self_closing = tag_end > 0 && b.get(tag_end - 1) == Some(&b'/');
                if !VOID.contains(&name.as_str()) && !self_closing {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// Text with every tag removed and whitespace folded: the fallback for HTML too hostile to parse.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts text to at most `max` characters at a word boundary, adding an ellipsis.
pub fn truncate_words(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut[..],
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ';')
    )
}

/// Escapes text for HTML (for the rare place where text must become markup outside a template).
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            _ => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_padding_of_zero_width_characters_is_no_text() {
        let html = "<p>Our winter issue \u{200C} \u{200C}&zwnj; \u{FEFF} \u{200B}</p>\
                    <p>soft\u{AD}hyphen, a family 👩\u{200D}👧 and \u{200C}\u{200C}</p>";
        let want = "Our winter issue\n\nsofthyphen, a family 👩\u{200D}👧 and";
        assert_eq!(html_to_text(html), want);
        let s = Sanitizer::new(&Cleaner::default());
        assert_eq!(sanitized_to_text(&s.sanitize(html)), want);
    }

    #[test]
    fn text_of_sanitized_html_is_what_parsing_it_gives() {
        let s = Sanitizer::new(&Cleaner::default());
        let samples = [
            "<p>One  two</p><p>three<br>four</p>",
            "a <b>bold</b> word &amp; <i>more</i> &lt;tags&gt; &quot;quoted&quot; it's",
            "<div>Price</div><div>Change</div><table><tr><td>1</td><td>2</td></tr></table>",
            r#"<a href="https://e.org/?a=1&amp;b=2" title="x > y">link</a> after"#,
            "non&nbsp;breaking\u{a0}space and\ttabs\n\nand lines",
            "<ul><li>one</li><li>two <em>three</em></li></ul><h2>Head</h2>tail",
            "<pre>  code   here </pre><blockquote>quote</blockquote><hr>end",
            "<p>Zürich café — “quotes” ✓</p><p></p><p> </p>",
            "<script>alert(1)</script><style>p{}</style><!-- c -->visible",
            "unclosed <p>para <b>bold <i>both",
            "&copy; 2026 &#169; &eacute;t&eacute; &#x2F;",
            "",
        ];
        for raw in samples {
            let safe = s.sanitize(raw);
            assert_eq!(
                sanitized_to_text(&safe),
                html_to_text(&safe),
                "{raw:?} → {safe:?}"
            );
        }
        // Something no serializer writes still gets the parser's answer.
        assert_eq!(
            sanitized_to_text("a &hellip; b"),
            html_to_text("a &hellip; b")
        );
    }

    #[test]
    fn hostile_html_is_defused() {
        let s = Sanitizer::new(&Cleaner::default());
        let out = s.sanitize(
            r#"<p onclick="x()">Hi <script>alert(1)</script><img src="https://t.example/p.gif" width="1" height="1">
            <a href="javascript:alert(1)">js</a> <a href="https://e.org/?utm_source=x&id=2">ok</a>
            <iframe src="https://evil.example"></iframe><form><input></form><a href="data:text/html,x">d</a>
            <p style="background:url(https://t.example/x)">styled</p></p>"#,
        );
        for bad in [
            "script",
            "alert",
            "<img",
            "onclick",
            "iframe",
            "javascript:",
            "data:",
            "<form",
            "style=",
            "t.example",
        ] {
            assert!(!out.contains(bad), "{bad} survived: {out}");
        }
        assert!(out.contains(r#"href="https://e.org/?id=2""#), "{out}");
        assert!(out.contains("noopener"), "{out}");
    }

    #[test]
    fn dropped_table_cells_and_divs_keep_their_words_apart() {
        let s = Sanitizer::new(&Cleaner::default());
        let out = s.sanitize(
            "<table><tr><td>Price</td><TD>Change</TD ></tr></table><div>one</div><div>two</div>",
        );
        for word in ["Price", "Change", "one", "two"] {
            assert!(
                out.split_whitespace().any(|w| w == word),
                "{word} glued to a neighbour: {out}"
            );
        }
        assert!(!out.contains("<td") && !out.contains("<div"), "{out}");
    }

    #[test]
    fn text_keeps_paragraphs_apart() {
        assert_eq!(
            html_to_text("<p>One  two</p><p>three<br>four</p>"),
            "One two\n\nthree\n\nfour"
        );
        assert_eq!(html_to_text("a <b>bold</b> word"), "a bold word");
    }

    #[test]
    fn deep_nesting_is_neither_slow_nor_a_stack_overflow() {
        let html = "<div>".repeat(100_000) + "deep <script>x</script>" + &"</div>".repeat(100_000);
        assert!(too_deep(&html, MAX_NESTING));
        assert_eq!(html_to_text(&html), "deep x");
        let s = Sanitizer::new(&Cleaner::default());
        assert!(!s.sanitize(&html).contains('<'));
        // Ordinary markup, void elements and self-closing tags stay on the parser path.
        let normal = "<p>a<br>b<img src=x/><hr/></p>".repeat(1000);
        assert!(!too_deep(&normal, MAX_NESTING));
    }

    #[test]
    fn a_long_summary_read_from_its_prefix_equals_the_whole_read() {
        let s = Sanitizer::new(&Cleaner::default());
        // Cut points land inside tags, attributes, entities, comments and multi-byte text.
        let pieces = [
            "<p>Plain words ",
            "<a href=\"https://example.com/a?utm_source=x\">a link</a> ",
            "caf\u{e9} &amp; th\u{e9} &eacute; ",
            "<!-- a comment --> ",
            "<table><tr><td>cell</td><td>cell</td></tr></table>",
            "<img src=\"https://pixel.example/p.gif\"> ",
            "<em>emphasis</em></p>\n",
            "<style>p { color: red }</style>",
        ];
        for shift in 0..40 {
            let mut html = "x".repeat(shift);
            let mut i = shift;
            while html.len() < 3 * SUMMARY_PREFIX_BYTES {
                html.push_str(pieces[i % pieces.len()]);
                i += 7;
            }
            assert_eq!(
                s.summarize(&html),
                s.summarize_whole(&html),
                "shift {shift}"
            );
        }
        // Mostly markup: the prefix has too little text, and the whole is read.
        let heavy = format!(
            "{}<p>{}</p>",
            "<span class=\"wrapper\"></span>".repeat(400),
            "word ".repeat(200)
        );
        assert_eq!(s.summarize(&heavy), s.summarize_whole(&heavy));
        assert!(s.summarize(&heavy).1.starts_with("word word"));
    }

    #[test]
    fn long_summaries_are_cut_at_a_word() {
        let s = Sanitizer::new(&Cleaner::default());
        let long = format!("<p>{}</p>", "word ".repeat(200));
        let (html, text) = s.summarize(&long);
        assert!(text.ends_with('…') && text.chars().count() <= MAX_SUMMARY_CHARS + 1);
        assert!(!html.contains("<p>"));
    }
}
