//! [`Store`] over an S3-compatible bucket (AWS S3, MinIO, RustFS, s3s-fs…), chosen with
//! `upcast serve --store s3://BUCKET?endpoint=…`.
//!
//! Keys stay content-addressed and immutable: `objects/{video}/{sha256}`. A body is spooled to the local
//! `tmp/` first (the upload API checks it there), then `commit` PUTs it with `x-amz-checksum-sha256`, so the
//! bucket itself refuses bytes damaged on the way. Every request is retried on 503 SlowDown, 5xx, 429 and
//! transport errors with bounded, jittered backoff ([`retry`]). `open` answers with a URL (presigned GET,
//! or the configured public URL), which the serving path redirects to.
pub mod location;
pub mod retry;

use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};
use sha2::{Digest, Sha256};

pub use location::S3Location;
pub use retry::Retry;
use retry::{transient_status, Failure};

use crate::store::{
    clear_dir, new_spool, spool_done, DirectPut, Object, ObjectKey, PutIf, Spool, Store,
};

/// Where objects live inside the bucket (the rest of the bucket is left alone).
pub const OBJECTS_PREFIX: &str = "objects/";
/// How long a presigned GET handed to a player stays valid.
pub const GET_URL_TTL_SECS: u32 = 3600;
/// One request (connect, send, answer) may take this long before it counts as a transient failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct S3Store {
    bucket: Box<Bucket>,
    /// The same bucket as clients reach it (`presign_endpoint`): presigned URLs are made with this one.
    presigner: Box<Bucket>,
    loc: S3Location,
    tmp: PathBuf,
    retry: Retry,
}

impl S3Store {
    /// A store over `loc`, spooling under `data_dir/tmp`. Checks that the bucket answers (a HEAD on a key
    /// that need not exist) so a wrong endpoint, bucket or key pair fails at start-up, not at first upload.
    pub fn open(loc: &S3Location, data_dir: &Path, retry: Retry) -> io::Result<Self> {
        // rust-s3's own retry loop has no jitter and retries statuses we treat as final: ours decides.
        s3::set_retries(0);
        let tmp = data_dir.join("tmp");
        fs::create_dir_all(&tmp)?;
        let mut bucket = bucket_at(loc, loc.endpoint.as_deref())?;
        bucket.set_request_timeout(Some(REQUEST_TIMEOUT));
        let presigner = match &loc.presign_endpoint {
            Some(p) => bucket_at(loc, Some(p))?,
            None => bucket.clone(),
        };
        let store = S3Store {
            bucket,
            presigner,
            loc: loc.clone(),
            tmp,
            retry,
        };
        store.probe()?;
        Ok(store)
    }

    pub fn location(&self) -> &S3Location {
        &self.loc
    }

    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    pub fn retry(&self) -> Retry {
        self.retry
    }

    /// The keys sign (a HEAD answers 200 or 404, not 403) and the bucket exists (it can be listed).
    fn probe(&self) -> io::Result<()> {
        let what = format!("bucket {} at {}", self.loc.bucket, self.endpoint_shown());
        self.retry.run(&what, || {
            let (_, status) = self
                .bucket
                .head_object("/upcast-probe")
                .map_err(transport)?;
            match status {
                200 | 404 => Ok(()),
                s => Err(status_failure(s, &format!("{what}: HEAD /upcast-probe"))),
            }
        })?;
        self.list_keys("upcast-probe/")
            .map(|_| ())
            .map_err(|e| io::Error::new(e.kind(), format!("{what}: cannot list it: {e}")))
    }

    fn endpoint_shown(&self) -> &str {
        self.loc.endpoint.as_deref().unwrap_or("AWS")
    }

    /// Puts `body` under `path` with its SHA-256 for the bucket to check, retrying transient failures.
    pub fn put_bytes(&self, path: &str, body: &[u8], content_type: &str) -> io::Result<()> {
        let mut headers = http::HeaderMap::new();
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
        headers.insert(
            "x-amz-checksum-sha256",
            http::HeaderValue::from_str(&digest).map_err(other)?,
        );
        self.retry.run(&format!("PUT {path}"), || {
            let r = self
                .bucket
                .put_object_with_content_type_and_headers(
                    path,
                    body,
                    content_type,
                    Some(headers.clone()),
                )
                .map_err(transport)?;
            ok_or_failure(r.status_code(), &format!("PUT {path}"), r.as_slice())
        })
    }

