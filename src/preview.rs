//! `preview --open` and `preview --serve`: look at the digest before it is sent.
//!
//! The server is deliberately small (std::net, one request at a time, GET only): it serves
//! the files `preview --out` wrote and rebuilds them first when the config or a template
//! changed since the last build, so editing a template and reloading the page shows the result.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The default `--serve` address: loopback only, the digest is private.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8025";

/// Opens `path` in the desktop's browser. A failure is a warning: the files are written anyway.
pub fn open(path: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(s) => {
            tracing::warn!(command = opener, status = %s, path = %path.display(), "could not open the preview")
        }
        Err(e) => {
            tracing::warn!(command = opener, error = %e, path = %path.display(), "could not open the preview")
        }
    }
}

/// The views the server offers: path, file in the out dir, content type.
const VIEWS: [(&str, &str, &str); 4] = [
    ("/", "digest.html", "text/html; charset=utf-8"),
    ("/text", "digest.txt", "text/plain; charset=utf-8"),
    ("/eml", "digest.eml", "text/plain; charset=utf-8"),
    ("/json", "digest.json", "application/json"),
];

/// The newest modification time among `watched` (files, or folders and their files).
fn newest(watched: &[PathBuf]) -> Option<SystemTime> {
    let mut times = Vec::new();
    for p in watched {
        if let Ok(m) = std::fs::metadata(p) {
            times.extend(m.modified().ok());
        }
        if let Ok(dir) = std::fs::read_dir(p) {
            for e in dir.flatten() {
                times.extend(e.metadata().ok().and_then(|m| m.modified().ok()));
            }
        }
    }
    times.into_iter().max()
}

/// Serves `out_dir` on `listener` until the process ends. Before a request, if a file in
/// `watched` changed since the last build, `rebuild` runs; its error is shown as the page.
/// Unless `any_host` (a server the user opened to the network on purpose), a request whose
/// `Host` is not this server's own address is refused.
pub fn serve(
    listener: TcpListener,
    out_dir: &Path,
    watched: &[PathBuf],
    any_host: bool,
    rebuild: &mut dyn FnMut() -> Result<(), String>,
) -> std::io::Result<()> {
    let bound = listener.local_addr()?;
    let mut built_at = newest(watched);
    let mut failed: Option<String> = None;
    for stream in listener.incoming() {
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "preview server: accept failed");
                continue;
            }
        };
        let now = newest(watched);
        if now != built_at {
            built_at = now;
            failed = rebuild().err();
            if let Some(e) = &failed {
                tracing::warn!(error = %e, "preview rebuild failed");
            }
        }
        let bound = (!any_host).then_some(bound);
        if let Err(e) = answer(&mut stream, bound, out_dir, failed.as_deref()) {
            tracing::debug!(error = %e, "preview server: request failed");
        }
    }
    Ok(())
}

/// Whether a request's `Host` names this server: the bound address, `localhost` or
/// `127.0.0.1`/`[::1]`, with the bound port. Anything else is a page on another site reaching
/// the digest through a name that resolves to this machine (DNS rebinding), so it is refused.
pub fn host_allowed(host: &str, bound: SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let port = bound.port();
    let names = [
        bound.to_string(),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ];
    // A browser leaves the port out only when it is the scheme's default.
    let bare = port == 80 && ["localhost", "127.0.0.1", "[::1]"].contains(&host.as_str());
    bare || names.contains(&host)
}

fn answer(
    stream: &mut TcpStream,
    bound: Option<SocketAddr>,
    out_dir: &Path,
    failed: Option<&str>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Read the headers to their end so the client is not reset mid-send.
    let mut line = String::new();
    let mut host = None;
    while reader.read_line(&mut line)? > 2 {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("host") {
                host = Some(value.trim().to_string());
            }
        }
        line.clear();
    }
    let host_ok = match bound {
        Some(bound) => host.as_deref().is_some_and(|h| host_allowed(h, bound)),
        None => true,
    };
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, ctype, body) = if !host_ok {
        (
            "403 Forbidden",
            "text/plain",
            b"this preview answers only requests for its own address (Host header)\n".to_vec(),
        )
    } else if method != "GET" {
        (
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n".to_vec(),
        )
    } else if let Some(e) = failed {
        (
            "500 Internal Server Error",
            "text/plain; charset=utf-8",
            format!("the preview could not be rebuilt:\n\n{e}\n").into_bytes(),
        )
    } else {
        match VIEWS.iter().find(|(p, _, _)| *p == path) {
            Some((_, file, ctype)) => match std::fs::read(out_dir.join(file)) {
                Ok(b) => ("200 OK", *ctype, b),
                Err(e) => (
                    "500 Internal Server Error",
                    "text/plain",
                    format!("{file}: {e}\n").into_bytes(),
                ),
            },
            None => (
                "404 Not Found",
                "text/plain",
                b"views: / (HTML), /text, /eml, /json\n".to_vec(),
            ),
        }
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}
