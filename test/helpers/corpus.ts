// The malformed-image corpus (issue 5; run by test/robust/corpus.test.ts): a deterministic generator
// of damaged images derived from the real fixtures (fixtures/*.img.gz, made by fixtures/make-fixtures.sh
// with the real tools). Nothing here is random at run time: every case is a named edit, and the bit
// flips come from a PRNG with a fixed seed, so the same cases come out on every machine. Images are
// built in memory as sparse 64 KiB block maps (the fixtures hold at most ~1 MiB of non-zero data) and
// written as sparse files.
//
// Cases, by group:
//   pmbr        protective MBR record fields, boot signature, hybrid records, bit flips
//   gpt-header  every field of the primary and backup headers, each with the header CRC stale
//               ("stale") and recomputed ("crc") so the deeper checks are reached; entry count,
//               size and LBA also with the entry-array CRC recomputed ("deep")
//   gpt-entry   ranges past the end, start > end, overlaps, zero type with a range, names without
//               NUL, invalid UTF-16, wrong types for magic names, 128 used entries; both copies
//               edited with all CRCs recomputed ("crc"), and the primary only with stale CRCs
//   btrfs       superblock fields (whole disk and inside a GPT partition) with the CRC-32C
//               recomputed unless the checksum itself is the point
//   swap        version, last_page, nr_badpages, page sizes, v0 / swsuspend magics, labels
//   signature   ext4, xfs, vfat, LUKS, LVM2, md headers damaged
//   truncate    every image cut at each structure boundary (and one byte either side)
//   bitflip     seeded single-bit flips inside the structures lwdisk parses
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 as zlibCrc32, gunzipSync } from 'node:zlib';
import CRC32C from 'crc-32/crc32c.js';
import { FIXTURES_DIR, fixtureSize } from './fixtures.js';

export const CORPUS_SEED = 0x5eed_1a57;
export const BLOCK = 64 * 1024;
const MiB = 1024 * 1024;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const U32_MAX = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG (mulberry32)

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Sparse in-memory images

const ZERO_BLOCK = Buffer.alloc(BLOCK);

export class SparseImage {
  size: number;
  readonly blocks: Map<number, Buffer>;

  constructor(size: number, blocks = new Map<number, Buffer>()) {
    this.size = size;
    this.blocks = blocks;
  }

  static fromBuffer(buf: Buffer): SparseImage {
    const img = new SparseImage(buf.length);
    for (let i = 0; i * BLOCK < buf.length; i++) {
      const part = buf.subarray(i * BLOCK, Math.min(buf.length, (i + 1) * BLOCK));
      if (!part.equals(ZERO_BLOCK.subarray(0, part.length))) {
        const b = Buffer.alloc(BLOCK);
        part.copy(b);
        img.blocks.set(i, b);
      }
    }
    return img;
  }

  clone(): SparseImage {
    return new SparseImage(this.size, new Map([...this.blocks].map(([k, v]) => [k, Buffer.from(v)])));
  }

