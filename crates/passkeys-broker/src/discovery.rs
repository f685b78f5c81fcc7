//! The environment's OpenID discovery document
//! (`<environment_url>/.well-known/openid-configuration`): its token
//! endpoint (`token_endpoint`, for the broker's client credentials), where
//! its signing keys are (`jwks_uri`) and its token introspection endpoint
//! (`introspection_endpoint`, RFC 7662), when it has one. Fetched when
//! first needed and kept; a failed fetch is tried again at the next need.
//! The `token_url`, `jwks_url` and `introspection_url` settings, when set,
//! win over the document; with all three set, it is not read at all.
//!
//! A document that cannot belong to the configured environment (none at
//! all, another `issuer`, no `jwks_uri`, an endpoint over plain `http` to
//! another machine) is [`Error::UnsupportedEnvironment`], naming the setting
//! to change; an environment that cannot be reached or answers 5xx is an
//! upstream error, as every other call.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::config::check_transport;
use crate::error::{Error, Result};

/// What the broker reads from the document.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    /// The token endpoint: the `token_url` setting, else the document's
    /// `token_endpoint`.
    pub(crate) token: Url,
    /// The JWKS: the `jwks_url` setting, else the document's `jwks_uri`.
    pub(crate) jwks_uri: Url,
    /// The RFC 7662 introspection endpoint: the `introspection_url`
    /// setting, else the document's, when it names one.
    pub(crate) introspection: Option<Url>,
}

/// The fields of the document the broker reads; others are ignored.
#[derive(Deserialize)]
struct Document {
    issuer: Option<String>,
    token_endpoint: Option<String>,
    jwks_uri: Option<String>,
    introspection_endpoint: Option<String>,
}

/// The environment's discovery document, fetched once.
pub(crate) struct Discovery {
    http: reqwest::Client,
    url: Url,
    issuer: String,
    timeout: Duration,
    overrides: Overrides,
    endpoints: tokio::sync::OnceCell<Endpoints>,
}

/// The settings that win over the document (`token_url`, `jwks_url`,
/// `introspection_url`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    /// `token_url`.
    pub(crate) token: Option<Url>,
    /// `jwks_url`.
    pub(crate) jwks: Option<Url>,
    /// `introspection_url`.
    pub(crate) introspection: Option<Url>,
}

impl Discovery {
    /// The document at `url`, which must name `issuer`; `overrides` win
    /// over what it says.
    pub(crate) fn new(
        http: reqwest::Client,
        url: Url,
        issuer: String,
        timeout: Duration,
        overrides: Overrides,
    ) -> Self {
        Self {
            http,
            url,
            issuer,
            timeout,
            overrides,
            endpoints: tokio::sync::OnceCell::new(),
        }
    }

    /// The endpoints, fetching the document first if it has not been yet
    /// (one fetch at a time).
    ///
    /// # Errors
    /// Upstream errors when it cannot be fetched;
    /// [`Error::UnsupportedEnvironment`] when it cannot be this environment's.
    pub(crate) async fn endpoints(&self) -> Result<&Endpoints> {
        self.endpoints.get_or_try_init(|| self.fetch()).await
    }

    async fn fetch(&self) -> Result<Endpoints> {
        if let Overrides {
            token: Some(token),
            jwks: Some(jwks_uri),
            introspection: Some(introspection),
        } = &self.overrides
        {
            return Ok(Endpoints {
                token: token.clone(),
                jwks_uri: jwks_uri.clone(),
                introspection: Some(introspection.clone()),
            });
        }
        let response = self
            .http
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| crate::http::send_error("OpenID discovery", &e, self.timeout))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(Error::UpstreamBadResponse(format!(
                "OpenID discovery answered {status}"
            )));
        }
        let document = if status.is_success() {
            response.json::<Document>().await.ok()
        } else {
            None
        };
        let Some(document) = document else {
            return Err(unsupported(
                format!(
                    "{} does not serve an OpenID discovery document (it answered {status})",
                    self.url
                ),
                "set environment_url to the Scalekit environment's URL (its issuer)",
            ));
        };
        self.read(document)
    }

    fn read(&self, document: Document) -> Result<Endpoints> {
        let issuer = document.issuer.unwrap_or_default();
        if issuer.trim_end_matches('/') != self.issuer {
            return Err(unsupported(
                format!(
                    "its discovery document names the issuer {issuer:?}, not {:?}",
                    self.issuer
                ),
                "set environment_url to the issuer the discovery document names",
            ));
        }
        let token = match &self.overrides.token {
            Some(url) => url.clone(),
            None => endpoint(document.token_endpoint.as_deref(), "token_endpoint")?.ok_or_else(
                || {
                    unsupported(
                        "its discovery document has no token_endpoint".into(),
                        "set token_url to the environment's token endpoint",
                    )
                },
            )?,
        };
        let jwks_uri = match &self.overrides.jwks {
            Some(url) => url.clone(),
            None => endpoint(document.jwks_uri.as_deref(), "jwks_uri")?.ok_or_else(|| {
                unsupported(
                    "its discovery document has no jwks_uri".into(),
                    "set jwks_url to the environment's signing keys (JWKS)",
                )
            })?,
        };
        let introspection = match &self.overrides.introspection {
            Some(url) => Some(url.clone()),
            None => endpoint(
                document.introspection_endpoint.as_deref(),
                "introspection_endpoint",
            )?,
        };
        Ok(Endpoints {
            token,
            jwks_uri,
            introspection,
        })
    }
}

