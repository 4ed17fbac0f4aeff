//! The digest's language: its words and date formats, compiled in for English, German and
//! French (`src/locale/*.toml`), any of them replaced by a `strings.toml` in `templates_dir`.
//! Month and weekday names come from glibc's locale data through chrono, never from a table
//! of our own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone};

/// File name of a user's strings beside their templates.
pub const STRINGS_FILE: &str = "strings.toml";

/// The languages compiled in, as `[digest] language` names them.
pub const LANGUAGES: [&str; 3] = ["en", "de", "fr"];

const EN: &str = include_str!("locale/en.toml");
const DE: &str = include_str!("locale/de.toml");
const FR: &str = include_str!("locale/fr.toml");

#[derive(Debug, thiserror::Error)]
pub enum LocaleError {
    #[error("unknown language `{0}` (tidings has en, de and fr)")]
    Unknown(String),
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The words of one language, with the user's replacements applied.
#[derive(Debug, Clone)]
pub struct Strings {
    lang: String,
    locale: chrono::Locale,
    table: BTreeMap<String, String>,
}

impl Strings {
    /// `lang` as compiled in.
    pub fn builtin(lang: &str) -> Result<Strings, LocaleError> {
        let source = match lang {
            "en" => EN,
            "de" => DE,
            "fr" => FR,
            other => return Err(LocaleError::Unknown(other.to_string())),
        };
        let table: BTreeMap<String, String> =
            toml::from_str(source).expect("the built-in strings are a TOML table of strings");
        let locale = table
            .get("chrono_locale")
            .and_then(|l| chrono::Locale::try_from(l.as_str()).ok())
            .unwrap_or(chrono::Locale::POSIX);
        Ok(Strings {
            lang: lang.to_string(),
            locale,
            table,
        })
    }

    /// `lang`, with the keys of `templates_dir/strings.toml` (if there is one) replacing the
    /// built-in ones. A key the language does not have is an error, so a typo is not silent.
    pub fn load(lang: &str, templates_dir: Option<&Path>) -> Result<Strings, LocaleError> {
        let mut strings = Strings::builtin(lang)?;
        let Some(path) = templates_dir
            .map(|d| d.join(STRINGS_FILE))
            .filter(|p| p.is_file())
        else {
            return Ok(strings);
        };
        let text = std::fs::read_to_string(&path).map_err(|source| LocaleError::Read {
            path: path.clone(),
            source,
        })?;
        let invalid = |message: String| LocaleError::Invalid {
            path: path.clone(),
            message,
        };
        let user: BTreeMap<String, String> =
            toml::from_str(&text).map_err(|e| invalid(e.message().to_string()))?;
        for (key, value) in user {
            if !strings.table.contains_key(&key) {
                return Err(invalid(format!(
                    "unknown key `{key}`; the keys are those of the built-in src/locale/{lang}.toml"
                )));
            }
            if key == "chrono_locale" {
                strings.locale = chrono::Locale::try_from(value.as_str())
                    .map_err(|_| invalid(format!("unknown chrono_locale `{value}`")))?;
            }
            strings.table.insert(key, value);
        }
        Ok(strings)
    }

    /// The language's code, for `<html lang>`.
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// The text of `key`, its `{n}` replaced by `n`; with a count, `key_one` or `key_other`
    /// by the language's plural rule when the language has those. Other `{name}`s are
    /// replaced from `args`. A key no table has comes back as itself, visible in the digest.
    pub fn text(&self, key: &str, n: Option<i64>, args: &[(&str, &str)]) -> String {
        let plural = n.map(|n| {
            let one = match self.lang.as_str() {
                // French counts 0 and 1 as singular.
                "fr" => n == 0 || n == 1,
                _ => n == 1,
            };
            format!("{key}_{}", if one { "one" } else { "other" })
        });
        let template = plural
            .as_deref()
            .and_then(|k| self.table.get(k))
            .or_else(|| self.table.get(key))
            .map(String::as_str)
            .unwrap_or(key);
        let mut out = template.to_string();
        if let Some(n) = n {
            out = out.replace("{n}", &n.to_string());
        }
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// `t` formatted by the pattern under `key` (`date_format`, …) in this language.
    pub fn date<Tz: TimeZone>(&self, t: &DateTime<Tz>, key: &str) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        let pattern = self.table.get(key).map(String::as_str).unwrap_or("%c");
        t.format_localized(pattern, self.locale).to_string()
    }
}

impl Default for Strings {
    fn default() -> Strings {
        Strings::builtin("en").expect("English is built in")
    }
}

/// The language of the environment (`LC_ALL`, `LC_MESSAGES`, `LANG`) when tidings has it,
/// else English.
pub fn from_environment() -> &'static str {
    let env = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    let code = env.split(['_', '.', '@', '-']).next().unwrap_or("");
    LANGUAGES
        .iter()
        .find(|l| **l == code)
        .copied()
        .unwrap_or("en")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_and_plurals_follow_its_rule() {
        let en = Strings::builtin("en").unwrap();
        for lang in LANGUAGES {
            let s = Strings::builtin(lang).unwrap();
            let keys: Vec<&String> = s.table.keys().collect();
            assert_eq!(keys, en.table.keys().collect::<Vec<_>>(), "{lang}");
        }
        assert_eq!(en.text("stories", Some(1), &[]), "1 story");
        assert_eq!(en.text("stories", Some(0), &[]), "0 stories");
        let fr = Strings::builtin("fr").unwrap();
        assert_eq!(fr.text("stories", Some(0), &[]), "0 article");
        assert_eq!(fr.text("stories", Some(2), &[]), "2 articles");
        let de = Strings::builtin("de").unwrap();
        assert_eq!(
            de.text("more_in_topic", Some(3), &[("topic", "Wissenschaft")]),
            "+3 weitere in Wissenschaft (in einem späteren Digest)"
        );
        assert!(Strings::builtin("tlh").is_err());
    }

    #[test]
    fn dates_use_the_languages_own_names() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-01T07:00:00+01:00").unwrap();
        let de = Strings::builtin("de").unwrap();
        assert_eq!(de.date(&t, "date_format"), "Sonntag, 1. März 2026");
        let fr = Strings::builtin("fr").unwrap();
        assert_eq!(fr.date(&t, "date_format"), "dimanche 1 mars 2026");
        let en = Strings::builtin("en").unwrap();
        assert_eq!(en.date(&t, "date_format"), "Sunday, 1 March 2026");
    }

    #[test]
    fn a_users_strings_replace_keys_and_a_typo_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STRINGS_FILE), "top_stories = \"Lead\"\n").unwrap();
        let s = Strings::load("en", Some(dir.path())).unwrap();
        assert_eq!(s.text("top_stories", None, &[]), "Lead");
        assert_eq!(s.text("topics", None, &[]), "Topics");
        std::fs::write(dir.path().join(STRINGS_FILE), "top_storys = \"Lead\"\n").unwrap();
        let err = Strings::load("en", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key `top_storys`"), "{err}");
    }
}
