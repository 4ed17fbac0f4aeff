//! IMAP mailboxes against the real Dovecot started by `tests/mail/with-servers.sh`: implicit TLS
//! and STARTTLS verified against the test CA, messages read once and left unread (checked over
//! IMAP), `after = "move:…"` applied only after a successful send, a wrong password named with
//! its mailbox, and a connection dropped mid-fetch retried while the other sources still make
//! the digest.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use futures_util::StreamExt;

const SMTP_PASSWORD_VAR: &str = "TIDINGS_IT_SMTP_PASSWORD";
const IMAP_PASSWORD_VAR: &str = "TIDINGS_IT_IMAP_PASSWORD";
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/newsletters");

struct Imap {
    host: String,
    port: u16,
    tls_port: u16,
    user: String,
    password: String,
    maildir: PathBuf,
    uid: u32,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `tests/mail/with-servers.sh cargo test` (or `bash tests/run`), which starts Dovecot")
    })
}

impl Imap {
    fn get() -> Imap {
        Imap {
            host: var("TIDINGS_TEST_IMAP_HOST"),
            port: var("TIDINGS_TEST_IMAP_PORT").parse().unwrap(),
            tls_port: var("TIDINGS_TEST_IMAPS_PORT").parse().unwrap(),
            user: var("TIDINGS_TEST_IMAP_USER"),
            password: var("TIDINGS_TEST_IMAP_PASSWORD"),
            maildir: PathBuf::from(var("TIDINGS_TEST_IMAP_MAILDIR")),
            uid: var("TIDINGS_TEST_IMAP_UID").parse().unwrap(),
        }
    }

    /// Delivers a corpus message into `folder` the Maildir way (tmp/, then rename into new/),
    /// owned by the mail user so Dovecot can index it.
    fn drop_message(&self, folder: &str, fixture: &str) {
        let bytes = std::fs::read(Path::new(CORPUS).join(format!("{fixture}.eml"))).unwrap();
        self.drop_raw(folder, &bytes);
    }

    fn drop_raw(&self, folder: &str, bytes: &[u8]) {
        let dir = self.maildir.join(format!(".{folder}"));
        for sub in ["", "cur", "new", "tmp"] {
            let d = dir.join(sub);
            if !d.exists() {
                std::fs::create_dir_all(&d).unwrap();
            }
            chown(&d, Some(self.uid), Some(self.uid)).unwrap();
        }
        let name = format!("{}.M{}.tidings-test", 1_790_000_000, nonce());
        let tmp = dir.join("tmp").join(&name);
        std::fs::write(&tmp, bytes).unwrap();
        chown(&tmp, Some(self.uid), Some(self.uid)).unwrap();
        std::fs::rename(&tmp, dir.join("new").join(&name)).unwrap();
    }

    /// (UID, flags) of every message in `folder`, read over IMAPS; `None` if the folder is missing.
    fn flags(&self, folder: &str) -> Option<Vec<(u32, Vec<String>)>> {
        self.messages(folder, false)
            .map(|m| m.into_iter().map(|(uid, flags, _)| (uid, flags)).collect())
    }

    /// (UID, flags, body if asked for) of every message in `folder`, read over IMAPS without
    /// marking anything read; `None` if the folder is missing.
    fn messages(&self, folder: &str, bodies: bool) -> Option<Vec<Stored>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut roots = rustls::RootCertStore::empty();
            use rustls::pki_types::pem::PemObject;
            for c in
                rustls::pki_types::CertificateDer::pem_file_iter(var("TIDINGS_TEST_CA")).unwrap()
            {
                roots.add(c.unwrap()).unwrap();
            }
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
            let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.tls_port))
                .await
                .unwrap();
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(
                    rustls::pki_types::ServerName::try_from(self.host.clone()).unwrap(),
                    tcp,
                )
                .await
                .unwrap();
            let mut client = async_imap::Client::new(tls);
            client.read_response().await.unwrap();
            let mut s = client
                .login(&self.user, &self.password)
                .await
                .map_err(|e| e.0)
                .unwrap();
            if s.examine(folder).await.is_err() {
                return None;
            }
            let mut out = Vec::new();
            {
                let query = if bodies {
                    "(UID FLAGS BODY.PEEK[])"
                } else {
                    "(UID FLAGS)"
                };
                let mut stream = s.uid_fetch("1:*", query).await.unwrap();
                while let Some(f) = stream.next().await {
                    let f = f.unwrap();
                    let flags = f.flags().map(|fl| format!("{fl:?}")).collect();
                    let body = f.body().unwrap_or_default().to_vec();
                    out.push((f.uid.unwrap(), flags, body));
                }
            }
            let _ = s.logout().await;
            Some(out)
        })
    }
}

