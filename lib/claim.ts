// The writes of mark, unmark, partition and mkswap, in crash-safe order, and the checks around
// them: examine (read-only deep probe), refuse what is unsafe, re-check identity right before
// writing, open O_EXCL (block devices), and hold a per-device lock against other lwdisk runs.
import { type BlockDevice, type WriteRecord } from './device/block-device.js';
import { FileDevice, type PathFacts, statPath } from './device/file.js';
import { RecordingDevice, TracingDevice } from './device/recording.js';
import { probeContextFor, readHostFacts } from './discover.js';
import { LwdiskError } from './errors.js';
import { BTRFS_SUPER_INFO_SIZE, BTRFS_SUPER_MIRROR_OFFSETS } from './format/btrfs.js';
import { entryArraySectors, type GptImage } from './format/gpt.js';
import { MAGIC_LENGTH, MAGIC_RECORD } from './format/magic.js';
import { buildSwapHeader } from './format/swap.js';
import { type LightwhaleLayout } from './layout.js';
import type { DeviceModel } from './model.js';
import { MIB } from './names.js';
import { probeDevice, type ProbeResult } from './probe.js';
import { devText } from './system/sysfs.js';
import { type DeviceLock, lockDevices, releaseAll } from './system/lock.js';

// ---------------------------------------------------------------------------------------------
// Examining a target

export interface Target {
  facts: PathFacts;
  probe: ProbeResult;
  model: DeviceModel;
}

/** Read-only look at a path with the deep probes (tail signatures too). */
export async function examine(path: string): Promise<Target> {
  const dev = await FileDevice.open(path);
  try {
    const probe = await probeDevice(dev, probeContextFor(dev.facts, readHostFacts(), { deep: true }));
    return { facts: dev.facts, probe, model: probe.model };
  } finally {
    await dev.close();
  }
}

/** The lock key of a target: the whole disk's major:minor, or the image file's inode. */
export function lockKey(facts: PathFacts): string {
  if (!facts.sys) return `file-${facts.inode.replace(':', '-')}`;
  return facts.sys.isPartition ? `blk-${facts.sys.diskName}` : `blk-${facts.sys.name}`;
}

export const lockTarget = (facts: PathFacts, waitMs = 0): Promise<DeviceLock[]> => lockDevices([lockKey(facts)], waitMs, facts.path);

/** How long mark/partition/mkswap wait for another lwdisk working on the same device. */
export const COMMAND_LOCK_WAIT_MS = Number(process.env.LWDISK_LOCK_WAIT_MS ?? 10_000);

/**
 * Run a write command's whole decide-and-write under the device lock, so two runs at once never
 * both decide from the same old state: the second waits, then sees what the first did.
 * A dry run writes nothing and takes no lock.
 */
export async function withDeviceLock<T>(path: string, dryRun: boolean, fn: () => Promise<T>): Promise<T> {
  if (dryRun) return fn();
  const locks = await lockTarget(await statPath(path), COMMAND_LOCK_WAIT_MS);
  try {
    return await fn();
  } finally {
    releaseAll(locks);
  }
}

export function refuseInUse(t: Target): void {
  if (t.model.inUse) throw new LwdiskError('ELWD_IN_USE', t.facts.path, `in use: ${t.model.inUseReasons.join('; ')}`);
}

export function refusePartition(t: Target): void {
  if (t.facts.kind === 'partition') {
    const disk = t.facts.sys ? `/dev/${t.facts.sys.diskName}` : 'the whole disk';
    throw new LwdiskError('ELWD_NOT_WHOLE_DISK', t.facts.path, `is a partition; did you mean the whole disk ${disk}?`);
  }
}

/** What is on a device, in a few words ("gpt with 2 partitions; btrfs "x"") for confirmations and refusals. */
export function contentSummary(m: DeviceModel): string {
  const parts: string[] = [];
  if (m.magic) parts.push('magic header');
  if (m.table) parts.push(`${m.table.type} table with ${m.table.partitions.length} partition${m.table.partitions.length === 1 ? '' : 's'}`);
  for (const p of m.table?.partitions ?? []) if (p.filesystem) parts.push(`partition ${p.number}: ${p.filesystem.type}${p.filesystem.label ? ` "${p.filesystem.label}"` : ''}`);
  if (m.filesystem) parts.push(`${m.filesystem.type}${m.filesystem.label ? ` "${m.filesystem.label}"` : ''}`);
  for (const o of m.otherSignatures) parts.push(o);
  return parts.length ? parts.join('; ') : 'nothing recognised (blank)';
}

