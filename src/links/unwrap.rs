//! Offline unwrapping of click-trackers that carry their destination inside the URL.
//!
//! Each wrapper is recognised by host (and path), and its destination decoded without any
//! network access: a query parameter, a percent-encoded path segment, base64 or base64url
//! (sometimes JSON inside), zlib (Mailgun), or Proofpoint's own escapes. The catalog follows
//! `shared/linkdata/esp-wrappers.json` (entries marked decodable) and ClearURLs' redirections.
//! A decoded result that is not an absolute http(s) URL is rejected by the caller.

use std::borrow::Cow;
use std::io::Read;

use base64::Engine;
use percent_encoding::percent_decode_str;
use url::Url;

use super::rules::{Redirect, RuleSet, Take};

/// A destination found inside a wrapper, and the wrapper's name for `--explain`.
pub struct Unwrapped<'a> {
    pub destination: String,
    pub service: &'a str,
    /// Parameters this wrapper's sender adds to the destination (a `[[redirect]]` rule's
    /// `strip_after`).
    pub strip_after: &'a [String],
}

/// Parameters a wrapper's sender adds to the destination that mean nothing elsewhere
/// (esp-wrappers.json `strip_on_destination`), stripped only after unwrapping that wrapper.
pub fn strip_on_destination(service: &str) -> &'static [&'static str] {
    match service {
        "Sailthru" => &["sid", "ss", "st_rid"],
        "Substack redirect" => &[
            "r",
            "token",
            "triedredirect",
            "showwelcomeonshare",
            "isfreemail",
        ],
        _ => &[],
    }
}

/// Wrappers whose destination is one query parameter and whose host is a pattern rather than
/// a domain (the plain ones are `[[redirect]]` rules in `rules.toml`): (host test, path
/// prefix, param, name).
type HostTest = fn(&str) -> bool;
const PARAM_WRAPPERS: &[(HostTest, &str, &str, &str)] = &[
    (is_google, "/url", "q", "Google redirector"),
    (is_google, "/url", "url", "Google redirector"),
    (is_safelinks, "/", "url", "Outlook Safe Links"),
    (
        |h| h.ends_with("shareasale.com") || h.ends_with("shareasale-analytics.com"),
        "/r.cfm",
        "urllink",
        "ShareASale",
    ),
];

fn is_google(h: &str) -> bool {
    let h = h.strip_prefix("www.").unwrap_or(h);
    h.strip_prefix("google.").is_some_and(|tld| tld.len() <= 6)
}

fn is_safelinks(h: &str) -> bool {
    h.ends_with(".safelinks.protection.outlook.com")
}

/// Hosts that are click-trackers with the destination inside, and whose URL must never be
/// edited if unwrapping fails (their signature covers the query).
pub fn is_signed_wrapper(host: &str) -> bool {
    matches!(host, "urldefense.proofpoint.com" | "urldefense.com")
}

