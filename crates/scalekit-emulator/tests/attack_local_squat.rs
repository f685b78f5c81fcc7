//! Another local user must not be able to answer `http://localhost:<port>`
//! for the clients whose `localhost` resolves to `::1` first: the emulator
//! binds every loopback address on its port, or refuses to start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, TcpListener, TcpStream};

use scalekit_emulator::{Config, Error};

/// A listener on `[::1]:0`, or `None` when this machine has no IPv6 loopback.
fn squat_ipv6() -> Option<TcpListener> {
    match TcpListener::bind("[::1]:0") {
        Ok(listener) => Some(listener),
        Err(e) => {
            eprintln!("no IPv6 loopback here ({e}); nothing to squat");
            None
        }
    }
}

#[tokio::test]
async fn a_port_squatted_on_ipv6_loopback_is_refused() {
    // Given another program holding [::1]:<port>
    let Some(squatter) = squat_ipv6() else { return };
    let port = squatter.local_addr().unwrap().port();
    // When the emulator is asked for 127.0.0.1:<port>
    let mut config = Config::for_tests();
    config.listen = SocketAddr::from(([127, 0, 0, 1], port));
    let result = scalekit_emulator::start(config).await;
    // Then it refuses with a message naming the taken address
    let error = result.expect_err("started next to a squatter");
    assert!(matches!(error, Error::AddressTaken(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&format!("[::1]:{port}")), "{message}");
    assert!(message.contains("another program"), "{message}");
    // and 127.0.0.1:<port> was let go again
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
}

#[tokio::test]
async fn with_port_zero_every_loopback_address_answers_on_the_same_port() {
    let has_ipv6 = squat_ipv6().is_some();
    let emulator = scalekit_emulator::start(Config::for_tests()).await.unwrap();
    let port = emulator.base_url().port().unwrap();
    assert_eq!(emulator.base_url().host_str(), Some("localhost"));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    if has_ipv6 {
        assert!(TcpStream::connect(("::1", port)).is_ok());
        // Nobody else can take it now.
        assert!(TcpListener::bind(("::1", port)).is_err());
    }
    emulator.shutdown().await;
}
