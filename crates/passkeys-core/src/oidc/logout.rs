//! Sign-out: token revocation (RFC 7009) and the end-session URL.

use super::*;

impl Provider {
    /// Revokes a refresh token (RFC 7009), best effort with a short timeout.
    pub(crate) async fn revoke(&self, refresh_token: &RefreshToken) -> Result<()> {
        let Some(endpoint) = self
            .metadata
            .additional_metadata()
            .revocation_endpoint
            .as_deref()
        else {
            return Ok(());
        };
        let endpoint = Url::parse(endpoint).map_err(|err| Error::Server {
            status: None,
            message: format!("The revocation endpoint is not a valid URL: {err}."),
        })?;
        check_endpoint(&endpoint)?;
        let response = self
            .http
            .post(endpoint)
            .timeout(REVOKE_TIMEOUT)
            .form(&[
                ("token", refresh_token.secret().as_str()),
                ("token_type_hint", "refresh_token"),
                ("client_id", self.client_id.as_str()),
            ])
            .send()
            .await
            .map_err(|err| Error::network("the sign-in server", &err))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Error::Server {
                status: Some(response.status().as_u16()),
                message: format!("Revoking the session failed (HTTP {}).", response.status()),
            })
        }
    }

    /// The end-session URL (`end_session_endpoint`, else `<issuer>/oidc/logout`).
    pub(crate) fn end_session_url(
        &self,
        id_token: Option<&IdToken>,
        post_logout_redirect_uri: Option<&Url>,
    ) -> Result<Url> {
        let issuer = self.metadata.issuer().as_str().trim_end_matches('/');
        let endpoint = self
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
            .unwrap_or_else(|| format!("{issuer}/oidc/logout"));
        let mut url = Url::parse(&endpoint).map_err(|err| Error::Server {
            status: None,
            message: format!("The end-session endpoint is not a valid URL: {err}."),
        })?;
        check_endpoint(&url)?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(id_token) = id_token {
                query.append_pair("id_token_hint", id_token.secret());
            }
            if let Some(uri) = post_logout_redirect_uri {
                query.append_pair("post_logout_redirect_uri", uri.as_str());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }
}
