//! `GET /api/v1/users/{user_id}/sessions`: Scalekit's `GetUserSessions`
//! (authentication type `WORKSPACE_SESSION_CLIENT`, permission
//! `sessions:read`), answering `UserSessionDetails`: one page of the user's
//! sessions, newest first, filtered by `filter.status` and the creation
//! window `filter.start_time` / `filter.end_time`.
//!
//! Scalekit does not publish its paging defaults; the emulator takes the
//! stricter reading so that a client that works here pages correctly
//! there: [`DEFAULT_PAGE_SIZE`] sessions when `page_size` is absent or 0, a
//! `page_size` above [`MAX_PAGE_SIZE`] is refused (400), and page tokens are
//! opaque, bound to the user, and refused (400) when they are not this
//! emulator's.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine as _;
use scalekit_wire::session::{
    SessionDetails, UserSessionDetails, UserSessionsQuery, SESSION_STATUSES,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{details_of, idle_ttl};
use crate::db;
use crate::error::{ApiErrorResponse, Error, Result};
use crate::oidc::authenticate_environment_client;
use crate::state::AppState;

/// Sessions per page when `page_size` is absent or 0.
pub const DEFAULT_PAGE_SIZE: u32 = 10;
/// The largest `page_size` accepted.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A checked `UserSessionsQuery`: the page and the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    offset: usize,
    size: usize,
    statuses: Vec<String>,
    /// Unix seconds, inclusive.
    created_from: Option<i64>,
    /// Unix seconds, inclusive.
    created_until: Option<i64>,
}

fn invalid(field: &str, description: &str, constraint: &str) -> Error {
    Error::Validation {
        field: field.into(),
        description: description.into(),
        constraint: constraint.into(),
    }
}

/// A page token: the offset of the page, bound to the user.
fn page_token(user_id: &str, offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{offset}:{user_id}"))
}

/// The offset a page token of `user_id` names.
fn read_page_token(user_id: &str, token: &str) -> Result<usize> {
    let refused = || invalid("page_token", "page_token is not valid", "page_token");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let (offset, owner) = text.split_once(':').ok_or_else(refused)?;
    if owner != user_id {
        return Err(refused());
    }
    offset.parse().map_err(|_| refused())
}

fn timestamp(field: &str, value: Option<&str>) -> Result<Option<i64>> {
    value
        .map(|text| {
            OffsetDateTime::parse(text, &Rfc3339)
                .map(OffsetDateTime::unix_timestamp)
                .map_err(|_| {
                    invalid(
                        field,
                        &format!("{field} must be an RFC 3339 timestamp"),
                        "timestamp",
                    )
                })
        })
        .transpose()
}

/// Checks the query of a listing of `user_id`'s sessions.
fn page(user_id: &str, query: &UserSessionsQuery) -> Result<Page> {
    let size = match query.page_size.unwrap_or(0) {
        0 => DEFAULT_PAGE_SIZE,
        size if size > MAX_PAGE_SIZE => {
            return Err(invalid(
                "page_size",
                &format!("page_size must be at most {MAX_PAGE_SIZE}"),
                "uint32.lte",
            ))
        }
        size => size,
    };
    if let Some(bad) = query
        .status
        .iter()
        .find(|status| !SESSION_STATUSES.contains(&status.as_str()))
    {
        return Err(invalid(
            "filter.status",
            &format!("{bad} is not a session status (active, expired, revoked, logout)"),
            "string.in",
        ));
    }
    let created_from = timestamp("filter.start_time", query.start_time.as_deref())?;
    let created_until = timestamp("filter.end_time", query.end_time.as_deref())?;
    if let (Some(from), Some(until)) = (created_from, created_until) {
        if until < from {
            return Err(invalid(
                "filter.end_time",
                "filter.end_time must be after filter.start_time",
                "timestamp.gt",
            ));
        }
    }
    let offset = query
        .page_token
        .as_deref()
        .map(|token| read_page_token(user_id, token))
        .transpose()?
        .unwrap_or(0);
    Ok(Page {
        offset,
        size: usize::try_from(size).unwrap_or(usize::MAX),
        statuses: query.status.clone(),
        created_from,
        created_until,
    })
}

impl Page {
    fn admits(&self, details: &SessionDetails, created_at: i64) -> bool {
        let status = details.status.as_deref().unwrap_or_default();
        (self.statuses.is_empty() || self.statuses.iter().any(|s| s == status))
            && self.created_from.is_none_or(|from| created_at >= from)
            && self.created_until.is_none_or(|until| created_at <= until)
    }

