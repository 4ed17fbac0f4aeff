//! Link cleaning: unwraps click-trackers, removes tracking parameters, changes nothing else, and
//! says whether what is left may be published.
//!
//! 1. [`unwrap`] decodes, offline, every click-tracker that carries its destination inside the
//!    URL (Google, Safe Links, Proofpoint, Substack, Kit, Mailgun, SES, …), in a bounded loop
//!    with cycle detection; a result that is not an absolute http(s) URL is rejected.
//! 2. The query (and a `k=v&k=v` fragment) is edited on the URL's own bytes, never
//!    re-serialized, so a link with nothing to remove comes out byte-identical and kept
//!    parameters keep their encoding and order. Rules come from [`rules`] (`rules.toml`: tiers,
//!    sites, exceptions), the user's `[links]` table and an optional [`clearurls`] file.
//!    Signed URLs are never edited.
//! 3. [`privacy`] decides whether the result is publishable: an opaque tracker or a link that
//!    still carries an address, a subscriber id or a login token is not.
//! 4. [`resolve`] (opt-in) follows opaque trackers over HTTP, hop by hop, refusing private
//!    addresses and never following unsubscribe or login links.

pub mod clearurls;
pub(crate) mod privacy;
pub mod publish;
pub mod resolve;
pub(crate) mod rules;
pub mod unwrap;

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use url::Url;

use crate::config::LinksConfig;
pub use privacy::Verdict;
use rules::{Names, RuleSet, SiteRule};

/// Parameters whose presence marks a signed URL: editing it would break the signature.
const SIGNATURE_PARAMS: &[&str] = &[
    "x-amz-signature",
    "signature",
    "x-goog-signature",
    "sig",
    "hmac",
];

/// Nested wrappers unwrapped at most this deep.
const MAX_UNWRAP_DEPTH: usize = 5;

/// Sites that answer on a bare domain by redirecting to `www.`: an unwrapped link (which is
/// rebuilt anyway) is written with the host the site itself uses.
const CANONICAL_HOSTS: &[(&str, &str)] = &[
    ("facebook.com", "www.facebook.com"),
    ("tumblr.com", "www.tumblr.com"),
];

/// Which rule removed a parameter, cheap to pass around; described only for `--explain`.
#[derive(Debug, Clone, Copy)]
enum RuleRef<'a> {
    Rule(usize),
    Wrapper,
    ClearUrls(&'a str),
    /// `<prefix>_source`, `_medium`, … seen together: a campaign-tag family no list names.
    Family,
    /// A subscriber id, login token or address (see [`privacy`]).
    Personal,
}

/// The suffixes of a campaign-tag family (`utm_source`, `lmd_medium`, `stm_campaign` …).
const FAMILY_SUFFIXES: &[&str] = &["source", "medium", "campaign", "content", "term"];

/// Entity-encoded `&` that feeds leave in links (`?a=1&#038;b=2`): the `#` would start a
/// fragment, so the separators are decoded before anything else.
const ENTITY_AMPERSANDS: &[&str] = &["&#038;", "&#38;", "&#x26;", "&amp;"];

/// What was removed and which rule removed it (for `clean-url --explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub param: String,
    pub rule: String,
}

static BUILT_IN: LazyLock<Arc<RuleSet>> = LazyLock::new(|| Arc::new(RuleSet::built_in().clone()));

/// The link cleaner: built-in rules plus the user's `[links]` additions.
#[derive(Debug, Clone)]
pub struct Cleaner {
    rules: Arc<RuleSet>,
    keep: Arc<Names>,
    campaign_tags: bool,
    clearurls: Option<Arc<clearurls::ClearUrls>>,
}

impl Default for Cleaner {
    fn default() -> Self {
        Cleaner::new(&LinksConfig::default())
    }
}

/// Collects removals only when someone asked why.
struct Log<'a>(Option<&'a mut Vec<Removal>>);

impl Log<'_> {
    fn push(&mut self, param: impl FnOnce() -> String, rule: impl FnOnce() -> String) {
        if let Some(v) = self.0.as_deref_mut() {
            v.push(Removal {
                param: param(),
                rule: rule(),
            });
        }
    }
}

