// btrfs superblock codec against superblocks written by mkfs.btrfs (fixtures), at both sector
// sizes (the superblock itself does not depend on the logical sector size; its offset does).
import t from 'tap';
import {
  BTRFS_SUPER_INFO_OFFSET,
  BTRFS_SUPER_INFO_SIZE,
  btrfsCsum,
  btrfsMirrorOffsetsWithin,
  hasBtrfsMagic,
  parseBtrfsSuper,
  serializeBtrfsSuper,
} from '../../lib/format/btrfs.js';
import { expectedScan, fixtureRange, fixtureRanges } from '../helpers/fixtures.js';

const MIB = 1024 * 1024;

/** The data partition's btrfs superblock (primary copy, and the 64 MiB mirror) of a fixture. */
async function superblocks(name: string): Promise<{ primary: Buffer; mirror: Buffer; expected: any }> {
  const part = expectedScan(name).devices[0].table.partitions[1];
  const [primary, mirror] = await fixtureRanges(name, [
    [part.start + BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_SIZE],
    [part.start + 64 * MIB, BTRFS_SUPER_INFO_SIZE],
  ]);
  return { primary: primary!, mirror: mirror!, expected: part.filesystem };
}

t.test('CRC-32C (Castagnoli) check value', async (t) => {
  // btrfsCsum covers bytes 0x20..0xFFF; put "123456789" there and nothing else.
  const block = Buffer.alloc(4096);
  const sum = btrfsCsum(block);
  t.type(sum, 'number');
  const crc32c = (await import('crc-32/crc32c.js')).default;
  t.equal(crc32c.buf(Buffer.from('123456789')) >>> 0, 0xe3069283);
  t.equal(sum, crc32c.buf(block.subarray(0x20)) >>> 0);
});

for (const { name, ss } of [
  { name: 'gpt-lightwhale-512', ss: 512 },
  { name: 'gpt-lightwhale-4096', ss: 4096 },
]) {
  t.test(`mkfs.btrfs superblock (${name}, ${ss}-byte sectors)`, async (t) => {
    const { primary, mirror, expected } = await superblocks(name);
    t.ok(hasBtrfsMagic(primary));
    const info = parseBtrfsSuper(primary)!;
    t.ok(info, 'parsed');
    t.match(info, {
      label: 'lightwhale-data',
      uuid: expected.uuid,
      uuidSub: expected.uuidSub,
      devid: 1n,
      numDevices: 1n,
      generation: BigInt(expected.generation),
      sectorsize: 4096,
      nodesize: 16384,
      csumType: 0,
      csumOk: true,
      problems: [],
    });
    t.equal(info.uuid, `6c77646b-b7f5-4000-8000-00000000000${ss === 512 ? 1 : 2}`, 'fsid as given to mkfs.btrfs -U');
    t.equal(info.raw.bytenr, BigInt(BTRFS_SUPER_INFO_OFFSET), 'bytenr of the primary copy');
    t.equal(info.raw.devItem.fsid.compare(info.raw.fsid), 0, 'dev_item.fsid == fsid');
    t.equal(info.raw.csum.readUInt32LE(0), btrfsCsum(primary), 'stored csum = CRC-32C of 0x20..0xFFF');
    t.ok(info.raw.csum.subarray(4).every((b) => b === 0), 'rest of the csum field zero');
    t.equal(serializeBtrfsSuper(info.raw, primary, false).compare(primary), 0, 'serialize (csum kept) round trip');
    t.equal(serializeBtrfsSuper(info.raw, primary, true).compare(primary), 0, 'serialize (csum recomputed) round trip');

    // The 64 MiB mirror: same filesystem, its own bytenr and csum.
    const m = parseBtrfsSuper(mirror)!;
    t.ok(m, 'mirror at 64 MiB');
    t.equal(m.uuid, info.uuid);
    t.equal(m.csumOk, true);
    t.equal(m.raw.bytenr, BigInt(64 * MIB));
    t.not(m.raw.csum.readUInt32LE(0), info.raw.csum.readUInt32LE(0), 'mirrors have different csums');
  });
}

