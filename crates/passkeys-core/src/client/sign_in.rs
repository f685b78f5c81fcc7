//! Sign-in through the browser: the pending sign-in, its cancel and timeout,
//! and deep links that complete it.

use tracing::Instrument as _;

use super::*;

/// The sign-in waiting for its callback.
pub(super) struct PendingSignIn {
    id: u64,
    state: CsrfToken,
    deep_link: Option<oneshot::Sender<std::result::Result<CallbackCode, CallbackError>>>,
    cancel: oneshot::Sender<()>,
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
        let provider = self.provider().await?;
        let config = &self.inner.config;
        let (redirect_uri, listener) = match &config.redirect {
            RedirectMode::Loopback { port } => {
                let listener = LoopbackListener::bind(*port).await?;
                (listener.redirect_uri()?, Some(listener))
            }
            RedirectMode::DeepLink { redirect_uri } => (redirect_uri.clone(), None),
        };
        let request = provider.authorize(&config.scopes, &redirect_uri)?;
        let (cancel_tx, cancel_rx) = oneshot::channel();
        let (link_tx, link_rx) = oneshot::channel();
        let id = self.inner.next_sign_in.fetch_add(1, Ordering::Relaxed);
        let previous = self.lock_pending().replace(PendingSignIn {
            id,
            state: request.state.clone(),
            deep_link: listener.is_none().then_some(link_tx),
            cancel: cancel_tx,
        });
        if let Some(previous) = previous {
            let _ = previous.cancel.send(());
        }
        let _pending = PendingGuard { client: self, id };

        let opened = self.inner.browser.open(&request.url);
        if let Err(err) = &opened {
            tracing::info!("the browser did not open: {err}");
        }
        progress(SignInProgress::WaitingForBrowser {
            authorize_url: request.url.to_string(),
            browser_opened: opened.is_ok(),
        });

        let state = request.state.clone();
        let callback = async move {
            match listener {
                Some(listener) => {
                    tracing::debug!("waiting on 127.0.0.1:{}", listener.port());
                    listener.wait_for_callback(&state).await
                }
                None => match link_rx.await {
                    Ok(outcome) => outcome.map_err(Error::from),
                    Err(_) => Err(Error::Cancelled),
                },
            }
        };
        let timeout = config.sign_in_timeout;
        let outcome = tokio::select! {
            outcome = callback => outcome,
            // Only an explicit cancel counts: the sender is also dropped when a
            // deep link completes the pending sign-in.
            Ok(()) = cancel_rx => Err(Error::Cancelled),
            () = tokio::time::sleep(timeout) => Err(Error::Timeout(format!(
                "The browser did not come back within {} minutes. Start the sign-in again.",
                timeout.as_secs().div_ceil(60)
            ))),
        };
        drop(_pending);
        let callback = outcome?;
        provider.check_callback_issuer(callback.issuer.as_deref())?;
        progress(SignInProgress::CompletingSignIn);
        let tokens = provider.exchange_code(request, callback.code).await?;
        let account = tokens.account.ok_or_else(|| {
            Error::Internal("the code exchange returned no verified account".into())
        })?;
        // The session this sign-in replaces (another account, or the same one
        // signed in again): its refresh token is revoked once the new one is
        // stored, so a replaced session cannot be brought back.
        let replaced = match self.inner.sessions.current().await {
            Ok(session) => session.and_then(|s| s.refresh_token),
            Err(err) => {
                tracing::warn!("could not read the session being replaced: {err}");
                None
            }
        };
        self.inner
            .sessions
            .replace(StoredSession {
                access_token: tokens.access_token,
                refresh_token: tokens.refresh_token,
                id_token: tokens.id_token,
                expires_at: tokens.expires_at,
                account: account.clone(),
            })
            .instrument(tracing::info_span!("sign_in.keychain_write"))
            .await?;
        if let Some(old) = replaced {
            if let Err(err) = provider.revoke(&old).await {
                tracing::warn!("revoking the replaced session's refresh token failed: {err}");
            }
        }
        Ok(account)
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
    /// ([`Config::effective_post_logout_redirect_uri`], `<scheme>:/signed-out`,
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
