// probeDevice over in-memory devices: tables built by lib/format (the fixtures test covers tables
// built by the real tools), at 512 and 4096-byte sectors; fallbacks, roles, problems, I/O shape.
import t from 'tap';
import { MemoryDevice } from '../../lib/device/memory.js';
import { BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_SIZE } from '../../lib/format/btrfs.js';
import { buildGpt, type GptImage, usableRange } from '../../lib/format/gpt.js';
import { MAGIC_RECORD } from '../../lib/format/magic.js';
import { buildSwapHeader } from '../../lib/format/swap.js';
import { probeDevice } from '../../lib/probe.js';
import { expectedScan, fixtureRange } from '../helpers/fixtures.js';

const MIB = 1024 * 1024;
const SWAP_TYPE = '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f';
const LINUX_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';

/** A Lightwhale layout (swap 64 MiB at 1 MiB, data over the rest) written into a memory device. */
function lightwhaleDevice(ss: number, size: number, options: { known?: boolean } = {}): { dev: MemoryDevice; gpt: GptImage } {
  const total = BigInt(size / ss);
  const { last } = usableRange(ss, total);
  const mib = BigInt(MIB / ss);
  const swapEnd = mib + BigInt((64 * MIB) / ss) - 1n;
  const gpt = buildGpt(ss, total, 'aaaaaaaa-0000-4000-8000-000000000000', [
    { typeGuid: SWAP_TYPE, uniqueGuid: 'aaaaaaaa-0000-4000-8000-000000000001', firstLba: mib, lastLba: swapEnd, name: 'lightwhale-swap' },
    { typeGuid: LINUX_TYPE, uniqueGuid: 'aaaaaaaa-0000-4000-8000-000000000002', firstLba: swapEnd + 1n, lastLba: last, name: 'lightwhale-data' },
  ]);
  const dev = new MemoryDevice(size, options.known ? { sectorSize: ss, sectorSizeKnown: true, path: '/dev/fake', kind: 'disk' } : { path: 'fake.img' });
  dev.poke(0, gpt.pmbr);
  dev.poke(ss, gpt.primaryHeader);
  dev.poke(2 * ss, gpt.entries);
  dev.poke(Number(gpt.backupEntriesLba) * ss, gpt.entries);
  dev.poke(Number(gpt.backupHeaderLba) * ss, gpt.backupHeader);
  return { dev, gpt };
}

const btrfsSuper = async (): Promise<Buffer> => {
  const part = expectedScan('gpt-lightwhale-512').devices[0].table.partitions[1];
  return fixtureRange('gpt-lightwhale-512', part.start + BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_SIZE);
};

