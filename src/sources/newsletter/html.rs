//! Stories from an HTML newsletter: headline links with the text that belongs to them, and
//! teasers told by a heading (by markup or inline style) with prose under it.

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use scraper::{ElementRef, Selector};

use crate::html::truncate_words;
use crate::links::Cleaner;

use super::confirm::html_links;
use super::furniture::{
    is_boilerplate, is_call_to_action, is_caps_label, is_furniture_text, is_related_pointer,
    is_sponsor_label, is_web_version, looks_like_contact, PHRASES,
};
use super::text::{looks_like_headline, stories_from_text};
use super::{fold, Found, MAX_BLURB_CHARS, MAX_HEADLINE_CHARS, MIN_HEADLINE_WORDS};

/// The essay's title in the body: the first `h1` (or the first heading), if any.
pub(super) fn post_title_html(html: &str) -> Option<String> {
    let doc = crate::html::parse_document(html);
    let sel = Selector::parse("h1, h2").ok()?;
    doc.select(&sel)
        .map(element_text)
        // "Liebe Kundin, lieber Kunde," greets: a salutation ends with a comma, a title does not.
        .find(|t| {
            t.split_whitespace().count() >= 2
                && t.len() <= MAX_HEADLINE_CHARS
                && !t.trim_end().ends_with(',')
        })
}

/// The essay's web link in an HTML body: the title link, else "view online".
pub(super) fn title_link_html(html: &str, cleaner: &Cleaner) -> Option<String> {
    let doc = crate::html::parse_document(html);
    let sel = Selector::parse("h1 a[href], h2 a[href]").ok()?;
    let title = doc
        .select(&sel)
        .find(|a| {
            let href = a.value().attr("href").unwrap_or("");
            href.starts_with("http")
                && !element_text(*a).is_empty()
                && !is_boilerplate(&element_text(*a), href)
        })
        .and_then(|a| a.value().attr("href").map(str::to_string));
    title
        .or_else(|| {
            html_links(html)
                .into_iter()
                .find(|(t, _)| is_web_version(t))
                .map(|(_, u)| u)
        })
        .map(|u| cleaner.clean(&u))
}

/// "See also South China Morning Post" → "South China Morning Post"; the link's host when
/// the pointer names nothing ("Related:").
pub(super) fn pointed_to(text: &str, url: &str) -> String {
    let t = text.trim();
    let lower = t.to_lowercase();
    let rest = PHRASES
        .links
        .related_prefixes
        .iter()
        .find(|p| lower.starts_with(p.as_str()))
        .map_or(t, |p| &t[p.len()..]);
    let name = rest.trim_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-' | '—' | '.'));
    if name.is_empty() {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| url.to_string())
    } else {
        name.to_string()
    }
}

/// The visible text of an element: what is inside `<script>`, `<style>` and the like is code,
/// not prose, and must not end up in a blurb.
pub(super) fn element_text(e: ElementRef<'_>) -> String {
    let hidden = |n: ego_tree::NodeRef<'_, scraper::Node>| {
        n.ancestors().take_while(|a| a.id() != e.id()).any(|a| {
            a.value().as_element().is_some_and(|el| {
                matches!(
                    el.name(),
                    "script" | "style" | "noscript" | "template" | "title"
                )
            })
        })
    };
    let parts: Vec<&str> = e
        .descendants()
        .filter(|n| !hidden(*n))
        .filter_map(|n| n.value().as_text().map(|t| &**t))
        .collect();
    fold(&parts.join(" "))
}

pub(super) fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

pub(super) fn is_block(name: &str) -> bool {
    is_heading(name)
        || matches!(
            name,
            "p" | "li"
                | "td"
                | "th"
                | "div"
                | "section"
                | "article"
                | "blockquote"
                | "tr"
                | "table"
        )
}

