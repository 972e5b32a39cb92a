// The native GPT writer and swap header writer, pure (MemoryDevice/RecordingDevice), at both
// logical sector sizes: golden bytes for a fixed seed, fields decoded independently of the
// serializer (Buffer reads + zlib.crc32) and through our parser, the protective MBR, the
// crash-safe write order, the magic surviving until LBA 0 is written, the stale-signature wipes,
// and the swap v1 header at page sizes 4K..64K with its label limits.
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import t from 'tap';
import { layoutWipes, type Wipe, writeGpt, writeSwapArea } from '../../lib/claim.js';
import { MemoryDevice } from '../../lib/device/memory.js';
import { RecordingDevice } from '../../lib/device/recording.js';
import { checkEntries, checkGptHeader, parseGptEntries } from '../../lib/format/gpt.js';
import { guidFromBytes } from '../../lib/format/guid.js';
import { MAGIC_RECORD } from '../../lib/format/magic.js';
import { parseMbr } from '../../lib/format/mbr.js';
import { buildSwapHeader, parseSwap, swapLabelProblem } from '../../lib/format/swap.js';
import { defaultSwapSize, layoutGpt, type LightwhaleLayout, planLayout } from '../../lib/layout.js';
import { seededRandom } from '../../lib/random.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const SECTOR_SIZES = [512, 4096] as const;
const E = { 512: 32, 4096: 4 } as const;
const SWAP_TYPE_BYTES = '6dfd5706aba4c44384e50933c84b4f4f';
const DATA_TYPE_BYTES = 'af3dc60f838472478e793d69d8477de4';

const plan = (size: number, ss: number, swap = defaultSwapSize(size)): LightwhaleLayout => planLayout('/dev/test', size, ss, swap);
const golden = (ss: number, size = GiB) => layoutGpt(plan(size, ss), seededRandom('golden'));
const utf16 = (s: string): Buffer => {
  const b = Buffer.alloc(72);
  b.write(s, 'utf16le');
  return b;
};
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

t.test('golden layout (seededRandom("golden"), 1 GiB): pinned GUIDs and bytes', async (t) => {
  // Checked once against sgdisk -v / sgdisk -p / sfdisk --verify on the written image (both sector sizes).
  const pins = {
    512: 'c1a0f114e0fe5879188d639a5b60b56cc71b195013f2cb299c5c75f127a7bea9',
    4096: '6502485a448e3922ef913b2bbad3cd9945b52cc41e1bf2d76db5a7b464b09bf4',
  };
  for (const ss of SECTOR_SIZES) {
    const g = golden(ss);
    t.equal(guidFromBytes(g.primaryHeader.subarray(56, 72)), '84c67782-8385-429e-9c26-d5df29c1269f', `disk GUID (${ss})`);
    t.equal(guidFromBytes(g.entries.subarray(16, 32)), '7f4fc97a-3411-458a-8317-4a5b68466e38', `swap partition GUID (${ss})`);
    t.equal(guidFromBytes(g.entries.subarray(128 + 16, 128 + 32)), 'f303b764-65ff-45e5-91cc-21588b0d197e', `data partition GUID (${ss})`);
    const digest = createHash('sha256').update(g.pmbr).update(g.primaryHeader).update(g.entries).update(g.backupHeader).digest('hex');
    t.equal(digest, pins[ss], `sha256 of PMBR + primary header + entries + backup header (${ss})`);
  }
});

