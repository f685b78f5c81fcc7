//! What a request to the passkeys broker asked for, so that a 404 names
//! what was not found: the passkey, the session, or the API's route. The
//! one place an HTTP 404 becomes words.

use url::Url;

use crate::error::Error;

/// What a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asked {
    /// The person's passkeys (the list).
    Passkeys,
    /// One passkey, by id (rename, remove).
    Passkey,
    /// The person's sessions (the list).
    Sessions,
    /// One session, by id (sign it out).
    Session,
}

impl Asked {
    /// The API the request went to.
    fn api(self) -> &'static str {
        match self {
            Asked::Passkeys | Asked::Passkey => "passkeys API",
            Asked::Sessions | Asked::Session => "sessions API",
        }
    }

    /// A 404 without the API's own error body: the server at `route` (the
    /// API's collection, without id or query) has no such route, so
    /// `api_url` names something that is not a passkeys broker (or an older
    /// one). Only the configuration can fix that: [`Error::Config`], not
    /// the `notFound` kind that tells the UI a passkey or session is gone.
    pub(crate) fn route_not_found(self, route: &Url) -> Error {
        Error::Config(format!(
            "The {} was not found at {route}. Check the passkeys broker's address (api_url).",
            self.api()
        ))
    }

    /// The message of the API's own 404 (`said`: the server's message).
    pub(crate) fn not_found(self, said: Option<&str>) -> String {
        let said = said
            .map(|said| format!(" (the broker said: {said})"))
            .unwrap_or_default();
        match self {
            Asked::Passkey => {
                "That passkey no longer exists: it may have been removed elsewhere. Refresh the list.".into()
            }
            Asked::Session => {
                "That session no longer exists: it has ended or was signed out already. Refresh the list.".into()
            }
            Asked::Passkeys => format!(
                "The list of your passkeys was not found{said}. Check the passkeys broker's address (api_url), or sign in again."
            ),
            Asked::Sessions => format!(
                "The list of your sessions was not found{said}: the passkeys broker may be an older version without it. Check its address (api_url), or update it."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_404_names_what_was_not_found() {
        let table = [
            (Asked::Passkey, "passkey"),
            (Asked::Session, "session"),
            (Asked::Passkeys, "passkeys"),
            (Asked::Sessions, "sessions"),
        ];
        for (asked, thing) in table {
            let message = asked.not_found(Some("no such route"));
            assert!(message.contains(thing), "{asked:?}: {message}");
        }
        let route = Url::parse("https://broker.example/api/v1/sessions").unwrap();
        let error = Asked::Sessions.route_not_found(&route);
        assert_eq!(
            error.to_string(),
            "The sessions API was not found at https://broker.example/api/v1/sessions. Check the passkeys broker's address (api_url)."
        );
    }
}
