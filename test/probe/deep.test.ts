// The deep probe (used before anything is written: mark, partition, mkswap, boot): an area whose
// head is blank is also checked for md 0.90/1.0 at its end and for a btrfs whose primary superblock
// is gone but whose copy at 64 MiB remains. Such a partition must never be taken for blank.
import t from 'tap';
import { MemoryDevice } from '../../lib/device/memory.js';
import { BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_SIZE } from '../../lib/format/btrfs.js';
import { buildGpt, usableRange } from '../../lib/format/gpt.js';
import { buildPlan } from '../../lib/persistence/plan.js';
import { probeDevice } from '../../lib/probe.js';
import { expectedScan, fixtureRange } from '../helpers/fixtures.js';

const MIB = 1024 * 1024;
const LINUX_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';

for (const ss of [512, 4096]) {
  t.test(`a lightwhale-data partition with only the 64 MiB btrfs copy (sector ${ss})`, async (t) => {
    const size = 512 * MIB;
    const total = BigInt(size / ss);
    const first = BigInt(MIB / ss);
    const gpt = buildGpt(ss, total, 'bbbbbbbb-0000-4000-8000-000000000000', [
      { typeGuid: LINUX_TYPE, uniqueGuid: 'bbbbbbbb-0000-4000-8000-000000000001', firstLba: first, lastLba: usableRange(ss, total).last, name: 'lightwhale-data' },
    ]);
    const dev = new MemoryDevice(size, { path: 'copy-only.img' });
    dev.poke(0, gpt.pmbr);
    dev.poke(ss, gpt.primaryHeader);
    dev.poke(2 * ss, gpt.entries);
    dev.poke(Number(gpt.backupEntriesLba) * ss, gpt.entries);
    dev.poke(Number(gpt.backupHeaderLba) * ss, gpt.backupHeader);
    const part = expectedScan('gpt-lightwhale-512').devices[0].table.partitions[1];
    const sb = await fixtureRange('gpt-lightwhale-512', part.start + BTRFS_SUPER_INFO_OFFSET, BTRFS_SUPER_INFO_SIZE);
    dev.poke(MIB + 64 * MIB, sb); // the copy only; the primary at +64 KiB stays zero

    const shallow = (await probeDevice(dev)).model.table!.partitions[0]!;
    t.equal(shallow.filesystem, null, 'scan (shallow) reads only the head: blank');
    t.equal(shallow.role, 'magic-data-partition');

    const deep = (await probeDevice(dev, { deep: true })).model;
    const p = deep.table!.partitions[0]!;
    t.equal(p.filesystem?.type, 'btrfs-superblock-copy', 'the deep probe finds the copy');
    t.equal(p.filesystem?.label, 'lightwhale-data');
    t.equal(p.role, 'foreign', 'not blank, not mountable: foreign');
    t.match(p.problems.join('\n'), /primary superblock missing; a copy at 64 MiB remains/);

    const plan = buildPlan({ devices: [deep], unreadable: [], mounts: [], root: '/tmp/x', dryRun: true, noSwap: null });
    t.equal(plan.formatData.length, 0, 'boot does not format it');
    t.equal(plan.dataFilesystem, null, 'nor mounts it');
    t.ok(plan.skipped.some((s) => /left alone/.test(s.reason)), 'and says it is left alone');
  });
}
