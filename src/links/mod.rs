//! Link cleaning: removes tracking parameters and changes nothing else.
//!
//! The cleaner works on the URL's own bytes rather than re-serializing a parsed URL, so that a
//! link with nothing to remove comes out byte-identical and the parameters it keeps keep their
//! encoding and order (`,` and `+` are not re-encoded). `url::Url` is used only to check that
//! the link is an absolute http(s) URL and to find its host.

pub mod rules;

use crate::config::LinksConfig;

/// Parameters whose presence marks a signed URL: editing it would break the signature.
const SIGNATURE_PARAMS: &[&str] = &["x-amz-signature", "signature", "x-goog-signature", "sig"];

/// Why a parameter was removed (for `clean-url --explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub param: String,
    pub rule: String,
}

/// The link cleaner with the built-in rules plus the user's `[links]` additions.
#[derive(Debug, Clone, Default)]
pub struct Cleaner {
    extra_strip: Vec<String>,
    keep: Vec<String>,
}

impl Cleaner {
    pub fn new(cfg: &LinksConfig) -> Cleaner {
        Cleaner {
            extra_strip: cfg.strip.iter().map(|s| s.to_ascii_lowercase()).collect(),
            keep: cfg.keep.iter().map(|s| s.to_ascii_lowercase()).collect(),
        }
    }

    /// Cleans one link. Anything that is not an absolute http(s) URL is returned unchanged.
    pub fn clean(&self, link: &str) -> String {
        self.clean_explained(link).0
    }

    /// Cleans one link and says which rule removed each parameter.
    pub fn clean_explained(&self, link: &str) -> (String, Vec<Removal>) {
        let Ok(parsed) = url::Url::parse(link) else {
            return (link.to_string(), Vec::new());
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            return (link.to_string(), Vec::new());
        }
        let host = parsed.host_str().unwrap_or("").to_ascii_lowercase();

        let (before_fragment, fragment) = match link.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (link, None),
        };
        let (base, query) = match before_fragment.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (before_fragment, None),
        };

        let mut removed = Vec::new();
        let mut out = String::with_capacity(link.len());
        out.push_str(base);

        if let Some(query) = query {
            let pairs: Vec<&str> = query.split('&').collect();
            if pairs
                .iter()
                .any(|p| SIGNATURE_PARAMS.contains(&param_name(p).as_str()))
            {
                return (link.to_string(), Vec::new());
            }
            let mut kept = Vec::with_capacity(pairs.len());
            for pair in pairs {
                let name = param_name(pair);
                match self.rule_for(&host, &name) {
                    Some(rule) if !pair.is_empty() => removed.push(Removal { param: name, rule }),
                    _ => kept.push(pair),
                }
            }
            if removed.is_empty() {
                out.push('?');
                out.push_str(query);
            } else {
                // Empty segments (`&&`) are not parameters; once we edit the query they go too.
                let kept: Vec<&str> = kept.into_iter().filter(|p| !p.is_empty()).collect();
                if !kept.is_empty() {
                    out.push('?');
                    out.push_str(&kept.join("&"));
                }
            }
        }

        if let Some(fragment) = fragment {
            let frag_pairs: Vec<&str> = fragment.split('&').collect();
            let all_tracking = fragment.contains('=')
                && frag_pairs
                    .iter()
                    .all(|p| self.rule_for(&host, &param_name(p)).is_some());
            if all_tracking {
                for p in frag_pairs {
                    let name = param_name(p);
                    let rule = self.rule_for(&host, &name).unwrap_or_default();
                    removed.push(Removal {
                        param: format!("#{name}"),
                        rule,
                    });
                }
            } else {
                out.push('#');
                out.push_str(fragment);
            }
        }

        if removed.is_empty() {
            (link.to_string(), removed)
        } else {
            (out, removed)
        }
    }

    /// The rule that strips `name` on `host`, if any. `name` is lowercase and decoded.
    fn rule_for(&self, host: &str, name: &str) -> Option<String> {
        if name.is_empty() || self.keep.iter().any(|k| pattern_matches(k, name)) {
            return None;
        }
        if self.extra_strip.iter().any(|p| pattern_matches(p, name)) {
            return Some("config: [links] strip".to_string());
        }
        for r in rules::HOSTS {
            if host_matches(host, r.host) && r.params.iter().any(|p| pattern_matches(p, name)) {
                return Some(format!("{}: {}", r.host, r.reason));
            }
        }
        for r in rules::GLOBAL {
            if r.params.iter().any(|p| pattern_matches(p, name)) {
                return Some(format!("{}: {}", r.vendor, r.reason));
            }
        }
        None
    }
}

