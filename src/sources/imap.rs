//! Newsletters from folders on an IMAP server (`[[mailboxes]] type = "imap"`).
//!
//! - TLS is implicit (`security = "tls"`, port 993) or upgraded with STARTTLS (port 143), always
//!   verified: against the public roots, plus the PEM `ca_file` for a private CA. Plain IMAP is
//!   only accepted for localhost (checked in [`crate::config`]).
//! - Folders are opened with EXAMINE (read-only) and bodies fetched with `BODY.PEEK[]`, so reading
//!   never marks anything read. The server is asked only for what can matter (`UID SEARCH
//!   SINCE` the cut-off, `FROM` the sender patterns), and only UIDs with no standing record
//!   (per folder and UIDVALIDITY, see [`crate::sources::examined`]) are fetched, a chunk at a
//!   time; the Message-ID guard in [`mailbox::digest_message`] catches the same newsletter
//!   arriving twice.
//! - A dropped connection or a timeout is retried once from a fresh connection; a wrong password
//!   is not retried. Either way the failure is this mailbox's, not the run's.
//! - [`Appender`] files the digest into a folder when that is how it is delivered.
//! - [`apply_after`] runs only after the digest was accepted by SMTP and recorded: it marks the
//!   messages `\Seen`, moves them, or deletes them, as `after` says.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt as _, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::DEFAULT_MAX_MESSAGE_BYTES;
use crate::config::{AfterDelivery, Auth, ImapConfig, MailboxConfig, Sasl, Security};
use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::sources::examined::{Forget, Remembered};
use crate::sources::mailbox::{
    digest_message, too_large, MailboxRead, MessageOutcome, MessageReader,
};
use crate::state::{ImapUid, State};

/// Attempts per mailbox when the connection drops or times out.
const MAX_ATTEMPTS: usize = 2;
/// Pause before the retry, so a server that just dropped us is not hit again at once.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// UIDs per `UID FETCH`, so one command never asks for a whole folder's bodies.
const FETCH_CHUNK: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot read the IMAP password: {0}")]
    Password(String),
    #[error("cannot connect to `{addr}`")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS with `{addr}` failed: {message}")]
    Tls { addr: String, message: String },
    #[error("cannot read `ca_file` `{path}`: {message}")]
    CaFile { path: String, message: String },
    #[error("login to `{addr}` as `{user}` failed ({why}): {message}")]
    Login {
        addr: String,
        user: String,
        /// What is likely wrong: "wrong username or password?", or the token.
        why: &'static str,
        message: String,
    },
    #[error("cannot get the OAuth2 token: {0}")]
    Token(String),
    #[error("folder `{folder}` not found on `{addr}`; is the name right? the server has: {}", .available.join(", "))]
    NoFolder {
        addr: String,
        folder: String,
        available: Vec<String>,
    },
    #[error("`{addr}` timed out during {what}")]
    Timeout { addr: String, what: &'static str },
    #[error("IMAP error from `{addr}` during {what}")]
    Protocol {
        addr: String,
        what: &'static str,
        source: async_imap::error::Error,
    },
}

impl ImapError {
    /// Worth a fresh connection: the link failed, not the request.
    fn is_transient(&self) -> bool {
        match self {
            ImapError::Connect { .. } | ImapError::Timeout { .. } => true,
            ImapError::Protocol { source, .. } => matches!(
                source,
                async_imap::error::Error::Io(_) | async_imap::error::Error::ConnectionLost
            ),
            _ => false,
        }
    }
}

/// Any byte stream a session can run over: TCP, or TLS over TCP.
trait ImapStream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> ImapStream for T {}
type ImapSession = Session<Box<dyn ImapStream>>;

/// What one IMAP mailbox yielded, plus the messages to record and act on after delivery.
#[derive(Default)]
pub(crate) struct ImapRead {
    pub read: MailboxRead,
    pub used: Vec<ImapUid>,
    /// What each message came to, for state.
    pub learned: Remembered,
}