t.test('golden layout decoded field by field (independent of our parser)', async (t) => {
  for (const ss of SECTOR_SIZES) {
    t.test(`sector size ${ss}`, async (t) => {
      const g = golden(ss);
      const N = BigInt(GiB / ss);
      const e = BigInt(E[ss]);
      t.equal(g.pmbr.length, ss, 'LBA 0 is one whole sector');
      t.equal(g.primaryHeader.length, ss, 'primary header is one whole sector');
      t.equal(g.backupHeader.length, ss, 'backup header is one whole sector');
      t.equal(g.entries.length, 128 * 128, 'entry array is 128 × 128 bytes');

      // Protective MBR
      t.ok(isZero(g.pmbr.subarray(0, 446)), 'bytes 0..445 zero (boot code, disk signature)');
      t.equal(g.pmbr.subarray(446, 462).toString('hex'), `00000200eeffffff01000000${(GiB / ss - 1).toString(16).padStart(8, '0').match(/../g)!.reverse().join('')}`, 'record 0: 0xEE from LBA 1, N−1 sectors');
      t.ok(isZero(g.pmbr.subarray(462, 510)), 'records 1..3 zero');
      t.equal(g.pmbr.readUInt16LE(510), 0xaa55, '55 AA');
      t.ok(isZero(g.pmbr.subarray(512)), 'rest of LBA 0 zero');

      // Headers
      const entriesCrc = zlibCrc32(g.entries);
      for (const [which, h, my, alt, pe] of [
        ['primary', g.primaryHeader, 1n, N - 1n, 2n],
        ['backup', g.backupHeader, N - 1n, 1n, N - 1n - e],
      ] as const) {
        t.equal(h.subarray(0, 8).toString('latin1'), 'EFI PART', `${which}: signature`);
        t.equal(h.readUInt32LE(8), 0x00010000, `${which}: revision 1.0`);
        t.equal(h.readUInt32LE(12), 92, `${which}: header size 92`);
        const copy = Buffer.from(h.subarray(0, 92));
        copy.writeUInt32LE(0, 16);
        t.equal(h.readUInt32LE(16), zlibCrc32(copy), `${which}: header CRC (zlib)`);
        t.equal(h.readUInt32LE(20), 0, `${which}: reserved`);
        t.equal(h.readBigUInt64LE(24), my, `${which}: my LBA`);
        t.equal(h.readBigUInt64LE(32), alt, `${which}: alternate LBA`);
        t.equal(h.readBigUInt64LE(40), 2n + e, `${which}: first usable ${2n + e}`);
        t.equal(h.readBigUInt64LE(48), N - 2n - e, `${which}: last usable N−${2n + e}`);
        t.equal(h.readBigUInt64LE(72), pe, `${which}: entry array LBA`);
        t.equal(h.readUInt32LE(80), 128, `${which}: 128 entries`);
        t.equal(h.readUInt32LE(84), 128, `${which}: of 128 bytes`);
        t.equal(h.readUInt32LE(88), entriesCrc, `${which}: entry array CRC (zlib)`);
        t.ok(isZero(h.subarray(92)), `${which}: rest of the sector zero`);
      }
      t.not(g.primaryHeader.readUInt32LE(16), g.backupHeader.readUInt32LE(16), 'header CRCs differ');
      t.ok(g.primaryHeader.subarray(56, 72).equals(g.backupHeader.subarray(56, 72)), 'same disk GUID');
      t.equal(g.primaryEntriesLba, 2n);
      t.equal(g.backupEntriesLba, N - 1n - e);
      t.equal(g.backupHeaderLba, N - 1n);
      t.equal(g.firstUsableLba, 2n + e);
      t.equal(g.lastUsableLba, N - 2n - e);

      // Entries: swap 1 MiB..129 MiB, data 129 MiB..1023 MiB, names UTF-16LE, attributes 0.
      const lba = (bytes: number): bigint => BigInt(bytes / ss);
      const expect = [
        [SWAP_TYPE_BYTES, lba(MiB), lba(129 * MiB) - 1n, 'lightwhale-swap'],
        [DATA_TYPE_BYTES, lba(129 * MiB), lba(1023 * MiB) - 1n, 'lightwhale-data'],
      ] as const;
      expect.forEach(([type, first, last, name], i) => {
        const en = g.entries.subarray(i * 128, i * 128 + 128);
        t.equal(en.subarray(0, 16).toString('hex'), type, `entry ${i + 1}: type GUID bytes`);
        t.notOk(isZero(en.subarray(16, 32)), `entry ${i + 1}: unique GUID set`);
        t.equal(en.readBigUInt64LE(32), first, `entry ${i + 1}: first LBA`);
        t.equal(en.readBigUInt64LE(40), last, `entry ${i + 1}: last LBA (inclusive)`);
        t.equal(en.readBigUInt64LE(48), 0n, `entry ${i + 1}: attributes 0`);
        t.ok(en.subarray(56, 128).equals(utf16(name)), `entry ${i + 1}: name ${name}`);
      });
      t.not(g.entries.subarray(16, 32).toString('hex'), g.entries.subarray(144, 160).toString('hex'), 'partition GUIDs differ');
      t.ok(isZero(g.entries.subarray(256)), 'entries 3..128 unused');

      // Our parser agrees.
      const p = checkGptHeader(g.primaryHeader, 1n, ss, N, 'primary');
      const b = checkGptHeader(g.backupHeader, N - 1n, ss, N, 'backup');
      t.same([p.valid, p.crcOk, p.problems, p.entryArrayBytes], [true, true, [], 16384], 'primary parses back valid');
      t.same([b.valid, b.crcOk, b.problems, b.entryArrayBytes], [true, true, [], 16384], 'backup parses back valid');
      const parsed = parseGptEntries(g.entries, 128, 128);
      t.same(parsed.problems, []);
      t.same(
        parsed.entries.map((x) => [x.index, x.name, x.firstLba, x.lastLba]),
        expect.map(([, first, last, name], i) => [i, name, first, last]),
        'entries parse back',
      );
      t.same(checkEntries(parsed.entries, p.header, N).problems, [], 'no overlaps, inside the usable range');
      const mbr = parseMbr(g.pmbr);
      t.same([mbr.partitions[0]!.osType, mbr.partitions[0]!.startingLba, mbr.partitions[0]!.sizeInLba], [0xee, 1, GiB / ss - 1], 'PMBR parses back');
    });
  }
});

