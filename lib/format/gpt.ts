// GUID Partition Table: headers, entry arrays, CRCs, validation and the writer's layout.
// Sources: UEFI 2.x §5.3.2 (GPT Header, EFI_PARTITION_TABLE_HEADER), §5.3.3 (GPT Partition Entry,
// EFI_PARTITION_ENTRY); kernel block/partitions/efi.h (gpt_header, gpt_entry) and efi.c
// (is_gpt_valid); util-linux libblkid/src/partitions/gpt.c; gptfdisk gpt.cc (GPTData::Verify).
import * as BL from 'buffer-layout';
import CRC32 from 'crc-32';
import { guidFromBytes, guidToBytes, NIL_GUID } from './guid.js';
import { assertOffset, assertSpan, u64 } from './layout.js';
import { buildProtectiveMbr, serializeMbr } from './mbr.js';

export const GPT_SIGNATURE = Buffer.from('EFI PART', 'ascii');
export const GPT_REVISION = 0x00010000;
export const GPT_HEADER_SIZE = 92;
export const GPT_ENTRY_SIZE = 128;
export const GPT_ENTRY_COUNT = 128;
export const GPT_NAME_UNITS = 36;
/** Largest entry array lwdisk reads (libfdisk's limit); anything bigger is a damaged header. */
export const MAX_ENTRY_ARRAY_BYTES = 4 * 1024 * 1024;
/** Largest entry size accepted (UEFI: 128 × 2^n). */
export const MAX_ENTRY_SIZE = 4096;

/** EFI_PARTITION_TABLE_HEADER as decoded (GUID as text, 64-bit fields as bigint). */
export interface GptHeader {
  signature: Buffer;
  revision: number;
  headerSize: number;
  headerCrc32: number;
  reserved: number;
  myLba: bigint;
  alternateLba: bigint;
  firstUsableLba: bigint;
  lastUsableLba: bigint;
  diskGuid: string;
  partitionEntryLba: bigint;
  numberOfPartitionEntries: number;
  sizeOfPartitionEntry: number;
  partitionEntryArrayCrc32: number;
}

interface RawHeader extends Omit<GptHeader, 'diskGuid'> {
  diskGuid: Buffer;
}

const HEADER = BL.struct<RawHeader>([
  BL.blob(8, 'signature'),
  BL.u32('revision'),
  BL.u32('headerSize'),
  BL.u32('headerCrc32'),
  BL.u32('reserved'),
  u64('myLba'),
  u64('alternateLba'),
  u64('firstUsableLba'),
  u64('lastUsableLba'),
  BL.blob(16, 'diskGuid'),
  u64('partitionEntryLba'),
  BL.u32('numberOfPartitionEntries'),
  BL.u32('sizeOfPartitionEntry'),
  BL.u32('partitionEntryArrayCrc32'),
]);
assertSpan(HEADER, GPT_HEADER_SIZE, 'gpt_header');
assertOffset(HEADER, 'headerCrc32', 16, 'gpt_header');
assertOffset(HEADER, 'diskGuid', 56, 'gpt_header');
assertOffset(HEADER, 'partitionEntryArrayCrc32', 88, 'gpt_header');

/** EFI_PARTITION_ENTRY as decoded. `index` is the slot (partition number = index + 1). */
export interface GptEntry {
  index: number;
  typeGuid: string;
  uniqueGuid: string;
  firstLba: bigint;
  lastLba: bigint;
  attributes: bigint;
  name: string;
}

interface RawEntry {
  typeGuid: Buffer;
  uniqueGuid: Buffer;
  firstLba: bigint;
  lastLba: bigint;
  attributes: bigint;
  name: Buffer;
}

const ENTRY = BL.struct<RawEntry>([
  BL.blob(16, 'typeGuid'),
  BL.blob(16, 'uniqueGuid'),
  u64('firstLba'),
  u64('lastLba'),
  u64('attributes'),
  BL.blob(GPT_NAME_UNITS * 2, 'name'),
]);
assertSpan(ENTRY, GPT_ENTRY_SIZE, 'gpt_entry');
assertOffset(ENTRY, 'firstLba', 32, 'gpt_entry');
assertOffset(ENTRY, 'name', 56, 'gpt_entry');

export const crc32 = (bytes: Uint8Array): number => CRC32.buf(bytes) >>> 0;

// ---------------------------------------------------------------------------------------------
// Header

export function parseGptHeader(block: Uint8Array): GptHeader {
  if (block.length < GPT_HEADER_SIZE) throw new RangeError('GPT header needs 92 bytes');
  const raw = HEADER.decode(block, 0);
  return { ...raw, signature: Buffer.from(raw.signature), diskGuid: guidFromBytes(raw.diskGuid) };
}

