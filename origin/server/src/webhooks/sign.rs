//! The `Upcast-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the key
//! being the webhook's secret exactly as shown at creation (its UTF-8 bytes, `whsec_` prefix included).
//! A receiver recomputes the HMAC over the raw body it got, compares in constant time, and refuses a `t`
//! too far from its clock (replays); [`verify`] does that, and API.md shows it in a few lines.
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header's name.
pub const HEADER: &str = "Upcast-Signature";

/// A `t` this far from the receiver's clock is refused by [`verify`] (seconds).
pub const DEFAULT_TOLERANCE: i64 = 300;

fn mac(secret: &str, t: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The header value for `body` sent at `t`.
pub fn header(secret: &str, t: i64, body: &[u8]) -> String {
    format!(
        "t={t},v1={}",
        hex::encode(mac(secret, t, body).finalize().into_bytes())
    )
}

/// Why a signature was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    TooOld,
    Mismatch,
}

/// Check a received header against the raw body, at `now` (unix seconds), allowing `tolerance` seconds of
/// clock difference either way. Any `v1=` entry may match (several appear while a secret is rotated).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), Refused> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse::<i64>().map_err(|_| Refused::Malformed)?),
            Some(("v1", v)) => sigs.push(hex::decode(v).map_err(|_| Refused::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(Refused::Malformed)?;
    if sigs.is_empty() {
        return Err(Refused::Malformed);
    }
    if now.abs_diff(t) > tolerance.unsigned_abs() {
        return Err(Refused::TooOld);
    }
    // `verify_slice` compares in constant time.
    if sigs
        .iter()
        .any(|s| mac(secret, t, body).verify_slice(s).is_ok())
    {
        Ok(())
    } else {
        Err(Refused::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let h = header("whsec_k", 1000, b"{}");
        assert!(h.starts_with("t=1000,v1="));
        assert_eq!(verify("whsec_k", &h, b"{}", 1100, 300), Ok(()));
        assert_eq!(
            verify("whsec_k", &h, b"{ }", 1100, 300),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify("whsec_x", &h, b"{}", 1100, 300),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify("whsec_k", &h, b"{}", 1400, 300),
            Err(Refused::TooOld)
        );
        assert_eq!(
            verify("whsec_k", "v1=00", b"{}", 0, 300),
            Err(Refused::Malformed)
        );
        // The example in API.md.
        let doc = header("whsec_test", 1_700_000_000, br#"{"id":"evt_1"}"#);
        assert_eq!(
            verify("whsec_test", &doc, br#"{"id":"evt_1"}"#, 1_700_000_000, 300),
            Ok(())
        );
    }
}