/// Reads every folder of the mailbox (`imap`: its server settings, from `cfg`'s kind): the
/// messages not digested before.
pub(crate) async fn read(
    cfg: &MailboxConfig,
    imap: &ImapConfig,
    state: &State,
    digested: &HashSet<String>,
    cutoff: DateTime<Utc>,
    cleaner: &Cleaner,
    sanitizer: &Sanitizer,
) -> Result<ImapRead, ImapError> {
    let password = password(imap)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match read_once(
            cfg, imap, &password, state, digested, cutoff, cleaner, sanitizer,
        )
        .await
        {
            Err(e) if e.is_transient() && attempt < MAX_ATTEMPTS => {
                tracing::warn!(source = %cfg.label(), error = %crate::sources::http::error_chain(&e), "IMAP connection failed; retrying");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// For `tidings check`: logs in and opens every configured folder read-only; reads nothing.
pub(crate) async fn check(imap: &ImapConfig) -> Result<usize, ImapError> {
    let addr = format!("{}:{}", imap.host, imap.port);
    let mut session = connect(imap, &password(imap)?).await?;
    for folder in &imap.folders {
        if let Err(e) = within(imap.timeout, &addr, "EXAMINE", session.examine(folder)).await {
            // Say which folders there are: a typo or a provider's own name ("[Gmail]/…").
            let available = folder_names(&mut session, imap.timeout, &addr).await;
            if !available.is_empty() && !available.contains(folder) {
                return Err(ImapError::NoFolder {
                    addr,
                    folder: folder.clone(),
                    available,
                });
            }
            return Err(e);
        }
    }
    let _ = session.logout().await;
    Ok(imap.folders.len())
}

/// A logged-in session ready to file the digest into its folder (`[delivery] transport =
/// "imap"`). Opening it does everything that can fail before the digest is committed to:
/// connect, log in, and create the folder if the account has none of that name.
pub(crate) struct Appender {
    session: ImapSession,
    addr: String,
    folder: String,
    timeout: Duration,
}

impl Appender {
    pub(crate) async fn open(imap: &ImapConfig) -> Result<Appender, ImapError> {
        let addr = format!("{}:{}", imap.host, imap.port);
        let folder = imap
            .folders
            .first()
            .cloned()
            .unwrap_or_else(|| crate::config::DEFAULT_IMAP_FOLDER.to_string());
        let mut session = connect(imap, &password(imap)?).await?;
        if !folder_exists(&mut session, imap.timeout, &addr, &folder).await {
            within(imap.timeout, &addr, "CREATE", session.create(&folder)).await?;
        }
        Ok(Appender {
            session,
            addr,
            folder,
            timeout: imap.timeout,
        })
    }

    /// APPENDs the message, unread; returns once the server answered OK, which is the
    /// moment it has the message.
    pub(crate) async fn append(mut self, message: &[u8]) -> Result<(), ImapError> {
        within(
            self.timeout,
            &self.addr,
            "APPEND",
            self.session.append(&self.folder, None, None, message),
        )
        .await?;
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
        Ok(())
    }

    /// Leaves without filing anything.
    pub(crate) async fn close(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }
}

/// `tidings check` for `[delivery] transport = "imap"`: logs in and says whether the folder
/// the digest goes into exists (it is created at the first delivery if not). Changes nothing.
pub(crate) async fn check_append(imap: &ImapConfig) -> Result<bool, ImapError> {
    let addr = format!("{}:{}", imap.host, imap.port);
    let folder = imap.folders.first().map(String::as_str).unwrap_or_default();
    let mut session = connect(imap, &password(imap)?).await?;
    let exists = folder_exists(&mut session, imap.timeout, &addr, folder).await;
    let _ = tokio::time::timeout(imap.timeout, session.logout()).await;
    Ok(exists)
}

async fn folder_exists(
    session: &mut ImapSession,
    limit: Duration,
    addr: &str,
    folder: &str,
) -> bool {
    within(limit, addr, "STATUS", session.status(folder, "(MESSAGES)"))
        .await
        .is_ok()
}

/// The server's folder names (at most 30), or none if it will not say.
async fn folder_names<S>(session: &mut Session<S>, limit: Duration, addr: &str) -> Vec<String>
where
    S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let listed = async {
        let mut names = Vec::new();
        let mut stream = session.list(Some(""), Some("*")).await?;
        while let Some(n) = stream.next().await {
            if names.len() < 30 {
                names.push(n?.name().to_string());
            }
        }
        Ok(names)
    };
    within(limit, addr, "LIST", listed)
        .await
        .unwrap_or_default()
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call site; bundling them would only rename the same list"
)]
async fn read_once(
    cfg: &MailboxConfig,
    imap: &ImapConfig,
    password: &str,
    state: &State,
    digested: &HashSet<String>,
    cutoff: DateTime<Utc>,
    cleaner: &Cleaner,
    sanitizer: &Sanitizer,
) -> Result<ImapRead, ImapError> {
    let addr = format!("{}:{}", imap.host, imap.port);
    let key = cfg.key();
    let mut session = connect(imap, password).await?;
    let reader = MessageReader {
        cfg,
        source: &key,
        digested,
        cutoff,
        cleaner,
        sanitizer,
    };
    let mut ledger = reader.ledger(state.examined(&key.0).unwrap_or_default());
    let mut out = ImapRead::default();
    for folder in &imap.folders {
        // EXAMINE: the folder is opened read-only, so nothing about it changes by reading.
        let mailbox = match within(imap.timeout, &addr, "EXAMINE", session.examine(folder)).await {
            Ok(m) => m,
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                let available = folder_names(&mut session, imap.timeout, &addr).await;
                let problem = if !available.is_empty() && !available.contains(folder) {
                    format!(
                        "folder `{folder}` not found; the server has: {}",
                        available.join(", ")
                    )
                } else {
                    format!("folder `{folder}` cannot be opened: {e}")
                };
                out.read.warnings.push(problem);
                continue;
            }
        };
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        // UIDs mean nothing under another UIDVALIDITY.
        ledger.learned.forget.push(Forget::OtherValidity {
            folder: folder.clone(),
            validity: uidvalidity,
        });
        let known = state
            .imap_digested(&key.0, folder, uidvalidity)
            .unwrap_or_default();
        // Only what can matter: arrived since the cut-off, from the senders the filters allow.
        let query = search_query(cutoff, &cfg.from);
        let found = within(
            imap.timeout,
            &addr,
            "UID SEARCH",
            session.uid_search(&query),
        )
        .await?;
        let present: HashSet<String> = found.iter().map(u32::to_string).collect();
        ledger.forget_absent(folder, uidvalidity, &present);
        let mut uids: Vec<u32> = found
            .into_iter()
            .filter(|u| !known.contains(u) && !ledger.settled(folder, uidvalidity, &u.to_string()))
            .collect();
        uids.sort_unstable();
        // Sizes first, so a message over the limit (a 50 MB attachment) is never downloaded.
        let sizes = fetch_each(&mut session, imap, &addr, &uids, "(UID RFC822.SIZE)", |f| {
            Some((f.uid?, f.size))
        })
        .await?;
        let mut small = Vec::with_capacity(uids.len());
        for (uid, size) in sizes {
            match size {
                Some(size) if u64::from(size) > DEFAULT_MAX_MESSAGE_BYTES => {
                    out.read
                        .warnings
                        .push(too_large(&format!("{folder}/{uid}"), size.into()));
                    MessageOutcome::Failed.note(&mut ledger, folder, uidvalidity, &uid.to_string());
                }
                _ => small.push(uid),
            }
        }
        // Bodies a chunk at a time, each chunk digested before the next is asked for: memory
        // holds one chunk of mail, not the folder.
        for chunk in small.chunks(FETCH_CHUNK) {
            let bodies = fetch_each(&mut session, imap, &addr, chunk, "(UID BODY.PEEK[])", |f| {
                Some((f.uid?, f.body()?.to_vec()))
            })
            .await?;
            tracing::debug!(source = %cfg.label(), folder, bodies = bodies.len(), "IMAP bodies fetched");
            for (uid, body) in bodies {
                let name = format!("{folder}/{uid}");
                let id = uid.to_string();
                // The server may have understated the size.
                if body.len() as u64 > DEFAULT_MAX_MESSAGE_BYTES {
                    out.read.warnings.push(too_large(&name, body.len() as u64));
                    MessageOutcome::Failed.note(&mut ledger, folder, uidvalidity, &id);
                    continue;
                }
                let fallback = format!("imap-{}-{folder}-{uidvalidity}-{uid}", imap.host);
                let outcome = digest_message(&body, &name, &fallback, &reader, &mut out.read);
                outcome.note(&mut ledger, folder, uidvalidity, &id);
                if let MessageOutcome::Used(message_id) = outcome {
                    out.used.push(ImapUid {
                        mailbox: key.0.clone(),
                        folder: folder.clone(),
                        uidvalidity,
                        uid,
                        message_id,
                    });
                }
            }
        }
    }
    out.learned = ledger.finish(false);
    // The data is in hand: a failing LOGOUT changes nothing.
    let _ = within(imap.timeout, &addr, "LOGOUT", session.logout()).await;
    Ok(out)
}

