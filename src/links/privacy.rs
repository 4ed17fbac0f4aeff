//! Is a cleaned link publishable? A digest is forwarded, archived and shared: a link that still
//! identifies the reader (an address, a subscriber id, a login token) or that is an opaque
//! click-tracker (clicking it reports the reader) must not appear in it.

use url::Url;

use super::rules::host_suffixes;

/// What the pipeline may do with a cleaned link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Safe to publish as is.
    Publish,
    /// An opaque click-tracker: resolving it over HTTP may find the plain destination.
    Resolve(&'static str),
    /// Carries personal data or performs an action (unsubscribe, login): never publish it,
    /// never resolve it (resolving counts as a click).
    Drop(&'static str),
}

/// Opaque click-trackers: (host suffix, path prefix, what it is). Path `""` matches any path.
const OPAQUE_TRACKERS: &[(&str, &str, &str)] = &[
    ("list-manage.com", "/track/click", "Mailchimp click tracker"),
    ("ct.sendgrid.net", "", "SendGrid click tracker"),
    ("wl.sendgrid.net", "", "SendGrid click tracker"),
    ("link.mail.beehiiv.com", "", "beehiiv click tracker"),
    ("hubspotlinks.com", "", "HubSpot click tracker"),
    ("hs-sites.com", "/e3t/", "HubSpot click tracker"),
    ("cta-redirect.hubspot.com", "", "HubSpot click tracker"),
    ("createsend1.com", "/t/", "Campaign Monitor click tracker"),
    ("cmail19.com", "/t/", "Campaign Monitor click tracker"),
    ("cmail20.com", "/t/", "Campaign Monitor click tracker"),
    ("ad.doubleclick.net", "", "ad click tracker"),
    ("klclick.com", "", "Klaviyo click tracker"),
    ("klclick1.com", "", "Klaviyo click tracker"),
    ("substack.com", "/redirect/", "Substack redirect"),
    ("mimecast.com", "/s/", "Mimecast link"),
    ("mimecastprotect.com", "/s/", "Mimecast link"),
    ("t.co", "", "shortener"),
    ("bit.ly", "", "shortener"),
    ("lnkd.in", "", "shortener"),
    ("trib.al", "", "shortener"),
    ("buff.ly", "", "shortener"),
    ("ow.ly", "", "shortener"),
    ("tinyurl.com", "", "shortener"),
    ("is.gd", "", "shortener"),
    ("nyti.ms", "", "shortener"),
    ("dlvr.it", "", "shortener"),
    ("apple.news", "", "shortener"),
];

/// Path shapes of trackers on arbitrary (branded) hosts.
const OPAQUE_PATHS: &[(&str, &str)] = &[
    ("/ls/click", "SendGrid-style click tracker"),
    ("/ss/c/", "SendGrid-style click tracker"),
    ("/track/click", "click tracker"),
    ("/wf/click", "SendGrid click tracker"),
];

/// Path segments (without an extension) that are action endpoints: following or publishing
/// the link acts for the reader. Matched against whole segments, never inside a word, so an
/// article about "design-in" or "signing" is not a login link.
const ACTION_SEGMENTS: &[&str] = &[
    "unsubscribe",
    "unsub",
    "optout",
    "opt-out",
    "opt_out",
    "manage-preferences",
    "email-preferences",
    "preferences-center",
    "subscription-center",
    "login",
    "log-in",
    "log_in",
    "logon",
    "signin",
    "sign-in",
    "sign_in",
    "magic-link",
    "magic_link",
    "magiclink",
    "verify-email",
    "confirm",
    "confirmation",
    "confirm-email",
    "confirm-subscription",
    "optin",
    "opt-in",
    "double-opt-in",
    "activate",
];

/// Words that make a whole segment an unsubscribe endpoint wherever they stand in it
/// (`email-unsubscribe`, `unsubscribe_confirm`): no article slug is only about that.
const UNSUBSCRIBE_WORDS: &[&str] = &["unsubscribe", "unsub", "optout"];

/// Parameter names whose value identifies the reader or logs them in.
const PERSONAL_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "auth",
    "auth_token",
    "login_token",
    "magic_token",
    "session",
    "sessionid",
    "jwt",
    "email",
    "e-mail",
    "mail",
    "recipient",
    "subscriber",
    "subscriber_id",
    "subscriberid",
    "uid",
    "user_id",
    "userid",
    "member",
    "member_id",
    "contact_id",
    "otp",
    "otptoken",
];

