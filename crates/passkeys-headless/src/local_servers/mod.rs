//! The local environment as child processes (Tauri "sidecars"): the
//! emulator and the passkeys broker in front of it.
//!
//! On a first run with nothing configured the app runs the topology that
//! production runs: sign-in against an environment (here the
//! `scalekit-emulator` binary), and passkey management through a passkeys
//! broker (the `passkeys-broker` binary) that holds the environment client's
//! credentials, so that the app never does. Both binaries ship beside the
//! app's own executable. They are separate programs rather than part of the
//! app on purpose: the app that talks to a real Scalekit environment then
//! carries none of a local identity server's code (which accepts any emailed
//! code), and their memory is freed when they are not used.
//!
//! The emulator keeps its confidential client's secret in a file of the
//! app's data directory that only its owner can read (it creates it with a
//! random secret on the first run); the broker reads the same file. The
//! secret is never on a command line, in a log or in the app's memory.
//!
//! The emulator's dev mailbox (where its sign-in codes arrive) answers only
//! at an address with a key made at each start, which the emulator prints
//! after its base URL: the app reads it there ([`ChildServer::dev_mailbox`])
//! and shows it to its person, and no other program on the machine learns
//! it.
//!
//! A child never outlives the app: dropping [`ChildServer`] (or calling
//! [`ChildServer::stop`], which the window does on exit) closes its stdin
//! and waits for it to exit, killing it if it does not; and each child runs
//! with `--exit-on-stdin-close`, so if this process ends any other way (a
//! crash included) the operating system closes the pipe and the child stops.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use passkeys_core::{Error, Result};
use url::Url;

mod announce;

pub use announce::DevMailboxUrl;
use announce::{read_announcement, relay_output};

/// The emulator's binary name, without the platform's executable suffix.
pub const EMULATOR_BINARY: &str = "scalekit-emulator";

/// The broker's binary name, without the platform's executable suffix.
pub const BROKER_BINARY: &str = "passkeys-broker";

/// The emulator's native (public) demo client: the app's client id.
pub const DEMO_APP_CLIENT_ID: &str = "ntvc_demo";

/// The emulator's confidential demo client: the broker's client id.
pub const DEMO_BROKER_CLIENT_ID: &str = "skc_demo";

/// How long a child may take to print its base URL.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a child may take to stop once its stdin is closed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Where a sidecar's binary is expected: in the directory of this process's
/// executable (where cargo builds it and Tauri installs sidecars).
///
/// # Errors
/// When this process's executable cannot be found.
pub fn binary_next_to_current_exe(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|error| Error::Config(format!("Could not find the app's executable: {error}.")))?;
    let dir = exe.parent().ok_or_else(|| {
        Error::Config("The app's executable has no parent directory.".to_string())
    })?;
    Ok(binary_in(dir, name))
}

/// The binary `name` in `dir`.
pub fn binary_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
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
    /// `--client-secret-file`: the confidential demo client's secret, created
    /// (readable by its owner only) when missing.
    pub client_secret_file: PathBuf,
}

impl EmulatorCommand {
    /// The emulator's command line (the secret file's path, never a secret).
    pub fn server(&self) -> ServerCommand {
        let mut args: Vec<OsString> = vec!["--listen".into(), self.listen.to_string().into()];
        args.extend(["--data".into(), self.data.clone().into_os_string()]);
        args.extend([
            "--client-secret-file".into(),
            self.client_secret_file.clone().into_os_string(),
        ]);
        args.extend(["--no-admin".into(), "--exit-on-stdin-close".into()]);
        ServerCommand {
            what: "local emulator",
            build: "cargo build -p scalekit-emulator",
            binary: self.binary.clone(),
            args,
            announces_dev_mailbox: true,
        }
    }
}

/// How to start the broker in front of an environment.
#[derive(Debug, Clone)]
pub struct BrokerCommand {
    /// The `passkeys-broker` binary.
    pub binary: PathBuf,
    /// The environment (issuer) the broker trusts and calls.
    pub environment_url: Url,
    /// The app's client id, expected in the callers' tokens.
    pub client_id: String,
    /// The broker's own confidential client.
    pub upstream_client_id: String,
    /// The file holding that client's secret.
    pub client_secret_file: PathBuf,
}

impl BrokerCommand {
    /// The broker's command line: any free loopback port; the secret by file.
    pub fn server(&self) -> ServerCommand {
        let args: Vec<OsString> = vec![
            "--environment-url".into(),
            self.environment_url.as_str().into(),
            "--client-id".into(),
            self.client_id.clone().into(),
            "--upstream-client-id".into(),
            self.upstream_client_id.clone().into(),
            "--client-secret-file".into(),
            self.client_secret_file.clone().into_os_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--exit-on-stdin-close".into(),
        ];
        ServerCommand {
            what: "local passkeys broker",
            build: "cargo build -p passkeys-broker",
            binary: self.binary.clone(),
            args,
            announces_dev_mailbox: false,
        }
    }
}

/// A local server's command line.
#[derive(Debug, Clone)]
pub struct ServerCommand {
    /// What it is, for messages ("local emulator").
    pub what: &'static str,
    /// The command that builds a missing binary.
    pub build: &'static str,
    /// The binary.
    pub binary: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Whether its second stdout line is its dev mailbox's address (the
    /// emulator's).
    pub announces_dev_mailbox: bool,
}

