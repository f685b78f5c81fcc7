//! The loopback redirect's port: a fixed port taken by another program
//! means the browser's answer goes to that program.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use super::Check;
use crate::config::RedirectMode;

/// Whether the configured fixed port on 127.0.0.1 can be listened on now.
pub(super) fn check(redirect: &RedirectMode) -> Check {
    match redirect {
        RedirectMode::DeepLink { .. } => Check::ok(
            "loopback",
            "Not used: the browser comes back through the deep link.",
        ),
        RedirectMode::Loopback { port: 0 } => Check::ok(
            "loopback",
            "A free port is picked for each sign-in (redirect = \"loopback\").",
        ),
        RedirectMode::Loopback { port } => {
            match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, *port))) {
                Ok(_) => Check::ok("loopback", format!("Port {port} on 127.0.0.1 is free.")),
                Err(error) => Check::fail(
                    "loopback",
                    format!("Port {port} on 127.0.0.1 is taken by another program ({error}), so the sign-in cannot receive the browser's answer."),
                    format!("Close the program listening on port {port} (`ss -ltnp 'sport = :{port}'` names it), or configure another port: redirect = \"loopback:PORT\" with that port registered at the environment."),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    #[test]
    fn a_fixed_port_taken_by_another_program_fails_and_a_free_one_passes() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let check = check(&RedirectMode::Loopback { port });
        assert_eq!(check.verdict, Verdict::Fail, "{check:?}");
        assert!(check.detail.contains(&port.to_string()), "{check:?}");
        assert!(check.fix.unwrap().contains("another port"));
        drop(taken);
        assert_eq!(check_port_free(port), Verdict::Ok);
        assert_eq!(
            super::check(&RedirectMode::Loopback { port: 0 }).verdict,
            Verdict::Ok
        );
    }

    fn check_port_free(port: u16) -> Verdict {
        super::check(&RedirectMode::Loopback { port }).verdict
    }
}
