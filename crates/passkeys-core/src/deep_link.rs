//! Deep links (RFC 8252 §7.1): the OS hands the app a URL with its private-use scheme.
//!
//! Three links are understood: the configured redirect URI with a query
//! (`dev.passkeys.desktop:/callback?code=…&state=…`), which completes the
//! pending sign-in; `<scheme>://sign-in`, which starts one; and the
//! post-logout redirect URI (`dev.passkeys.desktop:/signed-out`, with or
//! without a query, which is ignored), where the environment's end-session
//! page sends the browser after sign-out. Everything else is refused with a
//! message the app shows as a notice.

use url::Url;

use crate::error::{Error, Result};

/// Longest deep link accepted.
pub const MAX_DEEP_LINK_LEN: usize = 4096;

/// What a deep link asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeepLinkAction {
    /// `<scheme>://sign-in`: the app should start a sign-in.
    StartSignIn,
    /// The redirect with the right `state`: handed to the pending sign-in,
    /// whose `sign_in` call returns the outcome.
    CompletedSignIn,
    /// `<scheme>:/signed-out`: the environment's end-session page came back
    /// after sign-out. Nothing changed (the keychain was purged before the
    /// page opened); the app should come forward, signed out.
    SignedOut,
}

/// A deep link whose shape is right; the state is checked by the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParsedDeepLink {
    StartSignIn,
    Callback { query: String },
    SignedOut,
}

/// The deep links an app configuration understands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeepLinks<'a> {
    /// The private-use scheme (`<scheme>://sign-in`).
    pub scheme: &'a str,
    /// The deep-link redirect URI (`None` in loopback mode).
    pub redirect_uri: Option<&'a Url>,
    /// The post-logout redirect URI, when it is a link of `scheme`.
    pub signed_out: Option<&'a Url>,
}

/// Classifies a deep link by its shape only.
pub(crate) fn parse_deep_link(link: &str, links: DeepLinks<'_>) -> Result<ParsedDeepLink> {
    let DeepLinks {
        scheme,
        redirect_uri,
        signed_out,
    } = links;
    if link.len() > MAX_DEEP_LINK_LEN {
        return Err(refused(&format!(
            "it is longer than {MAX_DEEP_LINK_LEN} characters"
        )));
    }
    if link.contains('#') || link.chars().any(char::is_control) {
        return Err(refused("it has a fragment or control characters"));
    }
    let (base, query) = match link.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (link, None),
    };
    if query.is_none() && same_uri(base, &format!("{scheme}://sign-in")) {
        return Ok(ParsedDeepLink::StartSignIn);
    }
    if let (Some(redirect_uri), Some(query)) = (redirect_uri, query) {
        if same_uri(base, redirect_uri.as_str()) {
            return Ok(ParsedDeepLink::Callback {
                query: query.to_string(),
            });
        }
    }
    if let Some(signed_out) = signed_out {
        let expected = signed_out.as_str();
        let expected = expected.split_once('?').map_or(expected, |(base, _)| base);
        if same_uri(base, expected) && same_scheme(base, scheme) {
            return Ok(ParsedDeepLink::SignedOut);
        }
    }
    Err(refused("the app does not handle this address"))
}

fn same_scheme(link: &str, scheme: &str) -> bool {
    link.split_once(':')
        .is_some_and(|(link_scheme, _)| link_scheme.eq_ignore_ascii_case(scheme))
}

/// Compares two URIs without query: scheme case-insensitively, the rest exactly.
fn same_uri(left: &str, right: &str) -> bool {
    match (left.split_once(':'), right.split_once(':')) {
        (Some((left_scheme, left_rest)), Some((right_scheme, right_rest))) => {
            left_scheme.eq_ignore_ascii_case(right_scheme) && left_rest == right_rest
        }
        _ => false,
    }
}

