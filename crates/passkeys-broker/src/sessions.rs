//! Whether the sign-in behind a caller's token is still live.
//!
//! An access token stays valid until it expires (5 minutes by default), but
//! the person may sign out sooner, in either of two ways, and the broker
//! asks the environment about both:
//!
//! - **The session ends** (signed out in the browser, revoked, expired).
//!   Scalekit's `GetSession` (`GET /api/v1/sessions/{session_id}`, an
//!   environment client's call) says whether the session named by the
//!   token's `sid` is still `active`, and whose it is.
//! - **The token is revoked.** The app's sign-out revokes its refresh token
//!   (RFC 7009), which revokes the token family, its access tokens with it,
//!   while the session may stay active. The environment's token
//!   introspection (RFC 7662, at the `introspection_endpoint` of its
//!   discovery document) says whether the access token is still `active`.
//!   An environment whose discovery document names no introspection
//!   endpoint gets the session check only (said once in the log).
//!
//! Each `active` answer is kept for at most
//! [`crate::Config::session_check_interval`] (20 s by default, never more
//! than [`MAX_SESSION_CHECK_INTERVAL`]), so a signed-out token is refused
//! within that time, at the cost of two upstream calls per session and token
//! per interval. An ended answer is remembered: it never comes back.
//! Sessions are remembered by issuer, subject and `sid`; tokens by issuer
//! and `jti`.
//!
//! Failures are closed: when the environment cannot say, the request fails
//! with the upstream error (503/502), it is not let through.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::auth::Caller;
use crate::clock::Clock;
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::upstream::Upstream;

/// The longest a session's or token's liveness is taken on trust.
pub const MAX_SESSION_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// Answers kept in a cache before expired ones are swept out.
const SWEEP_ABOVE: usize = 10_000;

/// What the environment said about one session or token.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Live, checked at this instant.
    Live { checked_at: Instant },
    /// Ended (signed out, revoked, expired), unknown, or another user's.
    Ended,
}

/// The environment's answers by key, a `Live` one trusted for `interval`.
struct Answers<K> {
    interval: Duration,
    by_key: Mutex<HashMap<K, Answer>>,
}

impl<K: Eq + Hash> Answers<K> {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            by_key: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(true)` for a live answer younger than the interval,
    /// `Some(false)` for an ended one, `None` when the environment must be
    /// asked.
    fn known(&self, key: &K, now: Instant) -> Option<bool> {
        let by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        match by_key.get(key) {
            Some(Answer::Ended) => Some(false),
            Some(Answer::Live { checked_at })
                if now.duration_since(*checked_at) < self.interval =>
            {
                Some(true)
            }
            _ => None,
        }
    }

    fn remember(&self, key: K, live: bool, now: Instant) {
        let mut by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        if by_key.len() >= SWEEP_ABOVE {
            // Stale "live" answers would be asked again anyway; ended ones
            // are dropped last, and only when nothing else frees room.
            by_key.retain(|_, answer| match answer {
                Answer::Live { checked_at } => now.duration_since(*checked_at) < self.interval,
                Answer::Ended => true,
            });
            if by_key.len() >= SWEEP_ABOVE {
                by_key.clear();
            }
        }
        let answer = if live {
            Answer::Live { checked_at: now }
        } else {
            Answer::Ended
        };
        by_key.insert(key, answer);
    }
}

/// A session, as a token names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SessionKey {
    issuer: String,
    subject: String,
    session_id: String,
}

impl SessionKey {
    fn new(caller: &Caller, session_id: &str) -> Self {
        Self {
            issuer: caller.issuer.clone(),
            subject: caller.user_id.clone(),
            session_id: session_id.to_owned(),
        }
    }
}

/// An access token, by its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    issuer: String,
    token_id: String,
}

/// Checks sessions and tokens against the environment, with a short cache.
pub(crate) struct SessionCheck {
    upstream: Arc<Upstream>,
    discovery: Arc<Discovery>,
    clock: Arc<dyn Clock>,
    sessions: Answers<SessionKey>,
    tokens: Answers<TokenKey>,
    said_no_introspection: AtomicBool,
}

impl SessionCheck {
    /// A check that trusts an `active` answer for `interval`.
    pub(crate) fn new(
        upstream: Arc<Upstream>,
        discovery: Arc<Discovery>,
        interval: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            upstream,
            discovery,
            clock,
            sessions: Answers::new(interval),
            tokens: Answers::new(interval),
            said_no_introspection: AtomicBool::new(false),
        }
    }

    /// Fails unless the caller's session is active and theirs, and their
    /// access token `token` is still active at the environment.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for an ended, unknown or someone else's
    /// session, or a revoked token; upstream errors when the environment
    /// cannot be asked; [`Error::UnsupportedEnvironment`] when it has no
    /// sessions API.
    pub(crate) async fn ensure_live(&self, caller: &Caller, token: &str) -> Result<()> {
        self.ensure_session_live(caller).await?;
        self.ensure_token_live(caller, token).await
    }

    async fn ensure_session_live(&self, caller: &Caller) -> Result<()> {
        let key = SessionKey::new(caller, &caller.session_id);
        let now = self.clock.now();
        let live = match self.sessions.known(&key, now) {
            Some(live) => live,
            None => {
                let details = self.upstream.session(&caller.session_id).await?;
                let live = details.is_some_and(|details| {
                    details.is_active() && details.user_id.as_deref() == Some(&caller.user_id)
                });
                self.sessions.remember(key, live, now);
                live
            }
        };
        if live {
            Ok(())
        } else {
            Err(Error::Unauthenticated(
                "the session has ended: sign in again".into(),
            ))
        }
    }

    async fn ensure_token_live(&self, caller: &Caller, token: &str) -> Result<()> {
        let Some(endpoint) = self.discovery.endpoints().await?.introspection.clone() else {
            if !self.said_no_introspection.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "the environment's discovery document names no introspection endpoint: \
                     a token revoked at sign-out is refused only once its session ends or it expires"
                );
            }
            return Ok(());
        };
        let key = TokenKey {
            issuer: caller.issuer.clone(),
            token_id: caller.token_id.clone(),
        };
        let now = self.clock.now();
        let live = match self.tokens.known(&key, now) {
            Some(live) => live,
            None => {
                let answer = self.upstream.introspect(&endpoint, token).await?;
                let live = answer.active
                    && answer
                        .subject
                        .as_deref()
                        .is_none_or(|subject| subject == caller.user_id);
                self.tokens.remember(key, live, now);
                live
            }
        };
        if live {
            Ok(())
        } else {
            Err(Error::Unauthenticated(
                "this sign-in has ended (its token was revoked): sign in again".into(),
            ))
        }
    }

    /// Remembers the caller's session `session_id` as ended (the broker just
    /// revoked it), so its tokens are refused at once rather than after the
    /// interval.
    pub(crate) fn mark_ended(&self, caller: &Caller, session_id: &str) {
        let key = SessionKey::new(caller, session_id);
        self.sessions.remember(key, false, self.clock.now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_answers_expire_and_ended_ones_stay() {
        let answers = Answers::new(Duration::from_secs(20));
        let start = Instant::now();
        answers.remember("a", true, start);
        answers.remember("b", false, start);
        assert_eq!(
            answers.known(&"a", start + Duration::from_secs(19)),
            Some(true)
        );
        assert_eq!(answers.known(&"a", start + Duration::from_secs(20)), None);
        assert_eq!(
            answers.known(&"b", start + Duration::from_secs(3600)),
            Some(false)
        );
        assert_eq!(answers.known(&"c", start), None);
    }
}
