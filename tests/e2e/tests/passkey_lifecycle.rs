//! Issue 4, steps 1–5 and 7: sign up through the browser, add a passkey,
//! rename it, sign out and back in with the passkey, restart, remove it.
//! Production's topology (issue 13): the passkeys calls go through the
//! passkeys broker, and the browser comes back to the app by its deep link;
//! the same steps run once more with the loopback redirect. After sign-out
//! the broker refuses the signed-out session's token within 30 s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use passkeys_e2e::app::workspace_dir;
use passkeys_e2e::flows::{self, start_sign_in};
use passkeys_e2e::hosted;
use passkeys_e2e::page::{wait_for_url, wait_visible};
use passkeys_e2e::wait::{wait_for, UI_TIMEOUT};
use passkeys_e2e::world::{Redirect, World, CLIENT_ID, DEEP_LINK_SCHEME};
use serde_json::Value;

const EMAIL: &str = "ada@example.com";
const NEW_NAME: &str = "Work laptop";
/// The credentials API's path, the broker's as well as the environment's.
const CREDENTIALS_PATH: &str = "/api/v1/webauthn/credentials";

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn a_person_signs_up_adds_renames_uses_and_removes_a_passkey_by_deep_link_through_the_broker() {
    // The production topology: sign-in in the system browser coming back by
    // the app's deep link, passkeys through the broker.
    let mut world = World::start("passkey-lifecycle");
    let user_id = lifecycle(&mut world, Redirect::DeepLink);
    assert_the_broker_served(&world, &user_id);
    copy_for_readme(&world, "5-restarted-still-signed-in");
}

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn the_same_steps_pass_with_the_loopback_redirect() {
    let mut world = World::start("passkey-lifecycle-loopback");
    let user_id = lifecycle(&mut world, Redirect::Loopback);
    assert_the_broker_served(&world, &user_id);
}

/// The app is pointed at the broker, which served the window's list, rename
/// and remove for the signed-in person, with its own client-credentials
/// token upstream.
fn assert_the_broker_served(world: &World, user_id: &str) {
    let broker_url = world.broker().base();
    let api_urls: Vec<_> = configured(world)
        .into_iter()
        .filter(|(key, _)| key == "PASSKEYS_API_URL")
        .map(|(_, value)| value)
        .collect();
    assert_eq!(api_urls, [broker_url], "the app is pointed at the broker");
    let served = world.broker().served();
    let to_credentials: Vec<_> = served
        .iter()
        .filter(|request| request.path.starts_with(CREDENTIALS_PATH))
        .collect();
    for (method, what) in [
        ("GET", "a listing"),
        ("PATCH", "the rename"),
        ("DELETE", "the removal"),
    ] {
        assert!(
            to_credentials.iter().any(|request| request.method == method
                && request.status == 200
                && request.user_id.as_deref() == Some(user_id)),
            "the broker served {what} ({method}) for {user_id}: {served:?}"
        );
    }
    assert!(
        to_credentials
            .iter()
            .filter(|request| request.status == 200)
            .all(|request| request.user_id.as_deref() == Some(user_id)),
        "every passkeys call it served came with the person's own valid token: {served:?}"
    );
    // ... calling the environment with its own client-credentials token.
    assert!(
        world.broker().client_tokens_obtained() >= 1,
        "the broker obtained a client-credentials token: {:?}",
        world.broker().log()
    );
}

