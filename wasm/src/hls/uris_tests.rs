use super::*;

/// (line, source as text, uri) of every URI, panicking on a syntax error.
fn found(text: &str) -> Vec<(usize, String, &str)> {
    let x = playlist_uris(text);
    assert!(x.errors.is_empty(), "{text:?}: {:?}", x.errors);
    x.uris
        .iter()
        .map(|u| (u.line, u.source.to_string(), u.uri))
        .collect()
}

/// The 1-based line of the first error.
fn error_line(text: &str) -> usize {
    let x = playlist_uris(text);
    x.errors
        .first()
        .unwrap_or_else(|| panic!("{text:?} gave no error: {:?}", x.uris))
        .line
}

/// Every tag that carries a URI attribute, each written with the value quoted and unquoted.
const TAGS: &[(&str, &str, &str)] = &[
    ("EXT-X-CONTENT-STEERING", "SERVER-URI", ",PATHWAY-ID=\"a\""),
    (
        "EXT-X-KEY",
        "URI",
        ",METHOD=AES-128,IV=0x00000000000000000000000000000001",
    ),
    ("EXT-X-SESSION-KEY", "URI", ",METHOD=SAMPLE-AES"),
    ("EXT-X-MAP", "URI", ",BYTERANGE=\"720@0\""),
    (
        "EXT-X-MEDIA",
        "URI",
        ",TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"English, US\"",
    ),
    (
        "EXT-X-I-FRAME-STREAM-INF",
        "URI",
        ",BANDWIDTH=1,CODECS=\"avc1.64000b,mp4a.40.2\"",
    ),
    ("EXT-X-PART", "URI", ",DURATION=1.0,INDEPENDENT=YES"),
    ("EXT-X-PRELOAD-HINT", "URI", ",TYPE=PART"),
    ("EXT-X-RENDITION-REPORT", "URI", ",LAST-MSN=1,LAST-PART=2"),
    ("EXT-X-SESSION-DATA", "URI", ",DATA-ID=\"com.example\""),
    (
        "EXT-X-IMAGE-STREAM-INF",
        "URI",
        ",BANDWIDTH=1,RESOLUTION=320x180",
    ),
    (
        "EXT-X-DATERANGE",
        "X-ASSET-URI",
        ",ID=\"ad\",CLASS=\"com.apple.hls.interstitial\"",
    ),
    (
        "EXT-X-DATERANGE",
        "X-ASSET-LIST",
        ",ID=\"ad\",START-DATE=\"2020-01-01T00:00:00Z\"",
    ),
    ("EXT-X-NOT-YET-KNOWN", "SOME-URI", ",X=1"),
];

#[test]
fn every_uri_attribute_of_every_tag_quoted_or_not() {
    for &(tag, attr, others) in TAGS {
        for (value, want) in [
            ("\"http://127.0.0.2:9/x\"", "http://127.0.0.2:9/x"),
            ("http://127.0.0.2:9/x", "http://127.0.0.2:9/x"),
        ] {
            // The URI attribute first, last, and between others.
            for list in [
                format!("{attr}={value}{others}"),
                format!("{},{attr}={value}", &others[1..]),
                format!("A=1,{attr}={value}{others}"),
            ] {
                let text = format!("#EXTM3U\n#{tag}:{list}\n");
                assert_eq!(found(&text), [(2, format!("{tag} {attr}"), want)], "{text}");
            }
        }
    }
}

#[test]
fn uri_lines_are_found_trimmed() {
    let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n  v/a.m3u8 \r\n\n# a comment\n#EXTINF:2.5,t\n\tseg.m4s\n";
    assert_eq!(
        found(text),
        [
            (3, "URI line".into(), "v/a.m3u8"),
            (7, "URI line".into(), "seg.m4s")
        ]
    );
}

#[test]
fn commas_inside_quotes_hide_nothing() {
    let text = "#EXTM3U\n#EXT-X-MEDIA:NAME=\"a,URI=http://x/\",URI=\"b.m3u8\",GROUP-ID=\"g\"\n";
    assert_eq!(found(text), [(2, "EXT-X-MEDIA URI".into(), "b.m3u8")]);
}

#[test]
fn attributes_not_naming_uris_and_single_values_are_not_uris() {
    let text = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-PROGRAM-DATE-TIME:2020-01-01T00:00:00Z\n\
        #EXT-X-START:TIME-OFFSET=0\n#EXT-X-DEFINE:NAME=\"u\",VALUE=\"http://x/\"\n#EXT-X-UNKNOWN:http://x/\n\
        #EXT-X-DATERANGE:ID=\"a\",X-URL=\"http://x/\",URIX=\"http://x/\"\n#EXTINF:6,URI=http://x/\nseg.m4s\n#EXT-X-ENDLIST\n";
    assert_eq!(found(text), [(10, "URI line".into(), "seg.m4s")]);
}

#[test]
fn values_of_other_grammars_are_not_attribute_lists_unless_they_could_name_a_uri() {
    let text =
        "#EXTM3U\n#EXT-OATCLS-SCTE35:/DAlAAAAAAAAAP/wFAUAAAABf+/+ANgNkv4AFJlwAAEBAQAA5xULLA==\n\
        #EXT-X-CUE-OUT-CONT:ElapsedTime=5,Duration=30\n#EXTINF:6,\nseg.m4s\n";
    assert_eq!(found(text), [(5, "URI line".into(), "seg.m4s")]);
    for value in [
        "junk,uri=http://x/",
        "a b,X-Asset-List=http://x/",
        "Uri = http://x/",
    ] {
        let text = format!("#EXTM3U\n#EXT-X-VENDOR:{value}\n");
        assert_eq!(error_line(&text), 2, "{text}");
    }
    // A list that should parse is an error even when no URI attribute is in sight.
    assert_eq!(
        error_line("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,junk\nv.m3u8\n"),
        2
    );
}

