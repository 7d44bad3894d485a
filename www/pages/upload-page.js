// @ts-check
// The upload page: drop a file → package it in a Worker (upcast.js) → show what was found → upload it to
// this origin with retries and resume → a link to watch and a copyable playback URL.
import { describe, findings, makeStoryboard, openLadder, PackageFile, segment, UpcastError } from '../lib/index.js';
import { addLater, captionsCard, showSourceChapters, textOptions } from './captions-form.js';
import { editLadder, RungMeters } from './ladder-editor.js';
import {
  forgetRendition,
  noteProgress,
  showEncoderChanged,
  showResuming,
  storedSegments,
  trackUpload,
} from './ladder-resume.js';
import { bytes, Meter } from './meter.js';
import { makePoster } from './poster.js';
import * as resume from './resume.js';
import { askToken } from './token.js';
import { upload } from './uploader.js';

const $ = (s) => document.querySelector(s);
let busy = null; // AbortController of the running job
let paused = null; // {file, pkg} of an upload that gave up after retries

const adminReady = askToken($('#token'));
captionsCard($('#text'));
// Whether to encode a ladder is remembered across visits (a reload to resume keeps the choice).
const encodeBox = $('#encode');
encodeBox.checked = localStorage.getItem('upcast.encode') !== 'false';
encodeBox.addEventListener('change', () => localStorage.setItem('upcast.encode', String(encodeBox.checked)));
// Segment length in seconds: 6 unless the address says ?target=N (Apple's recommendation is 6).
const targetDuration = Number(new URLSearchParams(location.search).get('target')) || 6;

function showPending() {
  // Unfinished uploads other than the one on this page right now.
  const here = paused?.file;
  const list = resume.pending().filter((p) => !(here && p.name === here.name && p.size === here.size));
  const box = $('#pending');
  box.hidden = list.length === 0;
  if (list.length) {
    const p = list[0];
    box.textContent =
      `The upload of “${p.name}” (${bytes(p.size)}) did not finish. Drop the same file again to ` +
      `continue: what the origin already has is skipped.`;
  }
}

/** What went wrong in two plain lines: the reason, and the box and byte offset when the error names them. */
function showProblem(problem) {
  const box = $('#problem');
  const e = problem instanceof UpcastError ? problem : null;
  box.querySelector('.what').textContent =
    e?.path != null ? `${capital(e.reason)}.` : capital(e?.message ?? String(problem));
  box.querySelector('.where').textContent =
    e?.path != null && e.offset != null
      ? `Where: the “${e.path}” box, at byte ${e.offset.toLocaleString('en')} of the file.`
      : '';
  box.hidden = false;
}

const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);

function showFound(file, pkg, { ladder = false } = {}) {
  const box = $('#found');
  box.querySelector('.name').textContent = file.name;
  const dl = box.querySelector('dl');
  dl.replaceChildren();
  // A ladder's renditions are in its own card; the summary's 'Package' row describes the copy alone.
  for (const [k, v] of describe(pkg.summary).filter(([k]) => !(ladder && k === 'Package'))) {
    dl.append(Object.assign(document.createElement('dt'), { textContent: k }));
    dl.append(Object.assign(document.createElement('dd'), { textContent: v }));
  }
  const ul = box.querySelector('.findings');
  ul.replaceChildren(...pkg.findings.map((f) => Object.assign(document.createElement('li'), { textContent: f })));
  box.hidden = false;
}

function status(text) {
  $('#progress .status').textContent = text;
}

function reset() {
  for (const s of ['#problem', '#found', '#ladder', '#done', '#progress', '#m-segment', '#m-rungs', '#m-upload'])
    $(s).hidden = true;
  $('#resume').hidden = true;
  status('');
}

