//! Editing `config.toml` from the command line without breaking it (`feeds`, `recipients`,
//! `topics`, `import-opml`).
//!
//! The file is edited as a `toml_edit` document, so the user's comments, key order, blank lines
//! and quoting stay as they were: an added entry is inserted after the last entry of its kind,
//! and a removed one takes only its own lines with it (the comments above it stay, because
//! `toml_edit` files the comments at the end of one table under the header of the next).
//!
//! Every edit is checked before it is written: the edited text goes through [`Config::parse`],
//! the same check `run` makes, and a config that would not load is never written. The write is
//! atomic (a temporary file in the same folder, given the original's permissions, renamed over
//! it), and refused if the file changed on disk since it was read.
//!
//! `feeds add` fetches the URL first ([`crate::sources::discover`]): a feed is taken as it is,
//! an HTML page is searched for its `<link rel="alternate">` feed, anything else is refused
//! with the reason.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, ImDocument, InlineTable, Item, Table, Value};

use crate::config::{Config, ConfigError};
use crate::links::Cleaner;
use crate::sources::discover::{discover, DiscoverError};
use crate::sources::http::Fetcher;

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file does not load as it is: fix it by hand first.
    #[error(transparent)]
    Config(Box<ConfigError>),
    #[error("refusing to write `{}`: the edited config would not load (nothing was changed)", path.display())]
    WouldBreak {
        path: PathBuf,
        #[source]
        source: Box<ConfigError>,
    },
    #[error("{}: `{key}` is not laid out as {expected}; edit it by hand", path.display())]
    Layout {
        path: PathBuf,
        key: String,
        expected: &'static str,
    },
    #[error("{where_}: `{url}` is already in the config as `feeds[{index}]` ({existing})")]
    DuplicateFeed {
        /// `file:line` of the entry already there.
        where_: String,
        url: String,
        index: usize,
        existing: String,
    },
    #[error("{}: no feed is named `{key}` or has that URL; the feeds are:\n{list}", path.display())]
    UnknownFeed {
        path: PathBuf,
        key: String,
        list: String,
    },
    #[error("{}: {count} feeds are named `{key}`; remove one by its URL:\n{list}", path.display())]
    AmbiguousFeed {
        path: PathBuf,
        key: String,
        count: usize,
        list: String,
    },
    #[error("invalid feed URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{}: `delivery.to`: `{address}` is not a valid email address — write it as \"addr@example.org\" or \"Name <addr@example.org>\"", path.display())]
    InvalidAddress { path: PathBuf, address: String },
    #[error("{}: `delivery.to`: `{address}` is already a recipient", path.display())]
    DuplicateRecipient { path: PathBuf, address: String },
    #[error("{}: `delivery.to`: `{address}` is not a recipient; the recipients are: {list}", path.display())]
    UnknownRecipient {
        path: PathBuf,
        address: String,
        list: String,
    },
    #[error("{}: `delivery.to`: `{address}` is the only recipient; add another one before removing it", path.display())]
    LastRecipient { path: PathBuf, address: String },
    #[error("{where_}: there is already a topic named `{name}`")]
    DuplicateTopic { where_: String, name: String },
    #[error("a topic needs a name")]
    EmptyTopic,
    #[error("`{}` changed on disk while it was being edited; nothing was written — run the command again", path.display())]
    Changed { path: PathBuf },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Discover(#[from] DiscoverError),
}

// Boxed: a config error is large, and every edit returns this type.
impl From<ConfigError> for EditError {
    fn from(e: ConfigError) -> EditError {
        EditError::Config(Box::new(e))
    }
}

/// One `[[feeds]]` entry as the file has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub url: String,
    pub name: Option<String>,
    pub topic: Option<String>,
}

impl FeedEntry {
    fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("`{n}`"),
            None => "no name".to_string(),
        }
    }
}

/// One `[[topics]]` entry as the file has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicEntry {
    pub name: String,
    pub keywords: Vec<String>,
}

/// A config file open for editing: its text as read, the document being edited, and the
/// config it resolved to (which must load before anything is edited).
pub struct ConfigFile {
    /// The path as given, for messages and for anchoring relative paths, as `Config::load` does.
    path: PathBuf,
    /// Where the bytes live (a symlinked config is written through, not replaced).
    target: PathBuf,
    original: String,
    doc: DocumentMut,
    config: Config,
    cleaner: Cleaner,
    /// 1-based line of each `[[feeds]]` / `[[topics]]` entry in the original text.
    feed_lines: Vec<Option<usize>>,
    topic_lines: Vec<Option<usize>>,
}