/** Table or any signature, ignoring the magic header itself. */
export const holdsData = (m: DeviceModel): boolean => m.table !== null || m.filesystem !== null || m.otherSignatures.length > 0;

/**
 * Open for writing right before writing: the path must still be the device that was examined (same
 * kind, size, major:minor, diskseq, inode); block devices are opened O_EXCL (EBUSY → in use).
 * With `dryRun` the device is opened read-only and wrapped in a RecordingDevice.
 */
export async function openForWrite(t: Target, dryRun: boolean): Promise<BlockDevice> {
  const now = await statPath(t.facts.path);
  const same =
    now.kind === t.facts.kind &&
    now.size === t.facts.size &&
    now.inode === t.facts.inode &&
    (now.dev && t.facts.dev ? devText(now.dev) === devText(t.facts.dev) : now.dev === t.facts.dev) &&
    (now.sys?.diskseq ?? null) === (t.facts.sys?.diskseq ?? null);
  if (!same) throw new LwdiskError('ELWD_CHANGED', t.facts.path, 'the device changed since it was examined (different size, device number or disk sequence); nothing written');
  if (dryRun) return new RecordingDevice(await FileDevice.open(t.facts.path));
  if (now.sys?.readOnly) throw new LwdiskError('ELWD_READ_ONLY', t.facts.path, 'the kernel marks this device read-only');
  return new TracingDevice(await FileDevice.open(t.facts.path, { write: true }));
}

/** The writes done (or, in a dry run, recorded) on a device opened by openForWrite. */
export const writesOf = (dev: BlockDevice): WriteRecord[] => (dev instanceof RecordingDevice || dev instanceof TracingDevice ? dev.writes : []);

// ---------------------------------------------------------------------------------------------
// mark / unmark

export async function writeMagic(dev: BlockDevice): Promise<void> {
  await dev.write(0, MAGIC_RECORD, 'magic header (lightwhale-please-format-me\\n)');
}

/** Zero the 27 magic bytes, and byte 27 too when it is the newline `echo` added. */
export async function eraseMagic(dev: BlockDevice): Promise<void> {
  const head = await dev.read(0, MAGIC_RECORD.length);
  const n = head[MAGIC_LENGTH] === 0x0a ? MAGIC_RECORD.length : MAGIC_LENGTH;
  await dev.write(0, Buffer.alloc(n), 'zeros over the magic header');
}

// ---------------------------------------------------------------------------------------------
// partition

export interface Wipe {
  offset: number;
  length: number;
  what: string;
}

/** Sort and merge touching ranges so each area is written once. */
export function mergeWipes(wipes: Wipe[]): Wipe[] {
  const sorted = wipes.filter((w) => w.length > 0).sort((a, b) => a.offset - b.offset);
  const out: Wipe[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w.offset <= last.offset + last.length) {
      const end = Math.max(last.offset + last.length, w.offset + w.length);
      last.length = end - last.offset;
      if (!last.what.includes(w.what)) last.what = `${last.what} + ${w.what}`;
    } else out.push({ ...w });
  }
  return out;
}

/**
 * What the new layout must not inherit (stage (a) of SPEC step 3): the gap between the primary
 * entry array and the first partition (a whole-disk btrfs superblock sits at 64 KiB), the first MiB
 * of each new partition, the btrfs superblock copies (64 MiB, 256 GiB) inside each partition and
 * of the whole disk, and the last MiB of the disk (an old backup GPT, md 1.0 superblocks).
 * LBA 0 and the primary GPT area are left for stages (c) and (d), so the magic survives until the end.
 */
