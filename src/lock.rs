//! One run at a time: an exclusive lock on a file beside the state database.
//!
//! The lock is an OS file lock (`flock`), so it dies with the process that holds it: a run that
//! crashed or was killed leaves the file behind but not the lock, and the next run simply takes
//! it over. The file holds the holder's PID, for the message a second run prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another tidings run{} is already working on `{}`; this one stops", pid.map(|p| format!(" (pid {p})")).unwrap_or_default(), state.display())]
    Busy { pid: Option<u32>, state: PathBuf },
    #[error("cannot lock `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Held for the whole run; released on drop or process exit.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

pub fn lock_path(state_path: &Path) -> PathBuf {
    let mut name = state_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    state_path.with_file_name(name)
}

impl RunLock {
    pub fn acquire(state_path: &Path) -> Result<RunLock, LockError> {
        let path = lock_path(state_path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Busy {
                    pid: text.trim().parse().ok(),
                    state: state_path.to_path_buf(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(RunLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("t.db");
        let first = RunLock::acquire(&state).unwrap();
        match RunLock::acquire(&state) {
            Err(LockError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        RunLock::acquire(&state).expect("free again after the holder is gone");
        assert!(lock_path(&state).ends_with("t.db.lock"));
    }
}
