//! Loopback benchmark of the broker: listing and renaming passkeys through
//! the broker (the caller sends the user's own access token) against the same
//! calls straight to the emulator (an environment client's client-credentials
//! token, `?user_id=` on the list), at 1, 8 and 64 concurrent clients. Not a
//! test: it prints a Markdown table (p50, p95, throughput) and the broker's
//! overhead for `docs/benchmarks.md`; nothing here fails on a time.
//!
//! ```sh
//! cargo bench -p passkeys-broker --bench broker
//! BROKER_BENCH_JSON=broker.json cargo bench -p passkeys-broker --bench broker
//! ```
//!
//! The emulator, the broker and the clients run in this process on one Tokio
//! runtime. Each client is a user signed in through the emulator's hosted
//! login (email code), with five passkeys. Each level sends
//! `REQUESTS_PER_SERIES` requests per series, split over the clients, after a
//! warm-up, and stops early after `TIME_LIMIT`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use passkeys_broker::{ClientSecret, Config, RateLimit, RunningBroker};
use reqwest::Client;
use scalekit_emulator::db;
use scalekit_emulator::{testing, RunningEmulator};
use serde_json::{json, Value};
use url::Url;

const LEVELS: [usize; 3] = [1, 8, 64];
const REQUESTS_PER_SERIES: usize = 1_000;
const WARM_UP_PER_CLIENT: usize = 3;
const TIME_LIMIT: Duration = Duration::from_secs(15);
const PASSKEYS_PER_USER: usize = 5;
const APP_CLIENT_ID: &str = "ntvc_demo";
const ENVIRONMENT_CLIENT_ID: &str = "skc_demo";
const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const CREDENTIALS: &str = "/api/v1/webauthn/credentials";

/// One signed-in user: their id, their access token and the passkey they
/// rename.
struct User {
    id: String,
    access_token: String,
    passkey_id: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Operation {
    List,
    Rename,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Rename => "rename",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Path {
    /// Straight to the emulator with the environment client's token.
    Direct,
    /// Through the broker with the user's own token.
    Broker,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Self::Direct => "straight to the emulator",
            Self::Broker => "through the broker",
        }
    }
}

/// Where the requests go and with which credentials.
struct Target {
    http: Client,
    emulator: Url,
    broker: Url,
    environment_token: String,
}

struct Series {
    operation: Operation,
    path: Path,
    clients: usize,
    latencies: Vec<Duration>,
    wall: Duration,
}

