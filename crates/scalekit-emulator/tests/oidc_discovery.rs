//! Discovery and JWKS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::Env;
use serde_json::Value;

#[tokio::test]
async fn discovery_lists_the_endpoints_and_capabilities() {
    let env = Env::start().await;
    let response = env
        .http
        .get(env.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    let issuer = env.base.as_str().trim_end_matches('/');
    assert_eq!(doc["issuer"], issuer);
    assert!(issuer.starts_with("http://localhost:"));
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("jwks_uri", "/keys"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("end_session_endpoint", "/oidc/logout"),
        ("introspection_endpoint", "/oauth/introspect"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    // RFC 9207: every authorization response names the issuer, and says so.
    assert_eq!(
        doc["authorization_response_iss_parameter_supported"],
        serde_json::json!(true)
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["none", "client_secret_post", "client_secret_basic"])
    );
    let grants = doc["grant_types_supported"].as_array().unwrap();
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(grants.iter().any(|g| g == grant), "{grant}");
    }
    let scopes = doc["scopes_supported"].as_array().unwrap();
    assert!(scopes.iter().any(|s| s == "offline_access"));
    let claims = doc["claims_supported"].as_array().unwrap();
    for claim in ["at_hash", "auth_time"] {
        assert!(claims.iter().any(|c| c == claim), "{claim}");
    }
}

#[tokio::test]
async fn jwks_publishes_rs256_keys_with_kid() {
    let env = Env::start().await;
    let jwks: Value = env.get_json("/keys").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0].as_object().unwrap();
    let mut fields: Vec<&str> = key.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    // 2048-bit modulus: 256 bytes, 342 base64url characters.
    assert_eq!(key["n"].as_str().unwrap().len(), 342);
}

#[tokio::test]
async fn unknown_paths_are_404_pages() {
    let env = Env::start().await;
    let response = env.http.get(env.url("/nope")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}
