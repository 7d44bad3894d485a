//! `upcast serve --store s3://…` against a real S3-compatible server (s3s-fs, started by the test on
//! loopback): the upload API stores every object in the bucket and none on the origin's disk, publish reads
//! the package back from the bucket, segments are served by redirect to presigned bucket URLs, playlists
//! from the origin; with the bucket down, uploads get 503 `store-unavailable` and publish refuses until
//! every file is in the bucket.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/s3.rs"]
mod s3;

use harness::*;
use s3::S3Server;

fn serve_on(server: &S3Server, data: &std::path::Path) -> Server {
    let spec = server.store_spec();
    // No object served from the origin's memory: every segment by redirect to the bucket.
    let mut cmd = Server::command(
        data,
        &[
            "--store",
            &spec,
            "--store-attempts",
            "2",
            "--cache-max-object-kib",
            "0",
        ],
    );
    cmd.envs(server.env());
    Server::spawn(cmd, data)
}

fn no_redirects() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn publish(s: &Server, id: &str, ticket: &str) -> (u16, String) {
    status(
        agent()
            .post(&s.url(&format!("/api/videos/{id}/publish")))
            .set("Authorization", &format!("Bearer {ticket}"))
            .call(),
    )
}

#[test]
fn uploads_publishes_and_plays_from_the_bucket() {
    let bucket = S3Server::start("media");
    let data = tempfile::tempdir().unwrap();
    let s = serve_on(&bucket, data.path());
    let (id, ticket) = create_video(&s, "public");
    upload_pkg(&s, &id, &ticket);
    let (code, body) = publish(&s, &id, &ticket);
    assert_eq!(code, 200, "{body}");
    // Every object is in the bucket, none on the origin's disk (spool files are gone too).
    assert!(stored_files(data.path()).is_empty());
    for f in pkg() {
        let in_bucket = bucket.object_file(&format!("objects/{id}/{}", f.sha256));
        assert_eq!(std::fs::read(&in_bucket).unwrap(), f.bytes, "{}", f.path);
    }
    // Playlists come from the origin itself…
    let r = agent()
        .get(&s.url(&format!("/v/{id}/master.m3u8")))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.into_string().unwrap().starts_with("#EXTM3U"));
    // … segments by redirect to the bucket, which serves the very bytes uploaded.
    let seg = pkg_file("video/seg_00001.m4s");
    let r = no_redirects()
        .get(&s.url(&format!("/v/{id}/video/seg_00001.m4s")))
        .call()
        .unwrap();
    assert_eq!(r.status(), 307);
    let location = r.header("Location").unwrap().to_string();
    assert!(location.starts_with(&bucket.endpoint()), "{location}");
    let mut got = Vec::new();
    std::io::copy(
        &mut agent().get(&location).call().unwrap().into_reader(),
        &mut got,
    )
    .unwrap();
    assert_eq!(got, seg.bytes);
}

#[test]
fn bucket_down_mid_upload_refuses_then_resumes_and_publishes() {
    let mut bucket = S3Server::start("media");
    let data = tempfile::tempdir().unwrap();
    let s = serve_on(&bucket, data.path());
    let (id, ticket) = create_video(&s, "public");
    let files = pkg();
    let (first, rest) = files.split_at(files.len() / 2);
    for f in first {
        let (code, body) = put_file(&s, &id, &ticket, &f.path, &f.bytes);
        assert_eq!(code, 201, "{}: {body}", f.path);
    }
    bucket.kill();
    let f = &rest[0];
    let (code, body) = put_file(&s, &id, &ticket, &f.path, &f.bytes);
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("store-unavailable"), "{body}");
    // Nothing half-stored: no row for the refused file, no spool file left.
    assert!(!file_rows(data.path()).iter().any(|r| r.1 == f.path));
    assert!(stored_files(data.path()).is_empty());
    bucket.restart();
    // Publish refuses while files are missing…
    let (code, body) = publish(&s, &id, &ticket);
    assert_eq!(code, 409, "{body}");
    assert!(body.contains("missing-files"), "{body}");
    // … and the same uploads, resumed, complete the package.
    for f in rest {
        let (code, body) = put_file(&s, &id, &ticket, &f.path, &f.bytes);
        assert_eq!(code, 201, "{}: {body}", f.path);
    }
    let (code, body) = publish(&s, &id, &ticket);
    assert_eq!(code, 200, "{body}");
}

