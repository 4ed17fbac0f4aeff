//! What every mailbox reader shares: one message through [`newsletter::extract`]
//! ([`digest_message`], with the size limit, the sender filter and the Message-ID guard), and
//! what a mailbox yielded ([`MailboxRead`]). The Maildir, mbox and IMAP readers only find the
//! messages.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::config::{MailboxConfig, DEFAULT_MAX_MESSAGE_BYTES};
use crate::links::rules::glob_matches;
use crate::model::{Attention, Item, SourceKey};
use crate::sources::examined::{Basis, Ledger, Outcome};
use crate::sources::newsletter::{self, NewsletterContext};
use crate::{html::Sanitizer, links::Cleaner};

/// What one mailbox yielded: its stories, and the messages it could not use.
#[derive(Default)]
pub struct MailboxRead {
    pub items: Vec<Item>,
    /// Confirmation emails: listed in the digest, not digested as stories.
    pub attention: Vec<Attention>,
    /// Per-message problems; the mailbox itself still counts as read.
    pub warnings: Vec<String>,
    pub messages_read: usize,
    pub messages_skipped: usize,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MessageOutcome {
    /// Stories or an attention entry were taken from it; carries its Message-ID.
    Used(String),
    /// Digested in an earlier run (Message-ID guard); carries its Message-ID.
    Known(String),
    /// From a sender the filters exclude.
    Filtered,
    /// Dated (Unix seconds) before the cut-off: not extracted.
    TooOld(i64),
    /// Unusable; a warning was recorded.
    Failed,
}

impl MessageOutcome {
    /// Notes the outcome in the mailbox's ledger, under the message's place in the mailbox.
    pub(crate) fn note(&self, ledger: &mut Ledger<'_>, folder: &str, validity: u32, id: &str) {
        let (outcome, message_id, dated) = match self {
            MessageOutcome::Used(m) | MessageOutcome::Known(m) => {
                (Outcome::Used, Some(m.clone()), None)
            }
            MessageOutcome::Filtered => (Outcome::Filtered, None, None),
            MessageOutcome::TooOld(d) => (Outcome::TooOld, None, Some(*d)),
            MessageOutcome::Failed => (Outcome::Unusable, None, None),
        };
        ledger.note(folder, validity, id, outcome, message_id, dated);
    }
}

/// True when `address` matches one of the sender patterns (`*@substack.com`, `news@x.org`,
/// `*news*`), case-insensitively; an empty list matches everyone.
pub(crate) fn sender_matches(patterns: &[String], address: Option<&str>) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let Some(addr) = address else {
        return false;
    };
    let addr = addr.trim().to_lowercase();
    patterns
        .iter()
        .any(|p| glob_matches(&p.trim().to_lowercase(), &addr))
}

/// What every message of one mailbox is read with.
#[derive(Clone, Copy)]
pub(crate) struct MessageReader<'a> {
    pub cfg: &'a MailboxConfig,
    pub source: &'a SourceKey,
    pub digested: &'a HashSet<String>,
    /// Messages dated before this are too old to digest (and are not extracted).
    pub cutoff: DateTime<Utc>,
    pub cleaner: &'a Cleaner,
    pub sanitizer: &'a Sanitizer,
}

impl<'a> MessageReader<'a> {
    /// An empty ledger over the mailbox's `records`, judged by this reader's cut-off,
    /// digested messages and sender filters.
    pub(crate) fn ledger(&self, records: Vec<crate::sources::examined::Examined>) -> Ledger<'a> {
        Ledger::new(
            records,
            Basis {
                digested: self.digested,
                cutoff: self.cutoff,
                filter: crate::sources::examined::filter_fingerprint(&self.cfg.from),
            },
        )
    }
}

/// Parses one raw message, applies the sender filters and the Message-ID guard, and adds its
/// stories (or its attention entry, or a warning) to `out`. `label` names the message in
/// warnings; `fallback_id` stands in for a missing Message-ID.
pub(crate) fn digest_message(
    bytes: &[u8],
    label: &str,
    fallback_id: &str,
    r: &MessageReader<'_>,
    out: &mut MailboxRead,
) -> MessageOutcome {
    let MessageReader {
        cfg,
        source,
        digested,
        cutoff,
        cleaner,
        sanitizer,
    } = *r;
    // The headers decide whether the body is worth parsing at all (the body is most of the
    // cost): a digested, filtered or old message is passed over on its headers alone.
    let parser = mail_parser::MessageParser::default();
    let Some(head) = parser.parse_headers(bytes) else {
        out.warnings
            .push(format!("message `{label}` is not a parsable email"));
        return MessageOutcome::Failed;
    };
    let id = newsletter::message_id(&head, fallback_id);
    if digested.contains(&id) {
        out.messages_skipped += 1;
        return MessageOutcome::Known(id);
    }
    let sender = head
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address());
    if !sender_matches(&cfg.from, sender) {
        out.messages_skipped += 1;
        return MessageOutcome::Filtered;
    }
    if let Some(date) = head.date().map(|d| d.to_timestamp()) {
        if date < cutoff.timestamp() {
            out.messages_skipped += 1;
            return MessageOutcome::TooOld(date);
        }
    }
    let Some(msg) = parser.parse(bytes) else {
        out.warnings
            .push(format!("message `{label}` is not a parsable email"));
        return MessageOutcome::Failed;
    };
    let ctx = NewsletterContext {
        source,
        name: cfg.name.as_deref(),
        topic: cfg.topic.as_deref(),
        cleaner,
        sanitizer,
        fallback_id,
        include_sponsored: cfg.include_sponsored,
    };
    let extracted = newsletter::extract(&msg, &ctx);
    if digested.contains(&extracted.message_id) {
        out.messages_skipped += 1;
        return MessageOutcome::Known(extracted.message_id);
    }
    out.messages_read += 1;
    out.warnings.extend(
        extracted
            .warnings
            .iter()
            .map(|w| format!("message `{label}`: {w}")),
    );
    if let Some(a) = extracted.attention {
        out.attention.push(a);
        return MessageOutcome::Used(extracted.message_id);
    }
    if extracted.items.is_empty() {
        let what = if extracted.subject.is_empty() {
            format!("`{label}`")
        } else {
            format!("`{label}` ({})", extracted.subject)
        };
        out.warnings.push(format!(
            "message {what} has no readable content (broken MIME?)"
        ));
        return MessageOutcome::Failed;
    }
    tracing::debug!(message = %label, stories = extracted.items.len(), "newsletter read");
    out.items.extend(extracted.items);
    MessageOutcome::Used(extracted.message_id)
}

/// The warning for a message over the size limit, which is skipped (unread where the
/// mailbox lets its size be known first).
pub(crate) fn too_large(name: &str, size: u64) -> String {
    format!("message `{name}` is {size} bytes, over the {DEFAULT_MAX_MESSAGE_BYTES}-byte limit; skipped")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_filters() {
        let pats = vec!["*@substack.com".to_string(), "news@scmp.com".to_string()];
        for (addr, want) in [
            (Some("writer@substack.com"), true),
            (Some("Writer@SUBSTACK.com"), true),
            (Some("news@scmp.com"), true),
            (Some("other@scmp.com"), false),
            (Some("x@substack.com.evil.org"), false),
            (None, false),
        ] {
            assert_eq!(sender_matches(&pats, addr), want, "{addr:?}");
        }
        assert!(sender_matches(&[], None));
        assert!(glob_matches("*news*", "daily-news@e.org"));
        assert!(!glob_matches("a*b*c", "acb"));
    }
}
