//! Stories from a plain-text newsletter: headline, standfirst and URL lines, separators
//! between stories.

use crate::links::Cleaner;

use super::confirm::text_links;
use super::furniture::{
    is_boilerplate, is_caps_label, is_related_pointer, is_social_junk, is_sponsor_label,
    is_web_version,
};
use super::html::pointed_to;
use super::{fold, Found, MIN_HEADLINE_WORDS};

/// "View online: URL", "Read on the web: URL" in a plain-text essay.
pub(super) fn web_link_text(text: &str, cleaner: &Cleaner) -> Option<String> {
    text_links(text)
        .into_iter()
        .find(|(line, _)| is_web_version(line))
        .map(|(_, u)| cleaner.clean(&u))
}

/// Plain-text newsletters: headlines, paragraphs and bare URL lines, `* * *` between stories.
pub(super) fn stories_from_text(text: &str, cleaner: &Cleaner) -> Vec<Found> {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut out: Vec<Found> = Vec::new();
    let mut chunk_start = 0;
    // Where the text after the last story's URL begins: a story may run over a separator
    // ("* * *", then an update and the URL).
    let mut after_url = 0;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if is_separator(trimmed) {
            chunk_start = i + 1;
            continue;
        }
        let Some(url) = bare_url(trimmed) else {
            // "Headline - Outlet 9/26/2002 <https://…>": a headline list, one story a line.
            if let Some((title, url)) = headline_with_url(trimmed) {
                if !is_boilerplate(&title, url) && !is_sponsor_label(&title) {
                    out.push(Found {
                        title,
                        url: Some(cleaner.clean(url)),
                        blurb: String::new(),
                        section: None,
                        sponsored: false,
                        also: Vec::new(),
                        headed: false,
                    });
                    after_url = i + 1;
                }
                chunk_start = i + 1;
            }
            continue;
        };
        if is_boilerplate(trimmed, url) {
            chunk_start = i + 1;
            continue;
        }
        let prev = i.checked_sub(1).map(|p| lines[p].trim()).unwrap_or("");
        let url = cleaner.clean(url);
        let sponsored = lines[chunk_start..i].iter().any(|l| is_sponsor_label(l));
        let found = if !prev.is_empty()
            && i > chunk_start
            && looks_like_headline(prev)
            && (i < 2
                || lines[i - 2].trim().is_empty()
                || is_sponsor_label(lines[i - 2])
                || i - 1 == chunk_start)
        {
            // Headline, URL, then the blurb below.
            let blurb = paragraph_from(&lines, i + 1);
            Found {
                title: fold(prev),
                url: Some(url),
                blurb,
                section: None,
                sponsored,
                also: Vec::new(),
                headed: false,
            }
        } else {
            // Headline, paragraphs, then the URL closing the story (the seed newsletter's shape).
            let paras = paragraphs(&lines[chunk_start..i]);
            if paras.is_empty() {
                chunk_start = i + 1;
                continue;
            }
            // The headline is the last headline-like paragraph before the first blurb, so a
            // masthead or date line above the first story is not taken for its title.
            let lead = paras.iter().take_while(|p| looks_like_headline(p)).count();
            // "Headline\nStandfirst\nURL": a headline line right above its standfirst, which
            // reads as one paragraph.
            let split = headline_and_standfirst(paragraph_above(&lines, chunk_start, i))
                .filter(|_| lead == 0 || lead == paras.len() || is_caps_label(&paras[lead - 1]));
            if let Some((title, blurb)) = split {
                out.push(Found {
                    title,
                    url: Some(url),
                    blurb,
                    section: None,
                    sponsored,
                    also: Vec::new(),
                    headed: false,
                });
                chunk_start = i + 1;
                after_url = i + 1;
                continue;
            }
            // Sentences with no headline above them continue the story before a separator
            // ("Update: …" under the headline's own chunk), or are a notice ("You have
            // received this message because…", a copyright line), not a story.
            let (title, blurb) = if lead > 0 {
                (
                    paras[lead - 1].clone(),
                    paras.get(lead).cloned().unwrap_or_default(),
                )
            } else {
                let earlier: Vec<String> = paragraphs(&lines[after_url.min(chunk_start)..i])
                    .into_iter()
                    .filter(|p| !is_separator(p))
                    .collect();
                // The story opens with its headline; a caption under it ("… Photo: Handout")
                // may read as one too.
                if !earlier.first().is_some_and(|p| looks_like_headline(p)) {
                    chunk_start = i + 1;
                    after_url = i + 1;
                    continue;
                }
                let blurb = earlier
                    .iter()
                    .skip(1)
                    .find(|p| !looks_like_headline(p))
                    .cloned()
                    .unwrap_or_default();
                (earlier[0].clone(), blurb)
            };
            Found {
                title,
                url: Some(url),
                blurb,
                section: None,
                sponsored,
                also: Vec::new(),
                headed: false,
            }
        };
        match out.last_mut() {
            // "See also World Wire" above a URL: another outlet for the story before.
            Some(last) if is_related_pointer(&found.title) => {
                let url = found.url.unwrap_or_default();
                last.also.push((pointed_to(&found.title, &url), url));
            }
            _ => out.push(found),
        }
        chunk_start = next_chunk_start(&lines, i + 1);
        after_url = chunk_start;
    }
    out
}

