//! Pending authorization requests and issued authorization codes (stored as
//! SHA-256 hashes only).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::now;
use crate::error::Result;

/// A pending `/oauth/authorize` request waiting for the user to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// Opaque id passed to the login page as `auth_request`.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The validated redirect URI.
    pub redirect_uri: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// The client's `nonce`, put in the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// PKCE method (`S256`).
    pub code_challenge_method: Option<String>,
    /// `login`, `create`, `select_account` or `none`.
    pub prompt: Option<String>,
    /// Email to prefill.
    pub login_hint: Option<String>,
    /// OIDC `max_age`: a session authenticated longer ago than this many
    /// seconds does not count.
    pub max_age: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

const REQUEST_COLUMNS: &str = "id, client_id, redirect_uri, scope, state, nonce, code_challenge, \
    code_challenge_method, prompt, login_hint, created_at, expires_at, max_age";

fn request_from_row(row: &Row<'_>) -> rusqlite::Result<AuthRequest> {
    Ok(AuthRequest {
        id: row.get(0)?,
        client_id: row.get(1)?,
        redirect_uri: row.get(2)?,
        scope: row.get(3)?,
        state: row.get(4)?,
        nonce: row.get(5)?,
        code_challenge: row.get(6)?,
        code_challenge_method: row.get(7)?,
        prompt: row.get(8)?,
        login_hint: row.get(9)?,
        created_at: row.get(10)?,
        expires_at: row.get(11)?,
        max_age: row.get(12)?,
    })
}

/// Stores a pending authorization request.
///
/// # Errors
/// Database errors.
pub fn insert_auth_request(conn: &Connection, request: &AuthRequest) -> Result<()> {
    conn.execute(
        &format!("INSERT INTO auth_requests ({REQUEST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            request.id,
            request.client_id,
            request.redirect_uri,
            request.scope,
            request.state,
            request.nonce,
            request.code_challenge,
            request.code_challenge_method,
            request.prompt,
            request.login_hint,
            request.created_at,
            request.expires_at,
            request.max_age
        ],
    )?;
    Ok(())
}

/// A pending, unexpired authorization request (not consumed).
///
/// # Errors
/// Database errors.
pub fn auth_request_by_id(conn: &Connection, id: &str) -> Result<Option<AuthRequest>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM auth_requests WHERE id = ?1 AND expires_at > ?2"
            ),
            params![id, now()],
            request_from_row,
        )
        .optional()?)
}

/// Removes and returns a pending, unexpired authorization request.
///
/// # Errors
/// Database errors.
pub fn take_auth_request(conn: &Connection, id: &str) -> Result<Option<AuthRequest>> {
    let request = auth_request_by_id(conn, id)?;
    conn.execute(
        "DELETE FROM auth_requests WHERE id = ?1 OR expires_at <= ?2",
        params![id, now()],
    )?;
    Ok(request)
}

/// An issued authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCodeRow {
    /// SHA-256 hex of the code.
    pub code_hash: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was issued for.
    pub redirect_uri: String,
    /// The user.
    pub user_id: String,
    /// The browser session (`sid`).
    pub session_id: String,
    /// Granted scopes.
    pub scope: String,
    /// The nonce for the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// When it was redeemed, if it was.
    pub used_at: Option<i64>,
    /// The token family its tokens belong to.
    pub family_id: String,
}

const CODE_COLUMNS: &str =
    "code_hash, client_id, redirect_uri, user_id, session_id, scope, nonce, \
    code_challenge, auth_time, created_at, expires_at, used_at, family_id";

/// Stores an issued code.
///
/// # Errors
/// Database errors.
pub fn insert_auth_code(conn: &Connection, code: &AuthCodeRow) -> Result<()> {
    conn.execute(
        &format!("INSERT INTO auth_codes ({CODE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            code.code_hash,
            code.client_id,
            code.redirect_uri,
            code.user_id,
            code.session_id,
            code.scope,
            code.nonce,
            code.code_challenge,
            code.auth_time,
            code.created_at,
            code.expires_at,
            code.used_at,
            code.family_id
        ],
    )?;
    Ok(())
}

/// The code with this hash, used or not.
///
/// # Errors
/// Database errors.
pub fn auth_code_by_hash(conn: &Connection, code_hash: &str) -> Result<Option<AuthCodeRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {CODE_COLUMNS} FROM auth_codes WHERE code_hash = ?1"),
            [code_hash],
            |row| {
                Ok(AuthCodeRow {
                    code_hash: row.get(0)?,
                    client_id: row.get(1)?,
                    redirect_uri: row.get(2)?,
                    user_id: row.get(3)?,
                    session_id: row.get(4)?,
                    scope: row.get(5)?,
                    nonce: row.get(6)?,
                    code_challenge: row.get(7)?,
                    auth_time: row.get(8)?,
                    created_at: row.get(9)?,
                    expires_at: row.get(10)?,
                    used_at: row.get(11)?,
                    family_id: row.get(12)?,
                })
            },
        )
        .optional()?)
}

/// When the user authenticated for the code that started a token family.
///
/// # Errors
/// Database errors.
pub fn auth_time_of_family(conn: &Connection, family_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT auth_time FROM auth_codes WHERE family_id = ?1",
            [family_id],
            |row| row.get(0),
        )
        .optional()?)
}

/// Marks a code used; `false` if it already was.
///
/// # Errors
/// Database errors.
pub fn mark_auth_code_used(conn: &Connection, code_hash: &str) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE auth_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
        params![code_hash, now()],
    )? == 1)
}
