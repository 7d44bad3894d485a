// @ts-check
// A storyboard the origin already has: a resumed ladder whose first run published its whole storyboard
// announces it again instead of drawing it twice.

/**
 * The origin's storyboard when it is complete for `plan` (its track and every sheet, all of one type: the
 * first run made them together): its picture type and largest sheet's size (the MPD's bandwidth is
 * reckoned from it), else null. The sheets are content-addressed on the origin, so a complete one is
 * announced again rather than drawn twice.
 * @param {{sheets: number}} plan @param {{path: string, size: number}[] | null | undefined} files the
 *   origin's files under storyboard/
 * @returns {{picture: 'webp' | 'jpeg', largestBytes: number} | null}
 */
export function completeStoredBoard(plan, files) {
  const size = new Map((files ?? []).map((f) => [f.path, f.size]));
  if (!size.has('storyboard/storyboard.vtt') || !(plan.sheets > 0)) return null;
  for (const [ext, picture] of /** @type {const} */ ([
    ['webp', 'webp'],
    ['jpg', 'jpeg'],
  ])) {
    const sheets = [];
    for (let k = 1; k <= plan.sheets; k++)
      sheets.push(size.get(`storyboard/sheet_${String(k).padStart(3, '0')}.${ext}`));
    if (sheets.every((n) => n !== undefined)) return { picture, largestBytes: Math.max(...sheets.map(Number)) };
  }
  return null;
}
