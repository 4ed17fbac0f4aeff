//! The link cleaner, table-driven: every click-tracker it unwraps offline (tokens built in the
//! wrappers' real formats), the must-keep set, the seed newsletter's links, and publishability.

use tidings::links::{Cleaner, Verdict};

#[test]
fn wrappers_unwrap_offline() {
    let cases = [
        // Google redirector, plain and double-encoded; AMP cache
        ("https://www.google.com/url?q=https://pypi.org/project/Unalix&sa=D&source=editors&ust=1700000000&usg=AOvVaw3", "https://pypi.org/project/Unalix"),
        ("https://www.google.com/url?q=https%253A%252F%252Fpypi.org%252Fproject%252FUnalix", "https://pypi.org/project/Unalix"),
        ("https://www.google.co.uk/url?url=https%3A%2F%2Fexample.org%2Fa%3Fid%3D1%26utm_source%3Dg&rct=j", "https://example.org/a?id=1"),
        // Outlook Safe Links (data= carries the recipient's address)
        ("https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fexample.org%2Freport%3Fpage%3D2%26utm_campaign%3Dq3&data=05%7C02%7Cjane.doe%40corp.example%7C8a1b%7C72f988bf%7C0%7C0%7C638400000000000000&sdata=Xy%2BZ%3D&reserved=0", "https://example.org/report?page=2"),
        // Proofpoint v1, v2, v3
        ("https://urldefense.proofpoint.com/v1/url?u=https://example.org/v1?id=1&k=oIvRg1%2BdGAgOoM1BIlLLqw%3D%3D%0A&r=abc&m=def&s=ghi", "https://example.org/v1?id=1"),
        ("https://urldefense.proofpoint.com/v2/url?u=https-3A__example.org_path-3Fa-3D1-26b-3D2&d=DwMFaQ&c=euGZstcaTDllvimEN8b7jXrwqOf-v5A_CdpgnVfiiMM&r=abc&m=def&s=ghi&e=", "https://example.org/path?a=1&b=2"),
        ("https://urldefense.com/v3/__https://example.org/path?a=1*b*2__;Jj0!!ABCdef!ghiJKL$", "https://example.org/path?a=1&b=2"),
        // Substack redirect/2: destination in the JSON's `e`, referral code dropped after
        ("https://substack.com/redirect/2/eyJlIjogImh0dHBzOi8vZXhhbXBsZS5vcmcvcG9zdD9yPThvNTRuJnV0bV9tZWRpdW09ZW1haWwiLCAicCI6IDEyMywgInMiOiA0NTYsICJ1IjogNzg5LCAic3ViIjogImxpbmstcmVkaXJlY3QifQ.MEUCIQDsig", "https://example.org/post"),
        // Kit (ConvertKit): standard base64 with padding
        ("https://click.convertkit-mail4.com/xmu8ndq9/9quh7o3/aHR0cHM6Ly9zcGFya2xwLmNvL2pvc2h1YWMwM2U2Mz9ja19zdWJzY3JpYmVyX2lkPTIyOTE=", "https://sparklp.co/joshuac03e63"),
        // Mailgun legacy token: zlib query string, `l` is the destination, `r` the recipient
        ("http://email.mg.example.com/c/eJxLsU1MSlbLtDUyMDQzMDQw1DM0MnbITddLrUjMLchJ1UvOz1XLsE1LMzBQy7HNKCkpKFY1dlQ1cgMimJL8onQgL1HV2C0zRdXYxVytyDYrMS9V1cQAyRAAZQggPQ", "https://example.org/a?id=7"),
        // Mandrill: JSON whose `p` is a JSON string with `url`
        ("https://mandrillapp.com/track/click/30230333/www.shedul.com?p=eyJzIjogInNpZyIsICJ2IjogMSwgInAiOiAie1widXJsXCI6IFwiaHR0cHM6Ly93d3cuc2hlZHVsLmNvbS9wcmljaW5nP3V0bV9jYW1wYWlnbj14XCIsIFwiaWRcIjogXCJhYmNcIn0ifQ", "https://www.shedul.com/pricing"),
        // Amazon SES: awstrack.me L0, custom-domain CL0
        ("https://8xkmrjpf.r.us-east-1.awstrack.me/L0/https:%2F%2Fexample.org%2Fnews%3Fid=5%26utm_source=ses/1/0100018b2c3d4e5f-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000/aBcDeFgHiJkLmNoPqRsTuVwXyZ0=342", "https://example.org/news?id=5"),
        ("https://click.notification.elsevier.com/CL0/https:%2F%2Ffacebook.com%2FTheLancetMedicalJournal/1/0100017b6336ece0-e16eeb62-7506-49ae-9b9f-96c2e2caccc1-000000/XNF87Ruy8xfaatSlPiHGJWGJetPIroNvIDdfy0xkyW4=211", "https://www.facebook.com/TheLancetMedicalJournal"),
        // Postmark: `s` variants are https
        ("https://click.pstmrk.it/3s/example.org%2Fdocs%3Fpage%3D3/AbCd/EfGh/1a2b3c", "https://example.org/docs?page=3"),
        ("https://click.pstmrk.it/2/example.org%2Fplain/AbCd/EfGh", "http://example.org/plain"),
        // ActiveCampaign: base64 redirectUrl
        ("https://acme.lt.acemlna.com/Prod/link-tracker?redirectUrl=aHR0cHM6Ly9leGFtcGxlLm9yZy9zYWxlP2lkPTM%3D&sig=ab&iat=1700000000&a=1&account=acme&email=x&s=1&i=2", "https://example.org/sale?id=3"),
        // Customer.io: base64url JSON `href`
        ("https://e.customeriomail.com/e/c/eyJlbWFpbF9pZCI6ICJkZ1NXQ2dBPSIsICJocmVmIjogImh0dHBzOi8vZXhhbXBsZS5vcmcvZG9jcz9wYWdlPTImdXRtX3NvdXJjZT1jaW8iLCAiaW50ZXJuYWwiOiAiZjAifQ/abcdef0123", "https://example.org/docs?page=2"),
        // Sailthru (link.sfchronicle.com): base64url, then its own sid/ss/st_rid go
        ("https://link.sfchronicle.com/external/41488169.38548/aHR0cHM6Ly93d3cuaG90ZG9nYmlsbHMuY29tL2hhbWJ1cmdlci1tb2xkcy9idXJnZXItZG9nLW1vbGQ_c2lkPTY4MTNkMTljYzM0ZWJjZTE4NDA1ZGVjYSZzcz1QJnN0X3JpZD1udWxsJnV0bV9zb3VyY2U9bmV3c2xldHRlciZ1dG1fbWVkaXVtPWVtYWlsJnV0bV90ZXJtPWJyaWVmaW5nJnV0bV9jYW1wYWlnbj1zZmNfYml0ZWN1cmlvdXM/6813d19cc34ebce18405decaB7ef84e41", "https://www.hotdogbills.com/hamburger-molds/burger-dog-mold"),
        // Facebook link shim, href.li, Buttondown
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.org%2Fa%3Ffbclid%3DIwAR0x&h=AT0abc", "https://example.org/a"),
        ("https://href.li/?https://example.com/?abc=123&def=456#1", "https://example.com/?abc=123&def=456"),
        ("https://buttondown.email/c/cmlkLTEyM3xjYW1wLTl8aHR0cHM6Ly9leGFtcGxlLm9yZy9yZWFkP2lkPTl8eA", "https://example.org/read?id=9"),
        // nested: Safe Links around a Google redirect around the article
        ("https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttps%253A%252F%252Fexample.org%252Fdeep%253Fid%253D1%2526gclid%253Dx&data=05%7C02&reserved=0", "https://example.org/deep?id=1"),
    ];
    let c = Cleaner::default();
    for (input, expected) in cases {
        assert_eq!(c.clean(input), expected, "input: {input}");
        assert_eq!(c.assess(&c.clean(input)), Verdict::Publish, "{input}");
    }
}

