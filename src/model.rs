//! Plain data that flows through the pipeline: no I/O here.
//!
//! sources produce [`Item`]s, grouping merges them into [`Story`]s placed in
//! [`TopicGroup`]s, and the whole thing becomes one [`Digest`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Identifies a source in state and in reports, e.g. `feed:https://example.org/feed.xml`
/// or `maildir:/home/me/Mail/News`. Stable across runs as long as the config entry is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceKey(pub String);

impl std::fmt::Display for SourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifies one item within all of state: the source key plus the item's own id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemKey(pub String);

/// One entry from one source: a feed entry, or one story cut out of a newsletter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Item {
    pub key: ItemKey,
    pub source: SourceKey,
    /// Human name of the source ("Example Weekly").
    pub source_name: String,
    pub title: String,
    /// Cleaned link to the story, if it has one.
    pub url: Option<String>,
    /// Sanitized HTML summary (safe to insert into a template unescaped).
    pub summary_html: String,
    /// Plain-text summary.
    pub summary_text: String,
    pub published: Option<DateTime<Utc>>,
    /// The topic the source's config entry gives it.
    pub topic_hint: Option<String>,
    /// The newsletter section heading the story sat under ("Markets"): topic evidence when
    /// it names a configured topic, a topic of its own when it reads as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Newsletter Message-ID this item came from, so delivery can record the message as digested.
    pub message_id: Option<String>,
    /// The source's own categories for the entry (feed `<category>` terms or labels): topic
    /// evidence. Absent in items cached before the field existed.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Other outlets a newsletter points to for the same story ("See also South China Morning
    /// Post" under it), as (name, cleaned link): listed among the story's sources.
    #[serde(default)]
    pub also: Vec<(String, String)>,
    /// The newsletter's own click-tracking host (see `sources::click_tracker`): a link on it
    /// is opaque and tracks the reader, however plain it looks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracker_host: Option<String>,
    /// What a feed entry carries to listen to or watch (enclosures, `media:content`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
}

impl Item {
    /// The publication the item comes from, as a reader tells them apart: a feed, or one
    /// newsletter of a mailbox (a mailbox brings many, each a source of its own when stories
    /// are merged, counted or grouped).
    pub fn origin(&self) -> Origin {
        Origin {
            source: self.source.clone(),
            name: self.source_name.clone(),
            newsletter: self.message_id.is_some(),
        }
    }

    /// [`Item::origin`] without copying: the source and the name.
    pub fn origin_key(&self) -> (&SourceKey, &str) {
        (&self.source, &self.source_name)
    }
}

pub fn is_short_url(url: &str) -> bool {
    // Called for every item: most links are not YouTube's, and parsing them is not free.
    url.contains("/shorts/")
        && url::Url::parse(url).is_ok_and(|u| {
            u.host_str()
                .is_some_and(|h| h == "youtube.com" || h.ends_with(".youtube.com"))
                && u.path().starts_with("/shorts/")
        })
}

/// See [`Item::origin`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Origin {
    pub source: SourceKey,
    pub name: String,
    /// A newsletter (an item cut out of a message), not a feed entry.
    pub newsletter: bool,
}

/// An episode's audio or a video attached to a feed entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Cleaned link to the file or player.
    pub url: String,
    /// MIME type as the feed gives it (`audio/mpeg`), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Size in bytes, if the feed gives a usable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Running time in seconds (`itunes:duration`, `media:content duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
}

/// Where a story was seen: one entry per source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorySource {
    pub name: String,
    /// The story's link in that source (cleaned), when it had one.
    pub url: Option<String>,
}

/// One story, possibly carried by several sources.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Story {
    pub title: String,
    pub url: Option<String>,
    /// Plain-text summary, short enough for a digest.
    pub summary: String,
    /// Sanitized HTML summary (may be the escaped plain text when the original was long).
    #[serde(skip)]
    pub summary_html: String,
    pub published: Option<DateTime<Utc>>,
    pub sources: Vec<StorySource>,
    /// The episode's audio or the video, when a feed entry carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// Every item merged into this story; all are recorded as delivered together.
    #[serde(skip)]
    pub items: Vec<ItemKey>,
    /// The sources of its items, once each, in order of reporting.
    #[serde(skip)]
    pub source_keys: Vec<SourceKey>,
    #[serde(skip)]
    pub message_ids: Vec<String>,
    /// Why the story sits in its topic (keyword, hint, or fallback).
    #[serde(skip)]
    pub topic_reason: String,
    /// Why each report joined this story (empty for a single report); for `--explain`.
    #[serde(skip)]
    pub merged: Vec<MergeNote>,
    /// How much the story matters (see `group::rank`): higher first.
    pub rank: f32,
    /// How many of the reader's own sources carry it, after merging.
    pub coverage: usize,
    /// The points that make up `rank`, for `--explain`.
    #[serde(skip)]
    pub rank_reason: String,
    /// A story already sent in an earlier digest that this one reports again (see
    /// `group::memory`): its title, and whether this report adds anything.
    #[serde(skip)]
    pub earlier: Option<Earlier>,
}

/// What an earlier digest already said about a story.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    pub title: String,
    /// The new report names a figure or a name the sent story did not: an update.
    pub update: bool,
    /// The new report's own headline and link (of the report that updates, when the story
    /// merges several).
    pub report_title: String,
    pub report_url: Option<String>,
}

/// A new report of a story an earlier digest sent: one line under its topic.
#[derive(Debug, Clone, Serialize)]
pub struct Followup {
    /// The source of its first report.
    #[serde(skip)]
    pub source: SourceKey,
    pub title: String,
    pub url: Option<String>,
    pub earlier_title: String,
    pub sources: Vec<String>,
    /// The report's items, recorded as delivered with the digest.
    #[serde(skip)]
    pub items: Vec<ItemKey>,
    #[serde(skip)]
    pub message_ids: Vec<String>,
}

