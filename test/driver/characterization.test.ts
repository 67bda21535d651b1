/**
 * The characterization of the migration core (test/characterization/): a fresh run of each fixed
 * case gives what was recorded in test/fixtures/characterization.json, field by field, wall-clock
 * fields aside. Virtual-clock runs must match exactly; real-clock and TCP runs in outcome and structure.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REAL_CASES, TCP_CASES, VIRTUAL_CASES } from '../characterization/cases.js';
import { CHARACTERIZATION_FILE, runCase, type Recording } from '../characterization/run.js';
import { simulatedPart, structure } from '../characterization/project.js';
import { firstDifference } from '../../src/result/compare.js';
import { startReceiver } from '../fixtures/receiver.js';
import { formatHostPort } from '../../src/wire/address.js';

const recording = JSON.parse(readFileSync(CHARACTERIZATION_FILE, 'utf8')) as Recording;

test('every case has a recording', () => {
  for (const c of VIRTUAL_CASES) assert.ok(c.name in (c.racy ? recording.real : recording.virtual), c.name);
  for (const c of [...REAL_CASES, ...TCP_CASES]) assert.ok(c.name in recording.real, c.name);
});

for (const c of VIRTUAL_CASES) {
  if (c.racy) {
    test(`virtual clock, ${c.name}: outcome and structure as recorded (not repeatable: ${c.racy})`, async () => {
      assert.deepEqual(structure(await runCase(c)), recording.real[c.name]);
    });
    continue;
  }
  test(`virtual clock, ${c.name}: every simulated field as recorded`, async () => {
    const d = firstDifference(recording.virtual[c.name], simulatedPart(await runCase(c)));
    assert.equal(d, null, d ?? '');
  });
}

for (const c of REAL_CASES) {
  test(`real clock, ${c.name}: outcome and structure as recorded`, async () => {
    assert.deepEqual(structure(await runCase(c)), recording.real[c.name]);
  });
}

const receiver = await startReceiver({ token: 'characterize' });
after(() => receiver.server.close());
for (const c of TCP_CASES) {
  test(`TCP, ${c.name}: outcome and structure as recorded`, async () => {
    const r = await runCase(c, { target: `tcp://${formatHostPort(receiver.address)}`, token: 'characterize' });
    assert.deepEqual(structure(r), recording.real[c.name]);
  });
}