pub(super) fn stories_from_html(html: &str, cleaner: &Cleaner) -> Vec<Found> {
    if crate::html::too_deep(html, crate::html::MAX_NESTING) {
        return stories_from_text(&crate::html::strip_tags(html), cleaner);
    }
    let doc = crate::html::parse_document(html);
    let Ok(sel) = Selector::parse("h1, h2, h3, h4, a[href]") else {
        return Vec::new();
    };
    let mut out: Vec<Found> = Vec::new();
    let mut links: Vec<ElementRef<'_>> = Vec::new();
    let mut section: Option<String> = None;
    let mut section_sponsored = false;
    for el in doc.select(&sel) {
        let name = el.value().name();
        if is_heading(name) {
            // A heading with no link of its own is a section title ("Markets", "Tech"), except
            // an h1: that is the masthead or the issue's title ("Under Weekly"), and taken as
            // a section it made a topic of every newsletter.
            let has_link = el
                .descendants()
                .filter_map(ElementRef::wrap)
                .any(|d| d.value().name() == "a");
            let text = element_text(el);
            if name != "h1" && !has_link && !text.is_empty() && text.len() <= 60 {
                section_sponsored = is_sponsor_label(&text);
                section = Some(text);
            }
            continue;
        }
        let Some(href) = el.value().attr("href").map(str::trim) else {
            continue;
        };
        if !(href.starts_with("http://") || href.starts_with("https://")) {
            continue;
        }
        let text = element_text(el);
        if is_related_pointer(&text) {
            // "See also …": another outlet for the story before, not a story.
            let url = cleaner.clean(href);
            if let Some(last) = out.last_mut() {
                last.also.push((pointed_to(&text, &url), url));
            }
            continue;
        }
        // `Headline<br><a>http://…</a>`: the line above names the story the URL points to.
        let text = if text.starts_with("http://")
            || text.starts_with("https://")
            || text.starts_with("www.")
        {
            match line_before(el) {
                Some(line) => line,
                None => continue,
            }
        } else {
            text
        };
        let short = text.split_whitespace().count() < MIN_HEADLINE_WORDS;
        if is_boilerplate(&text, href)
            || text.is_empty()
            || text.len() > MAX_HEADLINE_CHARS
            || is_call_to_action(&text)
        {
            continue;
        }
        let Some(blurb) = headline_blurb(el, &text) else {
            continue;
        };
        // "Awilix 8.0" above its one-line description: a short headline is a name set in
        // bold with a blurb of its own; a short link otherwise is navigation ("Software").
        // The blurb must share the name's block: a short bold link alone in its cell is a
        // menu entry, whatever follows the cell.
        let shares_block = el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|a| is_block(a.value().name()))
            .is_some_and(|b| element_text(b).len() > text.len());
        if short
            && (blurb.split_whitespace().count() < MIN_HEADLINE_WORDS
                || !emphasised(el)
                || !shares_block
                || is_caps_label(&text))
        {
            continue;
        }
        let url = cleaner.clean(href);
        if out.iter().any(|f| f.url.as_deref() == Some(url.as_str())) {
            continue;
        }
        links.push(el);
        out.push(Found {
            title: text,
            url: Some(url),
            blurb,
            section: section.clone().filter(|_| !section_sponsored),
            sponsored: section_sponsored,
            also: Vec::new(),
            headed: false,
        });
    }
    let ids: HashSet<NodeId> = links.iter().map(|l| l.id()).collect();
    for (f, link) in out.iter_mut().zip(&links) {
        f.sponsored = f.sponsored || in_sponsored_block(*link, &ids);
    }
    // The options of a poll ("🥛🥛🥛 Meh, do better", "🥛 Great"): three or more bare links
    // opening with the same symbol.
    let mut marks: HashMap<char, usize> = HashMap::new();
    for f in out.iter().filter(|f| f.blurb.is_empty()) {
        if let Some(c) = f.title.chars().next().filter(|c| !c.is_alphanumeric()) {
            *marks.entry(c).or_default() += 1;
        }
    }
    let poll = |f: &Found| {
        f.blurb.is_empty()
            && f.title
                .chars()
                .next()
                .is_some_and(|c| marks.get(&c).is_some_and(|n| *n >= MIN_POLL_OPTIONS))
    };
    let (links, out): (Vec<ElementRef<'_>>, Vec<Found>) = links
        .into_iter()
        .zip(out)
        .filter(|(_, f)| !poll(f) && !looks_like_contact(&f.title))
        .unzip();
    let ids: HashSet<NodeId> = links.iter().map(|l| l.id()).collect();
    // Every node's place in document order, for both kinds of story.
    let order: HashMap<NodeId, usize> = doc
        .tree
        .root()
        .descendants()
        .enumerate()
        .map(|(i, n)| (n.id(), i))
        .collect();
    let headed = headed_blocks(&doc, &order, &ids, &out, cleaner);
    if headed.is_empty() {
        return out;
    }
    // Both kinds in the order the reader meets them.
    let mut all: Vec<(usize, Found)> = links
        .iter()
        .map(|l| order[&l.id()])
        .zip(out)
        .chain(headed)
        .collect();
    all.sort_by_key(|(at, _)| *at);
    all.into_iter().map(|(_, f)| f).collect()
}