async function handle(file) {
  if (busy) busy.abort();
  reset();
  paused = null;
  $('#pending').hidden = true;
  const ctl = new AbortController();
  busy = ctl;
  let text;
  try {
    text = await textOptions($('#text'));
  } catch (e) {
    busy = null;
    return showProblem(e);
  }
  if (encodeBox.checked) {
    const job = await openLadder(file, { targetDuration, signal: ctl.signal, assumeHardware: testHardware() }).catch(
      (e) => e,
    );
    if (!(job instanceof Error)) return ladderFlow(file, job, ctl);
    if (job.name === 'AbortError') return;
    // A file the core cannot make a ladder of (no video: code 'no-video', not a fault in the file)
    // is packaged without one; anything else is shown.
    if (!(job instanceof UpcastError && job.code === 'no-video')) {
      busy = null;
      return showProblem(job);
    }
  }
  return copyFlow(file, ctl, text);
}

/** The e2e's way to see the proposal a hardware encoder gets: `window.__upcastAssumeHardware = ['av01']`
 * (tests/e2e/ladder-codecs.test.mjs). */
const testHardware = () => window.__upcastAssumeHardware ?? null;

/** Plan the ladder, let the person edit it (and the file's chapters), then encode and upload at the same
 * time. The captions and chapters go into the ladder's own manifests, published with it. */
async function ladderFlow(file, job, ctl) {
  showFound(file, { summary: job.summary, findings: findings(job.summary) }, { ladder: true });
  showSourceChapters($('#text'), job.summary.sourceChapters);
  let choice;
  let text;
  try {
    choice = await editLadder($('#ladder'), job, ctl.signal);
    // Read again: the chapters may have been edited while the ladder was.
    text = await textOptions($('#text'));
  } catch (e) {
    job.close();
    busy = null;
    if (e?.name !== 'AbortError' && !ctl.signal.aborted) showProblem(e);
    return;
  }
  $('#progress').hidden = false;
  $('#cancel').hidden = false;
  const meters = new RungMeters($('#m-rungs'), choice.rungs);
  const poster = await makePoster(file);
  // After a reload: the segments the origin has are not encoded again.
  const stored = await storedSegments(file);
  // Encoding waits while 96 MiB of finished files are not yet on the origin: memory stays flat.
  const pkg = job.run({
    ...choice,
    text,
    signal: ctl.signal,
    // (The e2e of watching while it encodes sets a small budget, so that held uploads pause encoding.)
    maxPendingBytes: window.__upcastMaxPendingBytes ?? 96 << 20,
    resume: stored?.records ?? null,
    storedInits: stored?.inits ?? null,
    storedBoard: stored?.board ?? null,
    onResume: (r) => showResuming($('#m-rungs'), r),
    onEncoderChanged: (r) => {
      forgetRendition(file, r.rung);
      showEncoderChanged($('#m-rungs'), r);
    },
    // The e2e's way to change a rung's encoder between two runs (tests/e2e/ladder-resume.test.mjs).
    encoderCodec: window.__upcastEncoderCodec ?? null,
    onProgress: (p) => {
      meters.update(p);
      noteProgress(p);
    },
    // The e2e's way to make an encoder fail mid-ladder (tests/e2e/ladder-codecs.test.mjs).
    failEncoderAt: window.__upcastFailEncoderAt ?? null,
  });
  if (poster) pkg.add([posterFile(poster)]);
  pkg.done.then(
    () => {
      meters.finish();
      showStoryboard(pkg.storyboard);
      // The package's files, and the files made: the planned playlists were made twice (planned, measured).
      document.body.dataset.packaged = String(pkg.files.size);
      document.body.dataset.made = String(pkg.list.length);
      document.body.dataset.encoded = 'true';
    },
    () => {},
  );
  await send(file, pkg, ctl);
}

