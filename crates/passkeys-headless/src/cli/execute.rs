//! One command against the accounts: which account (`--account NAME|EMAIL`,
//! else the current one) and what to do with its client.

use passkeys_core::{Accounts, Client, Error, SignInProgress, UiError};

use super::args::{AccountsCommand, Command, PasskeysCommand, SessionsCommand};
use super::output::Output;

/// Runs `command` as the account `account` names (else the current one)
/// and prints its result to `output`. `doctor` is not run here.
///
/// # Errors
/// The command's error, as the UI and `--json` show it.
pub async fn execute(
    command: Command,
    account: Option<&str>,
    accounts: &Accounts,
    output: &Output,
) -> Result<(), UiError> {
    match command {
        Command::Status => {
            // A session whose access token expired is renewed first: one
            // that cannot be (its refresh token refused) is not "signed in".
            let session = chosen(accounts, account)?.checked_session().await?;
            output.status(&session, &accounts.list());
        }
        Command::SignIn { .. } => {
            let environment = environment_to_sign_in(accounts, account)?;
            output.signed_in(&sign_in(accounts, &environment, output).await?);
        }
        Command::SignOut => {
            let signed_in = match account {
                Some(selector) => Some(accounts.find(selector)?),
                None => accounts.current(),
            };
            match signed_in {
                Some(signed_in) => output.signed_out(&accounts.sign_out(&signed_in.key).await?),
                None => {
                    // Nobody to sign out of: what the keychain holds for a
                    // sign-in in progress is forgotten, and that is all.
                    accounts.active_client()?.sign_out().await?;
                    output.done("Signed out.");
                }
            }
        }
        Command::Accounts(AccountsCommand::List) => output.accounts(&accounts.list()),
        Command::Accounts(AccountsCommand::Switch { account }) => {
            output.switched(&accounts.switch(&account)?);
        }
        Command::Accounts(AccountsCommand::RemoveUnconfigured) => {
            output.removed(&accounts.remove_stale().await?);
        }
        Command::Passkeys(command) => {
            passkeys(command, &chosen(accounts, account)?, output).await?
        }
        Command::Sessions(command) => {
            sessions(command, &chosen(accounts, account)?, output).await?
        }
        Command::Doctor { .. } => {}
    }
    Ok(())
}

/// The client of the account `selector` names, else the current one's;
/// with nobody signed in, the one that signs in, which reads the keychain
/// (a keychain that cannot be reached says so, as ever).
fn chosen(accounts: &Accounts, selector: Option<&str>) -> passkeys_core::Result<Client> {
    match selector {
        Some(selector) => Ok(accounts.client_for(selector)?.1),
        None => accounts.active_client(),
    }
}

/// `sign-in --account NAME|EMAIL`: the environment it names, or the one of
/// the account it names; without it, the current account's, else the first.
fn environment_to_sign_in(
    accounts: &Accounts,
    selector: Option<&str>,
) -> passkeys_core::Result<String> {
    match selector {
        Some(name) if accounts.environment(name).is_some() => Ok(name.to_owned()),
        Some(selector) => Ok(accounts.find(selector)?.environment),
        None => match accounts.current() {
            Some(current) => Ok(current.environment),
            None => accounts
                .environment_names()
                .into_iter()
                .next()
                .ok_or_else(|| Error::Config("No environment is configured.".into())),
        },
    }
}

async fn passkeys(
    command: PasskeysCommand,
    client: &Client,
    output: &Output,
) -> Result<(), UiError> {
    match command {
        PasskeysCommand::List => output.passkeys(&client.list_passkeys().await?),
        PasskeysCommand::Rename { id, name } => {
            output.renamed(&client.rename_passkey(&id, &name).await?);
        }
        PasskeysCommand::Remove { id } => {
            let what = format!("remove the passkey {id}");
            with_step_up(client, output, &what, || client.remove_passkey(&id)).await?;
            output.done("Removed.");
        }
    }
    Ok(())
}

async fn sessions(
    command: SessionsCommand,
    client: &Client,
    output: &Output,
) -> Result<(), UiError> {
    match command {
        SessionsCommand::List => output.sessions(&client.list_sessions().await?),
        SessionsCommand::SignOut { id: Some(id), .. } => {
            let what = format!("sign out the session {id}");
            with_step_up(client, output, &what, || client.sign_out_session(&id)).await?;
            output.done("Signed out that session.");
        }
        SessionsCommand::SignOut { id: None, .. } => {
            let what = "sign out your other sessions";
            let count =
                with_step_up(client, output, what, || client.sign_out_other_sessions()).await?;
            output.done(&match count {
                0 => "No other session was signed in.".to_owned(),
                1 => "Signed out 1 other session.".to_owned(),
                n => format!("Signed out {n} other sessions."),
            });
        }
    }
    Ok(())
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
        Err(Error::ReauthenticationRequired { .. }) => {
            output.confirm_identity(what);
            let confirming = client.confirm_identity(print_link(output));
            tokio::select! {
                result = confirming => { result?; }
                _ = tokio::signal::ctrl_c() => {
                    client.cancel_sign_in();
                    return Err(Error::Cancelled.into());
                }
            }
            Ok(call().await?)
        }
        other => Ok(other?),
    }
}

/// The progress callback of a browser sign-in: prints the link.
fn print_link(output: &Output) -> impl Fn(SignInProgress) + Send + Sync + 'static {
    let output = output.clone();
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

/// Signs in to `environment`, printing the link; Ctrl-C cancels.
async fn sign_in(
    accounts: &Accounts,
    environment: &str,
    output: &Output,
) -> Result<passkeys_core::Account, UiError> {
    let signing_in = accounts.sign_in(environment, print_link(output));
    tokio::select! {
        result = signing_in => {
            let account = result?;
            Ok(passkeys_core::Account {
                subject: account.subject,
                name: account.name,
                email: account.email,
                environment: account.environment_url,
            })
        }
        _ = tokio::signal::ctrl_c() => {
            accounts.sign_in_client(environment)?.cancel_sign_in();
            Err(Error::Cancelled.into())
        }
    }
}
