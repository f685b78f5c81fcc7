//! A sliding-window limit on how often something may happen per key (an
//! email address, a client address). Kept in memory: it protects a running
//! emulator against a caller that asks for sign-in codes without end.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sign-in codes one email address may be sent per [`CODE_WINDOW`].
pub const CODES_PER_EMAIL: usize = 5;
/// Sign-in codes one client address may ask for per [`CODE_WINDOW`], over
/// all email addresses.
pub const CODES_PER_CLIENT_ADDRESS: usize = 20;
/// Sign-in codes one browser (its CSRF cookie) may ask for per
/// [`CODE_WINDOW`], over all email addresses. A browser that drops its
/// cookies starts again, but stays under the client-address limit.
pub const CODES_PER_BROWSER: usize = 10;
/// The window of the code limits: 15 minutes.
pub const CODE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Past this many keys, keys with no recent event are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// Events per key within a sliding window.
#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// A throttle over `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Records one event for each `(key, limit)`, now, unless one of the keys
    /// already had `limit` events within the window: then nothing is
    /// recorded and the answer is how long until that key has room again.
    ///
    /// # Errors
    /// The wait, as above.
    pub fn hit(&self, keys: &[(String, usize)]) -> Result<(), Duration> {
        self.hit_at(keys, Instant::now())
    }

    fn hit_at(&self, keys: &[(String, usize)], now: Instant) -> Result<(), Duration> {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = self.window;
        let recent = |queue: &mut VecDeque<Instant>| {
            while queue
                .front()
                .is_some_and(|first| now.saturating_duration_since(*first) >= window)
            {
                queue.pop_front();
            }
        };
        let mut wait = Duration::ZERO;
        for (key, limit) in keys {
            if let Some(queue) = events.get_mut(key) {
                recent(queue);
                if queue.len() >= *limit {
                    let oldest = queue.get(queue.len() - limit).copied().unwrap_or(now);
                    wait = wait.max(window.saturating_sub(now.saturating_duration_since(oldest)));
                }
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for (key, _) in keys {
            events.entry(key.clone()).or_default().push_back(now);
        }
        if events.len() > PRUNE_ABOVE {
            events.retain(|_, queue| {
                recent(queue);
                !queue.is_empty()
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(email: &str) -> Vec<(String, usize)> {
        vec![
            (format!("email:{email}"), 2),
            ("addr:127.0.0.1".to_owned(), 3),
        ]
    }

    #[test]
    fn a_key_at_its_limit_waits_until_its_oldest_event_leaves_the_window() {
        let throttle = Throttle::new(Duration::from_secs(100));
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);
        // (when, email, allowed, wait)
        let cases: &[(u64, &str, bool, u64)] = &[
            (0, "ann", true, 0),
            (10, "ann", true, 0),
            (20, "ann", false, 80),  // ann: 2 within 100 s
            (30, "bob", true, 0),    // the address: 3 now
            (40, "cy", false, 60),   // the address is full until t=100
            (100, "cy", true, 0),    // t=0 left the window
            (105, "ann", false, 5),  // the address: t=10, 30, 100
            (110, "ann", true, 0),   // t=10 left the window
            (111, "dan", false, 19), // the address: t=30, 100, 110
        ];
        for &(when, email, allowed, wait) in cases {
            let answer = throttle.hit_at(&keys(email), at(when));
            if allowed {
                assert_eq!(answer, Ok(()), "t={when} {email}");
            } else {
                assert_eq!(answer, Err(Duration::from_secs(wait)), "t={when} {email}");
            }
        }
    }
}
