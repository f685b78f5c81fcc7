//! "Continue as <email> to <app>?": what a native client's request shows
//! before a code is issued with a live session, or with a magic link opened
//! in any browser. It names the app and where its code goes: the loopback
//! redirect's host and port, the scheme of a link the system hands to an
//! app, or the web site's host.

use url::{Host, Url};

use super::pages::{attr, esc, hidden, layout, urlencode};

/// The "Continue as" page of one sign-in request.
#[derive(Debug)]
pub struct ContinuePage<'a> {
    /// The account the code would be for.
    pub email: &'a str,
    /// The requesting client's name (empty: "the app").
    pub client: &'a str,
    /// The request's redirect URI: where the code goes.
    pub redirect_uri: &'a str,
    /// The sign-in request ("Use another account" goes back to its form).
    pub auth_request: &'a str,
    /// Where "Continue" posts.
    pub action: &'a str,
    /// The form's hidden fields (its CSRF token among them).
    pub fields: &'a [(&'a str, &'a str)],
}

/// Where a code sent to `redirect_uri` ends up, as the page says it: the
/// part to show, and what it is.
pub fn destination(redirect_uri: &str) -> (String, &'static str) {
    let Ok(url) = Url::parse(redirect_uri) else {
        return (redirect_uri.to_owned(), "");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return (
            format!("{}:", url.scheme()),
            ", the app this computer opens for such links",
        );
    }
    let host = url.host_str().unwrap_or_default();
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match (loopback, url.port(), url.port_or_known_default()) {
        (true, _, Some(port)) => (format!("{host}:{port}"), ", a program on this computer"),
        (false, Some(port), _) => (format!("{host}:{port}"), ""),
        _ => (host.to_owned(), ""),
    }
}

/// The page.
pub fn continue_page(page: &ContinuePage<'_>) -> String {
    let initial = page
        .email
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    let other = format!(
        "/ui/login?auth_request={}&account=other",
        urlencode(page.auth_request)
    );
    let client = if page.client.is_empty() {
        "the app"
    } else {
        page.client
    };
    let (target, what) = destination(page.redirect_uri);
    let fields: String = page
        .fields
        .iter()
        .map(|(name, value)| hidden(name, value))
        .collect();
    let content = format!(
        "<div class=\"card\"><h1 id=\"continue-question\">Continue as {email} to {client}?</h1>\
         <p class=\"lead\">An app asked to sign in with your account. \
         Continue only if you just started signing in to {client}.</p>\
         <p class=\"muted\">The sign-in goes to <strong id=\"redirect-target\">{target}</strong>{what}.</p>\
         <div class=\"account\"><span class=\"avatar\">{initial}</span><span id=\"current-email\">{email}</span></div>\
         <form method=\"post\" action=\"{action}\">{fields}\
         <button type=\"submit\" id=\"continue-as\">Continue as {email}</button></form>\
         <a class=\"button secondary\" id=\"use-another\" href=\"{other}\">Use another account</a></div>",
        initial = esc(&initial),
        target = esc(&target),
        action = attr(page.action),
        other = attr(&other),
        email = esc(page.email),
        client = esc(client),
    );
    layout("Continue to the app", "", &content, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_names_host_and_port_or_scheme() {
        let cases = [
            ("http://127.0.0.1:53123/callback", "127.0.0.1:53123"),
            ("http://[::1]:8080/cb", "[::1]:8080"),
            ("http://localhost/cb", "localhost:80"),
            ("dev.passkeys.desktop:/callback", "dev.passkeys.desktop:"),
            ("https://app.example.com/cb", "app.example.com"),
            ("https://app.example.com:8443/cb", "app.example.com:8443"),
        ];
        for (uri, shown) in cases {
            assert_eq!(destination(uri).0, shown, "{uri}");
        }
        assert!(destination("http://127.0.0.1:1/")
            .1
            .contains("this computer"));
        assert!(destination("dev.passkeys.desktop:/callback")
            .1
            .contains("links"));
    }

    #[test]
    fn values_are_escaped() {
        let hostile = "\"><script>alert(1)</script>";
        let page = continue_page(&ContinuePage {
            email: hostile,
            client: hostile,
            redirect_uri: "x-evil\"<b>:/cb",
            auth_request: hostile,
            action: hostile,
            fields: &[("csrf", hostile)],
        });
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains(hostile), "{page}");
        assert!(!page.contains("<b>"), "{page}");
    }
}
