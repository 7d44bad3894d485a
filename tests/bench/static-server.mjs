// The benchmarks' pages on 127.0.0.1: www/ (the product's modules and wasm), Mediabunny's bundles and
// tests/bench/, served as files with their MIME types.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { root } from '../e2e/harness.mjs';

const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.mp4': 'video/mp4',
};
const routes = [
  ['/www/', join(root, 'www/')],
  ['/mb/', join(root, 'node_modules/mediabunny/dist/bundles/')],
  ['/bench/', join(root, 'tests/bench/')],
];

/** Start serving; resolves to {base, close}. */
export async function serveBenchPages() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x').pathname;
    let path = null;
    for (const [prefix, dir] of routes) if (url.startsWith(prefix)) path = join(dir, url.slice(prefix.length));
    if (!path || !existsSync(path) || statSync(path).isDirectory()) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
