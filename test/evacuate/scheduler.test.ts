/**
 * The evacuation's scheduler on its own (src/evacuate/scheduler.ts), with no migration: the queue
 * launches in order under the limits per source and per target, places a VM on the least loaded
 * target with room, lets VMs pass one whose target is full, and frees places as VMs leave; the
 * start gate lets set-up VMs start in launch order, the first batch together, as slots free.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvacuationQueue, StartGate } from '../../src/evacuate/scheduler.js';

const vm = (name: string, target: number | null = null) => ({ name, target });
const names = (launched: { vm: { name: string }; target: number }[]) =>
  launched.map((l) => `${l.vm.name}->${l.target}`);

test('the queue launches in order, at most max-concurrent (plus the look-ahead) at once, and a leave frees a place', () => {
  const q = new EvacuationQueue([vm('a'), vm('b'), vm('c'), vm('d')], {
    maxConcurrent: 2,
    maxPerTarget: null,
    targets: 1,
    lookahead: 1,
  });
  assert.deepEqual(names(q.launch()), ['a->0', 'b->0', 'c->0']);
  assert.deepEqual(q.launch(), [], 'nothing more while three are in line');
  assert.equal(q.inLine, 3);
  q.leave(0);
  assert.deepEqual(names(q.launch()), ['d->0']);
  assert.equal(q.waiting, 0);
});

test('each VM goes to the least loaded target with room, fewest placed on a tie', () => {
  const q = new EvacuationQueue([vm('a'), vm('b'), vm('c'), vm('d')], {
    maxConcurrent: 4,
    maxPerTarget: 2,
    targets: 2,
    lookahead: 0,
  });
  assert.deepEqual(names(q.launch()), ['a->0', 'b->1', 'c->0', 'd->1']);
});

test('a VM whose own target is full waits; the ones behind it pass', () => {
  const q = new EvacuationQueue([vm('a', 0), vm('b', 0), vm('c', 1)], {
    maxConcurrent: 3,
    maxPerTarget: 1,
    targets: 2,
    lookahead: 0,
  });
  assert.deepEqual(names(q.launch()), ['a->0', 'c->1']);
  q.leave(0);
  assert.deepEqual(names(q.launch()), ['b->0']);
});

test('the per-target limit holds even with room on the source', () => {
  const q = new EvacuationQueue([vm('a'), vm('b'), vm('c')], {
    maxConcurrent: 8,
    maxPerTarget: 1,
    targets: 2,
    lookahead: 0,
  });
  assert.deepEqual(names(q.launch()), ['a->0', 'b->1']);
  q.leave(1);
  assert.deepEqual(names(q.launch()), ['c->1']);
});

/** Tickets whose ready() resolved, in order. */
async function started(gate: StartGate, tickets: number[]): Promise<number[]> {
  const order: number[] = [];
  for (const t of tickets) void gate.ready(t).then(() => order.push(t));
  await new Promise((r) => setImmediate(r));
  return order;
}

test('the start gate: the first batch starts together once all of it is set up, then one per freed slot, in launch order', async () => {
  const gate = new StartGate(2, 2);
  const [a, b, c] = [gate.ticket(), gate.ticket(), gate.ticket()];
  const order: number[] = [];
  const ready = async (t: number): Promise<void> => {
    void gate.ready(t).then(() => order.push(t));
    await new Promise((r) => setImmediate(r));
  };
  await ready(c);
  await ready(a);
  assert.deepEqual(order, [], 'the first batch waits for all of itself; the VM set up ahead waits');
  await ready(b);
  assert.deepEqual(order, [a, b]);
  assert.equal(gate.active, 2);
  gate.leave(a, true);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [a, b, c], 'c took the freed slot');
});

test('the start gate skips a VM that left before it was ever started, so the ones behind it do not wait for it', async () => {
  const gate = new StartGate(1, 1);
  const [a, b] = [gate.ticket(), gate.ticket()];
  gate.leave(a, false);
  assert.deepEqual(await started(gate, [b]), [b]);
});

test('interrupted, the gate lets every waiting VM start (each then finds the signal aborted)', async () => {
  const gate = new StartGate(1, 1);
  const [a, b, c] = [gate.ticket(), gate.ticket(), gate.ticket()];
  const order = await started(gate, [a, b, c]);
  assert.deepEqual(order, [a]);
  gate.releaseAll();
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.active, 3);
});
