//! Step-up: removing a passkey or signing a session out needs a proof of a
//! recent authentication that the broker checks itself. Without one, or
//! with one that is stale, foreign or not an ID token, the caller gets the
//! RFC 9470 challenge and nothing reaches the environment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use rsa::pkcs1::EncodeRsaPrivateKey;
use scalekit_wire::{routes, step_up};
use serde_json::Value;

/// Asserts the RFC 9470 challenge (401, `WWW-Authenticate` with `max_age`,
/// Scalekit's error shape) and returns its message.
async fn assert_challenge(response: reqwest::Response, max_age: u64) -> String {
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        step_up::parse_challenge(&challenge),
        Some(max_age),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"insufficient_user_authentication\""));
    let (code, message, error_code) = error_body(response).await;
    assert_eq!((code, error_code.as_str()), (16, step_up::ERROR_CODE));
    message
}

async fn remove(
    broker: &passkeys_broker::RunningBroker,
    token: &str,
    proof: Option<&str>,
    id: &str,
) -> reqwest::Response {
    let mut request = http()
        .delete(routes::credentials_url(broker.base_url(), Some(id)).unwrap())
        .bearer_auth(token);
    if let Some(proof) = proof {
        request = request.header(PROOF, proof);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn without_a_proof_removal_and_sign_out_get_the_challenge_and_nothing_changes() {
    // Given a person with a passkey and another session, and a broker whose
    // upstream calls are counted
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(proxy.base_url.clone());
    let broker = start_broker(config).await;
    let (user, token, _) = sign_in(&emulator, "ada@example.com").await;
    let key = add_passkey(&emulator, &user, "Laptop").await;
    let other_session = start_session(&emulator, &user).await;

    // When a local program calls the broker with the app's access token alone
    let removal = remove(&broker, &token, None, &key.id).await;
    let sign_out = http()
        .post(routes::revoke_session_url(broker.base_url(), &other_session).unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    // Then both get the challenge for 5 minutes, and nothing changed
    let message = assert_challenge(removal, 300).await;
    assert!(message.contains("recent sign-in"), "{message}");
    assert_challenge(sign_out, 300).await;
    assert_eq!(stored_passkeys(&emulator, &user).await, vec![key.clone()]);
    let path = format!("/api/v1/webauthn/credentials/{}", key.id);
    assert_eq!(proxy.count("DELETE", &path), 0);
    let path = format!("/api/v1/sessions/{other_session}/revoke");
    assert_eq!(proxy.count("POST", &path), 0);

    // And listing and renaming need no proof
    assert_eq!(list_as(&broker, &token).await.status(), 200);

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}

#[tokio::test]
async fn only_a_fresh_id_token_of_the_caller_from_this_environment_is_a_proof() {
    // Given Ada with a passkey, in a session, and Bob
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let bob = create_user(&emulator, "bob@example.com").await;
    let key = add_passkey(&emulator, &ada, "Laptop").await;
    let sid = start_session(&emulator, &ada).await;
    let access_claims = access_claims_in_session(&emulator, &ada, &sid, APP_CLIENT_ID, now() + 300);
    let token = issue_access_token(&emulator, &access_claims).await;
    let proof = |edit: &dyn Fn(&mut Value)| {
        let mut claims = id_claims_in_session(&emulator, &ada, &sid, 10);
        edit(&mut claims);
        sign_with_environment_key(&emulator, &claims)
    };
    let foreign_key = {
        // A key the environment never saw, naming the environment's key id.
        let claims = id_claims_in_session(&emulator, &ada, &sid, 10);
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let der = key.to_pkcs1_der().unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(emulator.state().keys.active_kid());
        let key = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };

    // When Ada removes it with each of these "proofs"
    let refused: Vec<(&str, String)> = vec![
        (
            "signed in 6 minutes ago",
            proof(&|c| c["auth_time"] = (now() - 360).into()),
        ),
        (
            "no auth_time",
            proof(&|c| drop(c.as_object_mut().unwrap().remove("auth_time"))),
        ),
        (
            "sign-in time in the future",
            proof(&|c| c["auth_time"] = (now() + 600).into()),
        ),
        ("about Bob", proof(&|c| c["sub"] = bob.clone().into())),
        (
            "from another session",
            proof(&|c| c["sid"] = "ses_other".into()),
        ),
        (
            "for another client",
            proof(&|c| c["aud"] = serde_json::json!(["ntvc_other"])),
        ),
        (
            "authorized party another client",
            proof(&|c| c["azp"] = "ntvc_other".into()),
        ),
        (
            "from another environment",
            proof(&|c| c["iss"] = "http://localhost:1".into()),
        ),
        ("expired", proof(&|c| c["exp"] = (now() - 120).into())),
        ("her access token", token.clone()),
        ("signed with another key", foreign_key),
        ("not a JWT", "not-a-token".into()),
    ];
    for (what, proof) in &refused {
        let response = remove(&broker, &token, Some(proof), &key.id).await;
        // Then each is the challenge, and the passkey stays
        assert_eq!(response.status(), 401, "{what}");
        assert_challenge(response, 300).await;
        assert_eq!(stored_passkeys(&emulator, &ada).await.len(), 1, "{what}");
    }

    // When the proof is her ID token from a sign-in a minute ago, it goes
    let fresh = proof(&|c| c["auth_time"] = (now() - 60).into());
    let response = remove(&broker, &token, Some(&fresh), &key.id).await;
    assert_eq!(response.status(), 200);
    assert!(stored_passkeys(&emulator, &ada).await.is_empty());

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn how_recent_is_a_setting() {
    // Given a broker that wants an authentication of the last minute
    let emulator = start_emulator().await;
    let mut config = broker_config(&emulator);
    config.step_up_max_age = Duration::from_secs(60);
    let broker = start_broker(config).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let key = add_passkey(&emulator, &ada, "Laptop").await;

    // Then two minutes ago is too old, and the challenge says 60
    let (token, proof) = user_tokens(&emulator, &ada, 120).await;
    assert_challenge(remove(&broker, &token, Some(&proof), &key.id).await, 60).await;
    // and 30 seconds ago is recent enough
    let (token, proof) = user_tokens(&emulator, &ada, 30).await;
    assert_eq!(
        remove(&broker, &token, Some(&proof), &key.id)
            .await
            .status(),
        200
    );

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[test]
fn a_zero_max_age_is_refused_at_start() {
    let toml = r#"
        environment_url = "http://localhost:8080"
        client_id = "ntvc_app"
        upstream_client_id = "skc_broker"
        step_up_max_age_secs = 0
    "#;
    let error = passkeys_broker::Config::from_toml_str(toml, Some("s3cret".into())).unwrap_err();
    assert!(
        error.to_string().contains("step_up_max_age_secs"),
        "{error}"
    );
    let ok = toml.replace("= 0", "= 600");
    let config = passkeys_broker::Config::from_toml_str(&ok, Some("s3cret".into())).unwrap();
    assert_eq!(config.step_up_max_age, Duration::from_secs(600));
}
