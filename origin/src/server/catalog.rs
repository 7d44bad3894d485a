//! An in-memory view of each video's metadata for the serving path, so a playback request costs no database
//! round trip. Every write to a video invalidates its entry; a generation counter stops a load that raced
//! with a write from caching what it read before the write.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::db::{self, Db, FileRow, VideoRow};
use super::error::ApiResult;

pub struct VideoView {
    pub video: VideoRow,
    pub files: HashMap<String, FileRow>,
}

#[derive(Default)]
pub struct Catalog {
    map: RwLock<HashMap<String, Arc<VideoView>>>,
    generation: AtomicU64,
}

impl Catalog {
    pub async fn get(&self, db: &Db, video_id: &str) -> ApiResult<Option<Arc<VideoView>>> {
        if let Some(v) = self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(video_id)
        {
            return Ok(Some(v.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let id = video_id.to_string();
        let loaded = db
            .run(move |c| {
                let Some(video) = db::video(c, &id)? else {
                    return Ok(None);
                };
                let files = db::files(c, &id)?
                    .into_iter()
                    .map(|f| (f.path.clone(), f))
                    .collect();
                Ok(Some(VideoView { video, files }))
            })
            .await?;
        let Some(view) = loaded.map(Arc::new) else {
            return Ok(None);
        };
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            if map.len() >= 10_000 {
                map.clear();
            }
            map.insert(video_id.to_string(), view.clone());
        }
        Ok(Some(view))
    }

    pub fn invalidate(&self, video_id: &str) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.remove(video_id);
    }
}
