//! Hot objects in memory. Stored objects never change (content-addressed), so an entry is never stale; the
//! cache is bounded in bytes and evicts arbitrary entries when full. The serving path reads through
//! `Store::read`, so it works the same for local disk and for object storage.
//!
//! An entry is bytes only, never a response: the headers of every answer (Cache-Control for a public or a
//! signed request, ETag, Vary) are made per request, so what one answer cached cannot show up in another's
//! headers. A response keeps its entry alive after an eviction, so only small objects (`max_object`) and
//! playlists (at most `max_playlist_bytes`) are served from here: the memory the cache does not count is at
//! most that much per open response. Everything larger streams from the store's file.
use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::web::{self, Bytes};

use super::error::{ApiError, ApiResult};
use super::store::{ObjectKey, Store};

pub struct ObjectCache {
    inner: Mutex<Inner>,
    capacity: usize,
    /// Media objects larger than this are not cached (they stream from the store).
    pub max_object: u64,
}

/// The cached forms of one stored object.
#[derive(Default)]
struct Forms {
    /// The object's bytes.
    identity: Option<Bytes>,
    /// Its gzip encoding (published playlists).
    gzip: Option<Bytes>,
}

impl Forms {
    fn bytes(&self) -> usize {
        self.identity.as_ref().map_or(0, Bytes::len) + self.gzip.as_ref().map_or(0, Bytes::len)
    }
}

#[derive(Default)]
struct Inner {
    map: HashMap<ObjectKey, Forms>,
    bytes: usize,
}

impl ObjectCache {
    pub fn new(capacity: usize, max_object: u64) -> Self {
        ObjectCache {
            inner: Mutex::default(),
            capacity,
            max_object,
        }
    }

    /// Is an object of `size` bytes served from memory (rather than streamed from the store)?
    pub fn serves(&self, size: u64) -> bool {
        size <= self.max_object
    }

    pub fn get(&self, key: &ObjectKey) -> Option<Bytes> {
        self.lookup(key, |f| &f.identity)
    }

    /// The gzip encoding of an object, when it was cached with [`Self::insert_gzip`].
    pub fn get_gzip(&self, key: &ObjectKey) -> Option<Bytes> {
        self.lookup(key, |f| &f.gzip)
    }

    fn lookup(&self, key: &ObjectKey, form: fn(&Forms) -> &Option<Bytes>) -> Option<Bytes> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.map.get(key).and_then(|f| form(f).clone())
    }

    pub async fn get_or_load(
        &self,
        store: &std::sync::Arc<dyn Store>,
        key: &ObjectKey,
    ) -> ApiResult<Bytes> {
        if let Some(b) = self.get(key) {
            return Ok(b);
        }
        let (store, k) = (store.clone(), key.clone());
        // Only a missing object is "not found": a bucket that is down is 503 (a 404 for a video that exists
        // would mislead the client, and a CDN could cache it).
        let bytes = web::block(move || store.read(&k))
            .await?
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ApiError::NotFound,
                _ => ApiError::from_io(e),
            })?;
        let bytes = Bytes::from(bytes);
        self.insert(key.clone(), bytes.clone());
        Ok(bytes)
    }

    pub fn insert(&self, key: ObjectKey, bytes: Bytes) {
        self.put(key, bytes, |f| &mut f.identity)
    }

    pub fn insert_gzip(&self, key: ObjectKey, bytes: Bytes) {
        self.put(key, bytes, |f| &mut f.gzip)
    }

    fn put(&self, key: ObjectKey, bytes: Bytes, form: fn(&mut Forms) -> &mut Option<Bytes>) {
        if bytes.len() > self.capacity {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while inner.bytes + bytes.len() > self.capacity {
            let Some(k) = inner.map.keys().next().cloned() else {
                break;
            };
            if let Some(old) = inner.map.remove(&k) {
                inner.bytes -= old.bytes();
            }
        }
        inner.bytes += bytes.len();
        let slot = form(inner.map.entry(key).or_default());
        let old = slot.replace(bytes).map_or(0, |b| b.len());
        inner.bytes -= old;
    }
}
