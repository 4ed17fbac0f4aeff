//! The tracking-parameter rules: `rules.toml` (one data file, grouped by vendor, each rule with
//! its reason and source) parsed once into lookup tables, plus the user's `[links]` additions.
//!
//! Lookups are by hash (exact names, host suffixes) so cleaning a link costs a few hash probes
//! per parameter, not a scan of every rule.

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

/// FNV-1a: parameter names and hosts are short, and SipHash's DoS resistance buys nothing for
/// a table built from our own rules; this is several times faster per lookup.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<Fnv>>;

use serde::Deserialize;

use crate::config::LinksConfig;

const RULES_TOML: &str = include_str!("rules.toml");

/// How strongly a parameter tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Tier {
    /// Identifies a click, a person or a message: always stripped.
    Identifier,
    /// Campaign attribution, the same for every reader: stripped unless the user opts out.
    Campaign,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    param: Vec<RawParamRule>,
    #[serde(default)]
    site: Vec<RawSiteRule>,
    #[serde(default)]
    redirect: Vec<RawRedirect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedirect {
    vendor: String,
    hosts: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    params: Vec<String>,
    #[serde(default)]
    base64: bool,
    #[serde(default)]
    path_url: bool,
    after: Option<String>,
    #[serde(default)]
    amp: bool,
    #[serde(default)]
    strip_after: Vec<String>,
    reason: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParamRule {
    vendor: String,
    tier: Tier,
    params: Vec<String>,
    reason: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSiteRule {
    vendor: String,
    hosts: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    strip: Vec<String>,
    #[serde(default)]
    keep: Vec<String>,
    keep_only: Option<Vec<String>>,
    #[serde(default)]
    drop_query: bool,
    #[serde(default)]
    drop_segments: Vec<String>,
    reason: String,
    source: String,
}

/// Where a rule came from, for `clean-url --explain`.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub vendor: String,
    pub reason: String,
    pub source: String,
}

impl std::fmt::Display for RuleInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} [{}]", self.vendor, self.reason, self.source)
    }
}

/// A set of parameter names: exact names in a hash set, `prefix*` patterns in a short list.
#[derive(Debug, Clone, Default)]
pub struct Names {
    exact: HashMap<String, ()>,
    prefixes: Vec<String>,
}

impl Names {
    pub fn from_list<S: AsRef<str>>(names: &[S]) -> Names {
        let mut n = Names::default();
        for s in names {
            n.add(s.as_ref());
        }
        n
    }

    fn add(&mut self, name: &str) {
        let name = name.trim().to_ascii_lowercase();
        match name.strip_suffix('*') {
            Some(prefix) => self.prefixes.push(prefix.to_string()),
            None => {
                self.exact.insert(name, ());
            }
        }
    }

    /// `name` must already be lowercase.
    pub fn contains(&self, name: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        self.exact.contains_key(name) || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }
}

/// Rules for one site, possibly limited to some paths.
#[derive(Debug, Clone)]
pub struct SiteRule {
    pub paths: Vec<String>,
    pub strip: Names,
    pub keep: Names,
    pub keep_only: Option<Names>,
    pub drop_query: bool,
    /// Path segments (globs) that are tracking, removed from the path.
    pub drop_segments: Vec<String>,
    pub info: usize,
}

impl SiteRule {
    pub fn applies_to(&self, path: &str) -> bool {
        self.paths.is_empty() || self.paths.iter().any(|g| glob_matches(g, path))
    }
}

/// Where a redirector keeps its destination.
#[derive(Debug, Clone)]
pub enum Take {
    /// In the first of these query parameters that is present (raw names, as sent).
    Param(Vec<String>),
    /// The first `http(s)://` (or `http(s)%3A`) inside the path, up to the URL's end.
    PathUrl,
    /// Everything after this marker in the path, up to the URL's end.
    After(String),
    /// An AMP viewer or cache: `/<kind>/s/<host>/<path>` for https, `/<kind>/<host>/…` for http.
    Amp,
}

/// One redirector of `rules.toml`: a host (and path) that carries its destination inside.
#[derive(Debug, Clone)]
pub struct Redirect {
    pub paths: Vec<String>,
    pub take: Take,
    /// The destination is base64 (any dialect) of the URL.
    pub base64: bool,
    /// Parameters the redirector adds to the destination, stripped after unwrapping it.
    pub strip_after: Vec<String>,
    pub info: usize,
}

