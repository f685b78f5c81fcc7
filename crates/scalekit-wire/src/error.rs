//! The crate's one error type.

/// Everything this crate can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A display name is empty (after trimming, where the rule trims).
    #[error("display_name must not be empty")]
    EmptyDisplayName,
    /// A display name is longer than [`crate::DISPLAY_NAME_MAX_CHARS`].
    #[error("display_name is {chars} characters long; at most {max} are allowed", max = crate::DISPLAY_NAME_MAX_CHARS)]
    DisplayNameTooLong {
        /// Its length, in characters.
        chars: usize,
    },
    /// A display name contains a control character (a line break, a tab).
    #[error("display_name must not contain control characters")]
    DisplayNameControlCharacter,
    /// A base URL cannot carry a path (`mailto:`, `data:`).
    #[error("{0} cannot be a base URL")]
    NotABaseUrl(String),
    /// A query parameter has a value of the wrong type (`page_size=ten`).
    #[error("{field} is not valid: {reason}")]
    InvalidQueryParameter {
        /// The parameter, by its protobuf field path (`page_size`).
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
