// One magic disk (512 MiB, the size Lightwhale's FAQ uses, and 2 GiB) beside a foreign ext4 disk,
// an MBR disk and a blank disk: the dry run names what the real boot then does; the boot claims
// only the magic disk (single/dup, swap on lightwhale-swap, subvolumes, overlays, Docker data root)
// and leaves the other three byte-identical.
import t from 'tap';
import { blkidProbe, systemTestGuard } from '../helpers/system.js';
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
  GiB,
  MAGIC,
  MiB,
  refKey,
  rigFor,
  ROOT_FILES,
  sha256Fast,
} from '../helpers/boot.js';

const guard = systemTestGuard([...BOOT_TOOLS, 'mkfs.ext4', 'sfdisk', 'blkid']);

for (const [label, size, swapSize] of [
  ['512 MiB', 512 * MiB, 64 * MiB],
  ['2 GiB', 2 * GiB, 256 * MiB],
] as const) {
  t.test(`one ${label} magic disk beside a foreign ext4, an MBR and a blank disk`, guard, async (t) => {
    const rig = rigFor(t);
    const magic = rig.addDisk('magic', size, 'magic');
    const others = [rig.addDisk('ext4', 64 * MiB, 'ext4'), rig.addDisk('mbr', 64 * MiB, 'mbr'), rig.addDisk('blank', 64 * MiB, 'blank')];
    const before = Object.fromEntries(others.map((d) => [dev(d), sha256Fast(dev(d))]));
    const M = dev(magic);

    const plan = dryRun(t, rig);
    t.equal(plan.mode, 'persistent', 'plan: persistent');
    t.same(plan.claims.map((c: any) => c.disk), [M], 'plan: claims the magic disk only');
    t.same(plan.claims[0]?.layout.swap?.size, swapSize, `plan: swap partition of ${swapSize / MiB} MiB (min(1 GiB, disk / 8))`);
    t.same(plan.formatSwap.map(refKey), [`${M}#1`], 'plan: swap header on partition 1');
    t.same(plan.formatData.map(refKey), [`${M}#2`], 'plan: data on partition 2');
    t.equal(plan.dataFilesystem?.create, true, 'plan: creates the data filesystem');
    t.same(plan.dataFilesystem?.profile, { data: 'single', metadata: 'dup' }, 'plan: single/dup');
    t.same(plan.unreadable, [], 'plan: every device readable');

    let b;
    try {
      b = bootAndRecord(
        rig,
        'boot',
        [],
        `for f in ${Object.keys(ROOT_FILES).join(' ')}; do cat "$ROOT/$f"; done > "$OUT/files"
[ -d "$ROOT/mnt/lightwhale-data/lightwhale-state/docker" ] && echo yes > "$OUT/docker"
ls -A "$ROOT/mnt/lightwhale-data/lightwhale-state/docker" > "$OUT/docker.ls"`,
      );
    } finally {
      rig.swapoff();
    }
    t.equal(b.code, 0, `boot exits 0 ${b.code ? b.stderr : ''}`);
    for (let step = 1; step <= 7; step++) t.match(b.stderr, new RegExp(`^lwdisk: step ${step}:`, 'm'), `stderr logs step ${step}`);
    const real = b.json;
    t.equal(real?.result?.ok, true, 'result ok');
    t.equal(real?.result?.mode, 'persistent', 'result: persistent');
    comparePlan(t, plan, real);

    const uuid: string = real.result.dataUuid;
    t.match(uuid, /^[0-9a-f-]{36}$/, 'a new filesystem UUID');
    const alloc = allocationProfiles(rig, 'boot', uuid);
    t.same(alloc, { data: ['single'], metadata: ['dup'] }, 'allocation profiles single/dup (/sys/fs/btrfs/<uuid>/allocation)');
    t.match(rig.read('boot.df'), /Data, single/, 'btrfs filesystem df: Data, single');
    t.match(rig.read('boot.df'), /Metadata, DUP/, 'btrfs filesystem df: Metadata, DUP');

    checkPersistentMounts(t, b.mountinfo, rig.root, [`${M}p2`]);
    checkNoStacking(t, b.mountinfo, rig.root);
    t.match(b.swaps, new RegExp(`^${M}p1\\s+partition`, 'm'), 'swap active on partition 1 (/proc/swaps)');
    const swapProbe = blkidProbe(`${M}p1`);
    t.equal(swapProbe.TYPE, 'swap', 'partition 1 holds swap');
    t.equal(swapProbe.LABEL, 'lightwhale-swap', 'swap label lightwhale-swap');
    t.equal(swapProbe.PART_ENTRY_NAME, 'lightwhale-swap', 'partition 1 is named lightwhale-swap');
    const dataProbe = blkidProbe(`${M}p2`);
    t.equal(dataProbe.TYPE, 'btrfs', 'partition 2 holds btrfs');
    t.equal(dataProbe.LABEL, 'lightwhale-data', 'label lightwhale-data');
    t.equal(dataProbe.PART_ENTRY_NAME, 'lightwhale-data', 'partition 2 is named lightwhale-data');
    t.equal(dataProbe.UUID, uuid, 'the UUID boot reported');
    t.not(rig.head(magic, 27).toString('latin1'), MAGIC.slice(0, 27), 'the magic header is gone');

    t.equal(rig.read('files'), Object.values(ROOT_FILES).join(''), 'files of the original etc/var/home show through the overlays');
    t.equal(rig.has('docker') ? rig.read('docker').trim() : '', 'yes', '<state>/docker exists');
    t.equal(rig.read('docker.ls'), '', '<state>/docker is empty');

    t.equal(rig.read('boot.status.rc').trim(), '0', 'status exits 0');
    checkStatusSchema(t, b.status, 'persistent');
    t.equal(b.status?.filesystem?.uuid, uuid, 'status: the filesystem boot made');
    t.same(b.status?.filesystem?.devices, [{ path: `${M}p2`, devid: 1 }], 'status: one member, devid 1');
    t.equal(b.status?.filesystem?.missingDevices, 0, 'status: nothing missing');
    t.ok(b.status?.mounts.some((m: any) => m.target === `${rig.root}/etc` && m.fstype === 'overlay'), 'status lists the /etc overlay');

    for (const d of others) t.equal(sha256Fast(dev(d)), before[dev(d)], `${d.name} disk byte-identical afterwards`);
  });
}
