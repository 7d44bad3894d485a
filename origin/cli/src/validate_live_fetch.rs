//! HTTP for `upcast validate --live`: one GET with a deadline and a size limit, on loopback only (the URLs
//! come from playlists the server wrote, so each one is checked again before it is fetched).

use std::io::Read;
use std::time::Duration;

/// Largest playlist read (a live window of a few minutes is far smaller).
pub const MAX_PLAYLIST_BYTES: u64 = 4 << 20;
/// Largest init segment read.
pub const MAX_INIT_BYTES: u64 = 1 << 20;
/// Largest part read (a part is about half a second of one rendition).
pub const MAX_PART_BYTES: u64 = 32 << 20;

pub struct Fetcher {
    agent: ureq::Agent,
}

impl Fetcher {
    pub fn new() -> Self {
        Fetcher {
            // Redirects are not followed: they could leave loopback.
            agent: ureq::AgentBuilder::new().redirects(0).build(),
        }
    }

    /// The body of `url` (bytes `range` = (offset, length) of it, when given), refused past `max` bytes or
    /// after `deadline` for the whole exchange.
    pub fn get(
        &self,
        url: &url::Url,
        range: Option<(u64, u64)>,
        max: u64,
        deadline: Duration,
    ) -> Result<Vec<u8>, String> {
        crate::validate::loopback_url(url.as_str()).map_err(|e| e.to_string())?;
        let mut req = self.agent.request_url("GET", url).timeout(deadline);
        if let Some((off, len)) = range {
            let last = off
                .checked_add(len)
                .and_then(|e| e.checked_sub(1))
                .ok_or("empty or overflowing byte range")?;
            req = req.set("Range", &format!("bytes={off}-{last}"));
        }
        let resp = req.call().map_err(|e| match e {
            ureq::Error::Status(code, r) => format!(
                "HTTP {code} {}",
                r.into_string()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
            other => other.to_string(),
        })?;
        if range.is_some() && resp.status() != 206 {
            return Err(format!(
                "HTTP {} to a Range request (expected 206)",
                resp.status()
            ));
        }
        if let Some(len) = resp
            .header("content-length")
            .and_then(|l| l.parse::<u64>().ok())
        {
            if len > max {
                return Err(format!("{len} bytes, over the limit of {max}"));
            }
        }
        let mut buf = Vec::new();
        resp.into_reader()
            .take(max.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        if u64::try_from(buf.len()).unwrap_or(u64::MAX) > max {
            return Err(format!("over the limit of {max} bytes"));
        }
        Ok(buf)
    }
}
