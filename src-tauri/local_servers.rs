//! The local emulator as a child process (a Tauri "sidecar").
//!
//! On a first run with nothing configured the app starts the
//! `scalekit-emulator` binary shipped beside its own executable, rather than
//! running the emulator inside its own process: the app that talks to a real
//! Scalekit environment then carries none of a local identity server's code
//! (which accepts any emailed code), and the emulator's memory is freed when
//! it is not used.
//!
//! The child never outlives the app: dropping [`EmulatorProcess`] (or calling
//! [`EmulatorProcess::stop`], which the window does on exit) closes its stdin
//! and waits for it to exit, killing it if it does not; and the child runs
//! with `--exit-on-stdin-close`, so if this process ends any other way (a
//! crash included) the operating system closes the pipe and the child stops.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use passkeys_core::{Error, Result};
use url::Url;

/// The emulator's binary name, without the platform's executable suffix.
pub const BINARY_NAME: &str = "scalekit-emulator";

/// How long the child may take to print its base URL.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the child may take to stop once its stdin is closed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Where the emulator's binary is expected: in the directory of this
/// process's executable (where cargo builds it and Tauri installs sidecars).
///
/// # Errors
/// When this process's executable cannot be found.
pub fn binary_next_to_current_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|error| Error::Config(format!("Could not find the app's executable: {error}.")))?;
    let dir = exe.parent().ok_or_else(|| {
        Error::Config("The app's executable has no parent directory.".to_string())
    })?;
    Ok(binary_in(dir))
}

/// The emulator's binary in `dir`.
pub fn binary_in(dir: &Path) -> PathBuf {
    dir.join(format!("{BINARY_NAME}{}", std::env::consts::EXE_SUFFIX))
}

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorCommand {
    /// The `scalekit-emulator` binary.
    pub binary: PathBuf,
    /// `--listen`: the address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// `--data`: the SQLite file.
    pub data: PathBuf,
}

/// A running emulator child process; stopped when dropped.
#[derive(Debug)]
pub struct EmulatorProcess {
    child: Mutex<Option<Child>>,
    base_url: Url,
}

impl EmulatorProcess {
    /// Starts the emulator and waits (at most [`START_TIMEOUT`]) for its base
    /// URL, the first line of its stdout. Later lines (the dev mailbox's
    /// messages, such as sign-in codes) are copied to this process's stdout;
    /// its stderr (logs, `warn` and above unless `RUST_LOG` says otherwise)
    /// is this process's.
    ///
    /// # Errors
    /// `config` when the binary is missing (with how to build it), cannot be
    /// started, exits before it is ready or does not answer in time.
    pub async fn start(command: &EmulatorCommand) -> Result<EmulatorProcess> {
        if !command.binary.is_file() {
            return Err(Error::Config(format!(
                "The local emulator's binary is missing ({}). Build it with \
                 `cargo build -p scalekit-emulator`, or configure a Scalekit environment.",
                command.binary.display()
            )));
        }
        let mut process = Command::new(&command.binary);
        process
            .arg("--listen")
            .arg(command.listen.to_string())
            .arg("--data")
            .arg(&command.data)
            .args(["--no-admin", "--exit-on-stdin-close"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if std::env::var_os("RUST_LOG").is_none() {
            process.env("RUST_LOG", "warn");
        }
        #[cfg(windows)]
        {
            // A console program started by a windowed one: no console window.
            use std::os::windows::process::CommandExt as _;
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            process.creation_flags(CREATE_NO_WINDOW);
        }
        let mut child = process.spawn().map_err(|error| {
            Error::Config(format!(
                "Could not start the local emulator ({}): {error}.",
                command.binary.display()
            ))
        })?;
        let Some(stdout) = child.stdout.take() else {
            stop_child(&mut child);
            return Err(Error::Config("The local emulator has no stdout.".into()));
        };
        let (first_line, on_first_line) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || relay_output(stdout, first_line));
        let line = match tokio::time::timeout(START_TIMEOUT, on_first_line).await {
            Ok(Ok(line)) => line,
            Ok(Err(_closed)) => {
                stop_child(&mut child);
                return Err(Error::Config(
                    "The local emulator stopped before it was ready (its messages are above)."
                        .into(),
                ));
            }
            Err(_elapsed) => {
                stop_child(&mut child);
                return Err(Error::Config(format!(
                    "The local emulator did not start within {} s.",
                    START_TIMEOUT.as_secs()
                )));
            }
        };
        let base_url = match parse_base_url(&line) {
            Some(url) => url,
            None => {
                stop_child(&mut child);
                return Err(Error::Config(format!(
                    "The local emulator printed {line:?} instead of its URL."
                )));
            }
        };
        Ok(EmulatorProcess {
            child: Mutex::new(Some(child)),
            base_url,
        })
    }

    /// The emulator's base URL (its issuer), e.g. `http://localhost:47811/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The child's process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child
            .lock()
            .ok()
            .and_then(|child| child.as_ref().map(Child::id))
    }

    /// Stops the child (closes its stdin, waits up to two seconds, then kills
    /// it) and reaps it. Does nothing the second time.
    pub fn stop(&self) {
        let child = match self.child.lock() {
            Ok(mut child) => child.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(mut child) = child {
            stop_child(&mut child);
        }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The base URL in the emulator's first line: an absolute `http(s)` URL.
fn parse_base_url(line: &str) -> Option<Url> {
    Url::parse(line.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// Sends the first line of `stdout` to `first_line` and copies the rest to
/// this process's stdout until the child closes it, so the pipe never fills.
fn relay_output(stdout: ChildStdout, first_line: tokio::sync::oneshot::Sender<String>) {
    let mut lines = BufReader::new(stdout).lines();
    match lines.next() {
        Some(Ok(line)) => {
            let _ = first_line.send(line);
        }
        _ => return,
    }
    for line in lines.map_while(std::result::Result::ok) {
        // No stdout (a GUI start): the line is dropped, the pipe still drained.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

/// Closes the child's stdin, gives it [`STOP_GRACE`] to exit, kills it if it
/// is still there, and reaps it.
fn stop_child(child: &mut Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break,
        }
    }
    if let Err(error) = child.kill() {
        tracing::debug!(%error, "local emulator: kill");
    }
    let _ = child.wait();
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
    fn the_binary_is_looked_for_beside_the_executable() {
        let path = binary_in(Path::new("/opt/app"));
        assert_eq!(path.parent(), Some(Path::new("/opt/app")));
        assert!(path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with(BINARY_NAME)));
        let next_to_exe = binary_next_to_current_exe().unwrap();
        assert_eq!(
            next_to_exe.parent(),
            std::env::current_exe().unwrap().parent()
        );
    }

    #[tokio::test]
    async fn a_missing_binary_is_a_config_error_that_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let command = EmulatorCommand {
            binary: binary_in(dir.path()),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: dir.path().join("emulator.db"),
        };
        let error = EmulatorProcess::start(&command).await.unwrap_err();
        assert!(
            matches!(&error, Error::Config(message)
            if message.contains("cargo build -p scalekit-emulator")),
            "{error:?}"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_binary_that_exits_at_once_is_a_config_error() {
        // `true` exits without printing anything: not an emulator.
        let dir = tempfile::tempdir().unwrap();
        let command = EmulatorCommand {
            binary: PathBuf::from("/usr/bin/true"),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: dir.path().join("emulator.db"),
        };
        let error = EmulatorProcess::start(&command).await.unwrap_err();
        assert!(matches!(&error, Error::Config(message) if message.contains("stopped before")));
    }
}
