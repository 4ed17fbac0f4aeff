//! One newsletter email to its stories.
//!
//! 1. Confirmation and welcome emails ("confirm your subscription") yield no stories but an
//!    [`Attention`] entry with their link.
//! 2. Headline candidates: in HTML every headline link (a heading, a link that fills its block,
//!    a bold link opening its block, or a link on a line of its own) with the text that belongs
//!    to it, and the section heading above it; in plain text every bare URL line with the
//!    headline and blurb around it. Boilerplate links (view in browser, unsubscribe, share…) are
//!    never candidates; candidates inside a block labelled "Sponsored"/"Presented by" are marked.
//! 3. [`shape`] decides: a **roundup** gives one story per candidate, in order; a **single
//!    post** (no headline, or much running text per headline) gives one story: its title, its
//!    web link (`List-Post` ← title link ← "view online") and an excerpt of its opening.
//! 4. Broken MIME: the readable text parts are used and a warning is recorded.
//!
//! Here: [`extract`], the order above and the story an item is made from. Beside it: `mime`
//! (headers and bodies), `confirm` (step 1), `html` and `text` (step 2 for each kind of body),
//! `furniture` (what is template, not news, in either).

mod confirm;
mod furniture;
mod html;
mod mime;
mod text;

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::Message;

use crate::html::{escape, truncate_words, Sanitizer};
use crate::links::Cleaner;
use crate::model::{Attention, Item, ItemKey, SourceKey};
use crate::sources::click_tracker;
use crate::sources::feed::{choose_title, identity};

use confirm::confirmation;
use furniture::is_furniture_text;
use html::{post_title_html, stories_from_html, title_link_html};
pub use mime::message_id;
use mime::{bodies, list_post, list_unsubscribe, mime_warnings, sender_name};
use text::{stories_from_text, web_link_text};

/// Link texts shorter than this many words are not headlines ("Read more", "Here"), unless set
/// in bold beside a description of their own ("Awilix 8.0 ↳ …").
const MIN_HEADLINE_WORDS: usize = 3;

const MAX_HEADLINE_CHARS: usize = 200;

const MAX_BLURB_CHARS: usize = 400;

pub struct NewsletterContext<'a> {
    pub source: &'a SourceKey,
    /// Name from config; else the sender's display name.
    pub name: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub cleaner: &'a Cleaner,
    pub sanitizer: &'a Sanitizer,
    /// Used when the message has no Message-ID (file name, IMAP UID…).
    pub fallback_id: &'a str,
    /// Keep sponsored blocks (titled "Sponsored: …") instead of dropping them.
    pub include_sponsored: bool,
}

/// A story found in the body, before it becomes an [`Item`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub title: String,
    pub url: Option<String>,
    pub blurb: String,
    pub section: Option<String>,
    /// Inside a block marked "sponsored", "presented by"…
    pub sponsored: bool,
    /// "See also X" links after it: (X, cleaned link).
    pub also: Vec<(String, String)>,
    /// Found by its heading and the prose under it (no headline link): see [`headed_blocks`].
    pub headed: bool,
}

/// The message's stories with every story once: a later block that links to the same
/// article (the same cleaned link) or carries the same headline (of at least
/// [`MIN_REPEAT_TITLE_WORDS`] words) is the same story told again (an image link and a
/// headline link, a desktop and a mobile copy, one article under two sections). The first
/// telling keeps its place; when it had no text, a repeat with text gives its headline and
/// text.
fn each_once(found: Vec<Found>) -> Vec<Found> {
    use crate::group::dedup::{title_key, url_key};
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    let mut by_link: HashMap<String, usize> = HashMap::new();
    let mut by_title: HashMap<String, usize> = HashMap::new();
    for f in found {
        let link = f.url.as_deref().map(url_key);
        let title =
            Some(title_key(&f.title)).filter(|t| t.split(' ').count() >= MIN_REPEAT_TITLE_WORDS);
        let earlier = link
            .as_ref()
            .and_then(|l| by_link.get(l))
            .or_else(|| title.as_ref().and_then(|t| by_title.get(t)))
            .copied();
        match earlier {
            Some(at) => {
                let first = &mut kept[at];
                // An image link has no text of its own: the headline with its blurb does.
                if first.blurb.is_empty() && !f.blurb.is_empty() {
                    first.blurb = f.blurb;
                    first.title = f.title;
                }
                if first.url.is_none() {
                    first.url = f.url;
                }
                for a in f.also {
                    if !first.also.contains(&a) {
                        first.also.push(a);
                    }
                }
            }
            None => {
                let at = kept.len();
                by_link.extend(link.map(|l| (l, at)));
                by_title.extend(title.map(|t| (t, at)));
                kept.push(f);
            }
        }
    }
    kept
}

