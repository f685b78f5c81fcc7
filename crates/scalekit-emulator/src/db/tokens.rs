//! Token families, refresh tokens (stored as SHA-256 hashes) and issued
//! access tokens (by `jti`, so they can be revoked).

use rusqlite::{params, Connection, OptionalExtension};

use super::now;
use crate::error::Result;

/// A token family: the tokens descending from one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFamily {
    /// Id.
    pub id: String,
    /// The user (none for client credentials).
    pub user_id: Option<String>,
    /// The client.
    pub client_id: String,
    /// The browser session.
    pub session_id: Option<String>,
    /// Granted scopes.
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// Creates a token family.
///
/// # Errors
/// Database errors.
pub fn insert_token_family(conn: &Connection, family: &TokenFamily) -> Result<()> {
    conn.prepare_cached("INSERT INTO token_families (id, user_id, client_id, session_id, scope, created_at, revoked_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
        .execute(
        params![
            family.id,
            family.user_id,
            family.client_id,
            family.session_id,
            family.scope,
            family.created_at,
            family.revoked_at
        ],
    )?;
    Ok(())
}

/// The family with this id.
///
/// # Errors
/// Database errors.
pub fn token_family_by_id(conn: &Connection, id: &str) -> Result<Option<TokenFamily>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, user_id, client_id, session_id, scope, created_at, revoked_at \
             FROM token_families WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok(TokenFamily {
                id: row.get(0)?,
                user_id: row.get(1)?,
                client_id: row.get(2)?,
                session_id: row.get(3)?,
                scope: row.get(4)?,
                created_at: row.get(5)?,
                revoked_at: row.get(6)?,
            })
        })
        .optional()?)
}