/// The steps, with the app coming back from the browser by `redirect`;
/// returns the person's user id.
fn lifecycle(world: &mut World, redirect: Redirect) -> String {
    // Step 1 — Given a first start, the window is signed out.
    world.launch_app(redirect);
    world.app().wait_visible("signed-out");
    world.shot_window("1-first-start-signed-out");
    assert!(
        world.keychain_items().is_empty(),
        "nothing in the keychain before signing in"
    );
    // When they sign up in the browser with the code the environment mailed,
    let stored = flows::sign_in_with_email_code(world, "1", EMAIL, redirect);
    // then the window shows the account with no passkeys yet,
    world.app().wait_visible("passkeys-empty");
    world
        .app()
        .wait_text("account-environment", "the environment", |t| {
            t.contains(&world.emulator.base())
        });
    world.shot_window("1-signed-in");
    // and the keychain holds the session of that account.
    assert_eq!(stored["account"]["email"], EMAIL);
    let user_id = stored["account"]["subject"]
        .as_str()
        .expect("account.subject")
        .to_owned();
    assert!(user_id.starts_with("usr_"), "subject {user_id}");
    assert!(
        stored["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "a refresh token is stored"
    );
    assert!(world.emulator.credentials(&user_id).is_empty());

    // Step 2 — "Add a passkey" opens the environment's passkeys page.
    world.app().click("add-passkey");
    let page = world.inbox.next("the passkeys page");
    assert_eq!(
        page,
        format!("{}/ui/profile/passkeys", world.emulator.base())
    );
    let browser = world.browser.session();
    browser.navigate(&page).expect("open the passkeys page");
    // The browser is still signed in there (same cookie as the sign-up).
    wait_for_url(browser, &page);
    wait_visible(browser, "#add-passkey");
    world.shot_browser("2-passkeys-page");
    hosted::add_passkey_on_profile_page(&world.browser);
    world.shot_browser("2-passkey-added-in-browser");
    let credentials = world.emulator.credentials(&user_id);
    assert_eq!(
        credentials.len(),
        1,
        "the environment holds the new passkey: {credentials:?}"
    );
    let credential = &credentials[0];
    // When the window regains focus, it lists the passkey with its provider
    // name and creation date.
    world.app().refocus();
    world
        .app()
        .wait_text("passkey-row", "one passkey", |t| !t.is_empty());
    let provider = expected_provider(credential);
    world
        .app()
        .wait_text("passkey-provider", &provider, |t| t == provider);
    let year = credential["created_at"].as_str().expect("created_at")[..4].to_owned();
    world
        .app()
        .wait_text("passkey-created", "the creation date", |t| {
            t.starts_with("Created ") && t.contains(&year)
        });
    // It says how the passkey is backed up, from the flags the environment
    // holds; when it cannot leave its device (the only one), a calm notice
    // says what losing it means.
    let flags = &credential["authenticator_flags"];
    let eligible = flags["backup_eligible"].as_bool().unwrap_or(false);
    let backed_up = flags["backup_state"].as_bool().unwrap_or(false);
    let posture = match (eligible, backed_up) {
        (true, true) => "Synced",
        (true, false) => "Can sync, not backed up yet",
        (false, _) => "This device only",
    };
    world
        .app()
        .wait_text("passkey-sync", posture, |t| t == posture);
    if eligible {
        assert!(
            !world
                .app()
                .page_text()
                .contains("None of your passkeys is backed up"),
            "no backup notice for a passkey that can sync"
        );
    } else {
        world
            .app()
            .wait_text("backup-notice", "the backup notice", |t| {
                t.contains("None of your passkeys is backed up")
            });
    }
    world.shot_window("2-passkey-listed");

    // Step 3 — Rename in the window; the environment's API has the new name.
    rename_in_window(world, NEW_NAME);
    world
        .app()
        .wait_text("passkey-name", NEW_NAME, |t| t == NEW_NAME);
    assert_eq!(
        world.emulator.credentials(&user_id)[0]["display_name"],
        NEW_NAME
    );
    world.shot_window("3-renamed");
    // A 121-character name is refused in the window and nothing changes.
    rename_in_window(world, &"a".repeat(121));
    let message = world
        .app()
        .wait_text("rename-error", "why the name is refused", |t| {
            t.contains("120")
        });
    assert!(
        message.contains("121"),
        "the message says how long the name is: {message}"
    );
    world.shot_window("3-name-too-long");
    assert_eq!(
        world.emulator.credentials(&user_id)[0]["display_name"],
        NEW_NAME,
        "nothing changed"
    );
    world.app().click("rename-cancel");
    world
        .app()
        .wait_text("passkey-name", NEW_NAME, |t| t == NEW_NAME);

    // Step 4 — Sign out: the keychain entry is gone and the refresh token revoked.
    let refresh_token = world.stored_session()["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let access_token = world.stored_session()["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    assert_eq!(world.broker().list_status(&access_token), 200);
    let before = world.emulator.introspect(&refresh_token);
    assert_eq!(
        before["active"], true,
        "the refresh token is live: {before}"
    );
    world.app().click("sign-out");
    world.app().wait_visible("signed-out");
    world.shot_window("4-signed-out");
    assert!(
        world.keychain_items().is_empty(),
        "the keychain entry is gone: {:?}",
        world.keychain_items()
    );
    let logout = world.inbox.next("the environment's sign-out page");
    assert!(
        logout.starts_with(&format!("{}/oidc/logout", world.emulator.base())),
        "sign-out opened {logout}"
    );
    browser.navigate(&logout).expect("open the sign-out page");
    let signed_out_at = Instant::now();
    match redirect {
        // The environment sends the browser back to the app's signed-out
        // link: the window comes forward signed out, with no notice.
        Redirect::DeepLink => {
            let link = world
                .browser
                .wait_for_redirect_to(&format!("{DEEP_LINK_SCHEME}:/signed-out"));
            let _ = browser.navigate("about:blank");
            flows::deliver_deep_link(world, &link);
            world.app().wait_visible("signed-out");
            // A refused link shows its notice at once ("That sign-in link
            // was not expected…"); none comes for this one.
            let watch = Instant::now();
            while watch.elapsed() < Duration::from_secs(2) {
                let text = world.app().page_text();
                assert!(
                    !text.contains("not expected"),
                    "a notice refused the signed-out link: {text}"
                );
            }
            world.shot_window("4-signed-out-link-handled");
        }
        Redirect::Loopback => {
            wait_for_url(browser, &world.emulator.base());
        }
    }
    world.shot_browser("4-signed-out-in-browser");
    // The session has ended at the environment, and the broker stops taking
    // its still unexpired access token within 30 s.
    let sid = jwt_claim(&access_token, "sid");
    assert_eq!(world.emulator.session(&sid)["status"], "logout");
    // (asked every 2 s: the broker's per-person rate limit counts these too)
    let refused_after = loop {
        if world.broker().list_status(&access_token) == 401 {
            break signed_out_at.elapsed();
        }
        assert!(
            signed_out_at.elapsed() <= Duration::from_secs(30),
            "the broker still takes the signed-out session's token after 30 s"
        );
        std::thread::sleep(Duration::from_secs(2));
    };
    eprintln!("e2e: the broker refused the signed-out session's token after {refused_after:?}");
    let after = world.emulator.introspect(&refresh_token);
    assert_eq!(
        after["active"], false,
        "the refresh token is revoked: {after}"
    );
    let (status, body) = world.emulator.try_refresh(CLIENT_ID, &refresh_token);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "the refresh token is revoked: {body}"
    );
    // Signing in again with "Continue with Passkey" needs no email code.
    let mails = world.emulator.mailbox(EMAIL).len();
    let authorize = start_sign_in(world, "4", &flows::callback_prefix(redirect));
    // The person does not pick the passkey from the email field's autofill
    // (which the virtual authenticator would answer by itself) ...
    world.browser.disable_passkey_autofill();
    browser
        .navigate(&authorize)
        .expect("open the authorize URL");
    wait_visible(browser, "#passkey-button");
    world.shot_browser("4-login-page-with-passkey");
    assert!(
        world.app().find("signed-out").is_some(),
        "not signed in before choosing the passkey"
    );
    // ... they click "Continue with Passkey".
    hosted::continue_with_passkey(&world.browser);
    flows::return_to_app(world, redirect);
    world.shot_browser("4-browser-back-to-app");
    world.app().wait_visible("signed-in");
    world
        .app()
        .wait_text("account-email", EMAIL, |t| t == EMAIL);
    world
        .app()
        .wait_text("passkey-name", NEW_NAME, |t| t == NEW_NAME);
    world.shot_window("4-signed-in-with-passkey");
    assert_eq!(
        world.emulator.mailbox(EMAIL).len(),
        mails,
        "no email code was sent"
    );
    assert_eq!(
        world.stored_session()["account"]["subject"],
        user_id.as_str()
    );

    // Step 5 — Quit and start again: still signed in, no browser opened.
    world.quit_app();
    world.launch_app(redirect);
    world.app().wait_visible("signed-in");
    world
        .app()
        .wait_text("account-email", EMAIL, |t| t == EMAIL);
    world
        .app()
        .wait_text("passkey-name", NEW_NAME, |t| t == NEW_NAME);
    world.shot_window("5-restarted-still-signed-in");
    assert_eq!(world.inbox.pending(), 0, "the restart opened no browser");

    // From the keyboard alone: Enter on "Remove" opens the confirmation
    // with the focus on Cancel, Escape closes it, nothing is removed and the
    // focus is back on "Remove".
    keyboard_opens_and_escape_cancels_the_removal(world, &user_id);

    // Step 7 — Remove with its confirmation: the list is empty, and the
    // environment agrees.
    world.app().click("remove-button");
    world.app().wait_visible("confirm-dialog");
    let question = world
        .app()
        .wait_text("confirm-dialog", "the passkey's name", |t| {
            t.contains(NEW_NAME)
        });
    // The virtual authenticator's model is unknown: the question says where
    // such a passkey stays, not "in Passkey".
    assert!(
        question.contains(
            "It stays on its device or in its password manager until you delete it there too."
        ),
        "{question}"
    );
    world.app().wait_visible("last-passkey-warning");
    world.shot_window("7-confirm-removal");
    world.app().click("confirm-remove");
    world.app().wait_visible("passkeys-empty");
    // The notice says the passkey itself is still with its provider.
    world
        .app()
        .wait_text("notice-text", "where the passkey is still saved", |t| {
            t.starts_with("Removed “")
                && t.contains("still saved")
                && t.contains("delete it there too")
        });
    world.shot_window("7-removed");
    assert!(
        world.emulator.credentials(&user_id).is_empty(),
        "the environment has no passkey left"
    );
    user_id
}

/// Enter on the focused "Remove" opens the dialog on Cancel; Escape closes
/// it, nothing changes, and the focus returns to "Remove".
fn keyboard_opens_and_escape_cancels_the_removal(world: &World, user_id: &str) {
    let app = world.app();
    let session = app.session();
    let remove = app.wait_visible("remove-button");
    session
        .execute("arguments[0].focus(); return true;", vec![remove.to_json()])
        .expect("focus Remove");
    assert_eq!(world.app().focused_testid(), "remove-button");
    let active = session.active_element().expect("the focused button");
    session.send_keys(&active, "\u{E007}").expect("press Enter");
    app.wait_visible("confirm-dialog");
    wait_for("the focus on Cancel", UI_TIMEOUT, || {
        (world.app().focused_testid() == "confirm-cancel").then_some(())
    });
    let cancel = session.active_element().expect("the focused Cancel");
    session
        .send_keys(&cancel, "\u{E00C}")
        .expect("press Escape");
    app.wait_gone("confirm-dialog");
    wait_for("the focus back on Remove", UI_TIMEOUT, || {
        (world.app().focused_testid() == "remove-button").then_some(())
    });
    assert_eq!(
        world.emulator.credentials(user_id).len(),
        1,
        "Escape removed nothing"
    );
}

/// A claim of a JWT's payload, read without checking the signature.
fn jwt_claim(token: &str, name: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON claims");
    claims[name].as_str().expect("a string claim").to_owned()
}

/// The environment the app of `world` is started with.
fn configured(world: &World) -> Vec<(String, String)> {
    world.app_config(Redirect::Loopback).env
}

/// Opens the rename field of the only passkey and submits `name`.
fn rename_in_window(world: &World, name: &str) {
    world.app().click("rename-button");
    world.app().replace_text("rename-input", name);
    world.app().click("rename-save");
}

/// The provider name the window shows for a credential of the API: a
/// generic name ("Passkey" for the virtual authenticator's all-zero AAGUID)
/// names no provider.
fn expected_provider(credential: &Value) -> String {
    match credential["authenticator"]["name"].as_str().map(str::trim) {
        Some(name) if !name.is_empty() && !scalekit_wire::is_generic_authenticator_name(name) => {
            name.to_owned()
        }
        _ => "Unknown provider".to_owned(),
    }
}

/// The README shows the signed-in passkey list of a real run: with
/// `PASSKEYS_E2E_README_SCREENSHOT=1` the run refreshes
/// `docs/screenshots/passkeys-list.png` (otherwise every run would change a
/// committed file).
fn copy_for_readme(world: &World, step: &str) {
    let source = world
        .screenshot_path(step, "window")
        .expect("the list screenshot");
    if std::env::var("PASSKEYS_E2E_README_SCREENSHOT").as_deref() != Ok("1") {
        return;
    }
    let docs = workspace_dir().join("docs/screenshots");
    std::fs::create_dir_all(&docs).expect("docs/screenshots");
    std::fs::copy(&source, docs.join("passkeys-list.png"))
        .expect("copy the screenshot for the README");
}