/// See [`each_once`]: shorter headlines ("Read more", "Top stories") repeat between
/// different stories.
const MIN_REPEAT_TITLE_WORDS: usize = 3;

/// What one message yielded.
pub struct Extracted {
    pub message_id: String,
    pub subject: String,
    pub items: Vec<Item>,
    /// Set for a confirmation or welcome email, which yields no stories.
    pub attention: Option<Attention>,
    /// Problems with the message that did not stop it being read (broken MIME…).
    pub warnings: Vec<String>,
}

/// The shape of a newsletter, which decides how it is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Many stories, each a headline link with its blurb.
    Roundup,
    /// One essay: one story, its inline links are not stories.
    SinglePost,
}

pub fn extract(msg: &Message<'_>, ctx: &NewsletterContext<'_>) -> Extracted {
    let subject = msg
        .subject()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let message_id = message_id(msg, ctx.fallback_id);
    let sender = sender_name(msg, &subject);
    let name = ctx
        .name
        .map(str::to_string)
        .or(sender)
        .unwrap_or_else(|| "Newsletter".to_string());
    let date = msg
        .date()
        .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single())
        .map(|d: DateTime<Utc>| d.min(Utc::now()));

    let (html, text) = bodies(msg);
    let warnings = mime_warnings(msg);

    let body_text = match (&html, &text) {
        (Some(h), _) => crate::html::sanitized_to_text(&ctx.sanitizer.sanitize(h)),
        (None, Some(t)) => t.clone(),
        _ => String::new(),
    };
    // All of the body's links, cleaned (unwrapped trackers are no longer on their host).
    let links: Vec<String> = click_tracker::body_links(html.as_deref(), text.as_deref())
        .iter()
        .map(|l| ctx.cleaner.clean(l))
        .collect();
    let links: Vec<&str> = links.iter().map(String::as_str).collect();
    let tracker_host = click_tracker::tracking_host(&links, list_unsubscribe(msg).as_deref());
    // A welcome mail's link is only a pointer to the sender: one on the message's tracking
    // host, or one that carries the reader, is left out. (A confirmation keeps its link: it
    // must carry the reader to confirm them.)
    let publishable = |u: &str| {
        let host = url::Url::parse(u)
            .ok()
            .and_then(|x| x.host_str().map(str::to_ascii_lowercase));
        host.is_some()
            && host != tracker_host
            && matches!(
                crate::links::privacy::assess(u),
                crate::links::privacy::Verdict::Publish
            )
    };
    let bodies = (html.as_deref(), text.as_deref());
    if let Some(url) = confirmation(&subject, bodies, &body_text, ctx.cleaner, publishable) {
        return Extracted {
            attention: Some(Attention {
                source: name,
                subject: subject.clone(),
                url,
                message_id: message_id.clone(),
            }),
            message_id,
            subject,
            items: Vec::new(),
            warnings,
        };
    }

    let candidates = match (&html, &text) {
        (Some(h), _) => stories_from_html(h, ctx.cleaner),
        (None, Some(t)) => stories_from_text(t, ctx.cleaner),
        (None, None) => Vec::new(),
    };
    let list_post = list_post(msg, ctx.cleaner);
    let linked: Vec<Found> = candidates.iter().filter(|f| !f.headed).cloned().collect();
    let mut shape = shape(&linked, &body_text, list_post.is_some());
    // Teasers with no headline link (a heading, prose, "Read more"), several of them, make a
    // roundup too, unless the message names itself a post with a web version (an essay's
    // subheadings are headings with prose as well).
    let headed = candidates.len() - linked.len();
    if shape == Shape::SinglePost && list_post.is_none() && headed >= MIN_HEADED_STORIES {
        shape = Shape::Roundup;
    }
    // Where headline links tell the stories, a heading with prose but no link of its own is
    // a section's introduction or an essay's subheading.
    let candidates: Vec<Found> = if linked.len() >= MIN_HEADED_STORIES {
        candidates
            .into_iter()
            .filter(|f| !f.headed || f.url.is_some())
            .collect()
    } else {
        candidates
    };
    let found: Vec<Found> = match shape {
        Shape::Roundup => candidates
            .into_iter()
            .filter(|f| ctx.include_sponsored || !f.sponsored)
            .map(|mut f| {
                if f.sponsored {
                    f.title = format!("Sponsored: {}", f.title);
                }
                f
            })
            .collect(),
        Shape::SinglePost => Vec::new(),
    };
    let mut found = each_once(found);
    if found.is_empty() {
        let web = list_post.or_else(|| match (&html, &text) {
            (Some(h), _) => title_link_html(h, ctx.cleaner),
            (None, Some(t)) => web_link_text(t, ctx.cleaner),
            _ => None,
        });
        let title = html
            .as_deref()
            .and_then(post_title_html)
            .unwrap_or_else(|| subject.clone());
        found.extend(single_story(&title, web, &body_text));
    }

    let items = found
        .into_iter()
        .map(|f| {
            let summary_text = truncate_words(without_lead_in(&f.blurb), MAX_BLURB_CHARS);
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
                topic_hint: ctx.topic.map(str::to_string),
                // A "section" named like the newsletter itself is its masthead.
                section: f.section.filter(|s| !s.eq_ignore_ascii_case(&name)),
                message_id: Some(message_id.clone()),
                categories: Vec::new(),
                also: f.also,
                tracker_host: tracker_host.clone(),
                media: Vec::new(),
            }
        })
        .collect();
    Extracted {
        message_id,
        subject,
        items,
        attention: None,
        warnings,
    }
}

