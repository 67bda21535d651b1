/**
 * `migbench run ... | head -2`: when the reader closes stdout, migbench ends quietly (exit 0, no
 * stack trace on stderr) instead of dying on EPIPE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

test('a reader that goes away after the first lines ends the run quietly', async () => {
  const child = spawn(
    process.execPath,
    [BIN, 'run', '--clock', 'virtual', '--ram', '64MiB', '--dirty-rate', '50MB/s'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // Read the header's first chunk, then close the pipe, as `head -2` does.
  await new Promise<void>((resolve) =>
    child.stdout.once('data', () => {
      child.stdout.destroy();
      resolve();
    }),
  );
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  // Round lines go to stderr when stdout is a pipe ("... at 5.38 Gbit/s"): a stack trace's frames start a line with "at".
  assert.doesNotMatch(stderr, /EPIPE|Error|^\s+at /m, 'no stack trace');
});