/// After an accepted send: marks, moves or deletes the digested messages as `after` says.
/// Messages whose folder changed UIDVALIDITY since they were read are left alone.
pub(crate) async fn apply_after(imap: &ImapConfig, uids: &[ImapUid]) -> Result<usize, ImapError> {
    if imap.after == AfterDelivery::None || uids.is_empty() {
        return Ok(0);
    }
    let addr = format!("{}:{}", imap.host, imap.port);
    let password = password(imap)?;
    let mut session = connect(imap, &password).await?;
    let mut by_folder: BTreeMap<&str, Vec<&ImapUid>> = BTreeMap::new();
    for u in uids {
        by_folder.entry(u.folder.as_str()).or_default().push(u);
    }
    let mut done = 0;
    for (folder, list) in by_folder {
        let mailbox = within(imap.timeout, &addr, "SELECT", session.select(folder)).await?;
        let current = mailbox.uid_validity.unwrap_or(0);
        let mut set: Vec<u32> = list
            .iter()
            .filter(|u| u.uidvalidity == current)
            .map(|u| u.uid)
            .collect();
        if set.is_empty() {
            continue;
        }
        set.sort_unstable();
        let set = uid_set(&set);
        match &imap.after {
            AfterDelivery::None => {}
            AfterDelivery::Seen => {
                store(&mut session, imap, &addr, &set, "+FLAGS.SILENT (\\Seen)").await?;
            }
            AfterDelivery::Delete => {
                store(&mut session, imap, &addr, &set, "+FLAGS.SILENT (\\Deleted)").await?;
                within(imap.timeout, &addr, "UID EXPUNGE", async {
                    let s = session.uid_expunge(&set).await?;
                    let _: Vec<_> = s.collect().await;
                    Ok(())
                })
                .await?;
            }
            AfterDelivery::Move(target) => {
                let moved = within(
                    imap.timeout,
                    &addr,
                    "UID MOVE",
                    session.uid_mv(&set, target),
                )
                .await;
                if let Err(ImapError::Protocol {
                    source: async_imap::error::Error::No(_),
                    ..
                }) = moved
                {
                    // Most servers answer NO [TRYCREATE] for a missing folder: create it once.
                    within(imap.timeout, &addr, "CREATE", session.create(target)).await?;
                    within(
                        imap.timeout,
                        &addr,
                        "UID MOVE",
                        session.uid_mv(&set, target),
                    )
                    .await?;
                } else {
                    moved?;
                }
            }
        }
        done += list.len();
    }
    let _ = within(imap.timeout, &addr, "LOGOUT", session.logout()).await;
    Ok(done)
}

