//! A loader for ClearURLs-format rule files (`data.min.json`): `{"providers": {name: {urlPattern,
//! completeProvider, rules, referralMarketing, rawRules, exceptions, redirections}}}`.
//!
//! Semantics follow the ClearURLs add-on: a provider applies when its `urlPattern` matches the
//! whole URL and none of its `exceptions` do; `redirections` capture the destination in group 1;
//! `rawRules` are cut out of the URL; `rules` and `referralMarketing` are regexes matched
//! case-insensitively against each whole parameter name. Patterns are compiled once, at load.

use std::path::Path;

use regex::{Regex, RegexSet};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ClearUrlsError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("not a ClearURLs rules file: {0}")]
    Format(String),
    #[error("provider `{provider}`: bad pattern `{pattern}`: {message}")]
    Pattern {
        provider: String,
        pattern: String,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
struct RawFile {
    providers: std::collections::BTreeMap<String, RawProvider>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProvider {
    url_pattern: String,
    #[serde(default)]
    complete_provider: bool,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    referral_marketing: Vec<String>,
    #[serde(default)]
    raw_rules: Vec<String>,
    #[serde(default)]
    exceptions: Vec<String>,
    #[serde(default)]
    redirections: Vec<String>,
}

#[derive(Debug)]
pub struct Provider {
    pub name: String,
    complete: bool,
    exceptions: Option<RegexSet>,
    redirections: Vec<Regex>,
    raw_rules: Vec<Regex>,
    params: Option<Regex>,
}

/// A loaded ClearURLs rules file.
#[derive(Debug)]
pub struct ClearUrls {
    patterns: RegexSet,
    providers: Vec<Provider>,
}

/// What ClearURLs' rules do to one URL, for the measurement and for `clean-url`.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Cleaned(String),
    /// A `completeProvider` matched: ClearURLs blocks the whole request.
    Blocked,
}

const MAX_REDIRECTIONS: usize = 5;

impl ClearUrls {
    pub fn load(path: &Path) -> Result<ClearUrls, ClearUrlsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClearUrlsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        ClearUrls::parse(&text)
    }

    pub fn parse(text: &str) -> Result<ClearUrls, ClearUrlsError> {
        let raw: RawFile =
            serde_json::from_str(text).map_err(|e| ClearUrlsError::Format(e.to_string()))?;
        let mut patterns = Vec::new();
        let mut providers = Vec::new();
        for (name, p) in raw.providers {
            let bad = |pattern: &str, e: regex::Error| ClearUrlsError::Pattern {
                provider: name.clone(),
                pattern: pattern.to_string(),
                message: e.to_string(),
            };
            let ci = |s: &str| format!("(?i){s}");
            Regex::new(&ci(&p.url_pattern)).map_err(|e| bad(&p.url_pattern, e))?;
            patterns.push(ci(&p.url_pattern));
            let exceptions = if p.exceptions.is_empty() {
                None
            } else {
                Some(
                    RegexSet::new(p.exceptions.iter().map(|e| ci(e)))
                        .map_err(|e| bad(&p.exceptions.join(" | "), e))?,
                )
            };
            let compile_all = |list: &[String]| -> Result<Vec<Regex>, ClearUrlsError> {
                list.iter()
                    .map(|r| Regex::new(&ci(r)).map_err(|e| bad(r, e)))
                    .collect()
            };
            let names: Vec<&String> = p.rules.iter().chain(&p.referral_marketing).collect();
            let params = if names.is_empty() {
                None
            } else {
                let alt = names
                    .iter()
                    .map(|r| format!("(?:{r})"))
                    .collect::<Vec<_>>()
                    .join("|");
                Some(Regex::new(&format!("(?i)^(?:{alt})$")).map_err(|e| bad(&alt, e))?)
            };
            providers.push(Provider {
                complete: p.complete_provider,
                exceptions,
                redirections: compile_all(&p.redirections)?,
                raw_rules: compile_all(&p.raw_rules)?,
                params,
                name,
            });
        }
        let patterns = RegexSet::new(&patterns).map_err(|e| ClearUrlsError::Pattern {
            provider: "(all)".into(),
            pattern: "urlPattern".into(),
            message: e.to_string(),
        })?;
        Ok(ClearUrls {
            patterns,
            providers,
        })
    }

    pub fn len(&self) -> usize {
        self.providers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The providers that apply to `url`.
    pub fn matching(&self, url: &str) -> Vec<&Provider> {
        self.patterns
            .matches(url)
            .iter()
            .map(|i| &self.providers[i])
            .filter(|p| !p.exceptions.as_ref().is_some_and(|e| e.is_match(url)))
            .collect()
    }

    /// The destination a redirection rule finds in `url`, percent-decoded.
    pub fn redirect(&self, url: &str) -> Option<(String, &str)> {
        for p in self.matching(url) {
            for r in &p.redirections {
                if let Some(m) = r.captures(url).and_then(|c| c.get(1)) {
                    let dest = percent_encoding::percent_decode_str(m.as_str())
                        .decode_utf8_lossy()
                        .into_owned();
                    return Some((dest, &p.name));
                }
            }
        }
        None
    }

    /// `url` with every rawRule of the providers that apply cut out.
    pub fn apply_raw_rules(&self, url: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for p in self.matching(url) {
            for r in &p.raw_rules {
                let cur = out.as_deref().unwrap_or(url);
                if r.is_match(cur) {
                    out = Some(r.replace_all(cur, "").into_owned());
                }
            }
        }
        out
    }

    /// The ClearURLs add-on's own result for `url`: redirections, rawRules, then parameter
    /// rules over the query and the fragment. Kept parameters keep their bytes.
    pub fn clean(&self, url: &str) -> Outcome {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Outcome::Cleaned(url.to_string());
        }
        let mut current = url.to_string();
        for _ in 0..MAX_REDIRECTIONS {
            if self.matching(&current).iter().any(|p| p.complete) {
                return Outcome::Blocked;
            }
            match self.redirect(&current) {
                Some((dest, _)) if dest != current => {
                    // ClearURLs prepends http:// when the capture has no scheme.
                    current = if dest.contains("://") {
                        dest
                    } else {
                        format!("http://{dest}")
                    };
                }
                _ => break,
            }
        }
        if let Some(r) = self.apply_raw_rules(&current) {
            current = r;
        }
        let providers = self.matching(&current);
        let strip = |name: &str| {
            providers
                .iter()
                .any(|p| p.params.as_ref().is_some_and(|re| re.is_match(name)))
        };
        Outcome::Cleaned(super::edit_params(&current, strip))
    }

    /// Whether a provider applying to `url` strips parameter `name`; the provider's name.
    pub fn strips<'a>(&'a self, providers: &[&'a Provider], name: &str) -> Option<&'a str> {
        providers
            .iter()
            .find(|p| p.params.as_ref().is_some_and(|re| re.is_match(name)))
            .map(|p| p.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"{"providers":{
        "globalRules":{"urlPattern":".*","rules":["utm(?:_[a-z_]*)?"],"exceptions":["^https?:\\/\\/(?:[a-z0-9-]+\\.)*?github\\.com"]},
        "google":{"urlPattern":"^https?:\\/\\/(?:[a-z0-9-]+\\.)*?google(?:\\.[a-z]{2,}){1,}","rules":["ved"],
                  "redirections":["^https?:\\/\\/(?:[a-z0-9-]+\\.)*?google(?:\\.[a-z]{2,}){1,}\\/url\\?.*?(?:url|q)=(https?[^&]+)"]},
        "amazon":{"urlPattern":"^https?:\\/\\/(?:[a-z0-9-]+\\.)*?amazon(?:\\.[a-z]{2,}){1,}","rawRules":["\\/ref=[^/?]*"]},
        "doubleclick":{"urlPattern":"^https?:\\/\\/ad\\.doubleclick\\.net","completeProvider":true}
    }}"#;

    #[test]
    fn the_clearurls_semantics() {
        let c = ClearUrls::parse(MINI).unwrap();
        let clean = |u: &str| match c.clean(u) {
            Outcome::Cleaned(s) => s,
            Outcome::Blocked => "BLOCKED".into(),
        };
        assert_eq!(
            clean("https://e.org/?UTM_source=1&a=1,2"),
            "https://e.org/?a=1,2"
        );
        assert_eq!(
            clean("https://github.com/x?utm_source=1"),
            "https://github.com/x?utm_source=1"
        );
        assert_eq!(
            clean("https://www.google.com/url?q=https%3A%2F%2Fe.org%2F&ved=1"),
            "https://e.org/"
        );
        assert_eq!(
            clean("https://www.amazon.com/gp/B08/ref=as_li"),
            "https://www.amazon.com/gp/B08"
        );
        assert_eq!(clean("https://ad.doubleclick.net/x"), "BLOCKED");
    }

    #[test]
    fn a_bad_file_is_a_clear_error() {
        assert!(matches!(
            ClearUrls::parse("{}"),
            Err(ClearUrlsError::Format(_))
        ));
        let bad = r#"{"providers":{"x":{"urlPattern":"(("}}}"#;
        let e = ClearUrls::parse(bad).unwrap_err().to_string();
        assert!(e.contains("provider `x`"), "{e}");
    }
}
