//! The passkeys broker: it answers, passes its own Host check for the name
//! the app uses, trusts the same environment (its
//! `/.well-known/passkeys-broker` names the issuer), and is ready (its
//! `/readyz`: it has the environment's signing keys and can get its own
//! client-credentials token).

use url::Url;

use super::{Check, Verdict};

/// Where the broker describes itself.
const WELL_KNOWN: &str = ".well-known/passkeys-broker";
/// Where the broker says whether it is ready.
const READYZ: &str = "readyz";
/// Longest reason read from `/readyz`'s answer, in characters.
const MAX_REASON_CHARS: usize = 300;

/// Asks `broker` which issuer and client it trusts.
pub(super) async fn check(
    http: &reqwest::Client,
    broker: &Url,
    environment: &Url,
    client_id: &str,
) -> Check {
    let subject = broker.as_str().trim_end_matches('/').to_owned();
    let issuer = environment.as_str().trim_end_matches('/');
    let url = format!("{subject}/{WELL_KNOWN}");
    let response = match http.get(&url).send().await {
        Ok(response) => response,
        Err(error) => {
            let detail = super::environment::without_url(&error);
            return Check::fail(
                "broker",
                format!("Could not reach the passkeys broker: {detail}."),
                "Check the network and api_url (PASSKEYS_API_URL), or ask your organisation whether its passkeys broker is running.",
            )
            .about(subject);
        }
    };
    let status = response.status().as_u16();
    let check = match status {
        200 => match response.json::<serde_json::Value>().await {
            Ok(about) => compare(&about, issuer, client_id),
            Err(_) => Check::fail(
                "broker",
                format!("{url} is not JSON: this does not look like a passkeys broker."),
                "Check api_url (PASSKEYS_API_URL): it is your organisation's passkeys broker.",
            ),
        },
        404 => Check::warn(
            "broker",
            "The broker answers but does not say which environment it trusts (no /.well-known/passkeys-broker: an older version?).",
            "Update the passkeys broker, or make sure it is configured for this environment.",
        ),
        421 => Check::fail(
            "broker",
            format!("The broker refused the name {} (its Host check): it does not serve that name.", broker.host_str().unwrap_or("?")),
            "Set the broker's public_url to the URL the app uses, or point api_url at the broker's own name.",
        ),
        _ => Check::fail(
            "broker",
            format!("{url} answered HTTP {status}."),
            "Check api_url (PASSKEYS_API_URL) and the broker's logs.",
        ),
    };
    let check = match check.verdict {
        Verdict::Fail => check,
        _ => readiness(http, &subject).await.unwrap_or(check),
    };
    check.about(subject)
}

/// Asks the broker at `base` whether it is ready: `None` when it is (or
/// has no `/readyz`, an older version), else the failed check, with the
/// reason its answer gives.
async fn readiness(http: &reqwest::Client, base: &str) -> Option<Check> {
    let url = format!("{base}/{READYZ}");
    let response = match http.get(&url).send().await {
        Ok(response) => response,
        Err(error) => {
            let detail = super::environment::without_url(&error);
            return Some(Check::fail(
                "broker",
                format!("The broker did not answer its readiness check ({url}): {detail}."),
                "Check the broker's logs, or ask your organisation whether its passkeys broker is running.",
            ));
        }
    };
    let status = response.status().as_u16();
    if status == 200 || status == 404 {
        return None;
    }
    let reason = response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|body| body.get("reason")?.as_str().map(clean))
        .filter(|reason| !reason.trim().is_empty());
    let detail = match reason {
        Some(reason) => format!("The broker answers but is not ready (HTTP {status}): {reason}."),
        None => format!("The broker answers but is not ready ({url} answered HTTP {status})."),
    };
    Some(Check::fail(
        "broker",
        detail,
        "Passkeys cannot be managed until it is ready: check the broker's logs and its configuration (the environment's address, its client ID and secret).",
    ))
}

/// A reason as people may read it: no control characters, at most
/// [`MAX_REASON_CHARS`].
fn clean(reason: &str) -> String {
    reason
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect()
}

/// The broker's `issuer` (and `client_id`, when given) against ours.
fn compare(about: &serde_json::Value, issuer: &str, client_id: &str) -> Check {
    let trusted = about
        .get("issuer")
        .and_then(serde_json::Value::as_str)
        .map(|trusted| trusted.trim_end_matches('/'));
    let client = about.get("client_id").and_then(serde_json::Value::as_str);
    match trusted {
        Some(trusted) if trusted != issuer => Check::fail(
            "broker",
            format!("The broker trusts another environment, {trusted}, not {issuer}: it refuses every token of this one."),
            format!("Point api_url (PASSKEYS_API_URL) at the broker for {issuer}, or set the broker's environment_url to {issuer}."),
        ),
        None => Check::fail(
            "broker",
            "The broker's description names no issuer.",
            "Check api_url (PASSKEYS_API_URL): it is your organisation's passkeys broker.",
        ),
        Some(_) => match client {
            Some(client) if client != client_id => Check::fail(
                "broker",
                format!("The broker serves this environment but the client {client}, not {client_id}: it refuses this app's tokens."),
                format!("Set the broker's client_id to {client_id}, or client_id (PASSKEYS_CLIENT_ID) to {client}."),
            ),
            _ => Check::ok(
                "broker",
                format!("Answers and trusts this environment ({issuer})."),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;
    use serde_json::json;

    #[test]
    fn the_broker_must_trust_the_same_issuer_and_client() {
        let issuer = "https://acme.scalekit.com";
        let table = [
            (
                json!({"issuer": issuer, "client_id": "ntvc_1"}),
                Verdict::Ok,
            ),
            (json!({"issuer": "https://acme.scalekit.com/"}), Verdict::Ok),
            (
                json!({"issuer": "https://other.scalekit.com", "client_id": "ntvc_1"}),
                Verdict::Fail,
            ),
            (
                json!({"issuer": issuer, "client_id": "ntvc_2"}),
                Verdict::Fail,
            ),
            (json!({"client_id": "ntvc_1"}), Verdict::Fail),
        ];
        for (about, verdict) in table {
            let check = compare(&about, issuer, "ntvc_1");
            assert_eq!(check.verdict, verdict, "{about}: {check:?}");
            assert_eq!(check.fix.is_some(), verdict != Verdict::Ok, "{check:?}");
        }
    }
}
