//! Confirmation (double opt-in) and welcome emails: they yield no stories but an entry in
//! "Needs your attention" with the link that confirms.

use crate::links::Cleaner;

use super::furniture::{is_boilerplate, PHRASES};
use super::html::{element_text, LINKS};

/// `Some(link)` when the message is a confirmation or welcome email (the link may be absent).
/// `bodies` are the HTML and text parts, for their links; `body` is the readable text (no
/// style sheet or script counted as words). A welcome mail's link (one that does not
/// confirm) is taken only where `publishable` says it carries no tracking.
pub(super) fn confirmation(
    subject: &str,
    bodies: (Option<&str>, Option<&str>),
    body: &str,
    cleaner: &Cleaner,
    publishable: impl Fn(&str) -> bool,
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
                && PHRASES
                    .confirm
                    .link
                    .iter()
                    .any(|c| t.contains(c.as_str()) || u.contains(c.as_str()))
        })
        .map(|(_, u)| cleaner.clean(u));
    let subject_confirms = PHRASES
        .confirm
        .phrases
        .iter()
        .any(|p| subj.contains(p.as_str()));
    let subject_welcomes = PHRASES
        .confirm
        .welcome_subjects
        .iter()
        .any(|p| subj.starts_with(p.as_str()));
    // The sender's own campaign tag is evidence at any length; two links, so one article
    // that happens to be tagged does not decide.
    let welcome_series = links.iter().filter(|(_, u)| in_welcome_campaign(u)).count() >= 2;
    let body = body.to_lowercase();
    let body_confirms = PHRASES
        .confirm
        .phrases
        .iter()
        .any(|p| body.contains(p.as_str()));
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
                .filter(|(t, u)| !is_boilerplate(t, u) && u.starts_with("http"))
                .map(|(_, u)| cleaner.clean(u))
                .find(|u| publishable(u))
        }));
    }
    None
}

/// The campaign a link is tagged with names a welcome series: senders send those from an
/// automation they label "welcome" / "Willkommensserie" / "onboarding" in the tracking
/// parameters, whatever the subject says ("Der WWF stellt sich vor").
pub(super) fn in_welcome_campaign(href: &str) -> bool {
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
pub(super) fn html_links(html: &str) -> Vec<(String, String)> {
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
pub(super) fn text_links(text: &str) -> Vec<(String, String)> {
    text.lines()
        .flat_map(|l| {
            l.split_whitespace()
                .map(|w| w.trim_matches(['<', '>', '(', ')', '.', ',']))
                .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
                .map(move |w| (l.trim().to_string(), w.to_string()))
        })
        .collect()
}