/// Bare links opening with one symbol that make a poll.
pub(super) const MIN_POLL_OPTIONS: usize = 3;

/// Words of prose under a heading for it to head a story rather than a section or a label.
pub(super) const MIN_HEADED_PROSE_WORDS: usize = 12;

/// Most words of a heading taken for a headline.
pub(super) const MAX_HEADING_WORDS: usize = 20;

/// Prose kept from under a heading, in words (the blurb is cut shorter later).
pub(super) const MAX_HEADED_PROSE_WORDS: usize = 120;

/// A bold run at the start of `block` that is a lead of its own, not the opening words of a
/// sentence in bold: the whole block, or followed by a colon or dash, or by a line break.
/// `after` is the visible text that follows it.
pub(super) fn stands_apart(
    bold: ElementRef<'_>,
    block: ElementRef<'_>,
    after: &[(usize, &str, Option<ElementRef<'_>>)],
) -> bool {
    let text = element_text(bold);
    if text.trim_end().ends_with([':', '–', '—']) || element_text(block) == text {
        return true;
    }
    let next = after.first().map(|(_, t, _)| t.trim_start()).unwrap_or("");
    // `<strong>Headline<br></strong>Prose…`: the break inside the bold ends its line too.
    let breaks_inside = bold
        .children()
        .rev()
        .find(|n| !n.value().as_text().is_some_and(|t| t.trim().is_empty()))
        .and_then(ElementRef::wrap)
        .is_some_and(|e| e.value().name() == "br");
    next.starts_with([':', '–', '—', '-', '|']) || breaks_inside || ends_line(bold)
}

/// Most words of prose under a heading for a teaser; more is a section of an essay.
pub(super) const MAX_TEASER_PROSE_WORDS: usize = 250;

/// Stories told without a headline link, found by structure: a heading (`h2`–`h4`), or a
/// bold run that opens its block, with prose of its own under it before the next heading or
/// headline link (a heading right above a headline link is a section or a kicker). Its link
/// is a call to action or a button in that prose ("Read more", a link alone in its block), not
/// a citation inside a sentence; without one the story has no link. Returns each with its
/// position in document order (`index`: every node's, from the caller). `taken` are the
/// headline links already stories.
pub(super) fn headed_blocks(
    doc: &scraper::Html,
    index: &HashMap<NodeId, usize>,
    taken: &HashSet<NodeId>,
    found: &[Found],
    cleaner: &Cleaner,
) -> Vec<(usize, Found)> {
    use crate::group::dedup::title_key;
    let nodes: Vec<ego_tree::NodeRef<'_, scraper::Node>> = doc.tree.root().descendants().collect();
    let is_hidden = |n: &ego_tree::NodeRef<'_, scraper::Node>| {
        n.ancestors().any(|a| {
            a.value().as_element().is_some_and(|el| {
                matches!(
                    el.name(),
                    "script" | "style" | "noscript" | "template" | "title" | "head"
                )
            })
        })
    };
    // Visible text, each piece with its position and the link it sits in.
    let mut texts: Vec<(usize, &str, Option<ElementRef<'_>>)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let Some(t) = n.value().as_text() else {
            continue;
        };
        if t.trim().is_empty() || is_hidden(n) {
            continue;
        }
        let link = n
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|a| a.value().name() == "a" && a.value().attr("href").is_some());
        texts.push((i, t, link));
    }
    let first_text_at = |from: usize| texts.partition_point(|(i, _, _)| *i < from);

    // Headings and bold leads, by position.
    let mut heads: Vec<(usize, usize, ElementRef<'_>)> = Vec::new(); // (start, end, element)
    for (i, n) in nodes.iter().enumerate() {
        let Some(el) = ElementRef::wrap(*n) else {
            continue;
        };
        let name = el.value().name();
        let end = i + n.descendants().count();
        if heads.last().is_some_and(|(_, e, _)| i < *e) {
            continue; // inside the previous head
        }
        let has_link = el
            .descendants()
            .filter_map(ElementRef::wrap)
            .any(|d| d.value().name() == "a" && d.value().attr("href").is_some());
        if has_link
            || el
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name() == "a")
        {
            continue;
        }
        // Type set large or bold by inline style reads as a heading too, when it is a
        // heading's length (a styled span around a whole paragraph is not).
        let styled = matches!(name, "span" | "a" | "font")
            && el.value().attr("style").is_some_and(style_is_emphasis)
            && (2..=MAX_HEADING_WORDS).contains(&element_text(el).split_whitespace().count());
        let head = match name {
            "h2" | "h3" | "h4" => true,
            _ if styled || matches!(name, "strong" | "b") => {
                // A bold run that opens its block: nothing visible before it in the block.
                let block = el
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .find(|a| is_block(a.value().name()));
                let in_heading = el
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .any(|a| is_heading(a.value().name()));
                block.is_some_and(|b| {
                    let k = first_text_at(index[&b.id()]);
                    let opens = texts.get(k).is_some_and(|(at, _, _)| *at > i && *at < end);
                    opens && stands_apart(el, b, &texts[first_text_at(end)..])
                }) && !in_heading
            }
            _ => false,
        };
        if head && !is_hidden(n) {
            heads.push((i, end, el));
        }
    }
    let mut stops: Vec<usize> = heads.iter().map(|(i, _, _)| *i).collect();
    stops.extend(taken.iter().filter_map(|id| index.get(id)));
    stops.sort_unstable();

    let known: HashSet<String> = found.iter().map(|f| title_key(&f.title)).collect();
    let mut out = Vec::new();
    for &(start, end, el) in &heads {
        let text = element_text(el);
        let title = text
            .trim_end_matches(|c: char| matches!(c, ':' | '–' | '—' | '-') || c.is_whitespace())
            .to_string();
        let words = title.split_whitespace().count();
        // "Why it matters:" labels a paragraph; "Dear reader," greets.
        let label = text.trim_end().ends_with(':') && words < 4;
        if !(2..=MAX_HEADING_WORDS).contains(&words)
            || label
            || is_caps_label(&title)
            || text.trim_end().ends_with(',')
            || title.len() > MAX_HEADLINE_CHARS
            || is_sponsor_label(&title)
            || is_call_to_action(&title)
            || looks_like_contact(&title)
            || is_furniture_text(&title)
            || known.contains(&title_key(&title))
        {
            continue;
        }
        let next = stops
            .iter()
            .copied()
            .find(|&s| s >= end)
            .unwrap_or(nodes.len());
        let mut prose: Vec<&str> = Vec::new();
        let (mut n_words, mut url) = (0, None);
        for &(_, t, link) in &texts[first_text_at(end)..first_text_at(next)] {
            match link {
                Some(a) => {
                    let href = a.value().attr("href").unwrap_or("").trim();
                    let link_text = element_text(a);
                    // "(Email)" in a sentence names a contact; an unsubscribe or share link
                    // ends the story's prose.
                    if href.starts_with("mailto:") {
                        prose.push(t);
                        n_words += t.split_whitespace().count();
                        continue;
                    }
                    if is_boilerplate(&link_text, href) {
                        break;
                    }
                    let generic = is_call_to_action(&link_text);
                    let alone = a
                        .ancestors()
                        .filter_map(ElementRef::wrap)
                        .find(|b| is_block(b.value().name()))
                        .is_some_and(|b| element_text(b) == link_text);
                    let web = href.starts_with("http://") || href.starts_with("https://");
                    if url.is_none() && web && (generic || alone) && n_words > 0 {
                        url = Some(cleaner.clean(href));
                    }
                    if !(generic || alone) {
                        // A citation reads as part of the sentence.
                        prose.push(t);
                        n_words += t.split_whitespace().count();
                    }
                }
                None => {
                    prose.push(t);
                    n_words += t.split_whitespace().count();
                }
            }
            if n_words > MAX_TEASER_PROSE_WORDS {
                break;
            }
        }
        if !(MIN_HEADED_PROSE_WORDS..=MAX_TEASER_PROSE_WORDS).contains(&n_words) {
            continue;
        }
        let mut blurb = String::new();
        for t in prose {
            if blurb.split_whitespace().count() >= MAX_HEADED_PROSE_WORDS {
                break;
            }
            blurb.push(' ');
            blurb.push_str(t);
        }
        let blurb = fold(&blurb);
        if is_furniture_text(&blurb) {
            continue;
        }
        out.push((
            start,
            signature(el),
            Found {
                title,
                url,
                blurb: truncate_words(&blurb, MAX_BLURB_CHARS),
                section: None,
                sponsored: false,
                also: Vec::new(),
                headed: true,
            },
        ));
    }
    // Teasers repeat one template; a heading styled like no other is a section's or an
    // essay's subheading, a masthead or a box of furniture.
    let mut styles: HashMap<&str, usize> = HashMap::new();
    for (_, sig, _) in &out {
        *styles.entry(sig.as_str()).or_default() += 1;
    }
    let repeated: HashSet<String> = styles
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(s, _)| s.to_string())
        .collect();
    out.into_iter()
        .filter(|(_, sig, _)| repeated.contains(sig))
        .map(|(at, _, f)| (at, f))
        .collect()
}