/// One message as the server holds it: UID, flags, body (when fetched).
type Stored = (u32, Vec<String>, Vec<u8>);

fn is_seen(flags: &[String]) -> bool {
    flags.iter().any(|f| f == "Seen")
}

struct Mailbox<'a> {
    name: &'a str,
    port: u16,
    security: &'a str,
    folder: &'a str,
    after: &'a str,
    password_var: &'a str,
}

fn write_config(
    dir: &Path,
    mail: &MailEnv,
    imap: &Imap,
    smtp_up: bool,
    to: &str,
    mailboxes: &[Mailbox<'_>],
    with_maildir: bool,
) -> PathBuf {
    let smtp_port = if smtp_up {
        mail.starttls_port
    } else {
        closed_port()
    };
    let mut text = format!(
        r#"
[digest]
title = "IMAP digest"
lookback = "3650d"

[state]
path = "state/tidings.db"

[delivery]
from = "Tidings <digest@example.org>"
to = ["{to}"]

[smtp]
host = "{host}"
port = {smtp_port}
security = "starttls"
username = "{user}"
password_env = "{SMTP_PASSWORD_VAR}"
ca_file = "{ca}"
timeout = "10s"
"#,
        host = mail.host,
        user = mail.user,
        ca = mail.ca.display(),
    );
    for m in mailboxes {
        text.push_str(&format!(
            r#"
[[mailboxes]]
type = "imap"
name = "{name}"
host = "{host}"
port = {port}
security = "{security}"
username = "{user}"
password_env = "{password_var}"
ca_file = "{ca}"
folders = ["{folder}"]
after = "{after}"
"#,
            name = m.name,
            host = imap.host,
            port = m.port,
            security = m.security,
            user = imap.user,
            password_var = m.password_var,
            ca = mail.ca.display(),
            folder = m.folder,
            after = m.after,
        ));
    }
    if with_maildir {
        let maildir = dir.join("Local");
        if !maildir.exists() {
            copy_maildir(&maildir);
        }
        text.push_str("\n[[mailboxes]]\ntype = \"maildir\"\nname = \"Local\"\npath = \"Local\"\n");
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn digest_text(raw: &str) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    msg.body_text(0).unwrap_or_default().into_owned()
}

#[test]
fn implicit_tls_reads_new_messages_once_and_leaves_them_unread() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let dir = tempfile::tempdir().unwrap();
    let folder = format!("Tls{}", nonce());
    let to = format!("imap-tls-{}@example.org", nonce());
    imap.drop_message(&folder, "roundup-html-headings");
    imap.drop_message(&folder, "single-post-substack");
    let boxes = [Mailbox {
        name: "News over TLS",
        port: imap.tls_port,
        security: "tls",
        folder: &folder,
        after: "none",
        password_var: IMAP_PASSWORD_VAR,
    }];
    let cfg = write_config(dir.path(), &mail, &imap, true, &to, &boxes, false);
    let env = [
        (SMTP_PASSWORD_VAR, mail.password.as_str()),
        (IMAP_PASSWORD_VAR, imap.password.as_str()),
    ];

    let first = tidings(&cfg, &["run"], &env);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 1);
    let text = digest_text(&got[0]);
    assert!(
        text.contains("Copper prices climb as smelters pause output"),
        "{text}"
    );
    assert!(text.contains("https://news.example.org/2026/03/01/copper-prices-climb"));
    assert!(text.contains("The quiet economics of ferries"), "{text}");
    assert!(!text.to_lowercase().contains("unsubscribe"), "{text}");

    // BODY.PEEK: reading marked nothing read.
    let flags = imap.flags(&folder).expect("folder exists");
    assert_eq!(flags.len(), 2);
    assert!(flags.iter().all(|(_, f)| !is_seen(f)), "{flags:?}");

    // Nothing new: nothing sent.
    let second = tidings(&cfg, &["run"], &env);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(
        mail.received_for(&to).len(),
        1,
        "a message was digested twice"
    );

    // One new message: only its stories.
    imap.drop_message(&folder, "roundup-table-esp");
    let third = tidings(&cfg, &["run"], &env);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 2);
    let newest = got
        .iter()
        .map(|m| digest_text(m))
        .find(|t| t.contains("Night trains return to the coastal line"))
        .expect("the new message was digested");
    assert!(!newest.contains("Copper prices climb"), "{newest}");
    let flags = imap.flags(&folder).unwrap();
    assert!(flags.iter().all(|(_, f)| !is_seen(f)), "{flags:?}");
}

