//! Forged ID tokens from the token endpoint (a compromised or impersonated
//! environment): each is refused, nothing reaches the keychain and the app
//! stays signed out. The environment is the emulator behind a proxy that
//! rewrites the `id_token` of the code exchange.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::{
    at_hash, claims_of, fake_clock, hs256_jwt, json_response, loopback_client, now, past_expiry,
    refresh_at_expiry, unsigned_jwt, Action, Delivery, Env,
};
use passkeys_core::{ErrorKind, SessionState};
use serde_json::{json, Value};

type Forge = Arc<dyn Fn(Value) -> String + Send + Sync>;

/// Makes the proxy replace the ID token of every `grant_type` answer with
/// `forge(real claims)`.
fn forge_id_tokens(env: &Env, grant_type: &'static str, forge: Forge) {
    env.when(
        move |request| request.is_grant(grant_type),
        move || {
            let forge = Arc::clone(&forge);
            Action::Rewrite(Box::new(move |response| {
                let mut body = response.json();
                let claims = claims_of(body["id_token"].as_str().unwrap());
                body["id_token"] = Value::String(forge(claims));
                json_response(response.status, &body)
            }))
        },
    );
}

/// Signs in while the proxy replaces the ID token with `forge(real claims)`;
/// returns the error after checking that nothing changed.
async fn sign_in_with_forged_id_token(env: &Env, forge: Forge) -> passkeys_core::Error {
    forge_id_tokens(env, "authorization_code", forge);
    let (client, _, store, _) = loopback_client(env, Delivery::Loopback).await;

    let error = client.sign_in(|_| {}).await.unwrap_err();

    assert_eq!(env.code_grants(), 1, "the code was exchanged once");
    assert_eq!(store.writes.load(Ordering::SeqCst), 0, "nothing was stored");
    assert!(store.is_empty());
    assert_eq!(client.session().await.unwrap(), SessionState::SignedOut);
    assert_eq!(error.kind(), ErrorKind::Server, "{error}");
    let message = error.to_string();
    assert!(
        message.contains("could not be verified") || message.contains("could not be read"),
        "{message}"
    );
    assert!(!message.contains("eyJ"), "a token leaked into {message}");
    error
}

/// A forgery that re-signs edited claims with the environment's real key.
fn resigned(env: &Env, edit: impl Fn(&mut Value) + Send + Sync + 'static) -> Forge {
    let keys = env.emulator.state().keys.clone();
    Arc::new(move |mut claims| {
        edit(&mut claims);
        keys.sign(&claims).unwrap()
    })
}

#[tokio::test]
async fn id_token_with_alg_none_is_refused() {
    let env = Env::start().await;
    sign_in_with_forged_id_token(&env, Arc::new(|claims| unsigned_jwt(&claims))).await;
}

#[tokio::test]
async fn id_token_hs256_signed_with_the_public_key_is_refused() {
    let env = Env::start().await;
    let jwk = env.public_jwk();
    let kid = jwk["kid"].as_str().unwrap().to_string();
    let key = jwk.to_string().into_bytes();
    sign_in_with_forged_id_token(&env, Arc::new(move |claims| hs256_jwt(&claims, &kid, &key)))
        .await;
}

#[tokio::test]
async fn id_token_with_an_unknown_kid_is_refused_after_one_key_refetch() {
    let env = Env::start().await;
    // Another environment's key: right shape, unknown kid.
    let other = scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .unwrap();
    let other_keys = other.state().keys.clone();
    assert_ne!(
        other_keys.active_kid(),
        env.emulator.state().keys.active_kid()
    );
    let error = sign_in_with_forged_id_token(
        &env,
        Arc::new(move |claims| other_keys.sign(&claims).unwrap()),
    )
    .await;
    assert!(error.to_string().contains("unknown key"), "{error}");
    let key_fetches = env
        .proxy
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.starts_with("GET /keys"))
        .count();
    assert_eq!(key_fetches, 2, "discovery's fetch plus exactly one refetch");
}

#[tokio::test]
async fn id_token_with_a_wrong_issuer_is_refused() {
    let env = Env::start().await;
    let forge = resigned(&env, |claims| claims["iss"] = json!("https://evil.example"));
    sign_in_with_forged_id_token(&env, forge).await;
}

