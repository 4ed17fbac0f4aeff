//! Delivery: one MIME message to every recipient, through SMTP or a local sendmail, or filed
//! into the reader's own mailbox (a local Maildir, or an IMAP folder by APPEND).

use chrono::{DateTime, Utc};
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::{AsyncSendmailTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest as _, Sha256};
use std::io::Write as _;
use std::path::Path;

use crate::config::{Auth, DeliveryConfig, Sasl, Security, SmtpConfig, Transport};
use crate::render::Rendered;
use crate::sources::http::error_chain;
use crate::sources::imap::Appender;

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("SMTP password: {0}")]
    Secret(String),
    #[error("SMTP OAuth2 token: {0}")]
    Token(String),
    #[error("cannot read [smtp] ca_file `{path}`: {message}")]
    CaFile { path: String, message: String },
    #[error("SMTP delivery to {host}:{port} failed: {message}")]
    Smtp {
        host: String,
        port: u16,
        message: String,
    },
    #[error("sendmail delivery failed: {0}")]
    Sendmail(String),
    #[error("cannot file the digest into the Maildir `{path}`")]
    Maildir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot file the digest into folder `{folder}` of {account}")]
    Imap {
        account: String,
        folder: String,
        #[source]
        source: Box<crate::sources::imap::ImapError>,
    },
}

/// The message as `run` hands it over, with its Message-ID for the records.
pub struct Outgoing {
    pub message: Message,
    pub message_id: String,
}

impl Outgoing {
    /// The complete RFC 5322 message, as written to `digest.eml`.
    pub fn formatted(&self) -> Vec<u8> {
        self.message.formatted()
    }
}

/// A unique Message-ID in the sender's domain: time, process, a per-process counter and
/// content make it unique (the counter and the clock tell apart two builds of one digest).
fn message_id(from: &Mailbox, now: DateTime<Utc>, body: &str) -> String {
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = Sha256::new();
    h.update(now.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
    h.update(
        BUILDS
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes(),
    );
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    h.update(wall.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(body.as_bytes());
    let hex = format!("{:x}", h.finalize());
    format!(
        "<{}.{}@{}>",
        now.format("%Y%m%d%H%M%S"),
        &hex[..16],
        from.email.domain()
    )
}

pub fn build(
    cfg: &DeliveryConfig,
    rendered: &Rendered,
    now: DateTime<Utc>,
) -> Result<Outgoing, DeliverError> {
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|_| DeliverError::Address(cfg.from.clone()))?;
    let id = message_id(&from, now, &rendered.text);
    // Subjects come from feed and newsletter text: no line breaks may reach a header.
    let subject: String = rendered
        .subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject)
        .date(now.into())
        .message_id(Some(id.clone()))
        .header(AutoSubmitted)
        .header(ListId(list_id(cfg, &from, &rendered.title)));
    for to in &cfg.to {
        builder = builder.to(to.parse().map_err(|_| DeliverError::Address(to.clone()))?);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(header::ContentType::TEXT_PLAIN)
                .body(to_crlf(&rendered.text)),
        )
        .singlepart(
            SinglePart::builder()
                .header(header::ContentType::TEXT_HTML)
                .body(to_crlf(&rendered.html)),
        );
    let message = builder
        .multipart(body)
        .map_err(|e| DeliverError::Build(e.to_string()))?;
    Ok(Outgoing {
        message,
        message_id: id,
    })
}

/// MIME's canonical CRLF line ends, in one pass. lettre would do this itself, but with one
/// `String::insert` per line: quadratic, 52 of 55 seconds for a 10 MB digest. Given text that
/// is already CRLF it has nothing to insert.
pub fn to_crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut prev = '\0';
    for c in text.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// `Auto-Submitted: auto-generated` (RFC 3834), so vacation responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl header::Header for AutoSubmitted {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

/// `List-Id` (RFC 2919), so readers can filter the digest: `Title <digest.tidings.example.org>`.
#[derive(Clone)]
struct ListId(String);

impl header::Header for ListId {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Id")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListId(s.to_string()))
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The `List-Id` value: the configured id, else `digest.tidings.` and the sender's domain.
/// The phrase is the digest's title when it is plain ASCII (a header must be, unencoded).
fn list_id(cfg: &DeliveryConfig, from: &Mailbox, title: &str) -> String {
    let id = cfg
        .list_id
        .clone()
        .unwrap_or_else(|| format!("{LIST_ID_PREFIX}{}", from.email.domain()));
    let phrase: String = title
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | ','))
        .collect();
    match phrase.trim() {
        "" => format!("<{id}>"),
        p => format!("{p} <{id}>"),
    }
}

/// The default `List-Id` is this followed by the sender's domain.
pub const LIST_ID_PREFIX: &str = "digest.tidings.";

