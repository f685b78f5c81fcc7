//! Binding, routing and shutdown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::limit::RequestBodyLimitLayer;
use url::Url;

use crate::config::Config;
use crate::db::Db;
use crate::error::{error_page, Error, Result};
use crate::state::AppState;

/// The largest request body any route accepts; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// All routes of the emulator.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::oidc::router())
        .merge(crate::api::router())
        .merge(crate::admin::router())
        .merge(crate::hosted::router())
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                error_page(StatusCode::NOT_FOUND, "No such page."),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(state)
}

/// A running emulator. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct RunningEmulator {
    state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The base URL (issuer), e.g. `http://localhost:43123/`.
    pub fn base_url(&self) -> &Url {
        &self.state.base_url
    }

    /// The shared state (database, keys, switches).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Opens the database (migrating it), loads or creates the signing key, binds
/// the listen address and serves. When listening on loopback the base URL is
/// `http://localhost:<port>` and the other loopback family is bound too when
/// the port is free there (browsers may try `::1` first).
///
/// # Errors
/// Invalid config, database, key or bind errors.
pub async fn start(config: Config) -> Result<RunningEmulator> {
    config.validate()?;
    let db = Db::open(&config.storage)?;
    let listener = TcpListener::bind(config.listen).await?;
    let local = listener.local_addr()?;
    let base_url = match &config.public_url {
        Some(url) => url.clone(),
        None => default_base_url(local)?,
    };
    let mut listeners = vec![listener];
    if let Some(twin) = loopback_twin(local) {
        if let Ok(extra) = TcpListener::bind(twin).await {
            listeners.push(extra);
        }
    }
    let state = AppState::new(config, db, base_url).await?;
    let app = router(state.clone());
    let (shutdown, signal) = watch::channel(false);
    let tasks = listeners
        .into_iter()
        .map(|listener| {
            let app = app
                .clone()
                .into_make_service_with_connect_info::<SocketAddr>();
            let mut signal = signal.clone();
            tokio::spawn(async move {
                let stop = async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                };
                if let Err(error) = axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::error!(%error, "server stopped");
                }
            })
        })
        .collect();
    tracing::info!(base_url = %state.base_url, "emulator listening on {local}");
    Ok(RunningEmulator {
        state,
        shutdown,
        tasks,
    })
}

fn default_base_url(local: SocketAddr) -> Result<Url> {
    let host = match local.ip() {
        ip if ip.is_loopback() || ip.is_unspecified() => "localhost".to_owned(),
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    Url::parse(&format!("http://{host}:{}", local.port()))
        .map_err(|e| Error::Config(format!("base URL: {e}")))
}

fn loopback_twin(local: SocketAddr) -> Option<SocketAddr> {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => {
            Some(SocketAddr::from((Ipv6Addr::LOCALHOST, local.port())))
        }
        IpAddr::V6(ip) if ip.is_loopback() => {
            Some(SocketAddr::from((Ipv4Addr::LOCALHOST, local.port())))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_unspecified_addresses_become_localhost() {
        let cases = [
            ("127.0.0.1:8080", "http://localhost:8080/"),
            ("[::1]:8080", "http://localhost:8080/"),
            ("0.0.0.0:1", "http://localhost:1/"),
            ("192.168.1.2:80", "http://192.168.1.2/"),
        ];
        for (addr, url) in cases {
            assert_eq!(
                default_base_url(addr.parse().unwrap()).unwrap().as_str(),
                url
            );
        }
        assert_eq!(
            loopback_twin("127.0.0.1:5".parse().unwrap()),
            Some("[::1]:5".parse().unwrap())
        );
        assert_eq!(loopback_twin("10.0.0.1:5".parse().unwrap()), None);
    }
}
