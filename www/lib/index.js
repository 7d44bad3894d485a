// @ts-check
// The library's entry point (`@upcast/browser`): package a video into CMAF HLS in the browser
// (`segment`), or encode an adaptive ladder from it (`openLadder`). See README.md in this folder.

export { FILE_CODES, LadderError, SegmentError, UpcastError } from './error.js';
export { describe, findings } from './findings.js';
export { GrowingPackage, LadderJob, ladder, openLadder } from './ladder.js';
export { PackageFile, timeOrder } from './package-file.js';
export { segment } from './segment.js';
export { makeStoryboard } from './storyboard.js';
