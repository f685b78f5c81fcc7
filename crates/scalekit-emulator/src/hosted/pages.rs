//! HTML templates of the sign-in pages. Every value that comes from a user or
//! a request goes through [`esc`] (text) or [`attr`] (attribute values).

use axum::http::{header, HeaderValue, StatusCode};

pub use super::sign_out_pages::{sign_out_page, signed_out_page};
use axum::response::{IntoResponse, Response};

/// Content-Security-Policy of every hosted page: no inline script or style,
/// scripts and styles only from this origin, images from here or `data:`.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Escapes text content.
pub fn esc(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

/// Escapes a double-quoted attribute value.
pub fn attr(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// An HTML response with the hosted pages' security headers.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, axum::response::Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The page skeleton. `main_attrs` are pre-escaped attributes of `<main>`.
pub fn layout(title: &str, main_attrs: &str, content: &str, scripts: &[&str]) -> String {
    let mut tags = String::new();
    for script in scripts {
        tags.push_str(&format!(
            "<script src=\"/ui/assets/{script}\" defer></script>"
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} · Scalekit (local)</title>\
         <link rel=\"stylesheet\" href=\"/ui/assets/hosted.css\">{tags}</head>\
         <body><main{main_attrs}><div class=\"brand\"><span class=\"logo\"></span>Scalekit (local)</div>\
         {content}</main></body></html>",
        title = esc(title),
    )
}

/// A small key icon (inline SVG, so it needs no emoji font).
pub const KEY_ICON: &str = "<svg class=\"icon\" viewBox=\"0 0 24 24\" width=\"18\" height=\"18\" \
    aria-hidden=\"true\"><circle cx=\"8\" cy=\"12\" r=\"4\" fill=\"none\" stroke=\"currentColor\" \
    stroke-width=\"2\"/><path d=\"M12 12h9M18 12v3M21 12v2\" fill=\"none\" stroke=\"currentColor\" \
    stroke-width=\"2\" stroke-linecap=\"round\"/></svg>";

/// An error or notice box, or nothing.
fn alert(message: Option<&str>) -> String {
    message
        .map(|m| {
            format!(
                "<div class=\"alert\" id=\"error\" role=\"alert\">{}</div>",
                esc(m)
            )
        })
        .unwrap_or_default()
}

/// A hidden form field.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        attr(name),
        attr(value)
    )
}

/// What the sign-in page shows.
#[derive(Debug, Default)]
pub struct LoginPage<'a> {
    /// The authorization request being continued.
    pub auth_request: Option<&'a str>,
    /// Where to go after signing in (without an authorization request).
    pub next: Option<&'a str>,
    /// Sign-up wording.
    pub signup: bool,
    /// Pre-filled address (`login_hint`, or what was typed).
    pub email: &'a str,
    /// CSRF token for the form and the passkey endpoints.
    pub csrf: &'a str,
    /// Show "Continue with Passkey".
    pub passkeys: bool,
    /// An error to show above the form.
    pub error: Option<&'a str>,
}

/// The sign-in / sign-up page.
pub fn login_page(page: &LoginPage<'_>) -> String {
    let (title, lead, button) = if page.signup {
        (
            "Create your account",
            "Enter your email and we will send you a code to verify it.",
            "Sign up with email",
        )
    } else {
        (
            "Sign in",
            "Welcome back. Enter your email to get a sign-in code.",
            "Continue with email",
        )
    };
    let mut form =
        String::from("<form method=\"post\" action=\"/ui/login/email\" id=\"email-form\">");
    form.push_str(&hidden("csrf", page.csrf));
    if let Some(id) = page.auth_request {
        form.push_str(&hidden("auth_request", id));
    }
    if let Some(next) = page.next {
        form.push_str(&hidden("next", next));
    }
    if page.signup {
        form.push_str(&hidden("mode", "signup"));
    }
    form.push_str(&format!(
        "<label for=\"email\">Email</label>\
         <input type=\"email\" id=\"email\" name=\"email\" value=\"{}\" required maxlength=\"254\" \
         autocomplete=\"username webauthn\" autofocus placeholder=\"you@example.com\">\
         <button type=\"submit\" id=\"email-submit\">{button}</button></form>",
        attr(page.email)
    ));
    let passkey = if page.passkeys {
        format!(
            "<div class=\"divider\">or</div>\
             <div class=\"alert hidden\" id=\"passkey-error\" role=\"alert\"></div>\
             <button type=\"button\" class=\"secondary\" id=\"passkey-button\">{KEY_ICON} Continue with Passkey</button>"
        )
    } else {
        String::new()
    };
    let switch = if page.signup {
        "Already have an account? Use the same form to sign in."
    } else {
        "New here? Signing in with a new email creates your account."
    };
    let content = format!(
        "<div class=\"card\"><h1>{title}</h1><p class=\"lead\">{lead}</p>{}{form}{passkey}</div>\
         <p class=\"foot\">{switch}</p>",
        alert(page.error)
    );
    let main_attrs = format!(
        " data-csrf=\"{}\" data-passkeys=\"{}\" data-auth-request=\"{}\" data-next=\"{}\"",
        attr(page.csrf),
        if page.passkeys { "on" } else { "off" },
        attr(page.auth_request.unwrap_or("")),
        attr(page.next.unwrap_or("")),
    );
    let scripts: &[&str] = if page.passkeys {
        &["webauthn.js", "login.js"]
    } else {
        &[]
    };
    layout(title, &main_attrs, &content, scripts)
}

