//! Hostile passkey names: markup is kept verbatim as text (the UI shows it
//! with text nodes, checked in the root `tests/attack_webview.rs`); control
//! characters, 121 characters and blank names are refused before any request
//! and the stored name stays as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{signed_in, Env};
use passkeys_core::{ErrorKind, UiError, DISPLAY_NAME_MAX_CHARS};
use scalekit_emulator::db::NewPasskey;
use scalekit_emulator::testing;
use serde_json::json;

async fn add_passkey(env: &Env, user_id: &str, name: &str) -> String {
    let new = NewPasskey {
        user_id: user_id.to_string(),
        passkey_json: "{}".into(),
        credential_id: "q83vEjRWeJA=".into(),
        attachment: Some("platform".into()),
        user_present: true,
        user_verified: true,
        display_name: Some(name.into()),
        user_agent: json!({}),
        client_info: json!({}),
        ..NewPasskey::default()
    };
    testing::store_passkey(&env.emulator, new).await.unwrap().id
}

#[tokio::test]
async fn markup_in_names_is_kept_as_text() {
    let env = Env::start().await;
    let (client, config, store, _) = signed_in(&env).await;
    let subject = store.session(&config).await.unwrap().account.subject;
    let id = add_passkey(&env, &subject, "<b>from the server</b>").await;
    assert_eq!(
        client.list_passkeys().await.unwrap()[0].display_name,
        "<b>from the server</b>"
    );

    for name in [
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>",
        "&lt;already escaped&gt; &amp;",
        "javascript:alert(1)",
        "{{constructor.constructor('alert(1)')()}}",
    ] {
        let renamed = client.rename_passkey(&id, name).await.unwrap();
        assert_eq!(renamed.display_name, name);
        let listed = client.list_passkeys().await.unwrap();
        assert_eq!(listed[0].display_name, name, "stored and shown verbatim");
    }
}

#[tokio::test]
async fn invalid_names_are_refused_before_any_request_and_change_nothing() {
    let env = Env::start().await;
    let (client, config, store, _) = signed_in(&env).await;
    let subject = store.session(&config).await.unwrap().account.subject;
    let id = add_passkey(&env, &subject, "My laptop").await;
    let before = env.api_requests();
    let too_long = "n".repeat(DISPLAY_NAME_MAX_CHARS + 1);
    let too_many_emoji = "\u{1F511}".repeat(DISPLAY_NAME_MAX_CHARS + 1);
    let table: [(&str, &str); 9] = [
        ("121 characters", &too_long),
        ("121 emoji", &too_many_emoji),
        ("only spaces", "        "),
        ("empty", ""),
        ("a line break", "My\nlaptop"),
        ("a tab", "My\tlaptop"),
        ("a NUL", "My\u{0}laptop"),
        ("an escape sequence", "\u{1b}[31mred"),
        ("a DEL", "My\u{7f}laptop"),
    ];
    for (what, name) in table {
        let error = client.rename_passkey(&id, name).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{what}");
        let shown = UiError::from(error);
        assert!(
            shown.message.starts_with("Enter a name")
                || shown.message.contains("control characters")
                || shown
                    .message
                    .contains(&format!("at most {DISPLAY_NAME_MAX_CHARS}")),
            "{what}: {}",
            shown.message
        );
    }
    assert_eq!(env.api_requests(), before, "nothing was sent");
    assert_eq!(
        client.list_passkeys().await.unwrap()[0].display_name,
        "My laptop",
        "the name is unchanged"
    );

    // The limits themselves are accepted (trimmed, counted in characters).
    let exactly = "\u{1F511}".repeat(DISPLAY_NAME_MAX_CHARS);
    let renamed = client
        .rename_passkey(&id, &format!("  {exactly}  "))
        .await
        .unwrap();
    assert_eq!(renamed.display_name, exactly);
}

#[tokio::test]
async fn hostile_passkey_ids_are_refused_before_any_request() {
    let env = Env::start().await;
    let (client, _, _, _) = signed_in(&env).await;
    let before = env.api_requests();
    let long = "w".repeat(513);
    for id in ["", ".", "..", "wac_1\n", long.as_str()] {
        let error = client.remove_passkey(id).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{id:.20}");
    }
    assert_eq!(env.api_requests(), before);

    // Path tricks stay inside the credentials collection (percent-encoded).
    for id in [
        "../../oauth/token",
        "wac_1?user_id=usr_other",
        "wac_1#x",
        "%2e%2e",
    ] {
        let error = client.remove_passkey(id).await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::NotFound | ErrorKind::Forbidden),
            "{id}: {error}"
        );
    }
    let requests = env.proxy.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .filter(|line| line.starts_with("DELETE "))
            .all(
                |line| line.starts_with("DELETE /api/v1/webauthn/credentials/")
                    && !line.contains("/../")
                    && !line.contains('?')
            ),
        "{requests:?}"
    );
}
