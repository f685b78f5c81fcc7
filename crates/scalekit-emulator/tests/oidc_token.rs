//! `/oauth/token`: the code exchange with PKCE, claims, refresh rotation and
//! reuse detection, client credentials, and malformed requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oidc_support::{
    oauth_error, verifier, verify_with_jwks, Env, CONFIDENTIAL, NATIVE, REDIRECT, SECRET,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn left_half_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}

#[tokio::test]
async fn code_exchange_returns_tokens_with_the_documented_claims() {
    let env = Env::start().await;
    let who = env.signed_in("ann@example.com").await;
    let verifier = verifier();
    let code = env
        .code_for(&who, &verifier, &[("nonce", "nonce-123")])
        .await;
    let response = env.exchange(&code, &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "access_token",
            "expires_in",
            "id_token",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 299);
    assert_eq!(body["scope"], "openid profile email offline_access");

    // The ID token verifies with the published JWKS and carries the claims.
    let id = verify_with_jwks(&env, body["id_token"].as_str().unwrap()).await;
    let issuer = env.base.as_str().trim_end_matches('/');
    assert_eq!(id["iss"], issuer);
    assert_eq!(id["aud"], json!([NATIVE]));
    assert_eq!(id["azp"], NATIVE);
    assert_eq!(id["client_id"], NATIVE);
    assert_eq!(id["sub"], who.user.id.as_str());
    assert!(id["sub"].as_str().unwrap().starts_with("usr_"));
    assert!(id["oid"].as_str().unwrap().starts_with("org_"));
    assert_eq!(id["sid"], who.session_id.as_str());
    assert!(id["sid"].as_str().unwrap().starts_with("ses_"));
    assert_eq!(id["amr"], json!(["conn_email"]));
    assert_eq!(id["email"], "ann@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["nonce"], "nonce-123");
    assert_eq!(
        id["at_hash"],
        left_half_hash(body["access_token"].as_str().unwrap())
    );
    assert_eq!(id["c_hash"], left_half_hash(&code));
    assert!(id["exp"].as_i64().unwrap() > id["iat"].as_i64().unwrap());
    let sid = who.session_id.clone();
    let session = env
        .emulator
        .state()
        .db
        .call(move |c| scalekit_emulator::db::browser_session_by_id(c, &sid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id["auth_time"], session.auth_time);

    // The access token too.
    let access = verify_with_jwks(&env, body["access_token"].as_str().unwrap()).await;
    assert_eq!(access["iss"], issuer);
    assert_eq!(access["aud"], json!([NATIVE]));
    assert_eq!(access["sub"], who.user.id.as_str());
    assert_eq!(access["oid"], id["oid"]);
    assert_eq!(access["sid"], id["sid"]);
    assert_eq!(access["client_id"], NATIVE);
    assert!(access["jti"].as_str().unwrap().starts_with("tkn_"));
    assert_eq!(access["nbf"], access["iat"]);
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        300
    );
    assert_eq!(access["scope"], "openid profile email offline_access");
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    let env = Env::start().await;
    let who = env.signed_in("bo@example.com").await;
    let tokens = env.tokens_for(&who, &[("scope", "openid email")]).await;
    assert!(tokens.body.get("refresh_token").is_none());
    assert!(tokens.body.get("id_token").is_some());
    let id = verify_with_jwks(&env, tokens.id_token()).await;
    assert!(id.get("nonce").is_none());
    assert!(id.get("name").is_none());
}

#[tokio::test]
async fn missing_or_wrong_pkce_verifier_fails_without_burning_the_code() {
    let env = Env::start().await;
    let who = env.signed_in("cy@example.com").await;
    let verifier = verifier();
    let code = env.code_for(&who, &verifier, &[]).await;
    let missing = env
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    let wrong = env.exchange(&code, &oidc_support::verifier()).await;
    oauth_error(wrong, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let other_redirect = env
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("code_verifier", &verifier),
        ])
        .await;
    oauth_error(other_redirect, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // The right verifier still works.
    assert_eq!(
        env.exchange(&code, &verifier).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn replayed_code_fails_and_revokes_the_tokens_issued_from_it() {
    let env = Env::start().await;
    let who = env.signed_in("dee@example.com").await;
    let first = env.tokens_for(&who, &[]).await;
    // The access token works on /userinfo until the replay.
    assert_eq!(env.userinfo(first.access()).await.status(), StatusCode::OK);

    let replay = env.exchange(&first.code, &first.verifier).await;
    oauth_error(replay, StatusCode::BAD_REQUEST, "invalid_grant").await;

    assert_eq!(
        env.userinfo(first.access()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    oauth_error(
        env.refresh(first.refresh()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let env = Env::start().await;
    let who = env.signed_in("eve@example.com").await;
    let first = env.tokens_for(&who, &[("nonce", "n")]).await;

    // Rotation: a new refresh token, new tokens, same user and session.
    let response = env.refresh(first.refresh()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second: Value = response.json().await.unwrap();
    let rotated = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, first.refresh());
    let id = verify_with_jwks(&env, second["id_token"].as_str().unwrap()).await;
    assert_eq!(id["sub"], who.user.id.as_str());
    assert_eq!(id["sid"], who.session_id.as_str());
    let first_id = verify_with_jwks(&env, first.id_token()).await;
    assert_eq!(id["auth_time"], first_id["auth_time"]);
    assert!(id.get("c_hash").is_none() && id.get("nonce").is_none());
    assert_eq!(
        id["at_hash"],
        left_half_hash(second["access_token"].as_str().unwrap())
    );
    let new_access = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(env.userinfo(&new_access).await.status(), StatusCode::OK);

    // Reusing the old one fails and revokes the family: the rotated token and
    // the access tokens stop working too.
    oauth_error(
        env.refresh(first.refresh()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    oauth_error(
        env.refresh(&rotated).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_eq!(
        env.userinfo(&new_access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        env.userinfo(first.access()).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Another session's tokens are untouched.
    let other = env.tokens_for(&who, &[]).await;
    assert_eq!(env.refresh(other.refresh()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_may_narrow_but_not_widen_the_scope() {
    let env = Env::start().await;
    let who = env.signed_in("fay@example.com").await;
    let first = env
        .tokens_for(&who, &[("scope", "openid email offline_access")])
        .await;
    let widen = env
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", NATIVE),
            ("refresh_token", first.refresh()),
            ("scope", "openid profile"),
        ])
        .await;
    oauth_error(widen, StatusCode::BAD_REQUEST, "invalid_scope").await;
    let narrow = env
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", NATIVE),
            ("refresh_token", first.refresh()),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(narrow.status(), StatusCode::OK);
    assert_eq!(narrow.json::<Value>().await.unwrap()["scope"], "openid");
}

#[tokio::test]
async fn client_credentials_for_confidential_clients_only() {
    let env = Env::start().await;
    // client_secret_basic
    let token = env.client_token().await;
    let claims = verify_with_jwks(&env, &token).await;
    assert_eq!(claims["sub"], CONFIDENTIAL);
    assert_eq!(claims["client_id"], CONFIDENTIAL);
    assert!(claims.get("oid").is_none() && claims.get("sid").is_none());
    // client_secret_post
    let post = env
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ])
        .await;
    assert_eq!(post.status(), StatusCode::OK);
    let body: Value = post.json().await.unwrap();
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    // wrong or missing secret
    for form in [
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", CONFIDENTIAL),
            ("client_secret", "nope"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", CONFIDENTIAL),
        ],
    ] {
        let response = env.token(&form).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"scalekit-emulator\""
        );
        oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
    let basic_wrong = env
        .http
        .post(env.url("/oauth/token"))
        .basic_auth(CONFIDENTIAL, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    oauth_error(basic_wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // a public client may not
    let native = env
        .token(&[("grant_type", "client_credentials"), ("client_id", NATIVE)])
        .await;
    oauth_error(native, StatusCode::BAD_REQUEST, "unauthorized_client").await;
}

#[tokio::test]
async fn refreshed_id_tokens_keep_the_auth_time_when_the_session_row_is_gone() {
    // Given tokens from a session whose row then disappears
    let env = Env::start().await;
    let who = env.signed_in("auth-time@example.com").await;
    let first = env.tokens_for(&who, &[]).await;
    let auth_time = verify_with_jwks(&env, first.id_token()).await["auth_time"].clone();
    assert!(auth_time.is_i64());
    let sid = who.session_id.clone();
    env.emulator
        .state()
        .db
        .call(move |c| {
            c.execute("DELETE FROM browser_sessions WHERE id = ?1", [&sid])?;
            Ok(())
        })
        .await
        .unwrap();
    // When the refresh token is used
    let response = env.refresh(first.refresh()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    // Then the new ID token has the code's auth_time
    let id = verify_with_jwks(&env, body["id_token"].as_str().unwrap()).await;
    assert_eq!(id["auth_time"], auth_time);
}

#[tokio::test]
async fn client_credentials_answer_exactly_as_scalekit_does() {
    let env = Env::start().await;
    for scope in [None, Some("openid"), Some("")] {
        // Given a confidential client asking with or without scope openid
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        // When it asks for a token
        let response = env.token(&form).await;
        // Then the body has exactly Scalekit's four keys and values
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["access_token", "expires_in", "scope", "token_type"],
            "{scope:?}"
        );
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 86_399);
        assert_eq!(body["scope"], "openid");
        // And the token itself lives that long, with that scope
        let claims = verify_with_jwks(&env, body["access_token"].as_str().unwrap()).await;
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            86_399
        );
        assert_eq!(claims["scope"], "openid");
    }
    // A user scope is still refused.
    for scope in ["email", "openid offline_access", "admin"] {
        let response = env
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", CONFIDENTIAL),
                ("client_secret", SECRET),
                ("scope", scope),
            ])
            .await;
        oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
}

#[tokio::test]
async fn expired_codes_fail() {
    let mut config = scalekit_emulator::Config::for_tests();
    config.code_ttl = std::time::Duration::ZERO;
    let env = Env::start_with(config).await;
    let who = env.signed_in("gus@example.com").await;
    let verifier = verifier();
    let code = env.code_for(&who, &verifier, &[]).await;
    oauth_error(
        env.exchange(&code, &verifier).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}
