//! The digest in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `tests/mail/install.sh`) lays out `digest.html` at 375 px (a phone) and 1024 px (a desktop),
//! in light and dark mode. The page must not scroll sideways, every link must be on screen,
//! and dark mode must really be dark. Screenshots are kept in
//! `target/tmp/browser/` for a human to look at.
//!
//! Headless Chromium will not make a window narrower than 500 px, so the digest is laid out
//! inside an iframe of the exact width: the iframe is the digest's viewport, media queries
//! included. A small measuring page (served with the digest from the same origin, so its
//! script may read the iframe) writes what it found into an attribute that `--dump-dom` prints.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{HttpServer, Route};

/// A feed written to break layouts: an unbroken 150-letter word in a title, a long URL as
/// text, preformatted code wider than any phone, a wide table, an image 2000 px wide.
fn stress_feed() -> String {
    let long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(3);
    let wide_code = format!("fn main() {{ let x = {}; }}", "1 + ".repeat(60));
    let wide_table = format!(
        "<table><tr>{}</tr></table>",
        "<td>column&nbsp;with&nbsp;a&nbsp;long&nbsp;heading</td>".repeat(12)
    );
    let items = [
        (
            format!("The {long_word} problem, explained"),
            "https://longwords.example/explained".to_string(),
            format!(
                "<p>Read more at https://example.org/{}/index.html today.</p>",
                "very-long-path-segment".repeat(8)
            ),
        ),
        (
            "A compiler bug that only shows in release builds".into(),
            "https://rust.example/compiler-bug".into(),
            format!("<p>The reproducer:</p><pre><code>{wide_code}</code></pre>"),
        ),
        (
            "Election results, district by district".into(),
            "https://world.example/election-table".into(),
            format!("<p>The table:</p>{wide_table}"),
        ),
        (
            "New telescope images of a distant comet".into(),
            "https://space.example/comet".into(),
            "<p><img src=\"https://tracker.example/pixel.gif\" width=\"2000\" height=\"900\">The \
             telescope caught the comet's tail in infrared.</p>"
                .into(),
        ),
        (
            "Museum opens a gallery of film posters".into(),
            "https://culture.example/posters".into(),
            "<p>A short piece about an exhibition of film posters.</p>".into(),
        ),
    ];
    let body: String = items
        .iter()
        .enumerate()
        .map(|(i, (title, link, html))| {
            format!(
                "<item><title>{}</title><link>{link}</link><guid>stress-{i}</guid>\
                 <pubDate>Fri, 27 Nov 2026 0{i}:00:00 GMT</pubDate>\
                 <description><![CDATA[{html}]]></description></item>",
                title
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Layout Stress</title>\
         <link>https://stress.example/</link>{body}</channel></rss>"
    )
}

/// The measuring page: the digest in an iframe `width` px wide, grown to its full height so
/// that every element can be hit-tested and the screenshot shows the whole digest.
fn frame_page(width: u32) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><style>html, body {{ margin: 0; }}</style></head>
<body><iframe id="f" src="/digest.html" style="display:block; border:0; width:{width}px; height:600px"></iframe>
<script>
window.addEventListener('load', () => {{
  const f = document.getElementById('f'), w = f.contentWindow, d = w.document;
  f.style.height = d.documentElement.scrollHeight + 'px';
  const vw = d.documentElement.clientWidth;
  const links = [...d.querySelectorAll('a[href]')].filter(a => /^https?:/.test(a.getAttribute('href')));
  // Why each link is not visible, if it is not.
  const why = a => {{
    const r = a.getBoundingClientRect(), s = w.getComputedStyle(a);
    if (r.width < 1 || r.height < 1) return 'no size';
    if (r.left < -0.5 || r.right > vw + 0.5) return `outside the viewport (${{r.left}}..${{r.right}})`;
    if (s.visibility !== 'visible' || s.display === 'none' || Number(s.opacity) === 0) return 'hidden by CSS';
    // Hit-testing only sees what the outer window shows: bring the link into it first.
    window.scrollTo(0, Math.max(0, f.offsetTop + r.top - 100));
    // The middle of the link's first line (a title may wrap over several).
    const first = a.getClientRects()[0];
    const x = first.left + first.width / 2, y = first.top + first.height / 2;
    const hit = d.elementFromPoint(x, y);
    return hit && (hit === a || a.contains(hit)) ? null : `covered by <${{hit && hit.tagName}}> at ${{x}},${{y}}`;
  }};
  const hidden = links.map(a => [a.getAttribute('href'), why(a)]).filter(([, w]) => w).map(([h, w]) => `${{h}}: ${{w}}`);
  const page = d.querySelector('.page') || d.body;
  document.body.setAttribute('data-result', JSON.stringify({{
    viewport: vw,
    scroll_width: d.documentElement.scrollWidth,
    height: d.documentElement.scrollHeight,
    links: links.length,
    hidden,
    dark: w.matchMedia('(prefers-color-scheme: dark)').matches,
    page_background: w.getComputedStyle(page).backgroundColor,
    text_color: w.getComputedStyle(page).color,
  }}));
}});
</script></body></html>"#
    )
}

