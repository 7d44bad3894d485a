//! The playback signing keys live in their own 0600 file (not in the database), rotate with an overlap
//! window, and links cannot claim a life longer than the cap. The data directory is the origin's alone.
//! Against a real `upcast serve`.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use harness::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn admin_json(s: &Server, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let r = agent()
        .request(method, &s.url(path))
        .set("Authorization", &format!("Bearer {ADMIN}"));
    let (code, text) = status(if body.is_empty() {
        r.call()
    } else {
        r.send_string(body)
    });
    (code, serde_json::from_str(&text).unwrap_or_default())
}

/// A signed link to the master playlist of a private video, from the API.
fn link(s: &Server, id: &str, ttl: u64) -> String {
    let (code, v) = admin_json(
        s,
        "GET",
        &format!("/api/videos/{id}/playback?ttl={ttl}"),
        "",
    );
    assert_eq!(code, 200, "{v}");
    v["url"].as_str().unwrap().to_string()
}

fn get_code(s: &Server, path: &str) -> (u16, String) {
    status(agent().get(&s.url(path)).call())
}

fn published_private_video(s: &Server) -> String {
    let (id, ticket) = create_video(s, "private");
    upload_pkg(s, &id, &ticket);
    let (code, body) = status(
        agent()
            .post(&s.url(&format!("/api/videos/{id}/publish")))
            .set("Authorization", &format!("Bearer {ticket}"))
            .call(),
    );
    assert_eq!(code, 200, "{body}");
    id
}

#[test]
fn data_is_private_and_keys_rotate_with_an_overlap() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let id = published_private_video(&s);

    // Only the origin's user may read what it stores.
    let d = data.path();
    assert_eq!(mode(d), 0o700);
    for f in ["upcast.db", "upcast.db-wal", "signing-keys.json"] {
        assert_eq!(mode(&d.join(f)), 0o600, "{f}");
    }
    for dir in ["objects", "tmp"] {
        assert_eq!(mode(&d.join(dir)), 0o700, "{dir}");
    }
    assert_eq!(mode(&d.join("objects").join(&id)), 0o700);
    for e in std::fs::read_dir(d.join("objects").join(&id)).unwrap() {
        assert_eq!(mode(&e.unwrap().path()), 0o600);
    }
    // The database holds no signing key.
    let c = rusqlite::Connection::open(d.join("upcast.db")).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM settings WHERE key LIKE '%signing%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);

    // Rotation: a link made before still plays during the overlap; after a rotation with no overlap only
    // links of the newest key play.
    let before = link(&s, &id, 600);
    assert_eq!(get_code(&s, &before).0, 200);
    let (code, v) = admin_json(
        &s,
        "POST",
        "/api/signing-keys/rotate",
        r#"{"overlap_secs": 300}"#,
    );
    assert_eq!(code, 200, "{v}");
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{v}");
    assert!(keys[1]["current"].as_bool().unwrap() && keys[0]["retire_at"].is_i64());
    assert!(!v.to_string().contains("secret"), "{v}");
    let after = link(&s, &id, 600);
    assert_ne!(before, after);
    assert_eq!(get_code(&s, &before).0, 200);
    assert_eq!(get_code(&s, &after).0, 200);
    let (code, v) = admin_json(
        &s,
        "POST",
        "/api/signing-keys/rotate",
        r#"{"overlap_secs": 0}"#,
    );
    assert_eq!(code, 200, "{v}");
    let (code, body) = get_code(&s, &before);
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("bad-signature"), "{body}");
    assert_eq!(get_code(&s, &after).0, 403);
    let newest = link(&s, &id, 600);
    assert_eq!(get_code(&s, &newest).0, 200);
    // Only the admin may rotate or list.
    let (code, _) = status(agent().post(&s.url("/api/signing-keys/rotate")).call());
    assert_eq!(code, 401);

    // The rotated keys survive a restart (they are in the file).
    drop(s);
    let s = Server::start(data.path(), &[]);
    assert_eq!(get_code(&s, &newest).0, 200);
    let (code, v) = admin_json(&s, "GET", "/api/signing-keys", "");
    assert_eq!(code, 200);
    assert_eq!(v["keys"].as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn a_link_cannot_outlive_the_cap_even_when_signed() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let id = published_private_video(&s);
    // Whoever holds the key could sign any expiry; the origin still refuses one beyond 7 days.
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.path().join("signing-keys.json")).unwrap())
            .unwrap();
    let secret = hex::decode(file["keys"][0]["secret"].as_str().unwrap()).unwrap();
    let now: i64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap();
    let sign = |exp: i64| {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&secret).unwrap();
        m.update(format!("/v/{id}/\n{exp}").as_bytes());
        format!(
            "/s/{exp}/{}/v/{id}/master.m3u8",
            hex::encode(m.finalize().into_bytes())
        )
    };
    assert_eq!(get_code(&s, &sign(now + 6 * 86_400)).0, 200);
    let (code, body) = get_code(&s, &sign(now + 8 * 86_400));
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("link-too-long"), "{body}");
    // The API clamps what it signs to the cap.
    let l = link(&s, &id, 30 * 86_400);
    let exp: i64 = l.split('/').nth(2).unwrap().parse().unwrap();
    assert!(exp - now <= 7 * 86_400 + 5, "{l}");
}

#[test]
fn a_key_an_older_version_kept_in_the_database_moves_to_the_file() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let id = published_private_video(&s);
    drop(s);
    // What an older version left: the key in the settings table, no key file, a world-readable database.
    let legacy = "cd".repeat(32);
    std::fs::remove_file(data.path().join("signing-keys.json")).unwrap();
    let c = rusqlite::Connection::open(data.path().join("upcast.db")).unwrap();
    c.execute(
        "INSERT INTO settings (key, value) VALUES ('signing_key', ?1)",
        [&legacy],
    )
    .unwrap();
    drop(c);
    std::fs::set_permissions(
        data.path().join("upcast.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    let s = Server::start(data.path(), &[]);
    assert_eq!(mode(data.path()), 0o700);
    assert_eq!(mode(&data.path().join("upcast.db")), 0o600);
    // A link signed with the legacy key (as the old version signed) still plays.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let exp = i64::try_from(now).unwrap() + 600;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&hex::decode(&legacy).unwrap()).unwrap();
    m.update(format!("/v/{id}/\n{exp}").as_bytes());
    let old_link = format!(
        "/s/{exp}/{}/v/{id}/master.m3u8",
        hex::encode(m.finalize().into_bytes())
    );
    assert_eq!(get_code(&s, &old_link).0, 200);
    // And the secret is gone from the database file (and its WAL), not only from the table.
    drop(s);
    for f in ["upcast.db", "upcast.db-wal"] {
        let bytes = std::fs::read(data.path().join(f)).unwrap_or_default();
        assert!(
            !bytes.windows(legacy.len()).any(|w| w == legacy.as_bytes()),
            "{f} still holds the key"
        );
    }
}
