//! A recording reverse proxy: every request it passes on (request line,
//! headers with `Authorization`, body) and every answer is kept, so a test
//! can say which tokens reached which server. It can also hold the answers
//! to the passkeys API until the test lets them go (a list call in flight).

use std::net::{Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// One exchange as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request line and headers.
    pub head: String,
    pub body: Vec<u8>,
    /// The upstream's whole answer.
    pub answer: Vec<u8>,
}

impl Exchange {
    /// The request, head and body, as text.
    pub fn request_text(&self) -> String {
        format!(
            "{}\r\n\r\n{}",
            self.head,
            String::from_utf8_lossy(&self.body)
        )
    }

    pub fn target(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or_default()
    }
}

/// Holds the passkeys API's answers: `held` is signalled when one is held,
/// `release` lets it go.
#[derive(Default)]
pub struct Gate {
    pub held: tokio::sync::Notify,
    pub release: tokio::sync::Notify,
}

#[derive(Default)]
pub struct Recorder {
    pub exchanges: Mutex<Vec<Exchange>>,
    pub hold: Mutex<Option<Arc<Gate>>>,
}

impl Recorder {
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }
}

/// A proxy in front of `upstream`, listening on a loopback port of its own
/// (IPv4 and, when it can, IPv6): `http://localhost:<port>/`.
pub async fn start(upstream: SocketAddr) -> (Url, Arc<Recorder>) {
    let v4 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = v4.local_addr().unwrap().port();
    let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await.ok();
    let recorder = Arc::new(Recorder::default());
    for listener in std::iter::once(v4).chain(v6) {
        tokio::spawn(serve(listener, upstream, Arc::clone(&recorder)));
    }
    (
        Url::parse(&format!("http://localhost:{port}/")).unwrap(),
        recorder,
    )
}

async fn serve(listener: TcpListener, upstream: SocketAddr, recorder: Arc<Recorder>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(proxy_one(stream, upstream, Arc::clone(&recorder)));
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buffer.len() < head_end + 4 + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some((head, buffer[head_end + 4..].to_vec()))
}

async fn proxy_one(mut client: TcpStream, upstream: SocketAddr, recorder: Arc<Recorder>) {
    let Some((head, body)) = read_request(&mut client).await else {
        return;
    };
    // The upstream sees its own address as Host (the broker answers only
    // its own), and one request per connection.
    let mut lines: Vec<String> = head
        .lines()
        .filter(|line| {
            let line = line.to_ascii_lowercase();
            !line.starts_with("connection:") && !line.starts_with("host:")
        })
        .map(str::to_string)
        .collect();
    lines.push(format!("Host: {upstream}"));
    lines.push("Connection: close".into());
    let mut forwarded = lines.join("\r\n").into_bytes();
    forwarded.extend_from_slice(b"\r\n\r\n");
    forwarded.extend_from_slice(&body);
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    if server.write_all(&forwarded).await.is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer).await;
    let exchange = Exchange {
        head,
        body,
        answer: answer.clone(),
    };
    let is_api = exchange
        .target()
        .starts_with("/api/v1/webauthn/credentials");
    recorder.exchanges.lock().unwrap().push(exchange);
    let gate = recorder.hold.lock().unwrap().clone().filter(|_| is_api);
    if let Some(gate) = gate {
        gate.held.notify_one();
        gate.release.notified().await;
    }
    let _ = client.write_all(&answer).await;
    let _ = client.shutdown().await;
}