impl ConfigFile {
    /// Reads `path` and checks that it loads. A config that does not load is not edited: the
    /// error names file, line and key, as for `run`.
    pub fn open(path: &Path) -> Result<ConfigFile, EditError> {
        let original = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ConfigFile::from_text(path, original)
    }

    /// Like [`ConfigFile::open`], from text already read (tests, and `open`).
    pub fn from_text(path: &Path, original: String) -> Result<ConfigFile, EditError> {
        let config = Config::parse(&original, path)?;
        // `Config::parse` accepted it, so it is TOML; a failure here would be a toml/toml_edit
        // disagreement, reported as a syntax error at the place toml_edit names.
        let im = ImDocument::parse(original.clone()).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| crate::config::line_col(original.as_bytes(), s.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                key: String::new(),
                message: e.message().to_string(),
                hint: None,
            }
        })?;
        let lines_of = |key: &str| -> Vec<Option<usize>> {
            match im.get(key) {
                Some(Item::ArrayOfTables(a)) => a
                    .iter()
                    .map(|t| {
                        t.span()
                            .map(|s| crate::config::line_col(original.as_bytes(), s.start).0)
                    })
                    .collect(),
                Some(Item::Value(Value::Array(a))) => a
                    .iter()
                    .map(|v| {
                        v.span()
                            .map(|s| crate::config::line_col(original.as_bytes(), s.start).0)
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let feed_lines = lines_of("feeds");
        let topic_lines = lines_of("topics");
        let doc = im.into_mut();
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(ConfigFile {
            path: path.to_path_buf(),
            target,
            cleaner: Cleaner::new(&config.links),
            original,
            doc,
            config,
            feed_lines,
            topic_lines,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The config as it was when opened.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The edited text.
    pub fn render(&self) -> String {
        self.doc.to_string()
    }

    /// Whether anything was edited.
    pub fn is_changed(&self) -> bool {
        self.render() != self.original
    }

    fn where_(&self, line: Option<usize>) -> String {
        match line {
            Some(l) => format!("{}:{l}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Feeds

    /// The `[[feeds]]` entries, in file order.
    pub fn feeds(&self) -> Vec<FeedEntry> {
        let entry = |t: &dyn toml_edit::TableLike| FeedEntry {
            url: str_of(t.get("url")).unwrap_or_default(),
            name: str_of(t.get("name")),
            topic: str_of(t.get("topic")),
        };
        tables_of(&self.doc, "feeds")
            .into_iter()
            .map(entry)
            .collect()
    }

    /// The entry that is the same feed as `url` (compared as [`feed_identity`]), if any.
    pub fn find_feed(&self, url: &str) -> Option<(usize, FeedEntry)> {
        let wanted = feed_identity(&self.cleaner, url);
        self.feeds()
            .into_iter()
            .enumerate()
            .find(|(_, f)| feed_identity(&self.cleaner, &f.url) == wanted)
    }

    /// Refuses `url` when the config already has that feed (compared as [`feed_identity`]),
    /// naming the line of the entry already there.
    pub fn refuse_duplicate(&self, url: &str) -> Result<(), EditError> {
        match self.find_feed(url) {
            None => Ok(()),
            Some((index, existing)) => Err(EditError::DuplicateFeed {
                where_: self.where_(self.feed_lines.get(index).copied().flatten()),
                url: url.trim().to_string(),
                index,
                existing: format!("{}, {}", existing.label(), existing.url),
            }),
        }
    }

    /// Adds a `[[feeds]]` entry after the last one. Refuses a URL that is not http(s) and a
    /// feed already in the config. Fetches nothing: see [`discover`] for that.
    pub fn add_feed(
        &mut self,
        url: &str,
        name: Option<&str>,
        topic: Option<&str>,
    ) -> Result<(), EditError> {
        let url = url.trim();
        check_feed_url(url)?;
        self.refuse_duplicate(url)?;
        let mut fields: Vec<(&str, &str)> = vec![("url", url)];
        fields.extend(name.map(|n| ("name", n)));
        fields.extend(topic.map(|t| ("topic", t)));
        self.push_entry("feeds", &fields, None)?;
        self.feed_lines.push(None);
        Ok(())
    }

    /// Removes the feed whose `name` is `key` or whose URL is the same feed as `key`.
    pub fn remove_feed(&mut self, key: &str) -> Result<FeedEntry, EditError> {
        let key = key.trim();
        let feeds = self.feeds();
        let by_url = feeds.iter().position(|f| {
            feed_identity(&self.cleaner, &f.url) == feed_identity(&self.cleaner, key)
        });
        let by_name: Vec<usize> = feeds
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name.as_deref().map(str::trim) == Some(key))
            .map(|(i, _)| i)
            .collect();
        let index = match (by_url, by_name.as_slice()) {
            (Some(i), _) => i,
            (None, [i]) => *i,
            (None, []) => {
                return Err(EditError::UnknownFeed {
                    path: self.path.clone(),
                    key: key.to_string(),
                    list: feed_list(&feeds),
                })
            }
            (None, many) => {
                let same: Vec<FeedEntry> = many.iter().map(|&i| feeds[i].clone()).collect();
                return Err(EditError::AmbiguousFeed {
                    path: self.path.clone(),
                    key: key.to_string(),
                    count: many.len(),
                    list: feed_list(&same),
                });
            }
        };
        self.remove_entry("feeds", index)?;
        if index < self.feed_lines.len() {
            self.feed_lines.remove(index);
        }
        Ok(feeds[index].clone())
    }

    // -----------------------------------------------------------------------------------------
    // Recipients

    /// `delivery.to`, as written.
    pub fn recipients(&self) -> Vec<String> {
        self.doc
            .get("delivery")
            .and_then(Item::as_table_like)
            .and_then(|d| d.get("to"))
            .and_then(Item::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Appends `address` to `delivery.to`, in the layout the list already has (one line per
    /// address, or all on one line).
    pub fn add_recipient(&mut self, address: &str) -> Result<(), EditError> {
        let address = address.trim();
        let Some(wanted) = mailbox_address(address) else {
            return Err(EditError::InvalidAddress {
                path: self.path.clone(),
                address: address.to_string(),
            });
        };
        if self
            .recipients()
            .iter()
            .any(|r| mailbox_address(r).as_deref() == Some(wanted.as_str()))
        {
            return Err(EditError::DuplicateRecipient {
                path: self.path.clone(),
                address: address.to_string(),
            });
        }
        let path = self.path.clone();
        let to = self.recipient_array(&path)?;
        push_in_layout(to, Value::from(address));
        Ok(())
    }

    /// Removes `address` (compared by address, so `Name <a@x>` matches `a@x`).
    pub fn remove_recipient(&mut self, address: &str) -> Result<String, EditError> {
        let address = address.trim();
        let wanted = mailbox_address(address).unwrap_or_else(|| address.to_ascii_lowercase());
        let current = self.recipients();
        let Some(index) = current
            .iter()
            .position(|r| mailbox_address(r).as_deref() == Some(wanted.as_str()))
        else {
            return Err(EditError::UnknownRecipient {
                path: self.path.clone(),
                address: address.to_string(),
                list: current.join(", "),
            });
        };
        if current.len() == 1 {
            return Err(EditError::LastRecipient {
                path: self.path.clone(),
                address: address.to_string(),
            });
        }
        let path = self.path.clone();
        let to = self.recipient_array(&path)?;
        remove_array_element(to, index);
        Ok(current[index].clone())
    }

    fn recipient_array(&mut self, path: &Path) -> Result<&mut Array, EditError> {
        let layout = || EditError::Layout {
            path: path.to_path_buf(),
            key: "delivery.to".into(),
            expected: "a list of strings in [delivery]",
        };
        self.doc
            .get_mut("delivery")
            .and_then(Item::as_table_like_mut)
            .and_then(|d| d.get_mut("to"))
            .and_then(Item::as_array_mut)
            .ok_or_else(layout)
    }

    // -----------------------------------------------------------------------------------------
    // Topics

    pub fn topics(&self) -> Vec<TopicEntry> {
        let entry = |t: &dyn toml_edit::TableLike| TopicEntry {
            name: str_of(t.get("name")).unwrap_or_default(),
            keywords: t
                .get("keywords")
                .and_then(Item::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        };
        tables_of(&self.doc, "topics")
            .into_iter()
            .map(entry)
            .collect()
    }

    /// Adds a `[[topics]]` entry after the last one; a topic of the same name (any case) is
    /// refused.
    pub fn add_topic(&mut self, name: &str, keywords: &[String]) -> Result<(), EditError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(EditError::EmptyTopic);
        }
        if let Some(i) = self
            .topics()
            .iter()
            .position(|t| t.name.trim().to_lowercase() == name.to_lowercase())
        {
            return Err(EditError::DuplicateTopic {
                where_: self.where_(self.topic_lines.get(i).copied().flatten()),
                name: name.to_string(),
            });
        }
        let keywords: Array = keywords
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .collect();
        self.push_entry("topics", &[("name", name)], Some(("keywords", keywords)))?;
        self.topic_lines.push(None);
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Arrays of tables

    /// Appends an entry to the `[[key]]` array (or to an inline `key = [{...}]` list). A new
    /// `[[key]]` table has no document position, so toml_edit writes it right after the last
    /// table of the same array: exactly where a person would add it.
    fn push_entry(
        &mut self,
        key: &str,
        fields: &[(&str, &str)],
        list: Option<(&str, Array)>,
    ) -> Result<(), EditError> {
        let root = self.doc.as_table_mut();
        if !root.contains_key(key) {
            root.insert(key, Item::ArrayOfTables(ArrayOfTables::new()));
        }
        match root.get_mut(key) {
            Some(Item::ArrayOfTables(a)) => {
                let mut t = Table::new();
                for (k, v) in fields {
                    t.insert(k, toml_edit::value(*v));
                }
                if let Some((k, arr)) = list {
                    t.insert(k, toml_edit::value(arr));
                }
                let last = a.iter().filter_map(Table::position).max();
                a.push(t);
                // A blank line before the new header, as between the others, after the comment
                // lines that hang under the last entry (see `take_attached_comments`).
                let attached = match last {
                    Some(pos) => take_attached_comments(&mut self.doc, pos),
                    None => String::new(),
                };
                if let Some(Item::ArrayOfTables(a)) = self.doc.get_mut(key) {
                    if let Some(t) = a.iter_mut().last() {
                        t.decor_mut().set_prefix(format!("{attached}\n"));
                    }
                }
                Ok(())
            }
            Some(Item::Value(Value::Array(a))) => {
                let mut t = InlineTable::new();
                for (k, v) in fields {
                    t.insert(*k, Value::from(*v));
                }
                if let Some((k, arr)) = list {
                    t.insert(k, Value::Array(arr));
                }
                push_in_layout(a, Value::InlineTable(t));
                Ok(())
            }
            _ => Err(EditError::Layout {
                path: self.path.clone(),
                key: key.to_string(),
                expected: "[[tables]] or a list of inline tables",
            }),
        }
    }

    /// Removes entry `index` of the `[[key]]` array. The comments above the removed header are
    /// kept: toml_edit files a table's trailing comments (and a section's introduction) under
    /// the next header, so they move to whatever table follows, or to the end of the file.
    fn remove_entry(&mut self, key: &str, index: usize) -> Result<(), EditError> {
        let root = self.doc.as_table_mut();
        match root.get_mut(key) {
            Some(Item::ArrayOfTables(a)) if index < a.len() => {
                let removed = a.get(index).cloned().unwrap_or_default();
                a.remove(index);
                if a.is_empty() {
                    root.remove(key);
                }
                let prefix = removed
                    .decor()
                    .prefix()
                    .and_then(|p| p.as_str())
                    .unwrap_or("")
                    .to_string();
                if prefix.contains('#') {
                    let after = removed.position().unwrap_or(0);
                    match next_table_after(&mut self.doc, after) {
                        Some(next) => {
                            let own = next
                                .decor()
                                .prefix()
                                .and_then(|p| p.as_str())
                                .unwrap_or("")
                                .to_string();
                            let joined = if own.trim().is_empty() {
                                prefix
                            } else {
                                format!("{prefix}{own}")
                            };
                            next.decor_mut().set_prefix(joined);
                        }
                        None => {
                            let trailing = self.doc.trailing().as_str().unwrap_or("").to_string();
                            self.doc.set_trailing(format!("{prefix}{trailing}"));
                        }
                    }
                }
                Ok(())
            }
            Some(Item::Value(Value::Array(a))) if index < a.len() => {
                remove_array_element(a, index);
                Ok(())
            }
            _ => Err(EditError::Layout {
                path: self.path.clone(),
                key: key.to_string(),
                expected: "[[tables]] or a list of inline tables",
            }),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Writing

    /// Checks the edited text with [`Config::parse`] and returns the config it loads as.
    pub fn validate(&self) -> Result<Config, EditError> {
        Config::parse(&self.render(), &self.path).map_err(|source| EditError::WouldBreak {
            path: self.path.clone(),
            source: Box::new(source),
        })
    }

    /// Validates, then replaces the file atomically, keeping its permissions. Refuses when the
    /// file changed on disk since it was read, so a concurrent edit is not overwritten.
    pub fn save(&self) -> Result<Config, EditError> {
        let config = self.validate()?;
        let text = self.render();
        let write_err = |source| EditError::Write {
            path: self.path.clone(),
            source,
        };
        let now = std::fs::read_to_string(&self.target).map_err(write_err)?;
        if now != self.original {
            return Err(EditError::Changed {
                path: self.path.clone(),
            });
        }
        write_atomically(&self.target, text.as_bytes()).map_err(write_err)?;
        tracing::info!(path = %self.path.display(), "config written");
        Ok(config)
    }
}

/// What `feeds add` added.
#[derive(Debug, Clone)]
pub struct AddedFeed {
    pub url: String,
    pub name: Option<String>,
    /// The HTML page the feed was found on, when the given URL was a page.
    pub page: Option<url::Url>,
    pub entries: usize,
}

/// `feeds add`: refuses a feed the config has, fetches `input` and checks it is a feed (or
/// finds the feed an HTML page names), checks that one is not in the config either, and adds
/// it, named `name` or else by its own title. The caller saves the file.
pub async fn fetch_and_add(
    file: &mut ConfigFile,
    input: &str,
    name: Option<&str>,
    topic: Option<&str>,
) -> Result<AddedFeed, EditError> {
    let (parsed, written) = parse_feed_url(input)?;
    // Nothing is fetched for a feed that is already there.
    file.refuse_duplicate(&written)?;
    let fetcher =
        Fetcher::new(&file.config().fetch).map_err(|e| DiscoverError::Client(e.to_string()))?;
    let found = discover(&fetcher, &file.cleaner, &parsed).await?;
    // The URL as the user wrote it when it is the feed; the resolved link when a page named it.
    let url = match &found.page {
        None => written,
        Some(_) => found.url.to_string(),
    };
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .or(found.title);
    file.add_feed(&url, name.as_deref(), topic)?;
    Ok(AddedFeed {
        url,
        name,
        page: found.page,
        entries: found.entries,
    })
}

/// Replaces `path` with `bytes`: a temporary file beside it (same file system, so the rename is
/// atomic), the original's permissions, flushed to disk, then renamed over the original. A
/// reader sees the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".into());
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let tmp = dir.join(format!(".{name}.tidings-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        if let Some(p) = &permissions {
            f.set_permissions(p.clone())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A feed URL reduced to what makes it the same feed: the link cleaner's tracking removal,
/// then no scheme (`http` and `https` are one feed), no `www.`, no default port, no trailing
/// `/`, no fragment, the host in lower case. A local path stays as written.
pub fn feed_identity(cleaner: &Cleaner, raw: &str) -> String {
    let raw = raw.trim();
    let cleaned = cleaner.clean(raw);
    let Ok(u) = url::Url::parse(&cleaned) else {
        return raw.to_string();
    };
    if !matches!(u.scheme(), "http" | "https") {
        return raw.to_string();
    }
    let host = u.host_str().unwrap_or("").to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = u.path().trim_end_matches('/');
    let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{host}{port}{path}{query}")
}

/// A URL typed on the command line: `example.org/feed` means `https://example.org/feed`.
pub fn parse_feed_url(input: &str) -> Result<(url::Url, String), EditError> {
    let input = input.trim();
    let written = if input.contains("://") {
        input.to_string()
    } else {
        format!("https://{input}")
    };
    check_feed_url(&written)?;
    let u = url::Url::parse(&written).map_err(|e| EditError::BadUrl {
        url: input.to_string(),
        reason: e.to_string(),
    })?;
    Ok((u, written))
}

fn check_feed_url(url: &str) -> Result<(), EditError> {
    let u = url::Url::parse(url).map_err(|e| EditError::BadUrl {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(EditError::BadUrl {
            url: url.to_string(),
            reason: "only http(s) URLs can be added from the command line".into(),
        });
    }
    Ok(())
}

/// The bare address of `Name <addr@x>` or `addr@x`, lower-cased, if it is a valid mailbox.
fn mailbox_address(s: &str) -> Option<String> {
    s.trim()
        .parse::<lettre::message::Mailbox>()
        .ok()
        .map(|m| m.email.to_string().to_ascii_lowercase())
}

/// The entries of an array of tables, written either as `[[key]]` tables or as an inline array.
fn tables_of<'a>(doc: &'a toml_edit::DocumentMut, key: &str) -> Vec<&'a dyn toml_edit::TableLike> {
    match doc.get(key) {
        Some(Item::ArrayOfTables(a)) => a.iter().map(|t| t as &dyn toml_edit::TableLike).collect(),
        Some(Item::Value(Value::Array(a))) => a
            .iter()
            .filter_map(Value::as_inline_table)
            .map(|t| t as &dyn toml_edit::TableLike)
            .collect(),
        _ => Vec::new(),
    }
}

fn str_of(item: Option<&Item>) -> Option<String> {
    item.and_then(Item::as_str).map(str::to_string)
}

/// The list of feeds for an error message: one per line, name then URL.
fn feed_list(feeds: &[FeedEntry]) -> String {
    if feeds.is_empty() {
        return "  (none)".to_string();
    }
    feeds
        .iter()
        .map(|f| format!("  {}  {}", f.name.as_deref().unwrap_or("-"), f.url))
        .collect::<Vec<_>>()
        .join("\n")
}

// Lists keep their layout. In a list written one element per line, toml_edit keeps the comment
// on an element's line in the *next* element's prefix (after the comma), or, for the last
// element, in the list's trailing text (with a trailing comma) or the element's own suffix
// (without). The two functions below move those line ends so that each comment stays on the
// line of the element it was written beside.

fn raw(s: Option<&toml_edit::RawString>) -> String {
    s.and_then(|r| r.as_str()).unwrap_or("").to_string()
}

/// The text up to and including the first line break, and the rest.
fn first_line(s: &str) -> (&str, &str) {
    match s.find('\n') {
        Some(i) => s.split_at(i + 1),
        None => (s, ""),
    }
}

/// Appends `value` to `a` in the layout the list has: on its own line with the same indent when
/// the list has one element per line, else after a space.
fn push_in_layout(a: &mut Array, mut value: Value) {
    let n = a.len();
    let Some(last) = n.checked_sub(1).and_then(|i| a.get(i)) else {
        a.push_formatted(value);
        return;
    };
    let last_prefix = raw(last.decor().prefix());
    let comma = a.trailing_comma();
    // Where the text after the last element (its line's comment, the break before `]`) lives.
    let holder = if comma {
        raw(Some(a.trailing()))
    } else {
        raw(last.decor().suffix())
    };
    if holder.contains('\n') || (last_prefix.contains('\n') && holder.trim().is_empty()) {
        let indent = last_prefix
            .rfind('\n')
            .map(|i| last_prefix[i + 1..].to_string())
            .unwrap_or_default();
        let (line_end, rest) = first_line(&holder);
        let line_end = if line_end.contains('\n') {
            line_end.to_string()
        } else {
            // `[\n  "a",\n  "b"]`: one per line, but `]` closes the last line.
            format!("{line_end}\n")
        };
        let closing = if holder.contains('\n') {
            format!("\n{rest}")
        } else {
            String::new()
        };
        *value.decor_mut() = toml_edit::Decor::new(format!("{line_end}{indent}"), "");
        if comma {
            a.set_trailing(closing);
        } else {
            if let Some(last) = a.get_mut(n - 1) {
                last.decor_mut().set_suffix("");
            }
            value.decor_mut().set_suffix(closing);
        }
    } else {
        // One line: `[ "a" ]` becomes `[ "a", "b" ]`; the space before `]` moves along.
        let prefix = if n == 1 && !last_prefix.is_empty() {
            last_prefix
        } else {
            " ".to_string()
        };
        let suffix = if comma {
            String::new()
        } else {
            raw(last.decor().suffix())
        };
        if !comma {
            if let Some(last) = a.get_mut(n - 1) {
                last.decor_mut().set_suffix("");
            }
        }
        *value.decor_mut() = toml_edit::Decor::new(prefix, suffix);
    }
    a.push_formatted(value);
}

/// Removes element `index` of a list. The text before it up to its line's start (the comment on
/// the previous element's line, or what follows `[`) stays; the comment on its own line goes
/// with it.
fn remove_array_element(a: &mut Array, index: usize) {
    let comma = a.trailing_comma();
    let removed = a.remove(index);
    let prefix = raw(removed.decor().prefix());
    let suffix = raw(removed.decor().suffix());
    let n = a.len();
    if !prefix.contains('\n') {
        // One line: the first element's prefix (the space after `[`) passes to the new first,
        // the last element's suffix (the space before `]`) to the new last.
        if index == 0 {
            if let Some(first) = a.get_mut(0) {
                first.decor_mut().set_prefix(prefix);
            }
        } else if index == n {
            if let Some(last) = a.get_mut(n - 1) {
                last.decor_mut().set_suffix(suffix);
            }
        }
        return;
    }
    let (kept, _) = first_line(&prefix);
    if index < n {
        if let Some(next) = a.get_mut(index) {
            let own = raw(next.decor().prefix());
            next.decor_mut()
                .set_prefix(format!("{kept}{}", first_line(&own).1));
        }
    } else if comma {
        let own = raw(Some(a.trailing()));
        a.set_trailing(format!("{kept}{}", first_line(&own).1));
    } else if let Some(last) = n.checked_sub(1).and_then(|i| a.get_mut(i)) {
        last.decor_mut()
            .set_suffix(format!("{kept}{}", first_line(&suffix).1));
    }
}

/// The comment lines right under the table at document position `pos`, with no blank line
/// between them and its last key (`# no name: use the feed's title`), are taken out of the
/// following header's prefix (or the file's trailing text), where toml_edit keeps them, and
/// returned, so a new table inserted after that table goes below them. Comments after a blank
/// line belong to what follows and stay where they are.
fn take_attached_comments(doc: &mut DocumentMut, pos: usize) -> String {
    let split = |text: &str| -> (String, String) {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if line.trim().is_empty() {
                return (text[..offset].to_string(), text[offset..].to_string());
            }
            offset += line.len();
        }
        // No blank line: the comments sit right above the next header and belong to it.
        (String::new(), text.to_string())
    };
    if let Some(next) = next_table_after(doc, pos) {
        let prefix = next
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        let (head, rest) = split(&prefix);
        next.decor_mut().set_prefix(rest);
        head
    } else {
        let trailing = doc.trailing().as_str().unwrap_or("").to_string();
        let (head, rest) = split(&trailing);
        doc.set_trailing(rest);
        head
    }
}

/// The top-level table (or `[[array]]` entry) that comes first after document position `pos`.
/// tidings' config has no nested tables, so the top level is all there is to search.
fn next_table_after(doc: &mut DocumentMut, pos: usize) -> Option<&mut Table> {
    let mut best: Option<&mut Table> = None;
    for (_, item) in doc.as_table_mut().iter_mut() {
        let tables: Vec<&mut Table> = match item {
            Item::Table(t) => vec![t],
            Item::ArrayOfTables(a) => a.iter_mut().collect(),
            _ => Vec::new(),
        };
        for t in tables {
            let Some(p) = t.position() else { continue };
            let better = p > pos
                && best
                    .as_ref()
                    .is_none_or(|b| b.position().is_some_and(|bp| p < bp));
            if better {
                best = Some(t);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_identity_ignores_what_does_not_make_another_feed() {
        let c = Cleaner::default();
        let same = [
            (
                "https://example.org/feed.xml",
                "http://www.Example.org/feed.xml",
            ),
            ("https://example.org/feed/", "https://example.org/feed"),
            (
                "https://example.org/feed?utm_source=x",
                "https://example.org/feed",
            ),
            (
                "https://example.org:443/feed#top",
                "https://example.org/feed",
            ),
        ];
        for (a, b) in same {
            assert_eq!(feed_identity(&c, a), feed_identity(&c, b), "{a} vs {b}");
        }
        let different = [
            (
                "https://example.org/feed.xml",
                "https://example.org/atom.xml",
            ),
            (
                "https://example.org/feed?cat=1",
                "https://example.org/feed?cat=2",
            ),
            ("https://example.org/feed", "https://example.net/feed"),
            ("https://example.org:8443/feed", "https://example.org/feed"),
        ];
        for (a, b) in different {
            assert_ne!(feed_identity(&c, a), feed_identity(&c, b), "{a} vs {b}");
        }
    }

    fn to_list(to: &str) -> ConfigFile {
        let text = format!(
            "[delivery]\nfrom = \"x@example.org\"\nto = {to}  # after\ntransport = \"sendmail\"\n"
        );
        ConfigFile::from_text(Path::new("/tmp/c.toml"), text).unwrap()
    }

    fn list_of(file: &ConfigFile) -> String {
        let text = file.render();
        let start = text.find("to = ").unwrap() + 5;
        let end = text.find("  # after").unwrap();
        file.validate().unwrap();
        text[start..end].to_string()
    }

    #[test]
    fn recipients_keep_the_list_layout_and_each_comment_on_its_line() {
        // (list, after adding c@x, after then removing a@x, after instead removing b@x)
        let cases = [
            (
                r#"["a@x.org", "b@x.org"]"#,
                r#"["a@x.org", "b@x.org", "c@x.org"]"#,
                r#"["b@x.org", "c@x.org"]"#,
                r#"["a@x.org", "c@x.org"]"#,
            ),
            (
                r#"[ "a@x.org", "b@x.org" ]"#,
                r#"[ "a@x.org", "b@x.org", "c@x.org" ]"#,
                r#"[ "b@x.org", "c@x.org" ]"#,
                r#"[ "a@x.org", "c@x.org" ]"#,
            ),
            (
                "[\n  \"a@x.org\", # A\n  \"b@x.org\", # B\n]",
                "[\n  \"a@x.org\", # A\n  \"b@x.org\", # B\n  \"c@x.org\",\n]",
                "[\n  \"b@x.org\", # B\n  \"c@x.org\",\n]",
                "[\n  \"a@x.org\", # A\n  \"c@x.org\",\n]",
            ),
            (
                "[\n  \"a@x.org\", # A\n  \"b@x.org\" # B\n]",
                "[\n  \"a@x.org\", # A\n  \"b@x.org\", # B\n  \"c@x.org\"\n]",
                "[\n  \"b@x.org\", # B\n  \"c@x.org\"\n]",
                "[\n  \"a@x.org\", # A\n  \"c@x.org\"\n]",
            ),
            (
                "[\n    \"a@x.org\",\n    \"b@x.org\",\n    # \"old@x.org\",\n  ]",
                "[\n    \"a@x.org\",\n    \"b@x.org\",\n    \"c@x.org\",\n    # \"old@x.org\",\n  ]",
                "[\n    \"b@x.org\",\n    \"c@x.org\",\n    # \"old@x.org\",\n  ]",
                "[\n    \"a@x.org\",\n    \"c@x.org\",\n    # \"old@x.org\",\n  ]",
            ),
            (
                "[\n  \"a@x.org\",\n  \"b@x.org\"]",
                "[\n  \"a@x.org\",\n  \"b@x.org\",\n  \"c@x.org\"]",
                "[\n  \"b@x.org\",\n  \"c@x.org\"]",
                "[\n  \"a@x.org\",\n  \"c@x.org\"]",
            ),
        ];
        for (before, added, then_a, then_b) in cases {
            let mut f = to_list(before);
            f.add_recipient("c@x.org").unwrap();
            assert_eq!(list_of(&f), added, "adding to {before}");
            let mut g = to_list(&list_of(&f));
            g.remove_recipient("a@x.org").unwrap();
            assert_eq!(list_of(&g), then_a, "removing a from {added}");
            let mut h = to_list(&list_of(&f));
            h.remove_recipient("b@x.org").unwrap();
            assert_eq!(list_of(&h), then_b, "removing b from {added}");
        }
    }

    #[test]
    fn a_command_line_url_without_scheme_means_https() {
        let (u, written) = parse_feed_url("example.org/feed.xml").unwrap();
        assert_eq!(u.as_str(), "https://example.org/feed.xml");
        assert_eq!(written, "https://example.org/feed.xml");
        assert!(matches!(
            parse_feed_url("ftp://example.org/feed.xml"),
            Err(EditError::BadUrl { .. })
        ));
    }
}
