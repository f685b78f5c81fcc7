//! The dev mailbox as tests read it (at its address with this run's key,
//! [`DevMailbox`]), and a magic link followed as a person would.

use reqwest::{Client, StatusCode};
use serde::Deserialize;
use url::Url;

use super::{failed, redirect_target, send, submit_continue, text};
use crate::error::Result;
use crate::DevMailbox;

/// One message of the dev mailbox: the message the route writes.
pub use crate::hosted::MailMessage as MailboxMessage;

#[derive(Deserialize)]
struct Messages {
    messages: Vec<MailboxMessage>,
}

/// Messages sent to `email`, newest first.
///
/// # Errors
/// When the mailbox route fails.
pub async fn mailbox(
    http: &Client,
    mailbox: &DevMailbox,
    email: &str,
) -> Result<Vec<MailboxMessage>> {
    let url = mailbox.messages_url(Some(email));
    let response = send(http.get(url), "reading the dev mailbox").await?;
    if response.status() != StatusCode::OK {
        return Err(failed("dev mailbox", response.status()));
    }
    let messages: Messages = response
        .json()
        .await
        .map_err(|e| failed("dev mailbox JSON", e))?;
    Ok(messages.messages)
}

/// The newest verification code sent to `email`.
///
/// # Errors
/// When the mailbox route fails.
pub async fn latest_code(
    http: &Client,
    dev_mailbox: &DevMailbox,
    email: &str,
) -> Result<Option<String>> {
    Ok(mailbox(http, dev_mailbox, email)
        .await?
        .into_iter()
        .find_map(|m| m.code))
}

/// The newest magic link sent to `email`.
///
/// # Errors
/// When the mailbox route fails.
pub async fn latest_link(
    http: &Client,
    dev_mailbox: &DevMailbox,
    email: &str,
) -> Result<Option<String>> {
    Ok(mailbox(http, dev_mailbox, email)
        .await?
        .into_iter()
        .find_map(|m| m.link))
}

/// Opens a magic link in `http` and, when it asks "Continue as … to <app>?"
/// (a native client's request), presses Continue; returns where the browser
/// is sent (the app's callback with its code, or `next`) without following.
///
/// # Errors
/// When a page answers unexpectedly (the message says which step).
pub async fn follow_magic_link(http: &Client, link: &str) -> Result<Url> {
    let url = Url::parse(link).map_err(|e| failed("magic link", e))?;
    let response = send(http.get(url.clone()), "opening the magic link").await?;
    if response.status().is_redirection() {
        return redirect_target(&response, &url);
    }
    let page = text(response, StatusCode::OK).await?;
    if !page.contains("id=\"continue-as\"") {
        return Err(failed("magic link", "no Continue page"));
    }
    submit_continue(http, &page, &url, None).await
}