for (const ss of [512, 4096]) {
  t.test(`lwdisk's own layout at ${ss}-byte sectors`, async (t) => {
    for (const known of [false, true]) {
      const { dev } = lightwhaleDevice(ss, 1024 * MIB, { known });
      const { model, detail } = await probeDevice(dev);
      t.equal(model.sectorSize, ss, known ? 'sector size from the kernel' : 'image: sector size found from the GPT');
      t.match(model, { role: 'partitioned', magic: false, problems: [], table: { type: 'gpt', id: 'aaaaaaaa-0000-4000-8000-000000000000', sectorSize: ss, problems: [] } });
      t.match(model.table!.partitions, [
        { number: 1, start: MIB, size: 64 * MIB, name: 'lightwhale-swap', type: SWAP_TYPE, role: 'magic-swap-partition', filesystem: null, path: null, problems: [] },
        { number: 2, start: 65 * MIB, name: 'lightwhale-data', type: LINUX_TYPE, role: 'magic-data-partition', filesystem: null, problems: [] },
      ]);
      t.equal(model.table!.partitions[1]!.start + model.table!.partitions[1]!.size, 1024 * MIB - (ss === 512 ? 33 : 5) * ss, 'data runs to the last usable LBA');
      t.equal(detail.primary?.valid, true);
      t.equal(detail.backup, null, 'scan does not read the backup when the primary is good');
    }
  });

  t.test(`I/O shape at ${ss}: one head read, one read per partition`, async (t) => {
    const { dev } = lightwhaleDevice(ss, 1024 * MIB);
    await probeDevice(dev);
    t.equal(dev.readLog.length, 3, JSON.stringify(dev.readLog));
    t.same(dev.readLog[0], [0, 0x11000], 'the head covers LBA 0, both header and entries, and the btrfs superblock');
    const withBackup = lightwhaleDevice(ss, 1024 * MIB).dev;
    const r = await probeDevice(withBackup, { readBackup: true });
    t.equal(withBackup.readLog.length, 4, 'inspect: plus one read for the backup array and header');
    t.match(r.detail.backup, { valid: true, entryCrcOk: true, lba: BigInt((1024 * MIB) / ss - 1) });
    t.same(r.model.table!.problems, []);
  });

  t.test(`content and roles at ${ss}`, async (t) => {
    const { dev } = lightwhaleDevice(ss, 1024 * MIB);
    dev.poke(MIB, buildSwapHeader({ pageSize: 4096, size: 64 * MIB, uuid: '01234567-89ab-cdef-0123-456789abcdef', label: 'lightwhale-swap' }));
    const sb = await btrfsSuper();
    dev.poke(65 * MIB + BTRFS_SUPER_INFO_OFFSET, sb);
    const { model } = await probeDevice(dev);
    t.match(model.table!.partitions, [
      { role: 'magic-swap-partition', filesystem: { type: 'swap', label: 'lightwhale-swap', uuid: '01234567-89ab-cdef-0123-456789abcdef', pageSize: 4096, version: 1 } },
      { role: 'data-filesystem', filesystem: { type: 'btrfs', label: 'lightwhale-data', devid: 1, numDevices: 1 } },
    ]);
    // Swap over an old btrfs: ambivalent, so the magic data partition is left alone.
    dev.poke(65 * MIB, buildSwapHeader({ pageSize: 4096, size: 64 * MIB, uuid: '01234567-89ab-cdef-0123-456789abcdef', label: 'x' }));
    const again = (await probeDevice(dev)).model.table!.partitions[1]!;
    t.match(again, { role: 'foreign', filesystem: { type: 'btrfs' }, otherSignatures: ['swap'] });
    t.ok(again.problems.includes('more than one signature: btrfs, swap'));
    t.ok(again.problems.some((p) => /magic partition holds btrfs, swap: left alone/.test(p)));
    // The magic over all of it wins at the disk level; the stale content stays visible.
    dev.poke(0, MAGIC_RECORD);
    const magic = (await probeDevice(dev)).model;
    t.match(magic, { magic: true, role: 'magic-disk', table: { type: 'gpt' } });
  });

  t.test(`damaged tables at ${ss}`, async (t) => {
    {
      const { dev } = lightwhaleDevice(ss, 256 * MIB);
      dev.poke(ss + 16, Buffer.from([0xde, 0xad]));
      const { model, detail } = await probeDevice(dev);
      t.equal(model.table!.partitions.length, 2, 'bad primary CRC: partitions from the backup');
      t.same(model.table!.problems, ['primary GPT header: header CRC mismatch', 'primary GPT unusable: partitions read from the backup (the Linux kernel will not use this table)']);
      t.equal(detail.backup?.valid, true);
    }
    {
      const { dev, gpt } = lightwhaleDevice(ss, 256 * MIB);
      dev.poke(ss + 16, Buffer.from([0xde, 0xad]));
      dev.poke(Number(gpt.backupHeaderLba) * ss + 16, Buffer.from([0xde, 0xad]));
      const { model } = await probeDevice(dev);
      t.same(model.table!.partitions, [], 'both headers bad: no partitions');
      t.ok(model.table!.problems.includes('no valid GPT header: no partitions listed'));
      t.equal(model.role, 'partitioned', 'still a table: never mistaken for blank');
    }
    {
      const { dev } = lightwhaleDevice(ss, 256 * MIB);
      dev.poke(2 * ss + 56, Buffer.from('X\0'));
      const { model } = await probeDevice(dev);
      t.ok(model.table!.problems.includes('primary GPT entry array CRC mismatch'));
      t.equal(model.table!.partitions[0]!.name, 'lightwhale-swap', 'names from the (good) backup array');
    }
    {
      // The device grew: the backup is no longer at the end.
      const { gpt } = lightwhaleDevice(ss, 256 * MIB);
      const dev = new MemoryDevice(512 * MIB, { path: 'grown.img' });
      dev.poke(0, gpt.pmbr);
      dev.poke(ss, gpt.primaryHeader);
      dev.poke(2 * ss, gpt.entries);
      const { model } = await probeDevice(dev);
      t.equal(model.sectorSize, ss);
      t.ok(model.table!.problems.some((p) => /backup GPT header not at the end of the device/.test(p)));
      t.ok(model.table!.problems.some((p) => /protective MBR size/.test(p)));
      t.equal(model.table!.partitions.length, 2);
    }
    {
      // Cut in the middle of the entry array.
      const { dev: whole } = lightwhaleDevice(ss, 256 * MIB);
      const cut = 2 * ss + 8192;
      const dev = new MemoryDevice(cut, { path: 'cut.img', content: whole.peek(0, cut) });
      const { model } = await probeDevice(dev);
      t.same(model.table!.partitions, []);
      t.ok(model.table!.problems.some((p) => /entry array LBA .* outside the device/.test(p)), model.table!.problems.join('; '));
      t.ok(model.table!.problems.some((p) => /backup GPT header not found/.test(p)));
    }
  });

  t.test(`a 4096-byte GPT on a device the kernel says is 512 (and vice versa), at ${ss}`, async (t) => {
    const { gpt } = lightwhaleDevice(ss, 256 * MIB);
    const other = ss === 512 ? 4096 : 512;
    const dev = new MemoryDevice(256 * MIB, { sectorSize: other, sectorSizeKnown: true, path: '/dev/fake', kind: 'disk' });
    dev.poke(0, gpt.pmbr);
    dev.poke(ss, gpt.primaryHeader);
    dev.poke(2 * ss, gpt.entries);
    const { model } = await probeDevice(dev);
    t.equal(model.sectorSize, other, 'the kernel\'s sector size is used');
    t.ok(model.problems.includes(`GPT header found for ${ss}-byte sectors, but the device uses ${other}`));
  });
}