#[test]
fn starttls_moves_messages_only_after_a_successful_send() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let dir = tempfile::tempdir().unwrap();
    let folder = format!("Start{}", nonce());
    let target = format!("Digested{}", nonce());
    let to = format!("imap-move-{}@example.org", nonce());
    imap.drop_message(&folder, "roundup-bold-inline");
    imap.drop_message(&folder, "confirmation");
    let after = format!("move:{target}");
    let boxes = [Mailbox {
        name: "News over STARTTLS",
        port: imap.port,
        security: "starttls",
        folder: &folder,
        after: &after,
        password_var: IMAP_PASSWORD_VAR,
    }];
    let env = [
        (SMTP_PASSWORD_VAR, mail.password.as_str()),
        (IMAP_PASSWORD_VAR, imap.password.as_str()),
    ];

    // SMTP down: the send fails, and nothing moves.
    let cfg = write_config(dir.path(), &mail, &imap, false, &to, &boxes, false);
    let down = tidings(&cfg, &["run"], &env);
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));
    assert_eq!(
        imap.flags(&folder).unwrap().len(),
        2,
        "moved before delivery"
    );
    assert!(imap.flags(&target).is_none_or(|f| f.is_empty()));

    // SMTP up: sent, then moved.
    let cfg = write_config(dir.path(), &mail, &imap, true, &to, &boxes, false);
    let up = tidings(&cfg, &["run"], &env);
    assert_eq!(up.status.code(), Some(0), "{}", stderr(&up));
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 1);
    let text = digest_text(&got[0]);
    assert!(text.contains("Ferry strike ends after nine days"), "{text}");
    assert!(text.contains("Needs your attention"), "{text}");
    assert!(
        text.contains("https://orchard.example/subscribe/confirm?token=5f4e3d"),
        "{text}"
    );
    assert_eq!(imap.flags(&folder).unwrap().len(), 0, "not moved");
    let moved = imap.flags(&target).expect("target folder created");
    assert_eq!(moved.len(), 2);
    assert!(moved.iter().all(|(_, f)| !is_seen(f)), "{moved:?}");
}

#[test]
fn wrong_password_names_the_mailbox_and_other_sources_still_digest() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let dir = tempfile::tempdir().unwrap();
    let folder = format!("Wrong{}", nonce());
    let to = format!("imap-wrong-{}@example.org", nonce());
    imap.drop_message(&folder, "roundup-plain-text");
    let boxes = [Mailbox {
        name: "Work IMAP",
        port: imap.tls_port,
        security: "tls",
        folder: &folder,
        after: "seen",
        password_var: IMAP_PASSWORD_VAR,
    }];
    let cfg = write_config(dir.path(), &mail, &imap, true, &to, &boxes, true);
    let wrong = "not-the-imap-password-42";
    let out = tidings(
        &cfg,
        &["run"],
        &[
            (SMTP_PASSWORD_VAR, mail.password.as_str()),
            (IMAP_PASSWORD_VAR, wrong),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a failed source shows in the exit code"
    );
    let err = stderr(&out);
    assert!(err.contains("Work IMAP") && err.contains("login"), "{err}");
    assert!(!err.contains(wrong), "the password leaked: {err}");
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 1, "the maildir still makes a digest");
    let text = digest_text(&got[0]);
    assert!(text.contains("Work IMAP: IMAP mailbox failed"), "{text}");
    assert!(
        !text.contains("Rust 1.95 stabilises async closures"),
        "{text}"
    );
    assert!(!text.contains(wrong));
}

/// A TCP proxy to `upstream` that cuts the first connection after `cut_after` bytes from the
/// server, and forwards later connections whole (or cuts every one with `always`).
fn flaky_proxy(upstream: u16, cut_after: usize, always: bool) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conns = Arc::new(AtomicUsize::new(0));
    let conns2 = conns.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let n = conns2.fetch_add(1, Ordering::SeqCst);
            let cut = always || n == 0;
            let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let (mut c2, mut s2) = (c2, s2);
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let (mut client, mut server) = (client, server);
                let mut sent = 0;
                let mut buf = [0u8; 1024];
                loop {
                    let n = match server.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let n = if cut { n.min(cut_after - sent) } else { n };
                    if client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                    if cut && sent >= cut_after {
                        break;
                    }
                }
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
            });
        }
    });
    (port, conns)
}

