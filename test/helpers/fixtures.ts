// Fixture images (fixtures/<name>.img.gz, made by fixtures/make-fixtures.sh) and their expected
// `scan --json` output (fixtures/<name>.json). Images are decompressed as sparse files: the file is
// first truncated to its full size, then only the 64 KiB blocks that hold a nonzero byte are written.
import { spawnSync } from 'node:child_process';
import { createReadStream, openSync, readdirSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { LWDISK, lwdiskAsync, pool } from './cli.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

const BLOCK = 64 * 1024;

/** Names of the stored fixtures (those with both an .img.gz and a .json), sorted. */
export function fixtureNames(): string[] {
  const files = new Set(readdirSync(FIXTURES_DIR));
  return [...files]
    .filter((f) => f.endsWith('.img.gz') && files.has(f.replace(/\.img\.gz$/, '.json')))
    .map((f) => f.replace(/\.img\.gz$/, ''))
    .sort();
}

/** The expected `scan --json` output of a fixture (parsed). */
export const expectedScan = (name: string): any => JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8'));

/** Uncompressed size from the gzip trailer (ISIZE, the size mod 2^32; every fixture is < 4 GiB). */
function gzipSize(gz: string): number {
  const fd = openSync(gz, 'r');
  try {
    const tail = Buffer.alloc(4);
    readSync(fd, tail, 0, 4, statSync(gz).size - 4);
    return tail.readUInt32LE(0);
  } finally {
    closeSync(fd);
  }
}

const ZERO = Buffer.alloc(BLOCK);
const isZero = (b: Buffer): boolean => b.equals(ZERO.subarray(0, b.length));

/** Decompress fixtures/<name>.img.gz to `<dir>/<name>.img` as a sparse file; returns the path. */
export async function unpackFixture(name: string, dir: string): Promise<string> {
  const gz = join(FIXTURES_DIR, `${name}.img.gz`);
  const out = join(dir, `${name}.img`);
  const size = gzipSize(gz);
  const fh = await open(out, 'w');
  try {
    await fh.truncate(size);
    const block = Buffer.alloc(BLOCK);
    let fill = 0; // bytes staged in `block`
    let pos = 0; // file offset of block[0]
    const flush = async (): Promise<void> => {
      const part = block.subarray(0, fill);
      if (!isZero(part)) await fh.write(part, 0, fill, pos);
      pos += fill;
      fill = 0;
    };
    for await (const chunk of createReadStream(gz).pipe(createGunzip({ chunkSize: 1024 * 1024 })) as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(BLOCK - fill, chunk.length - at);
        chunk.copy(block, fill, at, at + n);
        fill += n;
        at += n;
        if (fill === BLOCK) await flush();
      }
    }
    if (fill) await flush();
    if (pos !== size) throw new Error(`${name}: decompressed ${pos} bytes, trailer says ${size}`);
  } finally {
    await fh.close();
  }
  return out;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const cliEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.LWDISK_DEBUG; // stack traces only on request
  return env;
};

/** Run the built CLI with a working directory (fixtures are scanned by bare file name). */
export function lwdiskIn(cwd: string, args: string[], timeout = 30_000): CliResult {
  const r = spawnSync(process.execPath, [LWDISK, ...args], { cwd, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024, env: cliEnv() });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** The same, asynchronously; killed after `timeout` ms (then `code` is 128 and stderr says so). */
export async function lwdiskInAsync(cwd: string, args: string[], timeout = 30_000): Promise<CliResult> {
  const r = await lwdiskAsync(args, { cwd, killMs: timeout });
  return { code: r.timedOut ? 128 : r.code, stdout: r.stdout, stderr: r.stderr + (r.timedOut ? `\n(killed after ${timeout} ms)` : '') };
}

export { pool };

/** Fixtures that are damaged on purpose: `inspect --check` must exit 1 with this problem. */
export const DAMAGED: Record<string, RegExp> = {
  'gpt-bad-primary-crc': /primary GPT header: header CRC mismatch/,
  'gpt-bad-entries-crc': /primary GPT entry array CRC mismatch/,
  'gpt-backup-not-at-end': /backup GPT header not at the end of the device/,
  'gpt-partition-past-end': /partition 2: extends past the end of the device/,
  'gpt-overlap': /partitions 1 and 2 overlap/,
  'gpt-absurd-entry-count': /entry count 268435456 × size 128 out of range/,
  'gpt-header-size-out-of-range': /header size 600 out of range 92\.\.512/,
  'btrfs-bad-csum': /btrfs superblock checksum mismatch/,
  truncated: /entry array LBA 2\.\.33 outside the device/,
};

/** Read `length` bytes at `offset` of a file. */
export function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(length);
    const n = readSync(fd, b, 0, length, offset);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Byte ranges of a fixture image, read by streaming the gzip (no temp file); stops decompressing
 * after the last range. A range past the end of the image comes back short.
 */
export async function fixtureRanges(name: string, ranges: ReadonlyArray<readonly [offset: number, length: number]>): Promise<Buffer[]> {
  const out = ranges.map(([, length]) => Buffer.alloc(length));
  const filled = ranges.map(() => 0);
  const end = Math.max(...ranges.map(([o, l]) => o + l));
  const stream = createReadStream(join(FIXTURES_DIR, `${name}.img.gz`)).pipe(createGunzip({ chunkSize: 1024 * 1024 }));
  let pos = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    ranges.forEach(([offset, length], i) => {
      const from = Math.max(offset, pos);
      const to = Math.min(offset + length, pos + chunk.length);
      if (from < to) {
        chunk.copy(out[i]!, from - offset, from - pos, to - pos);
        filled[i] = Math.max(filled[i]!, to - offset);
      }
    });
    pos += chunk.length;
    if (pos >= end) {
      stream.destroy();
      break;
    }
  }
  return out.map((b, i) => b.subarray(0, filled[i]));
}

/** One byte range of a fixture image. */
export const fixtureRange = async (name: string, offset: number, length: number): Promise<Buffer> => (await fixtureRanges(name, [[offset, length]]))[0]!;

/** Size of a fixture image (from the gzip trailer). */
export const fixtureSize = (name: string): number => gzipSize(join(FIXTURES_DIR, `${name}.img.gz`));
