use openidconnect::JsonWebKey as _;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;

use super::*;
use crate::clock::{ManualClock, SystemClock};

/// RFC 7636 Appendix B through the PKCE code the sign-in uses.
#[test]
fn pkce_s256_matches_rfc7636_appendix_b() {
    let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string());
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    assert_eq!(
        challenge.as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert_eq!(challenge.method().as_str(), "S256");
}

struct Fixture {
    emulator: scalekit_emulator::RunningEmulator,
    provider: Provider,
    /// The provider's clock: 2030-01-01T00:00:00Z until a test moves it.
    clock: Arc<ManualClock>,
}

/// Where the fixture's clock stands (seconds since the epoch): the ID tokens
/// are signed here, so no claim depends on when the test runs.
const NOW: i64 = 1_893_456_000;

async fn fixture() -> Fixture {
    let emulator = scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .unwrap();
    let config = Config::new(emulator.base_url().clone(), "ntvc_demo");
    let clock = Arc::new(ManualClock::at(
        OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
    ));
    let provider = Provider::discover(reqwest::Client::new(), &config, clock.clone())
        .await
        .unwrap();
    Fixture {
        emulator,
        provider,
        clock,
    }
}

fn at_hash(access_token: &str) -> String {
    let digest = sha2::Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

impl Fixture {
    fn issuer(&self) -> String {
        self.provider.metadata.issuer().as_str().to_string()
    }

    fn claims(&self) -> serde_json::Value {
        let now = NOW;
        json!({
            "iss": self.issuer(),
            "aud": ["ntvc_demo"],
            "azp": "ntvc_demo",
            "sub": "usr_1",
            "exp": now + 300,
            "iat": now,
            "nonce": "the-nonce",
            "at_hash": at_hash("the-access-token"),
            "email": "ada@example.com",
            "name": "Ada Lovelace"
        })
    }

    fn sign(&self, claims: &serde_json::Value) -> CoreIdToken {
        let jwt = self.emulator.state().keys.sign(claims).unwrap();
        CoreIdToken::from_str(&jwt).unwrap()
    }

    async fn verify(&self, token: &CoreIdToken) -> Result<CoreIdTokenClaims> {
        self.provider
            .verify_id_token(
                token,
                Some(&Nonce::new("the-nonce".into())),
                &AccessToken::new("the-access-token".into()),
            )
            .await
    }
}

#[tokio::test]
async fn a_good_id_token_verifies_and_names_the_account() {
    let fixture = fixture().await;
    let claims = fixture
        .verify(&fixture.sign(&fixture.claims()))
        .await
        .unwrap();
    let account = account_from_claims(&claims, &fixture.provider.metadata);
    assert_eq!(account.subject, "usr_1");
    assert_eq!(account.email.as_deref(), Some("ada@example.com"));
    assert_eq!(account.name.as_deref(), Some("Ada Lovelace"));
}

#[tokio::test]
async fn bad_id_tokens_are_refused() {
    let fixture = fixture().await;
    let now = NOW;
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("iss", Box::new(|c| c["iss"] = json!("http://evil.example"))),
        ("aud", Box::new(|c| c["aud"] = json!(["ntvc_other"]))),
        ("azp", Box::new(|c| c["azp"] = json!("ntvc_other"))),
        ("exp", Box::new(move |c| c["exp"] = json!(now - 600))),
        ("nonce", Box::new(|c| c["nonce"] = json!("another-nonce"))),
        (
            "no nonce",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
        ),
        (
            "at_hash",
            Box::new(|c| c["at_hash"] = json!(at_hash("another-token"))),
        ),
    ];
    for (what, edit) in edits {
        let mut claims = fixture.claims();
        edit(&mut claims);
        let error = fixture.verify(&fixture.sign(&claims)).await.unwrap_err();
        assert!(
            matches!(error, Error::Server { .. })
                && error.to_string().contains("could not be verified"),
            "{what}: {error:?}"
        );
    }

    // A forged signature (payload swapped under a valid header and signature).
    let good = fixture
        .emulator
        .state()
        .keys
        .sign(&fixture.claims())
        .unwrap();
    let mut evil_claims = fixture.claims();
    evil_claims["sub"] = json!("usr_admin");
    let evil = fixture.emulator.state().keys.sign(&evil_claims).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let evil_parts: Vec<&str> = evil.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], evil_parts[1], parts[2]);
    let error = fixture
        .verify(&CoreIdToken::from_str(&forged).unwrap())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("could not be verified"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_id_tokens_exp_and_iat_are_read_from_the_clock() {
    // Given an ID token issued at NOW that expires 300 s later
    let fixture = fixture().await;
    let token = fixture.sign(&fixture.claims());
    let at = |offset: i64| OffsetDateTime::from_unix_timestamp(NOW + offset).unwrap();

    // Then it verifies up to its last second, and not from `exp` on
    fixture.clock.set(at(299));
    fixture.verify(&token).await.unwrap();
    fixture.clock.set(at(300));
    let error = fixture.verify(&token).await.unwrap_err();
    assert!(error.to_string().contains("expired"), "{error}");

    // And a clock up to 5 minutes behind the issuer accepts its `iat`, one
    // further behind sees a token from the future
    fixture.clock.set(at(-MAX_IAT_SKEW_SECONDS));
    fixture.verify(&token).await.unwrap();
    fixture.clock.set(at(-MAX_IAT_SKEW_SECONDS - 1));
    let error = fixture.verify(&token).await.unwrap_err();
    assert!(error.to_string().contains("future"), "{error}");
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys() {
    let fixture = fixture().await;
    // Given keys rotated after discovery: the new kid is not in the cached JWKS
    let new_kid = fixture.emulator.state().keys.rotate().await.unwrap();
    let cached = fixture.provider.current_jwks();
    assert!(!cached
        .keys()
        .iter()
        .any(|k| k.key_id().map(|id| id.as_str()) == Some(new_kid.as_str())));

    // When a token signed with it arrives, it verifies after one refetch
    fixture
        .verify(&fixture.sign(&fixture.claims()))
        .await
        .unwrap();
    let refreshed = fixture.provider.current_jwks();
    assert!(refreshed
        .keys()
        .iter()
        .any(|k| k.key_id().map(|id| id.as_str()) == Some(new_kid.as_str())));

    // And a token signed with a retired key is refused (refetching finds nothing)
    let token = fixture.sign(&fixture.claims());
    fixture.emulator.state().keys.rotate().await.unwrap();
    fixture
        .emulator
        .state()
        .keys
        .retire(&new_kid)
        .await
        .unwrap();
    *fixture.provider.jwks.write().unwrap() = JsonWebKeySet::new(Vec::new());
    let error = fixture.verify(&token).await.unwrap_err();
    assert!(
        error.to_string().contains("could not be verified"),
        "{error:?}"
    );
}

#[tokio::test]
async fn authorize_url_and_end_session_url() {
    let fixture = fixture().await;
    let redirect = Url::parse("http://127.0.0.1:4321/callback").unwrap();
    let scopes: Vec<String> = crate::config::DEFAULT_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let request = fixture
        .provider
        .authorize(&scopes, &redirect, None)
        .unwrap();
    let params: std::collections::HashMap<String, String> =
        request.url.query_pairs().into_owned().collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], "ntvc_demo");
    assert_eq!(params["redirect_uri"], "http://127.0.0.1:4321/callback");
    assert_eq!(params["scope"], "openid profile email offline_access");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(
        params["code_challenge"],
        PkceCodeChallenge::from_code_verifier_sha256(&request.verifier).as_str()
    );
    assert_eq!(&params["state"], request.state.secret());
    assert_eq!(&params["nonce"], request.nonce.secret());

    let hint = IdToken::new("header.payload.sig");
    let post_logout = Url::parse("dev.passkeys.desktop:/signed-out").unwrap();
    let url = fixture
        .provider
        .end_session_url(Some(&hint), Some(&post_logout))
        .unwrap();
    assert_eq!(url.path(), "/oidc/logout");
    let params: std::collections::HashMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(params["id_token_hint"], "header.payload.sig");
    assert_eq!(
        params["post_logout_redirect_uri"],
        "dev.passkeys.desktop:/signed-out"
    );

    assert!(fixture
        .provider
        .check_callback_issuer(Some(&fixture.issuer()))
        .is_ok());
    assert!(fixture
        .provider
        .check_callback_issuer(Some("https://evil.example"))
        .is_err());
}

