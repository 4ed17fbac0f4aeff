//! Rendering with Tera: default templates compiled in, a user's `templates_dir` over them.
//!
//! Templates receive a [`View`] (documented in the README): plain data, dates already
//! formatted, summaries already sanitized. `digest.html` is auto-escaped by Tera; the only
//! value inserted unescaped is `summary_html`, which ammonia produced.

use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::locale::Strings;
use crate::model::{Attention, Digest, HeldBack, SourceError, Story, StorySource};

pub const HTML_TEMPLATE: &str = "digest.html";
pub const TEXT_TEMPLATE: &str = "digest.txt";
pub const SUBJECT_TEMPLATE: &str = "subject.txt";
const DEFAULT_HTML: &str = include_str!("../templates/digest.html");
const DEFAULT_TEXT: &str = include_str!("../templates/digest.txt");
const DEFAULT_SUBJECT: &str = include_str!("../templates/subject.txt");
/// With the size budget, each topic keeps at least this many stories in full while others
/// are cut to titles, if that fits.
const BUDGET_KEEP_FULL: usize = 1;
/// Plain-text lines are wrapped to this width.
const TEXT_WIDTH: usize = 72;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read template `{path}`")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template `{name}`: {message}")]
    Template { name: String, message: String },
    #[error("template `{name}`: cannot inline its CSS: {message}")]
    Inline { name: String, message: String },
}

/// The finished digest in its three forms.
pub struct Rendered {
    /// The digest's title, for headers (`List-Id`).
    pub title: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Serialize)]
pub struct View<'a> {
    pub title: &'a str,
    /// The digest's language (`[digest] language`): "en", "de", "fr".
    pub lang: &'a str,
    pub generated_at: String,
    /// "Saturday, 28 November 2026", in `[digest] timezone`.
    pub date: String,
    /// "28 Nov 2026", for the subject.
    pub date_short: String,
    /// "07:00 CET", when the digest was made, in `[digest] timezone`.
    pub time: String,
    /// The IANA name of `[digest] timezone`: "Europe/Berlin".
    pub timezone: String,
    /// "Sunday, 29 November 2026, 07:00 CET" when `[digest] schedule` is set.
    pub next_digest: Option<String>,
    /// Stories shown as title links only, to stay within `[digest] max_bytes` (all topics).
    pub collapsed_count: usize,
    /// Stories left out of this digest (caps and size budget), all topics; they come next time.
    pub more_count: usize,
    pub story_count: usize,
    pub source_count: usize,
    pub topic_count: usize,
    /// About how long the digest takes to read, in minutes (at least 1): its titles and the
    /// summaries shown in full, at [`crate::group::WORDS_PER_MINUTE`].
    pub reading_minutes: usize,
    /// The lead section's heading ("Top stories") and its stories (empty: no lead section).
    pub lead_title: &'a str,
    /// `=` repeated to the lead title's width.
    pub lead_underline: String,
    pub lead: Vec<StoryView<'a>>,
    pub groups: Vec<GroupView<'a>>,
    pub errors: &'a [SourceError],
    /// Confirmation emails waiting for the reader ("needs your attention").
    pub attention: &'a [Attention],
    /// That section's heading in the digest's language, and `=` to its width.
    pub attention_title: String,
    pub attention_underline: String,
    /// Stories the reader's filters muted ("7 stories muted by your filters").
    pub muted_count: usize,
    /// Links not published because they track the reader, and whether resolution was on.
    pub links_withheld: usize,
    pub links_resolving: bool,
}

#[derive(Serialize)]
pub struct GroupView<'a> {
    pub topic: String,
    /// `id` for in-page links: "topic-technology".
    pub anchor: String,
    /// `=` repeated to the topic's width, for plain-text headings.
    pub underline: String,
    pub stories: Vec<StoryView<'a>>,
    /// Lower-ranked stories shown as title links only (size budget).
    pub collapsed: Vec<StoryView<'a>>,
    /// Stories of this topic left out by the caps or the size budget, including those
    /// held back by per-source caps.
    pub more: usize,
    /// `more` without the stories held back by per-source caps ("+3 more in Technology").
    pub more_in_topic: usize,
    /// Held back by per-source caps: "4 more from Example Daily", with the source's site.
    pub held: &'a [HeldBack],
    /// New reports of stories an earlier digest sent: "Update on <earlier title>".
    pub followups: Vec<FollowupView<'a>>,
}

