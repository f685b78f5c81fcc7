//! The facade the app calls: session, sign-in/out, deep links, passkeys.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::OnceCell;
use url::Url;

use crate::browser::{BrowserLauncher, CommandBrowser};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::oidc::Provider;
use crate::passkeys::{validate_display_name, Passkey, PasskeysApi};
use crate::refresh::{Sessions, DEFAULT_REFRESH_SKEW};
use crate::vault::{Account, SecretStore, TokenVault, DEFAULT_KEYCHAIN_TIMEOUT};

/// Whether someone is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum SessionState {
    /// Nobody is signed in.
    SignedOut,
    /// Signed in as this account.
    SignedIn {
        /// Who.
        account: Account,
    },
}

/// Progress of [`Client::sign_in`], for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "stage",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SignInProgress {
    /// The authorization URL was handed to the browser (or could not be, then
    /// the UI offers it to copy).
    WaitingForBrowser {
        /// The URL to open.
        authorize_url: String,
        /// Whether the browser launcher reported success.
        browser_opened: bool,
    },
    /// The browser came back; the code is being exchanged.
    CompletingSignIn,
}

/// Tuning knobs that are not user configuration.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Refresh this long before the access token expires (default 30 s).
    pub refresh_skew: Duration,
    /// Bound on each keychain operation (default 5 s).
    pub keychain_timeout: Duration,
    /// Timeout of each HTTP request (default 30 s).
    pub http_timeout: Duration,
    /// The wall clock that token expiry and ID-token times are read from
    /// (default [`SystemClock`]; tests hand in a [`ManualClock`](crate::ManualClock)).
    pub clock: Arc<dyn Clock>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            refresh_skew: DEFAULT_REFRESH_SKEW,
            keychain_timeout: DEFAULT_KEYCHAIN_TIMEOUT,
            http_timeout: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The client core. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

mod grant;
mod sessions;
mod sign_in;
mod step_up;

pub(crate) use sign_in::NewSession;
use sign_in::PendingSignIn;

struct Inner {
    config: Config,
    http: reqwest::Client,
    browser: Arc<dyn BrowserLauncher>,
    provider: OnceCell<Arc<Provider>>,
    sessions: Sessions,
    /// `None` when no passkeys broker is configured.
    api: Option<PasskeysApi>,
    pending: Mutex<Option<PendingSignIn>>,
    next_sign_in: AtomicU64,
    /// The `max_age` of the broker's last step-up challenge (seconds), what
    /// [`Client::confirm_identity`] asks the browser for.
    step_up_max_age: AtomicU64,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("environment", &self.inner.config.environment_url.as_str())
            .field("client_id", &self.inner.config.client_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client with default [`ClientOptions`]. Nothing is fetched yet.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid or the HTTP client cannot be built.
    pub async fn new(
        config: Config,
        store: Arc<dyn SecretStore>,
        browser: Arc<dyn BrowserLauncher>,
    ) -> Result<Client> {
        Client::with_options(config, store, browser, ClientOptions::default()).await
    }

    /// Builds a client with explicit options.
    ///
    /// When `config.browser_command` is set, URLs open through a
    /// [`CommandBrowser`] for it instead of `browser`.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub async fn with_options(
        config: Config,
        store: Arc<dyn SecretStore>,
        browser: Arc<dyn BrowserLauncher>,
        options: ClientOptions,
    ) -> Result<Client> {
        let vault = TokenVault::for_config(&config, store);
        Client::with_vault(config, vault, browser, options)
    }