async function copyFlow(file, ctl, text) {
  $('#progress').hidden = false;
  $('#cancel').hidden = false;
  const seg = new Meter($('#m-segment'), 'Packaging');
  let pkg;
  try {
    // SHA-256 of each file is computed as it is uploaded (from the same read), not in a pass of its own.
    pkg = await segment(file, {
      targetDuration,
      signal: ctl.signal,
      text,
      onProgress: (p) => seg.update(p.done, p.total),
    });
  } catch (e) {
    busy = null;
    $('#progress').hidden = true;
    if (e.name !== 'AbortError') showProblem(e);
    return;
  }
  seg.finish(`${bytes(file.size)} · read ${bytes(pkg.bytesRead)} of it · ${pkg.timings.segmentMs.toFixed(0)} ms`);
  showFound(file, pkg);
  showSourceChapters($('#text'), pkg.summary.sourceChapters);
  document.body.dataset.packaged = String(pkg.list.length);
  if (pkg.report && !pkg.report.passed) {
    // The origin would refuse it at publish with the same findings: upload nothing.
    busy = null;
    $('#progress').hidden = true;
    const musts = pkg.report.findings.filter((f) => f.severity === 'MUST');
    showProblem(
      `the package made from this file fails ${musts.length} rule(s) of the HLS Authoring Spec, ` +
        `so nothing was uploaded (see the findings below)`,
    );
    return;
  }
  const [poster, board] = await Promise.all([
    makePoster(file),
    // Seek-bar thumbnails from the key frames (announced in the MPD too); a file the browser cannot decode
    // simply has none.
    mpdText(pkg)
      .then((mpd) => makeStoryboard(file, { signal: ctl.signal, mpd }))
      .catch((e) => ({ problem: `no storyboard: ${e.message}` })),
  ]);
  if (ctl.signal.aborted) return;
  if (poster) pkg.list.push(posterFile(poster));
  if ('files' in board) {
    pkg.list.push(...board.files);
    if (board.manifest) replaceFile(pkg, board.manifest);
  }
  showStoryboard('files' in board ? board.storyboard : board);
  document.body.dataset.packaged = String(pkg.list.length);
  await send(file, pkg, ctl);
}

/** The package's MPD text, or null when it has none. */
async function mpdText(pkg) {
  const f = pkg.files.get('manifest.mpd');
  return f ? new TextDecoder().decode(await f.bytes()) : null;
}

/** Put `file` in the package in place of the file at its path. */
function replaceFile(pkg, file) {
  const i = pkg.list.findIndex((f) => f.path === file.path);
  if (i >= 0) pkg.list[i] = file;
  else pkg.list.push(file);
  pkg.files.set(file.path, file);
}

/** The storyboard as one more line of what was found (tiles, interval, format, size). */
function showStoryboard(sb) {
  if (!sb) return;
  const dl = $('#found dl');
  const text =
    'problem' in sb
      ? sb.problem
      : `${sb.tiles} thumbnails, one every ${sb.intervalS} s, ${sb.sheets} ${sb.picture === 'webp' ? 'WebP' : 'JPEG'} ` +
        `sheet${sb.sheets > 1 ? 's' : ''} (${sb.reused ? 'the first run’s, already on the origin' : bytes(sb.bytes)})`;
  dl.append(Object.assign(document.createElement('dt'), { textContent: 'Storyboard' }));
  dl.append(Object.assign(document.createElement('dd'), { textContent: text, className: 'storyboard' }));
  if (!('problem' in sb)) document.body.dataset.storyboard = String(sb.tiles);
  if (sb.reused) document.body.dataset.storyboardReused = 'true';
}

/**
 * The poster JPEG as one more file of the package (its bytes are in memory: no source layout).
 * @param {Uint8Array<ArrayBuffer>} jpeg
 */
function posterFile(jpeg) {
  return new PackageFile(null, { path: 'poster.jpg', size: jpeg.length, type: 'image/jpeg', head: jpeg, layout: null });
}