#[derive(Serialize)]
pub struct FollowupView<'a> {
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub earlier_title: &'a str,
    pub source_names: String,
}

#[derive(Serialize)]
pub struct StoryView<'a> {
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub summary: &'a str,
    pub summary_html: &'a str,
    /// The summary wrapped for plain text, one string per line.
    pub summary_lines: Vec<String>,
    pub published: Option<String>,
    /// "28 Nov 2026, 07:15 UTC"
    pub published_display: Option<String>,
    pub sources: &'a [StorySource],
    pub source_names: String,
    /// How many of the reader's own sources carry the story.
    pub coverage: usize,
    pub rank: f32,
    /// "Listen" or "Watch", with its link and running time, for an episode or a video.
    pub media: Option<MediaView>,
}

#[derive(Serialize)]
pub struct MediaView {
    /// "Listen" or "Watch", in the digest's language.
    pub action: String,
    pub url: String,
    /// "45 min", "1 h 02 min"; absent when the feed does not say.
    pub duration: Option<String>,
    /// A YouTube Short.
    pub short: bool,
}

/// The listen/watch line of a story: audio and video files, and YouTube pages (whose
/// `media:content` is a player, so the story's own page is the one to watch).
fn media_view(s: &Story, t: &Strings) -> Option<MediaView> {
    let m = s.media.as_ref();
    let mime = m.and_then(|m| m.mime.as_deref()).unwrap_or("");
    let youtube = |u: &str| {
        url::Url::parse(u).is_ok_and(|u| {
            u.host_str().is_some_and(|h| {
                h == "youtu.be" || h == "youtube.com" || h.ends_with(".youtube.com")
            })
        })
    };
    let story_url = s.url.as_deref().unwrap_or("");
    let (action, url) = if youtube(story_url) {
        ("watch", story_url.to_string())
    } else {
        let m = m?;
        let ext = m.url.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        let ext = ext.split(['?', '#']).next().unwrap_or("");
        if mime.starts_with("audio/") || ["mp3", "m4a", "ogg", "opus", "wav", "aac"].contains(&ext)
        {
            ("listen", m.url.clone())
        } else if mime.starts_with("video/") || ["mp4", "webm", "mov", "m4v"].contains(&ext) {
            ("watch", m.url.clone())
        } else {
            return None;
        }
    };
    let duration = m.and_then(|m| m.seconds).filter(|s| *s > 0).map(|secs| {
        let (h, min) = (secs / 3600, (secs % 3600 + 30) / 60);
        match (h, min) {
            _ if secs < 60 => format!("{secs} s"),
            (0, m) => format!("{m} min"),
            (h, m) => format!("{h} h {m:02} min"),
        }
    });
    Some(MediaView {
        action: t.text(action, None, &[]),
        url,
        duration,
        short: crate::model::is_short_url(story_url),
    })
}

