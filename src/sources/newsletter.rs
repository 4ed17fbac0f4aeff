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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::{Message, MimeHeaders, PartType};

use ego_tree::NodeId;
use scraper::{ElementRef, Selector};

use crate::html::{escape, truncate_words, Sanitizer};
use crate::links::Cleaner;
use crate::model::{Attention, Item, ItemKey, SourceKey};
use crate::sources::click_tracker;
use crate::sources::feed::{choose_title, identity};

/// Link texts shorter than this many words are not headlines ("Read more", "Here"), unless set
/// in bold beside a description of their own ("Awilix 8.0 ↳ …").
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
    // The same furniture in other languages.
    "im browser ansehen",
    "online ansehen",
    "abmelden",
    "abbestellen",
    "voir dans le navigateur",
    "version en ligne",
    "se désabonner",
    "désinscription",
    "ver en el navegador",
    "darse de baja",
    "cancelar suscripción",
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

/// The message's identity for "digested once": its Message-ID, else one made from the fallback
/// (file name, IMAP UID...).
pub fn message_id(msg: &Message<'_>, fallback_id: &str) -> String {
    msg.message_id()
        .map(|m| format!("<{}>", m.trim_matches(['<', '>'])))
        .unwrap_or_else(|| format!("<{fallback_id}@tidings.local>"))
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
    let links = (html.as_deref(), text.as_deref());
    if let Some(url) = confirmation(&subject, links, &body_text, ctx.cleaner) {
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

    // All of the body's links, cleaned (unwrapped trackers are no longer on their host).
    let links: Vec<String> = click_tracker::body_links(html.as_deref(), text.as_deref())
        .iter()
        .map(|l| ctx.cleaner.clean(l))
        .collect();
    let links: Vec<&str> = links.iter().map(String::as_str).collect();
    let tracker_host = click_tracker::tracking_host(&links, list_unsubscribe(msg).as_deref());
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

/// What the newsletter calls itself: the sender's display name, else the `List-Id` phrase,
/// else a list tag opening the subject ("[use Perl] Headlines…"), else the sender's domain
/// without its mail host ("update@list.theregister.co.uk" → "theregister.co.uk"): a section
/// of the digest is not headed by a bare address.
fn sender_name(msg: &Message<'_>, subject: &str) -> Option<String> {
    let from = msg.from().and_then(|a| a.first());
    if let Some(name) = from
        .and_then(|a| a.name())
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return Some(name.to_string());
    }
    let list_id = msg
        .header_raw("List-Id")
        .and_then(|raw| raw.split('<').next())
        .map(|p| p.trim().trim_matches('"').trim().to_string())
        .filter(|p| !p.is_empty());
    if list_id.is_some() {
        return list_id;
    }
    if let Some(tag) = subject
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(tag, _)| tag.trim())
        .filter(|t| !t.is_empty() && t.len() <= 40)
    {
        return Some(tag.to_string());
    }
    let address = from.and_then(|a| a.address())?;
    let domain = address.rsplit_once('@').map_or(address, |(_, d)| d);
    let mut labels: Vec<&str> = domain.split('.').collect();
    while labels.len() > 2
        && matches!(
            labels[0].to_ascii_lowercase().as_str(),
            "list"
                | "lists"
                | "mail"
                | "mailer"
                | "news"
                | "newsletter"
                | "newsletters"
                | "email"
                | "e"
                | "m"
                | "info"
                | "www"
        )
    {
        labels.remove(0);
    }
    Some(labels.join("."))
}

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

/// The first http(s) URL of `List-Unsubscribe`.
fn list_unsubscribe(msg: &Message<'_>) -> Option<String> {
    msg.header_raw("List-Unsubscribe").and_then(|raw| {
        raw.split([',', ' ', '\t', '\r', '\n'])
            .map(|u| u.trim().trim_matches(['<', '>']))
            .find(|u| u.starts_with("http"))
            .map(str::to_string)
    })
}

