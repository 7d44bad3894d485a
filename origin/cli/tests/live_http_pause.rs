//! A rung paused and brought back inside one HTTP publish (what the Go live page does when the uplink
//! cannot keep up, then can again): while `video` is paused its playlist goes on with EXT-X-GAP segments
//! and GAP parts at the same MSNs and durations as `video_2`'s, with no preload hint, and the rendition
//! reports count them, and `upcast validate --live` passes; its media comes back at a segment start, under the same MSNs as the other rung's;
//! m3u8-rs reads every playlist; the recording leaves the paused rung out and passes `upcast validate`,
//! and what it stores (rows, objects, quota usage) is what it publishes: nothing of the paused rung.
#[path = "../../testkit/flv_tags.rs"]
mod flv_tags;
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/http_publisher.rs"]
mod http_publisher;
#[path = "../../testkit/live_client.rs"]
mod live_client;

use std::collections::HashMap;

use harness::*;
use http_publisher::*;
use live_client::*;
use m3u8_rs::Playlist;

/// The media playlist, read by m3u8-rs: `(media sequence, [(uri, duration, gap)])`.
fn read(text: &str) -> (u64, Vec<(String, f32, bool)>) {
    let Ok((_, Playlist::MediaPlaylist(m))) = m3u8_rs::parse_playlist(text.as_bytes()) else {
        panic!("m3u8-rs could not read:\n{text}");
    };
    let segs = m
        .segments
        .iter()
        .map(|s| {
            let gap = s.unknown_tags.iter().any(|t| t.tag == "X-GAP");
            (s.uri.clone(), s.duration, gap)
        })
        .collect();
    (m.media_sequence, segs)
}

/// `(LAST-MSN, LAST-PART)` of the rendition report for `uri` in `text`.
fn report(text: &str, uri: &str) -> (u64, u64) {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("#EXT-X-RENDITION-REPORT:URI=\"{uri}\"")))
        .unwrap_or_else(|| panic!("no report for {uri}:\n{text}"));
    let num = |k: &str| -> u64 {
        let at = line.find(k).unwrap() + k.len();
        line[at..]
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (num("LAST-MSN="), num("LAST-PART="))
}

/// `(MSN, parts)` of the open segment: the MSN after the last listed segment and its EXT-X-PART lines.
fn edge(text: &str) -> (u64, usize) {
    let (first, segs) = read(text);
    let after_last_uri = text
        .lines()
        .rev()
        .take_while(|l| l.starts_with('#'))
        .filter(|l| l.starts_with("#EXT-X-PART:"))
        .count();
    (first + segs.len() as u64, after_last_uri)
}