pub(crate) fn refused(reason: &str) -> Error {
    Error::InvalidInput(format!(
        "A link was opened in the app and ignored: {reason}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect() -> Url {
        Url::parse("dev.passkeys.desktop:/callback").unwrap()
    }

    fn signed_out() -> Url {
        Url::parse("dev.passkeys.desktop:/signed-out").unwrap()
    }

    fn parse(link: &str) -> Result<ParsedDeepLink> {
        parse_deep_link(
            link,
            DeepLinks {
                scheme: "dev.passkeys.desktop",
                redirect_uri: Some(&redirect()),
                signed_out: Some(&signed_out()),
            },
        )
    }

    #[test]
    fn understands_sign_in_and_callback() {
        assert_eq!(
            parse("dev.passkeys.desktop://sign-in").unwrap(),
            ParsedDeepLink::StartSignIn
        );
        assert_eq!(
            parse("DEV.passkeys.desktop://sign-in").unwrap(),
            ParsedDeepLink::StartSignIn
        );
        assert_eq!(
            parse("dev.passkeys.desktop:/callback?code=c&state=s").unwrap(),
            ParsedDeepLink::Callback {
                query: "code=c&state=s".into()
            }
        );
    }

    #[test]
    fn understands_signed_out_with_or_without_a_query() {
        for link in [
            "dev.passkeys.desktop:/signed-out",
            "DEV.Passkeys.Desktop:/signed-out",
            "dev.passkeys.desktop:/signed-out?state=s",
            "dev.passkeys.desktop:/signed-out?",
            "dev.passkeys.desktop:/signed-out?x=1&state=%20",
        ] {
            assert_eq!(parse(link).unwrap(), ParsedDeepLink::SignedOut, "{link}");
        }
    }

    #[test]
    fn signed_out_follows_the_configured_uri() {
        let custom = Url::parse("com.example.app:/bye?from=app").unwrap();
        let links = DeepLinks {
            scheme: "com.example.app",
            redirect_uri: None,
            signed_out: Some(&custom),
        };
        assert_eq!(
            parse_deep_link("com.example.app:/bye?state=s", links).unwrap(),
            ParsedDeepLink::SignedOut
        );
        for link in ["com.example.app:/signed-out", "dev.passkeys.desktop:/bye"] {
            assert!(parse_deep_link(link, links).is_err(), "{link}");
        }
        // Not a link of the app's scheme (an http post-logout URI): never a deep link.
        let web = Url::parse("http://127.0.0.1/signed-out").unwrap();
        let links = DeepLinks {
            signed_out: Some(&web),
            ..links
        };
        assert!(parse_deep_link("http://127.0.0.1/signed-out", links).is_err());
        // No post-logout URI (loopback mode): refused.
        let links = DeepLinks {
            signed_out: None,
            ..links
        };
        assert!(parse_deep_link("com.example.app:/bye", links).is_err());
    }

    #[test]
    fn refuses_other_links() {
        let long = format!(
            "dev.passkeys.desktop:/callback?code=c&state=s&pad={}",
            "a".repeat(10_000)
        );
        let long_signed_out = format!(
            "dev.passkeys.desktop:/signed-out?state={}",
            "a".repeat(MAX_DEEP_LINK_LEN)
        );
        let table = [
            "other.scheme:/callback?code=c&state=s",
            "dev.passkeys.desktop://callback?code=c&state=s",
            "dev.passkeys.desktop:/callback/?code=c&state=s",
            "dev.passkeys.desktop:/Callback?code=c&state=s",
            "dev.passkeys.desktop:/callback",
            "dev.passkeys.desktop://signed-out",
            "dev.passkeys.desktop:/signed-out/",
            "dev.passkeys.desktop:/Signed-out",
            "dev.passkeys.desktop:/signed-out#state=s",
            "dev.passkeys.desktop:/signed-out?state=s#x",
            "dev.passkeys.desktop:/signed-out?state=s\r\n",
            "other.scheme:/signed-out",
            "dev.passkeys.desktop://sign-in?prompt=login",
            "dev.passkeys.desktop://sign-out",
            "dev.passkeys.desktop://evil.example/sign-in",
            "https://evil.example/callback?code=c&state=s",
            "dev.passkeys.desktop:/callback?code=c&state=s#frag",
            "dev.passkeys.desktop:/callback?code=c\n&state=s",
            &long_signed_out,
            "",
            "no-colon-at-all",
            &long,
        ];
        for link in table {
            let error = parse(link).unwrap_err();
            assert!(
                matches!(error, Error::InvalidInput(_)),
                "{link:.60} gave {error:?}"
            );
        }
    }

    #[test]
    fn callback_needs_deep_link_mode() {
        let error = parse_deep_link(
            "dev.passkeys.desktop:/callback?code=c&state=s",
            DeepLinks {
                scheme: "dev.passkeys.desktop",
                redirect_uri: None,
                signed_out: None,
            },
        )
        .unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)));
    }
}
