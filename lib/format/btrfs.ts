// btrfs superblock (the fixed part lwdisk reads). Sources: btrfs-progs
// kernel-shared/uapi/btrfs_tree.h (struct btrfs_super_block, struct btrfs_dev_item),
// kernel-shared/disk-io.h (BTRFS_SUPER_INFO_OFFSET, btrfs_sb_offset), disk-io.c (btrfs_check_super);
// util-linux libblkid/src/superblocks/btrfs.c (probe_btrfs).
import * as BL from 'buffer-layout';
import CRC32C from 'crc-32/crc32c.js';
import { uuidFromBytes } from './guid.js';
import { assertOffset, assertSpan, cString, u64 } from './layout.js';

export const BTRFS_SUPER_INFO_OFFSET = 0x10000; // 64 KiB
export const BTRFS_SUPER_INFO_SIZE = 4096;
/** Superblock copies: 64 KiB, 64 MiB, 256 GiB (btrfs_sb_offset(i) = 16 KiB << (12 * i), i ≥ 1). */
export const BTRFS_SUPER_MIRROR_OFFSETS = [0x10000, 0x4000000, 0x4000000000] as const;
export const BTRFS_MAGIC = Buffer.from('_BHRfS_M', 'ascii');
export const BTRFS_MAGIC_OFFSET = 0x40;
export const BTRFS_CSUM_TYPE_CRC32C = 0;
export const BTRFS_LABEL_SIZE = 256;
export const BTRFS_CSUM_START = 0x20;

/** struct btrfs_dev_item (98 bytes), the fields lwdisk uses. */
export interface BtrfsDevItem {
  devid: bigint;
  totalBytes: bigint;
  bytesUsed: bigint;
  ioAlign: number;
  ioWidth: number;
  sectorSize: number;
  type: bigint;
  generation: bigint;
  startOffset: bigint;
  devGroup: number;
  seekSpeed: number;
  bandwidth: number;
  uuid: Buffer;
  fsid: Buffer;
}

const DEV_ITEM = BL.struct<BtrfsDevItem>([
  u64('devid'),
  u64('totalBytes'),
  u64('bytesUsed'),
  BL.u32('ioAlign'),
  BL.u32('ioWidth'),
  BL.u32('sectorSize'),
  u64('type'),
  u64('generation'),
  u64('startOffset'),
  BL.u32('devGroup'),
  BL.u8('seekSpeed'),
  BL.u8('bandwidth'),
  BL.blob(16, 'uuid'),
  BL.blob(16, 'fsid'),
]);
assertSpan(DEV_ITEM, 98, 'btrfs_dev_item');

/** struct btrfs_super_block up to and including metadata_uuid (0x24B bytes of 4096). */
export interface RawBtrfsSuper {
  csum: Buffer;
  fsid: Buffer;
  bytenr: bigint;
  flags: bigint;
  magic: Buffer;
  generation: bigint;
  root: bigint;
  chunkRoot: bigint;
  logRoot: bigint;
  logRootTransid: bigint;
  totalBytes: bigint;
  bytesUsed: bigint;
  rootDirObjectid: bigint;
  numDevices: bigint;
  sectorsize: number;
  nodesize: number;
  leafsize: number;
  stripesize: number;
  sysChunkArraySize: number;
  chunkRootGeneration: bigint;
  compatFlags: bigint;
  compatRoFlags: bigint;
  incompatFlags: bigint;
  csumType: number;
  rootLevel: number;
  chunkRootLevel: number;
  logRootLevel: number;
  devItem: BtrfsDevItem;
  label: Buffer;
  cacheGeneration: bigint;
  uuidTreeGeneration: bigint;
  metadataUuid: Buffer;
}

const SUPER = BL.struct<RawBtrfsSuper>([
  BL.blob(32, 'csum'),
  BL.blob(16, 'fsid'),
  u64('bytenr'),
  u64('flags'),
  BL.blob(8, 'magic'),
  u64('generation'),
  u64('root'),
  u64('chunkRoot'),
  u64('logRoot'),
  u64('logRootTransid'),
  u64('totalBytes'),
  u64('bytesUsed'),
  u64('rootDirObjectid'),
  u64('numDevices'),
  BL.u32('sectorsize'),
  BL.u32('nodesize'),
  BL.u32('leafsize'),
  BL.u32('stripesize'),
  BL.u32('sysChunkArraySize'),
  u64('chunkRootGeneration'),
  u64('compatFlags'),
  u64('compatRoFlags'),
  u64('incompatFlags'),
  BL.u16('csumType'),
  BL.u8('rootLevel'),
  BL.u8('chunkRootLevel'),
  BL.u8('logRootLevel'),
  DEV_ITEM.replicate('devItem'),
  BL.blob(BTRFS_LABEL_SIZE, 'label'),
  u64('cacheGeneration'),
  u64('uuidTreeGeneration'),
  BL.blob(16, 'metadataUuid'),
]);
assertSpan(SUPER, 0x24b, 'btrfs_super_block (fixed part)');
assertOffset(SUPER, 'magic', 0x40, 'btrfs_super_block');
assertOffset(SUPER, 'numDevices', 0x88, 'btrfs_super_block');
assertOffset(SUPER, 'csumType', 0xc4, 'btrfs_super_block');
assertOffset(SUPER, 'devItem', 0xc9, 'btrfs_super_block');
assertOffset(SUPER, 'label', 0x12b, 'btrfs_super_block');
assertOffset(SUPER, 'metadataUuid', 0x23b, 'btrfs_super_block');