/// Decides what may be done with an already cleaned link.
pub(crate) fn assess(link: &str) -> Verdict {
    let Ok(u) = Url::parse(link) else {
        // Not a URL at all (a fragment, a mailto:) is not ours to judge.
        return Verdict::Publish;
    };
    if !matches!(u.scheme(), "http" | "https") {
        return Verdict::Publish;
    }
    let host = u.host_str().unwrap_or("").to_ascii_lowercase();
    let path = u.path().to_ascii_lowercase();
    let lower = link.to_ascii_lowercase();

    if is_action_path(&path) {
        return Verdict::Drop("an unsubscribe, login or confirmation link");
    }
    if contains_address(&lower) {
        return Verdict::Drop("carries an email address");
    }
    if contains_jwt(link) {
        return Verdict::Drop("carries a login token (JWT)");
    }
    for (k, v) in u.query_pairs() {
        let k = k.to_ascii_lowercase();
        if v.is_empty() {
            continue;
        }
        if PERSONAL_PARAMS.contains(&k.as_str()) {
            return Verdict::Drop("carries a subscriber id or login token");
        }
        if is_action_segment(&k) {
            return Verdict::Drop("an unsubscribe, login or confirmation link");
        }
    }
    for suffix in host_suffixes(&host) {
        for (h, p, what) in OPAQUE_TRACKERS {
            if suffix == *h && path.starts_with(p) {
                return Verdict::Resolve(what);
            }
        }
    }
    if host == "t.co" {
        return Verdict::Resolve("shortener");
    }
    for (p, what) in OPAQUE_PATHS {
        if path.starts_with(p) {
            return Verdict::Resolve(what);
        }
    }
    // Mailgun tokens that are not the decodable `eJ…` kind.
    if host.starts_with("email.") && path.starts_with("/c/") {
        return Verdict::Resolve("Mailgun click tracker");
    }
    Verdict::Publish
}

/// Whether a (lowercase) path names an action endpoint in one of its segments.
pub(crate) fn is_action_path(path: &str) -> bool {
    path.split('/').any(is_action_segment)
}

/// A path segment (or parameter name) that names an action endpoint: one of
/// [`ACTION_SEGMENTS`] with or without an extension, or a short segment with an unsubscribe
/// word (`email-unsubscribe.aspx`).
fn is_action_segment(segment: &str) -> bool {
    let stem = segment.split('.').next().unwrap_or(segment);
    if ACTION_SEGMENTS.contains(&stem) {
        return true;
    }
    let words: Vec<&str> = stem.split(['-', '_']).collect();
    words.len() <= 3 && words.iter().any(|w| UNSUBSCRIBE_WORDS.contains(w))
}

/// Whether a query parameter (lowercase name, decoded value) carries the reader's identity:
/// a subscriber id or login token by its name, or an address or a JWT in its value.
/// `raw_value` is as sent (percent-encoded); it is decoded only when it could hold either.
pub(crate) fn is_personal_param(name: &str, raw_value: &str) -> bool {
    if raw_value.is_empty() {
        return false;
    }
    if PERSONAL_PARAMS.contains(&name) {
        return true;
    }
    if !(raw_value.contains('@') || raw_value.contains("%40") || raw_value.contains("eyJ")) {
        return false;
    }
    let value = percent_encoding::percent_decode_str(raw_value).decode_utf8_lossy();
    contains_address(&value.to_ascii_lowercase()) || contains_jwt(&value)
}

/// An email address anywhere in the URL, plain or percent-encoded (`%40`).
fn contains_address(lower: &str) -> bool {
    let after_authority = lower
        .find("://")
        .map(|i| {
            let rest = &lower[i + 3..];
            rest.find('/').map(|j| &rest[j..]).unwrap_or("")
        })
        .unwrap_or(lower);
    for (i, _) in after_authority.match_indices(['@']) {
        if looks_like_address(after_authority, i, 1) {
            return true;
        }
    }
    for (i, _) in after_authority.match_indices("%40") {
        if looks_like_address(after_authority, i, 3) {
            return true;
        }
    }
    false
}

