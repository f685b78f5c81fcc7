//! `/oauth/authorize`: client and redirect URI checks (error pages, never a
//! redirect), errors sent back to the client, sessions, `prompt` and
//! `max_age`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{location, verifier, Env, NATIVE, REDIRECT};
use reqwest::StatusCode;
use scalekit_emulator::testing;
use url::Url;

fn query(url: &Url) -> std::collections::HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

async fn assert_error_page(env: &Env, raw_query: &str) {
    let response = env
        .http
        .get(format!("{}oauth/authorize?{raw_query}", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{raw_query}");
    assert!(
        response.headers().get("location").is_none(),
        "{raw_query} redirected"
    );
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.unwrap();
    assert!(page.contains("error-message"));
}

#[tokio::test]
async fn bad_client_or_redirect_uri_shows_an_error_page() {
    let env = Env::start().await;
    let challenge = testing::pkce_s256(&verifier());
    let rest = format!(
        "response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=S256"
    );
    let cases = [
        // Given no client, an unknown client, or a redirect URI that is not registered
        format!("redirect_uri={REDIRECT}&{rest}"),
        format!("client_id=ntvc_unknown&redirect_uri={REDIRECT}&{rest}"),
        format!("client_id={NATIVE}&{rest}"),
        format!("client_id={NATIVE}&redirect_uri=https%3A%2F%2Fevil.example%2Fcallback&{rest}"),
        format!(
            "client_id={NATIVE}&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback%3Fx%3D1&{rest}"
        ),
        format!("client_id={NATIVE}&redirect_uri=http%3A%2F%2Flocalhost%3A1%2Fcallback&{rest}"),
        format!("client_id={NATIVE}&redirect_uri=dev.passkeys.desktop%3A%2Fother&{rest}"),
        format!("client_id=skc_demo&redirect_uri={REDIRECT}&{rest}"),
        // Repeated parameters are malformed
        format!("client_id={NATIVE}&client_id={NATIVE}&redirect_uri={REDIRECT}&{rest}"),
    ];
    for case in cases {
        // Then an error page, never a redirect
        assert_error_page(&env, &case).await;
    }
}

#[tokio::test]
async fn request_errors_redirect_back_with_state() {
    let env = Env::start().await;
    let challenge = testing::pkce_s256(&verifier());
    let base = format!("client_id={NATIVE}&redirect_uri={REDIRECT}&state=xyz");
    let cases = [
        format!("{base}&response_type=code&scope=openid"),
        format!("{base}&response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=plain"),
        format!("{base}&response_type=code&scope=openid&code_challenge={challenge}"),
        format!("{base}&response_type=token&scope=openid&code_challenge={challenge}&code_challenge_method=S256"),
        format!("{base}&response_type=code&scope=openid+admin&code_challenge={challenge}&code_challenge_method=S256"),
        format!("{base}&response_type=code&scope=email&code_challenge={challenge}&code_challenge_method=S256"),
        format!("{base}&response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=S256&prompt=bogus"),
        format!("{base}&response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=S256&max_age=-1"),
        format!("{base}&response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=S256&max_age=1.5"),
        format!("{base}&response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=S256&max_age=soon"),
    ];
    for case in cases {
        let response = env
            .http
            .get(format!("{}oauth/authorize?{case}", env.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{case}");
        let target = Url::parse(location(&response)).unwrap();
        assert!(target.as_str().starts_with(REDIRECT), "{target}");
        let params = query(&target);
        assert_eq!(params["error"], "invalid_request", "{case}");
        assert!(!params["error_description"].is_empty());
        assert_eq!(params["state"], "xyz");
        assert!(!params.contains_key("code"));
    }
}

#[tokio::test]
async fn without_a_session_the_browser_goes_to_the_login_page() {
    let env = Env::start().await;
    let verifier = verifier();
    for (extra, signup) in [
        (vec![], false),
        (vec![("prompt", "create")], true),
        (vec![("login_hint", "a@example.com")], false),
    ] {
        let response = env
            .http
            .get(env.authorize_url(&verifier, &extra))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let target = Url::parse(location(&response)).unwrap();
        assert_eq!(target.path(), "/ui/login");
        assert!(target.as_str().starts_with(env.base.as_str()));
        let params = query(&target);
        assert!(params["auth_request"].len() > 10);
        assert_eq!(
            params.get("mode").map(String::as_str),
            signup.then_some("signup")
        );
    }
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let env = Env::start().await;
    let response = env
        .http
        .get(env.authorize_url(&verifier(), &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    let target = Url::parse(location(&response)).unwrap();
    assert!(target.as_str().starts_with(REDIRECT));
    let params = query(&target);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "st-1");
}

#[tokio::test]
async fn a_native_client_gets_a_code_from_a_live_session_only_after_continue() {
    let env = Env::start().await;
    let who = env.signed_in("ann@example.com").await;
    // Given a browser session, a local program that opens an authorize URL
    // for the public client gets the "Continue as" page, not a code
    // (RFC 8252 §8.6)
    let response = env
        .get_with_cookie(env.authorize_url(&verifier(), &[]), &who)
        .await;
    let login = env.base.join(location(&response)).unwrap();
    assert_eq!(login.path(), "/ui/login");
    assert!(!login.query_pairs().any(|(k, _)| k == "code"));
    let page = env.get_with_cookie(login.clone(), &who).await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Continue as ann@example.com to Passkeys Desktop (demo)?"),
        "{html}"
    );
    // and the code comes only once the person presses Continue
    let code = env.code_for(&who, &verifier(), &[]).await;
    assert!(code.len() >= 43);
    // prompt=none cannot skip the question: interaction_required
    let response = env
        .get_with_cookie(env.authorize_url(&verifier(), &[("prompt", "none")]), &who)
        .await;
    let target = Url::parse(location(&response)).unwrap();
    assert!(target.as_str().starts_with(REDIRECT), "{target}");
    let params: std::collections::HashMap<_, _> = target.query_pairs().into_owned().collect();
    assert_eq!(params["error"], "interaction_required");
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], env.base.as_str().trim_end_matches('/'));
    assert!(!params.contains_key("code"));
    // prompt=login / select_account / create show the login page anyway
    for prompt in ["login", "select_account", "create"] {
        let response = env
            .get_with_cookie(env.authorize_url(&verifier(), &[("prompt", prompt)]), &who)
            .await;
        let target = Url::parse(location(&response)).unwrap();
        assert_eq!(target.path(), "/ui/login", "{prompt}");
    }
    // An unknown cookie is no session
    let mut stranger = env.signed_in("bob@example.com").await;
    stranger.cookie = format!("{}=forged", env.emulator.state().session_cookie_name());
    let response = env
        .get_with_cookie(env.authorize_url(&verifier(), &[]), &stranger)
        .await;
    assert_eq!(Url::parse(location(&response)).unwrap().path(), "/ui/login");
}

#[tokio::test]
async fn a_confidential_client_gets_a_code_from_a_live_session_at_once() {
    // Given a web app with a secret and a registered https callback
    let mut config = scalekit_emulator::Config::for_tests();
    config
        .clients
        .push(scalekit_emulator::config::ClientConfig {
            id: "skc_web".into(),
            kind: scalekit_emulator::config::ClientKind::Confidential,
            secret: Some(scalekit_emulator::secret::ClientSecret::new("web-secret")),
            redirect_uris: vec!["https://app.example/callback".into()],
            post_logout_redirect_uris: Vec::new(),
            allow_any_loopback_port: false,
            name: "Web app".into(),
        });
    let env = Env::start_with(config).await;
    let who = env.signed_in("wes@example.com").await;
    // When the browser, signed in, follows its authorize link
    let url = testing::authorize_url(
        &env.base,
        "skc_web",
        "https://app.example/callback",
        "w",
        &verifier(),
        &[],
    )
    .unwrap();
    let response = env.get_with_cookie(url, &who).await;
    // Then the code comes straight away (its redirect URI proves the client)
    let target = location(&response);
    assert!(
        target.starts_with("https://app.example/callback?code="),
        "{target}"
    );
}

/// Moves the session's authentication `seconds` into the past.
async fn authenticated_ago(env: &Env, session_id: &str, seconds: i64) {
    let id = session_id.to_owned();
    env.emulator
        .state()
        .db
        .call(move |c| {
            c.execute(
                "UPDATE browser_sessions SET auth_time = auth_time - ?2 WHERE id = ?1",
                (&id, seconds),
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn max_age_300_with_a_recent_session_answers_with_its_auth_time() {
    // Given a browser that signed in just now
    let env = Env::start().await;
    let who = env.signed_in("recent@example.com").await;
    // When the app asks with max_age=300
    let tokens = env.tokens_for(&who, &[("max_age", "300")]).await;
    // Then it gets a code at once and the ID token says when the user authenticated
    let claims = oidc_support::verify_with_jwks(&env, tokens.id_token()).await;
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    let iat = claims["iat"].as_i64().unwrap();
    assert!(auth_time <= iat && iat - auth_time <= 300, "{claims}");
}

#[tokio::test]
async fn max_age_0_or_a_stale_session_forces_the_login_page() {
    let env = Env::start().await;
    let who = env.signed_in("stale@example.com").await;
    let path_for = |response: &reqwest::Response| Url::parse(location(response)).unwrap();

    // max_age=0 always asks again, even right after a sign-in
    let response = env
        .get_with_cookie(env.authorize_url(&verifier(), &[("max_age", "0")]), &who)
        .await;
    assert_eq!(path_for(&response).path(), "/ui/login");

    // Given the session authenticated 1000 seconds ago
    authenticated_ago(&env, &who.session_id, 1000).await;
    // Then max_age=300 is a login, max_age=5000 and no max_age are not
    let response = env
        .get_with_cookie(env.authorize_url(&verifier(), &[("max_age", "300")]), &who)
        .await;
    assert_eq!(path_for(&response).path(), "/ui/login");
    env.code_for(&who, &verifier(), &[("max_age", "5000")])
        .await;
    let tokens = env.tokens_for(&who, &[]).await;
    let claims = oidc_support::verify_with_jwks(&env, tokens.id_token()).await;
    assert!(claims["iat"].as_i64().unwrap() - claims["auth_time"].as_i64().unwrap() >= 1000);

    // And with prompt=none a stale session is login_required
    let response = env
        .get_with_cookie(
            env.authorize_url(&verifier(), &[("max_age", "300"), ("prompt", "none")]),
            &who,
        )
        .await;
    let target = path_for(&response);
    assert!(target.as_str().starts_with(REDIRECT), "{target}");
    let params = query(&target);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "st-1");
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn any_loopback_port_and_custom_scheme_redirects_are_accepted() {
    let env = Env::start().await;
    let who = env.signed_in("cy@example.com").await;
    for redirect in [
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1/callback",
        "dev.passkeys.desktop:/callback",
    ] {
        let url =
            testing::authorize_url(&env.base, NATIVE, redirect, "s", &verifier(), &[]).unwrap();
        let response = env.get_with_cookie(url.clone(), &who).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            env.base.join(location(&response)).unwrap().path(),
            "/ui/login"
        );
        let target = testing::authorize_signed_in(&env.http, &url, &env.base, Some(&who.cookie))
            .await
            .unwrap();
        assert!(
            target.as_str().starts_with(&format!("{redirect}?code=")),
            "{target}"
        );
    }
}

#[tokio::test]
async fn hosted_email_sign_in_completes_the_authorization() {
    // Given the hosted login pages and the dev mailbox
    let env = Env::start().await;
    let browser = testing::browser_client().unwrap();
    let verifier = verifier();
    let authorize = env.authorize_url(&verifier, &[("nonce", "n-1")]);
    // When a person signs in with an email code
    let callback =
        testing::sign_in_with_email_code(&browser, &authorize, "dee@example.com", &env.mailbox)
            .await
            .unwrap();
    // Then the app's callback gets a code that exchanges for tokens
    assert!(callback.as_str().starts_with(REDIRECT));
    let params = query(&callback);
    assert_eq!(params["state"], "st-1");
    let response = env.exchange(&params["code"], &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let claims = oidc_support::verify_with_jwks(&env, body["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["email"], "dee@example.com");
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["amr"], serde_json::json!(["conn_email"]));
}
