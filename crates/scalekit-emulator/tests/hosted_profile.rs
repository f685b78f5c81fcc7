//! `/ui/profile/passkeys` and the passkey endpoints over HTTP (the WebAuthn
//! ceremonies themselves run in a real browser: see `browser_passkeys.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hosted_support;

use hosted_support::{hidden_fields, location, param, Env};
use reqwest::StatusCode;
use scalekit_emulator::{db, testing};
use serde_json::json;

/// Signs in, opens the profile page and returns its CSRF token and the user id.
async fn open_profile(env: &Env, email: &str) -> (String, String) {
    env.sign_in(email, "s").await;
    let html = env.page(env.url("/ui/profile/passkeys")).await;
    assert!(html.contains(email), "{html}");
    let token = testing::page_csrf_token(&html).expect("data-csrf");
    let email = email.to_owned();
    let user = env
        .emulator
        .state()
        .db
        .call(move |c| db::user_by_email(c, &email))
        .await
        .unwrap()
        .unwrap();
    (token, user.id)
}

/// Stores a passkey row for `user_id` as registration would.
async fn stored_passkey(env: &Env, user_id: &str, credential_id: &str) -> String {
    let new = db::NewPasskey {
        user_agent: json!({"browser": "Chrome", "os": "Linux"}),
        client_info: json!({"ip": "127.0.0.1", "city": "Local"}),
        ..testing::synced_platform_passkey(
            user_id,
            credential_id,
            "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
            "Google Password Manager",
        )
    };
    testing::store_passkey(&env.emulator, new).await.unwrap().id
}

