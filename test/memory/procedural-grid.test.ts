/**
 * Procedural memory gives the same answers as materialized memory (issue 26): on the virtual clock,
 * for the same options and seed, every simulated field of the result is equal, over a grid of the
 * features that touch page bytes or the dirty log: codecs (xbzrle with its cache, threads), dirty logs,
 * patterns, content mixes, page and write sizes, aids, policies and post-copy. Guests of 16 MiB; the
 * same cases at 256 MiB are in `npm run bench:e2e` (memory-kinds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawRunOptions } from '../../src/config/options.js';
import { runCase } from '../characterization/run.js';
import { simulatedPart } from '../characterization/project.js';
import { firstDifference } from '../../src/result/compare.js';

const BASE: RawRunOptions = {
  clock: 'virtual',
  ram: '16MiB',
  link: '1Gbit/s',
  dirtyRate: '200MB/s',
  pattern: 'hotset:0.2:0.8',
  seed: '11',
  vcpus: '2',
  downtimeLimit: '50ms',
  timeout: '10s',
};

const GRID: { name: string; options: RawRunOptions }[] = [
  { name: 'qemu, defaults', options: {} },
  {
    name: 'qemu-rounds, uniform, text',
    options: { policy: 'qemu-rounds', pattern: 'uniform', dirtyRate: '20MB/s', content: 'text' },
  },
  {
    name: 'hyperv, sequential, random',
    options: { policy: 'hyperv', pattern: 'sequential', dirtyRate: '40MB/s', content: 'random' },
  },
  { name: 'xen, adaptive rate', options: { policy: 'xen', adaptiveRate: true, adaptiveMax: '800Mbit/s' } },
  { name: 'bitmap-chunked', options: { dirtyLog: 'bitmap-chunked' } },
  { name: 'two-level', options: { dirtyLog: 'two-level', pattern: 'uniform', dirtyRate: '20MB/s' } },
  { name: 'ring 512 (stalls)', options: { dirtyLog: 'ring', ringSize: '512' } },
  { name: 'zero,lz4', options: { codec: 'zero,lz4', content: 'mixed:40:40:20' } },
  { name: 'zero,xbzrle, hot set', options: { codec: 'zero,xbzrle', xbzrleCache: '4MiB', contentHot: 'text' } },
  {
    name: 'zero,xbzrle,lz4, 2 threads, qemu-rounds',
    options: { policy: 'qemu-rounds', codec: 'zero,xbzrle,lz4', xbzrleCache: '2MiB', compressThreads: '2' },
  },
  { name: 'zero,deflate level 3', options: { codec: 'zero,deflate', deflateLevel: '3', content: 'text' } },
  {
    name: 'write size 4096, lz4',
    options: { writeSize: '4096', codec: 'lz4', pattern: 'uniform', dirtyRate: '20MB/s' },
  },
  {
    name: 'page size 2 MiB, xbzrle',
    options: { pageSize: '2MiB', ram: '32MiB', codec: 'xbzrle', writeSize: '64', dirtyRate: '20MB/s' },
  },
  { name: 'auto-converge', options: { policy: 'qemu-rounds', dirtyRate: '400MB/s', autoConverge: true } },
  { name: 'max-bandwidth, catch-up', options: { maxBandwidth: '400Mbit/s', catchUp: '2ms', dirtyRate: '40MB/s' } },
  {
    name: 'ring, qemu-rounds, post-copy after 2',
    options: { dirtyLog: 'ring', policy: 'qemu-rounds', postcopyAfter: '2', codec: 'zero,xbzrle' },
  },
  {
    name: 'post-copy after 4 rounds, zero content',
    options: {
      policy: 'qemu-rounds',
      postcopy: true,
      maxIterations: '4',
      content: 'zero',
      pattern: 'uniform',
      dirtyRate: '600MB/s',
    },
  },
];

for (const g of GRID) {
  test(`procedural and materialized memory agree field by field: ${g.name}`, async () => {
    const options = { ...BASE, ...g.options };
    const procedural = await runCase({ name: g.name, options }, { memory: 'procedural' });
    const materialized = await runCase({ name: g.name, options }, { memory: 'materialized' });
    assert.equal(procedural.config.memory, 'procedural');
    assert.equal(materialized.config.memory, 'materialized');
    assert.equal(materialized.status, 'completed', `${materialized.status}: ${materialized.reason ?? ''}`);
    assert.equal(procedural.verified, true);
    if (g.options.postcopy === true || g.options.postcopyAfter !== undefined)
      assert.ok(procedural.postcopy, 'post-copy ran');
    const d = firstDifference(simulatedPart(materialized), simulatedPart(procedural));
    assert.equal(d, null, d ?? '');
  });
}