/// Global parameter rules of one tier, each name pointing at its rule's info.
#[derive(Debug, Clone, Default)]
struct TierTable {
    exact: HashMap<String, usize>,
    prefixes: Vec<(String, usize)>,
}

impl TierTable {
    fn add(&mut self, name: &str, info: usize) {
        let name = name.trim().to_ascii_lowercase();
        match name.strip_suffix('*') {
            Some(p) => self.prefixes.push((p.to_string(), info)),
            None => {
                self.exact.entry(name).or_insert(info);
            }
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.exact.get(name) {
            return Some(*i);
        }
        self.prefixes
            .iter()
            .find(|(p, _)| name.starts_with(p.as_str()))
            .map(|(_, i)| *i)
    }
}

/// All parameter rules, compiled.
#[derive(Debug, Clone)]
pub struct RuleSet {
    identifiers: TierTable,
    campaign: TierTable,
    /// Host (without subdomains) → its site rules.
    sites: HashMap<String, Vec<SiteRule>>,
    /// Host (without subdomains) → its redirectors.
    redirects: HashMap<String, Vec<Redirect>>,
    infos: Vec<RuleInfo>,
}

/// Why the built-in rules failed to load (a bug in `rules.toml`, caught by the tests).
#[derive(Debug, thiserror::Error)]
#[error("built-in link rules: {0}")]
pub struct RulesError(String);

static BUILT_IN: LazyLock<RuleSet> =
    LazyLock::new(|| RuleSet::parse(RULES_TOML).expect("rules.toml is valid (tested)"));

impl RuleSet {
    /// The rules of `rules.toml`, parsed once per process.
    pub fn built_in() -> &'static RuleSet {
        &BUILT_IN
    }

    pub fn parse(text: &str) -> Result<RuleSet, RulesError> {
        let raw: RawRules = toml::from_str(text).map_err(|e| RulesError(e.to_string()))?;
        let mut set = RuleSet {
            identifiers: TierTable::default(),
            campaign: TierTable::default(),
            sites: HashMap::default(),
            redirects: HashMap::default(),
            infos: Vec::new(),
        };
        for r in raw.param {
            let info = set.push_info(r.vendor, r.reason, r.source);
            let table = match r.tier {
                Tier::Identifier => &mut set.identifiers,
                Tier::Campaign => &mut set.campaign,
            };
            for p in &r.params {
                table.add(p, info);
            }
        }
        for s in raw.site {
            if s.hosts.is_empty() {
                return Err(RulesError(format!("site rule `{}` has no hosts", s.vendor)));
            }
            let info = set.push_info(s.vendor, s.reason, s.source);
            let rule = SiteRule {
                paths: s.paths,
                strip: Names::from_list(&s.strip),
                keep: Names::from_list(&s.keep),
                keep_only: s.keep_only.as_deref().map(Names::from_list),
                drop_query: s.drop_query,
                drop_segments: s.drop_segments,
                info,
            };
            for h in &s.hosts {
                set.add_site(h, rule.clone());
            }
        }
        for r in raw.redirect {
            let take = match (r.params.is_empty(), r.path_url, r.after, r.amp) {
                (false, false, None, false) => Take::Param(r.params),
                (true, true, None, false) => Take::PathUrl,
                (true, false, Some(m), false) => Take::After(m),
                (true, false, None, true) => Take::Amp,
                _ => {
                    return Err(RulesError(format!(
                        "redirect `{}` needs exactly one of params, path_url, after, amp",
                        r.vendor
                    )))
                }
            };
            if r.hosts.is_empty() {
                return Err(RulesError(format!("redirect `{}` has no hosts", r.vendor)));
            }
            let info = set.push_info(r.vendor, r.reason, r.source);
            let rule = Redirect {
                paths: r.paths,
                take,
                base64: r.base64,
                strip_after: r
                    .strip_after
                    .iter()
                    .map(|n| n.to_ascii_lowercase())
                    .collect(),
                info,
            };
            for h in &r.hosts {
                let h = h.trim().trim_start_matches("*.").to_ascii_lowercase();
                set.redirects.entry(h).or_default().push(rule.clone());
            }
        }
        Ok(set)
    }