  read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(Math.max(0, Math.min(length, this.size - offset)));
    for (let done = 0; done < out.length; ) {
      const pos = offset + done;
      const idx = Math.floor(pos / BLOCK);
      const within = pos % BLOCK;
      const n = Math.min(BLOCK - within, out.length - done);
      this.blocks.get(idx)?.copy(out, done, within, within + n);
      done += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.size) throw new RangeError(`corpus edit ${offset}+${data.length} outside ${this.size}`);
    for (let done = 0; done < data.length; ) {
      const pos = offset + done;
      const idx = Math.floor(pos / BLOCK);
      const within = pos % BLOCK;
      const n = Math.min(BLOCK - within, data.length - done);
      let b = this.blocks.get(idx);
      if (!b) {
        b = Buffer.alloc(BLOCK);
        this.blocks.set(idx, b);
      }
      b.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  truncate(size: number): void {
    this.size = size;
    for (const [idx, b] of [...this.blocks]) {
      if (idx * BLOCK >= size) this.blocks.delete(idx);
      else if ((idx + 1) * BLOCK > size) b.fill(0, size - idx * BLOCK);
    }
  }

  u16(o: number): number {
    return this.read(o, 2).readUInt16LE(0);
  }
  u32(o: number): number {
    return this.read(o, 4).readUInt32LE(0);
  }
  u64(o: number): bigint {
    return this.read(o, 8).readBigUInt64LE(0);
  }
  setU8(o: number, v: number): void {
    this.write(o, Buffer.from([v & 0xff]));
  }
  setU16(o: number, v: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    this.write(o, b);
  }
  setU32(o: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.write(o, b);
  }
  setU64(o: number, v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.write(o, b);
  }
  flipBit(o: number, bit: number): void {
    const b = this.read(o, 1);
    b[0]! ^= 1 << bit;
    this.write(o, b);
  }

  /** Byte ranges holding data ([offset, length], clamped to the size). */
  dataRanges(): Array<[number, number]> {
    return [...this.blocks.keys()].sort((a, b) => a - b).map((i) => [i * BLOCK, Math.min(BLOCK, this.size - i * BLOCK)] as [number, number]).filter(([, l]) => l > 0);
  }

  /** Write as a sparse file: truncate to the size, then only the blocks that hold data; fsync. */
  materialize(path: string): void {
    const fd = openSync(path, 'w');
    try {
      ftruncateSync(fd, this.size);
      for (const [off, len] of this.dataRanges()) {
        const b = this.blocks.get(off / BLOCK)!;
        if (!b.subarray(0, len).equals(ZERO_BLOCK.subarray(0, len))) writeSync(fd, b, 0, len, off);
      }
      fsyncSync(fd); // allocation settles now, so st_blocks is stable for the fingerprint
    } finally {
      closeSync(fd);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bases: the real fixtures (and one derived: the btrfs fixture with its checksum made good again)

const baseCache = new Map<string, SparseImage>();

export function loadBase(name: string): SparseImage {
  let img = baseCache.get(name);
  if (!img) {
    if (name === 'btrfs-whole') {
      img = loadBase('btrfs-bad-csum').clone();
      fixBtrfsCsum(img, 0x10000);
    } else {
      img = SparseImage.fromBuffer(gunzipSync(readFileSync(join(FIXTURES_DIR, `${name}.img.gz`))));
    }
    baseCache.set(name, img);
  }
  return img;
}

// ---------------------------------------------------------------------------------------------
// Structure helpers

const crc32 = (b: Uint8Array): number => zlibCrc32(b) >>> 0;

/** Recompute a GPT header's CRC over its header size (92 when out of range), CRC field zeroed. */
function fixHeaderCrc(img: SparseImage, off: number, ss: number): void {
  const hs = img.u32(off + 12);
  const n = hs >= 92 && hs <= ss ? hs : 92;
  img.setU32(off + 16, 0);
  img.setU32(off + 16, crc32(img.read(off, n)));
}

/** Recompute the entry-array CRC a header names (when the array is of sane size and inside the image). */
function fixArrayCrc(img: SparseImage, off: number, ss: number): void {
  const count = img.u32(off + 80);
  const size = img.u32(off + 84);
  const lba = img.u64(off + 72);
  const bytes = count * size;
  if (bytes === 0 || bytes > 4 * MiB) return;
  const start = lba * BigInt(ss);
  if (start + BigInt(bytes) > BigInt(img.size)) return;
  img.setU32(off + 88, crc32(img.read(Number(start), bytes)));
}

function fixBtrfsCsum(img: SparseImage, sbOff: number): void {
  const sb = img.read(sbOff, 4096);
  const c = CRC32C.buf(sb.subarray(0x20, 4096)) >>> 0;
  const b = Buffer.alloc(32);
  b.writeUInt32LE(c, 0);
  img.write(sbOff, b);
}

interface GptGeo {
  ss: number;
  last: number;
  primary: number;
  backup: number;
  primaryArray: number;
  backupArray: number;
}

function gptGeo(img: SparseImage, ss: number): GptGeo {
  const last = Math.floor(img.size / ss) - 1;
  const primary = ss;
  const backup = last * ss;
  return { ss, last, primary, backup, primaryArray: Number(img.u64(primary + 72)) * ss, backupArray: Number(img.u64(backup + 72)) * ss };
}

/** Edit entry `i` in both arrays (or only the primary), then fix the CRCs accordingly. */
function editEntries(img: SparseImage, ss: number, which: 'both' | 'primary-stale', edit: (entryOff: number) => void): void {
  const g = gptGeo(img, ss);
  const arrays = which === 'both' ? [g.primaryArray, g.backupArray] : [g.primaryArray];
  for (const a of arrays) edit(a);
  if (which === 'both') {
    for (const h of [g.primary, g.backup]) {
      fixArrayCrc(img, h, ss);
      fixHeaderCrc(img, h, ss);
    }
  }
}

const utf16 = (s: string): Buffer => {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16LE(s.charCodeAt(i), i * 2);
  return b;
};

const guidBytes = (g: string): Buffer => {
  const h = g.replace(/-/g, '');
  const raw = Buffer.from(h, 'hex');
  return Buffer.concat([Buffer.from(raw.subarray(0, 4)).reverse(), Buffer.from(raw.subarray(4, 6)).reverse(), Buffer.from(raw.subarray(6, 8)).reverse(), raw.subarray(8)]);
};
const SWAP_TYPE = '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f';
const LINUX_FS_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';
const EFI_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';

// ---------------------------------------------------------------------------------------------
// Cases

export interface CorpusCase {
  /** Unique, file-name safe, stable. */
  name: string;
  group: string;
  base: string;
  build(): SparseImage;
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** Every case of the corpus, in a fixed order. Building one loads its base (cached). */
export function corpusCases(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const add = (group: string, base: string, what: string, edit: (img: SparseImage) => void): void => {
    cases.push({
      name: safe(`${String(cases.length + 1).padStart(4, '0')}-${group}-${base}-${what}`),
      group,
      base,
      build: () => {
        const img = loadBase(base).clone();
        edit(img);
        return img;
      },
    });
  };

  // ----- protective MBR (LBA 0, records at 446)
  for (const base of ['gpt-lightwhale-512', 'gpt-lightwhale-4096']) {
    const ss = base.endsWith('4096') ? 4096 : 512;
    const rec = 446;
    add('pmbr', base, 'ostype-00', (i) => i.setU8(rec + 4, 0x00));
    add('pmbr', base, 'ostype-83', (i) => i.setU8(rec + 4, 0x83));
    add('pmbr', base, 'ostype-ef', (i) => i.setU8(rec + 4, 0xef));
    add('pmbr', base, 'start-lba-0', (i) => i.setU32(rec + 8, 0));
    add('pmbr', base, 'start-lba-2', (i) => i.setU32(rec + 8, 2));
    add('pmbr', base, 'start-lba-max', (i) => i.setU32(rec + 8, U32_MAX));
    add('pmbr', base, 'size-0', (i) => i.setU32(rec + 12, 0));
    add('pmbr', base, 'size-1', (i) => i.setU32(rec + 12, 1));
    add('pmbr', base, 'size-n-plus-1', (i) => i.setU32(rec + 12, Math.floor(i.size / ss) + 1));
    add('pmbr', base, 'size-max-minus-1', (i) => i.setU32(rec + 12, U32_MAX - 1));
    add('pmbr', base, 'no-boot-signature', (i) => i.setU16(510, 0));
    add('pmbr', base, 'boot-indicator-80', (i) => i.setU8(rec, 0x80));
    add('pmbr', base, 'boot-indicator-7f', (i) => i.setU8(rec, 0x7f));
    add('pmbr', base, 'hybrid-83-record', (i) => {
      i.write(rec + 16, Buffer.from([0, 0, 0, 0, 0x83, 0, 0, 0]));
      i.setU32(rec + 24, 2048);
      i.setU32(rec + 28, 4096);
    });
    add('pmbr', base, 'two-ee-records', (i) => i.write(rec + 16, i.read(rec, 16)));
    add('pmbr', base, 'ee-in-slot-4-only', (i) => {
      i.write(rec + 48, i.read(rec, 16));
      i.write(rec, Buffer.alloc(16));
    });
    add('pmbr', base, 'all-records-ff', (i) => i.write(rec, Buffer.alloc(64, 0xff)));
    add('pmbr', base, 'magic-over-pmbr', (i) => i.write(0, Buffer.from('lightwhale-please-format-me\n')));
    add('pmbr', base, 'magic-26-bytes', (i) => i.write(0, Buffer.from('lightwhale-please-format-m')));
  }
  // mbr-two: a classic MBR
  {
    const base = 'mbr-two';
    add('mbr', base, 'p2-past-end', (i) => i.setU32(462 + 12, U32_MAX));
    add('mbr', base, 'p2-start-max', (i) => i.setU32(462 + 8, U32_MAX));
    add('mbr', base, 'p2-size-0', (i) => i.setU32(462 + 12, 0));
    add('mbr', base, 'overlap', (i) => i.setU32(462 + 8, i.u32(446 + 8)));
    add('mbr', base, 'bad-boot-indicator', (i) => i.setU8(446, 0x12));
    add('mbr', base, 'extended-05-loop', (i) => {
      i.setU8(462 + 4, 0x05);
      i.write(i.u32(462 + 8) * 512 + 446, i.read(446, 32));
      i.write(i.u32(462 + 8) * 512 + 510, Buffer.from([0x55, 0xaa]));
    });
    add('mbr', base, 'four-records-same', (i) => {
      for (const r of [462, 478, 494]) i.write(r, i.read(446, 16));
    });
    add('mbr', base, 'type-ee-start-0', (i) => {
      i.setU8(446 + 4, 0xee);
      i.setU32(446 + 8, 0);
    });
  }

  // ----- GPT headers: every field of both headers
  interface Field {
    field: string;
    off: number;
    width: 4 | 8 | 16;
    values: Array<[string, (g: GptGeo, img: SparseImage, h: number) => number | bigint | Buffer]>;
    deep?: boolean;
  }
  const fields: Field[] = [
    { field: 'signature', off: 0, width: 8, values: [['zero', () => Buffer.alloc(8)], ['lowercase', () => Buffer.from('efi part')], ['flip0', (_g, i, h) => {
          const b = i.read(h, 8);
          b[0]! ^= 0x01;
          return b;
        }]] },
    { field: 'revision', off: 8, width: 4, values: [['0', () => 0], ['2.0', () => 0x00020000], ['max', () => U32_MAX]] },
    { field: 'header-size', off: 12, width: 4, values: [['0', () => 0], ['91', () => 91], ['93', () => 93], ['ss', (g) => g.ss], ['ss+1', (g) => g.ss + 1], ['max', () => U32_MAX]] },
    { field: 'reserved', off: 20, width: 4, values: [['nonzero', () => 0xdeadbeef]] },
    { field: 'my-lba', off: 24, width: 8, values: [['0', () => 0n], ['2', () => 2n], ['other', (g) => BigInt(g.last)], ['2^63', () => 1n << 63n], ['max', () => U64_MAX]] },
    { field: 'alternate-lba', off: 32, width: 8, values: [['0', () => 0n], ['1', () => 1n], ['last-1', (g) => BigInt(g.last - 1)], ['last+1', (g) => BigInt(g.last + 1)], ['max', () => U64_MAX]] },
    { field: 'first-usable', off: 40, width: 8, values: [['0', () => 0n], ['1', () => 1n], ['last-usable+1', (_g, i, h) => i.u64(h + 48) + 1n], ['max', () => U64_MAX]] },
    { field: 'last-usable', off: 48, width: 8, values: [['0', () => 0n], ['first-1', (_g, i, h) => i.u64(h + 40) - 1n], ['last', (g) => BigInt(g.last)], ['last+1', (g) => BigInt(g.last + 1)], ['max', () => U64_MAX]] },
    { field: 'disk-guid', off: 56, width: 16, values: [['zero', () => Buffer.alloc(16)], ['ff', () => Buffer.alloc(16, 0xff)]] },
    {
      field: 'entry-lba',
      off: 72,
      width: 8,
      deep: true,
      values: [['0', () => 0n], ['1', () => 1n], ['34-usable', (_g, i, h) => i.u64(h + 40)], ['last', (g) => BigInt(g.last)], ['last+1', (g) => BigInt(g.last + 1)], ['max', () => U64_MAX]],
    },
    { field: 'entry-count', off: 80, width: 4, deep: true, values: [['0', () => 0], ['1', () => 1], ['129', () => 129], ['32768', () => 32768], ['2^28', () => 0x10000000], ['max', () => U32_MAX]] },
    { field: 'entry-size', off: 84, width: 4, deep: true, values: [['0', () => 0], ['64', () => 64], ['127', () => 127], ['129', () => 129], ['256', () => 256], ['4096', () => 4096], ['8192', () => 8192], ['max', () => U32_MAX]] },
    { field: 'array-crc', off: 88, width: 4, values: [['flip', (_g, i, h) => (i.u32(h + 88) ^ 1) >>> 0], ['zero', () => 0]] },
  ];
  for (const base of ['gpt-lightwhale-512', 'gpt-lightwhale-4096']) {
    const ss = base.endsWith('4096') ? 4096 : 512;
    for (const which of ['primary', 'backup'] as const) {
      for (const f of fields) {
        for (const [label, value] of f.values) {
          const variants = base.endsWith('4096') ? (['crc'] as const) : f.deep ? (['stale', 'crc', 'deep'] as const) : (['stale', 'crc'] as const);
          for (const variant of variants) {
            add('gpt-header', base, `${which}-${f.field}-${label}-${variant}`, (img) => {
              const g = gptGeo(img, ss);
              const h = which === 'primary' ? g.primary : g.backup;
              const v = value(g, img, h);
              if (typeof v === 'bigint') img.setU64(h + f.off, v);
              else if (typeof v === 'number') img.setU32(h + f.off, v);
              else img.write(h + f.off, v);
              if (variant === 'deep') fixArrayCrc(img, h, ss);
              if (variant !== 'stale') fixHeaderCrc(img, h, ss);
            });
          }
        }
      }
      add('gpt-header', base, `${which}-header-crc-flip`, (img) => {
        const g = gptGeo(img, ss);
        img.flipBit((which === 'primary' ? g.primary : g.backup) + 16, 0);
      });
      add('gpt-header', base, `${which}-header-crc-zero`, (img) => {
        const g = gptGeo(img, ss);
        img.setU32((which === 'primary' ? g.primary : g.backup) + 16, 0);
      });
      add('gpt-header', base, `${which}-header-zeroed`, (img) => {
        const g = gptGeo(img, ss);
        img.write(which === 'primary' ? g.primary : g.backup, Buffer.alloc(ss));
      });
      add('gpt-header', base, `${which}-tail-garbage-crc`, (img) => {
        const g = gptGeo(img, ss);
        const h = which === 'primary' ? g.primary : g.backup;
        img.write(h + 92, Buffer.alloc(ss - 92, 0xa5));
        fixHeaderCrc(img, h, ss);
      });
    }
    add('gpt-header', base, 'both-headers-zeroed', (img) => {
      const g = gptGeo(img, ss);
      img.write(g.primary, Buffer.alloc(ss));
      img.write(g.backup, Buffer.alloc(ss));
    });
    add('gpt-header', base, 'both-entry-count-max-crc', (img) => {
      const g = gptGeo(img, ss);
      for (const h of [g.primary, g.backup]) {
        img.setU32(h + 80, U32_MAX);
        fixHeaderCrc(img, h, ss);
      }
    });
    add('gpt-header', base, 'primary-alternate-points-at-primary-crc', (img) => {
      const g = gptGeo(img, ss);
      img.setU64(g.primary + 32, 1n);
      fixHeaderCrc(img, g.primary, ss);
    });
    add('gpt-header', base, 'primary-invalid-backup-alternate-bad', (img) => {
      const g = gptGeo(img, ss);
      img.flipBit(g.primary + 16, 3);
      img.setU64(g.backup + 32, U64_MAX);
      fixHeaderCrc(img, g.backup, ss);
    });
    add('gpt-header', base, 'headers-swapped', (img) => {
      const g = gptGeo(img, ss);
      const p = img.read(g.primary, ss);
      img.write(g.primary, img.read(g.backup, ss));
      img.write(g.backup, p);
    });
  }

  // ----- GPT entries
  const entryEdits: Array<[string, (img: SparseImage, arr: number, g: { ss: number; last: number; firstUsable: bigint; lastUsable: bigint }) => void]> = [
    ['p2-end-last+1', (i, a, g) => i.setU64(a + 128 + 40, BigInt(g.last + 1))],
    ['p2-end-2^63', (i, a) => i.setU64(a + 128 + 40, 1n << 63n)],
    ['p2-end-max', (i, a) => i.setU64(a + 128 + 40, U64_MAX)],
    ['p2-start-max', (i, a) => i.setU64(a + 128 + 32, U64_MAX)],
    ['p2-start-past-end', (i, a, g) => i.setU64(a + 128 + 32, BigInt(g.last + 10))],
    ['p1-start-gt-end', (i, a) => {
      const s = i.u64(a + 32);
      i.setU64(a + 32, i.u64(a + 40));
      i.setU64(a + 40, s);
    }],
    ['p1-start-0', (i, a) => i.setU64(a + 32, 0n)],
    ['p1-inside-header', (i, a) => {
      i.setU64(a + 32, 1n);
      i.setU64(a + 40, 3n);
    }],
    ['p2-overlaps-p1', (i, a) => i.setU64(a + 128 + 32, i.u64(a + 40) - 1n)],
    ['p2-same-as-p1', (i, a) => {
      i.setU64(a + 128 + 32, i.u64(a + 32));
      i.setU64(a + 128 + 40, i.u64(a + 40));
    }],
    ['p1-contains-p2', (i, a) => i.setU64(a + 40, i.u64(a + 128 + 40))],
    ['p2-outside-usable', (i, a, g) => i.setU64(a + 128 + 40, g.lastUsable + 1n)],
    ['zero-type-nonzero-range', (i, a) => {
      i.setU64(a + 256 + 32, 2048n);
      i.setU64(a + 256 + 40, 4095n);
      i.write(a + 256 + 56, utf16('ghost'));
    }],
    ['p2-zero-type', (i, a) => i.write(a + 128, Buffer.alloc(16))],
    ['p1-type-with-zero-range', (i, a) => {
      i.setU64(a + 32, 0n);
      i.setU64(a + 40, 0n);
    }],
    ['p2-name-unterminated', (i, a) => i.write(a + 128 + 56, utf16('lightwhale-data'.padEnd(36, 'x')))],
    ['p2-name-unterminated-exact', (i, a) => i.write(a + 128 + 56, utf16('lightwhale-datalightwhale-datalight'.padEnd(36, 'z')))],
    ['p2-name-lone-high-surrogate', (i, a) => i.write(a + 128 + 56, Buffer.concat([utf16('lightwhale-dat'), Buffer.from([0x00, 0xd8, 0, 0])]))],
    ['p2-name-lone-low-surrogate', (i, a) => i.write(a + 128 + 56, Buffer.concat([Buffer.from([0x00, 0xdc]), utf16('lightwhale-data')]))],
    ['p2-name-surrogate-at-unit-36', (i, a) => i.write(a + 128 + 56, Buffer.concat([utf16('y'.repeat(35)), Buffer.from([0x3d, 0xd8])]))],
    ['p2-name-all-ffff', (i, a) => i.write(a + 128 + 56, Buffer.alloc(72, 0xff))],
    ['p2-name-control-chars', (i, a) => i.write(a + 128 + 56, utf16('light\nwhale\u0007-data\u001b[2J'))],
    ['p2-name-nul-then-text', (i, a) => i.write(a + 128 + 56, Buffer.concat([Buffer.alloc(2), utf16('lightwhale-data')]))],
    ['p2-magic-name-efi-type', (i, a) => i.write(a + 128, guidBytes(EFI_TYPE))],
    ['p1-data-name-swap-type', (i, a) => {
      i.write(a + 56, Buffer.concat([utf16('lightwhale-data'), Buffer.alloc(42)]));
      i.write(a, guidBytes(SWAP_TYPE));
    }],
    ['p1-swap-name-on-data', (i, a) => {
      i.write(a + 128 + 56, Buffer.concat([utf16('lightwhale-swap'), Buffer.alloc(42)]));
      i.write(a + 128, guidBytes(LINUX_FS_TYPE));
    }],
    ['two-data-named', (i, a) => i.write(a + 56, Buffer.concat([utf16('lightwhale-data'), Buffer.alloc(42)]))],
    ['magic-name-please-format-me', (i, a) => i.write(a + 128 + 56, Buffer.concat([utf16('lightwhale-please-format-me'), Buffer.alloc(18)]))],
    ['attributes-all-set', (i, a) => i.setU64(a + 128 + 48, U64_MAX)],
    ['duplicate-unique-guid', (i, a) => i.write(a + 128 + 16, i.read(a + 16, 16))],
    ['all-128-used-tiny', (i, a, g) => {
      for (let k = 2; k < 128; k++) {
        const e = a + k * 128;
        i.write(e, guidBytes(LINUX_FS_TYPE));
        i.write(e + 16, Buffer.alloc(16, k));
        i.setU64(e + 32, 34n + BigInt(k % 7));
        i.setU64(e + 40, g.lastUsable - BigInt(k));
        i.write(e + 56, utf16(`part-${k}`));
      }
    }],
    ['entry-128-past-end', (i, a, g) => {
      const e = a + 127 * 128;
      i.write(e, guidBytes(LINUX_FS_TYPE));
      i.setU64(e + 32, BigInt(g.last) * 2n);
      i.setU64(e + 40, BigInt(g.last) * 3n);
    }],
    ['entry-garbage', (i, a) => i.write(a + 128, Buffer.alloc(128, 0x5a))],
  ];
  for (const base of ['gpt-lightwhale-512', 'gpt-lightwhale-4096']) {
    const ss = base.endsWith('4096') ? 4096 : 512;
    for (const [what, edit] of entryEdits) {
      const variants = base.endsWith('4096') ? (['both'] as const) : (['both', 'primary-stale'] as const);
      for (const variant of variants) {
        add('gpt-entry', base, `${what}-${variant === 'both' ? 'crc' : 'primary-stale'}`, (img) => {
          const g = gptGeo(img, ss);
          const geo = { ss, last: g.last, firstUsable: img.u64(g.primary + 40), lastUsable: img.u64(g.primary + 48) };
          editEntries(img, ss, variant, (arr) => edit(img, arr, geo));
        });
      }
    }
  }
  // Entries on the raid1 member and the blank-magic-partitions disk (boot would format these).
  for (const base of ['raid1-a', 'blank-magic-partitions']) {
    for (const what of ['p2-end-last+1', 'p2-overlaps-p1', 'p2-name-unterminated', 'zero-type-nonzero-range', 'p2-name-lone-high-surrogate', 'p1-start-gt-end']) {
      const edit = entryEdits.find(([w]) => w === what)![1];
      add('gpt-entry', base, `${what}-crc`, (img) => {
        const g = gptGeo(img, 512);
        editEntries(img, 512, 'both', (arr) => edit(img, arr, { ss: 512, last: g.last, firstUsable: img.u64(g.primary + 40), lastUsable: img.u64(g.primary + 48) }));
      });
    }
  }

  // ----- btrfs superblocks (whole disk; partition 2 of the Lightwhale disk; the raid1 member)
  const btrfsBases: Array<[string, number]> = [
    ['btrfs-whole', 0x10000],
    ['gpt-lightwhale-512', 9437184 + 0x10000],
    ['raid1-a', 9437184 + 0x10000],
  ];
  const btrfsEdits: Array<[string, boolean, (i: SparseImage, sb: number) => void]> = [
    // [what, recompute csum, edit]
    ['csum-flip', false, (i, sb) => i.flipBit(sb, 2)],
    ['csum-zero', false, (i, sb) => i.write(sb, Buffer.alloc(32))],
    ['csum-type-1', true, (i, sb) => i.setU16(sb + 0xc4, 1)],
    ['csum-type-2', true, (i, sb) => i.setU16(sb + 0xc4, 2)],
    ['csum-type-3', true, (i, sb) => i.setU16(sb + 0xc4, 3)],
    ['csum-type-4', true, (i, sb) => i.setU16(sb + 0xc4, 4)],
    ['csum-type-ffff', true, (i, sb) => i.setU16(sb + 0xc4, 0xffff)],
    ['sectorsize-0', true, (i, sb) => i.setU32(sb + 0x90, 0)],
    ['sectorsize-1', true, (i, sb) => i.setU32(sb + 0x90, 1)],
    ['sectorsize-512', true, (i, sb) => i.setU32(sb + 0x90, 512)],
    ['sectorsize-12288', true, (i, sb) => i.setU32(sb + 0x90, 12288)],
    ['sectorsize-131072', true, (i, sb) => i.setU32(sb + 0x90, 131072)],
    ['sectorsize-2^31', true, (i, sb) => i.setU32(sb + 0x90, 0x80000000)],
    ['sectorsize-max', true, (i, sb) => i.setU32(sb + 0x90, U32_MAX)],
    ['nodesize-0', true, (i, sb) => i.setU32(sb + 0x94, 0)],
    ['nodesize-max', true, (i, sb) => i.setU32(sb + 0x94, U32_MAX)],
    ['num-devices-0', true, (i, sb) => i.setU64(sb + 0x88, 0n)],
    ['num-devices-2', true, (i, sb) => i.setU64(sb + 0x88, 2n)],
    ['num-devices-1000', true, (i, sb) => i.setU64(sb + 0x88, 1000n)],
    ['num-devices-2^53+1', true, (i, sb) => i.setU64(sb + 0x88, (1n << 53n) + 1n)],
    ['num-devices-max', true, (i, sb) => i.setU64(sb + 0x88, U64_MAX)],
    ['devid-0', true, (i, sb) => i.setU64(sb + 0xc9, 0n)],
    ['devid-max', true, (i, sb) => i.setU64(sb + 0xc9, U64_MAX)],
    ['generation-max', true, (i, sb) => i.setU64(sb + 0x48, U64_MAX)],
    ['total-bytes-0', true, (i, sb) => i.setU64(sb + 0x70, 0n)],
    ['total-bytes-max', true, (i, sb) => i.setU64(sb + 0x70, U64_MAX)],
    ['sys-chunk-array-size-4096', true, (i, sb) => i.setU32(sb + 0xa0, 4096)],
    ['sys-chunk-array-size-max', true, (i, sb) => i.setU32(sb + 0xa0, U32_MAX)],
    ['label-no-nul', true, (i, sb) => i.write(sb + 0x12b, Buffer.alloc(256, 0x41))],
    ['label-magic-no-nul', true, (i, sb) => i.write(sb + 0x12b, Buffer.from('lightwhale-data'.padEnd(256, 'x')))],
    ['label-invalid-utf8', true, (i, sb) => i.write(sb + 0x12b, Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00]))],
    ['label-empty', true, (i, sb) => i.write(sb + 0x12b, Buffer.alloc(256))],
    ['label-other', true, (i, sb) => i.write(sb + 0x12b, Buffer.concat([Buffer.from('lightwhale-data2'), Buffer.alloc(240)]))],
    ['label-control-chars', true, (i, sb) => i.write(sb + 0x12b, Buffer.concat([Buffer.from('light\nwhale\x1b[31m'), Buffer.alloc(4)]))],
    ['bytenr-wrong', true, (i, sb) => i.setU64(sb + 0x30, 0x4000000n)],
    ['fsid-zero', true, (i, sb) => i.write(sb + 0x20, Buffer.alloc(16))],
    ['metadata-uuid-flag', true, (i, sb) => i.setU64(sb + 0xbc, i.u64(sb + 0xbc) | (1n << 10n))],
    ['magic-flip', false, (i, sb) => i.flipBit(sb + 0x40, 0)],
    ['temporary-magic', true, (i, sb) => i.write(sb + 0x40, Buffer.from('!BHRfS_M'))],
    ['flags-error', true, (i, sb) => i.setU64(sb + 0x38, i.u64(sb + 0x38) | 4n)],
    ['whole-sb-ff-after-magic', true, (i, sb) => i.write(sb + 0x48, Buffer.alloc(4096 - 0x48, 0xff))],
  ];
  for (const [base, sb] of btrfsBases) {
    const edits = base === 'raid1-a' ? btrfsEdits.filter(([w]) => /csum-flip|num-devices|devid|label-no-nul|sectorsize-0|generation/.test(w)) : btrfsEdits;
    for (const [what, recompute, edit] of edits) {
      add('btrfs', base, what, (img) => {
        edit(img, sb);
        if (recompute) fixBtrfsCsum(img, sb);
      });
    }
  }

  // ----- swap headers (whole disk; partition 1 of the Lightwhale disk)
  const swapBases: Array<[string, number]> = [
    ['swap-whole', 0],
    ['gpt-lightwhale-512', 1048576],
  ];
  const swapEdits: Array<[string, (i: SparseImage, at: number, areaPages: number) => void]> = [
    ['version-0', (i, a) => i.setU32(a + 1024, 0)],
    ['version-2', (i, a) => i.setU32(a + 1024, 2)],
    ['version-byteswapped', (i, a) => {
      i.setU32(a + 1024, 0x01000000);
      const lp = i.u32(a + 1028);
      const b = Buffer.alloc(4);
      b.writeUInt32BE(lp);
      i.write(a + 1028, b);
    }],
    ['version-max', (i, a) => i.setU32(a + 1024, U32_MAX)],
    ['last-page-0', (i, a) => i.setU32(a + 1028, 0)],
    ['last-page-pages', (i, a, p) => i.setU32(a + 1028, p)],
    ['last-page-double', (i, a, p) => i.setU32(a + 1028, p * 2)],
    ['last-page-max', (i, a) => i.setU32(a + 1028, U32_MAX)],
    ['badpages-638', (i, a) => i.setU32(a + 1032, 638)],
    ['badpages-max', (i, a) => i.setU32(a + 1032, U32_MAX)],
    ['label-no-nul', (i, a) => i.write(a + 0x41c, Buffer.alloc(16, 0x42))],
    ['label-invalid-utf8', (i, a) => i.write(a + 0x41c, Buffer.from([0xc3, 0x28, 0xff, 0]))],
    ['padding-32-nonzero', (i, a) => i.setU32(a + 0x4ac, 1)],
    ['magic-at-8k', (i, a) => {
      i.write(a + 4086, Buffer.alloc(10));
      i.write(a + 8192 - 10, Buffer.from('SWAPSPACE2'));
    }],
    ['magic-at-16k', (i, a) => {
      i.write(a + 4086, Buffer.alloc(10));
      i.write(a + 16384 - 10, Buffer.from('SWAPSPACE2'));
    }],
    ['magic-at-32k', (i, a) => {
      i.write(a + 4086, Buffer.alloc(10));
      i.write(a + 32768 - 10, Buffer.from('SWAPSPACE2'));
    }],
    ['magic-at-64k', (i, a) => {
      i.write(a + 4086, Buffer.alloc(10));
      i.write(a + 65536 - 10, Buffer.from('SWAPSPACE2'));
    }],
    ['magic-v0', (i, a) => i.write(a + 4086, Buffer.from('SWAP-SPACE'))],
    ['magic-swsuspend', (i, a) => i.write(a + 4086, Buffer.from('S1SUSPEND\0'))],
    ['magic-half', (i, a) => i.write(a + 4086, Buffer.from('SWAPSPACE\0'))],
    ['header-ff', (i, a) => i.write(a + 1024, Buffer.alloc(512, 0xff))],
  ];
  for (const [base, at] of swapBases) {
    const areaBytes = base === 'swap-whole' ? 8 * MiB : 8 * MiB;
    for (const [what, edit] of swapEdits) add('swap', base, what, (img) => edit(img, at, Math.floor(areaBytes / 4096)));
  }

  // ----- other signatures
  add('signature', 'ext4-whole', 'magic-flip', (i) => i.flipBit(0x438, 0));
  add('signature', 'ext4-whole', 'features-ff', (i) => i.write(0x45c, Buffer.alloc(12, 0xff)));
  add('signature', 'ext4-whole', 'label-no-nul', (i) => i.write(0x478, Buffer.alloc(16, 0x43)));
  add('signature', 'ext4-whole', 'magic-over-ext4', (i) => i.write(0, Buffer.from('lightwhale-please-format-me\n')));
  add('signature', 'xfs-whole', 'label-no-nul', (i) => i.write(0x6c, Buffer.alloc(12, 0x44)));
  add('signature', 'xfs-whole', 'magic-only', (i) => i.write(4, Buffer.alloc(0x7c)));
  add('signature', 'vfat-whole', 'bps-0', (i) => i.setU16(0x0b, 0));
  add('signature', 'vfat-whole', 'bps-max', (i) => i.setU16(0x0b, 0xffff));
  add('signature', 'vfat-whole', 'no-boot-signature', (i) => i.setU16(510, 0));
  add('signature', 'vfat-whole', 'pmbr-record-on-fat', (i) => {
    i.setU8(446 + 4, 0xee);
    i.setU32(446 + 8, 1);
  });
  add('signature', 'luks-whole', 'version-ffff', (i) => i.write(6, Buffer.from([0xff, 0xff])));
  add('signature', 'luks-whole', 'uuid-no-nul', (i) => i.write(0xa8, Buffer.alloc(40, 0x45)));
  add('signature', 'luks-whole', 'label-invalid-utf8', (i) => i.write(0x18, Buffer.alloc(48, 0xfe)));
  add('signature', 'lvm-pv', 'label-in-sector-3', (i) => {
    i.write(3 * 512, i.read(512, 512));
    i.write(512, Buffer.alloc(512));
  });
  add('signature', 'lvm-pv', 'lvm2-001-missing', (i) => i.write(512 + 0x18, Buffer.alloc(8)));
  add('signature', 'lvm-pv', 'uuid-binary', (i) => i.write(512 + 0x20, Buffer.alloc(32, 0xff)));
  add('signature', 'md-1.2', 'major-version-2', (i) => i.setU32(0x1004, 2));
  add('signature', 'md-1.2', 'name-no-nul', (i) => i.write(0x1020, Buffer.alloc(32, 0x46)));
  add('signature', 'md-1.2', 'super-offset-max', (i) => i.setU64(0x1090, U64_MAX));
  add('signature', 'md-1.2', 'also-at-v1.0', (i) => i.write((i.size & ~0xfff) - 0x2000, i.read(0x1000, 4096)));
  add('signature', 'md-1.2', 'v0.90-tail-magic', (i) => i.setU32(Math.floor(i.size / 0x10000) * 0x10000 - 0x10000, 0xa92b4efc));
  add('signature', 'magic-blank', 'magic-plus-btrfs-sb', (i) => i.write(0x10000, loadBase('btrfs-whole').read(0x10000, 4096)));
  add('signature', 'magic-blank', 'magic-plus-gpt-sig-only', (i) => i.write(512, Buffer.from('EFI PART')));
  add('signature', 'magic-over-gpt', 'primary-crc-flip', (i) => i.flipBit(512 + 16, 0));
  add('signature', 'magic-over-gpt', 'swap-magic-at-0xff6', (i) => i.write(4086, Buffer.from('SWAPSPACE2')));
  add('signature', 'empty', 'every-magic', (i) => {
    i.write(0, Buffer.from('LUKS\xba\xbe\x00\x02', 'latin1'));
    i.write(512, Buffer.from('EFI PART'));
    i.write(0x438, Buffer.from([0x53, 0xef]));
    i.write(0x1000, Buffer.from([0xfc, 0x4e, 0x2b, 0xa9, 1, 0, 0, 0]));
    i.write(4086, Buffer.from('SWAPSPACE2'));
    i.write(0x8001, Buffer.from('CD001'));
    i.write(0x10040, Buffer.from('_BHRfS_M'));
  });

  // ----- truncations at every structure boundary (and one byte either side of the main ones)
  const cuts = (base: string, points: number[]): void => {
    const size = loadBaseSize(base);
    const seen = new Set<number>();
    for (const p of points) {
      if (p < 0 || p >= size || seen.has(p)) continue;
      seen.add(p);
      add('truncate', base, `at-${p}`, (img) => img.truncate(p));
    }
  };
  const around = (...ps: number[]): number[] => ps.flatMap((p) => [p - 1, p, p + 1]);
  {
    const n = 128 * MiB;
    cuts('gpt-lightwhale-512', [
      0, 1, 26, 27, 28, 100, 440, 446, 510, ...around(512), 512 + 92, 1023, ...around(1024), 1024 + 16384, 17408, 65536, ...around(MiB),
      MiB + 1024, MiB + 1536, MiB + 4086, MiB + 4096, 9 * MiB, ...around(9437184), 9437184 + 0x10000, 9437184 + 0x10040, 9437184 + 0x10048, 9437184 + 0x11000, 64 * MiB,
      n - 16384 - 512, n - 16384, n - 513, ...around(n - 512), n - 1,
    ]);
    cuts('gpt-lightwhale-4096', [0, 27, 512, 4095, ...around(4096), 4096 + 92, 8191, 8192, 8192 + 16384, MiB, MiB + 4096, 9437184, 9437184 + 0x11000, n - 4096 * 5, ...around(n - 4096), n - 1]);
    cuts('btrfs-whole', [0x10000 - 1, 0x10000, 0x10040, 0x10047, 0x10048, 0x10100, 0x1012b, 0x10fff, 0x11000]);
    cuts('swap-whole', [1024, 1028, 1536, 4086, 4095, 4096, 40960, 40959]);
    cuts('ext4-whole', [0x400, 0x438, 0x439, 0x43a, 0x7ff, 0x800]);
    cuts('xfs-whole', [3, 4, 0x6c, 0x7f, 0x80]);
    cuts('vfat-whole', [0x36, 0x52, 511, 512]);
    cuts('luks-whole', [6, 8, 0xa8, 0xcf, 0xd0, 0x4000]);
    cuts('lvm-pv', [512, 512 + 0x18, 512 + 0x20, 512 + 0x40]);
    cuts('md-1.2', [0x1000, 0x1004, 0x1090, 0x10ff, 0x1100]);
    cuts('mbr-two', [446, 462, 510, 512, MiB, MiB + 0x438, MiB + 0x800, 4 * MiB]);
    cuts('magic-over-gpt', [27, 512, 1024, 17408, MiB, n - 512]);
    cuts('raid1-a', [9437184 + 0x10048, 9437184 + 0x11000, 136 * MiB - 512]);
    cuts('blank-magic-partitions', [512, 17408, 22020096, 22020096 + 1, 160 * MiB - 512]);
  }

  // ----- seeded bit flips inside the parsed structures
  const rnd = prng(CORPUS_SEED);
  const regions: Array<[string, number, number]> = [
    ['gpt-lightwhale-512', 0, 512], // PMBR
    ['gpt-lightwhale-512', 512, 92], // primary header
    ['gpt-lightwhale-512', 1024, 256], // entries 1-2
    ['gpt-lightwhale-512', 128 * MiB - 512, 92], // backup header
    ['gpt-lightwhale-512', 9437184 + 0x10000, 0x330], // btrfs superblock fixed part
    ['gpt-lightwhale-512', MiB + 1024, 64], // swap header
    ['gpt-lightwhale-4096', 4096, 92],
    ['btrfs-whole', 0x10000, 0x330],
    ['swap-whole', 1024, 64],
    ['mbr-two', 446, 66],
    ['magic-over-gpt', 0, 28],
    ['raid1-b', 9437184 + 0x10000, 0x330],
  ];
  for (let k = 0; k < 120; k++) {
    const [base, start, len] = regions[k % regions.length]!;
    const nflips = 1 + Math.floor(rnd() * 3);
    const flips: Array<[number, number]> = [];
    for (let j = 0; j < nflips; j++) flips.push([start + Math.floor(rnd() * len), Math.floor(rnd() * 8)]);
    add('bitflip', base, flips.map(([o, b]) => `${o.toString(16)}.${b}`).join('+'), (img) => {
      for (const [o, b] of flips) img.flipBit(o, b);
    });
  }
  return cases;
}

/** Size of a base without decompressing it (the gzip trailer). */
const loadBaseSize = (name: string): number => (name === 'btrfs-whole' ? fixtureSize('btrfs-bad-csum') : fixtureSize(name));
