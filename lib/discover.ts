// Which devices exist, their partitions' /dev nodes, and whether they are in use: mounted (by
// major:minor or by source, and any member of a mounted btrfs), active swap, held (holders/).
// Image files count as in use when a loop device is backed by them.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PathFacts } from './device/file.js';
import { LwdiskError } from './errors.js';
import type { ProbeContext } from './probe.js';
import { type MountEntry, readMountinfo, readSwaps } from './system/proc.js';
import { defaultDiskNames, devText, kernelPartitions, type SysBlock, splitDev } from './system/sysfs.js';

export interface HostFacts {
  mounts: MountEntry[];
  /** major:minor → reasons it is busy (mount targets, swap), built once per run. */
  busyByDev: Map<string, string[]>;
  /** Kernel names of devices that are members of a mounted btrfs, with the fsid. */
  btrfsMembers: Map<string, string>;
  /** Real paths of files backing loop devices → loop device name. */
  loopBacking: Map<string, string>;
  /** Real paths of active swap files. */
  swapFiles: Set<string>;
}

const safe = <T>(f: () => T, fallback: T): T => {
  try {
    return f();
  } catch {
    return fallback;
  }
};

function add(map: Map<string, string[]>, key: string, reason: string): void {
  const list = map.get(key) ?? [];
  if (!list.includes(reason)) list.push(reason);
  map.set(key, list);
}

export function readHostFacts(): HostFacts {
  const mounts = readMountinfo();
  const busyByDev = new Map<string, string[]>();
  for (const m of mounts) {
    add(busyByDev, devText(m.dev), `mounted at ${m.target}`);
    if (m.source.startsWith('/dev/')) {
      const st = safe(() => statSync(m.source, { bigint: true }), null);
      if (st?.isBlockDevice()) add(busyByDev, devText(splitDev(st.rdev)), `mounted at ${m.target}`);
    }
  }
  const swapFiles = new Set<string>();
  for (const s of readSwaps()) {
    // A swap turned on in another mount namespace (or in one since gone) is listed relative to its
    // devtmpfs mount ("/sdb1"): look for that name under /dev too.
    const st =
      safe(() => statSync(s.path, { bigint: true }), null) ??
      (s.path.lastIndexOf('/') === 0 ? safe(() => statSync(`/dev${s.path}`, { bigint: true }), null) : null);
    if (st?.isBlockDevice()) add(busyByDev, devText(splitDev(st.rdev)), 'active swap');
    else if (st?.isFile()) swapFiles.add(safe(() => realpathSync(s.path), s.path));
  }
  const btrfsMembers = new Map<string, string>();
  for (const fsid of safe(() => readdirSync('/sys/fs/btrfs'), [] as string[])) {
    for (const name of safe(() => readdirSync(join('/sys/fs/btrfs', fsid, 'devices')), [] as string[])) btrfsMembers.set(name, fsid);
  }
  const loopBacking = new Map<string, string>();
  for (const name of safe(() => readdirSync('/sys/block'), [] as string[])) {
    if (!name.startsWith('loop')) continue;
    const backing = safe(() => readFileSync(join('/sys/block', name, 'loop', 'backing_file'), 'utf8').trim(), '');
    if (backing) loopBacking.set(backing.replace(/ \(deleted\)$/, ''), name);
  }
  return { mounts, busyByDev, btrfsMembers, loopBacking, swapFiles };
}

/** Reasons one kernel block device (disk or partition) is busy, not counting its partitions. */
export function ownBusyReasons(sys: SysBlock, host: HostFacts): string[] {
  const reasons = [...(host.busyByDev.get(devText(sys.dev)) ?? [])];
  const fsid = host.btrfsMembers.get(sys.name);
  if (fsid) reasons.push(`member of mounted btrfs ${fsid}`);
  if (sys.holders.length) reasons.push(`held by ${sys.holders.join(', ')}`);
  return [...new Set(reasons)];
}

/** Reasons an image file is busy: backing a loop device, or an active swap file. */
export function imageBusyReasons(path: string, host: HostFacts): string[] {
  const real = safe(() => realpathSync(path), path);
  const reasons: string[] = [];
  const loop = host.loopBacking.get(real);
  if (loop) reasons.push(`backs /dev/${loop}`);
  if (host.swapFiles.has(real)) reasons.push('active swap file');
  return reasons;
}

/** The probe context for a path: partition nodes, kernel's view of partitions, in-use reasons. */
export function probeContextFor(facts: PathFacts, host: HostFacts, extra: Partial<ProbeContext> = {}): ProbeContext {
  if (!facts.sys) {
    const reasons = imageBusyReasons(facts.path, host);
    return { ...extra, inUse: (n) => (n === null ? reasons : []) };
  }
  const sys = facts.sys;
  const parts = facts.kind === 'disk' ? kernelPartitions(sys.name) : [];
  const byNumber = new Map(parts.map((p) => [p.partitionNumber ?? 0, p]));
  const partReasons = new Map(parts.map((p) => [p.partitionNumber ?? 0, ownBusyReasons(p, host)]));
  const own = ownBusyReasons(sys, host);
  const diskReasons = [...own];
  for (const [n, r] of partReasons) for (const why of r) diskReasons.push(`partition ${n} ${why}`);
  return {
    ...extra,
    partitionPath: (n) => {
      const p = byNumber.get(n);
      return p && existsSync(`/dev/${p.name}`) ? `/dev/${p.name}` : null;
    },
    kernelPartition: (n) => {
      const p = byNumber.get(n);
      return p && p.start !== null ? { start: p.start, size: p.size } : null;
    },
    inUse: (n) => (n === null ? diskReasons : (partReasons.get(n) ?? [])),
    facts: { model: sys.model, serial: sys.serial, dev: devText(sys.dev), diskseq: sys.diskseq },
  };
}

/** Default device paths for `scan`/`boot` without PATHs: whole disks matching SPEC's names. */
export const defaultDevicePaths = (): string[] => defaultDiskNames().map((n) => `/dev/${n}`);

export interface ExpectedPartition {
  number: number;
  start: number;
  size: number;
}

/**
 * Wait (bounded) until the kernel has every expected partition of `diskName` at the expected place
 * and its /dev node exists. Returns the node paths by number; throws ELWD_TIMEOUT naming what is missing.
 */
export async function waitForPartitions(diskName: string, expected: ExpectedPartition[], timeoutMs: number): Promise<Map<number, string>> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = [];
  for (;;) {
    const parts = kernelPartitions(diskName);
    const found = new Map<number, string>();
    missing = [];
    for (const e of expected) {
      const p = parts.find((x) => x.partitionNumber === e.number);
      if (!p) missing.push(`partition ${e.number} unknown to the kernel`);
      else if (p.start !== e.start || p.size !== e.size) missing.push(`partition ${e.number} at ${p.start}+${p.size}, expected ${e.start}+${e.size}`);
      else if (!existsSync(`/dev/${p.name}`)) missing.push(`/dev/${p.name} missing`);
      else found.set(e.number, `/dev/${p.name}`);
    }
    if (!missing.length) return found;
    if (Date.now() >= deadline) throw new LwdiskError('ELWD_TIMEOUT', `/dev/${diskName}`, `partition nodes did not appear within ${timeoutMs} ms: ${missing.join('; ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
