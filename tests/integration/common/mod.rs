//! Shared helpers for the integration tests: a real HTTP server on 127.0.0.1, the mail servers
//! started by `tests/mail/with-servers.sh`, and running the `tidings` binary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// One canned response.
#[derive(Clone)]
pub(crate) struct Route {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    /// Wait this long before answering (a slow feed).
    pub delay: Option<Duration>,
    /// Extra response headers (`Location`, `Retry-After`...).
    pub headers: Vec<(String, String)>,
}

impl Route {
    pub(crate) fn file(name: &str, content_type: &'static str) -> Route {
        let body = std::fs::read(Path::new(FIXTURES).join("feeds").join(name)).expect("fixture");
        Route {
            status: 200,
            content_type,
            body,
            etag: None,
            delay: None,
            headers: Vec::new(),
        }
    }
    /// A response with this status, type and body (an HTML page, an error page).
    pub(crate) fn body(status: u16, content_type: &'static str, body: &str) -> Route {
        Route {
            status,
            content_type,
            body: body.as_bytes().to_vec(),
            etag: None,
            delay: None,
            headers: Vec::new(),
        }
    }
    /// A bodiless answer with this status, e.g. a redirect or a 410.
    pub(crate) fn status(status: u16) -> Route {
        Route {
            status,
            content_type: "text/plain",
            body: Vec::new(),
            etag: None,
            delay: None,
            headers: Vec::new(),
        }
    }
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub(crate) fn with_delay(mut self, delay: Duration) -> Route {
        self.delay = Some(delay);
        self
    }
    pub(crate) fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.to_string());
        self
    }
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
}

/// A small HTTP/1.1 server on 127.0.0.1: fixed routes, ETag support, a log of requests.
pub(crate) struct HttpServer {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl HttpServer {
    pub(crate) fn start(routes: Vec<(&str, Route)>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<HashMap<String, Route>> = Arc::new(
            routes
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (routes, seen) = (routes.clone(), seen2.clone());
                std::thread::spawn(move || serve(stream, &routes, &seen));
            }
        });
        HttpServer { base, seen }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, routes: &HashMap<String, Route>, seen: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if let Some(d) = routes.get(&path).and_then(|r| r.delay) {
        std::thread::sleep(d);
    }
    let extra: Vec<(String, String)> = routes
        .get(&path)
        .map(|r| r.headers.clone())
        .unwrap_or_default();
    let (status, content_type, body, etag) = match routes.get(&path) {
        Some(r) if r.etag.is_some() && headers.get("if-none-match") == r.etag.as_ref() => {
            (304, r.content_type, Vec::new(), r.etag.clone())
        }
        Some(r) => (r.status, r.content_type, r.body.clone(), r.etag.clone()),
        None => (404, "text/plain", b"not found".to_vec(), None),
    };
    seen.lock().unwrap().push(Seen {
        path,
        headers,
        status,
    });
    let reason = match status {
        200 => "OK",
        301 => "Moved Permanently",
        410 => "Gone",
        429 => "Too Many Requests",
        304 => "Not Modified",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Whatever",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    if let Some(e) = etag {
        head.push_str(&format!("ETag: {e}\r\n"));
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

/// The mail servers started by `tests/mail/with-servers.sh`. Missing variables fail the test:
/// these tests never skip, in CI or anywhere else.
pub(crate) struct MailEnv {
    pub host: String,
    pub ca: PathBuf,
    pub starttls_port: u16,
    pub tls_port: u16,
    pub plain_port: u16,
    pub user: String,
    pub password: String,
    pub maildir: PathBuf,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `tests/mail/with-servers.sh cargo test` (or `bash tests/run`), which starts the real SMTP and IMAP servers")
    })
}

impl MailEnv {
    pub(crate) fn get() -> MailEnv {
        MailEnv {
            host: var("TIDINGS_TEST_SMTP_HOST"),
            ca: PathBuf::from(var("TIDINGS_TEST_CA")),
            starttls_port: var("TIDINGS_TEST_SMTP_STARTTLS_PORT").parse().unwrap(),
            tls_port: var("TIDINGS_TEST_SMTP_TLS_PORT").parse().unwrap(),
            plain_port: var("TIDINGS_TEST_SMTP_PLAIN_PORT").parse().unwrap(),
            user: var("TIDINGS_TEST_SMTP_USER"),
            password: var("TIDINGS_TEST_SMTP_PASSWORD"),
            maildir: PathBuf::from(var("TIDINGS_TEST_SMTP_MAILDIR")),
        }
    }

