/**
 * What `npm pack` ships runs: the tarball, installed in an empty folder, gives a working CLI and a
 * library that `import { runMigration } from 'migbench'` loads (types included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test(
  'npm pack, npm install the tarball in an empty folder: its CLI runs and the library imports',
  { timeout: 300_000 },
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migbench-pack-'));
    // Built already (npm test builds first): pack what is there.
    execFileSync(NPM, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, stdio: 'pipe' });
    const tgz = readdirSync(dir).find((f) => /^migbench-\d+\.\d+\.\d+\.tgz$/.test(f));
    assert.ok(tgz, readdirSync(dir).join(', '));
    const app = path.join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, tgz)], {
      cwd: app,
      stdio: 'pipe',
    });
    const installed = path.join(app, 'node_modules', 'migbench');
    for (const f of [
      'build/kernels.wasm',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/main.js',
      'CHANGELOG.md',
    ])
      assert.ok(existsSync(path.join(installed, f)), f);
    assert.ok(!existsSync(path.join(installed, 'dist', 'test')), 'tests are not shipped');

    const cli = path.join(app, 'node_modules', '.bin', 'migbench');
    const version = spawnSync(cli, ['--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
    const run = spawnSync(cli, ['run', '--ram', '16MiB', '--clock', 'virtual', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).verified, true);

    writeFileSync(
      path.join(app, 'script.js'),
      [
        "import { runMigration, resolveRunOptions, OptionError } from 'migbench';",
        "const r = await runMigration({ ram: '16MiB', dirtyRate: '10MB/s', clock: 'virtual' });",
        "let message = '';",
        "try { resolveRunOptions({ ram: 'lots' }); } catch (e) { if (e instanceof OptionError) message = e.message; }",
        'console.log(JSON.stringify({ status: r.status, verified: r.verified, message }));',
      ].join('\n'),
    );
    const script = spawnSync(process.execPath, ['script.js'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    assert.equal(script.status, 0, script.stderr);
    const out = JSON.parse(script.stdout.trim().split('\n').pop() as string);
    assert.equal(out.status, 'completed');
    assert.equal(out.verified, true);
    assert.match(out.message, /--ram/);
  },
);
