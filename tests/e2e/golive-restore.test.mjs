// The Go live Worker's policy for bringing back a rung paused for the uplink (www/workers/live/restore.js),
// run in Node (it touches no browser API): counted in parts the next rung had taken calmly, reset by a part
// taken while the uplink is behind, doubled by each drop after a return.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CALM_UPLOAD_MS, RESTORE_CALM_PARTS, UplinkRestore } from '../../www/workers/live/restore.js';

/** The next rung's uplink as the Worker reads it. */
const up = (sentParts, waiting = 0, uploadMs = 100) => ({ sentParts, waiting, uploadMs });

test('a paused rung is due back after 12 calm parts in a row, 24 after the next drop', () => {
  const r = new UplinkRestore();
  assert.equal(r.due(), null);
  assert.equal(r.paused(0, 40), RESTORE_CALM_PARTS);
  let sent = 40;
  // Looked at on every frame: no new part taken counts nothing.
  r.observe(up(sent));
  for (let k = 0; k < RESTORE_CALM_PARTS - 1; k++) r.observe(up(++sent));
  assert.equal(r.due(), null, 'one calm part short');
  // A part taken with the uplink behind (slow to go up, or parts waiting) starts the count again.
  r.observe(up(++sent, 0, CALM_UPLOAD_MS));
  assert.equal(r.pausedRung?.calm, 0);
  r.observe(up(++sent, 2, 100));
  assert.equal(r.pausedRung?.calm, 0);
  // Several parts taken between two looks count as several.
  sent += 5;
  r.observe(up(sent));
  sent += RESTORE_CALM_PARTS - 5;
  r.observe(up(sent));
  assert.equal(r.due(), 0, 'due back at the next segment boundary');
  // Still due until it is back, whatever the uplink does meanwhile.
  r.observe(up(++sent, 9, 5000));
  assert.equal(r.due(), 0);
  r.back();
  assert.equal(r.due(), null);

  // Dropped again after its return: twice the calm before the next return.
  assert.equal(r.paused(0, sent), 2 * RESTORE_CALM_PARTS);
  sent += 2 * RESTORE_CALM_PARTS - 1;
  r.observe(up(sent));
  assert.equal(r.due(), null);
  r.observe(up(++sent));
  assert.equal(r.due(), 0);
  r.back();
  assert.equal(r.paused(1, sent), 4 * RESTORE_CALM_PARTS, 'and twice again');
});
