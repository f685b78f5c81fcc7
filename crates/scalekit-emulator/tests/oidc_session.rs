//! `/userinfo`, `/revoke`, `/oauth/introspect`, `/oidc/logout` and key
//! rotation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{
    location, oauth_error, verifier, verify_with_jwks, Env, ADMIN, CONFIDENTIAL, NATIVE, SECRET,
};
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

async fn userinfo(env: &Env, token: Option<&str>) -> reqwest::Response {
    let mut request = env.http.get(env.url("/userinfo"));
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn userinfo_needs_a_live_user_access_token() {
    let env = Env::start().await;
    let who = env.signed_in("ann@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let response = userinfo(&env, Some(tokens.access())).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["sub"], who.user.id.as_str());
    assert_eq!(body["email"], "ann@example.com");
    assert_eq!(body["email_verified"], true);
    let post = env
        .http
        .post(env.url("/userinfo"))
        .header(AUTHORIZATION, format!("Bearer {}", tokens.access()))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);

    for bad in [None, Some("garbage"), Some(tokens.id_token())] {
        let response = userinfo(&env, bad).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\""
        );
        oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
    let client_token = env.client_token().await;
    assert_eq!(
        userinfo(&env, Some(&client_token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn revoke(env: &Env, form: &[(&str, &str)]) -> reqwest::Response {
    env.http
        .post(env.url("/revoke"))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family() {
    let env = Env::start().await;
    let who = env.signed_in("bo@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let response = revoke(
        &env,
        &[
            ("client_id", NATIVE),
            ("token", tokens.refresh()),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    oauth_error(
        env.refresh(tokens.refresh()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_eq!(
        userinfo(&env, Some(tokens.access())).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // RFC 7009: unknown tokens are answered 200 as well.
    assert_eq!(
        revoke(&env, &[("client_id", NATIVE), ("token", "unknown")])
            .await
            .status(),
        StatusCode::OK
    );
    // But the client must be known and the token present.
    oauth_error(
        revoke(&env, &[("client_id", "nope"), ("token", "x")]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    oauth_error(
        revoke(&env, &[("client_id", NATIVE)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn revoking_an_access_token_and_other_clients_tokens() {
    let env = Env::start().await;
    let who = env.signed_in("cy@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    // Another client cannot revoke this client's tokens (answered 200, nothing happens).
    let other = revoke(
        &env,
        &[
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
            ("token", tokens.refresh()),
        ],
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(
        userinfo(&env, Some(tokens.access())).await.status(),
        StatusCode::OK
    );
    // The owner revokes the access token alone; the refresh token still works.
    let own = revoke(&env, &[("client_id", NATIVE), ("token", tokens.access())]).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(
        userinfo(&env, Some(tokens.access())).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(env.refresh(tokens.refresh()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn introspection_reports_active_and_inactive_tokens() {
    let env = Env::start().await;
    let who = env.signed_in("dee@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let introspect = |token: String| {
        let env = &env;
        async move {
            let response = env
                .http
                .post(env.url("/oauth/introspect"))
                .basic_auth(CONFIDENTIAL, Some(SECRET))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let access = introspect(tokens.access().to_owned()).await;
    assert_eq!(access["active"], true);
    assert_eq!(access["sub"], who.user.id.as_str());
    assert_eq!(access["client_id"], NATIVE);
    assert_eq!(
        introspect("garbage".into()).await,
        serde_json::json!({"active": false})
    );
    // The environment client sees the native client's refresh token (by
    // secret in the body too).
    let refresh = env
        .http
        .post(env.url("/oauth/introspect"))
        .form(&[
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
            ("token", tokens.refresh()),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(refresh["active"], true);
    assert_eq!(refresh["token_type"], "refresh_token");
    assert_eq!(refresh["client_id"], NATIVE);
    assert_eq!(refresh["sub"], who.user.id.as_str());
    env.refresh(tokens.refresh()).await;
    assert_eq!(
        introspect(tokens.refresh().to_owned()).await["active"],
        false
    );
    let unauthenticated = env
        .http
        .post(env.url("/oauth/introspect"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    oauth_error(unauthenticated, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn introspection_needs_a_confidential_clients_credentials() {
    // Given a live access and refresh token of the native client
    let env = Env::start().await;
    let who = env.signed_in("probe@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    for token in [tokens.access(), tokens.refresh()] {
        // When a local program introspects it with the public client id
        // alone, or with a wrong secret
        for form in [
            vec![("client_id", NATIVE), ("token", token)],
            vec![("client_id", CONFIDENTIAL), ("token", token)],
            vec![
                ("client_id", CONFIDENTIAL),
                ("client_secret", "wrong"),
                ("token", token),
            ],
        ] {
            let response = env
                .http
                .post(env.url("/oauth/introspect"))
                .form(&form)
                .send()
                .await
                .unwrap();
            // Then it learns nothing: 401 invalid_client
            oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        }
    }
    let discovery: Value = env.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["introspection_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_post", "client_secret_basic"])
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_redirects_only_to_registered_uris() {
    let env = Env::start().await;
    let who = env.signed_in("eve@example.com").await;
    let tokens = env.tokens_for(&who, &[]).await;
    let mut logout = env.url("/oidc/logout");
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", tokens.id_token())
        .append_pair(
            "post_logout_redirect_uri",
            "http://127.0.0.1:4444/signed-out",
        )
        .append_pair("state", "bye");
    let response = env
        .http
        .get(logout)
        .header(COOKIE, &who.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        location(&response),
        "http://127.0.0.1:4444/signed-out?state=bye"
    );
    let cleared = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with(&format!("{}=;", env.emulator.state().session_cookie_name()))
            || cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    // The session is over: authorize sends the browser to the login page.
    let after = env
        .get_with_cookie(env.authorize_url(&verifier(), &[]), &who)
        .await;
    assert_eq!(Url::parse(location(&after)).unwrap().path(), "/ui/login");

    // Unregistered or unattributable return addresses get a page, not a redirect.
    for query in [
        format!("client_id={NATIVE}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"),
        "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A4444%2Fsigned-out".to_owned(),
        "id_token_hint=forged&post_logout_redirect_uri=dev.passkeys.desktop%3A%2Fsigned-out"
            .to_owned(),
        String::new(),
    ] {
        let response = env
            .http
            .get(format!("{}oidc/logout?{query}", env.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.unwrap().contains("signed-out"));
    }
    let custom = env
        .http
        .get(format!("{}oidc/logout?client_id={NATIVE}&post_logout_redirect_uri=dev.passkeys.desktop%3A%2Fsigned-out", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&custom), "dev.passkeys.desktop:/signed-out");
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_verifying() {
    let env = Env::start().await;
    let who = env.signed_in("fay@example.com").await;
    let before = env.tokens_for(&who, &[]).await;
    let old_kid = jsonwebtoken::decode_header(before.id_token())
        .unwrap()
        .kid
        .unwrap();

    let rotate = |token: &'static str| {
        env.http
            .post(env.url("/_admin/keys/rotate"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
    };
    assert_eq!(
        rotate("wrong").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let response = rotate(ADMIN).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let new_kid = response.json::<Value>().await.unwrap()["active_kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_kid, old_kid);

    let jwks: Value = env.get_json("/keys").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    // Old tokens still verify and still work.
    verify_with_jwks(&env, before.id_token()).await;
    assert_eq!(env.userinfo(before.access()).await.status(), StatusCode::OK);
    // New tokens carry the new kid.
    let after = env.tokens_for(&who, &[]).await;
    assert_eq!(
        jsonwebtoken::decode_header(after.id_token())
            .unwrap()
            .kid
            .unwrap(),
        new_kid
    );
    verify_with_jwks(&env, after.access()).await;

    // Retiring the old key makes its tokens fail.
    env.emulator.state().keys.retire(&old_kid).await.unwrap();
    assert_eq!(
        env.userinfo(before.access()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(env.userinfo(after.access()).await.status(), StatusCode::OK);
}

/// Whether `who`'s browser session is still live (authorize asks "Continue
/// as" rather than showing the sign-in form).
async fn session_is_live(env: &Env, who: &oidc_support::SignedIn) -> bool {
    let response = env
        .get_with_cookie(env.authorize_url(&verifier(), &[]), who)
        .await;
    let login = env.base.join(location(&response)).unwrap();
    let page = env.get_with_cookie(login, who).await;
    page.text().await.unwrap().contains("id=\"continue-as\"")
}

#[tokio::test]
async fn a_logout_that_cannot_prove_its_session_asks_first() {
    let env = Env::start().await;
    let who = env.signed_in("gil@example.com").await;
    let other = env.signed_in("hal@example.com").await;
    let others_hint = env.tokens_for(&other, &[]).await;
    assert!(session_is_live(&env, &who).await);

    // A plain link to /oidc/logout (any web page can make one), a forged
    // hint, or a genuine ID token of another session, with a registered
    // return address: each gets "Sign out?", and the session lives on.
    for hint in [None, Some("forged"), Some(others_hint.id_token())] {
        let mut url = env.url("/oidc/logout");
        url.query_pairs_mut().append_pair(
            "post_logout_redirect_uri",
            "dev.passkeys.desktop:/signed-out",
        );
        url.query_pairs_mut().append_pair("client_id", NATIVE);
        if let Some(hint) = hint {
            url.query_pairs_mut().append_pair("id_token_hint", hint);
        }
        let response = env.get_with_cookie(url, &who).await;
        assert_eq!(response.status(), StatusCode::OK, "{hint:?}");
        assert!(response
            .headers()
            .get(SET_COOKIE)
            .is_some_and(|c| c.to_str().unwrap().starts_with("skemu_csrf=")));
        let html = response.text().await.unwrap();
        assert!(html.contains("Sign out?"), "{html}");
        assert!(html.contains("gil@example.com"), "{html}");
        assert!(session_is_live(&env, &who).await, "{hint:?} ended it");
    }

    // A cross-site form post without the page's CSRF token is refused.
    let forged = env
        .http
        .post(env.url("/oidc/logout"))
        .header(COOKIE, &who.cookie)
        .form(&[(
            "post_logout_redirect_uri",
            "dev.passkeys.desktop:/signed-out",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(session_is_live(&env, &who).await);

    // The person presses "Sign out": the session ends and the browser goes
    // to the registered return address.
    let page = env
        .get_with_cookie(
            env.url("/oidc/logout?client_id=ntvc_demo&post_logout_redirect_uri=dev.passkeys.desktop%3A%2Fsigned-out&state=s9"),
            &who,
        )
        .await;
    let csrf_cookie = page.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let mut form = Vec::new();
    for name in ["csrf", "post_logout_redirect_uri", "state", "client_id"] {
        form.push((
            name,
            scalekit_emulator::testing::hidden_field(&html, name).unwrap(),
        ));
    }
    let confirmed = env
        .http
        .post(env.url("/oidc/logout"))
        .header(COOKIE, format!("{}; {csrf_cookie}", who.cookie))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    assert_eq!(
        location(&confirmed),
        "dev.passkeys.desktop:/signed-out?state=s9"
    );
    assert!(!session_is_live(&env, &who).await);
    // The other person's session was never touched.
    assert!(session_is_live(&env, &other).await);
}
