//! What the command line prints: text for people, or JSON with `--json`.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use passkeys_core::{Account, AccountSummary, Passkey, SessionState, SignedInSession, UiError};
use serde::Serialize;

/// Prints results and errors in the chosen format.
#[derive(Debug, Clone)]
pub struct Output {
    json: bool,
    /// Where results go instead of stdout (tests read them back).
    captured: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Output {
    /// Text, or JSON when `json`.
    pub fn new(json: bool) -> Output {
        Output {
            json,
            captured: None,
        }
    }

    /// Like [`Output::new`], keeping the results in memory
    /// ([`Output::printed`]) instead of printing them.
    pub fn captured(json: bool) -> Output {
        Output {
            json,
            captured: Some(Arc::default()),
        }
    }

    /// The results kept so far by an [`Output::captured`].
    pub fn printed(&self) -> String {
        self.captured.as_ref().map_or_else(String::new, |bytes| {
            let bytes = bytes.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }

    /// `status`: the account acted as, and every account.
    pub fn status(&self, session: &SessionState, accounts: &[AccountSummary]) {
        let mut value = serde_json::to_value(session).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "accounts".into(),
                serde_json::to_value(accounts).unwrap_or_default(),
            );
        }
        self.print(&value, || {
            let mut text = match session {
                SessionState::SignedIn { account } => format!(
                    "Signed in as {} at {}.",
                    who(account),
                    printable(&account.environment)
                ),
                _ => "Signed out.".to_string(),
            };
            if !accounts.is_empty() {
                text.push_str("\nAccounts:\n");
                text.push_str(&account_lines(accounts));
            }
            text
        });
    }

    /// `accounts list`.
    pub fn accounts(&self, accounts: &[AccountSummary]) {
        self.print(&accounts, || {
            if accounts.is_empty() {
                return "No accounts: sign in with `passkeys-desktop sign-in`.".to_string();
            }
            account_lines(accounts)
        });
    }

    /// `accounts switch`.
    pub fn switched(&self, account: &AccountSummary) {
        self.print(account, || {
            format!(
                "Now using {}.",
                account_line(account).trim_start_matches("* ")
            )
        });
    }

    /// `accounts remove-unconfigured`.
    pub fn removed(&self, removed: &[AccountSummary]) {
        let value = serde_json::json!({ "removed": removed });
        self.print(&value, || {
            if removed.is_empty() {
                return "Every account's environment is configured: nothing to remove.".to_string();
            }
            format!("Removed from the keychain:\n{}", account_lines(removed))
        });
    }

    /// `sign-out` of one account: `{"ok":true}` in JSON.
    pub fn signed_out(&self, account: &AccountSummary) {
        let text = format!(
            "Signed out of {}.",
            account_line(account).trim_start_matches(['*', ' '])
        );
        self.done(&text);
    }

    /// `sign-in` succeeded.
    pub fn signed_in(&self, account: &Account) {
        self.print(account, || format!("Signed in as {}.", who(account)));
    }

    /// The sign-in waits for the browser. The link goes to stdout in text mode
    /// and to stderr with `--json` (stdout then holds only the result).
    pub fn waiting_for_browser(&self, authorize_url: &str, browser_opened: bool) {
        let mut text = format!("Open this link to sign in: {authorize_url}\n");
        if browser_opened {
            text.push_str(
                "(Your browser should have opened it.) Waiting for the sign-in to finish…\n",
            );
        } else {
            text.push_str("Waiting for the sign-in to finish…\n");
        }
        self.progress(&text);
    }

    /// The broker wants a recent authentication before `what` (removing a
    /// passkey, signing a session out): says so before the link is printed.
    /// To stderr with `--json`, like the link.
    pub fn confirm_identity(&self, what: &str) {
        self.progress(&format!(
            "Confirm it's you to {what}: sign in again in your browser.\n"
        ));
    }

    /// Progress while a command waits for the person: stdout in text mode,
    /// stderr with `--json` (stdout then holds only the result).
    fn progress(&self, text: &str) {
        if self.json {
            let _ = std::io::stderr().write_all(text.as_bytes());
        } else {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        }
    }

    /// `passkeys list`.
    pub fn passkeys(&self, passkeys: &[Passkey]) {
        self.print(&passkeys, || {
            if passkeys.is_empty() {
                return "No passkeys.".to_string();
            }
            passkeys
                .iter()
                .map(passkey_line)
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    /// `sessions list`: one line per session, this app's marked.
    pub fn sessions(&self, sessions: &[SignedInSession]) {
        self.print(&sessions, || {
            if sessions.is_empty() {
                return "No sessions.".to_string();
            }
            sessions
                .iter()
                .map(session_line)
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    /// `passkeys rename`.
    pub fn renamed(&self, passkey: &Passkey) {
        self.print(passkey, || {
            printable(&format!(
                "Renamed {} to \"{}\".",
                passkey.id, passkey.display_name
            ))
        });
    }

    /// `doctor`'s report.
    pub fn doctor(&self, report: &passkeys_core::doctor::Report) {
        self.print(report, || super::doctor::text(report));
    }

    /// A command without a result: `{"ok":true}` in JSON.
    pub fn done(&self, message: &str) {
        self.print(&serde_json::json!({ "ok": true }), || message.to_string());
    }

    /// A failure, on stderr: `Error: …`, or `{"kind","message"}` with `--json`.
    pub fn error(&self, error: &UiError) {
        let text = if self.json {
            serde_json::to_string(error).unwrap_or_else(|_| error.message.clone())
        } else {
            format!("Error: {}", error.message)
        };
        eprintln!("{text}");
    }

    fn print<T: Serialize + ?Sized>(&self, value: &T, text: impl FnOnce() -> String) {
        let line = if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(json) => json,
                Err(error) => {
                    return self.error(&UiError {
                        kind: passkeys_core::ErrorKind::Internal,
                        message: format!("Could not write JSON: {error}."),
                    })
                }
            }
        } else {
            text()
        };
        match &self.captured {
            Some(bytes) => {
                let mut bytes = bytes.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = writeln!(bytes, "{line}");
            }
            None => println!("{line}"),
        }
    }
}

/// Server-sent text with control characters (terminal escapes) made visible.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .map(|ch| if ch.is_control() { '\u{fffd}' } else { ch })
        .collect()
}

/// One line per account: `* ada@example.com  work  https://…` (`*`: current).
fn account_lines(accounts: &[AccountSummary]) -> String {
    let lines: Vec<String> = accounts.iter().map(account_line).collect();
    lines.join("\n")
}

fn account_line(account: &AccountSummary) -> String {
    let who = match (&account.name, &account.email) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (None, Some(email)) => email.clone(),
        (_, None) => account.subject.clone(),
    };
    let mark = if account.current { "*" } else { " " };
    let mut line = format!(
        "{mark} {who}  {}  {}",
        account.environment,
        account.environment_url.trim_end_matches('/')
    );
    if !account.configured {
        line.push_str("  (environment no longer configured)");
    }
    printable(&line)
}

fn who(account: &Account) -> String {
    printable(&match (&account.name, &account.email) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(name), None) => name.clone(),
        (None, Some(email)) => email.clone(),
        (None, None) => account.subject.clone(),
    })
}

/// `ses_1  this app  active  Chrome on Linux, Berlin  last active 2026-12-04T10:00:00Z`.
fn session_line(session: &SignedInSession) -> String {
    let mut parts = vec![session.id.clone()];
    if session.current {
        parts.push("this app".to_owned());
    }
    parts.push(session.status.clone());
    let device = match (&session.browser, &session.os) {
        (Some(browser), Some(os)) => Some(format!("{browser} on {os}")),
        (browser, os) => browser.clone().or_else(|| os.clone()),
    };
    let place: Vec<String> = device.into_iter().chain(session.location.clone()).collect();
    if !place.is_empty() {
        parts.push(place.join(", "));
    }
    if let Some(at) = &session.last_active_at {
        parts.push(format!("last active {at}"));
    }
    printable(&parts.join("  "))
}

/// `wac_1  "My key"  YubiKey 5  created 2025-02-15  synced  Chrome on macOS, Berlin`.
fn passkey_line(passkey: &Passkey) -> String {
    let mut parts = vec![passkey.id.clone(), format!("\"{}\"", passkey.display_name)];
    if let Some(provider) = &passkey.authenticator.name {
        parts.push(provider.clone());
    }
    if let Some(created) = &passkey.created_at {
        parts.push(format!("created {}", created.get(..10).unwrap_or(created)));
    }
    parts.push(
        if passkey.synced {
            "synced"
        } else {
            "this device only"
        }
        .to_string(),
    );
    let from = &passkey.registered_from;
    let device = match (&from.browser, &from.os) {
        (Some(browser), Some(os)) => Some(format!("{browser} on {os}")),
        (browser, os) => browser.clone().or_else(|| os.clone()),
    };
    let place = from.city.clone().or_else(|| from.region.clone());
    let location: Vec<String> = device.into_iter().chain(place).collect();
    if !location.is_empty() {
        parts.push(location.join(", "));
    }
    printable(&parts.join("  "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(printable("My key"), "My key");
        assert_eq!(
            printable("evil\u{1b}]0;title\u{7}name\n"),
            "evil\u{fffd}]0;title\u{fffd}name\u{fffd}"
        );
    }
}