/// How a heading is marked up: its element, class and style and those of its parent.
pub(super) fn signature(el: ElementRef<'_>) -> String {
    let mark = |e: ElementRef<'_>| {
        let v = e.value();
        format!(
            "{}.{}.{}",
            v.name(),
            v.attr("class").unwrap_or(""),
            v.attr("style").unwrap_or("")
        )
    };
    let parent = el
        .parent()
        .and_then(ElementRef::wrap)
        .map(mark)
        .unwrap_or_default();
    format!("{}/{parent}", mark(el))
}

/// True when the smallest block around `link` that holds no other headline carries a sponsor
/// label.
pub(super) fn in_sponsored_block(link: ElementRef<'_>, headlines: &HashSet<NodeId>) -> bool {
    for anc in link.ancestors().filter_map(ElementRef::wrap) {
        if matches!(anc.value().name(), "body" | "html") {
            return false;
        }
        let other = anc
            .descendants()
            .any(|d| d.id() != link.id() && headlines.contains(&d.id()));
        if other {
            return false;
        }
        let labelled = anc.descendants().any(|d| {
            d.value()
                .as_text()
                .is_some_and(|t| is_sponsor_label(t) && !t.trim().is_empty())
        });
        if labelled {
            return true;
        }
    }
    false
}

/// If the link is a headline, the blurb that belongs to it (possibly empty); `None` for an
/// inline link in running text.
pub(super) fn headline_blurb(link: ElementRef<'_>, link_text: &str) -> Option<String> {
    let block = link
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| is_block(a.value().name()))?;
    let block_text = element_text(block);
    let in_heading = is_heading(block.value().name());
    let fills_block = link_text.len() * 10 >= block_text.len() * 8;
    if in_heading || fills_block {
        return Some(following_text(block));
    }
    // "**Headline** – blurb in the same paragraph": a bold link at the start of its block, or
    // one set apart by a dash or colon.
    let set_apart = block_text
        .strip_prefix(link_text)
        .is_some_and(|rest| rest.trim_start().starts_with(['—', '–', ':', '|']));
    if (emphasised(link) || set_apart) && block_text.starts_with(link_text) {
        let rest = block_text[link_text.len()..]
            .trim_start_matches([' ', ':', '-', '–', '—', '.'])
            .trim();
        return Some(rest.to_string());
    }
    // "Headline<br>blurb": a link that opens its block on a line of its own, with prose
    // after it (not only more links: that is a list, below).
    let prose_after = block
        .descendants()
        .filter(|n| {
            n.value().as_text().is_some_and(|t| !t.trim().is_empty())
                && !n
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .any(|a| a.value().name() == "a")
        })
        .count()
        > 0;
    if block_text.starts_with(link_text) && ends_line(link) && prose_after {
        let rest = text_without_minor_links(block);
        let rest = rest
            .strip_prefix(link_text)
            .unwrap_or(&rest)
            .trim_start_matches([' ', ':', '-', '–', '—', '.'])
            .trim();
        return Some(rest.to_string());
    }
    // A list of headlines, one link a line (`<a>…</a><br><a>…</a><br>`): each stands alone.
    // A menu is such a list too, of short names in Title Case ("Latest Windows Daily").
    if on_own_line(link) && reads_as_headline(link_text) {
        return Some(String::new());
    }
    None
}

