//! The deep-link scheme (Linux): a desktop entry runs this binary with the
//! link (`Exec="<binary>" %u`), claims `x-scheme-handler/<scheme>`, and is
//! the default handler of every scheme. `doctor --fix` writes the entry as
//! `tauri-plugin-deep-link` does and makes it the default with `xdg-mime`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::{Check, Repair, Verdict};
use crate::error::{Error, Result};

/// The desktop's default handlers of MIME types (`xdg-mime`, or a
/// `mimeapps.list` in tests).
pub trait MimeDefaults: Send + Sync + 'static {
    /// The desktop entry (`name.desktop`) that opens `mime`, if any.
    fn default_handler(&self, mime: &str) -> Option<String>;
    /// Makes `entry` the default handler of `mime`.
    ///
    /// # Errors
    /// When the defaults cannot be written.
    fn set_default(&self, entry: &str, mime: &str) -> std::io::Result<()>;
}

/// `xdg-mime query default` and `xdg-mime default`, as the desktop sees them.
#[derive(Debug, Default, Clone, Copy)]
pub struct XdgMime;

impl MimeDefaults for XdgMime {
    fn default_handler(&self, mime: &str) -> Option<String> {
        let output = Command::new("xdg-mime")
            .args(["query", "default", mime])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let first = text.lines().next()?.trim();
        (output.status.success() && !first.is_empty()).then(|| first.to_owned())
    }

    fn set_default(&self, entry: &str, mime: &str) -> std::io::Result<()> {
        let status = Command::new("xdg-mime")
            .args(["default", entry, mime])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "xdg-mime default failed ({status})"
            )))
        }
    }
}

/// One `mimeapps.list` file's `[Default Applications]`.
#[derive(Debug, Clone)]
pub struct MimeAppsList {
    path: PathBuf,
}

impl MimeAppsList {
    /// The file at `path` (e.g. `~/.config/mimeapps.list`).
    pub fn new(path: impl Into<PathBuf>) -> MimeAppsList {
        MimeAppsList { path: path.into() }
    }
}

impl MimeDefaults for MimeAppsList {
    fn default_handler(&self, mime: &str) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let mut in_defaults = false;
        let mut found = None;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_defaults = line == "[Default Applications]";
            } else if let Some((key, handlers)) = line.split_once('=').filter(|_| in_defaults) {
                if key.trim() == mime {
                    found = handlers
                        .split(';')
                        .next()
                        .map(|first| first.trim().to_owned());
                }
            }
        }
        found.filter(|first| !first.is_empty())
    }

    fn set_default(&self, entry: &str, mime: &str) -> std::io::Result<()> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let line = format!("{mime}={entry};");
        let mut lines: Vec<String> = Vec::new();
        let (mut in_defaults, mut done) = (false, false);
        for current in text.lines() {
            if current.trim().starts_with('[') {
                if in_defaults && !done {
                    lines.push(line.clone());
                    done = true;
                }
                in_defaults = current.trim() == "[Default Applications]";
            } else if in_defaults
                && current
                    .split_once('=')
                    .is_some_and(|(key, _)| key.trim() == mime)
            {
                continue;
            }
            lines.push(current.to_owned());
        }
        if in_defaults && !done {
            lines.push(line.clone());
            done = true;
        }
        if !done {
            lines.push("[Default Applications]".to_owned());
            lines.push(line);
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&self.path, lines.join("\n") + "\n")
    }
}

/// What the doctor knows of the scheme's registration.
#[derive(Clone)]
pub struct SchemeRegistration {
    /// The folder of the user's desktop entries (`~/.local/share/applications`).
    pub applications_dir: PathBuf,
    /// The desktop entry's file name (`passkeys-desktop-handler.desktop`).
    pub entry_name: String,
    /// What the entry must run: this binary (or its AppImage).
    pub exec: String,
    /// The app's name in the entry.
    pub app_name: String,
    /// The schemes (`dev.passkeys.desktop`).
    pub schemes: Vec<String>,
    /// The desktop's default handlers.
    pub defaults: Arc<dyn MimeDefaults>,
}

/// The registration's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeState {
    /// The entry runs this binary with the link and is every scheme's default.
    Registered,
    /// No desktop entry.
    NoEntry,
    /// The entry runs another program (an older install, a moved binary).
    Stale {
        /// The entry's `Exec`.
        found: String,
    },
    /// The entry does not pass the link on (`%u`).
    NoLinkArgument,
    /// The entry does not claim this scheme.
    NotClaimed {
        /// The scheme.
        scheme: String,
    },
    /// Another entry (or none) opens this scheme.
    NotDefault {
        /// The scheme.
        scheme: String,
        /// The entry that opens it now.
        handler: Option<String>,
    },
}

/// The desktop entry the deep-link plugin writes for the binary at `exe`.
pub fn entry_name_for(exe: &Path) -> Option<String> {
    Some(format!(
        "{}-handler.desktop",
        exe.file_name()?.to_string_lossy()
    ))
}

