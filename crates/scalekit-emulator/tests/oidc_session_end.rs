//! Ending a browser session ends every token issued in it, whichever way it
//! ends: the same browser signs in again (which replaces it), the person
//! signs out at `/oidc/logout`, or `RevokeSession` revokes it. Its access
//! tokens fail `/userinfo` and the management API (401), introspection
//! calls them inactive, its refresh tokens are `invalid_grant`, and a code
//! issued in it no longer exchanges. (Scalekit's descriptors: a revoked
//! session "cannot be used for any future API requests or application
//! access".)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{api_error, oauth_error, verifier, verify_with_jwks, Env, NATIVE};
use reqwest::{Client, Method, StatusCode};
use scalekit_emulator::testing::{self, Login, Tokens};
use scalekit_wire::routes;

/// One sign-in through the hosted pages with `browser` (`prompt=login`, so
/// a second one in the same browser replaces the first's session): its
/// tokens and its session id.
async fn sign_in(env: &Env, browser: &Client, email: &str) -> (Tokens, String) {
    let tokens = env
        .flow(&verifier(), &[("prompt", "login")])
        .tokens(browser, Login::EmailCode(email, &env.mailbox))
        .await
        .unwrap();
    let claims = verify_with_jwks(env, tokens.id_token.as_deref().unwrap()).await;
    let sid = claims["sid"].as_str().unwrap().to_owned();
    (tokens, sid)
}

fn refresh_token(tokens: &Tokens) -> &str {
    tokens.refresh_token.as_deref().unwrap()
}

/// Every door a token of a live session opens is open.
async fn assert_live(env: &Env, tokens: &Tokens) {
    let access = tokens.access_token.as_str();
    assert_eq!(env.userinfo(access).await.status(), StatusCode::OK);
    assert_eq!(env.introspect(access).await["active"], true);
    assert_eq!(env.introspect(refresh_token(tokens)).await["active"], true);
}

/// Every door a token of session `sid` opened is shut.
async fn assert_ended(env: &Env, tokens: &Tokens, sid: &str, how: &str) {
    let access = tokens.access_token.as_str();
    let refresh = refresh_token(tokens);
    assert_eq!(
        env.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED,
        "{how}: /userinfo"
    );
    assert_eq!(
        env.introspect(access).await,
        serde_json::json!({"active": false}),
        "{how}: the access token"
    );
    assert_eq!(
        env.introspect(refresh).await,
        serde_json::json!({"active": false}),
        "{how}: the refresh token"
    );
    // The management API refuses it as no credential at all (401), not as a
    // user's token (403).
    let api = env.session(sid, access).await;
    api_error(api, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    let refreshed = env.refresh(refresh).await;
    oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_session_replaced_by_a_new_sign_in_ends_its_tokens() {
    // Given a person signed in to the app in a browser
    let env = Env::start().await;
    let browser = testing::browser_client().unwrap();
    let (old, old_sid) = sign_in(&env, &browser, "rae@example.com").await;
    assert_live(&env, &old).await;

    // When the same browser signs in again (prompt=login)
    let (new, new_sid) = sign_in(&env, &browser, "rae@example.com").await;
    assert_ne!(old_sid, new_sid);

    // Then the old session says revoked and none of its tokens works
    let client = env.client_token().await;
    let details: serde_json::Value = env.session(&old_sid, &client).await.json().await.unwrap();
    assert_eq!(details["status"], "revoked");
    assert_ended(&env, &old, &old_sid, "replaced").await;

    // And the new session's tokens work
    assert_live(&env, &new).await;
    assert_eq!(
        env.refresh(refresh_token(&new)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn signing_out_ends_the_sessions_tokens() {
    // Given a person signed in to the app in a browser
    let env = Env::start().await;
    let browser = testing::browser_client().unwrap();
    let (tokens, sid) = sign_in(&env, &browser, "sol@example.com").await;
    assert_live(&env, &tokens).await;

    // When the app signs them out (its own ID token as the hint)
    let mut logout = env.url("/oidc/logout");
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", tokens.id_token.as_deref().unwrap())
        .append_pair("client_id", NATIVE);
    let response = browser.get(logout).send().await.unwrap();
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("You are signed out"));

    // Then none of the session's tokens works
    assert_ended(&env, &tokens, &sid, "signed out").await;
}

#[tokio::test]
async fn revoking_the_session_through_the_api_ends_its_tokens() {
    let env = Env::start().await;
    let browser = testing::browser_client().unwrap();
    let (tokens, sid) = sign_in(&env, &browser, "ida@example.com").await;
    assert_live(&env, &tokens).await;

    let client = env.client_token().await;
    let revoke = routes::REVOKE_SESSION_PATH.replace("{session_id}", &sid);
    let response = env
        .api(Method::POST, &revoke, Some(&client))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    assert_ended(&env, &tokens, &sid, "revoked").await;
}

#[tokio::test]
async fn a_code_of_an_ended_session_does_not_exchange() {
    // Given a code issued in a browser's session, not yet exchanged
    let env = Env::start().await;
    let browser = testing::browser_client().unwrap();
    let first = env.flow(&verifier(), &[("prompt", "login")]);
    let code = first
        .code(&browser, Login::EmailCode("uli@example.com", &env.mailbox))
        .await
        .unwrap();

    // When the same browser signs in again, which ends that session
    sign_in(&env, &browser, "uli@example.com").await;

    // Then the code gets no tokens
    let response = env.token(&first.exchange_form(&code)).await;
    oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}
