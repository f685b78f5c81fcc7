//! The writing rule shared by every type: a value grpc-gateway leaves out
//! (`EmitUnpopulated` off) is not written. Absent values are `None` and
//! skipped by `Option::is_none`; a list also when it is empty, since a
//! protobuf repeated field has no presence: an empty one is left out like a
//! zero number. Readers take an absent list and `[]` alike.

/// Whether a repeated field is left out: absent or empty.
pub(crate) fn no_items<T>(list: &Option<Vec<T>>) -> bool {
    list.as_ref().is_none_or(Vec::is_empty)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::credential::{AllAcceptedCredentialsOptions, Credential, ListCredentialsResponse};
    use crate::session::{RevokeAllUserSessionsResponse, SessionDetails, UserSessionDetails};
    use crate::ErrorBody;

    #[test]
    fn empty_lists_are_written_as_nothing_and_read_either_way() {
        let list = ListCredentialsResponse {
            credentials: Some(Vec::new()),
            all_accepted_credentials_options: Some(AllAcceptedCredentialsOptions {
                rp_id: Some("localhost".into()),
                all_accepted_credential_ids: Some(Vec::new()),
                ..AllAcceptedCredentialsOptions::default()
            }),
        };
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            json!({"all_accepted_credentials_options": {"rp_id": "localhost"}})
        );
        let bare = Credential {
            transports: Some(Vec::new()),
            ..Credential::default()
        };
        assert_eq!(serde_json::to_value(bare).unwrap(), json!({}));
        let session = SessionDetails {
            authenticated_organizations: Some(Vec::new()),
            authenticated_clients: Some(Vec::new()),
            ..SessionDetails::default()
        };
        assert_eq!(serde_json::to_value(session).unwrap(), json!({}));
        let page = UserSessionDetails {
            sessions: Some(Vec::new()),
            ..UserSessionDetails::default()
        };
        assert_eq!(serde_json::to_value(page).unwrap(), json!({}));
        let revoked = RevokeAllUserSessionsResponse {
            revoked_sessions: Some(Vec::new()),
            ..RevokeAllUserSessionsResponse::default()
        };
        assert_eq!(serde_json::to_value(revoked).unwrap(), json!({}));
        let error = ErrorBody {
            code: Some(5),
            details: Some(Vec::new()),
            ..ErrorBody::default()
        };
        assert_eq!(serde_json::to_value(error).unwrap(), json!({"code": 5}));

        for body in [&b"{}"[..], br#"{"credentials":[]}"#] {
            let list = ListCredentialsResponse::from_json(body).unwrap();
            assert!(list.into_credentials().is_empty());
        }
        for body in [&b"{}"[..], br#"{"sessions":[]}"#] {
            let page = UserSessionDetails::from_json(body).unwrap();
            assert!(page.into_sessions().is_empty());
        }
        let error = ErrorBody::from_json(br#"{"code":5,"message":"Not Found","details":[]}"#);
        assert_eq!(error.and_then(|e| e.code), Some(5));
    }
}
