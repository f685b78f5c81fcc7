//! Every 404 names what was not found: the passkey, the session, the list,
//! or the API's route (a server with no such route). Each request is sent
//! over HTTP to a server that answers 404.

use scalekit_wire::fixtures::ERROR_NOT_FOUND as NOT_FOUND;

use super::tests::{api, one_shot_server};
use super::*;
use crate::error::ErrorKind;

/// Each request the broker serves, by what it asks for.
#[derive(Debug, Clone, Copy)]
enum Request {
    ListPasskeys,
    RenamePasskey,
    RemovePasskey,
    ListSessions,
    SignOutSession,
}

const REQUESTS: [Request; 5] = [
    Request::ListPasskeys,
    Request::RenamePasskey,
    Request::RemovePasskey,
    Request::ListSessions,
    Request::SignOutSession,
];

impl Request {
    async fn send(self, base: Url) -> Error {
        let api = api(base);
        let token = AccessToken::new("at".into());
        let outcome = match self {
            Request::ListPasskeys => api.list(&token, "usr_42").await.map(drop),
            Request::RenamePasskey => api.rename(&token, "wac_1", "Laptop").await.map(drop),
            Request::RemovePasskey => api.remove(&token, None, "wac_1").await,
            Request::ListSessions => api.list_sessions(&token, None).await.map(drop),
            Request::SignOutSession => api.revoke_session(&token, None, "ses_1").await,
        };
        outcome.expect_err("a 404 is an error")
    }

    /// The API's route, under the broker's base.
    fn route(self) -> &'static str {
        match self {
            Request::ListPasskeys | Request::RenamePasskey | Request::RemovePasskey => {
                "api/v1/webauthn/credentials"
            }
            Request::ListSessions | Request::SignOutSession => "api/v1/sessions",
        }
    }

    /// What its 404 must name, and what it must not.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Request::ListPasskeys => ("list of your passkeys", "session"),
            Request::RenamePasskey | Request::RemovePasskey => ("That passkey", "session"),
            Request::ListSessions => ("list of your sessions", "That passkey"),
            Request::SignOutSession => ("That session", "That passkey"),
        }
    }
}

#[tokio::test]
async fn a_404_without_an_api_error_body_names_the_missing_api_and_its_route() {
    for request in REQUESTS {
        // Given servers with no such route: a plain 404 page, an empty body,
        // JSON that is not a grpc-gateway error
        for body in ["<h1>Not Found</h1>", "", "{\"error\":\"not found\"}"] {
            let (base, _request) = one_shot_server("404 Not Found", body).await;
            let base = base.join("broker/").unwrap();

            // When the request is sent
            let error = request.send(base.clone()).await;

            // Then the message names the API and its address, not a missing thing
            assert_eq!(
                error.kind(),
                ErrorKind::Config,
                "{request:?} {body:?}: {error:?}"
            );
            let api = if request.route().contains("sessions") {
                "sessions"
            } else {
                "passkeys"
            };
            assert_eq!(
                error.to_string(),
                format!(
                    "The {api} API was not found at {base}{}. Check the passkeys broker's address (api_url).",
                    request.route()
                ),
                "{request:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_apis_own_404_names_what_was_asked_for() {
    for request in REQUESTS {
        // Given the broker's own "not found" answer
        let (base, _request) = one_shot_server("404 Not Found", NOT_FOUND).await;

        // When the request is sent
        let error = request.send(base).await;

        // Then it is the API's notFound, naming what was asked for and nothing else
        assert_eq!(error.kind(), ErrorKind::NotFound, "{request:?}: {error:?}");
        assert!(matches!(error, Error::Api(_)), "{request:?}: {error:?}");
        let (named, not_named) = request.names();
        let message = error.to_string();
        assert!(message.contains(named), "{request:?}: {message}");
        assert!(!message.contains(not_named), "{request:?}: {message}");
    }
}
