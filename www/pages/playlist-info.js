// @ts-check
// What a video's playlists say, for the list: duration and renditions (resolution, bitrate).

function attrs(line) {
  const out = {};
  for (const m of line.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1]] = m[2].replace(/^"|"$/g, '');
  return out;
}

/** Fetch `master` and its first media playlist: {renditions: [{resolution, bandwidth}], audio, duration}. */
export async function playlistInfo(master) {
  const text = await (await fetch(master)).text();
  const lines = text.split('\n');
  const renditions = [];
  let audio = 0;
  let first = null;
  lines.forEach((l, i) => {
    if (l.startsWith('#EXT-X-STREAM-INF:')) {
      const a = attrs(l);
      renditions.push({ resolution: a.RESOLUTION, bandwidth: Number(a.BANDWIDTH) });
      first ??= lines[i + 1]?.trim();
    } else if (l.startsWith('#EXT-X-MEDIA:') && attrs(l).TYPE === 'AUDIO') {
      audio++;
      first ??= attrs(l).URI;
    }
  });
  let duration = 0;
  let complete = false;
  if (first) {
    const media = await (await fetch(new URL(first, new URL(master, location.href)))).text();
    for (const m of media.matchAll(/#EXTINF:([\d.]+)/g)) duration += Number(m[1]);
    complete = media.includes('#EXT-X-ENDLIST');
  }
  return { renditions, audio, duration, complete };
}
