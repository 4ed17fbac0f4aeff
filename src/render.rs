//! Rendering with Tera: default templates compiled in, a user's `templates_dir` over them.
//!
//! Templates receive a [`View`] (documented in the README): plain data, dates already
//! formatted, summaries already sanitized. `digest.html` is auto-escaped by Tera; the only
//! value inserted unescaped is `summary_html`, which ammonia produced.

use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::model::{Attention, Digest, SourceError, Story, StorySource};

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
    #[error("cannot read template `{path}`: {source}")]
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
    pub groups: Vec<GroupView<'a>>,
    pub errors: &'a [SourceError],
    /// Confirmation emails waiting for the reader ("needs your attention").
    pub attention: &'a [Attention],
    /// Stories the reader's filters muted ("7 stories muted by your filters").
    pub muted_count: usize,
}

#[derive(Serialize)]
pub struct GroupView<'a> {
    pub topic: &'a str,
    /// `id` for in-page links: "topic-technology".
    pub anchor: String,
    /// `=` repeated to the topic's width, for plain-text headings.
    pub underline: String,
    pub stories: Vec<StoryView<'a>>,
    /// Lower-ranked stories shown as title links only (size budget).
    pub collapsed: Vec<StoryView<'a>>,
    /// Stories of this topic left out by the caps or the size budget ("+3 more").
    pub more: usize,
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
}

/// What the templates receive; times shown in `zone`.
pub fn view(d: &Digest, zone: Tz, next_digest: Option<DateTime<Utc>>) -> View<'_> {
    let mut sources: Vec<&str> = d
        .stories()
        .flat_map(|s| s.sources.iter().map(|x| x.name.as_str()))
        .collect();
    sources.sort_unstable();
    sources.dedup();
    let local = d.generated_at.with_timezone(&zone);
    let story = |s| story_view(s, zone);
    View {
        title: &d.title,
        generated_at: d.generated_at.to_rfc3339(),
        date: local.format("%A, %-d %B %Y").to_string(),
        date_short: local.format("%-d %b %Y").to_string(),
        time: local.format("%H:%M %Z").to_string(),
        timezone: zone.name().to_string(),
        next_digest: next_digest.map(|t| {
            t.with_timezone(&zone)
                .format("%A, %-d %B %Y, %H:%M %Z")
                .to_string()
        }),
        collapsed_count: d.groups.iter().map(|g| g.collapsed.len()).sum(),
        more_count: d.more_count(),
        story_count: d.story_count(),
        source_count: sources.len(),
        topic_count: d.groups.len(),
        groups: d
            .groups
            .iter()
            .map(|g| GroupView {
                topic: &g.topic,
                anchor: anchor(&g.topic),
                underline: "=".repeat(g.topic.chars().count()),
                stories: g.stories.iter().map(story).collect(),
                collapsed: g.collapsed.iter().map(story).collect(),
                more: g.more,
            })
            .collect(),
        errors: &d.errors,
        attention: &d.attention,
        muted_count: d.muted_count(),
    }
}

