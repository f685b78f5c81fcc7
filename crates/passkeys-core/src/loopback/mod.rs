//! The loopback redirect (RFC 8252 §7.3): a minimal one-shot HTTP/1.1 listener on 127.0.0.1.
//!
//! It reads only the request line and headers (at most 8 KiB, never a byte
//! past that: a longer head is answered 431 and the connection dropped; with a
//! per-connection timeout), answers stray requests (favicon, other paths:
//! 404; another sign-in's `state`: 400) and keeps waiting until the request
//! on `/callback` with our `state` arrives. Dropping the listener (timeout,
//! cancel, completion) frees the port.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use url::Url;

use crate::callback::{parse_callback_query, CallbackCode, CallbackError};
use crate::error::{Error, Result};
use crate::secret::CsrfToken;

/// Largest request head read from the browser.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long one connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// After a 431, what is still read and thrown away so that the browser gets
/// the answer rather than a reset: at most this much, for at most this long.
const DRAIN_BYTES: usize = 64 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// The redirect path.
pub(crate) const CALLBACK_PATH: &str = "/callback";

/// A bound loopback listener waiting for the authorization response.
#[derive(Debug)]
pub(crate) struct LoopbackListener {
    listener: TcpListener,
    port: u16,
}

impl LoopbackListener {
    /// Binds `127.0.0.1:<port>` (0 = ephemeral).
    ///
    /// A fixed port that is taken gives [`Error::PortInUse`] naming it.
    pub(crate) async fn bind(port: u16) -> Result<LoopbackListener> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = match TcpListener::bind(address).await {
            Ok(listener) => listener,
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(Error::PortInUse { port })
            }
            Err(err) => {
                return Err(Error::Config(format!(
                    "Could not listen on 127.0.0.1:{port} for the browser's answer: {err}."
                )))
            }
        };
        let port = listener
            .local_addr()
            .map_err(|err| Error::Internal(format!("no local address: {err}")))?
            .port();
        Ok(LoopbackListener { listener, port })
    }

    /// The bound port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub(crate) fn redirect_uri(&self) -> Result<Url> {
        Url::parse(&format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port))
            .map_err(|err| Error::Internal(format!("redirect URI: {err}")))
    }

    /// Serves requests until the callback with `state` arrives; returns its code,
    /// or the provider's `error=` (after showing it to the browser).
    pub(crate) async fn wait_for_callback(&self, state: &CsrfToken) -> Result<CallbackCode> {
        let mut handlers = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        handlers.spawn(handle_connection(stream, state.clone()));
                    }
                    Err(err) => {
                        tracing::debug!("loopback accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(joined) = handlers.join_next(), if !handlers.is_empty() => {
                    if let Ok(Some(outcome)) = joined {
                        return outcome.map_err(Error::from);
                    }
                }
            }
        }
    }
}

/// Handles one connection; `Some` when it carried the answer to our sign-in.
async fn handle_connection(
    mut stream: TcpStream,
    state: CsrfToken,
) -> Option<std::result::Result<CallbackCode, CallbackError>> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(HeadError::TooLarge)) => {
            respond(
                &mut stream,
                431,
                "Request too large",
                "The request was too large.",
            )
            .await;
            drain(&mut stream).await;
            return None;
        }
        Ok(Err(HeadError::Io)) | Err(_) => return None,
    };
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        respond(&mut stream, 404, "Not found", "There is nothing here.").await;
        return None;
    }
    if method != "GET" {
        respond(
            &mut stream,
            405,
            "Method not allowed",
            "Only GET is answered here.",
        )
        .await;
        return None;
    }
    match parse_callback_query(query, state.secret()) {
        Ok(code) => {
            respond(
                &mut stream,
                200,
                "Signed in",
                "You are signed in \u{2014} return to the app.",
            )
            .await;
            Some(Ok(code))
        }
        Err(error) if error.belongs_to_us() => {
            let text = format!("{error} Return to the app and try again.");
            respond(&mut stream, 400, "Sign-in failed", &text).await;
            Some(Err(error))
        }
        Err(error) => {
            let text = format!("{error} This page can be closed.");
            respond(&mut stream, 400, "Not this sign-in", &text).await;
            None
        }
    }
}

enum HeadError {
    TooLarge,
    Io,
}

/// Reads until the end of the headers: a head (request line and headers,
/// without the blank line) of at most [`MAX_HEAD_BYTES`]. Nothing past the
/// cap is read: a longer head is [`HeadError::TooLarge`] however it ends.
async fn read_head(stream: &mut TcpStream) -> std::result::Result<String, HeadError> {
    const END: &[u8] = b"\r\n\r\n";
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let room = (MAX_HEAD_BYTES + END.len()).saturating_sub(buffer.len());
        if room == 0 {
            return Err(HeadError::TooLarge);
        }
        let want = room.min(chunk.len());
        let read = stream
            .read(&mut chunk[..want])
            .await
            .map_err(|_| HeadError::Io)?;
        if read == 0 {
            return Err(HeadError::Io);
        }
        // The end may straddle the previous read.
        let scan_from = buffer.len().saturating_sub(END.len() - 1);
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = find_head_end(&buffer[scan_from..]) {
            let end = scan_from + end;
            if end > MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            buffer.truncate(end);
            return Ok(String::from_utf8_lossy(&buffer).into_owned());
        }
    }
}

fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|window| window == b"\r\n\r\n")
}

/// Reads and discards what the client still sends (bounded), so that closing
/// does not reset the connection before it read the answer.
async fn drain(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    let mut left = DRAIN_BYTES;
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    })
    .await;
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let body = page(title, text);
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; nothing to do then.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The small page shown in the browser; all text is escaped.
pub(crate) fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
<style>body{{font-family:system-ui,sans-serif;margin:4rem auto;max-width:32rem;padding:0 1rem;}}\
@media (prefers-color-scheme: dark){{body{{background:#111;color:#eee}}}}</style></head>\
<body><h1>{}</h1><p>{}</p></body></html>",
        escape_html(title),
        escape_html(title),
        escape_html(text)
    )
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests;
