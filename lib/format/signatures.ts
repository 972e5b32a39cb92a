// Recognition of the other signatures lwdisk must never mistake for blank space. Offsets and
// magics from util-linux libblkid/src/superblocks/{ext,xfs,vfat,iso9660,luks,lvm,linux_raid,
// ntfs,exfat,f2fs,squashfs,bcache,erofs}.c (.magics tables and probe functions).
import { uuidFromBytes } from './guid.js';
import { cString } from './layout.js';

/** How much of a device's head every probe here needs (the btrfs primary superblock ends at 0x11000). */
export const HEAD_SPAN = 0x11000;
/** How much of a device's tail the md 0.90/1.0 probes need. */
export const TAIL_SPAN = 0x20000;

export interface Signature {
  type: string;
  usage: 'filesystem' | 'raid' | 'crypto' | 'other';
  label?: string;
  uuid?: string;
  /** Per-member UUID (blkid UUID_SUB): md v1.x device_uuid. */
  uuidSub?: string;
  version?: string;
  /** Where the magic is, from the start of the device or partition. */
  offset: number;
}

export interface ProbeInput {
  head: Buffer;
  /** Bytes at the end of the device (may be empty when not read), starting at `tailOffset`. */
  tail: Buffer;
  tailOffset: number;
  size: number;
}

type Prober = (input: ProbeInput) => Signature | null;

const at = (b: Buffer, offset: number, text: string): boolean =>
  b.length >= offset + text.length && b.subarray(offset, offset + text.length).equals(Buffer.from(text, 'latin1'));

const trimmed = (b: Buffer): string => cString(b, 'utf8').text.replace(/[ \0]+$/, '');

// ext2/3/4: struct ext2_super_block at 1024; s_magic 0xEF53 at +0x38.
const EXT3_FEATURE_COMPAT_HAS_JOURNAL = 0x4;
const EXT3_FEATURE_INCOMPAT_JOURNAL_DEV = 0x8;
const EXT2_INCOMPAT_SUPPORTED = 0x2 | 0x10; // FILETYPE | META_BG
const EXT3_INCOMPAT_SUPPORTED = EXT2_INCOMPAT_SUPPORTED | 0x4; // | RECOVER
const EXT2_RO_COMPAT_SUPPORTED = 0x1 | 0x2 | 0x4; // SPARSE_SUPER | LARGE_FILE | BTREE_DIR

const probeExt: Prober = ({ head }) => {
  if (head.length < 0x800 || head.readUInt16LE(0x438) !== 0xef53) return null;
  const compat = head.readUInt32LE(0x45c);
  const incompat = head.readUInt32LE(0x460);
  const roCompat = head.readUInt32LE(0x464);
  let type = 'ext2';
  if (incompat & EXT3_FEATURE_INCOMPAT_JOURNAL_DEV) type = 'jbd';
  else if ((incompat & ~EXT3_INCOMPAT_SUPPORTED) !== 0 || (roCompat & ~EXT2_RO_COMPAT_SUPPORTED) !== 0) type = 'ext4';
  else if (compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL) type = 'ext3';
  return { type, usage: 'filesystem', offset: 0x438, label: trimmed(head.subarray(0x478, 0x488)), uuid: uuidFromBytes(head.subarray(0x468, 0x478)) };
};

// XFS: struct xfs_sb (big-endian) at 0: "XFSB", uuid at 0x20, fname[12] at 0x6C.
const probeXfs: Prober = ({ head }) => {
  if (!at(head, 0, 'XFSB') || head.length < 0x80) return null;
  return { type: 'xfs', usage: 'filesystem', offset: 0, label: trimmed(head.subarray(0x6c, 0x78)), uuid: uuidFromBytes(head.subarray(0x20, 0x30)) };
};

