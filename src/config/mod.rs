//! `config.toml`: parsed into plain `Raw*` structs (`raw`: serde, unknown keys rejected), then
//! resolved into a validated [`Config`] with defaults filled and relative paths anchored at
//! the config file's folder. Every error names the file, the line and the key (`diagnostics`).
//!
//! One file per table, each with its checked types and the `Resolver` steps that make them:
//! `digest` (`[digest]`, `[[digests]]`), `sources` (`[[feeds]]`, `[[mailboxes]]`), `delivery`
//! (`[delivery]`, `[smtp]`), `accounts` (what IMAP and SMTP accounts share: security, auth,
//! secrets), `links` (`[links]`, `[fetch]`), `topics` (`[[topics]]`, `[grouping]`,
//! `[[filters]]`). Here: the whole config, the defaults, and the order of resolving.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

mod accounts;
mod delivery;
mod diagnostics;
mod digest;
mod links;
mod raw;
mod sources;
mod topics;

pub use accounts::{Auth, Sasl, SecretSource, Security};
pub use delivery::{DeliveryConfig, SmtpConfig, Transport};
pub(crate) use diagnostics::line_col;
pub use diagnostics::ConfigError;
use diagnostics::{suggest, syntax_error};
pub use digest::DigestConfig;
pub use links::{
    FetchConfig, LinkHostRule, LinksConfig, DEFAULT_MAX_HOPS, DEFAULT_RESOLVE_TIMEOUT,
};
use raw::*;
pub use sources::{
    AfterDelivery, FeedConfig, FeedLocation, ImapConfig, MailboxConfig, MailboxKind,
};
pub use topics::TopicConfig;

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

// ---------------------------------------------------------------------------------------------
// Raw: exactly what the file says.

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
        let example =
            parse(include_str!("../../config.example.toml")).expect("config.example.toml");
        assert_eq!(example.feeds.len(), 2);
        assert_eq!(example.topics.len(), 2);
        let demo = Config::parse(
            include_str!("../../demo/config.toml"),
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
