//! Where package bytes live. Objects are content-addressed per video (`{video}/{sha256}`), immutable once
//! committed, so a replaced or deleted path never changes bytes that a player or a CDN already holds.
//!
//! The trait speaks in keys and spool files, not in served paths: an S3-compatible store can spool to local
//! disk, upload on `commit`, and answer `open` with [`Object::Remote`].
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A stored object's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    pub video_id: String,
    pub sha256: String,
}

/// How the serving path reaches an object's bytes.
pub enum Object {
    /// A local file: served with `sendfile`, Range and conditional requests by actix-files.
    Local(PathBuf),
    /// An object behind a URL (object storage: a presigned GET or the bucket's public URL): the origin
    /// redirects to it.
    Remote(String),
}

/// An incoming body being written. Dropping it without [`Store::commit`] deletes what was written, so a
/// refused, stalled or cut-off upload leaves nothing behind whatever path the handler leaves by.
pub struct Spool {
    pub file: File,
    path: PathBuf,
    done: bool,
}

impl Spool {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The condition of a [`Store::put_blob`]: the store compares and writes in one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PutIf {
    Always,
    /// No object has the name (`If-None-Match: *`).
    Absent,
    /// The object is still this version (`If-Match: ETAG`).
    Matches(String),
}

/// A presigned request a client sends an object's bytes with, straight to the store.
#[derive(Clone, Debug)]
pub struct DirectPut {
    pub url: String,
    /// Headers the signature covers: the client must send exactly these.
    pub headers: Vec<(String, String)>,
}

pub trait Store: Send + Sync + 'static {
    /// A new, empty spool file for an incoming body.
    fn spool(&self) -> io::Result<Spool>;
    /// Make the spooled bytes durable under `key`. When this returns Ok the object survives a crash; when
    /// it returns Err no object is visible under `key` unless one was there before.
    fn commit(&self, spool: Spool, key: &ObjectKey) -> io::Result<()>;
    fn open(&self, key: &ObjectKey) -> io::Result<Object>;
    /// Whole contents of a small object (playlists).
    fn read(&self, key: &ObjectKey) -> io::Result<Vec<u8>>;
    /// Size of a stored object, or None when it does not exist.
    fn size(&self, key: &ObjectKey) -> io::Result<Option<u64>>;
    fn delete(&self, key: &ObjectKey) -> io::Result<()>;
    /// Every object the store holds, for orphan collection.
    fn list(&self) -> io::Result<Vec<ObjectKey>>;
    /// Remove spool files left by a crash. Call only before serving starts.
    fn clear_spool(&self) -> io::Result<usize>;
    /// A presigned PUT for `key` that the store accepts only with `size` bytes whose SHA-256 is
    /// `key.sha256`, valid `ttl_secs`. None: the store takes bodies only through the origin (local disk).
    fn direct_put(
        &self,
        _key: &ObjectKey,
        _size: u64,
        _ttl_secs: u32,
    ) -> io::Result<Option<DirectPut>> {
        Ok(None)
    }
    /// Where anyone may fetch `key` without a signature (a public bucket, or a CDN in front of it), when
    /// the operator configured one. Only public videos' objects are sent there.
    fn public_url(&self, _key: &ObjectKey) -> Option<String> {
        None
    }
    /// Whether the store is shared by several origins (a bucket): then the catalog of published videos
    /// is also kept in it ([`crate::manifest`]) and the blob methods below work.
    fn shared(&self) -> bool {
        false
    }
    /// A small named object outside the content-addressed space (manifests, the writer lease), replaced
    /// whole, on the condition `when`; `Ok(None)` when the condition failed, else the new version's tag.
    /// Unsupported on a store that is not [`Store::shared`].
    fn put_blob(&self, _name: &str, _bytes: &[u8], _when: PutIf) -> io::Result<Option<String>> {
        Err(io::ErrorKind::Unsupported.into())
    }
    /// A named object's bytes and version tag (ETag), None when absent.
    fn get_blob(&self, _name: &str) -> io::Result<Option<(Vec<u8>, String)>> {
        Err(io::ErrorKind::Unsupported.into())
    }
    /// Names under `prefix`.
    fn list_blobs(&self, _prefix: &str) -> io::Result<Vec<String>> {
        Err(io::ErrorKind::Unsupported.into())
    }
    fn delete_blob(&self, _name: &str) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Objects under `root/objects/{video}/{sha256}`, spool files under `root/tmp/` (same filesystem, so a
/// commit is one rename).
pub struct LocalStore {
    objects: PathBuf,
    tmp: PathBuf,
}

impl LocalStore {
    pub fn open(root: &Path) -> io::Result<Self> {
        let objects = root.join("objects");
        let tmp = root.join("tmp");
        fs::create_dir_all(&objects)?;
        fs::create_dir_all(&tmp)?;
        // Owner-only, including directories an older version made 0755: objects of private videos must
        // not be readable by other users of the machine.
        for d in [&objects, &tmp] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o700))?;
        }
        for d in fs::read_dir(&objects)? {
            let d = d?;
            if d.file_type()?.is_dir() {
                fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700))?;
            }
        }
        fsync_dir(root)?;
        Ok(LocalStore { objects, tmp })
    }

    fn path_of(&self, key: &ObjectKey) -> PathBuf {
        self.objects.join(&key.video_id).join(&key.sha256)
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A new owner-only spool file in `tmp`.
pub(crate) fn new_spool(tmp: &Path) -> io::Result<Spool> {
    let path = tmp.join(format!("{}.part", random_name()?));
    let file = fs::OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    Ok(Spool {
        file,
        path,
        done: false,
    })
}

/// Marks a spool as consumed: dropping it no longer deletes its file (the caller moved or removed it).
pub(crate) fn spool_done(spool: &mut Spool) {
    spool.done = true;
}

/// Removes every file in `dir`; returns how many.
pub(crate) fn clear_dir(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for f in fs::read_dir(dir)? {
        fs::remove_file(f?.path())?;
        n += 1;
    }
    Ok(n)
}

fn random_name() -> io::Result<String> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(hex::encode(b))
}

