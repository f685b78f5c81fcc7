//! The command line's arguments.

use std::ffi::OsString;

use clap::{Parser, Subcommand};

/// The first arguments that make the binary run headless.
pub const SUBCOMMANDS: &[&str] = &[
    "status", "sign-in", "sign-out", "passkeys", "sessions", "accounts", "doctor", "help",
];

/// Manage your passkeys from the command line (no window).
#[derive(Debug, Parser, PartialEq, Eq)]
#[command(name = "passkeys-desktop", version, about, long_about = None)]
pub struct Cli {
    /// Print JSON instead of text (errors as {"kind","message"} on stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// The account to act as: its email address, or the name of its
    /// environment (default: the current account; for `sign-in`, the
    /// environment to sign in to).
    #[arg(long, global = true, value_name = "NAME|EMAIL")]
    pub account: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A subcommand.
#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Whether you are signed in, and as whom; every account.
    Status,
    /// Sign in through the browser (prints the link to open).
    SignIn {
        /// Do not try to open a browser; only print the link.
        #[arg(long)]
        no_browser: bool,
    },
    /// Sign out of one account (the current one, or `--account`) and forget
    /// its stored session; the other accounts stay signed in.
    SignOut,
    /// List, rename or remove your passkeys.
    #[command(subcommand)]
    Passkeys(PasskeysCommand),
    /// Where you are signed in: list your sessions, sign one or all others out.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// List your accounts, switch to another, remove those no longer configured.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Check the keychain, the link scheme, the configuration, the
    /// environment, the broker, the clock and the loopback port (exit 1 when
    /// any check fails).
    Doctor {
        /// Register the deep-link scheme for this binary again first.
        #[arg(long)]
        fix: bool,
    },
}

/// A `passkeys` subcommand.
#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum PasskeysCommand {
    /// List your passkeys.
    List,
    /// Rename a passkey (1 to 120 characters).
    Rename {
        /// The passkey's id (see `passkeys list`).
        id: String,
        /// The new name.
        name: String,
    },
    /// Remove a passkey.
    Remove {
        /// The passkey's id (see `passkeys list`).
        id: String,
    },
}

/// An `accounts` subcommand.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum AccountsCommand {
    /// List every account (the current one marked), also those whose
    /// environment is no longer configured.
    List,
    /// Make another account the current one (no network needed).
    Switch {
        /// Its email address, or the name of its environment.
        #[arg(value_name = "NAME|EMAIL")]
        account: String,
    },
    /// Delete the keychain entries of accounts whose environment is no
    /// longer configured.
    RemoveUnconfigured,
}

/// A `sessions` subcommand.
#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum SessionsCommand {
    /// List where you are signed in (this app's session marked).
    List,
    /// Sign out one session (its id from `sessions list`), or every other one.
    SignOut {
        /// The session's id.
        #[arg(required_unless_present = "others", conflicts_with = "others")]
        id: Option<String>,
        /// Sign out every session except this app's.
        #[arg(long)]
        others: bool,
    },
}

/// True when the arguments ask for the command line rather than the window.
///
/// A known subcommand or flag counts, and so does any other bare word (a
/// mistyped or unknown command, which the command line then refuses with
/// its usage): the window only takes what the OS starts it with, a deep link
/// (`dev.passkeys.desktop:…`, which has a scheme) or the OS's own flags.
pub fn is_cli_invocation(args: &[OsString]) -> bool {
    let Some(first) = args.get(1).and_then(|arg| arg.to_str()) else {
        return false;
    };
    SUBCOMMANDS.contains(&first)
        || matches!(
            first,
            "--help" | "-h" | "--version" | "-V" | "--json" | "--account"
        )
        || first.starts_with("--account=")
        || (!first.is_empty() && !first.starts_with('-') && !first.contains(':'))
}

/// The list of commands, as `--help` shows it.
pub fn commands_help() -> String {
    use clap::CommandFactory as _;
    let mut lines = vec!["Commands:".to_owned()];
    for command in Cli::command().get_subcommands() {
        let about = command
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default();
        lines.push(format!("  {:<10} {about}", command.get_name()));
    }
    lines.join("\n")
}

