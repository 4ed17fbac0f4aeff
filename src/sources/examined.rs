//! What a mailbox's messages came to, remembered so that a message is read once.
//!
//! A large newsletter folder is mostly old mail that will never be digested. Without a record
//! of each message's outcome every run would download or parse all of it again. Each message
//! a reader opens leaves an [`Examined`] row (per mailbox, folder and UIDVALIDITY, by UID,
//! Maildir unique name or mbox offset) in [`crate::state`]; the next run skips the message
//! while the reason it was passed over still [holds](Examined::holds):
//!
//! | outcome | skipped while |
//! | --- | --- |
//! | used | its Message-ID is among the digested (a message in a failed send is read again) |
//! | too old | its date is before the cut-off (widening `lookback` re-examines it) |
//! | filtered | the mailbox's `from` patterns are the ones it was filtered with |
//! | unusable | tidings is the version that found it unusable (a newer one tries again) |

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

/// Why a message was passed over, or that it was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Used,
    TooOld,
    Filtered,
    Unusable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Used => "used",
            Outcome::TooOld => "too-old",
            Outcome::Filtered => "filtered",
            Outcome::Unusable => "unusable",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "used" => Outcome::Used,
            "too-old" => Outcome::TooOld,
            "filtered" => Outcome::Filtered,
            "unusable" => Outcome::Unusable,
            _ => return None,
        })
    }
}

/// One message's outcome, as state keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    pub folder: String,
    /// The folder's UIDVALIDITY (IMAP); 0 elsewhere.
    pub validity: u32,
    /// The UID, the Maildir file's unique name, or the mbox offset.
    pub id: String,
    pub outcome: Outcome,
    /// Set for [`Outcome::Used`].
    pub message_id: Option<String>,
    /// The message's date (Unix seconds) when it was too old.
    pub dated: Option<i64>,
    /// The `from` fingerprint ([`Outcome::Filtered`]) or tidings' version ([`Outcome::Unusable`]).
    pub basis: String,
}

/// What today's run decides by: a record holds when these would give the same outcome.
pub struct Basis<'a> {
    pub digested: &'a HashSet<String>,
    pub cutoff: DateTime<Utc>,
    pub filter: String,
}

impl Examined {
    pub fn holds(&self, b: &Basis<'_>) -> bool {
        match self.outcome {
            Outcome::Used => self
                .message_id
                .as_ref()
                .is_some_and(|m| b.digested.contains(m)),
            Outcome::TooOld => self.dated.is_some_and(|d| d < b.cutoff.timestamp()),
            Outcome::Filtered => self.basis == b.filter,
            Outcome::Unusable => self.basis == version(),
        }
    }
}

/// The version whose verdict "unusable" stands: extraction improves between versions.
pub(crate) fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Short fingerprint of a mailbox's `from` patterns (order and case do not matter).
pub(crate) fn filter_fingerprint(patterns: &[String]) -> String {
    let mut p: Vec<String> = patterns.iter().map(|s| s.trim().to_lowercase()).collect();
    p.sort();
    p.dedup();
    let hash = Sha256::digest(p.join("\n").as_bytes());
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// What a mailbox reader learned this run, written by [`crate::state::State::remember`].
#[derive(Debug, Clone, Default)]
pub struct Remembered {
    pub add: Vec<Examined>,
    pub forget: Vec<Forget>,
    /// mbox: the file's identity (a hash of its start) and where the next scan starts.
    pub mbox_scan: Option<(String, u64)>,
}

/// Records a reader no longer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forget {
    /// One message's record.
    One {
        folder: String,
        validity: u32,
        id: String,
    },
    /// A folder's records under any other UIDVALIDITY: their UIDs mean nothing now.
    OtherValidity { folder: String, validity: u32 },
    /// Every record of the source (an mbox file that was rewritten).
    All,
}

/// The records of one mailbox while a reader goes through it: which messages need no
/// reading, and what it learns.
pub(crate) struct Ledger<'a> {
    basis: Basis<'a>,
    known: HashMap<(String, u32, String), Examined>,
    looked_at: HashSet<(String, u32, String)>,
    pub learned: Remembered,
}