/// After a "headline / URL / blurb" story, the next chunk starts after its blurb.
pub(super) fn next_chunk_start(lines: &[&str], from: usize) -> usize {
    let mut j = from;
    while j < lines.len() && lines[j].trim().is_empty() {
        j += 1;
    }
    let para_start = j;
    // The blurb ends where `paragraph_from` ends it: a URL or separator line right below it
    // belongs to what follows. Skipping past a URL line would start the next chunk after the
    // next story's own URL (a slice panic, found by fuzzing).
    while j < lines.len()
        && !lines[j].trim().is_empty()
        && bare_url(lines[j].trim()).is_none()
        && !is_separator(lines[j].trim())
    {
        j += 1;
    }
    // Only skip the paragraph if it was a blurb (the line before the URL was a headline).
    if para_start > from || j == para_start {
        from
    } else {
        j
    }
}

pub(super) fn paragraph_from(lines: &[&str], from: usize) -> String {
    let mut j = from;
    while j < lines.len() && lines[j].trim().is_empty() {
        j += 1;
    }
    let mut para = Vec::new();
    while j < lines.len()
        && !lines[j].trim().is_empty()
        && bare_url(lines[j].trim()).is_none()
        && !is_separator(lines[j].trim())
    {
        para.push(lines[j].trim());
        j += 1;
    }
    fold(&para.join(" "))
}

pub(super) fn paragraphs(lines: &[&str]) -> Vec<String> {
    lines
        .split(|l| l.trim().is_empty())
        .map(|p| {
            let kept: Vec<&str> = p.iter().copied().filter(|l| !is_sponsor_label(l)).collect();
            fold(&kept.join(" "))
        })
        .filter(|p| !p.is_empty() && !is_social_junk(p))
        .collect()
}

pub(super) fn looks_like_headline(line: &str) -> bool {
    let l = line.trim();
    !l.is_empty()
        && l.chars().count() <= 150
        && !l.ends_with(['.', ',', ';', ':'])
        && bare_url(l).is_none()
        && l.split_whitespace().count() >= 2
}

/// The lines of the paragraph that ends right above line `end`, from `start` on at most.
pub(super) fn paragraph_above<'a>(lines: &[&'a str], start: usize, end: usize) -> Vec<&'a str> {
    let mut from = end;
    while from > start && !lines[from - 1].trim().is_empty() {
        from -= 1;
    }
    lines[from..end].to_vec()
}

/// Longest line taken for a headline above its standfirst.
pub(super) const MAX_HEADLINE_LINE_CHARS: usize = 100;

/// A paragraph whose first line is a headline and whose next line starts a new sentence (a
/// capital, not the lower-case continuation of a wrapped line): (headline, standfirst).
pub(super) fn headline_and_standfirst(para: Vec<&str>) -> Option<(String, String)> {
    let (raw_first, raw_rest) = para.split_first()?;
    let raw_next = raw_rest.first()?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    // A line indented unlike the headline is no wrapped continuation of it either
    // ("    posted by rafael on Monday…" under a headline).
    let indented = indent(raw_next) != indent(raw_first);
    let first = raw_first.trim();
    let next = raw_next.trim();
    let rest: Vec<&str> = raw_rest.iter().map(|l| l.trim()).collect();
    // "HEADLINE | News: SearchSecurity": the part after the bar names the section.
    let first = match first.split_once(" | ") {
        Some((head, _)) if head.split_whitespace().count() >= MIN_HEADLINE_WORDS => head,
        _ => first,
    };
    let starts_sentence = next
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || "\"'“‘".contains(c));
    ((starts_sentence || indented)
        && looks_like_headline(first)
        && first.chars().count() <= MAX_HEADLINE_LINE_CHARS
        && !rest.iter().any(|l| is_sponsor_label(l)))
    .then(|| (fold(first), fold(&rest.join(" "))))
}

/// Headline words before a URL that ends the line, at most a short headline's length.
pub(super) const MAX_LINE_HEADLINE_WORDS: usize = 20;

/// A line holding a headline and, at its end, the story's URL (`<…>` allowed): the headline
/// without a trailing date or separator. None for a sentence that happens to end in a link.
pub(super) fn headline_with_url(line: &str) -> Option<(String, &str)> {
    let (text, last) = line.rsplit_once(char::is_whitespace)?;
    let url = last.trim_start_matches('<').trim_end_matches('>');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return None;
    }
    // "Send leads to: <url>" labels the link; it is no headline.
    if text.trim_end().ends_with(':') {
        return None;
    }
    let mut words: Vec<&str> = text.split_whitespace().collect();
    // A dateline ("9/26/2002", "2002-09-26") closing the headline is not part of it.
    while words.last().is_some_and(|w| {
        w.chars().any(|c| c.is_ascii_digit())
            && w.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.'))
    }) {
        words.pop();
    }
    let title = words
        .join(" ")
        .trim_end_matches(|c: char| matches!(c, '-' | '–' | '—' | '|' | ':') || c.is_whitespace())
        .to_string();
    let n = title.split_whitespace().count();
    ((MIN_HEADLINE_WORDS..=MAX_LINE_HEADLINE_WORDS).contains(&n) && looks_like_headline(&title))
        .then_some((title, url))
}

pub(super) fn is_separator(line: &str) -> bool {
    line.len() >= 3
        && line
            .chars()
            .all(|c| matches!(c, '*' | '-' | '_' | '=' | '~' | '#' | ' ' | '•'))
}

/// A line that is a URL and nothing else (allowing `<…>` around it, or a "Read more:" label).
pub(super) fn bare_url(line: &str) -> Option<&str> {
    let l = line.trim().trim_start_matches('<').trim_end_matches('>');
    let l = l
        .rsplit_once(": ")
        .filter(|(label, _)| label.split_whitespace().count() <= 3 && !label.contains("http"))
        .map(|(_, u)| u)
        .unwrap_or(l);
    let l = l.trim();
    ((l.starts_with("https://") || l.starts_with("http://")) && !l.contains(char::is_whitespace))
        .then_some(l)
}
