//! Command tests: every Tauri command through the IPC layer of a mock app
//! (`tauri::test`, no window), against the emulator on an ephemeral port, with
//! the JSON the UI receives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{invoke, kind, seed_passkeys, Behaviour, Harness, LockedStore, EMAIL};
use passkeys_desktop_lib::commands;
use serde_json::{json, Value};
use url::Url;

#[test]
fn session_is_signed_out_at_first() {
    let harness = Harness::new(Behaviour::SignsIn);
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
}

#[test]
fn passkey_commands_need_a_sign_in() {
    // Given no session
    let harness = Harness::new(Behaviour::SignsIn);
    // When the UI asks for passkeys, renames, removes or adds one
    for (command, args) in [
        ("list_passkeys", json!({})),
        ("rename_passkey", json!({"id": "wac_1", "name": "Laptop"})),
        ("remove_passkey", json!({"id": "wac_1"})),
    ] {
        let error = harness.invoke(command, args).unwrap_err();
        // Then it gets {kind: signInRequired, message} and can show "Sign in"
        assert_eq!(kind(&error), "signInRequired", "{command}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains("Sign in"),
            "{command}: {error}"
        );
    }
    assert!(harness.browser.opened().is_empty(), "nothing was opened");
}

#[test]
fn a_name_of_121_characters_is_invalid_input() {
    let harness = Harness::new(Behaviour::SignsIn);
    harness.sign_in();
    let error = harness
        .invoke(
            "rename_passkey",
            json!({"id": "wac_1", "name": "a".repeat(121)}),
        )
        .unwrap_err();
    assert_eq!(kind(&error), "invalidInput", "{error}");
    assert_eq!(
        error.as_object().unwrap().len(),
        2,
        "exactly kind and message: {error}"
    );
    let error = harness
        .invoke("rename_passkey", json!({"id": "wac_1", "name": "   "}))
        .unwrap_err();
    assert_eq!(kind(&error), "invalidInput", "{error}");
}

#[test]
fn sign_in_through_the_browser_then_session_and_environment() {
    // Given a browser that signs in with an email code
    let harness = Harness::new(Behaviour::SignsIn);
    // When the UI signs in
    let account = harness.sign_in();
    // Then the account comes back, the session says so, and the UI was told
    assert_eq!(account["email"], EMAIL);
    assert_eq!(
        account["environment"]
            .as_str()
            .unwrap()
            .trim_end_matches('/'),
        harness.emulator.base_url().as_str().trim_end_matches('/')
    );
    let session = harness.invoke("session", json!({})).unwrap();
    assert_eq!(session["state"], "signedIn");
    assert_eq!(session["account"], account);
    let progress = harness.events("sign-in-progress");
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert_eq!(progress[0]["stage"], "waitingForBrowser");
    assert_eq!(progress[0]["browserOpened"], true);
    assert_eq!(progress[1], json!({"stage": "completingSignIn"}));
    let authorize_url = Url::parse(progress[0]["authorizeUrl"].as_str().unwrap()).unwrap();
    assert_eq!(authorize_url, harness.browser.opened()[0]);
    assert_eq!(authorize_url.path(), "/oauth/authorize");
    assert_eq!(
        harness.events("session-changed").last().unwrap()["state"],
        "signedIn"
    );

    let environment = harness.invoke("environment", json!({})).unwrap();
    assert_eq!(environment["redirect"], "loopback");
    assert_eq!(environment["embeddedEmulator"], false);
    assert!(environment["url"]
        .as_str()
        .unwrap()
        .starts_with("http://localhost:"));
}

