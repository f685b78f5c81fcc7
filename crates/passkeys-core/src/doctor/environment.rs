//! The environment: its discovery document answers, names the configured
//! issuer, and points to signing keys that parse; and the clock, against
//! the `Date` header of that answer.

use std::time::Duration;

use openidconnect::core::CoreJsonWebKeySet;
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;
use url::Url;

use super::{Check, Clock, CLOCK_TOLERANCE};
use crate::config::Config;
use crate::words::duration_in_words;

/// The environment's check and the clock's.
pub(super) struct Found {
    /// Discovery, issuer, JWKS.
    pub(super) check: Check,
    /// The clock against the environment's `Date`.
    pub(super) clock: Check,
}

/// Fetches discovery and the JWKS of `config`'s environment.
pub(super) async fn check(http: &reqwest::Client, clock: &dyn Clock, config: &Config) -> Found {
    let issuer = config.environment_url.as_str().trim_end_matches('/');
    let subject = issuer.to_owned();
    let no_clock = |why: &str| {
        Check::warn(
            "clock",
            format!("Not compared: {why}."),
            "Fix the environment check first.",
        )
        .about(subject.clone())
    };
    let discovery_url = format!("{issuer}/.well-known/openid-configuration");
    let before = clock.now();
    let response = match http.get(&discovery_url).send().await {
        Ok(response) => response,
        Err(error) => {
            return Found {
                check: Check::fail(
                    "environment",
                    format!("Could not reach {discovery_url}: {}.", without_url(&error)),
                    "Check the network and environment_url (PASSKEYS_ENV_URL): it is your Scalekit environment's URL, e.g. https://yourapp.scalekit.com.",
                )
                .about(subject.clone()),
                clock: no_clock("the environment did not answer"),
            }
        }
    };
    let after = clock.now();
    let clock_check =
        compare_clock(before + (after - before) / 2, date_header(&response)).about(subject.clone());
    let status = response.status();
    if !status.is_success() {
        return Found {
            check: Check::fail(
                "environment",
                format!("{discovery_url} answered {status}: no OpenID Connect discovery there."),
                "Check environment_url (PASSKEYS_ENV_URL): it is the environment's base URL, without a path.",
            )
            .about(subject),
            clock: clock_check,
        };
    }
    let check = match response.json::<serde_json::Value>().await {
        Err(_) => Check::fail(
            "environment",
            format!("{discovery_url} is not a JSON discovery document."),
            "Check environment_url (PASSKEYS_ENV_URL): it is the environment's base URL.",
        ),
        Ok(document) => check_document(http, issuer, &document).await,
    };
    Found {
        check: check.about(subject),
        clock: clock_check,
    }
}

/// The issuer named by `document` is `issuer`, and its `jwks_uri` serves keys.
async fn check_document(
    http: &reqwest::Client,
    issuer: &str,
    document: &serde_json::Value,
) -> Check {
    let named = document.get("issuer").and_then(serde_json::Value::as_str);
    if named.map(|named| named.trim_end_matches('/')) != Some(issuer) {
        return Check::fail(
            "environment",
            format!(
                "The discovery document names the issuer {}, not {issuer}: every token would be refused.",
                named.unwrap_or("(none)")
            ),
            format!(
                "Set environment_url (PASSKEYS_ENV_URL) to the issuer exactly: {}.",
                named.unwrap_or("the environment's own URL")
            ),
        );
    }
    let Some(jwks_uri) = document
        .get("jwks_uri")
        .and_then(serde_json::Value::as_str)
        .and_then(|uri| Url::parse(uri).ok())
    else {
        return Check::fail(
            "environment",
            "The discovery document has no valid jwks_uri: ID tokens cannot be checked.",
            "The environment is misconfigured: contact its administrator.",
        );
    };
    let keys = match http.get(jwks_uri.clone()).send().await {
        Ok(response) if response.status().is_success() => response.bytes().await.ok(),
        Ok(response) => {
            return Check::fail(
                "environment",
                format!("The signing keys at {jwks_uri} answered {}.", response.status()),
                "The environment is misconfigured or down: try again later, or contact its administrator.",
            )
        }
        Err(error) => {
            return Check::fail(
                "environment",
                format!("Could not reach the signing keys at {jwks_uri}: {}.", without_url(&error)),
                "Check the network (a proxy or firewall may let discovery through but not the keys).",
            )
        }
    };
    match keys
        .as_deref()
        .and_then(|bytes| serde_json::from_slice::<CoreJsonWebKeySet>(bytes).ok())
    {
        Some(set) if !set.keys().is_empty() => Check::ok(
            "environment",
            format!(
                "Discovery answers, names this issuer, and its JWKS has {} signing key(s).",
                set.keys().len()
            ),
        ),
        _ => Check::fail(
            "environment",
            format!("The signing keys at {jwks_uri} are not a JSON Web Key Set with keys."),
            "The environment is misconfigured: contact its administrator.",
        ),
    }
}