    /// The whole object at `path`; `NotFound` when it does not exist.
    pub fn get_bytes(&self, path: &str) -> io::Result<Vec<u8>> {
        self.retry.run(&format!("GET {path}"), || {
            let r = self.bucket.get_object(path).map_err(transport)?;
            ok_or_failure(r.status_code(), &format!("GET {path}"), r.as_slice())?;
            Ok(r.as_slice().to_vec())
        })
    }

    /// Every key under `prefix`, following continuation tokens.
    pub fn list_keys(&self, prefix: &str) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (page, status) = self.retry.run(&format!("LIST {prefix}"), || {
                self.bucket
                    .list_page(prefix.to_string(), None, token.clone(), None, Some(1000))
                    .map_err(transport)
            })?;
            if status != 200 {
                return Err(status_error(status, &format!("LIST {prefix}"), b""));
            }
            out.extend(page.contents.into_iter().map(|o| o.key));
            match page.next_continuation_token {
                Some(t) if page.is_truncated => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    pub fn delete_key(&self, path: &str) -> io::Result<()> {
        self.retry.run(&format!("DELETE {path}"), || {
            let r = self.bucket.delete_object(path).map_err(transport)?;
            match r.status_code() {
                200 | 204 | 404 => Ok(()),
                s => Err(status_failure(s, &format!("DELETE {path}"))),
            }
        })
    }

    /// Size of the object at `path`, None when absent.
    pub fn head_size(&self, path: &str) -> io::Result<Option<u64>> {
        self.retry.run(&format!("HEAD {path}"), || {
            let (head, status) = self.bucket.head_object(path).map_err(transport)?;
            match status {
                200 => {
                    let len = head.content_length.unwrap_or(0);
                    Ok(Some(u64::try_from(len).map_err(|_| {
                        Failure::Final(other(format!("HEAD {path}: length {len}")))
                    })?))
                }
                404 => Ok(None),
                s => Err(status_failure(s, &format!("HEAD {path}"))),
            }
        })
    }

    /// A presigned GET for `path`, valid `ttl_secs`, at the address clients reach the bucket by.
    pub fn presign_get(&self, path: &str, ttl_secs: u32) -> io::Result<String> {
        self.presigner
            .presign_get(path, ttl_secs, None)
            .map_err(other)
    }
}

/// `objects/{video}/{sha256}`.
pub fn object_path(key: &ObjectKey) -> String {
    format!("{OBJECTS_PREFIX}{}/{}", key.video_id, key.sha256)
}

/// The ETag header of an answer (header names as the client gives them: any case).
fn etag_of(headers: &std::collections::HashMap<String, String>) -> String {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Blobs live outside `objects/`, so orphan collection never sees them.
fn check_blob_name(name: &str) -> io::Result<()> {
    if name.starts_with(OBJECTS_PREFIX) || name.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a blob name"),
        ));
    }
    Ok(())
}

fn parse_object_path(path: &str) -> Option<ObjectKey> {
    let rest = path.strip_prefix(OBJECTS_PREFIX)?;
    let (video_id, sha256) = rest.split_once('/')?;
    if video_id.is_empty() || sha256.is_empty() || sha256.contains('/') {
        return None;
    }
    Some(ObjectKey {
        video_id: video_id.into(),
        sha256: sha256.into(),
    })
}

impl Store for S3Store {
    fn spool(&self) -> io::Result<Spool> {
        new_spool(&self.tmp)
    }

    fn commit(&self, mut spool: Spool, key: &ObjectKey) -> io::Result<()> {
        // Package files are bounded by the upload limits (64 MiB segments by default): one PUT each.
        spool.file.rewind()?;
        let mut body = Vec::new();
        spool.file.read_to_end(&mut body)?;
        self.put_bytes(&object_path(key), &body, "application/octet-stream")?;
        fs::remove_file(spool.path())?;
        spool_done(&mut spool);
        Ok(())
    }

