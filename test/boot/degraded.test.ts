// A two-disk raid1 loses a disk: boot mounts degraded (exit 0), warns loudly, the data written
// before is readable, status says degraded with one device missing.
import t from 'tap';
import { systemTestGuard } from '../helpers/system.js';
import { BOOT_TOOLS, bootAndRecord, checkNoStacking, checkPersistentMounts, checkStatusSchema, comparePlan, dev, dryRun, MiB, mountAt, rigFor } from '../helpers/boot.js';

const guard = systemTestGuard(BOOT_TOOLS);

t.test('two-disk raid1 with one disk gone: degraded, loud, data readable', guard, async (t) => {
  const rig = rigFor(t);
  const a = rig.addDisk('a', 512 * MiB, 'magic');
  const b = rig.addDisk('b', 512 * MiB, 'magic');
  const A = dev(a);
  const plan0 = dryRun(t, rig, ['--no-swap'], 'dry0');
  t.same(plan0.dataFilesystem?.profile, { data: 'raid1', metadata: 'raid1' }, 'plan: raid1/raid1 over both disks');
  let first;
  try {
    first = bootAndRecord(rig, 'boot0', ['--no-swap'], `echo precious > "$ROOT/etc/precious"; sync`);
  } finally {
    rig.swapoff();
  }
  t.equal(first.code, 0, `raid1 built ${first.code ? first.stderr : ''}`);
  comparePlan(t, plan0, first.json);
  const uuid = first.json?.result?.dataUuid;
  t.same(first.json?.dataFilesystem?.profile, { data: 'raid1', metadata: 'raid1' }, 'raid1/raid1');
  // --no-swap: the data partition is partition 1.
  t.same(first.json?.dataFilesystem?.members.map((m: any) => m.path), [`${A}p1`, `${dev(b)}p1`], 'members are partition 1 of each disk');

  // Unplug disk b (forgotten by btrfs too, as after a real reboot without it).
  rig.detach(b);
  rig.dropPartitionNodes(a);
  t.same(rig.devices(), [A], 'only disk a is left');

  const plan = dryRun(t, rig, ['--no-swap']);
  t.equal(plan.mode, 'degraded', 'plan: degraded');
  t.equal(plan.dataFilesystem?.uuid, uuid, 'plan: the raid1 filesystem');
  t.equal(plan.dataFilesystem?.missingDevices, 1, 'plan: one device missing');
  t.match(plan.warnings.join('\n'), /DEGRADED/, 'plan warns DEGRADED');
  t.same(plan.claims, [], 'plan: claims nothing');

  let d;
  try {
    d = bootAndRecord(rig, 'boot1', ['--no-swap'], `cat "$ROOT/etc/precious" > "$OUT/precious" 2>&1; $LWDISK status --root "$ROOT" > "$OUT/status.txt"`);
  } finally {
    rig.swapoff();
  }
  t.equal(d.code, 0, `degraded boot exits 0 ${d.code ? d.stderr : ''}`);
  t.match(d.stderr, /DEGRADED/, 'stderr warns DEGRADED');
  t.match(d.stderr, /1 of 2 devices? missing/i, 'stderr says how many are missing');
  comparePlan(t, plan, d.json);
  t.equal(d.json?.result?.mode, 'degraded', 'result: degraded');
  checkPersistentMounts(t, d.mountinfo, rig.root, [`${A}p1`]);
  checkNoStacking(t, d.mountinfo, rig.root);
  t.match(mountAt(d.mountinfo, `${rig.root}/mnt/lightwhale-data`)?.options ?? '', /(^|,)degraded(,|$)/, 'mounted with -o degraded');
  t.equal(rig.read('precious'), 'precious\n', 'the file written before is readable');
  checkStatusSchema(t, d.status, 'degraded');
  t.equal(d.status?.filesystem?.uuid, uuid, 'status: the raid1 filesystem');
  t.equal(d.status?.filesystem?.missingDevices, 1, 'status: missingDevices 1');
  t.same(d.status?.filesystem?.devices, [{ path: `${A}p1`, devid: 1 }], 'status: the member present');
  t.match(rig.read('status.txt'), /mode: degraded/, 'human status says degraded');
  t.match(rig.read('status.txt'), /1 MISSING/, 'human status shows the missing device');
});
