//! `GET /api/v1/sessions/{session_id}` (Scalekit's `GetSession`): the
//! `SessionDetails` of a browser session as it lives, is signed out, is
//! replaced and expires; only for an environment client's token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{api_error, verifier, verify_with_jwks, Env, NATIVE};
use reqwest::{Client, StatusCode};
use scalekit_emulator::oidc::USER_TOKEN_REFUSED;
use scalekit_emulator::testing::Login;
use serde_json::Value;

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// The fields of `scalekit.v1.sessions.SessionDetails` in the official
/// Python SDK's descriptor (`scalekit/v1/sessions/sessions_pb2.py`).
const SESSION_DETAILS: [&str; 14] = [
    "session_id",
    "user_id",
    "authenticated_organizations",
    "organization_id",
    "created_at",
    "updated_at",
    "idle_expires_at",
    "absolute_expires_at",
    "expired_at",
    "logout_at",
    "status",
    "device",
    "last_active_at",
    "authenticated_clients",
];

/// A browser (cookies, no redirects) that says it is Chrome on Linux.
fn chrome() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(CHROME)
        .build()
        .unwrap()
}

/// Signs in through the hosted pages with `browser` and exchanges the code;
/// returns the session id and the user's access token.
async fn sign_in(env: &Env, browser: &Client, email: &str) -> (String, String) {
    let tokens = env
        .flow(&verifier(), &[("prompt", "login")])
        .tokens(browser, Login::EmailCode(email, &env.mailbox))
        .await
        .unwrap();
    let claims = verify_with_jwks(env, tokens.id_token.as_deref().unwrap()).await;
    (
        claims["sid"].as_str().unwrap().to_owned(),
        tokens.access_token,
    )
}

async fn details(env: &Env, session_id: &str, token: &str) -> Value {
    let response = env.session(session_id, token).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    for key in body.as_object().unwrap().keys() {
        assert!(
            SESSION_DETAILS.contains(&key.as_str()),
            "{key} is not in SessionDetails"
        );
    }
    body
}

fn is_rfc3339(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
    })
}

#[tokio::test]
async fn a_live_session_then_signed_out() {
    // Given a person signed in with Chrome through the hosted pages
    let env = Env::start().await;
    let browser = chrome();
    let (sid, _) = sign_in(&env, &browser, "sam@example.com").await;
    let token = env.client_token().await;

    // Then the session is active, with the browser and the client it signed in to
    let live = details(&env, &sid, &token).await;
    assert_eq!(live["session_id"], sid.as_str());
    assert!(live["user_id"].as_str().unwrap().starts_with("usr_"));
    let org = live["organization_id"].as_str().unwrap().to_owned();
    assert!(org.starts_with("org_"));
    assert_eq!(
        live["authenticated_organizations"],
        serde_json::json!([org])
    );
    assert_eq!(live["status"], "active");
    for key in [
        "created_at",
        "updated_at",
        "idle_expires_at",
        "absolute_expires_at",
        "last_active_at",
    ] {
        assert!(is_rfc3339(&live[key]), "{key}: {live}");
    }
    assert!(live.get("expired_at").is_none() && live.get("logout_at").is_none());
    assert_eq!(live["device"]["user_agent"], CHROME);
    assert_eq!(live["device"]["browser"], "Chrome");
    assert_eq!(live["device"]["os"], "Linux");
    assert_eq!(live["device"]["device_type"], "desktop");
    let ip = live["device"]["ip"].as_str().unwrap();
    assert!(ip == "127.0.0.1" || ip == "::1", "{ip}");
    assert_eq!(live["device"]["location"]["city"], "Local");
    assert_eq!(
        live["authenticated_clients"],
        serde_json::json!([{"client_id": NATIVE, "organization_id": org}])
    );

    // When the person signs out with the profile page's Sign out button
    let profile = browser
        .get(env.url("/ui/profile/passkeys"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = scalekit_emulator::testing::hidden_field(&profile, "csrf").unwrap();
    let logout = browser
        .post(env.url("/oidc/logout"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_success());
    assert!(logout.text().await.unwrap().contains("You are signed out"));

    // Then the session says so, and when
    let ended = details(&env, &sid, &token).await;
    assert_eq!(ended["status"], "logout");
    assert!(is_rfc3339(&ended["logout_at"]), "{ended}");
    assert!(ended.get("expired_at").is_none());
    assert_eq!(ended["created_at"], live["created_at"]);
}

#[tokio::test]
async fn a_session_replaced_by_a_new_sign_in_is_revoked() {
    let env = Env::start().await;
    let browser = chrome();
    let (first, _) = sign_in(&env, &browser, "rex@example.com").await;
    // When the same browser signs in again (prompt=login)
    let (second, _) = sign_in(&env, &browser, "rex@example.com").await;
    assert_ne!(first, second);
    let token = env.client_token().await;
    assert_eq!(details(&env, &first, &token).await["status"], "revoked");
    assert_eq!(details(&env, &second, &token).await["status"], "active");
}

#[tokio::test]
async fn a_session_past_its_absolute_expiry_is_expired() {
    let env = Env::start().await;
    let who = env.signed_in("old@example.com").await;
    let sid = who.session_id.clone();
    env.emulator
        .state()
        .db
        .call(move |c| {
            c.execute(
                "UPDATE browser_sessions SET absolute_expires_at = strftime('%s','now') - 60 WHERE id = ?1",
                [&sid],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let token = env.client_token().await;
    let body = details(&env, &who.session_id, &token).await;
    assert_eq!(body["status"], "expired");
    assert_eq!(body["expired_at"], body["absolute_expires_at"]);
    assert!(body.get("logout_at").is_none());
    // A session made outside a browser has no device.
    assert!(body.get("device").is_none());
}

#[tokio::test]
async fn only_an_environment_client_may_ask_and_unknown_ids_are_404() {
    let env = Env::start().await;
    let who = env.signed_in("uma@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;

    // An end user's access token, even for their own session: 403
    let response = env.session(&who.session_id, tokens.access()).await;
    let body = api_error(response, StatusCode::FORBIDDEN, 7, "PERMISSION_DENIED").await;
    assert_eq!(body["message"], USER_TOKEN_REFUSED);

    // No token or a bad one: 401
    let anonymous = env
        .http
        .get(env.url(&format!("/api/v1/sessions/{}", who.session_id)))
        .send()
        .await
        .unwrap();
    api_error(anonymous, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    let garbage = env.session(&who.session_id, "garbage").await;
    api_error(garbage, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;

    // An unknown id: 404
    let token = env.client_token().await;
    let unknown = env.session("ses_unknown", &token).await;
    api_error(unknown, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;
}
