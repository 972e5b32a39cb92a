// Foreign signatures: each fixture's head, made by the real tool, is recognised with the type,
// label and UUID blkid reports (the values below were given to the tools and checked with
// `blkid -p`, see docs/fixtures.md).
import t from 'tap';
import { HEAD_SPAN, isVfat, probeSignatures, type Signature, tailRegion, TAIL_SPAN } from '../../lib/format/signatures.js';
import { fixtureNames, fixtureRange, fixtureSize } from '../helpers/fixtures.js';

const names = fixtureNames();
const MIB = 1024 * 1024;

const FOREIGN: Array<{ name: string; offset?: number; want: Partial<Signature>; optional?: boolean }> = [
  { name: 'ext4-whole', want: { type: 'ext4', usage: 'filesystem', label: 'lw-ext4-whole', uuid: '6c77646b-f500-4000-8000-000000000010', offset: 0x438 } },
  { name: 'mbr-two', offset: MIB, want: { type: 'ext4', label: 'lw-mbr-ext4', uuid: '6c77646b-f500-4000-8000-000000000011' } },
  { name: 'vfat-whole', want: { type: 'vfat', usage: 'filesystem', label: 'LWVFAT', uuid: '6C77-646B' } },
  { name: 'xfs-whole', want: { type: 'xfs', usage: 'filesystem', label: 'lwxfs', uuid: '6c77646b-f500-4000-8000-000000000015', offset: 0 }, optional: true },
  { name: 'luks-whole', want: { type: 'crypto_LUKS', usage: 'crypto', label: 'lw-luks', uuid: '6c77646b-f500-4000-8000-000000000016', version: '2', offset: 0 } },
  { name: 'lvm-pv', want: { type: 'LVM2_member', usage: 'raid', uuid: 'Lwdisk-Fixt-ure0-PV00-0000-0000-Lvm017', offset: 512 } },
  {
    name: 'md-1.2',
    want: { type: 'linux_raid_member', usage: 'raid', version: '1.2', label: 'lwdisk:md12', uuid: '6c77646b-6d64-0400-8000-00000000ad12', uuidSub: '6c77646b-6d64-0400-8000-00000000de01', offset: 0x1000 },
  },
  { name: 'iso9660', want: { type: 'iso9660', label: 'LWDISK_ISO' }, optional: true },
];

for (const c of FOREIGN) {
  // Optional fixtures need a tool the fixture machine may lack (CI counts a skip as a failure, so
  // a missing optional fixture is only a comment; the synthetic heads below still cover the format).
  if (c.optional && !names.includes(c.name)) {
    t.comment(`no ${c.name} fixture (its tool was missing when the fixtures were made)`);
    continue;
  }
  t.test(`${c.name}: ${c.want.type}`, async (t) => {
    const at = c.offset ?? 0;
    const size = fixtureSize(c.name) - at;
    const head = await fixtureRange(c.name, at, HEAD_SPAN);
    const found = probeSignatures({ head, tail: Buffer.alloc(0), tailOffset: 0, size });
    t.equal(found.length, 1, `exactly one signature: ${found.map((s) => s.type).join(', ')}`);
    t.match(found[0], c.want);
  });
}

t.test('Lightwhale content and blank space are not foreign signatures', async (t) => {
  for (const [name, at] of [
    ['empty', 0],
    ['magic-blank', 0],
    ['gpt-lightwhale-512', 0], // GPT and swap/btrfs are probed by their own codecs
    ['gpt-lightwhale-512', MIB],
    ['gpt-lightwhale-512', 9 * MIB],
    ['swap-whole', 0],
  ] as const) {
    const head = await fixtureRange(name, at, HEAD_SPAN);
    t.same(probeSignatures({ head, tail: Buffer.alloc(0), tailOffset: 0, size: fixtureSize(name) - at }), [], `${name} @${at}`);
  }
});

t.test('vfat boot sector vs MBR', async (t) => {
  t.ok(isVfat(await fixtureRange('vfat-whole', 0, 512)));
  t.notOk(isVfat(await fixtureRange('mbr-two', 0, 512)), 'an MBR also ends in 55 AA but is not FAT');
  t.notOk(isVfat(await fixtureRange('gpt-lightwhale-512', 0, 512)));
});

