/**
 * The kernel module: pure functions over (ptr, len) in an imported shared memory, one concept per
 * file. Contracts are in src/kernel/types.ts. Kernels allocate nothing and keep no static data,
 * because every thread instantiates this module over the same memory.
 */
export { markDirty, scanAndClear, collectDirty, clearPages, countDirty } from './bitmap';
export { isZero } from './zero';
export { fillBytes } from './fill';
export { fillXorshift32x4, copyBytes } from './content';
export { checkPages, packPages, unpackPages } from './pack';
export { hash64, hashPages } from './hash';
export { firstDifference } from './compare';
export { scanAndClearTwoLevel, countUnchanged } from './tracking';
export { xbzrleEncode, xbzrleDecode } from './xbzrle';
