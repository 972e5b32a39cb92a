// MBR codec: round trips of LBA 0 as sfdisk (dos) and sgdisk (protective) wrote it, at 512 and
// 4096-byte sectors; the protective record lwdisk writes; classification.
import t from 'tap';
import {
  buildProtectiveMbr,
  classifyMbr,
  hasBootSignature,
  type Mbr,
  MBR_SIGNATURE,
  mbrTypeText,
  parseMbr,
  protectiveRecord,
  serializeMbr,
} from '../../lib/format/mbr.js';
import { fixtureRange, fixtureSize } from '../helpers/fixtures.js';

for (const { ss, fixture } of [
  { ss: 512, fixture: 'gpt-lightwhale-512' },
  { ss: 4096, fixture: 'gpt-lightwhale-4096' },
]) {
  t.test(`protective MBR written by sgdisk at ${ss}-byte sectors`, async (t) => {
    const lba0 = await fixtureRange(fixture, 0, ss);
    const mbr = parseMbr(lba0);
    t.equal(serializeMbr(mbr, ss).compare(lba0), 0, 'parse → serialize gives LBA 0 back, byte for byte');
    t.equal(classifyMbr(mbr), 'protective');
    t.ok(hasBootSignature(mbr));
    const total = fixtureSize(fixture) / ss;
    t.match(protectiveRecord(mbr), { bootIndicator: 0, osType: 0xee, startingLba: 1, sizeInLba: total - 1 });
    t.same(mbr.partitions.slice(1).map((r) => r.osType), [0, 0, 0]);
    t.ok(lba0.subarray(512).every((b) => b === 0), 'rest of a 4 KiB LBA 0 is zero');
  });

  t.test(`buildProtectiveMbr at ${ss}-byte sectors`, async (t) => {
    for (const [total, size] of [
      [131072n, 131071],
      [0x100000000n, 0xffffffff],
      [0x1000000000n, 0xffffffff], // > 2 TiB at 512, > 16 TiB at 4096: clamped
    ] as const) {
      const mbr = buildProtectiveMbr(total);
      const bytes = serializeMbr(mbr, ss);
      t.equal(bytes.length, ss);
      t.equal(bytes.subarray(446, 462).toString('hex'), `000002 00ee ffffff 01000000 ${Buffer.from(new Uint32Array([size]).buffer).toString('hex')}`.replace(/ /g, ''), `record 0 for N=${total}`);
      t.ok(bytes.subarray(0, 446).every((b) => b === 0), 'boot code, disk signature and 444..445 zero');
      t.ok(bytes.subarray(462, 510).every((b) => b === 0), 'records 1..3 zero');
      t.equal(bytes.readUInt16LE(510), MBR_SIGNATURE);
      t.same(parseMbr(bytes), mbr, 'parses back');
      t.equal(classifyMbr(parseMbr(bytes)), 'protective');
    }
  });
}

t.test('dos MBR written by sfdisk (mbr-two)', async (t) => {
  const lba0 = await fixtureRange('mbr-two', 0, 512);
  const mbr = parseMbr(lba0);
  t.equal(serializeMbr(mbr).compare(lba0), 0, 'round trip');
  t.equal(classifyMbr(mbr), 'dos');
  t.equal(mbr.uniqueMbrSignature, 0x6c77646b, 'label-id');
  t.match(mbr.partitions, [
    { osType: 0x83, startingLba: 2048, sizeInLba: 6144 },
    { osType: 0x82, startingLba: 8192, sizeInLba: 8192 },
    { osType: 0 },
    { osType: 0 },
  ]);
  t.equal(mbrTypeText(0x83), '0x83');
  t.equal(mbrTypeText(0x0c), '0xc', 'as blkid prints PART_ENTRY_TYPE (0x%x)');
  t.equal(mbrTypeText(0), '0x0');
});

t.test('classifyMbr', async (t) => {
  const base = (): Mbr => parseMbr(serializeMbr(buildProtectiveMbr(1000n)));
  t.equal(classifyMbr(parseMbr(Buffer.alloc(512))), 'none', 'zeros: no 55 AA');
  const noSig = base();
  noSig.signature = 0;
  t.equal(classifyMbr(noSig), 'none');
  const hybrid = base();
  hybrid.partitions[1] = { ...hybrid.partitions[1]!, osType: 0x0c, startingLba: 2048, sizeInLba: 100 };
  t.equal(classifyMbr(hybrid), 'hybrid', '0xEE plus another record');
  const eeLater = base();
  eeLater.partitions[3] = eeLater.partitions[0]!;
  eeLater.partitions[0] = { ...eeLater.partitions[1]! };
  t.equal(classifyMbr(eeLater), 'protective', '0xEE in another slot is still protective');
  const dos = base();
  dos.partitions[0] = { ...dos.partitions[0]!, osType: 0x83, bootIndicator: 0x80 };
  t.equal(classifyMbr(dos), 'dos');
  const emptyDos = base();
  emptyDos.partitions[0] = { ...emptyDos.partitions[1]! };
  t.equal(classifyMbr(emptyDos), 'dos', '55 AA and no records: an empty dos table (libblkid)');
  const badBoot = base();
  badBoot.partitions[0] = { ...badBoot.partitions[0]!, osType: 0x83, bootIndicator: 0x12 };
  t.equal(classifyMbr(badBoot), 'none', 'boot indicator other than 0x00/0x80: not a partition table');
  t.throws(() => parseMbr(Buffer.alloc(511)), /512 bytes/);
});
