//! "Where you're signed in" through the broker: a person lists their own
//! sessions and signs one out (it really ends: its refresh token stops
//! working); someone else's session, or an unknown one, is 404 and nothing
//! is sent upstream; a user's token straight to the environment's session
//! routes is refused. The answers are saved as wire samples
//! (`<target>/tmp/wire-samples/broker_<name>@<message>.json`) for
//! `crates/scalekit-wire/fixtures/check-against-sdk`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use passkeys_broker::RunningBroker;
use scalekit_emulator::db::{self, SessionEnd};
use scalekit_emulator::{testing, RunningEmulator};
use scalekit_wire::routes;
use scalekit_wire::session::{RevokeSessionResponse, UserSessionDetails};
use serde_json::Value;

/// One sign-in of `email` to the app (its own browser, so its own session):
/// the user id, the session id, the access and refresh tokens.
struct SignIn {
    user_id: String,
    session_id: String,
    access: String,
    refresh: String,
    /// The ID token: the proof of a recent authentication.
    id: String,
}

async fn sign_in_again(emulator: &RunningEmulator, email: &str) -> SignIn {
    let browser = testing::browser_client().unwrap();
    let tokens = testing::CodeFlow::new(emulator.base_url())
        .with_client(APP_CLIENT_ID, testing::LOOPBACK_REDIRECT_URI)
        .tokens(
            &browser,
            testing::Login::EmailCode(email, &emulator.dev_mailbox()),
        )
        .await
        .unwrap();
    let claims = emulator
        .state()
        .keys
        .verify::<Value>(&tokens.access_token, emulator.state().issuer(), true)
        .unwrap();
    SignIn {
        user_id: claims["sub"].as_str().unwrap().to_owned(),
        session_id: claims["sid"].as_str().unwrap().to_owned(),
        access: tokens.access_token,
        id: tokens.id_token.expect("an ID token"),
        refresh: tokens
            .refresh_token
            .expect("offline_access gives a refresh token"),
    }
}

/// The refresh grant's status for `refresh_token`, and its `error` if any.
async fn refresh(emulator: &RunningEmulator, refresh_token: &str) -> (u16, Value) {
    let response = http()
        .post(emulator.base_url().join("oauth/token").unwrap())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", APP_CLIENT_ID),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// How the emulator's store says `session_id` ended (`None`: live).
async fn ended(emulator: &RunningEmulator, session_id: &str) -> Option<SessionEnd> {
    let id = session_id.to_owned();
    emulator
        .state()
        .db
        .call(move |c| db::session_record_by_id(c, &id))
        .await
        .unwrap()
        .expect("the session exists")
        .end
}

fn revoke_url(base: &url::Url, session_id: &str) -> url::Url {
    routes::revoke_session_url(base, session_id).unwrap()
}

async fn list(broker: &RunningBroker, token: &str) -> reqwest::Response {
    let url = routes::own_sessions_url(broker.base_url()).unwrap();
    http().get(url).bearer_auth(token).send().await.unwrap()
}

async fn revoke(broker: &RunningBroker, caller: &SignIn, session_id: &str) -> reqwest::Response {
    http()
        .post(revoke_url(broker.base_url(), session_id))
        .bearer_auth(&caller.access)
        .header(PROOF, &caller.id)
        .send()
        .await
        .unwrap()
}

/// The body, after checking it reads back unchanged as `T`; saved as the
/// sample `broker_<name>@<message>.json`.
async fn sample<T: serde::de::DeserializeOwned + serde::Serialize>(
    response: reqwest::Response,
    name: &str,
    message: &str,
) -> T {
    assert_eq!(response.status(), 200);
    let raw: Value = response.json().await.unwrap();
    let typed: T = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), raw);
    let samples = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("wire-samples");
    std::fs::create_dir_all(&samples).unwrap();
    let file = samples.join(format!("broker_{name}@{message}.json"));
    std::fs::write(file, serde_json::to_string_pretty(&raw).unwrap()).unwrap();
    typed
}

