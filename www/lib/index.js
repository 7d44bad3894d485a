// @ts-check
// The library's entry point (`@upcast/browser`): package a video into CMAF HLS in the browser
// (`segment`), or encode an adaptive ladder from it (`openLadder`). See README.md in this folder.
export { segment } from './segment.js';
export { openLadder, ladder, LadderJob, GrowingPackage } from './ladder.js';
export { PackageFile, timeOrder } from './package-file.js';
export { UpcastError, SegmentError, LadderError, FILE_CODES } from './error.js';
export { findings, describe } from './findings.js';
