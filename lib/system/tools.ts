// The only place lwdisk spawns system tools: partx/blockdev (partition re-read), udevadm,
// mkfs.btrfs, btrfs, mount, umount, swapon. A failure becomes one line naming the tool, its exit
// code and its last stderr line; a missing tool is named too.
import { LwdiskError } from '../errors.js';
import { faultPoint } from '../device/fault.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

const PACKAGE_OF: Record<string, string> = {
  'mkfs.btrfs': 'btrfs-progs',
  btrfs: 'btrfs-progs',
  partx: 'util-linux',
  blockdev: 'util-linux',
  mount: 'util-linux (or busybox)',
  umount: 'util-linux (or busybox)',
  swapon: 'util-linux (or busybox)',
  udevadm: 'udev',
};

/** Tool calls made so far, for logs and tests ({tool, args, code}). */
export const toolLog: Array<{ tool: string; args: string[]; code: number }> = [];

/** Spawn a tool and collect its output; never throws for a non-zero exit (see `runToolOk`). */
export async function runTool(tool: string, args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ToolResult> {
  faultPoint('tool', `${tool} ${args.join(' ')}`);
  // Loaded on first use: read-only commands never pay for child_process.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    // stdin is a pipe only when there is input: a tool that exits before reading it (mount, swapon,
    // btrfs) would otherwise raise EPIPE on our end of the pipe, an unhandled 'error' event.
    const withInput = options.input !== undefined;
    const child = spawn(tool, args, { stdio: [withInput ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') reject(new LwdiskError('ELWD_TOOL', tool, `not found (install ${PACKAGE_OF[tool] ?? tool})`, { cause: err }));
      else reject(new LwdiskError('ELWD_TOOL', tool, `could not start: ${err.code ?? err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const c = code ?? (signal ? 128 : 1);
      toolLog.push({ tool, args, code: c });
      resolve({ code: c, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

// util-linux mount ends every failure with a generic hint; the line before it says what failed.
const lastLine = (text: string): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^dmesg\(1\) may have more information/.test(l))
    .pop() ?? 'no output';

/** Run a tool and throw ELWD_TOOL unless it exits 0. */
export async function runToolOk(tool: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ToolResult> {
  const r = await runTool(tool, args, options);
  if (r.code !== 0) throw new LwdiskError('ELWD_TOOL', tool, `exited ${r.code}: ${lastLine(r.stderr || r.stdout)}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Partition re-read

/**
 * Tell the kernel about a new table: `partx -u` (BLKPG, works even where the kernel has no GPT
 * parser), falling back to `blockdev --rereadpt`; then `udevadm settle` when udev exists.
 * With `dropStale` the kernel's partitions of the disk are deleted first (`partx -d`, errors ignored).
 */
export async function rereadPartitions(disk: string, options: { dropStale?: boolean } = {}): Promise<string> {
  // `partx -u` walks the partitions in order and stops at the first error: a new partition 1 that
  // grows over a stale partition 2 (a --no-swap layout replacing a swap layout) fails with EBUSY and
  // leaves the kernel with no partition 1. A caller that has just written a new table on a disk not
  // in use asks for `dropStale`: forget every partition first (`partx -d`), then add the new ones.
  if (options.dropStale) await runTool('partx', ['-d', disk]).catch(() => undefined);
  const partx = await runTool('partx', ['-u', disk]).catch((e: unknown) => ({ code: -1, stdout: '', stderr: (e as Error).message }));
  let how = 'partx -u';
  if (partx.code !== 0) {
    const bd = await runTool('blockdev', ['--rereadpt', disk]).catch((e: unknown) => ({ code: -1, stdout: '', stderr: (e as Error).message }));
    if (bd.code !== 0) throw new LwdiskError('ELWD_TOOL', 'partx', `could not re-read the partition table of ${disk}: partx: ${lastLine(partx.stderr)}; blockdev: ${lastLine(bd.stderr)}`);
    how = 'blockdev --rereadpt';
  }
  await runTool('udevadm', ['settle', '--timeout=10']).catch(() => undefined);
  return how;
}

// ---------------------------------------------------------------------------------------------
// btrfs

export async function mkfsBtrfs(devices: string[], label: string, dataProfile: string, metadataProfile: string): Promise<void> {
  // -f: the partitions were checked blank by lwdisk itself; stale signatures outside what lwdisk
  // reads must not make a boot fail. -K: no whole-device TRIM (slow on SD cards and USB disks).
  await runToolOk('mkfs.btrfs', ['-f', '-K', '-L', label, '-d', dataProfile, '-m', metadataProfile, ...devices], { timeoutMs: 600_000 });
}

export async function btrfsSubvolumeCreate(path: string): Promise<void> {
  await runToolOk('btrfs', ['subvolume', 'create', path]);
}

/** Subvolume paths (relative to the top level) of a mounted btrfs. */
export async function btrfsSubvolumeList(mountPoint: string): Promise<string[]> {
  const r = await runToolOk('btrfs', ['subvolume', 'list', mountPoint]);
  return r.stdout
    .split('\n')
    .map((l) => /\bpath (.*)$/.exec(l)?.[1])
    .filter((p): p is string => !!p);
}

// ---------------------------------------------------------------------------------------------
// Mounts and swap

export async function mount(source: string, target: string, fstype: string | null, options: string[]): Promise<void> {
  const args: string[] = [];
  if (fstype) args.push('-t', fstype);
  if (options.length) args.push('-o', options.join(','));
  args.push(source, target);
  await runToolOk('mount', args);
}

export async function umount(target: string): Promise<void> {
  await runToolOk('umount', [target]);
}

export async function swapon(device: string): Promise<void> {
  await runToolOk('swapon', [device]);
}
