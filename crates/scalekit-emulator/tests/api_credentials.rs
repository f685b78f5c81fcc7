//! The credentials REST API: list, rename, remove; who may call it (an
//! environment client's client-credentials token, never an end user's
//! access token); the grpc-gateway error body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oidc_support::{api_error, Env};
use reqwest::{Method, StatusCode};
use scalekit_emulator::oidc::USER_TOKEN_REFUSED;
use scalekit_wire::DISPLAY_NAME_MAX_CHARS;
use serde_json::{json, Value};

const LIST: &str = "/api/v1/webauthn/credentials";

fn item(id: &str) -> String {
    format!("{LIST}/{id}")
}

#[tokio::test]
async fn a_client_lists_a_users_passkeys_with_the_wire_fields() {
    let env = Env::start().await;
    let who = env.signed_in("ann@example.com").await;
    let other = env.signed_in("bob@example.com").await;
    let mine = env
        .add_passkey(&who.user.id, &[1, 2, 3, 250], "Laptop")
        .await;
    env.add_passkey(&other.user.id, &[9, 9], "Not mine").await;
    let token = env.client_token().await;

    {
        let response = env.list(&who.user.id, &token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let credentials = body["credentials"].as_array().unwrap();
        assert_eq!(credentials.len(), 1);
        let credential = &credentials[0];
        assert_eq!(credential["id"], mine.id.as_str());
        assert_eq!(credential["user_id"], who.user.id.as_str());
        assert_eq!(credential["credential_id"], "AQID+g==");
        assert_eq!(credential["attestation_type"], "none");
        assert_eq!(
            credential["authenticator"]["aaguid"],
            "08987058-cadc-4b81-b6e1-30de50dcbe96"
        );
        assert_eq!(credential["authenticator"]["attachment"], "platform");
        assert_eq!(credential["transports"], json!(["internal", "hybrid"]));
        assert_eq!(
            credential["authenticator_flags"],
            json!({"user_present": true, "user_verified": true, "backup_eligible": true, "backup_state": true})
        );
        assert_eq!(credential["display_name"], "Laptop");
        assert_eq!(credential["user_agent"]["browser"], "Chrome");
        assert_eq!(credential["client_info"]["ip"], "127.0.0.1");
        assert_eq!(credential["created_at"].as_str().unwrap().len(), 24);
        assert_eq!(credential["created_at"], credential["updated_at"]);

        let options = &body["all_accepted_credentials_options"];
        assert_eq!(options["rp_id"], "localhost");
        assert_eq!(
            options["user_id"],
            URL_SAFE_NO_PAD.encode(who.user.webauthn_handle.as_bytes())
        );
        assert_eq!(options["all_accepted_credential_ids"], json!(["AQID-g"]));
    }
}

#[tokio::test]
async fn an_end_users_access_token_is_refused_with_permission_denied() {
    // Given a user with a passkey and a valid access token of their own
    let env = Env::start().await;
    let who = env.signed_in("uma@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[5, 5], "Mine").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let token = tokens.access();
    assert_eq!(env.userinfo(token).await.status(), StatusCode::OK);

    // When they call the API with it, even for their own passkeys
    let calls = [
        env.api(Method::GET, LIST, Some(token)),
        env.api(
            Method::GET,
            &format!("{LIST}?user_id={}", who.user.id),
            Some(token),
        ),
        env.api(Method::PATCH, &item(&passkey.id), Some(token))
            .json(&json!({"display_name": "Renamed"})),
        env.api(Method::DELETE, &item(&passkey.id), Some(token)),
        env.api(Method::PATCH, &item("wac_unknown"), Some(token))
            .json(&json!({"display_name": "x"})),
        env.api(Method::DELETE, &item("wac_unknown"), Some(token)),
    ];
    for call in calls {
        // Then 403 PERMISSION_DENIED with a message saying which token it takes
        let response = call.send().await.unwrap();
        let body = api_error(response, StatusCode::FORBIDDEN, 7, "PERMISSION_DENIED").await;
        assert_eq!(body["message"], USER_TOKEN_REFUSED);
        assert_eq!(body["details"].as_array().unwrap().len(), 1);
    }
    // And nothing changed
    let client = env.client_token().await;
    let body: Value = env.list(&who.user.id, &client).await.json().await.unwrap();
    assert_eq!(body["credentials"][0]["display_name"], "Mine");
}

#[tokio::test]
async fn missing_bad_or_revoked_tokens_are_401() {
    let env = Env::start().await;
    let who = env.signed_in("cy@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let response = env.api(Method::GET, LIST, None).send().await.unwrap();
    let body = api_error(response, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    assert_eq!(body["message"], "Token empty");
    let mut tampered = tokens.access().to_owned();
    tampered.insert(tampered.len() - 5, 'x');
    for bad in [
        "garbage",
        tokens.id_token(),
        tampered.as_str(),
        tokens.refresh(),
    ] {
        let response = env.api(Method::GET, LIST, Some(bad)).send().await.unwrap();
        api_error(response, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    }
    let patch = env
        .api(Method::PATCH, &item("wac_x"), None)
        .json(&json!({"display_name": "x"}))
        .send()
        .await
        .unwrap();
    api_error(patch, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    let delete = env
        .api(Method::DELETE, &item("wac_x"), Some("garbage"))
        .send()
        .await
        .unwrap();
    api_error(delete, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    // A token from another emulator (other keys) is refused too.
    let stranger = Env::start().await;
    let stranger_who = stranger.signed_in("cy@example.com").await;
    let foreign = stranger.tokens_for(&stranger_who, &[]).await;
    let response = env.list(&who.user.id, foreign.access()).await;
    api_error(response, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    let foreign_client = stranger.client_token().await;
    let response = env.list(&who.user.id, &foreign_client).await;
    api_error(response, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn an_id_token_is_unauthenticated_not_forbidden() {
    // Given a user's ID token, which is no access token
    let env = Env::start().await;
    let who = env.signed_in("ida@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[6], "Key").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let id_token = tokens.id_token();
    let calls = [
        env.api(
            Method::GET,
            &format!("{LIST}?user_id={}", who.user.id),
            Some(id_token),
        ),
        env.api(Method::PATCH, &item(&passkey.id), Some(id_token))
            .json(&json!({"display_name": "x"})),
        env.api(Method::DELETE, &item(&passkey.id), Some(id_token)),
        env.api(
            Method::GET,
            &format!("/api/v1/sessions/{}", who.session_id),
            Some(id_token),
        ),
    ];
    for call in calls {
        // Then every route answers 401 UNAUTHENTICATED
        let response = call.send().await.unwrap();
        api_error(response, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    }
}

#[tokio::test]
async fn a_revoked_client_token_is_401() {
    let env = Env::start().await;
    let who = env.signed_in("rev@example.com").await;
    let token = env.client_token().await;
    assert_eq!(
        env.list(&who.user.id, &token).await.status(),
        StatusCode::OK
    );
    let revoked = env
        .http
        .post(env.url("/revoke"))
        .basic_auth(oidc_support::CONFIDENTIAL, Some(oidc_support::SECRET))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let response = env.list(&who.user.id, &token).await;
    api_error(response, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let env = Env::start().await;
    let token = env.client_token().await;
    let rename = env
        .api(Method::PATCH, &item("wac_unknown"), Some(&token))
        .json(&json!({"display_name": "x"}))
        .send()
        .await
        .unwrap();
    api_error(rename, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;
    let delete = env
        .api(Method::DELETE, &item("wac_unknown"), Some(&token))
        .send()
        .await
        .unwrap();
    api_error(delete, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;
}

#[tokio::test]
async fn rename_validates_the_display_name() {
    let env = Env::start().await;
    let who = env.signed_in("fay@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[1], "Old").await;
    let token = env.client_token().await;
    let token = token.as_str();

    for bad in [
        json!({"display_name": ""}),
        json!({"display_name": "   "}),
        json!({"display_name": "x".repeat(DISPLAY_NAME_MAX_CHARS + 1)}),
        json!({}),
    ] {
        let response = env
            .api(Method::PATCH, &item(&passkey.id), Some(token))
            .json(&bad)
            .send()
            .await
            .unwrap();
        let body = api_error(response, StatusCode::BAD_REQUEST, 3, "INVALID_ARGUMENT").await;
        let violation = &body["details"][0]["validation_error_info"]["field_violations"][0];
        assert_eq!(violation["field"], "display_name");
        assert!(violation["description"].is_string() && violation["constraint"].is_string());
    }
    let not_json = env
        .api(Method::PATCH, &item(&passkey.id), Some(token))
        .body("display_name=x")
        .send()
        .await
        .unwrap();
    api_error(not_json, StatusCode::BAD_REQUEST, 3, "INVALID_ARGUMENT").await;

    let longest = "é".repeat(DISPLAY_NAME_MAX_CHARS);
    let response = env
        .api(Method::PATCH, &item(&passkey.id), Some(token))
        .json(&json!({"display_name": format!("  {longest} ")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["credential"]["display_name"], longest.as_str());
    assert_eq!(body["credential"]["id"], passkey.id.as_str());
    assert_eq!(
        body["credential"]["created_at"],
        passkey.created_at.as_str()
    );
}

#[tokio::test]
async fn delete_returns_the_signal_options_and_removes_the_passkey() {
    let env = Env::start().await;
    let who = env.signed_in("gus@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[0xfb, 0xff], "Key").await;
    let token = env.client_token().await;
    let response = env
        .api(Method::DELETE, &item(&passkey.id), Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": true, "unknown_credential_options": {"rp_id": "localhost", "credential_id": "-_8"}})
    );
    let list: Value = env.list(&who.user.id, &token).await.json().await.unwrap();
    // No passkey left: the empty lists are left out.
    assert!(list.get("credentials").is_none(), "{list}");
    let options = &list["all_accepted_credentials_options"];
    assert!(
        options.get("all_accepted_credential_ids").is_none(),
        "{list}"
    );
    let again = env
        .api(Method::DELETE, &item(&passkey.id), Some(&token))
        .send()
        .await
        .unwrap();
    api_error(again, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_client_credentials_token_acts_on_any_user() {
    let env = Env::start().await;
    let who = env.signed_in("hal@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[4, 2], "Phone").await;
    let token = env.client_token().await;

    let without_user = env
        .api(Method::GET, LIST, Some(&token))
        .send()
        .await
        .unwrap();
    let body = api_error(without_user, StatusCode::BAD_REQUEST, 3, "INVALID_ARGUMENT").await;
    assert_eq!(
        body["details"][0]["validation_error_info"]["field_violations"][0]["field"],
        "user_id"
    );
    let unknown = env
        .api(
            Method::GET,
            &format!("{LIST}?user_id=usr_nobody"),
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    api_error(unknown, StatusCode::NOT_FOUND, 5, "NOT_FOUND").await;

    let list: Value = env
        .api(
            Method::GET,
            &format!("{LIST}?user_id={}", who.user.id),
            Some(&token),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["credentials"][0]["id"], passkey.id.as_str());
    let rename = env
        .api(Method::PATCH, &item(&passkey.id), Some(&token))
        .json(&json!({"display_name": "Work phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rename.status(), StatusCode::OK);
    let delete = env
        .api(Method::DELETE, &item(&passkey.id), Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let env = Env::start().await;
    let who = env.signed_in("ida@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[3], "Key").await;
    let token = env.client_token().await;
    let huge = json!({"display_name": "x".repeat(100 * 1024)});
    let response = env
        .api(Method::PATCH, &item(&passkey.id), Some(&token))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
