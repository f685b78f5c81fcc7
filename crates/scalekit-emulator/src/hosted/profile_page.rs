//! HTML of `/ui/profile/passkeys`.

use serde_json::Value;

use super::pages::{attr, esc, layout, KEY_ICON};
use crate::aaguid;
use crate::db::StoredPasskey;
use scalekit_wire::credential::AllAcceptedCredentialsOptions;

/// The page for `email` with their passkeys; `accepted` is what the page
/// tells the browser with WebAuthn's `signalAllAcceptedCredentials`; `csrf`
/// goes to the JSON calls, `logout_csrf` to the sign-out form.
pub fn render(
    email: &str,
    passkeys: &[StoredPasskey],
    accepted: &AllAcceptedCredentialsOptions,
    csrf: &str,
    logout_csrf: &str,
    passkeys_enabled: bool,
) -> String {
    let mut list = String::new();
    for passkey in passkeys {
        list.push_str(&item(passkey));
    }
    if passkeys.is_empty() {
        list.push_str("<li class=\"empty\" id=\"no-passkeys\">No passkeys yet. Add one to sign in without a code.</li>");
    }
    let add = if passkeys_enabled {
        "<button type=\"button\" id=\"add-passkey\">Add a passkey</button>".to_owned()
    } else {
        "<div class=\"alert\" id=\"passkeys-off\">Passkeys are turned off for this environment.</div>".to_owned()
    };
    let content = format!(
        "<div class=\"topbar\"><span class=\"who\">Signed in as <strong id=\"profile-email\">{}</strong></span>\
         <form method=\"post\" action=\"/oidc/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" class=\"small secondary\" id=\"sign-out\">Sign out</button></form></div>\
         <div class=\"card\"><h1>Passkeys</h1>\
         <p class=\"lead\">Passkeys let you sign in with your fingerprint, face, screen lock or a security key \
         instead of an emailed code.</p>\
         <div class=\"alert hidden\" id=\"profile-error\" role=\"alert\"></div>\
         <p class=\"alert ok hidden\" id=\"signal-status\" role=\"status\"></p>\
         <ul class=\"passkeys\" id=\"passkey-list\" data-all-accepted=\"{}\">{list}</ul>{add}</div>",
        esc(email),
        attr(logout_csrf),
        attr(&serde_json::to_string(accepted).unwrap_or_default())
    );
    let main_attrs = format!(" class=\"wide\" data-csrf=\"{}\"", attr(csrf));
    layout(
        "Passkeys",
        &main_attrs,
        &content,
        &["webauthn.js", "profile.js"],
    )
}

fn item(passkey: &StoredPasskey) -> String {
    let known = passkey.aaguid.as_deref().and_then(aaguid::lookup);
    let provider = known
        .as_ref()
        .map(|a| a.name.clone())
        .unwrap_or_else(|| aaguid::display_name(None, passkey.attachment.as_deref()));
    let icon = match known.as_ref().and_then(|a| a.icon_light.as_deref()) {
        Some(uri) => format!("<img src=\"{}\" alt=\"\">", attr(uri)),
        None => KEY_ICON.to_owned(),
    };
    let name = passkey
        .display_name
        .clone()
        .unwrap_or_else(|| provider.clone());
    let sync = if passkey.backup_state {
        "Synced"
    } else {
        "This device only"
    };
    let mut meta = vec![
        esc(&provider),
        format!("Added {}", esc(&short_date(&passkey.created_at))),
    ];
    if let Some(origin) = registered_from(&passkey.user_agent, &passkey.client_info) {
        meta.push(format!("from {}", esc(&origin)));
    }
    let id = attr(&passkey.id);
    format!(
        "<li data-passkey-id=\"{id}\"><span class=\"pk-icon\">{icon}</span><div class=\"pk-body\">\
         <div class=\"pk-name\">{}<span class=\"badge\">{sync}</span></div>\
         <div class=\"pk-meta\">{}</div>\
         <form class=\"inline hidden\" id=\"rename-{id}\" data-passkey=\"{id}\">\
         <input type=\"text\" name=\"display_name\" value=\"{}\" maxlength=\"{max}\" required aria-label=\"Passkey name\">\
         <button type=\"submit\" class=\"small\">Save</button></form></div>\
         <div class=\"pk-actions\"><button type=\"button\" class=\"small secondary\" data-rename=\"{id}\">Rename</button>\
         <button type=\"button\" class=\"small secondary danger\" data-remove=\"{id}\">Remove</button></div></li>",
        esc(&name),
        meta.join(" · "),
        attr(&name),
        max = scalekit_wire::DISPLAY_NAME_MAX_CHARS,
    )
}