/// Headed blocks that make a message with no headline links a roundup.
const MIN_HEADED_STORIES: usize = 3;

/// Words of running text per headline above which a newsletter reads as an essay.
const ESSAY_WORDS_PER_HEADLINE: usize = 350;

/// The same, for a message that names its web version in `List-Post` (Substack, Ghost…).
const POST_WORDS_PER_HEADLINE: usize = 180;

/// Roundup or single post: an essay has no headline link, or few headlines for a lot of running
/// text (less of it when `List-Post` names a web version, as Substack and Ghost do).
pub fn shape(candidates: &[Found], body_text: &str, has_list_post: bool) -> Shape {
    let headlines = candidates.iter().filter(|f| !f.sponsored).count();
    if headlines == 0 {
        return Shape::SinglePost;
    }
    let words = body_text
        .split("\n\n")
        .filter(|p| p.split_whitespace().count() >= 12)
        .map(|p| p.split_whitespace().count())
        .sum::<usize>();
    let per = words / headlines;
    // One headline: a short one-story alert is a roundup of one; a post with a title link is
    // an essay.
    let essay = if headlines == 1 {
        has_list_post || per > POST_WORDS_PER_HEADLINE
    } else {
        per > ESSAY_WORDS_PER_HEADLINE || (has_list_post && per > POST_WORDS_PER_HEADLINE)
    };
    if essay {
        Shape::SinglePost
    } else {
        Shape::Roundup
    }
}

