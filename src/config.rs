//! `config.toml`: parsed into plain `Raw*` structs (serde, unknown keys rejected), then resolved
//! in one place into a validated [`Config`] with defaults filled and relative paths anchored at
//! the config file's folder. Every error names the file, the line and the key.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::model::SourceKey;

pub const DEFAULT_TITLE: &str = "Tidings digest";
/// By default a source is reported on the first run it fails.
pub const DEFAULT_REPORT_FAILURES_AFTER: u32 = 1;
/// Gmail clips a message whose HTML is over about 102 KB; stay under it.
pub const DEFAULT_DIGEST_MAX_BYTES: usize = 100_000;
/// Below this not even a header and a few titles fit.
pub const MIN_DIGEST_BYTES: u64 = 10_000;
pub const DEFAULT_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_STATE_PATH: &str = "tidings.db";
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A feed larger than this is cut off and reported, never buffered whole.
pub const DEFAULT_MAX_FEED_BYTES: u64 = 10 * 1024 * 1024;
/// Fetches in flight at once across all hosts.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Fetches in flight at once to one host, so a shared host is not hammered.
pub const DEFAULT_PER_HOST: usize = 2;
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages larger than this in a Maildir are skipped rather than loaded whole.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 20 * 1024 * 1024;
/// The IMAP folder read when a mailbox names none.
pub const DEFAULT_IMAP_FOLDER: &str = "INBOX";
/// Deadline for connecting to an IMAP server and for each command on it.
pub const DEFAULT_IMAP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no config file found: pass -c/--config FILE, set TIDINGS_CONFIG, or create `{0}`")]
    NotFound(PathBuf),
    #[error("{}:{line}:{column}: {message}{}", path.display(), hint.as_deref().map(|h| format!(" — {h}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Dotted key path, e.g. `delivery.to` or `feeds[2].url`.
        key: String,
        message: String,
        hint: Option<String>,
    },
}

// ---------------------------------------------------------------------------------------------
// Raw: exactly what the file says.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    digest: RawDigest,
    #[serde(default)]
    state: RawState,
    delivery: Spanned<RawDelivery>,
    smtp: Option<Spanned<RawSmtp>>,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    links: RawLinks,
    #[serde(default)]
    feeds: Vec<Spanned<RawFeed>>,
    #[serde(default)]
    mailboxes: Vec<Spanned<RawMailbox>>,
    #[serde(default)]
    topics: Vec<Spanned<RawTopic>>,
    #[serde(default)]
    grouping: RawGrouping,
    #[serde(default)]
    filters: Vec<Spanned<RawFilter>>,
    #[serde(default)]
    digests: Vec<Spanned<RawDigestEntry>>,
}