/// The post's web address from `List-Post` (or `List-Archive`), cleaned.
fn list_post(msg: &Message<'_>, cleaner: &Cleaner) -> Option<String> {
    msg.list_post()
        .as_text_list()
        .and_then(|l| {
            l.iter()
                .find(|u| u.trim_matches(['<', '>']).starts_with("http"))
                .map(|u| u.trim_matches(['<', '>']).to_string())
        })
        .or_else(|| {
            msg.header_raw("List-Post").and_then(|raw| {
                raw.split([',', ' ', '\t', '\r', '\n'])
                    .map(|u| u.trim().trim_matches(['<', '>']))
                    .find(|u| u.starts_with("http"))
                    .map(str::to_string)
            })
        })
        .map(|u| cleaner.clean(&u))
}

/// Subjects and link texts of confirmation (double opt-in) and welcome emails.
const CONFIRM_PHRASES: &[&str] = &[
    "confirm your subscription",
    "confirm your email",
    "confirm your e-mail",
    "confirm subscription",
    "please confirm",
    "verify your email",
    "verify your e-mail",
    "verify your subscription",
    "activate your subscription",
    "complete your subscription",
    "finish subscribing",
    "double opt-in",
    "yes, subscribe me",
    // German: the du and the Sie forms.
    "bestätige deine",
    "bestätigen sie ihre",
    "bitte bestätige",
    "bitte bestätigen",
    "anmeldung bestätigen",
    "abonnement bestätigen",
    "e-mail-adresse bestätigen",
];
const WELCOME_SUBJECTS: &[&str] = &[
    "welcome to",
    "welcome!",
    "thanks for subscribing",
    "thank you for subscribing",
    "you're subscribed",
    "you’re subscribed",
    "you are now subscribed",
    "subscription confirmed",
    "willkommen",
    "herzlich willkommen",
    "danke für deine anmeldung",
    "danke für ihre anmeldung",
    "vielen dank für deine anmeldung",
    "vielen dank für ihre anmeldung",
    "anmeldung bestätigt",
];
/// Link text or URL parts of the button that confirms.
const CONFIRM_LINK: &[&str] = &[
    "confirm",
    "verify",
    "activate",
    "opt-in",
    "optin",
    "subscribe me",
    "bestätig",
    "bestaetig",
];

/// `Some(link)` when the message is a confirmation or welcome email (the link may be absent).
/// `bodies` are the HTML and text parts, for their links; `body` is the readable text (no
/// style sheet or script counted as words).
fn confirmation(
    subject: &str,
    bodies: (Option<&str>, Option<&str>),
    body: &str,
    cleaner: &Cleaner,
) -> Option<Option<String>> {
    let (html, text) = bodies;
    let subj = subject.to_lowercase();
    let links = match (html, text) {
        (Some(h), _) => html_links(h),
        (None, Some(t)) => text_links(t),
        _ => Vec::new(),
    };
    let confirm_link = links
        .iter()
        .find(|(t, u)| {
            let (t, u) = (t.to_lowercase(), u.to_lowercase());
            !u.contains("unsubscribe")
                && CONFIRM_LINK.iter().any(|c| t.contains(c) || u.contains(c))
        })
        .map(|(_, u)| cleaner.clean(u));
    let subject_confirms = CONFIRM_PHRASES.iter().any(|p| subj.contains(p));
    let subject_welcomes = WELCOME_SUBJECTS.iter().any(|p| subj.starts_with(p));
    // The sender's own campaign tag is evidence at any length; two links, so one article
    // that happens to be tagged does not decide.
    let welcome_series = links.iter().filter(|(_, u)| in_welcome_campaign(u)).count() >= 2;
    let body = body.to_lowercase();
    let body_confirms = CONFIRM_PHRASES.iter().any(|p| body.contains(p));
    // A short body that asks to confirm is a confirmation even under a bland subject; a long
    // one is a newsletter that happens to mention confirming.
    let short = body.split_whitespace().count() < 250;
    if subject_confirms || (body_confirms && short && confirm_link.is_some()) {
        return Some(confirm_link);
    }
    if (subject_welcomes && short) || welcome_series {
        return Some(confirm_link.or_else(|| {
            links
                .iter()
                .find(|(t, u)| !is_boilerplate(t, u) && u.starts_with("http"))
                .map(|(_, u)| cleaner.clean(u))
        }));
    }
    None
}