/// Revokes a family: its refresh tokens and access tokens stop working.
/// Revoking twice keeps the first reason.
///
/// # Errors
/// Database errors.
pub fn revoke_token_family(conn: &Connection, family_id: &str, reason: &str) -> Result<()> {
    let now = now();
    conn.prepare_cached("UPDATE token_families SET revoked_at = ?2, revoked_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL")?
        .execute(
        params![family_id, now, reason],
    )?;
    conn.prepare_cached(
        "UPDATE access_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![family_id, now])?;
    Ok(())
}

/// The one rule of a live token family, as SQL on `token_families f`: not
/// revoked, and the browser session it was issued in (if any) not ended, by
/// sign-out, by the sessions API or by a new sign-in in the same browser
/// (Scalekit: a revoked session "cannot be used for any future API requests
/// or application access"). Every check of an access token, a refresh token
/// or a code goes through it. With no family (a client-credentials token,
/// `LEFT JOIN`ed) it holds.
const FAMILY_IS_LIVE: &str = "f.revoked_at IS NULL AND NOT EXISTS \
     (SELECT 1 FROM browser_sessions s WHERE s.id = f.session_id AND s.ended_at IS NOT NULL)";

/// Whether the family `family_id` exists and is live ([`FAMILY_IS_LIVE`]):
/// its tokens may be used and new ones issued from it.
///
/// # Errors
/// Database errors.
pub fn token_family_is_live(conn: &Connection, family_id: &str) -> Result<bool> {
    let live: Option<i64> = conn
        .prepare_cached(&format!(
            "SELECT 1 FROM token_families f WHERE f.id = ?1 AND {FAMILY_IS_LIVE}"
        ))?
        .query_row([family_id], |row| row.get(0))
        .optional()?;
    Ok(live.is_some())
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRow {
    /// SHA-256 hex of the token.
    pub token_hash: String,
    /// Its family.
    pub family_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// When it was exchanged (rotated), if it was.
    pub used_at: Option<i64>,
}

/// Stores a refresh token hash.
///
/// # Errors
/// Database errors.
pub fn insert_refresh_token(
    conn: &Connection,
    token_hash: &str,
    family_id: &str,
    expires_at: i64,
) -> Result<()> {
    conn.prepare_cached("INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(
        params![token_hash, family_id, now(), expires_at],
    )?;
    Ok(())
}

/// The refresh token with this hash.
///
/// # Errors
/// Database errors.
pub fn refresh_token_by_hash(
    conn: &Connection,
    token_hash: &str,
) -> Result<Option<RefreshTokenRow>> {
    Ok(conn
        .prepare_cached("SELECT token_hash, family_id, created_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = ?1")?
        .query_row(
            [token_hash],
            |row| {
                Ok(RefreshTokenRow {
                    token_hash: row.get(0)?,
                    family_id: row.get(1)?,
                    created_at: row.get(2)?,
                    expires_at: row.get(3)?,
                    used_at: row.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Marks a refresh token used; `false` if it already was.
///
/// # Errors
/// Database errors.
pub fn mark_refresh_token_used(conn: &Connection, token_hash: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL",
        )?
        .execute(params![token_hash, now()])?
        == 1)
}

/// Records an issued access token by `jti`.
///
/// # Errors
/// Database errors.
pub fn insert_access_token(
    conn: &Connection,
    jti: &str,
    family_id: Option<&str>,
    client_id: &str,
    user_id: Option<&str>,
    expires_at: i64,
) -> Result<()> {
    conn.prepare_cached("INSERT INTO access_tokens (jti, family_id, client_id, user_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(
        params![jti, family_id, client_id, user_id, expires_at],
    )?;
    Ok(())
}

/// Whether the access token `jti` is known, unexpired, not revoked, and its
/// family (if any) is live ([`FAMILY_IS_LIVE`]).
///
/// # Errors
/// Database errors.
pub fn access_token_is_live(conn: &Connection, jti: &str) -> Result<bool> {
    let live: Option<i64> = conn
        .prepare_cached(&format!(
            "SELECT 1 FROM access_tokens a LEFT JOIN token_families f ON f.id = a.family_id \
             WHERE a.jti = ?1 AND a.revoked_at IS NULL AND a.expires_at > ?2 AND {FAMILY_IS_LIVE}"
        ))?
        .query_row(params![jti, now()], |row| row.get(0))
        .optional()?;
    Ok(live.is_some())
}

/// Revokes one access token.
///
/// # Errors
/// Database errors.
pub fn revoke_access_token(conn: &Connection, jti: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE access_tokens SET revoked_at = ?2 WHERE jti = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![jti, now()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;
    use crate::db::Db;

    #[tokio::test]
    async fn family_revocation_kills_access_tokens() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let family = TokenFamily {
                id: "tkf_1".into(),
                user_id: Some("usr_1".into()),
                client_id: "ntvc_demo".into(),
                session_id: Some("ses_1".into()),
                scope: "openid".into(),
                created_at: now(),
                revoked_at: None,
            };
            insert_token_family(c, &family)?;
            insert_access_token(
                c,
                "tkn_a",
                Some("tkf_1"),
                "ntvc_demo",
                Some("usr_1"),
                now() + 60,
            )?;
            insert_access_token(c, "tkn_b", None, "skc_demo", None, now() + 60)?;
            insert_access_token(c, "tkn_old", None, "skc_demo", None, now() - 1)?;
            insert_refresh_token(c, "hash", "tkf_1", now() + 60)?;
            assert!(access_token_is_live(c, "tkn_a")? && access_token_is_live(c, "tkn_b")?);
            assert!(
                !access_token_is_live(c, "tkn_old")? && !access_token_is_live(c, "tkn_unknown")?
            );
            assert!(mark_refresh_token_used(c, "hash")?);
            assert!(!mark_refresh_token_used(c, "hash")?);
            revoke_token_family(c, "tkf_1", "test")?;
            assert!(!access_token_is_live(c, "tkn_a")?);
            assert!(token_family_by_id(c, "tkf_1")?
                .unwrap()
                .revoked_at
                .is_some());
            revoke_access_token(c, "tkn_b")?;
            assert!(!access_token_is_live(c, "tkn_b")?);
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn ending_the_session_ends_its_families() {
        let db = Db::open(&Storage::InMemory).unwrap();
        db.call(|c| {
            let config = crate::config::Config::for_tests();
            let user = crate::db::find_or_create_user_by_email(c, "t@example.com")?;
            for end in [
                crate::db::end_browser_session,
                crate::db::revoke_browser_session,
            ] {
                let (session, _) =
                    crate::db::create_browser_session(c, &config, &user.id, "conn_email")?;
                let family = TokenFamily {
                    id: format!("tkf_{}", session.id),
                    user_id: Some(user.id.clone()),
                    client_id: "ntvc_demo".into(),
                    session_id: Some(session.id.clone()),
                    scope: "openid".into(),
                    created_at: now(),
                    revoked_at: None,
                };
                insert_token_family(c, &family)?;
                let jti = format!("tkn_{}", session.id);
                insert_access_token(c, &jti, Some(&family.id), "ntvc_demo", None, now() + 60)?;
                assert!(token_family_is_live(c, &family.id)? && access_token_is_live(c, &jti)?);
                end(c, &session.id)?;
                assert!(!token_family_is_live(c, &family.id)? && !access_token_is_live(c, &jti)?);
            }
            assert!(!token_family_is_live(c, "tkf_unknown")?);
            Ok(())
        })
        .await
        .unwrap();
    }
}
