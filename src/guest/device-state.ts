/**
 * The device state that crosses in stop-and-copy: vCPU registers and emulated devices. Its size
 * follows QEMU's order of magnitude (a few KiB per vCPU plus device models); its bytes are
 * deterministic so a run is reproducible.
 */
import { Xorshift128 } from '../util/prng.js';

const BASE_DEVICE_STATE_BYTES = 64 * 1024;
const PER_VCPU_STATE_BYTES = 8 * 1024;

export function deviceStateBytes(vcpus: number): number {
  return BASE_DEVICE_STATE_BYTES + vcpus * PER_VCPU_STATE_BYTES;
}

export function deviceStateImage(seed: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const words = new Uint32Array(out.buffer);
  const rng = new Xorshift128(seed ^ 0xde71ce);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextU32();
  return out;
}
