// An old Lightwhale disk (complete GPT + btrfs lightwhale-data) re-marked with
// `lwdisk mark --force --yes`, alone: the magic header wins over the stale content on that disk,
// so boot claims it afresh (new filesystem UUID), and the old data is gone.
import t from 'tap';
import { lwdisk } from '../helpers/cli.js';
import { systemTestGuard } from '../helpers/system.js';
import { BOOT_TOOLS, bootAndRecord, checkPersistentMounts, checkStatusSchema, comparePlan, dev, dryRun, MAGIC, MiB, refKey, rigFor } from '../helpers/boot.js';

const guard = systemTestGuard(BOOT_TOOLS);

for (const [label, firstArgs, secondArgs] of [
  ['same layout', [], []],
  ['a --no-swap layout over a swap layout', [], ['--no-swap']],
] as const) {
  t.test(`a re-marked Lightwhale disk is claimed afresh (${label})`, guard, async (t) => {
    const rig = rigFor(t);
    const disk = rig.addDisk('old', 768 * MiB, 'magic');
    const D = dev(disk);
    const plan0 = dryRun(t, rig, [...firstArgs], 'dry0');
    let first;
    try {
      first = bootAndRecord(rig, 'old', [...firstArgs], `echo old > "$ROOT/etc/old-file"; sync`);
    } finally {
      rig.swapoff();
    }
    t.equal(first.code, 0, `the old Lightwhale disk is made ${first.code ? first.stderr : ''}`);
    comparePlan(t, plan0, first.json);
    const oldUuid = first.json?.result?.dataUuid;

    const refused = lwdisk(['mark', '--yes', D]);
    t.equal(refused.code, 3, 'mark without --force refuses a disk holding a table and a filesystem');
    const m = lwdisk(['mark', '--force', '--yes', D]);
    t.equal(m.code, 0, `mark --force --yes ${m.code ? m.stderr : ''}`);
    t.equal(rig.head(disk, 28).toString('latin1'), MAGIC, 'the magic header is written');

    const plan = dryRun(t, rig, [...secondArgs]);
    t.equal(plan.dataFilesystem?.create, true, 'plan: a new filesystem (the stale one on the magic disk is ignored)');
    t.same(plan.claims.map((c: any) => c.disk), [D], 'plan: claims the re-marked disk');
    const dataNo = secondArgs.length ? 1 : 2;
    t.same(plan.formatData.map(refKey), [`${D}#${dataNo}`], `plan: data on partition ${dataNo}`);

    let b;
    try {
      b = bootAndRecord(rig, 'new', [...secondArgs], `ls -A "$ROOT/etc" > "$OUT/etc.ls"`);
    } finally {
      rig.swapoff();
    }
    t.equal(b.code, 0, `boot exits 0 ${b.code ? b.stderr : ''}`);
    comparePlan(t, plan, b.json);
    const newUuid = b.json?.result?.dataUuid;
    t.match(newUuid, /^[0-9a-f-]{36}$/, 'a filesystem UUID');
    t.not(newUuid, oldUuid, 'a NEW filesystem UUID');
    t.notMatch(rig.read('etc.ls'), /old-file/, 'the old file is gone');
    checkPersistentMounts(t, b.mountinfo, rig.root, [`${D}p${dataNo}`]);
    checkStatusSchema(t, b.status, 'persistent');
    t.equal(b.status?.filesystem?.uuid, newUuid, 'status: the new filesystem');
    t.not(rig.head(disk, 27).toString('latin1'), MAGIC.slice(0, 27), 'the magic is erased again');
  });
}
