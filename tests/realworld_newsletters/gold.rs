//! Our reading of the real newsletters (`tests/realworld/newsletter-stories/*.toml`: the
//! stories a reader wants from each message, by title and clean link, written by us as data)
//! and the score of an extraction against it.
//!
//! A story emitted by tidings is matched to an expected one by its title's words (the
//! expected title's words nearly all present, and not drowned in others) or, failing that,
//! by the same link. Matching is one to one, best pairs first: a second emitted story that
//! matches an expected story already taken is a duplicate; an emitted story that matches
//! nothing is an extra, unless it matches an expected story marked `optional` (borderline:
//! neither required nor penalised).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoldFile {
    /// The message, relative to `shared/realworld/newsletters/`.
    pub file: String,
    pub message: Vec<GoldMessage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoldMessage {
    /// Only for an mbox: which of its messages.
    pub message_id: Option<String>,
    pub kind: Kind,
    #[serde(default)]
    pub story: Vec<GoldStory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Newsletter,
    Promotion,
    Welcome,
    Confirmation,
}

impl Kind {
    /// A mail the reader has to act on, which belongs under "Needs your attention".
    pub(crate) fn needs_attention(self) -> bool {
        matches!(self, Kind::Welcome | Kind::Confirmation)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoldStory {
    pub title: String,
    pub link: Option<String>,
    #[serde(default)]
    pub optional: bool,
    /// Only an opaque click-tracker points to it: no clean link can be known offline.
    #[serde(default)]
    pub tracked: bool,
}

/// Every gold file, sorted by name; panics on one that does not parse (it is our data).
pub(crate) fn load(dir: &Path) -> Vec<(PathBuf, GoldFile)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let gold: GoldFile =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, gold)
        })
        .collect()
}

/// What tidings emitted for one message.
pub(crate) struct Emitted {
    pub title: String,
    pub link: Option<String>,
}

/// The score of one message.
#[derive(Debug, Default, Clone)]
pub(crate) struct Score {
    /// Expected stories that are not optional.
    pub sure: usize,
    /// Of those, matched by an emitted story.
    pub found: usize,
    pub emitted: usize,
    /// Emitted stories that match no expected story.
    pub extra: usize,
    /// Emitted stories that match an expected story another emitted story already took.
    pub duplicate: usize,
    /// Matched sure stories whose expected link is known…
    pub gold_links: usize,
    /// …and whose emitted link is that link.
    pub same_link: usize,
    /// Matched stories whose emitted title carries much more than the headline (a headline
    /// fused with its standfirst or with furniture).
    pub fused: usize,
    /// Matched stories only an opaque tracker points to…
    pub tracked: usize,
    /// …that were published with a link all the same (a resolved one, or the tracker).
    pub tracked_linked: usize,
    pub missed_titles: Vec<String>,
    pub extra_titles: Vec<String>,
}

impl Score {
    pub(crate) fn add(&mut self, o: &Score) {
        self.sure += o.sure;
        self.found += o.found;
        self.emitted += o.emitted;
        self.extra += o.extra;
        self.duplicate += o.duplicate;
        self.gold_links += o.gold_links;
        self.same_link += o.same_link;
        self.fused += o.fused;
        self.tracked += o.tracked;
        self.tracked_linked += o.tracked_linked;
    }
}

/// Lower-case words of letters and digits.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A link compared without scheme, `www.`, fragment or trailing slash.
fn link_key(s: &str) -> String {
    let s = s.split('#').next().unwrap_or(s);
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.");
    s.trim_end_matches('/').to_lowercase()
}

/// How well an emitted title matches an expected one, 0 when it does not: the share of the
/// expected title's words it has, if that is most of them and they are not lost among many
/// more (an emitted title may carry a standfirst; it must not be a whole paragraph).
fn title_match(expected: &[String], emitted: &[String]) -> f64 {
    if expected.is_empty() || emitted.is_empty() {
        return 0.0;
    }
    let have: HashSet<&str> = emitted.iter().map(String::as_str).collect();
    let common = expected
        .iter()
        .filter(|w| have.contains(w.as_str()))
        .count() as f64;
    let recall = common / expected.len() as f64;
    let precision = common / emitted.len() as f64;
    // Short titles must match whole: two words of three is another headline.
    let needed = if expected.len() <= 3 { 1.0 } else { 0.75 };
    if recall + 1e-9 < needed || precision < 0.25 {
        return 0.0;
    }
    recall + precision / 10.0
}