    fn open(&self, key: &ObjectKey) -> io::Result<Object> {
        let path = object_path(key);
        if self.head_size(&path)?.is_none() {
            return Err(io::ErrorKind::NotFound.into());
        }
        Ok(Object::Remote(self.presign_get(&path, GET_URL_TTL_SECS)?))
    }

    fn read(&self, key: &ObjectKey) -> io::Result<Vec<u8>> {
        self.get_bytes(&object_path(key))
    }

    fn size(&self, key: &ObjectKey) -> io::Result<Option<u64>> {
        self.head_size(&object_path(key))
    }

    fn delete(&self, key: &ObjectKey) -> io::Result<()> {
        self.delete_key(&object_path(key))
    }

    fn list(&self) -> io::Result<Vec<ObjectKey>> {
        Ok(self
            .list_keys(OBJECTS_PREFIX)?
            .iter()
            .filter_map(|p| parse_object_path(p))
            .collect())
    }

    fn clear_spool(&self) -> io::Result<usize> {
        clear_dir(&self.tmp)
    }

    fn shared(&self) -> bool {
        true
    }

    fn put_blob(&self, name: &str, bytes: &[u8], when: PutIf) -> io::Result<Option<String>> {
        check_blob_name(name)?;
        let mut headers = http::HeaderMap::new();
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes));
        headers.insert(
            "x-amz-checksum-sha256",
            http::HeaderValue::from_str(&digest).map_err(other)?,
        );
        match &when {
            PutIf::Always => {}
            PutIf::Absent => {
                headers.insert("if-none-match", http::HeaderValue::from_static("*"));
            }
            PutIf::Matches(tag) => {
                headers.insert("if-match", http::HeaderValue::from_str(tag).map_err(other)?);
            }
        }
        self.retry.run(&format!("PUT {name}"), || {
            let r = self
                .bucket
                .put_object_with_content_type_and_headers(
                    name,
                    bytes,
                    "application/json",
                    Some(headers.clone()),
                )
                .map_err(transport)?;
            match r.status_code() {
                // 409: AWS's answer while another conditional write to the key is under way.
                412 | 409 if when != PutIf::Always => Ok(None),
                s => {
                    ok_or_failure(s, &format!("PUT {name}"), r.as_slice())?;
                    Ok(Some(etag_of(&r.headers())))
                }
            }
        })
    }

    fn get_blob(&self, name: &str) -> io::Result<Option<(Vec<u8>, String)>> {
        check_blob_name(name)?;
        self.retry.run(&format!("GET {name}"), || {
            let r = self.bucket.get_object(name).map_err(transport)?;
            if r.status_code() == 404 {
                return Ok(None);
            }
            ok_or_failure(r.status_code(), &format!("GET {name}"), r.as_slice())?;
            Ok(Some((r.as_slice().to_vec(), etag_of(&r.headers()))))
        })
    }

    fn list_blobs(&self, prefix: &str) -> io::Result<Vec<String>> {
        check_blob_name(prefix)?;
        self.list_keys(prefix)
    }

    fn delete_blob(&self, name: &str) -> io::Result<()> {
        check_blob_name(name)?;
        self.delete_key(name)
    }

    fn public_url(&self, key: &ObjectKey) -> Option<String> {
        let base = self.loc.public_url.as_ref()?;
        Some(format!("{base}/{}", object_path(key)))
    }

    fn direct_put(
        &self,
        key: &ObjectKey,
        size: u64,
        ttl_secs: u32,
    ) -> io::Result<Option<DirectPut>> {
        let digest = hex::decode(&key.sha256)
            .map_err(|_| other(format!("{} is not a hex SHA-256", key.sha256)))?;
        let headers = vec![
            (
                "x-amz-checksum-sha256".to_string(),
                base64::engine::general_purpose::STANDARD.encode(digest),
            ),
            ("content-length".to_string(), size.to_string()),
        ];
        let mut signed = http::HeaderMap::new();
        for (k, v) in &headers {
            signed.insert(
                http::HeaderName::from_bytes(k.as_bytes()).map_err(other)?,
                http::HeaderValue::from_str(v).map_err(other)?,
            );
        }
        let url = self
            .presigner
            .presign_put(object_path(key), ttl_secs, Some(signed), None)
            .map_err(other)?;
        Ok(Some(DirectPut { url, headers }))
    }
}