export function layoutWipes(layout: LightwhaleLayout, deviceSize: number): Wipe[] {
  const ss = layout.sectorSize;
  const end = Number(layout.totalSectors) * ss;
  const wipes: Wipe[] = [];
  const gapStart = Number(2n + entryArraySectors(ss)) * ss;
  wipes.push({ offset: gapStart, length: MIB - gapStart, what: 'gap before the first partition' });
  for (const p of [layout.swap, layout.data]) {
    if (!p) continue;
    wipes.push({ offset: p.start, length: Math.min(MIB, p.size), what: `first MiB of partition ${p.number}` });
    for (const o of BTRFS_SUPER_MIRROR_OFFSETS.slice(1)) {
      if (o + BTRFS_SUPER_INFO_SIZE <= p.size) wipes.push({ offset: p.start + o, length: BTRFS_SUPER_INFO_SIZE, what: `btrfs superblock copy at ${o} in partition ${p.number}` });
    }
  }
  for (const o of BTRFS_SUPER_MIRROR_OFFSETS.slice(1)) {
    if (o + BTRFS_SUPER_INFO_SIZE <= end - MIB) wipes.push({ offset: o, length: BTRFS_SUPER_INFO_SIZE, what: `whole-disk btrfs superblock copy at ${o}` });
  }
  const tail = Math.max(MIB, end - MIB);
  wipes.push({ offset: tail, length: Math.min(end, deviceSize) - tail, what: 'last MiB of the disk (old backup GPT)' });
  return mergeWipes(wipes);
}

/**
 * Write a fresh GPT in crash-safe order (SPEC step 3), each stage fsynced by the device:
 * (a) wipes; (b) backup entries, backup header; (c) primary entries, primary header;
 * (d) LBA 0 (protective MBR, boot code zeroed: this erases the magic) last.
 * A cut before (d) leaves the magic (the next boot starts over); after (d), a complete GPT.
 */
export async function writeGpt(dev: BlockDevice, gpt: GptImage, wipes: Wipe[]): Promise<void> {
  const ss = gpt.sectorSize;
  for (const w of wipes) await dev.write(w.offset, Buffer.alloc(w.length), `wipe: ${w.what}`);
  await dev.write(Number(gpt.backupEntriesLba) * ss, gpt.entries, 'backup GPT entry array');
  await dev.write(Number(gpt.backupHeaderLba) * ss, gpt.backupHeader, 'backup GPT header');
  await dev.write(Number(gpt.primaryEntriesLba) * ss, gpt.entries, 'primary GPT entry array');
  await dev.write(ss, gpt.primaryHeader, 'primary GPT header');
  await dev.write(0, gpt.pmbr, 'protective MBR (erases the magic header)');
}

// ---------------------------------------------------------------------------------------------
// mkswap

export interface SwapSpec {
  pageSize: number;
  uuid: string;
  label: string;
}

/**
 * Write a swap v1 header over an area of `size` bytes at `start` of `dev`: first the stale
 * signatures elsewhere in the area (btrfs superblock copies, the last MiB), then the first MiB in
 * one write holding the header page (bootbits zero, header, magic at page size − 10).
 */
export async function writeSwapArea(dev: BlockDevice, start: number, size: number, spec: SwapSpec): Promise<void> {
  const page = buildSwapHeader({ pageSize: spec.pageSize, size, uuid: spec.uuid, label: spec.label });
  const headLength = Math.min(MIB, size);
  const wipes: Wipe[] = [];
  for (const o of BTRFS_SUPER_MIRROR_OFFSETS.slice(1)) if (o + BTRFS_SUPER_INFO_SIZE <= size) wipes.push({ offset: start + o, length: BTRFS_SUPER_INFO_SIZE, what: `btrfs superblock copy at ${o}` });
  if (size > 2 * MIB) wipes.push({ offset: start + size - MIB, length: MIB, what: 'last MiB of the swap area' });
  for (const w of mergeWipes(wipes)) await dev.write(w.offset, Buffer.alloc(w.length), `wipe: ${w.what}`);
  const head = Buffer.alloc(headLength);
  page.copy(head, 0);
  await dev.write(start, head, `swap header (first ${headLength === MIB ? 'MiB' : `${headLength} bytes`}, page size ${spec.pageSize})`);
}
