// Two and three magic disks: one btrfs over all data partitions, raid1/raid1 and raid1/raid1c3
// (SPEC step 5), every member mounted with device=, swap on each disk's lightwhale-swap partition.
import t from 'tap';
import { systemTestGuard } from '../helpers/system.js';
import {
  allocationProfiles,
  BOOT_TOOLS,
  bootAndRecord,
  checkNoStacking,
  checkPersistentMounts,
  checkStatusSchema,
  comparePlan,
  dev,
  dryRun,
  MiB,
  refKey,
  rigFor,
} from '../helpers/boot.js';

const guard = systemTestGuard(BOOT_TOOLS);

for (const [n, data, metadata, dfMeta] of [
  [2, 'raid1', 'raid1', 'RAID1'],
  [3, 'raid1', 'raid1c3', 'RAID1C3'],
] as const) {
  t.test(`${n} magic disks: ${data}/${metadata}`, guard, async (t) => {
    const rig = rigFor(t);
    const disks = Array.from({ length: n }, (_, i) => rig.addDisk(`magic${i}`, 512 * MiB, 'magic'));
    const paths = disks.map(dev);

    const plan = dryRun(t, rig);
    t.equal(plan.mode, 'persistent', 'plan: persistent');
    t.same(plan.claims.map((c: any) => c.disk), paths, 'plan: claims every magic disk');
    t.same(plan.formatData.map(refKey), paths.map((p) => `${p}#2`), 'plan: every data partition');
    t.same(plan.formatSwap.map(refKey), paths.map((p) => `${p}#1`), 'plan: every swap partition');
    t.same(plan.dataFilesystem?.profile, { data, metadata }, `plan: ${data}/${metadata}`);
    t.equal(plan.dataFilesystem?.numDevices, n, `plan: ${n} devices`);

    let b;
    try {
      b = bootAndRecord(rig, 'boot');
    } finally {
      rig.swapoff();
    }
    t.equal(b.code, 0, `boot exits 0 ${b.code ? b.stderr : ''}`);
    comparePlan(t, plan, b.json);
    const uuid: string = b.json?.result?.dataUuid;
    t.same(allocationProfiles(rig, 'boot', uuid), { data: [data], metadata: [metadata] }, `allocation profiles ${data}/${metadata}`);
    t.match(b.json ? rig.read('boot.df') : '', new RegExp(`Data, RAID1:`), 'btrfs filesystem df: Data, RAID1');
    t.match(rig.read('boot.df'), new RegExp(`Metadata, ${dfMeta}:`), `btrfs filesystem df: Metadata, ${dfMeta}`);
    const members = paths.map((p) => `${p}p2`);
    checkPersistentMounts(t, b.mountinfo, rig.root, members);
    checkNoStacking(t, b.mountinfo, rig.root);
    for (const p of paths) t.match(b.swaps, new RegExp(`^${p}p1\\s+partition`, 'm'), `swap active on ${p}p1`);
    const opts = b.mountinfo.split('\n').find((l) => l.split(' ')[4] === `${rig.root}/mnt/lightwhale-data`) ?? '';
    t.notMatch(opts, /degraded/, 'not mounted degraded');

    checkStatusSchema(t, b.status, 'persistent');
    t.equal(b.status?.filesystem?.uuid, uuid, 'status: the new filesystem');
    t.same(
      (b.status?.filesystem?.devices ?? []).map((d: any) => d.path),
      members,
      'status: every member, in devid order',
    );
    t.same(
      (b.status?.filesystem?.devices ?? []).map((d: any) => d.devid),
      members.map((_, i) => i + 1),
      'status: devids 1..n',
    );
    t.equal(b.status?.filesystem?.missingDevices, 0, 'status: nothing missing');
  });
}