/// Sends the message. Returns only once the server accepted it.
///
/// `at_point_of_no_return` runs after the server has agreed to take the message (its `354` to
/// DATA) and before the body goes out. The pipeline records the digest as pending there, so a
/// crash between the server's acceptance and the state commit is reconciled on the next run
/// instead of sending the digest twice. If it fails, nothing is sent.
pub async fn send<F, E>(
    cfg: &DeliveryConfig,
    out: &Outgoing,
    at_point_of_no_return: F,
) -> Result<(), DeliverError>
where
    F: FnOnce() -> Result<(), E>,
    E: std::fmt::Display,
{
    match &cfg.transport {
        Transport::Smtp(smtp) => {
            let deadline = smtp.timeout * 2;
            let conversation = send_smtp(smtp, out, at_point_of_no_return);
            tokio::time::timeout(deadline, conversation)
                .await
                .unwrap_or_else(|_| {
                    Err(DeliverError::Smtp {
                        host: smtp.host.clone(),
                        port: smtp.port,
                        message: format!("no answer within {deadline:?}"),
                    })
                })
        }
        Transport::Maildir(dir) => file_into_maildir(dir, out, at_point_of_no_return),
        Transport::Imap(imap) => {
            let fail = |source| DeliverError::Imap {
                account: format!("{}@{}", imap.username, imap.host),
                folder: imap.folders.first().cloned().unwrap_or_default(),
                source: Box::new(source),
            };
            let appender = Appender::open(imap).await.map_err(fail)?;
            if let Err(e) = at_point_of_no_return() {
                appender.close().await;
                return Err(not_recorded(e));
            }
            appender.append(&out.formatted()).await.map_err(fail)
        }
        Transport::Sendmail { command } => {
            at_point_of_no_return().map_err(|e| DeliverError::Build(e.to_string()))?;
            let t = match command {
                Some(c) => AsyncSendmailTransport::<Tokio1Executor>::new_with_command(c),
                None => AsyncSendmailTransport::<Tokio1Executor>::new(),
            };
            t.send(out.message.clone())
                .await
                .map(|_| ())
                .map_err(|e| DeliverError::Sendmail(error_chain(&e)))
        }
    }
}

/// The digest could not be recorded as pending, so it was not handed over: nothing went out.
fn not_recorded(e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Build(format!(
        "cannot record the digest before delivering it: {e}"
    ))
}

