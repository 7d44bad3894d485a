// Object storage for the end-to-end tests and the benchmark: a real S3-compatible server (s3s-fs, installed
// by tests/setup.sh from crates.io) on a free loopback port, and Debian's nginx in front of it.
//
// s3s-fs answers no CORS (it has no bucket CORS configuration), so a browser page cannot PUT to it from
// another origin. `startCorsProxy` puts nginx in front of it the way a bucket's CORS rules would behave:
// it answers the preflight (OPTIONS) itself, passes every other request through with its Host header
// unchanged (the presigned signature covers the host the browser used, the proxy's), and adds
// `Access-Control-Allow-Origin` to the bucket's answers. The origin is told to presign for the proxy with
// `presign_endpoint=` in its `--store` URL, and keeps talking to s3s-fs directly (`endpoint=`).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const ACCESS_KEY = 'upcast-e2e-access';
export const SECRET_KEY = 'upcast-e2e-secret-key-0123456789';
/** The environment `upcast serve --store` reads its credentials from. */
export const S3_ENV = { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY };

/** The `s3s-fs` binary: $S3S_FS, else cargo's bin directory, else PATH. */
function s3sFsBin() {
  if (process.env.S3S_FS) return process.env.S3S_FS;
  const p = join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin/s3s-fs');
  return existsSync(p) ? p : 's3s-fs';
}

function nginxBin() {
  const p = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((b) => existsSync(b));
  if (!p) throw new Error('nginx is missing (tests/setup.sh installs Debian’s nginx-light)');
  return p;
}

/** A loopback port free right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/**
 * s3s-fs serving a temporary directory with one empty bucket, `name`. Resolves once it listens, to
 * {port, endpoint, root, bucket, kill(), restart(), objectFile(key)}; `kill` is a crash (SIGKILL), `restart`
 * starts it again on the same port and directory.
 */
export async function startBucket(bucket = 'media') {
  const root = mkdtempSync(join(tmpdir(), 'upcast-s3-'));
  mkdirSync(join(root, bucket)); // s3s-fs maps a bucket to a directory of its root
  const port = await freePort();
  let child = null;
  const spawnIt = () =>
    new Promise((resolve, reject) => {
      const c = spawn(
        s3sFsBin(),
        ['--host', '127.0.0.1', '--port', String(port), '--access-key', ACCESS_KEY, '--secret-key', SECRET_KEY, root],
        { env: { ...process.env, RUST_LOG: 's3s_fs=info', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let seen = '';
      c.on('error', (e) => reject(new Error(`start s3s-fs (tests/setup.sh installs it): ${e.message}`)));
      c.on('exit', (code) => reject(new Error(`s3s-fs exited (${code}) before listening: ${seen}`)));
      const watch = (d) => {
        seen += d;
        if (seen.includes('server is running at')) resolve(c);
      };
      c.stdout.on('data', watch);
      c.stderr.on('data', watch);
    });
  child = await spawnIt();
  const b = {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    root,
    bucket,
    objectFile: (key) => join(root, bucket, key),
    kill: () => {
      if (!child) return Promise.resolve();
      const c = child;
      child = null;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      return gone;
    },
    restart: async () => {
      await b.kill();
      child = await spawnIt();
    },
  };
  return b;
}

/** `s3://BUCKET?…` for `upcast serve --store`; `presign` is where browsers reach the bucket (the proxy). */
export const storeSpec = (bucket, presign) =>
  `s3://${bucket.bucket}?endpoint=${bucket.endpoint}&region=us-east-1` +
  (presign ? `&presign_endpoint=${presign.url}` : '');

/**
 * Start nginx with `locations` (the server block's `location`s) on a free port; resolves once it accepts
 * connections to {port, url, dir, log(), stop()}. `log()` is its access log, one line per request.
 */
async function startNginx(name, locations, logFormat) {
  const dir = mkdtempSync(join(tmpdir(), `upcast-${name}-`));
  mkdirSync(join(dir, 'tmp'));
  const port = await freePort();
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
    log_format e2e '${logFormat}';
    access_log ${dir}/access.log e2e;
    client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
    uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
    client_max_body_size 0;
    proxy_cache_path ${dir}/cache levels=1 keys_zone=e2e:4m max_size=512m;
    server {
        listen 127.0.0.1:${port};
${locations}
    }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(nginxBin(), ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => child.once('exit', r));
  // Until a connection is accepted, or nginx exits (a configuration error: its log says why).
  for (;;) {
    const up = await new Promise((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (up) break;
    if (child.exitCode !== null) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
      throw new Error(`nginx exited (${child.exitCode}): ${err}${log}`);
    }
    await new Promise((r) => setImmediate(r));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    log: () => (existsSync(join(dir, 'access.log')) ? readFileSync(join(dir, 'access.log'), 'utf8') : ''),
    stop: () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/**
 * Debian's nginx in front of `bucket` as a CORS proxy (see the top of this file). Its log has
 * `METHOD STATUS URI-WITHOUT-QUERY REQUEST-LENGTH` per request.
 */
export function startCorsProxy(bucket) {
  return startNginx(
    'cors',
    `        location / {
            if ($request_method = OPTIONS) {
                add_header Access-Control-Allow-Origin * always;
                add_header Access-Control-Allow-Methods "GET, HEAD, PUT" always;
                add_header Access-Control-Allow-Headers $http_access_control_request_headers always;
                add_header Access-Control-Max-Age 600 always;
                return 204;
            }
            add_header Access-Control-Allow-Origin * always;
            add_header Access-Control-Expose-Headers "ETag, Content-Length" always;
            proxy_pass http://127.0.0.1:${bucket.port};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
            proxy_request_buffering off;
            proxy_buffering off;
        }`,
    '$request_method $status $uri $request_length',
  );
}

/**
 * A CDN for segments: nginx caching what `origin` serves. The origin answers a segment with a `307` to the
 * bucket (a presigned URL at `proxy`, `public, max-age=300`); nginx follows it itself and caches the bytes
 * under the viewer's URI (segments are immutable and content-addressed, so the signature in the redirect is
 * not part of the key). Public videos only: this is the benchmark's cache, not a private-video setup.
 *
 * Two locations, because one cannot both cache and follow: with `proxy_cache` where the `307` is
 * intercepted, nginx keeps the cacheable redirect as a bare status (no headers) under the key, and every
 * later request gets that `307` from the cache with no upstream `Location`, so the follow fails
 * (`invalid URL prefix in ""`, a 500 per segment). So `/` caches (only `200`s) and asks `/follow/` on the
 * same server, which does not cache: it passes the request to the origin and, on a redirect, fetches the
 * `Location` (a loopback IP URL: no resolver needed) and answers with the bucket's bytes.
 * Log: `CACHE-STATUS STATUS URI`, one line per viewer request (the inner requests are not logged).
 */
export function startSegmentCache(origin) {
  const upstream = origin.url.replace(/^http:\/\//, '');
  return startNginx(
    'cdn',
    `        location / {
            proxy_pass http://127.0.0.1:$server_port/follow$request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache e2e;
            proxy_cache_key $request_uri;
            proxy_cache_valid 200 1h;
        }
        location /follow/ {
            allow 127.0.0.1;
            deny all;
            access_log off;
            rewrite ^/follow(/.*)$ $1 break;
            proxy_pass http://${upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_intercept_errors on;
            error_page 301 302 307 = @bucket;
        }
        location @bucket {
            access_log off;
            set $to $upstream_http_location;
            proxy_pass $to;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }`,
    '$upstream_cache_status $status $request_uri',
  );
}

/** The origin's `--access-log` as objects (one JSON line each). */
export function accessLog(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
