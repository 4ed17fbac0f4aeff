//! Sources: where items come from.
//!
//! - [`http`] fetches feeds (both concurrency limits, deadline, size cap, conditional GET);
//! - [`feed`] turns feed bytes into items;
//! - [`maildir`] reads local mail (Maildir, `.eml` files), [`mbox`] an mbox file, [`imap`]
//!   folders on an IMAP server; [`newsletter`] cuts each email into its stories; [`examined`]
//!   remembers what each message came to, so a mailbox's old mail is not read again;
//!   [`template`] learns each sender's standing blocks from its earlier issues.

pub(crate) mod click_tracker;
pub(crate) mod collect;
pub(crate) mod discover;
pub(crate) mod examined;
pub mod feed;
pub mod http;
pub(crate) mod imap;
pub(crate) mod mailbox;
pub(crate) mod maildir;
pub mod mbox;
pub mod newsletter;
pub(crate) mod template;
