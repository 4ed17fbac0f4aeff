//! `config.toml` as written: the tables and keys serde reads, each value with its span so an
//! error can point at it. [`super::Resolver`] turns them into the checked types.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) digest: RawDigest,
    #[serde(default)]
    pub(super) state: RawState,
    pub(super) delivery: Spanned<RawDelivery>,
    pub(super) smtp: Option<Spanned<RawSmtp>>,
    #[serde(default)]
    pub(super) fetch: RawFetch,
    #[serde(default)]
    pub(super) links: RawLinks,
    #[serde(default)]
    pub(super) feeds: Vec<Spanned<RawFeed>>,
    #[serde(default)]
    pub(super) mailboxes: Vec<Spanned<RawMailbox>>,
    #[serde(default)]
    pub(super) topics: Vec<Spanned<RawTopic>>,
    #[serde(default)]
    pub(super) grouping: RawGrouping,
    #[serde(default)]
    pub(super) filters: Vec<Spanned<RawFilter>>,
    #[serde(default)]
    pub(super) digests: Vec<Spanned<RawDigestEntry>>,
}

/// One of several digests (`[[digests]]`): what it changes from `[digest]` and the rest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigestEntry {
    pub(super) name: Spanned<String>,
    pub(super) title: Option<String>,
    pub(super) to: Option<Spanned<Vec<String>>>,
    pub(super) schedule: Option<Spanned<String>>,
    pub(super) period: Option<Spanned<String>>,
    pub(super) timezone: Option<Spanned<String>>,
    pub(super) templates_dir: Option<Spanned<String>>,
    pub(super) language: Option<Spanned<String>>,
    /// Names of `[[topics]]`; default all.
    pub(super) topics: Option<Vec<Spanned<String>>>,
    /// Names (or URLs, paths) of feeds and mailboxes; default all.
    pub(super) sources: Option<Vec<Spanned<String>>>,
    /// Its own state file; default `tidings-NAME.db` beside `[state] path`.
    pub(super) state: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrouping {
    pub(super) order: Option<Spanned<String>>,
    pub(super) window: Option<Spanned<String>>,
    pub(super) max_per_topic: Option<usize>,
    pub(super) max_stories: Option<usize>,
    pub(super) max_per_source: Option<usize>,
    pub(super) auto_topics: Option<usize>,
    pub(super) lead: Option<bool>,
    pub(super) lead_title: Option<String>,
    pub(super) lead_stories: Option<usize>,
    pub(super) followups: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFilter {
    pub(super) source: Option<String>,
    #[serde(default)]
    pub(super) include: Vec<String>,
    #[serde(default)]
    pub(super) exclude: Vec<String>,
    #[serde(default)]
    pub(super) regex: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    pub(super) title: Option<String>,
    pub(super) lookback: Option<Spanned<String>>,
    pub(super) templates_dir: Option<Spanned<String>>,
    pub(super) schedule: Option<Spanned<String>>,
    pub(super) timezone: Option<Spanned<String>>,
    pub(super) period: Option<Spanned<String>>,
    pub(super) report_failures_after: Option<u32>,
    pub(super) max_bytes: Option<Spanned<u64>>,
    pub(super) reading_minutes: Option<usize>,
    pub(super) language: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub(super) path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelivery {
    pub(super) from: Spanned<String>,
    pub(super) to: Spanned<Vec<String>>,
    pub(super) transport: Option<Spanned<String>>,
    pub(super) sendmail_command: Option<String>,
    pub(super) list_id: Option<Spanned<String>>,
    /// `transport = "maildir"`: the Maildir the digest is filed into.
    pub(super) maildir: Option<Spanned<String>>,
    /// `transport = "imap"`: the account and folder the digest is appended to.
    pub(super) imap: Option<Spanned<RawDeliveryImap>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeliveryImap {
    pub(super) host: Option<Spanned<String>>,
    pub(super) port: Option<u16>,
    pub(super) security: Option<Spanned<String>>,
    pub(super) username: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) password_command: Option<String>,
    pub(super) auth: Option<Spanned<String>>,
    pub(super) token_command: Option<String>,
    pub(super) oauth2_mechanism: Option<Spanned<String>>,
    pub(super) ca_file: Option<Spanned<String>>,
    pub(super) folder: Option<String>,
}

/// The connection keys an IMAP account has wherever it is configured (a mailbox to read, or
/// `[delivery.imap]` to file the digest into).
pub(super) struct RawImapAccount<'a> {
    pub(super) host: &'a Option<Spanned<String>>,
    pub(super) port: Option<u16>,
    pub(super) security: &'a Option<Spanned<String>>,
    pub(super) username: &'a Option<String>,
    pub(super) password_env: &'a Option<String>,
    pub(super) password_command: &'a Option<String>,
    pub(super) auth: &'a Option<Spanned<String>>,
    pub(super) token_command: &'a Option<String>,
    pub(super) oauth2_mechanism: &'a Option<Spanned<String>>,
    pub(super) ca_file: &'a Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: String,
    pub(super) port: Option<u16>,
    pub(super) security: Option<Spanned<String>>,
    pub(super) username: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) password_command: Option<String>,
    pub(super) auth: Option<Spanned<String>>,
    pub(super) token_command: Option<String>,
    pub(super) oauth2_mechanism: Option<Spanned<String>>,
    pub(super) ca_file: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFetch {
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) max_bytes: Option<u64>,
    pub(super) concurrency: Option<usize>,
    pub(super) per_host: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLinks {
    /// Extra query parameter names to strip everywhere (a trailing `*` matches a prefix).
    #[serde(default)]
    pub(super) strip: Vec<String>,
    /// Parameter names never to strip, even if a built-in rule would.
    #[serde(default)]
    pub(super) keep: Vec<String>,
    /// Per-host rules: `[links.hosts."example.com"]` with strip / keep / keep_only / drop_query.
    #[serde(default)]
    pub(super) hosts: std::collections::BTreeMap<String, RawLinkHost>,
    /// Strip campaign tags (`utm_*`, `mc_cid`, …) as well as identifiers (default true).
    pub(super) campaign_tags: Option<bool>,
    /// A ClearURLs-format rules file loaded on top of the built-in rules.
    pub(super) clearurls_file: Option<Spanned<String>>,
    /// Follow opaque click-trackers over HTTP to find the destination (default false).
    pub(super) resolve_redirects: Option<bool>,
    /// Let resolution connect to loopback/private addresses (for tests; default false).
    pub(super) allow_private_targets: Option<bool>,
    /// Deadline for each hop while resolving.
    pub(super) resolve_timeout: Option<Spanned<String>>,
    /// Most redirects followed for one link.
    pub(super) max_hops: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLinkHost {
    #[serde(default)]
    pub(super) paths: Vec<String>,
    #[serde(default)]
    pub(super) strip: Vec<String>,
    #[serde(default)]
    pub(super) keep: Vec<String>,
    pub(super) keep_only: Option<Vec<String>>,
    #[serde(default)]
    pub(super) drop_query: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeed {
    pub(super) url: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) topic: Option<String>,
    #[serde(default)]
    pub(super) priority: i32,
    pub(super) max_stories: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMailbox {
    #[serde(rename = "type")]
    pub(super) kind: Spanned<String>,
    pub(super) path: Option<Spanned<String>>,
    pub(super) name: Option<String>,
    pub(super) topic: Option<String>,
    #[serde(default)]
    pub(super) priority: i32,
    pub(super) max_stories: Option<usize>,
    // IMAP only.
    pub(super) host: Option<Spanned<String>>,
    pub(super) port: Option<u16>,
    pub(super) security: Option<Spanned<String>>,
    pub(super) username: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) password_command: Option<String>,
    pub(super) auth: Option<Spanned<String>>,
    pub(super) token_command: Option<String>,
    pub(super) oauth2_mechanism: Option<Spanned<String>>,
    pub(super) folders: Option<Vec<String>>,
    pub(super) ca_file: Option<Spanned<String>>,
    pub(super) after: Option<Spanned<String>>,
    // Any kind.
    #[serde(default)]
    pub(super) from: Vec<String>,
    #[serde(default)]
    pub(super) include_sponsored: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTopic {
    pub(super) name: String,
    #[serde(default)]
    pub(super) keywords: Vec<String>,
    /// Words that keep a story out of this topic even when a keyword matches.
    #[serde(default)]
    pub(super) exclude: Vec<String>,
}