/// One of several digests (`[[digests]]`): what it changes from `[digest]` and the rest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigestEntry {
    name: Spanned<String>,
    title: Option<String>,
    to: Option<Spanned<Vec<String>>>,
    schedule: Option<Spanned<String>>,
    period: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    templates_dir: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    /// Names of `[[topics]]`; default all.
    topics: Option<Vec<Spanned<String>>>,
    /// Names (or URLs, paths) of feeds and mailboxes; default all.
    sources: Option<Vec<Spanned<String>>>,
    /// Its own state file; default `tidings-NAME.db` beside `[state] path`.
    state: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrouping {
    order: Option<Spanned<String>>,
    window: Option<Spanned<String>>,
    max_per_topic: Option<usize>,
    max_stories: Option<usize>,
    max_per_source: Option<usize>,
    auto_topics: Option<usize>,
    lead: Option<bool>,
    lead_title: Option<String>,
    lead_stories: Option<usize>,
    followups: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    source: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    regex: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    title: Option<String>,
    lookback: Option<Spanned<String>>,
    templates_dir: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    period: Option<Spanned<String>>,
    report_failures_after: Option<u32>,
    max_bytes: Option<Spanned<u64>>,
    reading_minutes: Option<usize>,
    language: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    from: Spanned<String>,
    to: Spanned<Vec<String>>,
    transport: Option<Spanned<String>>,
    sendmail_command: Option<String>,
    list_id: Option<Spanned<String>>,
    /// `transport = "maildir"`: the Maildir the digest is filed into.
    maildir: Option<Spanned<String>>,
    /// `transport = "imap"`: the account and folder the digest is appended to.
    imap: Option<Spanned<RawDeliveryImap>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeliveryImap {
    host: Option<Spanned<String>>,
    port: Option<u16>,
    security: Option<Spanned<String>>,
    username: Option<String>,
    password_env: Option<String>,
    password_command: Option<String>,
    auth: Option<Spanned<String>>,
    token_command: Option<String>,
    oauth2_mechanism: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    folder: Option<String>,
}

/// The connection keys an IMAP account has wherever it is configured (a mailbox to read, or
/// `[delivery.imap]` to file the digest into).
struct RawImapAccount<'a> {
    host: &'a Option<Spanned<String>>,
    port: Option<u16>,
    security: &'a Option<Spanned<String>>,
    username: &'a Option<String>,
    password_env: &'a Option<String>,
    password_command: &'a Option<String>,
    auth: &'a Option<Spanned<String>>,
    token_command: &'a Option<String>,
    oauth2_mechanism: &'a Option<Spanned<String>>,
    ca_file: &'a Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    security: Option<Spanned<String>>,
    username: Option<String>,
    password_env: Option<String>,
    password_command: Option<String>,
    auth: Option<Spanned<String>>,
    token_command: Option<String>,
    oauth2_mechanism: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    timeout: Option<Spanned<String>>,
    max_bytes: Option<u64>,
    concurrency: Option<usize>,
    per_host: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinks {
    /// Extra query parameter names to strip everywhere (a trailing `*` matches a prefix).
    #[serde(default)]
    strip: Vec<String>,
    /// Parameter names never to strip, even if a built-in rule would.
    #[serde(default)]
    keep: Vec<String>,
    /// Per-host rules: `[links.hosts."example.com"]` with strip / keep / keep_only / drop_query.
    #[serde(default)]
    hosts: std::collections::BTreeMap<String, RawLinkHost>,
    /// Strip campaign tags (`utm_*`, `mc_cid`, …) as well as identifiers (default true).
    campaign_tags: Option<bool>,
    /// A ClearURLs-format rules file loaded on top of the built-in rules.
    clearurls_file: Option<Spanned<String>>,
    /// Follow opaque click-trackers over HTTP to find the destination (default false).
    resolve_redirects: Option<bool>,
    /// Let resolution connect to loopback/private addresses (for tests; default false).
    allow_private_targets: Option<bool>,
    /// Deadline for each hop while resolving.
    resolve_timeout: Option<Spanned<String>>,
    /// Most redirects followed for one link.
    max_hops: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinkHost {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    strip: Vec<String>,
    #[serde(default)]
    keep: Vec<String>,
    keep_only: Option<Vec<String>>,
    #[serde(default)]
    drop_query: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    url: Spanned<String>,
    name: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    priority: i32,
    max_stories: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMailbox {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    path: Option<Spanned<String>>,
    name: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    priority: i32,
    max_stories: Option<usize>,
    // IMAP only.
    host: Option<Spanned<String>>,
    port: Option<u16>,
    security: Option<Spanned<String>>,
    username: Option<String>,
    password_env: Option<String>,
    password_command: Option<String>,
    auth: Option<Spanned<String>>,
    token_command: Option<String>,
    oauth2_mechanism: Option<Spanned<String>>,
    folders: Option<Vec<String>>,
    ca_file: Option<Spanned<String>>,
    after: Option<Spanned<String>>,
    // Any kind.
    #[serde(default)]
    from: Vec<String>,
    #[serde(default)]
    include_sponsored: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    name: String,
    #[serde(default)]
    keywords: Vec<String>,
    /// Words that keep a story out of this topic even when a keyword matches.
    #[serde(default)]
    exclude: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Resolved: what the program uses.

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    /// `[digest]`, or with `[[digests]]` the defaults every digest inherits.
    pub digest: DigestConfig,
    pub state_path: PathBuf,
    pub delivery: DeliveryConfig,
    pub fetch: FetchConfig,
    pub links: LinksConfig,
    pub feeds: Vec<FeedConfig>,
    pub mailboxes: Vec<MailboxConfig>,
    pub topics: Vec<TopicConfig>,
    /// `[grouping]`: merging window, topic order, caps.
    pub grouping: crate::group::GroupSettings,
    /// `[[filters]]`, compiled.
    pub filters: Vec<crate::group::Filter>,
    /// `[[digests]]`, each a whole config of its own (what it takes from this one, with its
    /// own title, recipients, schedule, topics, sources and state file). Empty: this config
    /// is the one digest.
    pub digests: Vec<Config>,
}

impl Config {
    /// The digests `run` makes: every `[[digests]]` entry, or this config itself. `name`
    /// picks one.
    pub fn select(&self, name: Option<&str>) -> Result<Vec<Config>, String> {
        let names = || {
            self.digests
                .iter()
                .filter_map(|d| d.digest.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (name, self.digests.is_empty()) {
            (None, true) => Ok(vec![self.clone()]),
            (None, false) => Ok(self.digests.clone()),
            (Some(n), true) => Err(format!(
                "there is no digest `{n}`: the config has no [[digests]], only its one [digest]"
            )),
            (Some(n), false) => self
                .digests
                .iter()
                .find(|d| d.digest.name.as_deref() == Some(n))
                .map(|d| vec![d.clone()])
                .ok_or_else(|| format!("there is no digest `{n}`; the config has {}", names())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DigestConfig {
    /// `[[digests]] name`; `None` for a config's one `[digest]`.
    pub name: Option<String>,
    pub title: String,
    pub lookback: Duration,
    pub templates_dir: Option<PathBuf>,
    /// When `tidings daemon` runs (cron syntax, in `timezone`).
    pub schedule: Option<crate::schedule::Schedule>,
    /// The configured zone, else the system's.
    pub timezone: chrono_tz::Tz,
    /// At most one digest per period (a second `run` in it sends nothing without `--force`).
    pub period: Option<crate::schedule::Period>,
    /// A failing source is named in the digest (and on stderr) once it has failed this many
    /// runs in a row; before that it is only logged at info level.
    pub report_failures_after: u32,
    /// The HTML part is kept within this many bytes (Gmail clips at about 102 KB).
    pub max_bytes: usize,
    /// About this many minutes of reading at most (`[digest] reading_minutes`).
    pub reading_minutes: Option<usize>,
    /// The digest's words and dates: `[digest] language` (default from the environment),
    /// with `strings.toml` in `templates_dir` over them.
    pub strings: std::sync::Arc<crate::locale::Strings>,
}

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub from: String,
    pub to: Vec<String>,
    pub transport: Transport,
    /// `List-Id` header value without the angle brackets; `None` derives it from `from`.
    pub list_id: Option<String>,
}

impl DeliveryConfig {
    /// Where a digest goes, as a run reports it: "to a@x.org" or "into folder … of …".
    pub fn destination(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) | Transport::Sendmail { .. } => format!("to {}", self.to.join(", ")),
            Transport::Maildir(dir) => format!("into the Maildir {}", dir.display()),
            Transport::Imap(i) => format!(
                "into folder {} of {}@{}",
                i.folders.first().map(String::as_str).unwrap_or_default(),
                i.username,
                i.host
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Transport {
    Smtp(SmtpConfig),
    Sendmail {
        command: Option<String>,
    },
    /// Filed into a local Maildir (`new/`), as a mail server's delivery agent would.
    Maildir(PathBuf),
    /// Appended to a folder of an IMAP account; `folders` holds that one folder.
    Imap(ImapConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Tls,
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub auth: Auth,
    /// The password, or with OAuth2 the command that prints a current access token.
    pub password: Option<SecretSource>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

/// Where a secret comes from. The secret itself is read only when needed and never stored here,
/// so a `Debug` print of the config cannot leak it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    Command(String),
}

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_bytes: u64,
    pub concurrency: usize,
    pub per_host: usize,
}

/// Deadline for one hop while resolving a click-tracker.
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Redirects followed for one link before giving up.
pub const DEFAULT_MAX_HOPS: usize = 5;

#[derive(Debug, Clone)]
pub struct LinksConfig {
    pub strip: Vec<String>,
    pub keep: Vec<String>,
    pub hosts: std::collections::BTreeMap<String, LinkHostRule>,
    pub campaign_tags: bool,
    /// ClearURLs-format rules loaded from `clearurls_file`, already parsed.
    pub clearurls: Option<std::sync::Arc<crate::links::clearurls::ClearUrls>>,
    pub resolve_redirects: bool,
    pub allow_private_targets: bool,
    pub resolve_timeout: Duration,
    pub max_hops: usize,
}

impl Default for LinksConfig {
    fn default() -> Self {
        LinksConfig {
            strip: Vec::new(),
            keep: Vec::new(),
            hosts: Default::default(),
            campaign_tags: true,
            clearurls: None,
            resolve_redirects: false,
            allow_private_targets: false,
            resolve_timeout: DEFAULT_RESOLVE_TIMEOUT,
            max_hops: DEFAULT_MAX_HOPS,
        }
    }
}

/// A user's rule for one host (and its subdomains).
#[derive(Debug, Clone, Default)]
pub struct LinkHostRule {
    pub paths: Vec<String>,
    pub strip: Vec<String>,
    pub keep: Vec<String>,
    pub keep_only: Option<Vec<String>>,
    pub drop_query: bool,
}

#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub location: FeedLocation,
    pub name: Option<String>,
    pub topic: Option<String>,
    /// Ranking points for this source's stories (see `group::rank`), default 0.
    pub priority: i32,
    /// At most this many of its own stories per digest.
    pub max_stories: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedLocation {
    Url(url::Url),
    File(PathBuf),
}

impl std::fmt::Display for FeedLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedLocation::Url(u) => f.write_str(u.as_str()),
            FeedLocation::File(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MailboxConfig {
    /// Where the mail is, with what reading it takes.
    pub kind: MailboxKind,
    pub name: Option<String>,
    pub topic: Option<String>,
    /// Ranking points for this source's stories (see `group::rank`), default 0.
    pub priority: i32,
    /// At most this many of its own stories per digest.
    pub max_stories: Option<usize>,
    /// Sender patterns (`*@substack.com`, `news@example.org`); empty reads every sender.
    pub from: Vec<String>,
    /// Keep sponsored blocks (labelled) instead of dropping them.
    pub include_sponsored: bool,
}

#[derive(Debug, Clone)]
pub enum MailboxKind {
    /// A Maildir (`cur/`, `new/`), or a folder of `.eml` files, or one `.eml` file.
    Maildir(PathBuf),
    /// One mbox file (`From ` lines between messages).
    Mbox(PathBuf),
    /// Folders on an IMAP server.
    Imap(ImapConfig),
}

impl FeedConfig {
    /// How state knows the feed: `feed:` and its URL or path.
    pub fn key(&self) -> SourceKey {
        SourceKey(format!("feed:{}", self.location))
    }
}

impl MailboxConfig {
    /// How state knows the mailbox: `imap:user@host:port`, `mbox:PATH` or `maildir:PATH`.
    /// Pipeline, health, state and `tidings sources` all use this one key.
    pub fn key(&self) -> SourceKey {
        match &self.kind {
            MailboxKind::Maildir(path) => SourceKey(format!("maildir:{}", path.display())),
            MailboxKind::Mbox(path) => SourceKey(format!("mbox:{}", path.display())),
            MailboxKind::Imap(i) => SourceKey(format!("imap:{}@{}:{}", i.username, i.host, i.port)),
        }
    }

    /// How the mailbox is named to the user: its `name`, else `user@host` or its path.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.kind {
            MailboxKind::Maildir(path) | MailboxKind::Mbox(path) => path.display().to_string(),
            MailboxKind::Imap(i) => format!("{}@{}", i.username, i.host),
        }
    }

    /// The server settings of an IMAP mailbox.
    pub fn imap(&self) -> Option<&ImapConfig> {
        match &self.kind {
            MailboxKind::Imap(i) => Some(i),
            _ => None,
        }
    }
}

/// How a mail client proves who it is: a password (LOGIN, AUTH PLAIN), or an OAuth2 access
/// token (what Microsoft 365 and Gmail want) sent with a SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Password,
    OAuth2(Sasl),
}

/// The SASL mechanisms that carry an OAuth2 bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sasl {
    /// Google's and Microsoft's `XOAUTH2`.
    XOAuth2,
    /// `OAUTHBEARER`, the standard one (RFC 7628).
    OAuthBearer,
}

impl Sasl {
    pub fn name(self) -> &'static str {
        match self {
            Sasl::XOAuth2 => "XOAUTH2",
            Sasl::OAuthBearer => "OAUTHBEARER",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub auth: Auth,
    /// The password, or with OAuth2 the command that prints a current access token.
    pub password: SecretSource,
    pub folders: Vec<String>,
    pub ca_file: Option<PathBuf>,
    pub after: AfterDelivery,
    pub timeout: Duration,
}

/// What happens to a newsletter in its IMAP folder once the digest carrying it was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterDelivery {
    None,
    Seen,
    Move(String),
    Delete,
}

#[derive(Debug, Clone)]
pub struct TopicConfig {
    pub name: String,
    pub keywords: Vec<String>,
    pub exclude: Vec<String>,
}

impl SecretSource {
    /// Reads the secret. The error names where it was looked for, never the value.
    pub fn read(&self) -> Result<String, String> {
        match self {
            SecretSource::Env(var) => std::env::var(var).map_err(|_| {
                format!(
                    "environment variable `{var}` (from password_env) is not set: set {var} where tidings runs (for cron, a `{var}=…` line in the crontab, or password_command)"
                )
            }),
            SecretSource::Command(cmd) => {
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(|e| format!("[smtp] password_command could not start: {e}"))?;
                if !out.status.success() {
                    return Err(format!("[smtp] password_command failed ({})", out.status));
                }
                let secret = String::from_utf8(out.stdout)
                    .map_err(|_| "[smtp] password_command printed non-UTF-8".to_string())?;
                let secret = secret.trim_end_matches(['\r', '\n']).to_string();
                if secret.is_empty() {
                    return Err("[smtp] password_command printed nothing".into());
                }
                Ok(secret)
            }
        }
    }
}

/// Finds the config file: the explicit path, else `$TIDINGS_CONFIG`, else
/// `$XDG_CONFIG_HOME/tidings/config.toml` (`~/.config/tidings/config.toml`).
/// Where the config lives when nothing names it: `$TIDINGS_CONFIG`, else
/// `$XDG_CONFIG_HOME/tidings/config.toml` (`~/.config/…`). `init` writes there.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TIDINGS_CONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("tidings").join("config.toml")
}

pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("TIDINGS_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let candidate = default_path();
    if candidate.exists() {
        Ok(candidate)
    } else {
        Err(ConfigError::NotFound(candidate))
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses config text; `path` is used for messages and to anchor relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| syntax_error(text, path, &e))?;
        Resolver { text, path }.resolve(raw)
    }
}

struct Resolver<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Resolver<'_> {
    fn err(
        &self,
        span: Range<usize>,
        key: &str,
        message: String,
        hint: Option<String>,
    ) -> ConfigError {
        let (line, column) = line_col(self.text.as_bytes(), span.start);
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            key: key.to_string(),
            message,
            hint,
        }
    }

    fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// `~` expands to $HOME; a relative path is relative to the config file's folder.
    fn anchor(&self, p: &str) -> PathBuf {
        let expanded = match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
            (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => PathBuf::from(p),
        };
        if expanded.is_absolute() {
            expanded
        } else {
            self.base_dir().join(expanded)
        }
    }

    fn duration(
        &self,
        v: &Option<Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match v {
            None => Ok(default),
            Some(s) => parse_duration(s.get_ref()).map_err(|m| {
                self.err(
                    s.span(),
                    key,
                    format!("invalid duration `{}` for `{key}`: {m}", s.get_ref()),
                    Some("write durations like \"30s\", \"15m\", \"12h\" or \"7d\"".into()),
                )
            }),
        }
    }

    /// Where a table's password comes from: `password_env` or `password_command`, not both.
    fn secret(
        &self,
        table: &str,
        span: Range<usize>,
        env: &Option<String>,
        command: &Option<String>,
    ) -> Result<Option<SecretSource>, ConfigError> {
        match (env, command) {
            (Some(_), Some(_)) => Err(self.err(
                span,
                &format!("{table}.password_env"),
                format!("set only one of `{table}.password_env` and `{table}.password_command`"),
                None,
            )),
            (Some(var), None) => Ok(Some(SecretSource::Env(var.clone()))),
            (None, Some(cmd)) => Ok(Some(SecretSource::Command(cmd.clone()))),
            (None, None) => Ok(None),
        }
    }

    /// `auth` of a mail account: `"password"`, or `"oauth2"` (implied by `token_command`)
    /// with its SASL mechanism. OAuth2 takes its token from `token_command` only.
    fn auth(
        &self,
        table: &str,
        span: Range<usize>,
        auth: &Option<Spanned<String>>,
        mechanism: &Option<Spanned<String>>,
        token_command: &Option<String>,
        has_password: bool,
    ) -> Result<Auth, ConfigError> {
        let key = |k: &str| format!("{table}.{k}");
        let kind = match auth.as_ref().map(|a| a.get_ref().trim()) {
            Some("password") => "password",
            Some("oauth2") => "oauth2",
            None if token_command.is_some() => "oauth2",
            None => "password",
            Some(other) => {
                return Err(self.err(
                    auth.as_ref().map(|a| a.span()).unwrap_or(span),
                    &key("auth"),
                    format!("unknown value `{other}` for `{}`", key("auth")),
                    Some("use \"password\" or \"oauth2\"".into()),
                ))
            }
        };
        if kind == "password" {
            if token_command.is_some() {
                return Err(self.err(
                    span,
                    &key("token_command"),
                    format!("`{}` is for auth = \"oauth2\"", key("token_command")),
                    Some("remove auth = \"password\", or the token_command".into()),
                ));
            }
            return Ok(Auth::Password);
        }
        if has_password {
            return Err(self.err(
                span,
                &key("password_env"),
                format!(
                    "with auth = \"oauth2\" the token comes from `{}`, not a password",
                    key("token_command")
                ),
                Some("remove password_env / password_command".into()),
            ));
        }
        let sasl = match mechanism
            .as_ref()
            .map(|m| m.get_ref().trim().to_ascii_lowercase())
        {
            None => Sasl::XOAuth2,
            Some(m) if m == "xoauth2" => Sasl::XOAuth2,
            Some(m) if m == "oauthbearer" => Sasl::OAuthBearer,
            Some(other) => {
                return Err(self.err(
                    mechanism.as_ref().map(|m| m.span()).unwrap_or(span),
                    &key("oauth2_mechanism"),
                    format!("unknown value `{other}` for `{}`", key("oauth2_mechanism")),
                    Some("use \"xoauth2\" (Gmail, Outlook) or \"oauthbearer\" (RFC 7628)".into()),
                ))
            }
        };
        Ok(Auth::OAuth2(sasl))
    }

    /// An extra root CA for a private server: the file must exist.
    fn ca_file(
        &self,
        table: &str,
        raw: &Option<Spanned<String>>,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let Some(p) = raw else { return Ok(None) };
        let path = self.anchor(p.get_ref());
        if !path.is_file() {
            let key = format!("{table}.ca_file");
            return Err(self.err(
                p.span(),
                &key,
                format!("`{key}`: `{}` does not exist", path.display()),
                None,
            ));
        }
        Ok(Some(path))
    }

    /// A string value parsed with `FromStr`; the error names the key and line.
    fn parsed<T>(
        &self,
        v: &Option<Spanned<String>>,
        key: &str,
        hint: Option<&str>,
    ) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match v {
            None => Ok(None),
            Some(s) => s.get_ref().parse::<T>().map(Some).map_err(|e| {
                self.err(
                    s.span(),
                    key,
                    format!("`{key}`: {e}"),
                    hint.map(str::to_string),
                )
            }),
        }
    }

    fn resolve(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let digest = DigestConfig {
            name: None,
            title: raw
                .digest
                .title
                .clone()
                .unwrap_or_else(|| DEFAULT_TITLE.to_string()),
            lookback: self.duration(&raw.digest.lookback, "digest.lookback", DEFAULT_LOOKBACK)?,
            templates_dir: raw
                .digest
                .templates_dir
                .as_ref()
                .map(|p| self.anchor(p.get_ref())),
            schedule: self.parsed(
                &raw.digest.schedule,
                "digest.schedule",
                Some("for example \"0 7 * * *\" (every day at 07:00)"),
            )?,
            timezone: match &raw.digest.timezone {
                Some(tz) => crate::schedule::zone(Some(tz.get_ref())).map_err(|e| {
                    self.err(
                        tz.span(),
                        "digest.timezone",
                        format!("`digest.timezone`: {e}"),
                        None,
                    )
                })?,
                None => crate::schedule::zone(None).unwrap_or(chrono_tz::Tz::UTC),
            },
            period: self.parsed(&raw.digest.period, "digest.period", None)?,
            report_failures_after: raw
                .digest
                .report_failures_after
                .unwrap_or(DEFAULT_REPORT_FAILURES_AFTER)
                .max(1),
            max_bytes: match &raw.digest.max_bytes {
                Some(n) if *n.get_ref() < MIN_DIGEST_BYTES => {
                    return Err(self.err(
                        n.span(),
                        "digest.max_bytes",
                        format!(
                            "`digest.max_bytes` is {}; it must be at least {MIN_DIGEST_BYTES}",
                            n.get_ref()
                        ),
                        None,
                    ))
                }
                Some(n) => usize::try_from(*n.get_ref()).unwrap_or(usize::MAX),
                None => DEFAULT_DIGEST_MAX_BYTES,
            },
            reading_minutes: raw.digest.reading_minutes.filter(|&n| n > 0),
            strings: Default::default(),
        };
        if let (Some(dir), Some(raw_dir)) = (&digest.templates_dir, &raw.digest.templates_dir) {
            if !dir.is_dir() {
                return Err(self.err(
                    raw_dir.span(),
                    "digest.templates_dir",
                    format!(
                        "`digest.templates_dir`: `{}` is not a directory",
                        dir.display()
                    ),
                    None,
                ));
            }
        }

        let mut digest = digest;
        digest.strings = std::sync::Arc::new(self.strings(
            raw.digest.language.as_ref(),
            "digest.language",
            digest.templates_dir.as_deref(),
        )?);
        let delivery = self.delivery(&raw)?;
        let fetch = FetchConfig {
            timeout: self.duration(&raw.fetch.timeout, "fetch.timeout", DEFAULT_FETCH_TIMEOUT)?,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_bytes: raw.fetch.max_bytes.unwrap_or(DEFAULT_MAX_FEED_BYTES),
            concurrency: raw.fetch.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1),
            per_host: raw.fetch.per_host.unwrap_or(DEFAULT_PER_HOST).max(1),
        };

        let mut feeds = Vec::new();
        for (i, f) in raw.feeds.iter().enumerate() {
            let key = format!("feeds[{i}].url");
            let u = f.get_ref().url.get_ref().trim();
            let location = if u.contains("://") {
                let parsed = url::Url::parse(u).map_err(|e| {
                    self.err(
                        f.get_ref().url.span(),
                        &key,
                        format!("invalid URL `{u}` in `{key}`: {e}"),
                        None,
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(self.err(
                        f.get_ref().url.span(),
                        &key,
                        format!("unsupported URL scheme `{}` in `{key}`", parsed.scheme()),
                        Some("use an http(s) URL or a local file path".into()),
                    ));
                }
                FeedLocation::Url(parsed)
            } else if u.is_empty() {
                return Err(self.err(
                    f.get_ref().url.span(),
                    &key,
                    format!("`{key}` is empty"),
                    None,
                ));
            } else {
                FeedLocation::File(self.anchor(u))
            };
            feeds.push(FeedConfig {
                location,
                name: f.get_ref().name.clone(),
                topic: f.get_ref().topic.clone(),
                priority: f.get_ref().priority,
                max_stories: f.get_ref().max_stories.filter(|&n| n > 0),
            });
        }

        let mut mailboxes = Vec::new();
        for (i, m) in raw.mailboxes.iter().enumerate() {
            let m_ref = m.get_ref();
            let kind_key = format!("mailboxes[{i}].type");
            let path = || {
                let path = m_ref.path.as_ref().ok_or_else(|| {
                    self.err(
                        m.span(),
                        &format!("mailboxes[{i}].path"),
                        format!("missing key `path` in `mailboxes[{i}]`"),
                        None,
                    )
                })?;
                Ok(self.anchor(path.get_ref()))
            };
            let kind = match m_ref.kind.get_ref().as_str() {
                "maildir" | "eml" => MailboxKind::Maildir(path()?),
                "mbox" => MailboxKind::Mbox(path()?),
                "imap" => MailboxKind::Imap(self.imap_mailbox(i, m)?),
                other => {
                    return Err(self.err(
                        m_ref.kind.span(),
                        &kind_key,
                        format!("unknown mailbox type `{other}` in `{kind_key}`"),
                        suggest(other, &["maildir", "eml", "mbox", "imap"]),
                    ));
                }
            };
            mailboxes.push(MailboxConfig {
                kind,
                name: m_ref.name.clone(),
                topic: m_ref.topic.clone(),
                priority: m_ref.priority,
                max_stories: m_ref.max_stories.filter(|&n| n > 0),
                from: m_ref.from.clone(),
                include_sponsored: m_ref.include_sponsored,
            });
        }

        let topics = raw
            .topics
            .iter()
            .map(|t| TopicConfig {
                name: t.get_ref().name.clone(),
                keywords: t.get_ref().keywords.clone(),
                exclude: t.get_ref().exclude.clone(),
            })
            .collect();

        let mut grouping = self.grouping(&raw)?;
        if raw.grouping.lead_title.is_none() {
            grouping.lead_title = digest.strings.text("top_stories", None, &[]);
        }
        let mut filters = Vec::with_capacity(raw.filters.len());
        for (i, f) in raw.filters.iter().enumerate() {
            let r = f.get_ref();
            let key = format!("filters[{i}]");
            let filter =
                crate::group::Filter::new(i, r.source.clone(), &r.include, &r.exclude, r.regex)
                    .map_err(|m| self.err(f.span(), &key, format!("`{key}`: {m}"), None))?;
            filters.push(filter);
        }

        let mut config = Config {
            path: self.path.to_path_buf(),
            digest,
            state_path: self.anchor(raw.state.path.as_deref().unwrap_or(DEFAULT_STATE_PATH)),
            delivery,
            fetch,
            links: self.links(&raw.links)?,
            feeds,
            mailboxes,
            topics,
            grouping,
            filters,
            digests: Vec::new(),
        };
        let mut digests = Vec::with_capacity(raw.digests.len());
        for (i, entry) in raw.digests.iter().enumerate() {
            let d = self.digest_entry(i, entry, &config, &raw)?;
            if let Some(earlier) = digests
                .iter()
                .position(|e: &Config| e.digest.name == d.digest.name)
            {
                return Err(self.err(
                    entry.get_ref().name.span(),
                    &format!("digests[{i}].name"),
                    format!(
                        "two digests are named `{}` (digests[{earlier}] and digests[{i}])",
                        d.digest.name.clone().unwrap_or_default()
                    ),
                    None,
                ));
            }
            digests.push(d);
        }
        // A mailbox's `after` (seen, move, delete) runs once the digest carrying its messages
        // went out: a second digest would never see them.
        for m in &config.mailboxes {
            let Some(imap) = m.imap().filter(|i| i.after != AfterDelivery::None) else {
                continue;
            };
            let users: Vec<usize> = digests
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    d.mailboxes.iter().any(|x| {
                        x.imap().is_some_and(|i| {
                            i.host == imap.host
                                && i.username == imap.username
                                && i.folders == imap.folders
                        })
                    })
                })
                .map(|(i, _)| i)
                .collect();
            if users.len() > 1 {
                let entry = &raw.digests[users[1]];
                return Err(self.err(
                    entry.span(),
                    &format!("digests[{}].sources", users[1]),
                    format!(
                        "mailbox `{}` has `after` set and is read by more than one digest: once the first has sent, the others would never see its messages",
                        m.label()
                    ),
                    Some("give each such mailbox to one digest (`sources`), or set its after = \"none\"".into()),
                ));
            }
        }
        config.digests = digests;
        Ok(config)
    }

    /// One `[[digests]]` entry: `base` (the whole config) with the entry's own values.
    fn digest_entry(
        &self,
        i: usize,
        entry: &Spanned<RawDigestEntry>,
        base: &Config,
        raw: &RawConfig,
    ) -> Result<Config, ConfigError> {
        let e = entry.get_ref();
        let key = |k: &str| format!("digests[{i}].{k}");
        let name = e.name.get_ref().trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(self.err(
                e.name.span(),
                &key("name"),
                format!("`{}` `{name}`: use letters, digits, - and _ (it names the digest's state file and `--digest`)", key("name")),
                None,
            ));
        }
        let mut d = base.clone();
        d.digest.name = Some(name.clone());
        if let Some(t) = &e.title {
            d.digest.title = t.clone();
        }
        if let Some(to) = &e.to {
            if to.get_ref().is_empty() {
                return Err(self.err(
                    to.span(),
                    &key("to"),
                    format!("`{}` lists no recipients", key("to")),
                    None,
                ));
            }
            for addr in to.get_ref() {
                if addr.trim().parse::<lettre::message::Mailbox>().is_err() {
                    return Err(self.err(
                        to.span(),
                        &key("to"),
                        format!("`{}` has an invalid address: `{addr}`", key("to")),
                        None,
                    ));
                }
            }
            d.delivery.to = to.get_ref().iter().map(|s| s.trim().to_string()).collect();
        }
        if let Some(s) = self.parsed(
            &e.schedule,
            &key("schedule"),
            Some("for example \"0 7 * * MON-FRI\""),
        )? {
            d.digest.schedule = Some(s);
        }
        if let Some(p) = self.parsed(&e.period, &key("period"), None)? {
            d.digest.period = Some(p);
        }
        if let Some(tz) = &e.timezone {
            d.digest.timezone = crate::schedule::zone(Some(tz.get_ref())).map_err(|err| {
                self.err(
                    tz.span(),
                    &key("timezone"),
                    format!("`{}`: {err}", key("timezone")),
                    None,
                )
            })?;
        }
        if let Some(dir) = &e.templates_dir {
            let path = self.anchor(dir.get_ref());
            if !path.is_dir() {
                return Err(self.err(
                    dir.span(),
                    &key("templates_dir"),
                    format!(
                        "`{}`: `{}` is not a directory",
                        key("templates_dir"),
                        path.display()
                    ),
                    None,
                ));
            }
            d.digest.templates_dir = Some(path);
        }
        if e.language.is_some() || e.templates_dir.is_some() {
            let lang = e.language.as_ref().or(raw.digest.language.as_ref());
            let strings =
                self.strings(lang, &key("language"), d.digest.templates_dir.as_deref())?;
            if raw.grouping.lead_title.is_none() {
                d.grouping.lead_title = strings.text("top_stories", None, &[]);
            }
            d.digest.strings = std::sync::Arc::new(strings);
        }
        if let Some(topics) = &e.topics {
            let mut kept = Vec::new();
            for t in topics {
                let found = base
                    .topics
                    .iter()
                    .find(|x| x.name == *t.get_ref())
                    .ok_or_else(|| {
                        let names: Vec<&str> =
                            base.topics.iter().map(|x| x.name.as_str()).collect();
                        self.err(
                            t.span(),
                            &key("topics"),
                            format!(
                                "`{}`: there is no [[topics]] named `{}`",
                                key("topics"),
                                t.get_ref()
                            ),
                            suggest(t.get_ref(), &names)
                                .or(Some(format!("the topics are: {}", names.join(", ")))),
                        )
                    })?;
                kept.push(found.clone());
            }
            d.topics = kept;
        }
        if let Some(sources) = &e.sources {
            let feed_names = |f: &FeedConfig| {
                [f.name.clone(), Some(f.location.to_string())]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
            };
            let mailbox_names = |m: &MailboxConfig| {
                [
                    m.name.clone(),
                    Some(match &m.kind {
                        MailboxKind::Maildir(path) | MailboxKind::Mbox(path) => {
                            path.display().to_string()
                        }
                        MailboxKind::Imap(_) => m.label(),
                    }),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
            };
            let mut all: Vec<String> = base.feeds.iter().flat_map(feed_names).collect();
            all.extend(base.mailboxes.iter().flat_map(mailbox_names));
            for s in sources {
                if !all.iter().any(|n| n == s.get_ref()) {
                    let shown: Vec<&str> = all.iter().map(String::as_str).collect();
                    return Err(self.err(
                        s.span(),
                        &key("sources"),
                        format!(
                            "`{}`: no feed or mailbox is named `{}`",
                            key("sources"),
                            s.get_ref()
                        ),
                        suggest(s.get_ref(), &shown).or(Some(
                            "name a feed or mailbox by its `name`, URL or path".into(),
                        )),
                    ));
                }
            }
            let wanted = |names: Vec<String>| sources.iter().any(|s| names.contains(s.get_ref()));
            d.feeds.retain(|f| wanted(feed_names(f)));
            d.mailboxes.retain(|m| wanted(mailbox_names(m)));
        }
        d.state_path = match &e.state {
            Some(p) => self.anchor(p),
            None => {
                let stem = base
                    .state_path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "tidings".into());
                base.state_path.with_file_name(format!("{stem}-{name}.db"))
            }
        };
        Ok(d)
    }

    fn grouping(&self, raw: &RawConfig) -> Result<crate::group::GroupSettings, ConfigError> {
        use crate::group::{Followups, GroupSettings, MergeSettings, Order};
        let g = &raw.grouping;
        let order = match &g.order {
            None => Order::Config,
            Some(o) => match o.get_ref().as_str() {
                "config" => Order::Config,
                "size" => Order::Size,
                "rank" => Order::Rank,
                other => {
                    return Err(self.err(
                        o.span(),
                        "grouping.order",
                        format!("`grouping.order`: unknown order `{other}`"),
                        Some("use \"config\", \"rank\" or \"size\"".into()),
                    ))
                }
            },
        };
        let followups = match &g.followups {
            None => Followups::Show,
            Some(f) => match f.get_ref().as_str() {
                "show" => Followups::Show,
                "hide" => Followups::Hide,
                other => {
                    return Err(self.err(
                        f.span(),
                        "grouping.followups",
                        format!("`grouping.followups`: unknown value `{other}`"),
                        Some("use \"show\" or \"hide\"".into()),
                    ))
                }
            },
        };
        Ok(GroupSettings {
            merge: MergeSettings {
                window: self.duration(
                    &g.window,
                    "grouping.window",
                    crate::group::dedup::DEFAULT_WINDOW,
                )?,
                ..MergeSettings::default()
            },
            order,
            max_per_topic: g.max_per_topic.filter(|&n| n > 0),
            max_stories: g.max_stories.filter(|&n| n > 0),
            max_per_source: g.max_per_source.filter(|&n| n > 0),
            max_words: raw
                .digest
                .reading_minutes
                .filter(|&n| n > 0)
                .map(|m| m * crate::group::WORDS_PER_MINUTE),
            auto_topics: g.auto_topics,
            lead_stories: match g.lead {
                Some(false) => 0,
                _ => g.lead_stories.unwrap_or(crate::group::DEFAULT_LEAD_STORIES),
            },
            lead_title: g
                .lead_title
                .clone()
                .unwrap_or_else(|| crate::group::DEFAULT_LEAD_TITLE.into()),
            followups,
            // Filled in per run from the sources (their keys) and the clock.
            rank: Default::default(),
        })
    }

    /// `[digest] language` (else the environment's) and the user's `strings.toml`.
    fn strings(
        &self,
        lang: Option<&Spanned<String>>,
        key: &str,
        templates_dir: Option<&Path>,
    ) -> Result<crate::locale::Strings, ConfigError> {
        let code = lang
            .map(|l| l.get_ref().trim().to_ascii_lowercase())
            .unwrap_or_else(|| crate::locale::from_environment().to_string());
        let span = lang.map(|l| l.span()).unwrap_or(0..0);
        crate::locale::Strings::load(&code, templates_dir).map_err(|e| {
            let hint = match e {
                crate::locale::LocaleError::Unknown(_) => {
                    suggest(&code, &crate::locale::LANGUAGES).or(Some(
                        "use \"en\", \"de\" or \"fr\"; other words can be set in templates_dir/strings.toml"
                            .into(),
                    ))
                }
                _ => None,
            };
            self.err(
                span,
                key,
                format!("`{key}`: {}", crate::sources::http::error_chain(&e)),
                hint,
            )
        })
    }

    fn imap_mailbox(&self, i: usize, m: &Spanned<RawMailbox>) -> Result<ImapConfig, ConfigError> {
        let r = m.get_ref();
        let table = format!("mailboxes[{i}]");
        let account = RawImapAccount {
            host: &r.host,
            port: r.port,
            security: &r.security,
            username: &r.username,
            password_env: &r.password_env,
            password_command: &r.password_command,
            auth: &r.auth,
            token_command: &r.token_command,
            oauth2_mechanism: &r.oauth2_mechanism,
            ca_file: &r.ca_file,
        };
        let mut imap = self.imap_account(&table, m.span(), &account)?;
        imap.after = match r.after.as_ref().map(|a| a.get_ref().trim()) {
            None | Some("none") => AfterDelivery::None,
            Some("seen") => AfterDelivery::Seen,
            Some("delete") => AfterDelivery::Delete,
            Some(a) if a.starts_with("move:") && a.len() > 5 => {
                AfterDelivery::Move(a["move:".len()..].trim().to_string())
            }
            Some(other) => {
                return Err(self.err(
                    r.after.as_ref().map(|a| a.span()).unwrap_or(m.span()),
                    &format!("{table}.after"),
                    format!("unknown value `{other}` for `{table}.after`"),
                    Some("use \"none\", \"seen\", \"delete\" or \"move:Folder\"".into()),
                ));
            }
        };
        imap.folders = match &r.folders {
            Some(f) if !f.is_empty() => f.clone(),
            _ => vec![DEFAULT_IMAP_FOLDER.to_string()],
        };
        Ok(imap)
    }

    /// The account part of an IMAP table (`table` names it in errors): host, TLS, login and
    /// CA. Its folders are the caller's, and nothing happens after delivery.
    fn imap_account(
        &self,
        table: &str,
        span: Range<usize>,
        r: &RawImapAccount<'_>,
    ) -> Result<ImapConfig, ConfigError> {
        let key = |k: &str| format!("{table}.{k}");
        let missing = |k: &str| {
            self.err(
                span.clone(),
                &key(k),
                format!("missing key `{k}` in IMAP table `{table}`"),
                None,
            )
        };
        let host = r.host.as_ref().ok_or_else(|| missing("host"))?;
        let host_name = host.get_ref().trim().to_string();
        let security = match r.security.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("tls") => Security::Tls,
            Some("starttls") => Security::StartTls,
            Some("none") => Security::None,
            Some(other) => {
                return Err(self.err(
                    r.security
                        .as_ref()
                        .map(|s| s.span())
                        .unwrap_or(span.clone()),
                    &key("security"),
                    format!("unknown value `{other}` for `{}`", key("security")),
                    suggest(other, &["tls", "starttls", "none"])
                        .or(Some("use \"tls\" or \"starttls\"".into())),
                ));
            }
        };
        // Plain IMAP sends the password in the clear: only ever to this machine.
        if security == Security::None
            && !matches!(host_name.as_str(), "localhost" | "127.0.0.1" | "::1")
        {
            return Err(self.err(
                host.span(),
                &key("security"),
                format!("`security = \"none\"` is only allowed for localhost, not `{host_name}`"),
                Some("use \"tls\" or \"starttls\"".into()),
            ));
        }
        let username = r.username.clone().ok_or_else(|| missing("username"))?;
        let auth = self.auth(
            table,
            span.clone(),
            r.auth,
            r.oauth2_mechanism,
            r.token_command,
            r.password_env.is_some() || r.password_command.is_some(),
        )?;
        let password = match auth {
            Auth::Password => self
                .secret(table, span.clone(), r.password_env, r.password_command)?
                .ok_or_else(|| missing("password_env"))?,
            Auth::OAuth2(_) => SecretSource::Command(
                r.token_command
                    .clone()
                    .ok_or_else(|| missing("token_command"))?,
            ),
        };
        let ca_file = self.ca_file(table, r.ca_file)?;
        Ok(ImapConfig {
            port: r.port.unwrap_or(match security {
                Security::Tls => 993,
                _ => 143,
            }),
            host: host_name,
            security,
            username,
            auth,
            password,
            folders: Vec::new(),
            ca_file,
            after: AfterDelivery::None,
            timeout: DEFAULT_IMAP_TIMEOUT,
        })
    }

    fn links(&self, raw: &RawLinks) -> Result<LinksConfig, ConfigError> {
        let clearurls = match &raw.clearurls_file {
            None => None,
            Some(p) => {
                let path = self.anchor(p.get_ref());
                let rules = crate::links::clearurls::ClearUrls::load(&path).map_err(|e| {
                    self.err(
                        p.span(),
                        "links.clearurls_file",
                        format!(
                            "`links.clearurls_file`: {}",
                            crate::sources::http::error_chain(&e)
                        ),
                        Some("point it at a ClearURLs `data.min.json`-format file".into()),
                    )
                })?;
                Some(std::sync::Arc::new(rules))
            }
        };
        Ok(LinksConfig {
            strip: raw.strip.clone(),
            keep: raw.keep.clone(),
            hosts: raw
                .hosts
                .iter()
                .map(|(h, r)| {
                    (
                        h.to_ascii_lowercase(),
                        LinkHostRule {
                            paths: r.paths.clone(),
                            strip: r.strip.clone(),
                            keep: r.keep.clone(),
                            keep_only: r.keep_only.clone(),
                            drop_query: r.drop_query,
                        },
                    )
                })
                .collect(),
            campaign_tags: raw.campaign_tags.unwrap_or(true),
            clearurls,
            resolve_redirects: raw.resolve_redirects.unwrap_or(false),
            allow_private_targets: raw.allow_private_targets.unwrap_or(false),
            resolve_timeout: self.duration(
                &raw.resolve_timeout,
                "links.resolve_timeout",
                DEFAULT_RESOLVE_TIMEOUT,
            )?,
            max_hops: raw.max_hops.unwrap_or(DEFAULT_MAX_HOPS).clamp(1, 20),
        })
    }

    fn delivery(&self, raw: &RawConfig) -> Result<DeliveryConfig, ConfigError> {
        let d = raw.delivery.get_ref();
        let from = d.from.get_ref().trim().to_string();
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(self.err(
                d.from.span(),
                "delivery.from",
                format!("`delivery.from` is not a valid address: `{from}`"),
                Some("write it as \"Name <addr@example.org>\" or \"addr@example.org\"".into()),
            ));
        }
        if d.to.get_ref().is_empty() {
            return Err(self.err(
                d.to.span(),
                "delivery.to",
                "`delivery.to` lists no recipients".into(),
                None,
            ));
        }
        for addr in d.to.get_ref() {
            if addr.trim().parse::<lettre::message::Mailbox>().is_err() {
                return Err(self.err(
                    d.to.span(),
                    "delivery.to",
                    format!("`delivery.to` has an invalid address: `{addr}`"),
                    None,
                ));
            }
        }
        // A `maildir` key or an `[delivery.imap]` table says where the digest goes by itself.
        let implied = if d.maildir.is_some() {
            "maildir"
        } else if d.imap.is_some() {
            "imap"
        } else {
            "smtp"
        };
        let transport = match d
            .transport
            .as_ref()
            .map(|t| t.get_ref().as_str())
            .unwrap_or(implied)
        {
            "smtp" => {
                let smtp = raw.smtp.as_ref().ok_or_else(|| {
                    self.err(
                        raw.delivery.span(),
                        "smtp",
                        "missing table `[smtp]` (needed by delivery.transport = \"smtp\")".into(),
                        Some(
                            "add an [smtp] table, or set delivery.transport = \"sendmail\"".into(),
                        ),
                    )
                })?;
                Transport::Smtp(self.smtp(smtp)?)
            }
            "sendmail" => Transport::Sendmail {
                command: d.sendmail_command.clone(),
            },
            "maildir" => {
                let dir = d.maildir.as_ref().ok_or_else(|| {
                    self.err(
                        raw.delivery.span(),
                        "delivery.maildir",
                        "missing key `delivery.maildir` (needed by delivery.transport = \"maildir\")"
                            .into(),
                        Some("name the Maildir to file the digest into, e.g. \"~/Mail/Digests\"".into()),
                    )
                })?;
                Transport::Maildir(self.anchor(dir.get_ref().trim()))
            }
            "imap" => {
                let t = d.imap.as_ref().ok_or_else(|| {
                    self.err(
                        raw.delivery.span(),
                        "delivery.imap",
                        "missing table `[delivery.imap]` (needed by delivery.transport = \"imap\")"
                            .into(),
                        Some(
                            "give it host, username, password_env or password_command, and folder"
                                .into(),
                        ),
                    )
                })?;
                let r = t.get_ref();
                let account = RawImapAccount {
                    host: &r.host,
                    port: r.port,
                    security: &r.security,
                    username: &r.username,
                    password_env: &r.password_env,
                    password_command: &r.password_command,
                    auth: &r.auth,
                    token_command: &r.token_command,
                    oauth2_mechanism: &r.oauth2_mechanism,
                    ca_file: &r.ca_file,
                };
                let mut imap = self.imap_account("delivery.imap", t.span(), &account)?;
                imap.folders = vec![r
                    .folder
                    .as_deref()
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .unwrap_or(DEFAULT_IMAP_FOLDER)
                    .to_string()];
                Transport::Imap(imap)
            }
            other => {
                let span = d
                    .transport
                    .as_ref()
                    .map(|t| t.span())
                    .unwrap_or(raw.delivery.span());
                return Err(self.err(
                    span,
                    "delivery.transport",
                    format!("unknown transport `{other}` in `delivery.transport`"),
                    suggest(other, &["smtp", "sendmail", "maildir", "imap"]),
                ));
            }
        };
        Ok(DeliveryConfig {
            from,
            to: d
                .to
                .get_ref()
                .iter()
                .map(|s| s.trim().to_string())
                .collect(),
            transport,
            list_id: match &d.list_id {
                Some(id) => {
                    let v = id.get_ref().trim().trim_matches(|c| c == '<' || c == '>');
                    if v.is_empty() || !v.chars().all(|c| c.is_ascii_graphic()) {
                        return Err(self.err(
                            id.span(),
                            "delivery.list_id",
                            format!(
                                "`delivery.list_id` `{}` must be printable ASCII without spaces",
                                id.get_ref()
                            ),
                            Some("for example \"digest.tidings.example.org\"".into()),
                        ));
                    }
                    Some(v.to_string())
                }
                None => None,
            },
        })
    }

    fn smtp(&self, s: &Spanned<RawSmtp>) -> Result<SmtpConfig, ConfigError> {
        let r = s.get_ref();
        let security = match r
            .security
            .as_ref()
            .map(|x| x.get_ref().as_str())
            .unwrap_or("starttls")
        {
            "starttls" => Security::StartTls,
            "tls" => Security::Tls,
            "none" => Security::None,
            other => {
                let span = r.security.as_ref().map(|x| x.span()).unwrap_or(s.span());
                return Err(self.err(
                    span,
                    "smtp.security",
                    format!("unknown value `{other}` for `smtp.security`"),
                    suggest(other, &["starttls", "tls", "none"])
                        .or(Some("use \"starttls\", \"tls\" or \"none\"".into())),
                ));
            }
        };
        let auth = self.auth(
            "smtp",
            s.span(),
            &r.auth,
            &r.oauth2_mechanism,
            &r.token_command,
            r.password_env.is_some() || r.password_command.is_some(),
        )?;
        let password = match auth {
            Auth::Password => {
                self.secret("smtp", s.span(), &r.password_env, &r.password_command)?
            }
            Auth::OAuth2(_) => {
                if r.username.is_none() {
                    return Err(self.err(
                        s.span(),
                        "smtp.username",
                        "missing key `username` in `[smtp]` (OAuth2 logs in as someone)".into(),
                        None,
                    ));
                }
                r.token_command.clone().map(SecretSource::Command)
            }
        };
        let ca_file = self.ca_file("smtp", &r.ca_file)?;
        let port = r.port.unwrap_or(match security {
            Security::StartTls => 587,
            Security::Tls => 465,
            Security::None => 25,
        });
        Ok(SmtpConfig {
            host: r.host.clone(),
            port,
            security,
            username: r.username.clone(),
            auth,
            password,
            ca_file,
            timeout: self.duration(&r.timeout, "smtp.timeout", DEFAULT_SMTP_TIMEOUT)?,
        })
    }
}

