//! Hot objects in memory. Stored objects never change (content-addressed), so an entry is never stale; the
//! cache is bounded in bytes and evicts arbitrary entries when full. The serving path reads through
//! `Store::read`, so it works the same for local disk and for object storage.
use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::web::{self, Bytes};

use super::error::{ApiError, ApiResult};
use super::store::{ObjectKey, Store};

pub struct ObjectCache {
    inner: Mutex<Inner>,
    capacity: usize,
    /// Objects larger than this are not cached (served from the store directly).
    pub max_object: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<ObjectKey, Bytes>,
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

    pub fn get(&self, key: &ObjectKey) -> Option<Bytes> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .get(key)
            .cloned()
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
        let bytes = web::block(move || store.read(&k))
            .await?
            .map_err(|_| ApiError::NotFound)?;
        let bytes = Bytes::from(bytes);
        self.insert(key.clone(), bytes.clone());
        Ok(bytes)
    }

    pub fn insert(&self, key: ObjectKey, bytes: Bytes) {
        if bytes.len() > self.capacity {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while inner.bytes + bytes.len() > self.capacity {
            let Some(k) = inner.map.keys().next().cloned() else {
                break;
            };
            if let Some(old) = inner.map.remove(&k) {
                inner.bytes -= old.len();
            }
        }
        inner.bytes += bytes.len();
        if let Some(old) = inner.map.insert(key, bytes) {
            inner.bytes -= old.len();
        }
    }
}
