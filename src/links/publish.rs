//! The pipeline's link step: every story URL and every link in a summary is checked with
//! [`privacy::assess`](super::privacy::assess) before grouping. Opaque trackers are resolved
//! (from the state's cache, or over HTTP when `[links] resolve_redirects` is on); what is still
//! not publishable is dropped: the story keeps its title, the summary its text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream::{self, StreamExt};

use super::privacy::{assess, Verdict};
use super::resolve::{Resolver, RESOLVE_CONCURRENCY};
use super::Cleaner;
use crate::model::Item;
use crate::parallel;

/// What the step found out, for the state's redirect cache.
#[derive(Debug, Default)]
pub struct Settled {
    /// Newly resolved (wrapper, destination) pairs; the caller stores them unless dry.
    pub resolved: Vec<(String, String)>,
    /// Links removed because they were not publishable.
    pub dropped: usize,
}

/// [`assess`], knowing the item's newsletter click-tracker: a link still on that host is an
/// opaque tracker whatever its shape.
fn assess_in(tracker: Option<&str>, link: &str) -> Verdict {
    let verdict = assess(link);
    let on_tracker = tracker.is_some_and(|t| {
        url::Url::parse(link)
            .ok()
            .is_some_and(|u| u.host_str() == Some(t))
    });
    match verdict {
        Verdict::Publish if on_tracker => Verdict::Resolve("the newsletter's click-tracker"),
        v => v,
    }
}

/// Makes every link in `items` publishable or removes it.
pub async fn settle(
    items: &mut [Item],
    cleaner: &Cleaner,
    resolver: Option<&Resolver>,
    cached: impl Fn(&str) -> Option<String>,
) -> Settled {
    // Every link is assessed twice (here, then when it is rewritten), on all cores.
    let per_item = parallel::map(items, |item| {
        let mut wanted: Vec<String> = Vec::new();
        let tracker = item.tracker_host.as_deref();
        let mut note = |link: &str| {
            if matches!(assess_in(tracker, link), Verdict::Resolve(_)) {
                wanted.push(link.to_string());
            }
        };
        if let Some(u) = &item.url {
            note(u);
        }
        for h in hrefs(&item.summary_html) {
            note(&h);
        }
        for t in text_links(&item.summary_text) {
            note(t);
        }
        for (_, u) in &item.also {
            note(u);
        }
        wanted
    });
    // Each once, in first-seen order.
    let mut seen = std::collections::HashSet::new();
    let wanted: Vec<String> = per_item
        .into_iter()
        .flatten()
        .filter(|link| seen.insert(link.clone()))
        .collect();

    let mut found: HashMap<String, String> = HashMap::new();
    let mut to_fetch = Vec::new();
    for w in wanted {
        match cached(&w).map(|d| cleaner.clean(&d)) {
            Some(d) if assess(&d) == Verdict::Publish => {
                found.insert(w, d);
            }
            _ => to_fetch.push(w),
        }
    }
    let mut settled = Settled::default();
    if let Some(resolver) = resolver {
        let results: Vec<(String, Result<String, _>)> = stream::iter(to_fetch)
            .map(|w| async move {
                let r = resolver.resolve(cleaner, &w).await;
                (w, r)
            })
            .buffer_unordered(RESOLVE_CONCURRENCY)
            .collect()
            .await;
        for (w, r) in results {
            match r {
                Ok(dest) => {
                    settled.resolved.push((w.clone(), dest.clone()));
                    found.insert(w, dest);
                }
                Err(e) => tracing::info!(error = %e, "click-tracker not resolved; link dropped"),
            }
        }
    }

    let dropped = AtomicUsize::new(0);
    let publish = |tracker: Option<&str>, link: &str| -> Option<String> {
        match assess_in(tracker, link) {
            Verdict::Publish => Some(link.to_string()),
            _ => {
                let r = found.get(link).cloned();
                if r.is_none() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
                r
            }
        }
    };
    parallel::for_each_mut(items, |item| {
        let tracker = item.tracker_host.clone();
        let mut publish = |link: &str| publish(tracker.as_deref(), link);
        if let Some(u) = item.url.take() {
            item.url = publish(&u);
        }
        item.summary_html = rewrite_hrefs(&item.summary_html, &mut publish);
        item.summary_text = rewrite_text_links(&item.summary_text, &mut publish);
        // An outlet whose link cannot be published is left out rather than listed unlinked.
        item.also = std::mem::take(&mut item.also)
            .into_iter()
            .filter_map(|(name, u)| publish(&u).map(|u| (name, u)))
            .collect();
    });
    settled.dropped = dropped.into_inner();
    if settled.dropped > 0 {
        tracing::info!(dropped = settled.dropped, "unpublishable links removed");
    }
    settled
}

