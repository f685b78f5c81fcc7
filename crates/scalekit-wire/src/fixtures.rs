//! The shared JSON fixtures (`fixtures/*.json`): bodies in Scalekit's shapes,
//! taken from the wire reference. The client reads them, the emulator and the
//! broker write bodies that read back equal, and `fixtures/check-against-sdk`
//! parses each one with Scalekit's own message types, unknown fields
//! rejected, so a field Scalekit does not have cannot enter the contract.

/// `ListCredentialsResponse`: a full credential, a partial one and a bare one.
pub const CREDENTIAL_LIST: &str = include_str!("../fixtures/credential_list.json");
/// `UpdateCredentialRequest`'s body.
pub const UPDATE_REQUEST: &str = include_str!("../fixtures/update_request.json");
/// `UpdateCredentialResponse`.
pub const RENAME_RESPONSE: &str = include_str!("../fixtures/rename_response.json");
/// `DeleteCredentialResponse`.
pub const DELETE_RESPONSE: &str = include_str!("../fixtures/delete_response.json");
/// `SessionDetails` of a live session.
pub const SESSION_DETAILS: &str = include_str!("../fixtures/session_details.json");
/// `SessionDetails` of a signed-out session.
pub const SESSION_DETAILS_LOGOUT: &str = include_str!("../fixtures/session_details_logout.json");
/// `SessionDetails` of an expired session.
pub const SESSION_DETAILS_EXPIRED: &str = include_str!("../fixtures/session_details_expired.json");
/// `UserSessionDetails`: a page of three sessions (live, revoked, signed out) with paging.
pub const USER_SESSIONS: &str = include_str!("../fixtures/user_sessions.json");
/// `RevokeSessionResponse`.
pub const REVOKE_SESSION_RESPONSE: &str = include_str!("../fixtures/revoke_session_response.json");
/// `RevokeAllUserSessionsResponse`.
pub const REVOKE_ALL_USER_SESSIONS_RESPONSE: &str =
    include_str!("../fixtures/revoke_all_user_sessions_response.json");
/// An error body: 401, `UNAUTHENTICATED`.
pub const ERROR_UNAUTHENTICATED: &str = include_str!("../fixtures/error_unauthenticated.json");
/// An error body: 400 with a field violation and a request id.
pub const ERROR_VALIDATION: &str = include_str!("../fixtures/error_validation.json");
/// An error body: 404, `NOT_FOUND`.
pub const ERROR_NOT_FOUND: &str = include_str!("../fixtures/error_not_found.json");
/// An error body: 403, `PERMISSION_DENIED`.
pub const ERROR_PERMISSION_DENIED: &str = include_str!("../fixtures/error_permission_denied.json");

/// `fixtures/messages.txt`: which Scalekit message each fixture is, one
/// `<file> <full message name>` a line. `fixtures/check-against-sdk` parses
/// each file as that message; a test keeps the list and the files the same.
pub const MESSAGES: &str = include_str!("../fixtures/messages.txt");

/// The `(file, message)` pairs of [`MESSAGES`].
pub fn messages() -> impl Iterator<Item = (&'static str, &'static str)> {
    MESSAGES
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(char::is_whitespace))
        .map(|(file, message)| (file, message.trim()))
}

/// The fixture named `file`, `None` when there is no such fixture.
pub fn by_name(file: &str) -> Option<&'static str> {
    Some(match file {
        "credential_list.json" => CREDENTIAL_LIST,
        "update_request.json" => UPDATE_REQUEST,
        "rename_response.json" => RENAME_RESPONSE,
        "delete_response.json" => DELETE_RESPONSE,
        "session_details.json" => SESSION_DETAILS,
        "session_details_logout.json" => SESSION_DETAILS_LOGOUT,
        "session_details_expired.json" => SESSION_DETAILS_EXPIRED,
        "user_sessions.json" => USER_SESSIONS,
        "revoke_session_response.json" => REVOKE_SESSION_RESPONSE,
        "revoke_all_user_sessions_response.json" => REVOKE_ALL_USER_SESSIONS_RESPONSE,
        "error_unauthenticated.json" => ERROR_UNAUTHENTICATED,
        "error_validation.json" => ERROR_VALIDATION,
        "error_not_found.json" => ERROR_NOT_FOUND,
        "error_permission_denied.json" => ERROR_PERMISSION_DENIED,
        _ => return None,
    })
}
