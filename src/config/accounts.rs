//! What a mail account needs, for IMAP and SMTP alike: transport security, how it proves who
//! it is, and where its secret comes from (never the config file itself).

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::diagnostics::{suggest, ConfigError};
use super::raw::RawImapAccount;
use super::sources::{AfterDelivery, ImapConfig};
use super::{Resolver, DEFAULT_IMAP_TIMEOUT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Tls,
    None,
}

/// Where a secret comes from. The secret itself is read only when needed and never stored here,
/// so a `Debug` print of the config cannot leak it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    Command(String),
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

impl Resolver<'_> {
    /// Where a table's password comes from: `password_env` or `password_command`, not both.
    pub(super) fn secret(
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
    pub(super) fn auth(
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
    pub(super) fn ca_file(
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

    /// The account part of an IMAP table (`table` names it in errors): host, TLS, login and
    /// CA. Its folders are the caller's, and nothing happens after delivery.
    pub(super) fn imap_account(
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
}
