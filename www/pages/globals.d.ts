// hls.js is loaded by watch.html as a classic script (www/vendor/hls.min.js, copied from npm by
// www/build.sh): the viewer uses its global, typed by the package's own declarations.
declare const Hls: typeof import('hls.js').default;

// Test hook read by the upload page when a ladder starts (tests/e2e/ladder-codecs.test.mjs) and by the Go
// live page when it goes live (tests/e2e/golive-faults.test.mjs): rung `rung`'s encoder fails as a
// reclaimed codec does after its `frame`-th frame (www/workers/ladder/rung-encoder.js, live/video.js).
interface Window {
  __upcastFailEncoderAt?: { rung: string; frame: number; times?: number };
  __upcastAssumeHardware?: string[];
  /** The first frame time (µs) each rung's encoder was given, by rung id (tests/e2e/ladder-resume.test.mjs). */
  __upcastLadderFirstUs?: Record<string, number | null>;
  /** The e2e of watching while a ladder encodes: the bytes of finished files the page may hold before encoding waits. */
  __upcastMaxPendingBytes?: number;
  /** The e2e of a resumed ladder whose encoder changed: rung `rung`'s encoder is configured with `codec`. */
  __upcastEncoderCodec?: { rung: string; codec: string };
}