/// What the templates receive; times shown in `zone`, words and dates in the language of `t`.
pub fn view<'a>(
    d: &'a Digest,
    zone: Tz,
    next_digest: Option<DateTime<Utc>>,
    t: &'a Strings,
) -> View<'a> {
    let mut sources: Vec<&str> = d
        .stories()
        .flat_map(|s| s.sources.iter().map(|x| x.name.as_str()))
        .collect();
    sources.sort_unstable();
    sources.dedup();
    let local = d.generated_at.with_timezone(&zone);
    let story = |s| story_view(s, zone, t);
    View {
        title: &d.title,
        lang: t.lang(),
        generated_at: d.generated_at.to_rfc3339(),
        date: t.date(&local, "date_format"),
        date_short: t.date(&local, "date_short_format"),
        time: t.date(&local, "time_format"),
        timezone: zone.name().to_string(),
        next_digest: next_digest.map(|n| t.date(&n.with_timezone(&zone), "next_digest_format")),
        collapsed_count: d.groups.iter().map(|g| g.collapsed.len()).sum(),
        more_count: d.more_count(),
        story_count: d.story_count(),
        source_count: sources.len(),
        topic_count: d.groups.len(),
        reading_minutes: reading_minutes(d),
        lead_title: &d.lead_title,
        lead_underline: "=".repeat(d.lead_title.chars().count()),
        lead: d.lead.iter().map(story).collect(),
        groups: d
            .groups
            .iter()
            .map(|g| {
                let held: usize = g.held.iter().map(|h| h.count).sum();
                // "Other" is the grouping's name for what no topic took; shown in the language.
                let topic = if g.topic == crate::group::topics::OTHER {
                    t.text("other_topic", None, &[])
                } else {
                    g.topic.clone()
                };
                GroupView {
                    anchor: anchor(&g.topic),
                    underline: "=".repeat(topic.chars().count()),
                    topic,
                    stories: g.stories.iter().map(story).collect(),
                    collapsed: g.collapsed.iter().map(story).collect(),
                    more: g.more,
                    more_in_topic: g.more.saturating_sub(held),
                    held: &g.held,
                    followups: g
                        .followups
                        .iter()
                        .map(|f| FollowupView {
                            title: &f.title,
                            url: f.url.as_deref(),
                            earlier_title: &f.earlier_title,
                            source_names: f.sources.join(", "),
                        })
                        .collect(),
                }
            })
            .collect(),
        errors: &d.errors,
        attention: &d.attention,
        attention_underline: "=".repeat(t.text("needs_attention", None, &[]).chars().count()),
        attention_title: t.text("needs_attention", None, &[]),
        muted_count: d.muted_count(),
        links_withheld: d.links_withheld,
        links_resolving: d.links_resolving,
    }
}

/// Minutes to read what the mail shows: every title, and the summaries shown in full.
fn reading_minutes(d: &Digest) -> usize {
    let full: usize = d
        .lead
        .iter()
        .chain(d.groups.iter().flat_map(|g| g.stories.iter()))
        .map(crate::group::story_words)
        .sum();
    let titles: usize = d
        .groups
        .iter()
        .flat_map(|g| {
            let collapsed = g.collapsed.iter().map(|s| s.title.as_str());
            collapsed.chain(g.followups.iter().map(|f| f.title.as_str()))
        })
        .map(|t| t.split_whitespace().count())
        .sum();
    (full + titles)
        .div_ceil(crate::group::WORDS_PER_MINUTE)
        .max(1)
}

fn story_view<'a>(s: &'a Story, zone: Tz, t: &Strings) -> StoryView<'a> {
    StoryView {
        title: &s.title,
        url: s.url.as_deref(),
        summary: &s.summary,
        summary_html: &s.summary_html,
        summary_lines: wrap(&s.summary, TEXT_WIDTH - 4),
        published: s.published.map(|p| p.to_rfc3339()),
        published_display: s
            .published
            .map(|p| t.date(&p.with_timezone(&zone), "published_format")),
        sources: &s.sources,
        source_names: s
            .sources
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        coverage: s.coverage,
        rank: s.rank,
        media: media_view(s, t),
    }
}

/// `tr(key="…", n=3, topic="…")` in templates: the digest language's text for `key`, its
/// plural form picked by `n`, its `{name}`s filled from the other arguments.
struct Translate(std::sync::Arc<Strings>);

impl tera::Function for Translate {
    fn call(
        &self,
        args: &std::collections::HashMap<String, tera::Value>,
    ) -> tera::Result<tera::Value> {
        let key = args
            .get("key")
            .and_then(tera::Value::as_str)
            .ok_or_else(|| tera::Error::msg("tr needs key=\"…\""))?;
        let n = args.get("n").and_then(tera::Value::as_i64);
        let named: Vec<(&str, String)> = args
            .iter()
            .filter(|(k, _)| k.as_str() != "key" && k.as_str() != "n")
            .map(|(k, v)| {
                let text = match v {
                    tera::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.as_str(), text)
            })
            .collect();
        let named: Vec<(&str, &str)> = named.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Ok(tera::Value::String(self.0.text(key, n, &named)))
    }

    fn is_safe(&self) -> bool {
        false
    }
}

fn anchor(topic: &str) -> String {
    let slug: String = topic
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("topic-{}", slug.trim_matches('-'))
}

