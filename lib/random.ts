// Random bytes for GUIDs and UUIDs: crypto by default; a seeded stream (SHA-256 in counter mode)
// when LWDISK_SEED is set, so golden tests and reproducible images get stable GUIDs
// (like systemd-repart --seed).
import { createRequire } from 'node:module';
import { guidFromRandom } from './format/guid.js';

// node:crypto is loaded only for seeded streams; plain randomness uses the global Web Crypto.
// (Resolved from '/': only a built-in is required, and the bundle's chunks have no file URL.)
const requireLazy = createRequire('/');

export type RandomSource = (n: number) => Buffer;

export const cryptoRandom: RandomSource = (n) => Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(n)));

export function seededRandom(seed: string): RandomSource {
  const { createHash } = requireLazy('node:crypto') as typeof import('node:crypto');
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (n) => {
    while (pool.length < n) pool = Buffer.concat([pool, createHash('sha256').update(`${seed}:${counter++}`).digest()]);
    const out = pool.subarray(0, n);
    pool = pool.subarray(n);
    return Buffer.from(out);
  };
}

export const defaultRandom = (): RandomSource => (process.env.LWDISK_SEED ? seededRandom(process.env.LWDISK_SEED) : cryptoRandom);

export const randomGuid = (random: RandomSource): string => guidFromRandom(random(16));