#[test]
fn serve_refuses_a_bad_store_spec_or_missing_credentials() {
    let data = tempfile::tempdir().unwrap();
    for (spec, env, want) in [
        ("s3://media?endpoint=http://127.0.0.1:9", true, "gave up"),
        ("s3://media", false, "AWS_ACCESS_KEY_ID"),
        ("s3://Bad_Name", true, "bucket name"),
    ] {
        let mut cmd = Server::command(data.path(), &["--store", spec, "--store-attempts", "1"]);
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY");
        if env {
            cmd.env("AWS_ACCESS_KEY_ID", "a")
                .env("AWS_SECRET_ACCESS_KEY", "b");
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{spec}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{spec}: {err}");
    }
}

/// `POST` a JSON body with a bearer token; the status and the JSON answer.
fn post_json(
    s: &Server,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let (code, text) = status(
        agent()
            .post(&s.url(path))
            .set("Authorization", &format!("Bearer {token}"))
            .send_string(&body.to_string()),
    );
    (
        code,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Sends `body` to the presigned PUT the origin handed out; the bucket's status.
fn send_direct(answer: &serde_json::Value, body: &[u8]) -> u16 {
    let mut r = agent().put(answer["url"].as_str().unwrap());
    for h in answer["headers"].as_array().unwrap() {
        let (k, v) = (h[0].as_str().unwrap(), h[1].as_str().unwrap());
        if k != "content-length" {
            r = r.set(k, v);
        }
    }
    status(r.send_bytes(body)).0
}

#[test]
fn direct_uploads_go_to_the_bucket_and_are_checked_before_they_count() {
    let bucket = S3Server::start("media");
    let data = tempfile::tempdir().unwrap();
    let s = serve_on(&bucket, data.path());
    let (id, ticket) = create_video(&s, "public");
    let presign = format!("/api/videos/{id}/direct-uploads");
    let complete = format!("/api/videos/{id}/direct-uploads/complete");
    let files = pkg();
    let desc = |f: &PkgFile| serde_json::json!({"path": f.path, "sha256": f.sha256, "size": f.bytes.len()});

    // A wrong length, declared: the limits apply before any URL is handed out.
    let (code, v) = post_json(
        &s,
        &presign,
        &ticket,
        &serde_json::json!({"path": "video/seg_00001.m4s", "sha256": files[0].sha256, "size": 1u64 << 40}),
    );
    assert_eq!((code, v["code"].as_str()), (413, Some("too-large")), "{v}");
    // Completing before sending: the bucket has nothing.
    let (code, v) = post_json(&s, &complete, &ticket, &desc(&files[0]));
    assert_eq!(
        (code, v["code"].as_str()),
        (409, Some("not-in-store")),
        "{v}"
    );

    for f in &files {
        let (code, v) = post_json(&s, &presign, &ticket, &desc(f));
        assert_eq!(code, 200, "{}: {v}", f.path);
        assert!(v["stored"].is_null());
        assert_eq!(send_direct(&v, &f.bytes), 200, "{}", f.path);
        let (code, v) = post_json(&s, &complete, &ticket, &desc(f));
        assert_eq!(code, 201, "{}: {v}", f.path);
    }
    // Idempotent: the same file again is already stored, nothing to send.
    let (code, v) = post_json(&s, &presign, &ticket, &desc(&files[1]));
    assert_eq!(code, 200);
    assert_eq!(v["stored"]["sha256"], files[1].sha256.as_str(), "{v}");
    let (code, v) = post_json(&s, &complete, &ticket, &desc(&files[1]));
    assert_eq!(
        (code, &v["created"]),
        (200, &serde_json::Value::Bool(false)),
        "{v}"
    );
    // No media byte passed through the origin's disk.
    assert!(stored_files(data.path()).is_empty());
    let (code, body) = publish(&s, &id, &ticket);
    assert_eq!(code, 200, "{body}");
}

#[test]
fn bytes_the_bucket_kept_under_a_wrong_key_are_refused_and_deleted() {
    let bucket = S3Server::start("media");
    let data = tempfile::tempdir().unwrap();
    let s = serve_on(&bucket, data.path());
    let (id, ticket) = create_video(&s, "public");
    let f = pkg_file("master.m3u8");
    let d = serde_json::json!({"path": f.path, "sha256": f.sha256, "size": f.bytes.len()});
    let (_, v) = post_json(&s, &format!("/api/videos/{id}/direct-uploads"), &ticket, &d);
    let mut wrong = f.bytes.clone();
    let last = wrong.len() - 2;
    wrong[last] ^= 0x20;
    // The bucket refuses them (BadDigest) — and s3s-fs 0.14 keeps them under the key anyway.
    assert_eq!(send_direct(&v, &wrong), 400);
    let in_bucket = bucket.object_file(&format!("objects/{id}/{}", f.sha256));
    let kept = in_bucket.is_file();
    let (code, v) = post_json(
        &s,
        &format!("/api/videos/{id}/direct-uploads/complete"),
        &ticket,
        &d,
    );
    if kept {
        assert_eq!(
            (code, v["code"].as_str()),
            (422, Some("digest-mismatch")),
            "{v}"
        );
        assert!(!in_bucket.exists(), "the refused object is deleted");
    } else {
        assert_eq!(
            (code, v["code"].as_str()),
            (409, Some("not-in-store")),
            "{v}"
        );
    }
    assert!(file_rows(data.path()).is_empty());
}

#[test]
fn an_origin_on_local_disk_says_direct_uploads_are_off() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let (id, ticket) = create_video(&s, "public");
    let f = pkg_file("master.m3u8");
    let d = serde_json::json!({"path": f.path, "sha256": f.sha256, "size": f.bytes.len()});
    let (code, v) = post_json(&s, &format!("/api/videos/{id}/direct-uploads"), &ticket, &d);
    assert_eq!(
        (code, v["code"].as_str()),
        (409, Some("direct-uploads-off")),
        "{v}"
    );
}

fn read_only_on(server: &S3Server, data: &std::path::Path, keys: &std::path::Path) -> Server {
    let spec = server.store_spec();
    let mut cmd = Server::command(
        data,
        &["--store", &spec, "--read-only", "--signing-keys-file"],
    );
    cmd.arg(keys).envs(server.env());
    Server::spawn(cmd, data)
}

/// GETs `path` from `s`, following a redirect to the bucket; the status and the bytes.
fn play(s: &Server, path: &str) -> (u16, Vec<u8>) {
    let r = no_redirects().get(&s.url(path)).call();
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(c, _)) => return (c, Vec::new()),
        Err(e) => panic!("{path}: {e}"),
    };
    let r = if r.status() == 307 {
        agent().get(r.header("Location").unwrap()).call().unwrap()
    } else {
        r
    };
    let status = r.status();
    let mut out = Vec::new();
    std::io::copy(&mut r.into_reader(), &mut out).unwrap();
    (status, out)
}

