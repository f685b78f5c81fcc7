//! Where the person is signed in, through the real broker and emulator: two
//! sign-ins of the same person are two sessions; this app's is marked; the
//! other one signed out from here ends (its refresh token stops working)
//! while this one goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{signed_in, Env};
use passkeys_core::ErrorKind;

#[tokio::test]
async fn two_sign_ins_are_listed_and_the_other_one_is_signed_out_from_here() {
    // Given the same person signed in twice (this app, and elsewhere:
    // another browser, another app)
    let env = Env::start().await;
    let (app, _, _, _) = signed_in(&env).await;
    let (elsewhere, elsewhere_config, elsewhere_store, _) = signed_in(&env).await;

    // When this app lists where they are signed in
    let sessions = app.list_sessions().await.unwrap();

    // Then both sessions are there, and exactly one is this app's
    let active: Vec<_> = sessions.iter().filter(|s| s.is_active()).collect();
    assert_eq!(active.len(), 2, "{sessions:?}");
    assert_eq!(active.iter().filter(|s| s.current).count(), 1);
    let other = active.iter().find(|s| !s.current).unwrap().id.clone();
    // (the other client sees the same two, with its own marked)
    let theirs = elsewhere.list_sessions().await.unwrap();
    let theirs_current = theirs.iter().find(|s| s.current).unwrap();
    assert_eq!(theirs_current.id, other);

    // This app's own session is not signed out here (Sign out does that)
    let own = active.iter().find(|s| s.current).unwrap().id.clone();
    let refused = app.sign_out_session(&own).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidInput, "{refused}");

    // When this app signs the other session out
    app.sign_out_session(&other).await.unwrap();

    // Then it is over: its refresh token is refused by the environment
    let stored = elsewhere_store.session(&elsewhere_config).await.unwrap();
    let refresh = stored.refresh_token.unwrap();
    let reused = env.refresh_grant(refresh.secret()).await;
    assert_eq!(
        reused.status(),
        400,
        "the other session's refresh token still works"
    );
    // and the list no longer shows it as active, while this app goes on
    let after = app.list_sessions().await.unwrap();
    assert!(
        after.iter().filter(|s| s.is_active()).all(|s| s.current),
        "{after:?}"
    );
    assert!(app.list_passkeys().await.is_ok());

    // "Sign out everywhere else" with nothing else signed in does nothing
    assert_eq!(app.sign_out_other_sessions().await.unwrap(), 0);
}

#[tokio::test]
async fn sign_out_everywhere_else_ends_every_other_session() {
    let env = Env::start().await;
    let (app, _, _, _) = signed_in(&env).await;
    let mut others = Vec::new();
    for _ in 0..2 {
        let (_, config, store, _) = signed_in(&env).await;
        others.push(store.session(&config).await.unwrap());
    }
    assert_eq!(app.sign_out_other_sessions().await.unwrap(), 2);
    for session in others {
        let refresh = session.refresh_token.unwrap();
        assert_eq!(env.refresh_grant(refresh.secret()).await.status(), 400);
    }
    let left: Vec<_> = app
        .list_sessions()
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.is_active())
        .collect();
    assert_eq!(left.len(), 1);
    assert!(left[0].current);
}
