//! Which credential ids the broker has just seen in a caller's own listing.
//!
//! A rename or a removal acts only on one of the caller's own passkeys; the
//! broker used to check that by listing them upstream first, which doubled
//! the cost of every change. A credential never changes owner, so an id
//! seen in the caller's own listing a moment ago is still theirs (if it has
//! been deleted since, the environment answers 404 to the change itself).
//! The app lists before it renames or removes, so the check is usually
//! answered here. Entries live [`OWNED_TTL`]; ids not known (or known too
//! long) are checked upstream as before.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::Clock;

/// How long a caller's listing answers ownership checks.
pub(crate) const OWNED_TTL: Duration = Duration::from_secs(60);

/// Callers remembered before stale entries are swept out.
const SWEEP_ABOVE: usize = 10_000;

/// The credential ids of each caller's latest listing.
pub(crate) struct OwnedCredentials {
    clock: Arc<dyn Clock>,
    listings: Mutex<HashMap<String, (Instant, HashSet<String>)>>,
}

impl OwnedCredentials {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            listings: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers `user_id`'s listing (replacing the one before).
    pub(crate) fn remember(&self, user_id: &str, ids: HashSet<String>) {
        let now = self.clock.now();
        let mut listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        if listings.len() >= SWEEP_ABOVE {
            listings.retain(|_, (seen, _)| now.duration_since(*seen) < OWNED_TTL);
        }
        listings.insert(user_id.to_owned(), (now, ids));
    }

    /// Whether `id` was in `user_id`'s listing less than [`OWNED_TTL`] ago.
    pub(crate) fn is_known(&self, user_id: &str, id: &str) -> bool {
        let now = self.clock.now();
        let listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        listings
            .get(user_id)
            .is_some_and(|(seen, ids)| now.duration_since(*seen) < OWNED_TTL && ids.contains(id))
    }

    /// Forgets `id` (it was removed).
    pub(crate) fn forget(&self, user_id: &str, id: &str) {
        let mut listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, ids)) = listings.get_mut(user_id) {
            ids.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn ids_are_known_to_their_owner_only_and_only_for_a_while() {
        let clock = Arc::new(ManualClock::new());
        let owned = OwnedCredentials::new(clock.clone());
        owned.remember(
            "usr_ada",
            HashSet::from(["wac_1".to_owned(), "wac_2".to_owned()]),
        );
        assert!(owned.is_known("usr_ada", "wac_1"));
        assert!(!owned.is_known("usr_bob", "wac_1"), "another caller");
        assert!(!owned.is_known("usr_ada", "wac_3"), "not in the listing");
        owned.forget("usr_ada", "wac_2");
        assert!(!owned.is_known("usr_ada", "wac_2"), "removed");
        clock.advance(OWNED_TTL);
        assert!(!owned.is_known("usr_ada", "wac_1"), "too old");
    }
}