#[tokio::test]
async fn a_person_lists_their_sessions_and_signs_another_out() {
    // Given a person signed in twice (the app, and a browser), and someone else
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let app = sign_in_again(&emulator, "ada@example.com").await;
    let other = sign_in_again(&emulator, "ada@example.com").await;
    let bob = sign_in_again(&emulator, "bob@example.com").await;
    assert_eq!(app.user_id, other.user_id);
    assert_ne!(app.session_id, other.session_id);

    // When the app lists the person's sessions through the broker
    let page: UserSessionDetails = sample(
        list(&broker, &app.access).await,
        "user_sessions",
        "scalekit.v1.sessions.UserSessionDetails",
    )
    .await;

    // Then it sees both of theirs, active, and none of Bob's
    let sessions = page.into_sessions();
    let mut ids: Vec<&str> = sessions
        .iter()
        .map(|s| s.session_id.as_deref().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![app.session_id.as_str(), other.session_id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert!(sessions.iter().all(|s| s.is_active()));
    assert!(sessions
        .iter()
        .all(|s| s.user_id.as_deref() == Some(app.user_id.as_str())));

    // When they sign the other session out
    let revoked: RevokeSessionResponse = sample(
        revoke(&broker, &app, &other.session_id).await,
        "revoke_session",
        "scalekit.v1.sessions.RevokeSessionResponse",
    )
    .await;

    // Then it is revoked, its refresh token fails and its access token is refused
    let revoked = revoked.revoked_session.unwrap();
    assert_eq!(
        revoked.session_id.as_deref(),
        Some(other.session_id.as_str())
    );
    assert_eq!(revoked.status.as_deref(), Some("revoked"));
    assert_eq!(
        ended(&emulator, &other.session_id).await,
        Some(SessionEnd::Revoked)
    );
    let (status, body) = refresh(&emulator, &other.refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(list(&broker, &other.access).await.status(), 401);

    // And the app's own session lives on, and says the other is revoked
    assert_eq!(refresh(&emulator, &app.refresh).await.0, 200);
    let after =
        UserSessionDetails::from_json(&list(&broker, &app.access).await.bytes().await.unwrap())
            .unwrap()
            .into_sessions();
    let statuses: Vec<(&str, &str)> = after
        .iter()
        .map(|s| {
            (
                s.session_id.as_deref().unwrap(),
                s.status.as_deref().unwrap(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&(app.session_id.as_str(), "active")),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(other.session_id.as_str(), "revoked")),
        "{statuses:?}"
    );
    assert_eq!(ended(&emulator, &bob.session_id).await, None);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn someone_elses_or_an_unknown_session_is_404_and_untouched() {
    // Given Ada and Bob signed in, and a broker whose upstream calls are counted
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(proxy.base_url.clone());
    let broker = start_broker(config).await;
    let ada = sign_in_again(&emulator, "ada@example.com").await;
    let bob = sign_in_again(&emulator, "bob@example.com").await;

    // When Ada tries to sign out Bob's session, or one that does not exist
    let bobs = revoke(&broker, &ada, &bob.session_id).await;
    let unknown = revoke(&broker, &ada, "ses_nobody").await;
    let odd = revoke(&broker, &ada, "ses_1/../x").await;

    // Then each is the 404 an unknown passkey gets, and nothing was revoked
    let passkey = http()
        .delete(routes::credentials_url(broker.base_url(), Some("wac_nobody")).unwrap())
        .bearer_auth(&ada.access)
        .header(PROOF, &ada.id)
        .send()
        .await
        .unwrap();
    assert_eq!(passkey.status(), 404);
    let (passkey_code, _, passkey_error) = error_body(passkey).await;
    for response in [bobs, unknown, odd] {
        assert_eq!(response.status(), 404);
        let (code, message, error_code) = error_body(response).await;
        assert_eq!(
            (code, error_code.as_str()),
            (passkey_code, passkey_error.as_str())
        );
        assert_eq!((code, message.as_str()), (5, "session not found"));
    }
    for id in [bob.session_id.as_str(), "ses_nobody", "ses_1%2F..%2Fx"] {
        let path = format!("/api/v1/sessions/{id}/revoke");
        assert_eq!(proxy.count("POST", &path), 0, "{path}");
    }
    assert_eq!(ended(&emulator, &bob.session_id).await, None);
    assert_eq!(refresh(&emulator, &bob.refresh).await.0, 200);

    // And without a token nothing is listed or revoked
    let anonymous = http()
        .get(routes::own_sessions_url(broker.base_url()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let anonymous = http()
        .post(revoke_url(broker.base_url(), &bob.session_id))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_user_token_straight_to_the_environment_is_refused() {
    // Given a signed-in person with their own access token
    let emulator = start_emulator().await;
    let ada = sign_in_again(&emulator, "ada@example.com").await;
    let base = emulator.base_url();

    // When they call the environment's session routes with it, not the broker
    let listing = http()
        .get(routes::user_sessions_url(base, &ada.user_id).unwrap())
        .bearer_auth(&ada.access)
        .send()
        .await
        .unwrap();
    let revoking = http()
        .post(revoke_url(base, &ada.session_id))
        .bearer_auth(&ada.access)
        .send()
        .await
        .unwrap();

    // Then both are refused as every management route refuses a user token
    for response in [listing, revoking] {
        assert_eq!(response.status(), 403);
        let (code, _, error_code) = error_body(response).await;
        assert_eq!((code, error_code.as_str()), (7, "PERMISSION_DENIED"));
    }
    assert_eq!(ended(&emulator, &ada.session_id).await, None);
    emulator.shutdown().await;
}