impl Store for LocalStore {
    fn spool(&self) -> io::Result<Spool> {
        new_spool(&self.tmp)
    }

    fn commit(&self, mut spool: Spool, key: &ObjectKey) -> io::Result<()> {
        spool.file.flush()?;
        spool.file.sync_all()?;
        let dir = self.objects.join(&key.video_id);
        if !dir.exists() {
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
            fsync_dir(&self.objects)?;
        }
        let dest = dir.join(&key.sha256);
        fs::rename(&spool.path, &dest)?;
        spool.done = true;
        fsync_dir(&dir)
    }

    fn open(&self, key: &ObjectKey) -> io::Result<Object> {
        let p = self.path_of(key);
        if p.is_file() {
            Ok(Object::Local(p))
        } else {
            Err(io::ErrorKind::NotFound.into())
        }
    }

    fn read(&self, key: &ObjectKey) -> io::Result<Vec<u8>> {
        fs::read(self.path_of(key))
    }

    fn size(&self, key: &ObjectKey) -> io::Result<Option<u64>> {
        match fs::metadata(self.path_of(key)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn delete(&self, key: &ObjectKey) -> io::Result<()> {
        match fs::remove_file(self.path_of(key)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let dir = self.objects.join(&key.video_id);
        // Leaves the directory when other objects remain (remove_dir refuses a non-empty one).
        if fs::remove_dir(&dir).is_ok() {
            fsync_dir(&self.objects)?;
        } else {
            fsync_dir(&dir)?;
        }
        Ok(())
    }

    fn list(&self) -> io::Result<Vec<ObjectKey>> {
        let mut out = Vec::new();
        for d in fs::read_dir(&self.objects)? {
            let d = d?;
            if !d.file_type()?.is_dir() {
                continue;
            }
            let video_id = d.file_name().to_string_lossy().into_owned();
            for f in fs::read_dir(d.path())? {
                let sha256 = f?.file_name().to_string_lossy().into_owned();
                out.push(ObjectKey {
                    video_id: video_id.clone(),
                    sha256,
                });
            }
        }
        Ok(out)
    }

    fn clear_spool(&self) -> io::Result<usize> {
        clear_dir(&self.tmp)
    }
}
