//! The headless face of the app: `passkeys-desktop status|sign-in|sign-out|
//! passkeys list|passkeys rename ID NAME|passkeys remove ID|sessions list|
//! sessions sign-out ID|--others|doctor [--fix] [--json]`.
//!
//! Same core and configuration as the window, no window at all. Exit codes:
//! 0 done, 1 failed (with `--json`, `{"kind","message"}` on stderr), 2 usage.

mod args;
mod doctor;
mod output;

use std::ffi::OsString;
use std::sync::Arc;

use passkeys_core::{BrowserLauncher, Client, ErrorKind, SignInProgress, UiError};
use url::Url;

pub use args::{is_cli_invocation, Cli, Command, PasskeysCommand, SessionsCommand};

use crate::core_start;
use output::Output;

/// Exit code: done.
pub const EXIT_OK: i32 = 0;
/// Exit code: the command failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: the arguments were wrong.
pub const EXIT_USAGE: i32 = 2;

/// Runs the command line and returns the process exit code. `system_browser`
/// opens sign-in links (the window's glue hands in the OS's opener).
pub fn main(args: Vec<OsString>, system_browser: Arc<dyn BrowserLauncher>) -> i32 {
    let cli = match args::parse(&args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            if error.kind() == clap::error::ErrorKind::InvalidSubcommand {
                eprintln!("\n{}", args::commands_help());
            }
            return if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            };
        }
    };
    let output = Output::new(cli.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output.error(&UiError {
                kind: ErrorKind::Internal,
                message: format!("Could not start: {error}."),
            });
            return EXIT_FAILED;
        }
    };
    if let Command::Doctor { fix } = cli.command {
        return runtime.block_on(doctor::run(fix, &output));
    }
    match runtime.block_on(run(cli.command, system_browser, &output)) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            output.error(&error);
            EXIT_FAILED
        }
    }
}

/// A browser that is never opened: `sign-in --no-browser` only prints the link.
struct NoBrowser;

impl BrowserLauncher for NoBrowser {
    fn open(&self, _url: &Url) -> passkeys_core::Result<()> {
        Err(passkeys_core::Error::Config(
            "Not opening a browser (--no-browser).".into(),
        ))
    }
}

async fn run(
    command: Command,
    system_browser: Arc<dyn BrowserLauncher>,
    output: &Output,
) -> Result<(), UiError> {
    let browser: Arc<dyn BrowserLauncher> = match command {
        Command::SignIn { no_browser: true } => Arc::new(NoBrowser),
        _ => system_browser,
    };
    if let Command::Doctor { .. } = command {
        // Run by `main` itself: its exit code is the report's.
        return Ok(());
    }
    let ready = core_start::start(browser).await?;
    let client = &ready.client;
    match command {
        Command::Status => output.session(&client.session().await?),
        Command::SignIn { .. } => output.signed_in(&sign_in(client, output).await?),
        Command::SignOut => {
            client.sign_out().await?;
            output.done("Signed out.");
        }
        Command::Passkeys(PasskeysCommand::List) => output.passkeys(&client.list_passkeys().await?),
        Command::Passkeys(PasskeysCommand::Rename { id, name }) => {
            output.renamed(&client.rename_passkey(&id, &name).await?);
        }
        Command::Passkeys(PasskeysCommand::Remove { id }) => {
            let what = format!("remove the passkey {id}");
            with_step_up(client, output, &what, || client.remove_passkey(&id)).await?;
            output.done("Removed.");
        }
        Command::Sessions(SessionsCommand::List) => output.sessions(&client.list_sessions().await?),
        Command::Sessions(SessionsCommand::SignOut { id: Some(id), .. }) => {
            let what = format!("sign out the session {id}");
            with_step_up(client, output, &what, || client.sign_out_session(&id)).await?;
            output.done("Signed out that session.");
        }
        Command::Sessions(SessionsCommand::SignOut { id: None, .. }) => {
            let what = "sign out your other sessions";
            let count =
                with_step_up(client, output, what, || client.sign_out_other_sessions()).await?;
            output.done(&match count {
                0 => "No other session was signed in.".to_owned(),
                1 => "Signed out 1 other session.".to_owned(),
                n => format!("Signed out {n} other sessions."),
            });
        }
        Command::Doctor { .. } => {}
    }
    Ok(())
}

/// Signs in, printing the link; Ctrl-C cancels.
async fn sign_in(client: &Client, output: &Output) -> Result<passkeys_core::Account, UiError> {
    let signing_in = client.sign_in(print_link(output));
    cancellable(client, signing_in).await
}

/// Runs `call`; when the broker wants a recent authentication first, asks
/// the person to confirm it is them in the browser (the link printed or
/// opened, as for `sign-in`; Ctrl-C cancels and changes nothing), then runs
/// `call` once more.
async fn with_step_up<T, F, Fut>(
    client: &Client,
    output: &Output,
    what: &str,
    call: F,
) -> Result<T, UiError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = passkeys_core::Result<T>>,
{
    match call().await {
        Err(passkeys_core::Error::ReauthenticationRequired { .. }) => {
            output.confirm_identity(what);
            let confirming = client.confirm_identity(print_link(output));
            cancellable(client, confirming).await?;
            Ok(call().await?)
        }
        other => Ok(other?),
    }
}

/// The progress callback of a browser sign-in: prints the link.
fn print_link(output: &Output) -> impl Fn(SignInProgress) + Send + Sync + 'static {
    let output = *output;
    move |progress: SignInProgress| {
        if let SignInProgress::WaitingForBrowser {
            authorize_url,
            browser_opened,
        } = progress
        {
            output.waiting_for_browser(&authorize_url, browser_opened);
        }
    }
}

/// Waits for a browser sign-in; Ctrl-C cancels it.
async fn cancellable<T>(
    client: &Client,
    signing_in: impl std::future::Future<Output = passkeys_core::Result<T>>,
) -> Result<T, UiError> {
    tokio::select! {
        result = signing_in => Ok(result?),
        _ = tokio::signal::ctrl_c() => {
            client.cancel_sign_in();
            Err(passkeys_core::Error::Cancelled.into())
        }
    }
}
