//! Sign-in through the browser, in four steps a reader can follow:
//!
//! 1. **Redirect** ([`Client::redirect_target`]): a loopback listener on
//!    `127.0.0.1` (development) or the configured deep link (production).
//! 2. **Pending sign-in** ([`Client::register_pending`]): the one sign-in
//!    the app waits for, with its `state`; a newer one cancels it, a deep
//!    link or the loopback completes it ([`wait_for_callback`]), and its
//!    guard removes it whatever happens.
//! 3. **Exchange** (`Provider::exchange_code`): the code for tokens, the ID
//!    token verified and the account known (checked there, once).
//! 4. **Store** ([`Client::store_session`]): the keychain gets the new
//!    session, in one write; a session it replaces has its refresh token
//!    revoked. [`crate::Accounts`] stores it with the account's own client
//!    (its own entry), never first under the sign-in client's.
//!
//! Deep links that complete a pending sign-in are handled here too
//! ([`Client::handle_deep_link`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::Instrument as _;
use url::Url;

use super::{Client, SignInProgress};
use crate::callback::{parse_callback_query, CallbackCode, CallbackError};
use crate::config::RedirectMode;
use crate::deep_link::{parse_deep_link, refused, DeepLinkAction, DeepLinks, ParsedDeepLink};
use crate::error::{Error, Result};
use crate::loopback::LoopbackListener;
use crate::oidc::{Provider, SignedIn};
use crate::secret::CsrfToken;
use crate::vault::{Account, StoredSession};
use crate::words::duration_in_words;

/// A signed-in session not stored yet, and the provider that issued it
/// (which revokes the refresh token of a session it replaces).
pub(crate) struct NewSession {
    pub(crate) provider: Arc<Provider>,
    pub(crate) session: StoredSession,
}

impl NewSession {
    /// The session of a completed code exchange.
    pub(super) fn new(provider: Arc<Provider>, signed_in: SignedIn) -> NewSession {
        let SignedIn { tokens, account } = signed_in;
        NewSession {
            provider,
            session: StoredSession {
                access_token: tokens.access_token,
                refresh_token: tokens.refresh_token,
                id_token: tokens.id_token,
                expires_at: tokens.expires_at,
                account,
            },
        }
    }
}

/// What a callback delivered by deep link carries to the waiting sign-in.
type CallbackOutcome = std::result::Result<CallbackCode, CallbackError>;

/// The sign-in waiting for its callback.
pub(super) struct PendingSignIn {
    id: u64,
    state: CsrfToken,
    deep_link: Option<oneshot::Sender<CallbackOutcome>>,
    cancel: oneshot::Sender<()>,
}

/// How the waiting sign-in can end, besides its callback.
struct Waiting<'a> {
    /// Removes the pending sign-in when dropped (unless a newer one replaced it).
    guard: PendingGuard<'a>,
    /// Fires on [`Client::cancel_sign_in`] or a newer sign-in.
    cancel: oneshot::Receiver<()>,
    /// The deep link's callback (unused with a loopback listener).
    deep_link: oneshot::Receiver<CallbackOutcome>,
}

impl Client {
    /// Signs in through the system browser; returns when the callback came
    /// and the tokens are in the keychain. A sign-in already waiting is
    /// cancelled; a session it replaces has its refresh token revoked (best
    /// effort, after the new tokens are stored).
    ///
    /// # Errors
    /// [`Error::Cancelled`] ([`Client::cancel_sign_in`]), [`Error::Timeout`]
    /// (`sign_in_timeout`), [`Error::PortInUse`], [`Error::Authorization`]
    /// (`error=` from the provider), network, server and keychain errors.
    pub async fn sign_in(
        &self,
        progress: impl Fn(SignInProgress) + Send + Sync + 'static,
    ) -> Result<Account> {
        let new = self.sign_in_unstored(progress).await?;
        let account = new.session.account.clone();
        self.store_session(new.session, Some(&new.provider)).await?;
        Ok(account)
    }

    /// Steps 1 to 3 of [`Client::sign_in`], storing nothing: the new
    /// session, which [`crate::Accounts`] stores under its account's own
    /// keychain entry (known only now, by the ID token's subject).
    ///
    /// # Errors
    /// As [`Client::sign_in`], but never keychain errors.
    pub(crate) async fn sign_in_unstored(
        &self,
        progress: impl Fn(SignInProgress) + Send + Sync + 'static,
    ) -> Result<NewSession> {
        let (provider, signed_in) = self.authenticate(&progress, None).await?;
        Ok(NewSession::new(provider, signed_in))
    }

