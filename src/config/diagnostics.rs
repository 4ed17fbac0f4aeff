//! What a config error says: file, line, column and key, the line itself, and a suggestion
//! ("did you mean…") when a name is close to a known one.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no config file found: pass -c/--config FILE, set TIDINGS_CONFIG, or create `{0}`")]
    NotFound(PathBuf),
    #[error("{}:{line}:{column}: {message}{}", path.display(), hint.as_deref().map(|h| format!(" — {h}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Dotted key path, e.g. `delivery.to` or `feeds[2].url`.
        key: String,
        message: String,
        hint: Option<String>,
    },
}

/// Turns a toml/serde error into one that names file, line, key, and a likely typo's fix.
pub(super) fn syntax_error(text: &str, path: &Path, e: &toml::de::Error) -> ConfigError {
    let (line, column) = e
        .span()
        .map(|s| line_col(text.as_bytes(), s.start))
        .unwrap_or((1, 1));
    let message = e.message().trim().to_string();
    let table = e.span().and_then(|s| enclosing_table(text, s.start));
    let mut key = table.clone().unwrap_or_default();
    let mut hint = None;
    let mut pretty = message.clone();
    // serde says: unknown field `recipents`, expected `from` or `to` / expected one of `a`, `b`
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            hint = suggest(field, &candidates);
            let where_ = table
                .as_deref()
                .map(|t| format!(" in [{t}]"))
                .unwrap_or_else(|| " at the top level".into());
            pretty = format!("unknown key `{field}`{where_}");
            key = match &table {
                Some(t) => format!("{t}.{field}"),
                None => field.to_string(),
            };
            if hint.is_none() && !candidates.is_empty() {
                hint = Some(format!("known keys: {}", candidates.join(", ")));
            }
        }
    } else if let Some(t) = &table {
        pretty = format!("{message} (in [{t}])");
    }
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message: pretty,
        hint,
    }
}

/// The `[table]` or `[[array]]` header above a byte offset, if any.
pub(super) fn enclosing_table(text: &str, offset: usize) -> Option<String> {
    let before = &text[..offset.min(text.len())];
    before.lines().rev().find_map(|l| {
        let l = l.trim();
        let inner = l
            .strip_prefix("[[")
            .and_then(|x| x.split_once("]]"))
            .map(|x| x.0)
            .or_else(|| {
                l.strip_prefix('[')
                    .and_then(|x| x.split_once(']'))
                    .map(|x| x.0)
            })?;
        Some(inner.trim().to_string())
    })
}

/// "did you mean" for a misspelt key or value.
pub(super) fn suggest(got: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(got, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// 1-based line and column of a byte offset (columns count characters; bytes that are not
/// UTF-8 count as one each). The one home for it: config, edits and feeds report positions.
pub(crate) fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}