t.test('protective record size is clamped at 0xFFFFFFFF', async (t) => {
  const cases: Array<[512 | 4096, number, number]> = [
    [512, 2 * TiB, 0xffffffff], // N − 1 = 2^32 − 1 exactly: not clamped, the same value
    [512, 2 * TiB + 512 * 1024, 0xffffffff],
    [512, 4 * TiB, 0xffffffff],
    [4096, 4 * TiB, 4 * (TiB / 4096) - 1], // 2^30 − 1: fits
    [4096, 32 * TiB, 0xffffffff],
  ];
  for (const [ss, size, want] of cases) {
    const g = golden(ss, size);
    t.equal(g.pmbr.readUInt32LE(446 + 12), want, `${size / TiB} TiB at ${ss}`);
    t.equal(g.pmbr.readUInt32LE(446 + 8), 1, 'starts at LBA 1');
    t.equal(g.pmbr[446 + 4], 0xee);
    const N = BigInt(Math.floor(size / ss));
    t.equal(g.primaryHeader.readBigUInt64LE(48), N - BigInt(2 + E[ss]), 'last usable N − 2 − E (bigint, no precision loss)');
    t.equal(g.primaryHeader.readBigUInt64LE(32), N - 1n, 'alternate LBA N − 1');
    t.ok(checkGptHeader(g.backupHeader, N - 1n, ss, N, 'backup').valid, 'backup header valid');
  }
});

/** Is [offset, offset+length) fully covered by the wipes? */
const covered = (wipes: Wipe[], offset: number, length: number): boolean => {
  let at = offset;
  for (const w of [...wipes].sort((a, b) => a.offset - b.offset)) {
    if (w.offset <= at && w.offset + w.length > at) at = w.offset + w.length;
    if (at >= offset + length) return true;
  }
  return at >= offset + length;
};

