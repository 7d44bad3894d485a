// Debian's Firefox ESR, headless, driven through geckodriver's W3C WebDriver HTTP API (playwright-core
// cannot drive a Firefox it did not patch). Just what the tests use: a session, navigate, run a script.
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Start geckodriver on 127.0.0.1 (a free port) and a headless Firefox session with a fresh profile
 * (`prefs` added to the session's). */
export async function firefox({ prefs = {} } = {}) {
  const bin = process.env.GECKODRIVER ?? join(homedir(), '.cargo/bin/geckodriver');
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const base = await new Promise((resolve, reject) => {
    let seen = '';
    const look = (d) => {
      seen += d;
      const m = seen.match(/Listening on (127\.0\.0\.1:\d+)/);
      if (m) resolve(`http://${m[1]}`);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`geckodriver exited (${code}): ${seen}`)));
    child.on('error', (e) =>
      reject(new Error(`${bin}: ${e.message} (tests/setup.sh installs geckodriver with cargo install)`)),
    );
  });
  const call = async (method, path, body) => {
    const r = await fetch(base + path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${j.value?.error}: ${j.value?.message}`);
    return j.value;
  };
  let session;
  try {
    session = await call('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'firefox',
          'moz:firefoxOptions': {
            binary: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
            args: ['-headless'],
            prefs: { 'media.autoplay.default': 0, ...prefs },
          },
          timeouts: { script: 300_000, pageLoad: 60_000 },
        },
      },
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const id = session.sessionId;
  return {
    version: session.capabilities.browserVersion,
    goto: (url) => call('POST', `/session/${id}/url`, { url }),
    /** Run `fn(...args)` (async allowed) in the page and resolve to what it resolves to (JSON-able). */
    run: (fn, ...args) =>
      call('POST', `/session/${id}/execute/async`, {
        script: `const done = arguments[arguments.length - 1];
          (${fn}).apply(null, Array.from(arguments).slice(0, -1))
            .then((v) => done({ ok: v }), (e) => done({ error: String(e) + ' ' + ((e && e.stack) || '') }));`,
        args,
      }).then((r) => {
        if (r.error) throw new Error(`in Firefox: ${r.error}`);
        return r.ok;
      }),
    close: async () => {
      await call('DELETE', `/session/${id}`).catch(() => {});
      child.kill('SIGKILL');
    },
  };
}
