// The lead-in of an on-demand MPD: the instant from which every audio and video track has media. A package
// whose tracks keep the source's sync starts one of them a few ms in (a `-ss` copy's video, say).
//
// dash.js 5.2 mishandles a seek into that lead-in once it has buffered to the end: the target is in no
// buffered range, so it prunes everything ahead of the first segment, and, finding no segment for the
// target in the timeline, takes the track for finished and never fetches the rest again; playback runs on
// without pictures. A seek to 0 is what the viewer's Home key, the seek bar's start and the browser's own
// replay after the end do. So the viewer moves such a seek to the lead-in, before dash.js sees it.

/**
 * The latest first-segment time of the MPD's audio and video Representations, in seconds; 0 for a live
 * (dynamic) MPD, whose timeline does not start at the seek bar's start.
 * @param {string} xml
 */
export function leadIn(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const mpd = doc.documentElement;
  if (mpd.localName !== 'MPD' || mpd.getAttribute('type') === 'dynamic') return 0;
  let lead = 0;
  for (const set of mpd.getElementsByTagName('AdaptationSet')) {
    const kind = set.getAttribute('contentType') ?? set.getAttribute('mimeType')?.split('/')[0];
    if (kind !== 'video' && kind !== 'audio') continue;
    for (const tpl of set.getElementsByTagName('SegmentTemplate')) {
      const first = tpl.getElementsByTagName('S')[0];
      if (!first) continue;
      const scale = Number(tpl.getAttribute('timescale') ?? 1);
      const t = Number(first.getAttribute('t') ?? 0) - Number(tpl.getAttribute('presentationTimeOffset') ?? 0);
      if (scale > 0 && Number.isFinite(t)) lead = Math.max(lead, t / scale);
    }
  }
  return lead;
}

/** The longest lead-in moved: more than this is a gap the player's own gap handling should see. */
const MAX_LEAD_IN = 0.5;

/**
 * Move every seek into the MPD's lead-in to just past its end. Call before the player attaches to `video`, so this
 * listener runs before the player's own; the MPD is read once, in the background.
 * @param {HTMLVideoElement} video @param {string} url the MPD's address
 */
export function skipLeadIn(video, url) {
  let lead = 0;
  fetch(url)
    .then((r) => (r.ok ? r.text() : ''))
    .then((xml) => {
      const l = xml ? leadIn(xml) : 0;
      lead = l <= MAX_LEAD_IN ? l : 0;
    })
    .catch(() => {});
  // A millisecond past it: the element reads a time back rounded to the microsecond, and the buffered
  // range's own start may be rounded up.
  video.addEventListener('seeking', () => {
    if (lead > 0 && video.currentTime < lead) video.currentTime = lead + 0.001;
  });
}