t.test('layoutWipes: what the new layout must not inherit', async (t) => {
  const sizes: Array<[string, number, boolean]> = [
    ['512 MiB', 512 * MiB, true],
    ['1 GiB', GiB, true],
    ['20 GiB', 20 * GiB, true],
    ['20 GiB --no-swap', 20 * GiB, false],
    ['300 GiB', 300 * GiB, true],
    ['4 TiB', 4 * TiB, true],
  ];
  for (const ss of SECTOR_SIZES) {
    for (const [label, size, withSwap] of sizes) {
      t.test(`${label} at ${ss}`, async (t) => {
        const l = plan(size, ss, withSwap ? defaultSwapSize(size) : 0);
        const wipes = layoutWipes(l, size);
        const primaryEnd = (2 + E[ss]) * ss;
        t.ok(wipes.every((w) => w.offset >= primaryEnd), 'LBA 0 and the primary GPT are never wiped (the magic survives stage a)');
        t.ok(wipes.every((w) => w.offset + w.length <= size), 'inside the device');
        t.ok(wipes.every((w, i) => i === 0 || wipes[i - 1]!.offset + wipes[i - 1]!.length < w.offset), 'sorted and merged');
        t.ok(covered(wipes, primaryEnd, MiB - primaryEnd), 'gap after the primary entry array up to 1 MiB (whole-disk btrfs at 64 KiB)');
        for (const p of [l.swap, l.data]) {
          if (!p) continue;
          t.ok(covered(wipes, p.start, MiB), `first MiB of partition ${p.number}`);
          for (const o of [64 * MiB, 256 * GiB]) {
            if (o + 4096 <= p.size) t.ok(covered(wipes, p.start + o, 4096), `btrfs mirror at ${o} inside partition ${p.number}`);
          }
        }
        for (const o of [64 * MiB, 256 * GiB]) if (o + 4096 <= size - MiB) t.ok(covered(wipes, o, 4096), `whole-disk btrfs mirror at ${o}`);
        t.ok(covered(wipes, size - MiB, MiB), 'last MiB of the disk (old backup GPT)');
        const total = wipes.reduce((s, w) => s + w.length, 0);
        t.ok(total <= 8 * MiB, `only a few MiB are written (${total} bytes)`);
        if (size >= 300 * GiB) t.ok(covered(wipes, l.data.start + 256 * GiB, 4096), 'the 256 GiB mirror is wiped on a big data partition');
      });
    }
  }
});

t.test('crash-safe write order through a RecordingDevice (what --dry-run records)', async (t) => {
  for (const ss of SECTOR_SIZES) {
    for (const size of [512 * MiB, 20 * GiB, 4 * TiB]) {
      const mem = new MemoryDevice(size, { sectorSize: ss });
      mem.poke(0, MAGIC_RECORD);
      const rec = new RecordingDevice(mem);
      const l = plan(size, ss);
      const gpt = layoutGpt(l, seededRandom('order'));
      const wipes = layoutWipes(l, size);
      await writeGpt(rec, gpt, wipes);
      const N = size / ss;
      const tail = [
        [(N - 1 - E[ss]) * ss, 16384, 'backup GPT entry array'],
        [(N - 1) * ss, ss, 'backup GPT header'],
        [2 * ss, 16384, 'primary GPT entry array'],
        [ss, ss, 'primary GPT header'],
        [0, ss, 'protective MBR (erases the magic header)'],
      ];
      const got = rec.writes.map((w) => [w.offset, w.length, w.what]);
      const label = `${size / MiB} MiB at ${ss}`;
      t.same(got.slice(0, wipes.length), wipes.map((w) => [w.offset, w.length, `wipe: ${w.what}`]), `${label}: (a) wipes first`);
      t.same(got.slice(wipes.length), tail, `${label}: (b) backup entries, header; (c) primary entries, header; (d) LBA 0 last`);
      t.ok(mem.peek(0, 28).equals(MAGIC_RECORD), `${label}: a recording writes nothing`);
      t.ok(isZero(await rec.read(0, 440)), `${label}: but reads through it see the new LBA 0`);
      t.equal((await rec.read(ss, 8)).toString('latin1'), 'EFI PART', `${label}: and the new header`);
    }
  }
});

/** A MemoryDevice that notes, after every write, whether the magic is still at byte 0. */
class MagicWatch extends MemoryDevice {
  readonly magicAfter: boolean[] = [];
  override async write(offset: number, data: Uint8Array, what: string): Promise<void> {
    await super.write(offset, data, what);
    this.magicAfter.push(this.peek(0, 27).equals(MAGIC_RECORD.subarray(0, 27)));
  }
}