/// Turns a toml/serde error into one that names file, line, key, and a likely typo's fix.
fn syntax_error(text: &str, path: &Path, e: &toml::de::Error) -> ConfigError {
    let (line, column) = e
        .span()
        .map(|s| line_col(text.as_bytes(), s.start))
        .unwrap_or((1, 1));
    let message = e.message().trim().to_string();
    let table = e.span().and_then(|s| enclosing_table(text, s.start));
    let mut key = table.clone().unwrap_or_default();
    let mut hint = None;
    let mut pretty = message.clone();
    // serde says: unknown field `recipents`, expected `from` or `to` / expected one of `a`, `b`
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            hint = suggest(field, &candidates);
            let where_ = table
                .as_deref()
                .map(|t| format!(" in [{t}]"))
                .unwrap_or_else(|| " at the top level".into());
            pretty = format!("unknown key `{field}`{where_}");
            key = match &table {
                Some(t) => format!("{t}.{field}"),
                None => field.to_string(),
            };
            if hint.is_none() && !candidates.is_empty() {
                hint = Some(format!("known keys: {}", candidates.join(", ")));
            }
        }
    } else if let Some(t) = &table {
        pretty = format!("{message} (in [{t}])");
    }
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message: pretty,
        hint,
    }
}

/// The `[table]` or `[[array]]` header above a byte offset, if any.
fn enclosing_table(text: &str, offset: usize) -> Option<String> {
    let before = &text[..offset.min(text.len())];
    before.lines().rev().find_map(|l| {
        let l = l.trim();
        let inner = l
            .strip_prefix("[[")
            .and_then(|x| x.split_once("]]"))
            .map(|x| x.0)
            .or_else(|| {
                l.strip_prefix('[')
                    .and_then(|x| x.split_once(']'))
                    .map(|x| x.0)
            })?;
        Some(inner.trim().to_string())
    })
}