t.test('a 20 TiB sparse disk: 64-bit LBAs, clamped PMBR', async (t) => {
  const size = 20 * 1024 * 1024 * MIB;
  for (const ss of [512, 4096]) {
    const { dev } = lightwhaleDevice(ss, size);
    const { model } = await probeDevice(dev);
    t.match(model, { size, sectorSize: ss, problems: [], table: { problems: [] } }, `${ss}`);
    t.equal(model.table!.partitions[1]!.start + model.table!.partitions[1]!.size, size - (ss === 512 ? 33 : 5) * ss);
  }
});

t.test('whole-device filesystems and blank devices', async (t) => {
  const sb = await btrfsSuper();
  const whole = new MemoryDevice(256 * MIB, { path: 'btrfs.img' });
  whole.poke(BTRFS_SUPER_INFO_OFFSET, sb);
  t.match((await probeDevice(whole)).model, { role: 'data-filesystem', table: null, filesystem: { type: 'btrfs', label: 'lightwhale-data' } });
  const swap = new MemoryDevice(64 * MIB, { path: 'swap.img' });
  swap.poke(0, buildSwapHeader({ pageSize: 4096, size: 64 * MIB, uuid: '01234567-89ab-cdef-0123-456789abcdef', label: 'lightwhale-swap' }));
  t.match((await probeDevice(swap)).model, { role: 'foreign', filesystem: { type: 'swap' } }, 'a whole-disk swap is not Lightwhale\'s');
  t.match((await probeDevice(new MemoryDevice(64 * MIB))).model, { role: 'empty', table: null, filesystem: null, problems: [] });
  t.match((await probeDevice(new MemoryDevice(0))).model, { role: 'empty', problems: ['device is empty (0 bytes)'] });
  t.match((await probeDevice(new MemoryDevice(100))).model, { role: 'empty', problems: ['device is only 100 bytes'] });
  const magic = new MemoryDevice(64 * MIB);
  magic.poke(0, MAGIC_RECORD);
  t.match((await probeDevice(magic)).model, { role: 'magic-disk', magic: true, table: null });
});