#[test]
fn list_rename_and_remove_passkeys() {
    let harness = Harness::new(Behaviour::SignsIn);
    let account = harness.sign_in();
    let subject = account["subject"].as_str().unwrap();
    let ids = seed_passkeys(&harness.emulator, subject, 2);

    // Given a UI that has no icon yet
    let answer = harness.invoke("list_passkeys", json!({})).unwrap();
    let list = answer["passkeys"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    // Then the provider's icon comes once, under the key both rows name
    let icon_key = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd";
    assert!(list
        .iter()
        .all(|p| p["authenticator"]["iconKey"] == icon_key));
    let icons = answer["icons"].as_object().unwrap();
    assert_eq!(icons.keys().collect::<Vec<_>>(), [icon_key]);
    assert!(icons[icon_key]["light"]
        .as_str()
        .unwrap()
        .starts_with("data:image/"));
    assert_eq!(
        answer.to_string().matches("data:image/").count(),
        icons[icon_key].as_object().unwrap().len(),
        "no row carries an icon: {answer}"
    );
    // And when the UI names the icons it has, none comes again
    let again = harness
        .invoke("list_passkeys", json!({"knownIcons": [icon_key]}))
        .unwrap();
    assert_eq!(again["icons"], json!({}));
    assert_eq!(again["passkeys"], answer["passkeys"]);
    let other = harness
        .invoke("list_passkeys", json!({"knownIcons": ["another-key"]}))
        .unwrap();
    assert_eq!(other["icons"], answer["icons"]);
    for passkey in list {
        for field in [
            "id",
            "displayName",
            "createdAt",
            "authenticator",
            "synced",
            "deviceBound",
            "transports",
            "registeredFrom",
        ] {
            assert!(passkey.get(field).is_some(), "{field} missing in {passkey}");
        }
    }

    let id = ids[0].as_str();
    let renamed = harness
        .invoke(
            "rename_passkey",
            json!({"id": id, "name": "  Work laptop  "}),
        )
        .unwrap();
    assert_eq!(renamed["id"], id);
    assert_eq!(renamed["displayName"], "Work laptop");
    assert_eq!(renamed["authenticator"]["iconKey"], icon_key);
    assert!(!renamed.to_string().contains("data:image/"));
    let list = harness.invoke("list_passkeys", json!({})).unwrap();
    assert!(list["passkeys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == id && p["displayName"] == "Work laptop"));

    assert_eq!(
        harness.invoke("remove_passkey", json!({"id": id})).unwrap(),
        Value::Null
    );
    let list = harness.invoke("list_passkeys", json!({})).unwrap();
    let list = list["passkeys"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert!(list.iter().all(|p| p["id"] != id));

    let error = harness
        .invoke("remove_passkey", json!({"id": id}))
        .unwrap_err();
    assert_eq!(kind(&error), "notFound", "{error}");
}

#[test]
fn add_passkey_opens_the_profile_page() {
    let harness = Harness::new(Behaviour::SignsIn);
    harness.sign_in();
    assert_eq!(
        harness.invoke("add_passkey", json!({})).unwrap(),
        Value::Null
    );
    let opened = harness.browser.opened();
    let page = opened.last().unwrap();
    assert_eq!(
        page.as_str(),
        harness
            .emulator
            .base_url()
            .join("ui/profile/passkeys")
            .unwrap()
            .as_str()
    );
}

#[test]
fn cancel_sign_in_stops_the_waiting_sign_in() {
    // Given a sign-in waiting for a browser that never comes back
    let harness = Harness::new(Behaviour::Stalls);
    let waiting = {
        let webview = harness.webview.clone();
        std::thread::spawn(move || invoke(&webview, "sign_in", json!({})))
    };
    common::wait_until("the sign-in to wait for the browser", || {
        !harness.events("sign-in-progress").is_empty()
    });
    // When the UI cancels
    assert_eq!(
        harness.invoke("cancel_sign_in", json!({})).unwrap(),
        Value::Null
    );
    // Then the sign-in call ends with `cancelled` and the session stays signed out
    let error = waiting.join().unwrap().unwrap_err();
    assert_eq!(kind(&error), "cancelled", "{error}");
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
}

#[test]
fn sign_out_forgets_the_session() {
    let harness = Harness::new(Behaviour::SignsIn);
    harness.sign_in();
    assert_eq!(harness.invoke("sign_out", json!({})).unwrap(), Value::Null);
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
    assert_eq!(
        harness.events("session-changed").last().unwrap(),
        &json!({"state": "signedOut"})
    );
    assert!(harness
        .browser
        .opened()
        .iter()
        .any(|url| url.path() == "/oidc/logout"));
    let error = harness.invoke("list_passkeys", json!({})).unwrap_err();
    assert_eq!(kind(&error), "signInRequired", "{error}");
}

#[test]
fn a_locked_keychain_is_a_keychain_error() {
    let harness = Harness::with_store(Behaviour::SignsIn, Arc::new(LockedStore));
    let error = harness.invoke("session", json!({})).unwrap_err();
    assert_eq!(kind(&error), "keychain", "{error}");
}

#[test]
fn app_ready_answers_and_unknown_commands_are_refused() {
    let harness = Harness::new(Behaviour::SignsIn);
    assert_eq!(harness.invoke("app_ready", json!({})).unwrap(), Value::Null);
    assert_eq!(
        harness.invoke("app_ready", json!({})).unwrap(),
        Value::Null,
        "a second call is harmless"
    );
    assert!(harness.invoke("no_such_command", json!({})).is_err());
}

#[test]
fn every_listed_command_is_handled() {
    let harness = Harness::new(Behaviour::Stalls);
    for command in commands::COMMANDS
        .iter()
        .filter(|command| **command != "sign_in")
    {
        if let Err(error) = harness.invoke(command, json!({"id": "x", "name": "y"})) {
            let text = error.to_string();
            assert!(
                !text.contains("not found"),
                "{command} is not handled: {text}"
            );
        }
    }
}

#[test]
fn accounts_are_listed_switched_and_signed_out_one_by_one() {
    // Given a person signed in
    let harness = Harness::new(Behaviour::SignsIn);
    let account = harness.sign_in();
    // Then the switcher lists them as current, and the environment to add another on
    let overview = harness.invoke("list_accounts", json!({})).unwrap();
    assert_eq!(overview["environments"], json!(["default"]));
    let listed = &overview["accounts"][0];
    assert_eq!(listed["email"], EMAIL);
    assert_eq!(listed["environment"], "default");
    assert_eq!(listed["current"], true);
    assert_eq!(listed["configured"], true);
    let key = listed["key"].as_str().unwrap().to_owned();
    // When switching to it: the session comes back at once, from what is known
    let session = harness
        .invoke("switch_account", json!({"key": key}))
        .unwrap();
    assert_eq!(session, json!({"state": "signedIn", "account": account}));
    // An unknown account is refused
    let error = harness
        .invoke("switch_account", json!({"key": "nobody@example.com"}))
        .unwrap_err();
    assert_eq!(kind(&error), "invalidInput", "{error}");
    // When signing that account out, nobody is left, and the UI is told
    let session = harness
        .invoke("sign_out_account", json!({"key": key}))
        .unwrap();
    assert_eq!(session, json!({"state": "signedOut"}));
    assert_eq!(
        harness.events("session-changed").last().unwrap()["state"],
        "signedOut"
    );
    let overview = harness.invoke("list_accounts", json!({})).unwrap();
    assert_eq!(overview["accounts"], json!([]));
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
    // And nothing is left to remove
    assert_eq!(
        harness
            .invoke("remove_unconfigured_accounts", json!({}))
            .unwrap(),
        json!([])
    );
}