#[test]
fn read_only_origins_serve_the_writers_videos_and_outlive_it() {
    let bucket = S3Server::start("media");
    let (wdata, rdata, fresh) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut writer = serve_on(&bucket, wdata.path());
    let keys = wdata.path().join("signing-keys.json");
    let reader = read_only_on(&bucket, rdata.path(), &keys);
    // Published on the writer after the reader started: the reader learns of it on first request.
    let (id, ticket) = create_video(&writer, "public");
    upload_pkg(&writer, &id, &ticket);
    assert_eq!(publish(&writer, &id, &ticket).0, 200);
    let (pid, pticket) = create_video(&writer, "private");
    upload_pkg(&writer, &pid, &pticket);
    assert_eq!(publish(&writer, &pid, &pticket).0, 200);
    let seg = pkg_file("video/seg_00002.m4s");
    let (code, bytes) = play(&reader, &format!("/v/{id}/video/seg_00002.m4s"));
    assert_eq!((code, bytes == seg.bytes), (200, true));
    // A private video: not on /v/, and on a link the writer signed (the keys are shared).
    assert_eq!(play(&reader, &format!("/v/{pid}/master.m3u8")).0, 404);
    let (_, link) = get_json(&writer, &format!("/api/videos/{pid}/playback"));
    let master = link["url"].as_str().unwrap().to_string();
    let (code, body) = play(&reader, &master);
    assert_eq!(code, 200, "{master}");
    assert!(body.starts_with(b"#EXTM3U"));
    let signed_seg = master.replace("master.m3u8", "video/seg_00002.m4s");
    assert_eq!(play(&reader, &signed_seg), (200, seg.bytes.clone()));
    let tampered = signed_seg.replacen("/s/", "/s/1", 1);
    assert_eq!(play(&reader, &tampered).0, 403);

    // The reader refuses every write.
    let (code, v) = post_json(
        &reader,
        "/api/videos",
        ADMIN,
        &serde_json::json!({"title": "x"}),
    );
    assert_eq!((code, v["code"].as_str()), (405, Some("read-only")), "{v}");
    let (code, _) = put_file(&reader, &id, &ticket, "video/seg_00001.m4s", &seg.bytes);
    assert_eq!(code, 405);

    // The writer dies; the reader keeps playing.
    writer.kill9();
    assert_eq!(
        play(&reader, &format!("/v/{id}/video/seg_00001.m4s")).0,
        200
    );
    assert_eq!(play(&reader, &format!("/v/{id}/master.m3u8")).0, 200);

    // A fresh origin with an empty database rebuilds the catalog from the bucket: it takes the lease of
    // the dead writer only once that expires, so it starts read-only here, and serves both videos.
    let fresh_reader = read_only_on(&bucket, fresh.path(), &keys);
    let (code, list) = get_json(&fresh_reader, "/api/videos");
    assert_eq!(code, 200);
    let ids: Vec<&str> = list["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&id.as_str()) && ids.contains(&pid.as_str()),
        "{list}"
    );
    assert_eq!(
        play(&fresh_reader, &format!("/v/{id}/video/seg_00003.m4s")).0,
        200
    );
}

