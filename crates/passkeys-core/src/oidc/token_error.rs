//! Mapping token-endpoint failures to [`TokenFailure`].

use super::*;

type TokenRequestError = RequestTokenError<
    openidconnect::HttpClientError<reqwest::Error>,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
>;

pub(super) fn token_failure(err: TokenRequestError, what: &str) -> TokenFailure {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let code = response.error().as_ref().to_string();
            let description = response
                .error_description()
                .map(|text| format!(": {}", text.chars().take(200).collect::<String>()))
                .unwrap_or_default();
            let message = format!("The sign-in server refused {what} ({code}{description}).");
            match code.as_str() {
                "invalid_grant" | "invalid_client" | "unauthorized_client" => {
                    TokenFailure::Rejected(message)
                }
                _ => TokenFailure::Other(Error::Server {
                    status: None,
                    message,
                }),
            }
        }
        RequestTokenError::Request(openidconnect::HttpClientError::Reqwest(err)) => {
            TokenFailure::Other(Error::network("the sign-in server", &err))
        }
        RequestTokenError::Request(other) => TokenFailure::Other(Error::Network(format!(
            "Could not reach the sign-in server: {other}."
        ))),
        RequestTokenError::Parse(_, _) => TokenFailure::Other(Error::Server {
            status: None,
            message: "The sign-in server's token answer could not be read.".into(),
        }),
        RequestTokenError::Other(text) => TokenFailure::Other(Error::Server {
            status: None,
            message: format!("The sign-in server's token answer was unexpected: {text}."),
        }),
    }
}