/// The plain-text part with every line at most `width` columns, whatever the template
/// put in it (a long title, a source's name, a footer warning): a longer line is wrapped
/// at words, its continuation indented under its text ("* " and "- " items hang). A word
/// longer than the width, such as a bare URL, stays whole on a line of its own: a link
/// cut in two is no link.
pub fn fit_lines(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if line.chars().count() <= width {
            out.push_str(line);
            continue;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        let hang = indent
            + if body.starts_with("* ") || body.starts_with("- ") {
                2
            } else {
                0
            };
        let (first, rest) = (&line[..indent], " ".repeat(hang));
        for (k, part) in wrap(body, width.saturating_sub(hang).max(1))
            .iter()
            .enumerate()
        {
            if k > 0 {
                out.push('\n');
                out.push_str(&rest);
            } else {
                out.push_str(first);
            }
            out.push_str(part);
        }
    }
    out
}

/// Greedy word wrap; paragraphs (blank lines) are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

pub struct Renderer {
    tera: tera::Tera,
    zone: Tz,
    next_digest: Option<DateTime<Utc>>,
    strings: std::sync::Arc<Strings>,
}

/// What the size budget did to a digest.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fitted {
    /// Stories cut to their title link.
    pub collapsed: usize,
    /// Stories left out (they come in the next digest).
    pub left_out: usize,
}

impl Renderer {
    /// The built-in templates, each replaced by the file of the same name in `templates_dir`.
    /// Times are shown in UTC until [`Renderer::zone`] says otherwise.
    pub fn new(templates_dir: Option<&Path>) -> Result<Renderer, RenderError> {
        let mut tera = tera::Tera::default();
        for (name, default) in [
            (HTML_TEMPLATE, DEFAULT_HTML),
            (TEXT_TEMPLATE, DEFAULT_TEXT),
            (SUBJECT_TEMPLATE, DEFAULT_SUBJECT),
        ] {
            let user = templates_dir.map(|d| d.join(name)).filter(|p| p.is_file());
            let (source, label) = match &user {
                Some(p) => (
                    std::fs::read_to_string(p).map_err(|source| RenderError::Read {
                        path: p.display().to_string(),
                        source,
                    })?,
                    p.display().to_string(),
                ),
                None => (default.to_string(), format!("built-in {name}")),
            };
            tera.add_raw_template(name, &source)
                .map_err(|e| RenderError::Template {
                    name: label,
                    message: tera_message(&e),
                })?;
        }
        // Tera escapes by file name; the text template must not be HTML-escaped. Tera's own
        // escaper also turns `/` into `&#x2F;`, which makes every link in the mail unreadable.
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(crate::html::escape);
        let strings = std::sync::Arc::new(Strings::default());
        tera.register_function("tr", Translate(strings.clone()));
        Ok(Renderer {
            tera,
            zone: Tz::UTC,
            next_digest: None,
            strings,
        })
    }

    /// Words and dates in this language (`[digest] language`, a user's `strings.toml`).
    pub fn strings(mut self, strings: std::sync::Arc<Strings>) -> Renderer {
        self.tera
            .register_function("tr", Translate(strings.clone()));
        self.strings = strings;
        self
    }

    /// Dates and times are shown in `zone` (`[digest] timezone`).
    pub fn zone(mut self, zone: Tz) -> Renderer {
        self.zone = zone;
        self
    }

    /// The footer says when the next digest is due.
    pub fn next_digest(mut self, at: Option<DateTime<Utc>>) -> Renderer {
        self.next_digest = at;
        self
    }

    pub fn render(&self, digest: &Digest) -> Result<Rendered, RenderError> {
        let ctx = self.context(digest)?;
        let html = self.html(&ctx)?;
        self.finish(digest, &ctx, html)
    }

    fn context(&self, digest: &Digest) -> Result<tera::Context, RenderError> {
        let v = view(digest, self.zone, self.next_digest, &self.strings);
        tera::Context::from_serialize(&v).map_err(|e| RenderError::Template {
            name: "context".into(),
            message: tera_message(&e),
        })
    }

    fn template(&self, name: &str, ctx: &tera::Context) -> Result<String, RenderError> {
        self.tera
            .render(name, ctx)
            .map_err(|e| RenderError::Template {
                name: name.into(),
                message: tera_message(&e),
            })
    }

