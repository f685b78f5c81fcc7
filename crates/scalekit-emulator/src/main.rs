//! `scalekit-emulator`: a local Scalekit-compatible environment.
//!
//! Prints the base URL as the first line of stdout once it accepts
//! connections, and the dev mailbox's address (with this run's key: see
//! `scalekit_emulator::dev_mailbox`) as the second, for the one who started
//! it; the mailbox's messages follow as `mailbox: …` lines. Logs go to
//! stderr. Stops gracefully on SIGTERM or Ctrl-C,
//! and with `--exit-on-stdin-close` also when its stdin reaches end of file
//! (a parent that holds the other end of a pipe ends the emulator by ending
//! itself, however it ends).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use scalekit_emulator::config::DEMO_CONFIDENTIAL_CLIENT;
use scalekit_emulator::secret::{random_token, AdminToken};
use scalekit_emulator::{private_files, secret_file, Config, Storage};
use url::Url;

#[derive(Parser)]
#[command(
    version,
    about = "A local Scalekit-compatible environment: OIDC, hosted login with passkeys, credentials API"
)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// SQLite file to keep data in across restarts.
    #[arg(long, conflicts_with = "in_memory")]
    data: Option<PathBuf>,
    /// Keep everything in memory (gone on exit).
    #[arg(long)]
    in_memory: bool,
    /// TOML configuration file (clients, lifetimes, …).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Externally visible base URL (default `http://localhost:<port>`).
    #[arg(long)]
    public_url: Option<Url>,
    /// Enable or disable passkeys for the environment.
    #[arg(long)]
    passkeys: Option<Switch>,
    /// Token for the /_admin routes (default: the config's, else a random one shown nowhere).
    #[arg(long, env = "SCALEKIT_EMULATOR_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Switch the /_admin routes off (they answer 403), whatever the config says.
    #[arg(long, conflicts_with = "admin_token")]
    no_admin: bool,
    /// File with the secret of the confidential client skc_demo: read if it
    /// exists (it must be private to its owner on unix), else created with a
    /// fresh random secret and mode 0600. Without it the secret is random for
    /// this run and shown nowhere.
    #[arg(long, value_name = "PATH")]
    client_secret_file: Option<PathBuf>,
    /// Print skc_demo's secret from --client-secret-file (creating the file
    /// if it is missing) to stdout and exit, for the owner who asks; nothing
    /// is started.
    #[arg(long, requires = "client_secret_file")]
    show_client_secret: bool,
    /// Stop when stdin reaches end of file: start the emulator with a piped
    /// stdin and it stops when the parent closes the pipe or exits (also when
    /// it crashes).
    #[arg(long)]
    exit_on_stdin_close: bool,
}

/// How long a graceful stop may take before the process just exits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, ValueEnum)]
enum Switch {
    On,
    Off,
}

fn config_from(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            Config::from_toml_str(&text).map_err(|e| e.to_string())?
        }
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(path) = &args.data {
        config.storage = Storage::File(path.clone());
    }
    if args.in_memory {
        config.storage = Storage::InMemory;
    }
    if let Some(url) = &args.public_url {
        config.public_url = Some(url.clone());
    }
    if let Storage::File(data) = &config.storage {
        // Before the secret file, which usually sits beside the data file:
        // a missing folder is made here, private (`Db::open` would too).
        if let Some(folder) = data.parent().filter(|f| !f.as_os_str().is_empty()) {
            private_files::create_folder(folder).map_err(|e| e.to_string())?;
        }
    }
    if let Some(path) = &args.client_secret_file {
        let secret = secret_file::load_or_create(path).map_err(|e| e.to_string())?;
        if !config.set_client_secret(DEMO_CONFIDENTIAL_CLIENT, secret) {
            return Err(format!(
                "--client-secret-file sets the secret of the confidential client \
                 {DEMO_CONFIDENTIAL_CLIENT}, which the configuration does not register"
            ));
        }
    }
    if let Some(token) = &args.admin_token {
        config.admin_token = Some(AdminToken::new(token.clone()));
    }
    if args.no_admin {
        config.admin_token = None;
    } else if config.admin_token.is_none() {
        // Never logged or printed: anyone who can read this process's
        // output (a log file, another user's terminal scrollback) would
        // hold the admin routes.
        tracing::info!(
            "no admin token configured: the /_admin routes take a random token shown \
             nowhere (pass --admin-token or set SCALEKIT_EMULATOR_ADMIN_TOKEN to use them)"
        );
        config.admin_token = Some(AdminToken::new(random_token(24)));
    }
    if config.storage == Storage::InMemory {
        tracing::warn!("data is kept in memory only; pass --data FILE to keep it");
    }
    Ok(config)
}

/// Resolves when stdin reaches end of file (or cannot be read). A plain thread
/// reads it: a blocking read would hold up the runtime's shutdown.
async fn stdin_closed() {
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = std::io::sink();
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut sink);
        let _ = closed.send(());
    });
    let _ = on_close.await;
}

async fn wait_for_stop(term: Option<TermSignal>, exit_on_stdin_close: bool) {
    if exit_on_stdin_close {
        tokio::select! {
            () = wait_for_stop_signal(term) => {}
            () = stdin_closed() => tracing::info!("stdin closed"),
        }
    } else {
        wait_for_stop_signal(term).await;
    }
}

