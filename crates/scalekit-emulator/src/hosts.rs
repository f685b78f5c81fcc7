//! Which `Host` the emulator answers: `localhost`, `127.0.0.1` and `[::1]`
//! with the port it listens on, the address it listens on, and the host of
//! its base URL (the public URL when one is configured). Anything else is
//! 421 Misdirected Request before any route runs: a web page that reaches
//! the emulator on a person's loopback by DNS rebinding (`evil.example`
//! resolving to 127.0.0.1) sends its own name and gets nothing, not the dev
//! mailbox's codes, not a token, not a login page.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

/// The `host[:port]` values accepted, lower case.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// For an emulator bound to `local` (the real port, after binding) with
    /// base URL `base_url`.
    pub fn new(local: SocketAddr, base_url: &Url) -> Self {
        let port = local.port();
        let mut hosts = vec![
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        if !local.ip().is_unspecified() && !local.ip().is_loopback() {
            hosts.push(local.to_string());
        }
        if let Some(host) = base_url.host_str() {
            let host = host.to_ascii_lowercase();
            match base_url.port() {
                Some(port) => hosts.push(format!("{host}:{port}")),
                None => {
                    hosts.push(host.clone());
                    if let Some(port) = base_url.port_or_known_default() {
                        hosts.push(format!("{host}:{port}"));
                    }
                }
            }
        }
        hosts.dedup();
        Self(hosts)
    }

    /// Whether a request's `Host` value is one of them.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.0.contains(&host)
    }
}

/// The middleware: 421 and a one-line text for any other `Host` (or none).
pub(crate) async fn check_host(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if allowed.allows(&host) => next.run(request).await,
        other => {
            let shown: String = other
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_the_port_and_the_base_url_host_are_allowed() {
        let base = Url::parse("https://Auth.Example.com").unwrap();
        let hosts = AllowedHosts::new("127.0.0.1:8900".parse().unwrap(), &base);
        for ok in [
            "localhost:8900",
            "LOCALHOST:8900",
            "127.0.0.1:8900",
            "[::1]:8900",
            "auth.example.com",
            "auth.example.com:443",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:8900",
            "localhost:8901",
            "localhost",
            "127.0.0.1",
            "auth.example.com:8900",
            "localhost:8900.evil.example",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn an_emulator_bound_to_an_address_accepts_that_address() {
        let base = Url::parse("http://10.1.2.3:9000").unwrap();
        let hosts = AllowedHosts::new("10.1.2.3:9000".parse().unwrap(), &base);
        assert!(hosts.allows("10.1.2.3:9000"));
        assert!(hosts.allows("localhost:9000"));
        assert!(!hosts.allows("10.1.2.4:9000"));
    }
}
