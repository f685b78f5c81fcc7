//! What a local server announces on its standard output before it serves:
//! its base URL on the first line, and (the emulator) its dev mailbox's
//! address on the second; and the relay of the rest to the app's stdout.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::ChildStdout;

use url::Url;

scalekit_wire::secret_newtype! {
    /// The emulator's dev mailbox address, with this run's key: whoever has
    /// it reads every sign-in code, so only the app's person is shown it.
    pub DevMailboxUrl, serialize
}

/// The base URL in `lines[0]`, and the dev mailbox's address in `lines[1]`
/// when there is one; `None` when either is not what it should be.
pub(super) fn read_announcement(lines: &[String]) -> Option<(Url, Option<DevMailboxUrl>)> {
    let base_url = parse_base_url(lines.first()?)?;
    let dev_mailbox = match lines.get(1) {
        Some(line) => Some(parse_dev_mailbox(line, &base_url)?),
        None => None,
    };
    Some((base_url, dev_mailbox))
}

/// The base URL in a server's first line: an absolute `http(s)` URL.
fn parse_base_url(line: &str) -> Option<Url> {
    Url::parse(line.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// The emulator's dev mailbox address: an `http(s)` URL on its base URL's
/// origin (what follows is the emulator's to define).
fn parse_dev_mailbox(line: &str, base_url: &Url) -> Option<DevMailboxUrl> {
    parse_base_url(line)
        .filter(|url| url.origin() == base_url.origin() && url.path() != "/")
        .map(|url| DevMailboxUrl::new(url.as_str()))
}

/// Sends the first `wanted` lines of `stdout` to `first_lines` and copies
/// the rest to this process's stdout until the child closes it, so the pipe
/// never fills.
pub(super) fn relay_output(
    stdout: ChildStdout,
    wanted: usize,
    first_lines: tokio::sync::oneshot::Sender<Vec<String>>,
) {
    let mut lines = BufReader::new(stdout).lines();
    let first: Vec<String> = lines
        .by_ref()
        .take(wanted)
        .map_while(std::result::Result::ok)
        .collect();
    if first.len() < wanted {
        return;
    }
    let _ = first_lines.send(first);
    for line in lines.map_while(std::result::Result::ok) {
        // No stdout (a GUI start): the line is dropped, the pipe still drained.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_must_be_an_http_url() {
        let cases = [
            ("http://localhost:47811\n", Some("http://localhost:47811/")),
            ("  https://example.com  ", Some("https://example.com/")),
            ("listening", None),
            ("", None),
            ("file:///etc/passwd", None),
            ("mailbox: code 123456", None),
        ];
        for (line, expected) in cases {
            assert_eq!(
                parse_base_url(line).map(String::from).as_deref(),
                expected,
                "{line:?}"
            );
        }
    }

    #[test]
    fn the_second_line_is_a_mailbox_address_on_the_same_origin() {
        let base = Url::parse("http://localhost:47811/").unwrap();
        let mailbox = parse_dev_mailbox("http://localhost:47811/_dev/mailbox/k3y", &base).unwrap();
        assert_eq!(mailbox.secret(), "http://localhost:47811/_dev/mailbox/k3y");
        assert_eq!(format!("{mailbox:?}"), "DevMailboxUrl([redacted])");
        for line in [
            "http://evil.example/_dev/mailbox/k3y",
            "http://localhost:1/_dev/mailbox/k3y",
            "http://localhost:47811/",
            "mailbox: to=a@b.c code=123456",
        ] {
            assert!(parse_dev_mailbox(line, &base).is_none(), "{line}");
        }
    }
}
