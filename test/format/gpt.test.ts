// GPT codec, table-driven over 512- and 4096-byte sectors, against tables written by sgdisk
// (fixtures gpt-lightwhale-512 / gpt-lightwhale-4096) and against UEFI's field rules.
import t from 'tap';
import {
  buildGpt,
  checkEntries,
  checkGptHeader,
  computeHeaderCrc,
  crc32,
  decodeName,
  encodeName,
  entryArraySectors,
  GPT_ENTRY_COUNT,
  GPT_ENTRY_SIZE,
  hasGptSignature,
  MAX_ENTRY_ARRAY_BYTES,
  parseGptEntries,
  parseGptHeader,
  serializeGptEntries,
  serializeGptHeader,
  usableRange,
} from '../../lib/format/gpt.js';
import { classifyMbr, parseMbr, protectiveRecord } from '../../lib/format/mbr.js';
import { expectedScan, fixtureRanges, fixtureSize } from '../helpers/fixtures.js';

const SWAP_TYPE = '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f';
const LINUX_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';
const MIB = 1024 * 1024;

interface Table {
  name: string;
  ss: number;
  total: bigint;
  lba0: Buffer;
  primary: Buffer;
  primaryEntries: Buffer;
  backup: Buffer;
  backupEntries: Buffer;
}

/** The four GPT structures of a fixture, as sgdisk wrote them. */
async function table(name: string, ss: number): Promise<Table> {
  const size = fixtureSize(name);
  const total = BigInt(size / ss);
  const e = Number(entryArraySectors(ss));
  const last = size / ss - 1;
  const [lba0, primary, primaryEntries, backupEntries, backup] = await fixtureRanges(name, [
    [0, ss],
    [ss, ss],
    [2 * ss, GPT_ENTRY_COUNT * GPT_ENTRY_SIZE],
    [(last - e) * ss, GPT_ENTRY_COUNT * GPT_ENTRY_SIZE],
    [last * ss, ss],
  ]);
  return { name, ss, total, lba0: lba0!, primary: primary!, primaryEntries: primaryEntries!, backup: backup!, backupEntries: backupEntries! };
}

const SECTOR_SIZES = [
  { ss: 512, fixture: 'gpt-lightwhale-512', firstUsable: 34n, tail: 34n, entrySectors: 32n, mib: 2048n },
  { ss: 4096, fixture: 'gpt-lightwhale-4096', firstUsable: 6n, tail: 6n, entrySectors: 4n, mib: 256n },
] as const;

t.test('CRC-32 is the IEEE/zlib one (check value)', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  t.equal(crc32(Buffer.alloc(0)), 0);
});