/// SIGTERM, listened for from before the base URL is printed: a parent that
/// stops the emulator as soon as it has read the URL gets a clean exit, not
/// the signal's default (the process killed).
#[cfg(unix)]
type TermSignal = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type TermSignal = ();

fn listen_for_term() -> Option<TermSignal> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::terminate()).ok()
    }
    #[cfg(not(unix))]
    {
        Some(())
    }
}

#[cfg_attr(not(unix), allow(unused_variables))]
async fn wait_for_stop_signal(term: Option<TermSignal>) {
    #[cfg(unix)]
    {
        match term {
            Some(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `--show-client-secret`: the secret on stdout, nothing else.
fn show_client_secret(args: &Args) -> ExitCode {
    let Some(path) = &args.client_secret_file else {
        eprintln!("scalekit-emulator: --show-client-secret needs --client-secret-file PATH");
        return ExitCode::from(2);
    };
    match secret_file::load_or_create(path) {
        Ok(secret) => {
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{}", secret.secret()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("scalekit-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if args.show_client_secret {
        return show_client_secret(&args);
    }
    let config = match config_from(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("scalekit-emulator: {message}");
            return ExitCode::from(2);
        }
    };
    let emulator = match scalekit_emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("scalekit-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(switch) = args.passkeys {
        if let Err(error) = emulator
            .state()
            .set_passkeys_enabled(matches!(switch, Switch::On))
            .await
        {
            eprintln!("scalekit-emulator: {error}");
            return ExitCode::FAILURE;
        }
    }
    let base_url = emulator
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    // Both lines in one write: a parent that reads the first line and then
    // closes the pipe must not make the second one fail.
    let announcement = format!("{base_url}\n{}\n", emulator.dev_mailbox().secret_url());
    let term = listen_for_term();
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(announcement.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    wait_for_stop(term, args.exit_on_stdin_close).await;
    tracing::info!("shutting down");
    if tokio::time::timeout(SHUTDOWN_GRACE, emulator.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; exiting");
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_defaults() {
        let args = Args::try_parse_from([
            "scalekit-emulator",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "e.sqlite3",
            "--public-url",
            "http://localhost:9000",
            "--admin-token",
            "t",
        ])
        .unwrap();
        let config = config_from(&args).unwrap();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.storage, Storage::File("e.sqlite3".into()));
        assert_eq!(
            config.public_url.unwrap().as_str(),
            "http://localhost:9000/"
        );
        assert_eq!(config.admin_token.unwrap().secret(), "t");
    }

    #[test]
    fn a_random_admin_token_when_none_is_given() {
        let args = Args::try_parse_from(["scalekit-emulator", "--in-memory"]).unwrap();
        let config = config_from(&args).unwrap();
        assert_eq!(config.storage, Storage::InMemory);
        assert_eq!(config.admin_token.unwrap().secret().len(), 32);
    }

    #[test]
    fn no_admin_switches_the_admin_routes_off() {
        let args =
            Args::try_parse_from(["scalekit-emulator", "--in-memory", "--no-admin"]).unwrap();
        assert!(config_from(&args).unwrap().admin_token.is_none());
    }

    fn demo_secret(config: &Config) -> String {
        config
            .client(DEMO_CONFIDENTIAL_CLIENT)
            .and_then(|c| c.secret.as_ref())
            .map(|s| s.secret().to_owned())
            .unwrap()
    }

    #[test]
    fn the_demo_secret_comes_from_the_secret_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broker-client-secret");
        let parse = |extra: &[&str]| {
            let mut argv = vec!["x", "--in-memory", "--client-secret-file"];
            argv.push(path.to_str().unwrap());
            argv.extend(extra);
            config_from(&Args::try_parse_from(argv).unwrap())
        };
        // Made on the first start, read on the next.
        let first = demo_secret(&parse(&[]).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), first);
        assert_eq!(demo_secret(&parse(&[]).unwrap()), first);
        // Without the flag: random, and not the test secret.
        let args = Args::try_parse_from(["x", "--in-memory"]).unwrap();
        let random = demo_secret(&config_from(&args).unwrap());
        assert_ne!(random, first);
        assert_ne!(random, scalekit_emulator::config::TEST_CLIENT_SECRET);
        // A configuration without skc_demo cannot take the file.
        let config = dir.path().join("emulator.toml");
        std::fs::write(&config, "[[clients]]\nid = \"ntvc_x\"\nkind = \"native\"\n").unwrap();
        let message = parse(&["--config", config.to_str().unwrap()]).unwrap_err();
        assert!(message.contains("does not register"), "{message}");
    }

    #[test]
    fn exit_on_stdin_close_is_off_unless_asked() {
        let args = Args::try_parse_from(["scalekit-emulator"]).unwrap();
        assert!(!args.exit_on_stdin_close);
        let args = Args::try_parse_from(["scalekit-emulator", "--exit-on-stdin-close"]).unwrap();
        assert!(args.exit_on_stdin_close);
    }

    #[test]
    fn conflicting_or_bad_flags_are_refused() {
        assert!(Args::try_parse_from(["x", "--data", "a", "--in-memory"]).is_err());
        assert!(Args::try_parse_from(["x", "--no-admin", "--admin-token", "t"]).is_err());
        assert!(Args::try_parse_from(["x", "--passkeys", "maybe"]).is_err());
        let missing =
            Args::try_parse_from(["x", "--config", "/nonexistent/emulator.toml"]).unwrap();
        assert!(config_from(&missing).is_err());
    }
}
