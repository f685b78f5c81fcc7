//! The clock seam: when the access token needs a refresh, when a new token
//! expires and whether an ID token's `exp` and `iat` hold are read through a
//! [`Clock`], so tests move time deliberately instead of waiting for it.
//!
//! The core's times are wall-clock times ([`OffsetDateTime`]): expiries are
//! stored in the keychain and compared with the provider's token claims.
//!
//! ```
//! use passkeys_core::{Clock, ManualClock};
//! use time::{Duration, OffsetDateTime};
//!
//! let new_year_2030 = OffsetDateTime::from_unix_timestamp(1_893_456_000)?;
//! let clock = ManualClock::at(new_year_2030);
//! clock.advance(Duration::minutes(5));
//! assert_eq!(clock.now_utc(), new_year_2030 + Duration::minutes(5));
//! # Ok::<(), time::error::ComponentRange>(())
//! ```

use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// A wall clock.
///
/// Production: [`SystemClock`]; tests: [`ManualClock`]. Handed to the core
/// in [`ClientOptions::clock`](crate::ClientOptions::clock).
pub trait Clock: std::fmt::Debug + Send + Sync + 'static {
    /// The current time, in UTC.
    fn now_utc(&self) -> OffsetDateTime;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_utc(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until it is told to move (for tests and
/// simulations).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn at(now: OffsetDateTime) -> ManualClock {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// A clock standing at the system's current time (so that tokens a real
    /// server issues now are fresh by it).
    pub fn starting_now() -> ManualClock {
        ManualClock::at(OffsetDateTime::now_utc())
    }

    /// Moves the clock by `by` (backwards when negative).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    /// Puts the clock at `now`.
    pub fn set(&self, now: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }
}

impl Clock for ManualClock {
    fn now_utc(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = OffsetDateTime::from_unix_timestamp(1_893_456_000).unwrap();
        let clock = ManualClock::at(start);
        assert_eq!(clock.now_utc(), start);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now_utc(), start + Duration::seconds(90));
        clock.advance(Duration::seconds(-30));
        assert_eq!(clock.now_utc(), start + Duration::seconds(60));
        clock.set(start + Duration::days(365));
        assert_eq!(clock.now_utc(), start + Duration::days(365));
    }

    #[test]
    fn the_system_clock_is_the_system_time() {
        let before = OffsetDateTime::now_utc();
        let now = SystemClock.now_utc();
        assert!(before <= now && now <= OffsetDateTime::now_utc());
    }
}
