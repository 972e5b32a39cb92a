// Bytes of a device → the scan model. Table-driven content probes (btrfs, swap, then the
// signature table), MBR/GPT decoding with fallback to the backup GPT, roles and problems.
//
// I/O shape (a performance contract, tested): one read for a device's head (LBA 0 through the
// entry array and the first btrfs superblock), one read per partition head; the backup GPT only
// when the primary is unusable or the caller asks (inspect); the tail (md 0.90/1.0) only in deep
// mode and only for areas that look blank. Nothing reads the same bytes twice.
import { type BlockDevice, readClamped } from './device/block-device.js';
import { BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_SIZE, BTRFS_SUPER_MIRROR_OFFSETS, type BtrfsInfo, parseBtrfsSuper } from './format/btrfs.js';
import {
  checkEntries,
  checkGptHeader,
  crc32,
  entryArraySectors,
  type GptEntry,
  hasGptSignature,
  type HeaderCheck,
  parseGptEntries,
} from './format/gpt.js';
import { hasMagic } from './format/magic.js';
import { classifyMbr, type Mbr, mbrTypeText, parseMbr, protectiveRecord } from './format/mbr.js';
import { HEAD_SPAN, isVfat, probeSignatures, type Signature, tailRegion } from './format/signatures.js';
import { parseSwap, type SwapInfo } from './format/swap.js';
import type { DeviceModel, FilesystemModel, PartitionModel, PartitionRole, TableModel } from './model.js';
import { DATA_LABEL, DATA_PARTITION_NAME, LINUX_FS_TYPE, SWAP_LABEL, SWAP_PARTITION_NAME, SWAP_TYPE } from './names.js';

/** Most used partition slots listed per table (the kernel's own limit for most disks). */
export const MAX_LISTED_PARTITIONS = 256;

export interface ProbeContext {
  /** /dev node of partition `n` when the kernel has one (block devices). */
  partitionPath?: (n: number) => string | null;
  /** Where the kernel thinks partition `n` is, in bytes, when it has it. */
  kernelPartition?: (n: number) => { start: number; size: number } | null;
  /** Why the whole device (null) or partition n is in use. */
  inUse?: (n: number | null) => string[];
  /** Also read the tail of blank-looking areas (md 0.90/1.0 superblocks). */
  deep?: boolean;
  /** Read and check the backup GPT even when the primary is good (inspect). */
  readBackup?: boolean;
  /** Extra device facts to copy into the model. */
  facts?: { model?: string | null; serial?: string | null; dev?: string | null; diskseq?: string | null };
}

/** Everything decoded, for `inspect`. */
export interface ProbeDetail {
  sectorSize: number;
  mbr: Mbr | null;
  mbrKind: string;
  primary: (HeaderCheck & { entryCrcOk: boolean | null }) | null;
  backup: (HeaderCheck & { entryCrcOk: boolean | null; lba: bigint }) | null;
  entries: GptEntry[];
  content: ContentProbe;
  partitions: Array<{ number: number; content: ContentProbe | null }>;
}

export interface ContentProbe {
  filesystem: FilesystemModel | null;
  others: string[];
  btrfs: BtrfsInfo | null;
  swap: SwapInfo | null;
  signatures: Signature[];
  problems: string[];
}

export interface ProbeResult {
  model: DeviceModel;
  detail: ProbeDetail;
}

const num = (v: bigint): number => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------------------------------------
// Content (filesystem) probes

function btrfsModel(b: BtrfsInfo): FilesystemModel {
  return {
    type: 'btrfs',
    label: b.label || null,
    uuid: b.uuid,
    usage: 'filesystem',
    uuidSub: b.uuidSub,
    devid: num(b.devid),
    numDevices: num(b.numDevices),
    generation: num(b.generation),
    magicOffset: BTRFS_SUPER_INFO_OFFSET + 0x40,
  };
}

function swapModel(s: SwapInfo): FilesystemModel {
  return { type: 'swap', label: s.label || null, uuid: s.uuid || null, usage: 'other', version: s.version, pageSize: s.pageSize, magicOffset: s.pageSize - 10 };
}