/// What the code-entry page shows.
#[derive(Debug)]
pub struct CodePage<'a> {
    /// The email challenge.
    pub challenge: &'a str,
    /// Where the code went.
    pub email: &'a str,
    /// Where to go afterwards (no authorization request).
    pub next: Option<&'a str>,
    /// The authorization request the sign-in continues, for "Use a different email".
    pub auth_request: Option<&'a str>,
    /// CSRF token bound to the challenge.
    pub csrf: &'a str,
    /// An error to show above the form.
    pub error: Option<&'a str>,
}

/// "Check your email": the 6-digit code form.
pub fn code_page(page: &CodePage<'_>) -> String {
    let mut form =
        String::from("<form method=\"post\" action=\"/ui/login/verify\" id=\"code-form\">");
    form.push_str(&hidden("csrf", page.csrf));
    form.push_str(&hidden("challenge", page.challenge));
    if let Some(next) = page.next {
        form.push_str(&hidden("next", next));
    }
    form.push_str(
        "<label for=\"code\">Verification code</label>\
         <input type=\"text\" class=\"code\" id=\"code\" name=\"code\" inputmode=\"numeric\" \
         pattern=\"[0-9]{6}\" maxlength=\"6\" autocomplete=\"one-time-code\" required autofocus>\
         <button type=\"submit\" id=\"code-submit\">Verify</button></form>",
    );
    let content = format!(
        "<div class=\"card\"><h1>Check your email</h1>\
         <p class=\"lead\">We sent a 6-digit code to <strong id=\"code-email\">{}</strong>. \
         Enter it below, or open the link in that email. It expires in 10 minutes.</p>{}{form}</div>\
         <p class=\"foot\"><a href=\"{}\" id=\"start-over\">Use a different email</a></p>",
        esc(page.email),
        alert(page.error),
        attr(&restart_url(page.auth_request, page.next)),
    );
    layout("Check your email", "", &content, &[])
}

/// The sign-in page for the same flow.
fn restart_url(auth_request: Option<&str>, next: Option<&str>) -> String {
    match (auth_request, next) {
        (Some(id), _) => format!("/ui/login?auth_request={}", urlencode(id)),
        (None, Some(next)) => format!("/ui/login?next={}", urlencode(next)),
        (None, None) => "/ui/login".to_owned(),
    }
}

/// A page with a title, a message and a link back to sign-in.
pub fn message_page(title: &str, message: &str) -> String {
    let content = format!(
        "<div class=\"card\"><h1>{}</h1><p class=\"lead\" id=\"error-message\">{}</p>\
         <a class=\"button secondary\" href=\"/ui/login\">Back to sign in</a></div>",
        esc(title),
        esc(message)
    );
    layout(title, "", &content, &[])
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "\"><script>alert(1)</script>";

    #[test]
    fn user_values_are_escaped_everywhere() {
        let page = login_page(&LoginPage {
            auth_request: Some(HOSTILE),
            next: Some(HOSTILE),
            email: HOSTILE,
            csrf: HOSTILE,
            passkeys: true,
            error: Some(HOSTILE),
            ..LoginPage::default()
        });
        let code = code_page(&CodePage {
            auth_request: Some(HOSTILE),
            challenge: HOSTILE,
            email: HOSTILE,
            next: Some(HOSTILE),
            csrf: HOSTILE,
            error: Some(HOSTILE),
        });
        let message = message_page(HOSTILE, HOSTILE);
        for html in [page, code, message] {
            assert!(!html.contains("<script>alert"), "{html}");
            assert!(!html.contains(HOSTILE), "{html}");
        }
    }

    #[test]
    fn passkey_button_only_when_enabled() {
        let on = login_page(&LoginPage {
            passkeys: true,
            ..LoginPage::default()
        });
        let off = login_page(&LoginPage::default());
        assert!(on.contains("Continue with Passkey") && on.contains("login.js"));
        assert!(!off.contains("Continue with Passkey") && !off.contains("login.js"));
        assert!(on.contains("autocomplete=\"username webauthn\""));
    }

    #[test]
    fn signup_changes_the_wording() {
        let page = login_page(&LoginPage {
            signup: true,
            ..LoginPage::default()
        });
        assert!(
            page.contains("Create your account") && page.contains("name=\"mode\" value=\"signup\"")
        );
    }
}
