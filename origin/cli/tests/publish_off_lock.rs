//! A publish check reads the whole package; it must not hold the metadata lock while it does, and a
//! failing publish repeated in a loop must not cost a check each time. Against a real `upcast serve`.
//!
//! The check is held in the middle of its read by replacing one stored segment with a FIFO: the server
//! blocks reading it until the test writes to it. While it is held, other API calls must be answered.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use harness::*;

fn publish(base: &str, id: &str, ticket: &str) -> (u16, String, Option<String>) {
    match agent()
        .post(&format!("{base}/api/videos/{id}/publish"))
        .set("Authorization", &format!("Bearer {ticket}"))
        .call()
    {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default(), None),
        Err(ureq::Error::Status(c, r)) => {
            let retry = r.header("retry-after").map(str::to_string);
            (c, r.into_string().unwrap_or_default(), retry)
        }
        Err(e) => (0, e.to_string(), None),
    }
}

/// Replace a stored object by a FIFO of the same name; returns its path.
fn object_to_fifo(data: &Path, id: &str, sha256: &str) -> PathBuf {
    let p = data.join("objects").join(id).join(sha256);
    std::fs::remove_file(&p).unwrap();
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path we own for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    p
}

/// Wait until some process has the FIFO open for reading (opening it for writing without blocking fails
/// with ENXIO until then), and return the write end.
fn wait_for_reader(fifo: &Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo)
        {
            Ok(f) => {
                // Blocking writes from here on: the pipe holds 64 KiB, a segment may be larger.
                let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
                // SAFETY: F_SETFL on a descriptor `f` owns and keeps open across the call.
                unsafe { libc::fcntl(fd, libc::F_SETFL, 0) };
                return f;
            }
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                assert!(
                    Instant::now() < deadline,
                    "the publish check never read the segment"
                );
                std::thread::yield_now();
            }
            Err(e) => panic!("open fifo: {e}"),
        }
    }
}

/// Let the held read go on with `bytes`, and leave a plain file with the same bytes in the FIFO's place
/// for any later read.
fn release(fifo: &Path, mut writer: std::fs::File, bytes: &[u8]) {
    std::fs::remove_file(fifo).unwrap();
    std::fs::write(fifo, bytes).unwrap();
    writer.write_all(bytes).unwrap();
}

/// A published video's check, held inside its read of the package.
struct Held {
    id: String,
    ticket: String,
    seg: PkgFile,
    fifo: PathBuf,
    writer: std::fs::File,
    publishing: std::thread::JoinHandle<(u16, String, Option<String>)>,
}

/// Upload the fixture package to a new video, make one of its segments a FIFO, start its publish on
/// another thread and return once the check is blocked reading that segment.
fn hold_a_publish_check(s: &Server, data: &Path) -> Held {
    let (id, ticket) = create_video(s, "public");
    upload_pkg(s, &id, &ticket);
    let seg = pkg_file("video/seg_00002.m4s");
    let fifo = object_to_fifo(data, &id, &seg.sha256);
    let (base, pid, pt) = (s.url(""), id.clone(), ticket.clone());
    let publishing = std::thread::spawn(move || publish(&base, &pid, &pt));
    let writer = wait_for_reader(&fifo);
    Held {
        id,
        ticket,
        seg,
        fifo,
        writer,
        publishing,
    }
}

#[test]
fn api_answers_while_a_publish_check_reads_the_package() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let Held {
        id,
        ticket,
        seg: _,
        fifo,
        writer,
        publishing,
    } = hold_a_publish_check(&s, data.path());

    // The check is now blocked inside its read of the package. Every other kind of API call goes on.
    let (other, other_ticket) = create_video(&s, "public");
    upload_pkg(&s, &other, &other_ticket);
    let (code, body) = status(
        agent()
            .get(&s.url("/api/videos"))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call(),
    );
    assert_eq!(code, 200, "{body}");
    let (code, body) = status(
        agent()
            .get(&s.url(&format!("/api/videos/{id}/files")))
            .set("Authorization", &format!("Bearer {ticket}"))
            .call(),
    );
    assert_eq!(code, 200, "{body}");
    let (code, body, _) = publish(&s.url(""), &other, &other_ticket);
    assert_eq!(code, 200, "another video publishes meanwhile: {body}");
    // The same video cannot start a second check while one runs.
    let (code, body, retry) = publish(&s.url(""), &id, &ticket);
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("rate-limited") && retry.is_some(), "{body}");
    // A file that changes while the check runs makes the check void.
    let (code, body) = put_file(&s, &id, &ticket, "poster.jpg", &jpeg());
    assert_eq!(code, 201, "{body}");

    // Let the check go on with bytes that are not the segment: the package fails.
    release(&fifo, writer, b"not a segment at all");
    let (code, body, _) = publishing.join().unwrap();
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("not-conformant"), "{body}");
}

#[test]
fn a_publish_that_raced_a_change_is_refused_and_a_failing_one_waits() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let Held {
        id,
        ticket,
        seg,
        fifo,
        writer,
        publishing,
    } = hold_a_publish_check(&s, data.path());
    // Changed while checked: the poster is new.
    let (code, body) = put_file(&s, &id, &ticket, "poster.jpg", &jpeg());
    assert_eq!(code, 201, "{body}");
    release(&fifo, writer, &seg.bytes);
    let (code, body, _) = publishing.join().unwrap();
    assert_eq!(code, 409, "{body}");
    assert!(body.contains("changed-during-publish"), "{body}");

    // Now the stored segment is damaged: every check of this package fails. The same package again is
    // refused without a check until its wait is over, and says when to come back.
    std::fs::write(&fifo, b"damaged").unwrap();
    let (code, body, _) = publish(&s.url(""), &id, &ticket);
    assert_eq!(code, 422, "{body}");
    let (code, body, retry) = publish(&s.url(""), &id, &ticket);
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("have not changed"), "{body}");
    let retry: u64 = retry.unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

/// A tiny valid JPEG (SOI, APP0, EOI) is enough for the origin's poster check.
fn jpeg() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}
