//! One newsletter email to its stories.
//!
//! A first version of story extraction: in an HTML newsletter every headline link (a link that
//! is a heading, fills its own block, or opens its block in bold) with the text that follows it
//! becomes a story; in a plain-text newsletter every bare URL line closes a story whose headline
//! and blurb are the lines above or around it. Boilerplate links (view in browser, unsubscribe,
//! preferences, share buttons…) are dropped; images are never carried. When nothing looks like a
//! story, the whole message becomes one story (an essay-style newsletter).

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::{Message, PartType};
use scraper::{ElementRef, Html, Selector};

use crate::html::{escape, truncate_words, Sanitizer};
use crate::links::Cleaner;
use crate::model::{Item, ItemKey, SourceKey};
use crate::sources::feed::{choose_title, identity};

/// Link texts shorter than this many words are not headlines ("Read more", "Here").
const MIN_HEADLINE_WORDS: usize = 3;
const MAX_HEADLINE_CHARS: usize = 200;
const MAX_BLURB_CHARS: usize = 400;

/// Text or URL fragments that mark a link as newsletter furniture, not a story.
const BOILERPLATE: &[&str] = &[
    "unsubscribe",
    "view in browser",
    "view in your browser",
    "view this email",
    "view it in your browser",
    "view online",
    "web version",
    "read online",
    "open in browser",
    "email preferences",
    "update your preferences",
    "manage preferences",
    "manage your subscription",
    "manage subscription",
    "update profile",
    "update your profile",
    "forward to a friend",
    "forward this email",
    "share this",
    "tweet this",
    "read in app",
    "open in app",
    "download the app",
    "app store",
    "google play",
    "privacy policy",
    "terms of service",
    "terms of use",
    "contact us",
    "advertise with us",
    "sponsor this",
    "subscribe now",
    "opt out",
    "opt-out",
    "whitelist",
    "add us to your address book",
    "/unsubscribe",
    "list-manage.com/unsubscribe",
    "list-manage.com/profile",
    "twitter.com/intent",
    "twitter.com/share",
    "x.com/intent",
    "facebook.com/sharer",
    "linkedin.com/share",
    "linkedin.com/sharing",
    "reddit.com/submit",
    "pinterest.com/pin/create",
    "wa.me/",
    "whatsapp.com/send",
    "t.me/share",
    "/preferences",
    "/manage",
];
const GENERIC_LINK_TEXT: &[&str] = &[
    "read more",
    "continue reading",
    "click here",
    "learn more",
    "more",
    "here",
    "link",
];

pub struct NewsletterContext<'a> {
    pub source: &'a SourceKey,
    /// Name from config; else the sender's display name.
    pub name: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub cleaner: &'a Cleaner,
    pub sanitizer: &'a Sanitizer,
    /// Used when the message has no Message-ID (file name, IMAP UID…).
    pub fallback_id: &'a str,
}

/// A story found in the body, before it becomes an [`Item`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub title: String,
    pub url: Option<String>,
    pub blurb: String,
    pub section: Option<String>,
}

/// What one message yielded.
pub struct Extracted {
    pub message_id: String,
    pub subject: String,
    pub items: Vec<Item>,
}

pub fn extract(msg: &Message<'_>, ctx: &NewsletterContext<'_>) -> Extracted {
    let subject = msg
        .subject()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let message_id = msg
        .message_id()
        .map(|m| format!("<{}>", m.trim_matches(['<', '>'])))
        .unwrap_or_else(|| format!("<{}@tidings.local>", ctx.fallback_id));
    let sender = msg.from().and_then(|a| a.first()).and_then(|a| {
        a.name()
            .map(str::to_string)
            .or_else(|| a.address().map(str::to_string))
    });
    let name = ctx
        .name
        .map(str::to_string)
        .or(sender)
        .unwrap_or_else(|| "Newsletter".to_string());
    let date = msg
        .date()
        .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single())
        .map(|d: DateTime<Utc>| d.min(Utc::now()));

    let html = msg.html_part(0).and_then(|p| match &p.body {
        PartType::Html(h) => Some(h.to_string()),
        _ => None,
    });
    let text = msg.text_part(0).and_then(|p| match &p.body {
        PartType::Text(t) => Some(t.to_string()),
        _ => None,
    });

    let mut found = match (&html, &text) {
        (Some(h), _) => stories_from_html(h, ctx.cleaner),
        (None, Some(t)) => stories_from_text(t, ctx.cleaner),
        (None, None) => Vec::new(),
    };
    if found.is_empty() {
        found.extend(single_story(
            msg,
            &subject,
            html.as_deref(),
            text.as_deref(),
            ctx,
        ));
    }

    let items = found
        .into_iter()
        .map(|f| {
            let summary_text = truncate_words(&f.blurb, MAX_BLURB_CHARS);
            let title = choose_title(Some(&f.title), &summary_text, f.url.as_deref());
            let id = identity("", f.url.as_deref(), &title, &summary_text);
            Item {
                key: ItemKey(format!("{}#{}#{}", ctx.source, message_id, id)),
                source: ctx.source.clone(),
                source_name: name.clone(),
                title,
                url: f.url,
                summary_html: escape(&summary_text),
                summary_text,
                published: date,
                topic_hint: f.section.or_else(|| ctx.topic.map(str::to_string)),
                message_id: Some(message_id.clone()),
            }
        })
        .collect();
    Extracted {
        message_id,
        subject,
        items,
    }
}