async fn store(
    session: &mut ImapSession,
    imap: &ImapConfig,
    addr: &str,
    set: &str,
    what: &str,
) -> Result<(), ImapError> {
    within(imap.timeout, addr, "UID STORE", async {
        let s = session.uid_store(set, what).await?;
        let _: Vec<_> = s.collect().await;
        Ok(())
    })
    .await
}

/// The `UID SEARCH` criteria for what can matter: `SINCE` a day before the cut-off (SINCE
/// compares dates, in the server's zone), and, where every sender pattern has a literal part,
/// `FROM` for each (a substring match on the server; the patterns are still checked here).
fn search_query(cutoff: DateTime<Utc>, from: &[String]) -> String {
    let since = cutoff - chrono::Duration::days(1);
    let mut query = format!("SINCE {}", since.format("%-d-%b-%Y"));
    let literals: Option<Vec<String>> = from
        .iter()
        .map(|p| {
            let longest = p
                .trim()
                .split('*')
                .max_by_key(|part| part.len())
                .unwrap_or("")
                .to_lowercase();
            // Quoted strings cannot carry these; a pattern without a literal part matches all.
            let plain = !longest.is_empty()
                && longest
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
            plain.then_some(longest)
        })
        .collect();
    if let Some(literals) = literals.filter(|l| !l.is_empty()) {
        query.push(' ');
        query.push_str(&"OR ".repeat(literals.len() - 1));
        let terms: Vec<String> = literals.iter().map(|l| format!("FROM \"{l}\"")).collect();
        query.push_str(&terms.join(" "));
    }
    query
}

