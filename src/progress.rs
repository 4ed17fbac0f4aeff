//! Progress lines for interactive runs ("fetched 120/500 feeds"), on stderr, only when stderr
//! is a terminal: under cron, whatever is printed gets mailed, so there it stays silent.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns progress on; the binary calls this when stderr is a terminal and `-q` is not given.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A line that replaces the previous one (a running count).
pub fn update(line: &str) {
    if enabled() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }
}

/// A line that stays.
pub fn done(line: &str) {
    if enabled() {
        eprintln!("\r\x1b[2K{line}");
    }
}
