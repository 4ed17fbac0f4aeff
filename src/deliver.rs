//! Delivery: one MIME message to every recipient, through SMTP or a local sendmail.

use chrono::{DateTime, Utc};
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest as _, Sha256};

use crate::config::{DeliveryConfig, Security, SmtpConfig, Transport};
use crate::render::Rendered;
use crate::sources::http::error_chain;

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("SMTP password: {0}")]
    Secret(String),
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

/// A unique Message-ID in the sender's domain: time, process and content make it unique.
fn message_id(from: &Mailbox, now: DateTime<Utc>, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(now.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
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
        .from(from)
        .subject(subject)
        .date(now.into())
        .message_id(Some(id.clone()))
        .header(AutoSubmitted);
    for to in &cfg.to {
        builder = builder.to(to.parse().map_err(|_| DeliverError::Address(to.clone()))?);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(header::ContentType::TEXT_PLAIN)
                .body(rendered.text.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(header::ContentType::TEXT_HTML)
                .body(rendered.html.clone()),
        );
    let message = builder
        .multipart(body)
        .map_err(|e| DeliverError::Build(e.to_string()))?;
    Ok(Outgoing {
        message,
        message_id: id,
    })
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

/// Sends the message. Returns only once the server accepted it.
pub async fn send(cfg: &DeliveryConfig, out: &Outgoing) -> Result<(), DeliverError> {
    match &cfg.transport {
        Transport::Smtp(smtp) => send_smtp(smtp, out).await,
        Transport::Sendmail { command } => {
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

pub fn smtp_transport(
    smtp: &SmtpConfig,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliverError> {
    let tls_params = || -> Result<TlsParameters, DeliverError> {
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
    };
    let tls = match smtp.security {
        Security::StartTls => Tls::Required(tls_params()?),
        Security::Tls => Tls::Wrapper(tls_params()?),
        Security::None => Tls::None,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(smtp.timeout));
    if let Some(user) = &smtp.username {
        let password = match &smtp.password {
            Some(src) => src.read().map_err(DeliverError::Secret)?,
            None => {
                return Err(DeliverError::Secret(
                    "[smtp] username is set but neither password_env nor password_command is"
                        .into(),
                ))
            }
        };
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    Ok(b.build())
}

async fn send_smtp(smtp: &SmtpConfig, out: &Outgoing) -> Result<(), DeliverError> {
    let transport = smtp_transport(smtp)?;
    transport
        .send(out.message.clone())
        .await
        .map(|_| ())
        .map_err(|e| DeliverError::Smtp {
            host: smtp.host.clone(),
            port: smtp.port,
            message: error_chain(&e),
        })
}
