//! Measurement: tidings' cleaner against ClearURLs' own rules on the public test corpora in
//! `../shared/linkdata` (read at run time, never copied). Prints the table; asserts that every
//! tracking case is right and that tidings gets strictly more right than ClearURLs.
//!
//! Run: `cargo test --test link_corpus -- --nocapture`
//!
//! Of URL Cleaner's bundled suite only the `offline` job is used. Left out: its mode and
//! flag jobs (`offline-no_network`, `offline-tor2web2tor`, `offline-*_mode-*`,
//! `offline-client_type-*`, `offline-furaffinity-unmangle`, `offline-tumblr_unsubdomain_blog`),
//! which test URL Cleaner's site-rewriting choices (front-ends, mobile/desktop, embeds), and
//! `online`, which needs the network. Inside `offline`, the cases [`rewriting`] names are
//! site rewriting or URL normalisation, not tracking: they are counted but not targeted.

use std::path::PathBuf;
use std::sync::Arc;

use tidings::links::clearurls::ClearUrls;
use tidings::links::Cleaner;

/// Why an `offline` case is site rewriting or normalisation rather than tracking, if it is.
fn rewriting(input: &str) -> Option<&'static str> {
    let host = url::Url::parse(input)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if host == "bsky.app" || host == "fxbsky.app" || host.ends_with(".bsky.social") {
        return Some("completes Bluesky handles / rewrites a front-end");
    }
    if input == "https://twitter.com" || input == "https://vxtwitter.com" {
        return Some("rewrites twitter.com to x.com, a front-end to its repository");
    }
    if input.starts_with("https://www.amazon.ca/UGREEN") {
        return Some("drops the product slug (the ClearURLs corpus expects it kept)");
    }
    if input.starts_with("https://amazon.com/gp/offer-listing/") {
        return Some("rewrites the page to /dp/…?aod=1");
    }
    if host.ends_with('.') {
        return Some("removes the host's trailing dot (normalisation)");
    }
    None
}

fn linkdata() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/linkdata");
    assert!(
        p.join("clearurls-data.min.json").is_file(),
        "the measurement corpus is missing: expected `{}` (shared/linkdata beside the repository)",
        p.display()
    );
    p
}

struct Case {
    corpus: &'static str,
    input: String,
    expect: String,
    note: String,
    tracking: bool,
}

fn cases() -> Vec<Case> {
    let dir = linkdata();
    let mut out = Vec::new();
    let jsonl = std::fs::read_to_string(dir.join("cases-clearurls-semantics.jsonl")).unwrap();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        out.push(Case {
            corpus: "clearurls-semantics",
            input: v["in"].as_str().unwrap().into(),
            expect: v["expect"].as_str().unwrap().into(),
            note: v["note"].as_str().unwrap_or("").into(),
            tracking: true,
        });
    }
    let suite: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("url-cleaner-bundled-test-suite.json")).unwrap(),
    )
    .unwrap();
    let job = suite["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "offline")
        .expect("the `offline` job");
    for t in job["tests"].as_array().unwrap() {
        let Some(input) = t["task"].as_str() else {
            continue;
        };
        out.push(Case {
            corpus: "url-cleaner offline",
            input: input.into(),
            expect: t["expect"].as_str().unwrap().into(),
            note: String::new(),
            tracking: rewriting(input).is_none(),
        });
    }
    out
}

/// Equal as URLs: both sides go through the WHATWG parser, which adds the root path `/` and
/// lowercases the host, so `https://x.com` and `https://x.com/` are the same answer. A case
/// whose note asks for https where its expectation says http accepts the https answer.
fn same(got: Option<&str>, case: &Case) -> bool {
    let Some(got) = got else { return false };
    let norm = |s: &str| {
        url::Url::parse(s)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| s.to_string())
    };
    if norm(got) == norm(&case.expect) {
        return true;
    }
    case.note.contains("use https")
        && case.expect.starts_with("http://")
        && norm(got) == norm(&case.expect.replacen("http://", "https://", 1))
}

