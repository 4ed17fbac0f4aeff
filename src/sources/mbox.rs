//! Newsletters from one mbox file (`type = "mbox"`).
//!
//! Messages are separated by a `From ` line at the start of the file or after an empty line
//! (the mboxo/mboxrd "From_" line, which is not part of the message). Inside a message, lines
//! quoted as `>From `, `>>From `… lose one `>` (mboxrd unescaping), so a body line that began
//! with "From " reads as it was written.
//!
//! The file is read one message at a time, and from where the last run stopped: each message
//! is known by the offset of its `From ` line, and the file by a hash of its first bytes.

use std::collections::HashSet;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use chrono::{DateTime, Utc};

use crate::config::{MailboxConfig, DEFAULT_MAX_MESSAGE_BYTES};
use crate::html::Sanitizer;
use crate::links::Cleaner;
use crate::sources::examined::{Examined, Forget, Ledger, Remembered};
use crate::sources::mailbox::{
    digest_message, too_large, MailboxRead, MessageOutcome, MessageReader,
};

/// The raw messages of an mbox, unescaped, in file order.
pub fn split(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut scanner = Scanner::new(bytes, 0);
    let mut out = Vec::new();
    // Reading from memory cannot fail.
    while let Ok(Some((_, m))) = scanner.next_message() {
        out.push(m);
    }
    out
}

/// Reads an mbox one message at a time, so memory holds one message, not the file.
struct Scanner<R> {
    reader: R,
    /// Byte offset of the next line to read.
    pos: u64,
    prev_blank: bool,
    /// The message being read: the offset of its `From ` line, and its bytes so far.
    current: Option<(u64, Vec<u8>)>,
}

impl<R: std::io::BufRead> Scanner<R> {
    /// A scanner positioned at `pos`, which must be the start of a `From ` line (or 0).
    fn new(reader: R, pos: u64) -> Scanner<R> {
        Scanner {
            reader,
            pos,
            prev_blank: true,
            current: None,
        }
    }

    /// The next message and the offset of its `From ` line; None at the end of the file.
    fn next_message(&mut self) -> std::io::Result<Option<(u64, Vec<u8>)>> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let start = self.pos;
            let n = self.reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                match self.current.take() {
                    Some((at, m)) if !is_blank(&m) => return Ok(Some((at, trim_separator(m)))),
                    _ => return Ok(None),
                }
            }
            self.pos += n as u64;
            if self.prev_blank && line.starts_with(b"From ") {
                self.prev_blank = false;
                if let Some((at, m)) = self.current.replace((start, Vec::new())) {
                    if !is_blank(&m) {
                        return Ok(Some((at, trim_separator(m))));
                    }
                }
                continue;
            }
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            self.prev_blank = body.is_empty();
            let Some((_, m)) = self.current.as_mut() else {
                // Text before the first From_ line is not a message.
                continue;
            };
            if m.len() as u64 > DEFAULT_MAX_MESSAGE_BYTES {
                // Over the limit: its size is all that is still needed.
                m.truncate(DEFAULT_MAX_MESSAGE_BYTES as usize + 1);
                continue;
            }
            let quoted = line.iter().take_while(|b| **b == b'>').count();
            if quoted > 0 && line[quoted..].starts_with(b"From ") {
                m.extend_from_slice(&line[1..]);
            } else {
                m.extend_from_slice(&line);
            }
        }
    }
}

fn is_blank(m: &[u8]) -> bool {
    m.iter().all(u8::is_ascii_whitespace)
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

/// How much of the file's start identifies it: a rewritten mbox (expunged, compacted) does
/// not start with the same bytes, an mbox that was only appended to does.
const HEAD_BYTES: usize = 4096;

/// The identity of an mbox file: a hash of its first bytes.
fn head_hash(file: &mut std::fs::File) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.by_ref()
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    let hash = Sha256::digest(&head);
    Ok(hash[..12].iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads the messages not examined before: those appended since the last scan, and earlier
/// ones whose record no longer holds (read again at their offset). A file whose start has
/// changed, or that shrank, was rewritten: it is scanned from the start, its records reset.
#[allow(
    clippy::too_many_arguments,
    reason = "what to read, what state remembers of it, and the run's tools: each one thing"
)]
pub fn read(
    cfg: &MailboxConfig,
    path: &Path,
    records: Vec<Examined>,
    scanned: Option<(String, u64)>,
    digested: &HashSet<String>,
    cutoff: DateTime<Utc>,
    cleaner: &Cleaner,
    sanitizer: &Sanitizer,
) -> std::io::Result<(MailboxRead, Remembered)> {
    use std::io::{Seek as _, SeekFrom};
    let source = cfg.key();
    let reader = MessageReader {
        cfg,
        source: &source,
        digested,
        cutoff,
        cleaner,
        sanitizer,
    };
    let mut out = MailboxRead::default();
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let head = head_hash(&mut file)?;
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (records, resume, rewritten) = match scanned {
        Some((h, to)) if h == head && to <= len => (records, to, false),
        _ => (Vec::new(), 0, true),
    };
    // Earlier messages whose reason to be passed over may be gone: read one at a time at
    // their offset, below.
    let mut earlier: Vec<u64> = records
        .iter()
        .filter_map(|e| e.id.parse::<u64>().ok())
        .filter(|at| *at < resume)
        .collect();
    earlier.sort_unstable();
    let mut ledger = reader.ledger(records);
    if rewritten {
        ledger.learned.forget.push(Forget::All);
    }
    let take = |at: u64, raw: Vec<u8>, out: &mut MailboxRead, ledger: &mut Ledger<'_>| {
        let id = at.to_string();
        if ledger.settled("", 0, &id) {
            out.messages_skipped += 1;
            return;
        }
        let label = format!("{name} at byte {at}");
        if raw.len() as u64 > DEFAULT_MAX_MESSAGE_BYTES {
            out.warnings.push(too_large(&label, raw.len() as u64));
            MessageOutcome::Failed.note(ledger, "", 0, &id);
            return;
        }
        // Without a Message-ID the content is the identity: stable when messages are added.
        let hash = Sha256::digest(&raw);
        let fallback: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        digest_message(&raw, &label, &format!("mbox-{fallback}"), &reader, out)
            .note(ledger, "", 0, &id);
    };
    for at in earlier {
        if ledger.settled("", 0, &at.to_string()) {
            continue;
        }
        file.seek(SeekFrom::Start(at))?;
        let mut one = Scanner::new(std::io::BufReader::new(&mut file), at);
        if let Some((at, raw)) = one.next_message()? {
            take(at, raw, &mut out, &mut ledger);
        }
    }
    // Then everything from where the last scan stopped. The last message is scanned again
    // next time (to find its end, and in case it was still being written); its record
    // makes that cheap.
    file.seek(SeekFrom::Start(resume))?;
    let mut scanner = Scanner::new(std::io::BufReader::new(&mut file), resume);
    let mut last = resume;
    while let Some((at, raw)) = scanner.next_message()? {
        last = at;
        take(at, raw, &mut out, &mut ledger);
    }
    let mut learned = ledger.finish(false);
    learned.mbox_scan = Some((head, last));
    Ok((out, learned))
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