const signatureModel = (s: Signature): FilesystemModel => ({
  type: s.type,
  label: s.label || null,
  uuid: s.uuid || null,
  usage: s.usage,
  ...(s.uuidSub !== undefined ? { uuidSub: s.uuidSub } : {}),
  ...(s.version !== undefined ? { version: s.version } : {}),
  magicOffset: s.offset,
});

/** Probe the first HEAD_SPAN bytes (and optionally the tail) of an area of `size` bytes. */
export function probeContent(head: Buffer, size: number, tail: Buffer = Buffer.alloc(0), tailOffset = 0): ContentProbe {
  const problems: string[] = [];
  const found: FilesystemModel[] = [];
  const sbBlock = head.length >= BTRFS_SUPER_INFO_OFFSET + BTRFS_SUPER_INFO_SIZE ? head.subarray(BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_OFFSET + BTRFS_SUPER_INFO_SIZE) : null;
  const btrfs = sbBlock ? parseBtrfsSuper(sbBlock) : null;
  if (btrfs) {
    found.push(btrfsModel(btrfs));
    problems.push(...btrfs.problems);
  }
  const swap = parseSwap(head, size);
  if (swap) {
    found.push(swapModel(swap));
    problems.push(...swap.problems);
  }
  const signatures = probeSignatures({ head, tail, tailOffset, size });
  found.push(...signatures.map(signatureModel));
  if (found.length > 1) problems.push(`more than one signature: ${found.map((f) => f.type).join(', ')}`);
  return { filesystem: found[0] ?? null, others: found.slice(1).map((f) => f.type), btrfs, swap, signatures, problems };
}

const looksBlank = (c: ContentProbe): boolean => c.filesystem === null;

/**
 * The deep look at an area whose head is blank (before anything writes to it): md 0.90/1.0
 * superblocks at its end, and a btrfs whose primary superblock is gone but whose copy at 64 MiB
 * remains (recoverable with `btrfs rescue super-recover`: never format over it).
 */
async function deepLook(dev: BlockDevice, start: number, avail: number, head: Buffer, content: ContentProbe): Promise<ContentProbe> {
  if (!looksBlank(content) || avail <= HEAD_SPAN) return content;
  const t = tailRegion(avail);
  const tail = await readClamped(dev, start + t.offset, t.length);
  const deep = probeContent(head, avail, tail, t.offset);
  if (!looksBlank(deep)) return deep;
  const copyAt = BTRFS_SUPER_MIRROR_OFFSETS[1];
  if (avail < copyAt + BTRFS_SUPER_INFO_SIZE) return deep;
  const copy = parseBtrfsSuper(await readClamped(dev, start + copyAt, BTRFS_SUPER_INFO_SIZE));
  if (!copy) return deep;
  const filesystem: FilesystemModel = { type: 'btrfs-superblock-copy', label: copy.label || null, uuid: copy.uuid, usage: 'filesystem', magicOffset: copyAt + 0x40 };
  return { ...deep, filesystem, problems: [...deep.problems, `btrfs primary superblock missing; a copy at 64 MiB remains (${copy.uuid}${copy.label ? ` "${copy.label}"` : ''}): recoverable with btrfs rescue super-recover, left alone`] };
}

async function probeArea(dev: BlockDevice, start: number, size: number, deep: boolean): Promise<ContentProbe> {
  const avail = Math.max(0, Math.min(size, dev.size - start));
  const head = await readClamped(dev, start, Math.min(HEAD_SPAN, avail));
  const content = probeContent(head, avail);
  return deep ? deepLook(dev, start, avail, head, content) : content;
}

// ---------------------------------------------------------------------------------------------
// Tables

interface GptRead {
  sectorSize: number;
  primary: (HeaderCheck & { entryCrcOk: boolean | null }) | null;
  backup: (HeaderCheck & { entryCrcOk: boolean | null; lba: bigint }) | null;
  entries: GptEntry[];
  problems: string[];
  usable: { firstUsableLba: bigint; lastUsableLba: bigint } | null;
  diskGuid: string | null;
}