impl Cleaner {
    pub fn new(cfg: &LinksConfig) -> Cleaner {
        let rules = if cfg.strip.is_empty() && cfg.hosts.is_empty() {
            BUILT_IN.clone()
        } else {
            Arc::new(RuleSet::built_in().with_user(cfg))
        };
        Cleaner {
            rules,
            keep: Arc::new(Names::from_list(&cfg.keep)),
            campaign_tags: cfg.campaign_tags,
            clearurls: cfg.clearurls.clone(),
        }
    }

    /// A cleaner with only ClearURLs' rules (no built-in rules, no unwrapping of our own):
    /// the baseline the measurement compares against.
    pub fn clearurls_only(c: Arc<clearurls::ClearUrls>) -> impl Fn(&str) -> Option<String> {
        move |u| match c.clean(u) {
            clearurls::Outcome::Cleaned(s) => Some(s),
            clearurls::Outcome::Blocked => None,
        }
    }

    /// Cleans one link. Anything that is not an absolute http(s) URL is returned unchanged.
    pub fn clean(&self, link: &str) -> String {
        self.clean_with(link, Log(None))
    }

    /// Cleans one link and says what was removed by which rule.
    pub fn clean_explained(&self, link: &str) -> (String, Vec<Removal>) {
        let mut why = Vec::new();
        let out = self.clean_with(link, Log(Some(&mut why)));
        (out, why)
    }

    /// Whether `link`, once cleaned, may appear in a digest (see [`privacy`]).
    pub fn assess(&self, cleaned: &str) -> Verdict {
        privacy::assess(cleaned)
    }

    /// The cleaned link if it is publishable, `None` if it must not be published as is.
    pub fn publishable(&self, link: &str) -> Option<String> {
        let cleaned = self.clean(link);
        matches!(self.assess(&cleaned), Verdict::Publish).then_some(cleaned)
    }

    fn clean_with(&self, link: &str, mut log: Log<'_>) -> String {
        // A URL parser drops tabs and line breaks inside a link (mail wraps long `href`s);
        // so must whatever is published when nothing else changes.
        let unbroken;
        let link = if link.contains(['\t', '\r', '\n']) {
            unbroken = link.replace(['\t', '\r', '\n'], "");
            unbroken.as_str()
        } else {
            link
        };
        if !unwrap::has_http_scheme(link) {
            return link.to_string();
        }
        let decoded;
        let link = if ENTITY_AMPERSANDS.iter().any(|e| link.contains(e)) {
            decoded = ENTITY_AMPERSANDS
                .iter()
                .fold(link.to_string(), |l, e| l.replace(e, "&"));
            log.push(|| "(&#038;)".into(), || "entity-encoded `&` decoded".into());
            decoded.as_str()
        } else {
            link
        };
        let Ok(parsed) = Url::parse(link) else {
            return link.to_string();
        };
        self.clean_parsed(link, parsed, log)
    }

    /// [`Cleaner::clean`] for a link already parsed (a feed's links are, to resolve them
    /// against the document): the same result without parsing it again.
    pub fn clean_url(&self, url: &Url) -> String {
        let link = url.as_str();
        if !unwrap::has_http_scheme(link) || ENTITY_AMPERSANDS.iter().any(|e| link.contains(e)) {
            return self.clean(link);
        }
        self.clean_parsed(link, url.clone(), Log(None))
    }

