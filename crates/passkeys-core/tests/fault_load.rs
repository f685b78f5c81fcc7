//! Load at the worst moment: 100 concurrent passkey calls while the access
//! token expires. Exactly one refresh reaches the token endpoint and every
//! call succeeds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fake_clock, past_expiry, refresh_at_expiry, signed_in, Env};
use passkeys_core::Clock as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_calls_at_token_expiry_refresh_once_and_all_succeed() {
    let env = Env::start().await;
    let (_, config, store, browser) = signed_in(&env).await;
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let before = store.session(&config).await.unwrap();
    let app = client(
        config.clone(),
        store.clone(),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;
    let api_before = env.api_requests();

    let calls: Vec<_> = (0..100)
        .map(|index| {
            let app = app.clone();
            tokio::spawn(async move {
                match index % 4 {
                    0 => app.list_passkeys().await.map(|_| ()),
                    1 => app.remove_passkey("wac_missing").await.or_else(|error| {
                        // A passkey that does not exist: the call itself went through.
                        if error.kind() == passkeys_core::ErrorKind::NotFound {
                            Ok(())
                        } else {
                            Err(error)
                        }
                    }),
                    _ => app.list_passkeys().await.map(|_| ()),
                }
            })
        })
        .collect();
    let mut failures = Vec::new();
    for call in calls {
        if let Err(error) = call.await.unwrap() {
            failures.push(error.to_string());
        }
    }

    assert!(failures.is_empty(), "failed calls: {failures:?}");
    assert_eq!(env.refresh_grants(), 1, "exactly one refresh request");
    assert_eq!(
        env.api_requests() - api_before,
        100,
        "every call reached the API once (no 401 retries)"
    );
    let after = store.session(&config).await.unwrap();
    assert_ne!(after.access_token.secret(), before.access_token.secret());
    assert!(after.expires_at > clock.now_utc());
}
