//! What happens around a sign-in and a deep link, for the commands and the
//! plugins: events to the UI, the window brought to the front.

use passkeys_core::{Account, DeepLinkAction, SessionState, SignInProgress, UiError};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::state::AppState;

/// Event: how a sign-in is going (the core's `SignInProgress`:
/// `{stage: "waitingForBrowser", authorizeUrl, browserOpened}` or `{stage: "completingSignIn"}`).
pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";
/// Event: the session changed (payload: the new session state).
pub const SESSION_CHANGED: &str = "session-changed";
/// Event: a message for the person (`{message}`).
pub const NOTICE: &str = "notice";
/// Event: a `<scheme>://sign-in` link arrived while someone is signed in
/// (`{account}`): the window asks before signing in as another account.
pub const SIGN_IN_LINK: &str = "sign-in-link";

/// The notice shown when a deep link is refused.
pub const REFUSED_LINK_NOTICE: &str = "That sign-in link was not expected and was ignored.";

/// Payload of [`SIGN_IN_LINK`].
#[derive(Debug, Clone, Serialize)]
pub struct SignInLinkPayload {
    /// Who is signed in now.
    pub account: Account,
}

/// Payload of [`NOTICE`].
#[derive(Debug, Clone, Serialize)]
pub struct NoticePayload {
    /// The text shown.
    pub message: String,
}

/// Signs in to `environment` (by default the current account's, else the
/// first configured): progress events while the browser is used, then
/// `session-changed` with the new account (now the current one; any other
/// account stays signed in) and the window brought to the front.
///
/// # Errors
/// Why the sign-in did not complete (`cancelled`, `timeout`, `network` ...).
pub async fn sign_in<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    environment: Option<String>,
) -> Result<Account, UiError> {
    let accounts = state.accounts().await?;
    let environment = match environment {
        Some(environment) => environment,
        None => accounts
            .current()
            .map(|account| account.environment)
            .or_else(|| accounts.environment_names().into_iter().next())
            .unwrap_or_default(),
    };
    let _waiting = state.sign_in_started();
    let emitter = app.clone();
    let signed_in = accounts
        .sign_in(&environment, move |progress: SignInProgress| {
            let _ = emitter.emit(SIGN_IN_PROGRESS, progress);
        })
        .await?;
    let account = signed_in.account();
    session_changed(
        app,
        &SessionState::SignedIn {
            account: account.clone(),
        },
    );
    bring_to_front(app);
    Ok(account)
}

/// Confirms it is the signed-in person: progress events while the browser
/// is used (as for a sign-in), then the window brought to the front.
///
/// # Errors
/// As [`sign_in`]; `invalidInput` when another account confirmed.
pub async fn confirm_identity<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
) -> Result<Account, UiError> {
    let client = state.client().await?;
    let _waiting = state.sign_in_started();
    let emitter = app.clone();
    let confirmed = client
        .confirm_identity(move |progress: SignInProgress| {
            let _ = emitter.emit(SIGN_IN_PROGRESS, progress);
        })
        .await;
    bring_to_front(app);
    Ok(confirmed?)
}

/// Makes the account `key` current, from what is known of it (no keychain,
/// no network), and tells the UI.
///
/// # Errors
/// An unknown account, or one whose environment is no longer configured.
pub async fn switch_account<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    key: &str,
) -> Result<SessionState, UiError> {
    let account = state.accounts().await?.switch(key)?;
    let session = SessionState::SignedIn {
        account: account.account(),
    };
    session_changed(app, &session);
    Ok(session)
}

/// Signs the account `key` out (the others stay signed in) and tells the UI
/// who is current now.
///
/// # Errors
/// An unknown account, or the keychain entry could not be deleted.
pub async fn sign_out_account<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    key: &str,
) -> Result<SessionState, UiError> {
    let accounts = state.accounts().await?;
    accounts.sign_out(key).await?;
    let session = match accounts.current() {
        Some(account) => SessionState::SignedIn {
            account: account.account(),
        },
        None => SessionState::SignedOut,
    };
    session_changed(app, &session);
    Ok(session)
}

/// Tells the UI the session changed.
pub fn session_changed<R: Runtime>(app: &AppHandle<R>, session: &SessionState) {
    let _ = app.emit(SESSION_CHANGED, session);
}

/// Shows a notice in the window.
pub fn notice<R: Runtime>(app: &AppHandle<R>, message: impl Into<String>) {
    let _ = app.emit(
        NOTICE,
        NoticePayload {
            message: message.into(),
        },
    );
}

/// Shows, unminimises and focuses the main window.
pub fn bring_to_front<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(crate::first_paint::MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Hands a deep link to the core: a callback completes the pending sign-in,
/// `<scheme>://sign-in` starts one (when none is waiting and nobody is
/// signed in; signed in, the window asks first), `<scheme>:/signed-out` (the
/// environment's redirect after sign-out) shows the window as it now is,
/// anything else is refused with a notice.
pub async fn handle_deep_link<R: Runtime>(app: AppHandle<R>, url: String) {
    let state = app.state::<AppState>();
    let client = match state.deep_link_client().await {
        Ok(client) => client,
        Err(error) => return notice(&app, error.message),
    };
    match client.handle_deep_link(&url).await {
        Ok(DeepLinkAction::StartSignIn) => {
            bring_to_front(&app);
            // Anyone can open such a link: it never cancels a sign-in that
            // is waiting, and never replaces the signed-in account without
            // asking the person first (the window asks; see SIGN_IN_LINK).
            if state.sign_in_waiting() {
                return;
            }
            if let Ok(SessionState::SignedIn { account }) = client.session().await {
                let _ = app.emit(SIGN_IN_LINK, SignInLinkPayload { account });
                return;
            }
            if let Err(error) = sign_in(&app, &state, None).await {
                if !matches!(error.kind, passkeys_core::ErrorKind::Cancelled) {
                    notice(&app, error.message);
                }
            }
        }
        Ok(DeepLinkAction::SignedOut) => {
            // The environment's answer to a sign-out: the window comes
            // forward showing whatever the session now is, with no notice.
            if let Ok(session) = client.session().await {
                session_changed(&app, &session);
            }
            bring_to_front(&app);
        }
        Ok(_) => bring_to_front(&app),
        Err(error) => {
            tracing::warn!(kind = ?error.kind(), "deep link refused");
            notice(&app, REFUSED_LINK_NOTICE);
            bring_to_front(&app);
        }
    }
}
