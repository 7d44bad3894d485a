// @ts-check
// The Worker side of the library's Workers (lib/worker-rpc.js is the page side): the one loader of the wasm
// core, and the loop that answers each request with its reply or with `{type: 'error', error}`.
import { errorData } from '../lib/error.js';

/**
 * The builds of the core (www/build.sh): `upcast_segment` is the segmenter alone; `upcast_full` adds the
 * conformance checker and the ladder's bindings. Only the one a job needs is fetched and compiled, once.
 * @typedef {'upcast_segment' | 'upcast_full'} Build
 */

/** @type {Map<Build, Promise<any>>} the glue's module, typed in core.d.ts */
const builds = new Map();

/**
 * The build's module with its instance's exports (`memory`) as `exports`; a module namespace cannot take
 * new properties, so it is a copy.
 * @template {Build} B
 * @param {B} name
 * @returns {Promise<B extends 'upcast_full' ? import('./core.js').FullBuild : import('./core.js').SegmentBuild>}
 */
export function loadCore(name) {
  let build = builds.get(name);
  if (!build) {
    const url = new URL(`../pkg/${name}.js`, import.meta.url);
    build = import(url.href).then(async (m) => ({ ...m, exports: await m.default() }));
    builds.set(name, build);
  }
  return build;
}

/**
 * @typedef {{message: object, transfer?: Transferable[]}} Answer
 */

/**
 * Answer every request with what `handle` returns (nothing for a request that wants no reply); anything
 * it throws goes back as `{type: 'error', error}` (see lib/error.js).
 * @param {(data: any) => Promise<Answer | null> | Answer | null} handle
 */
export function serve(handle) {
  self.onmessage = async ({ data }) => {
    try {
      const answer = await handle(data);
      if (answer) self.postMessage(answer.message, answer.transfer ?? []);
    } catch (e) {
      self.postMessage({ type: 'error', error: errorData(e) });
    }
  };
}
