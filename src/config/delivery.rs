//! `[delivery]` and `[smtp]`: where the digest goes (SMTP, sendmail, a Maildir, an IMAP
//! folder) and from whom.

use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::accounts::{Auth, SecretSource, Security};
use super::diagnostics::{suggest, ConfigError};
use super::raw::{RawConfig, RawImapAccount, RawSmtp};
use super::sources::ImapConfig;
use super::{Resolver, DEFAULT_IMAP_FOLDER, DEFAULT_SMTP_TIMEOUT};

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

impl Resolver<'_> {
    pub(super) fn delivery(&self, raw: &RawConfig) -> Result<DeliveryConfig, ConfigError> {
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

    pub(super) fn smtp(&self, s: &Spanned<RawSmtp>) -> Result<SmtpConfig, ConfigError> {
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