    /// Steps 1 to 3: the browser, its callback and the code exchange; with
    /// `step_up`, the person is asked to authenticate again (`prompt=login`,
    /// `max_age`). Nothing is stored yet.
    pub(super) async fn authenticate(
        &self,
        progress: &(impl Fn(SignInProgress) + Send + Sync),
        step_up: Option<Duration>,
    ) -> Result<(Arc<Provider>, SignedIn)> {
        let provider = self.provider().await?;
        let (redirect_uri, listener) = self.redirect_target().await?;
        let request = provider.authorize(&self.inner.config.scopes, &redirect_uri, step_up)?;
        let waiting = self.register_pending(&request.state, listener.is_none());

        let opened = self.inner.browser.open(&request.url);
        if let Err(err) = &opened {
            tracing::info!("the browser did not open: {err}");
        }
        progress(SignInProgress::WaitingForBrowser {
            authorize_url: request.url.to_string(),
            browser_opened: opened.is_ok(),
        });

        let callback = wait_for_callback(
            listener,
            waiting,
            &request.state,
            self.inner.config.sign_in_timeout,
        )
        .await?;
        provider.check_callback_issuer(callback.issuer.as_deref())?;
        progress(SignInProgress::CompletingSignIn);
        let signed_in = provider.exchange_code(request, callback.code).await?;
        Ok((provider, signed_in))
    }

    /// Step 1: where the browser comes back to, and the listener that waits
    /// there (none for a deep link: the OS hands the link to the app).
    async fn redirect_target(&self) -> Result<(Url, Option<LoopbackListener>)> {
        match &self.inner.config.redirect {
            RedirectMode::Loopback { port } => {
                let listener = LoopbackListener::bind(*port).await?;
                Ok((listener.redirect_uri()?, Some(listener)))
            }
            RedirectMode::DeepLink { redirect_uri } => Ok((redirect_uri.clone(), None)),
        }
    }

