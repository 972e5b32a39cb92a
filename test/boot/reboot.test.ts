// Persistence across "reboots" (a new mount namespace each time, same loop devices) and
// idempotence: boot again in the same namespace changes nothing; two boots at once serialise on
// the per-device lock (the second waits, then finds everything in place).
import t from 'tap';
import { systemTestGuard } from '../helpers/system.js';
import { BOOT_TOOLS, bootAndRecord, checkNoStacking, checkPersistentMounts, checkStatusSchema, comparePlan, dev, dryRun, MiB, rigFor, ROOT_FILES } from '../helpers/boot.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const guard = systemTestGuard(BOOT_TOOLS);

t.test('a file written under <root>/etc survives three reboots', guard, async (t) => {
  const rig = rigFor(t);
  const disk = rig.addDisk('magic', 512 * MiB, 'magic');
  const M = dev(disk);
  const plan0 = dryRun(t, rig, [], 'dry0');
  let first;
  try {
    first = bootAndRecord(rig, 'boot0', [], `printf 'boot 0\\n' > "$ROOT/etc/persist.conf"; printf 'home\\n' > "$ROOT/home/user/notes"; sync`);
  } finally {
    rig.swapoff();
  }
  t.equal(first.code, 0, `first boot claims the disk ${first.code ? first.stderr : ''}`);
  comparePlan(t, plan0, first.json);
  const uuid = first.json?.result?.dataUuid;
  t.notOk(existsSync(join(rig.root, 'etc/persist.conf')), 'the file went to the upper layer, not the original /etc');

  for (let i = 1; i <= 3; i++) {
    // After a real reboot the kernel would have no partition nodes until boot runs partx.
    rig.dropPartitionNodes(disk);
    const plan = dryRun(t, rig, [], `dry${i}`);
    t.equal(plan.mode, 'persistent', `reboot ${i}: plan persistent`);
    t.equal(plan.dataFilesystem?.uuid, uuid, `reboot ${i}: plan finds the same filesystem`);
    t.same(plan.claims, [], `reboot ${i}: plan claims nothing`);
    t.same(plan.formatData, [], `reboot ${i}: plan formats nothing`);
    let b;
    try {
      b = bootAndRecord(
        rig,
        `boot${i}`,
        [],
        `cat "$ROOT/etc/persist.conf" > "$OUT/persist${i}" 2>&1; cat "$ROOT/home/user/notes" > "$OUT/notes${i}" 2>&1
printf 'boot ${i}\\n' >> "$ROOT/etc/persist.conf"; sync`,
      );
    } finally {
      rig.swapoff();
    }
    t.equal(b.code, 0, `reboot ${i}: boot exits 0 ${b.code ? b.stderr : ''}`);
    comparePlan(t, plan, b.json);
    t.equal(b.json?.result?.dataUuid, uuid, `reboot ${i}: same filesystem`);
    t.equal(rig.read(`persist${i}`), Array.from({ length: i }, (_, k) => `boot ${k}\n`).join(''), `reboot ${i}: the file under /etc is there, with every earlier boot's line`);
    t.equal(rig.read(`notes${i}`), 'home\n', `reboot ${i}: the file under /home is there`);
    t.match(b.swaps, new RegExp(`^${M}p1\\s`, 'm'), `reboot ${i}: swap on again`);
    checkPersistentMounts(t, b.mountinfo, rig.root, [`${M}p2`]);
    checkStatusSchema(t, b.status, 'persistent');
  }
});