    /// Every message the SMTP server accepted for `recipient`, raw.
    pub(crate) fn received_for(&self, recipient: &str) -> Vec<String> {
        let needle = format!("X-Envelope-To: {recipient}");
        let mut out = Vec::new();
        for dir in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap_or_default())
                    .into_owned();
                if text
                    .lines()
                    .take_while(|l| !l.is_empty())
                    .any(|l| l.trim_end() == needle)
                {
                    out.push(text);
                }
            }
        }
        out
    }
}

/// A unique token so parallel tests can tell their messages apart.
pub(crate) fn nonce() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}x{}x{}",
        std::process::id(),
        t % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An empty Maildir (`cur/`, `new/`, `tmp/`) at `dir/name`.
pub(crate) fn empty_maildir(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(path.join(sub)).unwrap();
    }
    path
}

/// A Maildir at `dir/name` holding one well-formed newsletter of the fixture Maildir (its
/// stories: "Rust compiler cuts incremental build times in half" and two more).
pub(crate) fn maildir_with_one_issue(dir: &Path, name: &str) -> PathBuf {
    let path = empty_maildir(dir, name);
    let issue = "1795700000.M1P100.fixture";
    std::fs::copy(
        Path::new(FIXTURES).join("maildir/new").join(issue),
        path.join("new").join(issue),
    )
    .unwrap();
    path
}

/// Copies a fixture Maildir into `dest` (tests may then add or break messages).
pub(crate) fn copy_maildir(dest: &Path) {
    let src = Path::new(FIXTURES).join("maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dest.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap().flatten() {
            if e.file_name() != ".keep" {
                std::fs::copy(e.path(), dest.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
}

/// The bundled demo (`demo/`: feeds from files, a Maildir of newsletters) as a config in a
/// fresh temp dir, with `extra` appended to it; its state lands in that dir.
pub(crate) fn demo_with(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let toml = read_to_string(&demo.join("config.toml"))
        .replace(
            "url = \"feeds/",
            &format!("url = \"{}/feeds/", demo.display()),
        )
        .replace(
            "path = \"mail/",
            &format!("path = \"{}/mail/", demo.display()),
        );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("{toml}\n{extra}")).unwrap();
    (dir, config)
}

pub(crate) const TOPICS: &str = r#"
[[topics]]
name = "Technology"
keywords = ["rust", "compiler", "cpu", "database"]

[[topics]]
name = "Science"
keywords = ["space", "telescope", "satellite", "glacier", "climate"]

[[topics]]
name = "World"
keywords = ["election", "parliament", "treaty", "trade"]
"#;

pub(crate) fn tidings(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    tidings_with_stdin(config, args, envs, None)
}

pub(crate) fn tidings_with_stdin(
    config: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidings"));
    cmd.arg("-c")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("TIDINGS_CONFIG")
        // The digest's language follows the environment when the config does not name one:
        // tests read English unless they say otherwise.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run tidings");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("wait for tidings");
    // Visible with --nocapture when a test fails.
    eprintln!(
        "--- tidings {args:?} exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A port on 127.0.0.1 that nothing listens on.
pub(crate) fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub(crate) fn read_to_string(p: &Path) -> String {
    let mut s = String::new();
    std::fs::File::open(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// A newsletter of three linked stories from `from`, dated `date` (RFC 2822), padded with
/// `padding` bytes of prose so that one body is easy to tell from none in a byte count.
pub(crate) fn synthetic_issue(n: usize, from: &str, date: &str, padding: usize) -> Vec<u8> {
    let mut stories = String::new();
    for k in 1..=3 {
        stories.push_str(&format!(
            "<h3><a href=\"https://news.example.org/issue-{n}/story-{k}\">Issue {n} story {k}: harbour works reach stage {k}</a></h3>\n\
             <p>The council said stage {k} of the works on the east quay would finish before the spring tides.</p>\n"
        ));
    }
    let mut filler = String::new();
    while filler.len() < padding {
        filler.push_str("Notes from the quay, kept for the archive and not a story. ");
    }
    format!(
        "From: Quay Notes <{from}>\r\nTo: reader@example.org\r\nSubject: Quay Notes {n}\r\n\
         Date: {date}\r\nMessage-ID: <quay-{n}-{nonce}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><h2>Quay Notes</h2>\n{stories}<p style=\"color:#fff\">{filler}</p></body></html>\r\n",
        nonce = nonce(),
    )
    .into_bytes()
}