#[tokio::test]
async fn callback_issuer_may_be_missing_only_when_discovery_does_not_promise_it() {
    let mut fixture = fixture().await;
    // The emulator promises `iss` on every answer (RFC 9207 §2.4)
    assert!(fixture.provider.check_callback_issuer(None).is_err());

    // Given discovery without `authorization_response_iss_parameter_supported`
    let mut document = serde_json::to_value(&fixture.provider.metadata).unwrap();
    document["authorization_response_iss_parameter_supported"] = json!(false);
    fixture.provider.metadata = serde_json::from_value(document).unwrap();

    // Then a callback without `iss` is accepted, one from another issuer is not
    assert!(fixture.provider.check_callback_issuer(None).is_ok());
    assert!(fixture
        .provider
        .check_callback_issuer(Some("https://evil.example"))
        .is_err());
}

#[tokio::test]
async fn callback_issuer_is_required_when_discovery_promises_it() {
    let mut fixture = fixture().await;
    // Given discovery with `authorization_response_iss_parameter_supported: true`
    let mut document = serde_json::to_value(&fixture.provider.metadata).unwrap();
    document["authorization_response_iss_parameter_supported"] = json!(true);
    fixture.provider.metadata = serde_json::from_value(document).unwrap();

    // Then a callback must carry this issuer
    let missing = fixture.provider.check_callback_issuer(None).unwrap_err();
    assert!(missing.to_string().contains("does not name its issuer"));
    assert!(fixture
        .provider
        .check_callback_issuer(Some(&fixture.issuer()))
        .is_ok());
    assert!(fixture
        .provider
        .check_callback_issuer(Some("https://evil.example"))
        .is_err());
}

#[tokio::test]
async fn discovery_refuses_another_issuer() {
    let emulator = scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .unwrap();
    // 127.0.0.1 reaches the same server, but the issuer says localhost.
    let port = emulator.base_url().port().unwrap();
    let config = Config::new(
        Url::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
        "ntvc_demo",
    );
    let error = Provider::discover(reqwest::Client::new(), &config, Arc::new(SystemClock))
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("issuer"), "{error}");
}
