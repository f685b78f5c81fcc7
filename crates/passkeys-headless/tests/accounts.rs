//! Two accounts on two environments (each an emulator with its own passkeys
//! broker), signed in at once, used and switched on the command line and
//! through the accounts, a list call in flight during a switch; recording
//! proxies in front of both environments and both brokers prove that no
//! token of one account ever reached the other's environment or broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::proxy::Gate;
use common::{accounts, accounts_in, run, stored_refresh_token, Environment, MemoryStore};
use passkeys_headless::cli::{AccountsCommand, Command, PasskeysCommand};
use serde_json::Value;

const ADA: &str = "ada@example.com";
const GRACE: &str = "grace@example.com";

fn names(passkeys: &Value) -> Vec<String> {
    let list = passkeys.as_array().expect("a list of passkeys");
    let mut names: Vec<String> = list
        .iter()
        .map(|passkey| passkey["displayName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn current(list: &Value) -> Vec<String> {
    let list = list.as_array().expect("a list of accounts");
    list.iter()
        .filter(|account| account["current"] == true)
        .map(|account| account["email"].as_str().unwrap().to_owned())
        .collect()
}

/// No token `from` issued is in any request `to` (its environment or its
/// broker) received; and `to` did receive its own tokens, so the check
/// looked at something.
fn assert_never_sent(from: &Environment, to: &Environment) {
    let foreign = from.issued_tokens();
    assert!(
        foreign.len() >= 3,
        "{} issued tokens: {foreign:?}",
        from.name
    );
    let received = to.requests_received();
    for request in &received {
        for token in &foreign {
            assert!(
                !request.contains(token.as_str()),
                "a token of {} reached {}: {request}",
                from.name,
                to.name
            );
        }
    }
    let own = to.issued_tokens();
    let bearers = to.broker_seen.exchanges();
    assert!(
        bearers.iter().any(|exchange| own
            .iter()
            .any(|token| exchange.head.contains(&format!("Bearer {token}")))),
        "{}'s broker saw its own account's token",
        to.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_accounts_on_two_environments_never_mix_tokens_or_passkeys() {
    // Given two environments, each with its own broker, behind recording proxies
    let east = Environment::start("east", ADA).await;
    let west = Environment::start("west", GRACE).await;
    let store = Arc::new(MemoryStore::default());
    let accounts = accounts(&[&east, &west], Arc::clone(&store)).await;

    // When Ada signs in on east and Grace on west, on the command line
    let ada = run(
        &accounts,
        Some("east"),
        Command::SignIn { no_browser: false },
    )
    .await
    .unwrap();
    let grace = run(
        &accounts,
        Some("west"),
        Command::SignIn { no_browser: false },
    )
    .await
    .unwrap();
    assert_eq!(ada["email"], ADA);
    assert_eq!(grace["email"], GRACE);
    let ada_subject = ada["subject"].as_str().unwrap();
    let grace_subject = grace["subject"].as_str().unwrap();
    east.seed_passkeys(ada_subject, &["Ada's laptop"]).await;
    west.seed_passkeys(grace_subject, &["Grace's phone", "Grace's key"])
        .await;

    // Then both are signed in at once, each in its own keychain entry
    let entries = store.accounts();
    let mut expected = vec![
        format!("{}|{}|{ada_subject}", east.url, common::CLIENT_ID),
        format!("{}|{}|{grace_subject}", west.url, common::CLIENT_ID),
    ];
    expected.sort();
    assert_eq!(entries, expected);
    let status = run(&accounts, None, Command::Status).await.unwrap();
    assert_eq!(status["state"], "signedIn");
    assert_eq!(
        status["account"]["email"], GRACE,
        "the last sign-in is current"
    );
    assert_eq!(status["accounts"].as_array().unwrap().len(), 2, "{status}");

    // And --account picks an account without switching
    let list = Command::Passkeys(PasskeysCommand::List);
    let ada_keys = run(&accounts, Some(ADA), list_command()).await.unwrap();
    assert_eq!(names(&ada_keys), ["Ada's laptop"]);
    let grace_keys = run(&accounts, None, list).await.unwrap();
    assert_eq!(names(&grace_keys), ["Grace's key", "Grace's phone"]);

    // When switching on the command line, by email then by environment
    let switched = run(
        &accounts,
        None,
        Command::Accounts(AccountsCommand::Switch {
            account: ADA.into(),
        }),
    )
    .await
    .unwrap();
    assert_eq!(switched["environment"], "east");
    let listed = run(&accounts, None, Command::Accounts(AccountsCommand::List))
        .await
        .unwrap();
    assert_eq!(current(&listed), [ADA]);
    let ada_keys = run(&accounts, None, list_command()).await.unwrap();
    assert_eq!(names(&ada_keys), ["Ada's laptop"]);
    run(
        &accounts,
        None,
        Command::Accounts(AccountsCommand::Switch {
            account: "west".into(),
        }),
    )
    .await
    .unwrap();
    let listed = run(&accounts, None, Command::Accounts(AccountsCommand::List))
        .await
        .unwrap();
    assert_eq!(current(&listed), [GRACE]);

    // When Ada's list call is in flight (east's broker holds its answer) and
    // the current account switches to Grace meanwhile
    accounts.switch(ADA).unwrap();
    let gate = Arc::new(Gate::default());
    *east.broker_seen.hold.lock().unwrap() = Some(Arc::clone(&gate));
    let in_flight = tokio::spawn({
        let accounts = accounts.clone();
        async move { accounts.list_passkeys().await }
    });
    gate.held.notified().await;
    accounts.switch(GRACE).unwrap();
    let grace_keys = run(&accounts, None, list_command()).await.unwrap();
    *east.broker_seen.hold.lock().unwrap() = None;
    gate.release.notify_one();
    let ada_list = in_flight.await.unwrap().unwrap();
    // Then Grace's list is Grace's, and the late list says it is Ada's
    assert_eq!(names(&grace_keys), ["Grace's key", "Grace's phone"]);
    assert_eq!(ada_list.account.email.as_deref(), Some(ADA));
    assert!(!ada_list.account.current, "Ada is no longer current");
    let ada_names: Vec<&str> = ada_list
        .passkeys
        .iter()
        .map(|p| p.display_name.as_str())
        .collect();
    assert_eq!(ada_names, ["Ada's laptop"]);
    assert_eq!(accounts.current().unwrap().email.as_deref(), Some(GRACE));

    // When Grace signs out of west, Ada stays signed in on east
    run(&accounts, Some("west"), Command::SignOut)
        .await
        .unwrap();
    let status = run(&accounts, None, Command::Status).await.unwrap();
    assert_eq!(status["account"]["email"], ADA, "{status}");
    assert_eq!(status["accounts"].as_array().unwrap().len(), 1, "{status}");
    let ada_keys = run(&accounts, None, list_command()).await.unwrap();
    assert_eq!(names(&ada_keys), ["Ada's laptop"]);
    let error = run(&accounts, Some(GRACE), list_command())
        .await
        .unwrap_err();
    assert_eq!(error["kind"], "invalidInput", "{error}");

    // And signing out with nobody left to sign out of is done at once
    run(&accounts, None, Command::SignOut).await.unwrap();
    run(&accounts, None, Command::SignOut).await.unwrap();
    let status = run(&accounts, None, Command::Status).await.unwrap();
    assert_eq!(status["state"], "signedOut", "{status}");
    assert_eq!(status["accounts"], serde_json::json!([]), "{status}");

    // And no token of one account ever reached the other's environment or broker
    assert_never_sent(&east, &west);
    assert_never_sent(&west, &east);
}

fn list_command() -> Command {
    Command::Passkeys(PasskeysCommand::List)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_whose_environment_is_no_longer_configured_is_listed_and_removed() {
    // Given Ada on east and Grace on west, signed in
    let east = Environment::start("east", ADA).await;
    let west = Environment::start("west", GRACE).await;
    let store = Arc::new(MemoryStore::default());
    let dir = tempfile::tempdir().unwrap();
    let file = Some(dir.path().join(passkeys_core::ACCOUNTS_FILE));
    let both = accounts_in(&[&east, &west], Arc::clone(&store), file.clone()).await;
    for environment in ["east", "west"] {
        let sign_in = Command::SignIn { no_browser: false };
        run(&both, Some(environment), sign_in).await.unwrap();
    }
    // When the configuration no longer names west
    let only_east = accounts_in(&[&east], Arc::clone(&store), file).await;
    // Then Grace's account is still listed, as not configured, and Ada is current
    let listed = run(&only_east, None, Command::Accounts(AccountsCommand::List))
        .await
        .unwrap();
    let list = listed.as_array().unwrap();
    assert_eq!(list.len(), 2, "{listed}");
    let grace = list
        .iter()
        .find(|account| account["email"] == GRACE)
        .unwrap();
    assert_eq!(grace["configured"], false, "{listed}");
    assert_eq!(current(&listed), [ADA]);
    // And removing the unconfigured ones deletes Grace's keychain entry only
    let removed = run(
        &only_east,
        None,
        Command::Accounts(AccountsCommand::RemoveUnconfigured),
    )
    .await
    .unwrap();
    assert_eq!(removed["removed"][0]["email"], GRACE, "{removed}");
    let entries = store.accounts();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].starts_with(east.url.as_str()), "{entries:?}");
    let ada_keys = run(&only_east, None, list_command()).await.unwrap();
    assert!(ada_keys.as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signing_in_again_as_the_same_account_replaces_and_revokes_its_session() {
    // Given Ada signed in on east
    let east = Environment::start("east", ADA).await;
    let store = Arc::new(MemoryStore::default());
    let accounts = accounts(&[&east], Arc::clone(&store)).await;
    run(&accounts, None, Command::SignIn { no_browser: false })
        .await
        .unwrap();
    let first = stored_refresh_token(&store, east.url.as_str()).await;
    // When she signs in again
    run(&accounts, None, Command::SignIn { no_browser: false })
        .await
        .unwrap();
    // Then she is one account, with one keychain entry holding the new session
    assert_eq!(accounts.list().len(), 1);
    assert_eq!(store.accounts().len(), 1);
    let second = stored_refresh_token(&store, east.url.as_str()).await;
    assert_ne!(first, second);
    // And the replaced refresh token no longer works
    let answer = reqwest::Client::new()
        .post(east.url.join("oauth/token").unwrap())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", common::CLIENT_ID),
            ("refresh_token", first.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        400,
        "the replaced refresh token was revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_writes_its_session_once_under_its_accounts_entry() {
    // Given nobody signed in on east
    let east = Environment::start("east", ADA).await;
    let store = Arc::new(MemoryStore::default());
    let accounts = accounts(&[&east], Arc::clone(&store)).await;
    store.take_written();
    for _ in 0..2 {
        // When Ada signs in (and, the second time, again)
        let ada = run(&accounts, None, Command::SignIn { no_browser: false })
            .await
            .unwrap();
        // Then the keychain was written once, under her account's entry: the
        // tokens never sat in a second entry, not even for a moment. (On
        // Windows that one write is the entry's chunks, `<entry>#<n>`, then
        // the entry naming them: the Credential Manager's entries are small.)
        let entry = format!(
            "{}|{}|{}",
            east.url,
            common::CLIENT_ID,
            ada["subject"].as_str().unwrap()
        );
        let written = store.take_written();
        let (last, chunks) = written.split_last().expect("the sign-in wrote");
        assert_eq!(last, &entry, "{written:?}");
        let chunk_prefix = format!("{entry}#");
        assert!(
            chunks.iter().all(|name| name.starts_with(&chunk_prefix)),
            "{written:?}"
        );
        assert_eq!(chunks.is_empty(), !cfg!(windows), "{written:?}");
        assert_eq!(store.accounts(), [entry]);
    }
}