/** Read (from the head if it covers them, else with one more read) and check an entry array. */
async function readEntryArray(dev: BlockDevice, check: HeaderCheck, sectorSize: number, have: { offset: number; bytes: Buffer }): Promise<{ bytes: Buffer; crcOk: boolean } | null> {
  if (check.entryArrayBytes === null) return null;
  const offset = Number(check.header.partitionEntryLba) * sectorSize;
  const len = check.entryArrayBytes;
  let bytes: Buffer;
  if (offset >= have.offset && offset + len <= have.offset + have.bytes.length) bytes = have.bytes.subarray(offset - have.offset, offset - have.offset + len);
  else bytes = await readClamped(dev, offset, len);
  if (bytes.length < len) return { bytes, crcOk: false };
  return { bytes, crcOk: crc32(bytes) === check.header.partitionEntryArrayCrc32 };
}

async function readBackupGpt(dev: BlockDevice, lba: bigint, sectorSize: number, total: bigint): Promise<(HeaderCheck & { entryCrcOk: boolean | null; lba: bigint; entryBytes: Buffer | null }) | null> {
  if (lba < 1n || lba >= total) return null;
  // One read from where the standard backup array starts through the header.
  const first = lba - entryArraySectors(sectorSize) > 0n ? lba - entryArraySectors(sectorSize) : lba;
  const offset = Number(first) * sectorSize;
  const bytes = await readClamped(dev, offset, Number(lba - first + 1n) * sectorSize);
  const block = bytes.subarray(bytes.length - sectorSize);
  if (block.length < sectorSize || !hasGptSignature(block)) {
    const missing = checkGptHeader(Buffer.alloc(sectorSize), lba, sectorSize, total, 'backup');
    missing.problems = [`backup GPT header not found (no "EFI PART" at LBA ${lba})`];
    return { ...missing, entryCrcOk: null, lba, entryBytes: null };
  }
  const check = checkGptHeader(block, lba, sectorSize, total, 'backup');
  const arr = await readEntryArray(dev, check, sectorSize, { offset, bytes });
  if (arr && !arr.crcOk) {
    check.problems.push('backup GPT entry array CRC mismatch');
    check.valid = false;
  }
  return { ...check, entryCrcOk: arr ? arr.crcOk : null, lba, entryBytes: arr?.bytes ?? null };
}

