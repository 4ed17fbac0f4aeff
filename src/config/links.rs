//! `[links]` and `[fetch]`: link cleaning and resolving, and how feeds are fetched.

use std::time::Duration;

use super::diagnostics::ConfigError;
use super::raw::RawLinks;
use super::Resolver;

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

impl Resolver<'_> {
    pub(super) fn links(&self, raw: &RawLinks) -> Result<LinksConfig, ConfigError> {
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
}
