//! Sources: where items come from.
//!
//! - [`http`] fetches feeds (both concurrency limits, deadline, size cap, conditional GET);
//! - [`feed`] turns feed bytes into items;
//! - [`maildir`] reads local mail (Maildir, `.eml` files), [`mbox`] an mbox file, [`imap`]
//!   folders on an IMAP server; [`newsletter`] cuts each email into its stories.

pub mod click_tracker;
pub mod feed;
pub mod http;
pub mod imap;
pub mod maildir;
pub mod mbox;
pub mod newsletter;
