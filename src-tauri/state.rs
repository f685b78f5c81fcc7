//! The managed state: the client core, started on first use.
//!
//! The window appears before the core is ready (reading the configuration and,
//! without one, starting the local emulator take a moment): every command
//! awaits the same one-time start-up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use passkeys_core::{Accounts, BrowserLauncher, Client, UiError};
use tokio::sync::OnceCell;

use passkeys_core::doctor::Report;
use passkeys_headless::core_start::{self, EnvironmentInfo, Ready};
use passkeys_headless::diagnose::{diagnose, Subject};

use crate::system_browser::SystemBrowser;

/// The app's managed state.
pub struct AppState {
    ready: OnceCell<Ready>,
    browser: Arc<dyn BrowserLauncher>,
    sign_ins: AtomicUsize,
}

/// Counts a sign-in as waiting while it lives ([`AppState::sign_in_started`]).
pub struct SignInWaiting<'a>(&'a AtomicUsize);

impl Drop for SignInWaiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AppState {
    /// State that starts the core on first use, opening URLs with `browser`
    /// unless the configuration names a browser command.
    pub fn new(browser: Arc<dyn BrowserLauncher>) -> AppState {
        AppState {
            ready: OnceCell::new(),
            browser,
            sign_ins: AtomicUsize::new(0),
        }
    }

    /// State around a client that is already built (tests).
    pub fn with_ready(ready: Ready) -> AppState {
        AppState {
            ready: OnceCell::new_with(Some(ready)),
            browser: Arc::new(SystemBrowser),
            sign_ins: AtomicUsize::new(0),
        }
    }

    /// The started core; the first caller starts it, a failed start is tried again next time.
    ///
    /// # Errors
    /// Why the core could not start (`config`, `keychain`, ...).
    pub async fn ready(&self) -> Result<&Ready, UiError> {
        self.ready
            .get_or_try_init(|| core_start::start(self.browser.clone()))
            .await
            .map_err(UiError::from)
    }

    /// Stops the local emulator and broker, if the core is started and it
    /// started them (on exit).
    pub fn stop_local_servers(&self) {
        if let Some(ready) = self.ready.get() {
            ready.stop_local_servers();
        }
    }

    /// Marks a sign-in as waiting until the returned guard is dropped.
    pub fn sign_in_started(&self) -> SignInWaiting<'_> {
        self.sign_ins.fetch_add(1, Ordering::SeqCst);
        SignInWaiting(&self.sign_ins)
    }

    /// Whether a sign-in is waiting for the browser.
    pub fn sign_in_waiting(&self) -> bool {
        self.sign_ins.load(Ordering::SeqCst) > 0
    }

    /// The client the window acts with: the current account's, or (nobody
    /// signed in) the one that signs in.
    ///
    /// # Errors
    /// As [`AppState::ready`].
    pub async fn client(&self) -> Result<Client, UiError> {
        Ok(self.ready().await?.client()?)
    }

    /// The client a deep link is for (the one whose sign-in waits, else
    /// [`AppState::client`]).
    ///
    /// # Errors
    /// As [`AppState::ready`].
    pub async fn deep_link_client(&self) -> Result<Client, UiError> {
        Ok(self.ready().await?.accounts.deep_link_client()?)
    }

    /// The accounts.
    ///
    /// # Errors
    /// As [`AppState::ready`].
    pub async fn accounts(&self) -> Result<&Accounts, UiError> {
        Ok(&self.ready().await?.accounts)
    }

    /// The doctor's report on this machine and the running core's
    /// environment (the configuration alone when the core did not start);
    /// with `fix`, after registering the link scheme again, as
    /// `passkeys-desktop doctor --fix` does.
    ///
    /// # Errors
    /// When the doctor cannot run at all, or the scheme cannot be registered.
    pub async fn diagnose(&self, fix: bool) -> Result<Report, UiError> {
        let client = match self.ready().await {
            Ok(ready) => ready.client().ok(),
            Err(_) => None,
        };
        let subject = match &client {
            Some(client) => Subject::Running(client.config()),
            None => Subject::ConfiguredWithoutStarting,
        };
        Ok(diagnose(fix, subject).await?)
    }

    /// What the account view shows about the environment.
    ///
    /// # Errors
    /// As [`AppState::ready`].
    pub async fn environment(&self) -> Result<EnvironmentInfo, UiError> {
        Ok(self.ready().await?.environment()?)
    }
}
