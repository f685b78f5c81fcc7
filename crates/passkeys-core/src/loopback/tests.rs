use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::error::ErrorKind;

async fn raw_request(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

async fn get(port: u16, target: &str) -> String {
    raw_request(
        port,
        &format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n\r\n"),
    )
    .await
}

#[tokio::test]
async fn ignores_strays_and_completes_on_the_right_state() {
    let listener = LoopbackListener::bind(0).await.unwrap();
    let port = listener.port();
    assert_ne!(port, 0);
    assert_eq!(
        listener.redirect_uri().unwrap().as_str(),
        format!("http://127.0.0.1:{port}/callback")
    );
    let state = CsrfToken::new("the-state".into());

    let browser = tokio::spawn(async move {
        // Given stray requests first
        let favicon = get(port, "/favicon.ico").await;
        let other = get(port, "/other?code=c&state=the-state").await;
        let forged = get(port, "/callback?code=c&state=forged").await;
        let post = raw_request(
            port,
            "POST /callback?code=c&state=the-state HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        // When the real answer arrives
        let real = get(port, "/callback?code=the-code&state=the-state").await;
        (favicon, other, forged, post, real)
    });
    let code = listener.wait_for_callback(&state).await.unwrap();
    let (favicon, other, forged, post, real) = browser.await.unwrap();

    // Then only it completes the sign-in
    assert_eq!(code.code.secret(), "the-code");
    assert!(favicon.starts_with("HTTP/1.1 404 "), "{favicon}");
    assert!(other.starts_with("HTTP/1.1 404 "), "{other}");
    assert!(forged.starts_with("HTTP/1.1 400 "), "{forged}");
    assert!(forged.contains("does not belong"));
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    assert!(real.starts_with("HTTP/1.1 200 "), "{real}");
    assert!(real.contains("You are signed in \u{2014} return to the app."));
    assert!(real.contains("Content-Type: text/html; charset=utf-8"));
    assert!(!real.contains("the-code"));
}

#[tokio::test]
async fn provider_error_is_shown_escaped_and_returned() {
    let listener = LoopbackListener::bind(0).await.unwrap();
    let port = listener.port();
    let state = CsrfToken::new("s".into());
    let browser = tokio::spawn(async move {
        get(
            port,
            "/callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=s",
        )
        .await
    });
    let error = listener.wait_for_callback(&state).await.unwrap_err();
    let page = browser.await.unwrap();
    assert_eq!(error.kind(), ErrorKind::SignInFailed);
    assert!(error.to_string().contains("access_denied"));
    assert!(page.starts_with("HTTP/1.1 400 "));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>"));
}

#[tokio::test]
async fn oversized_and_idle_connections_do_not_block_the_answer() {
    let listener = LoopbackListener::bind(0).await.unwrap();
    let port = listener.port();
    let state = CsrfToken::new("s".into());
    let browser = tokio::spawn(async move {
        // An idle connection that never sends anything stays open meanwhile.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let huge = format!(
            "GET /callback?state=s&code=c HTTP/1.1\r\nX-Pad: {}\r\n\r\n",
            "a".repeat(10_000)
        );
        let too_large = raw_request(port, &huge).await;
        let real = get(port, "/callback?state=s&code=ok").await;
        (too_large, real)
    });
    let code = listener.wait_for_callback(&state).await.unwrap();
    let (too_large, real) = browser.await.unwrap();
    assert!(too_large.starts_with("HTTP/1.1 431 "), "{too_large}");
    assert!(real.starts_with("HTTP/1.1 200 "));
    assert_eq!(code.code.secret(), "ok");
}

/// A callback request whose head (request line and headers, without the
/// blank line) is exactly `length` bytes.
fn head_of_length(target: &str, length: usize) -> String {
    let start = format!("GET {target} HTTP/1.1\r\nX-Pad: ");
    format!("{start}{}\r\n\r\n", "a".repeat(length - start.len()))
}

#[tokio::test]
async fn the_head_cap_is_exact() {
    let listener = LoopbackListener::bind(0).await.unwrap();
    let port = listener.port();
    let state = CsrfToken::new("s".into());
    let browser = tokio::spawn(async move {
        // One byte past the cap, ending within what one more read would bring
        let over = raw_request(
            port,
            &head_of_length("/callback?state=s&code=over", MAX_HEAD_BYTES + 1),
        )
        .await;
        // Exactly the cap
        let at = raw_request(
            port,
            &head_of_length("/callback?state=s&code=at", MAX_HEAD_BYTES),
        )
        .await;
        (over, at)
    });
    let code = listener.wait_for_callback(&state).await.unwrap();
    assert_eq!(
        code.code.secret(),
        "at",
        "the head past the cap was processed"
    );
    let (over, at) = browser.await.unwrap();
    assert!(
        over.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
        "{over}"
    );
    assert!(at.starts_with("HTTP/1.1 200 "), "{at}");
}

#[tokio::test]
async fn taken_port_is_named_and_dropping_frees_it() {
    let first = LoopbackListener::bind(0).await.unwrap();
    let port = first.port();
    let error = LoopbackListener::bind(port).await.unwrap_err();
    assert!(matches!(error, Error::PortInUse { port: p } if p == port));
    assert!(error.to_string().contains(&port.to_string()));

    // Waiting, then cancelled (the future is dropped): the port is free again.
    let state = CsrfToken::new("s".into());
    let cancelled =
        tokio::time::timeout(Duration::from_millis(20), first.wait_for_callback(&state)).await;
    assert!(cancelled.is_err());
    drop(first);
    let again = LoopbackListener::bind(port).await.unwrap();
    assert_eq!(again.port(), port);
}

#[test]
fn page_escapes_everything() {
    let html = page("<t>", "a & \"b\" 'c'");
    assert!(html.contains("<title>&lt;t&gt;</title>"));
    assert!(html.contains("a &amp; &quot;b&quot; &#39;c&#39;"));
}