    /// The HTML part alone: all the size budget measures.
    fn html(&self, ctx: &tera::Context) -> Result<String, RenderError> {
        inline_css(&self.template(HTML_TEMPLATE, ctx)?)
    }

    /// The subject and plain-text part beside an HTML part rendered from the same context.
    fn finish(
        &self,
        digest: &Digest,
        ctx: &tera::Context,
        html: String,
    ) -> Result<Rendered, RenderError> {
        // One line, however the template is laid out; no control characters reach a header.
        let subject = self
            .template(SUBJECT_TEMPLATE, ctx)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Rendered {
            title: digest.title.clone(),
            subject,
            html,
            text: fit_lines(&self.template(TEXT_TEMPLATE, ctx)?, TEXT_WIDTH),
        })
    }

    /// Renders `digest` with its HTML part within `max_bytes`, changing `digest` to what the
    /// mail shows, so that only those stories are recorded as delivered.
    ///
    /// First the lowest-ranked stories of every topic are cut to title links (each topic
    /// keeps the same number in full, as many as fit); if titles alone are still too large,
    /// the lowest-ranked are left out and counted in "+N more": they come in the next digest.
    /// Each step is a search over one count ([`largest_fitting`]); trials render the HTML
    /// part only, and the subject and text are rendered once, for the winner.
    pub fn render_within(
        &self,
        digest: &mut Digest,
        max_bytes: usize,
    ) -> Result<(Rendered, Fitted), RenderError> {
        // The mail holds at least every title and summary: when those alone are over the
        // budget, rendering everything (megabytes, for a backlog of thousands of stories)
        // would only prove it.
        let least: usize = digest
            .stories()
            .map(|s| s.title.len() + s.summary_html.len())
            .sum();
        if least <= max_bytes {
            let first = self.render(digest)?;
            if first.html.len() <= max_bytes {
                return Ok((first, Fitted::default()));
            }
        }
        // Every topic's stories in rank order, and what the caps had already left out.
        let ranked: Vec<(Vec<Story>, usize)> = digest
            .groups
            .iter_mut()
            .map(|g| {
                let mut all = std::mem::take(&mut g.stories);
                all.append(&mut g.collapsed);
                (all, g.more)
            })
            .collect();
        let longest = ranked.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
        let shape = |digest: &mut Digest, full: usize, shown: usize| {
            for (g, (all, more)) in digest.groups.iter_mut().zip(&ranked) {
                let shown = shown.min(all.len());
                let full = full.min(shown);
                g.stories = all[..full].to_vec();
                g.collapsed = all[full..shown].to_vec();
                g.more = more + all.len() - shown;
            }
        };
        let mut renders = 0;
        let mut trial = |full: usize, shown: usize| -> Result<String, RenderError> {
            renders += 1;
            shape(digest, full, shown);
            self.html(&self.context(digest)?)
        };
        // First how many stories fit as titles at all, then how many of those in full.
        let keep = BUDGET_KEEP_FULL;
        let empty = trial(0, 0)?;
        let (full, shown, html) = if empty.len() > max_bytes {
            // Not even the header and footer fit: send them anyway, every story left for
            // the next digest.
            tracing::warn!(
                max_bytes,
                "the digest without any story is larger than [digest] max_bytes"
            );
            (0, 0, empty)
        } else {
            let (titles, html) =
                largest_fitting(0, longest, empty, max_bytes, &mut |n| trial(0, n))?;
            if titles == longest {
                // Every title fits: as many stories in full as fit beside them.
                let (full, html) =
                    largest_fitting(0, longest, html, max_bytes, &mut |n| trial(n, longest))?;
                (full, longest, html)
            } else {
                // Each topic keeps its best story in full if that fits, then titles.
                let at_keep = trial(keep, keep)?;
                if at_keep.len() <= max_bytes {
                    let (shown, html) =
                        largest_fitting(keep, longest, at_keep, max_bytes, &mut |n| {
                            trial(keep, n)
                        })?;
                    (keep, shown, html)
                } else {
                    (0, titles, html)
                }
            }
        };
        // The last trial may not have been the winner.
        shape(digest, full, shown);
        let rendered = self.finish(digest, &self.context(digest)?, html)?;
        let fitted = Fitted {
            collapsed: digest.groups.iter().map(|g| g.collapsed.len()).sum(),
            left_out: ranked
                .iter()
                .map(|(all, _)| all.len() - shown.min(all.len()))
                .sum(),
        };
        tracing::info!(
            max_bytes,
            html_bytes = rendered.html.len(),
            collapsed = fitted.collapsed,
            left_out = fitted.left_out,
            renders,
            "digest cut to its size budget"
        );
        Ok((rendered, fitted))
    }
}