#[test]
fn a_connection_dropped_mid_fetch_is_retried_and_a_dead_one_reported() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let dir = tempfile::tempdir().unwrap();
    let flaky_folder = format!("Flaky{}", nonce());
    let dead_folder = format!("Dead{}", nonce());
    let to = format!("imap-drop-{}@example.org", nonce());
    for f in [
        "roundup-table-esp",
        "single-post-substack",
        "single-post-ghost",
    ] {
        imap.drop_message(&flaky_folder, f);
    }
    imap.drop_message(&dead_folder, "windows-1252");
    // Past the TLS handshake, greeting, login and search: the cut lands in the bodies.
    let (flaky_port, flaky_conns) = flaky_proxy(imap.tls_port, 9000, false);
    // The dead mailbox's folder holds little, so it is cut early enough to always drop.
    let (dead_port, dead_conns) = flaky_proxy(imap.tls_port, 2500, true);
    let boxes = [
        Mailbox {
            name: "Flaky IMAP",
            port: flaky_port,
            security: "tls",
            folder: &flaky_folder,
            after: "none",
            password_var: IMAP_PASSWORD_VAR,
        },
        Mailbox {
            name: "Dead IMAP",
            port: dead_port,
            security: "tls",
            folder: &dead_folder,
            after: "none",
            password_var: IMAP_PASSWORD_VAR,
        },
    ];
    let cfg = write_config(dir.path(), &mail, &imap, true, &to, &boxes, true);
    let out = tidings(
        &cfg,
        &["run"],
        &[
            (SMTP_PASSWORD_VAR, mail.password.as_str()),
            (IMAP_PASSWORD_VAR, imap.password.as_str()),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        flaky_conns.load(Ordering::SeqCst),
        2,
        "one retry after the drop"
    );
    assert_eq!(
        dead_conns.load(Ordering::SeqCst),
        2,
        "one retry, then reported"
    );
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 1);
    let text = digest_text(&got[0]);
    assert!(
        text.contains("River levels hit a record low across the basin"),
        "{text}"
    );
    assert!(text.contains("The quiet economics of ferries"), "{text}");
    assert!(text.contains("Notes on compost"), "{text}");
    assert!(text.contains("Dead IMAP: IMAP mailbox failed"), "{text}");
    assert!(!text.contains("Energy bills fall"), "{text}");
    let err = stderr(&out);
    assert!(err.contains("retrying"), "{err}");
}

#[test]
fn a_message_over_the_size_limit_is_skipped_without_being_downloaded() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let dir = tempfile::tempdir().unwrap();
    let folder = format!("Big{}", nonce());
    let to = format!("imap-big-{}@example.org", nonce());
    imap.drop_message(&folder, "single-post-ghost");
    // 21 MB: a newsletter with a huge attachment, over the 20 MiB limit.
    let mut big = b"From: Big <big@example.org>\r\nTo: me@example.org\r\nSubject: Attachment\r\n\
        Message-ID: <big@example.org>\r\nDate: Mon, 30 Nov 2026 08:00:00 +0000\r\n\
        Content-Type: text/plain\r\n\r\n"
        .to_vec();
    while big.len() < 21 * 1024 * 1024 {
        big.extend_from_slice(
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
        );
    }
    imap.drop_raw(&folder, &big);
    // Every connection is cut after 1 MB from the server: downloading the big message, or
    // reading the mailbox twice, would fail it.
    let (port, conns) = flaky_proxy(imap.tls_port, 1024 * 1024, true);
    let boxes = [Mailbox {
        name: "Capped IMAP",
        port,
        security: "tls",
        folder: &folder,
        after: "none",
        password_var: IMAP_PASSWORD_VAR,
    }];
    let cfg = write_config(dir.path(), &mail, &imap, true, &to, &boxes, false);
    let out = tidings(
        &cfg,
        &["run"],
        &[
            (SMTP_PASSWORD_VAR, mail.password.as_str()),
            (IMAP_PASSWORD_VAR, imap.password.as_str()),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "no retry: {}",
        stderr(&out)
    );
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 1);
    let text = digest_text(&got[0]);
    assert!(text.contains("Notes on compost"), "{text}");
    assert!(
        text.contains("over the 20971520-byte limit; skipped"),
        "{text}"
    );
}

/// A TCP proxy to `upstream` that forwards everything and counts the bytes the server sends.
fn counting_proxy(upstream: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let down = Arc::new(AtomicUsize::new(0));
    let counted = down.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let (mut c2, mut s2) = (c2, s2);
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(Shutdown::Write);
            });
            let counted = counted.clone();
            std::thread::spawn(move || {
                let (mut client, mut server) = (client, server);
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = server.read(&mut buf) {
                    if n == 0 || client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    counted.fetch_add(n, Ordering::SeqCst);
                }
                let _ = client.shutdown(Shutdown::Both);
            });
        }
    });
    (port, down)
}

impl Imap {
    /// As [`Imap::drop_raw`], with the file's modification time (Dovecot's INTERNALDATE for
    /// a Maildir message) set to `arrived`.
    fn drop_arrived(&self, folder: &str, bytes: &[u8], arrived: std::time::SystemTime) {
        self.drop_raw(folder, bytes);
        let new = self.maildir.join(format!(".{folder}")).join("new");
        let newest = std::fs::read_dir(&new)
            .unwrap()
            .flatten()
            .max_by_key(|e| e.metadata().unwrap().modified().unwrap())
            .unwrap();
        std::fs::File::options()
            .write(true)
            .open(newest.path())
            .unwrap()
            .set_modified(arrived)
            .unwrap();
    }
}