/// Files the message the way a delivery agent does (maildir(5)): written and synced under
/// `tmp/`, then renamed into `new/`, so a reader never sees half a digest. The rename is the
/// moment of delivery; the digest is recorded as pending just before it.
fn file_into_maildir<F, E>(
    dir: &Path,
    out: &Outgoing,
    at_point_of_no_return: F,
) -> Result<(), DeliverError>
where
    F: FnOnce() -> Result<(), E>,
    E: std::fmt::Display,
{
    let fail = |source| DeliverError::Maildir {
        path: dir.display().to_string(),
        source,
    };
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(fail)?;
    }
    let name = maildir_name();
    let tmp = dir.join("tmp").join(&name);
    let written = (|| {
        let mut f = std::fs::File::create_new(&tmp)?;
        f.write_all(&out.formatted())?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    if let Err(e) = at_point_of_no_return() {
        let _ = std::fs::remove_file(&tmp);
        return Err(not_recorded(e));
    }
    std::fs::rename(&tmp, dir.join("new").join(&name)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// A Maildir file name unique on this host: time, process, a per-process counter, host name
/// (maildir(5); `/` and `:` in the host name escaped as the convention asks).
fn maildir_name() -> String {
    static FILED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
        .replace('/', "\\057")
        .replace(':', "\\072");
    format!(
        "{}.M{}P{}Q{}.{host}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        FILED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

fn tls_parameters(smtp: &SmtpConfig) -> Result<TlsParameters, DeliverError> {
    let mut b = TlsParameters::builder(smtp.host.clone());
    if let Some(ca) = &smtp.ca_file {
        let ca_err = |message: String| DeliverError::CaFile {
            path: ca.display().to_string(),
            message,
        };
        let pem = std::fs::read(ca).map_err(|e| ca_err(e.to_string()))?;
        b = b.add_root_certificate(
            Certificate::from_pem(&pem).map_err(|e| ca_err(error_chain(&e)))?,
        );
    }
    b.build_rustls()
        .map_err(|e| DeliverError::Build(error_chain(&e)))
}

/// The login name and its password or OAuth2 token, read now.
fn credentials(smtp: &SmtpConfig) -> Result<Option<(String, String)>, DeliverError> {
    let Some(user) = &smtp.username else {
        return Ok(None);
    };
    let password = match (&smtp.password, smtp.auth) {
        (Some(src), Auth::Password) => src.read().map_err(DeliverError::Secret)?,
        (Some(src), Auth::OAuth2(_)) => src.read().map_err(DeliverError::Token)?,
        (None, _) => {
            return Err(DeliverError::Secret(
                "[smtp] username is set but neither password_env nor password_command is".into(),
            ))
        }
    };
    Ok(Some((user.clone(), password)))
}

/// `AUTH XOAUTH2` or `AUTH OAUTHBEARER` (RFC 7628) with the token, the initial response on
/// the command line. A refused token comes back as a 334 error challenge, answered as each
/// mechanism asks (an empty line, or `^A`) so the server can end with its 5xx. (lettre's own
/// XOAUTH2 stops at that challenge and leaves the exchange half done; it has no OAUTHBEARER.)
async fn auth_bearer(
    conn: &mut AsyncSmtpConnection,
    smtp: &SmtpConfig,
    sasl: Sasl,
    user: &str,
    token: &str,
) -> Result<(), lettre::transport::smtp::Error> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let initial =
        crate::sources::imap::oauth2_initial_response(sasl, user, &smtp.host, smtp.port, token);
    let first = format!("AUTH {} {}\r\n", sasl.name(), b64.encode(initial));
    match conn.command(RawCommand(first)).await {
        Ok(r) if r.has_code(334) => {
            let reply = match sasl {
                Sasl::XOAuth2 => String::new(),
                Sasl::OAuthBearer => b64.encode([0x01]),
            };
            conn.command(RawCommand(format!("{reply}\r\n")))
                .await
                .map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// A command line lettre has no type for.
struct RawCommand(String);

impl std::fmt::Display for RawCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Connects, upgrades to TLS as configured (certificates always verified) and logs in.
pub async fn connect(smtp: &SmtpConfig) -> Result<AsyncSmtpConnection, DeliverError> {
    let fail = |e: lettre::transport::smtp::Error| DeliverError::Smtp {
        host: smtp.host.clone(),
        port: smtp.port,
        message: error_chain(&e),
    };
    let hello = ClientId::default();
    let addr = (smtp.host.as_str(), smtp.port);
    let timeout = Some(smtp.timeout);
    let mut conn = match smtp.security {
        Security::Tls => AsyncSmtpConnection::connect_tokio1(
            addr,
            timeout,
            &hello,
            Some(tls_parameters(smtp)?),
            None,
        )
        .await
        .map_err(fail)?,
        Security::StartTls => {
            let mut conn = AsyncSmtpConnection::connect_tokio1(addr, timeout, &hello, None, None)
                .await
                .map_err(fail)?;
            conn.starttls(tls_parameters(smtp)?, &hello)
                .await
                .map_err(fail)?;
            conn
        }
        Security::None => AsyncSmtpConnection::connect_tokio1(addr, timeout, &hello, None, None)
            .await
            .map_err(fail)?,
    };
    if let Some((user, secret)) = credentials(smtp)? {
        let login = match smtp.auth {
            Auth::Password => conn
                .auth(
                    &[Mechanism::Plain, Mechanism::Login],
                    &Credentials::new(user.clone(), secret.clone()),
                )
                .await
                .map(|_| ()),
            Auth::OAuth2(sasl) => auth_bearer(&mut conn, smtp, sasl, &user, &secret).await,
        };
        login.map_err(|e| DeliverError::Smtp {
            host: smtp.host.clone(),
            port: smtp.port,
            message: match smtp.auth {
                Auth::OAuth2(sasl) => format!(
                    "{} login as `{}` refused (an expired or wrong OAuth2 token?): {}",
                    sasl.name(),
                    user,
                    error_chain(&e)
                ),
                Auth::Password => error_chain(&e),
            },
        })?;
    }
    Ok(conn)
}

async fn send_smtp<F, E>(
    smtp: &SmtpConfig,
    out: &Outgoing,
    at_point_of_no_return: F,
) -> Result<(), DeliverError>
where
    F: FnOnce() -> Result<(), E>,
    E: std::fmt::Display,
{
    let fail = |e: lettre::transport::smtp::Error| DeliverError::Smtp {
        host: smtp.host.clone(),
        port: smtp.port,
        message: error_chain(&e),
    };
    let mut conn = connect(smtp).await?;
    let envelope = out.message.envelope();
    let body = out.message.formatted();
    let mut mail_params = Vec::new();
    // lettre encodes bodies as 7-bit (quoted-printable/base64), so this is the rare case of a
    // raw 8-bit header; without 8BITMIME the server could mangle it.
    if !body.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(DeliverError::Build(
                "the message has 8-bit content and the server does not offer 8BITMIME".into(),
            ));
        }
        mail_params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), mail_params))
        .await
        .map_err(fail)?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .await
            .map_err(fail)?;
    }
    conn.command(Data).await.map_err(fail)?;
    if let Err(e) = at_point_of_no_return() {
        conn.abort().await;
        return Err(not_recorded(e));
    }
    conn.message(&body).await.map_err(fail)?;
    let _ = conn.quit().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_conversion_is_idempotent_and_leaves_crlf_alone() {
        assert_eq!(to_crlf("a\nb\r\nc\n\n"), "a\r\nb\r\nc\r\n\r\n");
        assert_eq!(to_crlf(&to_crlf("x\ny\n")), "x\r\ny\r\n");
        assert_eq!(to_crlf("é\nü"), "é\r\nü");
    }
}