/// The largest `n` in `lo..=hi` whose HTML fits in `max` bytes, and that HTML; `at_lo`, the
/// HTML at `lo`, must fit.
///
/// A digest grows about linearly with the number of stories shown, so each probe aims where
/// the line through two measured sizes crosses the budget (a secant step), which lands
/// within a few stories of the answer in two or three renders. The line bends where the
/// shorter topics run out of stories, so:
/// - until a probe misses, steps also grow at least geometrically, as in a galloping
///   search, so a line that predicts too little cannot make the search crawl;
/// - once a miss brackets the answer, a probe that did not halve the range is followed by
///   a bisection, so it never takes much more than twice a binary search's renders.
///
/// Probes start low and grow because a render costs what it shows.
fn largest_fitting(
    lo: usize,
    hi: usize,
    at_lo: String,
    max: usize,
    trial: &mut dyn FnMut(usize) -> Result<String, RenderError>,
) -> Result<(usize, String), RenderError> {
    let (mut lo, mut best, mut hi) = (lo, at_lo, hi);
    // The fit measured before `lo`, and the smallest count known not to fit, with sizes.
    let mut earlier: Option<(usize, usize)> = None;
    let mut over: Option<(usize, usize)> = None;
    // Until a miss, the least step; it doubles whenever it is taken and fits (galloping), so
    // a line that keeps predicting too little cannot make the search crawl.
    let mut least = 1;
    let mut bisect = false;
    while lo < hi {
        let room = max - best.len();
        let probe = match (over, earlier) {
            (Some(_), _) if bisect => lo + (hi - lo).div_ceil(2),
            (Some((n, size)), _) => lo + room * (n - lo) / (size - best.len()).max(1),
            (None, Some((n, size))) => {
                let per_story = best.len().saturating_sub(size).max(1) / (lo - n);
                lo + (room / per_story.max(1)).max(least)
            }
            // Nothing to draw a line through yet: one more story, to learn its cost.
            (None, None) => lo + 1,
        }
        .clamp(lo + 1, hi);
        let before = hi - lo;
        let html = trial(probe)?;
        if html.len() <= max {
            if over.is_none() && probe == lo + least {
                least *= 2;
            }
            earlier = Some((lo, best.len()));
            (lo, best) = (probe, html);
        } else {
            over = Some((probe, html.len()));
            hi = probe - 1;
        }
        bisect = !bisect && (hi - lo) * 2 > before;
    }
    Ok((lo, best))
}

/// Moves the template's stylesheet into `style` attributes, because Gmail and Outlook drop
/// or rewrite `<style>`; at-rules (`@media` for dark mode and narrow screens) cannot be
/// inlined and stay in a `<style>` block. A user's template is free to use classes too.
fn inline_css(html: &str) -> Result<String, RenderError> {
    let inliner = css_inline::CSSInliner::options()
        .keep_at_rules(true)
        .load_remote_stylesheets(false)
        .build();
    inliner.inline(html).map_err(|e| RenderError::Inline {
        name: HTML_TEMPLATE.into(),
        message: e.to_string(),
    })
}

