//! Properties of the link cleaner over generated URLs (a hand-rolled generator with a fixed
//! seed, so a failure reproduces): never panics, idempotent, never adds a parameter, kept
//! parameters are byte-identical and in order, output of an http(s) input is http(s).

use tidings::links::Cleaner;

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const HOSTS: &[&str] = &[
    "example.org",
    "www.scmp.com",
    "github.com",
    "www.youtube.com",
    "x.com",
    "news.substack.com",
    "EXAMPLE.com",
    "127.0.0.1",
    "xn--bcher-kva.example",
    "www.amazon.com",
];
const PATHS: &[&str] = &[
    "",
    "/",
    "/a/b",
    "/news/article/1/x",
    "/watch",
    "/p/%7Efoo",
    "/a/../b",
    "/ref=abc/x",
    "/dp/B0/ref=x",
];
const NAMES: &[&str] = &[
    "utm_source",
    "UTM_Medium",
    "id",
    "page",
    "q",
    "v",
    "t",
    "si",
    "ref",
    "fbclid",
    "gclid",
    "x%5Fy",
    "a+b",
    "",
    "mc_eid",
    "tpcc",
    "r",
    "token",
    "utm_",
    "%75tm_source",
];
const VALUES: &[&str] = &[
    "",
    "1",
    "a+b",
    "a,b",
    "%2C",
    "x%20y",
    "é",
    "==",
    "https://e.org/?a=1",
    "%",
    "%zz",
];

fn generate(rng: &mut Rng) -> String {
    let scheme = rng.pick(&["https://", "http://", "HTTPS://", "ftp://", "mailto:"]);
    let mut s = format!("{scheme}{}{}", rng.pick(HOSTS), rng.pick(PATHS));
    let n = rng.next() % 6;
    if n > 0 || rng.next().is_multiple_of(4) {
        s.push('?');
    }
    for i in 0..n {
        if i > 0 {
            s.push_str(rng.pick(&["&", "&", "&&"]));
        }
        s.push_str(rng.pick(NAMES));
        if !rng.next().is_multiple_of(5) {
            s.push('=');
            s.push_str(rng.pick(VALUES));
        }
    }
    match rng.next() % 5 {
        0 => s.push_str("#top"),
        1 => s.push_str("#utm_source=x&a=1"),
        2 => s.push('#'),
        _ => {}
    }
    s
}

fn pairs(link: &str) -> Vec<&str> {
    let before = link.split('#').next().unwrap_or("");
    before
        .split_once('?')
        .map(|(_, q)| q.split('&').filter(|p| !p.is_empty()).collect())
        .unwrap_or_default()
}

#[test]
fn cleaning_properties_hold_on_generated_urls() {
    let c = Cleaner::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let input = generate(&mut rng);
        let once = c.clean(&input);
        assert_eq!(c.clean(&once), once, "idempotent: {input}");
        let is_http = input.to_ascii_lowercase().starts_with("http");
        if is_http && url::Url::parse(&input).is_ok() {
            let out = url::Url::parse(&once).expect("output parses");
            assert!(
                matches!(out.scheme(), "http" | "https"),
                "{input} -> {once}"
            );
        } else {
            assert_eq!(once, input, "not http(s): untouched");
        }
        // never adds a parameter; kept ones keep their bytes and order
        let before = pairs(&input);
        let after = pairs(&once);
        let mut it = before.iter();
        for p in &after {
            assert!(
                it.any(|b| b == p),
                "{p} not an input pair, or reordered: {input} -> {once}"
            );
        }
    }
}

#[test]
fn garbage_never_panics() {
    let c = Cleaner::default();
    let mut rng = Rng(42);
    let alphabet: Vec<char> = "hts:/?#&=%.@[]+-_~aZ09 \u{e9}\u{1F600}".chars().collect();
    for _ in 0..20_000 {
        let len = (rng.next() % 60) as usize;
        let mut s = String::from(if rng.next().is_multiple_of(2) {
            "https://"
        } else {
            ""
        });
        for _ in 0..len {
            s.push(alphabet[(rng.next() % alphabet.len() as u64) as usize]);
        }
        let out = c.clean(&s);
        let _ = c.assess(&out);
    }
}
