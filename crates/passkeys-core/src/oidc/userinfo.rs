//! UserInfo (OIDC Core §5.3): the email and name a provider's ID token left
//! out, asked for once after the code exchange. Best effort: a failure is
//! logged and the sign-in keeps what the ID token said.

use serde_json::Value;

use super::*;

/// Largest UserInfo answer read.
const MAX_USERINFO_BYTES: usize = 64 * 1024;

impl Provider {
    /// Fills the account's missing email and name from the UserInfo endpoint,
    /// when discovery names one and the ID token lacked either.
    pub(crate) async fn complete_account(&self, account: &mut Account, access_token: &AccessToken) {
        if account.email.is_some() && account.name.is_some() {
            return;
        }
        let Some(endpoint) = self.metadata.userinfo_endpoint() else {
            return;
        };
        match self.userinfo(endpoint.url(), access_token).await {
            Ok(claims) => fill_from_userinfo(account, &claims),
            Err(reason) => {
                tracing::warn!("the profile from the userinfo endpoint was not used: {reason}")
            }
        }
    }

    /// `GET <userinfo_endpoint>` with the access token, as JSON.
    async fn userinfo(
        &self,
        endpoint: &Url,
        access_token: &AccessToken,
    ) -> std::result::Result<Value, String> {
        check_endpoint(endpoint).map_err(|error| error.to_string())?;
        let mut response = self
            .http
            .get(endpoint.clone())
            .bearer_auth(access_token.secret())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| Error::network("the sign-in server", &err).to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("it answered HTTP {status}"));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| Error::network("the sign-in server", &err).to_string())?
        {
            if bytes.len() + chunk.len() > MAX_USERINFO_BYTES {
                return Err("its answer is too large".into());
            }
            bytes.extend_from_slice(&chunk);
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(claims @ Value::Object(_)) => Ok(claims),
            _ => Err("its answer is not a JSON object".into()),
        }
    }
}

/// Fills what `account` lacks from UserInfo `claims`, if their `sub` is the
/// ID token's (OIDC Core §5.3.2: otherwise they must not be used).
pub(super) fn fill_from_userinfo(account: &mut Account, claims: &Value) {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
    };
    if text("sub").as_deref() != Some(account.subject.as_str()) {
        tracing::warn!(
            "the userinfo endpoint answered for another subject; its profile was not used"
        );
        return;
    }
    if account.email.is_none() {
        account.email = text("email");
    }
    if account.name.is_none() {
        account.name = text("name").or_else(|| match (text("given_name"), text("family_name")) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            (given, family) => given.or(family),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(email: Option<&str>, name: Option<&str>) -> Account {
        Account {
            subject: "usr_1".into(),
            name: name.map(str::to_string),
            email: email.map(str::to_string),
            environment: "https://acme.example".into(),
        }
    }

    #[test]
    fn userinfo_fills_only_what_is_missing_and_only_for_the_same_subject() {
        let table = [
            (
                account(None, None),
                serde_json::json!({"sub": "usr_1", "email": "ada@example.com", "name": "Ada Lovelace"}),
                account(Some("ada@example.com"), Some("Ada Lovelace")),
            ),
            (
                account(Some("id@example.com"), None),
                serde_json::json!({"sub": "usr_1", "email": "other@example.com", "given_name": "Ada", "family_name": "Lovelace"}),
                account(Some("id@example.com"), Some("Ada Lovelace")),
            ),
            (
                account(None, Some("From ID token")),
                serde_json::json!({"sub": "usr_1", "family_name": "Lovelace", "email": "  "}),
                account(None, Some("From ID token")),
            ),
            (
                account(None, None),
                serde_json::json!({"sub": "usr_1", "given_name": "Ada", "email": 7}),
                account(None, Some("Ada")),
            ),
            (
                account(None, None),
                serde_json::json!({"sub": "usr_2", "email": "eve@example.com", "name": "Eve"}),
                account(None, None),
            ),
            (
                account(None, None),
                serde_json::json!({"email": "eve@example.com"}),
                account(None, None),
            ),
        ];
        for (mut before, claims, after) in table {
            fill_from_userinfo(&mut before, &claims);
            assert_eq!(before, after, "{claims}");
        }
    }
}
