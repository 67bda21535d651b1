// migbench from code: a small sweep of the dirty rate, on the virtual clock (deterministic, fast),
// printed as a table. Run it with `node examples/library/sweep.js` in the migbench folder, or in a
// project where migbench is installed from a packed tarball (docs/library.md: `npm pack`, then
// `npm install /path/to/migbench-0.1.0.tgz`; migbench is not on the npm registry).
import { runMigration } from 'migbench';

const rows = [];
for (const dirtyRate of ['10MB/s', '50MB/s', '100MB/s', '200MB/s']) {
  // The options of `migbench run`, by camelCase name, as you would type them.
  const result = await runMigration({ ram: '64MiB', link: '1Gbit/s', dirtyRate, policy: 'xen', clock: 'virtual' });
  rows.push({
    'dirty rate': dirtyRate,
    status: result.status,
    verified: result.verified,
    rounds: result.totals.iterations,
    'total (ms)': result.totals.totalTimeMs.toFixed(1),
    'downtime (ms)': result.totals.downtimeMs.toFixed(1),
    'sent (MiB)': (result.totals.bytesSent / 2 ** 20).toFixed(1),
  });
}
console.table(rows);
