//! Newsletter furniture, recognised by what it is: links and blocks that are the sender's
//! template (view online, unsubscribe, share, addresses, calls to action, sponsor labels), not
//! stories.

/// Text or URL fragments that mark a link as newsletter furniture, not a story.
pub(super) const BOILERPLATE: &[&str] = &[
    "unsubscribe",
    "view in browser",
    "view in your browser",
    "view this email",
    "view it in your browser",
    "view online",
    "web version",
    "read online",
    "open in browser",
    "email preferences",
    "update your preferences",
    "manage preferences",
    "manage your subscription",
    "manage subscription",
    "update profile",
    "update your profile",
    "forward to a friend",
    "forward this email",
    "share this",
    "tweet this",
    "read in app",
    "open in app",
    "download the app",
    "app store",
    "google play",
    "privacy policy",
    "terms of service",
    "terms of use",
    "contact us",
    "advertise with us",
    "sponsor this",
    "subscribe now",
    "opt out",
    "opt-out",
    "whitelist",
    "add us to your address book",
    "/unsubscribe",
    "list-manage.com/unsubscribe",
    "list-manage.com/profile",
    "twitter.com/intent",
    "twitter.com/share",
    "x.com/intent",
    "facebook.com/sharer",
    "linkedin.com/share",
    "linkedin.com/sharing",
    "reddit.com/submit",
    "pinterest.com/pin/create",
    "wa.me/",
    "whatsapp.com/send",
    "t.me/share",
    "/preferences",
    "/manage",
    // The same furniture in other languages.
    "im browser ansehen",
    "online ansehen",
    "abmelden",
    "abbestellen",
    "voir dans le navigateur",
    "version en ligne",
    "se désabonner",
    "désinscription",
    "ver en el navegador",
    "darse de baja",
    "cancelar suscripción",
];

pub(super) const GENERIC_LINK_TEXT: &[&str] = &[
    "read more",
    "continue reading",
    "click here",
    "learn more",
    "more",
    "here",
    "link",
];

pub(super) const WEB_VERSION: &[&str] = &[
    "view in browser",
    "view in your browser",
    "view this email",
    "view this post",
    "view it in your browser",
    "view online",
    "web version",
    "read online",
    "read on the web",
    "open in browser",
    "im browser ansehen",
    "online ansehen",
    "voir dans le navigateur",
    "version en ligne",
    "ver en el navegador",
];

pub(super) fn is_web_version(text: &str) -> bool {
    let t = text.to_lowercase();
    WEB_VERSION.iter().any(|w| t.contains(w))
}

/// A paragraph of newsletter furniture (unsubscribe lines, addresses, legal text).
pub(super) fn is_furniture_text(p: &str) -> bool {
    let l = p.to_lowercase();
    is_web_version(&l)
        || BOILERPLATE.iter().take(40).any(|b| l.contains(b))
        || l.contains("you are receiving")
        || l.contains("you received this")
        || l.contains("you're receiving")
        || l.contains("all rights reserved")
        || l.contains("©")
        || l.contains("(c) 20")
        || is_social_junk(p)
}

/// Link texts that point onward from the story before them ("See also World Wire") rather
/// than name a story of their own.
pub(super) const RELATED_PREFIXES: &[&str] = &["see also", "related:", "also read", "more on this"];

/// True for links that are newsletter furniture rather than stories.
pub fn is_boilerplate(text: &str, url: &str) -> bool {
    let t = text.to_lowercase();
    let u = url.to_lowercase();
    u.starts_with("mailto:")
        || BOILERPLATE.iter().any(|b| t.contains(b) || u.contains(b))
        || is_related_pointer(&t)
}

pub(super) fn is_related_pointer(text: &str) -> bool {
    let t = text.trim_start().to_lowercase();
    RELATED_PREFIXES.iter().any(|p| t.starts_with(p))
}

