//! `tidings check`: the config is valid (it loaded), and then, live, that everything it names
//! answers: each feed is reachable and parses, each IMAP mailbox logs in and its folders exist,
//! the SMTP server connects, upgrades to TLS and accepts the login (nothing is sent), and the
//! templates render.

use chrono::Utc;
use futures_util::future::join_all;

use crate::config::{Config, FeedLocation, MailboxKind, Transport};
use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::model::Digest;
use crate::sources::feed::{self, FeedContext, Origin};
use crate::sources::http::{Fetched, Fetcher, Validators};

/// One line of the report.
pub struct Finding {
    pub what: String,
    pub problem: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.problem {
            None => write!(f, "ok    {}", self.what),
            Some(p) => write!(f, "FAIL  {}: {p}", self.what),
        }
    }
}

fn finding(what: String, result: Result<String, String>) -> Finding {
    match result {
        Ok(detail) if detail.is_empty() => Finding {
            what,
            problem: None,
        },
        Ok(detail) => Finding {
            what: format!("{what} ({detail})"),
            problem: None,
        },
        Err(p) => Finding {
            what,
            problem: Some(p),
        },
    }
}

/// Runs every check; `live = false` skips the ones that touch the network.
pub async fn run(cfg: &Config, live: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let empty = Digest {
        title: cfg.digest.title.clone(),
        generated_at: Utc::now(),
        groups: vec![],
        errors: vec![],
        attention: vec![],
        muted: vec![],
        links_withheld: 0,
        links_resolving: false,
        explain: None,
        ..Default::default()
    };
    let templates = crate::render::Renderer::new(cfg.digest.templates_dir.as_deref())
        .and_then(|r| r.strings(cfg.digest.strings.clone()).render(&empty))
        .map(|_| String::new())
        .map_err(|e| crate::sources::http::error_chain(&e));
    out.push(finding("templates render".into(), templates));
    if let Some(schedule) = &cfg.digest.schedule {
        let tz = cfg.digest.timezone;
        let next = schedule
            .next_after(Utc::now(), tz)
            .map(|t| {
                format!(
                    "{}; next {}",
                    schedule.describe().trim_end_matches('.'),
                    t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z")
                )
            })
            .ok_or_else(|| "it never fires".to_string());
        out.push(finding("schedule".into(), next));
    }
    match &cfg.delivery.transport {
        Transport::Smtp(smtp) => {
            if let (Some(_), Some(secret)) = (&smtp.username, &smtp.password) {
                let what = match smtp.auth {
                    crate::config::Auth::Password => "SMTP password",
                    crate::config::Auth::OAuth2(_) => "SMTP OAuth2 token",
                };
                out.push(finding(
                    format!("{what} is available"),
                    secret.read().map(|_| String::new()),
                ));
            }
        }
        Transport::Imap(imap) => out.push(finding(
            "IMAP delivery password is available".into(),
            imap.password.read().map(|_| String::new()),
        )),
        Transport::Maildir(dir) => out.push(finding(
            format!("Maildir {}", dir.display()),
            maildir_writable(dir),
        )),
        Transport::Sendmail { .. } => {}
    }
    if !live {
        return out;
    }

    let cleaner = Cleaner::new(&cfg.links);
    let sanitizer = Sanitizer::new(&cleaner);
    match Fetcher::new(&cfg.fetch) {
        Err(e) => out.push(finding(
            "HTTP client".into(),
            Err(crate::sources::http::error_chain(&e)),
        )),
        Ok(fetcher) => {
            let checks = cfg.feeds.iter().map(|f| {
                let (fetcher, cleaner, sanitizer) = (&fetcher, &cleaner, &sanitizer);
                async move {
                    let name = f.name.clone().unwrap_or_else(|| f.location.to_string());
                    let bytes = match &f.location {
                        FeedLocation::Url(u) => {
                            match fetcher.fetch(u, &Validators::default()).await {
                                Ok(Fetched::Body { bytes, origin, .. }) => Ok((bytes, *origin)),
                                Ok(Fetched::NotModified) => {
                                    Err("answered 304 to an unconditional request".to_string())
                                }
                                Err(e) => Err(crate::sources::http::error_chain(&e)),
                            }
                        }
                        FeedLocation::File(p) => std::fs::read(p)
                            .map(|b| (b, Origin::default()))
                            .map_err(|e| crate::sources::http::error_chain(&e)),
                    };
                    let key = f.key();
                    let result = bytes.and_then(|(b, origin)| {
                        let ctx = FeedContext {
                            source: &key,
                            name: f.name.as_deref(),
                            fallback_name: &name,
                            topic: None,
                            cleaner,
                            sanitizer,
                            origin: &origin,
                        };
                        feed::parse(&b, &ctx)
                            .map(|p| match &p.repaired {
                                None => format!("{} items", p.items.len()),
                                Some(r) => {
                                    format!("{} items (not well-formed XML; {r})", p.items.len())
                                }
                            })
                            .map_err(|e| crate::sources::http::error_chain(&e))
                    });
                    finding(format!("feed {name}"), result)
                }
            });
            out.extend(join_all(checks).await);
        }
    }
    for m in &cfg.mailboxes {
        let result = match &m.kind {
            MailboxKind::Imap(server) => crate::sources::imap::check(server)
                .await
                .map(|n| format!("{n} folders"))
                .map_err(|e| crate::sources::http::error_chain(&e)),
            MailboxKind::Maildir(path) | MailboxKind::Mbox(path) => std::fs::metadata(path)
                .map(|_| String::new())
                .map_err(|e| format!("`{}`: {e}", path.display())),
        };
        out.push(finding(format!("mailbox {}", m.label()), result));
    }
    if let Transport::Imap(imap) = &cfg.delivery.transport {
        let folder = imap.folders.first().cloned().unwrap_or_default();
        let result = crate::sources::imap::check_append(imap)
            .await
            .map(|exists| {
                if exists {
                    "logged in, the folder exists".to_string()
                } else {
                    "logged in, the folder will be created at the first delivery".to_string()
                }
            })
            .map_err(|e| crate::sources::http::error_chain(&e));
        out.push(finding(
            format!(
                "IMAP delivery into {folder} of {}@{}",
                imap.username, imap.host
            ),
            result,
        ));
    }
    if let Transport::Smtp(smtp) = &cfg.delivery.transport {
        let result = match crate::deliver::connect(smtp).await {
            Ok(mut conn) => {
                let tls = if conn.is_encrypted() { "TLS" } else { "no TLS" };
                let _ = conn.quit().await;
                Ok(format!(
                    "{tls}{}",
                    if smtp.username.is_some() {
                        ", logged in"
                    } else {
                        ""
                    }
                ))
            }
            Err(e) => Err(crate::sources::http::error_chain(&e)),
        };
        out.push(finding(format!("SMTP {}:{}", smtp.host, smtp.port), result));
    }
    out
}