/// A running local server child process; stopped when dropped.
#[derive(Debug)]
pub struct ChildServer {
    child: Mutex<Option<Child>>,
    base_url: Url,
    dev_mailbox: Option<DevMailboxUrl>,
}

impl ChildServer {
    /// Starts the server and waits (at most [`START_TIMEOUT`]) for its base
    /// URL, the first line of its stdout (and, from the emulator, its dev
    /// mailbox's address, the second, kept here). Later lines (the
    /// emulator's dev mailbox messages, such as sign-in codes) are copied to
    /// this process's stdout; its stderr (logs, `warn` and above unless
    /// `RUST_LOG` says otherwise) is this process's.
    ///
    /// # Errors
    /// `config` when the binary is missing (with how to build it), cannot be
    /// started, exits before it is ready or does not answer in time.
    pub async fn start(command: &ServerCommand) -> Result<ChildServer> {
        let what = command.what;
        if !command.binary.is_file() {
            return Err(Error::Config(format!(
                "The {what}'s binary is missing ({}). Build it with `{}`, or configure a \
                 Scalekit environment.",
                command.binary.display(),
                command.build
            )));
        }
        let mut process = Command::new(&command.binary);
        process
            .args(&command.args)
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
                "Could not start the {what} ({}): {error}.",
                command.binary.display()
            ))
        })?;
        let Some(stdout) = child.stdout.take() else {
            stop_child(&mut child);
            return Err(Error::Config(format!("The {what} has no stdout.")));
        };
        let wanted = if command.announces_dev_mailbox { 2 } else { 1 };
        let (first_lines, on_first_lines) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || relay_output(stdout, wanted, first_lines));
        let lines = match tokio::time::timeout(START_TIMEOUT, on_first_lines).await {
            Ok(Ok(lines)) => lines,
            Ok(Err(_closed)) => {
                stop_child(&mut child);
                return Err(Error::Config(format!(
                    "The {what} stopped before it was ready (its messages are above)."
                )));
            }
            Err(_elapsed) => {
                stop_child(&mut child);
                return Err(Error::Config(format!(
                    "The {what} did not start within {} s.",
                    START_TIMEOUT.as_secs()
                )));
            }
        };
        let Some((base_url, dev_mailbox)) = read_announcement(&lines) else {
            stop_child(&mut child);
            return Err(Error::Config(format!(
                "The {what} printed {:?} instead of its URL.",
                lines.first().map_or("", String::as_str)
            )));
        };
        Ok(ChildServer {
            child: Mutex::new(Some(child)),
            base_url,
            dev_mailbox,
        })
    }

    /// The emulator's dev mailbox address (with this run's key), for the
    /// app's person only; `None` for the broker.
    pub fn dev_mailbox(&self) -> Option<&DevMailboxUrl> {
        self.dev_mailbox.as_ref()
    }

    /// The server's base URL, e.g. `http://localhost:47811/`.
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

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.stop();
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
        tracing::debug!(%error, "local server: kill");
    }
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emulator_command(binary: PathBuf, dir: &Path) -> EmulatorCommand {
        EmulatorCommand {
            binary,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: dir.join("emulator.db"),
            client_secret_file: dir.join("broker-client-secret"),
        }
    }

    #[test]
    fn no_command_line_carries_a_secret_only_the_secret_files_path() {
        let dir = Path::new("/data");
        let emulator = emulator_command(PathBuf::from("/opt/scalekit-emulator"), dir).server();
        let broker = BrokerCommand {
            binary: PathBuf::from("/opt/passkeys-broker"),
            environment_url: Url::parse("http://localhost:47811/").unwrap(),
            client_id: DEMO_APP_CLIENT_ID.into(),
            upstream_client_id: DEMO_BROKER_CLIENT_ID.into(),
            client_secret_file: dir.join("broker-client-secret"),
        }
        .server();
        for command in [&emulator, &broker] {
            let args: Vec<String> = command
                .args
                .iter()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect();
            assert!(
                args.iter().all(|arg| !arg.contains("secret")
                    || arg == "--client-secret-file"
                    || arg.ends_with("broker-client-secret")),
                "{args:?}"
            );
            let file = args
                .iter()
                .position(|arg| arg == "--client-secret-file")
                .unwrap();
            assert_eq!(Path::new(&args[file + 1]), dir.join("broker-client-secret"));
            assert!(args.contains(&"--exit-on-stdin-close".to_string()));
        }
    }

    #[test]
    fn the_binary_is_looked_for_beside_the_executable() {
        let path = binary_in(Path::new("/opt/app"), EMULATOR_BINARY);
        assert_eq!(path.parent(), Some(Path::new("/opt/app")));
        assert!(path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with(EMULATOR_BINARY)));
        let next_to_exe = binary_next_to_current_exe(BROKER_BINARY).unwrap();
        assert_eq!(
            next_to_exe.parent(),
            std::env::current_exe().unwrap().parent()
        );
    }

    #[tokio::test]
    async fn a_missing_binary_is_a_config_error_that_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let command = emulator_command(binary_in(dir.path(), EMULATOR_BINARY), dir.path());
        let error = ChildServer::start(&command.server()).await.unwrap_err();
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
        let command = emulator_command(PathBuf::from("/usr/bin/true"), dir.path());
        let error = ChildServer::start(&command.server()).await.unwrap_err();
        assert!(matches!(&error, Error::Config(message) if message.contains("stopped before")));
    }
}
