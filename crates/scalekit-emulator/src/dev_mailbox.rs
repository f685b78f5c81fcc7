//! Who may read the dev mailbox: whoever started this emulator.
//!
//! The emulator sends no real mail: sign-in codes and magic links land in
//! its dev mailbox. Whoever reads a person's code signs in as them, and that
//! fresh sign-in is also the proof of a recent sign-in the broker asks for
//! before a removal. So the mailbox answers only at an address with a key
//! made at random at each start, `/_dev/mailbox/<key>`; everything else under
//! `/_dev/mailbox` is 404, whatever the email. Only the one who started the
//! emulator learns the address: the binary prints it on its standard output,
//! as the line after its base URL (the app that starts the emulator reads it
//! there and shows it in its window); in process it is
//! [`RunningEmulator::dev_mailbox`](crate::RunningEmulator::dev_mailbox).
//! Each start makes a new key, and no setting turns it off.

use url::Url;

use crate::error::{Error, Result};
use crate::secret::{constant_time_eq, random_token};

/// The mailbox's path, before its key.
pub const MAILBOX_PATH: &str = "/_dev/mailbox";

scalekit_wire::secret_newtype! {
    /// This run's key of the dev mailbox (the last segment of its address).
    pub MailboxKey
}

impl MailboxKey {
    /// A fresh random key (32 bytes, base64url).
    pub fn random() -> MailboxKey {
        MailboxKey::new(random_token(32))
    }

    /// Whether `given` is this key (compared in constant time).
    pub fn matches(&self, given: &str) -> bool {
        constant_time_eq(given, self.secret())
    }
}

/// The dev mailbox of one running emulator: its base URL and this run's key.
/// Its `Debug` does not show the key.
#[derive(Clone, PartialEq, Eq)]
pub struct DevMailbox {
    base_url: Url,
    key: MailboxKey,
}

impl std::fmt::Debug for DevMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevMailbox")
            .field("base_url", &self.base_url.as_str())
            .field("key", &self.key)
            .finish()
    }
}

impl DevMailbox {
    /// The mailbox of the emulator at `base_url` with this run's `key`.
    pub fn new(base_url: Url, key: MailboxKey) -> DevMailbox {
        DevMailbox { base_url, key }
    }

    /// Reads the address the binary prints after its base URL, e.g.
    /// `http://localhost:8900/_dev/mailbox/Zm9v…`.
    ///
    /// # Errors
    /// [`Error::Config`] when it is not an `http(s)` URL ending in
    /// `/_dev/mailbox/<key>`.
    pub fn parse(address: &str) -> Result<DevMailbox> {
        let invalid = || {
            Error::Config(format!(
                "{address:?} is not a dev mailbox address (http://HOST:PORT{MAILBOX_PATH}/KEY)"
            ))
        };
        let url = Url::parse(address.trim()).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(invalid());
        }
        let (before, key) = url
            .path()
            .rsplit_once(&format!("{MAILBOX_PATH}/"))
            .ok_or_else(invalid)?;
        if key.is_empty() || key.contains('/') {
            return Err(invalid());
        }
        let mut base_url = url.clone();
        base_url.set_path(&format!("{before}/"));
        Ok(DevMailbox::new(base_url, MailboxKey::new(key)))
    }

    /// The emulator's base URL (issuer), e.g. `http://localhost:8900/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The mailbox's address with its key: whoever has it reads every
    /// sign-in code. Hand it only to the one who started the emulator.
    pub fn secret_url(&self) -> Url {
        let mut url = self.base_url.clone();
        let base_path = self.base_url.path().trim_end_matches('/');
        url.set_path(&format!("{base_path}{MAILBOX_PATH}/{}", self.key.secret()));
        url
    }

    /// The messages to `email` (every message without one), newest first.
    pub fn messages_url(&self, email: Option<&str>) -> Url {
        let mut url = self.secret_url();
        if let Some(email) = email {
            url.query_pairs_mut().append_pair("email", email);
        }
        url
    }

    /// Whether `given` is this mailbox's key.
    pub fn has_key(&self, given: &str) -> bool {
        self.key.matches(given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_address_reads_back_and_debug_hides_the_key() {
        let base = Url::parse("http://localhost:8900/").unwrap();
        let mailbox = DevMailbox::new(base.clone(), MailboxKey::new("k3y"));
        let printed = mailbox.secret_url();
        assert_eq!(printed.as_str(), "http://localhost:8900/_dev/mailbox/k3y");
        let parsed = DevMailbox::parse(printed.as_str()).unwrap();
        assert_eq!(parsed, mailbox);
        assert_eq!(parsed.base_url(), &base);
        assert!(parsed.has_key("k3y") && !parsed.has_key("k3"));
        assert_eq!(
            mailbox.messages_url(Some("a+b@example.com")).as_str(),
            "http://localhost:8900/_dev/mailbox/k3y?email=a%2Bb%40example.com"
        );
        assert!(!format!("{mailbox:?}").contains("k3y"));
        assert_eq!(
            format!("{:?}", MailboxKey::new("k")),
            "MailboxKey([redacted])"
        );
    }

    #[test]
    fn other_lines_are_not_a_mailbox_address() {
        for line in [
            "http://localhost:8900",
            "http://localhost:8900/_dev/mailbox",
            "http://localhost:8900/_dev/mailbox/",
            "http://localhost:8900/_dev/mailbox/a/b",
            "http://localhost:8900/_dev/mailbox/k?email=a@b.c",
            "file:///_dev/mailbox/k",
            "mailbox: to=a@b.c code=123456",
        ] {
            assert!(DevMailbox::parse(line).is_err(), "{line}");
        }
    }

    #[test]
    fn random_keys_differ() {
        let (a, b) = (MailboxKey::random(), MailboxKey::random());
        assert_ne!(a, b);
        assert_eq!(a.secret().len(), 43);
    }
}
