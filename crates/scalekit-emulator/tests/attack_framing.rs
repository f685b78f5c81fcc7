//! Clickjacking (RFC 9700 §4.16): the hosted sign-in pages
//! cannot be framed by another site and load nothing from elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[tokio::test]
async fn hosted_pages_refuse_to_be_framed() {
    let emulator = scalekit_emulator::start(scalekit_emulator::Config::for_tests())
        .await
        .unwrap();
    let http = scalekit_emulator::testing::browser_client().unwrap();
    for path in ["/ui/login", "/ui/login?mode=signup"] {
        let response = http
            .get(emulator.base_url().join(path).unwrap())
            .send()
            .await
            .unwrap();
        let csp = response
            .headers()
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert!(
            !csp.split(';')
                .any(|d| d.trim().starts_with("script-src") && d.contains("'unsafe-inline'")),
            "{path}: {csp}"
        );
    }
}
