//! What the message itself says: its identity, its sender's name, its `List-*` headers, its
//! HTML and text bodies, and what broken MIME left unreadable.

use mail_parser::{Message, MimeHeaders, PartType};

use crate::links::Cleaner;

/// The message's identity for "digested once": its Message-ID, else one made from the fallback
/// (file name, IMAP UID...).
pub fn message_id(msg: &Message<'_>, fallback_id: &str) -> String {
    msg.message_id()
        .map(|m| format!("<{}>", m.trim_matches(['<', '>'])))
        .unwrap_or_else(|| format!("<{fallback_id}@tidings.local>"))
}

/// What the newsletter calls itself: the sender's display name, else the `List-Id` phrase,
/// else a list tag opening the subject ("[use Perl] Headlines…"), else the sender's domain
/// without its mail host ("update@list.theregister.co.uk" → "theregister.co.uk"): a section
/// of the digest is not headed by a bare address.
pub(super) fn sender_name(msg: &Message<'_>, subject: &str) -> Option<String> {
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

/// The first http(s) URL of `List-Unsubscribe`.
pub(super) fn list_unsubscribe(msg: &Message<'_>) -> Option<String> {
    msg.header_raw("List-Unsubscribe").and_then(|raw| {
        raw.split([',', ' ', '\t', '\r', '\n'])
            .map(|u| u.trim().trim_matches(['<', '>']))
            .find(|u| u.starts_with("http"))
            .map(str::to_string)
    })
}

/// The post's web address from `List-Post` (or `List-Archive`), cleaned.
pub(super) fn list_post(msg: &Message<'_>, cleaner: &Cleaner) -> Option<String> {
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

/// The HTML and plain-text bodies. When broken MIME left mail-parser without a body list, the
/// first readable text part is used (as HTML if it looks like HTML).
pub(super) fn bodies(msg: &Message<'_>) -> (Option<String>, Option<String>) {
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
pub(super) fn mime_warnings(msg: &Message<'_>) -> Vec<String> {
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
