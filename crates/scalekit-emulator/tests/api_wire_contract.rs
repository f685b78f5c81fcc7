//! The emulator's REST answers are the wire contract: every body reads back
//! with `scalekit_wire`'s types unchanged, so it holds no field outside
//! Scalekit's messages (the shared fixtures, which hold every field of those
//! types, are checked against Scalekit's own SDK) and loses none. Each body
//! is also saved as a sample (`<target>/tmp/wire-samples/emulator_<name>@<message>.json`)
//! that `crates/scalekit-wire/fixtures/check-against-sdk` parses with
//! Scalekit's own message types, values included (timestamps, base64).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::Env;
use reqwest::{Method, Response, StatusCode};
use scalekit_wire::credential::{
    DeleteCredentialResponse, ListCredentialsResponse, UpdateCredentialRequest,
    UpdateCredentialResponse,
};
use scalekit_wire::session::{
    RevokeAllUserSessionsResponse, RevokeSessionResponse, SessionDetails, UserSessionDetails,
};
use scalekit_wire::status::RoutingError;
use scalekit_wire::{routes, ErrorBody, GrpcCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The body as `T`, after checking it reads back unchanged; saved as the
/// sample `name` of Scalekit's message `message`.
async fn reads_back_as<T: DeserializeOwned + Serialize>(
    response: Response,
    name: &str,
    message: &str,
) -> T {
    let raw: Value = response.json().await.unwrap();
    let typed: T = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), raw);
    let samples = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("wire-samples");
    std::fs::create_dir_all(&samples).unwrap();
    let file = samples.join(format!("emulator_{name}@{message}.json"));
    std::fs::write(file, serde_json::to_string_pretty(&raw).unwrap()).unwrap();
    typed
}

const LIST: &str = "scalekit.v1.auth.webauthn.ListCredentialsResponse";
const UPDATE: &str = "scalekit.v1.auth.webauthn.UpdateCredentialResponse";
const DELETE: &str = "scalekit.v1.auth.webauthn.DeleteCredentialResponse";
const SESSION: &str = "scalekit.v1.sessions.SessionDetails";
const STATUS: &str = "google.rpc.Status";
const USER_SESSIONS: &str = "scalekit.v1.sessions.UserSessionDetails";
const REVOKE: &str = "scalekit.v1.sessions.RevokeSessionResponse";
const REVOKE_ALL: &str = "scalekit.v1.sessions.RevokeAllUserSessionsResponse";

fn item(id: &str) -> String {
    format!("{}/{id}", routes::CREDENTIALS_PATH)
}

#[tokio::test]
async fn credentials_answers_are_the_wire_types() {
    // Given a user with a passkey and an environment client's token
    let env = Env::start().await;
    let who = env.signed_in("wire@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[7, 7, 7], "Laptop").await;
    let token = env.client_token().await;

    // When the passkeys are listed, renamed with the wire request and removed
    let list: ListCredentialsResponse =
        reads_back_as(env.list(&who.user.id, &token).await, "list", LIST).await;
    let rename = UpdateCredentialRequest {
        display_name: Some("Desk key".into()),
    };
    let renamed = env
        .api(Method::PATCH, &item(&passkey.id), Some(&token))
        .json(&rename)
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed: UpdateCredentialResponse = reads_back_as(renamed, "rename", UPDATE).await;
    let removed = env
        .api(Method::DELETE, &item(&passkey.id), Some(&token))
        .send()
        .await
        .unwrap();
    let removed: DeleteCredentialResponse = reads_back_as(removed, "delete", DELETE).await;

    // Then each answer is the contract's type, with the values it should carry
    let listed = list.into_credentials();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.as_deref(), Some(passkey.id.as_str()));
    let credential = renamed.credential.unwrap();
    assert_eq!(credential.display_name.as_deref(), Some("Desk key"));
    assert!(credential.user_agent.is_some() && credential.client_info.is_some());
    assert_eq!(removed.success, Some(true));
}

#[tokio::test]
async fn error_answers_are_the_wire_error_body() {
    let env = Env::start().await;
    let who = env.signed_in("errors@example.com").await;
    let passkey = env.add_passkey(&who.user.id, &[8], "Key").await;
    let token = env.client_token().await;

    let too_long = UpdateCredentialRequest {
        display_name: Some("x".repeat(scalekit_wire::DISPLAY_NAME_MAX_CHARS + 1)),
    };
    let cases = [
        (
            env.api(Method::PATCH, &item(&passkey.id), Some(&token))
                .json(&too_long),
            GrpcCode::InvalidArgument,
        ),
        (
            env.api(Method::DELETE, &item("wac_missing"), Some(&token)),
            GrpcCode::NotFound,
        ),
        (
            env.api(Method::GET, routes::CREDENTIALS_PATH, None),
            GrpcCode::Unauthenticated,
        ),
    ];
    for (request, code) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), code.http_status(), "{code:?}");
        let name = format!("error_{}", code.name().to_ascii_lowercase());
        let body: ErrorBody = reads_back_as(response, &name, STATUS).await;
        assert_eq!(body.code, Some(code.code()));
        assert_eq!(body.error_code(), Some(code.name()));
    }
}

#[tokio::test]
async fn routing_errors_are_the_wire_error_body() {
    let env = Env::start().await;
    let cases = [
        (Method::GET, "/api/v1/nothing", RoutingError::NotFound),
        (
            Method::PUT,
            routes::CREDENTIALS_PATH,
            RoutingError::MethodNotAllowed,
        ),
    ];
    for (method, path, error) in cases {
        let response = env.api(method, path, None).send().await.unwrap();
        assert_eq!(response.status().as_u16(), error.code().http_status());
        let name = format!("routing_{}", error.code().name().to_ascii_lowercase());
        let body: ErrorBody = reads_back_as(response, &name, STATUS).await;
        assert_eq!(body, error.body());
    }
}