/// The campaign a link is tagged with names a welcome series: senders send those from an
/// automation they label "welcome" / "Willkommensserie" / "onboarding" in the tracking
/// parameters, whatever the subject says ("Der WWF stellt sich vor").
fn in_welcome_campaign(href: &str) -> bool {
    let Ok(url) = url::Url::parse(href) else {
        return false;
    };
    url.query_pairs().any(|(k, v)| {
        let tag = k.starts_with("utm_") || matches!(&*k, "newsletter" | "campaign");
        let v = v.to_lowercase();
        tag && ["welcome", "willkommen", "onboarding"]
            .iter()
            .any(|w| v.contains(w))
    })
}

/// (text, href) of every http(s) link in the document, in order.
fn html_links(html: &str) -> Vec<(String, String)> {
    let doc = crate::html::parse_document(html);
    doc.select(&LINKS)
        .filter_map(|a| {
            let href = a.value().attr("href")?.trim();
            (href.starts_with("http://") || href.starts_with("https://"))
                .then(|| (element_text(a), href.to_string()))
        })
        .collect()
}

/// (line, url) for every URL in a plain-text body.
fn text_links(text: &str) -> Vec<(String, String)> {
    text.lines()
        .flat_map(|l| {
            l.split_whitespace()
                .map(|w| w.trim_matches(['<', '>', '(', ')', '.', ',']))
                .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
                .map(move |w| (l.trim().to_string(), w.to_string()))
        })
        .collect()
}

/// The HTML and plain-text bodies. When broken MIME left mail-parser without a body list, the
/// first readable text part is used (as HTML if it looks like HTML).
fn bodies(msg: &Message<'_>) -> (Option<String>, Option<String>) {
    let html = msg.html_part(0).and_then(|p| match &p.body {
        PartType::Html(h) => Some(h.to_string()),
        _ => None,
    });
    let text = msg.text_part(0).and_then(|p| match &p.body {
        PartType::Text(t) => Some(t.to_string()),
        _ => None,
    });
    if html.is_some() || text.is_some() {
        return (html, text);
    }
    // Only parts that declare themselves text: a preamble of junk outside any part is not a body.
    for part in msg.parts.iter().filter(|p| {
        p.content_type()
            .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("text"))
    }) {
        match &part.body {
            PartType::Html(h) if !h.trim().is_empty() => return (Some(h.to_string()), None),
            PartType::Text(t) if !t.trim().is_empty() => {
                let head = t
                    .trim_start()
                    .get(..200)
                    .unwrap_or(t.trim_start())
                    .to_lowercase();
                return if head.starts_with('<')
                    && (head.contains("<html")
                        || head.contains("<body")
                        || head.contains("<table")
                        || head.contains("<div"))
                {
                    (Some(t.to_string()), None)
                } else {
                    (None, Some(t.to_string()))
                };
            }
            _ => {}
        }
    }
    (None, None)
}

/// Broken MIME that mail-parser read around: recorded so the reader knows something is missing.
fn mime_warnings(msg: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let raw = msg.raw_message();
    if let Some(ct) = msg.content_type() {
        if ct.ctype().eq_ignore_ascii_case("multipart") {
            match ct.attribute("boundary") {
                Some(b) => {
                    let end = format!("--{b}--");
                    if !raw.windows(end.len()).any(|w| w == end.as_bytes()) {
                        out.push(format!(
                            "multipart body has no closing boundary `{end}` (truncated?); read what was there"
                        ));
                    }
                }
                None => {
                    out.push("multipart message without a boundary; read what was there".into())
                }
            }
        }
    }
    out
}

