//! Newsletters from local mail: a Maildir (`new/` and `cur/`), a folder of `.eml` files, or a
//! single `.eml` file. Each message goes through [`digest_message`], which the mbox and IMAP
//! readers share.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::{MailboxConfig, DEFAULT_MAX_MESSAGE_BYTES};
use crate::sources::examined::Remembered;
use crate::sources::mailbox::{
    digest_message, too_large, MailboxRead, MessageOutcome, MessageReader,
};
use crate::{html::Sanitizer, links::Cleaner};

/// The message files of a mailbox, in a stable order.
pub(crate) fn message_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
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

/// Reads every message not examined before (or whose record no longer holds), and says what
/// each came to. `digested` holds delivered Message-IDs.
///
/// A file last modified before the cut-off is not opened: mail is written once, on arrival,
/// so its modification time is an upper bound for when it came.
pub(crate) fn read(
    cfg: &MailboxConfig,
    path: &Path,
    records: Vec<crate::sources::examined::Examined>,
    digested: &HashSet<String>,
    cutoff: DateTime<Utc>,
    cleaner: &Cleaner,
    sanitizer: &Sanitizer,
) -> std::io::Result<(MailboxRead, Remembered)> {
    let source = cfg.key();
    let reader = MessageReader {
        cfg,
        source: &source,
        digested,
        cutoff,
        cleaner,
        sanitizer,
    };
    let mut ledger = reader.ledger(records);
    // A day's slack: a clock a little off or a file touched on arrival is still read.
    let not_before = std::time::SystemTime::from(cutoff - chrono::Duration::days(1));
    let mut out = MailboxRead::default();
    for file in message_files(path)? {
        let file_name = file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A Maildir file keeps its unique name when its flags change (`:2,S`) and when it
        // moves from new/ to cur/: strip them so the record and the fallback id are stable.
        let unique = file_name
            .split(":2,")
            .next()
            .unwrap_or(&file_name)
            .to_string();
        let meta = std::fs::metadata(&file).ok();
        if meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .is_some_and(|t| t < not_before)
        {
            out.messages_skipped += 1;
            continue;
        }
        if ledger.settled("", 0, &unique) {
            out.messages_skipped += 1;
            continue;
        }
        let size = meta.map(|m| m.len()).unwrap_or(0);
        if size > DEFAULT_MAX_MESSAGE_BYTES {
            out.warnings.push(too_large(&file_name, size));
            MessageOutcome::Failed.note(&mut ledger, "", 0, &unique);
            continue;
        }
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                // Not recorded: a file that cannot be read now may be readable next time.
                out.warnings
                    .push(format!("message `{file_name}` could not be read: {e}"));
                continue;
            }
        };
        digest_message(&bytes, &file_name, &unique, &reader, &mut out).note(
            &mut ledger,
            "",
            0,
            &unique,
        );
    }
    Ok((out, ledger.finish(true)))
}
