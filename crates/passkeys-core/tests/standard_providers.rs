//! What a standard OpenID provider does differently from Scalekit, against
//! the emulator made to behave like one: an ID token without `email` or
//! `name` (UserInfo fills them in), no refresh token (the session lasts
//! until its access token expires, then says sign in again), and a passkeys
//! API address where nothing answers the route.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::{
    claims_of, client, fake_clock, http_response, json_response, loopback_client, signed_in,
    Action, Delivery, Env, Request, EMAIL,
};
use passkeys_core::{Account, ClientOptions, ErrorKind, RedirectMode, SessionState};
use serde_json::{json, Value};

/// The code exchange's answer with its ID token's claims edited (re-signed
/// with the emulator's key; the access token is unchanged).
fn edit_id_token(
    env: &Env,
    edit: fn(&mut serde_json::Map<String, Value>),
) -> impl Fn(&Request) -> Action + Send + Sync + 'static {
    let keys = env.emulator.state().keys.clone();
    move |request| {
        if !request.is_grant("authorization_code") {
            return Action::Forward;
        }
        let keys = keys.clone();
        Action::Rewrite(Box::new(move |response| {
            let mut body = response.json();
            let mut claims = claims_of(body["id_token"].as_str().unwrap());
            edit(claims.as_object_mut().unwrap());
            body["id_token"] = json!(keys.sign(&claims).unwrap());
            json_response(200, &body)
        }))
    }
}

/// An ID token without email or name, as some providers send.
fn without_profile_claims(env: &Env) -> impl Fn(&Request) -> Action + Send + Sync + 'static {
    edit_id_token(env, |claims| {
        for name in [
            "email",
            "email_verified",
            "name",
            "given_name",
            "family_name",
        ] {
            claims.remove(name);
        }
    })
}

/// Signs in through the loopback with an ID token stripped of its profile,
/// answering the userinfo request as `userinfo` says.
async fn sign_in_without_profile(
    env: &Env,
    userinfo: impl Fn(&Request) -> Action + Send + Sync + 'static,
) -> Account {
    let strip = without_profile_claims(env);
    env.set_rule(move |request| {
        if request.target == "/userinfo" {
            userinfo(request)
        } else {
            strip(request)
        }
    });
    let (app, _, _, browser) = loopback_client(env, Delivery::Loopback).await;
    app.sign_in(|_| {})
        .await
        .unwrap_or_else(|error| panic!("{error}: {:?}", browser.failures.lock().unwrap()))
}

#[tokio::test]
async fn userinfo_fills_the_email_and_name_the_id_token_left_out() {
    // Given a provider whose ID token carries no email or name
    let env = Env::start().await;
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let record = Arc::clone(&seen);

    // When the user signs in (the userinfo answer also carries a name)
    let account = sign_in_without_profile(&env, move |request| {
        record.lock().unwrap().push(request.clone());
        Action::Rewrite(Box::new(|response| {
            let mut body = response.json();
            body["name"] = json!("Ada Lovelace");
            json_response(response.status, &body)
        }))
    })
    .await;

    // Then the account has them, from userinfo
    assert_eq!(account.email.as_deref(), Some(EMAIL));
    assert_eq!(account.name.as_deref(), Some("Ada Lovelace"));

    // And userinfo was asked once, with the access token, for JSON
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].header("accept").as_deref(),
        Some("application/json")
    );
    let bearer = seen[0].header("authorization").unwrap();
    assert!(bearer.starts_with("Bearer "), "{bearer:.12}");
}

#[tokio::test]
async fn userinfo_is_not_asked_when_the_id_token_has_the_profile() {
    // Given an ID token with both the email and a name
    let env = Env::start().await;
    env.set_rule(edit_id_token(&env, |claims| {
        claims.insert("name".into(), json!("Ada Lovelace"));
    }));

    // When the user signs in
    let (app, _, _, _) = loopback_client(&env, Delivery::Loopback).await;
    let account = app.sign_in(|_| {}).await.unwrap();

    // Then the account comes from the ID token alone
    assert_eq!(account.email.as_deref(), Some(EMAIL));
    assert_eq!(account.name.as_deref(), Some("Ada Lovelace"));
    let requests = env.proxy.requests.lock().unwrap().clone();
    assert!(
        !requests.iter().any(|line| line.contains(" /userinfo")),
        "{requests:?}"
    );
}

