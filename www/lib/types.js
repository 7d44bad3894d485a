// @ts-check
// The shapes that cross from the wasm core to JS (camelCase, built by wasm/src/web/), for the type checker
// and the package's declarations. This module has no code.

/**
 * One package file as the core describes it (wasm/src/web/recipe.rs): `head` holds every byte the writer
 * made; `layout` lists the file's pieces as (from, offset, len) triples, `from` 0 being `head` and 1 the
 * source file; null when the file is `head` alone.
 * @typedef {object} Recipe
 * @property {string} path
 * @property {number} size
 * @property {string} type MIME type
 * @property {Uint8Array<ArrayBuffer>} head
 * @property {Float64Array | null} layout
 */

/**
 * What the core found and made (wasm/src/summary.rs, in camelCase).
 * @typedef {object} Summary
 * @property {string} container
 * @property {number} durationS
 * @property {number} fileBytes
 * @property {TrackSummary[]} tracks
 * @property {RenditionSummary[]} renditions
 * @property {number} segments
 * @property {number} targetDurationS
 * @property {number} playlistTargetDuration
 * @property {{longestSegmentS: number, targetDurationS: number, message: string} | null} longGop
 * @property {string[]} warnings
 * @property {{startMs: number, title: string}[]} [sourceChapters] the chapters the file carries (a chapter
 *   track or a chpl box): the package's chapters track unless typed ones replace them
 * @property {string | null} [chapters] the chapters track's path, when the package has one
 * @property {Record<string, unknown>} [ladder] a ladder's details, in a ladder's summaries only
 *   (`LadderDetails`, wasm/src/ladder/job.rs)
 */

/**
 * @typedef {object} TrackSummary
 * @property {number} id
 * @property {'video' | 'audio' | 'other'} kind
 * @property {string | null} codec
 * @property {string} language
 * @property {boolean} packaged
 * @property {string | null} note
 * @property {number} samples
 * @property {number} durationS
 * @property {number | null} width
 * @property {number | null} height
 * @property {number | null} rotation
 * @property {number | null} frameRate
 * @property {number | null} maxGopS
 * @property {number | null} channels
 * @property {number | null} sampleRate
 * @property {number} bitrate
 */

/**
 * @typedef {object} RenditionSummary
 * @property {string} id
 * @property {'video' | 'audio' | 'other'} kind
 * @property {string} codec
 * @property {number} segments
 * @property {number} bytes
 * @property {number} durationS
 * @property {number} averageBitrate
 * @property {number} peakBitrate
 */

/**
 * One finding of the HLS conformance check (wasm/src/check/).
 * @typedef {object} Finding
 * @property {'MUST' | 'SHOULD'} severity
 * @property {string} rule
 * @property {string} title
 * @property {string} file
 * @property {string} message
 */

/**
 * @typedef {object} Report
 * @property {string} master
 * @property {Finding[]} findings
 * @property {number} filesRead
 * @property {number} bytesRead
 * @property {boolean} passed no MUST failed (added by the library)
 */

/**
 * A rendition the browser can encode (the core's planner offers them; `openLadder` marks which this
 * browser supports).
 * @typedef {object} Rung
 * @property {string} id
 * @property {number} width
 * @property {number} height
 * @property {number} bitrate bits per second
 * @property {number} framerate
 * @property {string} codec
 * @property {string | null} [hardwareAcceleration]
 */

/**
 * What the ladder Worker found in the source (wasm/src/web/ladder.rs `source()`).
 * @typedef {object} LadderSource
 * @property {{codec: string, codedWidth: number, codedHeight: number, displayWidth: number,
 *   displayHeight: number, frameRate: number, bitrate: number, timescale: number, frames: number,
 *   durationUs: number, maxSegmentS: number, description: Uint8Array | null}} video
 * @property {{codec: string, sampleRate: number, channels: number, description: Uint8Array | null,
 *   copy: boolean} | null} audio
 * @property {boolean} copyable the source can be the top rung as it is
 * @property {string | null} copyReason why it cannot
 */

export {};
