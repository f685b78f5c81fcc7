//! Scalekit's `GetUserSessions`, `RevokeSession` and `RevokeAllUserSessions`
//! on the emulator: a user's sessions listed and paged, and revoked for
//! real (the session says `revoked`, its refresh tokens are `invalid_grant`,
//! its access tokens are refused); only for an environment client's token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{api_error, oauth_error, Env, SignedIn, Tokens, NATIVE};
use reqwest::{Method, Response, StatusCode};
use scalekit_emulator::oidc::USER_TOKEN_REFUSED;
use scalekit_wire::routes;
use serde_json::Value;

/// The fields of `scalekit.v1.sessions.RevokedSessionDetails` in the SDK.
const REVOKED_SESSION_DETAILS: [&str; 10] = [
    "session_id",
    "user_id",
    "created_at",
    "updated_at",
    "idle_expires_at",
    "absolute_expires_at",
    "expired_at",
    "logout_at",
    "status",
    "last_active_at",
];

fn sessions_path(user_id: &str) -> String {
    routes::USER_SESSIONS_PATH.replace("{user_id}", user_id)
}

fn revoke_path(session_id: &str) -> String {
    routes::REVOKE_SESSION_PATH.replace("{session_id}", session_id)
}

fn revoke_all_path(user_id: &str) -> String {
    routes::REVOKE_USER_SESSIONS_PATH.replace("{user_id}", user_id)
}

async fn call(env: &Env, method: Method, path: &str, token: &str) -> Response {
    env.api(method, path, Some(token)).send().await.unwrap()
}