#[test]
fn a_paused_rung_gets_gap_segments_comes_back_aligned_and_is_left_out_of_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let muxed = encode_ladder(dir.path(), 8);
    let s = Server::start(&dir.path().join("data"), &["--api-rate-per-ip", "0"]);
    let base = s.url("");
    let (id, key) = create_stream(&s, true);
    let (c, v) = publish_http(&base, &key);
    assert_eq!(c, 201, "{v}");
    let ticket = v["ticket"].as_str().unwrap().to_string();
    let pause = |n: &str| {
        let path = format!("/api/live/{id}/{n}/pause");
        call(&base, "POST", &path, &ticket, None, b"")
    };
    let (c, v) = pause("video");
    assert_eq!((c, v["code"].as_str()), (409, Some("no-init")), "{v}");
    for (n, init) in &muxed.inits {
        let path = format!("/api/live/{id}/{n}/init.mp4");
        assert_eq!(call(&base, "PUT", &path, &ticket, None, init).0, 201);
    }
    let (c, v) = pause("video");
    assert_eq!(
        (c, v["code"].as_str()),
        (409, Some("nothing-to-pause")),
        "{v}"
    );

    let playlist = |n: &str| {
        let (c, text) = get(&s, &format!("/live/{id}/{n}/index.m3u8"));
        assert_eq!(c, 200, "{n}: {text}");
        text
    };
    // `video` is paused from 2.5 s to the first segment start at or after 5 s; the parts go up at the
    // pace they were made, and `upcast validate --live` reads the stream while `video` is paused.
    let mut next: HashMap<&str, u64> = HashMap::new();
    let (mut paused, mut resumed, mut refused_resume) = (false, false, false);
    let mut while_paused = None;
    let live_url = s.url(&format!("/live/{id}/index.m3u8"));
    let t0 = std::time::Instant::now();
    let live_report = std::thread::scope(|scope| {
        let mut checker = None;
        for u in &muxed.parts {
            let due = t0 + std::time::Duration::from_millis(u64::from(u.due_ms));
            std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
            let is_top = u.rendition == "video";
            if is_top && u.due_ms >= 2500 && !paused {
                let (c, v) = pause("video");
                assert_eq!(
                    (c, &v["paused"]),
                    (200, &serde_json::Value::Bool(true)),
                    "{v}"
                );
                assert_eq!(pause("video").0, 200, "pausing again is a no-op");
                paused = true;
                let url = live_url.clone();
                checker = Some(scope.spawn(move || validate(&["--live", &url, "--reloads", "2"])));
            }
            if is_top && paused && !resumed {
                if u.due_ms < 5000 {
                    continue;
                }
                let n = next["video"];
                let path = format!("/api/live/{id}/video/parts/{n}");
                if !refused_resume {
                    let lie = Some("independent=0; segment=0");
                    let (c, v) = call(&base, "PUT", &path, &ticket, lie, &u.part.bytes);
                    assert_eq!((c, v["code"].as_str()), (422, Some("no-key-frame")), "{v}");
                    refused_resume = true;
                }
                if !u.part.starts_segment {
                    continue;
                }
                // Just before the media comes back: the paused rung's playlist as a viewer sees it.
                while_paused = Some((playlist("video"), playlist("video_2")));
                resumed = true;
            }
            let n = next.entry(&u.rendition).or_insert(0);
            let path = format!("/api/live/{id}/{}/parts/{n}", u.rendition);
            let (c, v) = call(
                &base,
                "PUT",
                &path,
                &ticket,
                Some(&claim(&u.part)),
                &u.part.bytes,
            );
            assert_eq!(c, 201, "{path}: {v}");
            *n += 1;
        }
        checker.map(|c| c.join().expect("the live check ran"))
    });
    assert!(
        paused && resumed && refused_resume,
        "the ladder is long enough to pause and resume"
    );
    let (ok, live_text) = live_report.expect("checked while paused");
    assert!(
        ok,
        "upcast validate --live while video is paused:\n{live_text}"
    );

    let (top, low) = while_paused.unwrap();
    let (ft, st) = read(&top);
    let (fl, sl) = read(&low);
    assert_eq!(ft, fl, "the same window start:\n{top}\n{low}");
    let gaps: Vec<_> = st.iter().filter(|s| s.2).collect();
    assert!(!gaps.is_empty(), "GAP segments while paused:\n{top}");
    assert!(!st.last().unwrap().2 || st.len() == sl.len(), "{top}");
    // Every listed segment of the paused rung is the other rung's, URI and duration.
    for (a, b) in st.iter().zip(&sl) {
        assert_eq!((&a.0, a.1), (&b.0, b.1), "\n{top}\n{low}");
    }
    // The open segment's parts are GAP parts in step with the other rung's; no preload hint.
    assert!(!top.contains("#EXT-X-PRELOAD-HINT"), "{top}");
    assert!(low.contains("#EXT-X-PRELOAD-HINT"), "{low}");
    assert_eq!(edge(&top), edge(&low), "\n{top}\n{low}");
    let open_gap = top
        .lines()
        .rev()
        .take_while(|l| l.starts_with('#'))
        .filter(|l| l.starts_with("#EXT-X-PART:"))
        .all(|l| l.ends_with(",GAP=YES"));
    assert!(open_gap, "{top}");
    // The other rung's report of the paused one: its last (GAP) part, the other rung's own last part.
    let (msn, parts) = edge(&low);
    assert_eq!(
        report(&low, "../video/index.m3u8"),
        (msn, parts as u64 - 1),
        "{low}"
    );
    // A GAP segment and its parts are not served.
    let gap_uri = &gaps[0].0;
    let (c, _) = get(&s, &format!("/live/{id}/video/{gap_uri}"));
    assert_eq!(c, 404, "GET {gap_uri}");
    let part_uri = gap_uri.replace(".m4s", ".0.m4s");
    assert_eq!(get(&s, &format!("/live/{id}/video/{part_uri}")).0, 404);

    // After the return: both rungs list the same MSNs with the same durations, the paused span as GAP
    // in `video` only, and media again after it.
    let (top, low) = (playlist("video"), playlist("video_2"));
    let (ft, st) = read(&top);
    let (fl, sl) = read(&low);
    assert_eq!((ft, st.len()), (fl, sl.len()), "\n{top}\n{low}");
    for (a, b) in st.iter().zip(&sl) {
        assert_eq!((&a.0, a.1), (&b.0, b.1), "\n{top}\n{low}");
        assert!(!b.2, "{low}");
    }
    let first_gap = st.iter().position(|s| s.2).expect("the GAP span is listed");
    let last_gap = st.iter().rposition(|s| s.2).unwrap();
    assert!(
        st[first_gap..=last_gap].iter().all(|s| s.2),
        "one GAP span:\n{top}"
    );
    assert!(last_gap + 1 < st.len(), "media after the GAP span:\n{top}");
    assert!(top.contains("#EXT-X-PRELOAD-HINT"), "{top}");
    assert_eq!(edge(&top), edge(&low), "\n{top}\n{low}");
    let resumed_uri = &st[last_gap + 1].0;
    assert_eq!(get(&s, &format!("/live/{id}/video/{resumed_uri}")).0, 200);

    let (c, _) = call(
        &base,
        "POST",
        &format!("/api/live/{id}/end"),
        &ticket,
        None,
        b"",
    );
    assert_eq!(c, 204);
    let vid = &published_recording(&s, &id);
    let master = get(&s, &format!("/v/{vid}/master.m3u8")).1;
    assert_eq!(
        master.matches("#EXT-X-STREAM-INF").count(),
        1,
        "the paused rung is left out:\n{master}"
    );
    assert!(master.contains("RESOLUTION=320x180"), "{master}");
    let (ok, report) = validate(&[&s.url(&format!("/v/{vid}/master.m3u8"))]);
    assert!(ok, "upcast validate on the recording:\n{report}");
    stored_is_published(&s, vid, "video");
    check_invariants(&s.data);
}

