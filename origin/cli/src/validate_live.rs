//! `upcast validate --live URL [--reloads N]`: follow a live LL-HLS stream on loopback and check the live
//! rules of `upcast_core::check::live`. Each media playlist (the URL itself, or every one a multivariant
//! playlist names) is fetched, then followed with N blocking reloads for the next part (`_HLS_msn` /
//! `_HLS_part`, RFC 8216bis § 6.2.5.2); every snapshot is checked alone and against the one before it, one
//! delta update (`_HLS_skip=YES`) is checked against the full playlist when the server offers them, and every
//! INDEPENDENT part not seen before is fetched and its first sample checked for a key frame.
//!
//! Bounded: a deadline per request (3 × the target duration, as long as the spec lets a server hold a
//! blocking request, plus slack), a size limit per playlist and part, and at most [`MAX_PLAYLISTS`] media
//! playlists and [`MAX_PART_FETCHES`] part fetches per playlist.

use crate::validate_live_fetch::{Fetcher, MAX_INIT_BYTES, MAX_PART_BYTES, MAX_PLAYLIST_BYTES};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use upcast_core::check::live::{self, Context, LivePlaylist};
use upcast_core::check::Report;

/// Upper bound of `--reloads`.
pub const MAX_RELOADS: i64 = 1000;
/// Media playlists followed from one multivariant playlist.
pub const MAX_PLAYLISTS: usize = 16;
/// INDEPENDENT parts fetched per media playlist.
pub const MAX_PART_FETCHES: usize = 256;
/// Deadline of a request that does not block (the first fetch, parts, inits).
const PLAIN_DEADLINE: Duration = Duration::from_secs(15);
/// Slack over the spec's 3 × target duration for a blocking reload: the server's own scheduling and a
/// loaded machine.
const BLOCK_SLACK: Duration = Duration::from_secs(5);

/// Follow the stream at `url` and report on it; `Err` only when the URL itself cannot be looked at.
pub fn validate_live(url: &str, reloads: u32) -> anyhow::Result<Report> {
    let start = crate::validate::loopback_url(url)?;
    let fetcher = Fetcher::new();
    let body = fetcher
        .get(&start, None, MAX_PLAYLIST_BYTES, PLAIN_DEADLINE)
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let mut report = Report {
        master: url.to_string(),
        ..Report::default()
    };
    let (medias, complete) = if m3u8_rs::is_master_playlist(&body) {
        let master = m3u8_rs::parse_master_playlist_res(&body)
            .map_err(|_| anyhow::anyhow!("{url}: the multivariant playlist does not parse"))?;
        report.files_read += 1;
        let uris = master
            .variants
            .iter()
            .filter(|v| !v.is_i_frame)
            .map(|v| v.uri.as_str())
            .chain(master.alternatives.iter().filter_map(|a| a.uri.as_deref()));
        let mut medias: Vec<url::Url> = Vec::new();
        for uri in uris {
            let u = start.join(uri)?;
            if !medias.contains(&u) && medias.len() < MAX_PLAYLISTS {
                medias.push(u);
            }
        }
        (medias, true)
    } else {
        (vec![start.clone()], false)
    };
    let known = Known {
        fetcher: &fetcher,
        listed: medias.iter().map(without_query).collect(),
        complete,
        cache: RefCell::new(BTreeMap::new()),
    };
    for media in &medias {
        let first = if *media == start {
            Some(body.clone())
        } else {
            None
        };
        Follower {
            fetcher: &fetcher,
            known: &known,
            url: media.clone(),
            name: media.path().to_string(),
            seen: BTreeSet::new(),
            inits: BTreeMap::new(),
            fetches: 0,
        }
        .follow(first, reloads, &mut report);
    }
    Ok(report)
}

fn without_query(u: &url::Url) -> String {
    let mut u = u.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// The media playlists of the presentation, for rendition reports: those the multivariant playlist lists
/// (`complete`), or, when the stream was given by a media playlist, any that can be fetched.
struct Known<'a> {
    fetcher: &'a Fetcher,
    listed: BTreeSet<String>,
    complete: bool,
    cache: RefCell<BTreeMap<String, bool>>,
}

impl Known<'_> {
    fn exists(&self, base: &url::Url, uri: &str) -> bool {
        let Ok(u) = base.join(uri) else { return false };
        let key = without_query(&u);
        if self.listed.contains(&key) {
            return true;
        }
        if self.complete {
            return false;
        }
        if let Some(&hit) = self.cache.borrow().get(&key) {
            return hit;
        }
        let hit = self
            .fetcher
            .get(&u, None, MAX_PLAYLIST_BYTES, PLAIN_DEADLINE)
            .is_ok_and(|b| m3u8_rs::parse_media_playlist_res(&b).is_ok());
        let mut cache = self.cache.borrow_mut();
        if cache.len() < MAX_PLAYLISTS * 4 {
            cache.insert(key, hit);
        }
        hit
    }
}

/// One media playlist being followed.
struct Follower<'a> {
    fetcher: &'a Fetcher,
    known: &'a Known<'a>,
    url: url::Url,
    /// Its name in the report: the URL's path.
    name: String,
    /// Parts already fetched: URL and byte range.
    seen: BTreeSet<(String, Option<(u64, u64)>)>,
    inits: BTreeMap<String, Option<Vec<u8>>>,
    fetches: usize,
}