/// `loc`'s bucket reached at `endpoint` (None: AWS itself, per the region), path-style on a self-hosted
/// server (they rarely have per-bucket DNS names).
fn bucket_at(loc: &S3Location, endpoint: Option<&str>) -> io::Result<Box<Bucket>> {
    let region = match endpoint {
        Some(endpoint) => Region::Custom {
            region: loc.region.clone(),
            endpoint: endpoint.to_string(),
        },
        None => loc.region.parse().map_err(other)?,
    };
    let creds = Credentials::new(
        Some(&loc.access_key),
        Some(&loc.secret_key),
        None,
        None,
        None,
    )
    .map_err(other)?;
    let mut bucket = Bucket::new(&loc.bucket, region, creds).map_err(other)?;
    if endpoint.is_some() {
        bucket = bucket.with_path_style();
    }
    Ok(bucket)
}

fn other(e: impl ToString) -> io::Error {
    io::Error::other(e.to_string())
}

/// A client-side error: transport and I/O errors (refused connection, timeout, cut-off answer) are worth
/// another attempt; errors in what we asked (a bad header, a bad expiry) are not.
fn transport(e: S3Error) -> Failure {
    match e {
        S3Error::Io(io) => Failure::Transient(io),
        S3Error::HttpFailWithBody(s, body) if transient_status(s) => {
            Failure::Transient(other(format!("HTTP {s}: {body}")))
        }
        S3Error::HttpFailWithBody(s, body) => Failure::Final(other(format!("HTTP {s}: {body}"))),
        S3Error::Atto(e) => Failure::Transient(other(e)),
        // rust-s3 parses a listing's body whatever the status: an S3 error document there (503 SlowDown
        // among them) arrives as a parse error, without its status. Retried: a lasting one gives up.
        S3Error::SerdeXml(e) => Failure::Transient(other(format!("unexpected listing: {e}"))),
        e => Failure::Final(other(e)),
    }
}

fn ok_or_failure(status: u16, what: &str, body: &[u8]) -> Result<(), Failure> {
    match status {
        200..=299 => Ok(()),
        s if transient_status(s) => Err(Failure::Transient(status_error(s, what, body))),
        s => Err(Failure::Final(status_error(s, what, body))),
    }
}

fn status_failure(status: u16, what: &str) -> Failure {
    match ok_or_failure(status, what, b"") {
        Err(f) => f,
        Ok(()) => Failure::Final(status_error(status, what, b"")),
    }
}

/// An error naming the operation, the status and the S3 error code from the body (`<Code>…</Code>`).
fn status_error(status: u16, what: &str, body: &[u8]) -> io::Error {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let code = text
        .split_once("<Code>")
        .and_then(|(_, r)| r.split_once("</Code>"))
        .map(|(c, _)| c.to_string())
        .unwrap_or_default();
    let kind = match status {
        404 => io::ErrorKind::NotFound,
        403 => io::ErrorKind::PermissionDenied,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(
        kind,
        format!("{what}: HTTP {status} {code}")
            .trim_end()
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_paths_round_trip() {
        let k = ObjectKey {
            video_id: "v_abc".into(),
            sha256: "00ff".into(),
        };
        assert_eq!(object_path(&k), "objects/v_abc/00ff");
        assert_eq!(parse_object_path("objects/v_abc/00ff"), Some(k));
        for bad in ["objects/v", "objects//x", "objects/v/a/b", "manifests/v/x"] {
            assert_eq!(parse_object_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_errors_carry_the_s3_code() {
        let e = status_error(
            503,
            "PUT objects/v/x",
            b"<Error><Code>SlowDown</Code></Error>",
        );
        assert_eq!(e.to_string(), "PUT objects/v/x: HTTP 503 SlowDown");
        assert!(matches!(
            ok_or_failure(503, "x", b""),
            Err(Failure::Transient(_))
        ));
        assert!(matches!(
            ok_or_failure(403, "x", b""),
            Err(Failure::Final(_))
        ));
        assert_eq!(status_error(404, "x", b"").kind(), io::ErrorKind::NotFound);
    }
}
