//! What `GET /api/videos/{id}` says of a video's text tracks, read from its stored `master.m3u8` (the
//! one place that announces them) and whether `chapters.vtt` is stored.

use serde::{Deserialize, Serialize};

use crate::api_types::Video;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::store::ObjectKey;
use crate::AppState;
use upcast_core::captions::{captions_in_master, CHAPTERS};
use upcast_core::layout::MASTER;

/// One subtitle rendition of a video.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaptionView {
    pub lang: String,
    pub name: String,
    pub default: bool,
    pub forced: bool,
    /// The whole track as one WebVTT file (for a `<track>` element), public videos only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its HLS media playlist, public videos only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playlist_url: Option<String>,
}

/// Fill `video.captions` and `video.chapters_url` from the stored package.
pub async fn text_view(state: &AppState, video: &mut Video) -> ApiResult<()> {
    let vid = video.id.clone();
    let (master, chapters) = state
        .db
        .run(move |c| Ok((db::file(c, &vid, MASTER)?, db::file(c, &vid, CHAPTERS)?)))
        .await?;
    let public = video.playback_url.is_some();
    let url = |p: &str| public.then(|| format!("/v/{}/{p}", video.id));
    video.chapters_url = chapters.and_then(|_| url(CHAPTERS));
    let Some(master) = master else {
        return Ok(());
    };
    let key = ObjectKey {
        video_id: video.id.clone(),
        sha256: master.sha256,
    };
    let bytes = state.objects.get_or_load(&state.store, &key).await?;
    let text = String::from_utf8_lossy(&bytes);
    let Ok(list) = captions_in_master(&text) else {
        return Err(ApiError::Internal(format!(
            "{}: the stored master.m3u8 does not parse",
            video.id
        )));
    };
    video.captions = list
        .into_iter()
        .map(|c| CaptionView {
            url: url(&c.whole_file()),
            playlist_url: url(&c.playlist()),
            lang: c.lang,
            name: c.name,
            default: c.default,
            forced: c.forced,
        })
        .collect();
    Ok(())
}