/// The destination inside `u`, if `u` is a known wrapper that carries one: a `[[redirect]]`
/// rule of `rules`, or one of the decoders below.
pub fn unwrap<'a>(u: &Url, rules: &'a RuleSet) -> Option<Unwrapped<'a>> {
    let host = u.host_str()?;
    let path = u.path();
    let found = |dest: String, service: &'static str| {
        Some(Unwrapped {
            destination: dest,
            service,
            strip_after: &[],
        })
    };
    for r in rules.redirects_for(host, path) {
        if let Some(dest) = redirect_destination(u, r) {
            return Some(Unwrapped {
                destination: dest,
                service: &rules.info(r.info).vendor,
                strip_after: &r.strip_after,
            });
        }
    }

    for (test, prefix, param, service) in PARAM_WRAPPERS {
        if path.starts_with(prefix) && test(host) {
            if let Some(v) = raw_param(u, param) {
                let mut dest = decode_repeatedly(v);
                if *service == "ShareASale" && !has_http_scheme(&dest) {
                    dest = format!("http://{}", requote(&dest));
                }
                return found(dest, service);
            }
        }
    }

    if is_google(host) && path.starts_with("/amp/") {
        return amp(u).and_then(|d| found(d, "Google AMP"));
    }
    if host == "href.li" {
        return u.query().map(|q| found(q.to_string(), "href.li"))?;
    }
    if host == "urldefense.proofpoint.com" && path.starts_with("/v2/url") {
        let v = raw_param(u, "u")?;
        let v = v.replace('-', "%").replace('_', "/");
        return found(pct(&v).into_owned(), "Proofpoint URL Defense v2");
    }
    if host == "urldefense.com" && path.starts_with("/v3/__") {
        return proofpoint_v3(u.as_str()).and_then(|d| found(d, "Proofpoint URL Defense v3"));
    }
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    if host == "substack.com" || host.ends_with(".substack.com") {
        if let ["redirect", "2", token, ..] = segs.as_slice() {
            let payload = token.split('.').next()?;
            let json = b64_any(payload)?;
            let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
            return found(v.get("e")?.as_str()?.to_string(), "Substack redirect");
        }
    }
    if host.starts_with("click.convertkit-mail") || host.starts_with("click.kit-mail") {
        let last = segs.iter().rev().find(|s| !s.is_empty())?;
        let dest = String::from_utf8(b64_any(&pct(last))?).ok()?;
        return found(dest, "Kit (ConvertKit)");
    }
    if let ["c", token] = segs.as_slice() {
        if token.starts_with("eJ") {
            return mailgun(token).and_then(|d| found(d, "Mailgun"));
        }
    }
    if host == "mandrillapp.com" && path.starts_with("/track/click/") {
        let p = raw_param(u, "p")?;
        let outer: serde_json::Value = serde_json::from_slice(&b64_any(&pct(p))?).ok()?;
        let inner = outer.get("p")?;
        let inner: serde_json::Value = match inner {
            serde_json::Value::String(s) => serde_json::from_str(s).ok()?,
            other => other.clone(),
        };
        return found(inner.get("url")?.as_str()?.to_string(), "Mandrill");
    }
    if let [first, dest, ..] = segs.as_slice() {
        let ses = (*first == "L0" && host.ends_with(".awstrack.me")) || *first == "CL0";
        if ses {
            return found(pct(dest).into_owned(), "Amazon SES");
        }
    }
    if host == "click.pstmrk.it" {
        if let [variant, dest, ..] = segs.as_slice() {
            let known = variant.len() <= 4
                && variant.starts_with(['2', '3'])
                && variant[1..].chars().all(|c| matches!(c, 't' | 's' | 'm'));
            if known {
                let scheme = if variant.contains('s') {
                    "https"
                } else {
                    "http"
                };
                let dest = pct(dest);
                if has_http_scheme(&dest) {
                    return found(dest.into_owned(), "Postmark");
                }
                return found(format!("{scheme}://{dest}"), "Postmark");
            }
        }
    }
    let activecampaign = ["acemlna.com", "acemlnb.com", "acemlnc.com", "acemlnd.com"]
        .iter()
        .any(|d| host.ends_with(d));
    if activecampaign {
        let v = raw_param(u, "redirectUrl")?;
        let dest = String::from_utf8(b64_any(&pct(v))?).ok()?;
        return found(dest, "ActiveCampaign");
    }
    if let ["e", "c", token, ..] = segs.as_slice() {
        if host.contains("customeriomail") || token.starts_with("eyJ") {
            let v: serde_json::Value = serde_json::from_slice(&b64_any(token)?).ok()?;
            return found(v.get("href")?.as_str()?.to_string(), "Customer.io");
        }
    }
    if let Some(found) = sailthru(u) {
        return Some(found);
    }
    if host == "e.newsletters.cnn.com" || host == "e.emailalerts.cnn.com" {
        return bluecore(u).and_then(|d| found(d, "Bluecore"));
    }
    if host == "buttondown.email" || host.starts_with("buttondown-") {
        if let ["c", token, ..] = segs.as_slice() {
            let text = String::from_utf8(b64_any(token)?).ok()?;
            let dest = text.split('|').nth(2)?.to_string();
            return found(dest, "Buttondown");
        }
    }
    None
}

/// Sailthru puts base64url of the destination after `/click|external/<id>/`.
fn sailthru(u: &Url) -> Option<Unwrapped<'static>> {
    let host = u.host_str()?;
    if !host.starts_with("link.") {
        return None;
    }
    let segs: Vec<&str> = u.path().split('/').skip(1).collect();
    if let [kind, _id, token, ..] = segs.as_slice() {
        if matches!(*kind, "click" | "external") {
            let dest = String::from_utf8(b64_any(token)?).ok()?;
            if has_http_scheme(&dest) {
                return Some(Unwrapped {
                    destination: dest,
                    service: "Sailthru",
                    strip_after: &[],
                });
            }
        }
    }
    None
}

/// Bluecore: `/click?E<b64 email>/C<b64 json>/V<b64 destination>/.../q<b64 query>/...`.
fn bluecore(u: &Url) -> Option<String> {
    let q = u.query()?;
    let mut dest = None;
    let mut query = None;
    for seg in q.split('/') {
        match seg.as_bytes().first() {
            Some(b'V') | Some(b'H') if dest.is_none() => {
                dest = String::from_utf8(b64_any(&seg[1..])?).ok();
            }
            Some(b'q') if query.is_none() => {
                query = String::from_utf8(b64_any(&seg[1..])?).ok();
            }
            _ => {}
        }
    }
    let mut dest = dest?;
    if let Some(q) = query {
        dest.push_str(&q);
    }
    Some(dest)
}