#[test]
fn a_second_writer_is_refused_while_the_lease_is_held() {
    let bucket = S3Server::start("media");
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let writer = serve_on(&bucket, a.path());
    let spec = bucket.store_spec();
    let mut cmd = Server::command(b.path(), &["--store", &spec]);
    cmd.envs(bucket.env());
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another origin"), "{err}");
    assert!(err.contains("--read-only"), "{err}");
    // The same data directory restarted is the same writer: it takes its lease back at once.
    drop(writer);
    let again = serve_on(&bucket, a.path());
    let (id, _) = create_video(&again, "public");
    assert_eq!(id.len(), 16);
}

#[test]
fn a_read_only_origin_lists_videos_published_after_it_started_when_it_polls() {
    let bucket = S3Server::start("media");
    let (w, r) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let writer = serve_on(&bucket, w.path());
    let spec = bucket.store_spec();
    let mut cmd = Server::command(
        r.path(),
        &[
            "--store",
            &spec,
            "--read-only",
            "--read-only-poll-secs",
            "1",
        ],
    );
    cmd.envs(bucket.env());
    let edge = Server::spawn(cmd, r.path());
    let listed = |s: &Server| -> Vec<String> {
        let (code, v) = get_json(s, "/api/videos");
        assert_eq!(code, 200, "{v}");
        v["videos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(listed(&edge).is_empty());
    let (id, ticket) = create_video(&writer, "public");
    upload_pkg(&writer, &id, &ticket);
    assert_eq!(publish(&writer, &id, &ticket).0, 200);
    // No request names the video on the edge: only its poll of the bucket's catalog can bring it. Checked
    // every 50 ms (under the API's rate limit) until the poll has run.
    while !listed(&edge).contains(&id) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (code, v) = get_json(&edge, &format!("/api/videos/{id}"));
    assert_eq!((code, v["state"].as_str()), (200, Some("ready")), "{v}");
}

#[test]
fn a_writer_stopped_by_sigterm_gives_its_lease_up_so_another_starts_at_once() {
    let bucket = S3Server::start("media");
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut writer = serve_on(&bucket, a.path());
    let pid = i32::try_from(writer.child.id()).unwrap();
    // SAFETY: signalling a child process this test started and has not yet waited for.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let st = writer.child.wait().unwrap();
    assert!(st.success(), "a graceful stop exits 0: {st}");
    let lease: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bucket.object_file("writer-lease.json")).unwrap())
            .unwrap();
    assert_eq!(lease["expires_at"], 0, "released: {lease}");
    // Another data directory is another writer: without the release it would wait out the 30 s TTL
    // (a_second_writer_is_refused_while_the_lease_is_held); now it starts and writes.
    let next = serve_on(&bucket, b.path());
    let (id, _) = create_video(&next, "public");
    assert_eq!(id.len(), 16);
}