/// "Chrome on Linux, Local" from the stored `user_agent` and `client_info`.
fn registered_from(user_agent: &Value, client_info: &Value) -> Option<String> {
    let field = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let browser = field(user_agent, "browser");
    let os = field(user_agent, "os");
    let place = field(client_info, "city");
    let mut text = match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => return place,
    };
    if let Some(place) = place {
        text.push_str(&format!(", {place}"));
    }
    Some(text)
}

/// `2025-02-15T06:23:44.560Z` → `15 Feb 2025` (the input itself if it does not parse).
fn short_date(stamp: &str) -> String {
    let parsed = time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339);
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    parsed
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| stamp.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(name: &str) -> StoredPasskey {
        StoredPasskey {
            id: "wac_1".into(),
            user_id: "usr_1".into(),
            credential_id: "AAAA".into(),
            passkey_json: "{}".into(),
            attestation_type: Some("none".into()),
            aaguid: Some("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4".into()),
            attachment: Some("platform".into()),
            transports: vec!["internal".into()],
            user_present: true,
            user_verified: true,
            backup_eligible: true,
            backup_state: true,
            display_name: Some(name.into()),
            user_agent: json!({"browser": "Chrome", "os": "Linux"}),
            client_info: json!({"city": "Local"}),
            created_at: "2025-02-15T06:23:44.560Z".into(),
            updated_at: "2025-02-15T06:23:44.560Z".into(),
        }
    }

    #[test]
    fn lists_passkeys_with_provider_and_origin() {
        let accepted = AllAcceptedCredentialsOptions {
            rp_id: Some("localhost".into()),
            user_id: Some("dXNlcg".into()),
            all_accepted_credential_ids: Some(vec!["q83vEjRWeJA".into()]),
        };
        let html = render(
            "a@example.com",
            &[stored("Work laptop")],
            &accepted,
            "tok",
            "out",
            true,
        );
        for needle in [
            "Work laptop",
            "Google Password Manager",
            "Synced",
            "15 Feb 2025",
            "Chrome on Linux, Local",
            "add-passkey",
            "data-all-accepted=\"{&quot;rp_id&quot;:&quot;localhost&quot;,&quot;user_id&quot;:&quot;dXNlcg&quot;,&quot;all_accepted_credential_ids&quot;:[&quot;q83vEjRWeJA&quot;]}\"",
        ] {
            assert!(html.contains(needle), "{needle} missing");
        }
        assert!(html.contains("data:image/svg+xml;base64,"));
    }

    #[test]
    fn names_are_escaped_and_add_is_hidden_when_off() {
        let html = render(
            "<b>@x.y",
            &[stored("<img src=x onerror=alert(1)>")],
            &AllAcceptedCredentialsOptions::default(),
            "tok",
            "out",
            false,
        );
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<b>@x.y"));
        assert!(!html.contains("add-passkey") && html.contains("passkeys-off"));
        let empty = render(
            "a@example.com",
            &[],
            &AllAcceptedCredentialsOptions::default(),
            "tok",
            "out",
            true,
        );
        assert!(empty.contains("No passkeys yet"));
    }
}