#[derive(Debug, serde::Deserialize)]
struct Measured {
    viewport: f64,
    scroll_width: f64,
    height: f64,
    links: usize,
    hidden: Vec<String>,
    dark: bool,
    page_background: String,
    text_color: String,
}

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new("which").arg(name).output().ok();
        if let Some(out) = found.filter(|o| o.status.success()) {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    panic!(
        "no Chromium found: this test needs Debian's `chromium` package \
         (`bash tests/mail/install.sh` installs it; `bash tests/run` runs that first)"
    );
}

/// Runs headless Chromium once; `what` is `--dump-dom` or `--screenshot=PATH`.
fn chromium_run(profile: &Path, url: &str, size: (u32, u32), dark: bool, what: &str) -> String {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--window-size={},{}", size.0, size.1));
    if dark {
        cmd.arg("--force-dark-mode");
    }
    let out = cmd.arg(what).arg(url).output().expect("start chromium");
    assert!(
        out.status.success(),
        "chromium {what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn measure(profile: &Path, url: &str, dark: bool) -> Measured {
    let dom = chromium_run(profile, url, (1100, 800), dark, "--dump-dom");
    let start = dom
        .find("data-result=\"")
        .unwrap_or_else(|| panic!("the measuring script did not run:\n{dom}"))
        + "data-result=\"".len();
    let raw = &dom[start..start + dom[start..].find('"').unwrap()];
    let json = raw
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// `rgb(r, g, b)` → relative luminance, 0 (black) to 1 (white).
fn luminance(css: &str) -> f64 {
    let v: Vec<f64> = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .map(|c| c.trim().parse::<f64>().unwrap() / 255.0)
        .collect();
    assert_eq!(v.len(), 3, "{css}");
    0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]
}

#[test]
fn digest_fits_phone_and_desktop_in_light_and_dark_mode() {
    chromium(); // fails here, with the fix, if the browser is missing
    let feed = HttpServer::start(vec![(
        "/stress.xml",
        Route::body(200, "application/rss+xml", &stress_feed()),
    )]);
    // The bundled demo plus the stress feed over HTTP and a fourth topic, so that the table
    // of contents shows too.
    let (dir, config) = common::demo_with(&format!(
        "[[feeds]]\nurl = \"{}\"\n\n[[topics]]\nname = \"Culture\"\n\
         keywords = [\"museum\", \"gallery\", \"film\"]\n",
        feed.url("/stress.xml")
    ));
    let out_dir = dir.path().join("preview");
    let o = common::tidings(
        &config,
        &["preview", "--out", out_dir.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let html = std::fs::read_to_string(out_dir.join("digest.html")).unwrap();
    // The measuring page must find every link the file has.
    let links_in_file = html.matches("href=\"http").count();
    assert!(
        links_in_file >= 10,
        "too few links to be a test: {links_in_file}"
    );
    assert!(
        html.contains("Pneumonoultramicroscopic"),
        "stress feed missing"
    );

    let site = HttpServer::start(vec![
        ("/digest.html", Route::body(200, "text/html", &html)),
        (
            "/m375.html",
            Route::body(200, "text/html", &frame_page(375)),
        ),
        (
            "/m1024.html",
            Route::body(200, "text/html", &frame_page(1024)),
        ),
    ]);
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("digest.html"), &html).unwrap();
    let profile = dir.path().join("chromium-profile");

    for (width, dark) in [(375, false), (1024, false), (375, true)] {
        let url = site.url(&format!("/m{width}.html"));
        let m = measure(&profile, &url, dark);
        let label = format!("{width}px{}", if dark { " dark" } else { "" });
        assert_eq!(m.viewport, f64::from(width), "{label}: {m:?}");
        assert!(
            m.scroll_width <= m.viewport,
            "{label}: the digest scrolls sideways ({} px wide in {} px): {m:?}",
            m.scroll_width,
            m.viewport
        );
        assert_eq!(m.links, links_in_file, "{label}: {m:?}");
        assert!(
            m.hidden.is_empty(),
            "{label}: links not visible: {:?}",
            m.hidden
        );
        assert_eq!(m.dark, dark, "{label}: prefers-color-scheme");
        let (bg, fg) = (luminance(&m.page_background), luminance(&m.text_color));
        if dark {
            assert!(bg < 0.2 && fg > 0.6, "{label}: not dark: {m:?}");
        } else {
            assert!(bg > 0.9 && fg < 0.3, "{label}: not light: {m:?}");
        }
        // The whole digest in one picture: the window as tall as the digest.
        let shot = artifacts.join(format!(
            "digest-{width}{}.png",
            if dark { "-dark" } else { "" }
        ));
        let height = (m.height.ceil() as u32).clamp(600, 12_000);
        chromium_run(
            &profile,
            &url,
            (width.max(500), height),
            dark,
            &format!("--screenshot={}", shot.display()),
        );
        let png = std::fs::read(&shot).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{label}: no screenshot"
        );
        eprintln!("{label}: {m:?}\n  screenshot: {}", shot.display());
    }
}
