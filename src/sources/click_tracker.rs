//! Which host of a newsletter is its own click-tracker. Mail services rewrite every link of a
//! campaign into `https://<tracking host>/<token>` (Episerver `/go/13/…`, Elaine `/go/…`,
//! Inxmail `/d?…`, GetResponse `click.html?…&u=…`), one token per link *and recipient*, with
//! no destination inside. No list can name every such host (they are the sender's own
//! subdomains), so the message's structure tells: the host that also serves its
//! `List-Unsubscribe` link, or that carries most of its links, and whose links carry opaque
//! tokens or the same identifier on every link. A link on it is as opaque as a Mailchimp
//! tracker: resolved when the user allows, else not published.

use std::collections::HashMap;

use url::Url;

/// The tracking host of a message whose (cleaned) body links are `links`, if it has one.
/// `unsubscribe` is the message's `List-Unsubscribe` http(s) URL.
pub(crate) fn tracking_host(links: &[&str], unsubscribe: Option<&str>) -> Option<String> {
    let parsed: Vec<Url> = links.iter().filter_map(|l| Url::parse(l).ok()).collect();
    let mut per_host: HashMap<&str, Vec<&Url>> = HashMap::new();
    for u in &parsed {
        if let Some(h) = u.host_str() {
            per_host.entry(h).or_default().push(u);
        }
    }
    let unsubscribe_host = unsubscribe
        .and_then(|u| Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let (host, on_host) = per_host
        .iter()
        .max_by_key(|(h, v)| (v.len(), Some(h.to_string()) == unsubscribe_host))?;
    // At least three links: one or two links to a site are no template.
    if on_host.len() < 3 {
        return None;
    }
    let is_unsubscribe_host = unsubscribe_host.as_deref() == Some(host);
    let most = on_host.len() * 2 > parsed.len();
    if !(is_unsubscribe_host || most) {
        return None;
    }
    let opaque = on_host.iter().filter(|u| has_opaque_token(u)).count();
    let tokens = opaque * 2 > on_host.len();
    (tokens || shared_identifier(on_host)).then(|| host.to_string())
}

/// Every http(s) link of a message body: `href` values of HTML (entity `&amp;` decoded), or the
/// URLs of plain text. A scan, not a parse: only the count and shape of links matter here.
pub(crate) fn body_links(html: Option<&str>, text: Option<&str>) -> Vec<String> {
    match (html, text) {
        (Some(h), _) => {
            let lower = h.to_ascii_lowercase();
            let mut out = Vec::new();
            for (at, _) in lower.match_indices("href=") {
                let rest = &h[at + 5..];
                let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                    continue;
                };
                let value = &rest[1..];
                if let Some(end) = value.find(quote) {
                    let v = value[..end].trim().replace("&amp;", "&");
                    if v.starts_with("http") {
                        out.push(v);
                    }
                }
            }
            out
        }
        (None, Some(t)) => t
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | '"' | ',')))
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// A path segment or query value that is a random token: 12 or more characters, a mix of
/// letters and digits, and no word of four letters in a row between separators (a slug like
/// `ukraine-war-2024-03-14` is words; `5812L1QV-4160U6X3-4B93IILX` is not).
fn has_opaque_token(u: &Url) -> bool {
    let path = u.path_segments().into_iter().flatten();
    let values = u.query().into_iter().flat_map(|q| {
        q.split('&')
            .map(|p| p.split_once('=').map_or(p, |(_, v)| v))
            .collect::<Vec<_>>()
    });
    path.chain(values).any(is_token)
}

fn is_token(s: &str) -> bool {
    let s = s.split('.').next().unwrap_or(s); // `…-o.html`
    if s.len() < 12 || s.contains('%') {
        return false;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let letters = s.bytes().filter(u8::is_ascii_alphabetic).count();
    if digits < 3 || letters < 3 || digits + letters + s.matches(['-', '_']).count() != s.len() {
        return false;
    }
    // A word: four or more letters in a row, with vowels, between separators or digits.
    let wordy = s
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 4)
        .any(|w| {
            let vowels = w.bytes().filter(|b| b"aeiouAEIOU".contains(b)).count();
            vowels * 4 >= w.len() && w.len() >= 5
        });
    !wordy || digits * 3 >= s.len()
}

