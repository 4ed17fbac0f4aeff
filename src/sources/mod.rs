//! Sources: where items come from.
//!
//! - [`http`] fetches feeds (both concurrency limits, deadline, size cap, conditional GET);
//! - [`feed`] turns feed bytes into items;
//! - [`maildir`] reads local mail, and [`newsletter`] cuts each email into its stories.

pub mod feed;
pub mod http;
pub mod maildir;
pub mod newsletter;