/// The essay's title in the body: the first `h1` (or the first heading), if any.
fn post_title_html(html: &str) -> Option<String> {
    let doc = crate::html::parse_document(html);
    let sel = Selector::parse("h1, h2").ok()?;
    doc.select(&sel)
        .map(element_text)
        .find(|t| t.split_whitespace().count() >= 2 && t.len() <= MAX_HEADLINE_CHARS)
}

/// The essay's web link in an HTML body: the title link, else "view online".
fn title_link_html(html: &str, cleaner: &Cleaner) -> Option<String> {
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

/// "View online: URL", "Read on the web: URL" in a plain-text essay.
fn web_link_text(text: &str, cleaner: &Cleaner) -> Option<String> {
    text_links(text)
        .into_iter()
        .find(|(line, _)| is_web_version(line))
        .map(|(_, u)| cleaner.clean(&u))
}

const WEB_VERSION: &[&str] = &[
    "view in browser",
    "view in your browser",
    "view this email",
    "view this post",
    "view it in your browser",
    "view online",
    "web version",
    "read online",
    "read on the web",
    "open in browser",
    "im browser ansehen",
    "online ansehen",
    "voir dans le navigateur",
    "version en ligne",
    "ver en el navegador",
];

fn is_web_version(text: &str) -> bool {
    let t = text.to_lowercase();
    WEB_VERSION.iter().any(|w| t.contains(w))
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

/// A paragraph of newsletter furniture (unsubscribe lines, addresses, legal text).
fn is_furniture_text(p: &str) -> bool {
    let l = p.to_lowercase();
    is_web_version(&l)
        || BOILERPLATE.iter().take(40).any(|b| l.contains(b))
        || l.contains("you are receiving")
        || l.contains("you received this")
        || l.contains("you're receiving")
        || l.contains("all rights reserved")
        || l.contains("©")
        || l.contains("(c) 20")
        || is_social_junk(p)
}

/// Link texts that point onward from the story before them ("See also World Wire") rather
/// than name a story of their own.
const RELATED_PREFIXES: &[&str] = &["see also", "related:", "also read", "more on this"];

/// True for links that are newsletter furniture rather than stories.
pub fn is_boilerplate(text: &str, url: &str) -> bool {
    let t = text.to_lowercase();
    let u = url.to_lowercase();
    u.starts_with("mailto:")
        || BOILERPLATE.iter().any(|b| t.contains(b) || u.contains(b))
        || is_related_pointer(&t)
}

fn is_related_pointer(text: &str) -> bool {
    let t = text.trim_start().to_lowercase();
    RELATED_PREFIXES.iter().any(|p| t.starts_with(p))
}

/// "See also South China Morning Post" → "South China Morning Post"; the link's host when
/// the pointer names nothing ("Related:").
fn pointed_to(text: &str, url: &str) -> String {
    let t = text.trim();
    let lower = t.to_lowercase();
    let rest = RELATED_PREFIXES
        .iter()
        .find(|p| lower.starts_with(*p))
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

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The visible text of an element: what is inside `<script>`, `<style>` and the like is code,
/// not prose, and must not end up in a blurb.
fn element_text(e: ElementRef<'_>) -> String {
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
const MIN_POLL_OPTIONS: usize = 3;

/// A postal address or a phone line set like a headline ("Tel. 030 311 777 - 700",
/// "Reinhardtstr. 18 10117 Berlin"): seven digits or more in groups split by spaces, or
/// a street number and a four- or five-digit postcode followed by a place name.
fn looks_like_contact(text: &str) -> bool {
    // Digits in groups split by spaces (a date, "15.02.2023" or "2022-10-14", is one group).
    let (mut run, mut spaced) = (0, false);
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 7 && spaced {
                return true;
            }
        } else if c == ' ' && run > 0 {
            spaced = true;
        } else if !matches!(c, '-' | '(' | ')' | '+') {
            (run, spaced) = (0, false);
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |w: &str, len: std::ops::RangeInclusive<usize>| {
        w.chars().all(|c| c.is_ascii_digit()) && len.contains(&w.len())
    };
    words.windows(3).any(|w| {
        number(w[0], 1..=4)
            && number(w[1], 4..=5)
            && w[2].chars().next().is_some_and(char::is_uppercase)
    })
}

/// Words of prose under a heading for it to head a story rather than a section or a label.
const MIN_HEADED_PROSE_WORDS: usize = 12;
/// Most words of a heading taken for a headline.
const MAX_HEADING_WORDS: usize = 20;
/// Prose kept from under a heading, in words (the blurb is cut shorter later).
const MAX_HEADED_PROSE_WORDS: usize = 120;

/// A link that asks to be clicked rather than names a story: a generic text ("Read more",
/// "Mehr lesen") or any text that ends in an arrow ("Read it in the Journal →").
fn is_call_to_action(text: &str) -> bool {
    let t = text.trim();
    // "»" and "›" also quote, German style »so« and French style «so»: an arrow only when
    // nothing opens the quote it would close.
    let arrow_end =
        t.ends_with(['→', '>', '⟶']) || (t.ends_with(['»', '›']) && !t.contains(['«', '‹']));
    if arrow_end || t.starts_with(['→', '>', '⟶']) {
        return true;
    }
    let lower = t.to_lowercase();
    if GENERIC_LINK_TEXT.contains(&lower.trim_end_matches(['.', '!', ' ']).trim()) {
        return true;
    }
    // A short imperative ("Read the full story", "Jetzt App laden", "Lire en ligne"); a
    // headline that opens with such a verb goes on past a colon or runs longer.
    let words: Vec<&str> = lower
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    words.len() <= MAX_CALL_TO_ACTION_WORDS
        && !t.contains(':')
        && words
            .first()
            .is_some_and(|w| CALL_TO_ACTION_VERBS.contains(w))
}

/// Longest call to action recognised by its opening verb.
const MAX_CALL_TO_ACTION_WORDS: usize = 6;

/// Verbs that open a call to action and hardly ever a headline, in English, German and French
/// (imperatives, and the German "Jetzt …" / "Hier …" / "Alle …" forms).
const CALL_TO_ACTION_VERBS: &[&str] = &[
    "read",
    "click",
    "see",
    "take",
    "sign",
    "share",
    "invite",
    "subscribe",
    "download",
    "shop",
    "buy",
    "order",
    "view",
    "register",
    "donate",
    "become",
    "jetzt",
    "hier",
    "alle",
    "mehr",
    "klicken",
    "klick",
    "lesen",
    "weiterlesen",
    "entdecken",
    "bestellen",
    "anmelden",
    "registrieren",
    "teilen",
    "spenden",
    "lire",
    "découvrez",
    "voir",
    "inscrivez",
    "partagez",
];

/// A bold run at the start of `block` that is a lead of its own, not the opening words of a
/// sentence in bold: the whole block, or followed by a colon or dash, or by a line break.
/// `after` is the visible text that follows it.
fn stands_apart(
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
const MAX_TEASER_PROSE_WORDS: usize = 250;

/// Stories told without a headline link, found by structure: a heading (`h2`–`h4`), or a
/// bold run that opens its block, with prose of its own under it before the next heading or
/// headline link (a heading right above a headline link is a section or a kicker). Its link
/// is a call to action or a button in that prose ("Read more", a link alone in its block), not
/// a citation inside a sentence; without one the story has no link. Returns each with its
/// position in document order (`index`: every node's, from the caller). `taken` are the
/// headline links already stories.
fn headed_blocks(
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
fn signature(el: ElementRef<'_>) -> String {
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

/// "Sponsored", "Presented by Acme", "Together with Acme", "— Advertisement —".
const SPONSOR_MARKERS: &[&str] = &[
    "sponsored",
    "sponsor",
    "presented by",
    "together with",
    "in partnership with",
    "brought to you by",
    "a message from",
    "advertisement",
    "paid post",
    "partner content",
    "from our partners",
];
/// A sponsor label is short; longer text that mentions a sponsor is prose.
const MAX_SPONSOR_LABEL_CHARS: usize = 60;

fn is_sponsor_label(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    t.len() <= MAX_SPONSOR_LABEL_CHARS && SPONSOR_MARKERS.iter().any(|m| t.starts_with(m))
}

/// True when the smallest block around `link` that holds no other headline carries a sponsor
/// label.
fn in_sponsored_block(link: ElementRef<'_>, headlines: &HashSet<NodeId>) -> bool {
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
const MIN_LISTED_HEADLINE_WORDS: usize = 4;
/// A listed headline in Title Case needs this many words to be no menu entry.
const MIN_TITLE_CASE_HEADLINE_WORDS: usize = 6;

/// A sentence-like headline rather than a name: enough words, and in sentence case unless
/// long ("Telecom firm leaks student data to Web", not "Top 50 Fun Sites").
fn reads_as_headline(text: &str) -> bool {
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
fn is_inline_wrapper(name: &str) -> bool {
    matches!(
        name,
        "b" | "strong" | "span" | "em" | "i" | "font" | "u" | "small" | "big"
    )
}

/// Whitespace, a comment or an image (a bullet icon): nothing that shares a line's text.
fn is_blank(n: &ego_tree::NodeRef<'_, scraper::Node>) -> bool {
    n.value().as_text().is_some_and(|t| t.trim().is_empty())
        || n.value().is_comment()
        || n.value().as_element().is_some_and(|e| e.name() == "img")
}

fn is_break(n: Option<ego_tree::NodeRef<'_, scraper::Node>>) -> bool {
    n.and_then(ElementRef::wrap)
        .is_some_and(|e| matches!(e.value().name(), "br" | "hr"))
}

/// True when nothing but line breaks or its block's edges stand beside the link.
fn on_own_line(link: ElementRef<'_>) -> bool {
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
fn line_before(link: ElementRef<'_>) -> Option<String> {
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
fn emphasised(link: ElementRef<'_>) -> bool {
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
const MIN_HEADING_PX: f64 = 17.0;

/// `font-weight: bold` or 600 and more, or `font-size` of [`MIN_HEADING_PX`] or more.
fn style_is_emphasis(style: &str) -> bool {
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
fn ends_line(link: ElementRef<'_>) -> bool {
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
fn text_without_minor_links(block: ElementRef<'_>) -> String {
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
    let mut out: Vec<Found> = Vec::new();
    let mut chunk_start = 0;
    // Where the text after the last story's URL begins: a story may run over a separator
    // ("* * *", then an update and the URL).
    let mut after_url = 0;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if is_separator(trimmed) {
            chunk_start = i + 1;
            continue;
        }
        let Some(url) = bare_url(trimmed) else {
            // "Headline - Outlet 9/26/2002 <https://…>": a headline list, one story a line.
            if let Some((title, url)) = headline_with_url(trimmed) {
                if !is_boilerplate(&title, url) && !is_sponsor_label(&title) {
                    out.push(Found {
                        title,
                        url: Some(cleaner.clean(url)),
                        blurb: String::new(),
                        section: None,
                        sponsored: false,
                        also: Vec::new(),
                        headed: false,
                    });
                    after_url = i + 1;
                }
                chunk_start = i + 1;
            }
            continue;
        };
        if is_boilerplate(trimmed, url) {
            chunk_start = i + 1;
            continue;
        }
        let prev = i.checked_sub(1).map(|p| lines[p].trim()).unwrap_or("");
        let url = cleaner.clean(url);
        let sponsored = lines[chunk_start..i].iter().any(|l| is_sponsor_label(l));
        let found = if !prev.is_empty()
            && i > chunk_start
            && looks_like_headline(prev)
            && (i < 2
                || lines[i - 2].trim().is_empty()
                || is_sponsor_label(lines[i - 2])
                || i - 1 == chunk_start)
        {
            // Headline, URL, then the blurb below.
            let blurb = paragraph_from(&lines, i + 1);
            Found {
                title: fold(prev),
                url: Some(url),
                blurb,
                section: None,
                sponsored,
                also: Vec::new(),
                headed: false,
            }
        } else {
            // Headline, paragraphs, then the URL closing the story (the seed newsletter's shape).
            let paras = paragraphs(&lines[chunk_start..i]);
            if paras.is_empty() {
                chunk_start = i + 1;
                continue;
            }
            // The headline is the last headline-like paragraph before the first blurb, so a
            // masthead or date line above the first story is not taken for its title.
            let lead = paras.iter().take_while(|p| looks_like_headline(p)).count();
            // "Headline\nStandfirst\nURL": a headline line right above its standfirst, which
            // reads as one paragraph.
            let split = headline_and_standfirst(paragraph_above(&lines, chunk_start, i))
                .filter(|_| lead == 0 || lead == paras.len() || is_caps_label(&paras[lead - 1]));
            if let Some((title, blurb)) = split {
                out.push(Found {
                    title,
                    url: Some(url),
                    blurb,
                    section: None,
                    sponsored,
                    also: Vec::new(),
                    headed: false,
                });
                chunk_start = i + 1;
                after_url = i + 1;
                continue;
            }
            // Sentences with no headline above them continue the story before a separator
            // ("Update: …" under the headline's own chunk), or are a notice ("You have
            // received this message because…", a copyright line), not a story.
            let (title, blurb) = if lead > 0 {
                (
                    paras[lead - 1].clone(),
                    paras.get(lead).cloned().unwrap_or_default(),
                )
            } else {
                let earlier: Vec<String> = paragraphs(&lines[after_url.min(chunk_start)..i])
                    .into_iter()
                    .filter(|p| !is_separator(p))
                    .collect();
                // The story opens with its headline; a caption under it ("… Photo: Handout")
                // may read as one too.
                if !earlier.first().is_some_and(|p| looks_like_headline(p)) {
                    chunk_start = i + 1;
                    after_url = i + 1;
                    continue;
                }
                let blurb = earlier
                    .iter()
                    .skip(1)
                    .find(|p| !looks_like_headline(p))
                    .cloned()
                    .unwrap_or_default();
                (earlier[0].clone(), blurb)
            };
            Found {
                title,
                url: Some(url),
                blurb,
                section: None,
                sponsored,
                also: Vec::new(),
                headed: false,
            }
        };
        match out.last_mut() {
            // "See also World Wire" above a URL: another outlet for the story before.
            Some(last) if is_related_pointer(&found.title) => {
                let url = found.url.unwrap_or_default();
                last.also.push((pointed_to(&found.title, &url), url));
            }
            _ => out.push(found),
        }
        chunk_start = next_chunk_start(&lines, i + 1);
        after_url = chunk_start;
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
    // The blurb ends where `paragraph_from` ends it: a URL or separator line right below it
    // belongs to what follows. Skipping past a URL line would start the next chunk after the
    // next story's own URL (a slice panic, found by fuzzing).
    while j < lines.len()
        && !lines[j].trim().is_empty()
        && bare_url(lines[j].trim()).is_none()
        && !is_separator(lines[j].trim())
    {
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
        .map(|p| {
            let kept: Vec<&str> = p.iter().copied().filter(|l| !is_sponsor_label(l)).collect();
            fold(&kept.join(" "))
        })
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

/// The lines of the paragraph that ends right above line `end`, from `start` on at most.
fn paragraph_above<'a>(lines: &[&'a str], start: usize, end: usize) -> Vec<&'a str> {
    let mut from = end;
    while from > start && !lines[from - 1].trim().is_empty() {
        from -= 1;
    }
    lines[from..end].to_vec()
}

/// Longest line taken for a headline above its standfirst.
const MAX_HEADLINE_LINE_CHARS: usize = 100;

/// A paragraph whose first line is a headline and whose next line starts a new sentence (a
/// capital, not the lower-case continuation of a wrapped line): (headline, standfirst).
fn headline_and_standfirst(para: Vec<&str>) -> Option<(String, String)> {
    let (raw_first, raw_rest) = para.split_first()?;
    let raw_next = raw_rest.first()?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    // A line indented unlike the headline is no wrapped continuation of it either
    // ("    posted by rafael on Monday…" under a headline).
    let indented = indent(raw_next) != indent(raw_first);
    let first = raw_first.trim();
    let next = raw_next.trim();
    let rest: Vec<&str> = raw_rest.iter().map(|l| l.trim()).collect();
    // "HEADLINE | News: SearchSecurity": the part after the bar names the section.
    let first = match first.split_once(" | ") {
        Some((head, _)) if head.split_whitespace().count() >= MIN_HEADLINE_WORDS => head,
        _ => first,
    };
    let starts_sentence = next
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || "\"'“‘".contains(c));
    ((starts_sentence || indented)
        && looks_like_headline(first)
        && first.chars().count() <= MAX_HEADLINE_LINE_CHARS
        && !rest.iter().any(|l| is_sponsor_label(l)))
    .then(|| (fold(first), fold(&rest.join(" "))))
}

/// A short label in capitals ("LEAD STORY", "OTHER STORIES") heads a section, not a story.
fn is_caps_label(p: &str) -> bool {
    p.split_whitespace().count() <= 4
        && p.chars().any(char::is_alphabetic)
        && !p.chars().any(char::is_lowercase)
}

/// Headline words before a URL that ends the line, at most a short headline's length.
const MAX_LINE_HEADLINE_WORDS: usize = 20;

/// A line holding a headline and, at its end, the story's URL (`<…>` allowed): the headline
/// without a trailing date or separator. None for a sentence that happens to end in a link.
fn headline_with_url(line: &str) -> Option<(String, &str)> {
    let (text, last) = line.rsplit_once(char::is_whitespace)?;
    let url = last.trim_start_matches('<').trim_end_matches('>');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return None;
    }
    // "Send leads to: <url>" labels the link; it is no headline.
    if text.trim_end().ends_with(':') {
        return None;
    }
    let mut words: Vec<&str> = text.split_whitespace().collect();
    // A dateline ("9/26/2002", "2002-09-26") closing the headline is not part of it.
    while words.last().is_some_and(|w| {
        w.chars().any(|c| c.is_ascii_digit())
            && w.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.'))
    }) {
        words.pop();
    }
    let title = words
        .join(" ")
        .trim_end_matches(|c: char| matches!(c, '-' | '–' | '—' | '|' | ':') || c.is_whitespace())
        .to_string();
    let n = title.split_whitespace().count();
    ((MIN_HEADLINE_WORDS..=MAX_LINE_HEADLINE_WORDS).contains(&n) && looks_like_headline(&title))
        .then_some((title, url))
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
    #[test]
    fn a_link_tagged_with_a_welcome_campaign_marks_a_welcome_series() {
        use super::in_welcome_campaign;
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
    fn a_blurb_loses_the_punctuation_that_tied_it_to_its_headline() {
        use super::without_lead_in;
        assert_eq!(without_lead_in(": The party has"), "The party has");
        assert_eq!(without_lead_in(" | — Read on"), "Read on");
        assert_eq!(without_lead_in("- Shares fell"), "Shares fell");
        assert_eq!(without_lead_in("-5% in a day"), "-5% in a day");
        assert_eq!(without_lead_in("…and then"), "…and then");
    }

    use super::*;

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
