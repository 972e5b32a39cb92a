// Shared helpers of the robustness tests (test/robust, issue 5): the stderr rule, spawning the CLI
// with a time limit, file fingerprints, boot inside a private mount namespace, and loop-device disks:
// magic disks (the magic record written into the image file, as `echo | dd` does), foreign disks made
// by the real tools, and their cleanup (swap off, btrfs forgets them, partition nodes dropped, loop
// detached, image removed).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { LWDISK, type Spawned } from './cli.js';
import { run, sh, sha256, sparseImage } from './system.js';
import { attachClean } from './write.js';

export { lwdiskAsync as cli, pool, type Spawned } from './cli.js';

// ---------------------------------------------------------------------------------------------
// The stderr rule (SPEC "Exit codes"; the boot step's log lines)

const FAILURE_LINE = /^lwdisk: \S.* : \S.*$/;
const BOOT_LINE = /^lwdisk: (step \d|created subvolume)/;
const WARNING_LINE = /^warning: \S/;
const STACK = /^\s+at\s|node:internal|^\w*Error\b|\binternal error\b|Uncaught|TypeError|RangeError|ReferenceError/;

/** stderr lines that break the rule: not `lwdisk: <what> : <why>`, a boot step or warning line, or a stack trace. */
export function badStderrLines(stderr: string, options: { boot?: boolean } = {}): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.length > 0)
    .filter((l) => STACK.test(l) || !(FAILURE_LINE.test(l) || (options.boot && (BOOT_LINE.test(l) || WARNING_LINE.test(l)))));
}

/** A crash: killed by a signal, an undocumented exit code, or a stack trace / internal error. */
export function crashOf(r: Spawned): string | null {
  if (r.timedOut) return `killed after ${r.ms.toFixed(0)} ms (hang)`;
  if (r.signal) return `killed by ${r.signal}`;
  if (![0, 1, 2, 3].includes(r.code)) return `exit ${r.code}`;
  const trace = r.stderr.split('\n').find((l) => STACK.test(l));
  if (trace) return `stack trace or internal error: ${trace}`;
  return null;
}