/// The whole message as one story: subject, the `List-Post`/archive link if any, opening text.
fn single_story(
    msg: &Message<'_>,
    subject: &str,
    html: Option<&str>,
    text: Option<&str>,
    ctx: &NewsletterContext<'_>,
) -> Option<Found> {
    let body_text = match (html, text) {
        (Some(h), _) => crate::html::html_to_text(&ctx.sanitizer.sanitize(h)),
        (None, Some(t)) => t.to_string(),
        _ => String::new(),
    };
    if subject.is_empty() && body_text.trim().is_empty() {
        return None;
    }
    let url = msg
        .list_post()
        .as_text_list()
        .and_then(|l| {
            l.iter()
                .find(|u| u.starts_with("http"))
                .map(|u| u.trim_matches(['<', '>']).to_string())
        })
        .or_else(|| {
            msg.list_archive()
                .as_text()
                .filter(|u| u.starts_with("http"))
                .map(str::to_string)
        })
        .map(|u| ctx.cleaner.clean(&u));
    // A subject alone is not a story: a message whose body cannot be read (broken MIME) is
    // reported by the caller rather than digested as an empty entry.
    let blurb = body_text
        .split("\n\n")
        .map(str::trim)
        .find(|p| p.split_whitespace().count() >= 5)?
        .to_string();
    Some(Found {
        title: subject.to_string(),
        url,
        blurb,
        section: None,
    })
}

