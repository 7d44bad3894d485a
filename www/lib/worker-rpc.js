// @ts-check
// The page side of the library's Workers (workers/worker-host.js is the other side): one dedicated module
// Worker, a request posted to it, and its replies turned into a promise. Every reply is `{type, ...}`; a
// reply `{type: 'error', error}` rejects with an `UpcastError`. On any failure (an error reply, the Worker
// failing to load or run, the caller's signal) the Worker is terminated: the next job gets a fresh module
// instance. After a success the caller decides whether to keep it.
import { abortReason, UpcastError } from './error.js';

/** @typedef {{type: string} & Record<string, any>} Reply */

export class WorkerClient {
  /** @param {URL} url the Worker's module */
  constructor(url) {
    this.worker = new Worker(url, { type: 'module' });
  }

  /**
   * Post `message`; resolve with the first reply whose type is `until`. `onReply` sees every other reply
   * (progress, files) as it comes.
   * @param {object} message
   * @param {{until: string, failure: string, onReply?: (r: Reply) => void, signal?: AbortSignal,
   *          transfer?: Transferable[]}} how `failure` starts the message when the Worker itself fails
   * @returns {Promise<Reply>}
   */
  request(message, { until, failure, onReply, signal, transfer = [] }) {
    const w = this.worker;
    return new Promise((resolve, reject) => {
      const detach = () => {
        signal?.removeEventListener('abort', onAbort);
        w.onmessage = null;
        w.onerror = null;
      };
      /** @param {unknown} e */
      const fail = (e) => {
        detach();
        w.terminate();
        reject(e);
      };
      const onAbort = () => fail(abortReason(/** @type {AbortSignal} */ (signal)));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      w.onerror = (e) => {
        e.preventDefault();
        fail(new UpcastError(`${failure}: ${e.message ?? 'worker error'}`, { code: 'worker-failed' }));
      };
      w.onmessage = ({ data }) => {
        if (data.type === until) {
          detach();
          resolve(data);
        } else if (data.type === 'error') {
          fail(UpcastError.fromData(data.error));
        } else {
          onReply?.(data);
        }
      };
      w.postMessage(message, transfer);
    });
  }

  /** A message that wants no reply. @param {object} message */
  post(message) {
    this.worker.postMessage(message);
  }

  terminate() {
    this.worker.terminate();
  }
}
