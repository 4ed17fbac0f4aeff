//! Confirmation (double opt-in) and welcome emails: they yield no stories but an entry in
//! "Needs your attention" with the link that confirms.

use crate::links::Cleaner;

use super::furniture::is_boilerplate;
use super::html::{element_text, LINKS};

/// Subjects and link texts of confirmation (double opt-in) and welcome emails.
pub(super) const CONFIRM_PHRASES: &[&str] = &[
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

pub(super) const WELCOME_SUBJECTS: &[&str] = &[
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
pub(super) const CONFIRM_LINK: &[&str] = &[
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
pub(super) fn confirmation(
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
