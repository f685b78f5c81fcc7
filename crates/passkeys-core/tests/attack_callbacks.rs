//! Forged authorization responses (RFC 8252 §8.9, RFC 9700 §4.5/§4.7):
//! through the loopback and through deep links. Every one is refused with a
//! clear error; a sign-in in progress stays pending and still completes with
//! the real answer; nothing is exchanged or stored for a forgery.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{deep_link, login, query, Env, Pending, CLIENT_ID, DEEP_LINK};
use passkeys_core::{DeepLinkAction, ErrorKind, RedirectMode, SessionState};
use url::Url;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn loopback_callback_without_state_is_ignored() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;

    let (status, page) = get(&pending.loopback("code=attacker-code")).await;

    assert_eq!(status, 400);
    assert!(page.contains("no state parameter"), "{page}");
    pending.assert_still_pending();
    pending.assert_nothing_stored().await;
    pending.complete_through_loopback(&env).await;
    assert_eq!(env.code_grants(), 1, "only the real code was exchanged");
}

#[tokio::test]
async fn loopback_callback_with_a_wrong_state_is_ignored() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let wrong = format!("{}x", pending.state());

    for query in [
        format!("code=attacker-code&state={wrong}"),
        "code=attacker-code&state=".to_string(),
        format!("error=access_denied&state={wrong}"),
    ] {
        let (status, page) = get(&pending.loopback(&query)).await;
        assert_eq!(status, 400, "{query}");
        assert!(page.contains("does not belong to the sign-in"), "{page}");
    }

    pending.assert_still_pending();
    pending.assert_nothing_stored().await;
    pending.complete_through_loopback(&env).await;
    assert_eq!(env.code_grants(), 1);
}

#[tokio::test]
async fn replayed_state_from_an_earlier_sign_in_is_refused() {
    // The first sign-in completes through a deep link; its callback (state and
    // code) is captured and replayed into the second sign-in.
    let env = Env::start().await;
    let first = Pending::start(&env, deep_link()).await;
    let earlier = first.real_callback(&env).await;
    first
        .client
        .handle_deep_link(earlier.as_str())
        .await
        .unwrap();
    first.task.await.unwrap().unwrap();

    let (client, store, browser) = (first.client, first.store, first.browser);
    client.sign_out().await.unwrap();
    let second = Pending::again(client, store, browser).await;
    let error = second
        .client
        .handle_deep_link(earlier.as_str())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("does not belong to the sign-in"),
        "{error}"
    );
    second.assert_still_pending();
    second.assert_nothing_stored().await;
    second.complete_through_deep_link(&env).await;
    assert_eq!(
        env.code_grants(),
        2,
        "the replayed code was never exchanged"
    );
}

#[tokio::test]
async fn error_callback_ends_the_sign_in_with_the_providers_message() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let query = format!(
        "error=access_denied&error_description=%3Cb%3EThe+user+said+no%3C%2Fb%3E&state={}",
        pending.state()
    );

    let (status, page) = get(&pending.loopback(&query)).await;
    let error = pending.task.await.unwrap().unwrap_err();

    assert_eq!(status, 400);
    assert!(
        page.contains("&lt;b&gt;The user said no&lt;/b&gt;"),
        "shown escaped: {page}"
    );
    assert_eq!(error.kind(), ErrorKind::SignInFailed);
    assert!(error.to_string().contains("The user said no"), "{error}");
    assert!(error.to_string().contains("access_denied"), "{error}");
    assert!(pending.store.is_empty());
    assert_eq!(env.code_grants(), 0);
}

