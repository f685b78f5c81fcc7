//! The Tauri commands: one-liners that delegate to the client core.
//!
//! Errors reach the UI as `{"kind","message"}` (the core's `UiError`).
//! [`COMMANDS`] and [`handler`] come from one list, and `build.rs` must name
//! the same commands (a test below keeps them equal).

use passkeys_core::doctor::Report;
use passkeys_core::{
    Account, AccountSummary, AccountsOverview, Passkey, PasskeyList, SessionState, SignedInSession,
    UiError,
};
use tauri::{AppHandle, Runtime, State};

use crate::flows;
use crate::state::AppState;
use passkeys_headless::core_start::EnvironmentInfo;

/// The current session, from the keychain.
#[tauri::command]
pub async fn session(state: State<'_, AppState>) -> Result<SessionState, UiError> {
    Ok(state.client().await?.session().await?)
}

/// Signs in through the system browser to `environment` (a configured
/// environment's name; default: the current account's, else the first);
/// resolves when the browser came back. The new account becomes current.
#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    environment: Option<String>,
) -> Result<Account, UiError> {
    flows::sign_in(&app, &state, environment).await
}

/// Confirms it is the signed-in person (a new sign-in in the browser), as
/// the broker asks before a removal (`reauthenticationRequired`).
#[tauri::command]
pub async fn confirm_identity<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Account, UiError> {
    flows::confirm_identity(&app, &state).await
}

/// Stops the pending sign-in (its `sign_in` call fails with `cancelled`).
#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>) -> Result<(), UiError> {
    state.accounts().await?.cancel_sign_in();
    Ok(())
}

/// Signs the current account out (revokes, purges its keychain entry, signs
/// out in the browser); another account, if any, becomes current.
#[tauri::command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<(), UiError> {
    match state.accounts().await?.current() {
        Some(account) => flows::sign_out_account(&app, &state, &account.key).await?,
        None => SessionState::SignedOut,
    };
    Ok(())
}

/// Every account (the current one marked) and the environments another
/// account can sign in to: what the switcher shows, without the keychain or
/// the network.
#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<AccountsOverview, UiError> {
    Ok(state.accounts().await?.overview())
}

/// Makes the account `key` the current one (no network); answers the session.
#[tauri::command]
pub async fn switch_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    key: String,
) -> Result<SessionState, UiError> {
    flows::switch_account(&app, &state, &key).await
}

/// Signs the account `key` out, leaving the others; answers the session now.
#[tauri::command]
pub async fn sign_out_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    key: String,
) -> Result<SessionState, UiError> {
    flows::sign_out_account(&app, &state, &key).await
}

/// Deletes the keychain entries of accounts whose environment is no longer
/// configured; answers them.
#[tauri::command]
pub async fn remove_unconfigured_accounts(
    state: State<'_, AppState>,
) -> Result<Vec<AccountSummary>, UiError> {
    Ok(state.accounts().await?.remove_stale().await?)
}

/// The signed-in person's passkeys, with the providers' icons the UI does
/// not have yet (`knownIcons`: the icon keys it has; none when left out).
#[tauri::command]
pub async fn list_passkeys(
    state: State<'_, AppState>,
    known_icons: Option<Vec<String>>,
) -> Result<PasskeyList, UiError> {
    let passkeys = state.client().await?.list_passkeys().await?;
    Ok(PasskeyList::new(passkeys, &known_icons.unwrap_or_default()))
}

