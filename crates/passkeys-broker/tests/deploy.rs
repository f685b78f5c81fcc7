//! The deployment files in `deploy/` are what the README says: the example
//! configuration is valid, and the systemd unit hands the secret over as a
//! file, never on the command line or in the unit's environment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

const EXAMPLE_CONFIG: &str = include_str!("../deploy/broker.example.toml");
const UNIT: &str = include_str!("../deploy/passkeys-broker.service");

#[test]
fn the_example_configuration_is_valid_and_holds_no_secret() {
    let config = passkeys_broker::Config::from_toml_str(EXAMPLE_CONFIG, Some("from-env".into()))
        .expect("the example configuration parses");
    assert_eq!(config.session_check_interval.as_secs(), 20);
    assert!(!EXAMPLE_CONFIG.contains("client_secret ="));
}

#[test]
fn the_unit_reads_the_secret_from_a_credential_file() {
    let exec = UNIT
        .lines()
        .find_map(|line| line.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    assert!(
        exec.contains("--client-secret-file %d/client-secret"),
        "{exec}"
    );
    assert!(UNIT.contains("LoadCredential=client-secret:"));
    assert!(!UNIT.contains("PASSKEYS_BROKER_CLIENT_SECRET"));
    assert!(UNIT.contains("DynamicUser=yes"));
}
