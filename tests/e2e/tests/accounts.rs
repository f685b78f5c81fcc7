//! Issue 17, "Accounts": the configuration names two environments (each an
//! emulator with its own passkeys broker); a person signs in on the first
//! (loopback redirect), adds a second account on the other from the
//! switcher in the header (deep-link redirect), runs Diagnose (both
//! environments checked), switches back at once (nothing opens in the
//! browser), and signs out of one account while the other stays signed in.
//! Then the first environment leaves the configuration: signed out, the
//! window names the account left behind and removes it from the keychain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passkeys_e2e::app::{broker_binary, emulator_binary, temp_dir, workspace_dir};
use passkeys_e2e::broker::Broker;
use passkeys_e2e::emulator::Emulator;
use passkeys_e2e::flows::{self, callback_prefix, query_param, return_to_app};
use passkeys_e2e::hosted;
use passkeys_e2e::page::wait_visible;
use passkeys_e2e::world::{Redirect, World, CLIENT_ID};
use serde_json::json;

const ADA: &str = "ada@example.com";
const GRACE: &str = "grace@example.com";

/// Opens the switcher's list of accounts.
fn open_switcher(world: &World) {
    let app = world.app();
    app.click("account-switcher");
    app.wait_visible("account-menu");
}

/// Clicks the button whose accessible name is `label`.
fn click_labelled(world: &World, label: &str) {
    let app = world.app();
    let button = app.wait_visible_css(&format!("button[aria-label=\"{label}\"]"));
    app.session().click(&button).expect("click");
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn two_accounts_on_two_environments_are_switched_in_the_window() {
    // Given two environments: the world's ("east") and another ("west"),
    // each with its own broker, both named in the configuration
    let mut world = World::start("accounts");
    let west_dir = temp_dir("passkeys-e2e-west-");
    let west = Emulator::start(&emulator_binary(), west_dir.path());
    let west_broker = Broker::start(&broker_binary(), &west.base(), west.secret_file());
    let config_file = west_dir.path().join("config.toml");
    // east returns to the app through the loopback redirect, west through
    // the deep link (the production redirect)
    let table = |name: &str, url: &str, broker: &str, redirect: &str| {
        format!(
            "[environments.{name}]\nenvironment_url = \"{url}\"\nclient_id = \"{CLIENT_ID}\"\napi_url = \"{broker}\"\nredirect = \"{redirect}\"\n\n"
        )
    };
    let text = table(
        "east",
        &world.emulator.base(),
        &world.broker().base(),
        "loopback",
    ) + &table("west", &west.base(), &west_broker.base(), "deeplink");
    std::fs::write(&config_file, text).unwrap();
    let mut config = world.app_config(Redirect::Loopback);
    config.env.retain(|(key, _)| {
        !matches!(
            key.as_str(),
            "PASSKEYS_ENV_URL" | "PASSKEYS_CLIENT_ID" | "PASSKEYS_REDIRECT" | "PASSKEYS_API_URL"
        )
    });
    config
        .env
        .push(("PASSKEYS_CONFIG".into(), config_file.display().to_string()));
    world.launch_with(&config);
    world.app().wait_visible("signed-out");

    // When Ada signs in (on the first environment, east)
    flows::sign_in_with_email_code(&world, "1", ADA, Redirect::Loopback);
    world.app().wait_visible("passkeys-empty");
    world
        .app()
        .wait_text("switcher-email", "Ada in the switcher", |t| t == ADA);
    world
        .app()
        .wait_text("switcher-environment", "east", |t| t == "east");
    world.shot_window("1-ada-on-east");

    // and adds Grace's account on west from the switcher
    open_switcher(&world);
    world
        .app()
        .session()
        .execute(
            "document.querySelector('[data-testid=add-account-environment]').value = arguments[0];",
            vec![json!("west")],
        )
        .unwrap();
    world.app().click("add-account");
    let authorize = world.inbox.next("the authorize URL of west");
    assert!(
        authorize.starts_with(&format!("{}/oauth/authorize?", west.base())),
        "{authorize}"
    );
    assert_eq!(
        query_param(&authorize, "client_id").as_deref(),
        Some(CLIENT_ID)
    );
    assert_eq!(
        query_param(&authorize, "redirect_uri").as_deref(),
        Some(callback_prefix(Redirect::DeepLink).as_str()),
        "west signs in through the deep link"
    );
    let browser = world.browser.session();
    browser
        .cdp("Network.clearBrowserCookies", json!({}))
        .expect("clear the browser's cookies");
    browser.navigate(&authorize).expect("open west's sign-in");
    wait_visible(browser, "#email");
    hosted::sign_in_with_email_code(&world.browser, &west, GRACE);
    return_to_app(&world, Redirect::DeepLink);

    // Then Grace is current, and both accounts are signed in, each in its
    // own keychain entry
    let app = world.app();
    app.wait_text("account-email", GRACE, |t| t == GRACE);
    app.wait_text("switcher-environment", "west", |t| t == "west");
    app.wait_visible("passkeys-empty");
    let users: Vec<String> = world
        .keychain_items()
        .iter()
        .filter_map(|item| item.attributes.get("username").cloned())
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    assert!(users.iter().any(|u| u.starts_with(&world.emulator.base())));
    assert!(users.iter().any(|u| u.starts_with(&west.base())));
    // and Diagnose checks both environments and both brokers, Grace's
    // (current) and Ada's, each check naming its URL
    world.app().click("diagnose");
    let environment = |base: &str| format!("Environment ({}", base.trim_end_matches('/'));
    let broker = |base: &str| format!("Passkeys broker ({}", base.trim_end_matches('/'));
    let report = world
        .app()
        .wait_text("diagnose-report", "the checks of both environments", |t| {
            t.contains(&environment(&west.base()))
                && t.contains(&environment(&world.emulator.base()))
        });
    assert!(report.contains(&broker(&west_broker.base())), "{report}");
    assert!(report.contains(&broker(&world.broker().base())), "{report}");
    assert_eq!(report.matches("Environment (").count(), 2, "{report}");
    assert!(
        report.contains("parses: 2 environments, east ("),
        "{report}"
    );
    let return_port = format!("Sign-in return port ({}", west.base().trim_end_matches('/'));
    assert!(report.contains(&return_port), "{report}");
    world.shot_window("1b-grace-on-west-diagnose");
    world.app().click("diagnose-close");
    world.app().wait_gone("diagnose-report");
    open_switcher(&world);
    world.app().wait_visible("current-account");
    world.shot_window("2-switcher-open");
    copy_for_readme(&world, "2-switcher-open");

    // When the person switches back to Ada
    let opened_before = world.inbox.pending();
    click_labelled(&world, &format!("Switch to {ADA} (east)"));
    // Then the window shows Ada's account at once, and nothing was opened
    let app = world.app();
    app.wait_text("account-email", ADA, |t| t == ADA);
    app.wait_text("switcher-environment", "east", |t| t == "east");
    app.wait_visible("passkeys-empty");
    assert_eq!(
        world.inbox.pending(),
        opened_before,
        "a switch opens nothing"
    );
    world.shot_window("3-switched-to-ada");

    // When Grace signs out of west from the switcher (Ada stays current)
    open_switcher(&world);
    click_labelled(&world, &format!("Sign out of {GRACE} (west)"));
    // Then Ada is still signed in, and only her keychain entry is left
    let app = world.app();
    app.wait_text("account-email", ADA, |t| t == ADA);
    passkeys_e2e::wait::wait_for(
        "Grace's keychain entry to go",
        passkeys_e2e::wait::UI_TIMEOUT,
        || (world.keychain_items().len() == 1).then_some(()),
    );
    let session = world.stored_session();
    assert_eq!(session["account"]["email"], ADA);
    open_switcher(&world);
    let rows = world
        .app()
        .session()
        .find_all("[data-testid=account-row]")
        .unwrap();
    assert_eq!(rows.len(), 1);
    world.shot_window("4-grace-signed-out");

    // When east is no longer configured (the file now names west only) and
    // the app starts again
    world.quit_app();
    let west_only = west_dir.path().join("west-only.toml");
    std::fs::write(
        &west_only,
        table("west", &west.base(), &west_broker.base(), "deeplink"),
    )
    .unwrap();
    for (key, value) in &mut config.env {
        if key == "PASSKEYS_CONFIG" {
            *value = west_only.display().to_string();
        }
    }
    world.launch_with(&config);
    // Then nobody is signed in, and the window names Ada's account as still
    // kept on this computer, its environment gone
    let app = world.app();
    app.wait_visible("signed-out");
    app.wait_text(
        "unconfigured-accounts",
        "Ada's account, no longer configured",
        |t| t.contains(&format!("{ADA} (east)")) && t.contains("no longer configured"),
    );
    assert_eq!(world.keychain_items().len(), 1);
    world.shot_window("5-east-no-longer-configured");
    // When the person removes it
    world.app().click("remove-unconfigured-signed-out");
    // Then its keychain entry is gone, the window says so, and the offer goes
    let app = world.app();
    app.wait_text("notices", "that the account was removed", |t| {
        t.contains("Removed 1 account whose environment is no longer configured")
    });
    app.wait_gone("unconfigured-accounts");
    assert!(world.keychain_items().is_empty());
    app.wait_visible("sign-in");
    world.shot_window("6-unconfigured-account-removed");
}

/// With `PASSKEYS_E2E_README_SCREENSHOT=1` the run refreshes
/// `docs/screenshots/accounts.png`, the README's picture of the switcher.
fn copy_for_readme(world: &World, step: &str) {
    let source = world
        .screenshot_path(step, "window")
        .expect("the switcher screenshot");
    if std::env::var("PASSKEYS_E2E_README_SCREENSHOT").as_deref() != Ok("1") {
        return;
    }
    let docs = workspace_dir().join("docs/screenshots");
    std::fs::create_dir_all(&docs).expect("docs/screenshots");
    std::fs::copy(&source, docs.join("accounts.png")).expect("copy the screenshot for the README");
}
