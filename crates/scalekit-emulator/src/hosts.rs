//! The `Host` check: the emulator answers `localhost`, `127.0.0.1` and
//! `[::1]` with the port it listens on, the address it listens on, and the
//! host of its base URL (the public URL when one is configured); anything
//! else is 421 Misdirected Request before any route runs, so a web page that
//! reaches the emulator by DNS rebinding gets nothing, not the dev mailbox's
//! codes, not a token, not a login page. The rule is
//! [`scalekit_wire::hosts::AllowedHosts`], shared with the passkeys broker;
//! this module is the emulator's middleware and its plain-text answer.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use scalekit_wire::hosts::AllowedHosts;
use scalekit_wire::hosts::{request_host, shown_host};

/// The middleware: 421 and a one-line text for any other `Host` (or none).
pub(crate) async fn check_host(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    let host = request_host(
        request
            .headers()
            .get(header::HOST)
            .map(|value| value.as_bytes()),
        request
            .uri()
            .authority()
            .map(|authority| authority.as_str()),
    );
    match host {
        Some(host) if allowed.allows(&host) => next.run(request).await,
        other => {
            let shown = shown_host(&other.unwrap_or_default());
            tracing::info!(host = %shown, "misdirected request refused");
            (
                StatusCode::MISDIRECTED_REQUEST,
                [(header::CACHE_CONTROL, "no-store")],
                "This server answers only for its own host names (localhost with its port).\n",
            )
                .into_response()
        }
    }
}
