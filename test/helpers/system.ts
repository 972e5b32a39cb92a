// Helpers for system tests: root and tool checks, running commands, loop devices we create
// ourselves (and always detach), scratch directories. Tests may only write to image files and
// loop devices they created.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Tools a system test needs, or null when present. */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
}

/**
 * Why a system test cannot run here (null when it can). Under CI (LWDISK_REQUIRE_SYSTEM=1) the caller
 * must fail instead of skipping: use `systemTestGuard`.
 */
export function systemUnavailable(tools: string[] = []): string | null {
  if (!isRoot()) return 'needs root (loop devices, mounts)';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control';
  const missing = missingTools(['losetup', ...tools]);
  if (missing.length) return `missing tools: ${missing.join(', ')}`;
  return null;
}

/** Options for a tap test: skipped with a visible reason, except under CI where it must run. */
export function systemTestGuard(tools: string[] = []): { skip?: string } {
  const why = systemUnavailable(tools);
  if (!why) return {};
  if (process.env.LWDISK_REQUIRE_SYSTEM === '1') throw new Error(`system test cannot run in CI: ${why}`);
  return { skip: why };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: options.input,
    env: options.env ?? process.env,
    timeout: options.timeout ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr: r.stderr };
}

/** Run and throw on a non-zero exit. */
export function sh(cmd: string, args: string[], options: { input?: string } = {}): string {
  const r = run(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function scratchDir(prefix = 'lwdisk-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Create a sparse image file of `size` bytes. */
export function sparseImage(path: string, size: number): string {
  execFileSync('truncate', ['-s', String(size), path]);
  return path;
}

export interface Loop {
  path: string;
  detach: () => void;
}

/** Attach an image we created to a new loop device. `partscan` adds -P; partitions then come from `partx -u`. */
export function attachLoop(image: string, options: { sectorSize?: number; partscan?: boolean } = {}): Loop {
  const args = ['-f', '--show'];
  if (options.partscan) args.push('-P');
  if (options.sectorSize) args.push('--sector-size', String(options.sectorSize));
  args.push(image);
  const path = sh('losetup', args).trim();
  if (!/^\/dev\/loop\d+$/.test(path)) throw new Error(`unexpected losetup output: ${path}`);
  let attached = true;
  return {
    path,
    detach: () => {
      if (!attached) return;
      attached = false;
      // Partitions added with partx (BLKPG) outlive `losetup -d` on loops attached without -P:
      // drop them so the next user of this loop number starts clean.
      run('partx', ['-d', path]);
      run('losetup', ['-d', path]);
    },
  };
}

/** Tell the kernel about partitions (this machine's kernel has no partition parsers; partx uses BLKPG). */
export function partxUpdate(loop: string): void {
  run('partx', ['-u', loop]);
  run('partx', ['-a', loop]);
}

/** `blkid -p -o export` of a device as a key/value map (empty when nothing is found). */
export function blkidProbe(path: string): Record<string, string> {
  const r = run('blkid', ['-p', '-o', 'export', path]);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** sha256 of a file or device. */
export const sha256 = (path: string): string => sh('sha256sum', [path]).split(' ')[0]!;
