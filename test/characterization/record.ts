/**
 * Records the characterization runs into test/fixtures/characterization.json. Run it only to
 * accept a deliberate change of results (say why in the commit):
 *   npm run build && node dist/test/characterization/record.js
 */
import { writeFileSync } from 'node:fs';
import { runCase, CHARACTERIZATION_FILE, type Recording } from './run.js';
import { REAL_CASES, TCP_CASES, VIRTUAL_CASES } from './cases.js';
import { simulatedPart, structure } from './project.js';
import { startReceiver } from '../fixtures/receiver.js';
import { formatHostPort } from '../../src/wire/address.js';

const recording: Recording = { virtual: {}, real: {} };
for (const c of VIRTUAL_CASES) {
  const t0 = performance.now();
  const r = await runCase(c);
  if (c.racy) recording.real[c.name] = structure(r);
  else recording.virtual[c.name] = simulatedPart(r);
  process.stderr.write(`recorded ${c.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
for (const c of REAL_CASES) {
  const t0 = performance.now();
  recording.real[c.name] = structure(await runCase(c));
  process.stderr.write(`recorded ${c.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
const receiver = await startReceiver({ token: 'characterize' });
for (const c of TCP_CASES) {
  const t0 = performance.now();
  recording.real[c.name] = structure(
    await runCase(c, { target: `tcp://${formatHostPort(receiver.address)}`, token: 'characterize' }),
  );
  process.stderr.write(`recorded ${c.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
await receiver.server.close();
writeFileSync(CHARACTERIZATION_FILE, `${JSON.stringify(recording, null, 1)}\n`);
process.stderr.write(`wrote ${CHARACTERIZATION_FILE.pathname}\n`);