/// A postal address or a phone line set like a headline ("Tel. 030 311 777 - 700",
/// "Reinhardtstr. 18 10117 Berlin"): seven digits or more in groups split by spaces, or
/// a street number and a four- or five-digit postcode followed by a place name.
pub(super) fn looks_like_contact(text: &str) -> bool {
    // Digits in groups split by spaces (a date, "15.02.2023" or "2022-10-14", is one group).
    let (mut run, mut spaced) = (0, false);
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 7 && spaced {
                return true;
            }
        } else if c == ' ' && run > 0 {
            spaced = true;
        } else if !matches!(c, '-' | '(' | ')' | '+') {
            (run, spaced) = (0, false);
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |w: &str, len: std::ops::RangeInclusive<usize>| {
        w.chars().all(|c| c.is_ascii_digit()) && len.contains(&w.len())
    };
    words.windows(3).any(|w| {
        number(w[0], 1..=4)
            && number(w[1], 4..=5)
            && w[2].chars().next().is_some_and(char::is_uppercase)
    })
}

/// A link that asks to be clicked rather than names a story: a generic text ("Read more",
/// "Mehr lesen") or any text that ends in an arrow ("Read it in the Journal →").
pub(super) fn is_call_to_action(text: &str) -> bool {
    let t = text.trim();
    // "»" and "›" also quote, German style »so« and French style «so»: an arrow only when
    // nothing opens the quote it would close.
    let arrow_end =
        t.ends_with(['→', '>', '⟶']) || (t.ends_with(['»', '›']) && !t.contains(['«', '‹']));
    if arrow_end || t.starts_with(['→', '>', '⟶']) {
        return true;
    }
    let lower = t.to_lowercase();
    if GENERIC_LINK_TEXT.contains(&lower.trim_end_matches(['.', '!', ' ']).trim()) {
        return true;
    }
    // A short imperative ("Read the full story", "Jetzt App laden", "Lire en ligne"); a
    // headline that opens with such a verb goes on past a colon or runs longer.
    let words: Vec<&str> = lower
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    words.len() <= MAX_CALL_TO_ACTION_WORDS
        && !t.contains(':')
        && words
            .first()
            .is_some_and(|w| CALL_TO_ACTION_VERBS.contains(w))
}

/// Longest call to action recognised by its opening verb.
pub(super) const MAX_CALL_TO_ACTION_WORDS: usize = 6;

/// Verbs that open a call to action and hardly ever a headline, in English, German and French
/// (imperatives, and the German "Jetzt …" / "Hier …" / "Alle …" forms).
pub(super) const CALL_TO_ACTION_VERBS: &[&str] = &[
    "read",
    "click",
    "see",
    "take",
    "sign",
    "share",
    "invite",
    "subscribe",
    "download",
    "shop",
    "buy",
    "order",
    "view",
    "register",
    "donate",
    "become",
    "jetzt",
    "hier",
    "alle",
    "mehr",
    "klicken",
    "klick",
    "lesen",
    "weiterlesen",
    "entdecken",
    "bestellen",
    "anmelden",
    "registrieren",
    "teilen",
    "spenden",
    "lire",
    "découvrez",
    "voir",
    "inscrivez",
    "partagez",
];

/// "Sponsored", "Presented by Acme", "Together with Acme", "— Advertisement —".
pub(super) const SPONSOR_MARKERS: &[&str] = &[
    "sponsored",
    "sponsor",
    "presented by",
    "together with",
    "in partnership with",
    "brought to you by",
    "a message from",
    "advertisement",
    "paid post",
    "partner content",
    "from our partners",
];

/// A sponsor label is short; longer text that mentions a sponsor is prose.
pub(super) const MAX_SPONSOR_LABEL_CHARS: usize = 60;

pub(super) fn is_sponsor_label(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    t.len() <= MAX_SPONSOR_LABEL_CHARS && SPONSOR_MARKERS.iter().any(|m| t.starts_with(m))
}

/// A short label in capitals ("LEAD STORY", "OTHER STORIES") heads a section, not a story.
pub(super) fn is_caps_label(p: &str) -> bool {
    p.split_whitespace().count() <= 4
        && p.chars().any(char::is_alphabetic)
        && !p.chars().any(char::is_lowercase)
}

/// `Facebooktwitterredditpinterestlinkedinmail` and friends.
pub(super) fn is_social_junk(p: &str) -> bool {
    let l = p.to_lowercase();
    let names = [
        "facebook",
        "twitter",
        "reddit",
        "pinterest",
        "linkedin",
        "whatsapp",
        "mail",
        "email",
    ];
    let hits = names.iter().filter(|n| l.contains(*n)).count();
    hits >= 3 && !l.contains(' ')
}
