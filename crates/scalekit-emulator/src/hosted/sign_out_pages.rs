//! HTML of `/oidc/logout`: "Sign out?" for a request that cannot prove it
//! comes from the session's own app, and the signed-out page.

use super::pages::{attr, esc, layout};

/// "Sign out of this environment?" for `email`: a form that posts `carried`
/// (the request's return address, `state` and client) back to
/// `/oidc/logout` with `csrf`.
pub fn sign_out_page(email: &str, csrf: &str, carried: &[(&str, &str)]) -> String {
    let mut fields = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        attr(csrf)
    );
    for (name, value) in carried {
        fields.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            attr(name),
            attr(value)
        ));
    }
    let content = format!(
        "<div class=\"card\"><h1 id=\"sign-out-question\">Sign out?</h1>\
         <p class=\"lead\">You are signed in as <strong id=\"current-email\">{}</strong>. \
         A page or an app asked to sign you out of this environment.</p>\
         <form method=\"post\" action=\"/oidc/logout\">{fields}\
         <button type=\"submit\" id=\"confirm-sign-out\">Sign out</button></form>\
         <a class=\"button secondary\" id=\"stay-signed-in\" href=\"/ui/profile/passkeys\">Stay signed in</a></div>",
        esc(email)
    );
    layout("Sign out?", "", &content, &[])
}

/// "You are signed out", with `note`.
pub fn signed_out_page(note: &str) -> String {
    let content = format!(
        "<div class=\"card\"><h1>You are signed out</h1><p class=\"lead\" id=\"signed-out\">{}</p></div>",
        esc(note)
    );
    layout("Signed out", "", &content, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "\"><script>alert(1)</script>";

    #[test]
    fn values_are_escaped() {
        let confirm = sign_out_page(HOSTILE, HOSTILE, &[(HOSTILE, HOSTILE)]);
        let done = signed_out_page(HOSTILE);
        for html in [confirm, done] {
            assert!(!html.contains("<script>alert"), "{html}");
            assert!(!html.contains(HOSTILE), "{html}");
        }
    }
}