const HREF: &str = "href=\"";

/// The `href="…"` values of sanitized HTML, unescaped.
fn hrefs(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(HREF) {
        rest = &rest[i + HREF.len()..];
        let Some(end) = rest.find('"') else { break };
        out.push(unescape(&rest[..end]));
        rest = &rest[end..];
    }
    out
}

fn unescape(v: &str) -> String {
    v.replace("&amp;", "&").replace("&quot;", "\"")
}

fn escape(v: &str) -> String {
    v.replace('&', "&amp;").replace('"', "&quot;")
}

/// Replaces each href by `f(href)`, or removes the attribute when `f` says `None`.
fn rewrite_hrefs(html: &str, f: &mut impl FnMut(&str) -> Option<String>) -> String {
    if !html.contains(HREF) {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(HREF) {
        let Some(end) = rest[i + HREF.len()..].find('"') else {
            break;
        };
        let value = &rest[i + HREF.len()..i + HREF.len() + end];
        match f(&unescape(value)) {
            Some(v) => {
                out.push_str(&rest[..i]);
                out.push_str(HREF);
                out.push_str(&escape(&v));
                out.push('"');
            }
            None => out.push_str(rest[..i].trim_end_matches(' ')),
        }
        rest = &rest[i + HREF.len() + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Bare http(s) URLs in plain text.
fn text_links(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '"'))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
}

fn rewrite_text_links(text: &str, f: &mut impl FnMut(&str) -> Option<String>) -> String {
    let links: Vec<&str> = text_links(text).collect();
    let mut out = text.to_string();
    for l in links {
        match f(l) {
            Some(v) if v == l => {}
            Some(v) => out = out.replacen(l, &v, 1),
            None => out = out.replacen(l, "", 1),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pointed_to_outlets_keep_only_publishable_links() {
        let mut item = crate::group::dedup::tests::item("Dispatch", "Treaty", None, "");
        item.also = vec![
            ("World Wire".into(), "https://w.example/t".into()),
            (
                "Tracked".into(),
                "https://x.list-manage.com/track/click?u=1&e=2".into(),
            ),
        ];
        let mut items = [item];
        let settled = settle(&mut items, &Cleaner::default(), None, |_| None).await;
        assert_eq!(
            items[0].also,
            [("World Wire".to_string(), "https://w.example/t".to_string())]
        );
        assert_eq!(settled.dropped, 1);
    }

    #[test]
    fn hrefs_are_rewritten_or_removed() {
        let html = r#"<p><a href="https://e.org/?a=1&amp;b=2">ok</a> <a href="https://x.list-manage.com/track/click?u=1&amp;e=2">tracked</a></p>"#;
        assert_eq!(
            hrefs(html),
            [
                "https://e.org/?a=1&b=2",
                "https://x.list-manage.com/track/click?u=1&e=2"
            ]
        );
        let out = rewrite_hrefs(html, &mut |l: &str| {
            (assess(l) == Verdict::Publish).then(|| l.to_string())
        });
        assert_eq!(
            out,
            r#"<p><a href="https://e.org/?a=1&amp;b=2">ok</a> <a>tracked</a></p>"#
        );
    }
}