impl Series {
    fn percentile(&self, fraction: f64) -> Duration {
        percentile(&self.latencies, fraction)
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

/// Nearest-rank percentile of unsorted `values`.
fn percentile(values: &[Duration], fraction: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A user signed in as the app signs in (authorization code with PKCE, the
/// browser already signed in to the hosted login: no emailed code, which
/// the emulator limits per client address), with five passkeys.
async fn sign_in(emulator: &RunningEmulator, http: &Client, email: String) -> User {
    let signed_up = email.clone();
    let user = emulator
        .state()
        .db
        .call(move |c| db::find_or_create_user_by_email(c, &signed_up))
        .await
        .unwrap();
    let (_, cookie) = emulator
        .state()
        .create_browser_session(&user.id, "conn_email")
        .await
        .unwrap();
    let session_cookie = format!("{}={}", cookie.name(), cookie.value());
    let login = testing::Login::SignedIn {
        session_cookie: Some(&session_cookie),
    };
    let access_token = testing::CodeFlow::new(emulator.base_url())
        .with_client(APP_CLIENT_ID, REDIRECT)
        .tokens(http, login)
        .await
        .expect("a signed-in browser gets tokens")
        .access_token;
    let user = emulator
        .state()
        .db
        .call(move |c| db::user_by_email(c, &email))
        .await
        .unwrap()
        .expect("the sign-in created the user");
    let mut passkey_id = String::new();
    for index in 0..PASSKEYS_PER_USER {
        let new = testing::synced_platform_passkey(
            &user.id,
            &format!("Y3JlZC1{}", uuid::Uuid::new_v4().simple()),
            "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
            &format!("Key {index}"),
        );
        let stored = testing::store_passkey(emulator, new).await.unwrap();
        if index == 0 {
            passkey_id = stored.id;
        }
    }
    User {
        id: user.id,
        access_token,
        passkey_id,
    }
}

/// The environment client's secret as the emulator is configured.
fn environment_secret(emulator: &RunningEmulator) -> String {
    emulator
        .state()
        .config
        .client(ENVIRONMENT_CLIENT_ID)
        .and_then(|client| client.secret.as_ref())
        .expect("the test configuration has a confidential client")
        .secret()
        .to_owned()
}

/// A client-credentials token of the environment client.
async fn environment_token(emulator: &RunningEmulator, http: &Client, secret: &str) -> String {
    let answer: Value = http
        .post(emulator.base_url().join("/oauth/token").unwrap())
        .basic_auth(ENVIRONMENT_CLIENT_ID, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no client-credentials token: {answer}"))
        .to_owned()
}

async fn start_broker(emulator: &RunningEmulator, secret: &str) -> RunningBroker {
    let mut config = Config::new(
        emulator.base_url().clone(),
        APP_CLIENT_ID,
        ENVIRONMENT_CLIENT_ID,
        ClientSecret::new(secret),
    );
    config.listen = "127.0.0.1:0".parse().unwrap();
    // Far above what the benchmark sends: the limiter is measured, never hit.
    config.rate_limit = RateLimit {
        requests_per_minute: 1_000_000,
        burst: 100_000,
    };
    passkeys_broker::start(config).await.expect("broker starts")
}

async fn one_request(
    target: &Target,
    path: Path,
    operation: Operation,
    user: &User,
    sequence: usize,
) {
    let (base, token) = match path {
        Path::Direct => (&target.emulator, target.environment_token.as_str()),
        Path::Broker => (&target.broker, user.access_token.as_str()),
    };
    let root = base.as_str().trim_end_matches('/');
    let response = match operation {
        Operation::List => {
            let url = match path {
                Path::Direct => format!("{root}{CREDENTIALS}?user_id={}", user.id),
                Path::Broker => format!("{root}{CREDENTIALS}"),
            };
            target.http.get(url).bearer_auth(token).send().await
        }
        Operation::Rename => {
            let url = format!("{root}{CREDENTIALS}/{}", user.passkey_id);
            target
                .http
                .patch(url)
                .bearer_auth(token)
                .json(&json!({ "display_name": format!("Key {sequence}") }))
                .send()
                .await
        }
    }
    .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{} {}: {body}", path.name(), operation.name());
    if operation == Operation::List {
        assert_eq!(
            body["credentials"].as_array().map(Vec::len),
            Some(PASSKEYS_PER_USER)
        );
    }
}

/// One series: `REQUESTS_PER_SERIES` requests split over `users.len()`
/// concurrent clients, after a warm-up.
async fn run_series(
    target: &Arc<Target>,
    users: &[Arc<User>],
    path: Path,
    operation: Operation,
) -> Series {
    let per_client = REQUESTS_PER_SERIES / users.len();
    for user in users {
        for sequence in 0..WARM_UP_PER_CLIENT {
            one_request(target, path, operation, user, sequence).await;
        }
    }
    let started = Instant::now();
    let mut workers = Vec::new();
    for user in users {
        let target = Arc::clone(target);
        let user = Arc::clone(user);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for sequence in 0..per_client {
                if started.elapsed() > TIME_LIMIT {
                    break;
                }
                let sent = Instant::now();
                one_request(&target, path, operation, &user, sequence).await;
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(REQUESTS_PER_SERIES);
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    Series {
        operation,
        path,
        clients: users.len(),
        latencies,
        wall: started.elapsed(),
    }
}

fn print_table(all: &[Series]) {
    println!("| operation | path | concurrent clients | requests | p50 | p95 | throughput |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for series in all {
        println!(
            "| {} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.0} req/s |",
            series.operation.name(),
            series.path.name(),
            series.clients,
            series.latencies.len(),
            ms(series.percentile(0.50)),
            ms(series.percentile(0.95)),
            series.throughput(),
        );
    }
    println!();
    println!("| operation | concurrent clients | broker's overhead, p50 (through − straight) | throughput, through / straight |");
    println!("| --- | ---: | ---: | ---: |");
    for broker in all.iter().filter(|s| s.path == Path::Broker) {
        let Some(direct) = all.iter().find(|s| {
            s.path == Path::Direct && s.operation == broker.operation && s.clients == broker.clients
        }) else {
            continue;
        };
        println!(
            "| {} | {} | {:.2} ms | {:.2} |",
            broker.operation.name(),
            broker.clients,
            ms(broker.percentile(0.50)) - ms(direct.percentile(0.50)),
            broker.throughput() / direct.throughput(),
        );
    }
}

fn to_json(all: &[Series]) -> Value {
    let series: Vec<Value> = all
        .iter()
        .map(|s| {
            json!({
                "operation": s.operation.name(),
                "path": match s.path { Path::Direct => "direct", Path::Broker => "broker" },
                "clients": s.clients,
                "requests": s.latencies.len(),
                "p50Ms": ms(s.percentile(0.50)),
                "p95Ms": ms(s.percentile(0.95)),
                "requestsPerSecond": s.throughput(),
            })
        })
        .collect();
    json!({ "series": series })
}

#[tokio::main]
async fn main() {
    let emulator = scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .expect("emulator starts");
    let secret = environment_secret(&emulator);
    let broker = start_broker(&emulator, &secret).await;
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let target = Arc::new(Target {
        environment_token: environment_token(&emulator, &http, &secret).await,
        http: http.clone(),
        emulator: emulator.base_url().clone(),
        broker: broker.base_url().clone(),
    });
    let mut all = Vec::new();
    for (level, clients) in LEVELS.into_iter().enumerate() {
        // New users at each level, so that their tokens (5 minutes) stay valid.
        let mut users = Vec::with_capacity(clients);
        for index in 0..clients {
            let email = format!("bench-{level}-{index}@example.com");
            users.push(Arc::new(sign_in(&emulator, &http, email).await));
        }
        for operation in [Operation::List, Operation::Rename] {
            for path in [Path::Direct, Path::Broker] {
                all.push(run_series(&target, &users, path, operation).await);
            }
        }
    }
    print_table(&all);
    if let Ok(path) = std::env::var("BROKER_BENCH_JSON") {
        std::fs::write(&path, to_json(&all).to_string()).unwrap();
    }
    broker.shutdown().await;
}