#[tokio::test]
async fn id_token_for_another_audience_is_refused() {
    let env = Env::start().await;
    let forge = resigned(&env, |claims| {
        claims["aud"] = json!(["ntvc_another_app"]);
        claims["azp"] = json!("ntvc_another_app");
    });
    sign_in_with_forged_id_token(&env, forge).await;
}

#[tokio::test]
async fn id_token_for_us_but_authorized_to_another_client_is_refused() {
    // OIDC Core 3.1.3.7 step 5: `aud` names this app, but `azp` says the
    // token was issued to another client. openidconnect 4 does not check it.
    let env = Env::start().await;
    let forge = resigned(&env, |claims| {
        claims["aud"] = json!([env_client_id(claims)]);
        claims["azp"] = json!("ntvc_another_app");
    });
    let error = sign_in_with_forged_id_token(&env, forge).await;
    assert!(error.to_string().contains("azp"), "{error}");
}

/// The client id the real token was issued to (its single audience).
fn env_client_id(claims: &Value) -> String {
    match &claims["aud"] {
        Value::Array(audiences) => audiences[0].as_str().unwrap().to_string(),
        other => other.as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    let env = Env::start().await;
    let forge = resigned(&env, |claims| {
        claims["iat"] = json!(now() - 3600);
        claims["exp"] = json!(now() - 600);
    });
    sign_in_with_forged_id_token(&env, forge).await;
}

#[tokio::test]
async fn id_token_issued_far_in_the_future_is_refused() {
    let env = Env::start().await;
    let forge = resigned(&env, |claims| {
        claims["iat"] = json!(now() + 86_400);
        claims["exp"] = json!(now() + 86_400 + 300);
    });
    let error = sign_in_with_forged_id_token(&env, forge).await;
    assert!(error.to_string().contains("future"), "{error}");
}

#[tokio::test]
async fn id_token_with_a_wrong_nonce_is_refused() {
    let env = Env::start().await;
    let forge = resigned(&env, |claims| {
        claims["nonce"] = json!("nonce-of-another-sign-in")
    });
    sign_in_with_forged_id_token(&env, forge).await;
}

#[tokio::test]
async fn id_token_without_a_nonce_is_refused() {
    let env = Env::start().await;
    let forge = resigned(&env, |claims| {
        claims.as_object_mut().unwrap().remove("nonce");
    });
    sign_in_with_forged_id_token(&env, forge).await;
}

#[tokio::test]
async fn id_token_with_a_wrong_at_hash_is_refused() {
    let env = Env::start().await;
    let forge = resigned(&env, |claims| {
        claims["at_hash"] = json!(at_hash("an-access-token-of-another-session"))
    });
    sign_in_with_forged_id_token(&env, forge).await;
}

#[tokio::test]
async fn mix_up_id_token_from_another_issuer_is_refused() {
    // The token answer comes from another (honest-looking) environment: its
    // own issuer, its own key, our client id.
    let env = Env::start().await;
    let other = scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .unwrap();
    let other_issuer = other.state().issuer().to_string();
    let other_keys = other.state().keys.clone();
    sign_in_with_forged_id_token(
        &env,
        Arc::new(move |mut claims| {
            claims["iss"] = json!(other_issuer.clone());
            other_keys.sign(&claims).unwrap()
        }),
    )
    .await;
}

#[tokio::test]
async fn an_honest_id_token_still_signs_in() {
    // The forging proxy itself changes nothing when it re-signs the real claims.
    let env = Env::start().await;
    let forge = resigned(&env, |_| {});
    forge_id_tokens(&env, "authorization_code", forge);
    let (client, config, store, _) = common::signed_in(&env).await;
    assert!(store.session(&config).await.is_some());
    assert!(matches!(
        client.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));
}

#[tokio::test]
async fn refreshed_id_token_for_another_user_signs_out() {
    // A validly signed refresh answer that switches the account to someone else.
    let env = Env::start().await;
    let (_, config, store, browser) = common::signed_in(&env).await;
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let forge = resigned(&env, |claims| claims["sub"] = json!("usr_someone_else"));
    forge_id_tokens(&env, "refresh_token", forge);
    let app = common::client(
        config,
        Arc::clone(&store),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;

    let error = app.list_passkeys().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::SessionExpired, "{error}");
    assert!(store.is_empty(), "the keychain was purged");
    assert_eq!(app.session().await.unwrap(), SessionState::SignedOut);
    assert_eq!(env.refresh_grants(), 1);
}
