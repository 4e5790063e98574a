//! Loopback ports for the processes a test or a benchmark starts itself.
//!
//! Asking the kernel for port 0 and closing the socket hands out a port of the ephemeral range,
//! which the kernel may give to any outgoing connection (a PostgreSQL pool of a test running
//! beside) before the child process binds it. Ports below that range are never handed out that
//! way, so only another process choosing the same one at random can take it.

use std::net::{Ipv4Addr, TcpListener};

/// Below Linux's default ephemeral range (32768–60999); above the usual well-known servers.
const PORTS: std::ops::Range<u16> = 20_000..32_768;

/// A loopback port that nothing listens on now, outside the ephemeral range.
/// It starts at a random place so that processes asking at once rarely meet.
pub fn unused_port() -> u16 {
    let span = PORTS.end - PORTS.start;
    first_unused_from((uuid::Uuid::new_v4().as_u128() % u128::from(span)) as u16)
}

/// The first port of [`PORTS`] that can be bound, from its `offset`-th on, wrapping around.
fn first_unused_from(offset: u16) -> u16 {
    let span = PORTS.end - PORTS.start;
    (0..span)
        .map(|step| PORTS.start + (offset + step) % span)
        .find(|port| TcpListener::bind((Ipv4Addr::LOCALHOST, *port)).is_ok())
        .expect("a loopback port below the ephemeral range is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_is_skipped_and_the_range_wraps_around() {
        let port = unused_port();
        assert!(PORTS.contains(&port));
        let _held = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        let next = first_unused_from(port - PORTS.start);
        assert_ne!(next, port);
        assert!(PORTS.contains(&next));
        if TcpListener::bind((Ipv4Addr::LOCALHOST, PORTS.start)).is_ok() {
            assert_eq!(first_unused_from(PORTS.end - PORTS.start), PORTS.start);
        }
    }
}
