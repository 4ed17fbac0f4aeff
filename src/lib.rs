//! tidings: the newsletters and feeds you follow, as one clean email digest.
//!
//! # The pipeline
//!
//! ```text
//! config ─► sources ─► items ─► links ─► group ─► render ─► deliver ─► state
//!           feeds (HTTP, concurrent)      merge     Tera      lettre     SQLite
//!           mailboxes (blocking pool;     topics    HTML+text SMTP
//!           IMAP async)
//! ```
//!
//! 1. [`config`] parses `config.toml` into plain structs, then resolves them into a validated
//!    [`config::Config`]; every error names file, line and key.
//! 2. [`sources`] read feeds over HTTP (all at once, bounded globally and per host, each with a
//!    deadline and a size cap, conditional GET) and newsletters from Maildirs, mbox files and IMAP
//!    folders (read-only, `BODY.PEEK`), each cut into its stories. A failing source
//!    becomes a [`model::SourceError`], never a failed run.
//! 3. Every link is cleaned by [`links`] and every piece of HTML sanitized by [`html`] as the
//!    item is made, so nothing unsafe or tracking reaches later stages. Before grouping, one
//!    step ([`links::publish`]) drops every link that still tracks the reader, or, with
//!    `[links] resolve_redirects`, resolves opaque click-trackers (cached in [`state`]).
//! 4. [`group`] merges items that are the same story and places stories in topics.
//! 5. [`render`] fills the Tera templates (built in, or the user's); [`deliver`] builds one
//!    MIME message and hands it to SMTP or sendmail.
//! 6. [`state`] remembers sources, validators and deliveries. Items are recorded as delivered in
//!    one transaction, only after the SMTP server accepted the digest: a failed send loses
//!    nothing, and a rerun sends nothing twice. Only then are IMAP UIDs recorded and each IMAP
//!    mailbox's `after` action (seen, move, delete) applied.
//!
//! [`pipeline`] runs these stages for `preview` and `run`; [`preview`] opens or serves the
//! preview (rebuilt when the config or a template changes).
//! [`edit`] and [`opml`] change `config.toml` from the command line, comments kept, checked first.

pub mod config;
pub mod daemon;
pub mod deliver;
pub mod edit;
pub mod group;
pub mod health;
pub mod html;
pub mod links;
pub mod lock;
pub mod model;
pub mod opml;
pub mod pipeline;
pub mod preview;
pub mod render;
pub mod schedule;
pub mod sources;
pub mod state;