/// `POST /ui/profile/passkeys/register/start` with the profile page's CSRF token.
async fn start_registration(env: &Env, csrf_token: &str) -> reqwest::Response {
    env.http
        .post(env.url("/ui/profile/passkeys/register/start"))
        .header("x-csrf-token", csrf_token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn profile_without_session_redirects_to_login_and_back() {
    let env = Env::start().await;
    let response = env
        .http
        .get(env.url("/ui/profile/passkeys"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let login = location(&response, &env.base);
    assert_eq!(login.path(), "/ui/login");
    assert_eq!(
        param(&login, "next").as_deref(),
        Some("/ui/profile/passkeys")
    );

    // Signing in from there comes back to the page.
    let html = env.page(login).await;
    assert_eq!(
        testing::hidden_field(&html, "next").as_deref(),
        Some("/ui/profile/passkeys")
    );
    let form = [
        ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
        ("next", "/ui/profile/passkeys".into()),
        ("email", "back@example.com".into()),
    ];
    let sent = env.post_form("/ui/login/email", &form).await;
    let code_page = env.page(location(&sent, &env.base)).await;
    let code = testing::latest_code(&env.http, &env.mailbox, "back@example.com")
        .await
        .unwrap()
        .unwrap();
    let mut form = hidden_fields(&code_page, &["csrf", "challenge", "next"]);
    form.push(("code", code));
    let verified = env.post_form("/ui/login/verify", &form).await;
    assert_eq!(
        location(&verified, &env.base).path(),
        "/ui/profile/passkeys"
    );
    let page = env.page(env.url("/ui/profile/passkeys")).await;
    assert!(page.contains("No passkeys yet") && page.contains("Add a passkey"));
}

#[tokio::test]
async fn passkeys_switched_off_hides_the_button_and_refuses_the_endpoints() {
    let env = Env::start().await;
    let (profile_token, _) = open_profile(&env, "off@example.com").await;
    env.set_passkeys(false).await;

    let fresh = env.other_browser();
    let login = fresh
        .get(env.url("/ui/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("Continue with email"));
    assert!(!login.contains("Continue with Passkey") && !login.contains("login.js"));
    let profile = env.page(env.url("/ui/profile/passkeys")).await;
    assert!(!profile.contains("add-passkey") && profile.contains("Passkeys are turned off"));

    let login_token = testing::page_csrf_token(&login).unwrap();
    let start = fresh
        .post(env.url("/ui/login/passkey/start"))
        .header("x-csrf-token", login_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::FORBIDDEN);
    let register = start_registration(&env, &profile_token).await;
    assert_eq!(register.status(), StatusCode::FORBIDDEN);
    assert!(register.text().await.unwrap().contains("turned off"));

    // Switched back on, both endpoints hand out options.
    env.set_passkeys(true).await;
    let register = start_registration(&env, &profile_token).await;
    assert_eq!(register.status(), StatusCode::OK);
    let body: serde_json::Value = register.json().await.unwrap();
    let selection = &body["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["userVerification"], "preferred");
    assert!(body["ceremony"].as_str().unwrap().starts_with("wcr_"));
}

#[tokio::test]
async fn rename_and_remove_check_the_name_ownership_and_csrf() {
    let env = Env::start().await;
    let (token, user_id) = open_profile(&env, "owner@example.com").await;
    let mine = stored_passkey(&env, &user_id, "AQID").await;
    let page = env.page(env.url("/ui/profile/passkeys")).await;
    assert!(page.contains("Google Password Manager") && page.contains("Chrome on Linux, Local"));

    let patch = |id: &str, name: String, token: Option<&str>| {
        let mut request = env
            .http
            .patch(env.url(&format!("/ui/profile/passkeys/{id}")))
            .json(&json!({"display_name": name}));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    let max = scalekit_wire::DISPLAY_NAME_MAX_CHARS;
    let too_long = patch(&mine, "a".repeat(max + 1), Some(&token))
        .await
        .unwrap();
    assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);
    assert!(too_long
        .text()
        .await
        .unwrap()
        .contains(&format!("1 to {max}")));
    assert_eq!(
        patch(&mine, "   ".into(), Some(&token))
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        patch(&mine, "Work laptop".into(), None)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        patch(&mine, "Work laptop".into(), Some("forged"))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let malformed = env
        .http
        .patch(env.url(&format!("/ui/profile/passkeys/{mine}")))
        .header("x-csrf-token", &token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let longest = "a".repeat(scalekit_wire::DISPLAY_NAME_MAX_CHARS);
    let renamed = patch(&mine, longest, Some(&token)).await.unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed = patch(&mine, "  Work laptop ".into(), Some(&token))
        .await
        .unwrap();
    let body: serde_json::Value = renamed.json().await.unwrap();
    assert_eq!(body["passkey"]["display_name"], "Work laptop");
    assert!(env
        .page(env.url("/ui/profile/passkeys"))
        .await
        .contains("Work laptop"));

    // Someone else's passkey is invisible.
    let other_user = env
        .emulator
        .state()
        .db
        .call(|c| db::find_or_create_user_by_email(c, "other@example.com"))
        .await
        .unwrap();
    let theirs = stored_passkey(&env, &other_user.id, "BAUG").await;
    assert_eq!(
        patch(&theirs, "Mine now".into(), Some(&token))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let delete = |id: String| {
        env.http
            .delete(env.url(&format!("/ui/profile/passkeys/{id}")))
            .header("x-csrf-token", &token)
            .send()
    };
    assert_eq!(
        delete(theirs).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let no_csrf = env
        .http
        .delete(env.url(&format!("/ui/profile/passkeys/{mine}")))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert_eq!(delete(mine.clone()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(delete(mine).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert!(env
        .page(env.url("/ui/profile/passkeys"))
        .await
        .contains("No passkeys yet"));

    // Without a session the JSON endpoints answer 401.
    let stranger = env
        .other_browser()
        .delete(env.url("/ui/profile/passkeys/wac_x"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn passkey_login_finish_refuses_unknown_ceremonies_and_garbage() {
    let env = Env::start().await;
    let html = env.page(env.url("/ui/login")).await;
    let token = testing::page_csrf_token(&html).unwrap();
    let post = |path: &str, body: serde_json::Value| {
        env.http
            .post(env.url(path))
            .header("x-csrf-token", &token)
            .json(&body)
            .send()
    };
    let start = post("/ui/login/passkey/start", json!({})).await.unwrap();
    assert_eq!(start.status(), StatusCode::OK);
    let options: serde_json::Value = start.json().await.unwrap();
    assert_eq!(
        options["options"]["publicKey"]["userVerification"],
        "preferred"
    );
    assert!(options["options"]["publicKey"]["challenge"].is_string());

    let credential = json!({"id": "AQID", "rawId": "AQID", "type": "public-key",
        "response": {"authenticatorData": "AA", "clientDataJSON": "AA", "signature": "AA", "userHandle": null}});
    let unknown = post(
        "/ui/login/passkey/finish",
        json!({"ceremony": "wcr_nope", "credential": credential}),
    )
    .await
    .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let ceremony = options["ceremony"].as_str().unwrap();
    let forged = post(
        "/ui/login/passkey/finish",
        json!({"ceremony": ceremony, "credential": credential}),
    )
    .await
    .unwrap();
    assert!(forged.status().is_client_error(), "{}", forged.status());
    // The ceremony was used up by the failed attempt.
    let again = post(
        "/ui/login/passkey/finish",
        json!({"ceremony": ceremony, "credential": credential}),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let garbage = post("/ui/login/passkey/finish", json!({"ceremony": 5}))
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = garbage.json().await.unwrap();
    assert!(body["error"].is_string());
}
