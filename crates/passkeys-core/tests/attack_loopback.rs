//! Attacks on the loopback redirect listener (RFC 8252 §7.3, §8.3): other
//! local processes and web pages can reach 127.0.0.1. Oversized or slow
//! requests and floods are bounded and do not block the real answer; a page
//! on another origin never reads anything useful, and no token or code ever
//! appears in any answer the loopback sends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Env, Pending};
use passkeys_core::RedirectMode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

fn port_of(pending: &Pending) -> u16 {
    Url::parse(&pending.redirect_uri()).unwrap().port().unwrap()
}

/// Sends raw bytes and reads the whole answer (the listener closes after answering).
async fn raw(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // The listener may answer (and close) before reading everything.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn oversized_request_line_is_refused() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let port = port_of(&pending);
    let request = format!(
        "GET /callback?state={}&code=c&pad={} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        pending.state(),
        "a".repeat(64 * 1024)
    );

    let answer = raw(port, request.as_bytes()).await;

    // 431, or a reset when the listener closed with the rest still unread.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer:.200}"
    );
    pending.assert_still_pending();
    pending.assert_nothing_stored().await;
    pending.complete_through_loopback(&env).await;
    assert_eq!(env.code_grants(), 1);
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let port = port_of(&pending);
    let headers: String = (0..2000)
        .map(|index| format!("X-Flood-{index}: {}\r\n", "b".repeat(40)))
        .collect();
    let request = format!(
        "GET /callback?state={}&code=c HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n",
        pending.state()
    );

    let answer = raw(port, request.as_bytes()).await;

    // 431, or a reset when the listener closed with the rest still unread.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer:.200}"
    );
    pending.assert_still_pending();
    pending.complete_through_loopback(&env).await;
    assert_eq!(env.code_grants(), 1);
}

#[tokio::test]
async fn a_head_just_past_the_cap_is_refused_not_processed() {
    // Given a callback with our state whose head is 8 KiB + 500 bytes: past
    // the cap, but ending within the read after it
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let port = port_of(&pending);
    let start = format!(
        "GET /callback?state={}&code=attacker-code HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ",
        pending.state()
    );
    let pad = 8 * 1024 + 500 - start.len();
    let request = format!("{start}{}\r\n\r\n", "a".repeat(pad));

    // When it reaches the listener
    let answer = raw(port, request.as_bytes()).await;

    // Then it is answered 431 and goes no further: no code was taken
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
        "{answer:.200}"
    );
    pending.assert_still_pending();
    pending.assert_nothing_stored().await;
    pending.complete_through_loopback(&env).await;
    assert_eq!(env.code_grants(), 1, "only the real code was exchanged");
}

#[tokio::test]
async fn slow_client_that_never_finishes_is_cut_off() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let port = port_of(&pending);

    // A client that starts a request and then stalls.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    slow.write_all(b"GET /callback?state=").await.unwrap();

    // The listener closes it on its own (bounded read time); the outer bound
    // only keeps a broken listener from hanging the test.
    let mut buffer = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(60), slow.read(&mut buffer)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the stalled connection was not closed: {closed:?}"
    );
    pending.assert_still_pending();
    pending.complete_through_loopback(&env).await;
}

#[tokio::test]
async fn stalled_connections_do_not_block_the_real_answer() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let port = port_of(&pending);
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.write_all(b"GET /callback?").await.unwrap();
        stalled.push(stream);
    }

    pending.complete_through_loopback(&env).await;
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_connections_at_once_are_answered_and_the_sign_in_completes() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let port = port_of(&pending);
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    let wrong = format!(
        "GET /callback?code=c&state={}x HTTP/1.1\r\n\r\n",
        pending.state()
    );
    let flood: Vec<_> = (0..300)
        .map(|index| {
            let request = match index % 3 {
                0 => wrong.clone(),
                1 => "GET /favicon.ico HTTP/1.1\r\n\r\n".to_string(),
                _ => "GET /callback HTTP/1.1\r\n\r\n".to_string(),
            };
            tokio::spawn(async move { raw(port, request.as_bytes()).await })
        })
        .collect();
    for request in flood {
        let answer = request.await.unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 404"),
            "{answer:.100}"
        );
    }

    pending.assert_still_pending();
    pending.complete_through_loopback(&env).await;
    assert_eq!(env.code_grants(), 1);
    drop(idle);
}

#[tokio::test]
async fn page_on_another_origin_reads_nothing_and_no_answer_carries_a_token() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let port = port_of(&pending);
    let state = pending.state();
    let cross_site = "Origin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: cors\r\nReferer: https://evil.example/\r\n";
    let mut answers = Vec::new();

    // A CORS preflight, a cross-site form POST and cross-site GETs.
    for request in [
        format!("OPTIONS /callback?state={state} HTTP/1.1\r\n{cross_site}Access-Control-Request-Method: GET\r\n\r\n"),
        format!("POST /callback HTTP/1.1\r\n{cross_site}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\ncode=c&state=guessed"),
        format!("GET /callback?code=c&state=guessed HTTP/1.1\r\n{cross_site}\r\n"),
        format!("GET /token HTTP/1.1\r\n{cross_site}\r\n"),
        format!("GET / HTTP/1.1\r\nHost: evil.example\r\n{cross_site}\r\n"),
    ] {
        let answer = raw(port, request.as_bytes()).await;
        assert!(!answer.starts_with("HTTP/1.1 200"), "{answer:.120}");
        answers.push(answer);
    }
    pending.assert_still_pending();

    // The real answer, as the browser would send it.
    let callback = pending.real_callback(&env).await;
    let code = common::query(&callback)["code"].clone();
    let target = &callback.as_str()[callback.as_str().find("/callback").unwrap()..];
    answers.push(
        raw(
            port,
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
        )
        .await,
    );
    let config = pending.client.config().clone();
    let store = std::sync::Arc::clone(&pending.store);
    pending.task.await.unwrap().unwrap();
    let session = store.session(&config).await.unwrap();

    assert!(answers.last().unwrap().contains("You are signed in"));
    let secrets = [
        session.access_token.secret().to_string(),
        session.refresh_token.unwrap().secret().to_string(),
        session.id_token.unwrap().secret().to_string(),
        code,
        state,
    ];
    for answer in &answers {
        let lower = answer.to_ascii_lowercase();
        assert!(
            !lower.contains("access-control-allow-origin"),
            "{answer:.300}"
        );
        assert!(lower.contains("cache-control: no-store"), "{answer:.300}");
        for secret in &secrets {
            assert!(
                !answer.contains(secret.as_str()),
                "a secret leaked: {answer:.300}"
            );
        }
    }
}

#[tokio::test]
async fn listener_is_bound_to_loopback_only() {
    // RFC 8252 §7.3/§8.3: the literal 127.0.0.1, not every interface.
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let redirect = Url::parse(&pending.redirect_uri()).unwrap();
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    let port = port_of(&pending);

    // This machine's address on its default route (no packet is sent).
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let outside = probe
        .connect("192.0.2.1:9")
        .ok()
        .and_then(|()| probe.local_addr().ok())
        .map(|address| address.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    if let Some(ip) = outside {
        let reached =
            tokio::time::timeout(Duration::from_secs(5), TcpStream::connect((ip, port))).await;
        assert!(
            !matches!(reached, Ok(Ok(_))),
            "the loopback listener answered on {ip}"
        );
    }
    pending.assert_still_pending();
    pending.complete_through_loopback(&env).await;
}
