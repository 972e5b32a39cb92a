// Facts the kernel publishes about block devices in /sys (read-only; no ioctl needed).
// Kernel Documentation/ABI/stable/sysfs-block: size is in 512-byte units whatever the logical
// block size; queue/ exists on whole disks only.
import { closeSync, existsSync, openSync, readdirSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const SYS_BLOCK = process.env.LWDISK_SYSFS_ROOT ?? '/sys';

export interface MajorMinor {
  major: number;
  minor: number;
}

/** glibc's encoding of dev_t. */
export function splitDev(rdev: bigint): MajorMinor {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

export const devText = (d: MajorMinor): string => `${d.major}:${d.minor}`;

const SMALL = Buffer.allocUnsafe(4096);

/** A small sysfs attribute in one read(2) (readFileSync reads again to see the end of the file). */
function readText(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const n = readSync(fd, SMALL, 0, SMALL.length, 0);
    return SMALL.toString('utf8', 0, n).trim();
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

export interface SysBlock {
  /** Kernel name, e.g. sda, sda1, loop0p2, nvme0n1. */
  name: string;
  dev: MajorMinor;
  /** Resolved sysfs directory. */
  sysPath: string;
  isPartition: boolean;
  partitionNumber: number | null;
  /** Start in bytes (partitions only). */
  start: number | null;
  size: number;
  logicalBlockSize: number;
  /** Kernel name of the whole disk this belongs to (itself for a disk). */
  diskName: string;
  diskseq: string | null;
  readOnly: boolean;
  removable: boolean;
  model: string | null;
  serial: string | null;
  holders: string[];
}

/** sysfs facts for a block device by major:minor, or null when the kernel does not know it. */
export function sysBlockByDev(dev: MajorMinor): SysBlock | null {
  const link = join(SYS_BLOCK, 'dev', 'block', devText(dev));
  let sysPath: string;
  try {
    sysPath = realpathSync(link);
  } catch {
    return null;
  }
  return sysBlockAt(sysPath, dev);
}

/** sysfs facts for a block device by kernel name (/sys/class/block/NAME). */
export function sysBlockByName(name: string, full = true): SysBlock | null {
  let sysPath: string;
  try {
    sysPath = realpathSync(join(SYS_BLOCK, 'class', 'block', name));
  } catch {
    return null;
  }
  const devRaw = readText(join(sysPath, 'dev'));
  const m = devRaw ? /^(\d+):(\d+)$/.exec(devRaw) : null;
  if (!m) return null;
  return sysBlockAt(sysPath, { major: Number(m[1]), minor: Number(m[2]) }, full);
}

/** `full` = false skips the whole disk's attributes (sector size, diskseq, model, …) for partitions listed under their disk. */
function sysBlockAt(sysPath: string, dev: MajorMinor, full = true): SysBlock {
  const name = basename(sysPath);
  const partRaw = readText(join(sysPath, 'partition'));
  const isPartition = partRaw !== null;
  // Node's path helpers normalise `..` lexically, so resolve the parent from the real path.
  const diskPath = isPartition ? dirname(sysPath) : sysPath;
  const sectors = Number(readText(join(sysPath, 'size')) ?? '0');
  const startRaw = isPartition ? readText(join(sysPath, 'start')) : null;
  return {
    name,
    dev,
    sysPath,
    isPartition,
    partitionNumber: isPartition ? Number(partRaw) : null,
    start: isPartition && startRaw !== null ? Number(startRaw) * 512 : null,
    size: Number.isSafeInteger(sectors * 512) ? sectors * 512 : 0,
    logicalBlockSize: full ? Number(readText(join(diskPath, 'queue', 'logical_block_size')) ?? '512') || 512 : 0,
    diskName: basename(diskPath),
    diskseq: full ? readText(join(diskPath, 'diskseq')) : null,
    readOnly: readText(join(sysPath, 'ro')) === '1',
    removable: full ? readText(join(diskPath, 'removable')) === '1' : false,
    model: full ? readText(join(diskPath, 'device', 'model')) : null,
    serial: full ? (readText(join(diskPath, 'device', 'serial')) ?? readText(join(diskPath, 'serial'))) : null,
    holders: listDir(join(sysPath, 'holders')),
  };
}

/** Partitions the kernel currently has for a disk, by number. */
export function kernelPartitions(diskName: string): SysBlock[] {
  const diskPath = join(SYS_BLOCK, 'class', 'block', diskName);
  const out: SysBlock[] = [];
  for (const entry of listDir(diskPath)) {
    if (!entry.startsWith(diskName)) continue;
    if (!existsSync(join(diskPath, entry, 'partition'))) continue;
    const sb = sysBlockByName(entry, false);
    if (sb) out.push(sb);
  }
  return out.sort((a, b) => (a.partitionNumber ?? 0) - (b.partitionNumber ?? 0));
}

/** Whole-disk names SPEC `scan` looks at by default: sd*, vd*, xvd*, nvme*n*, mmcblk* (not boot/rpmb). */
export function isDefaultDiskName(name: string): boolean {
  if (/^mmcblk\d+(boot\d+|rpmb)$/.test(name)) return false;
  return /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/.test(name);
}

/** Whole disks found in /sys/class/block that match the default pattern. */
export function defaultDiskNames(): string[] {
  return listDir(join(SYS_BLOCK, 'class', 'block'))
    .filter(isDefaultDiskName)
    .filter((name) => !existsSync(join(SYS_BLOCK, 'class', 'block', name, 'partition')))
    .sort();
}
