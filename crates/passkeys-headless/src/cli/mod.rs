//! The headless face of the app: `passkeys-desktop status|sign-in|sign-out|
//! passkeys list|passkeys rename ID NAME|passkeys remove ID|sessions list|
//! sessions sign-out ID|--others|accounts list|accounts switch NAME|EMAIL|
//! accounts remove-unconfigured|doctor [--fix] [--json] [--account NAME|EMAIL]`.
//!
//! Same core and configuration as the window, no window at all. Every
//! command acts as the current account, or the one `--account` names (its
//! email address or its environment's name). Exit codes: 0 done, 1 failed
//! (with `--json`, `{"kind","message"}` on stderr), 2 usage.

mod args;
mod doctor;
mod execute;
mod output;

use std::ffi::OsString;
use std::sync::Arc;

use passkeys_core::{BrowserLauncher, ErrorKind, UiError};
use url::Url;

pub use args::{
    is_cli_invocation, AccountsCommand, Cli, Command, PasskeysCommand, SessionsCommand,
};
pub use execute::execute;
pub use output::Output;

use crate::core_start;

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
    let account = cli.account.as_deref();
    match runtime.block_on(run(cli.command, account, system_browser, &output)) {
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
    account: Option<&str>,
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
    execute(command, account, &ready.accounts, output).await
}