/// Tera's messages live in the error's source chain.
fn tera_message(e: &tera::Error) -> String {
    crate::sources::http::error_chain(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search finds what trying every count finds, in few renders, and never renders a
    /// digest far bigger than the budget before it has seen a miss.
    #[test]
    fn largest_fitting_matches_brute_force_in_few_renders() {
        // Sizes by count: a header, then stories, the per-story cost falling as the shorter
        // topics run out, and one story much longer than the rest.
        type Size = Box<dyn Fn(usize) -> usize>;
        let shapes: Vec<(&str, Size)> = vec![
            ("linear", Box::new(|n| 3_000 + 450 * n)),
            (
                "bends",
                Box::new(|n| 3_000 + 4 * 300 * n.min(20) + 300 * n.saturating_sub(20)),
            ),
            (
                "lumpy",
                Box::new(|n| 3_000 + 400 * n + if n >= 37 { 9_000 } else { 0 }),
            ),
            ("flat", Box::new(|_| 3_000)),
        ];
        for (name, size) in &shapes {
            for max in [3_000, 3_500, 20_000, 100_000, 2_000_000] {
                for (lo, hi) in [(0, 12_000), (1, 12_000), (0, 5)] {
                    if size(lo) > max {
                        continue;
                    }
                    let want = (lo..=hi).rev().find(|&n| size(n) <= max).unwrap();
                    let mut renders = Vec::new();
                    let (got, html) =
                        largest_fitting(lo, hi, "x".repeat(size(lo)), max, &mut |n| {
                            renders.push(size(n));
                            Ok("x".repeat(size(n)))
                        })
                        .unwrap();
                    let case = format!(
                        "{name} max={max} {lo}..={hi}: {} renders {:?}",
                        renders.len(),
                        &renders[..renders.len().min(20)]
                    );
                    assert_eq!((got, html.len()), (want, size(want)), "{case}");
                    assert!(renders.len() <= 2 * 14 + 2, "{case}");
                    let first_miss = renders
                        .iter()
                        .position(|&s| s > max)
                        .unwrap_or(renders.len());
                    assert!(renders[..first_miss].iter().all(|&s| s <= max), "{case}");
                    if let Some(&miss) = renders.get(first_miss) {
                        assert!(miss <= 5 * max.max(size(lo + 1)), "{case}");
                    }
                }
            }
        }
        // Linear sizes, the common case, take a handful.
        let mut renders = 0;
        largest_fitting(0, 12_000, "x".repeat(3_000), 100_000, &mut |n| {
            renders += 1;
            Ok("x".repeat(3_000 + 450 * n))
        })
        .unwrap();
        assert!(renders <= 4, "{renders}");
    }
    use crate::model::{Story, TopicGroup};

    pub(crate) fn digest() -> Digest {
        Digest {
            title: "Morning".into(),
            generated_at: DateTime::parse_from_rfc3339("2026-11-28T07:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            groups: vec![TopicGroup {
                topic: "Technology".into(),
                stories: vec![Story {
                    title: "Rust <ships> & more".into(),
                    url: Some("https://e.org/rust?a=1&b=2".into()),
                    summary: "It is out.".into(),
                    summary_html: "<p>It is <em>out</em>.</p>".into(),
                    published: None,
                    sources: vec![
                        StorySource {
                            name: "Feed A".into(),
                            url: None,
                        },
                        StorySource {
                            name: "News B".into(),
                            url: Some("https://b.org/x".into()),
                        },
                    ],
                    media: None,
                    items: vec![],
                    message_ids: vec![],
                    topic_reason: String::new(),
                    merged: vec![],
                    ..Default::default()
                }],
                more: 0,
                collapsed: vec![],
                ..Default::default()
            }],
            errors: vec![SourceError {
                source: "Broken".into(),
                message: "HTTP 500".into(),
            }],
            attention: vec![],
            muted: vec![],
            links_withheld: 0,
            links_resolving: false,
            explain: None,
            ..Default::default()
        }
    }

    #[test]
    fn every_plain_text_line_fits_except_a_bare_link() {
        let long_link = format!("https://e.org/{}", "a".repeat(90));
        let text = format!(
            "Short line\n\n* {}\n  {long_link}\n  {}",
            "Harbour authority approves the new ferry terminal after a long night of talks in Kiel",
            "Coast Weekly, Port Brief, The Morning Dispatch · 25 Nov 2026, 11:30 UTC · Short",
        );
        let got = fit_lines(&text, 72);
        let want = format!(
            "Short line\n\n\
             * Harbour authority approves the new ferry terminal after a long night\n  \
             of talks in Kiel\n  {long_link}\n  \
             Coast Weekly, Port Brief, The Morning Dispatch · 25 Nov 2026, 11:30\n  \
             UTC · Short"
        );
        assert_eq!(got, want);
        for line in got.lines().filter(|l| !l.trim().starts_with("https://")) {
            assert!(line.chars().count() <= 72, "{line}");
        }
    }

    #[test]
    fn attention_section_lists_confirmation_links() {
        let mut d = digest();
        d.attention.push(Attention {
            source: "Harbour Notes".into(),
            subject: "Confirm your subscription".into(),
            url: Some("https://harbour.example/confirm?t=1&u=2".into()),
            message_id: "<c@x>".into(),
        });
        let r = Renderer::new(None).unwrap().render(&d).unwrap();
        assert!(r.text.contains("Needs your attention"), "{}", r.text);
        assert!(r.text.contains("Harbour Notes: Confirm your subscription"));
        assert!(r.text.contains("https://harbour.example/confirm?t=1&u=2"));
        assert!(r.html.contains("Needs your attention"));
        assert!(r
            .html
            .contains("href=\"https://harbour.example/confirm?t=1&amp;u=2\""));
        let plain = Renderer::new(None).unwrap().render(&digest()).unwrap();
        assert!(!plain.text.contains("Needs your attention"));
    }

    #[test]
    fn default_templates_render_both_parts() {
        let r = Renderer::new(None).unwrap().render(&digest()).unwrap();
        assert_eq!(r.subject, "Morning — 28 Nov 2026 (1 story)");
        assert!(
            r.html.contains("Rust &lt;ships&gt; &amp; more"),
            "title must be escaped"
        );
        assert!(
            r.html.contains("<em>out</em>"),
            "sanitized summary is inserted as HTML"
        );
        assert!(r.html.contains("href=\"https://e.org/rust?a=1&amp;b=2\""));
        assert!(r.html.contains("Broken") && r.html.contains("HTTP 500"));
        assert!(r.text.contains("Technology\n=========="), "{}", r.text);
        assert!(
            r.text.contains("Rust <ships> & more"),
            "text is not escaped: {}",
            r.text
        );
        assert!(r.text.contains("https://e.org/rust?a=1&b=2"));
        assert!(r.text.contains("Feed A, News B"));
    }

    #[test]
    fn user_template_overrides_and_broken_template_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("digest.txt"),
            "{{ story_count }} stories for {{ title }}",
        )
        .unwrap();
        let r = Renderer::new(Some(dir.path()))
            .unwrap()
            .render(&digest())
            .unwrap();
        assert_eq!(r.text, "1 stories for Morning");
        std::fs::write(dir.path().join("digest.html"), "line one\n{% for x in %}").unwrap();
        let err = Renderer::new(Some(dir.path()))
            .err()
            .expect("broken template must fail")
            .to_string();
        assert!(err.contains("digest.html"), "{err}");
        assert!(err.contains("2:"), "names the line: {err}");
        std::fs::write(dir.path().join("digest.html"), "ok").unwrap();
        std::fs::write(dir.path().join("subject.txt"), "{{ title }").unwrap();
        let err = Renderer::new(Some(dir.path())).err().unwrap().to_string();
        assert!(err.contains("subject.txt") && err.contains("1:"), "{err}");
        std::fs::write(dir.path().join("subject.txt"), "News for {{ date_short }}").unwrap();
        let r = Renderer::new(Some(dir.path())).unwrap();
        assert_eq!(r.render(&digest()).unwrap().subject, "News for 28 Nov 2026");
    }

    #[test]
    fn muted_count_and_more_lines_render() {
        let mut d = digest();
        d.groups[0].more = 3;
        d.muted = vec![crate::model::Muted {
            title: "Horoscope".into(),
            source: "Feed A".into(),
            filter: "filters[0]: exclude `horoscope`".into(),
            items: vec![],
            repeat: false,
        }];
        let r = Renderer::new(None).unwrap().render(&d).unwrap();
        for out in [&r.html, &r.text] {
            assert!(out.contains("+3 more in Technology"), "{out}");
            assert!(out.contains("1 story muted by your filters"), "{out}");
        }
    }

    #[test]
    fn wrap_keeps_words_and_paragraphs() {
        assert_eq!(
            wrap("aaa bbb ccc\n\nddd", 7),
            vec!["aaa bbb", "ccc", "", "ddd"]
        );
    }
}