t.test('boot twice in one namespace changes nothing; two boots at once wait for each other', guard, async (t) => {
  const rig = rigFor(t);
  const disk = rig.addDisk('magic', 512 * MiB, 'magic');
  const M = dev(disk);
  const boot = (tag: string): string => `$LWDISK boot --json --root "$ROOT" --devices $DEVS > "$OUT/${tag}.json" 2> "$OUT/${tag}.err"; echo $? > "$OUT/${tag}.rc"`;
  let r;
  try {
    r = rig.ns(`
$LWDISK boot --json --root "$ROOT" --devices $DEVS > "$OUT/c1.json" 2> "$OUT/c1.err" & p1=$!
$LWDISK boot --json --root "$ROOT" --devices $DEVS > "$OUT/c2.json" 2> "$OUT/c2.err" & p2=$!
wait $p1; echo $? > "$OUT/c1.rc"; wait $p2; echo $? > "$OUT/c2.rc"
cat /proc/self/mountinfo > "$OUT/m1"; cat /proc/swaps > "$OUT/s1"
${boot('again')}
cat /proc/self/mountinfo > "$OUT/m2"; cat /proc/swaps > "$OUT/s2"
$LWDISK boot --dry-run --json --root "$ROOT" --devices $DEVS > "$OUT/dry.json" 2> "$OUT/dry.err"
${boot('third')}
cat /proc/self/mountinfo > "$OUT/m3"
for f in ${Object.keys(ROOT_FILES).join(' ')}; do cat "$ROOT/$f"; done > "$OUT/files"
$LWDISK status --root "$ROOT" --json > "$OUT/status.json"
`);
  } finally {
    rig.swapoff();
  }
  t.equal(r.code, 0, 'namespace script ran');
  t.equal(rig.read('c1.rc').trim(), '0', `first concurrent boot exits 0 ${rig.read('c1.err')}`);
  t.equal(rig.read('c2.rc').trim(), '0', `second concurrent boot exits 0 ${rig.read('c2.err')}`);
  const errs = [rig.read('c1.err'), rig.read('c2.err')];
  t.equal(errs.filter((e) => /waiting for another lwdisk/.test(e)).length, 1, 'one of the two waited for the other (per-device lock)');
  const results = [rig.readJson('c1.json'), rig.readJson('c2.json')];
  t.equal(results.filter((j) => j.claims.length === 1).length, 1, 'exactly one claimed the disk');
  t.equal(results.filter((j) => j.dataFilesystem?.create === false).length, 1, 'the other found the filesystem the first made');
  t.equal(results[0].result.dataUuid, results[1].result.dataUuid, 'both report the same filesystem');
  const m1 = rig.read('m1');
  checkPersistentMounts(t, m1, rig.root, [`${M}p2`]);
  checkNoStacking(t, m1, rig.root);

  t.equal(rig.read('again.rc').trim(), '0', 'boot again: exit 0');
  t.equal(rig.read('m2'), m1, 'boot again: /proc/self/mountinfo identical');
  t.equal(rig.read('s2'), rig.read('s1'), 'boot again: /proc/swaps identical');
  t.match(rig.read('again.err'), /already mounted/, 'boot again says what is already there');
  const again = rig.readJson('again.json');
  t.same(
    again.actions.filter((a: any) => a.step >= 6 && a.action !== 'mkdir').map((a: any) => a.state),
    again.actions.filter((a: any) => a.step >= 6 && a.action !== 'mkdir').map(() => 'present'),
    'boot again: every mount and swap action "present"',
  );
  const dry = rig.readJson('dry.json');
  t.same(
    dry.actions.filter((a: any) => a.step >= 6 && a.action !== 'mkdir').map((a: any) => a.state),
    dry.actions.filter((a: any) => a.step >= 6 && a.action !== 'mkdir').map(() => 'present'),
    'dry run in a booted namespace: everything present',
  );
  comparePlan(t, dry, rig.readJson('third.json'));
  t.equal(rig.read('m3'), m1, 'a third boot: mountinfo still identical');
  t.equal(rig.read('files'), Object.values(ROOT_FILES).join(''), 'original files visible');
  const status = rig.readJson('status.json');
  checkStatusSchema(t, status, 'persistent');
  t.equal(status.filesystem?.uuid, results[0].result.dataUuid, 'status: the filesystem both boots reported');
});
