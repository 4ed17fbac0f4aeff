//! The tracking-parameter rules, grouped by vendor, each with its reason.
//!
//! Parameter names are facts gathered from the public lists described in
//! `shared/linkdata/SOURCES.md` (ClearURLs, Brave's query filter, Firefox's strip list); the
//! lists themselves are not copied in. A name ending in `*` matches every name with that prefix.
//! Matching is ASCII case-insensitive on the percent-decoded parameter name.

/// A parameter rule that applies on every host.
pub struct GlobalRule {
    pub vendor: &'static str,
    pub reason: &'static str,
    pub params: &'static [&'static str],
}

/// A rule for one site (the host and its subdomains).
pub struct HostRule {
    pub host: &'static str,
    pub reason: &'static str,
    pub params: &'static [&'static str],
}

pub const GLOBAL: &[GlobalRule] = &[
    GlobalRule {
        vendor: "Google Analytics campaign tags",
        reason: "campaign attribution, identical for every reader but says how you got there",
        params: &["utm_*"],
    },
    GlobalRule {
        vendor: "Google Ads",
        reason: "ad click identifiers, unique per click",
        params: &["gclid", "gclsrc", "dclid", "gbraid", "wbraid", "_ga", "_gl"],
    },
    GlobalRule {
        vendor: "Meta / Facebook / Instagram",
        reason: "click identifiers unique per click or user",
        params: &["fbclid", "igshid", "igsh"],
    },
    GlobalRule {
        vendor: "Microsoft Ads",
        reason: "click identifier",
        params: &["msclkid"],
    },
    GlobalRule {
        vendor: "Mailchimp",
        reason: "mc_eid identifies the subscriber; mc_cid the campaign",
        params: &["mc_eid", "mc_cid", "mc_tc"],
    },
    GlobalRule {
        vendor: "HubSpot",
        reason: "per-recipient email tracking tokens",
        params: &[
            "_hsenc",
            "_hsmi",
            "__hstc",
            "__hssc",
            "__hsfp",
            "hsctatracking",
        ],
    },
    GlobalRule {
        vendor: "Marketo",
        reason: "per-recipient token",
        params: &["mkt_tok"],
    },
    GlobalRule {
        vendor: "Yandex, TikTok, Twitter/X, LinkedIn, Pinterest click ids",
        reason: "click identifiers",
        params: &[
            "yclid",
            "ttclid",
            "twclid",
            "li_fat_id",
            "epik",
            "rb_clickid",
        ],
    },
    GlobalRule {
        vendor: "Oracle Eloqua / Adobe / Matomo / Piwik / comScore campaign tags",
        reason: "campaign attribution",
        params: &[
            "elqtrackid",
            "elqtrack",
            "elqaid",
            "elqat",
            "elqcampaignid",
            "s_cid",
            "mtm_*",
            "pk_*",
            "piwik_*",
            "matomo_*",
            "ns_*",
        ],
    },
    GlobalRule {
        vendor: "Vero / Omeda / Sailthru / Drip / Klaviyo",
        reason: "per-recipient email tracking",
        params: &[
            "vero_id",
            "vero_conv",
            "oly_anon_id",
            "oly_enc_id",
            "__s",
            "_ke",
            "_kx",
        ],
    },
];

pub const HOSTS: &[HostRule] = &[
    HostRule {
        host: "scmp.com",
        reason: "newsletter tracking: campaign (tpcc, CMCampaignID), subscriber (UUID), reading-list state",
        params: &["tpcc", "uuid", "next_article_id", "article_id_list", "tc", "cmcampaignid", "campaign", "module", "pgtype"],
    },
    HostRule {
        host: "substack.com",
        reason: "referral and subscriber state added to every newsletter link",
        params: &["r", "publication_id", "post_id", "isfreemail", "triedredirect", "triggershare", "token", "s"],
    },
    HostRule {
        host: "youtube.com",
        reason: "share identifiers (`v` and `t` are kept)",
        params: &["si", "feature", "pp"],
    },
    HostRule {
        host: "youtu.be",
        reason: "share identifiers (`t` is kept)",
        params: &["si", "feature"],
    },
    HostRule {
        host: "twitter.com",
        reason: "referrer tracking",
        params: &["ref_src", "ref_url", "s", "t"],
    },
    HostRule {
        host: "x.com",
        reason: "referrer tracking",
        params: &["ref_src", "ref_url", "s", "t"],
    },
    HostRule {
        host: "nytimes.com",
        reason: "newsletter campaign and subscriber tags",
        params: &["smid", "smtyp", "emc", "nl", "te", "campaign_id", "instance_id", "segment_id", "user_id", "regi_id"],
    },
    HostRule {
        host: "amazon.com",
        reason: "referral tracking (`tag` affiliate ids are kept, they pay the author)",
        params: &["ref_", "pd_rd_*", "pf_rd_*", "psc", "qid", "sr", "crid", "sprefix", "dib", "dib_tag"],
    },
];