    /// The cleaning after the link was parsed into `parsed`.
    fn clean_parsed(&self, link: &str, mut parsed: Url, mut log: Log<'_>) -> String {
        let mut current: Cow<'_, str> = Cow::Borrowed(link);
        let mut seen: Vec<String> = Vec::new();
        let mut extra: Vec<&str> = Vec::new();
        for _ in 0..MAX_UNWRAP_DEPTH {
            let found = unwrap::unwrap(&parsed, &self.rules)
                .map(|u| (u.destination, u.service.to_string(), u.strip_after));
            let found = found.or_else(|| {
                let c = self.clearurls.as_ref()?;
                c.redirect(&current)
                    .map(|(d, p)| (d, format!("ClearURLs redirection `{p}`"), &[][..]))
            });
            let Some((dest, service, strip_after)) = found else {
                break;
            };
            let Some((dest, dest_parsed)) = accept_destination(dest.trim()) else {
                break;
            };
            if dest == current || seen.contains(&dest) {
                break;
            }
            extra.extend_from_slice(unwrap::strip_on_destination(&service));
            extra.extend(strip_after.iter().map(String::as_str));
            log.push(|| "(wrapper)".into(), || format!("unwrapped {service}"));
            seen.push(current.into_owned());
            current = Cow::Owned(dest);
            parsed = dest_parsed;
        }
        match self.strip(&current, &parsed, &extra, &mut log) {
            Some(s) => s,
            None => current.into_owned(),
        }
    }