/// `1:3,7,9:10` for sorted UIDs.
fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    parts.join(",")
}

fn password(imap: &ImapConfig) -> Result<String, ImapError> {
    imap.password.read().map_err(match imap.auth {
        Auth::Password => ImapError::Password,
        Auth::OAuth2(_) => ImapError::Token,
    })
}

/// `UID FETCH query` for `uids`, [`FETCH_CHUNK`] at a time, each chunk under the deadline;
/// `pick` makes each answer into a `T` (None skips it).
async fn fetch_each<T>(
    session: &mut ImapSession,
    imap: &ImapConfig,
    addr: &str,
    uids: &[u32],
    query: &str,
    pick: impl Fn(&async_imap::types::Fetch) -> Option<T>,
) -> Result<Vec<T>, ImapError> {
    let mut out = Vec::with_capacity(uids.len());
    for chunk in uids.chunks(FETCH_CHUNK) {
        let set = uid_set(chunk);
        let got = within(imap.timeout, addr, "UID FETCH", async {
            let mut stream = session.uid_fetch(&set, query).await?;
            let mut got = Vec::new();
            while let Some(f) = stream.next().await {
                got.extend(pick(&f?));
            }
            Ok(got)
        })
        .await?;
        out.extend(got);
    }
    Ok(out)
}

/// Runs one IMAP step under the deadline, naming the step in the error.
async fn within<T, F>(
    limit: Duration,
    addr: &str,
    what: &'static str,
    fut: F,
) -> Result<T, ImapError>
where
    F: std::future::Future<Output = async_imap::error::Result<T>>,
{
    match tokio::time::timeout(limit, fut).await {
        Err(_) => Err(ImapError::Timeout {
            addr: addr.to_string(),
            what,
        }),
        Ok(Err(source)) => Err(ImapError::Protocol {
            addr: addr.to_string(),
            what,
            source,
        }),
        Ok(Ok(v)) => Ok(v),
    }
}

