// Power cuts during the first boot (LWDISK_FAULT kills lwdisk with SIGKILL before the chosen tool
// call or device write; what was written before is fsynced). After each cut, a "reboot" (new
// namespace, the kernel's partition nodes dropped as on a kernel without a GPT parser) and boot
// completes: persistent, exit 0, the three subvolumes present.
import t, { type Test } from 'tap';
import { blkidProbe, systemTestGuard } from '../helpers/system.js';
import { BOOT_TOOLS, bootAndRecord, checkPersistentMounts, checkStatusSchema, comparePlan, dev, dryRun, MAGIC, MiB, refKey, type Rig, type RigDisk, rigFor } from '../helpers/boot.js';

const guard = systemTestGuard([...BOOT_TOOLS, 'blkid']);
const SUBVOLS = ['@lightwhale-data', '@lightwhale-state', '@lightwhale-state-snapshots'];

/** Boot with a fault; returns lwdisk's exit code and stderr. */
function cut(t: Test, rig: Rig, fault: string, log = ''): { code: number; stderr: string } {
  const r = rig.ns(`
LWDISK_FAULT=${fault} LWDISK_FAULT_LOG=${log || '/dev/null'} $LWDISK boot --root "$ROOT" --devices $DEVS 2> "$OUT/cut.err"
echo $? > "$OUT/cut.rc"
`);
  rig.swapoff();
  t.equal(r.code, 0, 'namespace script ran');
  const code = Number(rig.read('cut.rc').trim());
  const stderr = rig.read('cut.err');
  t.equal(code, 128 + 9, `lwdisk died of SIGKILL at ${fault}`);
  t.match(stderr, /fault injected : power cut before/, 'the fault hook fired');
  return { code, stderr };
}

/** The reboot after a cut: dry run, then boot; checks it completed. */
function recover(t: Test, rig: Rig, disk: RigDisk, check: (plan: any) => void): void {
  rig.dropPartitionNodes(disk);
  const plan = dryRun(t, rig, [], 'dry-recover');
  check(plan);
  let b;
  try {
    b = bootAndRecord(rig, 'recover', [], `btrfs subvolume list "$ROOT/mnt/lightwhale-data" > "$OUT/subvols" 2>&1`);
  } finally {
    rig.swapoff();
  }
  t.equal(b.code, 0, `the next boot exits 0 ${b.code ? b.stderr : ''}`);
  t.equal(b.json?.result?.mode, 'persistent', 'the next boot: persistent');
  comparePlan(t, plan, b.json);
  const D = dev(disk);
  checkPersistentMounts(t, b.mountinfo, rig.root, [`${D}p2`]);
  checkStatusSchema(t, b.status, 'persistent');
  const subvols = rig.read('subvols');
  for (const s of SUBVOLS) t.match(subvols, new RegExp(`path ${s}$`, 'm'), `subvolume ${s} exists`);
  t.match(b.swaps, new RegExp(`^${D}p1\\s`, 'm'), 'swap on partition 1');
}

t.test('cut before mkfs.btrfs (partitions written, data not formatted): the next boot completes', guard, async (t) => {
  const rig = rigFor(t);
  const disk = rig.addDisk('magic', 512 * MiB, 'magic');
  const D = dev(disk);
  const plan = dryRun(t, rig);
  t.same(plan.claims.map((c: any) => c.disk), [D], 'plan: claims the disk');
  cut(t, rig, 'tool:mkfs.btrfs');
  t.not(rig.head(disk, 27).toString('latin1'), MAGIC.slice(0, 27), 'after the cut: the magic is gone (the GPT was complete)');
  t.equal(blkidProbe(D).PTTYPE, 'gpt', 'after the cut: a GPT');
  recover(t, rig, disk, (p) => {
    t.same(p.claims, [], 'recovery plan: nothing to claim (no magic any more)');
    t.same(p.formatData.map(refKey), [`${D}#2`], 'recovery plan: formats the blank data partition');
    t.same(p.dataFilesystem?.profile, { data: 'single', metadata: 'dup' }, 'recovery plan: single/dup');
  });
});

t.test('cut after mkfs, before the subvolumes: the next boot creates them', guard, async (t) => {
  const rig = rigFor(t);
  const disk = rig.addDisk('magic', 512 * MiB, 'magic');
  const D = dev(disk);
  dryRun(t, rig);
  cut(t, rig, 'tool:btrfs');
  const probe = blkidProbe(`${D}p2`);
  t.equal(probe.TYPE, 'btrfs', 'after the cut: btrfs on partition 2');
  t.equal(probe.LABEL, 'lightwhale-data', 'after the cut: labelled lightwhale-data');
  recover(t, rig, disk, (p) => {
    t.equal(p.dataFilesystem?.create, false, 'recovery plan: uses the filesystem mkfs made');
    t.equal(p.dataFilesystem?.uuid, probe.UUID, 'recovery plan: that UUID');
  });
});

t.test('cut after all step-3 writes, before the kernel is told: the next boot completes', guard, async (t) => {
  const rig = rigFor(t);
  const disk = rig.addDisk('magic', 512 * MiB, 'magic');
  const D = dev(disk);
  dryRun(t, rig);
  const log = `${rig.dir}/fault.log`;
  cut(t, rig, 'tool:partx', log);
  t.equal(blkidProbe(D).PTTYPE, 'gpt', 'after the cut: a GPT');
  recover(t, rig, disk, (p) => {
    t.same(p.claims, [], 'recovery plan: nothing to claim');
    t.same(p.formatSwap.map(refKey), [`${D}#1`], 'recovery plan: the blank swap partition');
    t.same(p.formatData.map(refKey), [`${D}#2`], 'recovery plan: the blank data partition');
  });
});

t.test('cut before LBA 0 is written: the magic survives and the next boot starts over', guard, async (t) => {
  const rig = rigFor(t);
  // Learn which write erases the magic on a twin disk of the same size.
  const twin = rig.addDisk('twin', 512 * MiB, 'magic');
  const log = `${rig.dir}/fault.log`;
  cut(t, rig, 'tool:partx', log);
  const { readFileSync } = await import('node:fs');
  const line = readFileSync(log, 'utf8')
    .split('\n')
    .find((l) => /^write \d+ protective MBR/.test(l));
  t.ok(line, `the fault log names the LBA 0 write: ${line}`);
  const n = Number(/^write (\d+)/.exec(line ?? '')?.[1]);
  rig.detach(twin);

  const disk = rig.addDisk('magic', 512 * MiB, 'magic');
  const D = dev(disk);
  dryRun(t, rig);
  cut(t, rig, `write:${n}`);
  t.equal(rig.head(disk, 27).toString('latin1'), MAGIC.slice(0, 27), 'after the cut: the magic is still there');
  recover(t, rig, disk, (p) => {
    t.same(p.claims.map((c: any) => c.disk), [D], 'recovery plan: claims the disk again');
    t.equal(p.dataFilesystem?.create, true, 'recovery plan: a new filesystem');
  });
});