pub(crate) fn score(expected: &[GoldStory], emitted: &[Emitted]) -> Score {
    let exp_words: Vec<Vec<String>> = expected.iter().map(|s| words(&s.title)).collect();
    let em_words: Vec<Vec<String>> = emitted.iter().map(|s| words(&s.title)).collect();
    // Every matching pair, best first.
    let mut pairs = Vec::new();
    for (i, e) in expected.iter().enumerate() {
        for (j, m) in emitted.iter().enumerate() {
            let mut s = title_match(&exp_words[i], &em_words[j]);
            if s == 0.0 {
                if let (Some(a), Some(b)) = (&e.link, &m.link) {
                    if link_key(a) == link_key(b) {
                        s = 0.5;
                    }
                }
            }
            if s > 0.0 {
                pairs.push((s, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut taken_exp = vec![false; expected.len()];
    let mut matched_em = vec![None::<usize>; emitted.len()];
    let mut dup_em = vec![false; emitted.len()];
    for &(_, i, j) in &pairs {
        if matched_em[j].is_some() {
            continue;
        }
        if !taken_exp[i] {
            taken_exp[i] = true;
            matched_em[j] = Some(i);
        }
    }
    // An unmatched emitted story that matches a taken expected one repeats it.
    for &(_, i, j) in &pairs {
        if matched_em[j].is_none() && taken_exp[i] && !dup_em[j] {
            dup_em[j] = true;
        }
    }
    let mut sc = Score {
        emitted: emitted.len(),
        ..Score::default()
    };
    for (i, e) in expected.iter().enumerate() {
        if e.optional {
            continue;
        }
        sc.sure += 1;
        if !taken_exp[i] {
            sc.missed_titles.push(e.title.clone());
        }
    }
    for (j, m) in emitted.iter().enumerate() {
        match matched_em[j] {
            Some(i) => {
                let e = &expected[i];
                if !e.optional {
                    sc.found += 1;
                    if let Some(gl) = &e.link {
                        sc.gold_links += 1;
                        if m.link.as_deref().map(link_key) == Some(link_key(gl)) {
                            sc.same_link += 1;
                        }
                    }
                }
                if e.tracked {
                    sc.tracked += 1;
                    sc.tracked_linked += m.link.is_some() as usize;
                }
                if em_words[j].len() > 2 * exp_words[i].len() + 3 {
                    sc.fused += 1;
                }
            }
            None if dup_em[j] => sc.duplicate += 1,
            None => {
                // Matching an optional story that another emitted story took is neutral too.
                let optional_only = pairs
                    .iter()
                    .any(|&(_, i, jj)| jj == j && expected[i].optional);
                if !optional_only {
                    sc.extra += 1;
                    sc.extra_titles.push(m.title.clone());
                }
            }
        }
    }
    sc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gold(title: &str, optional: bool) -> GoldStory {
        GoldStory {
            title: title.into(),
            link: None,
            optional,
            tracked: false,
        }
    }

    fn em(title: &str) -> Emitted {
        Emitted {
            title: title.into(),
            link: None,
        }
    }

    #[test]
    fn the_scorer_counts_found_extra_duplicate_and_fused() {
        let expected = [
            gold("Sbarro files for bankruptcy again", false),
            gold("Heatwave grips southern Europe", false),
            gold("Sponsor: a database", true),
        ];
        let emitted = [
            em("Sbarro Again Files for Bankruptcy"),
            em("Sbarro files for bankruptcy again"),
            em("Read more"),
            em("Sponsor: a database"),
        ];
        let s = score(&expected, &emitted);
        assert_eq!((s.sure, s.found, s.extra, s.duplicate), (2, 1, 1, 1));
        assert_eq!(s.missed_titles, ["Heatwave grips southern Europe"]);
        let fused = score(
            &expected[..1],
            &[em("Sbarro files for bankruptcy again The pizza chain owes its lenders more than it can pay this year")],
        );
        assert_eq!((fused.found, fused.fused), (1, 1));
    }
}
