//! `preview --serve`: real HTTP requests against the preview server, and a rebuild when a
//! watched file changes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    get_with_host(addr, path, &format!("localhost:{}", addr.port()))
}

fn get_with_host(addr: std::net::SocketAddr, path: &str, host: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
    (head.to_string(), body.to_string())
}

fn touch(p: &std::path::Path, secs_later: u64) {
    let f = std::fs::File::options().append(true).open(p).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(secs_later))
        .unwrap();
}

#[test]
fn serves_the_three_views_and_rebuilds_when_a_watched_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (f, body) in [
        ("digest.html", "<p>first</p>"),
        ("digest.txt", "plain first"),
        ("digest.eml", "Subject: first"),
        ("digest.json", "{}"),
    ] {
        std::fs::write(out.join(f), body).unwrap();
    }
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "# config").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (out2, watched) = (out.clone(), vec![config.clone()]);
    std::thread::spawn(move || {
        let mut builds = 0;
        let mut rebuild = || {
            builds += 1;
            if builds == 2 {
                return Err("template `digest.html`: 3:7 expected an identifier".to_string());
            }
            std::fs::write(out2.join("digest.html"), format!("<p>build {builds}</p>"))
                .map_err(|e| e.to_string())
        };
        tidings::preview::serve(listener, &out2, &watched, false, &mut rebuild).unwrap();
    });

    let (head, body) = get(addr, "/");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/html; charset=utf-8"), "{head}");
    assert_eq!(body, "<p>first</p>");
    let (head, body) = get(addr, "/text");
    assert!(head.contains("text/plain"), "{head}");
    assert_eq!(body, "plain first");
    assert_eq!(get(addr, "/eml").1, "Subject: first");
    assert!(get(addr, "/nope").0.starts_with("HTTP/1.1 404"));
    // DNS rebinding: another site's name pointed at 127.0.0.1 is refused, the own address served.
    let (head, body) = get_with_host(addr, "/", &format!("evil.example:{}", addr.port()));
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(!body.contains("first"), "{body}");
    assert!(
        get_with_host(addr, "/", "localhost")
            .0
            .starts_with("HTTP/1.1 403"),
        "wrong port"
    );
    assert!(get_with_host(addr, "/", &addr.to_string())
        .0
        .starts_with("HTTP/1.1 200"));

    touch(&config, 10);
    assert_eq!(
        get(addr, "/").1,
        "<p>build 1</p>",
        "rebuilt after the change"
    );
    assert_eq!(
        get(addr, "/").1,
        "<p>build 1</p>",
        "not rebuilt without one"
    );

    touch(&config, 20);
    let (head, body) = get(addr, "/");
    assert!(head.starts_with("HTTP/1.1 500"), "{head}");
    assert!(body.contains("3:7 expected an identifier"), "{body}");

    touch(&config, 30);
    assert_eq!(get(addr, "/").1, "<p>build 3</p>", "recovers after a fix");
}
