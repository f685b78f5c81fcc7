//! Shared state handed to every route.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::Config;
use crate::db::{self, BrowserSession, Db, SessionDevice};
use crate::dev_mailbox::{DevMailbox, MailboxKey};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::secret::SessionCookieValue;
use crate::throttle::{Throttle, CODE_WINDOW};

/// The browser-session cookie's name is this followed by the port of the
/// base URL, e.g. `skemu_session_47811`: browsers share `localhost`
/// cookies among all ports, so a plain name would let a program on another
/// local port read, set or replace this emulator's session cookie.
pub const SESSION_COOKIE_PREFIX: &str = "skemu_session_";

/// State shared by all routes (cheap to clone).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The configuration the emulator started with.
    pub config: Arc<Config>,
    /// The base URL: issuer, WebAuthn origin.
    pub base_url: Url,
    /// Whether passkeys are enabled (flipped through the admin route).
    pub passkeys_enabled: Arc<AtomicBool>,
    /// The WebAuthn relying party (RP id = base URL host).
    pub webauthn: Arc<Webauthn>,
    /// The signing keys.
    pub keys: KeyRing,
    /// The session cookie's name: [`SESSION_COOKIE_PREFIX`] and the port.
    session_cookie_name: Arc<str>,
    /// How many sign-in codes were sent lately, per email and client address.
    pub code_throttle: Arc<Throttle>,
    /// This run's key of the dev mailbox ([`crate::dev_mailbox`]).
    mailbox_key: MailboxKey,
}

impl AppState {
    /// Builds the state: WebAuthn RP from `base_url`, persisted passkey switch
    /// (falling back to the config), signing keys.
    ///
    /// # Errors
    /// When the base URL has no host, or on database/key errors.
    pub async fn new(config: Config, db: Db, base_url: Url) -> Result<Self> {
        let rp_id = base_url
            .host_str()
            .ok_or_else(|| Error::Config(format!("base URL {base_url} has no host")))?
            .to_owned();
        let webauthn = WebauthnBuilder::new(&rp_id, &base_url)
            .and_then(|b| b.rp_name("Scalekit (local)").build())
            .map_err(|e| Error::Config(format!("WebAuthn relying party for {base_url}: {e}")))?;
        let default_enabled = config.passkeys_enabled;
        let passkeys_enabled = db
            .call(move |c| {
                Ok(match db::setting(c, db::PASSKEYS_ENABLED)?.as_deref() {
                    Some("true") => true,
                    Some("false") => false,
                    _ => default_enabled,
                })
            })
            .await?;
        let keys = KeyRing::load_or_create(&db).await?;
        let session_cookie_name = session_cookie_name(&base_url).into();
        Ok(Self {
            db,
            config: Arc::new(config),
            base_url,
            passkeys_enabled: Arc::new(AtomicBool::new(passkeys_enabled)),
            webauthn: Arc::new(webauthn),
            keys,
            session_cookie_name,
            code_throttle: Arc::new(Throttle::new(CODE_WINDOW)),
            mailbox_key: MailboxKey::random(),
        })
    }

    /// The issuer: the base URL without a trailing slash.
    pub fn issuer(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }

    /// An absolute URL for a path on this environment, e.g. `/oauth/token`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }

    /// The dev mailbox of this run: its address carries a key only the one
    /// who started the emulator is given.
    pub fn dev_mailbox(&self) -> DevMailbox {
        DevMailbox::new(self.base_url.clone(), self.mailbox_key.clone())
    }

    /// The WebAuthn RP id (the base URL's host).
    pub fn rp_id(&self) -> &str {
        self.base_url.host_str().unwrap_or("localhost")
    }

    /// Whether passkeys are enabled right now.
    pub fn passkeys_enabled(&self) -> bool {
        self.passkeys_enabled.load(Ordering::SeqCst)
    }

    /// Enables or disables passkeys and persists the choice.
    ///
    /// # Errors
    /// Database errors (the switch is unchanged then).
    pub async fn set_passkeys_enabled(&self, enabled: bool) -> Result<()> {
        self.db
            .call(move |c| {
                db::set_setting(
                    c,
                    db::PASSKEYS_ENABLED,
                    if enabled { "true" } else { "false" },
                )
            })
            .await?;
        self.passkeys_enabled.store(enabled, Ordering::SeqCst);
        Ok(())
    }

    /// Starts a browser session with no device recorded; returns it with
    /// the cookie to set.
    ///
    /// # Errors
    /// Database errors.
    pub async fn create_browser_session(
        &self,
        user_id: &str,
        amr: &str,
    ) -> Result<(BrowserSession, Cookie<'static>)> {
        self.create_browser_session_from(user_id, amr, SessionDevice::default())
            .await
    }

    /// Starts a browser session on `device`; returns it with the cookie to set.
    ///
    /// # Errors
    /// Database errors.
    pub async fn create_browser_session_from(
        &self,
        user_id: &str,
        amr: &str,
        device: SessionDevice,
    ) -> Result<(BrowserSession, Cookie<'static>)> {
        let config = Arc::clone(&self.config);
        let (user_id, amr) = (user_id.to_owned(), amr.to_owned());
        let (session, value) = self
            .db
            .call(move |c| db::create_browser_session_from(c, &config, &user_id, &amr, &device))
            .await?;
        Ok((session, self.session_cookie(&value)))
    }

    /// The live browser session named by the request's cookie, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn browser_session(&self, jar: &CookieJar) -> Result<Option<BrowserSession>> {
        let Some(cookie) = jar.get(&self.session_cookie_name) else {
            return Ok(None);
        };
        let value = cookie.value().to_owned();
        let config = Arc::clone(&self.config);
        self.db
            .call(move |c| db::browser_session_by_cookie(c, &config, &value))
            .await
    }

    /// The session cookie's name, e.g. `skemu_session_47811`.
    pub fn session_cookie_name(&self) -> &str {
        &self.session_cookie_name
    }

    /// The session cookie: HttpOnly, SameSite=Lax, Path=/, Secure on https.
    pub fn session_cookie(&self, value: &SessionCookieValue) -> Cookie<'static> {
        Cookie::build((
            self.session_cookie_name.to_string(),
            value.secret().to_owned(),
        ))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(self.base_url.scheme() == "https")
        .build()
    }

    /// A cookie that clears the session cookie.
    pub fn cleared_session_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.session_cookie(&SessionCookieValue::new(""));
        cookie.make_removal();
        cookie
    }
}

/// [`SESSION_COOKIE_PREFIX`] and the base URL's port (its scheme's default
/// when it names none).
fn session_cookie_name(base_url: &Url) -> String {
    let port = base_url.port_or_known_default().unwrap_or(0);
    format!("{SESSION_COOKIE_PREFIX}{port}")
}