export const BTRFS_SUPER_FLAG_METADATA_UUID_INCOMPAT = 1n << 10n;

export interface BtrfsInfo {
  label: string;
  uuid: string;
  uuidSub: string;
  devid: bigint;
  numDevices: bigint;
  generation: bigint;
  totalBytes: bigint;
  sectorsize: number;
  nodesize: number;
  csumType: number;
  /** null when the checksum type is not CRC-32C (not verified), else whether it matched. */
  csumOk: boolean | null;
  problems: string[];
  raw: RawBtrfsSuper;
}

export const hasBtrfsMagic = (block: Uint8Array, at = 0): boolean =>
  block.length >= at + BTRFS_MAGIC_OFFSET + 8 && Buffer.from(block.buffer, block.byteOffset + at + BTRFS_MAGIC_OFFSET, 8).equals(BTRFS_MAGIC);

export const btrfsCsum = (block: Uint8Array): number => CRC32C.buf(block.subarray(BTRFS_CSUM_START, BTRFS_SUPER_INFO_SIZE)) >>> 0;

/**
 * Parse one 4096-byte superblock copy. Returns null when the magic is absent. A copy with a bad
 * checksum or insane sizes is returned with `problems` (libblkid rejects such a copy; lwdisk reports
 * it as a damaged btrfs so it is never mistaken for blank space).
 */
export function parseBtrfsSuper(block: Uint8Array): BtrfsInfo | null {
  if (block.length < BTRFS_SUPER_INFO_SIZE || !hasBtrfsMagic(block)) return null;
  const raw = SUPER.decode(block, 0);
  const problems: string[] = [];
  let csumOk: boolean | null = null;
  if (raw.csumType === BTRFS_CSUM_TYPE_CRC32C) {
    csumOk = raw.csum.readUInt32LE(0) === btrfsCsum(block);
    if (!csumOk) problems.push('btrfs superblock checksum mismatch');
  } else if (raw.csumType > 3) {
    problems.push(`btrfs superblock has unknown checksum type ${raw.csumType}`);
  }
  const ss = raw.sectorsize;
  if (ss < 4096 || ss > 65536 || (ss & (ss - 1)) !== 0) problems.push(`btrfs sectorsize ${ss} invalid`);
  if (raw.nodesize < 4096 || raw.nodesize % 4096 !== 0 || raw.nodesize > 65536) problems.push(`btrfs nodesize ${raw.nodesize} invalid`);
  if (raw.numDevices === 0n) problems.push('btrfs num_devices is 0');
  if (raw.sysChunkArraySize > 2048) problems.push(`btrfs sys_chunk_array_size ${raw.sysChunkArraySize} > 2048`);
  const { text: label, terminated } = cString(raw.label, 'utf8');
  if (!terminated) problems.push('btrfs label is not NUL-terminated');
  return {
    label,
    uuid: uuidFromBytes(raw.fsid),
    uuidSub: uuidFromBytes(raw.devItem.uuid),
    devid: raw.devItem.devid,
    numDevices: raw.numDevices,
    generation: raw.generation,
    totalBytes: raw.totalBytes,
    sectorsize: raw.sectorsize,
    nodesize: raw.nodesize,
    csumType: raw.csumType,
    csumOk,
    problems,
    raw,
  };
}

/** Re-encode the fixed part over a copy of the original block (for round-trip tests and fault injection). */
export function serializeBtrfsSuper(raw: RawBtrfsSuper, original: Uint8Array, recomputeCsum = true): Buffer {
  const out = Buffer.from(original.subarray(0, BTRFS_SUPER_INFO_SIZE));
  SUPER.encode(raw, out, 0);
  if (recomputeCsum && raw.csumType === BTRFS_CSUM_TYPE_CRC32C) {
    out.fill(0, 0, 32);
    out.writeUInt32LE(btrfsCsum(out), 0);
  }
  return out;
}

/** Superblock copy offsets that fit in a device (or partition) of `size` bytes. */
export const btrfsMirrorOffsetsWithin = (size: number): number[] => BTRFS_SUPER_MIRROR_OFFSETS.filter((o) => o + BTRFS_SUPER_INFO_SIZE <= size);