/// A query parameter with the same identifier-like value (5+ characters, letters and digits
/// mixed, or 6+ digits) on at least three of the host's links, while the links differ
/// otherwise: the recipient's id, stamped on every link.
fn shared_identifier(on_host: &[&Url]) -> bool {
    let mut values: HashMap<(&str, &str), usize> = HashMap::new();
    for u in on_host {
        for pair in u.query().unwrap_or("").split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                if looks_like_id(v) {
                    *values.entry((k, v)).or_default() += 1;
                }
            }
        }
    }
    let distinct: std::collections::HashSet<&str> = on_host.iter().map(|u| u.as_str()).collect();
    distinct.len() >= 3 && values.values().any(|n| *n >= 3 && *n * 2 > on_host.len())
}

fn looks_like_id(v: &str) -> bool {
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let letters = v.bytes().filter(u8::is_ascii_alphabetic).count();
    let marks = v.bytes().filter(|b| b"._-".contains(b)).count();
    let plain = digits + letters == v.len();
    // `lXoyuP..CahrNet_0bkttg`: an id may hold dots and underscores, when it is long
    // enough not to be a version or a language tag.
    let dotted = marks > 0 && digits + letters + marks == v.len() && v.len() >= 12;
    (plain || dotted) && ((v.len() >= 5 && digits >= 1 && letters >= 1) || digits >= 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_of_opaque_per_link_tokens_is_the_tracker() {
        let links = [
            "https://news.shop.example/go/13/5812L1QV-4160U6X3-4B93IILX-1AZKEEP-o.html",
            "https://news.shop.example/go/13/5812L1QV-4160U6X3-416BL8PD-PFSPY.html",
            "https://news.shop.example/go/13/5812L1QV-4160U6X3-416BL8PE-G2LPM9.html",
            "https://www.shop.example/about",
        ];
        assert_eq!(
            tracking_host(
                &links,
                Some("https://news.shop.example/unsubscribe.jsp?id=1")
            ),
            Some("news.shop.example".into())
        );
    }

    #[test]
    fn the_same_recipient_id_on_every_link_marks_the_tracker() {
        let links = [
            "https://letters.club.example/click.html?x=a62e&lc=sOsMIf&s=zVyFum2&u=dFaV9",
            "https://letters.club.example/click.html?x=a62e&lc=sOsMIb&s=zVyFum2&u=dFaV9",
            "https://letters.club.example/click.html?x=a62e&lc=sOsMIY&s=zVyFum2&u=dFaV9",
        ];
        assert_eq!(
            tracking_host(&links, None),
            Some("letters.club.example".into())
        );
        // An id with dots and underscores in it is an id all the same.
        let dotted = [
            "http://click.list.example/redirect.php?c=8552&u=kQw7rT..ZpaqLet_3xhhua",
            "http://click.list.example/redirect.php?c=8556&u=kQw7rT..ZpaqLet_3xhhua",
            "http://click.list.example/redirect.php?c=8551&u=kQw7rT..ZpaqLet_3xhhua",
            "http://survey.list.example/survey.php?s=2650",
        ];
        assert_eq!(
            tracking_host(&dotted, None),
            Some("click.list.example".into())
        );
        assert!(!looks_like_id("en-GB") && !looks_like_id("1.2.3"));
    }

    #[test]
    fn a_publishers_own_article_links_are_not_a_tracker() {
        let links = [
            "https://blog.example.com/2026/11/ukraine-war-what-changed-this-week",
            "https://blog.example.com/2026/11/the-grain-corridor-explained",
            "https://blog.example.com/p/issue-42?lang=de",
            "https://blog.example.com/p/issue-43?lang=de",
            "https://blog.example.com/p/issue-44?lang=de",
        ];
        let unsubscribe = Some("https://blog.example.com/unsubscribe/?uuid=5f4e3d2c1b0a");
        assert_eq!(tracking_host(&links, unsubscribe), None);
        // Article ids are numbers; a story's slug with a year is words.
        assert!(!is_token(
            "federal-reserve-plosser-stimulus-economy-20140310"
        ));
        assert!(is_token("tez7v32nb0li4q2ku0q2xvjmdcvtg9dv8h5w0gw8w459"));
    }
}