    /// Removes tracking parameters on the URL's own bytes. `None` when nothing changes.
    fn strip(&self, link: &str, parsed: &Url, extra: &[&str], log: &mut Log<'_>) -> Option<String> {
        let host = parsed.host_str().unwrap_or("");
        if unwrap::is_signed_wrapper(host) {
            return None;
        }
        let path = parsed.path();
        let sites: Vec<&SiteRule> = self.rules.sites_for(host, path).collect();
        let cu_providers = self.clearurls.as_ref().map(|c| c.matching(link));

        let (before_fragment, fragment) = match link.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (link, None),
        };
        let (base, query) = match before_fragment.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (before_fragment, None),
        };

        // Families are looked for only when a name with a family suffix matched no rule.
        let families: std::cell::OnceCell<Vec<String>> = std::cell::OnceCell::new();
        let rule_for = |name: &str, whole_query_rules: bool| -> Option<RuleRef<'_>> {
            if extra.contains(&name) {
                return Some(RuleRef::Wrapper);
            }
            let rule = self.rule_for(name, &sites, cu_providers.as_deref(), whole_query_rules);
            rule.or_else(|| {
                let (prefix, suffix) = name.rsplit_once('_')?;
                if !self.campaign_tags || !FAMILY_SUFFIXES.contains(&suffix) {
                    return None;
                }
                let family = families
                    .get_or_init(|| campaign_families(query.into_iter().chain(fragment)))
                    .iter()
                    .any(|f| f == prefix)
                    && !self.keep.contains(name)
                    && !sites.iter().any(|s| s.keep.contains(name));
                family.then_some(RuleRef::Family)
            })
        };

        let mut changed = false;
        let mut out = String::with_capacity(link.len());
        out.push_str(&self.drop_segments(base, &sites, log, &mut changed));

        if let Some(query) = query {
            let mut kept: Vec<&str> = Vec::new();
            let mut any_removed = false;
            for pair in query.split('&') {
                if pair.is_empty() {
                    continue;
                }
                let name = param_name(pair);
                if SIGNATURE_PARAMS.contains(&name.as_ref()) {
                    return None;
                }
                match rule_for(&name, true).or_else(|| self.personal(&name, pair, &sites, path)) {
                    Some(rule) => {
                        any_removed = true;
                        log.push(|| name.into_owned(), || self.describe(rule));
                    }
                    None => kept.push(pair),
                }
            }
            if !any_removed && !kept.is_empty() {
                out.push('?');
                out.push_str(query);
            } else {
                // Only empty segments (`?`, `?&&`) or something removed: the query is rebuilt
                // from the kept pairs, each with its own bytes.
                changed = true;
                if !kept.is_empty() {
                    out.push('?');
                    for (i, p) in kept.iter().enumerate() {
                        if i > 0 {
                            out.push('&');
                        }
                        out.push_str(p);
                    }
                }
            }
        }

        if let Some(fragment) = fragment {
            let pairs: Vec<&str> = fragment.split('&').filter(|p| !p.is_empty()).collect();
            let query_like = !pairs.is_empty() && pairs.iter().all(|p| p.contains('='));
            if pairs.is_empty() {
                changed = true; // a bare `#`
            } else if query_like {
                let mut kept = Vec::with_capacity(pairs.len());
                for p in pairs {
                    let name = param_name(p);
                    match rule_for(&name, false).or_else(|| self.personal(&name, p, &sites, path)) {
                        Some(rule) => {
                            changed = true;
                            log.push(|| format!("#{name}"), || self.describe(rule));
                        }
                        None => kept.push(p),
                    }
                }
                if !kept.is_empty() {
                    out.push('#');
                    if changed {
                        out.push_str(&kept.join("&"));
                    } else {
                        out.push_str(fragment);
                    }
                }
            } else {
                out.push('#');
                out.push_str(fragment);
            }
        }
        changed.then_some(out)
    }

    /// Removes tracking path segments (Amazon's `/ref=…`).
    fn drop_segments<'b>(
        &self,
        base: &'b str,
        sites: &[&SiteRule],
        log: &mut Log<'_>,
        changed: &mut bool,
    ) -> Cow<'b, str> {
        if sites.iter().all(|s| s.drop_segments.is_empty()) {
            return Cow::Borrowed(base);
        }
        let path_start = base
            .find("://")
            .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j));
        let Some(path_start) = path_start else {
            return Cow::Borrowed(base);
        };
        let (origin, path) = base.split_at(path_start);
        let mut out = String::from(origin);
        for seg in path.split('/').skip(1) {
            let rule = sites
                .iter()
                .find(|s| s.drop_segments.iter().any(|g| rules::glob_matches(g, seg)));
            match rule {
                Some(s) => {
                    *changed = true;
                    log.push(|| format!("/{seg}"), || self.rules.info(s.info).to_string());
                }
                None => {
                    out.push('/');
                    out.push_str(seg);
                }
            }
        }
        if out.len() == origin.len() {
            out.push('/');
        }
        Cow::Owned(out)
    }

    /// The rule that strips `name` (lowercase, decoded) here, if any. Whole-query rules
    /// (`drop_query`, `keep_only`) apply to the query, not to a fragment.
    fn rule_for<'a>(
        &'a self,
        name: &str,
        sites: &[&SiteRule],
        cu: Option<&[&'a clearurls::Provider]>,
        whole_query_rules: bool,
    ) -> Option<RuleRef<'a>> {
        if name.is_empty()
            || self.keep.contains(name)
            || sites.iter().any(|s| s.keep.contains(name))
        {
            return None;
        }
        for s in sites {
            let hit = s.strip.contains(name)
                || (whole_query_rules
                    && (s.drop_query || s.keep_only.as_ref().is_some_and(|k| !k.contains(name))));
            if hit {
                return Some(RuleRef::Rule(s.info));
            }
        }
        if let Some(i) = self.rules.global(name, self.campaign_tags) {
            return Some(RuleRef::Rule(i));
        }
        let (c, providers) = (self.clearurls.as_ref()?, cu?);
        c.strips(providers, name).map(RuleRef::ClearUrls)
    }

    /// A parameter that identifies the reader goes, unless the user or a site rule keeps it:
    /// the rest of the link still names the page, so the link itself can stay. An action
    /// link (confirm, unsubscribe) keeps its token: it is never published as a story, and the
    /// reader needs it whole where tidings shows it ("Needs your attention").
    fn personal(
        &self,
        name: &str,
        pair: &str,
        sites: &[&SiteRule],
        path: &str,
    ) -> Option<RuleRef<'static>> {
        let value = pair.split_once('=').map(|(_, v)| v).unwrap_or("");
        let kept = self.keep.contains(name) || sites.iter().any(|s| s.keep.contains(name));
        let personal = !kept && privacy::is_personal_param(name, value);
        (personal && !privacy::is_action_path(&path.to_ascii_lowercase()))
            .then_some(RuleRef::Personal)
    }

    /// A rule's description, built only when someone asked why.
    fn describe(&self, r: RuleRef<'_>) -> String {
        match r {
            RuleRef::Rule(i) => self.rules.info(i).to_string(),
            RuleRef::Wrapper => "added by the click-tracker just unwrapped".into(),
            RuleRef::ClearUrls(p) => format!("ClearURLs provider `{p}`"),
            RuleRef::Personal => "identifies the reader (subscriber id, login token or address)".into(),
            RuleRef::Family => {
                "campaign tags: two or more of `<prefix>_source/_medium/_campaign/_content/_term` together".into()
            }
        }
    }
}