    /// This page of `matching`, with the tokens around it.
    fn of(&self, user_id: &str, matching: Vec<SessionDetails>) -> UserSessionDetails {
        let total = matching.len();
        let end = self.offset.saturating_add(self.size).min(total);
        let sessions: Vec<SessionDetails> = matching
            .into_iter()
            .skip(self.offset)
            .take(end.saturating_sub(self.offset))
            .collect();
        UserSessionDetails {
            sessions: Some(sessions),
            next_page_token: (end < total).then(|| page_token(user_id, end)),
            prev_page_token: (self.offset > 0)
                .then(|| page_token(user_id, self.offset.saturating_sub(self.size))),
            total_size: u32::try_from(total).ok().filter(|total| *total > 0),
        }
    }
}

/// `GET /api/v1/users/{user_id}/sessions`.
pub(in crate::api) async fn user_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<UserSessionDetails>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let query =
        UserSessionsQuery::from_query(query.as_deref().unwrap_or_default()).map_err(|error| {
            let field = match &error {
                scalekit_wire::Error::InvalidQueryParameter { field, .. } => field,
                _ => "query",
            };
            invalid(field, &error.to_string(), "uint32")
        })?;
    let page = page(&user_id, &query)?;
    let idle_ttl = idle_ttl(&state);
    let answer = state
        .db
        .call(move |c| {
            db::user_by_id(c, &user_id)?.ok_or_else(|| Error::NotFound("user not found".into()))?;
            let now = db::now();
            let mut matching = Vec::new();
            for record in db::session_records_for_user(c, &user_id)? {
                let details = details_of(c, &record, idle_ttl, now)?;
                if page.admits(&details, record.session.created_at) {
                    matching.push(details);
                }
            }
            Ok(page.of(&user_id, matching))
        })
        .await?;
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> UserSessionsQuery {
        UserSessionsQuery::from_query(text).unwrap()
    }

    fn session(id: &str) -> SessionDetails {
        SessionDetails {
            session_id: Some(id.into()),
            status: Some("active".into()),
            ..SessionDetails::default()
        }
    }

    #[test]
    fn pages_walk_forward_and_back() {
        let all: Vec<_> = ["a", "b", "c", "d", "e"].map(session).into();
        let first = page("usr_1", &query("page_size=2"))
            .unwrap()
            .of("usr_1", all.clone());
        assert_eq!(first.sessions.as_ref().unwrap().len(), 2);
        assert_eq!(first.total_size, Some(5));
        assert_eq!(first.prev_page_token, None);
        let next = first.next_page_token.unwrap();
        let second = page("usr_1", &query(&format!("page_size=2&page_token={next}")))
            .unwrap()
            .of("usr_1", all.clone());
        assert_eq!(second.sessions.unwrap()[0].session_id.as_deref(), Some("c"));
        let back = second.prev_page_token.unwrap();
        assert_eq!(read_page_token("usr_1", &back).unwrap(), 0);
        let last = page(
            "usr_1",
            &query(&format!(
                "page_size=2&page_token={}",
                page_token("usr_1", 4)
            )),
        )
        .unwrap()
        .of("usr_1", all);
        assert_eq!(last.sessions.unwrap().len(), 1);
        assert_eq!(last.next_page_token, None);
        let empty = page("usr_1", &query("")).unwrap().of("usr_1", Vec::new());
        assert_eq!(serde_json::to_value(empty).unwrap(), serde_json::json!({}));
    }

    #[test]
    fn bad_queries_are_refused() {
        let foreign = page_token("usr_2", 2);
        for bad in [
            "page_size=101".to_owned(),
            "filter.status=gone".to_owned(),
            "filter.start_time=yesterday".to_owned(),
            "filter.start_time=2025-02-01T00:00:00Z&filter.end_time=2025-01-01T00:00:00Z"
                .to_owned(),
            format!("page_token={foreign}"),
            "page_token=%%%".to_owned(),
        ] {
            assert!(
                matches!(page("usr_1", &query(&bad)), Err(Error::Validation { .. })),
                "{bad}"
            );
        }
        let ok = page("usr_1", &query("page_size=100&filter.status=logout")).unwrap();
        assert_eq!((ok.size, ok.offset), (100, 0));
        assert_eq!(page("usr_1", &query("")).unwrap().size, 10);
    }

    #[test]
    fn filters_by_status_and_creation_time() {
        let page = page(
            "usr_1",
            &query("filter.status=active&filter.status=logout&filter.start_time=1970-01-01T00:00:10Z&filter.end_time=1970-01-01T00:00:20Z"),
        )
        .unwrap();
        let mut revoked = session("r");
        revoked.status = Some("revoked".into());
        assert!(page.admits(&session("a"), 10) && page.admits(&session("a"), 20));
        assert!(!page.admits(&session("a"), 9) && !page.admits(&session("a"), 21));
        assert!(!page.admits(&revoked, 15));
    }
}