/// How the proxy answers one userinfo request.
type Answer = Box<dyn Fn() -> Action + Send + Sync>;

#[tokio::test]
async fn userinfo_for_another_subject_or_failing_keeps_what_the_id_token_had() {
    let env = Env::start().await;
    let trap = env.base_url.join("/trap/userinfo").unwrap();
    let answers: Vec<(&str, Answer)> = vec![
        (
            "another subject",
            Box::new(|| {
                Action::Rewrite(Box::new(|response| {
                    let mut body = response.json();
                    body["sub"] = json!("usr_someone_else");
                    body["name"] = json!("Eve");
                    json_response(200, &body)
                }))
            }),
        ),
        (
            "no subject",
            Box::new(|| Action::Respond(json_response(200, &json!({"email": "eve@example.com"})))),
        ),
        (
            "a server error",
            Box::new(|| Action::Respond(http_response(500, "text/html", b"<h1>oops</h1>"))),
        ),
        (
            "not JSON",
            Box::new(|| Action::Respond(http_response(200, "application/jwt", b"e30.e30.sig"))),
        ),
        ("no answer", Box::new(|| Action::Cut)),
        (
            "a redirect",
            Box::new(move || {
                let answer = String::from_utf8(http_response(302, "text/plain", b"")).unwrap();
                Action::Respond(
                    answer
                        .replacen("\r\n", &format!("\r\nLocation: {trap}\r\n"), 1)
                        .into_bytes(),
                )
            }),
        ),
    ];
    for (what, answer) in answers {
        // When userinfo answers badly (each case on its own emulator, which
        // sends an address at most five sign-in codes in 15 minutes; `env`
        // only serves the trap a followed redirect would reach)
        let case = Env::start().await;
        let account = sign_in_without_profile(&case, move |_| answer()).await;

        // Then the sign-in still succeeds, without the profile
        assert_eq!(account.email, None, "{what}");
        assert_eq!(account.name, None, "{what}");
        assert!(account.subject.starts_with("usr_"), "{what}");
    }
    let requests = env.proxy.requests.lock().unwrap().clone();
    assert!(
        !requests.iter().any(|line| line.contains("/trap/")),
        "a redirect was followed: {requests:?}"
    );
}

/// Signs in with scopes that leave out `offline_access`: no refresh token.
async fn signed_in_without_refresh_token(
    env: &Env,
) -> (
    passkeys_core::Config,
    Arc<common::MemoryStore>,
    Arc<common::LoginBrowser>,
) {
    let mut config = env.config(RedirectMode::Loopback { port: 0 });
    config.scopes = vec!["openid".into(), "profile".into(), "email".into()];
    let store = Arc::new(common::MemoryStore::default());
    let browser = common::LoginBrowser::new(env, Delivery::Loopback);
    let app = client(
        config.clone(),
        store.clone(),
        browser.clone(),
        ClientOptions::default(),
    )
    .await;
    app.sign_in(|_| {}).await.unwrap();
    let session = store.session(&config).await.unwrap();
    assert!(session.refresh_token.is_none(), "the provider sent none");
    (config, store, browser)
}