/// Checks an unwrapped destination: an absolute http(s) URL, written with its site's canonical
/// host and without a trailing dot on the host.
fn accept_destination(dest: &str) -> Option<(String, Url)> {
    if !unwrap::has_http_scheme(dest) {
        return None;
    }
    let mut u = Url::parse(dest).ok()?;
    let host = u.host_str()?.to_string();
    let trimmed = host.trim_end_matches('.');
    let canonical = CANONICAL_HOSTS
        .iter()
        .find(|(bare, _)| *bare == trimmed)
        .map(|(_, c)| *c)
        .unwrap_or(trimmed);
    if canonical != host {
        u.set_host(Some(canonical)).ok()?;
        return Some((u.to_string(), u));
    }
    Some((dest.to_string(), u))
}

/// Removes the query pairs (and `k=v` fragment pairs) whose name `strip` accepts, keeping every
/// other pair's bytes and order. Used for the ClearURLs baseline.
pub fn edit_params(link: &str, strip: impl Fn(&str) -> bool) -> String {
    let (before_fragment, fragment) = match link.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (link, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = String::from(base);
    if let Some(q) = query {
        let kept: Vec<&str> = q
            .split('&')
            .filter(|p| !p.is_empty() && !strip(&param_name(p)))
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    if let Some(f) = fragment {
        let pairs: Vec<&str> = f.split('&').filter(|p| !p.is_empty()).collect();
        if pairs.iter().all(|p| p.contains('=')) {
            let kept: Vec<&str> = pairs
                .into_iter()
                .filter(|p| !strip(&param_name(p)))
                .collect();
            if !kept.is_empty() {
                out.push('#');
                out.push_str(&kept.join("&"));
            }
        } else {
            out.push('#');
            out.push_str(f);
        }
    }
    out
}

/// The percent-decoded, ASCII-lowercased name of a `name=value` pair. Borrows when the name
/// needs no decoding, which is nearly always.
/// The prefixes that carry two or more of the campaign suffixes in these query strings
/// (`lmd_medium=…&lmd_campaign=…` makes `lmd` a family).
fn campaign_families<'q>(parts: impl Iterator<Item = &'q str>) -> Vec<String> {
    let mut seen: Vec<(String, u8)> = Vec::new();
    for pair in parts.flat_map(|p| p.split('&')) {
        let name = param_name(pair);
        let Some((prefix, suffix)) = name.rsplit_once('_') else {
            continue;
        };
        let Some(bit) = FAMILY_SUFFIXES.iter().position(|s| *s == suffix) else {
            continue;
        };
        if prefix.is_empty() {
            continue;
        }
        match seen.iter_mut().find(|(p, _)| p == prefix) {
            Some((_, bits)) => *bits |= 1 << bit,
            None => seen.push((prefix.to_string(), 1 << bit)),
        }
    }
    seen.into_iter()
        .filter(|(_, bits)| bits.count_ones() >= 2)
        .map(|(p, _)| p)
        .collect()
}

fn param_name(pair: &str) -> Cow<'_, str> {
    let raw = pair.split_once('=').map(|(n, _)| n).unwrap_or(pair);
    let plain = raw
        .bytes()
        .all(|b| b != b'%' && b != b'+' && !b.is_ascii_uppercase());
    if plain {
        return Cow::Borrowed(raw);
    }
    let decoded: String = url::form_urlencoded::parse(raw.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default();
    Cow::Owned(decoded.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> String {
        Cleaner::default().clean(s)
    }

    /// Line breaks a mailer put inside a long `href` are not part of the link.
    #[test]
    fn a_link_wrapped_over_lines_is_one_link() {
        assert_eq!(
            clean("http://www.paper.example/Stories/0,14\r\n13,101%257E6267,00.html?utm_source=x"),
            "http://www.paper.example/Stories/0,1413,101%257E6267,00.html"
        );
    }

    /// A link cleaned from its parsed form is the link cleaned from its text.
    #[test]
    fn cleaning_a_parsed_link_is_cleaning_its_text() {
        let c = Cleaner::default();
        for link in [
            "https://example.org/a?id=5&utm_source=x&page=2",
            "HTTPS://Example.ORG:443/a/../b?fbclid=1#utm_medium=x",
            "https://example.org/p?a=1&amp;utm_campaign=y",
            "https://www.google.com/url?q=https%3A%2F%2Fnews.example%2Fx%3Futm_source%3Dg&sa=D",
            "https://click.example/track?u=https://a.example/?mc_eid=123",
            "https://example.org/only-a-path",
            "https://example.org/q?name=%E2%82%AC&gclid=abc",
        ] {
            let parsed = Url::parse(link).unwrap();
            assert_eq!(c.clean_url(&parsed), c.clean(parsed.as_str()), "{link}");
        }
    }

    #[test]
    fn table_of_cases() {
        let cases = [
            (
                "https://example.org/a?id=5&utm_source=x&page=2",
                "https://example.org/a?id=5&page=2",
            ),
            (
                "https://example.org/a?fbclid=IwAR123&q=a+b,c",
                "https://example.org/a?q=a+b,c",
            ),
            (
                "https://example.org/a?mc_cid=1&mc_eid=2",
                "https://example.org/a",
            ),
            (
                "https://example.org/a?UTM_Source=x#top",
                "https://example.org/a#top",
            ),
            (
                "https://example.org/a#utm_source=x&utm_medium=y",
                "https://example.org/a",
            ),
            (
                "https://example.org/a#x=1&utm_medium=y",
                "https://example.org/a#x=1",
            ),
            // nothing to remove: byte-identical, odd encodings included
            (
                "https://example.org/a?q=%7e&x=1,2+3&&",
                "https://example.org/a?q=%7e&x=1,2+3&&",
            ),
            (
                "https://EXAMPLE.org:443/a/../b?x",
                "https://EXAMPLE.org:443/a/../b?x",
            ),
            // an empty query or fragment is nothing, and goes
            ("https://example.org/a?&&", "https://example.org/a"),
            ("https://example.org/a?#", "https://example.org/a"),
            // signed URLs are never edited
            (
                "https://bucket.s3.amazonaws.com/f?utm_source=x&X-Amz-Signature=abc",
                "https://bucket.s3.amazonaws.com/f?utm_source=x&X-Amz-Signature=abc",
            ),
            // not http(s): untouched
            (
                "mailto:me@example.org?utm_source=x",
                "mailto:me@example.org?utm_source=x",
            ),
            ("not a url", "not a url"),
        ];
        for (input, expected) in cases {
            assert_eq!(clean(input), expected, "input: {input}");
        }
    }

    #[test]
    fn user_rules_add_and_keep() {
        let mut cfg = LinksConfig {
            strip: vec!["src".into(), "src_*".into()],
            keep: vec!["utm_campaign".into()],
            ..Default::default()
        };
        cfg.hosts.insert(
            "news.example.com".into(),
            crate::config::LinkHostRule {
                keep_only: Some(vec!["id".into()]),
                ..Default::default()
            },
        );
        let c = Cleaner::new(&cfg);
        assert_eq!(
            c.clean("https://e.org/?src=a&src_x=1&utm_campaign=k&utm_source=z"),
            "https://e.org/?utm_campaign=k"
        );
        assert_eq!(
            c.clean("https://a.news.example.com/x?id=1&b=2&c=3"),
            "https://a.news.example.com/x?id=1"
        );
    }

    #[test]
    fn campaign_tags_can_be_kept() {
        let c = Cleaner::new(&LinksConfig {
            campaign_tags: false,
            ..Default::default()
        });
        assert_eq!(
            c.clean("https://e.org/?utm_source=z&fbclid=1"),
            "https://e.org/?utm_source=z"
        );
    }

    #[test]
    fn explain_names_the_rule_and_its_source() {
        let (out, why) = Cleaner::default().clean_explained("https://e.org/?gclid=1&a=2");
        assert_eq!(out, "https://e.org/?a=2");
        assert_eq!(why.len(), 1);
        assert_eq!(why[0].param, "gclid");
        assert!(why[0].rule.starts_with("Google Ads"), "{}", why[0].rule);
        assert!(why[0].rule.contains("consensus"), "{}", why[0].rule);
    }

    #[test]
    fn idempotent_on_the_table() {
        for s in [
            "https://e.org/?utm_source=1&a=2#utm_x=1",
            "https://www.scmp.com/x?tpcc=1&q=2",
            "https://e.org/?&&utm_source=1",
        ] {
            let once = clean(s);
            assert_eq!(clean(&once), once, "{s}");
        }
    }

    #[test]
    fn personal_data_in_the_query_goes_and_the_link_stays() {
        let c = Cleaner::default();
        let decoded = "https://news.example.com/p/story?token=eyJ1c2VyX2lkIjo0fQ.abc&r=2x9";
        assert_eq!(c.clean(decoded), "https://news.example.com/p/story?r=2x9");
        let l = "https://example.org/a?who=jane.doe%40example.com&id=4";
        assert_eq!(c.clean(l), "https://example.org/a?id=4");
        assert_eq!(c.assess(&c.clean(l)), Verdict::Publish);
        // In the path it cannot be removed without changing the page: the link is withheld.
        let p = "https://example.org/u/jane@example.com/feed";
        assert_eq!(c.clean(p), p);
        assert_eq!(c.assess(p), Verdict::Drop("carries an email address"));
    }

    #[test]
    fn campaign_families_need_two_members() {
        assert_eq!(
            clean("https://e.org/a?lmd_medium=email&lmd_campaign=x&lmd_creation=y&id=3"),
            "https://e.org/a?lmd_creation=y&id=3"
        );
        // One member alone is not a family: `sort_source` stays.
        let one = "https://e.org/a?sort_source=asc&id=3";
        assert_eq!(clean(one), one);
        let off = Cleaner::new(&LinksConfig {
            campaign_tags: false,
            ..LinksConfig::default()
        });
        let fam = "https://e.org/a?abc_source=x&abc_medium=y";
        assert_eq!(
            off.clean(fam),
            fam,
            "campaign_tags = false keeps families too"
        );
    }

    #[test]
    fn entity_encoded_separators_in_feed_links() {
        assert_eq!(
            clean("https://blog.example.com/post/?utm_source=rss&#038;utm_medium=rss&#038;p=4"),
            "https://blog.example.com/post/?p=4"
        );
        assert_eq!(
            clean("https://blog.example.com/post/?a=1&amp;utm_campaign=z"),
            "https://blog.example.com/post/?a=1"
        );
    }

    #[test]
    fn redirectors_from_the_rules_file() {
        assert_eq!(
            clean("https://www-example-com.cdn.ampproject.org/c/s/www.example.com/amp/story.html?amp_js_v=0.1&x=2#top"),
            "https://www.example.com/amp/story.html?x=2#top"
        );
        assert_eq!(
            clean("https://www.google.de/amp/s/news.example.org/a/b?q=1#c"),
            "https://news.example.org/a/b?q=1#c"
        );
        assert_eq!(
            clean("https://www.kqzyfj.com/links/9/type/dlg/sid/x/https://shop.example.com/p/1?utm_source=cj"),
            "https://shop.example.com/p/1"
        );
        assert_eq!(
            clean("https://prf.hn/click/camref:1/pubref:2/destination:https%3A%2F%2Fshop.example.com%2Fp"),
            "https://shop.example.com/p"
        );
        // A made-up host with a `url=` parameter is not a redirector.
        let share = "https://www.example.com/share?url=https%3A%2F%2Fother.example.org%2F";
        assert_eq!(clean(share), share);
    }
}
