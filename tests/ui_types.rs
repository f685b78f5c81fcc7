//! The UI's TypeScript types (`ui/src/api.ts`) name exactly the fields the
//! commands send: a field renamed on one side only fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{seed_passkeys, Behaviour, Harness};
use serde_json::{json, Value};

const API_TS: &str = include_str!("../ui/src/api.ts");

/// The field names of `export interface <name> { … }` in api.ts.
fn interface_fields(name: &str) -> BTreeSet<String> {
    let start = API_TS
        .find(&format!("export interface {name} "))
        .unwrap_or_else(|| panic!("interface {name} not in api.ts"));
    let body = &API_TS[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("/**") && !line.starts_with('*'))
        .filter_map(|line| {
            line.split_once(':')
                .map(|(field, _)| field.trim_end_matches('?'))
        })
        .filter(|field| !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_string)
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn typescript_types_match_the_json_of_the_commands() {
    let harness = Harness::new(Behaviour::SignsIn);
    let error = harness.invoke("list_passkeys", json!({})).unwrap_err();
    assert_eq!(keys(&error), interface_fields("UiError"));

    let account = harness.sign_in();
    assert_eq!(keys(&account), interface_fields("Account"));
    seed_passkeys(&harness.emulator, account["subject"].as_str().unwrap(), 1);
    let list = harness.invoke("list_passkeys", json!({})).unwrap();
    assert_eq!(keys(&list), interface_fields("PasskeyList"));
    let icons = list["icons"].as_object().unwrap();
    assert!(!icons.is_empty(), "the seeded provider has an icon");
    for icon in icons.values() {
        assert_eq!(keys(icon), interface_fields("ProviderIcon"));
    }
    let passkey = &list["passkeys"][0];
    assert_eq!(keys(passkey), interface_fields("Passkey"));
    assert_eq!(
        keys(&passkey["authenticator"]),
        interface_fields("Authenticator")
    );
    assert_eq!(
        keys(&passkey["registeredFrom"]),
        interface_fields("RegisteredFrom")
    );

    let environment = harness.invoke("environment", json!({})).unwrap();
    assert_eq!(keys(&environment), interface_fields("Environment"));

    // The account switcher: the overview and each account.
    let overview = harness.invoke("list_accounts", json!({})).unwrap();
    assert_eq!(keys(&overview), interface_fields("AccountsOverview"));
    let accounts = overview["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{overview}");
    assert_eq!(keys(&accounts[0]), interface_fields("AccountSummary"));

    // Where the person is signed in: each session's fields are the interface's.
    let sessions = harness.invoke("list_sessions", json!({})).unwrap();
    let sessions = sessions.as_array().unwrap();
    assert!(!sessions.is_empty(), "the harness's sign-in is a session");
    for session in sessions {
        assert_eq!(keys(session), interface_fields("SignedInSession"));
    }

    // The doctor's report: every check's fields are the interface's (the
    // optional `subject` and `fix` only where they apply), and its verdicts
    // are the union's.
    let report = harness.invoke("diagnose", json!({})).unwrap();
    assert_eq!(keys(&report), interface_fields("DoctorReport"));
    let verdicts = union_members("Verdict");
    let checks = report["checks"].as_array().unwrap();
    assert!(
        checks.iter().any(|check| check["name"] == "environment"),
        "{report}"
    );
    for check in checks {
        let fields = keys(check);
        assert!(
            fields.is_subset(&interface_fields("DoctorCheck")),
            "{check}"
        );
        for required in ["name", "verdict", "detail"] {
            assert!(fields.contains(required), "{check}");
        }
        assert!(
            verdicts.contains(check["verdict"].as_str().unwrap()),
            "{check}"
        );
    }
}

/// The members of `export type <name> = | "a" | "b" …;` in api.ts.
fn union_members(name: &str) -> BTreeSet<String> {
    let start = API_TS
        .find(&format!("export type {name} ="))
        .unwrap_or_else(|| panic!("type {name} not in api.ts"));
    let body = &API_TS[start..];
    let body = &body[..body.find(';').unwrap()];
    body.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn without_a_broker_the_ui_gets_a_kind_it_knows_and_the_environment_says_none() {
    let harness = Harness::without_broker(Behaviour::SignsIn);
    harness.sign_in();
    let error = harness.invoke("list_passkeys", json!({})).unwrap_err();
    let kind = error["kind"].as_str().unwrap();
    assert_eq!(kind, "passkeysBrokerMissing");
    assert!(
        union_members("ErrorKind").contains(kind),
        "api.ts lacks {kind}"
    );
    assert!(error["message"].as_str().unwrap().contains("broker"));
    let environment = harness.invoke("environment", json!({})).unwrap();
    assert_eq!(environment["passkeysApi"], Value::Null);
}
