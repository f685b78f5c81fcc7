//! Binding, routing and shutdown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use scalekit_wire::status::RoutingError;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::limit::RequestBodyLimitLayer;
use url::Url;

use crate::config::Config;
use crate::db::Db;
use crate::error::{error_page, Error, Result};
use crate::hosts::{check_host, AllowedHosts};
use crate::state::AppState;

/// The largest request body any route accepts; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// All routes of the emulator, for a server bound to `local`. Every route
/// first checks `Host` ([`AllowedHosts`]): another name gets 421.
pub fn router(state: AppState, local: SocketAddr) -> Router {
    let allowed = AllowedHosts::new(local, Some(&state.base_url));
    Router::new()
        .merge(crate::oidc::router())
        .merge(crate::api::router())
        .merge(crate::admin::router())
        .merge(crate::hosted::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(allowed, check_host))
        .with_state(state)
}

/// No route has this path: grpc-gateway's JSON under the API, a page
/// elsewhere.
async fn not_found(uri: Uri) -> Response {
    if crate::api::is_api_path(uri.path()) {
        return crate::api::routing_error(RoutingError::NotFound);
    }
    (
        StatusCode::NOT_FOUND,
        error_page(StatusCode::NOT_FOUND, "No such page."),
    )
        .into_response()
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

    /// The dev mailbox and this run's key to it: for the one who started
    /// the emulator (the binary prints its address after the base URL).
    pub fn dev_mailbox(&self) -> crate::dev_mailbox::DevMailbox {
        self.state.dev_mailbox()
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
/// the listen address and serves. When the base URL is
/// `http://localhost:<port>`, every loopback address `localhost` may resolve
/// to (`127.0.0.1`, `::1`, and any other loopback address the resolver
/// gives) is bound on the same port: see [`bind_localhost`].
///
/// # Errors
/// Invalid config, database, key or bind errors; [`Error::AddressTaken`]
/// when an explicitly asked for port is held by another program on another
/// loopback address.
pub async fn start(config: Config) -> Result<RunningEmulator> {
    config.validate()?;
    let db = Db::open(&config.storage)?;
    let advertises_localhost = config
        .public_url
        .as_ref()
        .is_none_or(|url| url.host_str() == Some("localhost"));
    let listeners = if advertises_localhost {
        bind_localhost(config.listen).await?
    } else {
        vec![TcpListener::bind(config.listen).await?]
    };
    let local = listeners
        .first()
        .ok_or_else(|| Error::Internal("no listener".into()))?
        .local_addr()?;
    let base_url = match &config.public_url {
        Some(url) => url.clone(),
        None => default_base_url(local)?,
    };
    let state = AppState::new(config, db, base_url).await?;
    let app = router(state.clone(), local);
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

/// How many ports `bind_localhost` tries for port 0 before giving up.
const PORT_ATTEMPTS: usize = 20;

/// Binds `listen` and, on the same port, every other loopback address
/// `localhost` may resolve to, so that no other program (another local user's)
/// can hold `[::1]:<port>` and answer `http://localhost:<port>` for the
/// clients that try `::1` first.
///
/// With port 0 a port where all of them are free is looked for. With an
/// explicit port that another program holds on one of them, it fails with a
/// message that says so. A loopback address this machine does not have (no
/// IPv6 loopback) is left out, with a log line.
///
/// # Errors
/// [`Error::AddressTaken`] as above; I/O errors binding `listen`.
pub(crate) async fn bind_localhost(listen: SocketAddr) -> Result<Vec<TcpListener>> {
    let twins = loopback_twins(listen.ip()).await;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let first = TcpListener::bind(listen).await?;
        let port = first.local_addr()?.port();
        let mut listeners = vec![first];
        let mut taken = None;
        for twin in &twins {
            let addr = SocketAddr::new(*twin, port);
            match TcpListener::bind(addr).await {
                Ok(listener) => listeners.push(listener),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied
                    ) =>
                {
                    taken = Some((addr, e));
                    break;
                }
                Err(e) => tracing::info!(
                    "this machine has no loopback address {twin} ({e}); \
                     listening on the other loopback addresses only"
                ),
            }
        }
        let Some((addr, error)) = taken else {
            return Ok(listeners);
        };
        if listen.port() == 0 && attempt < PORT_ATTEMPTS {
            tracing::debug!("port {port} is taken on {addr}; trying another");
            continue;
        }
        return Err(Error::AddressTaken(format!(
            "cannot listen on {addr} ({error}): another program holds port {port} there, \
             and it would answer http://localhost:{port} for every client that tries {} \
             first. Stop that program, or choose another port (port 0 picks one that is \
             free on every loopback address)",
            addr.ip()
        )));
    }
}

/// The other loopback addresses `localhost` may resolve to, besides `ip`:
/// `127.0.0.1`, `::1` and whatever the resolver answers that is loopback.
/// An unspecified address already covers its own family (and `::` usually
/// both, on dual-stack systems), so those are left out.
async fn loopback_twins(ip: IpAddr) -> Vec<IpAddr> {
    let mut candidates = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    if let Ok(resolved) = tokio::net::lookup_host(("localhost", 0)).await {
        candidates.extend(resolved.map(|a| a.ip()).filter(IpAddr::is_loopback));
    }
    let mut twins: Vec<IpAddr> = Vec::new();
    for candidate in candidates {
        let covered = match ip {
            IpAddr::V6(v6) if v6.is_unspecified() => true,
            IpAddr::V4(v4) if v4.is_unspecified() => candidate.is_ipv4(),
            _ if ip.is_loopback() => candidate == ip,
            _ => true,
        };
        if !covered && !twins.contains(&candidate) {
            twins.push(candidate);
        }
    }
    twins
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
    }

    #[tokio::test]
    async fn the_other_loopback_family_is_a_twin_and_other_addresses_have_none() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        let twins = loopback_twins(v4).await;
        assert!(twins.contains(&v6) && !twins.contains(&v4), "{twins:?}");
        let twins = loopback_twins(v6).await;
        assert!(twins.contains(&v4) && !twins.contains(&v6), "{twins:?}");
        let twins = loopback_twins("0.0.0.0".parse().unwrap()).await;
        assert!(twins.iter().all(IpAddr::is_ipv6), "{twins:?}");
        assert!(loopback_twins("10.0.0.1".parse().unwrap()).await.is_empty());
        assert!(loopback_twins("::".parse().unwrap()).await.is_empty());
    }
}