#[tokio::test]
async fn injected_code_from_another_session_is_refused_by_pkce() {
    // The attacker logs in on their own authorization request (their own
    // PKCE verifier) and injects the resulting code, even with our state.
    let env = Env::start().await;
    let pending = Pending::start(&env, deep_link()).await;
    let attacker_request = scalekit_emulator::testing::authorize_url(
        &env.base_url,
        CLIENT_ID,
        DEEP_LINK,
        "attacker-state",
        "attacker-verifier-attacker-verifier-attacker-verifier",
        &[("nonce", "attacker-nonce")],
    )
    .unwrap();
    let attacker_callback = login(&attacker_request, &env.mailbox).await.unwrap();
    let attacker_code = query(&attacker_callback)["code"].clone();

    // (with the environment's `iss`: it is no secret)
    let injected = format!(
        "{DEEP_LINK}?code={attacker_code}&state={}&iss={}",
        pending.state(),
        env.base_url.as_str().trim_end_matches('/')
    );
    assert_eq!(
        pending.client.handle_deep_link(&injected).await.unwrap(),
        DeepLinkAction::CompletedSignIn
    );
    let error = pending.task.await.unwrap().unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Server, "{error}");
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert!(!error.to_string().contains(&attacker_code));
    assert_eq!(env.code_grants(), 1);
    assert!(pending.store.is_empty());
    assert_eq!(
        pending.client.session().await.unwrap(),
        SessionState::SignedOut
    );
}

#[tokio::test]
async fn callback_from_another_issuer_is_refused_before_the_exchange() {
    // RFC 9207 mix-up defence: an `iss` naming another environment.
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let real = pending.real_callback(&env).await;
    let forged = with_iss(&real, Some("https://evil.example"));

    let _ = get(forged.as_str()).await;
    let error = pending.task.await.unwrap().unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("another issuer"), "{error}");
    assert_eq!(env.code_grants(), 0, "the code was never sent anywhere");
    assert!(pending.store.is_empty());
}

/// `callback` with its `iss` (which the emulator sends, and promises in
/// discovery, RFC 9207) replaced by `iss`, or removed.
fn with_iss(callback: &Url, iss: Option<&str>) -> Url {
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut changed = callback.clone();
    changed.query_pairs_mut().clear().extend_pairs(pairs);
    if let Some(iss) = iss {
        changed.query_pairs_mut().append_pair("iss", iss);
    }
    changed
}

#[tokio::test]
async fn callback_without_iss_is_refused_when_discovery_promises_it() {
    // RFC 9207 §2.4: a provider that says it always sends `iss` and an answer
    // without it (a mix-up attacker's, stripped) is not trusted.
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let real = pending.real_callback(&env).await;
    assert!(query(&real).contains_key("iss"), "the emulator sends iss");
    let stripped = with_iss(&real, None);

    let _ = get(stripped.as_str()).await;
    let error = pending.task.await.unwrap().unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("does not name its issuer"),
        "{error}"
    );
    assert_eq!(env.code_grants(), 0, "the code was never sent anywhere");
    assert!(pending.store.is_empty());
}

#[tokio::test]
async fn callback_with_the_right_iss_signs_in_when_discovery_promises_it() {
    let env = Env::start().await;
    let pending = Pending::start(&env, deep_link()).await;
    let callback = pending.real_callback(&env).await;
    assert_eq!(
        query(&callback).get("iss").map(String::as_str),
        Some(env.base_url.as_str().trim_end_matches('/'))
    );

    assert_eq!(
        pending
            .client
            .handle_deep_link(callback.as_str())
            .await
            .unwrap(),
        DeepLinkAction::CompletedSignIn
    );
    pending.task.await.unwrap().unwrap();

    assert_eq!(env.code_grants(), 1);
    assert!(!pending.store.is_empty());
}

#[tokio::test]
async fn callback_with_a_wrong_iss_is_refused_when_discovery_promises_it() {
    let env = Env::start().await;
    let pending = Pending::start(&env, deep_link()).await;
    let callback = with_iss(
        &pending.real_callback(&env).await,
        Some("https://evil.example"),
    );

    pending
        .client
        .handle_deep_link(callback.as_str())
        .await
        .unwrap();
    let error = pending.task.await.unwrap().unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("another issuer"), "{error}");
    assert_eq!(env.code_grants(), 0);
    assert!(pending.store.is_empty());
}