#[test]
fn a_large_folder_costs_what_its_new_mail_costs() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let dir = tempfile::tempdir().unwrap();
    let folder = format!("Large{}", nonce());
    let to = format!("imap-large-{}@example.org", nonce());
    let now = chrono::Utc::now();
    let a_year_ago = now - chrono::Duration::days(365);
    let old_arrival = std::time::SystemTime::now() - std::time::Duration::from_secs(365 * 86_400);
    // 300 issues from a year ago: outside a 7-day lookback, never worth downloading.
    let mut old_bytes = 0;
    for n in 0..300 {
        let m = synthetic_issue(n, "news@quay.example", &a_year_ago.to_rfc2822(), 2_000);
        old_bytes += m.len();
        imap.drop_arrived(&folder, &m, old_arrival);
    }
    // Three new issues, two from a sender the filter leaves out, one that is not a newsletter.
    let body = 30_000;
    for n in 1000..1003 {
        imap.drop_raw(
            &folder,
            &synthetic_issue(n, "news@quay.example", &now.to_rfc2822(), body),
        );
    }
    for n in 2000..2002 {
        imap.drop_raw(
            &folder,
            &synthetic_issue(n, "desk@harbour.example", &now.to_rfc2822(), body),
        );
    }
    let mut empty = synthetic_issue(3000, "news@quay.example", &now.to_rfc2822(), body);
    let at = empty.windows(6).position(|w| w == b"<html>").unwrap();
    empty.truncate(at);
    imap.drop_raw(&folder, &empty);

    let (port, down) = counting_proxy(imap.tls_port);
    let boxes = [Mailbox {
        name: "Quay",
        port,
        security: "tls",
        folder: &folder,
        after: "none",
        password_var: IMAP_PASSWORD_VAR,
    }];
    let cfg = write_config(dir.path(), &mail, &imap, true, &to, &boxes, false);
    let with_filter = |from: &str| {
        let text = read_to_string(&cfg)
            .replace("lookback = \"3650d\"", "lookback = \"7d\"")
            .replace(
                "after = \"none\"",
                &format!("after = \"none\"\nfrom = [{from}]"),
            );
        std::fs::write(dir.path().join("filtered.toml"), text).unwrap();
        dir.path().join("filtered.toml")
    };
    let cfg = with_filter("\"*@quay.example\"");
    let env = [
        (SMTP_PASSWORD_VAR, mail.password.as_str()),
        (IMAP_PASSWORD_VAR, imap.password.as_str()),
    ];
    let run_expecting = |cfg: &Path, code: i32| {
        down.store(0, Ordering::SeqCst);
        let out = tidings(cfg, &["run", "-v"], &env);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        down.load(Ordering::SeqCst)
    };
    let run = |cfg: &Path| run_expecting(cfg, 0);

    // First run: the new issues' bodies, none of the year-old ones. The one without content
    // is reported (exit 2), once.
    let first = run_expecting(&cfg, 2);
    assert!(
        first < 4 * body + body / 2 && first < old_bytes / 2,
        "first run read {first} bytes (one new body is about {body}, the old ones {old_bytes})"
    );
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 1);
    let text = digest_text(&got[0]);
    assert!(text.contains("Issue 1002 story 3"), "{text}");
    assert!(text.contains("Issue 1000 story 1"), "{text}");
    // The footer wraps at 72 columns.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("no readable content"), "{text}");
    assert!(
        !text.contains("Issue 2000") && !text.contains("Issue 5 story"),
        "{text}"
    );

    // Second run, nothing new: no body at all (the unusable one included).
    let second = run(&cfg);
    assert!(
        second < body / 2,
        "a run with nothing new read {second} bytes"
    );
    assert_eq!(mail.received_for(&to).len(), 1);

    // A new issue is fetched once.
    imap.drop_raw(
        &folder,
        &synthetic_issue(1003, "news@quay.example", &now.to_rfc2822(), body),
    );
    let third = run(&cfg);
    assert!(
        third > body && third < 2 * body,
        "one new message, {third} bytes"
    );
    assert!(run(&cfg) < body / 2, "the new message was read twice");
    assert_eq!(mail.received_for(&to).len(), 2);

    // The filter widened: the two left out are read now, and only they.
    let widened = with_filter("\"*@quay.example\", \"*@harbour.example\"");
    let fourth = run(&widened);
    assert!(
        fourth > 2 * body && fourth < 3 * body,
        "widened filter, {fourth} bytes"
    );
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 3);
    assert!(got
        .iter()
        .any(|m| digest_text(m).contains("Issue 2001 story 1")));

    // A new UIDVALIDITY (the server rebuilt the folder): its UIDs are examined again, and
    // the Message-ID guard keeps every digested issue out of a new digest.
    let root = imap.maildir.join(format!(".{folder}"));
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("dovecot") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    imap.drop_raw(
        &folder,
        &synthetic_issue(1004, "news@quay.example", &now.to_rfc2822(), body),
    );
    let fifth = run_expecting(&widened, 2);
    assert!(
        fifth > 6 * body,
        "after a UIDVALIDITY change, {fifth} bytes"
    );
    let got = mail.received_for(&to);
    assert_eq!(got.len(), 4);
    let newest = got
        .iter()
        .map(|m| digest_text(m))
        .find(|t| t.contains("Issue 1004 story 1"))
        .expect("the new issue was digested");
    assert!(
        !newest.contains("Issue 1000 story") && !newest.contains("Issue 2001 story"),
        "a digested issue was sent again: {newest}"
    );
    assert!(run(&widened) < body / 2);

    // `tidings sources` says what the messages came to.
    let out = tidings(&widened, &["sources"], &env);
    let table = stdout(&out);
    // The IMAP mailbox under its own key: its last success, not "never run".
    let row = table
        .lines()
        .find(|l| l.starts_with("Quay"))
        .expect("a row for the mailbox");
    assert!(
        row.contains(" ok ") && !row.contains("never run"),
        "{table}"
    );
    assert!(table.contains("8 examined: 7 used, 1 unusable"), "{table}");
}