#[test]
fn the_access_log_has_a_line_per_request_with_the_bytes_each_way() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("access.log");
    let s = Server::start(data.path(), &["--access-log", log.to_str().unwrap()]);
    let (id, ticket) = create_video(&s, "public");
    let f = pkg_file("video/init.mp4");
    let (code, _) = put_file(&s, &id, &ticket, &f.path, &f.bytes);
    assert_eq!(code, 201);
    // A line is written once its response body is done, which may be a moment after the client has it.
    let line = |want: &dyn Fn(&serde_json::Value) -> bool| loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let found = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|l| want(l));
        if let Some(l) = found {
            return l;
        }
        std::thread::yield_now();
    };
    let put_path = format!("/api/videos/{id}/files/video/init.mp4");
    let put = line(&|l| l["path"] == put_path.as_str());
    assert_eq!(put["method"], "PUT");
    assert_eq!(put["status"], 201);
    assert_eq!(put["req_bytes"], f.bytes.len());
    assert!(put["resp_bytes"].as_u64().unwrap() > 0);
    let create = line(&|l| l["path"] == "/api/videos" && l["method"] == "POST");
    assert_eq!(create["status"], 201);
    assert!(create["req_bytes"].as_u64().unwrap() > 0);
    // No query in the log (a signed link or token may be there).
    let (code, _) = status(agent().get(&s.url("/api/videos?token=secret")).call());
    assert_eq!(code, 401);
    let l = line(&|l| l["status"] == 401);
    assert_eq!(l["path"], "/api/videos");
    assert_eq!(l["req_bytes"], 0);
    assert!(!std::fs::read_to_string(&log).unwrap().contains("secret"));
}

#[test]
fn upcast_upload_sends_media_straight_to_the_bucket_and_resumes() {
    let bucket = S3Server::start("media");
    let data = tempfile::tempdir().unwrap();
    let s = serve_on(&bucket, data.path());
    let pkgdir = tempfile::tempdir().unwrap();
    for f in pkg() {
        let p = pkgdir.path().join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &f.bytes).unwrap();
    }
    let upload = || {
        std::process::Command::new(upcast_bin())
            .arg("upload")
            .arg(pkgdir.path())
            .args(["--to", &s.url(""), "--token", ADMIN])
            .output()
            .unwrap()
    };
    let out = upload();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("{} files sent", pkg().len())),
        "{err}"
    );
    let id = std::fs::read_to_string(pkgdir.path().join(".upcast-upload.json")).unwrap();
    let id: serde_json::Value = serde_json::from_str(&id).unwrap();
    let id = id["video_id"].as_str().unwrap().to_string();
    // The media went to the bucket, not through the origin's disk, and the video is published.
    assert!(stored_files(data.path()).is_empty());
    for f in pkg() {
        assert!(bucket
            .object_file(&format!("objects/{id}/{}", f.sha256))
            .is_file());
    }
    let (_, v) = get_json(&s, &format!("/api/videos/{id}"));
    assert_eq!(v["state"], "ready", "{v}");
    // Again: everything is already there.
    let out = upload();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("0 files sent, {} already there", pkg().len())),
        "{err}"
    );
}
