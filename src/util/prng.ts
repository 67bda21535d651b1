/**
 * Seeded PRNGs: everything random in a run (content, write streams) derives from the run's seed,
 * so a run is reproducible. xorshift128 (Marsaglia 2003), seeded through splitmix32.
 */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Xorshift128 {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    const mix = splitmix32(seed);
    this.x = mix() | 1;
    this.y = mix();
    this.z = mix();
    this.w = mix();
  }

  /** The generator's state, so another thread can go on from exactly here (see fromState). */
  state(): [number, number, number, number] {
    return [this.x, this.y, this.z, this.w];
  }

  /** A generator that continues from a state() snapshot. */
  static fromState(state: readonly [number, number, number, number]): Xorshift128 {
    const g = new Xorshift128(0);
    [g.x, g.y, g.z, g.w] = state;
    return g;
  }

  /** Next unsigned 32-bit value. */
  nextU32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** Uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n) for n up to 2^32 (multiply-shift; bias below 2^-32 * n). */
  below(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}

/**
 * Derives an independent 32-bit seed for a sub-stream (a vCPU, a page) from the run seed: the
 * first output of splitmix32, written out because it runs once per page write.
 */
export function deriveSeed(seed: number, stream: number): number {
  let z = (((seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0) + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
