//! The development mailbox: where verification emails "arrive".
//!
//! Each message is stored (readable at this run's mailbox address,
//! `/_dev/mailbox/<key>?email=<addr>`, newest first: see
//! [`crate::dev_mailbox`] for who gets the key) and echoed to the configured
//! [`MailSink`]: one `mailbox: to=… subject="…" code=… link=…` line on stdout
//! for the binary, a `tracing` event otherwise.

use std::io::Write as _;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use rusqlite::{params, Connection};
use serde::Serialize;

use super::forms::{valid_email, JsonError};
use crate::config::MailSink;
use crate::db::now;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Most messages the route returns.
const LIMIT: u32 = 50;

/// Stores and echoes a message.
///
/// # Errors
/// Database errors.
pub async fn deliver(state: &AppState, message: MailMessage) -> Result<()> {
    let line = format!(
        "mailbox: to={} subject={:?} code={} link={}",
        message.to,
        message.subject,
        message.code.as_deref().unwrap_or("-"),
        message.link.as_deref().unwrap_or("-"),
    );
    let stored = message.clone();
    state.db.call(move |c| insert_mail(c, &stored)).await?;
    match state.config.mail_sink {
        MailSink::Stdout => {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
        }
        MailSink::Log => {
            tracing::info!(to = %message.to, subject = %message.subject, "dev mailbox message")
        }
    }
    Ok(())
}

/// Query of the mailbox route.
#[derive(Debug, Deserialize)]
pub struct MailboxQuery {
    email: Option<String>,
}

/// What any address under `/_dev/mailbox` but this run's answers (404).
fn no_mailbox_here() -> JsonError {
    JsonError(Error::NotFound(
        "No dev mailbox at this address. Its address, with a key made at each start, is \
         the line the emulator printed after its base URL (the app shows it in its window)."
            .into(),
    ))
}

/// `GET /_dev/mailbox/{key}?email=`: `{"messages":[{to,subject,body,code,link,created_at}]}`,
/// to `email` (every message without it); 404 unless `key` is this run's.
pub async fn list(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<MailboxQuery>,
) -> Result<Json<Value>, JsonError> {
    if !state.dev_mailbox().has_key(&key) {
        return Err(no_mailbox_here());
    }
    let email = match query.email.as_deref() {
        Some(email) => Some(valid_email(email)?),
        None => None,
    };
    let messages = state
        .db
        .call(move |c| mail_for(c, email.as_deref(), LIMIT))
        .await?;
    Ok(Json(json!({ "messages": messages })))
}

/// `GET /_dev/mailbox` (no key): 404, saying where the address is.
pub async fn without_key() -> JsonError {
    no_mailbox_here()
}

/// One message in the dev mailbox, as `/_dev/mailbox` shows it (and as
/// tests read it back: [`crate::testing::MailboxMessage`]).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MailMessage {
    /// Recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The verification code in it.
    pub code: Option<String>,
    /// The magic link in it.
    pub link: Option<String>,
    /// RFC 3339 time it was sent.
    pub created_at: String,
}

impl std::fmt::Debug for MailMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailMessage")
            .field("to", &self.to)
            .field("body", &"[redacted]")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("link", &self.link.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// Stores a message in the dev mailbox.
///
/// # Errors
/// Database errors.
pub fn insert_mail(conn: &Connection, message: &MailMessage) -> Result<()> {
    conn.execute(
        "INSERT INTO mailbox (to_email, subject, body, code, link, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            message.to,
            message.subject,
            message.body,
            message.code,
            message.link,
            now()
        ],
    )?;
    Ok(())
}

/// Messages to `email` (case-insensitive; every message when `None`),
/// newest first, at most `limit`.
///
/// # Errors
/// Database errors.
pub fn mail_for(conn: &Connection, email: Option<&str>, limit: u32) -> Result<Vec<MailMessage>> {
    let mut statement = conn.prepare(
        "SELECT to_email, subject, body, code, link, created_at FROM mailbox \
         WHERE ?1 IS NULL OR to_email = ?1 COLLATE NOCASE ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = statement.query_map(params![email.map(str::trim), limit], |row| {
        let created: i64 = row.get(5)?;
        Ok(MailMessage {
            to: row.get(0)?,
            subject: row.get(1)?,
            body: row.get(2)?,
            code: row.get(3)?,
            link: row.get(4)?,
            created_at: rfc3339(created),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Storage;
    use crate::db::Db;

    #[tokio::test]
    async fn mailbox_lists_newest_first() {
        let db = Db::open(&Storage::InMemory).unwrap();
        let messages = db
            .call(|c| {
                for n in 1..=3 {
                    let message = MailMessage {
                        to: "M@example.com".into(),
                        subject: format!("s{n}"),
                        body: "b".into(),
                        code: Some(format!("{n}")),
                        link: None,
                        created_at: String::new(),
                    };
                    insert_mail(c, &message)?;
                }
                let all = mail_for(c, None, 50)?;
                assert_eq!(all.len(), 3);
                mail_for(c, Some("m@EXAMPLE.com"), 2)
            })
            .await
            .unwrap();
        assert!(!format!("{:?}", messages[0]).contains("code: Some(\"3\")"));
        let subjects: Vec<_> = messages.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(subjects, ["s3", "s2"]);
        assert!(messages[0].created_at.ends_with('Z'));
    }
}
