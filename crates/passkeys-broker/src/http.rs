//! The outgoing HTTP client and how its failures are reported.

use std::time::Duration;

use crate::error::{Error, Result};

/// A client for calls to the environment: no redirects followed (a redirect
/// could carry the broker's token elsewhere), a timeout on every call.
///
/// # Errors
/// [`Error::Internal`] when the TLS stack cannot be set up.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("passkeys-broker/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// Maps a failed send (no HTTP answer) to an upstream error. `what` names
/// the call for the message.
pub(crate) fn send_error(what: &str, error: &reqwest::Error, timeout: Duration) -> Error {
    if error.is_timeout() {
        Error::UpstreamTimeout(timeout.as_secs().max(1))
    } else if error.is_connect() {
        Error::UpstreamUnreachable(format!("{what}: cannot connect"))
    } else {
        Error::UpstreamUnreachable(format!("{what}: {}", describe(error)))
    }
}

/// The innermost cause of a reqwest error, without the URL.
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    message
}
