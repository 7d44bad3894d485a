//! Where a webhook may point: an http(s) URL, and by default only a public address. The address check is
//! made on the addresses the client actually connects to (a resolver of our own given to ureq), so a name
//! that resolves to a private address at delivery time (DNS rebinding) is refused too.
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use crate::error::{ApiError, ApiResult};

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Check a webhook URL at registration: http or https, a host, no credentials, not too long; an IP literal
/// must be public unless `allow_private`. Returns the URL normalized.
pub fn check_url(raw: &str, allow_private: bool) -> ApiResult<String> {
    let bad = |m: &str| ApiError::BadWebhookUrl(m.to_string());
    if raw.len() > MAX_URL_LEN {
        return Err(bad(&format!("longer than {MAX_URL_LEN} bytes")));
    }
    let u = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad("only http and https URLs are delivered to"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad(
            "credentials in the URL are not accepted; verify the signature instead",
        ));
    }
    let ip = match u.host() {
        None => return Err(bad("the URL has no host")),
        Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
        Some(url::Host::Domain(_)) => None,
    };
    if let Some(ip) = ip.filter(|ip| !allow_private && !is_public(*ip)) {
        return Err(bad(&format!(
            "{ip} is a private, loopback or link-local address (the origin runs with webhooks to public addresses only)"
        )));
    }
    Ok(u.to_string())
}

/// Is this an address on the public internet? Loopback, private (RFC 1918, unique local), carrier-grade
/// NAT, link-local (cloud metadata services live there), unspecified, multicast, broadcast and
/// documentation ranges are not.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = a.segments();
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// Resolves names for the delivery client and drops the addresses a webhook may not reach.
pub struct Resolver {
    pub allow_private: bool,
}

impl ureq::Resolver for Resolver {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        let all: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
        let ok: Vec<SocketAddr> = all
            .iter()
            .copied()
            .filter(|a| self.allow_private || is_public(a.ip()))
            .collect();
        if ok.is_empty() && !all.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{netloc} resolves only to private addresses"),
            ));
        }
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("https://hooks.example.com/x?y=1", false).is_ok());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "not a url",
            "http://user:pw@example.com/",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.1.2.3/",
            "http://[::ffff:192.168.1.1]/",
        ] {
            let e = check_url(bad, false).unwrap_err();
            assert_eq!(e.code(), "bad-webhook-url", "{bad}");
        }
        assert!(check_url(&format!("https://e.com/{}", "a".repeat(MAX_URL_LEN)), true).is_err());
    }

    #[test]
    fn resolver_refuses_private_addresses() {
        use ureq::Resolver as _;
        let strict = Resolver {
            allow_private: false,
        };
        let e = strict.resolve("127.0.0.1:80").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        let open = Resolver {
            allow_private: true,
        };
        assert_eq!(open.resolve("127.0.0.1:80").unwrap().len(), 1);
        assert!(is_public("8.8.8.8".parse().unwrap()));
        assert!(!is_public("100.64.0.1".parse().unwrap()));
    }
}
