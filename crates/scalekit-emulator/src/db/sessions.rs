//! Browser sessions (the `skemu_session` cookie). Only the SHA-256 of the
//! cookie value is stored.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{new_id, now, secs};
use crate::config::Config;
use crate::error::Result;
use crate::secret::{random_token, sha256_hex, SessionCookieValue};

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// `ses_…`, the `sid` claim.
    pub id: String,
    /// The signed-in user.
    pub user_id: String,
    /// How they signed in: `conn_email`, `conn_passkey` or `conn_magiclink`.
    pub amr: String,
    /// Unix seconds of the authentication.
    pub auth_time: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request with this cookie.
    pub last_seen_at: i64,
    /// Unix seconds after which the session is over whatever happens.
    pub absolute_expires_at: i64,
}

const COLUMNS: &str = "id, user_id, amr, auth_time, created_at, last_seen_at, absolute_expires_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<BrowserSession> {
    Ok(BrowserSession {
        id: row.get(0)?,
        user_id: row.get(1)?,
        amr: row.get(2)?,
        auth_time: row.get(3)?,
        created_at: row.get(4)?,
        last_seen_at: row.get(5)?,
        absolute_expires_at: row.get(6)?,
    })
}

/// Starts a browser session for a user who just authenticated with `amr`;
/// returns it with the cookie value to set.
///
/// # Errors
/// Database errors (e.g. an unknown user).
pub fn create_browser_session(
    conn: &Connection,
    config: &Config,
    user_id: &str,
    amr: &str,
) -> Result<(BrowserSession, SessionCookieValue)> {
    let cookie = SessionCookieValue::new(random_token(32));
    let now = now();
    let session = BrowserSession {
        id: new_id("ses_"),
        user_id: user_id.to_owned(),
        amr: amr.to_owned(),
        auth_time: now,
        created_at: now,
        last_seen_at: now,
        absolute_expires_at: now.saturating_add(secs(config.session_absolute_ttl)),
    };
    conn.execute(
        &format!("INSERT INTO browser_sessions (token_hash, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            sha256_hex(cookie.secret()),
            session.id,
            session.user_id,
            session.amr,
            session.auth_time,
            session.created_at,
            session.last_seen_at,
            session.absolute_expires_at
        ],
    )?;
    Ok((session, cookie))
}

/// The live session for a cookie value: not ended, not idle for longer than
/// the idle lifetime, not past its absolute expiry. Touches `last_seen_at`.
///
/// # Errors
/// Database errors.
pub fn browser_session_by_cookie(
    conn: &Connection,
    config: &Config,
    cookie_value: &str,
) -> Result<Option<BrowserSession>> {
    let now = now();
    let session = conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM browser_sessions WHERE token_hash = ?1 AND ended_at IS NULL \
                 AND absolute_expires_at > ?2 AND last_seen_at > ?3"
            ),
            params![
                sha256_hex(cookie_value),
                now,
                now.saturating_sub(secs(config.session_idle_ttl))
            ],
            from_row,
        )
        .optional()?;
    if let Some(session) = &session {
        conn.execute(
            "UPDATE browser_sessions SET last_seen_at = ?2 WHERE id = ?1",
            params![session.id, now],
        )?;
    }
    Ok(session)
}

/// The session with this id, ended or not.
///
/// # Errors
/// Database errors.
pub fn browser_session_by_id(conn: &Connection, id: &str) -> Result<Option<BrowserSession>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM browser_sessions WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

/// Ends a session (sign-out). Ending an ended session is a no-op.
///
/// # Errors
/// Database errors.
pub fn end_browser_session(conn: &Connection, session_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE browser_sessions SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
        params![session_id, now()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;
    use crate::db::{find_or_create_user_by_email, Db};
    use std::time::Duration;

    #[tokio::test]
    async fn cookie_finds_session_until_ended_or_expired() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let config = Config::for_tests();
            let user = find_or_create_user_by_email(c, "s@example.com")?;
            let (session, cookie) = create_browser_session(c, &config, &user.id, "conn_email")?;
            assert!(session.id.starts_with("ses_"));
            let found = browser_session_by_cookie(c, &config, cookie.secret())?.unwrap();
            assert_eq!(found.id, session.id);
            assert!(browser_session_by_cookie(c, &config, "wrong")?.is_none());

            let mut expired = config.clone();
            expired.session_idle_ttl = Duration::ZERO;
            assert!(browser_session_by_cookie(c, &expired, cookie.secret())?.is_none());
            let mut expired = config.clone();
            expired.session_absolute_ttl = Duration::ZERO;
            let (_, short) = create_browser_session(c, &expired, &user.id, "conn_email")?;
            assert!(browser_session_by_cookie(c, &config, short.secret())?.is_none());

            end_browser_session(c, &session.id)?;
            assert!(browser_session_by_cookie(c, &config, cookie.secret())?.is_none());
            assert!(browser_session_by_id(c, &session.id)?.is_some());
            Ok(())
        })
        .await
        .unwrap();
    }
}
