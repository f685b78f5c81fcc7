//! `prompt` and `login_hint` on the way through the hosted login page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hosted_support;

use hosted_support::{location, param, Env};
use scalekit_emulator::testing;

#[tokio::test]
async fn prompt_none_without_session_is_login_required() {
    let env = Env::start().await;
    let response = env
        .http
        .get(env.authorize_url("quiet", &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    let target = location(&response, &env.base);
    assert_eq!(param(&target, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&target, "state").as_deref(), Some("quiet"));
}

#[tokio::test]
async fn prompt_login_forces_the_login_page_and_select_account_offers_a_choice() {
    let env = Env::start().await;
    env.sign_in("again@example.com", "s1").await;

    // With a session and no prompt, the native client's request asks first:
    // "Continue as … to Passkeys Desktop (demo)?"
    let (login, html) = env.login_page(&env.authorize_url("s2", &[])).await;
    assert!(
        html.contains("Continue as again@example.com to Passkeys Desktop (demo)?"),
        "{html}"
    );
    let form = [
        ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
        ("auth_request", param(&login, "auth_request").unwrap()),
    ];
    let continued = env.post_form("/ui/login/continue", &form).await;
    let callback = location(&continued, &env.base);
    assert_eq!(param(&callback, "state").as_deref(), Some("s2"));
    assert!(param(&callback, "code").is_some());

    // prompt=login shows the login page again.
    let forced = env
        .http
        .get(env.authorize_url("s3", &[("prompt", "login")]))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&forced, &env.base).path(), "/ui/login");

    // prompt=select_account offers "Continue as" and "Use another account".
    let (login, html) = env
        .login_page(&env.authorize_url("s4", &[("prompt", "select_account")]))
        .await;
    assert!(html.contains("Continue as again@example.com"), "{html}");
    assert!(html.contains("Use another account"));
    let form = [
        ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
        ("auth_request", param(&login, "auth_request").unwrap()),
    ];
    let chosen = env.post_form("/ui/login/continue", &form).await;
    let callback = location(&chosen, &env.base);
    assert_eq!(param(&callback, "state").as_deref(), Some("s4"));
    assert!(param(&callback, "code").is_some());

    // prompt=create uses sign-up wording.
    let (_, html) = env
        .login_page(&env.authorize_url("s5", &[("prompt", "create")]))
        .await;
    assert!(html.contains("Create your account"), "{html}");
}

/// Moves every session's authentication `seconds` into the past.
async fn authenticated_ago(env: &Env, seconds: i64) {
    env.emulator
        .state()
        .db
        .call(move |c| {
            c.execute(
                "UPDATE browser_sessions SET auth_time = auth_time - ?1",
                [seconds],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn continue_as_needs_select_account_and_a_recent_enough_session() {
    let env = Env::start().await;
    env.sign_in("fresh@example.com", "s1").await;

    // Given a prompt=login page: its form token cannot be used to continue
    // with the old session instead of signing in again.
    let (login, html) = env
        .login_page(&env.authorize_url("s2", &[("prompt", "login")]))
        .await;
    assert!(!html.contains("Continue as"), "{html}");
    let form = [
        ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
        ("auth_request", param(&login, "auth_request").unwrap()),
    ];
    let sneaked = env.post_form("/ui/login/continue", &form).await;
    let target = location(&sneaked, &env.base);
    assert_eq!(target.path(), "/ui/login", "{target}");
    assert!(param(&target, "code").is_none());

    // Given the session authenticated an hour ago, select_account with
    // max_age=300 offers no "Continue as" and continuing is refused too.
    authenticated_ago(&env, 3600).await;
    let (login, html) = env
        .login_page(&env.authorize_url("s3", &[("prompt", "select_account"), ("max_age", "300")]))
        .await;
    assert!(!html.contains("Continue as"), "{html}");
    let form = [
        ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
        ("auth_request", param(&login, "auth_request").unwrap()),
    ];
    let refused = env.post_form("/ui/login/continue", &form).await;
    assert_eq!(location(&refused, &env.base).path(), "/ui/login");

    // With a max_age the session meets, "Continue as" still works.
    let (login, html) = env
        .login_page(&env.authorize_url("s4", &[("prompt", "select_account"), ("max_age", "7200")]))
        .await;
    assert!(html.contains("Continue as fresh@example.com"), "{html}");
    let form = [
        ("csrf", testing::hidden_field(&html, "csrf").unwrap()),
        ("auth_request", param(&login, "auth_request").unwrap()),
    ];
    let chosen = env.post_form("/ui/login/continue", &form).await;
    let callback = location(&chosen, &env.base);
    assert_eq!(param(&callback, "state").as_deref(), Some("s4"));
    assert!(param(&callback, "code").is_some());
}