impl SchemeRegistration {
    /// Reads the entry and asks the defaults.
    pub fn state(&self) -> SchemeState {
        let path = self.applications_dir.join(&self.entry_name);
        let Ok(entry) = std::fs::read_to_string(&path) else {
            return SchemeState::NoEntry;
        };
        let value = |key: &str| {
            entry
                .lines()
                .find_map(|line| {
                    line.trim()
                        .strip_prefix(key)?
                        .trim_start()
                        .strip_prefix('=')
                })
                .map(str::trim)
        };
        let exec = value("Exec").unwrap_or_default();
        let mut words = exec.split_whitespace();
        let program = match exec.strip_prefix('"') {
            Some(rest) => rest.split('"').next().unwrap_or_default(),
            None => words.next().unwrap_or_default(),
        };
        if program != self.exec {
            return SchemeState::Stale {
                found: exec.to_owned(),
            };
        }
        if !exec
            .split_whitespace()
            .any(|word| word == "%u" || word == "%U")
        {
            return SchemeState::NoLinkArgument;
        }
        let claimed: Vec<&str> = value("MimeType")
            .map(|types| types.split(';').map(str::trim).collect())
            .unwrap_or_default();
        for scheme in &self.schemes {
            if !claimed.contains(&mime_type(scheme).as_str()) {
                return SchemeState::NotClaimed {
                    scheme: scheme.clone(),
                };
            }
        }
        for scheme in &self.schemes {
            let handler = self.defaults.default_handler(&mime_type(scheme));
            if handler.as_deref() != Some(self.entry_name.as_str()) {
                return SchemeState::NotDefault {
                    scheme: scheme.clone(),
                    handler,
                };
            }
        }
        SchemeState::Registered
    }

    /// Writes the desktop entry and makes it every scheme's default handler.
    ///
    /// # Errors
    /// [`Error::Config`] when the entry or the defaults cannot be written.
    pub fn register(&self) -> Result<()> {
        let failed = |what: &str, error: std::io::Error| {
            Error::Config(format!(
                "Could not register the link scheme ({what}): {error}."
            ))
        };
        std::fs::create_dir_all(&self.applications_dir).map_err(|e| failed("folder", e))?;
        let mime_types: Vec<String> = self.schemes.iter().map(|s| mime_type(s)).collect();
        let entry = format!(
            "[Desktop Entry]\nType=Application\nName={}\nExec=\"{}\" %u\nTerminal=false\nMimeType={};\nNoDisplay=true\n",
            self.app_name,
            self.exec,
            mime_types.join(";")
        );
        std::fs::write(self.applications_dir.join(&self.entry_name), entry)
            .map_err(|e| failed("desktop entry", e))?;
        // Refreshes the MIME cache where the tool exists; not needed otherwise.
        let _ = Command::new("update-desktop-database")
            .arg(&self.applications_dir)
            .output();
        for mime in &mime_types {
            self.defaults
                .set_default(&self.entry_name, mime)
                .map_err(|e| failed("default handler", e))?;
        }
        Ok(())
    }
}

fn mime_type(scheme: &str) -> String {
    format!("x-scheme-handler/{scheme}")
}

/// The `scheme` check when no environment comes back by a link.
pub(super) fn not_needed() -> Check {
    Check::ok(
        "scheme",
        "Not needed: sign-in comes back to this computer's loopback address (127.0.0.1), not by a link, so no link scheme has to be registered.",
    )
}

/// The `scheme` check; what is wrong the app can repair itself
/// ([`Repair::RegisterScheme`]).
pub(super) fn check(registration: &SchemeRegistration) -> Check {
    let check = state_check(registration);
    match check.verdict {
        Verdict::Ok => check,
        _ => check.repairable(Repair::RegisterScheme),
    }
}

fn state_check(registration: &SchemeRegistration) -> Check {
    let fix = "Run `passkeys-desktop doctor --fix` to register it again.";
    let scheme = registration.schemes.join(", ");
    match registration.state() {
        SchemeState::Registered => Check::ok(
            "scheme",
            format!("{scheme}: links open this binary ({}).", registration.entry_name),
        ),
        SchemeState::NoEntry => Check::fail(
            "scheme",
            format!("{scheme}: no desktop entry {} in {}: the browser cannot hand the sign-in back.", registration.entry_name, registration.applications_dir.display()),
            fix,
        ),
        SchemeState::Stale { found } => Check::fail(
            "scheme",
            format!("{scheme}: the desktop entry runs {found}, not this binary ({}): a stale registration.", registration.exec),
            fix,
        ),
        SchemeState::NoLinkArgument => Check::fail(
            "scheme",
            format!("{scheme}: the desktop entry does not pass the link on (no %u in Exec)."),
            fix,
        ),
        SchemeState::NotClaimed { scheme } => Check::fail(
            "scheme",
            format!("{scheme}: the desktop entry does not claim x-scheme-handler/{scheme}."),
            fix,
        ),
        SchemeState::NotDefault { scheme, handler } => Check::fail(
            "scheme",
            format!(
                "{scheme}: links open {} (xdg-mime's default), not {}.",
                handler.as_deref().unwrap_or("nothing"),
                registration.entry_name
            ),
            fix,
        ),
    }
}
