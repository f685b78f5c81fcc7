//! Configuration: a TOML file plus the client secret from the environment or
//! a file, never from the command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};

/// The name of the environment variable that may hold the client secret.
pub const CLIENT_SECRET_ENV: &str = "PASSKEYS_BROKER_CLIENT_SECRET";

scalekit_wire::secret_newtype! {
    /// The broker's confidential client secret. Never printed, never logged;
    /// `.secret()` only where it is sent to the token endpoint.
    pub ClientSecret
}

/// How the broker authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuth {
    /// `client_id` and `client_secret` in the form body.
    #[default]
    ClientSecretPost,
    /// HTTP Basic authentication.
    ClientSecretBasic,
}

/// Per-user request limits (token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per minute for one user.
    pub requests_per_minute: u32,
    /// Requests a user may make at once before the sustained rate applies.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            requests_per_minute: 60,
            burst: 20,
        }
    }
}

/// Everything the broker needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Scalekit environment; also the expected `iss` of callers' tokens.
    pub environment_url: Url,
    /// The app's (native) client id, expected in the callers' tokens' `aud`.
    pub client_id: String,
    /// The broker's own confidential client id (client-credentials grant).
    pub upstream_client_id: String,
    /// The broker's own client secret.
    pub client_secret: ClientSecret,
    /// How the secret is sent to the token endpoint.
    pub token_endpoint_auth: TokenEndpointAuth,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL apps use to reach the broker when it is not theirs on
    /// loopback (behind a reverse proxy): its host is accepted in `Host`,
    /// besides the loopback names and the listening address.
    pub public_url: Option<Url>,
    /// Base URL of the credentials API; the environment URL when `None`.
    pub upstream_api_url: Option<Url>,
    /// Token endpoint (client credentials); the `token_endpoint` of the
    /// environment's discovery document when `None`.
    pub token_url: Option<Url>,
    /// JWKS; the `jwks_uri` of the environment's discovery document when `None`.
    pub jwks_url: Option<Url>,
    /// Token introspection (RFC 7662); the `introspection_endpoint` of the
    /// environment's discovery document when `None`. With this and
    /// `jwks_url` both set, the discovery document is not read.
    pub introspection_url: Option<Url>,
    /// Limit for every call to the environment.
    pub upstream_timeout: Duration,
    /// The broker's own token is renewed this long before it expires.
    pub token_refresh_margin: Duration,
    /// The JWKS is fetched again for an unknown `kid` at most this often.
    pub jwks_min_refetch_interval: Duration,
    /// The JWKS is fetched again before use once it is this old.
    pub jwks_max_age: Duration,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// Per-user request limits.
    pub rate_limit: RateLimit,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long an `active` answer about a caller's session or token is
    /// trusted before the environment is asked again (at most 30 s).
    pub session_check_interval: Duration,
    /// How recent an authentication removing a passkey or signing a session
    /// out needs (the caller's ID token's `auth_time`; default 5 minutes).
    pub step_up_max_age: Duration,
}

impl Config {
    /// A configuration with defaults for everything but the environment and
    /// the client credentials.
    pub fn new(
        environment_url: Url,
        client_id: impl Into<String>,
        upstream_client_id: impl Into<String>,
        client_secret: ClientSecret,
    ) -> Self {
        Self {
            environment_url,
            client_id: client_id.into(),
            upstream_client_id: upstream_client_id.into(),
            client_secret,
            token_endpoint_auth: TokenEndpointAuth::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            public_url: None,
            upstream_api_url: None,
            token_url: None,
            jwks_url: None,
            introspection_url: None,
            upstream_timeout: Duration::from_secs(10),
            token_refresh_margin: Duration::from_secs(30),
            jwks_min_refetch_interval: Duration::from_secs(30),
            jwks_max_age: Duration::from_secs(15 * 60),
            leeway: Duration::from_secs(30),
            rate_limit: RateLimit::default(),
            max_body_bytes: 16 * 1024,
            session_check_interval: Duration::from_secs(20),
            step_up_max_age: Duration::from_secs(scalekit_wire::step_up::DEFAULT_MAX_AGE_SECS),
        }
    }

    /// Reads a TOML configuration; the secret comes from `env_secret` (the
    /// value of [`CLIENT_SECRET_ENV`]) or from the file named by
    /// `client_secret_file`.
    ///
    /// # Errors
    /// [`Error::Config`] when the TOML is invalid, names a secret inline, or
    /// no secret can be found.
    pub fn from_toml_str(toml_text: &str, env_secret: Option<String>) -> Result<Self> {
        let file: FileConfig = toml::from_str(toml_text).map_err(|e| {
            if e.message().contains("client_secret`") {
                Error::Config(
                    "the client secret must not be in the configuration file: use \
                     client_secret_file or PASSKEYS_BROKER_CLIENT_SECRET"
                        .into(),
                )
            } else {
                Error::Config(e.to_string())
            }
        })?;
        file.into_config(env_secret)
    }

    /// The issuer expected in callers' tokens: the environment URL without a
    /// trailing slash.
    pub fn issuer(&self) -> String {
        self.environment_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }

    /// The environment's OpenID discovery document
    /// (`<environment>/.well-known/openid-configuration`), which names its
    /// JWKS and introspection endpoint.
    ///
    /// # Errors
    /// [`Error::Config`] when the URL cannot be built.
    pub fn discovery_endpoint(&self) -> Result<Url> {
        join(&self.environment_url, ".well-known/openid-configuration")
    }

    /// The base URL of the credentials API.
    pub fn api_base(&self) -> &Url {
        self.upstream_api_url
            .as_ref()
            .unwrap_or(&self.environment_url)
    }

