//! Per-user token buckets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::clock::Clock;
use crate::config::RateLimit;

/// Beyond this many tracked users, full buckets are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Limits each user to `burst` requests at once and `requests_per_minute`
/// sustained.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
    clock: Arc<dyn Clock>,
}

impl RateLimiter {
    /// A limiter with the given limits.
    pub fn new(limit: RateLimit, clock: Arc<dyn Clock>) -> Self {
        Self {
            per_second: f64::from(limit.requests_per_minute.max(1)) / 60.0,
            burst: f64::from(limit.burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// Takes one request from `user`'s bucket.
    ///
    /// # Errors
    /// The whole seconds to wait before the next request is allowed.
    pub fn check(&self, user: &str) -> std::result::Result<(), u64> {
        let now = self.clock.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, bucket| refill(bucket, now, per_second, burst) < burst);
        }
        let bucket = buckets.entry(user.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let tokens = refill(bucket, now, self.per_second, self.burst);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            let wait = (1.0 - tokens) / self.per_second;
            // `as` is fine: `wait` is positive and at most 60 s per token.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let secs = wait.ceil().max(1.0) as u64;
            Err(secs)
        }
    }
}

/// Brings `bucket` up to `now` and returns its tokens.
fn refill(bucket: &mut Bucket, now: Instant, per_second: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
    bucket.updated = now;
    bucket.tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    fn limiter(rpm: u32, burst: u32) -> (RateLimiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        let limit = RateLimit {
            requests_per_minute: rpm,
            burst,
        };
        (RateLimiter::new(limit, clock.clone()), clock)
    }

    #[test]
    fn burst_then_refusal_with_retry_after() {
        let (limiter, _) = limiter(6, 3);
        for _ in 0..3 {
            assert_eq!(limiter.check("usr_a"), Ok(()));
        }
        // 6 per minute: one token every 10 s.
        assert_eq!(limiter.check("usr_a"), Err(10));
    }

    #[test]
    fn users_have_separate_buckets() {
        let (limiter, _) = limiter(1, 1);
        assert_eq!(limiter.check("usr_a"), Ok(()));
        assert!(limiter.check("usr_a").is_err());
        assert_eq!(limiter.check("usr_b"), Ok(()));
    }

    #[test]
    fn tokens_come_back_over_time() {
        let (limiter, clock) = limiter(60, 1);
        assert_eq!(limiter.check("usr_a"), Ok(()));
        assert_eq!(limiter.check("usr_a"), Err(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(limiter.check("usr_a"), Ok(()));
    }

    #[test]
    fn bucket_never_exceeds_burst() {
        let (limiter, clock) = limiter(60, 2);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(limiter.check("usr_a"), Ok(()));
        assert_eq!(limiter.check("usr_a"), Ok(()));
        assert!(limiter.check("usr_a").is_err());
    }
}
