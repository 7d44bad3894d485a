//! `--store s3://BUCKET?endpoint=URL&region=NAME&public_url=URL&presign_endpoint=URL`: where an S3-compatible store lives, and
//! the credentials it signs with (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`).
use std::fmt;

/// A bucket and how to reach it. `Debug` never shows the secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// `http(s)://host[:port]`; None: AWS itself, per `region`.
    pub endpoint: Option<String>,
    pub region: String,
    /// Segments are fetched by players from `{public_url}/{key}` (a public bucket, or a CDN in front of
    /// it) instead of a presigned URL per redirect. Private videos still get presigned URLs.
    pub public_url: Option<String>,
    /// Where clients (browsers, `upcast upload`, players) reach the bucket when that differs from
    /// `endpoint`, where the origin does: a public address, or a proxy that adds CORS headers for
    /// browsers. Presigned URLs (direct-upload PUTs, segment GETs) are made for, and signed with, this host.
    pub presign_endpoint: Option<String>,
    pub access_key: String,
    pub secret_key: String,
}

impl fmt::Debug for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Location")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("public_url", &self.public_url)
            .field("presign_endpoint", &self.presign_endpoint)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl S3Location {
    /// Parses `s3://BUCKET?…` with the given credentials; every error names what is wrong.
    pub fn parse(spec: &str, access_key: &str, secret_key: &str) -> Result<Self, String> {
        let url = url::Url::parse(spec).map_err(|e| format!("--store {spec:?}: {e}"))?;
        if url.scheme() != "s3" {
            return Err(format!(
                "--store {spec:?}: the scheme must be s3:// (or leave --store out for local disk)"
            ));
        }
        let bucket = url.host_str().unwrap_or_default().to_string();
        if !valid_bucket(&bucket) {
            return Err(format!(
                "--store {spec:?}: {bucket:?} is not a bucket name (3–63 of a-z 0-9 . -)"
            ));
        }
        if !matches!(url.path(), "" | "/") {
            return Err(format!("--store {spec:?}: no path after the bucket name"));
        }
        let mut loc = S3Location {
            bucket,
            endpoint: None,
            region: "us-east-1".into(),
            public_url: None,
            presign_endpoint: None,
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
        };
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "endpoint" => loc.endpoint = Some(http_url(spec, "endpoint", &v)?),
                "region" if !v.is_empty() => loc.region = v.into_owned(),
                "public_url" => loc.public_url = Some(http_url(spec, "public_url", &v)?),
                "presign_endpoint" => {
                    loc.presign_endpoint = Some(http_url(spec, "presign_endpoint", &v)?)
                }
                other => {
                    return Err(format!(
                        "--store {spec:?}: unknown parameter {other:?} \
                         (endpoint, region, public_url, presign_endpoint)"
                    ))
                }
            }
        }
        if loc.presign_endpoint.is_some() && loc.endpoint.is_none() {
            return Err(format!(
                "--store {spec:?}: presign_endpoint needs an endpoint (AWS buckets are reached at one address)"
            ));
        }
        if loc.access_key.is_empty() || loc.secret_key.is_empty() {
            return Err(format!(
                "--store {spec:?}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ));
        }
        Ok(loc)
    }
}

fn valid_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
}

/// An `http(s)://` URL without a trailing slash.
fn http_url(spec: &str, name: &str, v: &str) -> Result<String, String> {
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(v.trim_end_matches('/').to_string())
        }
        _ => Err(format!(
            "--store {spec:?}: {name} must be an http:// or https:// URL, got {v:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoint_region_and_public_url() {
        let l = S3Location::parse(
            "s3://media?endpoint=http://127.0.0.1:9000/&region=eu-west-1&public_url=https://cdn.example\
             &presign_endpoint=http://127.0.0.1:9001/",
            "AK",
            "SK",
        )
        .unwrap();
        assert_eq!(l.bucket, "media");
        assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(l.region, "eu-west-1");
        assert_eq!(l.public_url.as_deref(), Some("https://cdn.example"));
        assert_eq!(l.presign_endpoint.as_deref(), Some("http://127.0.0.1:9001"));
        assert!(!format!("{l:?}").contains("SK"));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for (spec, want) in [
            ("file:///x", "scheme"),
            ("s3://A_B", "bucket name"),
            ("s3://media/p", "no path"),
            ("s3://media?endpoint=ftp://x", "endpoint must be"),
            ("s3://media?colour=red", "unknown parameter"),
            ("s3://media?presign_endpoint=http://x", "needs an endpoint"),
            (
                "s3://media?endpoint=http://x&presign_endpoint=x",
                "presign_endpoint must be",
            ),
        ] {
            let e = S3Location::parse(spec, "a", "b").unwrap_err();
            assert!(e.contains(want), "{spec}: {e}");
        }
        assert!(S3Location::parse("s3://media", "", "")
            .unwrap_err()
            .contains("AWS_ACCESS_KEY_ID"));
    }
}