t.test('synthetic heads (formats without a fixture tool here)', async (t) => {
  const head = () => Buffer.alloc(HEAD_SPAN);
  const probe = (h: Buffer, size = 64 * MIB) => probeSignatures({ head: h, tail: Buffer.alloc(0), tailOffset: 0, size });
  const iso = head();
  iso[0x8000] = 1;
  iso.write('CD001', 0x8001, 'latin1');
  iso.write('MY_DISC'.padEnd(32, ' '), 0x8028, 'latin1');
  t.match(probe(iso), [{ type: 'iso9660', label: 'MY_DISC', offset: 0x8001 }]);
  const ntfs = head();
  ntfs.write('NTFS    ', 3, 'latin1');
  t.match(probe(ntfs), [{ type: 'ntfs' }]);
  const exfat = head();
  exfat.write('EXFAT   ', 3, 'latin1');
  t.match(probe(exfat), [{ type: 'exfat' }]);
  const sq = head();
  sq.write('hsqs', 0, 'latin1');
  t.match(probe(sq), [{ type: 'squashfs' }]);
  const f2fs = head();
  f2fs.writeUInt32LE(0xf2f52010, 0x400);
  t.match(probe(f2fs), [{ type: 'f2fs' }]);
  const luks1 = head();
  luks1.write('LUKS\xba\xbe', 0, 'latin1');
  luks1.writeUInt16BE(1, 6);
  luks1.write('0a0b0c0d-0000-4000-8000-000000000001', 0xa8, 'latin1');
  t.match(probe(luks1), [{ type: 'crypto_LUKS', version: '1', label: '', uuid: '0a0b0c0d-0000-4000-8000-000000000001' }]);
  // ext2 / ext3 / ext4 by feature flags, as libblkid tells them apart.
  const ext = (compat: number, incompat: number, roCompat: number) => {
    const h = head();
    h.writeUInt16LE(0xef53, 0x438);
    h.writeUInt32LE(compat, 0x45c);
    h.writeUInt32LE(incompat, 0x460);
    h.writeUInt32LE(roCompat, 0x464);
    return probe(h)[0]?.type;
  };
  t.equal(ext(0, 0x2, 0x1), 'ext2');
  t.equal(ext(0x4, 0x2, 0x1), 'ext3');
  t.equal(ext(0x4, 0x2 | 0x40, 0x1), 'ext4', 'extents');
  t.equal(ext(0x4, 0x2, 0x1 | 0x8), 'ext4', 'huge_file');
  t.equal(ext(0, 0x8, 0), 'jbd', 'external journal');
  // md 1.0 and 0.90 live at the end: found only when the tail is read.
  const size = 64 * MIB;
  const { offset, length } = tailRegion(size);
  t.equal(length, TAIL_SPAN);
  const tail = Buffer.alloc(length);
  const v10 = (size & ~0xfff) - 0x2000;
  tail.writeUInt32LE(0xa92b4efc, v10 - offset);
  tail.writeUInt32LE(1, v10 - offset + 4);
  t.same(probeSignatures({ head: head(), tail: Buffer.alloc(0), tailOffset: 0, size }), [], 'tail not read: not found');
  t.match(probeSignatures({ head: head(), tail, tailOffset: offset, size }), [{ type: 'linux_raid_member', version: '1.0', offset: v10 }]);
  const tail090 = Buffer.alloc(length);
  tail090.writeUInt32LE(0xa92b4efc, size - 0x10000 - offset);
  t.match(probeSignatures({ head: head(), tail: tail090, tailOffset: offset, size }), [{ type: 'linux_raid_member', version: '0.90', offset: size - 0x10000 }]);
  t.same(probe(head()), [], 'zeros: nothing');
  t.same(probeSignatures({ head: Buffer.alloc(0), tail: Buffer.alloc(0), tailOffset: 0, size: 0 }), [], 'an empty device: nothing, no crash');
});
