// A Node.js program building and mutating objects: the workload `npm run record:node-objects` records.
// Builds an array of about SIZE_MIB of small objects, then for DURATION seconds replaces and
// updates random ones: V8's young generation fills and is scavenged (objects copied), the old
// generation's objects are updated in place, as a JavaScript service's heap is.
const sizeMiB = Number(process.argv[2] ?? 48);
const durationS = Number(process.argv[3] ?? 4);
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const n = Math.floor((sizeMiB * 1024 * 1024) / 120);
const items = new Array(n);
for (let i = 0; i < n; i++) items[i] = { id: i, count: 0, name: `item-${i}`, score: rand() };
console.log('ready');
const end = Date.now() + durationS * 1000;
const step = () => {
  for (let k = 0; k < 500; k++) {
    const i = Math.floor(rand() * n);
    if (rand() < 0.3) items[i] = { id: i, count: items[i].count + 1, name: `item-${i}-${k}`, score: rand() };
    else items[i].count++;
  }
  if (Date.now() < end) setTimeout(step, 10);
};
step();
