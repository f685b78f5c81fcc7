//! The Tauri-free client core of the passkeys desktop app.
//!
//! It signs a person in to a Scalekit environment through the system browser
//! (OAuth 2.0 authorization code with PKCE S256 and OpenID Connect, RFC 8252
//! loopback or private-use-scheme redirect), keeps the tokens in the OS
//! keychain, refreshes them single-flight, and lists, renames and removes the
//! person's passkeys through the environment's REST API.
//!
//! The outside world comes in through small seams: a [`BrowserLauncher`]
//! (the app's opener, a [`CommandBrowser`], or a test driver), a
//! [`SecretStore`] ([`KeyringStore`] in production) and a [`Config`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use passkeys_core::{Client, CommandBrowser, Config, KeyringStore, SessionState};
//!
//! # async fn run() -> passkeys_core::Result<()> {
//! let config = Config::load()?.ok_or_else(|| passkeys_core::Error::Config("not configured".into()))?;
//! let store = Arc::new(KeyringStore::new(config.keychain_service.clone()));
//! let browser = Arc::new(CommandBrowser::new("xdg-open")?);
//! let client = Client::new(config, store, browser).await?;
//!
//! if client.session().await? == SessionState::SignedOut {
//!     let account = client
//!         .sign_in(|progress| println!("{progress:?}"))
//!         .await?;
//!     println!("signed in as {}", account.subject);
//! }
//! for passkey in client.list_passkeys().await? {
//!     println!("{} {}", passkey.id, passkey.display_name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Errors carry an [`ErrorKind`]; `UiError::from(error)` gives the
//! `{"kind": "...", "message": "..."}` shape the UI receives.

mod browser;
mod callback;
mod client;
mod config;
mod deep_link;
mod error;
mod loopback;
mod oidc;
mod passkeys;
mod refresh;
pub mod secret;
mod vault;

pub use browser::{BrowserLauncher, CommandBrowser};
pub use client::{Client, ClientOptions, SessionState, SignInProgress};
pub use config::{
    ApiConfig, Config, RedirectMode, TokenSource, DEFAULT_DEEP_LINK_REDIRECT_URI,
    DEFAULT_KEYCHAIN_SERVICE, DEFAULT_SCOPES, DEFAULT_SIGN_IN_TIMEOUT,
};
pub use deep_link::{DeepLinkAction, MAX_DEEP_LINK_LEN};
pub use error::{ApiError, Error, ErrorKind, FieldViolation, Result, UiError};
pub use passkeys::{
    validate_display_name, AuthenticatorInfo, Passkey, RegisteredFrom, MAX_NAME_CHARS,
};
pub use refresh::DEFAULT_REFRESH_SKEW;
pub use vault::{
    Account, KeyringStore, SecretStore, StoredSession, TokenVault, DEFAULT_KEYCHAIN_TIMEOUT,
};
