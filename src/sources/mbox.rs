//! Newsletters from one mbox file (`type = "mbox"`).
//!
//! Messages are separated by a `From ` line at the start of the file or after an empty line
//! (the mboxo/mboxrd "From_" line, which is not part of the message). Inside a message, lines
//! quoted as `>From `, `>>From `… lose one `>` (mboxrd unescaping), so a body line that began
//! with "From " reads as it was written.

use std::collections::HashSet;

use sha2::{Digest as _, Sha256};

use crate::config::{MailboxConfig, DEFAULT_MAX_MESSAGE_BYTES};
use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::sources::maildir::{digest_message, source_key, too_large, MailboxRead, MessageReader};

/// The raw messages of an mbox, unescaped, in file order.
pub fn split(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut prev_blank = true;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if prev_blank && line.starts_with(b"From ") {
            if let Some(m) = current.take() {
                out.push(trim_separator(m));
            }
            current = Some(Vec::new());
            prev_blank = false;
            continue;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        prev_blank = body.is_empty();
        let Some(m) = current.as_mut() else {
            // Text before the first From_ line is not a message.
            continue;
        };
        let quoted = line.iter().take_while(|b| **b == b'>').count();
        if quoted > 0 && line[quoted..].starts_with(b"From ") {
            m.extend_from_slice(&line[1..]);
        } else {
            m.extend_from_slice(line);
        }
    }
    if let Some(m) = current {
        out.push(trim_separator(m));
    }
    out.retain(|m| !m.iter().all(u8::is_ascii_whitespace));
    out
}

/// The empty line before the next `From ` belongs to the mbox, not to the message.
fn trim_separator(mut m: Vec<u8>) -> Vec<u8> {
    if m.ends_with(b"\r\n\r\n") {
        m.truncate(m.len() - 2);
    } else if m.ends_with(b"\n\n") {
        m.truncate(m.len() - 1);
    }
    m
}

pub fn read(
    cfg: &MailboxConfig,
    digested: &HashSet<String>,
    cleaner: &Cleaner,
    sanitizer: &Sanitizer,
) -> std::io::Result<MailboxRead> {
    let source = source_key(cfg);
    let reader = MessageReader {
        cfg,
        source: &source,
        digested,
        cleaner,
        sanitizer,
    };
    let mut out = MailboxRead::default();
    let bytes = std::fs::read(&cfg.path)?;
    let file = cfg
        .path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    for (i, raw) in split(&bytes).into_iter().enumerate() {
        let label = format!("{file} #{}", i + 1);
        if raw.len() as u64 > DEFAULT_MAX_MESSAGE_BYTES {
            out.warnings.push(too_large(&label, raw.len() as u64));
            continue;
        }
        // Without a Message-ID the content is the identity: stable when messages are added.
        let hash = Sha256::digest(&raw);
        let fallback: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        digest_message(&raw, &label, &format!("mbox-{fallback}"), &reader, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_from_lines_and_unescapes() {
        let mbox = b"From a@e.org Mon Jan  1 00:00:00 2026\nSubject: one\n\nFirst body.\n>From the archives: a quoted line.\n>>From stays quoted once.\nFrom here on, not a separator (no blank line before).\n\nFrom b@e.org Tue Jan  2 00:00:00 2026\r\nSubject: two\r\n\r\nSecond.\r\n";
        let msgs = split(mbox);
        assert_eq!(msgs.len(), 2);
        let one = String::from_utf8(msgs[0].clone()).unwrap();
        assert!(one.starts_with("Subject: one\n"), "{one}");
        assert!(one.contains("\nFrom the archives: a quoted line.\n"));
        assert!(one.contains("\n>From stays quoted once.\n"));
        assert!(one.contains("\nFrom here on, not a separator"));
        assert!(
            one.ends_with("separator (no blank line before).\n"),
            "{one:?}"
        );
        let two = String::from_utf8(msgs[1].clone()).unwrap();
        assert_eq!(two, "Subject: two\r\n\r\nSecond.\r\n");
    }

    #[test]
    fn text_before_the_first_message_is_ignored() {
        assert!(split(b"junk\n\n").is_empty());
        assert_eq!(split(b"From x\nA: b\n\nc\n").len(), 1);
    }
}
