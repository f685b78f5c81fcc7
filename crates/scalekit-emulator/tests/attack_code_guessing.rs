//! Guessing an email code: 5 wrong codes lock a code, and new codes are
//! limited to 5 per email address, 10 per browser and 20 per client address
//! per 15 minutes, so at most 25 guesses per address fit in 15 minutes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hosted_support;

use hosted_support::{location, Env};
use reqwest::StatusCode;
use scalekit_emulator::testing;
use scalekit_emulator::throttle::{CODES_PER_BROWSER, CODES_PER_CLIENT_ADDRESS, CODES_PER_EMAIL};

/// Asks for a code for `email` from a fresh sign-in page.
async fn ask_for_code(env: &Env, email: &str) -> reqwest::Response {
    ask_for_code_in(env, &env.http, email).await
}

/// Asks for a code for `email` from a fresh sign-in page of `browser`.
async fn ask_for_code_in(env: &Env, browser: &reqwest::Client, email: &str) -> reqwest::Response {
    let authorize = env.authorize_url("s", &[("prompt", "login")]);
    let response = browser.get(authorize).send().await.unwrap();
    let login = location(&response, &env.base);
    let html = browser
        .get(login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = Vec::new();
    for name in ["csrf", "auth_request"] {
        form.push((name, testing::hidden_field(&html, name).unwrap()));
    }
    form.push(("email", email.to_owned()));
    browser
        .post(env.url("/ui/login/email"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn codes_per_email_are_limited_and_so_are_guesses() {
    let env = Env::start().await;
    let victim = "victim@example.com";
    // Given an attacker who guesses every code until it locks
    let mut guesses = 0;
    for _ in 0..CODES_PER_EMAIL {
        let sent = ask_for_code(&env, victim).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        let page = env.page(location(&sent, &env.base)).await;
        let right = testing::latest_code(&env.http, &env.mailbox, victim)
            .await
            .unwrap()
            .unwrap();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        loop {
            let answer = env.submit_code(&page, wrong).await;
            let text = answer.text().await.unwrap();
            if text.contains("Too many wrong codes") && !text.contains("attempt") {
                guesses += 1;
                break;
            }
            assert!(text.contains("That code is not right"), "{text}");
            guesses += 1;
        }
    }
    // When it asks for one more code for the same address (any case)
    let refused = ask_for_code(&env, "Victim@Example.com").await;
    // Then it is refused with 429, Retry-After and a clear page
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 14 * 60 && retry <= 15 * 60, "{retry}");
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("Too many codes asked for this address: try again in 15 minutes"),
        "{text}"
    );
    // and no code was sent: the guesses stay bounded at 5 codes x 5 tries
    let sent = testing::mailbox(&env.http, &env.mailbox, victim)
        .await
        .unwrap();
    assert_eq!(sent.len(), CODES_PER_EMAIL);
    assert_eq!(guesses, CODES_PER_EMAIL * 5);
}

#[tokio::test]
async fn codes_per_browser_are_limited_over_all_emails() {
    let env = Env::start().await;
    // Given one browser that asks for codes for ever new addresses
    for n in 0..CODES_PER_BROWSER {
        let sent = ask_for_code(&env, &format!("user{n}@example.com")).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER, "code {n}");
    }
    // When it asks for one more (under the client address's limit)
    const { assert!(CODES_PER_BROWSER < CODES_PER_CLIENT_ADDRESS) };
    let refused = ask_for_code(&env, "one-more@example.com").await;
    // Then it is refused, and nothing reaches that mailbox
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let sent = testing::mailbox(&env.http, &env.mailbox, "one-more@example.com")
        .await
        .unwrap();
    assert!(sent.is_empty());
    // While another browser on the same address still can
    let other = env.other_browser();
    assert_eq!(
        ask_for_code_in(&env, &other, "one-more@example.com")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn codes_per_client_address_are_limited_over_all_emails() {
    let env = Env::start().await;
    // Given a client that asks for codes for ever new addresses, from ever
    // new browsers (dropping its cookies)
    for n in 0..CODES_PER_CLIENT_ADDRESS {
        let browser = env.other_browser();
        let sent = ask_for_code_in(&env, &browser, &format!("user{n}@example.com")).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER, "code {n}");
    }
    // When it asks for one more
    let refused = ask_for_code_in(&env, &env.other_browser(), "one-more@example.com").await;
    // Then it is refused, and nothing reaches that mailbox
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let sent = testing::mailbox(&env.http, &env.mailbox, "one-more@example.com")
        .await
        .unwrap();
    assert!(sent.is_empty());
}
