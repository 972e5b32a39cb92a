// No magic disk and no data filesystem (only a blank and a foreign disk): tmpfs on the data mount
// point, the state directory a plain directory in it, overlays mounted, status "volatile", exit 0,
// and neither disk touched.
import t from 'tap';
import { systemTestGuard } from '../helpers/system.js';
import { BOOT_TOOLS, bootAndRecord, checkNoStacking, checkOverlays, checkStatusSchema, comparePlan, dev, dryRun, mountAt, MiB, rigFor, ROOT_FILES, sha256Fast } from '../helpers/boot.js';

const guard = systemTestGuard([...BOOT_TOOLS, 'mkfs.ext4']);

t.test('no magic disk and no data filesystem: tmpfs, overlays, volatile', guard, async (t) => {
  const rig = rigFor(t);
  const disks = [rig.addDisk('blank', 64 * MiB, 'blank'), rig.addDisk('ext4', 64 * MiB, 'ext4')];
  const before = Object.fromEntries(disks.map((d) => [dev(d), sha256Fast(dev(d))]));

  const plan = dryRun(t, rig);
  t.equal(plan.mode, 'volatile', 'plan: volatile');
  t.equal(plan.dataFilesystem, null, 'plan: no data filesystem');
  t.same(plan.claims, [], 'plan: claims nothing');
  t.same(plan.formatData, [], 'plan: formats nothing');
  t.same(
    plan.actions.filter((a: any) => a.step === 6).map((a: any) => a.action),
    ['mount tmpfs', 'mkdir'],
    'plan: tmpfs, then the state directory',
  );

  let b;
  try {
    b = bootAndRecord(
      rig,
      'boot',
      [],
      `for f in ${Object.keys(ROOT_FILES).join(' ')}; do cat "$ROOT/$f"; done > "$OUT/files"
echo changed > "$ROOT/etc/motd"; cat "$ROOT/etc/motd" > "$OUT/motd"
[ -d "$ROOT/mnt/lightwhale-data/lightwhale-state/docker" ] && echo yes > "$OUT/docker"
$LWDISK status --root "$ROOT" > "$OUT/status.txt"`,
    );
  } finally {
    rig.swapoff();
  }
  t.equal(b.code, 0, `boot exits 0 ${b.code ? b.stderr : ''}`);
  t.match(b.stderr, /volatile/, 'stderr says volatile');
  comparePlan(t, plan, b.json);
  t.equal(b.json?.result?.mode, 'volatile', 'result: volatile');
  t.equal(mountAt(b.mountinfo, `${rig.root}/mnt/lightwhale-data`)?.fstype, 'tmpfs', 'tmpfs on <root>/mnt/lightwhale-data');
  t.equal(mountAt(b.mountinfo, `${rig.root}/mnt/lightwhale-data/lightwhale-state`), null, 'the state directory is a plain directory (no mount)');
  checkOverlays(t, b.mountinfo, rig.root);
  checkNoStacking(t, b.mountinfo, rig.root);
  t.equal(rig.read('files'), Object.values(ROOT_FILES).join(''), 'original files visible through the overlays');
  t.equal(rig.read('motd'), 'changed\n', 'the overlay is writable');
  t.equal(rig.read('docker').trim(), 'yes', 'the Docker data root exists (on tmpfs)');
  checkStatusSchema(t, b.status, 'volatile');
  t.match(rig.read('status.txt'), /mode: volatile/, 'human status says volatile');
  t.ok(b.status?.mounts.some((m: any) => m.target === `${rig.root}/mnt/lightwhale-data` && m.fstype === 'tmpfs'), 'status lists the tmpfs');
  t.same(rig.activeSwap(), [], 'no swap');
  for (const d of disks) t.equal(sha256Fast(dev(d)), before[dev(d)], `${d.name} disk byte-identical`);
});