/// Words of a headline that stands alone in a list of links.
pub(super) const MIN_LISTED_HEADLINE_WORDS: usize = 4;

/// A listed headline in Title Case needs this many words to be no menu entry.
pub(super) const MIN_TITLE_CASE_HEADLINE_WORDS: usize = 6;

/// A sentence-like headline rather than a name: enough words, and in sentence case unless
/// long ("Telecom firm leaks student data to Web", not "Top 50 Fun Sites").
pub(super) fn reads_as_headline(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let capitalised = words
        .iter()
        .filter(|w| !w.chars().next().is_some_and(char::is_lowercase))
        .count();
    let title_case = capitalised * 10 >= words.len() * 8;
    words.len() >= MIN_LISTED_HEADLINE_WORDS
        && (!title_case || words.len() >= MIN_TITLE_CASE_HEADLINE_WORDS)
}

/// Inline elements a link may sit in without leaving its line.
pub(super) fn is_inline_wrapper(name: &str) -> bool {
    matches!(
        name,
        "b" | "strong" | "span" | "em" | "i" | "font" | "u" | "small" | "big"
    )
}

/// Whitespace, a comment or an image (a bullet icon): nothing that shares a line's text.
pub(super) fn is_blank(n: &ego_tree::NodeRef<'_, scraper::Node>) -> bool {
    n.value().as_text().is_some_and(|t| t.trim().is_empty())
        || n.value().is_comment()
        || n.value().as_element().is_some_and(|e| e.name() == "img")
}

