//! Replay and injection attacks on the token endpoint (RFC 9700 §2.2.2,
//! §4.5, §4.14): a replayed authorization code or refresh token revokes
//! everything issued from it; a code redeemed with another verifier,
//! redirect URI or client is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scalekit_emulator::testing::{browser_client, CodeFlow, Login};
use scalekit_emulator::RunningEmulator;
use serde_json::Value;
use url::Url;

const CLIENT: &str = "ntvc_demo";
const REDIRECT: &str = "http://127.0.0.1:4567/callback";
const VERIFIER: &str = "a-verifier-of-enough-length-for-pkce-0123456789";

async fn start() -> RunningEmulator {
    scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .unwrap()
}

/// The tests' code flow: the native client with [`VERIFIER`].
fn flow(base: &Url) -> CodeFlow {
    CodeFlow::new(base)
        .with_client(CLIENT, REDIRECT)
        .with_verifier(VERIFIER)
        .with_param("nonce", "n")
}

/// Logs in on the hosted pages and returns a fresh authorization code.
async fn code(emulator: &RunningEmulator) -> String {
    flow(emulator.base_url())
        .code(
            &browser_client().unwrap(),
            Login::EmailCode("eve@example.com", &emulator.dev_mailbox()),
        )
        .await
        .unwrap()
}

async fn token(base: &Url, form: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(base.join("/oauth/token").unwrap())
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn exchange(base: &Url, code: &str) -> (u16, Value) {
    token(base, &flow(base).exchange_form(code)).await
}

async fn refresh(base: &Url, refresh_token: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Whether introspection says an access token is active, and whether
/// userinfo still accepts it.
async fn accepted(base: &Url, access_token: &str) -> (bool, bool) {
    let http = reqwest::Client::new();
    let introspection: Value = http
        .post(base.join("/oauth/introspect").unwrap())
        .basic_auth(
            "skc_demo",
            Some(scalekit_emulator::config::TEST_CLIENT_SECRET),
        )
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let userinfo = http
        .get(base.join("/userinfo").unwrap())
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status();
    (introspection["active"] == true, userinfo.is_success())
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[tokio::test]
async fn replayed_authorization_code_is_refused_and_revokes_its_tokens() {
    let emulator = start().await;
    let base = emulator.base_url().clone();
    let code = code(&emulator).await;
    let (status, first) = exchange(&base, &code).await;
    assert_eq!(status, 200, "{first}");
    let access = field(&first, "access_token").to_string();
    let refresh_token = field(&first, "refresh_token").to_string();
    assert_eq!(accepted(&base, &access).await, (true, true));

    let (status, replay) = exchange(&base, &code).await;

    assert_eq!(status, 400);
    assert_eq!(replay["error"], "invalid_grant");
    assert!(replay.get("access_token").is_none());
    assert_eq!(
        accepted(&base, &access).await,
        (false, false),
        "the tokens issued from the code were revoked"
    );
    let (status, body) = refresh(&base, &refresh_token).await;
    assert_eq!((status, field(&body, "error")), (400, "invalid_grant"));
}

#[tokio::test]
async fn replayed_refresh_token_revokes_the_whole_family() {
    let emulator = start().await;
    let base = emulator.base_url().clone();
    let code = code(&emulator).await;
    let (_, first) = exchange(&base, &code).await;
    let stolen = field(&first, "refresh_token").to_string();
    let (status, rotated) = refresh(&base, &stolen).await;
    assert_eq!(status, 200, "{rotated}");
    let rotated_refresh = field(&rotated, "refresh_token").to_string();
    let rotated_access = field(&rotated, "access_token").to_string();
    assert_ne!(rotated_refresh, stolen, "refresh tokens rotate");

    let (status, replay) = refresh(&base, &stolen).await;

    assert_eq!((status, field(&replay, "error")), (400, "invalid_grant"));
    let (status, body) = refresh(&base, &rotated_refresh).await;
    assert_eq!(
        (status, field(&body, "error")),
        (400, "invalid_grant"),
        "the rotated refresh token died with its family"
    );
    assert_eq!(accepted(&base, &rotated_access).await, (false, false));
}

#[tokio::test]
async fn injected_code_is_refused_without_its_verifier_redirect_uri_or_client() {
    let emulator = start().await;
    let base = emulator.base_url().clone();
    let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "another verifier",
            vec![(
                "code_verifier",
                "another-verifier-of-enough-length-0123456789",
            )],
        ),
        ("no verifier", vec![]),
        (
            "another redirect URI",
            vec![
                ("redirect_uri", "http://127.0.0.1:9999/callback"),
                ("code_verifier", VERIFIER),
            ],
        ),
        (
            "another client",
            vec![
                ("client_id", "skc_demo"),
                (
                    "client_secret",
                    scalekit_emulator::config::TEST_CLIENT_SECRET,
                ),
                ("code_verifier", VERIFIER),
            ],
        ),
    ];
    for (attack, overrides) in attempts {
        let code = code(&emulator).await;
        let mut form: Vec<(&str, &str)> =
            vec![("grant_type", "authorization_code"), ("code", &code)];
        for (key, default) in [("client_id", CLIENT), ("redirect_uri", REDIRECT)] {
            let value = overrides
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(default, |(_, v)| *v);
            form.push((key, value));
        }
        form.extend(
            overrides
                .iter()
                .filter(|(k, _)| !["client_id", "redirect_uri"].contains(k)),
        );

        let (status, body) = token(&base, &form).await;

        assert!(matches!(status, 400 | 401), "{attack}: {status} {body}");
        assert!(
            matches!(
                field(&body, "error"),
                "invalid_grant" | "invalid_request" | "invalid_client" | "unauthorized_client"
            ),
            "{attack}: {body}"
        );
        assert!(body.get("access_token").is_none(), "{attack}");
    }
}