    /// Step 2: makes this sign-in the one the app waits for (cancelling
    /// any other) and returns how it can end.
    fn register_pending(&self, state: &CsrfToken, by_deep_link: bool) -> Waiting<'_> {
        let (cancel_tx, cancel) = oneshot::channel();
        let (link_tx, deep_link) = oneshot::channel();
        let id = self.inner.next_sign_in.fetch_add(1, Ordering::Relaxed);
        let previous = self.lock_pending().replace(PendingSignIn {
            id,
            state: state.clone(),
            deep_link: by_deep_link.then_some(link_tx),
            cancel: cancel_tx,
        });
        if let Some(previous) = previous {
            let _ = previous.cancel.send(());
        }
        Waiting {
            guard: PendingGuard { client: self, id },
            cancel,
            deep_link,
        }
    }

    /// Step 4, the one routine that stores a session (a sign-in, a
    /// confirmation, an earlier version's session filed under its
    /// account): keeps `session` as this client's in one keychain write,
    /// then revokes the refresh token of the session it replaced (another
    /// account, or the same one signed in again; best effort, through
    /// `provider` or else this client's), so that a replaced session cannot
    /// come back.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the session could not be stored.
    pub(crate) async fn store_session(
        &self,
        session: StoredSession,
        provider: Option<&Provider>,
    ) -> Result<()> {
        let replaced = match self.inner.sessions.current().await {
            Ok(old) => old.and_then(|old| old.refresh_token),
            Err(err) => {
                tracing::warn!("could not read the session being replaced: {err}");
                None
            }
        };
        let new_refresh = session
            .refresh_token
            .as_ref()
            .map(|token| token.secret().to_owned());
        self.inner
            .sessions
            .replace(session)
            .instrument(tracing::info_span!("sign_in.keychain_write"))
            .await?;
        let Some(old) = replaced.filter(|old| Some(old.secret()) != new_refresh.as_ref()) else {
            return Ok(());
        };
        let revoked = match provider {
            Some(provider) => provider.revoke(&old).await,
            None => match self.provider().await {
                Ok(provider) => provider.revoke(&old).await,
                Err(err) => Err(err),
            },
        };
        if let Err(err) = revoked {
            tracing::warn!("revoking the replaced session's refresh token failed: {err}");
        }
        Ok(())
    }

    /// Whether a sign-in is waiting for the browser (a deep link may be its
    /// callback).
    pub fn sign_in_pending(&self) -> bool {
        self.lock_pending().is_some()
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Option<PendingSignIn>> {
        match self.inner.pending.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Cancels the sign-in in progress (its `sign_in` returns [`Error::Cancelled`]
    /// and the loopback port is freed). Nothing happens when none is waiting.
    pub fn cancel_sign_in(&self) {
        if let Some(pending) = self.lock_pending().take() {
            let _ = pending.cancel.send(());
        }
    }

    /// Handles a deep link the OS handed to the app.
    ///
    /// The redirect with the right `state` completes the pending sign-in
    /// ([`DeepLinkAction::CompletedSignIn`]); `<scheme>://sign-in` returns
    /// [`DeepLinkAction::StartSignIn`]; the post-logout redirect URI
    /// ([`Config::effective_post_logout_redirect_uri`](crate::Config::effective_post_logout_redirect_uri), `<scheme>:/signed-out`,
    /// its query ignored) returns [`DeepLinkAction::SignedOut`] and changes
    /// nothing (the keychain was purged at sign-out).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for any other link (other scheme, host or path,
    /// wrong `state`, repeated or unknown parameters, too long, no sign-in
    /// waiting); the pending sign-in is left as it was.
    pub async fn handle_deep_link(&self, url: &str) -> Result<DeepLinkAction> {
        let config = &self.inner.config;
        let redirect_uri = match &config.redirect {
            RedirectMode::DeepLink { redirect_uri } => Some(redirect_uri),
            RedirectMode::Loopback { .. } => None,
        };
        let scheme = config.deep_link_scheme();
        let signed_out = config.effective_post_logout_redirect_uri();
        let links = DeepLinks {
            scheme: &scheme,
            redirect_uri,
            signed_out: signed_out.as_ref(),
        };
        let query = match parse_deep_link(url, links)? {
            ParsedDeepLink::StartSignIn => return Ok(DeepLinkAction::StartSignIn),
            ParsedDeepLink::SignedOut => return Ok(DeepLinkAction::SignedOut),
            ParsedDeepLink::Callback { query } => query,
        };
        let mut pending = self.lock_pending();
        let Some(waiting) = pending.as_mut() else {
            return Err(refused("no sign-in is waiting for it"));
        };
        let outcome = parse_callback_query(&query, waiting.state.secret());
        if let Err(error) = &outcome {
            if !error.belongs_to_us() {
                return Err(refused(&error.to_string().to_lowercase()));
            }
        }
        let Some(sender) = waiting.deep_link.take() else {
            return Err(refused("the sign-in in progress does not use deep links"));
        };
        let _ = sender.send(outcome);
        *pending = None;
        Ok(DeepLinkAction::CompletedSignIn)
    }
}

/// Step 2, continued: waits for the callback (on the loopback listener, or
/// the deep link [`Client::handle_deep_link`] hands over), a cancel, or the
/// timeout; the pending sign-in is gone when this returns.
async fn wait_for_callback(
    listener: Option<LoopbackListener>,
    waiting: Waiting<'_>,
    state: &CsrfToken,
    timeout: Duration,
) -> Result<CallbackCode> {
    let Waiting {
        guard,
        cancel,
        deep_link,
    } = waiting;
    let callback = async move {
        match listener {
            Some(listener) => {
                tracing::debug!("waiting on 127.0.0.1:{}", listener.port());
                listener.wait_for_callback(state).await
            }
            None => match deep_link.await {
                Ok(outcome) => outcome.map_err(Error::from),
                Err(_) => Err(Error::Cancelled),
            },
        }
    };
    let outcome = tokio::select! {
        outcome = callback => outcome,
        // Only an explicit cancel counts: the sender is also dropped when a
        // deep link completes the pending sign-in.
        Ok(()) = cancel => Err(Error::Cancelled),
        () = tokio::time::sleep(timeout) => Err(Error::Timeout(format!(
            "The browser did not come back within {}. Start the sign-in again.",
            duration_in_words(timeout.as_secs())
        ))),
    };
    drop(guard);
    outcome
}

/// Removes the pending sign-in when `sign_in` ends, unless a newer one replaced it.
struct PendingGuard<'a> {
    client: &'a Client,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        let mut pending = self.client.lock_pending();
        if pending
            .as_ref()
            .is_some_and(|waiting| waiting.id == self.id)
        {
            *pending = None;
        }
    }
}