#[test]
fn a_wrapper_whose_destination_is_not_http_is_left_alone() {
    let c = Cleaner::default();
    for input in [
        "https://www.google.com/url?q=javascript:alert(1)",
        "https://l.facebook.com/l.php?u=file%3A%2F%2F%2Fetc%2Fpasswd",
        "https://href.li/?not-a-url",
    ] {
        assert_eq!(c.clean(input), input);
    }
}

#[test]
fn a_wrapper_loop_stops() {
    // href.li pointing at itself: the loop is detected, the last good URL is kept
    let c = Cleaner::default();
    let out = c.clean("https://href.li/?https://href.li/?https://href.li/");
    assert!(out.starts_with("https://href.li/"), "{out}");
}

#[test]
fn what_must_be_kept_is_kept() {
    let keep = [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42",
        "https://www.google.com/search?q=rust+lang,regex",
        "https://news.ycombinator.com/item?id=38000000",
        "https://example.org/list?page=3",
        "https://github.com/rust-lang/rust/compare/master...x?ref=beta",
        "https://bucket.s3.amazonaws.com/f.pdf?utm_source=x&X-Amz-Credential=a%2Fb&X-Amz-Signature=deadbeef",
        "https://cdn.example.org/v.mp4?Expires=1&Signature=abc~def&Key-Pair-Id=K1&utm_medium=x",
        "https://urldefense.com/v3/__broken",
        "https://docs.julialang.org/en/v1/stdlib/REPL/#Key-bindings",
        "https://example.org/app#/route?x=1",
    ];
    let c = Cleaner::default();
    for k in keep {
        assert_eq!(c.clean(k), k, "must stay byte-identical");
    }
    let strip = [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=AbC123&feature=shared&t=42", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42"),
        ("https://youtu.be/dQw4w9WgXcQ?si=AbC123&t=42", "https://youtu.be/dQw4w9WgXcQ?t=42"),
        ("https://example.org/?ref=newsletter&id=2", "https://example.org/?id=2"),
        ("https://github.com/rust-lang/regex?utm_source=newsletter", "https://github.com/rust-lang/regex"),
        ("https://x.com/user/status/1?s=20&t=AbCdEf", "https://x.com/user/status/1"),
        ("https://news.substack.com/p/post?r=2abc&utm_medium=email&isFreemail=true&triedRedirect=true&publication_id=1&post_id=2", "https://news.substack.com/p/post"),
        ("https://e.org/a?itm_source=home&cmpid=x&mtm_campaign=y&pk_kwd=z&ns_mchannel=e&_hsenc=p2A&mkt_tok=MTM4&mc_eid=abc", "https://e.org/a"),
    ];
    for (input, expected) in strip {
        assert_eq!(c.clean(input), expected, "input: {input}");
    }
}

