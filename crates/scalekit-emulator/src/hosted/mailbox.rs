//! The development mailbox: where verification emails "arrive".
//!
//! Each message is stored (readable at `GET /_dev/mailbox?email=<addr>`,
//! newest first) and echoed to the configured [`MailSink`]: one
//! `mailbox: to=… subject="…" code=… link=…` line on stdout for the binary, a
//! `tracing` event otherwise. Development only: it shows sign-in codes to
//! anyone who can reach the emulator.

use std::io::Write as _;

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::forms::{valid_email, JsonError};
use super::store::{self, MailMessage};
use crate::config::MailSink;
use crate::error::Result;
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
    state
        .db
        .call(move |c| store::insert_mail(c, &stored))
        .await?;
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

/// Query of `GET /_dev/mailbox`.
#[derive(Debug, Deserialize)]
pub struct MailboxQuery {
    email: Option<String>,
}

/// `GET /_dev/mailbox?email=`: `{"messages":[{to,subject,body,code,link,created_at}]}`.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<MailboxQuery>,
) -> Result<Json<Value>, JsonError> {
    let email = valid_email(query.email.as_deref().unwrap_or(""))?;
    let messages = state
        .db
        .call(move |c| store::mail_for(c, &email, LIMIT))
        .await?;
    Ok(Json(json!({ "messages": messages })))
}