// FAT: boot sector with a jump, 55 AA, a power-of-two sector size and a FAT type string.
export function isVfat(head: Buffer): boolean {
  if (head.length < 512 || (head[0] !== 0xeb && head[0] !== 0xe9) || head.readUInt16LE(510) !== 0xaa55) return false;
  const bps = head.readUInt16LE(0x0b);
  if (bps < 512 || bps > 4096 || (bps & (bps - 1)) !== 0) return false;
  return at(head, 0x36, 'FAT12   ') || at(head, 0x36, 'FAT16   ') || at(head, 0x36, 'FAT     ') || at(head, 0x36, 'MSDOS') || at(head, 0x52, 'FAT32   ') || at(head, 0x52, 'MSWIN');
}

const fatSerial = (b: Buffer): string => {
  const v = b.readUInt32LE(0).toString(16).toUpperCase().padStart(8, '0');
  return `${v.slice(0, 4)}-${v.slice(4)}`;
};

const probeVfat: Prober = ({ head }) => {
  if (!isVfat(head)) return null;
  const fat32 = at(head, 0x52, 'FAT32   ') || at(head, 0x52, 'MSWIN');
  const labelAt = fat32 ? 0x47 : 0x2b;
  const serialAt = fat32 ? 0x43 : 0x27;
  const label = trimmed(head.subarray(labelAt, labelAt + 11));
  return { type: 'vfat', usage: 'filesystem', offset: 0x36, label: label === 'NO NAME' ? '' : label, uuid: fatSerial(head.subarray(serialAt, serialAt + 4)) };
};

const probeNtfs: Prober = ({ head }) => (at(head, 3, 'NTFS    ') ? { type: 'ntfs', usage: 'filesystem', offset: 3 } : null);
const probeExfat: Prober = ({ head }) => (at(head, 3, 'EXFAT   ') ? { type: 'exfat', usage: 'filesystem', offset: 3 } : null);

// ISO 9660: volume descriptor at 0x8000, "CD001" at 0x8001, volume id at 0x8028 (32).
const probeIso9660: Prober = ({ head }) => {
  if (!at(head, 0x8001, 'CD001')) return null;
  return { type: 'iso9660', usage: 'filesystem', offset: 0x8001, label: trimmed(head.subarray(0x8028, 0x8048)) };
};

// LUKS1/2: "LUKS\xba\xbe" at 0, version BE u16 at 6, uuid (40 ASCII) at 0xA8, LUKS2 label at 0x18.
const probeLuks: Prober = ({ head }) => {
  if (!at(head, 0, 'LUKS\xba\xbe') || head.length < 0xd0) return null;
  const version = head.readUInt16BE(6);
  return {
    type: 'crypto_LUKS',
    usage: 'crypto',
    offset: 0,
    version: String(version),
    uuid: cString(head.subarray(0xa8, 0xd0), 'latin1').text,
    label: version === 2 ? cString(head.subarray(0x18, 0x48), 'utf8').text : '',
  };
};

// LVM2 PV: label_header "LABELONE" in one of the first four 512-byte sectors, "LVM2 001" at +0x18.
const probeLvm2: Prober = ({ head }) => {
  for (let s = 0; s < 4; s++) {
    const o = s * 512;
    if (at(head, o, 'LABELONE') && at(head, o + 0x18, 'LVM2 001')) {
      const raw = head.subarray(o + 0x20, o + 0x40).toString('latin1');
      const uuid = [raw.slice(0, 6), raw.slice(6, 10), raw.slice(10, 14), raw.slice(14, 18), raw.slice(18, 22), raw.slice(22, 26), raw.slice(26, 32)].join('-');
      return { type: 'LVM2_member', usage: 'raid', offset: o, uuid };
    }
  }
  return null;
};

