// @ts-check
// A storyboard the origin already has: a resumed ladder whose first run published its whole storyboard
// announces it again instead of drawing it twice.

/**
 * The picture type of the origin's storyboard when it is complete for `plan` (its track and every sheet,
 * all of one type: the first run made them together), else null. The sheets are content-addressed
 * on the origin, so a complete one is announced again rather than drawn twice.
 * @param {{sheets: number}} plan @param {string[] | null | undefined} paths the origin's storyboard/ files
 * @returns {'webp' | 'jpeg' | null}
 */
export function completeStoredBoard(plan, paths) {
  const have = new Set(paths ?? []);
  if (!have.has('storyboard/storyboard.vtt') || !(plan.sheets > 0)) return null;
  for (const [ext, picture] of /** @type {const} */ ([
    ['webp', 'webp'],
    ['jpg', 'jpeg'],
  ])) {
    let all = true;
    for (let k = 1; k <= plan.sheets && all; k++)
      all = have.has(`storyboard/sheet_${String(k).padStart(3, '0')}.${ext}`);
    if (all) return picture;
  }
  return null;
}
