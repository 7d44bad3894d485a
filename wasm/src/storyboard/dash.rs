//! The storyboard in the MPD: an image AdaptationSet as DASH-IF IOP § 6.2.6 ("Thumbnails") describes it,
//! the form dash.js (`provideThumbnail`) and Shaka Player (`getImageTracks`/`getThumbnails`) read:
//!
//! ```xml
//! <AdaptationSet id="3" contentType="image" mimeType="image/webp">
//!   <Representation id="storyboard" bandwidth="12000" width="1600" height="900">
//!     <EssentialProperty schemeIdUri="http://dashif.org/thumbnail_tile" value="10x10"/>
//!     <SegmentTemplate timescale="1000" media="storyboard/sheet_$Number%03d$.webp" startNumber="1"
//!                      endNumber="2" duration="100000"/>
//!   </Representation>
//! </AdaptationSet>
//! ```
//!
//! One segment is one sheet; a player finds the tile of time `t` as tile `(t mod duration) / (duration /
//! (COLS × ROWS))` of sheet `t / duration`, so the segment duration is the tile interval times the tiles a
//! full sheet holds (COLS × ROWS of the first sheet), which is also what the thumbnail track's cues say.
//! `width`/`height` are the first (full) sheet's; a last sheet with fewer rows is shorter.

use super::plan::Plan;
use crate::dash::model::{AdaptationSet, Descriptor, Mpd, Representation, SegmentTemplate};
use crate::dash::refs::{IMAGE, THUMBNAIL_SCHEME};
use crate::layout::{self, Picture};

/// The image Representation's id.
pub const REPRESENTATION_ID: &str = "storyboard";

/// The `$Number$` template of the sheets, matching [`layout::storyboard_sheet`] from `startNumber` 1.
pub fn media_template(picture: Picture) -> String {
    layout::in_dir(
        layout::STORYBOARD_DIR,
        &format!("sheet_$Number%03d$.{}", picture.extension()),
    )
}

/// The image AdaptationSet of `plan` (its sheets `picture` files, the largest `max_sheet_bytes` long,
/// for `bandwidth`) with id `id`.
pub fn adaptation_set(
    plan: &Plan,
    picture: Picture,
    max_sheet_bytes: u64,
    id: String,
) -> AdaptationSet {
    let rows = plan.rows(0).max(1);
    let cols = plan.columns.max(1);
    let per_sheet_ms = plan
        .interval_ms
        .saturating_mul(u64::from(cols) * u64::from(rows));
    let (width, height) = plan.sheet_size(0);
    // The largest sheet over the time one sheet covers, rounded up (DASH requires a bandwidth).
    let bandwidth =
        (u128::from(max_sheet_bytes) * 8 * 1000).div_ceil(u128::from(per_sheet_ms.max(1)));
    AdaptationSet {
        id,
        content_type: IMAGE.into(),
        mime_type: layout::FileKind::Image(picture).mime().into(),
        representations: vec![Representation {
            id: REPRESENTATION_ID.into(),
            bandwidth: u64::try_from(bandwidth).unwrap_or(u64::MAX).max(1),
            width: Some(width),
            height: Some(height),
            essential_property: Some(Descriptor {
                scheme_id_uri: THUMBNAIL_SCHEME.into(),
                value: format!("{cols}x{rows}"),
            }),
            segment_template: Some(SegmentTemplate {
                timescale: Some(1000),
                media: media_template(picture),
                start_number: Some(1),
                // The presentation may run a few ms past the video (audio), which would name one sheet
                // more than there is.
                end_number: Some(u64::from(plan.sheets.max(1))),
                duration: Some(per_sheet_ms),
                ..SegmentTemplate::default()
            }),
            ..Representation::default()
        }],
        ..AdaptationSet::default()
    }
}

