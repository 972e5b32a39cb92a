// Legacy and protective MBR (LBA 0). Sources: UEFI 2.x §5.2.1 (legacy MBR) and §5.2.3
// (protective MBR); kernel block/partitions/efi.h (struct legacy_mbr, struct gpt_mbr_record);
// util-linux libfdisk/src/gpt.c (gpt_mknew_pmbr); libblkid partitions/dos.c.
import * as BL from 'buffer-layout';
import { assertOffset, assertSpan } from './layout.js';

/** struct gpt_mbr_record (16 bytes). */
export interface MbrRecord {
  bootIndicator: number;
  startChs: Buffer;
  osType: number;
  endChs: Buffer;
  startingLba: number;
  sizeInLba: number;
}

/** struct legacy_mbr (512 bytes). */
export interface Mbr {
  bootCode: Buffer;
  uniqueMbrSignature: number;
  unknown: number;
  partitions: MbrRecord[];
  signature: number;
}

const RECORD = BL.struct<MbrRecord>([
  BL.u8('bootIndicator'),
  BL.blob(3, 'startChs'),
  BL.u8('osType'),
  BL.blob(3, 'endChs'),
  BL.u32('startingLba'),
  BL.u32('sizeInLba'),
]);
assertSpan(RECORD, 16, 'gpt_mbr_record');

const LEGACY_MBR = BL.struct<Mbr>([
  BL.blob(440, 'bootCode'),
  BL.u32('uniqueMbrSignature'),
  BL.u16('unknown'),
  BL.seq(RECORD, 4, 'partitions'),
  BL.u16('signature'),
]);
assertSpan(LEGACY_MBR, 512, 'legacy_mbr');
assertOffset(LEGACY_MBR, 'partitions', 446, 'legacy_mbr');
assertOffset(LEGACY_MBR, 'signature', 510, 'legacy_mbr');

export const MBR_SIZE = 512;
export const MBR_SIGNATURE = 0xaa55;
export const PMBR_OSTYPE = 0xee;
export const BOOT_CODE_SIZE = 440;

/** Decode LBA 0 (at least 512 bytes); no validation. */
export function parseMbr(sector: Uint8Array): Mbr {
  if (sector.length < MBR_SIZE) throw new RangeError('MBR needs 512 bytes');
  const m = LEGACY_MBR.decode(sector, 0);
  return {
    ...m,
    bootCode: Buffer.from(m.bootCode),
    partitions: m.partitions.map((p) => ({ ...p, startChs: Buffer.from(p.startChs), endChs: Buffer.from(p.endChs) })),
  };
}

/** Encode an MBR into a zeroed sector of `sectorSize` bytes (the rest of LBA 0 on 4Kn stays zero). */
export function serializeMbr(mbr: Mbr, sectorSize = MBR_SIZE): Buffer {
  const out = Buffer.alloc(Math.max(sectorSize, MBR_SIZE));
  LEGACY_MBR.encode(mbr, out, 0);
  return out;
}

export const hasBootSignature = (mbr: Mbr): boolean => mbr.signature === MBR_SIGNATURE;
export const isUsedRecord = (r: MbrRecord): boolean => r.osType !== 0;
export const protectiveRecord = (mbr: Mbr): MbrRecord | undefined => mbr.partitions.find((r) => r.osType === PMBR_OSTYPE);

/** A protective MBR for a disk of `totalSectors` logical sectors (boot code zeroed: erases the magic). */
export function buildProtectiveMbr(totalSectors: bigint): Mbr {
  const size = totalSectors - 1n > 0xffffffffn ? 0xffffffff : Number(totalSectors - 1n);
  const empty: MbrRecord = { bootIndicator: 0, startChs: Buffer.alloc(3), osType: 0, endChs: Buffer.alloc(3), startingLba: 0, sizeInLba: 0 };
  return {
    bootCode: Buffer.alloc(BOOT_CODE_SIZE),
    uniqueMbrSignature: 0,
    unknown: 0,
    partitions: [
      { bootIndicator: 0, startChs: Buffer.from([0x00, 0x02, 0x00]), osType: PMBR_OSTYPE, endChs: Buffer.from([0xff, 0xff, 0xff]), startingLba: 1, sizeInLba: size },
      empty,
      { ...empty },
      { ...empty },
    ],
    signature: MBR_SIGNATURE,
  };
}

/** "0x83", "0xc": libblkid's PART_ENTRY_TYPE for dos partitions ("0x%x", udev ID_PART_ENTRY_TYPE). */
export const mbrTypeText = (osType: number): string => `0x${osType.toString(16)}`;

export type MbrKind = 'none' | 'protective' | 'hybrid' | 'dos';

/**
 * What LBA 0 holds. `protective`: an 0xEE record (alone); `hybrid`: 0xEE plus other records;
 * `dos`: a classic table, possibly empty (libblkid dos.c: boot indicators 0x00/0x80 only).
 * Boot sectors of FAT/NTFS/exFAT also end in 55 AA; the caller rules those out first.
 */
export function classifyMbr(mbr: Mbr): MbrKind {
  if (!hasBootSignature(mbr)) return 'none';
  const used = mbr.partitions.filter(isUsedRecord);
  if (used.some((r) => r.osType === PMBR_OSTYPE)) return used.length === 1 ? 'protective' : 'hybrid';
  if (mbr.partitions.some((r) => r.bootIndicator !== 0 && r.bootIndicator !== 0x80)) return 'none';
  return 'dos';
}