/// Renames a passkey (1 to 120 characters, checked before sending).
#[tauri::command]
pub async fn rename_passkey(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> Result<Passkey, UiError> {
    Ok(state.client().await?.rename_passkey(&id, &name).await?)
}

/// Removes a passkey.
#[tauri::command]
pub async fn remove_passkey(state: State<'_, AppState>, id: String) -> Result<(), UiError> {
    Ok(state.client().await?.remove_passkey(&id).await?)
}

/// Opens `<env>/ui/profile/passkeys` in the browser, where passkeys are added.
#[tauri::command]
pub async fn add_passkey(state: State<'_, AppState>) -> Result<(), UiError> {
    Ok(state.client().await?.add_passkey().await?)
}

/// Where the person is signed in (this app's session marked `current`).
#[tauri::command]
pub async fn list_sessions(state: State<'_, AppState>) -> Result<Vec<SignedInSession>, UiError> {
    Ok(state.client().await?.list_sessions().await?)
}

/// Signs out one of the person's other sessions.
#[tauri::command]
pub async fn sign_out_session(state: State<'_, AppState>, id: String) -> Result<(), UiError> {
    Ok(state.client().await?.sign_out_session(&id).await?)
}

/// Signs out every other session; answers how many.
#[tauri::command]
pub async fn sign_out_other_sessions(state: State<'_, AppState>) -> Result<usize, UiError> {
    Ok(state.client().await?.sign_out_other_sessions().await?)
}

/// The environment the app talks to, for the account view.
#[tauri::command]
pub async fn environment(state: State<'_, AppState>) -> Result<EnvironmentInfo, UiError> {
    state.environment().await
}

/// The doctor's report: the keychain, the link scheme, the configuration,
/// the environment and its broker, the clock (the window's "Diagnose").
#[tauri::command]
pub async fn diagnose(state: State<'_, AppState>) -> Result<Report, UiError> {
    state.diagnose(false).await
}

/// The Diagnose panel's Fix for the link scheme (a check whose `repair` is
/// `registerScheme`): registers it as `passkeys-desktop doctor --fix` does,
/// the same code, and answers the doctor's report after it.
#[tauri::command]
pub async fn fix_link_scheme(state: State<'_, AppState>) -> Result<Report, UiError> {
    state.diagnose(true).await
}

/// The UI's first view is on screen with the session known: records the
/// start-up time (see [`crate::ready_mark`]).
#[tauri::command]
pub fn app_ready() -> Result<(), UiError> {
    crate::ready_mark::record_ready()
        .map(drop)
        .map_err(|error| UiError {
            kind: passkeys_core::ErrorKind::Internal,
            message: format!("Could not write the start-up time: {error}."),
        })
}

/// Calls `$callback!` with every command, the one list of them.
macro_rules! with_commands {
    ($callback:ident) => {
        $callback!(
            session,
            sign_in,
            confirm_identity,
            cancel_sign_in,
            sign_out,
            list_passkeys,
            rename_passkey,
            remove_passkey,
            add_passkey,
            list_sessions,
            sign_out_session,
            sign_out_other_sessions,
            list_accounts,
            switch_account,
            sign_out_account,
            remove_unconfigured_accounts,
            environment,
            diagnose,
            fix_link_scheme,
            app_ready
        )
    };
}

macro_rules! command_names {
    ($($command:ident),*) => { &[$(stringify!($command)),*] };
}

macro_rules! command_handler {
    ($($command:ident),*) => { tauri::generate_handler![$($command),*] };
}

/// The names of the commands, as the UI invokes them.
pub const COMMANDS: &[&str] = with_commands!(command_names);

/// The invoke handler of every command in [`COMMANDS`].
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    with_commands!(command_handler)
}

#[cfg(test)]
mod tests {
    use super::COMMANDS;

    /// The string literals of the `COMMANDS` list in `build.rs`.
    fn build_rs_commands() -> Vec<String> {
        let source = include_str!("build.rs");
        let start = source.find("const COMMANDS").expect("COMMANDS in build.rs");
        let list = &source[start..];
        let list = &list[list.find("= &[").unwrap() + 4..list.find("];").unwrap()];
        list.split(',')
            .map(|item| item.trim().trim_matches('"').to_string())
            .filter(|item| !item.is_empty())
            .collect()
    }

    #[test]
    fn build_rs_names_exactly_the_handled_commands() {
        assert_eq!(build_rs_commands(), COMMANDS);
    }

    #[test]
    fn capability_grants_exactly_the_commands_and_event_listening() {
        let text = include_str!("../capabilities/default.json");
        let capability: serde_json::Value = serde_json::from_str(text).unwrap();
        let permissions: Vec<&str> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|permission| permission.as_str().expect("plain permission names"))
            .collect();
        let mut commands: Vec<String> = permissions
            .iter()
            .filter_map(|permission| permission.strip_prefix("allow-"))
            .map(|command| command.replace('-', "_"))
            .collect();
        commands.sort();
        let mut expected: Vec<String> =
            COMMANDS.iter().map(|command| command.to_string()).collect();
        expected.sort();
        assert_eq!(commands, expected);
        let others: Vec<&str> = permissions
            .iter()
            .copied()
            .filter(|p| !p.starts_with("allow-"))
            .collect();
        assert_eq!(
            others,
            ["core:event:allow-listen", "core:event:allow-unlisten"]
        );
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        assert!(
            capability.get("remote").is_none(),
            "no remote URL may use the commands"
        );
    }
}