    /// Builds a client whose session lives in `vault` (an account's own
    /// keychain entry, see [`crate::Accounts`]).
    pub(crate) fn with_vault(
        config: Config,
        vault: TokenVault,
        browser: Arc<dyn BrowserLauncher>,
        options: ClientOptions,
    ) -> Result<Client> {
        config.validate()?;
        let browser: Arc<dyn BrowserLauncher> = match &config.browser_command {
            Some(command) => Arc::new(CommandBrowser::new(command)?),
            None => browser,
        };
        let http = http_client(&options)?;
        let vault = vault.with_timeout(options.keychain_timeout);
        Ok(Client {
            inner: Arc::new(Inner {
                api: config
                    .api_url()
                    .map(|base_url| PasskeysApi::new(http.clone(), base_url.clone())),
                sessions: Sessions::new(vault, options.refresh_skew, Arc::clone(&options.clock)),
                clock: options.clock,
                http,
                browser,
                provider: OnceCell::new(),
                pending: Mutex::new(None),
                next_sign_in: AtomicU64::new(1),
                step_up_max_age: AtomicU64::new(scalekit_wire::step_up::DEFAULT_MAX_AGE_SECS),
                config,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The stored session, tokens included: only for [`crate::Accounts`],
    /// which files an earlier version's session under its account's own entry.
    pub(crate) async fn stored_session(&self) -> Result<Option<crate::vault::StoredSession>> {
        self.inner.sessions.current().await
    }

    /// Forgets the session here only: the keychain entry is deleted, nothing
    /// is revoked (the session lives on under another entry).
    pub(crate) async fn forget_session(&self) -> Result<()> {
        self.inner.sessions.clear().await
    }

    /// Whether someone is signed in (reads the keychain once).
    ///
    /// # Errors
    /// [`Error::Keychain`] when the keychain is locked or unavailable.
    pub async fn session(&self) -> Result<SessionState> {
        Ok(match self.inner.sessions.current().await? {
            Some(session) => SessionState::SignedIn {
                account: session.account,
            },
            None => SessionState::SignedOut,
        })
    }

    /// Whether someone is signed in with a session that still works: an
    /// access token that has expired (or is about to) is refreshed first,
    /// as any call would. What the command line's `status` answers;
    /// [`Client::session`] only reads the keychain.
    ///
    /// # Errors
    /// [`Error::SessionExpired`] when the sign-in server refuses the refresh
    /// token (`invalid_grant`: the keychain entry is purged; sign in again),
    /// or there is none; [`Error::Network`] or [`Error::Timeout`] when the
    /// sign-in server cannot be reached (the session is kept: it may work
    /// once the server answers); [`Error::Keychain`].
    pub async fn checked_session(&self) -> Result<SessionState> {
        let sessions = &self.inner.sessions;
        let Some(mut session) = sessions.current().await? else {
            return Ok(SessionState::SignedOut);
        };
        if sessions.needs_refresh(&session) {
            session = sessions
                .refresh(|| self.provider(), &session.access_token)
                .await?;
        }
        Ok(SessionState::SignedIn {
            account: session.account,
        })
    }

    async fn provider(&self) -> Result<Arc<Provider>> {
        self.inner
            .provider
            .get_or_try_init(|| async {
                Provider::discover(
                    self.inner.http.clone(),
                    &self.inner.config,
                    Arc::clone(&self.inner.clock),
                )
                .await
                .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Signs out: revokes the refresh token (best effort), purges the keychain
    /// entry and opens the end-session page in the browser.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the entry could not be purged.
    pub async fn sign_out(&self) -> Result<()> {
        let session = self.inner.sessions.current().await?;
        let provider = match session {
            Some(_) => match self.provider().await {
                Ok(provider) => Some(provider),
                Err(err) => {
                    tracing::warn!("sign-out without discovery: {err}");
                    None
                }
            },
            None => None,
        };
        if let (Some(provider), Some(refresh_token)) = (
            &provider,
            session.as_ref().and_then(|s| s.refresh_token.as_ref()),
        ) {
            if let Err(err) = provider.revoke(refresh_token).await {
                tracing::warn!("revoking the refresh token failed: {err}");
            }
        }
        self.inner.sessions.clear().await?;
        if let (Some(provider), Some(session)) = (&provider, &session) {
            let url = provider.end_session_url(
                session.id_token.as_ref(),
                self.inner
                    .config
                    .effective_post_logout_redirect_uri()
                    .as_ref(),
            )?;
            if let Err(err) = self.inner.browser.open(&url) {
                tracing::info!("could not open the end-session page: {err}");
            }
        }
        Ok(())
    }

    /// Lists the signed-in user's passkeys, through the passkeys broker.
    ///
    /// # Errors
    /// [`Error::PasskeysBrokerMissing`] (before anything is read or sent),
    /// [`Error::SignInRequired`], [`Error::SessionExpired`], [`Error::Api`],
    /// [`Error::Config`] when the broker's address has no passkeys API,
    /// network errors.
    pub async fn list_passkeys(&self) -> Result<Vec<Passkey>> {
        self.authorized(|api, grant| async move {
            api.list(&grant.access_token, &grant.account.subject).await
        })
        .await
    }

    /// Renames a passkey; the name is trimmed and checked (1–120 characters,
    /// no control characters) before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name or id, else as [`Client::list_passkeys`].
    pub async fn rename_passkey(&self, id: &str, name: &str) -> Result<Passkey> {
        let name = validate_display_name(name)?;
        self.authorized(|api, grant| {
            let name = name.clone();
            async move { api.rename(&grant.access_token, id, &name).await }
        })
        .await
    }

    /// Removes a passkey. The broker needs a recent authentication for it:
    /// the stored ID token is sent as the proof.
    ///
    /// # Errors
    /// As [`Client::list_passkeys`]; [`Error::Api`] with status 404 when it
    /// is gone; [`Error::ReauthenticationRequired`] when the last
    /// authentication is too old (then [`Client::confirm_identity`] and retry).
    pub async fn remove_passkey(&self, id: &str) -> Result<()> {
        self.authorized(|api, grant| async move {
            api.remove(&grant.access_token, grant.id_token.as_ref(), id)
                .await
        })
        .await
    }

    /// `<environment>/ui/profile/passkeys`, where the user adds passkeys
    /// (the same page as [`Client::manage_passkeys_url`]).
    pub fn add_passkey_url(&self) -> Url {
        self.manage_passkeys_url()
    }

    /// `<environment>/ui/profile/passkeys`: the environment's own page, where
    /// the user manages their passkeys in the browser (what the window offers
    /// when no passkeys broker is configured).
    pub fn manage_passkeys_url(&self) -> Url {
        self.inner.config.manage_passkeys_url()
    }

    /// Opens [`Client::add_passkey_url`] in the browser.
    ///
    /// # Errors
    /// When the browser could not be opened (show the URL instead).
    pub async fn add_passkey(&self) -> Result<()> {
        self.inner.browser.open(&self.add_passkey_url())
    }
}

fn http_client(options: &ClientOptions) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(options.http_timeout)
        .user_agent(concat!("passkeys-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| Error::Config(format!("Could not set up HTTPS: {err}.")))
}