#[tokio::test]
async fn without_a_refresh_token_the_session_works_until_expiry_then_says_sign_in_again() {
    // Given a session without a refresh token, 10 s from expiry by the
    // app's clock (inside the default 30 s refresh window)
    let env = Env::start().await;
    let (config, store, browser) = signed_in_without_refresh_token(&env).await;
    let expires_at = store.session(&config).await.unwrap().expires_at;
    let clock = fake_clock();
    clock.set(expires_at - time::Duration::seconds(10));
    let options = ClientOptions {
        clock: clock.clone(),
        ..ClientOptions::default()
    };
    let app = client(config.clone(), store.clone(), browser, options).await;

    // When passkeys are listed, the access token is used as it is, up to
    // its last second
    app.list_passkeys().await.unwrap();
    clock.set(expires_at - time::Duration::seconds(1));
    app.list_passkeys().await.unwrap();
    assert_eq!(env.refresh_grants(), 0);

    // Given the access token has expired and the provider cannot be reached
    clock.set(expires_at);
    env.when(|request| !request.is_api(), || Action::Cut);
    let requests_before = env.proxy.requests.lock().unwrap().len();

    // When passkeys are listed
    let error = app.list_passkeys().await.unwrap_err();

    // Then the user is asked to sign in again (not told about the network),
    // nothing was sent, and the keychain entry is gone
    assert_eq!(error.kind(), ErrorKind::SessionExpired, "{error}");
    assert_eq!(error.to_string(), "Your session expired. Sign in again.");
    assert_eq!(env.proxy.requests.lock().unwrap().len(), requests_before);
    assert!(store.is_empty());
    assert_eq!(app.session().await.unwrap(), SessionState::SignedOut);
    for error in [
        app.list_passkeys().await.unwrap_err(),
        app.rename_passkey("wac_1", "x").await.unwrap_err(),
        app.remove_passkey("wac_1").await.unwrap_err(),
    ] {
        assert_eq!(error.kind(), ErrorKind::SignInRequired, "{error}");
    }
}

#[tokio::test]
async fn without_a_refresh_token_a_refused_access_token_says_sign_in_again() {
    // Given a fresh-looking session without a refresh token that the broker refuses
    let env = Env::start().await;
    let (config, store, browser) = signed_in_without_refresh_token(&env).await;
    env.respond_when(
        |request| request.is_api(),
        json_response(
            401,
            &json!({"code": 16, "message": "the session has ended", "details": []}),
        ),
    );
    let app = client(config, store.clone(), browser, ClientOptions::default()).await;

    // When passkeys are listed
    let error = app.list_passkeys().await.unwrap_err();

    // Then the user is asked to sign in again, the keychain entry is gone
    assert_eq!(error.kind(), ErrorKind::SessionExpired, "{error}");
    assert_eq!(env.api_requests(), 1, "no retry without a new token");
    assert_eq!(env.refresh_grants(), 0);
    assert!(store.is_empty());
}

#[tokio::test]
async fn a_passkeys_api_address_without_the_route_is_named() {
    // Given an API address where a server answers 404 pages, not API errors
    let env = Env::start().await;
    let (app, _, store, _) = signed_in(&env).await;
    let before = store.snapshot();
    let is_broker_api = |request: &common::Request| request.target.starts_with("/api/v1/");
    for page in [
        http_response(404, "text/html", b"<h1>404 Not Found</h1>"),
        http_response(404, "text/plain", b""),
        json_response(404, &json!({"error": "Not Found", "status": 404})),
    ] {
        env.respond_when(is_broker_api, page);

        // When passkeys are listed, and sessions
        let passkeys = app.list_passkeys().await.unwrap_err();
        let sessions = app.list_sessions().await.unwrap_err();

        // Then each message names where its API was looked for, not a missing passkey
        for (error, api, route) in [
            (passkeys, "passkeys", "api/v1/webauthn/credentials"),
            (sessions, "sessions", "api/v1/sessions"),
        ] {
            assert_eq!(error.kind(), ErrorKind::Config, "{error}");
            assert_eq!(
                error.to_string(),
                format!(
                    "The {api} API was not found at {}{route}. Check the passkeys broker's address (api_url).",
                    env.api_url
                )
            );
        }
    }
    assert_eq!(store.snapshot(), before, "still signed in");

    // And a 404 in the API's own error shape still reads as "not found",
    // naming the list asked for and keeping the broker's words
    env.respond_when(
        is_broker_api,
        json_response(404, &json!({"code": 5, "message": "user not found"})),
    );
    let passkeys = app.list_passkeys().await.unwrap_err();
    let sessions = app.list_sessions().await.unwrap_err();
    for (error, list) in [(passkeys, "your passkeys"), (sessions, "your sessions")] {
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let message = error.to_string();
        assert!(message.contains(list), "{message}");
        assert!(message.contains("user not found"), "{message}");
        assert!(!message.contains("That passkey"), "{message}");
    }
}
