//! The integration tests, one module per area, in one binary (see `autotests` in
//! Cargo.toml). They cross the real protocols: feeds from an HTTP server on 127.0.0.1, mail
//! through the Dovecot and SMTP servers that `tests/mail/with-servers.sh` starts, the
//! `tidings` binary run as a user runs it. Tests that share those servers tell their
//! messages apart with `common::nonce`, so they run in parallel like any others.

mod common;

mod check;
mod cli;
mod edit;
mod email;
mod fuzz_regressions;
mod hostile;
mod imap;
mod link_props;
mod link_resolve;
mod links_cases;
mod opml;
mod pipeline;
mod render_browser;
mod render_budget;
mod render_preview;
mod unattended;