impl Follower<'_> {
    fn follow(mut self, first: Option<Vec<u8>>, reloads: u32, report: &mut Report) {
        let body = match first {
            Some(b) => Ok(b),
            None => self
                .fetcher
                .get(&self.url, None, MAX_PLAYLIST_BYTES, PLAIN_DEADLINE),
        };
        let Some(mut prev) = self.snapshot(body, &self.url.clone(), false, report) else {
            return;
        };
        self.parts(&prev, report);
        let mut delta_done = false;
        for _ in 0..reloads {
            if prev.end_list {
                break;
            }
            let blocking = prev
                .server_control
                .as_ref()
                .is_some_and(|s| s.can_block_reload);
            let (msn, part) = live::next_reload(&prev);
            let mut url = self.url.clone();
            if blocking {
                let mut q = url.query_pairs_mut();
                q.append_pair("_HLS_msn", &msn.to_string());
                if let Some(p) = part {
                    q.append_pair("_HLS_part", &p.to_string());
                }
            } else {
                // No blocking reload: reload after half a target duration, as a client must
                // (RFC 8216bis § 6.3.4).
                std::thread::sleep(Duration::from_millis(
                    prev.target_duration.saturating_mul(500),
                ));
            }
            let deadline =
                Duration::from_secs(prev.target_duration.saturating_mul(3).min(60)) + BLOCK_SLACK;
            let body = self.fetcher.get(&url, None, MAX_PLAYLIST_BYTES, deadline);
            let Some(next) = self.snapshot(body, &url, false, report) else {
                return;
            };
            live::check_reload(&prev, &next, report);
            if blocking
                && !delta_done
                && next
                    .server_control
                    .as_ref()
                    .is_some_and(|s| s.can_skip_until.is_some())
            {
                delta_done = true;
                let mut durl = url.clone();
                durl.query_pairs_mut().append_pair("_HLS_skip", "YES");
                let body = self.fetcher.get(&durl, None, MAX_PLAYLIST_BYTES, deadline);
                if let Some(delta) = self.snapshot(body, &durl, true, report) {
                    live::check_delta(&next, &delta, report);
                }
            }
            self.parts(&next, report);
            prev = next;
        }
    }

    /// Check one fetched snapshot; `None` when it could not be fetched or read (reported).
    fn snapshot(
        &self,
        body: Result<Vec<u8>, String>,
        url: &url::Url,
        asked_skip: bool,
        report: &mut Report,
    ) -> Option<LivePlaylist> {
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                live::fetch_failed(report, &self.name, format!("GET {}: {e}", query_of(url)));
                return None;
            }
        };
        let text = String::from_utf8_lossy(&body);
        let renditions = |uri: &str| self.known.exists(&self.url, uri);
        let ctx = Context {
            asked_skip,
            renditions: &renditions,
        };
        live::check_snapshot(&self.name, &text, &ctx, report)
    }

    /// Fetch and check the INDEPENDENT parts of `pl` not fetched before.
    fn parts(&mut self, pl: &LivePlaylist, report: &mut Report) {
        let Some(init) = self.init(pl, report) else {
            return;
        };
        // Where the next byte-range part of each resource starts when its BYTERANGE has no offset.
        let mut ends: BTreeMap<&str, u64> = BTreeMap::new();
        for (_, _, p) in pl.all_parts() {
            let range = p.byte_range.map(|(len, off)| {
                let off = off.unwrap_or_else(|| ends.get(p.uri.as_str()).copied().unwrap_or(0));
                ends.insert(&p.uri, off.saturating_add(len));
                (off, len)
            });
            if !p.independent || p.gap {
                continue;
            }
            let Ok(u) = self.url.join(&p.uri) else {
                live::fetch_failed(report, &p.uri, "the part's URI does not resolve");
                continue;
            };
            if !self.seen.insert((u.to_string(), range)) {
                continue;
            }
            if self.fetches >= MAX_PART_FETCHES {
                return;
            }
            self.fetches += 1;
            match self.fetcher.get(&u, range, MAX_PART_BYTES, PLAIN_DEADLINE) {
                Ok(bytes) => live::check_independent_part(&init, &bytes, u.path(), report),
                Err(e) => live::fetch_failed(report, u.path(), format!("GET: {e}")),
            }
        }
    }

    /// The init segment of `pl`'s EXT-X-MAP, fetched once per URL.
    fn init(&mut self, pl: &LivePlaylist, report: &mut Report) -> Option<Vec<u8>> {
        let uri = pl.map.as_deref()?;
        let u = self.url.join(uri).ok()?;
        if let Some(b) = self.inits.get(u.as_str()) {
            return b.clone();
        }
        let got = match self.fetcher.get(&u, None, MAX_INIT_BYTES, PLAIN_DEADLINE) {
            Ok(b) => Some(b),
            Err(e) => {
                live::fetch_failed(report, u.path(), format!("GET the init segment: {e}"));
                None
            }
        };
        if self.inits.len() < MAX_PLAYLISTS {
            self.inits.insert(u.to_string(), got.clone());
        }
        got
    }
}

/// `path?query` of a URL, for messages.
fn query_of(u: &url::Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}
