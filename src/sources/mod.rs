//! Sources: where items come from.
//!
//! - [`http`] fetches feeds (both concurrency limits, deadline, size cap, conditional GET);
//! - [`feed`] turns feed bytes into items;
//! - [`maildir`] reads local mail (Maildir, `.eml` files), [`mbox`] an mbox file, [`imap`]
//!   folders on an IMAP server; [`newsletter`] cuts each email into its stories; [`examined`]
//!   remembers what each message came to, so a mailbox's old mail is not read again;
//!   [`template`] learns each sender's standing blocks from its earlier issues.

use crate::config::{MailboxConfig, MailboxKind};
use crate::model::SourceKey;

pub mod click_tracker;
pub mod examined;
pub mod feed;
pub mod http;
pub mod imap;
pub mod maildir;
pub mod mbox;
pub mod newsletter;
pub mod template;

/// How state knows a mailbox: `imap:user@host:port`, `mbox:PATH` or `maildir:PATH`.
pub fn mailbox_key(m: &MailboxConfig) -> SourceKey {
    match m.kind {
        MailboxKind::Imap => imap::source_key(m),
        _ => maildir::source_key(m),
    }
}

/// How a mailbox is named to the user: its `name`, else `user@host` or its path.
pub fn mailbox_label(m: &MailboxConfig) -> String {
    match m.kind {
        MailboxKind::Imap => imap::label(m),
        _ => m
            .name
            .clone()
            .unwrap_or_else(|| m.path.display().to_string()),
    }
}