/// A Maildir the digest can be filed into: there with `new/` and `tmp/` writable, or creatable
/// under a directory that exists. Creates nothing.
fn maildir_writable(dir: &std::path::Path) -> Result<String, String> {
    let writable = |d: &std::path::Path| {
        std::fs::metadata(d)
            .map(|m| m.is_dir() && !m.permissions().readonly())
            .unwrap_or(false)
    };
    if dir.is_dir() {
        let unusable = |sub: &&str| {
            let d = dir.join(sub);
            if d.exists() {
                !writable(&d)
            } else {
                !writable(dir)
            }
        };
        return match ["new", "tmp"].into_iter().find(|s| unusable(s)) {
            None => Ok(String::new()),
            Some(sub) => Err(format!(
                "`{}/{sub}` is missing or not writable",
                dir.display()
            )),
        };
    }
    if dir.exists() {
        return Err(format!("`{}` is not a directory", dir.display()));
    }
    match dir.ancestors().skip(1).find(|a| a.exists()) {
        Some(a) if !a.is_dir() => Err(format!("`{}` is not a directory", a.display())),
        Some(a) if writable(a) => Ok("will be created at the first delivery".into()),
        Some(a) => Err(format!(
            "cannot create it: `{}` is not writable",
            a.display()
        )),
        None => Err("no existing parent directory".into()),
    }
}