    /// Checks the configuration for mistakes that would only show later.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first problem found.
    pub fn validate(&self) -> Result<()> {
        if self.client_id.trim().is_empty() {
            return Err(Error::Config("client_id is empty".into()));
        }
        if self.upstream_client_id.trim().is_empty() {
            return Err(Error::Config("upstream_client_id is empty".into()));
        }
        if self.client_secret.secret().is_empty() {
            return Err(Error::Config("the client secret is empty".into()));
        }
        if self.rate_limit.requests_per_minute == 0 || self.rate_limit.burst == 0 {
            return Err(Error::Config(
                "rate_limit.requests_per_minute and rate_limit.burst must be at least 1".into(),
            ));
        }
        if self.session_check_interval > crate::sessions::MAX_SESSION_CHECK_INTERVAL {
            return Err(Error::Config(format!(
                "session_check_interval_secs must be at most {}: a signed-out session must stop working soon",
                crate::sessions::MAX_SESSION_CHECK_INTERVAL.as_secs()
            )));
        }
        if self.step_up_max_age.is_zero() {
            return Err(Error::Config(
                "step_up_max_age_secs must be at least 1: 0 would refuse every removal".into(),
            ));
        }
        if self.upstream_timeout.is_zero() {
            return Err(Error::Config(
                "upstream_timeout_secs must be at least 1".into(),
            ));
        }
        let mut urls = vec![("environment_url", &self.environment_url)];
        for (name, url) in [
            ("upstream_api_url", &self.upstream_api_url),
            ("token_url", &self.token_url),
            ("jwks_url", &self.jwks_url),
            ("introspection_url", &self.introspection_url),
        ] {
            if let Some(url) = url {
                urls.push((name, url));
            }
        }
        for (name, url) in urls {
            check_transport(name, url)?;
        }
        Ok(())
    }
}

/// `https`, or plain `http` to a loopback host only (the local emulator).
///
/// # Errors
/// [`Error::Config`] naming `name` otherwise.
pub(crate) fn check_transport(name: &str, url: &Url) -> Result<()> {
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(Error::Config(format!(
            "{name} must be https (plain http only to localhost): {url}"
        ))),
    }
}

fn join(base: &Url, path: &str) -> Result<Url> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.join(path)
        .map_err(|e| Error::Config(format!("cannot build {path} URL: {e}")))
}

/// The TOML form of [`Config`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    environment_url: Url,
    client_id: String,
    upstream_client_id: String,
    client_secret_file: Option<PathBuf>,
    #[serde(default)]
    token_endpoint_auth: TokenEndpointAuth,
    listen: Option<SocketAddr>,
    public_url: Option<Url>,
    upstream_api_url: Option<Url>,
    token_url: Option<Url>,
    jwks_url: Option<Url>,
    introspection_url: Option<Url>,
    upstream_timeout_secs: Option<u64>,
    token_refresh_margin_secs: Option<u64>,
    jwks_min_refetch_interval_secs: Option<u64>,
    jwks_max_age_secs: Option<u64>,
    leeway_secs: Option<u64>,
    rate_limit: Option<RateLimit>,
    max_body_bytes: Option<usize>,
    session_check_interval_secs: Option<u64>,
    step_up_max_age_secs: Option<u64>,
}

impl FileConfig {
    fn into_config(self, env_secret: Option<String>) -> Result<Config> {
        let secret = match (
            env_secret.filter(|s| !s.is_empty()),
            &self.client_secret_file,
        ) {
            (Some(secret), _) => ClientSecret::new(secret),
            (None, Some(path)) => read_secret_file(path)?,
            (None, None) => {
                return Err(Error::Config(format!(
                    "no client secret: set {CLIENT_SECRET_ENV} or client_secret_file"
                )))
            }
        };
        let mut config = Config::new(
            self.environment_url,
            self.client_id,
            self.upstream_client_id,
            secret,
        );
        config.token_endpoint_auth = self.token_endpoint_auth;
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        config.public_url = self.public_url;
        config.upstream_api_url = self.upstream_api_url;
        config.token_url = self.token_url;
        config.jwks_url = self.jwks_url;
        config.introspection_url = self.introspection_url;
        let secs = Duration::from_secs;
        if let Some(v) = self.upstream_timeout_secs {
            config.upstream_timeout = secs(v);
        }
        if let Some(v) = self.token_refresh_margin_secs {
            config.token_refresh_margin = secs(v);
        }
        if let Some(v) = self.jwks_min_refetch_interval_secs {
            config.jwks_min_refetch_interval = secs(v);
        }
        if let Some(v) = self.jwks_max_age_secs {
            config.jwks_max_age = secs(v);
        }
        if let Some(v) = self.leeway_secs {
            config.leeway = secs(v);
        }
        if let Some(v) = self.rate_limit {
            config.rate_limit = v;
        }
        if let Some(v) = self.max_body_bytes {
            config.max_body_bytes = v;
        }
        if let Some(v) = self.session_check_interval_secs {
            config.session_check_interval = secs(v);
        }
        if let Some(v) = self.step_up_max_age_secs {
            config.step_up_max_age = secs(v);
        }
        config.validate()?;
        Ok(config)
    }
}

/// Reads a secret file (trailing newline ignored).
///
/// # Errors
/// [`Error::Config`] when the file cannot be read; the message names the
/// path but never the content.
pub fn read_secret_file(path: &Path) -> Result<ClientSecret> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Config(format!(
            "cannot read client_secret_file {}: {e}",
            path.display()
        ))
    })?;
    Ok(ClientSecret::new(text.trim_end_matches(['\r', '\n'])))
}

#[cfg(test)]
mod tests;