async fn ok_json(response: Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A browser session of `email` with tokens issued in it (offline access).
async fn signed_in_with_tokens(env: &Env, email: &str) -> (SignedIn, Tokens) {
    let who = env.signed_in(email).await;
    let tokens = env.tokens_for(&who, &[]).await;
    (who, tokens)
}

fn ids(page: &Value) -> Vec<String> {
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_users_sessions_are_listed_newest_first_and_paged() {
    // Given a person signed in twice, and someone else signed in once
    let env = Env::start().await;
    let (first, _) = signed_in_with_tokens(&env, "pia@example.com").await;
    let (second, _) = signed_in_with_tokens(&env, "pia@example.com").await;
    signed_in_with_tokens(&env, "other@example.com").await;
    let token = env.client_token().await;

    // When the environment client lists the person's sessions
    let all = ok_json(call(&env, Method::GET, &sessions_path(&first.user.id), &token).await).await;

    // Then both are there, active, newest first, and no one else's
    let mut listed = ids(&all);
    assert_eq!(all["total_size"], 2);
    assert!(all.get("next_page_token").is_none() && all.get("prev_page_token").is_none());
    let sessions = all["sessions"].as_array().unwrap();
    assert!(sessions[0]["created_at"].as_str() >= sessions[1]["created_at"].as_str());
    for session in sessions {
        assert_eq!(session["user_id"], first.user.id.as_str());
        assert_eq!(session["status"], "active");
        assert_eq!(session["authenticated_clients"][0]["client_id"], NATIVE);
    }
    listed.sort();
    let mut expected = vec![first.session_id.clone(), second.session_id.clone()];
    expected.sort();
    assert_eq!(listed, expected);

    // And one at a time, the tokens walk the same list
    let path = format!("{}?page_size=1", sessions_path(&first.user.id));
    let one = ok_json(call(&env, Method::GET, &path, &token).await).await;
    assert_eq!(ids(&one), ids(&all)[..1]);
    let next = one["next_page_token"].as_str().unwrap();
    let path = format!(
        "{}?page_size=1&page_token={next}",
        sessions_path(&first.user.id)
    );
    let two = ok_json(call(&env, Method::GET, &path, &token).await).await;
    assert_eq!(ids(&two), ids(&all)[1..]);
    assert!(two.get("next_page_token").is_none());
    assert!(two["prev_page_token"].is_string());

    // And a filter that matches nothing is an empty page (the empty list
    // left out, like a zero number)
    let path = format!("{}?filter.status=revoked", sessions_path(&first.user.id));
    let none = ok_json(call(&env, Method::GET, &path, &token).await).await;
    assert_eq!(none, serde_json::json!({}));

    // And bad queries and unknown users are refused
    let path = format!("{}?page_size=1000", sessions_path(&first.user.id));
    api_error(
        call(&env, Method::GET, &path, &token).await,
        StatusCode::BAD_REQUEST,
        3,
        "INVALID_ARGUMENT",
    )
    .await;
    let unknown = call(&env, Method::GET, &sessions_path("usr_nobody"), &token).await;
    api_error(unknown, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_revoked_session_really_ends() {
    // Given a person signed in twice, with tokens in each session
    let env = Env::start().await;
    let (laptop, laptop_tokens) = signed_in_with_tokens(&env, "rio@example.com").await;
    let (phone, phone_tokens) = signed_in_with_tokens(&env, "rio@example.com").await;
    let token = env.client_token().await;

    // When the environment client revokes the phone's session
    let body =
        ok_json(call(&env, Method::POST, &revoke_path(&phone.session_id), &token).await).await;

    // Then the answer is the revoked session
    let revoked = &body["revoked_session"];
    assert_eq!(body.as_object().unwrap().len(), 1);
    for key in revoked.as_object().unwrap().keys() {
        assert!(REVOKED_SESSION_DETAILS.contains(&key.as_str()), "{key}");
    }
    assert_eq!(revoked["session_id"], phone.session_id.as_str());
    assert_eq!(revoked["user_id"], phone.user.id.as_str());
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["expired_at"].is_string());

    // And its refresh token no longer works, nor its access token
    let refused = env.refresh(phone_tokens.refresh()).await;
    oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        env.userinfo(phone_tokens.access()).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // And GetSession says revoked, while the laptop's session lives on
    let details = ok_json(env.session(&phone.session_id, &token).await).await;
    assert_eq!(details["status"], "revoked");
    assert_eq!(details["expired_at"], revoked["expired_at"]);
    let laptop_details = ok_json(env.session(&laptop.session_id, &token).await).await;
    assert_eq!(laptop_details["status"], "active");
    assert_eq!(
        env.refresh(laptop_tokens.refresh()).await.status(),
        StatusCode::OK
    );

    // And revoking it again, or an unknown session, is refused
    let again = call(&env, Method::POST, &revoke_path(&phone.session_id), &token).await;
    api_error(again, StatusCode::BAD_REQUEST, 9, "FAILED_PRECONDITION").await;
    let unknown = call(&env, Method::POST, &revoke_path("ses_unknown"), &token).await;
    api_error(unknown, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;
}

#[tokio::test]
async fn revoking_all_ends_every_active_session_only() {
    // Given two live sessions and one signed out
    let env = Env::start().await;
    let (one, one_tokens) = signed_in_with_tokens(&env, "kai@example.com").await;
    let (two, two_tokens) = signed_in_with_tokens(&env, "kai@example.com").await;
    let gone = env.signed_in("kai@example.com").await;
    let gone_id = gone.session_id.clone();
    env.emulator
        .state()
        .db
        .call(move |c| scalekit_emulator::db::end_browser_session(c, &gone_id))
        .await
        .unwrap();
    let token = env.client_token().await;

    // When every session of the person is revoked
    let path = revoke_all_path(&one.user.id);
    let body = ok_json(call(&env, Method::POST, &path, &token).await).await;

    // Then the two live ones are, and the signed-out one is left as it was
    assert_eq!(body["total_revoked"], 2);
    let mut revoked: Vec<&str> = body["revoked_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["status"], "revoked");
            s["session_id"].as_str().unwrap()
        })
        .collect();
    revoked.sort_unstable();
    let mut expected = vec![one.session_id.as_str(), two.session_id.as_str()];
    expected.sort_unstable();
    assert_eq!(revoked, expected);
    for tokens in [&one_tokens, &two_tokens] {
        oauth_error(
            env.refresh(tokens.refresh()).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
    }
    assert_eq!(
        ok_json(env.session(&gone.session_id, &token).await).await["status"],
        "logout"
    );

    // And a second time there is nothing left to revoke
    let body = ok_json(call(&env, Method::POST, &path, &token).await).await;
    assert_eq!(body, serde_json::json!({}));
    let unknown = call(&env, Method::POST, &revoke_all_path("usr_nobody"), &token).await;
    api_error(unknown, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;
}

#[tokio::test]
async fn only_an_environment_client_may_list_or_revoke() {
    let env = Env::start().await;
    let (who, tokens) = signed_in_with_tokens(&env, "uli@example.com").await;
    let routes = [
        (Method::GET, sessions_path(&who.user.id)),
        (Method::POST, revoke_path(&who.session_id)),
        (Method::POST, revoke_all_path(&who.user.id)),
    ];
    for (method, path) in routes {
        // A user's own access token: 403, as on every management route
        let response = call(&env, method.clone(), &path, tokens.access()).await;
        let body = api_error(response, StatusCode::FORBIDDEN, 7, "PERMISSION_DENIED").await;
        assert_eq!(body["message"], USER_TOKEN_REFUSED);
        // No token: 401
        let response = env.api(method, &path, None).send().await.unwrap();
        api_error(response, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    }
    // And nothing was revoked
    let token = env.client_token().await;
    assert_eq!(
        ok_json(env.session(&who.session_id, &token).await).await["status"],
        "active"
    );
    assert_eq!(env.refresh(tokens.refresh()).await.status(), StatusCode::OK);
}