fn looks_like_address(s: &str, at: usize, at_len: usize) -> bool {
    let local = s[..at]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        .count();
    let domain: String = s[at + at_len..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    local > 0 && domain.contains('.') && !domain.ends_with('.') && !domain.starts_with('.')
}

/// A JSON Web Token: `eyJ` base64url header, `.`, payload, `.`.
fn contains_jwt(link: &str) -> bool {
    link.match_indices("eyJ").any(|(i, _)| {
        let rest = &link[i..];
        let token: &str = rest
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .next()
            .unwrap_or("");
        let parts: Vec<&str> = token.split('.').collect();
        parts.len() >= 3 && parts[0].len() >= 10 && parts[1].len() >= 10
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let cases = [
            ("https://example.org/a?id=5", Verdict::Publish),
            ("https://github.com/me@2x/x", Verdict::Publish),
            (
                "https://weeklystack.us21.list-manage.com/track/click?u=4a1f&id=9c1&e=b7c2f90d13",
                Verdict::Resolve("Mailchimp click tracker"),
            ),
            (
                "https://u123.ct.sendgrid.net/ls/click?upn=u001.abc",
                Verdict::Resolve("SendGrid click tracker"),
            ),
            (
                "https://url4412.brand.com/ls/click?upn=u001.abc",
                Verdict::Resolve("SendGrid-style click tracker"),
            ),
            (
                "https://ad.doubleclick.net/ddm/trackclk/N1424.26AXIOS/B2696.3240;dc_trk_aid=51",
                Verdict::Resolve("ad click tracker"),
            ),
            (
                "https://e.org/a?who=jane.doe%40example.com",
                Verdict::Drop("carries an email address"),
            ),
            (
                "https://e.org/u/jane@example.com/x",
                Verdict::Drop("carries an email address"),
            ),
            (
                "https://e.org/a?token=abc",
                Verdict::Drop("carries a subscriber id or login token"),
            ),
            (
                "https://e.org/p?x=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.sig",
                Verdict::Drop("carries a login token (JWT)"),
            ),
            (
                "https://news.example.com/unsubscribe?u=1",
                Verdict::Drop("an unsubscribe, login or confirmation link"),
            ),
        ];
        for (link, expected) in cases {
            assert_eq!(assess(link), expected, "{link}");
        }
    }

    #[test]
    fn actions_are_whole_segments_not_words_inside_a_slug() {
        let articles = [
            "https://blog.example.com/2026/design-in-the-age-of-ai",
            "https://news.example.com/politics/minister-to-resign-in-protest",
            "https://sports.example.com/college/national-signing-day-winners",
            "https://travel.example.com/magic-kingdom-reopens",
            "https://example.com/why-readers-login-less-often-a-study",
        ];
        for a in articles {
            assert_eq!(assess(a), Verdict::Publish, "{a}");
        }
        let actions = [
            "https://app.example.com/login",
            "https://app.example.com/account/sign-in?next=%2F",
            "https://app.example.com/users/signin.php",
            "https://mail.example.com/email-unsubscribe.aspx?id=4",
            "https://news.example.com/unsubscribe/8f2a",
            "https://app.example.com/auth/magic-link",
            "https://example.com/?unsubscribe=1",
        ];
        for a in actions {
            assert_eq!(
                assess(a),
                Verdict::Drop("an unsubscribe, login or confirmation link"),
                "{a}"
            );
        }
    }

    #[test]
    fn personal_params_by_name_or_value() {
        assert!(is_personal_param("token", "abc"));
        assert!(is_personal_param("who", "jane.doe%40example.com"));
        assert!(is_personal_param(
            "x",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.sig"
        ));
        assert!(!is_personal_param("token", ""));
        assert!(!is_personal_param("id", "12345"));
        assert!(!is_personal_param("img", "icon@2x"));
    }
}
