//! HTTP fetching for feeds: one client, both concurrency limits, a deadline and a size cap on
//! every request, conditional GET.

use std::time::{Duration, Instant};

use crate::config::FetchConfig;
use crate::limits::HostLimits;

pub const USER_AGENT: &str = concat!(
    "tidings/",
    env!("CARGO_PKG_VERSION"),
    " (feed digest; +https://github.com/tidings-rs/tidings)"
);
const MAX_REDIRECTS: usize = 5;

/// Stored conditional-GET validators of one feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug)]
pub enum Fetched {
    Body {
        /// Set when every redirect on the way was permanent (301/308): the feed has moved.
        moved_to: Option<url::Url>,
        bytes: Vec<u8>,
        validators: Validators,
        /// Where the body was read from and what the server said it is (boxed: the
        /// variant would otherwise be several times `NotModified`'s size).
        origin: Box<crate::sources::feed::Origin>,
    },
    NotModified,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("connection refused by {0}")]
    Refused(String),
    #[error("TLS with {host} failed: {why}")]
    Tls { host: String, why: String },
    #[error("cannot connect to {host}: {why}")]
    Connect { host: String, why: String },
    #[error("the response is larger than {0} bytes")]
    TooLarge(u64),
    #[error("rate limited (HTTP 429){}", .0.map(|d| format!("; the server asks to wait {}s", d.as_secs())).unwrap_or_default())]
    RateLimited(Option<Duration>),
    #[error("gone (HTTP 410): the publisher removed this feed")]
    Gone,
    #[error("too many redirects (more than {MAX_REDIRECTS})")]
    TooManyRedirects,
    #[error("{0}")]
    Transport(String),
}

pub struct Fetcher {
    client: reqwest::Client,
    cfg: FetchConfig,
    /// Downloads in flight: `concurrency` in all, `per_host` to one host.
    limits: HostLimits,
}

impl Fetcher {
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            // Redirects are followed by hand, to tell a permanent move from a temporary one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Transport(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            cfg: cfg.clone(),
            limits: HostLimits::new(cfg.concurrency, cfg.per_host),
        })
    }

    pub fn max_bytes(&self) -> u64 {
        self.cfg.max_bytes
    }

    pub fn concurrency(&self) -> usize {
        self.cfg.concurrency
    }

    /// GETs `url`, sending the stored validators back, within both concurrency limits, the
    /// deadline and the size cap.
    ///
    /// The permits ([`HostLimits::acquire`]) are given back once the body is read, so the
    /// caller's parsing never holds a download slot.
    pub async fn fetch(
        &self,
        url: &url::Url,
        validators: &Validators,
    ) -> Result<Fetched, FetchError> {
        let _permits = self
            .limits
            .acquire(url.host_str().unwrap_or(""))
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let started = Instant::now();
        // The whole exchange, body included, is under one deadline: a server trickling one byte a
        // second must not hold the run for ever.
        let result =
            tokio::time::timeout(self.cfg.timeout, self.fetch_inner(url, validators)).await;
        let result = result.unwrap_or(Err(FetchError::Timeout(self.cfg.timeout)));
        tracing::debug!(url = %url, elapsed_ms = started.elapsed().as_millis() as u64, ok = result.is_ok(), "fetched");
        result
    }

    async fn fetch_inner(
        &self,
        url: &url::Url,
        validators: &Validators,
    ) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut all_permanent = true;
        let mut hops = 0;
        let mut resp = loop {
            let mut req = self.client.get(current.clone());
            if let Some(etag) = &validators.etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
            let resp = req.send().await.map_err(|e| self.map_err(e))?;
            if !resp.status().is_redirection() || resp.status() == reqwest::StatusCode::NOT_MODIFIED
            {
                break resp;
            }
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(FetchError::TooManyRedirects);
            }
            all_permanent &= matches!(resp.status().as_u16(), 301 | 308);
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let Some(next) = location.and_then(|l| current.join(l).ok()) else {
                return Err(FetchError::Transport(format!(
                    "HTTP {} without a usable Location",
                    resp.status()
                )));
            };
            if !matches!(next.scheme(), "http" | "https") {
                return Err(FetchError::Transport(format!(
                    "redirect to a non-HTTP URL `{next}`"
                )));
            }
            current = next;
        };
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            return Err(FetchError::RateLimited(wait));
        }
        if status == reqwest::StatusCode::GONE {
            return Err(FetchError::Gone);
        }
        if !status.is_success() {
            return Err(FetchError::Status(status));
        }
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let new_validators = Validators {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
        };
        let origin = Box::new(crate::sources::feed::Origin {
            url: Some(current.clone()),
            content_type: header(reqwest::header::CONTENT_TYPE),
            content_location: header(reqwest::header::CONTENT_LOCATION),
        });
        let max = self.cfg.max_bytes;
        if resp.content_length().is_some_and(|len| len > max) {
            return Err(FetchError::TooLarge(max));
        }
        // Read chunk by chunk so the cap bounds memory, whatever Content-Length claimed. The
        // decompressed size is what counts, which also defuses gzip bombs.
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.map_err(e))? {
            if bytes.len() as u64 + chunk.len() as u64 > max {
                return Err(FetchError::TooLarge(max));
            }
            bytes.extend_from_slice(&chunk);
        }
        let moved_to = (hops > 0 && all_permanent).then_some(current);
        Ok(Fetched::Body {
            bytes,
            validators: new_validators,
            moved_to,
            origin,
        })
    }

    fn map_err(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.cfg.timeout)
        } else if let Some(status) = e.status() {
            FetchError::Status(status)
        } else {
            let plain = plain_transport_error(&e);
            // The whole chain is for `-v`; the digest and the default stderr get one sentence.
            tracing::info!(error = %error_chain(&e), "request failed");
            plain
        }
    }
}

