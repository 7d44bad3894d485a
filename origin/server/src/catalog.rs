//! An in-memory view of each video's metadata for the serving path, so a playback request costs no database
//! round trip. Every write to a video invalidates its entry; a generation counter stops a load that raced
//! with a write from caching what it read before the write.
//!
//! A view is one state of a video, so what is derived from that state is memoised in it: the playlists as
//! served while the package uploads (the EVENT view, [`super::rendered`]), built once per path by the first
//! request and shared by every other, concurrent ones included. The next write replaces the view, and the
//! memo goes with it.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use futures_util::future::{BoxFuture, FutureExt, Shared};

use super::db::{self, Db, StoredFile, VideoRow};
use super::error::ApiResult;
use super::rendered::{RenderError, Rendered};

type Build = Shared<BoxFuture<'static, Result<Arc<Rendered>, RenderError>>>;

pub struct VideoView {
    pub video: VideoRow,
    pub files: HashMap<String, StoredFile>,
    /// Playlists rendered for this state, per path: finished or under way.
    rendered: Mutex<HashMap<String, Build>>,
}

#[derive(Default)]
pub struct Catalog {
    map: RwLock<HashMap<String, Arc<VideoView>>>,
    generation: AtomicU64,
    /// Playlist builds started, for tests and diagnostics.
    builds: Arc<AtomicU64>,
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
                Ok(Some(VideoView {
                    video,
                    files,
                    rendered: Mutex::default(),
                }))
            })
            .await?;
        let Some(view) = loaded.map(Arc::new) else {
            return Ok(None);
        };
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(Some(view));
        }
        if map.len() >= 10_000 {
            map.clear();
        }
        // Concurrent loads of one state settle on the first view cached, so they share its memo. (An entry
        // present now was cached after the last write to this video: a write removes it.)
        Ok(Some(
            map.entry(video_id.to_string()).or_insert(view).clone(),
        ))
    }

    pub fn invalidate(&self, video_id: &str) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.remove(video_id);
    }

    /// The playlist at `path` as served for `view`: the first request starts `build` (given the view,
    /// weakly: the memo lives in it), every other one awaits the same result. A failed build is forgotten,
    /// so the next request tries again.
    pub async fn rendered(
        &self,
        view: &Arc<VideoView>,
        path: &str,
        build: impl FnOnce(Weak<VideoView>) -> BoxFuture<'static, Result<Arc<Rendered>, RenderError>>,
    ) -> ApiResult<Arc<Rendered>> {
        let pending = {
            let mut memo = view.rendered.lock().unwrap_or_else(|p| p.into_inner());
            memo.entry(path.to_string())
                .or_insert_with(|| {
                    let (builds, fut) = (self.builds.clone(), build(Arc::downgrade(view)));
                    async move {
                        builds.fetch_add(1, Ordering::Relaxed);
                        fut.await
                    }
                    .boxed()
                    .shared()
                })
                .clone()
        };
        match pending.clone().await {
            Ok(r) => Ok(r),
            Err(e) => {
                let mut memo = view.rendered.lock().unwrap_or_else(|p| p.into_inner());
                if memo.get(path).is_some_and(|b| b.ptr_eq(&pending)) {
                    memo.remove(path);
                }
                Err(e.into())
            }
        }
    }

    /// How many playlist builds have started since the server started.
    pub fn playlist_builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }
}
