//! `[digest]` and `[[digests]]`: what the digest is called, when it covers, how big it may be,
//! its language and templates, and each extra digest's own recipients and sources.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::diagnostics::{suggest, ConfigError};
use super::raw::{RawConfig, RawDigestEntry};
use super::sources::{FeedConfig, MailboxConfig, MailboxKind};
use super::{Config, Resolver};

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

impl Resolver<'_> {
    /// One `[[digests]]` entry: `base` (the whole config) with the entry's own values.
    pub(super) fn digest_entry(
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

    /// `[digest] language` (else the environment's) and the user's `strings.toml`.
    pub(super) fn strings(
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
}