/// One sentence for a failed request: the host, and what went wrong in words a reader knows
/// (reqwest's own text is "error sending request for url (…): client error (Connect): …").
fn plain_transport_error(e: &reqwest::Error) -> FetchError {
    let host = e
        .url()
        .and_then(|u| u.host_str())
        .unwrap_or("the server")
        .to_string();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut innermost = e.to_string();
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            let why = match tls {
                rustls::Error::InvalidCertificate(c) => match c {
                    rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. } => {
                        "its certificate is not valid for this host name".to_string()
                    }
                    rustls::CertificateError::UnknownIssuer => {
                        "its certificate is issued by an unknown authority".to_string()
                    }
                    rustls::CertificateError::Expired
                    | rustls::CertificateError::ExpiredContext { .. } => {
                        "its certificate has expired".to_string()
                    }
                    other => format!("its certificate is not accepted ({other:?})"),
                },
                other => other.to_string(),
            };
            return FetchError::Tls { host, why };
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return FetchError::Refused(host),
                std::io::ErrorKind::TimedOut => {
                    return FetchError::Connect {
                        host,
                        why: "the connection timed out".into(),
                    }
                }
                _ => {}
            }
        }
        let text = err.to_string();
        if text.starts_with("dns error") || text.contains("failed to lookup address") {
            return FetchError::Resolve(host);
        }
        if text.contains("tls handshake eof") {
            return FetchError::Tls {
                host,
                why: "the server ended the handshake (does it speak HTTPS on this port?)".into(),
            };
        }
        innermost = text;
        cur = err.source();
    }
    if e.is_connect() {
        FetchError::Connect {
            host,
            why: innermost,
        }
    } else {
        FetchError::Transport(innermost)
    }
}

/// `Retry-After` is either seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// "outer: inner: innermost", without repeating a message a wrapper already includes.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let part = s.to_string();
        if !msg.contains(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
        cur = s.source();
    }
    msg
}