pub(super) fn is_break(n: Option<ego_tree::NodeRef<'_, scraper::Node>>) -> bool {
    n.and_then(ElementRef::wrap)
        .is_some_and(|e| matches!(e.value().name(), "br" | "hr"))
}

/// True when nothing but line breaks or its block's edges stand beside the link.
pub(super) fn on_own_line(link: ElementRef<'_>) -> bool {
    let mut node = link;
    loop {
        let prev = node.prev_siblings().find(|n| !is_blank(n));
        let next = node.next_siblings().find(|n| !is_blank(n));
        if (prev.is_some() && !is_break(prev)) || (next.is_some() && !is_break(next)) {
            return false;
        }
        if prev.is_some() && next.is_some() {
            return true;
        }
        match node.parent().and_then(ElementRef::wrap) {
            Some(p) if is_inline_wrapper(p.value().name()) => node = p,
            _ => return true,
        }
    }
}

/// The line of text right above a link whose text is its URL
/// (`Headline<br><a href="…">http://…</a>`): the story's headline in a plain-text layout.
pub(super) fn line_before(link: ElementRef<'_>) -> Option<String> {
    let mut node = link;
    // Climb out of inline wrappers at the start of their content.
    while node.prev_siblings().all(|n| is_blank(&n)) {
        match node.parent().and_then(ElementRef::wrap) {
            Some(p) if is_inline_wrapper(p.value().name()) => node = p,
            _ => return None,
        }
    }
    let mut siblings = node.prev_siblings().filter(|n| !is_blank(n)).peekable();
    // The break that ends the headline's line.
    if !is_break(siblings.peek().copied()) {
        return None;
    }
    siblings.next();
    let mut parts: Vec<String> = Vec::new();
    for n in siblings {
        if is_break(Some(n)) {
            break;
        }
        match ElementRef::wrap(n) {
            Some(e) if is_block(e.value().name()) || e.value().name() == "a" => break,
            Some(e) => parts.push(element_text(e)),
            None => parts.push(
                n.value()
                    .as_text()
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            ),
        }
    }
    parts.reverse();
    let line = fold(&parts.join(" "));
    (line.split_whitespace().count() >= MIN_HEADLINE_WORDS && looks_like_headline(&line))
        .then_some(line)
}

