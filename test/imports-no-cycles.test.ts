/**
 * No import cycles in src/, type-only imports included: a module's dependencies can be read
 * without reading its dependents (madge resolves the `.js` specifiers through tsconfig.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('src/ has no import cycle', async () => {
  const graph = await madge(`${root}src`, { fileExtensions: ['ts'], tsConfig: `${root}tsconfig.json` });
  const modules = graph.obj();
  // The graph is real: every module found, and imports resolved to files.
  assert.ok(Object.keys(modules).length > 100, `${Object.keys(modules).length} modules`);
  assert.ok(modules['driver/migrate.ts']?.includes('world/registry.ts'), 'driver/migrate.ts imports world/registry.ts');
  assert.ok(modules['channel/virtual.ts']?.includes('channel/transport.ts'), 'type-only imports count too');
  assert.deepEqual(graph.circular(), []);
});

test("channel/, link/, world/ and precopy/ do not import the driver's stage code", async () => {
  const graph = await madge(`${root}src`, { fileExtensions: ['ts'], tsConfig: `${root}tsconfig.json` });
  for (const [file, deps] of Object.entries(graph.obj())) {
    if (/^(channel|link|world|precopy|guest|clock)\//.test(file)) {
      assert.ok(!deps.includes('driver/migrate.ts'), `${file} imports driver/migrate.ts`);
    }
  }
});

test("the result schema imports nothing: no internal type can change a result's shape", async () => {
  const graph = await madge(`${root}src`, { fileExtensions: ['ts'], tsConfig: `${root}tsconfig.json` });
  assert.deepEqual(graph.obj()['result/schema.ts'], []);
});