/// The real newsletters of `../shared/realworld/newsletters/` (read at run time, never
/// copied) give the same digest over IMAP as from a local Maildir holding the same messages:
/// every story's title and link, and every mail under "Needs your attention".
#[test]
fn real_newsletters_over_imap_give_the_stories_they_give_from_files() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld/newsletters");
    assert!(
        shared.join("eml").is_dir(),
        "the real newsletters are missing: expected `{}` (shared/realworld beside the repository)",
        shared.display()
    );
    let mut files: Vec<PathBuf> = ["eml", "wrapped"]
        .iter()
        .flat_map(|d| std::fs::read_dir(shared.join(d)).unwrap().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} real messages", files.len());

    let dir = tempfile::tempdir().unwrap();
    let folder = format!("Real{}", nonce());
    let local = empty_maildir(dir.path(), "Real");
    for (n, f) in files.iter().enumerate() {
        let bytes = std::fs::read(f).unwrap();
        imap.drop_raw(&folder, &bytes);
        std::fs::write(local.join("new").join(format!("{n}.M1P1.real")), &bytes).unwrap();
    }
    let boxes = [Mailbox {
        name: "Real",
        port: imap.tls_port,
        security: "tls",
        folder: &folder,
        after: "none",
        password_var: IMAP_PASSWORD_VAR,
    }];
    let over_imap = write_config(
        dir.path(),
        &mail,
        &imap,
        false,
        "r@example.org",
        &boxes,
        false,
    );
    // The same configuration with the Maildir in place of the IMAP folder.
    let text = read_to_string(&over_imap);
    let head = text.split("\n[[mailboxes]]").next().unwrap();
    let from_files = dir.path().join("files.toml");
    std::fs::write(
        &from_files,
        format!("{head}\n[[mailboxes]]\ntype = \"maildir\"\nname = \"Real\"\npath = \"Real\"\n")
            .replace("state/tidings.db", "state/files.db"),
    )
    .unwrap();

    let env = [(IMAP_PASSWORD_VAR, imap.password.as_str())];
    let read = |cfg: &Path, out: &str| {
        let out = dir.path().join(out);
        let o = tidings(cfg, &["preview", "--out", out.to_str().unwrap()], &env);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        // "preview: 397 stories, …": every story read, shown or not.
        let said = format!("{}{}", stdout(&o), stderr(&o));
        let count = said
            .split("preview: ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap_or_else(|| panic!("no story count in {said}"))
            .to_string();
        let json: serde_json::Value =
            serde_json::from_str(&read_to_string(&out.join("digest.json"))).unwrap();
        assert!(
            json["errors"].as_array().unwrap().is_empty(),
            "{}",
            json["errors"]
        );
        let mut stories: Vec<(String, String)> = json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .chain(json["lead"].as_array().into_iter().flatten())
            .flat_map(|g| {
                // A lead story stands alone; a topic lists its stories, then those collapsed
                // to titles, the rest and the follow-ups.
                if g.get("stories").is_none() {
                    return vec![g.clone()];
                }
                ["stories", "collapsed", "more", "followups"]
                    .iter()
                    .flat_map(|k| g[*k].as_array().cloned().unwrap_or_default())
                    .collect()
            })
            .map(|s| (s["title"].to_string(), s["url"].to_string()))
            .collect();
        stories.sort();
        let mut attention: Vec<String> = json["attention"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["subject"].to_string())
            .collect();
        attention.sort();
        (stories, attention, count)
    };
    let (imap_stories, imap_attention, imap_count) = read(&over_imap, "over-imap");
    let (file_stories, file_attention, file_count) = read(&from_files, "from-files");
    println!(
        "{} real messages: {imap_count} stories over IMAP ({} shown), {file_count} from files ({} shown)",
        files.len(),
        imap_stories.len(),
        file_stories.len()
    );
    assert_eq!(imap_count, file_count);
    assert!(
        file_stories.len() >= 200,
        "only {} stories shown",
        file_stories.len()
    );
    assert_eq!(imap_stories, file_stories);
    assert_eq!(imap_attention, file_attention);
    assert!(!file_attention.is_empty());
}

