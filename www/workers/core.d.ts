// The wasm core as the Workers use it: the exports of wasm-bindgen's glue in www/pkg/ (built by
// www/build.sh from wasm/src/web/), written here so the type check needs no build. Every method throws an
// `UpcastError` (wasm/src/web/error.rs: code, path, offset, reason).
import type { LadderSource, Recipe, Report, Rung, Summary } from '../lib/types.js';

/** A file the core made in memory (the ladder's encoded rungs and playlists). */
export interface OutFile {
  path: string;
  /** the package contract's MIME type (wasm/src/layout.rs) */
  type: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** An encoded media segment's record (JSON, wasm/src/ladder/resume.rs `SegmentRecord`): kept by the page
   * once the origin stores the file, given back to `resume` after a reload. */
  record?: string;
}

/** Sample columns of one track (wasm/src/web/ladder.rs `table_to_js`). */
export interface SampleTable {
  offset: Float64Array;
  size: Uint32Array;
  timestampUs: Float64Array;
  durationUs: Float64Array;
  key: Uint8Array;
}

/** The core's options, camelCase: `{plan: {targetDurationS}, limits: {maxMoovBytes, ...}}`. */
export type CoreOptions = { plan?: { targetDurationS?: number }; limits?: Record<string, number> };

/** `class Ladder` (feature `ladder`, build `upcast_full`). */
export declare class Ladder {
  constructor(file: Blob, options: CoreOptions | undefined);
  source(): LadderSource;
  candidates(): Rung[];
  propose(supported: Rung[]): { rungs: Rung[]; copy: boolean; copyReason: string | null };
  boundariesUs(): Float64Array;
  videoSamples(): SampleTable;
  audioSamples(): SampleTable;
  addRung(rung: Rung): number;
  pushVideo(
    rung: number,
    bytes: Uint8Array,
    timestampUs: number,
    isKey: boolean,
    description: Uint8Array | null,
  ): OutFile[];
  /** Rung `rung`'s encoder was replaced: its segment in progress is dropped; the instant (µs) the new
   * encoder's first chunk, a key frame, must start at. */
  restartRung(rung: number): number;
  /** The init segment rung `rung` writes for an encoder with decoder configuration `description` whose
   * first key frame is `key` (byte for byte what its first chunk makes; workers/ladder/init-check.js). */
  rungInit(rung: number, description: Uint8Array | null, key: Uint8Array): Uint8Array<ArrayBuffer>;
  setAudioEncoding(config: {
    codec: string;
    sampleRate: number;
    channels: number;
    description: Uint8Array | null;
  }): void;
  pushAudio(bytes: Uint8Array, timestampUs: number, durationUs: number): OutFile[];
  /** The timestamp (µs) of the first AudioData given to the audio encoder (kept in the audio records). */
  setAudioFirstInput(us: number): void;
  /** Continue an earlier run from the JSON array of the `record`s of its segments the origin has; after
   * every `addRung`. Where the decoder and encoders start. */
  resume(
    records: string,
    audioCodec: string | null,
  ): {
    segment: number;
    atUs: number;
    videoSample: number;
    rungsAtUs: number[];
    audio: { feedFromUs: number; keepFromUs: number } | null;
    resumed: boolean;
  };
  /** `options.text` as `segmentFile` takes it: added to the ladder's manifests by `finish`. */
  setText(options: { text?: unknown }): void;
  copyFiles(includeVideoCopy: boolean): Recipe[];
  /** The playlists to upload before any segment (watch while encoding): the multivariant playlist from
   * the planned rungs and every media playlist with its planned durations; `finish`'s replace them.
   * `audio`: the audio encoder's configuration when the source's audio is re-encoded, else null. */
  plannedPlaylists(audio: { codec: string; numberOfChannels: number; bitrate: number } | null): OutFile[];
  finish(): OutFile[];
  summary(): Summary & { ladder: unknown; bytesRead: number };
  free(): void;
}

/** The segmenter's entry point (both builds). */
export type SegmentFile = (
  file: Blob,
  options: CoreOptions | undefined,
  check: boolean,
) => { files: Recipe[]; summary: Summary; report: Omit<Report, 'passed'> | null; bytesRead: number };

/** A loaded build: its exports and its instance's memory. */
export interface SegmentBuild {
  segmentFile: SegmentFile;
  exports: { memory: WebAssembly.Memory };
}

/** The storyboard's tiling (`wasm/src/web/storyboard.rs`), in both builds. */
export interface StoryboardBindings {
  storyboardPlan(durationMs: number, width: number, height: number): import('./storyboard/sheets.js').Plan;
  storyboardTrack(durationMs: number, width: number, height: number, picture: 'webp' | 'jpeg'): string;
  storyboardManifest(
    mpd: string,
    durationMs: number,
    width: number,
    height: number,
    picture: 'webp' | 'jpeg',
    maxSheetBytes: number,
  ): string;
}

/** One part of a live rendition (wasm/src/web/live.rs). */
export interface LivePart {
  bytes: Uint8Array<ArrayBuffer>;
  startUs: number;
  durationUs: number;
  independent: boolean;
  startsSegment: boolean;
}

/** `class LiveRung` (feature `live`, build `upcast_full`): one rendition of a live ladder. */
export declare class LiveRung {
  constructor(
    name: string,
    codec: 'h264' | 'hevc' | 'av1' | 'vp9' | 'aac' | 'opus' | string,
    description: Uint8Array | null,
    role: 'leader' | 'follower',
    partTargetUs: number,
    minSegmentUs: number,
  );
  init(): Uint8Array<ArrayBuffer>;
  codec(): string;
  cutAt(tUs: number): void;
  push(bytes: Uint8Array, timestampUs: number, key: boolean): { parts: LivePart[]; cut: boolean };
  finish(): LivePart[];
  retainedBytes(): number;
  free(): void;
}

export interface FullBuild extends SegmentBuild, StoryboardBindings {
  Ladder: typeof Ladder;
  LiveRung: typeof LiveRung;
}