t.test('writeGpt on a device with the magic: the magic survives until the last write', async (t) => {
  for (const ss of SECTOR_SIZES) {
    const size = GiB;
    const dev = new MagicWatch(size, { sectorSize: ss });
    const junk = Buffer.alloc(4096, 0xa5);
    // A disk with the magic over an old life: old btrfs at 64 KiB (whole disk), at 1 MiB + 64 KiB,
    // its mirror at 64 MiB, an old backup GPT at the end, old data deep inside the data partition.
    dev.poke(0, Buffer.alloc(512, 0x5a));
    dev.poke(0, MAGIC_RECORD);
    const stale = [64 * 1024, MiB - 4096, MiB + 64 * 1024, 64 * MiB, 129 * MiB + 64 * 1024, 129 * MiB + 64 * MiB, size - MiB, size - MiB / 2];
    dev.poke(size - 4096, junk);
    for (const o of stale) dev.poke(o, junk);
    const kept = [200 * MiB, 129 * MiB + 2 * MiB, 2 * MiB];
    for (const o of kept) dev.poke(o, junk);
    const l = plan(size, ss);
    const gpt = layoutGpt(l, seededRandom('magic'));
    await writeGpt(dev, gpt, layoutWipes(l, size));
    const n = dev.magicAfter.length;
    t.ok(n > 5, `${ss}: ${n} writes`);
    t.same(dev.magicAfter.slice(0, n - 1), new Array(n - 1).fill(true), `${ss}: magic present after every write but the last`);
    t.equal(dev.magicAfter[n - 1], false, `${ss}: magic gone after the last write`);
    t.ok(isZero(dev.peek(0, 440)), `${ss}: bytes 0..439 zero`);
    for (const o of stale) t.ok(isZero(dev.peek(o, 4096)), `${ss}: stale bytes at ${o} wiped`);
    const backupArea = Buffer.concat([gpt.entries, gpt.backupHeader]);
    t.ok(dev.peek(size - 4096, 4096).equals(backupArea.subarray(backupArea.length - 4096)), `${ss}: the old backup GPT is replaced by the new one`);
    for (const o of kept) t.ok(dev.peek(o, 4096).equals(junk), `${ss}: bytes at ${o} (no signature offset) untouched`);
    // Read the table back from the device bytes.
    const N = BigInt(size / ss);
    const primary = checkGptHeader(dev.peek(ss, ss), 1n, ss, N, 'primary');
    const backup = checkGptHeader(dev.peek(Number(N - 1n) * ss, ss), N - 1n, ss, N, 'backup');
    t.ok(primary.valid && backup.valid, `${ss}: both headers valid on the device`);
    const pe = dev.peek(2 * ss, 16384);
    const be = dev.peek(Number(backup.header.partitionEntryLba) * ss, 16384);
    t.ok(pe.equals(be) && pe.equals(gpt.entries), `${ss}: both entry arrays on the device`);
    t.equal(zlibCrc32(pe), primary.header.partitionEntryArrayCrc32, `${ss}: entry CRC matches`);
  }
});

// ---------------------------------------------------------------------------------------------
// Swap header

const UUID = '0123abcd-4567-89ef-0123-456789abcdef';