/// "did you mean" for a misspelt key or value.
fn suggest(got: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(got, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// 1-based line and column of a byte offset (columns count characters; bytes that are not
/// UTF-8 count as one each). The one home for it: config, edits and feeds report positions.
pub(crate) fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Parses durations as humantime reads them: `30s`, `15m`, `12h`, `7d`, `2w`, `500ms`, and
/// combinations such as `1h 30m` or `2days`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| match e {
        humantime::DurationError::UnknownUnit { unit, .. } => format!(
            "unknown unit `{unit}` (use ms, s, m or min, h, d, w, or words such as \"2days\")"
        ),
        humantime::DurationError::NumberExpected(_) => {
            "expected a number, then a unit (\"30s\", \"7d\")".into()
        }
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[digest]
title = "Morning"
lookback = "3d"

[delivery]
from = "Tidings <digest@example.org>"
to = ["me@example.org"]

[smtp]
host = "smtp.example.org"
password_env = "X_SECRET"

[[feeds]]
url = "https://example.org/feed.xml"
topic = "Tech"

[[feeds]]
url = "feeds/local.xml"

[[mailboxes]]
type = "maildir"
path = "mail/News"

[[topics]]
name = "Tech"
keywords = ["rust"]
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/tidings/config.toml"))
    }

    fn invalid(text: &str) -> (usize, String, String, Option<String>) {
        match parse(text) {
            Err(ConfigError::Invalid {
                line,
                key,
                message,
                hint,
                ..
            }) => (line, key, message, hint),
            other => panic!("expected an invalid-config error, got {other:?}"),
        }
    }

    #[test]
    fn imap_mailboxes_resolve_and_reject_plain_text_to_remote_hosts() {
        let text = format!(
            "{GOOD}\n[[mailboxes]]\ntype = \"imap\"\nname = \"Work\"\nhost = \"imap.example.org\"\nusername = \"me\"\npassword_command = \"pass imap\"\nfolders = [\"Newsletters\"]\nafter = \"move:Digested\"\nfrom = [\"*@substack.com\"]\n"
        );
        let c = parse(&text).unwrap();
        let m = &c.mailboxes[1];
        assert!(matches!(m.kind, MailboxKind::Imap(_)));
        assert_eq!(m.from, vec!["*@substack.com".to_string()]);
        let i = m.imap().unwrap();
        assert_eq!((i.port, i.security), (993, Security::Tls));
        assert_eq!(i.folders, vec!["Newsletters".to_string()]);
        assert_eq!(i.after, AfterDelivery::Move("Digested".into()));
        assert_eq!(i.password, SecretSource::Command("pass imap".into()));

        let plain = text.replace("after = \"move:Digested\"", "security = \"none\"");
        let (_, key, message, _) = invalid(&plain);
        assert_eq!(key, "mailboxes[1].security");
        assert!(message.contains("only allowed for localhost"), "{message}");
        let local = plain.replace("imap.example.org", "127.0.0.1");
        assert_eq!(
            parse(&local).unwrap().mailboxes[1].imap().unwrap().port,
            143
        );

        let (_, key, _, hint) = invalid(&text.replace("move:Digested", "archive"));
        assert_eq!(key, "mailboxes[1].after");
        assert!(hint.unwrap().contains("move:Folder"));
        let (_, key, _, _) = invalid(&text.replace("username = \"me\"\n", ""));
        assert_eq!(key, "mailboxes[1].username");
    }

    #[test]
    fn delivery_into_a_mailbox_is_implied_by_its_key_and_its_table_is_checked() {
        let at = |extra: &str| {
            GOOD.replacen(
                "to = [\"me@example.org\"]\n",
                &format!("to = [\"me@example.org\"]\n{extra}"),
                1,
            )
        };
        let c = parse(&at("maildir = \"~/Mail/Digests\"\n")).unwrap();
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap();
        match &c.delivery.transport {
            Transport::Maildir(p) => assert_eq!(p, &home.join("Mail/Digests")),
            other => panic!("{other:?}"),
        }
        assert!(c.delivery.destination().starts_with("into the Maildir "));

        let imap = "[delivery.imap]\nhost = \"imap.example.org\"\nusername = \"me\"\npassword_env = \"P\"\nfolder = \"Digests\"\n";
        let text = GOOD.replacen("[smtp]", &format!("{imap}\n[smtp]"), 1);
        let c = parse(&text).unwrap();
        match &c.delivery.transport {
            Transport::Imap(i) => {
                assert_eq!((i.port, i.security), (993, Security::Tls));
                assert_eq!(i.folders, vec!["Digests".to_string()]);
                assert_eq!(i.after, AfterDelivery::None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.delivery.destination(),
            "into folder Digests of me@imap.example.org"
        );
        let (_, key, _, _) = invalid(&text.replace("username = \"me\"\n", ""));
        assert_eq!(key, "delivery.imap.username");
        let (_, key, _, _) = invalid(&text.replace("folder", "mailbox"));
        assert_eq!(key, "delivery.imap.mailbox", "{key}");

        let (_, key, _, hint) = invalid(&at("transport = \"imap\"\n"));
        assert_eq!(key, "delivery.imap");
        assert!(hint.unwrap().contains("host"));
        let (_, key, _, _) = invalid(&at("transport = \"maildir\"\n"));
        assert_eq!(key, "delivery.maildir");
        let (_, key, _, hint) = invalid(&at("transport = \"maildr\"\n"));
        assert_eq!(key, "delivery.transport");
        assert!(hint.unwrap().contains("maildir"));
    }

    #[test]
    fn the_digest_language_sets_words_and_lead_title_and_a_wrong_one_is_named() {
        let german = GOOD.replacen("[digest]\n", "[digest]\nlanguage = \"de\"\n", 1);
        let c = parse(&german).unwrap();
        assert_eq!(c.digest.strings.lang(), "de");
        assert_eq!(c.grouping.lead_title, "Das Wichtigste");
        let own = german.replacen(
            "[digest]\n",
            "[grouping]\nlead_title = \"Vorne\"\n\n[digest]\n",
            1,
        );
        assert_eq!(parse(&own).unwrap().grouping.lead_title, "Vorne");
        let (line, key, _, hint) = invalid(&german.replace("\"de\"", "\"dee\""));
        assert_eq!((line, key.as_str()), (3, "digest.language"));
        assert!(hint.unwrap().contains("de"));
    }

    #[test]
    fn oauth2_is_implied_by_a_token_command_and_conflicts_are_named() {
        let imap = "\n[[mailboxes]]\ntype = \"imap\"\nhost = \"outlook.office365.com\"\nusername = \"me\"\ntoken_command = \"oama access me\"\n";
        let c = parse(&format!("{GOOD}{imap}")).unwrap();
        let i = c.mailboxes[1].imap().unwrap();
        assert_eq!(i.auth, Auth::OAuth2(Sasl::XOAuth2));
        assert_eq!(i.password, SecretSource::Command("oama access me".into()));

        let bearer = format!("{GOOD}{imap}oauth2_mechanism = \"OAUTHBEARER\"\n");
        let i = parse(&bearer).unwrap().mailboxes[1].imap().unwrap().clone();
        assert_eq!(i.auth, Auth::OAuth2(Sasl::OAuthBearer));

        let both = format!("{GOOD}{imap}password_env = \"P\"\n");
        let (_, key, message, _) = invalid(&both);
        assert_eq!(key, "mailboxes[1].password_env");
        assert!(message.contains("token_command"), "{message}");
        let (_, key, _, hint) = invalid(&format!("{GOOD}{imap}oauth2_mechanism = \"plain\"\n"));
        assert_eq!(key, "mailboxes[1].oauth2_mechanism");
        assert!(hint.unwrap().contains("oauthbearer"));
        let (_, key, _, _) = invalid(&format!("{GOOD}{imap}auth = \"kerberos\"\n"));
        assert_eq!(key, "mailboxes[1].auth");

        let smtp = GOOD.replace(
            "password_env = \"X_SECRET\"",
            "username = \"me\"\nauth = \"oauth2\"\ntoken_command = \"oama access me\"",
        );
        let Transport::Smtp(s) = parse(&smtp).unwrap().delivery.transport else {
            panic!("smtp")
        };
        assert_eq!(s.auth, Auth::OAuth2(Sasl::XOAuth2));
        let (_, key, _, _) = invalid(&smtp.replace("username = \"me\"\n", ""));
        assert_eq!(key, "smtp.username");
    }

    #[test]
    fn ranking_keys_resolve_and_a_wrong_value_is_named() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.grouping.lead_stories, crate::group::DEFAULT_LEAD_STORIES);
        assert_eq!(c.grouping.followups, crate::group::Followups::Show);
        assert_eq!((c.feeds[1].priority, c.feeds[1].max_stories), (0, None));
        let text = GOOD.replace(
            "url = \"feeds/local.xml\"",
            "url = \"feeds/local.xml\"\npriority = -1\nmax_stories = 4",
        ) + "\n[grouping]\norder = \"rank\"\nmax_per_source = 6\nlead = false\nfollowups = \"hide\"\n";
        let text = text.replacen("[digest]\n", "[digest]\nreading_minutes = 10\n", 1);
        let c = parse(&text).unwrap();
        assert_eq!((c.feeds[1].priority, c.feeds[1].max_stories), (-1, Some(4)));
        assert_eq!(c.grouping.order, crate::group::Order::Rank);
        assert_eq!(c.grouping.max_per_source, Some(6));
        assert_eq!(c.grouping.lead_stories, 0);
        assert_eq!(c.grouping.followups, crate::group::Followups::Hide);
        assert_eq!(
            c.grouping.max_words,
            Some(10 * crate::group::WORDS_PER_MINUTE)
        );
        let (_, key, _, hint) = invalid(&text.replace("\"hide\"", "\"fold\""));
        assert_eq!(key, "grouping.followups");
        assert!(hint.unwrap().contains("show"));
    }

    #[test]
    fn good_config_resolves_defaults_and_relative_paths() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.digest.title, "Morning");
        assert_eq!(c.digest.lookback, Duration::from_secs(3 * 86_400));
        assert_eq!(c.state_path, PathBuf::from("/etc/tidings/tidings.db"));
        assert_eq!(
            c.feeds[1].location,
            FeedLocation::File(PathBuf::from("/etc/tidings/feeds/local.xml"))
        );
        assert!(
            matches!(&c.mailboxes[0].kind, MailboxKind::Maildir(p) if p == Path::new("/etc/tidings/mail/News"))
        );
        let Transport::Smtp(s) = &c.delivery.transport else {
            panic!("smtp expected")
        };
        assert_eq!((s.port, s.security), (587, Security::StartTls));
        assert_eq!(s.password, Some(SecretSource::Env("X_SECRET".into())));
    }

    #[test]
    fn unknown_key_names_line_table_and_suggests_the_fix() {
        let text = GOOD.replace("to = [", "recipents = [");
        let (line, key, message, hint) = invalid(&text);
        assert_eq!(line, 8);
        assert_eq!(key, "delivery.recipents");
        assert_eq!(message, "unknown key `recipents` in [delivery]");
        assert_eq!(
            hint.as_deref(),
            Some("known keys: from, to, transport, sendmail_command, list_id, maildir, imap")
        );
        let text = GOOD.replace("lookback =", "lookbak =");
        let (line, key, _, hint) = invalid(&text);
        assert_eq!((line, key.as_str()), (4, "digest.lookbak"));
        assert_eq!(hint.as_deref(), Some("did you mean `lookback`?"));
    }

    #[test]
    fn wrong_type_names_the_line() {
        let text = GOOD.replace("to = [\"me@example.org\"]", "to = \"me@example.org\"");
        let (line, _, message, _) = invalid(&text);
        assert_eq!(line, 8);
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn bad_values_name_line_and_key() {
        let (line, key, message, _) =
            invalid(&GOOD.replace("https://example.org/feed.xml", "https://exa mple.org/"));
        assert_eq!((line, key.as_str()), (15, "feeds[0].url"));
        assert!(
            message.starts_with("invalid URL `https://exa mple.org/`"),
            "{message}"
        );
        let (line, key, _, hint) = invalid(&GOOD.replace("\"3d\"", "\"3 eons\""));
        assert_eq!((line, key.as_str()), (4, "digest.lookback"));
        assert!(hint.is_some());
        let (_, key, _, hint) =
            invalid(&GOOD.replace("password_env", "security = \"startls\"\npassword_env"));
        assert_eq!(key, "smtp.security");
        assert_eq!(hint.as_deref(), Some("did you mean `starttls`?"));
        let (_, key, _, _) = invalid(&GOOD.replace("me@example.org", "not an address"));
        assert_eq!(key, "delivery.to");
    }

    #[test]
    fn missing_required_key_is_reported() {
        let text = GOOD.replace("from = \"Tidings <digest@example.org>\"\n", "");
        let (line, _, message, _) = invalid(&text);
        assert!(message.contains("missing field `from`"), "{message}");
        // The table that lacks the key.
        assert_eq!(line, 6);
    }

    #[test]
    fn missing_secret_names_the_variable_not_a_value() {
        let err = SecretSource::Env("TIDINGS_TEST_SURELY_UNSET_VAR".into())
            .read()
            .unwrap_err();
        assert!(err.contains("`TIDINGS_TEST_SURELY_UNSET_VAR`"), "{err}");
    }

    #[test]
    fn the_shipped_configs_parse() {
        let example = parse(include_str!("../config.example.toml")).expect("config.example.toml");
        assert_eq!(example.feeds.len(), 2);
        assert_eq!(example.topics.len(), 2);
        let demo = Config::parse(
            include_str!("../demo/config.toml"),
            Path::new("demo/config.toml"),
        )
        .expect("demo/config.toml");
        assert!(!demo.feeds.is_empty() && !demo.mailboxes.is_empty());
    }

    #[test]
    fn schedule_timezone_and_period() {
        let c = parse(&GOOD.replace("lookback = \"3d\"", "lookback = \"3d\"\nschedule = \"0 7 * * *\"\ntimezone = \"Europe/Berlin\"\nperiod = \"daily\"")).unwrap();
        assert!(c.digest.schedule.is_some());
        assert_eq!(c.digest.timezone, chrono_tz::Tz::Europe__Berlin);
        assert_eq!(c.digest.period, Some(crate::schedule::Period::Daily));
        let (line, key, _, hint) = invalid(&GOOD.replace(
            "lookback = \"3d\"",
            "lookback = \"3d\"\nschedule = \"0 7 * *\"",
        ));
        assert_eq!((line, key.as_str()), (5, "digest.schedule"));
        assert!(hint.is_some());
        let (_, key, message, _) = invalid(&GOOD.replace(
            "lookback = \"3d\"",
            "lookback = \"3d\"\ntimezone = \"Europe/Berlinn\"",
        ));
        assert_eq!(key, "digest.timezone");
        assert!(message.contains("Europe/Berlinn"), "{message}");
        let (_, key, _, _) = invalid(&GOOD.replace(
            "lookback = \"3d\"",
            "lookback = \"3d\"\nperiod = \"fortnightly\"",
        ));
        assert_eq!(key, "digest.period");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(1_209_600)));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("d").is_err());
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("90min"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("2days"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("3 fortnights").is_err());
    }
}
