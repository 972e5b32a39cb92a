// Facts the kernel publishes about block devices in /sys (read-only; no ioctl needed).
// Kernel Documentation/ABI/stable/sysfs-block: size is in 512-byte units whatever the logical
// block size; queue/ exists on whole disks only.
import { readdirSync, readFileSync, realpathSync, existsSync } from 'node:fs';
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

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
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
  /** PARTNAME from uevent when the kernel parsed the table itself (not after BLKPG adds). */
  partName: string | null;
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
export function sysBlockByName(name: string): SysBlock | null {
  let sysPath: string;
  try {
    sysPath = realpathSync(join(SYS_BLOCK, 'class', 'block', name));
  } catch {
    return null;
  }
  const devRaw = readText(join(sysPath, 'dev'));
  const m = devRaw ? /^(\d+):(\d+)$/.exec(devRaw) : null;
  if (!m) return null;
  return sysBlockAt(sysPath, { major: Number(m[1]), minor: Number(m[2]) });
}

function sysBlockAt(sysPath: string, dev: MajorMinor): SysBlock {
  const name = basename(sysPath);
  const partRaw = readText(join(sysPath, 'partition'));
  const isPartition = partRaw !== null;
  // Node's path helpers normalise `..` lexically, so resolve the parent from the real path.
  const diskPath = isPartition ? dirname(sysPath) : sysPath;
  const uevent = readText(join(sysPath, 'uevent')) ?? '';
  const partName = /^PARTNAME=(.*)$/m.exec(uevent)?.[1] ?? null;
  const sectors = Number(readText(join(sysPath, 'size')) ?? '0');
  const startRaw = readText(join(sysPath, 'start'));
  return {
    name,
    dev,
    sysPath,
    isPartition,
    partitionNumber: isPartition ? Number(partRaw) : null,
    start: isPartition && startRaw !== null ? Number(startRaw) * 512 : null,
    size: Number.isSafeInteger(sectors * 512) ? sectors * 512 : 0,
    logicalBlockSize: Number(readText(join(diskPath, 'queue', 'logical_block_size')) ?? '512') || 512,
    diskName: basename(diskPath),
    diskseq: readText(join(diskPath, 'diskseq')),
    readOnly: readText(join(sysPath, 'ro')) === '1',
    removable: readText(join(diskPath, 'removable')) === '1',
    model: readText(join(diskPath, 'device', 'model')),
    serial: readText(join(diskPath, 'device', 'serial')) ?? readText(join(diskPath, 'serial')),
    holders: listDir(join(sysPath, 'holders')),
    partName,
  };
}

/** Partitions the kernel currently has for a disk, by number. */
export function kernelPartitions(diskName: string): SysBlock[] {
  const diskPath = join(SYS_BLOCK, 'class', 'block', diskName);
  const out: SysBlock[] = [];
  for (const entry of listDir(diskPath)) {
    if (!entry.startsWith(diskName)) continue;
    if (!existsSync(join(diskPath, entry, 'partition'))) continue;
    const sb = sysBlockByName(entry);
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