    /// The redirectors for `host` (lowercase) and its parent domains that apply to `path`.
    pub fn redirects_for<'a, 'b>(
        &'a self,
        host: &'b str,
        path: &'b str,
    ) -> impl Iterator<Item = &'a Redirect> + use<'a, 'b> {
        host_suffixes(host)
            .filter_map(|h| self.redirects.get(h))
            .flatten()
            .filter(move |r| r.paths.is_empty() || r.paths.iter().any(|g| glob_matches(g, path)))
    }

    fn push_info(&mut self, vendor: String, reason: String, source: String) -> usize {
        self.infos.push(RuleInfo {
            vendor,
            reason,
            source,
        });
        self.infos.len() - 1
    }

    fn add_site(&mut self, host: &str, rule: SiteRule) {
        let host = host.trim().trim_start_matches("*.").to_ascii_lowercase();
        self.sites.entry(host).or_default().push(rule);
    }

    /// Adds the user's `[links]` rules on top: global strips are identifiers (the user asked
    /// for them), global keeps become an exception on every host, host tables become site rules.
    pub fn with_user(&self, cfg: &LinksConfig) -> RuleSet {
        let mut set = self.clone();
        if !cfg.strip.is_empty() {
            let info = set.push_info(
                "config".into(),
                "[links] strip".into(),
                "your config".into(),
            );
            for p in &cfg.strip {
                set.identifiers.exact.remove(&p.to_ascii_lowercase());
                set.identifiers.add(p, info);
            }
        }
        for (host, h) in &cfg.hosts {
            let info = set.push_info(
                format!("config: [links.hosts.\"{host}\"]"),
                "your per-host rule".into(),
                "your config".into(),
            );
            set.add_site(
                host,
                SiteRule {
                    paths: h.paths.clone(),
                    strip: Names::from_list(&h.strip),
                    keep: Names::from_list(&h.keep),
                    keep_only: h.keep_only.as_deref().map(Names::from_list),
                    drop_query: h.drop_query,
                    drop_segments: Vec::new(),
                    info,
                },
            );
        }
        set
    }

    pub fn info(&self, i: usize) -> &RuleInfo {
        &self.infos[i]
    }

    /// The global rule for `name` (lowercase) in the tiers asked for.
    pub fn global(&self, name: &str, campaign_too: bool) -> Option<usize> {
        self.identifiers.find(name).or_else(|| {
            if campaign_too {
                self.campaign.find(name)
            } else {
                None
            }
        })
    }

    /// Every site rule for `host` (lowercase) and its parent domains that applies to `path`.
    pub fn sites_for<'a>(
        &'a self,
        host: &'a str,
        path: &'a str,
    ) -> impl Iterator<Item = &'a SiteRule> {
        host_suffixes(host)
            .filter_map(|h| self.sites.get(h))
            .flatten()
            .filter(move |r| r.applies_to(path))
    }

    /// The number of rules, for tests and `--explain`.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }
}

/// `a.b.example.com`, `b.example.com`, `example.com` (not the bare TLD).
pub(crate) fn host_suffixes(host: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(host);
    std::iter::from_fn(move || {
        let h = rest?;
        rest = h
            .split_once('.')
            .map(|(_, r)| r)
            .filter(|r| r.contains('.'));
        Some(h)
    })
}

/// A glob where `*` matches any run of characters (including `/`).
pub(crate) fn glob_matches(glob: &str, text: &str) -> bool {
    let mut parts = glob.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_parse_and_every_rule_says_why() {
        let set = RuleSet::parse(RULES_TOML).unwrap();
        assert!(set.len() > 20);
        for info in &set.infos {
            assert!(!info.reason.trim().is_empty(), "{}", info.vendor);
            assert!(!info.source.trim().is_empty(), "{}", info.vendor);
        }
    }

    #[test]
    fn globs_and_suffixes() {
        assert!(glob_matches("*/article/*", "/news/china/article/317/x"));
        assert!(!glob_matches("*/article/*", "/news/china"));
        assert!(glob_matches("/a", "/a"));
        assert!(!glob_matches("/a", "/ab"));
        assert!(glob_matches("/a*", "/ab"));
        let s: Vec<&str> = host_suffixes("a.b.example.com").collect();
        assert_eq!(s, ["a.b.example.com", "b.example.com", "example.com"]);
        assert_eq!(
            host_suffixes("localhost").collect::<Vec<_>>(),
            ["localhost"]
        );
    }

    #[test]
    fn tiers() {
        let set = RuleSet::built_in();
        assert!(set.global("fbclid", false).is_some());
        assert!(set.global("utm_source", false).is_none());
        assert!(set.global("utm_source", true).is_some());
        assert!(set.global("page", true).is_none());
    }
}