fn tls_connector(imap: &ImapConfig) -> Result<tokio_rustls::TlsConnector, ImapError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &imap.ca_file {
        let ca_err = |message: String| ImapError::CaFile {
            path: path.display().to_string(),
            message,
        };
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_err(e.to_string()))? {
            let cert = cert.map_err(|e| ca_err(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ca_err("no PEM certificate in the file".into()));
        }
    }
    // ring only: with two providers compiled in, rustls cannot pick a process default.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ImapError::Tls {
        addr: imap.host.clone(),
        message: e.to_string(),
    })?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

async fn tls_wrap(
    imap: &ImapConfig,
    addr: &str,
    tcp: TcpStream,
) -> Result<Box<dyn ImapStream>, ImapError> {
    let connector = tls_connector(imap)?;
    let name = ServerName::try_from(imap.host.clone()).map_err(|e| ImapError::Tls {
        addr: addr.to_string(),
        message: format!("`{}` is not a valid server name: {e}", imap.host),
    })?;
    let tls = tokio::time::timeout(imap.timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| ImapError::Timeout {
            addr: addr.to_string(),
            what: "TLS handshake",
        })?
        .map_err(|e| {
            // A certificate or protocol failure is final; a connection cut mid-handshake is
            // the link's, and worth a retry.
            if e.kind() == std::io::ErrorKind::InvalidData {
                ImapError::Tls {
                    addr: addr.to_string(),
                    message: e.to_string(),
                }
            } else {
                ImapError::Connect {
                    addr: addr.to_string(),
                    source: e,
                }
            }
        })?;
    Ok(Box::new(tls))
}

/// Connects, secures the connection as configured, and logs in.
async fn connect(imap: &ImapConfig, password: &str) -> Result<ImapSession, ImapError> {
    let addr = format!("{}:{}", imap.host, imap.port);
    let tcp = tokio::time::timeout(
        imap.timeout,
        TcpStream::connect((imap.host.as_str(), imap.port)),
    )
    .await
    .map_err(|_| ImapError::Timeout {
        addr: addr.clone(),
        what: "connect",
    })?
    .map_err(|source| ImapError::Connect {
        addr: addr.clone(),
        source,
    })?;
    let greeting_lost = || ImapError::Protocol {
        addr: addr.clone(),
        what: "greeting",
        source: async_imap::error::Error::ConnectionLost,
    };
    let stream: Box<dyn ImapStream> = match imap.security {
        Security::Tls => tls_wrap(imap, &addr, tcp).await?,
        Security::None => Box::new(tcp),
        Security::StartTls => {
            let mut client = Client::new(tcp);
            within(imap.timeout, &addr, "greeting", async {
                Ok(client.read_response().await?)
            })
            .await?
            .ok_or_else(greeting_lost)?;
            within(
                imap.timeout,
                &addr,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            let tcp = client.into_inner();
            let tls = tls_wrap(imap, &addr, tcp).await?;
            // After STARTTLS there is no second greeting.
            let client = Client::new(tls);
            return login(imap, &addr, client, password).await;
        }
    };
    let mut client = Client::new(stream);
    within(imap.timeout, &addr, "greeting", async {
        Ok(client.read_response().await?)
    })
    .await?
    .ok_or_else(greeting_lost)?;
    login(imap, &addr, client, password).await
}

async fn login(
    imap: &ImapConfig,
    addr: &str,
    client: Client<Box<dyn ImapStream>>,
    password: &str,
) -> Result<ImapSession, ImapError> {
    let (attempt, why) = match imap.auth {
        Auth::Password => (
            client.login(&imap.username, password).boxed(),
            "wrong username or password?",
        ),
        Auth::OAuth2(sasl) => {
            let token = OAuth2Token {
                sasl,
                user: imap.username.clone(),
                host: imap.host.clone(),
                port: imap.port,
                token: password.to_string(),
                sent: false,
            };
            (
                client.authenticate(sasl.name(), token).boxed(),
                "an expired or wrong OAuth2 token, or a server without OAuth2?",
            )
        }
    };
    match tokio::time::timeout(imap.timeout, attempt).await {
        Err(_) => Err(ImapError::Timeout {
            addr: addr.to_string(),
            what: "LOGIN",
        }),
        Ok(Ok(session)) => Ok(session),
        Ok(Err((async_imap::error::Error::No(m) | async_imap::error::Error::Bad(m), _))) => {
            Err(ImapError::Login {
                addr: addr.to_string(),
                user: imap.username.clone(),
                why,
                message: server_text(&m),
            })
        }
        Ok(Err((source, _))) => Err(ImapError::Protocol {
            addr: addr.to_string(),
            what: "LOGIN",
            source,
        }),
    }
}

/// What the server said, without async-imap's wrapping (`code: None, info: Some("…")`).
fn server_text(m: &str) -> String {
    match m.split_once("info: Some(\"") {
        Some((_, rest)) => rest.rsplit_once("\")").map_or(rest, |(t, _)| t).to_string(),
        None => m.trim().to_string(),
    }
}

/// The SASL exchange that carries an OAuth2 token: one initial response, then, if the server
/// answers with an error challenge, the empty (XOAUTH2) or `^A` (OAUTHBEARER, RFC 7628 §3.2.3)
/// reply that lets it finish with NO.
struct OAuth2Token {
    sasl: Sasl,
    user: String,
    host: String,
    port: u16,
    token: String,
    sent: bool,
}

impl async_imap::Authenticator for OAuth2Token {
    type Response = Vec<u8>;

    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        if std::mem::replace(&mut self.sent, true) {
            return match self.sasl {
                Sasl::XOAuth2 => Vec::new(),
                Sasl::OAuthBearer => vec![0x01],
            };
        }
        oauth2_initial_response(self.sasl, &self.user, &self.host, self.port, &self.token)
    }
}

