//! Waiting for a condition with a bounded deadline, by polling: the suite
//! never sleeps a fixed time and hopes.

use std::time::{Duration, Instant};

/// How often conditions are checked.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The default bound for something a person would wait for on screen.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// A point in time after which waiting gives up.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    /// A deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Deadline {
        Deadline(Instant::now() + timeout)
    }

    /// Whether the deadline has passed.
    pub fn passed(self) -> bool {
        Instant::now() >= self.0
    }
}

/// Calls `check` until it returns `Some` or the deadline passes (`None`).
pub fn poll<T>(deadline: Deadline, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if deadline.passed() {
            return None;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Like [`poll`], but panics naming `what` when the deadline passes.
///
/// # Panics
/// When the condition does not hold within `timeout`.
#[track_caller]
pub fn wait_for<T>(what: &str, timeout: Duration, check: impl FnMut() -> Option<T>) -> T {
    match poll(Deadline::after(timeout), check) {
        Some(found) => found,
        None => panic!("timed out after {timeout:?} waiting for {what}"),
    }
}