t.test('a changed byte is a checksum mismatch; recomputing fixes it', async (t) => {
  const { primary } = await superblocks('gpt-lightwhale-512');
  const info = parseBtrfsSuper(primary)!;
  for (const at of [0x20, 0x48, 0x12b, 0x800, 0xfff]) {
    const b = Buffer.from(primary);
    b[at]! ^= 0x01;
    const bad = parseBtrfsSuper(b)!;
    t.equal(bad.csumOk, false, `byte 0x${at.toString(16)}`);
    t.ok(bad.problems.includes('btrfs superblock checksum mismatch'));
  }
  const relabelled = { ...info.raw, label: Buffer.concat([Buffer.from('renamed'), Buffer.alloc(249)]) };
  const fixed = parseBtrfsSuper(serializeBtrfsSuper(relabelled, primary, true))!;
  t.match(fixed, { label: 'renamed', csumOk: true, problems: [] });
  const stale = parseBtrfsSuper(serializeBtrfsSuper(relabelled, primary, false))!;
  t.match(stale, { label: 'renamed', csumOk: false });
  // Bytes 0x00..0x1F are the csum itself: not covered.
  const b = Buffer.from(primary);
  b[0x10] = 0xff;
  t.equal(parseBtrfsSuper(b)!.csumOk, true, 'unused csum bytes are not covered');
});

t.test('btrfs-bad-csum fixture (generation byte changed after mkfs.btrfs)', async (t) => {
  const sb = await fixtureRange('btrfs-bad-csum', BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_SIZE);
  const info = parseBtrfsSuper(sb)!;
  t.match(info, { label: 'lightwhale-data', uuid: '6c77646b-b7f5-4000-8000-000000000027', csumOk: false, problems: ['btrfs superblock checksum mismatch'] });
  const repaired = parseBtrfsSuper(serializeBtrfsSuper(info.raw, sb, true))!;
  t.equal(repaired.csumOk, true, 'the only fault is the csum');
});

t.test('raid1 members: shared fsid, own devid and device UUID', async (t) => {
  const a = parseBtrfsSuper((await superblocks('raid1-a')).primary)!;
  const b = parseBtrfsSuper((await superblocks('raid1-b')).primary)!;
  t.equal(a.uuid, b.uuid);
  t.not(a.uuidSub, b.uuidSub);
  t.same([a.devid, b.devid, a.numDevices, b.numDevices], [1n, 2n, 2n, 2n]);
  t.equal(a.totalBytes, b.totalBytes, 'total_bytes is the sum over devices, the same in both');
  t.equal(a.raw.devItem.totalBytes + b.raw.devItem.totalBytes, a.totalBytes);
});

t.test('insane fields and other checksum types', async (t) => {
  const { primary } = await superblocks('gpt-lightwhale-512');
  const raw = parseBtrfsSuper(primary)!.raw;
  const redo = (patch: object) => parseBtrfsSuper(serializeBtrfsSuper({ ...raw, ...patch }, primary, true))!;
  t.ok(redo({ sectorsize: 0 }).problems.includes('btrfs sectorsize 0 invalid'));
  t.ok(redo({ sectorsize: 6000 }).problems.includes('btrfs sectorsize 6000 invalid'));
  t.ok(redo({ nodesize: 1000 }).problems.includes('btrfs nodesize 1000 invalid'));
  t.ok(redo({ numDevices: 0n }).problems.includes('btrfs num_devices is 0'));
  t.ok(redo({ sysChunkArraySize: 4096 }).problems.includes('btrfs sys_chunk_array_size 4096 > 2048'));
  t.ok(redo({ label: Buffer.alloc(256, 0x41) }).problems.includes('btrfs label is not NUL-terminated'));
  const sha = redo({ csumType: 2 });
  t.equal(sha.csumOk, null, 'sha256: not verified (not mistaken for a bad csum)');
  t.same(sha.problems, []);
  t.ok(redo({ csumType: 9 }).problems.includes('btrfs superblock has unknown checksum type 9'));
  const noMagic = Buffer.from(primary);
  noMagic.write('_BHRfS_X', 0x40, 'latin1');
  t.equal(parseBtrfsSuper(noMagic), null, 'no magic: not btrfs');
  t.equal(parseBtrfsSuper(primary.subarray(0, 4095)), null, 'short block');
});

t.test('superblock copies that fit', async (t) => {
  t.same(btrfsMirrorOffsetsWithin(64 * MIB), [0x10000], '64 MiB: the mirror at 64 MiB does not fit');
  t.same(btrfsMirrorOffsetsWithin(64 * MIB + 4096), [0x10000, 0x4000000]);
  t.same(btrfsMirrorOffsetsWithin(256 * 1024 * MIB + 4096), [0x10000, 0x4000000, 0x4000000000]);
  t.same(btrfsMirrorOffsetsWithin(0x10000), []);
});