fn story_view(s: &Story, zone: Tz) -> StoryView<'_> {
    StoryView {
        title: &s.title,
        url: s.url.as_deref(),
        summary: &s.summary,
        summary_html: &s.summary_html,
        summary_lines: wrap(&s.summary, TEXT_WIDTH - 4),
        published: s.published.map(|p| p.to_rfc3339()),
        published_display: s.published.map(|p| display_time(p, zone)),
        sources: &s.sources,
        source_names: s
            .sources
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn display_time(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .format("%-d %b %Y, %H:%M %Z")
        .to_string()
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
        Ok(Renderer {
            tera,
            zone: Tz::UTC,
            next_digest: None,
        })
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
        let v = view(digest, self.zone, self.next_digest);
        let ctx = tera::Context::from_serialize(&v).map_err(|e| RenderError::Template {
            name: "context".into(),
            message: tera_message(&e),
        })?;
        let render = |name: &str| {
            self.tera
                .render(name, &ctx)
                .map_err(|e| RenderError::Template {
                    name: name.into(),
                    message: tera_message(&e),
                })
        };
        // One line, however the template is laid out; no control characters reach a header.
        let subject = render(SUBJECT_TEMPLATE)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Rendered {
            title: digest.title.clone(),
            subject,
            html: inline_css(&render(HTML_TEMPLATE)?)?,
            text: render(TEXT_TEMPLATE)?,
        })
    }

    /// Renders `digest` with its HTML part within `max_bytes`, changing `digest` to what the
    /// mail shows, so that only those stories are recorded as delivered.
    ///
    /// First the lowest-ranked stories of every topic are cut to title links (each topic
    /// keeps the same number in full, as many as fit); if titles alone are still too large,
    /// the lowest-ranked are left out and counted in "+N more": they come in the next digest.
    /// Each step is a binary search over one count, a dozen renders at most.
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
        let mut fits = |full: usize, shown: usize| -> Result<Option<Rendered>, RenderError> {
            shape(digest, full, shown);
            let r = self.render(digest)?;
            Ok((r.html.len() <= max_bytes).then_some(r))
        };
        // Largest `n` in `lo..=hi` with `test(n)` fitting (`lo` must fit), and its rendering.
        // Galloping up from `lo` first (lo+1, lo+2, lo+4 …), so no trial renders much more
        // than twice what fits: a render costs what it shows.
        fn search(
            lo: usize,
            hi: usize,
            at_lo: Rendered,
            test: &mut dyn FnMut(usize) -> Result<Option<Rendered>, RenderError>,
        ) -> Result<(usize, Rendered), RenderError> {
            let (mut lo, mut best) = (lo, at_lo);
            let mut step = 1;
            let mut hi = loop {
                if lo >= hi {
                    return Ok((lo, best));
                }
                let probe = (lo + step).min(hi);
                match test(probe)? {
                    Some(r) => {
                        lo = probe;
                        best = r;
                        step *= 2;
                    }
                    None => break probe - 1,
                }
            };
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                match test(mid)? {
                    Some(r) => {
                        lo = mid;
                        best = r;
                    }
                    None => hi = mid - 1,
                }
            }
            Ok((lo, best))
        }
        // First how many stories fit as titles at all, then how many of those in full.
        let keep = BUDGET_KEEP_FULL;
        let (full, shown, rendered) = match fits(0, 0)? {
            None => {
                // Not even the header and footer fit: send them anyway, every story
                // left for the next digest.
                shape(digest, 0, 0);
                tracing::warn!(
                    max_bytes,
                    "the digest without any story is larger than [digest] max_bytes"
                );
                (0, 0, self.render(digest)?)
            }
            Some(empty) => {
                let (titles, r) = search(0, longest, empty, &mut |n| fits(0, n))?;
                if titles == longest {
                    // Every title fits: as many stories in full as fit beside them.
                    let (full, r) = search(0, longest, r, &mut |n| fits(n, longest))?;
                    (full, longest, r)
                } else {
                    // Each topic keeps its best story in full if that fits, then titles.
                    match fits(keep, keep)? {
                        Some(at_keep) => {
                            let (shown, r) =
                                search(keep, longest, at_keep, &mut |n| fits(keep, n))?;
                            (keep, shown, r)
                        }
                        None => (0, titles, r),
                    }
                }
            }
        };
        // The last trial may not have been the winner.
        shape(digest, full, shown);
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
            "digest cut to its size budget"
        );
        Ok((rendered, fitted))
    }
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
                    items: vec![],
                    message_ids: vec![],
                    topic_reason: String::new(),
                    merged: vec![],
                }],
                more: 0,
                collapsed: vec![],
            }],
            errors: vec![SourceError {
                source: "Broken".into(),
                message: "HTTP 500".into(),
            }],
            attention: vec![],
            muted: vec![],
            explain: None,
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