async function readGpt(dev: BlockDevice, head: Buffer, sectorSize: number, pmbrOk: boolean, readBackup: boolean): Promise<GptRead> {
  const total = BigInt(Math.floor(dev.size / sectorSize));
  const lastLba = total - 1n;
  const problems: string[] = [];
  if (!pmbrOk) problems.push('GPT without a protective MBR (the kernel and blkid ignore this table)');
  let primary: GptRead['primary'] = null;
  let primaryEntries: Buffer | null = null;
  const block = head.subarray(sectorSize, sectorSize * 2);
  if (block.length === sectorSize && hasGptSignature(block)) {
    const check = checkGptHeader(block, 1n, sectorSize, total, 'primary');
    const arr = await readEntryArray(dev, check, sectorSize, { offset: 0, bytes: head });
    if (arr && !arr.crcOk) {
      check.problems.push('primary GPT entry array CRC mismatch');
      check.valid = false;
    }
    primary = { ...check, entryCrcOk: arr ? arr.crcOk : null };
    primaryEntries = arr?.bytes ?? null;
  } else {
    problems.push('primary GPT header missing');
  }
  let backup: GptRead['backup'] = null;
  let backupEntries: Buffer | null = null;
  if (!primary?.valid || readBackup) {
    // Where the primary says, else where it must be (the last LBA).
    const alt = primary?.valid ? primary.header.alternateLba : lastLba;
    const b = await readBackupGpt(dev, alt, sectorSize, total);
    if (b) {
      backup = b;
      backupEntries = b.entryBytes;
    }
  }
  if (primary) problems.push(...primary.problems);
  if (backup) problems.push(...backup.problems.filter((p) => !problems.includes(p)));
  if (primary?.valid && primary.header.alternateLba !== lastLba)
    problems.push(`backup GPT header not at the end of the device (alternate LBA ${primary.header.alternateLba}, last LBA ${lastLba})`);
  if (primary?.valid && backup?.valid) {
    const a = primary.header;
    const b = backup.header;
    const differ = (['diskGuid', 'firstUsableLba', 'lastUsableLba', 'numberOfPartitionEntries', 'sizeOfPartitionEntry', 'partitionEntryArrayCrc32'] as const).filter((k) => a[k] !== b[k]);
    if (differ.length) problems.push(`primary and backup GPT differ in ${differ.join(', ')}`);
    if (b.alternateLba !== 1n) problems.push(`backup GPT header's alternate LBA is ${b.alternateLba}, not 1`);
  }
  let use: HeaderCheck | null = null;
  let useBytes: Buffer | null = null;
  if (primary?.valid) {
    use = primary;
    useBytes = primaryEntries;
  } else if (backup?.valid) {
    use = backup;
    useBytes = backupEntries;
    problems.push('primary GPT unusable: partitions read from the backup (the Linux kernel will not use this table)');
  } else {
    problems.push('no valid GPT header: no partitions listed');
  }
  let entries: GptEntry[] = [];
  if (use && useBytes) {
    const parsed = parseGptEntries(useBytes, use.header.numberOfPartitionEntries, use.header.sizeOfPartitionEntry);
    entries = parsed.entries;
    problems.push(...parsed.problems);
    if (entries.length > MAX_LISTED_PARTITIONS) {
      problems.push(`${entries.length} used entries; only the first ${MAX_LISTED_PARTITIONS} are listed`);
      entries = entries.slice(0, MAX_LISTED_PARTITIONS);
    }
  }
  const diskGuid = (use ?? primary ?? backup)?.header.signature.toString('latin1') === 'EFI PART' ? (use ?? primary ?? backup)!.header.diskGuid : null;
  return { sectorSize, primary, backup, entries, problems, usable: use ? use.header : null, diskGuid };
}

/** Image files: 512 unless a GPT header is found at 4096 and not at 512 (block devices: the kernel's). */
function chooseSectorSize(dev: BlockDevice, head: Buffer): { sectorSize: number; problem: string | null } {
  const at512 = hasGptSignature(head.subarray(512, 1024));
  const at4096 = hasGptSignature(head.subarray(4096, 8192));
  if (!dev.sectorSizeKnown) return { sectorSize: !at512 && at4096 ? 4096 : 512, problem: null };
  const other = dev.sectorSize === 512 ? at4096 && !at512 : at512 && !at4096;
  return { sectorSize: dev.sectorSize, problem: other ? `GPT header found for ${dev.sectorSize === 512 ? 4096 : 512}-byte sectors, but the device uses ${dev.sectorSize}` : null };
}

// ---------------------------------------------------------------------------------------------
// Roles

export function partitionRole(name: string | null, content: ContentProbe | null): PartitionRole {
  const fs = content?.filesystem ?? null;
  if (fs?.type === 'btrfs' && fs.label === DATA_LABEL && content!.others.length === 0) return 'data-filesystem';
  if (name === SWAP_PARTITION_NAME) return fs === null || (fs.type === 'swap' && content!.others.length === 0) ? 'magic-swap-partition' : 'foreign';
  if (name === DATA_PARTITION_NAME) return fs === null ? 'magic-data-partition' : 'foreign';
  if (fs?.type === 'swap' && fs.label === SWAP_LABEL && content!.others.length === 0) return 'magic-swap-partition';
  return fs ? 'foreign' : 'empty';
}

