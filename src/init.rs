//! `tidings init`: a commented starter config, written once, readable only by its owner.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::edit::{ConfigFile, EditError};
use crate::opml::{self, OpmlError};

/// The starter config (`src/starter.toml`): every line a new user has to change says so.
pub const STARTER: &str = include_str!("starter.toml");

/// The starter's sample feed, left out when the feeds come from an OPML file.
const SAMPLE_FEED: &str = "https://blog.rust-lang.org/feed.xml";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{} exists already; tidings init never overwrites a config", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Opml(#[from] OpmlError),
}

/// What `init` wrote.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    /// Feeds taken from the OPML file, and the ones skipped with the reason.
    pub feeds_added: usize,
    pub feeds_skipped: Vec<(String, String)>,
}

/// Writes the starter config to `path` (creating its folder), with the feeds of `opml` instead
/// of the sample feed when one is given. Refuses an existing file; the file is mode 0600 (it
/// will name mail accounts).
pub fn init(path: &Path, opml_path: Option<&Path>) -> Result<Written, InitError> {
    if path.exists() {
        return Err(InitError::Exists(path.to_path_buf()));
    }
    let (text, feeds_added, feeds_skipped) = match opml_path {
        None => (STARTER.to_string(), 0, Vec::new()),
        Some(o) => {
            let feeds = opml::read(o)?;
            let mut file = ConfigFile::from_text(path, STARTER.to_string())?;
            let report = opml::import(&mut file, &feeds)?;
            if !report.added.is_empty() {
                file.remove_feed(SAMPLE_FEED)?;
            }
            let skipped = report
                .skipped
                .iter()
                .map(|(f, why)| (f.url.clone(), why.to_string()))
                .collect();
            file.validate()?;
            (file.render(), report.added.len(), skipped)
        }
    };
    let write_err = |source| InitError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            InitError::Exists(path.to_path_buf())
        } else {
            write_err(e)
        }
    })?;
    f.write_all(text.as_bytes()).map_err(write_err)?;
    f.sync_all().map_err(write_err)?;
    Ok(Written {
        path: path.to_path_buf(),
        feeds_added,
        feeds_skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_config_is_valid() {
        let cfg = crate::config::Config::parse(STARTER, Path::new("/tmp/starter.toml")).unwrap();
        assert_eq!(cfg.feeds.len(), 1);
    }
}