#[test]
fn the_seed_newsletter_links() {
    let seed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed-newsletter.txt"),
    )
    .expect("shared/seed-newsletter.txt beside the repository");
    let links: Vec<&str> = seed
        .split_whitespace()
        .filter(|w| w.starts_with("https://"))
        .collect();
    let c = Cleaner::default();
    let cleaned: Vec<String> = links.iter().map(|l| c.clean(l)).collect();
    assert_eq!(
        cleaned,
        [
            "https://www.zerohedge.com/geopolitical/here-are-all-latest-news-and-developments-ukraine-war-march-14",
            "https://www.scmp.com/news/china/diplomacy/article/3170517/ukraine-war-china-going-its-own-way-peace-process-says-foreign",
        ]
    );
}

#[test]
fn personal_data_is_never_publishable() {
    let c = Cleaner::default();
    // In the query it is removed and the page still linked.
    let removed = [
        ("https://example.org/welcome?token=abc123", "https://example.org/welcome"),
        ("https://example.org/read?email=jane%40example.com&p=2", "https://example.org/read?p=2"),
        (
            "https://example.org/p/x?jwt=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "https://example.org/p/x",
        ),
    ];
    for (link, published) in removed {
        assert_eq!(c.publishable(link).as_deref(), Some(published), "{link}");
    }
    let cases = [
        "https://weeklystack.us21.list-manage.com/track/click?u=5e8a1c3f0b2d4e6f7a8b9c0d1&id=3f9a2b7c1d&e=b7c2f90d13",
        "https://example.org/u/jane%40example.com/feed",
        "https://example.org/unsubscribe?u=1&id=2",
        "https://u123.ct.sendgrid.net/ls/click?upn=u001.Qk1Ta2J3c2Z1",
        "https://link.mail.beehiiv.com/ss/c/u001.abc/4d8/xyz/h0/def",
    ];
    for link in cases {
        assert_eq!(c.publishable(link), None, "{link}");
    }
    assert_eq!(
        c.publishable("https://example.org/a?utm_source=x&id=1")
            .as_deref(),
        Some("https://example.org/a?id=1")
    );
}
