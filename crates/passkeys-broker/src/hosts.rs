//! Which `Host` the broker answers: the loopback names with its port, the
//! address it listens on, and the host of its configured public URL.
//! Anything else is 421 Misdirected Request before any route runs: a web
//! page that reaches a broker on a person's loopback by DNS rebinding
//! (`evil.example` resolving to 127.0.0.1) sends its own name and gets
//! nothing.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use url::Url;

use crate::error::Error;

/// The `host[:port]` values accepted, lower case.
#[derive(Debug, Clone)]
pub(crate) struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// For a broker bound to `local` (the real port, after binding) with an
    /// optional public URL.
    pub(crate) fn new(local: SocketAddr, public_url: Option<&Url>) -> Self {
        let port = local.port();
        let mut hosts = vec![
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        if !local.ip().is_unspecified() && !local.ip().is_loopback() {
            hosts.push(local.to_string());
        }
        if let Some(url) = public_url {
            if let Some(host) = url.host_str() {
                let host = host.to_ascii_lowercase();
                match url.port() {
                    Some(port) => hosts.push(format!("{host}:{port}")),
                    None => {
                        hosts.push(host.clone());
                        if let Some(port) = url.port_or_known_default() {
                            hosts.push(format!("{host}:{port}"));
                        }
                    }
                }
            }
        }
        Self(hosts)
    }

    /// Whether a request's `Host` value is one of them.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.0.contains(&host)
    }
}

/// The middleware: 421 in the error shape for any other `Host`.
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
        Some(host) => {
            tracing::info!(host = %host.chars().take(100).collect::<String>(), "misdirected request");
            Error::MisdirectedRequest(host.chars().take(100).collect()).into_response_with_id(None)
        }
        None => {
            Error::MisdirectedRequest("a request without Host".into()).into_response_with_id(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_the_port_and_the_public_host_are_allowed() {
        let public = Url::parse("https://Passkeys-Broker.example.com").unwrap();
        let hosts = AllowedHosts::new("127.0.0.1:8787".parse().unwrap(), Some(&public));
        for ok in [
            "localhost:8787",
            "LOCALHOST:8787",
            "127.0.0.1:8787",
            "[::1]:8787",
            "passkeys-broker.example.com",
            "passkeys-broker.example.com:443",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:8787",
            "localhost:8788",
            "localhost",
            "127.0.0.1",
            "passkeys-broker.example.com:8787",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_broker_bound_to_an_address_accepts_that_address() {
        let hosts = AllowedHosts::new("10.1.2.3:9000".parse().unwrap(), None);
        assert!(hosts.allows("10.1.2.3:9000"));
        assert!(hosts.allows("localhost:9000"));
        assert!(!hosts.allows("10.1.2.4:9000"));
    }
}
