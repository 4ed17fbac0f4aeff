//! `[[feeds]]` and `[[mailboxes]]`: what is read, and how state and the user know each source.

use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use crate::model::SourceKey;

use super::accounts::{Auth, SecretSource, Security};
use super::diagnostics::ConfigError;
use super::raw::{RawImapAccount, RawMailbox};
use super::{Resolver, DEFAULT_IMAP_FOLDER};

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

impl Resolver<'_> {
    pub(super) fn imap_mailbox(
        &self,
        i: usize,
        m: &Spanned<RawMailbox>,
    ) -> Result<ImapConfig, ConfigError> {
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
}