/// Stories of one source held back by its cap ("4 more from Example Daily"); they are not
/// delivered, so they come in a later digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldBack {
    pub source: String,
    pub count: usize,
    /// Where the reader can read them now: the source's site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One report in a merged story and why it is there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergeNote {
    pub title: String,
    pub source: String,
    pub reason: String,
    /// Cosine similarity with the report it joined (text tiers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicGroup {
    pub topic: String,
    pub stories: Vec<Story>,
    /// Stories left out by the per-topic or total cap, or by the size budget ("+N more").
    /// They are not delivered, so they come again in the next digest.
    pub more: usize,
    /// Lower-ranked stories shown as title links only, to keep the mail within
    /// `[digest] max_bytes`. They count as delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collapsed: Vec<Story>,
    /// New reports of stories sent in an earlier digest, one line each.
    pub followups: Vec<Followup>,
    /// Stories held back by per-source caps, by source (also counted in `more`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldBack>,
}

/// A story the reader's filters muted: counted in the footer, named by `--explain`.
#[derive(Debug, Clone, Serialize)]
pub struct Muted {
    pub title: String,
    pub source: String,
    /// Which filter muted it: "filters[0]: exclude `horoscope`".
    pub filter: String,
    /// Its items, recorded as delivered with the digest so it is not counted again.
    #[serde(skip)]
    pub items: Vec<ItemKey>,
    /// Another source's copy of a story already muted (not counted twice).
    #[serde(skip)]
    pub repeat: bool,
}

/// Why every story sits where it is (`preview --explain`).
#[derive(Debug, Clone, Serialize)]
pub struct Explain {
    pub stories: Vec<StoryExplain>,
    pub muted: Vec<Muted>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoryExplain {
    pub title: String,
    pub topic: String,
    pub topic_reason: String,
    /// The points that make up the story's rank.
    pub rank_reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MergeNote>,
}

/// A source that failed during this run. The run goes on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceError {
    pub source: String,
    pub message: String,
}

/// The finished digest, before rendering.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Digest {
    pub title: String,
    pub generated_at: DateTime<Utc>,
    /// The lead section ("Top stories"): the stories most of the reader's sources carry,
    /// shown once, above the topics.
    pub lead: Vec<Story>,
    /// The lead section's heading.
    #[serde(skip)]
    pub lead_title: String,
    /// Reports of stories already sent that are not shown; recorded as delivered.
    #[serde(skip)]
    pub repeats: Vec<ItemKey>,
    pub groups: Vec<TopicGroup>,
    pub errors: Vec<SourceError>,
    /// Messages the reader must act on (confirm a subscription), listed apart from stories.
    pub attention: Vec<Attention>,
    /// Stories the reader's filters muted (counted in the footer).
    pub muted: Vec<Muted>,
    /// Links not published because they track the reader and could not be resolved (said in
    /// the footer, with how to turn resolution on when it is off).
    pub links_withheld: usize,
    /// Whether `[links] resolve_redirects` was on for this digest.
    pub links_resolving: bool,
    /// Why each story sits where it is; only with `preview --explain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explain>,
}

/// A confirmation or welcome email: not a story, but the reader needs to see its link or the
/// subscription silently never starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    /// The newsletter's name.
    pub source: String,
    pub subject: String,
    /// The confirmation link, cleaned.
    pub url: Option<String>,
    /// The email's Message-ID, recorded as digested once the digest is sent.
    #[serde(skip)]
    pub message_id: String,
}

impl Digest {
    /// Stories in the mail: in the lead, in full or collapsed to their title.
    pub fn story_count(&self) -> usize {
        self.lead.len()
            + self
                .groups
                .iter()
                .map(|g| g.stories.len() + g.collapsed.len())
                .sum::<usize>()
    }

    /// Muted stories, each counted once however many sources carried it.
    pub fn muted_count(&self) -> usize {
        self.muted.iter().filter(|m| !m.repeat).count()
    }

    /// Stories left out by the caps.
    pub fn more_count(&self) -> usize {
        self.groups.iter().map(|g| g.more).sum()
    }

    /// The explanation of this digest's grouping and ranking.
    pub fn explain(&self) -> Explain {
        let lead = self.lead.iter().map(|s| (self.lead_title.as_str(), s));
        let grouped = self
            .groups
            .iter()
            .flat_map(|g| g.stories.iter().map(move |s| (g.topic.as_str(), s)));
        Explain {
            stories: lead
                .chain(grouped)
                .map(|(topic, s)| StoryExplain {
                    title: s.title.clone(),
                    topic: topic.to_string(),
                    topic_reason: s.topic_reason.clone(),
                    rank_reason: s.rank_reason.clone(),
                    merged: s.merged.clone(),
                })
                .collect(),
            muted: self.muted.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.story_count() == 0 && self.groups.iter().all(|g| g.followups.is_empty())
    }

    /// Every story the mail carries, in the lead, in full or collapsed: what a sent digest
    /// delivers (with the follow-up lines, see [`Digest::followups`]).
    pub fn stories(&self) -> impl Iterator<Item = &Story> {
        self.lead.iter().chain(
            self.groups
                .iter()
                .flat_map(|g| g.stories.iter().chain(g.collapsed.iter())),
        )
    }

    /// The follow-up lines of every topic.
    pub fn followups(&self) -> impl Iterator<Item = &Followup> {
        self.groups.iter().flat_map(|g| g.followups.iter())
    }
}