impl<'a> Ledger<'a> {
    pub(crate) fn new(records: Vec<Examined>, basis: Basis<'a>) -> Ledger<'a> {
        Ledger {
            basis,
            known: records
                .into_iter()
                .map(|e| ((e.folder.clone(), e.validity, e.id.clone()), e))
                .collect(),
            looked_at: HashSet::new(),
            learned: Remembered::default(),
        }
    }

    /// True when the message's record still holds: it need not be read.
    pub(crate) fn settled(&mut self, folder: &str, validity: u32, id: &str) -> bool {
        let key = (folder.to_string(), validity, id.to_string());
        let holds = self.known.get(&key).is_some_and(|e| e.holds(&self.basis));
        self.looked_at.insert(key);
        holds
    }

    /// Records what became of a message that was read.
    pub(crate) fn note(
        &mut self,
        folder: &str,
        validity: u32,
        id: &str,
        outcome: Outcome,
        message_id: Option<String>,
        dated: Option<i64>,
    ) {
        let basis = match outcome {
            Outcome::Filtered => self.basis.filter.clone(),
            Outcome::Unusable => version(),
            Outcome::Used | Outcome::TooOld => String::new(),
        };
        self.looked_at
            .insert((folder.to_string(), validity, id.to_string()));
        self.learned.add.push(Examined {
            folder: folder.to_string(),
            validity,
            id: id.to_string(),
            outcome,
            message_id,
            dated,
            basis,
        });
    }

    /// What to write to state. With `forget_unseen`, the records of messages this run did not
    /// look at are dropped (a Maildir file that is gone or past the cut-off).
    pub(crate) fn finish(mut self, forget_unseen: bool) -> Remembered {
        if forget_unseen {
            for (folder, validity, id) in self.known.into_keys() {
                if !self
                    .looked_at
                    .contains(&(folder.clone(), validity, id.clone()))
                {
                    self.learned.forget.push(Forget::One {
                        folder,
                        validity,
                        id,
                    });
                }
            }
        }
        self.learned
    }

    /// Forgets the records of `folder` under `validity` whose id is not in `present` (IMAP:
    /// the UIDs the search no longer returns, past the cut-off or gone).
    pub(crate) fn forget_absent(&mut self, folder: &str, validity: u32, present: &HashSet<String>) {
        for (f, v, id) in self.known.keys() {
            if f == folder && *v == validity && !present.contains(id) {
                self.learned.forget.push(Forget::One {
                    folder: f.clone(),
                    validity: *v,
                    id: id.clone(),
                });
            }
        }
    }
}

/// Counts per outcome, for `tidings sources`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub examined: u64,
    pub used: u64,
    pub too_old: u64,
    pub filtered: u64,
    pub unusable: u64,
}

impl Tally {
    pub fn add(&mut self, outcome: Outcome, n: u64) {
        self.examined += n;
        match outcome {
            Outcome::Used => self.used += n,
            Outcome::TooOld => self.too_old += n,
            Outcome::Filtered => self.filtered += n,
            Outcome::Unusable => self.unusable += n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(outcome: Outcome) -> Examined {
        Examined {
            folder: String::new(),
            validity: 0,
            id: "1".into(),
            outcome,
            message_id: Some("<a@x>".into()),
            dated: Some(1_000),
            basis: String::new(),
        }
    }

    #[test]
    fn a_record_holds_only_while_its_reason_does() {
        let digested: HashSet<String> = ["<a@x>".to_string()].into();
        let none = HashSet::new();
        let filter = filter_fingerprint(&["*@a.org".into()]);
        let basis = |digested, secs| Basis {
            digested,
            cutoff: DateTime::from_timestamp(secs, 0).unwrap(),
            filter: filter.clone(),
        };
        assert!(rec(Outcome::Used).holds(&basis(&digested, 0)));
        assert!(!rec(Outcome::Used).holds(&basis(&none, 0)), "send failed");
        assert!(rec(Outcome::TooOld).holds(&basis(&none, 2_000)));
        assert!(
            !rec(Outcome::TooOld).holds(&basis(&none, 500)),
            "lookback widened"
        );
        let mut f = rec(Outcome::Filtered);
        f.basis = filter_fingerprint(&["*@A.org ".into()]);
        assert!(f.holds(&basis(&none, 0)));
        f.basis = filter_fingerprint(&["*@b.org".into()]);
        assert!(!f.holds(&basis(&none, 0)), "filters changed");
        let mut u = rec(Outcome::Unusable);
        u.basis = version();
        assert!(u.holds(&basis(&none, 0)));
        u.basis = "0.0.1".into();
        assert!(!u.holds(&basis(&none, 0)), "another version");
    }
}
