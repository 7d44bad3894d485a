//! Keys that sign playback links for private videos, kept outside the database in a file only the origin's
//! user can read (0600), and rotatable with an overlap window.
//!
//! A link is `/s/{expires}/{hmac}/v/{id}/…` with HMAC-SHA256 over the path prefix `/v/{id}/` and the expiry
//! (like nginx `secure_link`: every relative URI a player resolves under the signed prefix is covered). New
//! links are signed with the newest key; a link verifies against any key that is not retired yet, so links
//! handed out before a rotation keep playing until the old key retires (by default after the longest life a
//! link may have, so no valid link breaks; an overlap of 0 revokes every earlier link at once, e.g. after a
//! leak).
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::db::now_secs;
use super::error::{ApiError, ApiResult};

/// The longest a playback link may live, in seconds; links that claim a later expiry are refused even with
/// a valid signature (they could only come from a leaked key or an operator error).
pub const MAX_LINK_TTL: i64 = 7 * 86_400;

/// One signing key. `secret` never leaves this module and the key file.
#[derive(Clone, Serialize, Deserialize)]
struct SigningKey {
    id: String,
    secret: String,
    created_at: i64,
    /// From this time on, links signed with this key no longer verify. None for the current key.
    #[serde(default)]
    retire_at: Option<i64>,
}

#[derive(Serialize, Deserialize, Default)]
struct KeyFile {
    keys: Vec<SigningKey>,
}

/// What the API shows of a key: never the secret.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: String,
    pub created_at: i64,
    pub retire_at: Option<i64>,
    pub current: bool,
}

pub struct SigningKeys {
    path: PathBuf,
    /// Oldest first; the last one is current. Secrets decoded.
    keys: RwLock<Vec<(SigningKey, Vec<u8>)>>,
}

fn random_hex(n: usize) -> ApiResult<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("getrandom: {e}")))?;
    Ok(hex::encode(b))
}

fn new_key() -> ApiResult<SigningKey> {
    Ok(SigningKey {
        id: random_hex(4)?,
        secret: random_hex(32)?,
        created_at: now_secs(),
        retire_at: None,
    })
}

fn decode(keys: Vec<SigningKey>) -> Result<Vec<(SigningKey, Vec<u8>)>, String> {
    keys.into_iter()
        .map(|k| {
            let s =
                hex::decode(&k.secret).map_err(|_| format!("key {}: secret is not hex", k.id))?;
            if s.len() < 32 {
                return Err(format!("key {}: secret shorter than 32 bytes", k.id));
            }
            Ok((k, s))
        })
        .collect()
}