// Linux md: mdp_superblock_1 (v1.1 at 0, v1.2 at 4 KiB, v1.0 near the end), mdp_super_t v0.90 near the end.
const MD_MAGIC = 0xa92b4efc;
const mdV1At = (b: Buffer, o: number, version: string, base = 0): Signature | null => {
  if (b.length < o + 0x100 || b.readUInt32LE(o) !== MD_MAGIC || b.readUInt32LE(o + 4) !== 1) return null;
  return {
    type: 'linux_raid_member',
    usage: 'raid',
    version,
    offset: base + o,
    uuid: uuidFromBytes(b.subarray(o + 0x10, o + 0x20)),
    uuidSub: uuidFromBytes(b.subarray(o + 0xa8, o + 0xb8)),
    label: cString(b.subarray(o + 0x20, o + 0x40), 'utf8').text,
  };
};

const probeMd: Prober = ({ head, tail, tailOffset, size }) => {
  const v11 = mdV1At(head, 0, '1.1') ?? mdV1At(head, 0x1000, '1.2');
  if (v11) return v11;
  if (!tail.length || size < 0x20000) return null;
  const v10 = (size & ~0xfff) - 0x2000;
  if (v10 >= tailOffset) {
    const r = mdV1At(tail, v10 - tailOffset, '1.0', tailOffset);
    if (r) return r;
  }
  const v090 = Math.floor(size / 0x10000) * 0x10000 - 0x10000;
  if (v090 >= tailOffset && tail.length >= v090 - tailOffset + 4) {
    const o = v090 - tailOffset;
    if (tail.readUInt32LE(o) === MD_MAGIC || tail.readUInt32BE(o) === MD_MAGIC) return { type: 'linux_raid_member', usage: 'raid', version: '0.90', offset: v090 };
  }
  return null;
};

const probeF2fs: Prober = ({ head }) => (head.length >= 0x404 && head.readUInt32LE(0x400) === 0xf2f52010 ? { type: 'f2fs', usage: 'filesystem', offset: 0x400 } : null);
const probeErofs: Prober = ({ head }) => (head.length >= 0x404 && head.readUInt32LE(0x400) === 0xe0f5e1e2 ? { type: 'erofs', usage: 'filesystem', offset: 0x400 } : null);
const probeSquashfs: Prober = ({ head }) => (at(head, 0, 'hsqs') || at(head, 0, 'sqsh') ? { type: 'squashfs', usage: 'filesystem', offset: 0 } : null);
const BCACHE_MAGIC = Buffer.from('c68573f64e1a45ca8265f57f48ba6d81', 'hex');
const probeBcache: Prober = ({ head }) => (head.length >= 0x1028 && head.subarray(0x1018, 0x1028).equals(BCACHE_MAGIC) ? { type: 'bcache', usage: 'other', offset: 0x1018 } : null);

/** The table, in libblkid's spirit: containers (raid, crypto) first, then filesystems. */
export const SIGNATURE_PROBES: ReadonlyArray<{ name: string; probe: Prober }> = [
  { name: 'linux_raid_member', probe: probeMd },
  { name: 'LVM2_member', probe: probeLvm2 },
  { name: 'crypto_LUKS', probe: probeLuks },
  { name: 'bcache', probe: probeBcache },
  { name: 'vfat', probe: probeVfat },
  { name: 'ntfs', probe: probeNtfs },
  { name: 'exfat', probe: probeExfat },
  { name: 'xfs', probe: probeXfs },
  { name: 'ext', probe: probeExt },
  { name: 'f2fs', probe: probeF2fs },
  { name: 'erofs', probe: probeErofs },
  { name: 'squashfs', probe: probeSquashfs },
  { name: 'iso9660', probe: probeIso9660 },
];

/** Every signature of the table found in the input (btrfs and swap are probed by their own modules). */
export function probeSignatures(input: ProbeInput): Signature[] {
  const found: Signature[] = [];
  for (const { probe } of SIGNATURE_PROBES) {
    const s = probe(input);
    if (s) found.push(s);
  }
  return found;
}

/** The tail region the md probes read, for a device of `size` bytes. */
export function tailRegion(size: number): { offset: number; length: number } {
  const offset = Math.max(0, size - TAIL_SPAN);
  return { offset, length: size - offset };
}
