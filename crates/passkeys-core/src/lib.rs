//! The Tauri-free client core of the passkeys desktop app.
//!
//! It signs a person in to a Scalekit environment through the system browser
//! (OAuth 2.0 authorization code with PKCE S256 and OpenID Connect, RFC 8252
//! loopback or private-use-scheme redirect), keeps the tokens in the OS
//! keychain, refreshes them single-flight, and lists, renames and removes the
//! person's passkeys through your organisation's passkeys broker (Scalekit's
//! credentials API takes no end user's token; without a broker, passkeys are
//! managed in the browser at [`Client::manage_passkeys_url`]).
//!
//! The outside world comes in through small seams: a [`BrowserLauncher`]
//! (the app's opener, a [`CommandBrowser`], or a test driver), a
//! [`SecretStore`] ([`KeyringStore`] in production), a [`Clock`]
//! ([`SystemClock`] unless [`ClientOptions`] names another) and a [`Config`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use passkeys_core::{Client, CommandBrowser, Config, KeyringStore, SessionState};
//!
//! # async fn run() -> passkeys_core::Result<()> {
//! let config = Config::load()?
//!     .ok_or_else(|| passkeys_core::Error::Config("not configured".into()))?
//!     .with_api_url("https://passkeys-broker.example.com".parse().map_err(|_| {
//!         passkeys_core::Error::Config("bad broker URL".into())
//!     })?);
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

mod accounts;
mod browser;
mod callback;
mod client;
mod clock;
mod config;
mod deep_link;
pub mod doctor;
mod error;
mod loopback;
mod oidc;
mod passkeys;
mod refresh;
pub mod secret;
mod vault;
mod words;

pub use accounts::{
    AccountId, AccountPasskeys, AccountSummary, Accounts, AccountsOverview, ACCOUNTS_FILE,
};
pub use browser::{BrowserLauncher, CommandBrowser};
pub use client::{Client, ClientOptions, SessionState, SignInProgress};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    ApiConfig, Config, EnvironmentKind, Environments, LocalSettings, NamedEnvironment,
    RedirectMode, Settings, APP_IDENTIFIER, DEFAULT_DEEP_LINK_REDIRECT_URI, DEFAULT_ENVIRONMENT,
    DEFAULT_KEYCHAIN_SERVICE, DEFAULT_SCOPES, DEFAULT_SIGN_IN_TIMEOUT, LOCAL_ENVIRONMENT,
};
pub use deep_link::{DeepLinkAction, MAX_DEEP_LINK_LEN};
pub use error::{ApiError, Error, ErrorKind, FieldViolation, Result, UiError};
pub use passkeys::{
    validate_display_name, AuthenticatorInfo, Passkey, PasskeyList, ProviderIcon, RegisteredFrom,
    SignedInSession, DISPLAY_NAME_MAX_CHARS,
};
pub use refresh::DEFAULT_REFRESH_SKEW;
pub use vault::{
    Account, KeyringStore, SecretStore, StoredSession, TokenVault, DEFAULT_KEYCHAIN_TIMEOUT,
};

/// Entry points for the fuzz targets under `fuzz/`; not part of the API.
///
/// Each runs one parser of untrusted input exactly as the client does.
#[doc(hidden)]
pub mod fuzzing {
    use crate::config::DEFAULT_DEEP_LINK_REDIRECT_URI;

    /// Parses an authorization response query against `expected_state`:
    /// the code when accepted, else the message the user would see.
    ///
    /// # Errors
    /// The user-facing message of a refused answer.
    pub fn callback_query(query: &str, expected_state: &str) -> Result<String, String> {
        crate::callback::parse_callback_query(query, expected_state)
            .map(|callback| callback.code.secret().clone())
            .map_err(|error| crate::Error::from(error).to_string())
    }

    /// Classifies a deep link against the default scheme, redirect URI and
    /// post-logout redirect URI: `Some(query)` for a callback, `None` for
    /// `<scheme>://sign-in` and `<scheme>:/signed-out` (whose query is ignored).
    ///
    /// # Errors
    /// The notice shown for a refused link.
    pub fn deep_link(link: &str) -> Result<Option<String>, String> {
        use crate::deep_link::{parse_deep_link, DeepLinks, ParsedDeepLink};

        let redirect_uri =
            url::Url::parse(DEFAULT_DEEP_LINK_REDIRECT_URI).map_err(|error| error.to_string())?;
        let scheme = redirect_uri.scheme().to_string();
        let signed_out =
            url::Url::parse(&format!("{scheme}:/signed-out")).map_err(|error| error.to_string())?;
        let links = DeepLinks {
            scheme: &scheme,
            redirect_uri: Some(&redirect_uri),
            signed_out: Some(&signed_out),
        };
        match parse_deep_link(link, links) {
            Ok(ParsedDeepLink::StartSignIn | ParsedDeepLink::SignedOut) => Ok(None),
            Ok(ParsedDeepLink::Callback { query }) => Ok(Some(query)),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Parses a grpc-gateway error body as the passkeys API client does
    /// for a request about one passkey.
    pub fn error_body(status: u16, body: &[u8]) -> crate::ApiError {
        crate::passkeys::decode_error(status, body, crate::passkeys::Asked::Passkey)
    }

    /// Decodes a list answer and a rename answer into the UI's view models;
    /// `None` when the body is not JSON or has the wrong shape.
    pub fn credentials(body: &[u8]) -> Option<(Vec<crate::Passkey>, Option<crate::Passkey>)> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let list = crate::passkeys::decode_list(&value)?
            .into_iter()
            .filter_map(crate::Passkey::from_wire)
            .collect();
        let single = crate::passkeys::decode_single(&value).and_then(crate::Passkey::from_wire);
        Some((list, single))
    }
}