t.test('buildSwapHeader at page sizes 4K..64K parses back', async (t) => {
  for (const P of [4096, 8192, 16384, 32768, 65536]) {
    const size = 64 * MiB + 12345;
    const page = buildSwapHeader({ pageSize: P, size, uuid: UUID, label: 'lightwhale-swap' });
    const lastPage = Math.floor(size / P) - 1;
    t.equal(page.length, P, `${P}: one page`);
    t.ok(isZero(page.subarray(0, 1024)), `${P}: bootbits zero`);
    t.equal(page.readUInt32LE(1024), 1, `${P}: version 1`);
    t.equal(page.readUInt32LE(1028), lastPage, `${P}: last_page`);
    t.equal(page.readUInt32LE(1032), 0, `${P}: no bad pages`);
    t.equal(page.subarray(1036, 1052).toString('hex'), UUID.replace(/-/g, ''), `${P}: UUID in RFC-4122 byte order`);
    t.equal(page.subarray(1052, 1068).toString('latin1'), 'lightwhale-swap\0', `${P}: label, NUL-terminated`);
    t.ok(isZero(page.subarray(1068, P - 10)), `${P}: padding and the rest zero`);
    t.equal(page.subarray(P - 10).toString('latin1'), 'SWAPSPACE2', `${P}: magic at ${P - 10}`);
    t.same(parseSwap(page, size), { version: 1, pageSize: P, lastPage, label: 'lightwhale-swap', uuid: UUID, magic: 'SWAPSPACE2', problems: [] }, `${P}: parseSwap`);
  }
  t.throws(() => buildSwapHeader({ pageSize: 12288, size: 64 * MiB, uuid: UUID, label: '' }), RangeError, 'page size 12288 refused');
  t.throws(() => buildSwapHeader({ pageSize: 4096, size: 9 * 4096 + 4095, uuid: UUID, label: '' }), RangeError, 'fewer than 10 pages refused');
  t.equal(parseSwap(buildSwapHeader({ pageSize: 4096, size: 10 * 4096, uuid: UUID, label: '' }), 10 * 4096)?.lastPage, 9, '10 pages ok');
});

t.test('swap labels: 15 bytes fit, 16 and control characters are refused', async (t) => {
  const ok = ['', 'lightwhale-swap', 'x'.repeat(15), 'é'.repeat(7) + 'a'];
  const bad: Array<[string, RegExp]> = [
    ['x'.repeat(16), /16 bytes/],
    ['é'.repeat(8), /16 bytes/],
    ['lightwhale-swap\n', /16 bytes|control/],
    ['a\nb', /control/],
    ['tab\there', /control/],
    ['nul\0', /control/],
  ];
  for (const label of ok) {
    t.equal(swapLabelProblem(label), null, `${JSON.stringify(label)} accepted`);
    const page = buildSwapHeader({ pageSize: 4096, size: MiB, uuid: UUID, label });
    t.equal(parseSwap(page, MiB)?.label, label, `${JSON.stringify(label)} reads back`);
  }
  for (const [label, why] of bad) {
    t.match(swapLabelProblem(label), why, `${JSON.stringify(label)} refused`);
    t.throws(() => buildSwapHeader({ pageSize: 4096, size: MiB, uuid: UUID, label }), RangeError, `${JSON.stringify(label)} not silently cut`);
  }
});

t.test('writeSwapArea: header plus stale-signature wipes, nothing outside the area', async (t) => {
  for (const P of [4096, 16384, 65536]) {
    for (const ss of SECTOR_SIZES) {
      const dev = new MemoryDevice(2 * GiB, { sectorSize: ss });
      const start = MiB;
      const size = 300 * MiB;
      const junk = Buffer.alloc(4096, 0x3c);
      const wiped = [start + 64 * 1024, start + 64 * MiB, start + size - 4096, start + size - MiB];
      const kept = [start - 4096, start + size, start + 2 * MiB, start + 100 * MiB];
      for (const o of [...wiped, ...kept]) dev.poke(o, junk);
      await writeSwapArea(dev, start, size, { pageSize: P, uuid: UUID, label: 'lightwhale-swap' });
      const info = parseSwap(dev.peek(start, 65536), size);
      t.same(info, { version: 1, pageSize: P, lastPage: Math.floor(size / P) - 1, label: 'lightwhale-swap', uuid: UUID, magic: 'SWAPSPACE2', problems: [] }, `P=${P} ss=${ss}: parses back from the device`);
      t.ok(isZero(dev.peek(start + P, MiB - P)), `P=${P} ss=${ss}: rest of the first MiB zero`);
      for (const o of wiped) t.ok(isZero(dev.peek(o, 4096)), `P=${P} ss=${ss}: stale bytes at ${o - start} in the area wiped`);
      for (const o of kept) t.ok(dev.peek(o, 4096).equals(junk), `P=${P} ss=${ss}: bytes at ${o - start} relative untouched`);
    }
  }
});
