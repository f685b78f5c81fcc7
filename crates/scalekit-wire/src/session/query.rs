//! `UserSessionDetailsRequest`'s query parameters: how
//! `GET /api/v1/users/{user_id}/sessions` is paged and filtered. The
//! `user_id` travels in the path; the rest in the query, as grpc-gateway
//! maps a request message's other fields (`page_size`, `page_token`,
//! `filter.status` once per status, `filter.start_time`,
//! `filter.end_time`). Like grpc-gateway, the reader also accepts the JSON
//! names (`pageSize`, `filter.startTime`, …) and ignores parameters it does
//! not know.

use url::Url;

use crate::{Error, Result};

/// The paging and filter of a `GetUserSessions` call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSessionsQuery {
    /// At most this many sessions per page (the server's default when absent).
    pub page_size: Option<u32>,
    /// The `next_page_token` or `prev_page_token` of an earlier answer.
    pub page_token: Option<String>,
    /// Only sessions with one of these statuses (`active`, `expired`,
    /// `revoked`, `logout`); all when empty.
    pub status: Vec<String>,
    /// Only sessions created at or after this instant (RFC 3339).
    pub start_time: Option<String>,
    /// Only sessions created at or before this instant (RFC 3339).
    pub end_time: Option<String>,
}

impl UserSessionsQuery {
    /// Reads a query string (without the `?`); empty values count as absent.
    ///
    /// # Errors
    /// [`Error::InvalidQueryParameter`] when `page_size` is not an unsigned
    /// 32-bit number.
    pub fn from_query(query: &str) -> Result<Self> {
        let mut parsed = Self::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if value.is_empty() {
                continue;
            }
            let value = value.into_owned();
            match key.as_ref() {
                "page_size" | "pageSize" => {
                    parsed.page_size =
                        Some(value.parse().map_err(|_| Error::InvalidQueryParameter {
                            field: "page_size",
                            reason: "it must be a whole number from 0 to 4294967295",
                        })?);
                }
                "page_token" | "pageToken" => parsed.page_token = Some(value),
                "filter.status" => parsed.status.push(value),
                "filter.start_time" | "filter.startTime" => parsed.start_time = Some(value),
                "filter.end_time" | "filter.endTime" => parsed.end_time = Some(value),
                _ => {}
            }
        }
        Ok(parsed)
    }

    /// Appends the query's parameters to `url`, by their protobuf names.
    pub fn append_to(&self, url: &mut Url) {
        let mut pairs = url.query_pairs_mut();
        if let Some(size) = self.page_size {
            pairs.append_pair("page_size", &size.to_string());
        }
        if let Some(token) = &self.page_token {
            pairs.append_pair("page_token", token);
        }
        for status in &self.status {
            pairs.append_pair("filter.status", status);
        }
        if let Some(start) = &self.start_time {
            pairs.append_pair("filter.start_time", start);
        }
        if let Some(end) = &self.end_time {
            pairs.append_pair("filter.end_time", end);
        }
        drop(pairs);
        if url.query() == Some("") {
            url.set_query(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_both_names_and_write_proto_names() {
        let read = UserSessionsQuery::from_query(
            "pageSize=5&page_token=abc&filter.status=active&filter.status=logout\
             &filter.startTime=2025-01-01T00:00:00Z&filter.end_time=&other=1",
        )
        .unwrap();
        assert_eq!(
            read,
            UserSessionsQuery {
                page_size: Some(5),
                page_token: Some("abc".into()),
                status: vec!["active".into(), "logout".into()],
                start_time: Some("2025-01-01T00:00:00Z".into()),
                end_time: None,
            }
        );
        let mut url = Url::parse("https://a.example/x").unwrap();
        read.append_to(&mut url);
        assert_eq!(
            url.query(),
            Some(
                "page_size=5&page_token=abc&filter.status=active&filter.status=logout\
                 &filter.start_time=2025-01-01T00%3A00%3A00Z"
            )
        );
        let mut bare = Url::parse("https://a.example/x").unwrap();
        UserSessionsQuery::default().append_to(&mut bare);
        assert_eq!(bare.as_str(), "https://a.example/x");
    }

    #[test]
    fn a_page_size_that_is_not_a_number_is_refused() {
        for bad in ["page_size=ten", "page_size=-1", "pageSize=4294967296"] {
            assert!(
                matches!(
                    UserSessionsQuery::from_query(bad),
                    Err(Error::InvalidQueryParameter {
                        field: "page_size",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            UserSessionsQuery::from_query("").unwrap(),
            Default::default()
        );
    }
}
