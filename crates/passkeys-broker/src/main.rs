//! `passkeys-broker`: serves the broker until SIGTERM or Ctrl-C.
//!
//! Prints its base URL as the first line of stdout once it accepts
//! connections; logs go to stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use passkeys_broker::{Config, Error, CLIENT_SECRET_ENV};

/// A server that holds the Scalekit client credentials and lets each
/// signed-in user list, rename and remove only their own passkeys.
///
/// The client secret is read from the PASSKEYS_BROKER_CLIENT_SECRET
/// environment variable or from the file named by `client_secret_file`;
/// there is deliberately no command-line option for it.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file), e.g. 127.0.0.1:0.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The Scalekit environment URL (overrides the file).
    #[arg(long)]
    environment_url: Option<url::Url>,
    /// The app's client id expected in callers' tokens (overrides the file).
    #[arg(long)]
    client_id: Option<String>,
    /// The broker's confidential client id (overrides the file).
    #[arg(long)]
    upstream_client_id: Option<String>,
    /// File holding the client secret (overrides the file's setting).
    #[arg(long)]
    client_secret_file: Option<PathBuf>,
    /// How recent (in seconds) an authentication removing a passkey or
    /// signing a session out needs (overrides the file; default 300).
    #[arg(long)]
    step_up_max_age_secs: Option<u64>,
    /// Also stop when stdin reaches end of file: a parent process (the
    /// desktop app on a first run) keeps the pipe open, and the broker stops
    /// when the parent closes it or exits, a crash included.
    #[arg(long)]
    exit_on_stdin_close: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("passkeys-broker: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("passkeys-broker: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> passkeys_broker::Result<()> {
    let exit_on_stdin_close = args.exit_on_stdin_close;
    let config = load_config(args)?;
    let broker = passkeys_broker::start(config).await?;
    // SIGTERM is listened for from before the URL is printed: a parent that
    // stops the broker as soon as it has read it gets a clean exit.
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(not(unix))]
    let term: Option<TermSignal> = None;
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "{}",
            broker.base_url().as_str().trim_end_matches('/')
        );
        let _ = stdout.flush();
    }
    if exit_on_stdin_close {
        tokio::select! {
            () = wait_for_signal(term) => {}
            () = stdin_closed() => tracing::info!("stdin closed"),
        }
    } else {
        wait_for_signal(term).await;
    }
    tracing::info!("shutting down");
    broker.shutdown().await;
    Ok(())
}

/// The file's settings, then the command line's overrides.
fn load_config(args: Args) -> passkeys_broker::Result<Config> {
    let env_secret = std::env::var(CLIENT_SECRET_ENV).ok();
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
            let text = apply_overrides_to_toml(&text, &args)?;
            Config::from_toml_str(&text, env_secret)?
        }
        None => Config::from_toml_str(&apply_overrides_to_toml("", &args)?, env_secret)?,
    };
    Ok(config)
}

/// Puts the command-line values into the TOML table before it is read, so
/// one code path checks everything.
fn apply_overrides_to_toml(text: &str, args: &Args) -> passkeys_broker::Result<String> {
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::Config(e.to_string()))?;
    let mut set = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            table.insert(key.to_owned(), toml::Value::String(value));
        }
    };
    set(
        "environment_url",
        args.environment_url.as_ref().map(ToString::to_string),
    );
    set("client_id", args.client_id.clone());
    set("upstream_client_id", args.upstream_client_id.clone());
    set(
        "client_secret_file",
        args.client_secret_file
            .as_ref()
            .map(|p| p.display().to_string()),
    );
    set("listen", args.listen.map(|a| a.to_string()));
    if let Some(secs) = args.step_up_max_age_secs {
        let secs = i64::try_from(secs)
            .map_err(|_| Error::Config("step_up_max_age_secs is too large".into()))?;
        table.insert(
            "step_up_max_age_secs".to_owned(),
            toml::Value::Integer(secs),
        );
    }
    Ok(table.to_string())
}

/// Resolves when stdin reaches end of file (or cannot be read). A plain thread
/// reads it: a blocking read would hold up the runtime's shutdown.
async fn stdin_closed() {
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = closed.send(());
    });
    let _ = on_close.await;
}

#[cfg(unix)]
type TermSignal = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type TermSignal = ();

#[cfg_attr(not(unix), allow(unused_variables))]
async fn wait_for_signal(term: Option<TermSignal>) {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match term {
            Some(mut signal) => {
                signal.recv().await;
            }
            None => {
                tracing::error!("cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_values_override_the_file() {
        let args = Args::parse_from([
            "passkeys-broker",
            "--listen",
            "127.0.0.1:0",
            "--client-id",
            "ntvc_cli",
            "--step-up-max-age-secs",
            "45",
        ]);
        let file = "environment_url = \"https://acme.scalekit.dev\"\nclient_id = \"ntvc_file\"\nupstream_client_id = \"skc_file\"\nlisten = \"127.0.0.1:9999\"\n";
        let text = apply_overrides_to_toml(file, &args).unwrap();
        let config = Config::from_toml_str(&text, Some("s".into())).unwrap();
        assert_eq!(config.client_id, "ntvc_cli");
        assert_eq!(config.upstream_client_id, "skc_file");
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.step_up_max_age.as_secs(), 45);
    }
}