#[test]
fn tidings_beats_clearurls_on_the_public_corpora() {
    let dir = linkdata();
    let clearurls = Arc::new(ClearUrls::load(&dir.join("clearurls-data.min.json")).unwrap());
    let baseline = Cleaner::clearurls_only(clearurls);
    let ours = Cleaner::default();

    let cases = cases();
    let mut rows = Vec::new();
    let (mut ours_right, mut theirs_right, mut tracking, mut tracking_right) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for c in &cases {
        let got = ours.clean(&c.input);
        let theirs = baseline(&c.input);
        let ok = same(Some(&got), c);
        let theirs_ok = same(theirs.as_deref(), c);
        ours_right += ok as usize;
        theirs_right += theirs_ok as usize;
        if c.tracking {
            tracking += 1;
            tracking_right += ok as usize;
            if !ok {
                misses.push(format!(
                    "  {}\n    got    {}\n    expect {}",
                    c.input, got, c.expect
                ));
            }
        }
        rows.push((c.corpus, c.tracking, ok, theirs_ok));
    }

    println!("\nlink cleaning, exact answers (URL-equal) on shared/linkdata:");
    println!(
        "{:<28} {:>6} {:>8} {:>10}",
        "corpus / kind", "cases", "tidings", "ClearURLs"
    );
    for corpus in ["clearurls-semantics", "url-cleaner offline"] {
        for tracking_kind in [true, false] {
            let r: Vec<_> = rows
                .iter()
                .filter(|r| r.0 == corpus && r.1 == tracking_kind)
                .collect();
            if r.is_empty() {
                continue;
            }
            println!(
                "{:<28} {:>6} {:>8} {:>10}",
                format!(
                    "{corpus} ({})",
                    if tracking_kind {
                        "tracking"
                    } else {
                        "rewriting"
                    }
                ),
                r.len(),
                r.iter().filter(|r| r.2).count(),
                r.iter().filter(|r| r.3).count()
            );
        }
    }
    println!(
        "{:<28} {:>6} {:>8} {:>10}",
        "all",
        cases.len(),
        ours_right,
        theirs_right
    );
    println!("tracking cases right: {tracking_right}/{tracking}");
    if !misses.is_empty() {
        println!("tracking cases missed:\n{}", misses.join("\n"));
    }
    assert_eq!(
        tracking_right, tracking,
        "every tracking case must be right"
    );
    assert!(
        ours_right > theirs_right,
        "tidings ({ours_right}) must beat ClearURLs ({theirs_right})"
    );
}

/// The peers' own test cases (`../shared/realworld/urls/cases.jsonl`, 110 cases from eight
/// projects), read at run time. Lines where tidings deliberately differs are listed in
/// `tests/fixtures/links/peer_choices.toml` with the reason; every other line must be right,
/// and every `keep` case byte-identical.
#[test]
fn peers_test_cases_from_eight_projects() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld/urls/cases.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the peers' URL cases are missing: expected `{}` (shared/realworld beside the repository): {e}",
            path.display()
        )
    });
    let choices: toml::Value = toml::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/links/peer_choices.toml"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut why_differ = std::collections::BTreeMap::new();
    for c in choices["choice"].as_array().unwrap() {
        for l in c["lines"].as_array().unwrap() {
            why_differ.insert(
                l.as_integer().unwrap() as usize,
                c["why"].as_str().unwrap().to_string(),
            );
        }
    }

    let clearurls = Arc::new(ClearUrls::load(&linkdata().join("clearurls-data.min.json")).unwrap());
    let baseline = Cleaner::clearurls_only(clearurls);
    let ours = Cleaner::default();

    let (mut agreed, mut ours_right, mut theirs_right, mut ours_all) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    let mut theirs_only = Vec::new();
    let mut keep_changed = Vec::new();
    let mut differ = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let n = i + 1;
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (input, expect) = (v["in"].as_str().unwrap(), v["expect"].as_str().unwrap());
        let compare = v["compare"].as_str().unwrap_or("exact");
        let got = ours.clean(input);
        let ok = equal_as(compare, &got, expect);
        let theirs_ok = baseline(input).is_some_and(|t| equal_as(compare, &t, expect));
        ours_all += ok as usize;
        if v["kind"] == "keep" && input == expect && got != input && !why_differ.contains_key(&n) {
            keep_changed.push(format!("  line {n}: {input}\n    became {got}"));
        }
        if let Some(why) = why_differ.get(&n) {
            differ.push(format!(
                "  line {n} ({}): {why}\n    we give {got}",
                if ok { "agrees anyway" } else { "differs" }
            ));
            continue;
        }
        agreed += 1;
        ours_right += ok as usize;
        theirs_right += theirs_ok as usize;
        if !ok {
            misses.push(format!(
                "  line {n}: {input}\n    got    {got}\n    expect {expect}"
            ));
            if theirs_ok {
                theirs_only.push(n);
            }
        }
    }
    println!("\npeers' URL cases (shared/realworld/urls/cases.jsonl):");
    println!("  where the peers agree with our choice: tidings {ours_right}/{agreed}, ClearURLs rules {theirs_right}/{agreed}");
    println!(
        "  all cases as the peers wrote them:     tidings {ours_all}/{}",
        text.lines().count()
    );
    println!("deliberate differences:\n{}", differ.join("\n"));
    if !misses.is_empty() {
        println!("missed:\n{}", misses.join("\n"));
    }
    assert!(
        keep_changed.is_empty(),
        "must-keep URLs changed:\n{}",
        keep_changed.join("\n")
    );
    assert!(
        theirs_only.is_empty(),
        "ClearURLs is right where tidings is wrong on lines {theirs_only:?}"
    );
    assert_eq!(
        ours_right, agreed,
        "every case where the peers agree must be right"
    );
}