/// Mailgun's legacy `eJ…` tokens: base64url of zlib of a query string whose `l` is the
/// destination (and whose `r` is the recipient's address, which never leaves this function).
fn mailgun(token: &str) -> Option<String> {
    let compressed = b64_any(token)?;
    let mut text = String::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .take(64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    url::form_urlencoded::parse(text.as_bytes())
        .find(|(k, _)| k == "l")
        .map(|(_, v)| v.into_owned())
}

/// Proofpoint v3: `/v3/__<url with * placeholders>__;<b64url replacement chars>!!<sig>$`.
fn proofpoint_v3(whole: &str) -> Option<String> {
    let start = whole.find("/v3/__")? + "/v3/__".len();
    let rest = &whole[start..];
    let end = rest.find("__;")?;
    let template = &rest[..end];
    let after = &rest[end + 3..];
    // The replacement characters end at the first `!` (then come `!`-separated signatures).
    let enc = after.split('!').next().unwrap_or("");
    let replacements: Vec<char> = if enc.is_empty() {
        Vec::new()
    } else {
        String::from_utf8(b64_any(enc)?).ok()?.chars().collect()
    };
    // Runs: `**X` stands for the next n replacement chars, n = 2 + X's index in this alphabet.
    const RUN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(template.len());
    let mut next = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '*' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'*') {
            chars.next();
            let n = 2 + RUN.find(chars.next()?)?;
            out.extend(replacements.get(next..next + n)?);
            next += n;
        } else {
            out.push(*replacements.get(next)?);
            next += 1;
        }
    }
    Some(out)
}

/// The destination a `[[redirect]]` rule finds in `u`, still to be checked by the caller.
fn redirect_destination(u: &Url, r: &Redirect) -> Option<String> {
    let whole = u.as_str();
    match &r.take {
        Take::Param(names) => {
            let v = names.iter().find_map(|n| raw_param(u, n))?;
            if r.base64 {
                String::from_utf8(b64_any(&pct(v))?).ok()
            } else {
                Some(decode_repeatedly(v))
            }
        }
        Take::PathUrl => {
            // The path starts after the authority; the destination runs to the URL's end.
            let after_scheme = whole.find("://")? + 3;
            let path_at = after_scheme + whole[after_scheme..].find('/')?;
            let tail = &whole[path_at + 1..];
            let lower = tail.to_ascii_lowercase();
            let at = ["https://", "http://", "https%3a", "http%3a"]
                .iter()
                .filter_map(|m| lower.find(m))
                .min()?;
            Some(decode_repeatedly(&tail[at..]))
        }
        Take::After(marker) => {
            let at = whole.find(marker.as_str())? + marker.len();
            Some(decode_repeatedly(&whole[at..]))
        }
        Take::Amp => amp(u),
    }
}

/// An AMP viewer or cache URL, `/<kind>/s/<host>/<path>` (https origin; without `s/`, http),
/// as the publisher's own URL with the wrapper's query and fragment.
fn amp(u: &Url) -> Option<String> {
    let rest = u.path().strip_prefix('/')?.split_once('/')?.1;
    let (scheme, rest) = match rest.strip_prefix("s/") {
        Some(r) => ("https", r),
        None => ("http", rest),
    };
    if rest.is_empty() || rest.starts_with('/') {
        return None;
    }
    let mut dest = format!("{scheme}://{rest}");
    if let Some(q) = u.query() {
        dest.push('?');
        dest.push_str(q);
    }
    if let Some(f) = u.fragment() {
        dest.push('#');
        dest.push_str(f);
    }
    Some(dest)
}

/// The raw (still percent-encoded) value of the first `name=` pair in the query.
fn raw_param<'a>(u: &'a Url, name: &str) -> Option<&'a str> {
    u.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

fn pct(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

/// Percent-decodes until the value looks like a URL (destinations are sometimes encoded twice).
/// `+` is kept as `+`: in a destination it is more often data than an encoded space.
fn decode_repeatedly(v: &str) -> String {
    let mut s = pct(v).into_owned();
    for _ in 0..3 {
        if has_http_scheme(&s) && !s[..s.len().min(12)].contains('%') {
            break;
        }
        if !s.contains('%') {
            break;
        }
        s = pct(&s).into_owned();
    }
    s
}

/// Re-escapes what full decoding made invalid: spaces, and `?` after the query started.
fn requote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_query = false;
    for c in s.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '?' if in_query => out.push_str("%3F"),
            '?' => {
                in_query = true;
                out.push('?');
            }
            c => out.push(c),
        }
    }
    out
}

pub fn has_http_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() > 7 && b[..7].eq_ignore_ascii_case(b"http://"))
        || (b.len() > 8 && b[..8].eq_ignore_ascii_case(b"https://"))
}

/// Decodes base64 in any of its dialects (standard or URL-safe, padded or not).
pub fn b64_any(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let trimmed = s.trim_end_matches('=');
    if trimmed.contains(['-', '_']) {
        URL_SAFE_NO_PAD.decode(trimmed).ok()
    } else {
        STANDARD_NO_PAD
            .decode(trimmed)
            .ok()
            .or_else(|| URL_SAFE_NO_PAD.decode(trimmed).ok())
    }
}
