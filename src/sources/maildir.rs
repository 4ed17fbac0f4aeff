//! Newsletters from local mail: a Maildir (`new/` and `cur/`), a folder of `.eml` files, or a
//! single `.eml` file. Each message goes through [`newsletter::extract`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::config::{MailboxConfig, DEFAULT_MAX_MESSAGE_BYTES};
use crate::model::{Item, SourceKey};
use crate::sources::newsletter::{self, NewsletterContext};
use crate::{html::Sanitizer, links::Cleaner};

/// What one mailbox yielded: its stories, and the messages it could not use.
#[derive(Default)]
pub struct MailboxRead {
    pub items: Vec<Item>,
    /// Per-message problems; the mailbox itself still counts as read.
    pub warnings: Vec<String>,
    pub messages_read: usize,
    pub messages_skipped: usize,
}

pub fn source_key(cfg: &MailboxConfig) -> SourceKey {
    SourceKey(format!("maildir:{}", cfg.path.display()))
}

/// The message files of a mailbox, in a stable order.
pub fn message_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let is_maildir = path.join("cur").is_dir() || path.join("new").is_dir();
    let mut files = Vec::new();
    let dirs: Vec<PathBuf> = if is_maildir {
        vec![path.join("new"), path.join("cur")]
    } else {
        vec![path.to_path_buf()]
    };
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            if !is_maildir && !name.to_ascii_lowercase().ends_with(".eml") {
                continue;
            }
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every message not digested before. `digested` holds delivered Message-IDs.
pub fn read(
    cfg: &MailboxConfig,
    digested: &HashSet<String>,
    cleaner: &Cleaner,
    sanitizer: &Sanitizer,
) -> std::io::Result<MailboxRead> {
    let source = source_key(cfg);
    let mut out = MailboxRead::default();
    let parser = mail_parser::MessageParser::default();
    for file in message_files(&cfg.path)? {
        let file_name = file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A Maildir file keeps its unique name when its flags change (`:2,S`): strip them so the
        // fallback id is stable.
        let unique = file_name
            .split(":2,")
            .next()
            .unwrap_or(&file_name)
            .to_string();
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if size > DEFAULT_MAX_MESSAGE_BYTES {
            out.warnings.push(format!("message `{file_name}` is {size} bytes, over the {DEFAULT_MAX_MESSAGE_BYTES}-byte limit; skipped"));
            continue;
        }
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                out.warnings
                    .push(format!("message `{file_name}` could not be read: {e}"));
                continue;
            }
        };
        let Some(msg) = parser.parse(&bytes[..]) else {
            out.warnings
                .push(format!("message `{file_name}` is not a parsable email"));
            continue;
        };
        let ctx = NewsletterContext {
            source: &source,
            name: cfg.name.as_deref(),
            topic: cfg.topic.as_deref(),
            cleaner,
            sanitizer,
            fallback_id: &unique,
        };
        let extracted = newsletter::extract(&msg, &ctx);
        if digested.contains(&extracted.message_id) {
            out.messages_skipped += 1;
            continue;
        }
        out.messages_read += 1;
        if extracted.items.is_empty() {
            let what = if extracted.subject.is_empty() {
                format!("`{file_name}`")
            } else {
                format!("`{file_name}` ({})", extracted.subject)
            };
            out.warnings.push(format!(
                "message {what} has no readable content (broken MIME?)"
            ));
            continue;
        }
        tracing::debug!(file = %file_name, stories = extracted.items.len(), "newsletter read");
        out.items.extend(extracted.items);
    }
    Ok(out)
}