#[tokio::test]
async fn session_details_are_the_wire_type() {
    let env = Env::start().await;
    let who = env.signed_in("session@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let claims = oidc_support::verify_with_jwks(&env, tokens.access()).await;
    let session_id = claims["sid"].as_str().unwrap();
    let token = env.client_token().await;
    let response = env.session(session_id, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let details: SessionDetails = reads_back_as(response, "session", SESSION).await;
    assert!(details.is_active());
    assert_eq!(details.user_id.as_deref(), Some(who.user.id.as_str()));
}

#[tokio::test]
async fn user_sessions_and_revocations_are_the_wire_types() {
    // Given a person with three sessions, tokens issued in each
    let env = Env::start().await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let who = env.signed_in("sessions@example.com").await;
        env.tokens_for(&who, &[]).await;
        sessions.push(who);
    }
    let user_id = sessions[0].user.id.clone();
    let token = env.client_token().await;
    let path = |template: &str, name: &str, value: &str| template.replace(name, value);

    // When one is revoked, the list is read (a page of two), one is revoked
    // twice, and all the others are revoked
    let revoke = path(
        routes::REVOKE_SESSION_PATH,
        "{session_id}",
        &sessions[0].session_id,
    );
    let response = env
        .api(Method::POST, &revoke, Some(&token))
        .send()
        .await
        .unwrap();
    let revoked: RevokeSessionResponse = reads_back_as(response, "revoke_session", REVOKE).await;
    let list = format!(
        "{}?page_size=2",
        path(routes::USER_SESSIONS_PATH, "{user_id}", &user_id)
    );
    let response = env
        .api(Method::GET, &list, Some(&token))
        .send()
        .await
        .unwrap();
    let page: UserSessionDetails = reads_back_as(response, "user_sessions", USER_SESSIONS).await;
    let response = env
        .api(Method::POST, &revoke, Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let again: ErrorBody = reads_back_as(response, "error_failed_precondition", STATUS).await;
    let all = path(routes::REVOKE_USER_SESSIONS_PATH, "{user_id}", &user_id);
    let response = env
        .api(Method::POST, &all, Some(&token))
        .send()
        .await
        .unwrap();
    let everything: RevokeAllUserSessionsResponse =
        reads_back_as(response, "revoke_all_user_sessions", REVOKE_ALL).await;

    // Then each is the contract's type, with the values it should carry
    let revoked = revoked.revoked_session.unwrap();
    assert_eq!(revoked.status.as_deref(), Some("revoked"));
    assert_eq!(page.total_size, Some(3));
    assert_eq!(page.clone().into_sessions().len(), 2);
    assert!(page.next_page_token.is_some());
    assert_eq!(again.code, Some(GrpcCode::FailedPrecondition.code()));
    assert_eq!(everything.total_revoked, Some(2));
}

#[tokio::test]
async fn empty_lists_are_left_out_like_zero_values() {
    // Given a person with no passkey and no session that matches a filter,
    // and a passkey of another person's stored with no transports
    let env = Env::start().await;
    let who = env.signed_in("empty@example.com").await;
    let other = env.signed_in("bare@example.com").await;
    let bare = scalekit_emulator::db::NewPasskey {
        transports: Vec::new(),
        ..scalekit_emulator::testing::synced_platform_passkey(
            &other.user.id,
            "AQID",
            "00000000-0000-0000-0000-000000000000",
            "Bare",
        )
    };
    scalekit_emulator::testing::store_passkey(&env.emulator, bare)
        .await
        .unwrap();
    let token = env.client_token().await;
    let get = |path: String| env.api(Method::GET, &path, Some(&token)).send();

    // When their passkeys, a page of no sessions and a revocation of nothing
    // are asked for
    let list: Value = env.list(&who.user.id, &token).await.json().await.unwrap();
    let bare_list: Value = env.list(&other.user.id, &token).await.json().await.unwrap();
    let sessions = routes::USER_SESSIONS_PATH.replace("{user_id}", &who.user.id);
    let none: Value = get(format!("{sessions}?filter.status=revoked"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let revoke_all = routes::REVOKE_USER_SESSIONS_PATH.replace("{user_id}", &who.user.id);
    let ended = env
        .api(Method::POST, &revoke_all, Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::OK);
    let again: Value = env
        .api(Method::POST, &revoke_all, Some(&token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Then every empty list is left out, as zero numbers are
    assert!(list.get("credentials").is_none(), "{list}");
    let options = &list["all_accepted_credentials_options"];
    assert!(options["rp_id"].is_string(), "{list}");
    assert!(
        options.get("all_accepted_credential_ids").is_none(),
        "{list}"
    );
    let credential = &bare_list["credentials"][0];
    assert_eq!(credential["display_name"], "Bare");
    assert!(credential.get("transports").is_none(), "{credential}");
    assert_eq!(none, serde_json::json!({}));
    assert_eq!(again, serde_json::json!({}));
    // And they read as empty lists
    let list: ListCredentialsResponse = serde_json::from_value(list).unwrap();
    assert!(list.into_credentials().is_empty());
    let none: UserSessionDetails = serde_json::from_value(none).unwrap();
    assert!(none.into_sessions().is_empty());
}