/// Compares as the case says: `exact` as WHATWG URLs (the parser adds the root `/`),
/// `query-unordered` with the query as a multiset of decoded pairs (Miniflux), `normalized`
/// with the query pairs sorted (courlan).
fn equal_as(compare: &str, got: &str, expect: &str) -> bool {
    let parse = |s: &str| url::Url::parse(s).ok();
    let (Some(g), Some(e)) = (parse(got), parse(expect)) else {
        return got == expect;
    };
    match compare {
        "exact" => g.as_str() == e.as_str(),
        _ => {
            let pairs = |u: &url::Url| {
                let mut p: Vec<(String, String)> =
                    u.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
                p.sort();
                p
            };
            let frag = |u: &url::Url| u.fragment().filter(|f| !f.is_empty()).map(str::to_string);
            (g.scheme(), g.host_str(), g.path(), frag(&g))
                == (e.scheme(), e.host_str(), e.path(), frag(&e))
                && pairs(&g) == pairs(&e)
        }
    }
}

/// The links of 6,366 real news headlines (`../shared/realworld/stories/`, UCI News
/// Aggregator): articles, not actions. None may be withheld as an unsubscribe or login link
/// (words such as "design-in", "resign-in", "signing", "magic-kingdom" once were), and none
/// may be dropped for personal data that cleaning could have removed instead.
#[test]
fn real_article_links_are_not_taken_for_actions() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/realworld/stories/uci-news-aggregator.head.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the real headlines are missing: expected `{}` (shared/realworld beside the repository): {e}",
            path.display()
        )
    });
    let cleaner = Cleaner::default();
    let (mut links, mut actions, mut other) = (0, Vec::new(), std::collections::BTreeMap::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(url) = v["url"].as_str() else {
            continue;
        };
        links += 1;
        let cleaned = cleaner.clean(url);
        match cleaner.assess(&cleaned) {
            tidings::links::Verdict::Publish => {}
            tidings::links::Verdict::Drop(why) if why.starts_with("an unsubscribe") => {
                actions.push(cleaned)
            }
            v => *other.entry(format!("{v:?}")).or_insert(0usize) += 1,
        }
    }
    println!(
        "\nreal headline links: {links}; taken for actions: {}; others withheld: {other:?}",
        actions.len()
    );
    assert!(links > 6000, "expected the 6,366 headlines, read {links}");
    assert!(
        actions.is_empty(),
        "article links taken for unsubscribe/login links:\n{}",
        actions.join("\n")
    );
    let personal: usize = other
        .iter()
        .filter(|(k, _)| k.contains("subscriber") || k.contains("address"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        personal, 0,
        "links dropped for personal data that cleaning should have removed: {other:?}"
    );
}