/// Parses the arguments.
///
/// # Errors
/// clap's error (usage, or the help and version texts).
pub fn parse(args: &[OsString]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("passkeys-desktop")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn subcommands_are_cli_and_links_are_not() {
        let table: &[(&[&str], bool)] = &[
            (&[], false),
            (&["status"], true),
            (&["passkeys", "list", "--json"], true),
            (&["--json", "status"], true),
            (&["--help"], true),
            (
                &["dev.passkeys.desktop:/callback?code=abc&state=xyz"],
                false,
            ),
            (&["dev.passkeys.desktop://sign-in"], false),
            (&["--some-os-flag"], false),
            (&["doctor"], true),
            (&["doctor", "--fix", "--json"], true),
            (&["--account", "work", "status"], true),
            (&["--account=ada@example.com", "status"], true),
            (&["accounts", "list"], true),
            (&["doctr"], true),
            (&["stauts"], true),
            (&["passkey", "list"], true),
        ];
        for (list, expected) in table {
            assert_eq!(is_cli_invocation(&args(list)), *expected, "{list:?}");
        }
    }

    #[test]
    fn sessions_sign_out_needs_one_id_or_others() {
        assert!(parse(&args(&["sessions", "sign-out"])).is_err());
        assert!(parse(&args(&["sessions", "sign-out", "ses_1", "--others"])).is_err());
    }

    #[test]
    fn parses_every_subcommand() {
        let table: &[(&[&str], Command, bool)] = &[
            (&["status"], Command::Status, false),
            (&["status", "--json"], Command::Status, true),
            (&["sign-in"], Command::SignIn { no_browser: false }, false),
            (
                &["sign-in", "--no-browser"],
                Command::SignIn { no_browser: true },
                false,
            ),
            (&["sign-out", "--json"], Command::SignOut, true),
            (
                &["sessions", "list"],
                Command::Sessions(SessionsCommand::List),
                false,
            ),
            (
                &["sessions", "sign-out", "ses_2"],
                Command::Sessions(SessionsCommand::SignOut {
                    id: Some("ses_2".into()),
                    others: false,
                }),
                false,
            ),
            (
                &["sessions", "sign-out", "--others", "--json"],
                Command::Sessions(SessionsCommand::SignOut {
                    id: None,
                    others: true,
                }),
                true,
            ),
            (
                &["passkeys", "list"],
                Command::Passkeys(PasskeysCommand::List),
                false,
            ),
            (
                &["passkeys", "rename", "wac_1", "My key"],
                Command::Passkeys(PasskeysCommand::Rename {
                    id: "wac_1".into(),
                    name: "My key".into(),
                }),
                false,
            ),
            (&["doctor"], Command::Doctor { fix: false }, false),
            (
                &["doctor", "--fix", "--json"],
                Command::Doctor { fix: true },
                true,
            ),
            (
                &["--json", "passkeys", "remove", "wac_1"],
                Command::Passkeys(PasskeysCommand::Remove { id: "wac_1".into() }),
                true,
            ),
        ];
        for (list, command, json) in table {
            let cli = parse(&args(list)).unwrap();
            assert_eq!(&cli.command, command, "{list:?}");
            assert_eq!(cli.json, *json, "{list:?}");
        }
    }

    #[test]
    fn every_command_takes_an_account() {
        let table: &[(&[&str], Command)] = &[
            (&["--account", "work", "status"], Command::Status),
            (
                &["passkeys", "list", "--account", "ada@example.com"],
                Command::Passkeys(PasskeysCommand::List),
            ),
            (&["sign-out", "--account=home"], Command::SignOut),
            (
                &["sign-in", "--account", "home"],
                Command::SignIn { no_browser: false },
            ),
            (
                &["accounts", "list", "--account", "home"],
                Command::Accounts(AccountsCommand::List),
            ),
        ];
        for (list, command) in table {
            let cli = parse(&args(list)).unwrap();
            assert_eq!(&cli.command, command, "{list:?}");
            assert!(cli.account.is_some(), "{list:?}");
        }
        assert_eq!(parse(&args(&["status"])).unwrap().account, None);
    }

    #[test]
    fn parses_the_accounts_commands() {
        let table: &[(&[&str], AccountsCommand)] = &[
            (&["accounts", "list"], AccountsCommand::List),
            (
                &["accounts", "switch", "grace@example.com"],
                AccountsCommand::Switch {
                    account: "grace@example.com".into(),
                },
            ),
            (
                &["accounts", "remove-unconfigured"],
                AccountsCommand::RemoveUnconfigured,
            ),
        ];
        for (list, command) in table {
            let cli = parse(&args(list)).unwrap();
            assert_eq!(cli.command, Command::Accounts(command.clone()), "{list:?}");
        }
        assert!(parse(&args(&["accounts", "switch"])).is_err());
    }

    #[test]
    fn the_commands_are_listed_for_an_unknown_one() {
        let help = commands_help();
        for name in ["status", "sign-in", "sign-out", "passkeys", "doctor"] {
            assert!(help.contains(name), "{help}");
        }
    }

    #[test]
    fn an_unknown_command_is_a_usage_error() {
        let error = parse(&args(&["doctr"])).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(error.kind(), clap::error::ErrorKind::InvalidSubcommand);
    }

    #[test]
    fn usage_errors_are_refused() {
        for list in [
            &["passkeys"][..],
            &["passkeys", "rename", "wac_1"],
            &["status", "extra"],
            &["sign-in", "--bogus"],
        ] {
            let error = parse(&args(list)).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{list:?}");
        }
    }
}
