//! A full disk: the origin answers 507 with no partial file visible, and recovers by itself once space is
//! freed. Runs on a small tmpfs mounted for the test (needs root); if it cannot be mounted the test fails.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use harness::*;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "upcast-test"])
            .arg(dir)
            .output()
            .expect("run mount(8)");
        assert!(
            out.status.success(),
            "the disk-full test needs to mount a {size} tmpfs at {} (run as root): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Write until the filesystem refuses; returns the filler's path.
fn fill(dir: &Path) -> PathBuf {
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let block = vec![0u8; 64 << 10];
    loop {
        match f.write_all(&block) {
            Ok(()) => {}
            Err(e) if upcast_origin::error::is_disk_full(&e) => break,
            Err(e) => panic!("filling the tmpfs: {e}"),
        }
    }
    // Also the last partial page.
    let _ = f.write_all(&block[..1024]);
    p
}

#[test]
fn full_disk_answers_507_and_recovers() {
    let mnt = tempfile::tempdir().unwrap();
    let _tmpfs = Tmpfs::mount(mnt.path(), "16m");
    let data = mnt.path().join("data");
    let mut s = Server::start(&data, &[]);
    let (id, ticket) = create_video(&s, "public");
    let put = |f: &PkgFile| {
        status(
            agent()
                .put(&s.url(&format!("/api/videos/{id}/files/{}", f.path)))
                .set("Authorization", &format!("Bearer {ticket}"))
                .set("X-Upcast-Sha256", &f.sha256)
                .send_bytes(&f.bytes),
        )
    };
    let files = pkg();
    assert_eq!(put(&files[0]).0, 201);
    let before = (stored_files(&data), file_rows(&data));

    let filler = fill(mnt.path());
    for f in &files[1..4] {
        let (st, body) = put(f);
        assert_eq!(st, 507, "{}: {body}", f.path);
        assert!(body.contains("insufficient-storage"), "{body}");
        assert_eq!(
            before,
            (stored_files(&data), file_rows(&data)),
            "{} left something",
            f.path
        );
    }
    // Metadata writes: creating videos until SQLite itself runs out of room answers 507, never 500.
    let mut db_full = false;
    for _ in 0..200 {
        let (st, body) = status(
            agent()
                .post(&s.url("/api/videos"))
                .set("Authorization", &format!("Bearer {ADMIN}"))
                .send_string(&format!(r#"{{"title":"{}"}}"#, "x".repeat(400))),
        );
        assert!(st == 201 || st == 507, "{st} {body}");
        if st == 507 {
            assert!(body.contains("insufficient-storage"), "{body}");
            db_full = true;
            break;
        }
    }
    assert!(
        db_full,
        "200 new videos on a full disk never filled the database"
    );
    // Playback of what is stored still works on a full disk.
    let (st, _) = status(
        agent()
            .get(&s.url(&format!("/v/{id}/{}", files[0].path)))
            .call(),
    );
    assert_eq!(st, 200);

    // Space comes back: the same server accepts the rest and publishes, with no restart.
    std::fs::remove_file(filler).unwrap();
    for f in &files[1..] {
        let (st, body) = put(f);
        assert_eq!(st, 201, "{}: {body}", f.path);
    }
    let (st, body) = status(
        agent()
            .post(&s.url(&format!("/api/videos/{id}/publish")))
            .set("Authorization", &format!("Bearer {ticket}"))
            .call(),
    );
    assert_eq!(st, 200, "{body}");
    s.kill9();
    check_invariants(&data);
}
