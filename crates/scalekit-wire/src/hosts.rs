//! Which `Host` a local server answers: the loopback names with its port,
//! the address it listens on, and the host of its public URL. The emulator
//! and the broker refuse any other `Host` (421) before any route runs, so a
//! web page that reaches them on a person's loopback by DNS rebinding
//! (`evil.example` resolving to 127.0.0.1) sends its own name and gets
//! nothing. Each server answers the refusal in its own shape; the rule is
//! here.

use std::net::SocketAddr;

use url::Url;

/// The `host[:port]` values accepted, lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// For a server bound to `local` (the real port, after binding),
    /// reached also through `public_url` when there is one.
    pub fn new(local: SocketAddr, public_url: Option<&Url>) -> Self {
        let port = local.port();
        let mut hosts = vec![
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        if !local.ip().is_unspecified() && !local.ip().is_loopback() {
            hosts.push(local.to_string());
        }
        if let Some(host) = public_url.and_then(Url::host_str) {
            let host = host.to_ascii_lowercase();
            match public_url.and_then(Url::port) {
                Some(port) => hosts.push(format!("{host}:{port}")),
                None => {
                    hosts.push(host.clone());
                    if let Some(port) = public_url.and_then(Url::port_or_known_default) {
                        hosts.push(format!("{host}:{port}"));
                    }
                }
            }
        }
        hosts.dedup();
        Self(hosts)
    }

    /// Whether a request's `Host` value is one of them (case-insensitive).
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.0.contains(&host)
    }
}

/// The host a request names: its `Host` header when it is visible ASCII
/// (what HTTP libraries read as text), else the request target's authority
/// (an HTTP/2 request or an absolute-form target); `None` when it names none.
pub fn request_host(header: Option<&[u8]>, authority: Option<&str>) -> Option<String> {
    header
        .filter(|value| {
            value
                .iter()
                .all(|b| *b == b'\t' || (0x20..0x7f).contains(b))
        })
        .and_then(|value| std::str::from_utf8(value).ok())
        .map(str::to_owned)
        .or_else(|| authority.map(str::to_owned))
}

/// A `Host` value as it may be logged: no control characters, at most 100
/// characters.
pub fn shown_host(host: &str) -> String {
    host.chars().filter(|c| !c.is_control()).take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_comes_from_the_header_else_the_authority() {
        assert_eq!(
            request_host(Some(b"localhost:1"), Some("other:2")).as_deref(),
            Some("localhost:1")
        );
        for unreadable in [&b"\xff"[..], "ü.example".as_bytes()] {
            assert_eq!(
                request_host(Some(unreadable), Some("other:2")).as_deref(),
                Some("other:2")
            );
        }
        assert_eq!(
            request_host(None, Some("other:2")).as_deref(),
            Some("other:2")
        );
        assert_eq!(request_host(None, None), None);
    }

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
            "localhost:8787.evil.example",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_server_bound_to_an_address_accepts_that_address() {
        let hosts = AllowedHosts::new("10.1.2.3:9000".parse().unwrap(), None);
        assert!(hosts.allows("10.1.2.3:9000"));
        assert!(hosts.allows("localhost:9000"));
        assert!(!hosts.allows("10.1.2.4:9000"));
        let base = Url::parse("http://10.1.2.3:9000").unwrap();
        let with_url = AllowedHosts::new("10.1.2.3:9000".parse().unwrap(), Some(&base));
        assert_eq!(with_url, hosts, "the same name is listed once");
    }

    #[test]
    fn shown_hosts_are_short_and_printable() {
        assert_eq!(shown_host("evil\r\n.example"), "evil.example");
        assert_eq!(shown_host(&"a".repeat(300)).len(), 100);
    }
}
