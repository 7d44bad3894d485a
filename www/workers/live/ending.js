// @ts-check
// The end of a publish, cut so every rendition ends at the same media time. The recording of a stream
// is a VOD package, and the HLS Authoring Spec (8.7) wants its renditions to cover the same time range
// within a frame. At the moment Stop is pressed audio and video are not at the same instant: audio
// arrives in 10 ms pieces with little delay, video frames every 33–50 ms after the camera's and the
// encoders' latency, so either may be ahead by more than a frame (seen under load on 2 cores).
//
// So the end is agreed, not taken: E is where the track that is ahead has got to. Video goes on until
// a frame at or past E (that frame is not encoded), which fixes the video's end V (its last frame's end,
// at or just past E). Audio goes on until V: pieces from before V are encoded, later ones are not. Audio
// that arrives before V is known is held (a few pieces). If a track stops delivering (camera gone) the
// worker's deadline ends it where it is.

export class Ending {
  /**
   * @param {number} videoEndUs the end of the last frame encoded (µs, this publish's media time)
   * @param {number} audioEndUs the end of the last audio encoded (-Infinity when there is no audio)
   * @param {boolean} withAudio whether an audio rendition takes part
   */
  constructor(videoEndUs, audioEndUs, withAudio) {
    this.e = Math.max(videoEndUs, audioEndUs);
    /** The video's end, once its last frame is known. @type {number | null} */
    this.videoEnd = null;
    this.lastVideoEnd = videoEndUs;
    this.audioDone = !withAudio;
    /** @type {{ tUs: number, data: AudioData }[]} */
    this.held = [];
    /** @type {() => void} */
    this.wake = () => {};
    this.done = new Promise((resolve) => {
      this.wake = () => {
        if (this.finished()) resolve(undefined);
      };
    });
    this.wake();
  }

  finished() {
    return this.videoEnd !== null && this.audioDone;
  }

  /**
   * A frame at `tUs` lasting `durUs`: encode it (true) or not (false; the video has ended).
   * @param {number} tUs @param {number} durUs
   */
  frame(tUs, durUs) {
    if (this.videoEnd !== null) return false;
    if (tUs < this.e) {
      this.lastVideoEnd = tUs + durUs;
      return true;
    }
    this.videoEnd = this.lastVideoEnd;
    this.wake();
    return false;
  }

  /**
   * Audio at `tUs`: 'encode', 'drop', or 'hold' (until the video's end is known; then [`release`]).
   * @param {number} tUs
   * @returns {'encode' | 'drop' | 'hold'}
   */
  audio(tUs) {
    if (this.audioDone) return 'drop';
    if (this.videoEnd === null) return tUs < this.e ? 'encode' : 'hold';
    if (tUs < this.videoEnd) return 'encode';
    this.audioDone = true;
    this.wake();
    return 'drop';
  }

  /** @param {number} tUs @param {AudioData} data */
  hold(tUs, data) {
    // A second of 10 ms pieces at most: past that the video has stalled and the deadline ends it.
    if (this.held.length >= 100) {
      data.close();
      return;
    }
    this.held.push({ tUs, data });
  }

  /** The held audio, in order, once the video's end is known; each piece is encoded or closed by `each`. */
  release() {
    const held = this.held;
    this.held = [];
    return held;
  }

  /** The deadline passed: whatever has not ended ends now. */
  force() {
    if (this.videoEnd === null) this.videoEnd = this.lastVideoEnd;
    this.audioDone = true;
    for (const h of this.release()) h.data.close();
    this.wake();
  }
}