impl SigningKeys {
    /// Load the key file, creating it with one new key when it does not exist. `legacy` is a key found in
    /// the database by an older version: it becomes the first key, so links signed before the upgrade keep
    /// working, and the caller then removes it from the database.
    pub fn open(path: &Path, legacy: Option<&str>) -> Result<SigningKeys, String> {
        let shown = path.display();
        let mut file: KeyFile = match fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| format!("{shown}: {e}"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => KeyFile::default(),
            Err(e) => return Err(format!("{shown}: {e}")),
        };
        let mut changed = false;
        if let Some(secret) = legacy {
            if !file.keys.iter().any(|k| k.secret == secret) {
                file.keys.insert(
                    0,
                    SigningKey {
                        id: "legacy".into(),
                        secret: secret.to_string(),
                        created_at: now_secs(),
                        retire_at: None,
                    },
                );
                changed = true;
            }
        }
        if file.keys.iter().all(|k| k.retire_at.is_some()) {
            file.keys.push(new_key().map_err(|e| e.to_string())?);
            changed = true;
        }
        let keys = SigningKeys {
            path: path.to_path_buf(),
            keys: RwLock::new(decode(file.keys).map_err(|e| format!("{shown}: {e}"))?),
        };
        if changed {
            keys.save(&keys.read())
                .map_err(|e| format!("{shown}: {e}"))?;
        } else {
            // Tighten a file made by hand or by an older version.
            restrict(path).map_err(|e| format!("{shown}: {e}"))?;
        }
        Ok(keys)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<(SigningKey, Vec<u8>)>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Write the key file atomically: a new 0600 file beside it, fsync, rename, fsync the directory.
    fn save(&self, keys: &[(SigningKey, Vec<u8>)]) -> std::io::Result<()> {
        let file = KeyFile {
            keys: keys.iter().map(|(k, _)| k.clone()).collect(),
        };
        let json = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        let tmp = self.path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    fn mac(secret: &[u8], video_id: &str, expires: i64) -> Hmac<Sha256> {
        // new_from_slice accepts keys of any length for HMAC.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(format!("/v/{video_id}/\n{expires}").as_bytes());
        m
    }

    /// The signature for a playback link to `video_id` valid until `expires` (unix seconds), by the
    /// current key.
    pub fn sign(&self, video_id: &str, expires: i64) -> String {
        let keys = self.read();
        let secret = keys.last().map(|(_, s)| s.as_slice()).unwrap_or_default();
        hex::encode(Self::mac(secret, video_id, expires).finalize().into_bytes())
    }

    /// Check a link: the signature of some key not yet retired, an expiry not past and not further away
    /// than [`MAX_LINK_TTL`].
    pub fn verify(&self, video_id: &str, expires: i64, sig: &str) -> ApiResult<()> {
        let sig = hex::decode(sig).map_err(|_| ApiError::BadSignature)?;
        let now = now_secs();
        let keys = self.read();
        let ok = keys
            .iter()
            .filter(|(k, _)| k.retire_at.is_none_or(|t| t > now))
            .any(|(_, s)| Self::mac(s, video_id, expires).verify_slice(&sig).is_ok());
        if !ok {
            return Err(ApiError::BadSignature);
        }
        if expires < now {
            return Err(ApiError::LinkExpired);
        }
        if expires - now > MAX_LINK_TTL {
            return Err(ApiError::LinkTooLong);
        }
        Ok(())
    }

    /// Make a new current key. Earlier keys still verify for `overlap_secs` (at most until they would have
    /// retired anyway); keys already retired are dropped from the file.
    pub fn rotate(&self, overlap_secs: i64) -> ApiResult<Vec<KeyInfo>> {
        let now = now_secs();
        let retire = now.saturating_add(overlap_secs.clamp(0, MAX_LINK_TTL));
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        let mut next: Vec<(SigningKey, Vec<u8>)> = keys
            .iter()
            .filter(|(k, _)| k.retire_at.is_none_or(|t| t > now))
            .cloned()
            .map(|(mut k, s)| {
                k.retire_at = Some(k.retire_at.map_or(retire, |t| t.min(retire)));
                (k, s)
            })
            .filter(|(k, _)| k.retire_at.is_some_and(|t| t > now))
            .collect();
        let k = new_key()?;
        let secret = hex::decode(&k.secret).map_err(|e| ApiError::Internal(e.to_string()))?;
        next.push((k, secret));
        self.save(&next).map_err(ApiError::from_io)?;
        *keys = next;
        drop(keys);
        Ok(self.list())
    }

    /// Every key that still verifies, oldest first, without secrets.
    pub fn list(&self) -> Vec<KeyInfo> {
        let now = now_secs();
        let keys = self.read();
        let n = keys.len();
        keys.iter()
            .enumerate()
            .filter(|(_, (k, _))| k.retire_at.is_none_or(|t| t > now))
            .map(|(i, (k, _))| KeyInfo {
                id: k.id.clone(),
                created_at: k.created_at,
                retire_at: k.retire_at,
                current: i + 1 == n,
            })
            .collect()
    }
}

/// Owner read/write only.
pub fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_old_links_for_the_overlap_and_no_longer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = SigningKeys::open(&path, None).unwrap();
        let exp = now_secs() + 3600;
        let old = keys.sign("abcdefabcdefabcd", exp);
        keys.verify("abcdefabcdefabcd", exp, &old).unwrap();
        let listed = keys.rotate(600).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].retire_at.is_some() && listed[1].current);
        // Old links still verify during the overlap; new links use the new key.
        keys.verify("abcdefabcdefabcd", exp, &old).unwrap();
        let new = keys.sign("abcdefabcdefabcd", exp);
        assert_ne!(old, new);
        // Reloaded from the file: same keys, same answers.
        let again = SigningKeys::open(&path, None).unwrap();
        again.verify("abcdefabcdefabcd", exp, &old).unwrap();
        again.verify("abcdefabcdefabcd", exp, &new).unwrap();
        // An overlap of 0 revokes every earlier key at once.
        again.rotate(0).unwrap();
        assert!(matches!(
            again.verify("abcdefabcdefabcd", exp, &old),
            Err(ApiError::BadSignature)
        ));
        assert!(matches!(
            again.verify("abcdefabcdefabcd", exp, &new),
            Err(ApiError::BadSignature)
        ));
        assert_eq!(again.list().len(), 1);
    }

    #[test]
    fn key_file_is_private_and_links_are_capped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = SigningKeys::open(&path, Some(&"ab".repeat(32))).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let far = now_secs() + MAX_LINK_TTL + 3600;
        let sig = keys.sign("abcdefabcdefabcd", far);
        assert!(matches!(
            keys.verify("abcdefabcdefabcd", far, &sig),
            Err(ApiError::LinkTooLong)
        ));
        let past = now_secs() - 1;
        let sig = keys.sign("abcdefabcdefabcd", past);
        assert!(matches!(
            keys.verify("abcdefabcdefabcd", past, &sig),
            Err(ApiError::LinkExpired)
        ));
        // The legacy key (from the database of an older version) still verifies its links.
        let exp = now_secs() + 60;
        let legacy = hex::encode(
            SigningKeys::mac(
                &hex::decode("ab".repeat(32)).unwrap(),
                "abcdefabcdefabcd",
                exp,
            )
            .finalize()
            .into_bytes(),
        );
        keys.verify("abcdefabcdefabcd", exp, &legacy).unwrap();
    }
}

/// `?ttl=N` on a request for a signed playback link (a video's or a live stream's).
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    ttl: Option<u64>,
}

impl LinkQuery {
    /// When the link expires (unix seconds): `ttl` seconds from now, one hour by default, at most
    /// [`MAX_LINK_TTL`].
    pub fn expires(&self) -> i64 {
        let ttl = i64::try_from(self.ttl.unwrap_or(3600))
            .unwrap_or(MAX_LINK_TTL)
            .clamp(1, MAX_LINK_TTL);
        now_secs() + ttl
    }
}
