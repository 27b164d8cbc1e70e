//! The one rule for the client's IP address, used by the extension (audit rows, sessions, and
//! later rate limits) and, through it, by the shim.
//!
//! Only a proxy the operator runs can say who the client is, and a proxy *appends* to
//! `X-Forwarded-For`: everything left of the entries the trusted proxies added was written by
//! the client and proves nothing. So the address is the entry `trusted_proxies` places from the
//! right of the configured header: with one proxy (nginx's `$proxy_add_x_forwarded_for`, or the
//! shim, which appends the socket address it saw) the rightmost entry. A header that a proxy
//! sets rather than appends to (`X-Real-IP`, `CF-Connecting-IP`) holds one entry, the same rule
//! with `trusted_proxies = 1`. Never the leftmost entry, which the client writes.

use std::net::{IpAddr, SocketAddr};

/// Where the address comes from: which header, and how many proxies in front of the database's
/// caller (PostgREST or the shim) append to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRule {
    /// Lower-case header name; `None` means no header is trusted and the address is unknown.
    pub header: Option<String>,
    /// How many trusted proxies append to the header (at least 1).
    pub trusted_proxies: usize,
}

/// An entry longer than this is no address (the longest IPv6 address with a port is 47 bytes).
const MAX_ENTRY_LEN: usize = 64;

/// The client address from `header_value` (the configured header's value, if the request had it).
/// Only the entries the trusted proxies appended are read, from the right: whatever the client
/// wrote to the left of them, however long, cannot hide or choose the address.
pub fn resolve(rule: &IpRule, header_value: Option<&str>) -> Option<IpAddr> {
    rule.header.as_ref()?;
    let value = header_value?;
    if rule.trusted_proxies == 0 {
        return None;
    }
    // Fewer entries than trusted proxies: the request did not come through all of them, so no
    // entry is known to be written by one.
    let entry = value.rsplit(',').nth(rule.trusted_proxies - 1)?.trim();
    if entry.len() > MAX_ENTRY_LEN {
        return None;
    }
    parse_entry(entry)
}

/// One entry: an address, or an address with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| match ip {
            // An IPv4 client seen through an IPv6 socket is still an IPv4 client.
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        })
}

/// What a proxy (the shim) sends on: the incoming header with the peer it saw appended.
pub fn append_peer(incoming: Option<&str>, peer: IpAddr) -> String {
    match incoming.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{v}, {peer}"),
        None => peer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(n: usize) -> IpRule {
        IpRule {
            header: Some("x-forwarded-for".into()),
            trusted_proxies: n,
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_entry_the_trusted_proxy_added_not_the_clients() {
        // The client wrote 6.6.6.6; the proxy appended the address it saw.
        assert_eq!(
            resolve(&xff(1), Some("6.6.6.6, 203.0.113.7")),
            ip("203.0.113.7")
        );
        assert_eq!(resolve(&xff(1), Some("203.0.113.7")), ip("203.0.113.7"));
        // Two proxies: a CDN appended the client, our nginx appended the CDN.
        assert_eq!(
            resolve(&xff(2), Some("6.6.6.6, 203.0.113.7, 10.0.0.2")),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn spoofed_and_malformed_headers_give_no_address() {
        // Fewer entries than proxies: not every proxy was passed.
        assert_eq!(resolve(&xff(2), Some("6.6.6.6")), None);
        assert_eq!(resolve(&xff(1), Some("6.6.6.6, not-an-ip")), None);
        assert_eq!(resolve(&xff(1), Some("")), None);
        assert_eq!(resolve(&xff(1), Some("6.6.6.6,")), None);
        assert_eq!(resolve(&xff(1), None), None);
        assert_eq!(resolve(&xff(0), Some("6.6.6.6")), None);
        // padding what the client writes cannot hide the address the proxy appended
        let long = format!("{}, 203.0.113.7", "1.1.1.1, ".repeat(10_000));
        assert_eq!(resolve(&xff(1), Some(&long)), ip("203.0.113.7"));
        let junk = format!("{}, 203.0.113.7", "x".repeat(100_000));
        assert_eq!(resolve(&xff(1), Some(&junk)), ip("203.0.113.7"));
        assert_eq!(resolve(&xff(2), Some(&junk)), None);
        assert_eq!(resolve(&xff(1), Some(&"1".repeat(65))), None);
        let none = IpRule {
            header: None,
            trusted_proxies: 1,
        };
        assert_eq!(resolve(&none, Some("203.0.113.7")), None);
    }

    #[test]
    fn ports_and_mapped_addresses() {
        assert_eq!(resolve(&xff(1), Some("203.0.113.7:443")), ip("203.0.113.7"));
        assert_eq!(
            resolve(&xff(1), Some("[2001:db8::1]:443")),
            ip("2001:db8::1")
        );
        assert_eq!(resolve(&xff(1), Some("2001:db8::1")), ip("2001:db8::1"));
        assert_eq!(
            resolve(&xff(1), Some("::ffff:203.0.113.7")),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn a_proxy_appends_the_peer() {
        let peer: IpAddr = "198.51.100.4".parse().unwrap();
        assert_eq!(append_peer(None, peer), "198.51.100.4");
        assert_eq!(append_peer(Some(" "), peer), "198.51.100.4");
        let sent = append_peer(Some("6.6.6.6"), peer);
        assert_eq!(sent, "6.6.6.6, 198.51.100.4");
        assert_eq!(resolve(&xff(1), Some(&sent)), Some(peer));
    }
}