/// How much of each public list tidings' rules cover, as the table in README.md's "Link
/// cleaning" section (between the `link-coverage` markers). Parameters are counted by asking
/// the cleaner to strip each name (`?<name>=1` on a neutral host), so prefixes, families and
/// site rules count as they really work; Brave's debounce rules are counted by unwrapping a
/// link built from each rule. `TIDINGS_UPDATE_README=1` rewrites the table.
#[test]
fn readme_table_of_rule_coverage_is_current() {
    let dir = linkdata();
    let ours = Cleaner::default();
    let strips = |name: &str| {
        let probe = format!("https://neutral.example/p?{name}=1&keep=1");
        ours.clean(&probe) == "https://neutral.example/p?keep=1"
    };
    let mut rows: Vec<(String, usize, usize)> = Vec::new();

    // The eight lists behind consensus-params.json, by how many of their global names we strip.
    let consensus: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("consensus-params.json")).unwrap())
            .unwrap();
    let mut per_list: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let (mut two, mut two_ours) = (0, 0);
    for p in consensus.as_array().unwrap() {
        let name = p["param"].as_str().unwrap();
        let hit = strips(name);
        let lists = p["lists"].as_array().unwrap();
        for l in lists {
            let e = per_list.entry(l.as_str().unwrap().to_string()).or_default();
            e.0 += 1;
            e.1 += hit as usize;
        }
        if lists.len() >= 2 {
            two += 1;
            two_ours += hit as usize;
        }
    }
    for (list, (n, hit)) in &per_list {
        rows.push((format!("{list}: global parameters"), *n, *hit));
    }
    rows.push(("named by two or more of those lists".into(), two, two_ours));

    // Brave's clean-urls list: its global names, and its per-site names on their own hosts.
    let brave: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("brave-clean-urls.json")).unwrap())
            .unwrap();
    let (mut g, mut g_ours) = (std::collections::BTreeSet::new(), 0);
    let (mut site, mut site_ours) = (0, 0);
    for r in brave.as_array().unwrap() {
        let include: Vec<&str> = r["include"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let params = r["params"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str());
        if include == ["*://*/*"] {
            for p in params {
                if g.insert(p.to_ascii_lowercase()) {
                    g_ours += strips(p) as usize;
                }
            }
            continue;
        }
        // Each (host, parameter) pair of a site rule, probed on that host.
        for inc in &include {
            let Some(host) = inc.split("://").nth(1).and_then(|h| h.split('/').next()) else {
                continue;
            };
            let host = host.trim_start_matches("*.");
            if host.contains('*') {
                continue;
            }
            for p in r["params"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str())
            {
                site += 1;
                let probe = format!("https://{host}/p?{p}=1");
                site_ours += (ours.clean(&probe) == format!("https://{host}/p")) as usize;
            }
        }
    }
    rows.push((
        "Brave clean-urls: global parameters".into(),
        g.len(),
        g_ours,
    ));
    rows.push((
        "Brave clean-urls: (site, parameter) pairs".into(),
        site,
        site_ours,
    ));

    // Brave's debounce (redirector) rules: one link built from each, unwrapped or not.
    let debounce: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("brave-debounce.json")).unwrap())
            .unwrap();
    let (mut redirectors, mut unwrapped) = (0, 0);
    let target = "https://destination.example/story?id=7";
    let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    for r in debounce.as_array().unwrap() {
        let inc = r["include"][0].as_str().unwrap();
        if inc.contains("brave.software") || inc.contains("bravesoftware") {
            continue; // Brave's own test pages
        }
        let base = inc.replacen("*://", "https://", 1).replace("*.", "www.");
        let link = match r["action"].as_str().unwrap() {
            "redirect" => {
                let base = base.trim_end_matches('*').trim_end_matches('?');
                let sep = if base.contains('?') { "&" } else { "?" };
                format!("{base}{sep}{}={encoded}", r["param"].as_str().unwrap())
            }
            "base64,redirect" => {
                use base64::Engine;
                let b = base64::engine::general_purpose::STANDARD.encode(target);
                let base = base.trim_end_matches('*').trim_end_matches('?');
                format!("{base}?{}={b}", r["param"].as_str().unwrap())
            }
            // Path rules: the destination as the rule's capture, after the literal prefix.
            _ => {
                let pattern = r["param"].as_str().unwrap_or("");
                // The rule's literal path before its capture, when it is plain enough.
                let literal = pattern
                    .trim_start_matches('^')
                    .split('(')
                    .next()
                    .unwrap_or("");
                let literal = literal.replace("[^/]+", "x");
                let origin = base.split('/').take(3).collect::<Vec<_>>().join("/");
                let prefix = if literal.contains(['[', '?', '*']) || literal.is_empty() {
                    base.trim_end_matches('*').to_string()
                } else {
                    format!("{origin}{literal}")
                };
                if pattern.starts_with("^/c/s/") || pattern.starts_with("^/amp/s/") {
                    format!("{prefix}destination.example/story?id=7")
                } else if pattern.contains("/s(/") {
                    continue; // Yandex Turbo pages: a host template, not a URL
                } else if pattern.starts_with("^/([^/]+)$") {
                    continue; // y2u.be: a video id, not a URL
                } else if pattern.ends_with("(.*)$") {
                    format!("{prefix}{encoded}")
                } else {
                    format!("{prefix}{encoded}/tail")
                }
            }
        };
        redirectors += 1;
        if ours.clean(&link) == target {
            unwrapped += 1;
        } else {
            println!("  debounce rule not unwrapped: {link}");
        }
    }
    rows.push(("Brave debounce: redirectors".into(), redirectors, unwrapped));

    let mut table = String::from(
        "| list | its entries | removed or unwrapped by tidings |\n| --- | --- | --- |\n",
    );
    for (what, n, hit) in &rows {
        table.push_str(&format!("| {what} | {n} | {hit} |\n"));
    }
    println!("\n{table}");
    let readme_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (start, end) = (
        "<!-- link-coverage:start -->\n",
        "<!-- link-coverage:end -->",
    );
    let a = readme
        .find(start)
        .expect("README.md has the link-coverage markers")
        + start.len();
    let b = readme
        .find(end)
        .expect("README.md has the link-coverage end marker");
    if readme[a..b] != table {
        if std::env::var_os("TIDINGS_UPDATE_README").is_some() {
            std::fs::write(
                &readme_path,
                format!("{}{table}{}", &readme[..a], &readme[b..]),
            )
            .unwrap();
        } else {
            panic!("README.md's coverage table is stale; run with TIDINGS_UPDATE_README=1. Now:\n{table}");
        }
    }
    assert_eq!(
        two_ours, two,
        "every parameter two public lists name is covered"
    );
}