#[tokio::test]
async fn forged_deep_links_are_refused_and_the_sign_in_stays_pending() {
    let env = Env::start().await;
    let pending = Pending::start(&env, deep_link()).await;
    let state = pending.state();
    let good_query = format!("code=attacker-code&state={state}");
    let table = [
        ("another scheme", format!("evil.app:/callback?{good_query}")),
        (
            "https",
            format!("https://evil.example/callback?{good_query}"),
        ),
        (
            "another host",
            format!("dev.passkeys.desktop://evil.example/callback?{good_query}"),
        ),
        (
            "another path",
            format!("dev.passkeys.desktop:/callbacks?{good_query}"),
        ),
        (
            "a path below",
            format!("dev.passkeys.desktop:/callback/x?{good_query}"),
        ),
        (
            "an extra parameter",
            format!("{DEEP_LINK}?{good_query}&next=https://evil.example"),
        ),
        (
            "a duplicated state",
            format!("{DEEP_LINK}?{good_query}&state={state}"),
        ),
        (
            "a duplicated code",
            format!("{DEEP_LINK}?{good_query}&code=other"),
        ),
        (
            "a wrong state",
            format!("{DEEP_LINK}?code=attacker-code&state={state}x"),
        ),
        ("no state", format!("{DEEP_LINK}?code=attacker-code")),
        ("a fragment", format!("{DEEP_LINK}?{good_query}#x")),
        (
            "a control character",
            format!("{DEEP_LINK}?{good_query}%0A\n"),
        ),
        (
            "ten thousand characters",
            format!("{DEEP_LINK}?{good_query}&p={}", "a".repeat(10_000)),
        ),
        (
            "sign-in with parameters",
            "dev.passkeys.desktop://sign-in?prompt=none".into(),
        ),
        ("sign-out", "dev.passkeys.desktop://sign-out".into()),
        (
            "signed-out with a fragment",
            format!("dev.passkeys.desktop:/signed-out?state={state}#x"),
        ),
        (
            "signed-out with a control character",
            "dev.passkeys.desktop:/signed-out?state=s\n".into(),
        ),
        (
            "a long signed-out",
            format!(
                "dev.passkeys.desktop:/signed-out?state={}",
                "a".repeat(10_000)
            ),
        ),
        (
            "signed-out on another path",
            "dev.passkeys.desktop:/signed-out/x".into(),
        ),
        ("empty", String::new()),
    ];
    for (attack, link) in &table {
        let error = pending.client.handle_deep_link(link).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{attack}");
        let message = error.to_string();
        assert!(
            message.starts_with("A link was opened in the app and ignored"),
            "{attack}: {message}"
        );
        assert!(message.len() < 300, "{attack}: the notice stays short");
        pending.assert_still_pending();
    }
    pending.assert_nothing_stored().await;

    // The signed-out link is understood and leaves the sign-in waiting.
    assert_eq!(
        pending
            .client
            .handle_deep_link(&format!("dev.passkeys.desktop:/signed-out?state={state}"))
            .await
            .unwrap(),
        passkeys_core::DeepLinkAction::SignedOut
    );
    pending.assert_still_pending();

    pending.complete_through_deep_link(&env).await;
    assert_eq!(env.code_grants(), 1, "no forged code was exchanged");
}

#[tokio::test]
async fn deep_link_callbacks_are_refused_in_loopback_mode() {
    let env = Env::start().await;
    let pending = Pending::start(&env, RedirectMode::Loopback { port: 0 }).await;
    let link = format!("{DEEP_LINK}?code=attacker-code&state={}", pending.state());

    let error = pending.client.handle_deep_link(&link).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    pending.assert_still_pending();
    pending.complete_through_loopback(&env).await;
}