/// One endpoint of the document: absent, or an `https` URL (plain `http`
/// to loopback only, as the settings).
fn endpoint(value: Option<&str>, name: &str) -> Result<Option<Url>> {
    let Some(text) = value.filter(|text| !text.trim().is_empty()) else {
        return Ok(None);
    };
    let url = Url::parse(text).map_err(|_| {
        unsupported(
            format!("its discovery document's {name} is not a URL"),
            "set environment_url to a Scalekit environment",
        )
    })?;
    check_transport(name, &url).map_err(|error| {
        unsupported(
            format!("its discovery document's {error}"),
            "set environment_url to a Scalekit environment",
        )
    })?;
    Ok(Some(url))
}

fn unsupported(problem: String, fix: &str) -> Error {
    Error::UnsupportedEnvironment {
        problem,
        fix: fix.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovery(jwks_override: Option<&str>) -> Discovery {
        with_overrides(Overrides {
            jwks: jwks_override.map(|url| url.parse().unwrap()),
            ..Overrides::default()
        })
    }

    fn with_overrides(overrides: Overrides) -> Discovery {
        Discovery::new(
            reqwest::Client::new(),
            "https://acme.scalekit.dev/.well-known/openid-configuration"
                .parse()
                .unwrap(),
            "https://acme.scalekit.dev".into(),
            Duration::from_secs(1),
            overrides,
        )
    }

    fn document(issuer: &str, jwks: Option<&str>, introspection: Option<&str>) -> Document {
        Document {
            issuer: Some(issuer.into()),
            token_endpoint: Some("https://acme.scalekit.dev/oauth/token".into()),
            jwks_uri: jwks.map(Into::into),
            introspection_endpoint: introspection.map(Into::into),
        }
    }

    #[test]
    fn reads_the_jwks_and_introspection_endpoints() {
        let endpoints = discovery(None)
            .read(document(
                "https://acme.scalekit.dev/",
                Some("https://keys.acme.example/jwks"),
                Some("https://acme.scalekit.dev/oauth/introspect"),
            ))
            .unwrap();
        assert_eq!(
            endpoints.jwks_uri.as_str(),
            "https://keys.acme.example/jwks"
        );
        assert_eq!(
            endpoints.introspection.unwrap().as_str(),
            "https://acme.scalekit.dev/oauth/introspect"
        );
    }

    #[test]
    fn the_jwks_setting_wins_and_introspection_is_optional() {
        let endpoints = discovery(Some("https://acme.scalekit.dev/keys"))
            .read(document("https://acme.scalekit.dev", None, None))
            .unwrap();
        assert_eq!(
            endpoints.jwks_uri.as_str(),
            "https://acme.scalekit.dev/keys"
        );
        assert!(endpoints.introspection.is_none());
    }

    #[test]
    fn the_token_endpoint_comes_from_the_document_unless_token_url_is_set() {
        // oidc-provider's is at /token, Scalekit's at /oauth/token
        let mut other = document("https://acme.scalekit.dev", Some("https://a/jwks"), None);
        other.token_endpoint = Some("https://acme.scalekit.dev/token".into());
        let endpoints = discovery(None).read(other).unwrap();
        assert_eq!(endpoints.token.as_str(), "https://acme.scalekit.dev/token");

        let mut without = document("https://acme.scalekit.dev", Some("https://a/jwks"), None);
        without.token_endpoint = None;
        match discovery(None).read(without) {
            Err(Error::UnsupportedEnvironment { fix, .. }) => assert!(fix.contains("token_url")),
            other => panic!("{other:?}"),
        }
        let mut without = document("https://acme.scalekit.dev", Some("https://a/jwks"), None);
        without.token_endpoint = None;
        let set = with_overrides(Overrides {
            token: Some("https://login.acme.example/token".parse().unwrap()),
            ..Overrides::default()
        });
        assert_eq!(
            set.read(without).unwrap().token.as_str(),
            "https://login.acme.example/token"
        );
    }

    #[test]
    fn documents_of_another_environment_name_the_setting() {
        let cases = [
            (
                document("https://other.example", Some("https://a/jwks"), None),
                "environment_url",
            ),
            (
                document("https://acme.scalekit.dev", None, None),
                "jwks_url",
            ),
            (
                document(
                    "https://acme.scalekit.dev",
                    Some("http://keys.example/jwks"),
                    None,
                ),
                "environment_url",
            ),
        ];
        for (document, setting) in cases {
            match discovery(None).read(document) {
                Err(Error::UnsupportedEnvironment { fix, .. }) => {
                    assert!(fix.contains(setting), "{fix}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