/// A config whose digest is filed into `folder` of the test account over STARTTLS
/// (`[delivery] transport = "imap"`), made from the local fixture Maildir; no SMTP at all.
fn imap_delivery_config(dir: &Path, imap: &Imap, folder: &str, password_var: &str) -> PathBuf {
    maildir_with_one_issue(dir, "Local");
    let text = format!(
        r#"
[digest]
title = "Filed digest"
lookback = "3650d"

[state]
path = "state/tidings.db"

[delivery]
from = "Tidings <digest@example.org>"
to = ["{user}@example.org"]
transport = "imap"

[delivery.imap]
host = "{host}"
port = {port}
security = "starttls"
username = "{user}"
password_env = "{password_var}"
ca_file = "{ca}"
folder = "{folder}"

[[mailboxes]]
type = "maildir"
name = "Local"
path = "Local"
"#,
        host = imap.host,
        port = imap.port,
        user = imap.user,
        ca = var("TIDINGS_TEST_CA"),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_digest_filed_into_an_imap_folder_arrives_once_unread_and_a_refusal_loses_nothing() {
    let imap = Imap::get();
    let dir = tempfile::tempdir().unwrap();
    let folder = format!("Digests{}", nonce());
    let cfg = imap_delivery_config(dir.path(), &imap, &folder, IMAP_PASSWORD_VAR);

    // A wrong password: a clear error naming the account and folder, without the secret,
    // and nothing counted as delivered.
    let wrong = "not-the-password-7d1f";
    let refused = tidings(&cfg, &["run"], &[(IMAP_PASSWORD_VAR, wrong)]);
    assert_ne!(refused.status.code(), Some(0));
    let err = stderr(&refused);
    assert!(
        err.contains(&format!("folder `{folder}` of {}@{}", imap.user, imap.host)),
        "{err}"
    );
    assert!(err.contains("login"), "{err}");
    assert!(!err.contains(wrong), "the password leaked: {err}");
    assert!(imap.messages(&folder, false).is_none(), "nothing is filed");

    // `check` logs in and says the folder will be created, creating nothing.
    let env = [(IMAP_PASSWORD_VAR, imap.password.as_str())];
    let check = tidings(&cfg, &["check"], &env);
    let out = stdout(&check);
    assert!(
        out.contains("will be created at the first delivery"),
        "{out}{}",
        stderr(&check)
    );
    assert!(imap.messages(&folder, false).is_none());

    // The right one: the folder is created and holds the digest, one complete message, unread.
    let first = tidings(&cfg, &["run"], &env);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let filed = imap
        .messages(&folder, true)
        .expect("the folder was created");
    assert_eq!(filed.len(), 1, "{filed:?}");
    let (_, flags, body) = &filed[0];
    assert!(!is_seen(flags), "filed as read: {flags:?}");
    let raw = String::from_utf8_lossy(body);
    let msg = mail_parser::MessageParser::default()
        .parse(body.as_slice())
        .unwrap();
    assert_eq!(
        msg.subject().map(|s| s.starts_with("Filed digest")),
        Some(true),
        "{raw}"
    );
    assert!(
        msg.body_html(0).is_some() && msg.body_text(0).is_some(),
        "{raw}"
    );
    let text = digest_text(&raw);
    assert!(
        text.contains("Rust compiler cuts incremental build times in half"),
        "{text}"
    );

    // Everything was recorded as delivered: a second run files nothing.
    let second = tidings(&cfg, &["run"], &env);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(imap.messages(&folder, false).unwrap().len(), 1);
}

/// A config whose IMAP mailbox and SMTP server both log in with an OAuth2 token printed by a
/// command (`auth = "oauth2"`, `token_command`), over `mechanism`, as Outlook and Gmail want.
fn oauth2_config(
    dir: &Path,
    mail: &MailEnv,
    imap: &Imap,
    folder: &str,
    to: &str,
    mechanism: &str,
) -> PathBuf {
    let text = format!(
        r#"
[digest]
title = "OAuth2 digest"
lookback = "3650d"

[state]
path = "state/tidings.db"

[delivery]
from = "Tidings <digest@example.org>"
to = ["{to}"]

[smtp]
host = "{host}"
port = {smtp_port}
security = "starttls"
username = "{smtp_user}"
auth = "oauth2"
oauth2_mechanism = "{mechanism}"
token_command = "cat token"
ca_file = "{ca}"
timeout = "10s"

[[mailboxes]]
type = "imap"
name = "Work (OAuth2)"
host = "{imap_host}"
port = {imaps_port}
security = "tls"
username = "{imap_user}"
token_command = "cat token"
oauth2_mechanism = "{mechanism}"
ca_file = "{ca}"
folders = ["{folder}"]

[[mailboxes]]
type = "maildir"
name = "Local"
path = "Local"
"#,
        host = mail.host,
        smtp_port = mail.starttls_port,
        smtp_user = mail.user,
        ca = mail.ca.display(),
        imap_host = imap.host,
        imaps_port = imap.tls_port,
        imap_user = imap.user,
    );
    // A local source too, so there is a digest to send while the IMAP login is refused.
    maildir_with_one_issue(dir, "Local");
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// OAuth2 against the real servers: Dovecot's oauth2 passdb asks the test setup's token
/// introspection endpoint, the SMTP server checks the same bearer token. Both SASL mechanisms
/// read the mailbox and send the digest; a wrong token is refused with an error that names
/// the account and says what is likely wrong, and never shows the token.
#[test]
fn oauth2_tokens_log_in_to_imap_and_smtp_and_a_bad_one_is_named_without_leaking() {
    let mail = MailEnv::get();
    let imap = Imap::get();
    let token = var("TIDINGS_TEST_OAUTH_TOKEN");
    for mechanism in ["xoauth2", "oauthbearer"] {
        // `token_command = "cat token"` runs where tidings runs: in this directory.
        let dir = tempfile::tempdir().unwrap();
        let folder = format!("OAuth{}", nonce());
        let to = format!("oauth-{mechanism}-{}@example.org", nonce());
        imap.drop_message(&folder, "roundup-html-headings");
        let cfg = oauth2_config(dir.path(), &mail, &imap, &folder, &to, mechanism);
        let run_in_dir = |args: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
                .current_dir(dir.path())
                .arg("-c")
                .arg(&cfg)
                .args(args)
                .env("LANG", "C.UTF-8")
                .env_remove("RUST_LOG")
                .output()
                .unwrap();
            eprintln!(
                "--- {mechanism} {args:?} exit {:?}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            out
        };

        // A token the servers do not know: the mailbox is named, the run fails on SMTP, and
        // the token itself never appears.
        let wrong = format!("expired-{}", nonce());
        std::fs::write(dir.path().join("token"), &wrong).unwrap();
        let refused = run_in_dir(&["run"]);
        assert_eq!(refused.status.code(), Some(1), "the send must fail");
        let err = String::from_utf8_lossy(&refused.stderr).to_string();
        assert!(err.contains("Work (OAuth2)"), "{mechanism}: {err}");
        assert!(
            err.contains("[AUTHENTICATIONFAILED] Authentication failed."),
            "{mechanism}: {err}"
        );
        let smtp_refusal = format!(
            "{} login as `{}` refused (an expired or wrong OAuth2 token?)",
            mechanism.to_uppercase(),
            mail.user
        );
        assert!(err.contains(&smtp_refusal), "{mechanism}: {err}");
        assert!(
            !err.contains(&wrong),
            "{mechanism}: the token leaked: {err}"
        );
        assert!(mail.received_for(&to).is_empty());

        // The right one: `check` logs in to both, and `run` reads the mailbox and sends.
        std::fs::write(dir.path().join("token"), &token).unwrap();
        let check = run_in_dir(&["check"]);
        let report = String::from_utf8_lossy(&check.stdout).to_string();
        assert_eq!(check.status.code(), Some(0), "{mechanism}: {report}");
        let run = run_in_dir(&["run"]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{mechanism}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let got = mail.received_for(&to);
        assert_eq!(got.len(), 1, "{mechanism}");
        let text = digest_text(&got[0]);
        assert!(
            text.contains("Copper prices climb as smelters pause output"),
            "{mechanism}: {text}"
        );
        assert!(
            text.contains("Rust compiler cuts incremental build times in half"),
            "the local story waited for the send: {text}"
        );
        for out in [&refused, &check, &run] {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !all.contains(&token),
                "{mechanism}: the token leaked: {all}"
            );
        }
    }
}