for (const c of SECTOR_SIZES) {
  t.test(`sgdisk table at ${c.ss}-byte sectors (${c.fixture})`, async (t) => {
    const x = await table(c.fixture, c.ss);
    const expected = expectedScan(c.fixture).devices[0];

    t.test('headers: parse → serialize gives the same block, byte for byte', async (t) => {
      for (const [which, block, lba] of [
        ['primary', x.primary, 1n],
        ['backup', x.backup, x.total - 1n],
      ] as const) {
        t.ok(hasGptSignature(block), `${which} signature`);
        const h = parseGptHeader(block);
        t.equal(serializeGptHeader(h, c.ss).compare(block), 0, `${which} header round trip`);
        // Recomputing the CRC gives the stored one.
        const { headerCrc32: _, ...rest } = h;
        t.equal(serializeGptHeader(rest, c.ss).compare(block), 0, `${which} header with a recomputed CRC`);
        t.equal(h.myLba, lba, `${which} my LBA`);
        t.equal(h.alternateLba, lba === 1n ? x.total - 1n : 1n, `${which} alternate LBA`);
        t.equal(h.firstUsableLba, c.firstUsable, 'first usable LBA (2 + E)');
        t.equal(h.lastUsableLba, x.total - c.tail, 'last usable LBA (N - 2 - E)');
        t.equal(h.partitionEntryLba, lba === 1n ? 2n : x.total - 1n - c.entrySectors, `${which} entry array LBA`);
        t.equal(h.diskGuid, expected.table.id);
        t.equal(h.revision, 0x00010000);
        t.equal(h.headerSize, 92);
        t.equal(h.numberOfPartitionEntries, 128);
        t.equal(h.sizeOfPartitionEntry, 128);
        t.ok(block.subarray(92).every((b) => b === 0), 'reserved bytes 92..ss are zero');
      }
    });

    t.test('entry arrays: parse → serialize gives the same bytes; both copies identical', async (t) => {
      t.equal(x.primaryEntries.compare(x.backupEntries), 0, 'primary and backup arrays are byte-identical');
      const parsed = parseGptEntries(x.primaryEntries, 128, 128);
      t.same(parsed.problems, []);
      t.equal(parsed.entries.length, 2);
      t.equal(serializeGptEntries(parsed.entries, 128).compare(x.primaryEntries), 0, 'entry array round trip');
      t.match(parsed.entries[0], { index: 0, typeGuid: SWAP_TYPE, name: 'lightwhale-swap', firstLba: BigInt(MIB / c.ss), attributes: 0n });
      t.match(parsed.entries[1], { index: 1, typeGuid: LINUX_TYPE, name: 'lightwhale-data', lastLba: x.total - c.tail });
      expected.table.partitions.forEach((p: any, i: number) => {
        const e = parsed.entries[i]!;
        t.equal(e.uniqueGuid, p.uuid, `partition ${i + 1} GUID`);
        t.equal(Number(e.firstLba) * c.ss, p.start, `partition ${i + 1} start`);
        t.equal(Number(e.lastLba - e.firstLba + 1n) * c.ss, p.size, `partition ${i + 1} size`);
      });
      const h = parseGptHeader(x.primary);
      t.same(checkEntries(parsed.entries, h, x.total).problems, [], 'ranges inside the usable area, no overlap');
    });

    t.test('CRCs as sgdisk stored them', async (t) => {
      for (const [which, block, lba] of [
        ['primary', x.primary, 1n],
        ['backup', x.backup, x.total - 1n],
      ] as const) {
        const h = parseGptHeader(block);
        t.equal(computeHeaderCrc(block, 92), h.headerCrc32, `${which} header CRC`);
        t.equal(crc32(x.primaryEntries), h.partitionEntryArrayCrc32, `${which} entry array CRC`);
        const check = checkGptHeader(block, lba, c.ss, x.total, which);
        t.match(check, { valid: true, crcOk: true, entryArrayBytes: 16384, problems: [] }, `${which} header checks out`);
      }
      t.not(parseGptHeader(x.primary).headerCrc32, parseGptHeader(x.backup).headerCrc32, 'the backup has its own header CRC');
    });

    t.test('a flipped bit anywhere in the header is a CRC mismatch', async (t) => {
      for (const at of [0x08, 0x14, 0x28, 0x38, 0x50, 0x58, 91]) {
        const block = Buffer.from(x.primary);
        block[at]! ^= 0x01;
        const check = checkGptHeader(block, 1n, c.ss, x.total, 'primary');
        t.equal(check.crcOk, false, `byte ${at}`);
        t.equal(check.valid, false);
        t.ok(check.problems.some((p) => /header CRC mismatch/.test(p)));
      }
      // Bytes past HeaderSize are not covered by the CRC.
      const block = Buffer.from(x.primary);
      block[100] = 1;
      t.equal(checkGptHeader(block, 1n, c.ss, x.total, 'primary').crcOk, true, 'byte 100 is outside the CRC');
      // The header CRC is checked where it was read from.
      t.ok(checkGptHeader(x.primary, 2n, c.ss, x.total, 'primary').problems.some((p) => /my LBA 1 is not 2/.test(p)));
    });

    t.test('bounded fields: damaged sizes are problems, never allocations', async (t) => {
      const mutate = (f: (b: Buffer) => void): ReturnType<typeof checkGptHeader> => {
        const b = Buffer.from(x.primary);
        f(b);
        b.writeUInt32LE(computeHeaderCrc(b, Math.min(Math.max(b.readUInt32LE(12), 92), c.ss)), 16);
        return checkGptHeader(b, 1n, c.ss, x.total, 'primary');
      };
      for (const count of [0, 0x10000000, 0xffffffff, MAX_ENTRY_ARRAY_BYTES / 128 + 1]) {
        const r = mutate((b) => b.writeUInt32LE(count, 80));
        t.equal(r.valid, false, `entry count ${count}`);
        t.equal(r.entryArrayBytes, null);
        t.ok(r.problems.some((p) => /entry count \d+ × size 128 out of range/.test(p)), r.problems.join('; '));
      }
      for (const size of [0, 64, 127, 129, 192, 8192, 0xffffffff]) {
        const r = mutate((b) => b.writeUInt32LE(size, 84));
        t.equal(r.valid, false, `entry size ${size}`);
        t.equal(r.entryArrayBytes, null);
        t.ok(r.problems.some((p) => new RegExp(`entry size ${size} is not 128`).test(p)));
      }
      // 256-byte entries are legal UEFI (128 × 2^n) but the kernel refuses them: a note, still usable.
      const wide = mutate((b) => {
        b.writeUInt32LE(64, 80);
        b.writeUInt32LE(256, 84);
      });
      t.equal(wide.entryArrayBytes, 64 * 256);
      t.ok(wide.problems.some((p) => /entry size 256 \(the Linux kernel only accepts 128\)/.test(p)));
      for (const hs of [0, 91, c.ss + 1, 0xffffffff]) {
        const r = mutate((b) => b.writeUInt32LE(hs, 12));
        t.equal(r.valid, false, `header size ${hs}`);
        t.ok(r.problems.some((p) => new RegExp(`header size ${hs} out of range 92\\.\\.${c.ss}`).test(p)));
      }
      const full = mutate((b) => b.writeUInt32LE(c.ss, 12));
      t.equal(full.valid, true, `header size ${c.ss} (a whole sector) is allowed, CRC over all of it`);
      const r1 = mutate((b) => b.writeBigUInt64LE(x.total, 48));
      t.ok(r1.problems.some((p) => /last usable LBA .* past the end/.test(p)), 'last usable past the end');
      const r2 = mutate((b) => b.writeBigUInt64LE(0xffffffffffffffffn, 72));
      t.ok(r2.problems.some((p) => /entry array LBA .* outside the device/.test(p)), 'entry array LBA 2^64-1');
      t.equal(r2.entryArrayBytes, null);
      const r3 = mutate((b) => b.writeBigUInt64LE(c.firstUsable, 72));
      t.ok(r3.problems.some((p) => /overlaps the usable area/.test(p)), 'entry array inside the usable area');
      const r4 = mutate((b) => {
        b.writeBigUInt64LE(100n, 40);
        b.writeBigUInt64LE(99n, 48);
      });
      t.ok(r4.problems.some((p) => /first usable LBA 100 > last usable LBA 99/.test(p)));
      const r5 = mutate((b) => b.writeUInt32LE(0x00020000, 8));
      t.equal(r5.valid, true, 'another revision is a note only (the kernel does not check it)');
      t.ok(r5.problems.some((p) => /unexpected revision 0x00020000/.test(p)));
      const sig = mutate((b) => b.write('EFI PARX', 0, 'latin1'));
      t.match(sig, { valid: false, problems: ['primary GPT header: bad signature'] });
    });

    t.test('entry ranges: inverted, past the end, outside the usable area, overlapping', async (t) => {
      const h = parseGptHeader(x.primary);
      const [a, b] = parseGptEntries(x.primaryEntries, 128, 128).entries;
      const check = (entries: any[]) => checkEntries(entries, h, x.total);
      t.same(check([{ ...a, firstLba: a!.lastLba + 1n }]).problems, [`partition 1: start LBA ${a!.lastLba + 1n} > end LBA ${a!.lastLba}`]);
      t.same(check([{ ...b, lastLba: x.total }]).problems, [`partition 2: extends past the end of the device (end LBA ${x.total}, last LBA ${x.total - 1n})`]);
      t.same(check([{ ...a, firstLba: 1n }]).problems, [`partition 1: outside the usable area ${c.firstUsable}..${x.total - c.tail}`]);
      const o = check([a, { ...b, firstLba: a!.lastLba }]);
      t.same(o.problems, ['partitions 1 and 2 overlap']);
      t.same(o.byIndex.get(0), ['overlaps partition 2']);
      t.same(o.byIndex.get(1), ['overlaps partition 1']);
      // Many entries: still one pass, nested overlaps found.
      const many = Array.from({ length: 128 }, (_, i) => ({ ...a!, index: i, firstLba: 10000n + BigInt(i) * 10n, lastLba: 10000n + BigInt(i) * 10n + 9n }));
      t.same(check(many).problems, []);
      many[127] = { ...many[127]!, firstLba: 10005n, lastLba: 10006n };
      t.same(check(many).problems, ['partitions 1 and 128 overlap']);
    });

    t.test('buildGpt: parses back with valid CRCs, sgdisk-compatible layout', async (t) => {
      for (const total of [x.total, BigInt((1024 * MIB) / c.ss), BigInt((20 * 1024 * 1024 * MIB) / c.ss)]) {
        const { first, last } = usableRange(c.ss, total);
        t.equal(first, c.firstUsable, `first usable ${c.firstUsable}`);
        t.equal(last, total - c.tail, `last usable N - ${c.tail}`);
        const swapEnd = c.mib + BigInt((64 * MIB) / c.ss) - 1n;
        const img = buildGpt(c.ss, total, '11111111-2222-4333-8444-555555555555', [
          { typeGuid: SWAP_TYPE, uniqueGuid: '11111111-2222-4333-8444-000000000001', firstLba: c.mib, lastLba: swapEnd, name: 'lightwhale-swap' },
          { typeGuid: LINUX_TYPE, uniqueGuid: '11111111-2222-4333-8444-000000000002', firstLba: swapEnd + 1n, lastLba: last, name: 'lightwhale-data' },
        ]);
        t.equal(img.primaryHeader.length, c.ss, 'headers are whole sectors');
        t.equal(img.pmbr.length, c.ss, 'LBA 0 is a whole sector');
        t.equal(img.entries.length, 16384);
        t.equal(img.backupHeaderLba, total - 1n);
        t.equal(img.backupEntriesLba, total - 1n - c.entrySectors);
        const p = checkGptHeader(img.primaryHeader, 1n, c.ss, total, 'primary');
        const b = checkGptHeader(img.backupHeader, total - 1n, c.ss, total, 'backup');
        t.match(p, { valid: true, crcOk: true, problems: [] });
        t.match(b, { valid: true, crcOk: true, problems: [] });
        t.equal(crc32(img.entries), p.header.partitionEntryArrayCrc32);
        t.equal(p.header.partitionEntryArrayCrc32, b.header.partitionEntryArrayCrc32);
        const entries = parseGptEntries(img.entries, 128, 128).entries;
        t.equal(Number(entries[0]!.firstLba) * c.ss, MIB, 'partition 1 at 1 MiB');
        t.equal((Number(entries[1]!.firstLba) * c.ss) % MIB, 0, 'partition 2 on a 1 MiB boundary');
        t.equal(entries[1]!.lastLba, last);
        const mbr = parseMbr(img.pmbr);
        t.equal(classifyMbr(mbr), 'protective');
        t.match(protectiveRecord(mbr), { startingLba: 1, sizeInLba: total - 1n > 0xffffffffn ? 0xffffffff : Number(total - 1n), osType: 0xee, bootIndicator: 0 });
        t.ok(mbr.bootCode.every((v) => v === 0), 'boot code zeroed (erases the magic)');
        t.ok(img.pmbr.subarray(512).every((v) => v === 0), 'rest of LBA 0 zero');
      }
    });

    t.test('buildGpt with sgdisk\'s partitions writes sgdisk\'s headers and entries, byte for byte', async (t) => {
      const parsed = parseGptEntries(x.primaryEntries, 128, 128).entries;
      const h = parseGptHeader(x.primary);
      const img = buildGpt(
        c.ss,
        x.total,
        h.diskGuid,
        parsed.map((e) => ({ typeGuid: e.typeGuid, uniqueGuid: e.uniqueGuid, firstLba: e.firstLba, lastLba: e.lastLba, name: e.name })),
      );
      t.equal(img.entries.compare(x.primaryEntries), 0, 'entry array');
      t.equal(img.primaryHeader.compare(x.primary), 0, 'primary header');
      t.equal(img.backupHeader.compare(x.backup), 0, 'backup header');
      const ours = parseMbr(img.pmbr);
      const theirs = parseMbr(x.lba0);
      t.same(
        [ours.partitions[0]!.osType, ours.partitions[0]!.startingLba, ours.partitions[0]!.sizeInLba, ours.signature],
        [theirs.partitions[0]!.osType, theirs.partitions[0]!.startingLba, theirs.partitions[0]!.sizeInLba, theirs.signature],
        'protective record (sgdisk writes real CHS values, lwdisk 0xFFFFFF like libfdisk)',
      );
    });

    t.test('buildGpt refuses impossible layouts', async (t) => {
      const total = BigInt((64 * MIB) / c.ss);
      const { first, last } = usableRange(c.ss, total);
      const part = (firstLba: bigint, lastLba: bigint) => ({ typeGuid: LINUX_TYPE, uniqueGuid: '11111111-2222-4333-8444-000000000001', firstLba, lastLba, name: 'x' });
      t.throws(() => buildGpt(c.ss, total, NIL, [part(first - 1n, last)]), /outside/);
      t.throws(() => buildGpt(c.ss, total, NIL, [part(first, last + 1n)]), /outside/);
      t.throws(() => buildGpt(c.ss, total, NIL, [part(first + 10n, first)]), /outside/);
      t.throws(() => buildGpt(c.ss, total, NIL, [part(first, first + 100n), part(first + 100n, last)]), /overlap/);
      t.throws(() => buildGpt(c.ss, 2n + 2n * c.entrySectors, NIL, []), /too small/);
      t.throws(() => buildGpt(1024, total, NIL, []), /unsupported sector size/);
    });
  });
}

