//! Loopback benchmark of the emulator: the refresh-token grant and listing
//! a user's credentials (with the environment client's token, as the API
//! requires), at 1, 8 and 64 concurrent clients. Not a test: it prints a
//! Markdown table (median latency, throughput) for `docs/benchmarks.md`.
//!
//! `cargo bench -p scalekit-emulator --bench emulator`
//!
//! Bounded: `REQUESTS_PER_LEVEL` requests per level, and each level stops
//! early after `TIME_LIMIT`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::AUTHORIZATION;
use reqwest::Client;
use scalekit_emulator::db::{self, NewPasskey};
use scalekit_emulator::{testing, Config, RunningEmulator};
use serde_json::Value;
use tokio::sync::Mutex;

const LEVELS: [usize; 3] = [1, 8, 64];
const REQUESTS_PER_LEVEL: usize = 1_000;
const TIME_LIMIT: Duration = Duration::from_secs(20);
const PASSKEYS_PER_USER: usize = 5;

struct Session {
    access_token: String,
    refresh_token: String,
    user_id: String,
    /// The environment client's token, for the credentials API.
    client_token: String,
}

async fn client_token(http: &Client, base: &url::Url) -> String {
    let body: Value = http
        .post(base.join("/oauth/token").unwrap())
        .basic_auth(
            "skc_demo",
            Some(scalekit_emulator::config::TEST_CLIENT_SECRET),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn sign_in(
    emulator: &RunningEmulator,
    http: &Client,
    email: String,
    client_token: &str,
) -> Session {
    let state = emulator.state();
    let user = state
        .db
        .call(move |c| db::find_or_create_user_by_email(c, &email))
        .await
        .unwrap();
    for index in 0..PASSKEYS_PER_USER {
        let new = NewPasskey {
            user_id: user.id.clone(),
            credential_id: format!("{}{index}", user.id),
            passkey_json: "{}".into(),
            display_name: Some(format!("Key {index}")),
            transports: vec!["internal".into()],
            ..NewPasskey::default()
        };
        state
            .db
            .call(move |c| db::insert_passkey(c, new))
            .await
            .unwrap();
    }
    let (_, cookie) = state
        .create_browser_session(&user.id, "conn_email")
        .await
        .unwrap();
    let session_cookie = format!("{}={}", cookie.name(), cookie.value());
    let login = testing::Login::SignedIn {
        session_cookie: Some(&session_cookie),
    };
    let tokens = testing::CodeFlow::new(emulator.base_url())
        .tokens(http, login)
        .await
        .unwrap();
    Session {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token.unwrap(),
        user_id: user.id,
        client_token: client_token.to_owned(),
    }
}

#[derive(Clone, Copy)]
enum Operation {
    Refresh,
    ListCredentials,
}

async fn one_request(http: &Client, base: &url::Url, operation: Operation, session: &mut Session) {
    match operation {
        Operation::Refresh => {
            let response = http
                .post(base.join("/oauth/token").unwrap())
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", "ntvc_demo"),
                    ("refresh_token", session.refresh_token.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            session.refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
            session.access_token = body["access_token"].as_str().unwrap().to_owned();
        }
        Operation::ListCredentials => {
            let mut url = base.join("/api/v1/webauthn/credentials").unwrap();
            url.query_pairs_mut()
                .append_pair("user_id", &session.user_id);
            let response = http
                .get(url)
                .header(AUTHORIZATION, format!("Bearer {}", session.client_token))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body["credentials"].as_array().unwrap().len(),
                PASSKEYS_PER_USER
            );
        }
    }
}

/// Runs one level; returns (median latency, requests per second, requests).
async fn run_level(
    http: &Client,
    base: &url::Url,
    operation: Operation,
    sessions: &[Arc<Mutex<Session>>],
) -> (Duration, f64, usize) {
    let per_worker = REQUESTS_PER_LEVEL / sessions.len();
    let started = Instant::now();
    let workers: Vec<_> = sessions
        .iter()
        .map(|session| {
            let (http, base, session) = (http.clone(), base.clone(), Arc::clone(session));
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                let mut session = session.lock().await;
                for _ in 0..per_worker {
                    if started.elapsed() > TIME_LIMIT {
                        break;
                    }
                    let begin = Instant::now();
                    one_request(&http, &base, operation, &mut session).await;
                    latencies.push(begin.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    let median = latencies[latencies.len() / 2];
    (
        median,
        latencies.len() as f64 / wall.as_secs_f64(),
        latencies.len(),
    )
}

#[tokio::main]
async fn main() {
    let emulator = scalekit_emulator::start(Config::for_tests()).await.unwrap();
    let base = emulator.base_url().clone();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(128)
        .build()
        .unwrap();
    let max = *LEVELS.iter().max().unwrap();
    let mut sessions = Vec::with_capacity(max);
    let environment_token = client_token(&http, &base).await;
    for index in 0..max {
        let email = format!("bench{index}@example.com");
        let session = sign_in(&emulator, &http, email, &environment_token).await;
        sessions.push(Arc::new(Mutex::new(session)));
    }
    println!("| operation | concurrent clients | requests | median latency | throughput |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, operation) in [
        ("refresh-token grant", Operation::Refresh),
        ("list credentials", Operation::ListCredentials),
    ] {
        for level in LEVELS {
            let (median, throughput, count) =
                run_level(&http, &base, operation, &sessions[..level]).await;
            println!(
                "| {name} | {level} | {count} | {:.2} ms | {throughput:.0} req/s |",
                median.as_secs_f64() * 1000.0
            );
        }
    }
    emulator.shutdown().await;
}