async function send(file, pkg, ctl) {
  const admin = await adminReady;
  const meter = new Meter($('#m-upload'), 'Uploading');
  $('#resume').hidden = true;
  status('Contacting the origin…');
  let note = null; // says how many files of a ladder were already on the origin
  try {
    const video = await upload({
      file,
      pkg,
      admin,
      title: file.name.replace(/\.[^.]+$/, ''),
      signal: ctl.signal,
      onEvent: (e) => {
        trackUpload(file, pkg, e);
        if (e.type === 'video') {
          document.body.dataset.video = e.id;
          const watch = `watch.html#v=${e.id}`;
          status('');
          const s = $('#progress .status');
          note = document.createElement('span');
          s.append(
            e.resumed && !pkg.at
              ? `Continuing: ${e.skipped} of ${e.total} files (${bytes(e.skippedBytes)}) are already on the origin. `
              : '',
            note,
            watchLink(watch, !!pkg.at),
          );
          document.body.dataset.skipped = String(e.skipped);
        } else if (e.type === 'file' && e.skipped) {
          // A ladder's file made again exactly as the origin has it (after a reload): not sent again.
          const n = Number(document.body.dataset.skipped ?? 0) + 1;
          document.body.dataset.skipped = String(n);
          if (note) note.textContent = `Continuing: ${n} files already on the origin were not sent again. `;
        } else if (e.type === 'file' && e.direct && document.body.dataset.direct !== 'true') {
          // The origin stores in a bucket: the files go there straight, the origin only records them.
          document.body.dataset.direct = 'true';
          meter.label('Uploading straight to the bucket');
        } else if (e.type === 'bytes') {
          meter.update(e.sent, e.total);
        } else if (e.type === 'retry' && !ctl.signal.aborted && $('#resume').hidden) {
          status(`${e.error.message}: trying again in ${(e.delay / 1000).toFixed(1)} s (attempt ${e.attempt})`);
        }
      },
    });
    meter.finish();
    done(video);
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (e instanceof UpcastError) {
      $('#progress').hidden = true;
      showProblem(`encoding stopped, and the video was not published: ${e.message}`);
    } else if (e.retryable) {
      paused = { file, pkg };
      status(`The upload stopped: ${e.message}. Resume when the connection is back; nothing is sent twice.`);
      $('#resume').hidden = false;
    } else {
      $('#progress').hidden = true;
      showProblem(`The origin refused the upload: ${e.message}${e.code ? ` (${e.code})` : ''}`);
    }
  } finally {
    if (busy === ctl) busy = null;
    showPending();
  }
}

/** The link to watch while the upload runs: a ladder's planned playlists go first, so it plays while it
 * encodes too (from the start once every rendition's first segment is stored). */
function watchLink(href, encoding) {
  return Object.assign(document.createElement('a'), {
    href,
    target: '_blank',
    textContent: encoding ? 'Watch while it encodes' : 'Watch while it uploads',
  });
}

function done(video) {
  $('#cancel').hidden = true;
  status('');
  const box = $('#done');
  const url = new URL(video.playback_url, location.href).href;
  box.querySelector('.watch').href = `watch.html#v=${video.id}`;
  box.querySelector('.url').value = url;
  box.dataset.video = video.id;
  box.hidden = false;
  document.body.dataset.state = 'published';
}

$('#pick').addEventListener('change', (e) => e.target.files[0] && handle(e.target.files[0]));
const drop = $('#drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) handle(f);
});
$('#cancel').addEventListener('click', () => {
  busy?.abort();
  busy = null;
  status('Cancelled. Drop the file again to continue where it stopped.');
});
$('#resume').addEventListener('click', () => {
  if (!paused) return;
  const ctl = new AbortController();
  busy = ctl;
  send(paused.file, paused.pkg, ctl);
});
$('#done .copy-btn').addEventListener('click', async () => {
  const input = $('#done .url');
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    $('#done .copy-btn').textContent = 'Copied';
  } catch {
    document.execCommand('copy');
  }
});
$('#done .later').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const say = (t) => (form.querySelector('.later-status').textContent = t);
  const file = form.querySelector('.file').files[0];
  const lang = form.querySelector('.lang').value.trim();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const name = form.querySelector('.cname').value.trim();
    const warnings = await addLater(await adminReady, $('#done').dataset.video, [
      { lang, name, default: false, forced: false, bytes },
    ]);
    say(`Added${warnings.length ? ` (${warnings.join('; ')})` : ''}.`);
  } catch (err) {
    say(`Refused: ${err.message}`);
  }
});
showPending();
