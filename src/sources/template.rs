//! Each sender's template, learnt from its own issues: a block that came, word for word (its
//! title and the opening of its text), in an earlier issue of the same newsletter ("Advertise with us", a standing sponsor slot, the
//! "about us" box, a recurring widget) is part of the newsletter, not news. State keeps one
//! compact fingerprint per block and sender ([`crate::state::State::template_blocks`]), so the
//! second issue is cleaner than the first, and no phrase list is needed.

use std::collections::HashMap;

use crate::group::dedup::title_key;
use crate::model::Item;

/// Fewest words of a block's title for it to be told apart from another's: "Awilix 8.0" in
/// two issues may be two releases.
const MIN_WORDS: usize = 3;

/// One block of one issue: (sender, fingerprint, the issue's Message-ID).
pub(crate) type Block = (String, String, String);

/// The sender of a newsletter item (its mailbox and newsletter name); `None` for a feed's item.
fn sender(item: &Item) -> Option<String> {
    item.message_id
        .as_ref()
        .map(|_| format!("{}|{}", item.source.0, item.source_name))
}

/// Words of a block's text that go into its fingerprint with its title: a standing block
/// repeats them verbatim, a recurring column ("Chart of the day") says something new.
const TEXT_WORDS: usize = 20;

/// A stable fingerprint of a block, its title and the opening of its text (FNV-1a over
/// their folded words): 16 hex digits, so the state holds no newsletter text.
fn fingerprint(title: &str, text: &str) -> Option<String> {
    let key = title_key(title);
    if key.split_whitespace().count() < MIN_WORDS {
        return None;
    }
    let opening: Vec<String> = title_key(text)
        .split_whitespace()
        .take(TEXT_WORDS)
        .map(str::to_string)
        .collect();
    let key = format!("{key}\n{}", opening.join(" "));
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(format!("{h:016x}"))
}

/// Splits `items` into those kept and the number dropped because their block came in another
/// issue of the same sender (`known`: (sender, fingerprint) → the issue it was first seen in).
/// Returns the blocks of this run's issues too, for the state to learn once the digest is out.
pub(crate) fn sift(
    items: Vec<Item>,
    known: &HashMap<(String, String), String>,
) -> (Vec<Item>, Vec<Block>, usize) {
    let mut blocks = Vec::new();
    let mut kept = Vec::with_capacity(items.len());
    let mut dropped = 0;
    for item in items {
        let (Some(sender), Some(fp), Some(message)) = (
            sender(&item),
            fingerprint(&item.title, &item.summary_text),
            item.message_id.clone(),
        ) else {
            kept.push(item);
            continue;
        };
        let template = known
            .get(&(sender.clone(), fp.clone()))
            .is_some_and(|first| *first != message);
        blocks.push((sender, fp, message));
        if template {
            tracing::debug!(title = %item.title, "block of the sender's template dropped");
            dropped += 1;
        } else {
            kept.push(item);
        }
    }
    (kept, blocks, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ItemKey, SourceKey};

    fn story(title: &str, message: &str) -> Item {
        Item {
            key: ItemKey(format!("{message}#{title}")),
            source: SourceKey("maildir:/mail".into()),
            source_name: "Harbour Letter".into(),
            title: title.into(),
            message_id: Some(message.into()),
            ..Item::default()
        }
    }

    #[test]
    fn a_block_from_an_earlier_issue_is_template_and_the_same_issue_again_is_not() {
        let first = vec![
            story("Ferry terminal approved in Kiel", "<1@h>"),
            story("Advertise with the Harbour Letter", "<1@h>"),
        ];
        let (kept, blocks, dropped) = sift(first, &HashMap::new());
        assert_eq!((kept.len(), dropped), (2, 0));
        let known: HashMap<(String, String), String> =
            blocks.into_iter().map(|(s, f, m)| ((s, f), m)).collect();
        // The same issue read again (a failed send) keeps every story.
        let again = vec![story("Advertise with the Harbour Letter", "<1@h>")];
        assert_eq!(sift(again, &known).2, 0);
        // The next issue: its own story stays, the standing block goes.
        let second = vec![
            story("Dredging season opens early", "<2@h>"),
            story("Advertise with the Harbour Letter", "<2@h>"),
            story("Awilix 8.0", "<2@h>"),
        ];
        let (kept, _, dropped) = sift(second, &known);
        let titles: Vec<&str> = kept.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Dredging season opens early", "Awilix 8.0"]);
        assert_eq!(dropped, 1);
        // A recurring column with something new to say is no template.
        let mut column = story("Advertise with the Harbour Letter", "<3@h>");
        column.summary_text = "This week: the new rates for spring.".into();
        assert_eq!(sift(vec![column], &known).2, 0);
        // Another sender's block of the same title is not this sender's template.
        let mut other = story("Advertise with the Harbour Letter", "<9@o>");
        other.source_name = "Other Letter".into();
        assert_eq!(sift(vec![other], &known).2, 0);
    }
}