/// `mpd` with the storyboard of `plan` as its image AdaptationSet (an earlier one replaced).
pub fn attach(
    mpd: &str,
    plan: &Plan,
    picture: Picture,
    max_sheet_bytes: u64,
) -> Result<String, String> {
    let mut m = Mpd::parse(mpd).map_err(|e| format!("the MPD does not parse: {e}"))?;
    let period = m
        .periods
        .first_mut()
        .ok_or_else(|| "the MPD has no Period".to_string())?;
    period.adaptation_sets.retain(|a| a.content_type != IMAGE);
    let id = period.next_set_id();
    period
        .adaptation_sets
        .push(adaptation_set(plan, picture, max_sheet_bytes, id));
    Ok(m.to_xml())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dash::refs::{image_files, package_references};
    use crate::hls::resolve::Strictness;

    const MPD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT150.000S" minBufferTime="PT6.000S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4">
      <Representation id="video" bandwidth="1000" codecs="avc1.64001f" width="1280" height="720">
        <SegmentTemplate timescale="1000" initialization="video/init.mp4" media="video/seg_$Number%05d$.m4s" startNumber="1">
          <SegmentTimeline><S t="0" d="150000"/></SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#;

    #[test]
    fn image_set_names_every_sheet_and_reads_back() {
        // 150 s at one tile every 1 s: 150 tiles, two sheets of 10 × 10 (the second 5 rows).
        let plan = crate::storyboard::plan(150_000, 1280, 720).unwrap();
        assert_eq!((plan.sheets, plan.rows(1)), (2, 5));
        let out = attach(MPD, &plan, Picture::Webp, 50_000).unwrap();
        assert!(out.contains(r#"<EssentialProperty schemeIdUri="http://dashif.org/thumbnail_tile" value="10x10"/>"#), "{out}");
        assert!(
            out.contains(r#"contentType="image" mimeType="image/webp""#),
            "{out}"
        );
        let mpd = Mpd::parse(&out).unwrap();
        let imgs = image_files("manifest.mpd", &mpd, 100, Strictness::Package).unwrap();
        assert_eq!(imgs.len(), 1);
        let i = &imgs[0];
        assert_eq!((i.id.as_str(), i.set), ("storyboard", 1));
        assert_eq!(
            i.sheets,
            ["storyboard/sheet_001.webp", "storyboard/sheet_002.webp"]
        );
        assert_eq!(
            (i.width, i.height, i.tiles),
            (Some(1600), Some(900), Some((10, 10)))
        );
        assert_eq!((i.timescale, i.duration), (1000, 100_000));
        // 50 000 bytes over 100 s.
        assert_eq!(i.bandwidth, 4000);
        let refs = package_references("manifest.mpd", out.as_bytes()).unwrap();
        assert!(
            refs.contains(&"storyboard/sheet_002.webp".to_string()),
            "{refs:?}"
        );
        // A presentation a little longer than the sheets' span (audio past the video) names no sheet more.
        let longer = out.replace("PT150.000S", "PT200.021S");
        let mpd = Mpd::parse(&longer).unwrap();
        let imgs = image_files("manifest.mpd", &mpd, 100, Strictness::Package).unwrap();
        assert_eq!(imgs[0].sheets.len(), 2);
        // Attaching again replaces the set.
        let again = attach(&out, &plan, Picture::Jpeg, 50_000).unwrap();
        assert_eq!(again.matches("contentType=\"image\"").count(), 1);
        assert!(again.contains("sheet_$Number%03d$.jpg"));
    }

    #[test]
    fn a_short_video_has_one_sheet_whose_duration_covers_full_rows() {
        // 37 tiles: 10 columns × 4 rows; the segment lasts 40 intervals so tile k is at k × interval.
        let plan = crate::storyboard::plan(37_000, 160, 90).unwrap();
        let set = adaptation_set(&plan, Picture::Jpeg, 1000, "5".into());
        let r = &set.representations[0];
        assert_eq!(r.essential_property.as_ref().unwrap().value, "10x4");
        assert_eq!(r.segment_template.as_ref().unwrap().duration, Some(40_000));
        assert_eq!((r.width, r.height), (Some(1600), Some(360)));
        assert_eq!(set.mime_type, "image/jpeg");
    }

    #[test]
    fn image_sets_refused_when_malformed() {
        let plan = crate::storyboard::plan(150_000, 1280, 720).unwrap();
        let out = attach(MPD, &plan, Picture::Webp, 1).unwrap();
        for (from, to, why) in [
            (
                r#"duration="100000""#,
                r#"duration="0""#,
                "@duration is missing or 0",
            ),
            (
                r#"mediaPresentationDuration="PT150.000S""#,
                "",
                "needs MPD@mediaPresentationDuration",
            ),
            (
                "storyboard/sheet_",
                "../sheet_",
                "Representation storyboard",
            ),
        ] {
            let bad = out.replace(from, to);
            let mpd = Mpd::parse(&bad).unwrap();
            let e = image_files("manifest.mpd", &mpd, 100, Strictness::Package).unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
        }
        let mpd = Mpd::parse(&out).unwrap();
        assert!(image_files("manifest.mpd", &mpd, 1, Strictness::Package).is_err());
    }
}
