//! Opt-in resolution of opaque click-trackers (`[links] resolve_redirects = true`).
//!
//! Follows `Location` hop by hop (HEAD, then GET without reading the body), cleaning after
//! every hop, at most `max_hops` hops, each with a short deadline, a few requests per host at
//! once, no cookies. Never follows an unsubscribe/login link (resolving is a click), and never
//! connects to loopback, private, link-local or metadata addresses: the resolved IPs are checked
//! in the DNS step, and IP-literal hosts before any connection, unless `allow_private_targets`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::privacy::{self, Verdict};
use super::Cleaner;
use crate::config::LinksConfig;
use crate::limits::HostLimits;

/// Trackers resolved at once across all hosts.
pub const RESOLVE_CONCURRENCY: usize = 8;
/// Trackers resolved at once on one host.
pub const RESOLVE_PER_HOST: usize = 2;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error("refusing to follow `{0}`: {1}")]
    Refused(String, &'static str),
    #[error("redirect loop at `{0}`")]
    Loop(String),
    #[error("more than {0} redirects")]
    TooManyHops(usize),
    #[error("request to `{0}` failed: {1}")]
    Http(String, String),
    #[error("`{0}` did not redirect")]
    NoRedirect(String),
}

pub struct Resolver {
    client: reqwest::Client,
    max_hops: usize,
    allow_private: bool,
    limits: HostLimits,
}

/// Looks names up, then drops every address tidings must not connect to.
struct GuardedDns {
    allow_private: bool,
}

impl Resolve for GuardedDns {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                let msg = format!("`{host}` resolves only to private or local addresses");
                return Err(msg.into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Not loopback, private, link-local, CGNAT, unique-local, multicast, unspecified or a cloud
/// metadata address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0xfd00 && s[1] == 0x0ec2)
        }
    }
}

impl Resolver {
    pub fn new(cfg: &LinksConfig) -> Result<Resolver, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(cfg.resolve_timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(cfg.resolve_timeout))
            .user_agent(concat!(
                "tidings/",
                env!("CARGO_PKG_VERSION"),
                " (link resolver)"
            ))
            .dns_resolver(Arc::new(GuardedDns {
                allow_private: cfg.allow_private_targets,
            }))
            .build()?;
        Ok(Resolver {
            client,
            max_hops: cfg.max_hops,
            allow_private: cfg.allow_private_targets,
            limits: HostLimits::new(RESOLVE_CONCURRENCY, RESOLVE_PER_HOST),
        })
    }

    /// Follows `link` to a publishable destination, cleaning after every hop.
    pub async fn resolve(&self, cleaner: &Cleaner, link: &str) -> Result<String, ResolveError> {
        let mut current = cleaner.clean(link);
        let mut seen = vec![current.clone()];
        for _ in 0..self.max_hops {
            if let Verdict::Drop(why) = privacy::assess(&current) {
                return Err(ResolveError::Refused(current, why));
            }
            let next = self.hop(&current).await?;
            let next = cleaner.clean(&next);
            if seen.contains(&next) {
                return Err(ResolveError::Loop(next));
            }
            seen.push(next.clone());
            match privacy::assess(&next) {
                Verdict::Publish => return Ok(next),
                Verdict::Drop(why) => return Err(ResolveError::Refused(next, why)),
                Verdict::Resolve(_) => current = next,
            }
        }
        Err(ResolveError::TooManyHops(self.max_hops))
    }

    /// One request: the absolute `Location` the server answers with.
    async fn hop(&self, link: &str) -> Result<String, ResolveError> {
        let url =
            Url::parse(link).map_err(|e| ResolveError::Http(link.to_string(), e.to_string()))?;
        let host = url.host_str().unwrap_or("").to_string();
        if !self.allow_private {
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            let private_literal = literal.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip));
            if private_literal || host == "localhost" || host.ends_with(".localhost") {
                return Err(ResolveError::Refused(link.to_string(), "a private address"));
            }
        }
        let _permits = self
            .limits
            .acquire(&host)
            .await
            .map_err(|e| ResolveError::Http(link.to_string(), e.to_string()))?;
        let started = std::time::Instant::now();
        let err = |e: reqwest::Error| ResolveError::Http(link.to_string(), e.to_string());
        let mut resp = self.client.head(url.clone()).send().await.map_err(err)?;
        if matches!(resp.status().as_u16(), 405 | 501 | 403 | 404) {
            // Some trackers only answer GET; the body is never read.
            resp = self.client.get(url.clone()).send().await.map_err(err)?;
        }
        tracing::debug!(url = %link, status = resp.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "resolve hop");
        if !resp.status().is_redirection() {
            return Err(ResolveError::NoRedirect(link.to_string()));
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ResolveError::NoRedirect(link.to_string()))?;
        let next = url
            .join(location)
            .map_err(|e| ResolveError::Http(link.to_string(), e.to_string()))?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(ResolveError::Refused(
                next.to_string(),
                "not an http(s) URL",
            ));
        }
        Ok(next.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
