//! Start-up timing: when the process started and when the first view was ready.
//!
//! The UI calls the `app_ready` command once its first screen is on screen with
//! the session state known. The time since the process started is logged and,
//! when the environment variable `PASSKEYS_READY_FILE` names a file, written to
//! it as milliseconds (one decimal number and a newline). The benchmark script
//! measures start-up with it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable naming the file the start-up time is written to.
pub const READY_FILE_VAR: &str = "PASSKEYS_READY_FILE";

static PROCESS_START: OnceLock<Instant> = OnceLock::new();
static READY_RECORDED: AtomicBool = AtomicBool::new(false);

/// Remembers now as the process start; call it first thing in `main`.
pub fn mark_process_start() {
    PROCESS_START.get_or_init(Instant::now);
}

/// Time since [`mark_process_start`] (zero if it was never called).
pub fn since_process_start() -> Duration {
    PROCESS_START
        .get()
        .map(Instant::elapsed)
        .unwrap_or_default()
}

/// Records the first readiness: returns the start-up time the first time only,
/// and writes it to `PASSKEYS_READY_FILE` when that is set.
///
/// # Errors
/// When the ready file cannot be written.
pub fn record_ready() -> std::io::Result<Option<Duration>> {
    if READY_RECORDED.swap(true, Ordering::SeqCst) {
        return Ok(None);
    }
    let elapsed = since_process_start();
    tracing::info!(
        startup_ms = elapsed.as_secs_f64() * 1000.0,
        "first view ready"
    );
    if let Some(path) = std::env::var_os(READY_FILE_VAR).map(PathBuf::from) {
        write_ready_file(&path, elapsed)?;
    }
    Ok(Some(elapsed))
}

fn write_ready_file(path: &std::path::Path, elapsed: Duration) -> std::io::Result<()> {
    // Write then rename, so a watcher never reads half a number.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, format!("{:.3}\n", elapsed.as_secs_f64() * 1000.0))?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_file_holds_milliseconds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ready");
        write_ready_file(&path, Duration::from_micros(123_456)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "123.456\n");
        assert!(!path.with_extension("partial").exists());
    }
}
