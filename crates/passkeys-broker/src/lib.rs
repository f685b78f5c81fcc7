//! A small server between a desktop app and its Scalekit environment.
//!
//! The app is a public client and must not hold a client secret, yet
//! Scalekit's credentials API takes a client-credentials token. The broker
//! holds those credentials and serves the same routes and JSON as Scalekit's
//! credentials API, but only ever acts on the caller's own passkeys (and,
//! on `/api/v1/sessions`, the caller's own sessions): the
//! caller proves who they are with their own access token from the
//! environment, checked against the environment's JWKS.
//!
//! ```no_run
//! # async fn run() -> passkeys_broker::Result<()> {
//! use passkeys_broker::{ClientSecret, Config};
//!
//! let config = Config::new(
//!     "https://acme.scalekit.dev".parse().map_err(|_| passkeys_broker::Error::Config("url".into()))?,
//!     "ntvc_app",
//!     "skc_broker",
//!     ClientSecret::new(std::env::var("PASSKEYS_BROKER_CLIENT_SECRET").unwrap_or_default()),
//! );
//! let broker = passkeys_broker::start(config).await?;
//! println!("{}", broker.base_url());
//! broker.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod auth;
pub mod clock;
mod config;
mod discovery;
mod error;
mod hosts;
mod http;
mod jwks;
mod owned;
mod rate_limit;
mod routes;
mod sessions;
mod step_up;
mod upstream;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::Url;

pub use auth::Caller;
pub use config::{
    read_secret_file, ClientSecret, Config, RateLimit, TokenEndpointAuth, CLIENT_SECRET_ENV,
};
pub use error::{Error, Result};
pub use routes::WELL_KNOWN_PATH;
pub use sessions::MAX_SESSION_CHECK_INTERVAL;
pub use upstream::AccessToken;

use clock::{Clock, SystemClock};

/// A broker serving on its own task. Dropping it also stops the server
/// (without waiting for requests in flight); [`RunningBroker::shutdown`] waits.
pub struct RunningBroker {
    base_url: Url,
    local_addr: SocketAddr,
    upstream: Arc<upstream::Upstream>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningBroker {
    /// Where the broker listens, e.g. `http://127.0.0.1:8787/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many client-credentials token requests the broker has made.
    pub fn token_requests(&self) -> u64 {
        self.upstream.token_requests()
    }

    /// Stops accepting connections and waits for requests in flight.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "server error"),
            Err(error) => tracing::error!(%error, "server task failed"),
        }
    }
}

/// Binds `config.listen` and serves until [`RunningBroker::shutdown`].
///
/// # Errors
/// [`Error::Config`] for an invalid configuration or an address that
/// cannot be bound.
pub async fn start(config: Config) -> Result<RunningBroker> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// As [`start`], reading time from `clock` (token cache, JWKS refetch
/// interval, rate limits).
///
/// # Errors
/// As [`start`].
pub async fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<RunningBroker> {
    config.validate()?;
    let http = http::client(config.upstream_timeout)?;
    let discovery = Arc::new(discovery::Discovery::new(
        http.clone(),
        config.discovery_endpoint()?,
        config.issuer(),
        config.upstream_timeout,
        discovery::Overrides {
            token: config.token_url.clone(),
            jwks: config.jwks_url.clone(),
            introspection: config.introspection_url.clone(),
        },
    ));
    let keys = Arc::new(jwks::KeyCache::new(
        http.clone(),
        discovery.clone(),
        config.upstream_timeout,
        jwks::RefetchPolicy {
            min_interval: config.jwks_min_refetch_interval,
            max_age: config.jwks_max_age,
        },
        clock.clone(),
    ));
    let upstream = Arc::new(upstream::Upstream::new(
        &config,
        http,
        discovery.clone(),
        clock.clone(),
    )?);
    let broker = Arc::new(routes::Broker {
        verifier: auth::TokenVerifier::new(
            keys.clone(),
            &config.issuer(),
            &config.client_id,
            config.leeway.as_secs(),
        ),
        keys,
        discovery: discovery.clone(),
        upstream: upstream.clone(),
        sessions: sessions::SessionCheck::new(
            upstream.clone(),
            discovery,
            config.session_check_interval,
            clock.clone(),
        ),
        owned: owned::OwnedCredentials::new(clock.clone()),
        limiter: rate_limit::RateLimiter::new(config.rate_limit, clock),
        max_body_bytes: config.max_body_bytes,
        step_up_max_age: config.step_up_max_age,
        sessions_api_checked: tokio::sync::OnceCell::new(),
        about: routes::About {
            issuer: config.issuer(),
            client_id: config.client_id.clone(),
            version: env!("CARGO_PKG_VERSION"),
        },
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let local_addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("no local address: {e}")))?;
    let base_url = base_url_for(local_addr)?;
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let allowed = hosts::AllowedHosts::new(local_addr, config.public_url.as_ref());
    let app = routes::router(broker, allowed);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%base_url, "passkeys broker listening");
    Ok(RunningBroker {
        base_url,
        local_addr,
        upstream,
        shutdown,
        task,
    })
}

/// `http://<addr>/`, with an unspecified address replaced by loopback.
fn base_url_for(addr: SocketAddr) -> Result<Url> {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let text = format!("http://{}/", SocketAddr::new(ip, addr.port()));
    Url::parse(&text).map_err(|e| Error::Internal(format!("bad base URL {text}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_uses_loopback_for_unspecified_addresses() {
        let cases = [
            ("127.0.0.1:8787", "http://127.0.0.1:8787/"),
            ("0.0.0.0:80", "http://127.0.0.1/"),
            ("[::]:9000", "http://[::1]:9000/"),
            ("10.1.2.3:443", "http://10.1.2.3:443/"),
        ];
        for (addr, expected) in cases {
            let url = base_url_for(addr.parse().unwrap()).unwrap();
            assert_eq!(url.as_str(), expected);
        }
    }
}
