//! DNS rebinding: a web page at `evil.example`, whose name now resolves to
//! 127.0.0.1, reaches the emulator on the person's loopback with its own
//! `Host`. Every route answers it 421 and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scalekit_emulator::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one raw HTTP/1.1 request with this `Host` and returns the status
/// code and the whole answer.
async fn request(port: u16, method: &str, path: &str, host: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    (status, answer)
}

#[tokio::test]
async fn a_foreign_host_gets_421_on_every_route_and_the_own_host_works() {
    let emulator = scalekit_emulator::start(Config::for_tests()).await.unwrap();
    let port = emulator.base_url().port().unwrap();
    // Given a code waiting in the dev mailbox
    let http = scalekit_emulator::testing::browser_client().unwrap();
    let base = emulator.base_url().clone();
    let authorize = scalekit_emulator::testing::authorize_url(
        &base,
        "ntvc_demo",
        "http://127.0.0.1:53682/callback",
        "state-1",
        "verifier-verifier-verifier-verifier-verifier-1",
        &[],
    )
    .unwrap();
    let mailbox = emulator.dev_mailbox();
    scalekit_emulator::testing::sign_in_with_email_code(
        &http,
        &authorize,
        "ann@example.com",
        &mailbox,
    )
    .await
    .unwrap();
    let mailbox_path = mailbox.messages_url(Some("ann@example.com"));
    let mailbox_path = &mailbox_path[url::Position::BeforePath..];
    let token_body = "grant_type=client_credentials&client_id=skc_demo&client_secret=".to_owned()
        + scalekit_emulator::config::TEST_CLIENT_SECRET;
    let routes = [
        ("GET", "/.well-known/openid-configuration", ""),
        ("GET", mailbox_path, ""),
        ("POST", "/oauth/token", token_body.as_str()),
        ("GET", "/ui/login", ""),
        ("GET", "/no/such/page", ""),
    ];
    // When a page at evil.example asks
    for (method, path, body) in routes {
        for host in [
            format!("evil.example:{port}"),
            "evil.example".to_owned(),
            format!("localhost:{port}.evil.example"),
            format!("localhost:{}", port.wrapping_add(1)),
        ] {
            let (status, answer) = request(port, method, path, &host, body).await;
            // Then it gets 421 and nothing of the route
            assert_eq!(status, 421, "{method} {path} as {host}: {answer}");
            assert!(!answer.contains("issuer"), "{answer}");
            assert!(!answer.contains("code"), "{answer}");
            assert!(!answer.contains("access_token"), "{answer}");
        }
    }
    // The emulator's own names work
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, answer) =
            request(port, "GET", "/.well-known/openid-configuration", &host, "").await;
        assert_eq!(status, 200, "{host}: {answer}");
        let (status, answer) = request(port, "GET", mailbox_path, &host, "").await;
        assert_eq!(status, 200, "{host}: {answer}");
        assert!(answer.contains("\"code\""), "{answer}");
        let (status, answer) = request(port, "POST", "/oauth/token", &host, &token_body).await;
        assert_eq!(status, 200, "{host}: {answer}");
        assert!(answer.contains("access_token"), "{answer}");
    }
    emulator.shutdown().await;
}