/// The first client message of XOAUTH2 or OAUTHBEARER (before base64), for IMAP and SMTP.
pub(crate) fn oauth2_initial_response(
    sasl: Sasl,
    user: &str,
    host: &str,
    port: u16,
    token: &str,
) -> Vec<u8> {
    match sasl {
        Sasl::XOAuth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
        // The GS2 header names the user; `,` and `=` in it are escaped (RFC 5801).
        Sasl::OAuthBearer => format!(
            "n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01",
            user.replace('=', "=3D").replace(',', "=2C")
        ),
    }
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_the_server_wrote_it() {
        assert_eq!(
            server_text(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"
            ),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(server_text(" Login refused "), "Login refused");
    }

    #[test]
    fn oauth2_initial_responses_follow_their_specs() {
        assert_eq!(
            oauth2_initial_response(Sasl::XOAuth2, "me@x.org", "imap.x.org", 993, "tok"),
            b"user=me@x.org\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(
            oauth2_initial_response(Sasl::OAuthBearer, "a,b=c", "h", 143, "tok"),
            b"n,a=a=2Cb=3Dc,\x01host=h\x01port=143\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn searches_ask_for_what_can_matter() {
        let cutoff = DateTime::parse_from_rfc3339("2026-03-05T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(search_query(cutoff, &[]), "SINCE 4-Mar-2026");
        assert_eq!(
            search_query(cutoff, &["*@Substack.com".into()]),
            "SINCE 4-Mar-2026 FROM \"@substack.com\""
        );
        assert_eq!(
            search_query(
                cutoff,
                &["a@x.org".into(), "*news*".into(), "*@y.org".into()]
            ),
            "SINCE 4-Mar-2026 OR OR FROM \"a@x.org\" FROM \"news\" FROM \"@y.org\""
        );
        // A pattern that matches everyone, or one a quoted string cannot carry: no FROM.
        assert_eq!(
            search_query(cutoff, &["*".into(), "a@x.org".into()]),
            "SINCE 4-Mar-2026"
        );
        assert_eq!(
            search_query(cutoff, &["a\"b@x.org".into()]),
            "SINCE 4-Mar-2026"
        );
    }

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }
}