const NIL = '00000000-0000-0000-0000-000000000000';

t.test('partition names: UTF-16LE, 36 code units', async (t) => {
  const cases = ['lightwhale-data', '', 'ä ö ü ß', 'a'.repeat(36), '💾 data', 'a'.repeat(34) + '💾', '日本語のパーティション'];
  for (const name of cases) {
    const bytes = encodeName(name);
    t.equal(bytes.length, 72);
    t.same(decodeName(bytes), { name, problem: null }, `round trip ${JSON.stringify(name)}`);
  }
  t.equal(encodeName('💾').toString('hex'), '3dd8bedc' + '00'.repeat(68), 'a surrogate pair is two code units, low word first');
  t.equal(encodeName('lightwhale-swap').subarray(0, 6).toString('hex'), '6c0069006700', 'ASCII as 6C 00 69 00 ...');
  t.throws(() => encodeName('a'.repeat(37)), /longer than 36/);
  t.throws(() => encodeName('a'.repeat(35) + '💾'), /longer than 36/, 'a pair is never split at unit 36');
  // 36 units, no terminator: decoding stops at 72 bytes, not at the next field.
  t.equal(decodeName(Buffer.concat([encodeName('b'.repeat(36)), Buffer.from('zz')])).name, 'b'.repeat(36));
  // Invalid UTF-16: lone surrogates are kept but reported.
  const lone = Buffer.alloc(72);
  lone.writeUInt16LE(0x61, 0);
  lone.writeUInt16LE(0xd800, 2);
  lone.writeUInt16LE(0x62, 4);
  t.same(decodeName(lone), { name: 'a\ud800b', problem: 'name is not valid UTF-16' });
  const lowFirst = Buffer.alloc(72);
  lowFirst.writeUInt16LE(0xdc00, 0);
  lowFirst.writeUInt16LE(0xd800, 2);
  t.equal(decodeName(lowFirst).problem, 'name is not valid UTF-16', 'reversed pair');
  // Through the entry parser: the partition is kept, the problem is named.
  const arr = serializeGptEntries([{ index: 2, typeGuid: LINUX_TYPE, uniqueGuid: NIL, firstLba: 2048n, lastLba: 4095n, attributes: 0n, name: 'x' }], 4);
  lone.copy(arr, 2 * 128 + 56);
  const parsed = parseGptEntries(arr, 4, 128);
  t.equal(parsed.entries.length, 1);
  t.equal(parsed.entries[0]!.index, 2, 'slots keep their index (partition 3)');
  t.same(parsed.problems, ['partition 3: name is not valid UTF-16']);
});