/// The `Date` header, parsed (IMF-fixdate is RFC 2822's form with `GMT`).
fn date_header(response: &reqwest::Response) -> Option<OffsetDateTime> {
    let text = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    OffsetDateTime::parse(text, &Rfc2822).ok()
}

/// The clock check: `local` (when the answer came) against the server's `Date`.
pub(super) fn compare_clock(local: OffsetDateTime, server: Option<OffsetDateTime>) -> Check {
    let Some(server) = server else {
        return Check::warn(
            "clock",
            "Not compared: the environment sent no Date header.",
            "Make sure the system clock is synchronised (timedatectl, or the system's date and time settings).",
        );
    };
    let offset = local - server;
    let seconds = offset.whole_seconds().unsigned_abs();
    let direction = if offset.is_negative() {
        "behind"
    } else {
        "ahead of"
    };
    if Duration::from_secs(seconds) > CLOCK_TOLERANCE {
        Check::warn(
            "clock",
            format!("This machine's clock is {} {direction} the environment's: tokens will look expired or not yet valid.", duration_in_words(seconds)),
            "Synchronise the system clock (`timedatectl set-ntp true` on Linux, or the system's date and time settings).",
        )
    } else {
        Check::ok(
            "clock",
            format!(
                "Within {} of the environment's clock.",
                duration_in_words(seconds.max(1))
            ),
        )
    }
}

/// A reqwest error's text without its URL, with its causes
/// (`error sending request: client error (Connect): tcp connect error: Connection refused`).
pub(super) fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text
            .replace(&format!(" for url ({url})"), "")
            .replace(&format!(" ({url})"), "")
            .replace(url.as_str(), "");
    }
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    #[test]
    fn the_clock_warns_past_a_minute_either_way() {
        let server = OffsetDateTime::parse("Fri, 04 Dec 2026 15:00:00 GMT", &Rfc2822).unwrap();
        let table = [
            (0, Verdict::Ok, "Within 1 second"),
            (59, Verdict::Ok, "Within 59 seconds"),
            (-60, Verdict::Ok, "Within 60 seconds"),
            (61, Verdict::Warn, "61 seconds ahead of"),
            (300, Verdict::Warn, "5 minutes ahead of"),
            (299, Verdict::Warn, "5 minutes ahead of"),
            (-300, Verdict::Warn, "5 minutes behind"),
            (3 * 3600, Verdict::Warn, "3 hours ahead of"),
        ];
        for (offset, verdict, words) in table {
            let check = compare_clock(server + time::Duration::seconds(offset), Some(server));
            assert_eq!(check.verdict, verdict, "{offset}: {check:?}");
            assert!(check.detail.contains(words), "{offset}: {check:?}");
        }
        assert_eq!(compare_clock(server, None).verdict, Verdict::Warn);
    }
}