export const hasGptSignature = (block: Uint8Array): boolean =>
  block.length >= 8 && Buffer.from(block.buffer, block.byteOffset, 8).equals(GPT_SIGNATURE);

/** CRC32 over `headerSize` bytes of the block with the CRC field treated as zero. */
export function computeHeaderCrc(block: Uint8Array, headerSize: number): number {
  const copy = Buffer.from(block.subarray(0, headerSize));
  copy.writeUInt32LE(0, 16);
  return crc32(copy);
}

/** Serialize a header into a whole zeroed logical block, computing its CRC (over 92 bytes). */
export function serializeGptHeader(h: Omit<GptHeader, 'headerCrc32'> & { headerCrc32?: number }, sectorSize: number): Buffer {
  const out = Buffer.alloc(sectorSize);
  HEADER.encode({ ...h, headerCrc32: 0, diskGuid: guidToBytes(h.diskGuid) }, out, 0);
  const size = h.headerSize >= GPT_HEADER_SIZE && h.headerSize <= sectorSize ? h.headerSize : GPT_HEADER_SIZE;
  out.writeUInt32LE(h.headerCrc32 ?? computeHeaderCrc(out, size), 16);
  return out;
}

export interface HeaderCheck {
  header: GptHeader;
  /** Usable for finding partitions: what the kernel would accept (plus the entry-array CRC check). */
  valid: boolean;
  crcOk: boolean;
  /** Bytes of the entry array (count × size) when the header's sizes are sane, else null. */
  entryArrayBytes: number | null;
  problems: string[];
}

/**
 * Validate a header read from `lba` of a device with `totalSectors` logical sectors. Every size
 * field is bounded here, before anything is allocated from it. The entry array is checked
 * separately (checkEntryArray) because it needs another read.
 */
export function checkGptHeader(block: Uint8Array, lba: bigint, sectorSize: number, totalSectors: bigint, which: string): HeaderCheck {
  const header = parseGptHeader(block);
  const problems: string[] = [];
  const lastLba = totalSectors - 1n;
  let valid = true;
  const bad = (text: string): void => {
    problems.push(`${which} GPT header: ${text}`);
    valid = false;
  };
  if (!header.signature.equals(GPT_SIGNATURE)) {
    bad('bad signature');
    return { header, valid: false, crcOk: false, entryArrayBytes: null, problems };
  }
  if (header.revision !== GPT_REVISION) problems.push(`${which} GPT header: unexpected revision 0x${header.revision.toString(16).padStart(8, '0')}`);
  let crcOk = false;
  if (header.headerSize < GPT_HEADER_SIZE || header.headerSize > sectorSize) {
    bad(`header size ${header.headerSize} out of range ${GPT_HEADER_SIZE}..${sectorSize}`);
  } else {
    crcOk = computeHeaderCrc(block, header.headerSize) === header.headerCrc32;
    if (!crcOk) bad('header CRC mismatch');
  }
  if (header.myLba !== lba) bad(`my LBA ${header.myLba} is not ${lba}`);
  if (header.firstUsableLba > header.lastUsableLba) bad(`first usable LBA ${header.firstUsableLba} > last usable LBA ${header.lastUsableLba}`);
  if (header.lastUsableLba > lastLba) bad(`last usable LBA ${header.lastUsableLba} past the end of the device (last LBA ${lastLba})`);
  if (lba >= header.firstUsableLba && lba <= header.lastUsableLba) bad('header lies inside the usable area');
  let entryArrayBytes: number | null = null;
  const size = header.sizeOfPartitionEntry;
  const count = header.numberOfPartitionEntries;
  if (size < GPT_ENTRY_SIZE || size > MAX_ENTRY_SIZE || (size & (size - 1)) !== 0) {
    bad(`entry size ${size} is not 128 × 2^n (≤ ${MAX_ENTRY_SIZE})`);
  } else if (count === 0 || count * size > MAX_ENTRY_ARRAY_BYTES) {
    bad(`entry count ${count} × size ${size} out of range (1..${MAX_ENTRY_ARRAY_BYTES} bytes)`);
  } else {
    entryArrayBytes = count * size;
    if (size !== GPT_ENTRY_SIZE) problems.push(`${which} GPT header: entry size ${size} (the Linux kernel only accepts 128)`);
    const sectors = BigInt(Math.ceil(entryArrayBytes / sectorSize));
    const start = header.partitionEntryLba;
    const end = start + sectors - 1n;
    if (start < 2n || end > lastLba) {
      bad(`entry array LBA ${start}..${end} outside the device`);
      entryArrayBytes = null;
    } else if (!(end < header.firstUsableLba || start > header.lastUsableLba)) {
      bad(`entry array LBA ${start}..${end} overlaps the usable area`);
      entryArrayBytes = null;
    }
  }
  return { header, valid, crcOk, entryArrayBytes, problems };
}

