//! Browser sessions (the `skemu_session_<port>` cookie). Only the SHA-256 of the
//! cookie value is stored. An ended session keeps its row, with when and
//! how it ended, for the sessions API.

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

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The user signed out (`/oidc/logout`). Sessions ended before the
    /// reason was stored read as this: sign-out was the only way then.
    Logout,
    /// The emulator ended it: the same browser signed in again.
    Revoked,
}

impl SessionEnd {
    fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Revoked => "revoked",
        }
    }

    fn from_column(value: Option<&str>) -> Self {
        match value {
            Some("revoked") => Self::Revoked,
            _ => Self::Logout,
        }
    }
}

/// The browser a session was started from (nothing for sessions made
/// outside a browser request, e.g. in tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDevice {
    /// The `User-Agent` header (at most 512 bytes).
    pub user_agent: Option<String>,
    /// The peer's IP address.
    pub ip: Option<String>,
}

/// Everything stored about a session, ended or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session itself.
    pub session: BrowserSession,
    /// Unix seconds of the sign-out or revocation.
    pub ended_at: Option<i64>,
    /// How it ended, when it did.
    pub end: Option<SessionEnd>,
    /// Where it was started.
    pub device: SessionDevice,
}

/// Starts a browser session for a user who just authenticated with `amr`,
/// with no device recorded; returns it with the cookie value to set.
///
/// # Errors
/// Database errors (e.g. an unknown user).
pub fn create_browser_session(
    conn: &Connection,
    config: &Config,
    user_id: &str,
    amr: &str,
) -> Result<(BrowserSession, SessionCookieValue)> {
    create_browser_session_from(conn, config, user_id, amr, &SessionDevice::default())
}

/// Starts a browser session for a user who just authenticated with `amr`
/// on `device`; returns it with the cookie value to set.
///
/// # Errors
/// Database errors (e.g. an unknown user).
pub fn create_browser_session_from(
    conn: &Connection,
    config: &Config,
    user_id: &str,
    amr: &str,
    device: &SessionDevice,
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
        &format!(
            "INSERT INTO browser_sessions (token_hash, {COLUMNS}, user_agent, ip) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            sha256_hex(cookie.secret()),
            session.id,
            session.user_id,
            session.amr,
            session.auth_time,
            session.created_at,
            session.last_seen_at,
            session.absolute_expires_at,
            device.user_agent,
            device.ip
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

/// The columns of a [`SessionRecord`], in [`record_from_row`]'s order.
const RECORD_COLUMNS: &str = "id, user_id, amr, auth_time, created_at, last_seen_at, \
     absolute_expires_at, ended_at, end_reason, user_agent, ip";

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    let ended_at: Option<i64> = row.get(7)?;
    let reason: Option<String> = row.get(8)?;
    Ok(SessionRecord {
        session: from_row(row)?,
        ended_at,
        end: ended_at.map(|_| SessionEnd::from_column(reason.as_deref())),
        device: SessionDevice {
            user_agent: row.get(9)?,
            ip: row.get(10)?,
        },
    })
}

/// The session with this id, ended or not, with how it ended and its device.
///
/// # Errors
/// Database errors.
pub fn session_record_by_id(conn: &Connection, id: &str) -> Result<Option<SessionRecord>> {
    Ok(conn
        .query_row(
            &format!("SELECT {RECORD_COLUMNS} FROM browser_sessions WHERE id = ?1"),
            [id],
            record_from_row,
        )
        .optional()?)
}

/// Every session of a user, ended or not, newest first (by creation, then
/// by id, so the order is total).
///
/// # Errors
/// Database errors.
pub fn session_records_for_user(conn: &Connection, user_id: &str) -> Result<Vec<SessionRecord>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {RECORD_COLUMNS} FROM browser_sessions WHERE user_id = ?1 \
         ORDER BY created_at DESC, id DESC"
    ))?;
    let records = statement
        .query_map([user_id], record_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(records)
}

/// The clients that were issued tokens in this session, sorted.
///
/// # Errors
/// Database errors.
pub fn session_client_ids(conn: &Connection, session_id: &str) -> Result<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT DISTINCT client_id FROM token_families WHERE session_id = ?1 ORDER BY client_id",
    )?;
    let ids = statement
        .query_map([session_id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Ends a session because the user signed out; the tokens issued in it end
/// with it ([`super::token_family_is_live`]). Ending an ended session is a
/// no-op.
///
/// # Errors
/// Database errors.
pub fn end_browser_session(conn: &Connection, session_id: &str) -> Result<()> {
    end_as(conn, session_id, SessionEnd::Logout)
}

/// Ends a session the user did not sign out of (the same browser signed in
/// again, or the sessions API revoked it); the tokens issued in it end with
/// it ([`super::token_family_is_live`]). Ending an ended session is a
/// no-op.
///
/// # Errors
/// Database errors.
pub fn revoke_browser_session(conn: &Connection, session_id: &str) -> Result<()> {
    end_as(conn, session_id, SessionEnd::Revoked)
}

fn end_as(conn: &Connection, session_id: &str, end: SessionEnd) -> Result<()> {
    conn.execute(
        "UPDATE browser_sessions SET ended_at = ?2, end_reason = ?3 \
         WHERE id = ?1 AND ended_at IS NULL",
        params![session_id, now(), end.as_str()],
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

    #[tokio::test]
    async fn records_keep_the_device_and_how_the_session_ended() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let config = Config::for_tests();
            let user = find_or_create_user_by_email(c, "r@example.com")?;
            let device = SessionDevice {
                user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0".into()),
                ip: Some("127.0.0.1".into()),
            };
            let (signed_out, _) =
                create_browser_session_from(c, &config, &user.id, "conn_email", &device)?;
            let (replaced, _) = create_browser_session(c, &config, &user.id, "conn_email")?;

            let live = session_record_by_id(c, &signed_out.id)?.unwrap();
            assert_eq!((live.ended_at, live.end), (None, None));
            assert_eq!(live.device, device);
            assert_eq!(live.session, signed_out);

            end_browser_session(c, &signed_out.id)?;
            revoke_browser_session(c, &replaced.id)?;
            // A second end changes nothing.
            revoke_browser_session(c, &signed_out.id)?;
            let ended = session_record_by_id(c, &signed_out.id)?.unwrap();
            assert_eq!(ended.end, Some(SessionEnd::Logout));
            assert!(ended.ended_at.is_some());
            let revoked = session_record_by_id(c, &replaced.id)?.unwrap();
            assert_eq!(revoked.end, Some(SessionEnd::Revoked));
            assert_eq!(revoked.device, SessionDevice::default());
            assert!(session_record_by_id(c, "ses_unknown")?.is_none());
            let all = session_records_for_user(c, &user.id)?;
            assert_eq!(all.len(), 2);
            assert!(all[0].session.created_at >= all[1].session.created_at);
            assert!(session_records_for_user(c, "usr_nobody")?.is_empty());
            Ok(())
        })
        .await
        .unwrap();
    }
}