/// True for links that are newsletter furniture rather than stories.
pub fn is_boilerplate(text: &str, url: &str) -> bool {
    let t = text.to_lowercase();
    let u = url.to_lowercase();
    u.starts_with("mailto:") || BOILERPLATE.iter().any(|b| t.contains(b) || u.contains(b))
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn element_text(e: ElementRef<'_>) -> String {
    fold(&e.text().collect::<Vec<_>>().join(" "))
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

fn is_block(name: &str) -> bool {
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

pub fn stories_from_html(html: &str, cleaner: &Cleaner) -> Vec<Found> {
    if crate::html::too_deep(html, crate::html::MAX_NESTING) {
        return stories_from_text(&crate::html::strip_tags(html), cleaner);
    }
    let doc = Html::parse_document(html);
    let Ok(sel) = Selector::parse("h1, h2, h3, h4, a[href]") else {
        return Vec::new();
    };
    let mut out: Vec<Found> = Vec::new();
    let mut section: Option<String> = None;
    for el in doc.select(&sel) {
        let name = el.value().name();
        if is_heading(name) {
            // A heading with no link of its own is a section title ("Markets", "Tech").
            let has_link = el
                .descendants()
                .filter_map(ElementRef::wrap)
                .any(|d| d.value().name() == "a");
            let text = element_text(el);
            if !has_link && !text.is_empty() && text.len() <= 60 {
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
        if is_boilerplate(&text, href)
            || text.split_whitespace().count() < MIN_HEADLINE_WORDS
            || text.len() > MAX_HEADLINE_CHARS
        {
            continue;
        }
        if GENERIC_LINK_TEXT.contains(
            &text
                .to_lowercase()
                .trim_end_matches(['.', '»', '→', ' '])
                .trim(),
        ) {
            continue;
        }
        let Some(blurb) = headline_blurb(el, &text) else {
            continue;
        };
        let url = cleaner.clean(href);
        if out.iter().any(|f| f.url.as_deref() == Some(url.as_str())) {
            continue;
        }
        out.push(Found {
            title: text,
            url: Some(url),
            blurb,
            section: section.clone(),
        });
    }
    out
}

/// If the link is a headline, the blurb that belongs to it (possibly empty); `None` for an
/// inline link in running text.
fn headline_blurb(link: ElementRef<'_>, link_text: &str) -> Option<String> {
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
    // "**Headline** – blurb in the same paragraph": a bold link at the start of its block.
    let bold = link
        .ancestors()
        .filter_map(ElementRef::wrap)
        .take_while(|a| *a != block)
        .any(|a| matches!(a.value().name(), "strong" | "b"))
        || link
            .children()
            .filter_map(ElementRef::wrap)
            .any(|c| matches!(c.value().name(), "strong" | "b"));
    if bold && block_text.starts_with(link_text) {
        let rest = block_text[link_text.len()..]
            .trim_start_matches([' ', ':', '-', '–', '—', '.'])
            .trim();
        return Some(rest.to_string());
    }
    None
}

/// The text of the first non-empty element after `block`, climbing a few levels for table
/// layouts where the headline cell is the last thing in its row.
fn following_text(block: ElementRef<'_>) -> String {
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

static LINKS: std::sync::LazyLock<Selector> =
    std::sync::LazyLock::new(|| Selector::parse("a").expect("static selector"));

/// Plain-text newsletters: headlines, paragraphs and bare URL lines, `* * *` between stories.
pub fn stories_from_text(text: &str, cleaner: &Cleaner) -> Vec<Found> {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut out = Vec::new();
    let mut chunk_start = 0;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if is_separator(trimmed) {
            chunk_start = i + 1;
            continue;
        }
        let Some(url) = bare_url(trimmed) else {
            continue;
        };
        if is_boilerplate(trimmed, url) {
            chunk_start = i + 1;
            continue;
        }
        let url = cleaner.clean(url);
        let prev = i.checked_sub(1).map(|p| lines[p].trim()).unwrap_or("");
        let found = if !prev.is_empty()
            && i > chunk_start
            && looks_like_headline(prev)
            && (i < 2 || lines[i - 2].trim().is_empty() || i - 1 == chunk_start)
        {
            // Headline, URL, then the blurb below.
            let blurb = paragraph_from(&lines, i + 1);
            Found {
                title: fold(prev),
                url: Some(url),
                blurb,
                section: None,
            }
        } else {
            // Headline, paragraphs, then the URL closing the story (the seed newsletter's shape).
            let paras = paragraphs(&lines[chunk_start..i]);
            let Some(first) = paras.first() else {
                chunk_start = i + 1;
                continue;
            };
            let (title, blurb) = if looks_like_headline(first) {
                (first.clone(), paras.get(1).cloned().unwrap_or_default())
            } else {
                (truncate_words(first, 100), first.clone())
            };
            Found {
                title,
                url: Some(url),
                blurb,
                section: None,
            }
        };
        out.push(found);
        chunk_start = next_chunk_start(&lines, i + 1);
    }
    out
}

/// After a "headline / URL / blurb" story, the next chunk starts after its blurb.
fn next_chunk_start(lines: &[&str], from: usize) -> usize {
    let mut j = from;
    while j < lines.len() && lines[j].trim().is_empty() {
        j += 1;
    }
    let para_start = j;
    while j < lines.len() && !lines[j].trim().is_empty() {
        j += 1;
    }
    // Only skip the paragraph if it was a blurb (the line before the URL was a headline).
    if para_start > from || j == para_start {
        from
    } else {
        j
    }
}

fn paragraph_from(lines: &[&str], from: usize) -> String {
    let mut j = from;
    while j < lines.len() && lines[j].trim().is_empty() {
        j += 1;
    }
    let mut para = Vec::new();
    while j < lines.len()
        && !lines[j].trim().is_empty()
        && bare_url(lines[j].trim()).is_none()
        && !is_separator(lines[j].trim())
    {
        para.push(lines[j].trim());
        j += 1;
    }
    fold(&para.join(" "))
}

fn paragraphs(lines: &[&str]) -> Vec<String> {
    lines
        .split(|l| l.trim().is_empty())
        .map(|p| fold(&p.join(" ")))
        .filter(|p| !p.is_empty() && !is_social_junk(p))
        .collect()
}

fn looks_like_headline(line: &str) -> bool {
    let l = line.trim();
    !l.is_empty()
        && l.chars().count() <= 150
        && !l.ends_with(['.', ',', ';', ':'])
        && bare_url(l).is_none()
        && l.split_whitespace().count() >= 2
}

fn is_separator(line: &str) -> bool {
    line.len() >= 3
        && line
            .chars()
            .all(|c| matches!(c, '*' | '-' | '_' | '=' | '~' | '#' | ' ' | '•'))
}

/// `Facebooktwitterredditpinterestlinkedinmail` and friends.
fn is_social_junk(p: &str) -> bool {
    let l = p.to_lowercase();
    let names = [
        "facebook",
        "twitter",
        "reddit",
        "pinterest",
        "linkedin",
        "whatsapp",
        "mail",
        "email",
    ];
    let hits = names.iter().filter(|n| l.contains(*n)).count();
    hits >= 3 && !l.contains(' ')
}

/// A line that is a URL and nothing else (allowing `<…>` around it, or a "Read more:" label).
fn bare_url(line: &str) -> Option<&str> {
    let l = line.trim().trim_start_matches('<').trim_end_matches('>');
    let l = l
        .rsplit_once(": ")
        .filter(|(label, _)| label.split_whitespace().count() <= 3 && !label.contains("http"))
        .map(|(_, u)| u)
        .unwrap_or(l);
    let l = l.trim();
    ((l.starts_with("https://") || l.starts_with("http://")) && !l.contains(char::is_whitespace))
        .then_some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_roundup_headlines_and_blurbs() {
        let html = r#"<html><body>
          <p><a href="https://news.example/web?u=1">View this email in your browser</a></p>
          <h2>Markets</h2>
          <h3><a href="https://e.org/one?utm_source=nl">Chip makers race to build new fabs</a></h3>
          <p>Three companies announced plants this week.</p>
          <table><tr><td><a href="https://e.org/two"><b>Rust compiler gets faster again</b></a></td></tr>
                 <tr><td>Build times fell by a fifth.</td></tr></table>
          <p><strong><a href="https://e.org/three">Ports reopen after the storm</a></strong> — shipping resumes.</p>
          <p>In other news, <a href="https://e.org/inline">a link inside running text here</a> is not a story.</p>
          <p><a href="https://twitter.com/intent/tweet?url=x">Share on Twitter now</a>
             <a href="https://news.example/unsubscribe?id=9">Unsubscribe from this list</a></p>
          <img src="https://t.example/open.gif" width="1" height="1">
        </body></html>"#;
        let found = stories_from_html(html, &Cleaner::default());
        let got: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|f| {
                (
                    f.title.as_str(),
                    f.url.as_deref().unwrap(),
                    f.blurb.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "Chip makers race to build new fabs",
                    "https://e.org/one",
                    "Three companies announced plants this week."
                ),
                (
                    "Rust compiler gets faster again",
                    "https://e.org/two",
                    "Build times fell by a fifth."
                ),
                (
                    "Ports reopen after the storm",
                    "https://e.org/three",
                    "shipping resumes."
                ),
            ]
        );
        assert_eq!(found[0].section.as_deref(), Some("Markets"));
    }

    #[test]
    fn plain_text_seed_shape() {
        let text = "China will not be ordered around\n\nChinese President under pressure.\n\nMore text here.\n\n* * *\n\nUpdate one\n\nThe report says things.\n\nhttps://www.zerohedge.com/geopolitical/x?utm_source=&utm_medium=email&utm_campaign=543\n\nSee also South China Morning Post\n\nhttps://www.scmp.com/news/article/3170517/x?utm_medium=email&tpcc=enlz-china&UUID=6d7f\n\nFacebooktwitterredditpinterestlinkedinmail\n";
        let found = stories_from_text(text, &Cleaner::default());
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].title, "Update one");
        assert_eq!(
            found[0].url.as_deref(),
            Some("https://www.zerohedge.com/geopolitical/x")
        );
        assert_eq!(found[0].blurb, "The report says things.");
        assert_eq!(
            found[1].url.as_deref(),
            Some("https://www.scmp.com/news/article/3170517/x")
        );
    }

    #[test]
    fn plain_text_headline_url_blurb_shape() {
        let text = "Rust 2.0 is not coming\nhttps://e.org/rust?utm_source=a\nThe team explains why editions suffice.\n\nDatabases on small machines\nhttps://e.org/db\nSQLite keeps winning.\n\nUnsubscribe: https://e.org/unsubscribe?u=1\n";
        let found = stories_from_text(text, &Cleaner::default());
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.title.as_str(), f.blurb.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "Rust 2.0 is not coming",
                    "The team explains why editions suffice."
                ),
                ("Databases on small machines", "SQLite keeps winning.")
            ]
        );
        assert_eq!(found[0].url.as_deref(), Some("https://e.org/rust"));
    }

    #[test]
    fn boilerplate_detection() {
        assert!(is_boilerplate("Unsubscribe", "https://e.org/x"));
        assert!(is_boilerplate(
            "Tweet",
            "https://twitter.com/intent/tweet?x"
        ));
        assert!(is_boilerplate("me", "mailto:me@e.org"));
        assert!(!is_boilerplate(
            "Chip makers race to build fabs",
            "https://e.org/chips"
        ));
    }
}