/// The percent-decoded, ASCII-lowercased name of a `name=value` query pair.
fn param_name(pair: &str) -> String {
    let raw = pair.split_once('=').map(|(n, _)| n).unwrap_or(pair);
    let decoded: String = url::form_urlencoded::parse(raw.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default();
    decoded.to_ascii_lowercase()
}

fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// `host` is `rule` or one of its subdomains.
fn host_matches(host: &str, rule: &str) -> bool {
    host == rule
        || host
            .strip_suffix(rule)
            .is_some_and(|rest| rest.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> String {
        Cleaner::default().clean(s)
    }

    #[test]
    fn table_of_cases() {
        let cases = [
            // the two links of shared/seed-newsletter.txt
            (
                "https://www.zerohedge.com/geopolitical/here-are-all-latest-news-and-developments-ukraine-war-march-14?utm_source=&utm_medium=email&utm_campaign=543",
                "https://www.zerohedge.com/geopolitical/here-are-all-latest-news-and-developments-ukraine-war-march-14",
            ),
            (
                "https://www.scmp.com/news/china/diplomacy/article/3170517/ukraine-war-china-going-its-own-way-peace-process-says-foreign?utm_medium=email&utm_source=cm&utm_campaign=enlz-china&utm_content=20220315&tpcc=enlz-china&UUID=6d7f3ce4-6a8f-46d9-a2df-83a5b077111e&next_article_id=3170458&article_id_list=3170517,3170458,3170552,3170507,3170446,3170549,3170548,3170502&tc=5&CMCampaignID=3ee9d8379db482333ba5aa019034aa1d",
                "https://www.scmp.com/news/china/diplomacy/article/3170517/ukraine-war-china-going-its-own-way-peace-process-says-foreign",
            ),
            ("https://example.org/a?id=5&utm_source=x&page=2", "https://example.org/a?id=5&page=2"),
            ("https://example.org/a?fbclid=IwAR123&q=a+b,c", "https://example.org/a?q=a+b,c"),
            ("https://example.org/a?mc_cid=1&mc_eid=2", "https://example.org/a"),
            ("https://example.org/a?UTM_Source=x#top", "https://example.org/a#top"),
            ("https://example.org/a#utm_source=x&utm_medium=y", "https://example.org/a"),
            ("https://www.youtube.com/watch?v=abc&si=XYZ&t=42", "https://www.youtube.com/watch?v=abc&t=42"),
            ("https://github.com/rust-lang/rust?ref=newsletter", "https://github.com/rust-lang/rust?ref=newsletter"),
            ("https://news.substack.com/p/post?r=abc&utm_medium=email", "https://news.substack.com/p/post"),
            // nothing to remove: byte-identical, odd encodings included
            ("https://example.org/a?q=%7e&x=1,2+3&&", "https://example.org/a?q=%7e&x=1,2+3&&"),
            ("https://EXAMPLE.org:443/a/../b?", "https://EXAMPLE.org:443/a/../b?"),
            // signed URLs are never edited
            ("https://bucket.s3.amazonaws.com/f?utm_source=x&X-Amz-Signature=abc", "https://bucket.s3.amazonaws.com/f?utm_source=x&X-Amz-Signature=abc"),
            // not http(s): untouched
            ("mailto:me@example.org?utm_source=x", "mailto:me@example.org?utm_source=x"),
            ("not a url", "not a url"),
        ];
        for (input, expected) in cases {
            assert_eq!(clean(input), expected, "input: {input}");
        }
    }

    #[test]
    fn user_rules_add_and_keep() {
        let c = Cleaner::new(&LinksConfig {
            strip: vec!["ref".into(), "src_*".into()],
            keep: vec!["utm_campaign".into()],
        });
        assert_eq!(
            c.clean("https://e.org/?ref=a&src_x=1&utm_campaign=k&utm_source=z"),
            "https://e.org/?utm_campaign=k"
        );
    }

    #[test]
    fn explain_names_the_rule() {
        let (out, why) = Cleaner::default().clean_explained("https://e.org/?gclid=1&a=2");
        assert_eq!(out, "https://e.org/?a=2");
        assert_eq!(why.len(), 1);
        assert_eq!(why[0].param, "gclid");
        assert!(why[0].rule.starts_with("Google Ads"));
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
}