/// The whole message as one story: its title, its web link, its opening paragraphs.
fn single_story(title: &str, url: Option<String>, body_text: &str) -> Option<Found> {
    if title.is_empty() && body_text.trim().is_empty() {
        return None;
    }
    // A subject alone is not a story: a message whose body cannot be read (broken MIME) is
    // reported by the caller rather than digested as an empty entry.
    let mut blurb = String::new();
    for p in body_text
        .split("\n\n")
        .map(|p| fold(p.trim()))
        .filter(|p| p.split_whitespace().count() >= 8 && !is_furniture_text(p) && p != title)
    {
        if !blurb.is_empty() {
            blurb.push_str("\n\n");
        }
        blurb.push_str(&p);
        if blurb.len() >= MAX_BLURB_CHARS {
            break;
        }
    }
    if blurb.is_empty() {
        return None;
    }
    Some(Found {
        title: title.to_string(),
        url,
        blurb,
        section: None,
        sponsored: false,
        also: Vec::new(),
        headed: false,
    })
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A blurb without the punctuation that tied it to its headline: "**A big concern**: The
/// party has…" gives the headline and "The party has…", not ": The party has…". A hyphen
/// counts only as a dash (followed by a space), so "-5% in a day" keeps its sign.
fn without_lead_in(blurb: &str) -> &str {
    let mut rest = blurb.trim_start();
    loop {
        let next = rest
            .strip_prefix([':', ';', ',', '|', '–', '—', '·', '•'])
            .or_else(|| rest.strip_prefix("- "))
            .map(str::trim_start);
        match next {
            Some(n) => rest = n,
            None => return rest,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_tagged_with_a_welcome_campaign_marks_a_welcome_series() {
        use super::confirm::in_welcome_campaign;
        assert!(in_welcome_campaign(
            "https://news.example.org/go/1.html?newsletter=Willkommensserie%2F2023&x=1"
        ));
        assert!(in_welcome_campaign(
            "https://example.com/a?utm_source=newsletter-welcome-01"
        ));
        assert!(!in_welcome_campaign(
            "https://example.com/welcome?utm_source=newsletter"
        ));
        assert!(!in_welcome_campaign("https://example.com/a?q=welcome"));
    }

    #[test]
    fn a_salutation_is_no_title_and_a_legal_link_no_headline() {
        let html = "<h1>Liebe Kundin, lieber Kunde,</h1><h2>Einkauf bewerten lohnt sich</h2>";
        assert_eq!(
            post_title_html(html).as_deref(),
            Some("Einkauf bewerten lohnt sich")
        );
        assert!(is_call_to_action("Datenschutz"));
        assert!(is_call_to_action("Schreib uns eine E-Mail"));
        assert!(!is_call_to_action("Neue Datenschutz-Regeln für Messenger"));
    }

    #[test]
    fn a_blurb_loses_the_punctuation_that_tied_it_to_its_headline() {
        use super::without_lead_in;
        assert_eq!(without_lead_in(": The party has"), "The party has");
        assert_eq!(without_lead_in(" | — Read on"), "Read on");
        assert_eq!(without_lead_in("- Shares fell"), "Shares fell");
        assert_eq!(without_lead_in("-5% in a day"), "-5% in a day");
        assert_eq!(without_lead_in("…and then"), "…and then");
    }

    use super::*;
    use super::{furniture::*, html::*};

    /// (title, link, blurb) of each story found.
    fn triples(found: &[Found]) -> Vec<(&str, &str, &str)> {
        found
            .iter()
            .map(|f| {
                (
                    f.title.as_str(),
                    f.url.as_deref().unwrap(),
                    f.blurb.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn a_story_told_twice_in_one_message_is_one_story() {
        let f = |title: &str, url: Option<&str>, blurb: &str| Found {
            title: title.into(),
            url: url.map(str::to_string),
            blurb: blurb.into(),
            section: None,
            sponsored: false,
            also: Vec::new(),
            headed: false,
        };
        let found = vec![
            // The image link, then the headline link to the same article.
            f("Ferry terminal", Some("https://e.org/ferry"), ""),
            f(
                "Ferry terminal approved in Kiel",
                Some("https://e.org/ferry"),
                "Council vote.",
            ),
            f(
                "Harbour dredging starts in spring",
                Some("https://e.org/dredge?m=1"),
                "",
            ),
            // The mobile copy: same headline, another tracked link.
            f(
                "Harbour dredging starts in spring",
                Some("https://e.org/dredge?m=2"),
                "Sand.",
            ),
            // Short headlines repeat between different stories.
            f("Read more", Some("https://e.org/a"), ""),
            f("Read more", Some("https://e.org/b"), ""),
        ];
        let got: Vec<(String, String)> = each_once(found)
            .into_iter()
            .map(|f| (f.title, f.blurb))
            .collect();
        let want = [
            ("Ferry terminal approved in Kiel", "Council vote."),
            ("Harbour dredging starts in spring", "Sand."),
            ("Read more", ""),
            ("Read more", ""),
        ];
        assert_eq!(got, want.map(|(t, b)| (t.to_string(), b.to_string())),);
    }

    #[test]
    fn html_roundup_headlines_and_blurbs() {
        let html = r#"<html><body>
          <p><a href="https://news.example/web?u=1">View this email in your browser</a></p>
          <h1>The Morning Ledger</h1>
          <h3><a href="https://e.org/zero">Opening story before any section heading</a></h3>
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
        let got = triples(&found);
        assert_eq!(
            got,
            vec![
                (
                    "Opening story before any section heading",
                    "https://e.org/zero",
                    ""
                ),
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
        // The masthead (h1) is no section; "Markets" is.
        assert_eq!(found[0].section, None);
        assert_eq!(found[1].section.as_deref(), Some("Markets"));
    }

    #[test]
    fn plain_text_seed_shape() {
        let text = "China will not be ordered around\n\nChinese President under pressure.\n\nMore text here.\n\n* * *\n\nUpdate one\n\nThe report says things.\n\nhttps://www.zerohedge.com/geopolitical/x?utm_source=&utm_medium=email&utm_campaign=543\n\nSee also South China Morning Post\n\nhttps://www.scmp.com/news/article/3170517/x?utm_medium=email&tpcc=enlz-china&UUID=6d7f\n\nFacebooktwitterredditpinterestlinkedinmail\n";
        let found = stories_from_text(text, &Cleaner::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].title, "Update one");
        assert_eq!(
            found[0].url.as_deref(),
            Some("https://www.zerohedge.com/geopolitical/x")
        );
        assert_eq!(found[0].blurb, "The report says things.");
        // "See also South China Morning Post" names a second outlet for the same story.
        assert_eq!(
            found[0].also,
            [(
                "South China Morning Post".to_string(),
                "https://www.scmp.com/news/article/3170517/x".to_string()
            )]
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
    fn weekly_roundup_links_set_apart_by_style_or_a_dash() {
        let html = r#"<html><body><table><tr><td>
          <p><span style="font-weight: 500 !important; font-size: 18px !important;"><a
             href="https://e.org/docker">Choosing a small base image</a></span> — Before you
             reach for the default image, there are slimmer options to consider.</p>
          <ul>
            <li><p><a href="https://e.org/awilix" style="font-weight: 600;">Awilix 8.0</a><br>
              ↳ Inversion of control container for small services.</p></li>
            <li><p><a href="https://e.org/nx" style="color: #208">Nx 15.0</a><br>
              ↳ A build system, linked but not set as a headline.</p></li>
            <li><p><b><a href="https://e.org/soft">Software</a></b></p></li>
            <li><p><b><a href="https://e.org/blend">BLENDID</a></b> is hiring, and more text here.</p></li>
          </ul></td></tr></table></body></html>"#;
        let titles: Vec<String> = stories_from_html(html, &Cleaner::default())
            .into_iter()
            .map(|f| f.title)
            .collect();
        assert_eq!(titles, ["Choosing a small base image", "Awilix 8.0"]);
        assert!(style_is_emphasis("font-weight: bold") && style_is_emphasis("font-size:20px"));
        assert!(!style_is_emphasis("font-weight: 400; font-size: 15px"));
    }

    #[test]
    fn headline_lists_one_link_a_line_and_urls_under_their_headline() {
        let html = r#"<html><body><table><tr><td><font>
          <b>Latest from the harbour</b><br>
          <img src="https://e.org/arrow.gif"> <a href="https://e.org/ferry">Ferry terminal approved by the council</a><br>
          <img src="https://e.org/arrow.gif"> <a href="https://e.org/dredge">Dredging season opens early this year</a><br>
        </font></td><td>
          <a href="https://e.org/tips">Top 50 Harbour Sites</a><br>
          <a href="https://e.org/past">Read Past Issues Here</a><br>
        </td></tr></table>
        <p>Lighthouse keeper retires after forty years<br>
        <a href="https://e.org/light">https://e.org/light</a></p>
        </body></html>"#;
        let got: Vec<(String, Option<String>)> = stories_from_html(html, &Cleaner::default())
            .into_iter()
            .map(|f| (f.title, f.url))
            .collect();
        let want = [
            (
                "Ferry terminal approved by the council",
                "https://e.org/ferry",
            ),
            (
                "Dredging season opens early this year",
                "https://e.org/dredge",
            ),
            (
                "Lighthouse keeper retires after forty years",
                "https://e.org/light",
            ),
        ];
        assert_eq!(got, want.map(|(t, u)| (t.to_string(), Some(u.to_string()))));
    }

    #[test]
    fn headings_set_by_inline_style_head_teasers_too() {
        let html = r#"<html><body><table>
          <tr><td><p><span style="font-size: 22px; font-weight: 700">Harbour cafe reopens</span><br>
            After a winter of repairs the cafe on the north pier serves breakfast again from
            Monday, with the old menu and a new terrace.</p></td></tr>
          <tr><td><p><span style="font-size: 22px; font-weight: 700">Sailing school takes pupils</span><br>
            The sailing school on the west quay takes pupils for the summer courses, and the
            first ten places are free for children from the harbour streets.</p></td></tr>
        </table></body></html>"#;
        let titles: Vec<String> = stories_from_html(html, &Cleaner::default())
            .into_iter()
            .map(|f| f.title)
            .collect();
        assert_eq!(
            titles,
            ["Harbour cafe reopens", "Sailing school takes pupils"]
        );
    }

    #[test]
    fn headed_teasers_without_headline_links_are_stories() {
        let html = r#"<html><body>
          <h1>Harbour Letter</h1>
          <p>Dear members,</p>
          <table><tr><td><p><span style="font-size:18px"><strong>Ferry terminal approved in Kiel<br></strong>
            The council voted for the new terminal on Tuesday, and building starts in the spring
            once the last permits are signed.</span></p>
            <p><a href="https://e.org/ferry?utm_source=nl">Read more</a></p></td></tr>
          <tr><td><p><span style="font-size:18px"><strong>Dredging season opens early</strong><br>
            Two dredgers arrive next week to deepen the channel before the first cruise ships
            of the year, the harbour master said.</span></p></td></tr>
          <tr><td><p><span style="font-size:18px"><strong>Lighthouse keeper retires</strong>: after
            forty years on the north light the last keeper hands over the keys to the trust
            that will run it as a museum.</span></p></td></tr>
          <tr><td><p><strong>The council</strong> also said that the quay will be repaved,
            which nobody reads as a story of its own.</p></td></tr></table>
          <p><a href="https://e.org/unsubscribe">Unsubscribe</a></p>
        </body></html>"#;
        let found: Vec<(String, Option<String>, bool)> =
            stories_from_html(html, &Cleaner::default())
                .into_iter()
                .map(|f| (f.title, f.url, f.blurb.starts_with("The council voted")))
                .collect();
        assert_eq!(
            found,
            [
                (
                    "Ferry terminal approved in Kiel".to_string(),
                    Some("https://e.org/ferry".to_string()),
                    true
                ),
                ("Dredging season opens early".to_string(), None, false),
                ("Lighthouse keeper retires".to_string(), None, false),
            ]
        );
    }

    #[test]
    fn plain_text_headline_lists_standfirsts_and_notices() {
        let text = "Harbour Weekly\n\
            ______________\n\
            Send tips to: https://e.org/tips\n\
            FERRY TERMINAL APPROVED IN KIEL - Kiel Post 9/26/2002 <https://e.org/ferry?u=7>\n\n\
            DREDGING STARTS IN SPRING - Baltic Wire 9/27/2002 <https://e.org/dredge>\n\n\
            LEAD STORY\n\n\
            Lighthouse keeper retires after forty years | News: Coast\n\
            The last keeper of the north light hands over the keys.\n\
            https://e.org/light\n\n\
            Tugboat race returns\n\
            Or so the organisers hope...\n\
            https://e.org/tug\n\n\
            You have received this message because you subscribed to it\n\
            on Harbour Weekly. To stop receiving it, go to your page.\n\
            https://e.org/my/messages\n";
        let found = stories_from_text(text, &Cleaner::default());
        let got = triples(&found);
        assert_eq!(
            got,
            [
                (
                    "FERRY TERMINAL APPROVED IN KIEL - Kiel Post",
                    "https://e.org/ferry?u=7",
                    ""
                ),
                (
                    "DREDGING STARTS IN SPRING - Baltic Wire",
                    "https://e.org/dredge",
                    ""
                ),
                (
                    "Lighthouse keeper retires after forty years",
                    "https://e.org/light",
                    "The last keeper of the north light hands over the keys."
                ),
                (
                    "Tugboat race returns",
                    "https://e.org/tug",
                    "Or so the organisers hope..."
                ),
            ]
        );
    }

    #[test]
    fn calls_to_action_polls_and_contact_lines_are_no_stories() {
        for cta in [
            "Read the full story",
            "Jetzt Pate werden",
            "Alle Angebote ansehen",
            "Lire en ligne",
            "→ Kostenlos anmelden",
            "Invite a friend",
        ] {
            assert!(is_call_to_action(cta), "{cta}");
        }
        for headline in [
            "»Kleiderraum« Kiel: a free shop for newcomers",
            "Read: the memo that sank the merger",
            "Sign language interpreters strike over pay cuts in three cities",
            "Ferry terminal approved",
        ] {
            assert!(!is_call_to_action(headline), "{headline}");
        }
        assert!(looks_like_contact(
            "Tel. 040 123 456 - 700 Fax 040 123 456 - 888"
        ));
        assert!(looks_like_contact("Harbour Trust Kaistr. 18 24103 Kiel"));
        assert!(!looks_like_contact(
            "Fahrradwerkstatt bis 15.02.2023 geschlossen"
        ));
        assert!(!looks_like_contact("Weekly notes / 2022-10-14"));
        let html = r#"<html><body>
          <h3><a href="https://e.org/ferry">Ferry terminal approved in Kiel</a></h3>
          <p>How did you like today's letter?</p>
          <p><a href="https://e.org/poll?a=3">⭐⭐⭐ Loved it</a></p>
          <p><a href="https://e.org/poll?a=2">⭐⭐ It was fine</a></p>
          <p><a href="https://e.org/poll?a=1">⭐ Not for me today</a></p>
        </body></html>"#;
        let titles: Vec<String> = stories_from_html(html, &Cleaner::default())
            .into_iter()
            .map(|f| f.title)
            .collect();
        assert_eq!(titles, ["Ferry terminal approved in Kiel"]);
    }

    #[test]
    fn an_update_below_a_separator_continues_the_story_above() {
        let text = "Ferry terminal approved in Kiel\n\nThe mayor at the quay after the vote. Photo: Handout\n\nThe council voted for the new terminal on Tuesday night.\n\n* * *\n\nUpdate(0715) The minutes, published this morning, set a date for the works.\n\nhttps://e.org/ferry\n";
        let found = stories_from_text(text, &Cleaner::default());
        assert_eq!(
            triples(&found),
            [(
                "Ferry terminal approved in Kiel",
                "https://e.org/ferry",
                "The council voted for the new terminal on Tuesday night."
            )]
        );
    }

    #[test]
    fn a_byline_indented_under_its_headline_is_not_part_of_it() {
        let text = "Harbour Headlines\n\nFerry terminal approved in Kiel\n    posted by anna on Monday, @08:15 (council)\n    https://e.org/ferry\n";
        let found = stories_from_text(text, &Cleaner::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].title, "Ferry terminal approved in Kiel");
        assert_eq!(found[0].blurb, "posted by anna on Monday, @08:15 (council)");
    }

    #[test]
    fn a_newsletter_without_a_display_name_is_named_by_its_list_or_domain() {
        let name = |headers: &str| {
            let raw = format!("{headers}\r\nSubject: x\r\n\r\nbody\r\n");
            let msg = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            sender_name(&msg, msg.subject().unwrap_or(""))
        };
        assert_eq!(
            name("From: Quay Notes <news@quay.example>").as_deref(),
            Some("Quay Notes")
        );
        assert_eq!(
            name("From: news@quay.example\r\nList-Id: Harbour Letter <harbour.quay.example>")
                .as_deref(),
            Some("Harbour Letter")
        );
        assert_eq!(
            name("From: update@list.harbour.co.uk").as_deref(),
            Some("harbour.co.uk")
        );
        let raw =
            "From: pudge@quay.example\r\nSubject: [Quay Daily] Headlines for today\r\n\r\nb\r\n";
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        assert_eq!(
            sender_name(&msg, msg.subject().unwrap()).as_deref(),
            Some("Quay Daily")
        );
    }

    #[test]
    fn boilerplate_detection() {
        assert!(is_boilerplate("Unsubscribe", "https://e.org/x"));
        assert!(is_boilerplate(
            "Tweet",
            "https://twitter.com/intent/tweet?x"
        ));
        assert!(is_boilerplate("me", "mailto:me@e.org"));
        assert!(is_boilerplate("See also World Wire", "https://w.example/a"));
        assert!(!is_boilerplate(
            "Seeing double: twin probes",
            "https://w.example/b"
        ));
        assert!(!is_boilerplate(
            "Chip makers race to build fabs",
            "https://e.org/chips"
        ));
    }
}