export function parseJson(text: string): { ok: true; value: any } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `${(e as Error).message}: ${text.slice(0, 200)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Fingerprints: byte identity of (sparse) image files

export interface Fingerprint {
  size: number;
  blocks: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** sha256 of the listed data ranges (the rest of a sparse file is holes: `blocks` proves they stayed holes). */
  dataSha: string;
  /** sha256 of the whole file (full mode only). */
  fullSha: string | null;
}

export function hashRanges(path: string, ranges: ReadonlyArray<readonly [number, number]>): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (const [off, len] of ranges) {
      const b = Buffer.alloc(len);
      const n = readSync(fd, b, 0, len, off);
      h.update(b.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function hashFile(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(4 * 1024 * 1024);
  try {
    for (let pos = 0; ; ) {
      const n = readSync(fd, b, 0, b.length, pos);
      if (n <= 0) break;
      h.update(b.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function fingerprint(path: string, ranges: ReadonlyArray<readonly [number, number]>, full: boolean): Fingerprint {
  const st = statSync(path, { bigint: true });
  return { size: Number(st.size), blocks: Number(st.blocks), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, dataSha: hashRanges(path, ranges), fullSha: full ? hashFile(path) : null };
}

export const sameFingerprint = (a: Fingerprint, b: Fingerprint): boolean =>
  a.size === b.size && a.blocks === b.blocks && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.dataSha === b.dataSha && a.fullSha === b.fullSha;

// ---------------------------------------------------------------------------------------------
// boot in a private mount namespace

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface NsStep {
  name: string;
  /** lwdisk arguments, or a shell command when `shell` is set. */
  args?: string[];
  shell?: string;
  env?: Record<string, string>;
}

export interface NsResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run steps one after the other inside one new private mount namespace (`unshare -m
 * --propagation private`); every mount made there disappears when the last step ends. Each step's
 * stdout, stderr and exit code are kept in `dir`.
 */
function nsScript(dir: string, steps: NsStep[]): string {
  mkdirSync(dir, { recursive: true });
  const lines = ['set +e'];
  for (const s of steps) {
    const env = Object.entries(s.env ?? {}).map(([k, v]) => `${k}=${q(v)}`).join(' ');
    const cmd = s.shell ?? `${env ? `env ${env} ` : ''}${q(process.execPath)} ${q(LWDISK)} ${(s.args ?? []).map(q).join(' ')}`;
    const f = join(dir, s.name);
    lines.push(`( ${cmd} ) >${q(`${f}.out`)} 2>${q(`${f}.err`)} </dev/null; echo $? >${q(`${f}.rc`)}`);
  }
  const script = join(dir, 'steps.sh');
  writeFileSync(script, `${lines.join('\n')}\n`);
  return script;
}

function nsResults(dir: string, steps: NsStep[]): Record<string, NsResult> {
  const out: Record<string, NsResult> = {};
  for (const s of steps) {
    const f = join(dir, s.name);
    const rc = existsSync(`${f}.rc`) ? readFileSync(`${f}.rc`, 'utf8').trim() : '';
    out[s.name] = {
      code: rc === '' ? -1 : Number(rc),
      stdout: existsSync(`${f}.out`) ? readFileSync(`${f}.out`, 'utf8') : '',
      stderr: existsSync(`${f}.err`) ? readFileSync(`${f}.err`, 'utf8') : '',
    };
  }
  return out;
}

const nsEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.LWDISK_DEBUG;
  return env;
};

/**
 * Run steps one after the other inside one new private mount namespace (`unshare -m
 * --propagation private`); every mount made there disappears when the last step ends. Each step's
 * stdout, stderr and exit code are kept in `dir`.
 */
export function inNamespace(dir: string, steps: NsStep[], timeoutMs = 180_000): Record<string, NsResult> {
  const script = nsScript(dir, steps);
  run('unshare', ['-m', '--propagation', 'private', 'sh', script], { timeout: timeoutMs, env: nsEnv() });
  return nsResults(dir, steps);
}

/** The same, asynchronously (to start several namespaces at once). */
export function inNamespaceAsync(dir: string, steps: NsStep[], timeoutMs = 180_000): Promise<Record<string, NsResult>> {
  const script = nsScript(dir, steps);
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', script], { env: nsEnv(), stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(nsResults(dir, steps));
    });
  });
}

/** A root for `boot --root`: etc/, var/, home/ with one file each (to see the overlays work). */
export function makeRoot(dir: string): string {
  for (const d of ['etc', 'var', 'home']) {
    mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, d, 'lower-file'), `${d}\n`);
  }
  return dir;
}

/**
 * Kernel names of active swap devices (global, not per namespace). /proc/swaps shows a swap turned
 * on in another mount namespace, or in one since gone, relative to its devtmpfs ("/loop3p1"), so
 * only the last path component is reliable.
 */
export const activeSwaps = (): string[] =>
  readFileSync('/proc/swaps', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => basename(l.split(/\s+/)[0] ?? ''))
    .filter(Boolean);

/** swapoff every active swap on a partition of these loop devices (swap outlives namespaces). */
export function swapoffOn(loops: string[]): void {
  const names = loops.map((l) => basename(l));
  for (const s of activeSwaps()) if (names.some((n) => s === n || new RegExp(`^${n}p\\d+$`).test(s))) run('swapoff', [`/dev/${s}`]);
}

/** Forget btrfs registrations of these loops' partitions (stale after the images go away). */
export function btrfsForget(loops: string[]): void {
  for (const l of loops) {
    const name = l.replace('/dev/', '');
    const entries = readdirSafe(`/sys/class/block/${name}`).filter((e) => e.startsWith(`${name}p`));
    for (const p of [name, ...entries]) run('btrfs', ['device', 'scan', '--forget', `/dev/${p}`]);
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Loop-device disks

export const MiB = 1024 * 1024;
export const MAGIC_RECORD = Buffer.from('lightwhale-please-format-me\n', 'ascii');

export interface Disk {
  name: string;
  image: string;
  path: string;
  detach(): void;
}

/** Tools the robustness system tests need (checked by systemTestGuard). */
export const ROBUST_TOOLS = ['unshare', 'partx', 'losetup', 'mkfs.btrfs', 'btrfs', 'mount', 'umount', 'swapon', 'swapoff', 'sha256sum', 'truncate', 'mkfs.ext4'];

export function writeAt(image: string, offset: number, data: Uint8Array): void {
  const fd = openSync(image, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * A sparse image of `size` bytes, prepared by `prepare(image)` (default: nothing), attached to a new
 * loop device with partscan (so attach and detach drop partition nodes). `detach` is idempotent and
 * also turns off swap on it, makes btrfs forget it, and deletes the image.
 */
export function makeDisk(dir: string, name: string, size: number, prepare?: (image: string) => void, sectorSize = 512): Disk {
  const image = sparseImage(join(dir, `${name}.img`), size);
  prepare?.(image);
  return diskOnLoop(name, image, attachClean(image, sectorSize), () => rmSync(image, { force: true }));
}

/** A Disk for an image attached to `loop`: detach() turns off swap on it, makes btrfs forget it, detaches, then `after()`. */
export function diskOnLoop(name: string, image: string, loop: { path: string; detach: () => void }, after: () => void = () => undefined): Disk {
  let attached = true;
  return {
    name,
    image,
    path: loop.path,
    detach: () => {
      if (!attached) return;
      attached = false;
      swapoffOn([loop.path]);
      btrfsForget([loop.path]);
      loop.detach();
      after();
    },
  };
}

export const magicDisk = (dir: string, name: string, size = 512 * MiB): Disk => makeDisk(dir, name, size, (img) => writeAt(img, 0, MAGIC_RECORD));

/** An ext4 disk nobody should ever write (the bystander). */
export const ext4Disk = (dir: string, name: string, size = 32 * MiB): Disk => makeDisk(dir, name, size, (img) => sh('mkfs.ext4', ['-q', '-F', '-L', 'bystander', img]));

export const hashDisks = (disks: Disk[]): Record<string, string> => Object.fromEntries(disks.map((d) => [d.name, sha256(d.path)]));

/** Detach every disk, collecting (not throwing) errors until all are done. */
export function detachAll(disks: Disk[]): void {
  const errors: string[] = [];
  for (const d of disks) {
    try {
      d.detach();
    } catch (err) {
      errors.push(`${d.name}: ${String(err)}`);
    }
  }
  if (errors.length) throw new Error(`detach: ${errors.join('; ')}`);
}