function partitionNotes(name: string | null, type: string, content: ContentProbe | null): string[] {
  const notes: string[] = [];
  const fs = content?.filesystem ?? null;
  if (name === SWAP_PARTITION_NAME && type !== SWAP_TYPE) notes.push(`named ${SWAP_PARTITION_NAME} but type is ${type}`);
  if (name === DATA_PARTITION_NAME && type !== LINUX_FS_TYPE) notes.push(`named ${DATA_PARTITION_NAME} but type is ${type}`);
  if ((name === SWAP_PARTITION_NAME || name === DATA_PARTITION_NAME) && fs && partitionRole(name, content) === 'foreign')
    notes.push(`magic partition holds ${[fs.type, ...content!.others].join(', ')}: left alone`);
  return notes;
}

// ---------------------------------------------------------------------------------------------
// The device probe

export async function probeDevice(dev: BlockDevice, ctx: ProbeContext = {}): Promise<ProbeResult> {
  const problems: string[] = [];
  const head = await readClamped(dev, 0, HEAD_SPAN);
  if (dev.size === 0) problems.push('device is empty (0 bytes)');
  else if (dev.size < 1024 * 1024) problems.push(`device is only ${dev.size} bytes`);
  const magic = hasMagic(head);
  const { sectorSize, problem: ssProblem } = chooseSectorSize(dev, head);
  if (ssProblem) problems.push(ssProblem);

  const mbr = head.length >= 512 && !isVfat(head) ? parseMbr(head) : null;
  const mbrKind = mbr ? classifyMbr(mbr) : 'none';
  const gptHere = hasGptSignature(head.subarray(sectorSize, sectorSize * 2));
  let table: TableModel | null = null;
  let detailPrimary: ProbeDetail['primary'] = null;
  let detailBackup: ProbeDetail['backup'] = null;
  let entries: GptEntry[] = [];
  const partitionAreas: Array<{ number: number; start: number; size: number; type: string; name: string | null; uuid: string | null; problems: string[] }> = [];
  const total = BigInt(Math.floor(dev.size / sectorSize));

  if (mbrKind === 'protective' || mbrKind === 'hybrid' || gptHere) {
    const pmbr = mbr ? protectiveRecord(mbr) : undefined;
    const gpt = await readGpt(dev, head, sectorSize, pmbr !== undefined, !!ctx.readBackup);
    if (mbrKind === 'hybrid') gpt.problems.push('hybrid MBR (the MBR lists partitions besides the GPT)');
    if (pmbr && pmbr.startingLba !== 1) gpt.problems.push(`protective MBR starts at LBA ${pmbr.startingLba}, not 1 (the kernel ignores this GPT)`);
    if (pmbr && total > 0n) {
      const expect = total - 1n > 0xffffffffn ? 0xffffffff : Number(total - 1n);
      if (pmbr.sizeInLba !== expect && pmbr.sizeInLba !== 0xffffffff) gpt.problems.push(`protective MBR size ${pmbr.sizeInLba} sectors, expected ${expect}`);
    }
    detailPrimary = gpt.primary;
    detailBackup = gpt.backup;
    entries = gpt.entries;
    const check = gpt.usable ? checkEntries(entries, gpt.usable, total) : { problems: [], byIndex: new Map<number, string[]>() };
    for (const e of entries) {
      partitionAreas.push({
        number: e.index + 1,
        start: num(e.firstLba) * sectorSize,
        size: e.lastLba >= e.firstLba ? num(e.lastLba - e.firstLba + 1n) * sectorSize : 0,
        type: e.typeGuid,
        name: e.name,
        uuid: e.uniqueGuid,
        problems: check.byIndex.get(e.index) ?? [],
      });
    }
    table = { type: 'gpt', id: gpt.diskGuid ?? '', sectorSize, problems: [...gpt.problems, ...check.problems], partitions: [] };
  } else if (mbrKind === 'dos' && mbr) {
    const id = mbr.uniqueMbrSignature.toString(16).padStart(8, '0');
    const tableProblems: string[] = [];
    const ranges: Array<{ n: number; first: number; last: number }> = [];
    mbr.partitions.forEach((r, i) => {
      if (r.osType === 0) return;
      const start = r.startingLba * sectorSize;
      const size = r.sizeInLba * sectorSize;
      const own: string[] = [];
      if (r.sizeInLba === 0) own.push('size is 0');
      else if (start + size > dev.size) own.push(`extends past the end of the device (${start + size} > ${dev.size} bytes)`);
      for (const o of ranges) if (r.sizeInLba > 0 && o.first <= r.startingLba + r.sizeInLba - 1 && r.startingLba <= o.last) {
        own.push(`overlaps partition ${o.n}`);
        tableProblems.push(`partitions ${o.n} and ${i + 1} overlap`);
      }
      if (r.sizeInLba > 0) ranges.push({ n: i + 1, first: r.startingLba, last: r.startingLba + r.sizeInLba - 1 });
      for (const p of own) if (!p.startsWith('overlaps')) tableProblems.push(`partition ${i + 1}: ${p}`);
      partitionAreas.push({ number: i + 1, start, size, type: mbrTypeText(r.osType), name: null, uuid: `${id}-${String(i + 1).padStart(2, '0')}`, problems: own });
    });
    table = { type: 'mbr', id, sectorSize, problems: tableProblems, partitions: [] };
  }

  // Whole-device content: signatures covered by a partition belong to that partition (libblkid's rule).
  let content = probeContent(head, dev.size);
  if (table) {
    const covered = (off: number | undefined): boolean => off !== undefined && partitionAreas.some((p) => off >= p.start && off < p.start + p.size);
    if (content.filesystem && covered(content.filesystem.magicOffset)) content = { ...content, filesystem: null, others: [], problems: [] };
  } else if (ctx.deep) {
    content = await deepLook(dev, 0, dev.size, head, content);
  }
  if (table && content.filesystem) problems.push(`${content.filesystem.type} signature outside the partitions`);
  problems.push(...content.problems);

  // Partitions, all concurrently.
  const partContents = await Promise.all(
    partitionAreas.map((p) => (p.size > 0 && p.start < dev.size ? probeArea(dev, p.start, p.size, !!ctx.deep) : Promise.resolve(null))),
  );
  if (table) {
    table.partitions = partitionAreas.map((p, i): PartitionModel => {
      const c = partContents[i] ?? null;
      const own = [...p.problems, ...(c?.problems ?? []), ...partitionNotes(p.name, p.type, c)];
      const kernel = ctx.kernelPartition?.(p.number) ?? null;
      if (kernel && (kernel.start !== p.start || kernel.size !== p.size)) own.push(`the kernel has partition ${p.number} at ${kernel.start}+${kernel.size} (re-read needed)`);
      const reasons = ctx.inUse?.(p.number) ?? [];
      return {
        number: p.number,
        path: ctx.partitionPath?.(p.number) ?? null,
        start: p.start,
        size: p.size,
        type: p.type,
        name: p.name,
        uuid: p.uuid,
        role: partitionRole(p.name, c),
        filesystem: c?.filesystem ?? null,
        inUse: reasons.length > 0,
        otherSignatures: c?.others ?? [],
        problems: own,
      };
    });
  }

  const inUseReasons = ctx.inUse?.(null) ?? [];
  const fs = content.filesystem;
  const role: DeviceModel['role'] = magic
    ? 'magic-disk'
    : fs?.type === 'btrfs' && fs.label === DATA_LABEL && !table
      ? 'data-filesystem'
      : table
        ? 'partitioned'
        : fs
          ? 'foreign'
          : 'empty';
  const model: DeviceModel = {
    path: dev.path,
    kind: dev.kind,
    size: dev.size,
    sectorSize,
    magic,
    inUse: inUseReasons.length > 0,
    inUseReasons,
    role,
    table,
    filesystem: fs,
    otherSignatures: content.others,
    model: ctx.facts?.model ?? null,
    serial: ctx.facts?.serial ?? null,
    dev: ctx.facts?.dev ?? null,
    diskseq: ctx.facts?.diskseq ?? null,
    problems,
  };
  return {
    model,
    detail: {
      sectorSize,
      mbr,
      mbrKind,
      primary: detailPrimary,
      backup: detailBackup,
      entries,
      content,
      partitions: partitionAreas.map((p, i) => ({ number: p.number, content: partContents[i] ?? null })),
    },
  };
}