/// Set in bold or large type, by markup (`<b>`, `<strong>`) or inline style, on the link,
/// an inline wrapper around it or an element inside it.
pub(super) fn emphasised(link: ElementRef<'_>) -> bool {
    let styled = |e: ElementRef<'_>| {
        matches!(e.value().name(), "strong" | "b")
            || e.value().attr("style").is_some_and(style_is_emphasis)
    };
    styled(link)
        || link
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take_while(|a| !is_block(a.value().name()))
            .any(styled)
        || link.descendants().filter_map(ElementRef::wrap).any(styled)
}

/// Smallest font size, in pixels, that reads as a heading in mail (body text is 14–16px).
pub(super) const MIN_HEADING_PX: f64 = 17.0;

/// `font-weight: bold` or 600 and more, or `font-size` of [`MIN_HEADING_PX`] or more.
pub(super) fn style_is_emphasis(style: &str) -> bool {
    style.split(';').any(|decl| {
        let Some((prop, value)) = decl.split_once(':') else {
            return false;
        };
        let value = value
            .trim()
            .trim_end_matches("!important")
            .trim()
            .to_ascii_lowercase();
        match prop.trim().to_ascii_lowercase().as_str() {
            "font-weight" => {
                value.starts_with("bold") || value.parse::<u32>().is_ok_and(|w| w >= 600)
            }
            "font-size" => value
                .strip_suffix("px")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .is_some_and(|px| px >= MIN_HEADING_PX),
            _ => false,
        }
    })
}

/// True when the next thing after the link (or its bold wrapper) is a line break.
pub(super) fn ends_line(link: ElementRef<'_>) -> bool {
    let mut node = link;
    // Climb out of inline wrappers (`<b><a>…</a></b><br>`).
    while node
        .next_siblings()
        .all(|n| n.value().as_text().is_some_and(|t| t.trim().is_empty()))
    {
        match node.parent().and_then(ElementRef::wrap) {
            Some(p) if matches!(p.value().name(), "b" | "strong" | "span" | "em") => node = p,
            _ => break,
        }
    }
    node.next_siblings()
        .find(|n| !n.value().as_text().is_some_and(|t| t.trim().is_empty()))
        .and_then(ElementRef::wrap)
        .is_some_and(|e| e.value().name() == "br")
}

/// The block's text without short links ("comments", "share"), which are not the blurb.
pub(super) fn text_without_minor_links(block: ElementRef<'_>) -> String {
    let mut out = String::new();
    for node in block.descendants() {
        let Some(t) = node.value().as_text() else {
            continue;
        };
        let in_minor_link = node.ancestors().filter_map(ElementRef::wrap).any(|a| {
            a.value().name() == "a"
                && element_text(a).split_whitespace().count() < MIN_HEADLINE_WORDS
        });
        if !in_minor_link {
            out.push(' ');
            out.push_str(t);
        }
    }
    fold(&out)
}

/// The text of the first non-empty element after `block`, climbing a few levels for table
/// layouts where the headline cell is the last thing in its row.
pub(super) fn following_text(block: ElementRef<'_>) -> String {
    let mut cur = block;
    for _ in 0..4 {
        for sib in cur.next_siblings().filter_map(ElementRef::wrap) {
            let has_headline = sib
                .descendants()
                .filter_map(ElementRef::wrap)
                .any(|d| is_heading(d.value().name()));
            let text = element_text(sib);
            if has_headline || text.is_empty() {
                if has_headline {
                    return String::new();
                }
                continue;
            }
            let links_text: usize = sib.select(&LINKS).map(|a| element_text(a).len()).sum();
            // A sibling that is mostly a link is the next headline, not this one's blurb.
            if links_text * 10 >= text.len() * 8 {
                return String::new();
            }
            return text;
        }
        match cur.parent().and_then(ElementRef::wrap) {
            Some(p) if !matches!(p.value().name(), "body" | "html") => cur = p,
            _ => break,
        }
    }
    String::new()
}

pub(super) static LINKS: std::sync::LazyLock<Selector> =
    std::sync::LazyLock::new(|| Selector::parse("a").expect("static selector"));
