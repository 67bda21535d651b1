/**
 * Layers you can see: no import cycles in src/, type-only imports included, between modules nor
 * between folders (no two folders of src/ import each other), and the folders in the order
 * ARCHITECTURE.md gives, each importing only from folders before it (madge resolves the `.js`
 * specifiers through tsconfig.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const graph = await madge(`${root}src`, { fileExtensions: ['ts'], tsConfig: `${root}tsconfig.json` });
const modules = graph.obj();

/** The folder of a module under src/ ('(root)' for src/index.ts). */
const folderOf = (file: string): string => (file.includes('/') ? file.split('/')[0] : '(root)');

/** Folder-to-folder imports: for each pair, the first import that makes it. */
function folderEdges(): Map<string, string> {
  const edges = new Map<string, string>();
  for (const [file, deps] of Object.entries(modules)) {
    for (const dep of deps) {
      const [from, to] = [folderOf(file), folderOf(dep)];
      if (from !== to && !edges.has(`${from} -> ${to}`)) edges.set(`${from} -> ${to}`, `${file} imports ${dep}`);
    }
  }
  return edges;
}

test('src/ has no import cycle', () => {
  // The graph is real: every module found, and imports resolved to files.
  assert.ok(Object.keys(modules).length > 100, `${Object.keys(modules).length} modules`);
  assert.ok(modules['driver/migrate.ts']?.includes('world/registry.ts'), 'driver/migrate.ts imports world/registry.ts');
  assert.ok(modules['channel/virtual.ts']?.includes('channel/transport.ts'), 'type-only imports count too');
  assert.deepEqual(graph.circular(), []);
});

test('no two folders of src/ import each other', () => {
  const edges = folderEdges();
  const both = [...edges.keys()]
    .map((e) => e.split(' -> '))
    .filter(([a, b]) => a < b && edges.has(`${b} -> ${a}`))
    .map(([a, b]) => `${a} <-> ${b}: ${edges.get(`${a} -> ${b}`)}; ${edges.get(`${b} -> ${a}`)}`);
  assert.deepEqual(both, []);
});

test("the folders follow ARCHITECTURE.md's layers: each imports only from the ones listed before it", () => {
  const text = readFileSync(`${root}ARCHITECTURE.md`, 'utf8');
  const table = text.slice(text.indexOf('<!-- layers -->'), text.indexOf('<!-- /layers -->'));
  const order = [...table.matchAll(/^\| `([^`]+)\/?` \|/gm)].map((m) => m[1].replace(/\/$/, ''));
  const folders = new Set(Object.keys(modules).map(folderOf));
  assert.deepEqual([...folders].filter((f) => !order.includes(f)).sort(), [], 'every folder has its layer');
  const upward = [...folderEdges()]
    .filter(([edge]) => {
      const [from, to] = edge.split(' -> ');
      return order.indexOf(to) > order.indexOf(from);
    })
    .map(([edge, why]) => `${edge}: ${why}`);
  assert.deepEqual(upward, []);
});

test("channel/, link/, world/ and precopy/ do not import the driver's stage code", () => {
  for (const [file, deps] of Object.entries(modules)) {
    if (/^(channel|link|world|precopy|guest|clock)\//.test(file)) {
      assert.ok(!deps.some((d) => d.startsWith('driver/')), `${file} imports the driver`);
    }
  }
});

test("the result schema imports nothing: no internal type can change a result's shape", () => {
  assert.deepEqual(modules['result/schema.ts'], []);
});
