//! Whether the session behind a caller's token is still live.
//!
//! An access token stays valid until it expires (5 minutes by default), but
//! the person may sign out sooner. Scalekit's `GetSession`
//! (`GET /api/v1/sessions/{session_id}`, an environment client's call) says
//! whether the session named by the token's `sid` is still `active`. The
//! broker asks it and keeps the answer for at most
//! [`crate::Config::session_check_interval`] (20 s by default, never more
//! than [`MAX_SESSION_CHECK_INTERVAL`]), so a signed-out session's token is
//! refused within that time of the sign-out, at the cost of one upstream
//! call per session per interval. An ended session is remembered as ended:
//! it never comes back.
//!
//! Failures are closed: when the environment cannot say, the request fails
//! with the upstream error (503/502), it is not let through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::upstream::Upstream;

/// The longest a session's liveness is taken on trust.
pub const MAX_SESSION_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// Sessions kept in the cache before expired answers are swept out.
const SWEEP_ABOVE: usize = 10_000;

/// What the environment said about one session.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// `active`, for this user, checked at this instant.
    Live { checked_at: Instant },
    /// Ended (signed out, revoked, expired), unknown, or another user's.
    Ended,
}

/// Checks sessions against the environment, with a short cache.
pub(crate) struct SessionCheck {
    upstream: Arc<Upstream>,
    interval: Duration,
    clock: Arc<dyn Clock>,
    answers: Mutex<HashMap<String, Answer>>,
}

impl SessionCheck {
    /// A check that trusts an `active` answer for `interval`.
    pub(crate) fn new(upstream: Arc<Upstream>, interval: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            upstream,
            interval,
            clock,
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// Fails with [`Error::Unauthenticated`] unless `session_id` is an active
    /// session of `user_id`.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for an ended or unknown session; upstream
    /// errors when the environment cannot be asked.
    pub(crate) async fn ensure_live(&self, session_id: &str, user_id: &str) -> Result<()> {
        let now = self.clock.now();
        match self.cached(session_id) {
            Some(Answer::Ended) => return Err(ended()),
            Some(Answer::Live { checked_at }) if now.duration_since(checked_at) < self.interval => {
                return Ok(())
            }
            _ => {}
        }
        let details = self.upstream.session(session_id).await?;
        let live = details.as_ref().is_some_and(|details| {
            details.is_active() && details.user_id.as_deref() == Some(user_id)
        });
        let answer = if live {
            Answer::Live { checked_at: now }
        } else {
            Answer::Ended
        };
        self.remember(session_id, answer, now);
        if live {
            Ok(())
        } else {
            Err(ended())
        }
    }

    /// Remembers `session_id` as ended (the broker just revoked it), so its
    /// tokens are refused at once rather than after the interval.
    pub(crate) fn mark_ended(&self, session_id: &str) {
        self.remember(session_id, Answer::Ended, self.clock.now());
    }

    fn cached(&self, session_id: &str) -> Option<Answer> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.get(session_id).copied()
    }

    fn remember(&self, session_id: &str, answer: Answer, now: Instant) {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.len() >= SWEEP_ABOVE {
            // Stale "live" answers would be asked again anyway; ended ones
            // are dropped last, and only when nothing else frees room.
            answers.retain(|_, answer| match answer {
                Answer::Live { checked_at } => now.duration_since(*checked_at) < self.interval,
                Answer::Ended => true,
            });
            if answers.len() >= SWEEP_ABOVE {
                answers.clear();
            }
        }
        answers.insert(session_id.to_owned(), answer);
    }
}

fn ended() -> Error {
    Error::Unauthenticated("the session has ended: sign in again".into())
}
