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
//!    becomes a [`model::SourceError`], never a failed run. Each mailbox message is opened
//!    once: what it came to is remembered ([`sources::examined`]), and IMAP asks the server
//!    only for mail since the cut-off. A newsletter's blocks that came in an earlier issue of
//!    the same sender are its template and left out ([`sources::template`]); state learns
//!    them when a digest went out.
//!    A feed body is decoded in the charset readers would find, rewritten into the forms
//!    feed-rs reads (RSS of any version, Atom 0.3, repaired XML) and parsed
//!    ([`sources::feed`]); what feed-rs drops (permalink GUIDs, `feedburner:origLink`,
//!    Dublin Core, `itunes:duration`) is gathered on the way.
//! 3. Every link is cleaned by [`links`] and every piece of HTML sanitized by [`html`] as the
//!    item is made, so nothing unsafe or tracking reaches later stages. Before grouping, one
//!    step ([`links::publish`]) drops every link that still tracks the reader, or, with
//!    `[links] resolve_redirects`, resolves opaque click-trackers (cached in [`state`]).
//! 4. [`group`] applies the reader's filters, merges items that are the same story (exact
//!    keys, then TF-IDF similarity over the stems of each story's own language, backed by
//!    shared names, a story compared by its own vector, within a time window), recognises
//!    new reports of stories earlier digests sent (follow-ups, from what [`state`] remembers),
//!    ranks stories (how many of the reader's sources carry each, the source's priority, its
//!    place in its source, freshness), places them in topics (keywords, hints, categories, then
//!    a naive Bayes model trained on the batch with EM, with a class for "none of these"; never
//!    the model alone on a small batch; then automatic topics by a headline word several
//!    sources share, then one section per newsletter), picks the lead section and applies
//!    the caps (per topic, per source, total, reading time), each with its reason.
//! 5. [`render`] fills the Tera templates (built in, or the user's) with words and dates in
//!    the digest's language ([`locale`]), keeping the HTML part
//!    within `[digest] max_bytes` by cutting the lowest-ranked stories to titles, then out;
//!    [`deliver`] builds one MIME message and hands it to SMTP (driven step by step) or
//!    sendmail, or files it into a Maildir (`tmp/` then `new/`) or an IMAP folder (APPEND).
//! 6. [`state`] remembers sources, validators, health and deliveries. A digest's items are
//!    recorded, as *pending*, when the SMTP server has agreed to take the message, confirmed
//!    when it accepts it and removed if it refuses; a pending digest left by a crash is settled
//!    by the next run. So a failed send loses nothing and nothing is sent twice. IMAP UIDs and
//!    the stories shown (for follow-ups) are recorded in the same transaction as the digest;
//!    each IMAP mailbox's `after` action runs only after acceptance.
//!    Each run also writes what the mailbox readers learned and prunes what is older than the
//!    cut-off (`lookback` plus [`state::KEEP_MARGIN`]), so the file stops growing.
//!
//! What runs concurrently ([`sources::collect`]): every feed is its own task (at most
//! `[fetch] concurrency` downloads in flight, `per_host` per host ([`limits`]), parsing on the
//! worker threads, started in an order that keeps the busiest host's queue moving); local mailboxes read on the blocking pool; IMAP
//! mailboxes are async. After fetching, the passes over every item (link checks, text
//! analysis, merging's keys and vectors, keyword scores) are cut into one share per core
//! ([`parallel`]), with results in input order, so the digest is the same as one thread's.
//! Everything else runs in order.
//!
//! Around the pipeline: [`pipeline`] runs the stages for `preview` and `run`; [`preview`] opens or serves the
//! preview (rebuilt when the config or a template changes); [`lock`] keeps
//! runs one at a time; [`schedule`] and [`daemon`] run on a cron schedule; [`health`] reports
//! how each source has been doing and decides when a failing feed is tried again; [`edit`] and [`opml`] change `config.toml` from the command
//! line, comments kept, checked before writing.

pub mod check;
pub mod config;
pub mod daemon;
pub mod deliver;
pub mod edit;
pub mod group;
pub mod health;
pub mod html;
pub mod init;
mod limits;
pub mod links;
pub mod locale;
pub mod lock;
pub mod model;
pub mod opml;
mod parallel;
pub mod pipeline;
pub mod preview;
pub mod progress;
pub mod render;
mod schedule;
pub mod sources;
pub mod state;
