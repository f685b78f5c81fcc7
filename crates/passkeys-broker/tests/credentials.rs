//! List, rename and remove through the broker, and only ever the caller's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn user_lists_renames_and_removes_their_own_passkeys() {
    // Given a user signed in to the app (code + PKCE through the hosted
    // login) with two passkeys in the environment
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let (user_id, token, id_token) = sign_in(&emulator, "ada@example.com").await;
    let laptop = add_passkey(&emulator, &user_id, "Laptop").await;
    let phone = add_passkey(&emulator, &user_id, "Phone").await;
    let http = http();
    let credentials = at(broker.base_url(), CREDENTIALS);

    // When they list through the broker
    let response = http
        .get(&credentials)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    // Then they see both, in Scalekit's JSON
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let listing: Value = response.json().await.unwrap();
    let mut ids: Vec<&str> = listing["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![laptop.id.as_str(), phone.id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    for credential in listing["credentials"].as_array().unwrap() {
        assert_eq!(credential["user_id"], user_id.as_str());
    }

    // When they list naming themselves explicitly, the answer is the same
    let response = http
        .get(format!("{credentials}?user_id={user_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let again: Value = response.json().await.unwrap();
    assert_eq!(again["credentials"].as_array().unwrap().len(), 2);

    // When they rename one
    let response = http
        .patch(format!("{credentials}/{}", laptop.id))
        .bearer_auth(&token)
        .json(&json!({"display_name": "Work laptop"}))
        .send()
        .await
        .unwrap();

    // Then the environment has the new name and the answer shows it
    assert_eq!(response.status(), 200);
    let renamed: Value = response.json().await.unwrap();
    assert_eq!(renamed["credential"]["id"], laptop.id.as_str());
    assert_eq!(renamed["credential"]["display_name"], "Work laptop");
    let stored = stored_passkeys(&emulator, &user_id).await;
    let stored_laptop = stored.iter().find(|p| p.id == laptop.id).unwrap();
    assert_eq!(stored_laptop.display_name.as_deref(), Some("Work laptop"));

    // When they remove the other
    let response = http
        .delete(format!("{credentials}/{}", phone.id))
        .bearer_auth(&token)
        .header(PROOF, &id_token)
        .send()
        .await
        .unwrap();

    // Then it is gone upstream and the answer is Scalekit's
    assert_eq!(response.status(), 200);
    let removed: Value = response.json().await.unwrap();
    assert_eq!(removed["success"], true);
    let remaining: Vec<String> = stored_passkeys(&emulator, &user_id)
        .await
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(remaining, vec![laptop.id.clone()]);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn another_users_credential_is_not_found_and_untouched() {
    // Given Ada and Bob, each with a passkey
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(proxy.base_url.clone());
    let broker = start_broker(config).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let bob = create_user(&emulator, "bob@example.com").await;
    add_passkey(&emulator, &ada, "Ada's key").await;
    let bobs_key = add_passkey(&emulator, &bob, "Bob's key").await;
    let (ada_token, ada_proof) = user_tokens(&emulator, &ada, 0).await;
    let http = http();
    let credentials = at(broker.base_url(), CREDENTIALS);
    let bob_before = stored_passkeys(&emulator, &bob).await;

    // When Ada tries to rename and to remove Bob's passkey
    let rename = http
        .patch(format!("{credentials}/{}", bobs_key.id))
        .bearer_auth(&ada_token)
        .json(&json!({"display_name": "Mine now"}))
        .send()
        .await
        .unwrap();
    let remove = http
        .delete(format!("{credentials}/{}", bobs_key.id))
        .bearer_auth(&ada_token)
        .header(PROOF, &ada_proof)
        .send()
        .await
        .unwrap();
    // and a credential id nobody has
    let nobody = http
        .delete(format!("{credentials}/wac_doesnotexist"))
        .bearer_auth(&ada_token)
        .header(PROOF, &ada_proof)
        .send()
        .await
        .unwrap();

    // Then all three are the same 404, so Bob's id is not revealed
    let mut bodies = Vec::new();
    for response in [rename, remove, nobody] {
        assert_eq!(response.status(), 404);
        bodies.push(error_body(response).await);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
    assert_eq!(bodies[0].0, 5);
    assert_eq!(bodies[0].2, "NOT_FOUND");

    // And nothing changed upstream: no PATCH or DELETE reached it
    assert_eq!(stored_passkeys(&emulator, &bob).await, bob_before);
    let path = format!("/api/v1/webauthn/credentials/{}", bobs_key.id);
    assert_eq!(proxy.count("PATCH", &path), 0);
    assert_eq!(proxy.count("DELETE", &path), 0);

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}

#[tokio::test]
async fn listing_someone_else_is_forbidden() {
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let bob = create_user(&emulator, "bob@example.com").await;
    add_passkey(&emulator, &bob, "Bob's key").await;

    let response = http()
        .get(at(
            broker.base_url(),
            &format!("/api/v1/webauthn/credentials?user_id={bob}"),
        ))
        .bearer_auth(user_token(&emulator, &ada).await)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
    let (code, _, error_code) = error_body(response).await;
    assert_eq!((code, error_code.as_str()), (7, "PERMISSION_DENIED"));

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn rename_is_validated_before_anything_goes_upstream() {
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(proxy.base_url.clone());
    config.max_body_bytes = 1024;
    let broker = start_broker(config).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let key = add_passkey(&emulator, &ada, "Laptop").await;
    let token = user_token(&emulator, &ada).await;
    let url = at(
        broker.base_url(),
        &format!("/api/v1/webauthn/credentials/{}", key.id),
    );
    let http = http();

    let too_long = http
        .patch(&url)
        .bearer_auth(&token)
        .json(&json!({"display_name": "x".repeat(scalekit_wire::DISPLAY_NAME_MAX_CHARS + 1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);
    let (code, _, _) = error_body(too_long).await;
    assert_eq!(code, 3);

    let huge = http
        .patch(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"display_name\":\"{}\"}}", "y".repeat(4096)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);

    assert_eq!(proxy.count("GET", "/api/v1/webauthn/credentials"), 0);
    assert_eq!(
        stored_passkeys(&emulator, &ada).await[0]
            .display_name
            .as_deref(),
        Some("Laptop")
    );

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_answer_in_the_error_shape() {
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;

    let response = http()
        .get(at(broker.base_url(), "/api/v1/users"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 404);
    let (code, _, _) = error_body(response).await;
    assert_eq!(code, 5);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_change_right_after_the_callers_own_listing_needs_no_second_listing() {
    // Given a person who has just listed their passkeys through the broker
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(proxy.base_url.clone());
    let broker = start_broker(config).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let key = add_passkey(&emulator, &ada, "Laptop").await;
    let (token, proof) = user_tokens(&emulator, &ada, 0).await;
    assert_eq!(list_as(&broker, &token).await.status(), 200);
    assert_eq!(proxy.count("GET", "/api/v1/webauthn/credentials"), 1);

    // When they rename one of them
    let response = http()
        .patch(at(broker.base_url(), &format!("{CREDENTIALS}/{}", key.id)))
        .bearer_auth(&token)
        .json(&serde_json::json!({"display_name": "Work laptop"}))
        .send()
        .await
        .unwrap();

    // Then the rename goes upstream at once, without listing again
    assert_eq!(response.status(), 200);
    assert_eq!(proxy.count("GET", "/api/v1/webauthn/credentials"), 1);
    assert_eq!(
        stored_passkeys(&emulator, &ada).await[0]
            .display_name
            .as_deref(),
        Some("Work laptop")
    );

    // and someone else's id is still checked upstream and refused
    let bob = create_user(&emulator, "bob@example.com").await;
    let bobs = add_passkey(&emulator, &bob, "Phone").await;
    let response = http()
        .delete(at(broker.base_url(), &format!("{CREDENTIALS}/{}", bobs.id)))
        .bearer_auth(&token)
        .header(PROOF, &proof)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(proxy.count("GET", "/api/v1/webauthn/credentials"), 2);
    assert_eq!(stored_passkeys(&emulator, &bob).await.len(), 1);

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}
