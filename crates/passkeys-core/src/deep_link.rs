//! Deep links (RFC 8252 §7.1): the OS hands the app a URL with its private-use scheme.
//!
//! Two links are understood: the configured redirect URI with a query
//! (`dev.passkeys.desktop:/callback?code=…&state=…`), which completes the
//! pending sign-in, and `<scheme>://sign-in`, which starts one. Everything
//! else is refused with a message the app shows as a notice.

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
}

/// A deep link whose shape is right; the state is checked by the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParsedDeepLink {
    StartSignIn,
    Callback { query: String },
}

/// Classifies a deep link by its shape only.
///
/// `redirect_uri` is the configured deep-link redirect URI (`None` in loopback mode).
pub(crate) fn parse_deep_link(
    link: &str,
    scheme: &str,
    redirect_uri: Option<&Url>,
) -> Result<ParsedDeepLink> {
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
    Err(refused("the app does not handle this address"))
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

    fn parse(link: &str) -> Result<ParsedDeepLink> {
        parse_deep_link(link, "dev.passkeys.desktop", Some(&redirect()))
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
    fn refuses_other_links() {
        let long = format!(
            "dev.passkeys.desktop:/callback?code=c&state=s&pad={}",
            "a".repeat(10_000)
        );
        let table = [
            "other.scheme:/callback?code=c&state=s",
            "dev.passkeys.desktop://callback?code=c&state=s",
            "dev.passkeys.desktop:/callback/?code=c&state=s",
            "dev.passkeys.desktop:/Callback?code=c&state=s",
            "dev.passkeys.desktop:/callback",
            "dev.passkeys.desktop:/signed-out?x=1",
            "dev.passkeys.desktop://sign-in?prompt=login",
            "dev.passkeys.desktop://sign-out",
            "dev.passkeys.desktop://evil.example/sign-in",
            "https://evil.example/callback?code=c&state=s",
            "dev.passkeys.desktop:/callback?code=c&state=s#frag",
            "dev.passkeys.desktop:/callback?code=c\n&state=s",
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
            "dev.passkeys.desktop",
            None,
        )
        .unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)));
    }
}
