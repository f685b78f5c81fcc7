//! The `Host` check: the broker answers the loopback names with its port,
//! the address it listens on, and the host of its configured public URL
//! ([`scalekit_wire::hosts::AllowedHosts`], the rule it shares with the
//! emulator). Anything else is 421 Misdirected Request, in the broker's
//! error shape, before any route runs: a web page that reaches a broker on a
//! person's loopback by DNS rebinding (`evil.example` resolving to
//! 127.0.0.1) sends its own name and gets nothing.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
pub(crate) use scalekit_wire::hosts::AllowedHosts;
use scalekit_wire::hosts::{request_host, shown_host};

use crate::error::Error;

/// The middleware: 421 in the error shape for any other `Host`.
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
        Some(host) => {
            tracing::info!(host = %shown_host(&host), "misdirected request");
            Error::MisdirectedRequest(host.chars().take(100).collect()).into_response_with_id(None)
        }
        None => {
            Error::MisdirectedRequest("a request without Host".into()).into_response_with_id(None)
        }
    }
}