// ---------------------------------------------------------------------------------------------
// Entries

export interface NameDecode {
  name: string;
  problem: string | null;
}

/** UTF-16LE, 36 code units, NUL-terminated unless all 36 are used. */
export function decodeName(bytes: Uint8Array): NameDecode {
  const units: number[] = [];
  for (let i = 0; i + 1 < bytes.length && units.length < GPT_NAME_UNITS; i += 2) {
    const u = bytes[i]! | (bytes[i + 1]! << 8);
    if (u === 0) break;
    units.push(u);
  }
  const name = String.fromCharCode(...units);
  return { name, problem: name.isWellFormed() ? null : 'name is not valid UTF-16' };
}

/** Encode a name into 72 bytes; throws when it needs more than 36 UTF-16 code units. */
export function encodeName(name: string): Buffer {
  const out = Buffer.alloc(GPT_NAME_UNITS * 2);
  if (name.length > GPT_NAME_UNITS) throw new RangeError(`partition name longer than ${GPT_NAME_UNITS} UTF-16 code units`);
  for (let i = 0; i < name.length; i++) out.writeUInt16LE(name.charCodeAt(i), i * 2);
  return out;
}

function isZeroRange(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

export const isUnusedEntry = (e: { typeGuid: string }): boolean => e.typeGuid === NIL_GUID;

export interface ParsedEntries {
  /** Used entries (type GUID not zero), in slot order. */
  entries: GptEntry[];
  problems: string[];
}

/** Decode `count` entries of `size` bytes (only the first 128 bytes of each are defined). */
export function parseGptEntries(bytes: Uint8Array, count: number, size: number): ParsedEntries {
  const entries: GptEntry[] = [];
  const problems: string[] = [];
  const n = Math.min(count, Math.floor(bytes.length / size));
  for (let i = 0; i < n; i++) {
    const at = i * size;
    // Most slots are unused: test the type GUID and the range for zero before decoding anything.
    if (isZeroRange(bytes, at, at + 16)) {
      if (!isZeroRange(bytes, at + 32, at + 48)) problems.push(`entry ${i + 1} has no type but a nonzero range (ignored)`);
      continue;
    }
    const raw = ENTRY.decode(bytes, at);
    const typeGuid = guidFromBytes(raw.typeGuid);
    const { name, problem } = decodeName(raw.name);
    if (problem) problems.push(`partition ${i + 1}: ${problem}`);
    entries.push({ index: i, typeGuid, uniqueGuid: guidFromBytes(raw.uniqueGuid), firstLba: raw.firstLba, lastLba: raw.lastLba, attributes: raw.attributes, name });
  }
  return { entries, problems };
}

/** Serialize entries into an array of `count` slots of 128 bytes (slots keep their index). */
export function serializeGptEntries(entries: readonly GptEntry[], count = GPT_ENTRY_COUNT): Buffer {
  const out = Buffer.alloc(count * GPT_ENTRY_SIZE);
  for (const e of entries) {
    if (e.index < 0 || e.index >= count) throw new RangeError(`entry index ${e.index} outside 0..${count - 1}`);
    ENTRY.encode(
      {
        typeGuid: guidToBytes(e.typeGuid),
        uniqueGuid: guidToBytes(e.uniqueGuid),
        firstLba: e.firstLba,
        lastLba: e.lastLba,
        attributes: e.attributes,
        name: encodeName(e.name),
      },
      out,
      e.index * GPT_ENTRY_SIZE,
    );
  }
  return out;
}

export interface EntryCheck {
  /** Table-level problem lines ("partition N: ...", "partitions N and M overlap"). */
  problems: string[];
  /** Problems per slot index, for marking single partitions unsafe. */
  byIndex: Map<number, string[]>;
}

/** Problems with the used entries' ranges: inverted, past the end, outside the usable area, overlapping. O(n log n). */
export function checkEntries(entries: readonly GptEntry[], usable: { firstUsableLba: bigint; lastUsableLba: bigint }, totalSectors: bigint): EntryCheck {
  const problems: string[] = [];
  const byIndex = new Map<number, string[]>();
  const note = (e: GptEntry, text: string): void => {
    byIndex.set(e.index, [...(byIndex.get(e.index) ?? []), text]);
  };
  const lastLba = totalSectors - 1n;
  for (const e of entries) {
    let text: string | null = null;
    if (e.firstLba > e.lastLba) text = `start LBA ${e.firstLba} > end LBA ${e.lastLba}`;
    else if (e.lastLba > lastLba) text = `extends past the end of the device (end LBA ${e.lastLba}, last LBA ${lastLba})`;
    else if (e.firstLba < usable.firstUsableLba || e.lastLba > usable.lastUsableLba) text = `outside the usable area ${usable.firstUsableLba}..${usable.lastUsableLba}`;
    if (text) {
      problems.push(`partition ${e.index + 1}: ${text}`);
      note(e, text);
    }
  }
  const sorted = entries.filter((e) => e.firstLba <= e.lastLba).sort((a, b) => (a.firstLba < b.firstLba ? -1 : a.firstLba > b.firstLba ? 1 : a.index - b.index));
  let reach: GptEntry | undefined;
  for (const e of sorted) {
    if (reach && reach.lastLba >= e.firstLba) {
      problems.push(`partitions ${reach.index + 1} and ${e.index + 1} overlap`);
      note(reach, `overlaps partition ${e.index + 1}`);
      note(e, `overlaps partition ${reach.index + 1}`);
    }
    if (!reach || e.lastLba > reach.lastLba) reach = e;
  }
  return { problems, byIndex };
}

// ---------------------------------------------------------------------------------------------
// Writer

export interface NewPartition {
  typeGuid: string;
  uniqueGuid: string;
  firstLba: bigint;
  lastLba: bigint;
  name: string;
  attributes?: bigint;
}

export interface GptImage {
  sectorSize: number;
  totalSectors: bigint;
  /** LBA 0: protective MBR, boot code zeroed. */
  pmbr: Buffer;
  primaryHeader: Buffer;
  backupHeader: Buffer;
  /** The entry array (identical for both copies). */
  entries: Buffer;
  primaryEntriesLba: bigint;
  backupEntriesLba: bigint;
  backupHeaderLba: bigint;
  firstUsableLba: bigint;
  lastUsableLba: bigint;
}

/** Sectors the 128 × 128-byte entry array takes at this sector size (E in UEFI's formulas). */
export const entryArraySectors = (sectorSize: number): bigint => BigInt(Math.ceil((GPT_ENTRY_COUNT * GPT_ENTRY_SIZE) / sectorSize));

/** First and last usable LBA for a fresh table, as sgdisk and parted write them (2+E, N−2−E). */
export function usableRange(sectorSize: number, totalSectors: bigint): { first: bigint; last: bigint } {
  const e = entryArraySectors(sectorSize);
  return { first: 2n + e, last: totalSectors - 2n - e };
}

/** Build every block of a fresh GPT (UEFI §5.3.2 field rules; CRCs per §5.3.2/§5.3.3). */
export function buildGpt(sectorSize: number, totalSectors: bigint, diskGuid: string, partitions: readonly NewPartition[]): GptImage {
  if (sectorSize !== 512 && sectorSize !== 4096) throw new RangeError(`unsupported sector size ${sectorSize}`);
  const e = entryArraySectors(sectorSize);
  const { first, last } = usableRange(sectorSize, totalSectors);
  if (last < first) throw new RangeError('device too small for a GPT');
  const entries: GptEntry[] = partitions.map((p, index) => {
    if (p.firstLba < first || p.lastLba > last || p.firstLba > p.lastLba) throw new RangeError(`partition ${index + 1} outside ${first}..${last}`);
    return { index, typeGuid: p.typeGuid, uniqueGuid: p.uniqueGuid, firstLba: p.firstLba, lastLba: p.lastLba, attributes: p.attributes ?? 0n, name: p.name };
  });
  const check = checkEntries(entries, { firstUsableLba: first, lastUsableLba: last }, totalSectors);
  if (check.problems.length) throw new RangeError(check.problems.join('; '));
  const entryBytes = serializeGptEntries(entries);
  const common = {
    signature: GPT_SIGNATURE,
    revision: GPT_REVISION,
    headerSize: GPT_HEADER_SIZE,
    reserved: 0,
    firstUsableLba: first,
    lastUsableLba: last,
    diskGuid,
    numberOfPartitionEntries: GPT_ENTRY_COUNT,
    sizeOfPartitionEntry: GPT_ENTRY_SIZE,
    partitionEntryArrayCrc32: crc32(entryBytes),
  };
  const lastLba = totalSectors - 1n;
  const backupEntriesLba = lastLba - e;
  return {
    sectorSize,
    totalSectors,
    pmbr: serializeMbr(buildProtectiveMbr(totalSectors), sectorSize),
    primaryHeader: serializeGptHeader({ ...common, myLba: 1n, alternateLba: lastLba, partitionEntryLba: 2n }, sectorSize),
    backupHeader: serializeGptHeader({ ...common, myLba: lastLba, alternateLba: 1n, partitionEntryLba: backupEntriesLba }, sectorSize),
    entries: entryBytes,
    primaryEntriesLba: 2n,
    backupEntriesLba,
    backupHeaderLba: lastLba,
    firstUsableLba: first,
    lastUsableLba: last,
  };
}
