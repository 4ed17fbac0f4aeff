//! Redirect resolution against a local HTTP server that behaves like a click-tracker: several
//! hops, a loop, a slow hop, a hop to an unsubscribe page, and the refusal to connect to a
//! private address when `allow_private_targets` is off.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tidings::config::LinksConfig;
use tidings::links::publish;
use tidings::links::resolve::{ResolveError, Resolver};
use tidings::links::Cleaner;
use tidings::model::{Item, ItemKey, SourceKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Starts the tracker; returns its base URL and the request paths it has seen.
async fn tracker() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (seen2, base2) = (seen.clone(), base.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (seen, base) = (seen2.clone(), base2.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let line = req.lines().next().unwrap_or("");
                let target = line.split(' ').nth(1).unwrap_or("/").to_string();
                seen.lock()
                    .unwrap()
                    .push(format!("{} {target}", line.split(' ').next().unwrap_or("")));
                assert!(
                    !req.to_ascii_lowercase().contains("\ncookie:"),
                    "no cookies"
                );
                let location = match target.as_str() {
                    "/track/click?id=1" => Some(format!("{base}/ls/click?upn=u001.two")),
                    "/ls/click?upn=u001.two" => Some("/ss/c/u001.three".to_string()),
                    "/ss/c/u001.three" => {
                        Some("https://example.org/story?id=9&utm_source=nl&mc_eid=abc".into())
                    }
                    "/track/click?loop=1" => Some(format!("{base}/ls/click?loop=2")),
                    "/ls/click?loop=2" => Some(format!("{base}/track/click?loop=1")),
                    "/track/click?slow=1" => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        Some("https://example.org/late".into())
                    }
                    "/track/click?u=unsub" => Some(format!("{base}/unsubscribe?list=1&id=77")),
                    "/track/click?head=no" => None,
                    _ => None,
                };
                let resp = match (location, line.starts_with("HEAD")) {
                    (Some(l), _) => format!("HTTP/1.1 302 Found\r\nLocation: {l}\r\nSet-Cookie: s=1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                    (None, true) if target == "/track/click?head=no" => "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                    (None, false) if target == "/track/click?head=no" => "HTTP/1.1 302 Found\r\nLocation: https://example.org/get-only\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                    (None, _) => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_string(),
                };
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    (base, seen)
}

fn cfg(allow_private: bool) -> LinksConfig {
    LinksConfig {
        resolve_redirects: true,
        allow_private_targets: allow_private,
        resolve_timeout: Duration::from_millis(500),
        max_hops: 5,
        ..Default::default()
    }
}

#[tokio::test]
async fn follows_several_hops_and_cleans_the_destination() {
    let (base, seen) = tracker().await;
    let r = Resolver::new(&cfg(true)).unwrap();
    let out = r
        .resolve(&Cleaner::default(), &format!("{base}/track/click?id=1"))
        .await;
    assert_eq!(out, Ok("https://example.org/story?id=9".to_string()));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "HEAD /track/click?id=1",
            "HEAD /ls/click?upn=u001.two",
            "HEAD /ss/c/u001.three"
        ]
    );
}

#[tokio::test]
async fn falls_back_to_get_when_head_is_refused() {
    let (base, _) = tracker().await;
    let r = Resolver::new(&cfg(true)).unwrap();
    let out = r
        .resolve(&Cleaner::default(), &format!("{base}/track/click?head=no"))
        .await;
    assert_eq!(out, Ok("https://example.org/get-only".to_string()));
}

#[tokio::test]
async fn a_loop_a_slow_hop_and_an_unsubscribe_page_are_not_followed() {
    let (base, seen) = tracker().await;
    let r = Resolver::new(&cfg(true)).unwrap();
    let c = Cleaner::default();
    let looped = r.resolve(&c, &format!("{base}/track/click?loop=1")).await;
    assert!(matches!(looped, Err(ResolveError::Loop(_))), "{looped:?}");

    let started = std::time::Instant::now();
    let slow = r.resolve(&c, &format!("{base}/track/click?slow=1")).await;
    assert!(matches!(slow, Err(ResolveError::Http(..))), "{slow:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the deadline cut the slow hop"
    );

    let unsub = r.resolve(&c, &format!("{base}/track/click?u=unsub")).await;
    assert!(matches!(unsub, Err(ResolveError::Refused(..))), "{unsub:?}");
    let seen = seen.lock().unwrap().clone();
    assert!(
        !seen.iter().any(|s| s.contains("unsubscribe")),
        "the unsubscribe page was requested: {seen:?}"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let (base, seen) = tracker().await;
    let r = Resolver::new(&cfg(false)).unwrap();
    let c = Cleaner::default();
    let out = r.resolve(&c, &format!("{base}/track/click?id=1")).await;
    assert!(matches!(out, Err(ResolveError::Refused(..))), "{out:?}");
    // a hostname that resolves to loopback is refused after the DNS lookup
    let port = base.rsplit(':').next().unwrap();
    let out = r
        .resolve(
            &c,
            &format!("http://localtest.localhost:{port}/track/click?id=1"),
        )
        .await;
    assert!(out.is_err(), "{out:?}");
    let out = r
        .resolve(&c, &format!("http://ip6-localhost:{port}/track/click?id=1"))
        .await;
    assert!(out.is_err(), "{out:?}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "no request reached the server"
    );
}

fn item(url: &str, summary_html: &str) -> Item {
    Item {
        key: ItemKey("k".into()),
        source: SourceKey("s".into()),
        source_name: "Weekly".into(),
        title: "A story".into(),
        url: Some(url.into()),
        summary_html: summary_html.into(),
        summary_text: format!("read {url}"),
        published: None,
        topic_hint: None,
        section: None,
        message_id: None,
        categories: Vec::new(),
        also: Vec::new(),
        tracker_host: None,
        media: Vec::new(),
    }
}

#[tokio::test]
async fn the_pipeline_step_resolves_when_on_and_drops_when_off() {
    let (base, _) = tracker().await;
    let tracked = format!("{base}/track/click?id=1");
    let html = format!(r#"<p><a href="{tracked}" rel="noopener">more</a></p>"#);
    let c = Cleaner::default();

    let mut off = vec![item(&tracked, &html)];
    let settled = publish::settle(&mut off, &c, None, |_| None).await;
    assert_eq!(off[0].url, None, "story keeps its title, loses the tracker");
    assert_eq!(off[0].title, "A story");
    assert_eq!(off[0].summary_html, r#"<p><a rel="noopener">more</a></p>"#);
    assert!(!off[0].summary_text.contains("track/click"));
    assert!(settled.resolved.is_empty());

    let r = Resolver::new(&cfg(true)).unwrap();
    let mut on = vec![item(&tracked, &html)];
    let settled = publish::settle(&mut on, &c, Some(&r), |_| None).await;
    assert_eq!(on[0].url.as_deref(), Some("https://example.org/story?id=9"));
    assert!(on[0]
        .summary_html
        .contains(r#"href="https://example.org/story?id=9""#));
    assert_eq!(
        settled.resolved,
        [(
            tracked.clone(),
            "https://example.org/story?id=9".to_string()
        )]
    );

    // from the cache, without the network
    let mut cached = vec![item(&tracked, "")];
    publish::settle(&mut cached, &c, None, |w| {
        (w == tracked).then(|| "https://example.org/c?utm_source=x".into())
    })
    .await;
    assert_eq!(cached[0].url.as_deref(), Some("https://example.org/c"));
}
