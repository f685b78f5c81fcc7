//! Step-up: a destructive call (removing a passkey, signing a session out)
//! needs a proof that the person authenticated recently, and the answer
//! that asks for one. Defined once here for the broker (which builds the
//! challenge and checks the proof) and the client core (which reads the
//! challenge and sends the proof).
//!
//! - The proof is the caller's ID token from its environment, in the
//!   [`RECENT_AUTHENTICATION_HEADER`] request header. Its `auth_time` says
//!   when the person last authenticated.
//! - The challenge follows RFC 9470 §3: `401` with
//!   `WWW-Authenticate: Bearer error="insufficient_user_authentication",
//!   error_description="…", max_age=300` ([`challenge`]). A client reads it
//!   with [`parse_challenge`], authenticates again with `prompt=login` and
//!   that `max_age`, and retries with the new ID token.
//!
//! ```
//! use scalekit_wire::step_up;
//!
//! let header = step_up::challenge(300);
//! assert_eq!(step_up::parse_challenge(&header), Some(300));
//! assert_eq!(step_up::parse_challenge("Bearer error=\"invalid_token\""), None);
//! ```

/// The request header that carries the proof of a recent authentication:
/// the caller's ID token.
pub const RECENT_AUTHENTICATION_HEADER: &str = "x-recent-authentication";

/// How recent an authentication a destructive call needs by default, in
/// seconds (5 minutes, as GitHub's "sudo mode" asks after a while).
pub const DEFAULT_MAX_AGE_SECS: u64 = 300;

/// RFC 9470's error code for "authenticate again".
pub const INSUFFICIENT_USER_AUTHENTICATION: &str = "insufficient_user_authentication";

/// The `error_code` of the grpc-gateway body sent with the challenge.
pub const ERROR_CODE: &str = "INSUFFICIENT_USER_AUTHENTICATION";

/// The `WWW-Authenticate` value asking for an authentication no older than
/// `max_age_secs` (RFC 9470 §3).
pub fn challenge(max_age_secs: u64) -> String {
    format!(
        "Bearer error=\"{INSUFFICIENT_USER_AUTHENTICATION}\", error_description=\"Confirm it is you: sign in again to do this\", max_age={max_age_secs}"
    )
}

/// The `max_age` a `WWW-Authenticate` value asks for, when it is an RFC 9470
/// step-up challenge (`error="insufficient_user_authentication"`). A
/// challenge without `max_age` asks for [`DEFAULT_MAX_AGE_SECS`]; anything
/// else (another error, another scheme, a malformed value) is `None`.
pub fn parse_challenge(www_authenticate: &str) -> Option<u64> {
    let (scheme, params) = www_authenticate.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut error = None;
    let mut max_age = None;
    for (name, value) in auth_params(params)? {
        match name.to_ascii_lowercase().as_str() {
            "error" => error = Some(value),
            "max_age" => max_age = Some(value.parse::<u64>().ok()?),
            _ => {}
        }
    }
    (error.as_deref() == Some(INSUFFICIENT_USER_AUTHENTICATION))
        .then_some(max_age.unwrap_or(DEFAULT_MAX_AGE_SECS))
}

/// RFC 7235 auth-params: `name=token` or `name="quoted string"`, separated
/// by commas. `None` when the list is malformed.
fn auth_params(text: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let name = name.trim();
        if name.is_empty() || name.contains([' ', ',', '"']) {
            return None;
        }
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end?..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        params.push((name.to_owned(), value));
        rest = remainder.trim_start();
        match rest.strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_reads_back() {
        for max_age in [0, 1, 300, 86_400] {
            assert_eq!(parse_challenge(&challenge(max_age)), Some(max_age));
        }
    }

    #[test]
    fn challenges_as_servers_write_them() {
        let cases = [
            (
                r#"Bearer error="insufficient_user_authentication", max_age=5"#,
                Some(5),
            ),
            (
                r#"bearer error="insufficient_user_authentication",max_age="60""#,
                Some(60),
            ),
            (
                r#"Bearer error="insufficient_user_authentication", error_description="A different \"authentication\", please""#,
                Some(DEFAULT_MAX_AGE_SECS),
            ),
            (
                r#"Bearer realm="x", error=insufficient_user_authentication, acr_values="myACR""#,
                Some(DEFAULT_MAX_AGE_SECS),
            ),
            (r#"Bearer error="invalid_token""#, None),
            (r#"Basic realm="x""#, None),
            (
                r#"Bearer error="insufficient_user_authentication", max_age=soon"#,
                None,
            ),
            (r#"Bearer error="insufficient_user_authentication"#, None),
            (
                r#"Bearer error="insufficient_user_authentication" max_age=5"#,
                None,
            ),
            ("Bearer", None),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_challenge(header), expected, "{header}");
        }
    }
}