t.test('entry parser: unused slots, stray ranges, wide entries, short input', async (t) => {
  const e = { typeGuid: LINUX_TYPE, uniqueGuid: '11111111-2222-4333-8444-000000000001', firstLba: 2048n, lastLba: 4095n, attributes: (1n << 63n) | 1n, name: 'x' };
  const arr = serializeGptEntries([{ ...e, index: 0 }, { ...e, index: 5 }], 8);
  t.equal(arr.length, 8 * 128);
  const parsed = parseGptEntries(arr, 8, 128);
  t.same(parsed.entries.map((x) => x.index), [0, 5]);
  t.equal(parsed.entries[0]!.attributes, (1n << 63n) | 1n, 'attributes are a lossless u64');
  arr.writeBigUInt64LE(77n, 3 * 128 + 32); // a range in an unused slot
  t.same(parseGptEntries(arr, 8, 128).problems, ['entry 4 has no type but a nonzero range (ignored)']);
  // 256-byte entries: only the first 128 bytes are defined.
  const wide = Buffer.alloc(4 * 256);
  serializeGptEntries([{ ...e, index: 0 }], 1).copy(wide, 256);
  t.same(parseGptEntries(wide, 4, 256).entries.map((x) => x.index), [1]);
  // Fewer bytes than count × size: only whole entries are read.
  t.equal(parseGptEntries(arr.subarray(0, 300), 8, 128).entries.length, 1);
  t.throws(() => serializeGptEntries([{ ...e, index: 8 }], 8), /outside 0\.\.7/);
  t.throws(() => parseGptHeader(Buffer.alloc(91)), /92 bytes/);
});