/// Every package path the published recording `vid` references, from its multivariant playlist down
/// (media and I-frame playlists, their init segments and segments), and its DASH MPD, which lists the
/// same segments; `paused` (a rendition left out) is named by neither.
fn published_paths(s: &Server, vid: &str, paused: &str) -> std::collections::BTreeSet<String> {
    let fetch = |path: &str| {
        let (c, text) = get(s, &format!("/v/{vid}/{path}"));
        assert_eq!(c, 200, "{path}");
        text
    };
    // The recording's URIs are relative and never climb (`upcast_core::layout`).
    let join = |dir: &str, uri: &str| {
        assert!(!uri.contains("..") && !uri.contains(':'), "{uri}");
        if dir.is_empty() {
            uri.to_string()
        } else {
            format!("{dir}/{uri}")
        }
    };
    let mpd = fetch("manifest.mpd");
    for named in [format!("id=\"{paused}\""), format!("\"{paused}/init.mp4\"")] {
        assert!(!mpd.contains(&named), "{named} in\n{mpd}");
    }
    let mut paths =
        std::collections::BTreeSet::from(["master.m3u8".to_string(), "manifest.mpd".into()]);
    let Ok((_, Playlist::MasterPlaylist(m))) =
        m3u8_rs::parse_playlist(fetch("master.m3u8").as_bytes())
    else {
        panic!("the recording's master.m3u8 is not a multivariant playlist");
    };
    let media: Vec<String> = m
        .variants
        .iter()
        .map(|v| v.uri.clone())
        .chain(m.alternatives.iter().filter_map(|a| a.uri.clone()))
        .collect();
    for uri in media {
        paths.insert(uri.clone());
        let dir = uri.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let Ok((_, Playlist::MediaPlaylist(p))) = m3u8_rs::parse_playlist(fetch(&uri).as_bytes())
        else {
            panic!("{uri} is not a media playlist");
        };
        for seg in &p.segments {
            paths.insert(join(&dir, &seg.uri));
            if let Some(map) = &seg.map {
                paths.insert(join(&dir, &map.uri));
            }
        }
    }
    paths
}

/// What the recording `vid` stores is what it publishes: its file rows are exactly the paths its
/// playlists reference (none of the paused rendition `paused`), its objects on disk exactly the rows'
/// digests, and its quota usage (the video's `bytes`) the sum of the published files' lengths as served.
fn stored_is_published(s: &Server, vid: &str, paused: &str) {
    let published = published_paths(s, vid, paused);
    let (c, listed) = api(s, "GET", &format!("/api/videos/{vid}/files"), None);
    assert_eq!(c, 200, "{listed}");
    let rows = listed["files"].as_array().unwrap();
    let stored: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !stored.iter().any(|p| p.starts_with(&format!("{paused}/"))),
        "the paused rendition's files are gone: {stored:?}"
    );
    assert_eq!(stored, published, "the stored files are the published ones");
    let in_db: Vec<_> = file_rows(&s.data)
        .into_iter()
        .filter(|r| r.0 == vid)
        .collect();
    assert_eq!(in_db.len(), published.len(), "{in_db:?}");
    let digests: std::collections::BTreeSet<String> = in_db.iter().map(|r| r.2.clone()).collect();
    let on_disk: std::collections::BTreeSet<String> =
        std::fs::read_dir(s.data.join("objects").join(vid))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
    assert_eq!(on_disk, digests, "the objects are the rows'");
    let served: usize = published
        .iter()
        .map(|p| {
            let (c, bytes) = status_bytes(agent().get(&s.url(&format!("/v/{vid}/{p}"))).call());
            assert_eq!(c, 200, "{p}");
            bytes.len()
        })
        .sum();
    let (_, video) = api(s, "GET", &format!("/api/videos/{vid}"), None);
    assert_eq!(video["bytes"], served as u64, "quota usage: {video}");
    assert_eq!(video["files"], published.len() as u64, "{video}");
}

/// A response's status and body bytes (segments are binary).
fn status_bytes(r: Result<ureq::Response, ureq::Error>) -> (u16, Vec<u8>) {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let code = resp.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    (code, body)
}