#[test]
fn malformed_attribute_lists_are_errors_on_their_line() {
    for list in [
        "URI=\"http://x/",
        "X=\"a,URI=http://x/",
        "URI=\"a\"b",
        "A=1,,URI=http://x/",
        "METHOD=AES-128,junk,URI=http://x/",
        "uri=http://x/",
        "URI = \"a\"",
        "URI=a\"b\"",
    ] {
        for tag in ["EXT-X-KEY", "EXT-X-CONTENT-STEERING", "EXT-X-FUTURE-TAG"] {
            let text = format!("#EXTM3U\n#EXT-X-VERSION:7\n#{tag}:{list}\n");
            assert_eq!(error_line(&text), 3, "{text}");
            assert!(
                playlist_uris(&text).errors[0].message.contains(tag),
                "{text}"
            );
        }
    }
}

#[test]
fn what_hls_js_would_read_differently_is_an_error() {
    for (text, line) in [
        // hls.js ends lines at a bare CR, U+2028 and U+2029.
        ("#EXTM3U\n#EXT-X-KEY:METHOD=NONE\rhttp://x/seg.m4s\n", 2),
        ("#EXTM3U\n#EXTINF:6,t\u{2028}http://x/seg.m4s\n", 2),
        ("#EXTM3U\n# c\u{2029}http://x/seg.m4s\n", 2),
        ("#EXTM3U\n\n#EXTINF:6,\nseg\u{0}.m4s\n", 4),
        // hls.js finds multivariant tags anywhere in the text.
        (
            "#EXTM3U\n# see #EXT-X-CONTENT-STEERING:SERVER-URI=http://x/\n",
            2,
        ),
        (
            "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"#EXT-X-SESSION-KEY:URI=http://x/\"\n",
            2,
        ),
        (" #EXT-X-CONTENT-STEERING:SERVER-URI=http://x/\n", 1),
        ("\u{e9}#EXT-X-CONTENT-STEERING:SERVER-URI=http://x/\n", 1),
        // hls.js reads what follows an EXTINF duration as a segment URI.
        ("#EXTM3U\n#EXTINF:6http://x/seg.m4s\n", 2),
        ("#EXTM3U\n#EXTINF:6 http://x/seg.m4s\n", 2),
        ("#EXTM3U\n#EXTINF:6.5.5,\nseg.m4s\n", 2),
        ("#EXTM3U\n#EXTINF:-1,\nseg.m4s\n", 2),
        ("#EXTM3U\n#EXTINF:6,http://x/seg.m4s", 2),
    ] {
        assert_eq!(error_line(text), line, "{text:?}");
    }
}

#[test]
fn extinf_forms_hls_js_reads_as_a_duration_alone() {
    for v in [
        "6",
        "6.0",
        ".5",
        " 6,",
        "6,title, with = signs",
        "6\t",
        "6,",
    ] {
        let text = format!("#EXTM3U\n#EXTINF:{v}\nseg.m4s\n");
        assert_eq!(found(&text), [(3, "URI line".into(), "seg.m4s")], "{text}");
    }
}

#[test]
fn errors_are_bounded() {
    let text = "#EXTM3U\n".to_string() + &"#EXT-X-KEY:URI=\"\n".repeat(10 * MAX_ERRORS);
    assert_eq!(playlist_uris(&text).errors.len(), MAX_ERRORS);
}

#[test]
fn package_references_refuse_what_leaves_the_video_naming_line_tag_and_attribute() {
    let media = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI=\"init.mp4\"\n\
        #EXTINF:6.0,\nseg_00001.m4s\n#EXTINF:6.0,\nseg_00002.m4s\n#EXT-X-ENDLIST\n";
    assert_eq!(
        package_references("video/playlist.m3u8", media.as_bytes()).unwrap(),
        [
            "video/init.mp4",
            "video/seg_00001.m4s",
            "video/seg_00002.m4s"
        ]
    );
    let keyed = media.replace(
        "#EXTINF:6.0,\nseg_00002",
        "#EXT-X-KEY:METHOD=AES-128,URI=https://k.example/k\n#EXTINF:6.0,\nseg_00002",
    );
    let e = package_references("video/playlist.m3u8", keyed.as_bytes()).unwrap_err();
    assert!(
        e.starts_with("video/playlist.m3u8:7: EXT-X-KEY URI: "),
        "{e}"
    );
    assert!(e.contains("has a scheme"), "{e}");
    let steer = "#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI=http://127.0.0.2/steer.json\n";
    let e = package_references("master.m3u8", steer.as_bytes()).unwrap_err();
    assert!(
        e.starts_with("master.m3u8:2: EXT-X-CONTENT-STEERING SERVER-URI: "),
        "{e}"
    );
    // Inside the video but not a package file: a player would fetch it, the package cannot hold it.
    let steer = "#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI=steer.json\n";
    assert!(package_references("master.m3u8", steer.as_bytes()).is_err());
    for bad in [
        &b"#EXTM3U\n\xff"[..],
        b"<html>",
        b"#EXTM3U\n#EXT-X-KEY:URI=\"a",
    ] {
        assert!(package_references("master.m3u8", bad).is_err());
    }
}
