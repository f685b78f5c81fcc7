//! The hosted sign-in pages over HTTP: email code, magic link, prompts, the
//! session cookie, CSRF and malformed input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hosted_support;

use hosted_support::{claims, exchange, location, param, set_cookie, Env};
use reqwest::StatusCode;
use scalekit_emulator::testing;

#[tokio::test]
async fn login_page_renders_with_strict_headers_and_escaped_hint() {
    let env = Env::start().await;
    let authorize = env.authorize_url("s1", &[("login_hint", "ann+<b>@example.com")]);
    let response = env.http.get(authorize).send().await.unwrap();
    let login = location(&response, &env.base);
    let page = env.http.get(login).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(set_cookie(&page, "skemu_csrf")
        .unwrap()
        .contains("HttpOnly"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in"));
    assert!(
        html.contains("value=\"ann+&lt;b&gt;@example.com\""),
        "login_hint pre-filled and escaped"
    );
    assert!(html.contains("Continue with Passkey"));
    assert!(html.contains("autocomplete=\"username webauthn\""));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(testing::hidden_field(&html, "csrf").is_some());

    let css = env
        .http
        .get(env.url("/ui/assets/hosted.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let missing = env
        .http
        .get(env.url("/ui/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn email_code_sign_up_issues_a_code_and_tokens_with_conn_email() {
    // Given a new address, when the person signs up with the emailed code
    let env = Env::start().await;
    let callback = env.sign_in("new.person@example.com", "state-42").await;

    // Then the app's callback gets a code and its state back
    assert_eq!(
        callback.as_str().split('?').next(),
        Some(hosted_support::REDIRECT)
    );
    assert_eq!(param(&callback, "state").as_deref(), Some("state-42"));
    let code = param(&callback, "code").expect("code");

    // And the code buys tokens for a user signed in by email
    let tokens = exchange(&env, &code).await;
    let id_token = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["email"], "new.person@example.com");
    assert_eq!(id_token["amr"], serde_json::json!(["conn_email"]));
    assert!(id_token["sub"].as_str().unwrap().starts_with("usr_"));

    // And the mailbox has the message, newest first
    let messages = testing::mailbox(&env.http, &env.mailbox, "NEW.person@example.com")
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    let code = message.code.as_deref().unwrap();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    assert!(message.body.contains(code) && message.subject.contains(code));
    assert!(message
        .link
        .as_deref()
        .unwrap()
        .contains("/ui/magic?token="));
}

#[tokio::test]
async fn session_cookie_is_http_only_lax_and_root_scoped() {
    let env = Env::start().await;
    let authorize = env.authorize_url("s", &[]);
    let (_, html) = env.login_page(&authorize).await;
    let sent = env.submit_email(&html, "cookie@example.com").await;
    let code_page = env.page(location(&sent, &env.base)).await;
    let code = testing::latest_code(&env.http, &env.mailbox, "cookie@example.com")
        .await
        .unwrap()
        .unwrap();
    let verified = env.submit_code(&code_page, &code).await;
    let cookie = set_cookie(&verified, &session_cookie(&env)).expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http base URL: {cookie}");
}

/// Submits the email form of a fresh authorize request (`prompt=login`, so a
/// session from an earlier step does not skip the page); returns the code page.
async fn request_code(env: &Env, email: &str) -> String {
    let (_, html) = env
        .login_page(&env.authorize_url("s", &[("prompt", "login")]))
        .await;
    let sent = env.submit_email(&html, email).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    env.page(location(&sent, &env.base)).await
}

#[tokio::test]
async fn wrong_codes_are_counted_and_the_sixth_attempt_is_refused() {
    let env = Env::start().await;
    let page = request_code(&env, "typo@example.com").await;
    let right = testing::latest_code(&env.http, &env.mailbox, "typo@example.com")
        .await
        .unwrap()
        .unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for remaining in (1..=4).rev() {
        let response = env.submit_code(&page, wrong).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let text = response.text().await.unwrap();
        let expected = format!(
            "{remaining} attempt{} left",
            if remaining == 1 { "" } else { "s" }
        );
        assert!(text.contains(&expected), "{expected}: {text}");
    }
    let fifth = env.submit_code(&page, wrong).await;
    assert_eq!(fifth.status(), StatusCode::BAD_REQUEST);
    assert!(fifth.text().await.unwrap().contains("Too many"));
    // The sixth attempt is refused even with the right code.
    let sixth = env.submit_code(&page, &right).await;
    assert_eq!(sixth.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(&sixth, &session_cookie(&env)).is_none());
    assert!(sixth.text().await.unwrap().contains("Too many"));
}

#[tokio::test]
async fn magic_link_signs_in_once_and_not_after_expiry() {
    let env = Env::start().await;
    request_code(&env, "link@example.com").await;
    let link = testing::latest_link(&env.http, &env.mailbox, "link@example.com")
        .await
        .unwrap()
        .unwrap();

    let callback = testing::follow_magic_link(&env.http, &link).await.unwrap();
    assert!(param(&callback, "code").is_some(), "{callback}");
    let tokens = exchange(&env, &param(&callback, "code").unwrap()).await;
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["amr"],
        serde_json::json!(["conn_magiclink"])
    );

    let replay = env.other_browser().get(&link).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay
        .text()
        .await
        .unwrap()
        .contains("expired or was already used"));

    // A link whose challenge has expired is refused.
    request_code(&env, "late@example.com").await;
    let late = testing::latest_link(&env.http, &env.mailbox, "late@example.com")
        .await
        .unwrap()
        .unwrap();
    env.emulator
        .state()
        .db
        .call(|c| {
            Ok(c.execute(
                "UPDATE email_challenges SET expires_at = 0 WHERE email = 'late@example.com'",
                [],
            )?)
        })
        .await
        .unwrap();
    let expired = env.other_browser().get(&late).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_forms_get_a_400_page() {
    let env = Env::start().await;
    let (_, html) = env.login_page(&env.authorize_url("s", &[])).await;
    let csrf = testing::hidden_field(&html, "csrf").unwrap();
    let auth_request = testing::hidden_field(&html, "auth_request").unwrap();
    let post = |body: String| {
        env.http
            .post(env.url("/ui/login/email"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let cases = [
        format!("csrf={csrf}&auth_request={auth_request}&email=not-an-email"),
        format!("csrf={csrf}&auth_request={auth_request}"),
        format!("csrf={csrf}&auth_request={auth_request}&email=a%40b.c&next=%2F%2Fevil.example"),
        format!("csrf={csrf}&auth_request={auth_request}&email=a%40b.c&email=d%40e.f"),
        format!("csrf={csrf}&auth_request=unknown&email=a%40b.c"),
    ];
    for body in cases {
        let response = post(body.clone()).await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::FORBIDDEN,
            "{body}: {status}"
        );
        assert!(text.contains("<h1>"), "an HTML page for {body}");
    }
    let invalid = post(format!(
        "csrf={csrf}&auth_request={auth_request}&email=not-an-email"
    ))
    .await
    .unwrap();
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    assert!(invalid
        .text()
        .await
        .unwrap()
        .contains("Enter a valid email address"));

    let page = request_code(&env, "form@example.com").await;
    for bad in ["abc", "1234567", "12 34", ""] {
        assert_eq!(
            env.submit_code(&page, bad).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad:?}"
        );
    }
    let no_token = env.http.get(env.url("/ui/magic")).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::BAD_REQUEST);
    let bad_next = env
        .http
        .get(env.url("/ui/login?next=https://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_next.status(), StatusCode::BAD_REQUEST);
    let bad_mailbox = env
        .http
        .get(env.mailbox.messages_url(Some("nope")))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_mailbox.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let env = Env::start().await;
    let (_, html) = env.login_page(&env.authorize_url("s", &[])).await;
    let auth_request = testing::hidden_field(&html, "auth_request").unwrap();
    let email = ("email", "csrf@example.com".to_owned());
    let cases = [
        vec![("auth_request", auth_request.clone()), email.clone()],
        vec![
            ("csrf", "forged".to_owned()),
            ("auth_request", auth_request.clone()),
            email.clone(),
        ],
        vec![
            ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
            email.clone(),
        ],
    ];
    for form in cases {
        let response = env.post_form("/ui/login/email", &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{form:?}");
    }
    // A browser without the CSRF cookie cannot replay someone else's token.
    let form = [
        ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
        ("auth_request", auth_request),
        email,
    ];
    let stranger = env
        .other_browser()
        .post(env.url("/ui/login/email"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    assert!(
        testing::mailbox(&env.http, &env.mailbox, "csrf@example.com")
            .await
            .unwrap()
            .is_empty()
    );
}

fn session_cookie(env: &Env) -> String {
    env.emulator.state().session_cookie_name().to_owned()
}
