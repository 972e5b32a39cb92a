// Helpers for the write-path system tests (mark, partition, mkswap): loop devices that leave no
// partition nodes behind, the kernel's view of a loop's partitions, the one-line failure rule.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import type { Test } from 'tap';
import { attachLoop, type Loop, run } from './system.js';

/**
 * Attach an image to a new loop device with partscan set (the kernel then drops every partition
 * node at attach and at detach, so a loop number reused by a later test starts clean; partition
 * nodes come only from BLKPG, i.e. `partx`, on a kernel without partition parsers). `detach` also
 * deletes partitions explicitly and is idempotent.
 */
export function attachClean(image: string, sectorSize: number): Loop {
  const loop = attachLoop(image, { sectorSize, partscan: true });
  return {
    path: loop.path,
    detach: () => {
      run('partx', ['-d', loop.path]);
      loop.detach();
    },
  };
}

export const kernelName = (path: string): string => path.replace(/^\/dev\//, '');

export interface KernelPartition {
  name: string;
  number: number;
  /** bytes (sysfs start/size are in 512-byte units whatever the sector size) */
  start: number;
  size: number;
}

/** Partitions the kernel has for a disk, from /sys/class/block/<disk>/<disk>pN. */
export function kernelPartitions(disk: string): KernelPartition[] {
  const name = kernelName(disk);
  const dir = `/sys/class/block/${name}`;
  return readdirSync(dir)
    .filter((e) => new RegExp(`^${name}p?\\d+$`).test(e))
    .map((e) => ({
      name: e,
      number: Number(readFileSync(`${dir}/${e}/partition`, 'utf8').trim()),
      start: Number(readFileSync(`${dir}/${e}/start`, 'utf8').trim()) * 512,
      size: Number(readFileSync(`${dir}/${e}/size`, 'utf8').trim()) * 512,
    }))
    .sort((a, b) => a.number - b.number);
}

/** The first `n` bytes of a file or device. */
export function head(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * sha256 of byte ranges [start, end) of a file or device (default: all of it), in-process: Node's
 * OpenSSL sha256 is several times faster than sha256sum, which matters for 20 GiB sparse images.
 */
export function sha256Of(path: string, ranges?: Array<[number, number]>): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8 * 1024 * 1024);
    for (const [start, end] of ranges ?? [[0, Number.MAX_SAFE_INTEGER]]) {
      for (let at = start; at < end; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        at += n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export const MAGIC_RECORD = Buffer.from('lightwhale-please-format-me\n', 'ascii');

/** Is `path` an active swap device right now? */
export const isActiveSwap = (path: string): boolean =>
  readFileSync('/proc/swaps', 'utf8')
    .split('\n')
    .slice(1)
    .some((l) => l.split(/\s+/)[0] === path);

/** swapoff if active (for finally blocks). */
export function swapoffIfActive(path: string): void {
  if (isActiveSwap(path)) run('swapoff', [path]);
}

/**
 * SPEC "Exit codes": a failure prints exactly one `lwdisk: <what> : <why>` line on stderr and
 * never a stack trace. Other stderr lines (the description shown before asking) are not failures.
 */
export function checkOneFailureLine(t: Test, stderr: string, why?: RegExp, label = ''): void {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  const failures = lines.filter((l) => l.startsWith('lwdisk: '));
  t.equal(failures.length, 1, `${label}one "lwdisk: " line on stderr (got ${JSON.stringify(failures)})`);
  t.match(failures[0] ?? '', /^lwdisk: \S.* : \S.*$/, `${label}shaped "lwdisk: <what> : <why>"`);
  t.notOk(lines.some((l) => /^\s+at\s|Error:|node:internal/.test(l)), `${label}no stack trace`);
  if (why) t.match(failures[0] ?? '', why, `${label}says why`);
}
