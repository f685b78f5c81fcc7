//! Servers the tests stand up beside the emulator: a counting proxy in
//! front of it, and stand-ins for an environment's API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use url::Url;

use super::http;

/// An HTTP proxy in front of the emulator that counts requests by
/// `METHOD path`.
pub struct CountingProxy {
    pub base_url: Url,
    counts: Arc<Mutex<HashMap<String, usize>>>,
    shutdown: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[derive(Clone)]
struct ProxyState {
    target: Url,
    http: reqwest::Client,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl CountingProxy {
    pub async fn start(target: &Url) -> Self {
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let state = ProxyState {
            target: target.clone(),
            http: http(),
            counts: counts.clone(),
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            base_url: format!("http://{addr}/").parse().unwrap(),
            counts,
            shutdown: Mutex::new(Some(shutdown)),
        }
    }

    /// How many `method path` requests went through.
    pub fn count(&self, method: &str, path: &str) -> usize {
        let key = format!("{method} {path}");
        self.counts.lock().unwrap().get(&key).copied().unwrap_or(0)
    }

    /// `path` (relative, no leading `/`) behind the proxy.
    pub fn url(&self, path: &str) -> Url {
        self.base_url.join(path).unwrap()
    }

    pub fn token_requests(&self) -> usize {
        self.count("POST", "/oauth/token")
    }

    /// Stops accepting connections (open ones close once idle).
    pub fn stop(&self) {
        if let Some(shutdown) = self.shutdown.lock().unwrap().take() {
            let _ = shutdown.send(());
        }
    }
}

async fn forward(
    State(state): State<ProxyState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = format!("{method} {}", uri.path());
    *state.counts.lock().unwrap().entry(key).or_default() += 1;
    let mut url = state.target.clone();
    url.set_path(uri.path());
    url.set_query(uri.query());
    let mut request = state.http.request(method, url).body(body);
    for name in ["authorization", "content-type", "accept"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = answer.bytes().await.unwrap_or_default();
            (status, [("content-type", content_type)], bytes).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// Serves `app` on an ephemeral loopback port until the test ends; its base URL.
pub async fn serve(app: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/").parse().unwrap()
}

/// A stand-in for the environment's API (`upstream_api_url`): every session
/// is `active` for whoever asks, and the credentials routes answer `status`
/// with `body`; or ([`StubApi::without_any_route`]) a server with no
/// Scalekit API at all.
pub struct StubApi {
    pub base_url: Url,
}

impl StubApi {
    /// A server that answers every request with a bare, non-JSON 404 (as
    /// an OpenID provider without Scalekit's APIs, or a web server, does).
    pub async fn without_any_route() -> Self {
        let app = Router::new().fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [("content-type", "text/plain; charset=utf-8")],
                "404 page not found\n",
            )
        });
        Self {
            base_url: serve(app).await,
        }
    }

    pub async fn start(status: u16, body: Value) -> Self {
        use axum::routing::get;
        let status = StatusCode::from_u16(status).unwrap();
        let session = |axum::extract::Path(id): axum::extract::Path<String>, headers: HeaderMap| async move {
            assert!(
                headers.contains_key("authorization"),
                "the broker authenticates"
            );
            axum::Json(json!({"session_id": id, "user_id": "usr_deleted", "status": "active"}))
        };
        let app = Router::new()
            .route("/api/v1/sessions/{id}", get(session))
            .fallback(move || {
                let body = body.clone();
                async move { (status, axum::Json(body)) }
            });
        Self {
            base_url: serve(app).await,
        }
    }
}
