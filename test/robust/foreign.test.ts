// Issue 5, part 3: foreign disks beside magic disks. A table of disks lwdisk must never write (whole
// filesystems, containers, MBR and GPT tables, partitions with near-miss or taken Lightwhale names)
// sits in `boot --devices` next to two magic disks and a magic disk whose partition is mounted.
// Two boots (the claim, then a reboot that finds the data filesystem): every foreign disk and the
// in-use magic disk are byte-identical (sha256 of the loop device); the in-use magic disk is skipped
// with a warning on stderr and in `boot --json` (skipped, warnings); every skip is visible on stderr.
import { readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import { unpackFixture } from '../helpers/fixtures.js';
import { partxUpdate, scratchDir, sh, sha256, sparseImage, systemTestGuard } from '../helpers/system.js';
import { attachClean } from '../helpers/write.js';
import { badStderrLines, type Disk, detachAll, diskOnLoop, inNamespace, magicDisk, makeRoot, MiB, parseJson, ROBUST_TOOLS, swapoffOn } from '../helpers/robust.js';

const guard = systemTestGuard([...ROBUST_TOOLS, 'sgdisk', 'sfdisk']);

/**
 * Ask the kernel for the partitions (`partx`; this kernel has no table parsers) until `n` appear:
 * right after attaching, partx sometimes fails to read the table.
 */
function partitionsUp(loop: string, n: number): void {
  const name = basename(loop);
  const count = (): number => readdirSync(`/sys/class/block/${name}`).filter((e) => new RegExp(`^${name}p\\d+$`).test(e)).length;
  for (let i = 0; i < 50 && count() < n; i++) {
    partxUpdate(loop);
    if (count() < n) sh('sleep', ['0.1']);
  }
  if (count() < n) throw new Error(`${loop}: the kernel has ${count()} of ${n} partitions`);
}

/** An image we prepared ourselves, attached like the others (with its `partitions` partition nodes). */
function attachImage(name: string, image: string, partitions: number): Disk {
  const loop = attachClean(image, 512);
  try {
    if (partitions) partitionsUp(loop.path, partitions);
  } catch (err) {
    loop.detach();
    throw err;
  }
  return diskOnLoop(name, image, loop);
}

/** A small ext4 filesystem image of `size` bytes copied into `image` at `offset`. */
function ext4Into(dir: string, image: string, offset: number, size: number, label: string): void {
  const fs = sparseImage(join(dir, `${label}.part`), size);
  sh('mkfs.ext4', ['-q', '-F', '-L', label, fs]);
  sh('dd', [`if=${fs}`, `of=${image}`, 'bs=1M', `seek=${offset / MiB}`, 'conv=notrunc,sparse', 'status=none']);
}

t.test('foreign disks beside magic disks', guard, async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-foreign-');
  const disks: Disk[] = [];
  t.teardown(() => {
    detachAll(disks);
    cleanup();
  });

  // ----- the table of foreign disks
  const foreign: Array<{ what: string; disk: Disk }> = [];
  const fromFixture = async (what: string, fixture: string, partitions = 0): Promise<void> => {
    const image = await unpackFixture(fixture, dir);
    const d = attachImage(what, image, partitions);
    disks.push(d);
    foreign.push({ what, disk: d });
  };
  await fromFixture('ext4 (whole disk)', 'ext4-whole');
  await fromFixture('xfs (whole disk)', 'xfs-whole');
  await fromFixture('vfat (whole disk)', 'vfat-whole');
  await fromFixture('MBR with two partitions (ext4 + blank)', 'mbr-two', 2);
  await fromFixture('LUKS2 header', 'luks-whole');
  await fromFixture('LVM2 PV header', 'lvm-pv');
  await fromFixture('md 1.2 superblock', 'md-1.2');
  await fromFixture('swap with another label', 'swap-whole');
  {
    // GPT with other names, near misses of the Lightwhale names among them (blank partitions).
    const image = sparseImage(join(dir, 'gpt-other-names.img'), 64 * MiB);
    sh('sgdisk', ['-n', '1:1M:+8M', '-t', '1:ef00', '-c', '1:EFI System', '-n', '2:0:+8M', '-t', '2:8300', '-c', '2:Lightwhale-Data', '-n', '3:0:+8M', '-t', '3:8200', '-c', '3:lightwhale-swap ', '-n', '4:0:+8M', '-c', '4:lightwhale-dat', '-n', '5:0:0', '-c', '5:root', image]);
    ext4Into(dir, image, 40 * MiB, 8 * MiB, 'gptroot');
    const d = attachImage('GPT with other names (EFI System, Lightwhale-Data, "lightwhale-swap ", lightwhale-dat, root)', image, 5);
    disks.push(d);
    foreign.push({ what: d.name, disk: d });
  }
  {
    // GPT whose lightwhale-swap / lightwhale-data partitions are taken (ext4): reported, left alone.
    const image = sparseImage(join(dir, 'gpt-taken-names.img'), 64 * MiB);
    sh('sgdisk', ['-n', '1:1M:+16M', '-t', '1:8200', '-c', '1:lightwhale-swap', '-n', '2:0:0', '-t', '2:8300', '-c', '2:lightwhale-data', image]);
    ext4Into(dir, image, MiB, 16 * MiB, 'takenswap');
    ext4Into(dir, image, 17 * MiB, 16 * MiB, 'takendata');
    const d = attachImage('GPT with lightwhale-swap and lightwhale-data holding ext4', image, 2);
    disks.push(d);
    foreign.push({ what: d.name, disk: d });
  }
  {
    const image = sparseImage(join(dir, 'btrfs-other.img'), 128 * MiB);
    sh('mkfs.btrfs', ['-q', '-f', '-L', 'other-data', image]);
    const d = attachImage('btrfs labelled other-data', image, 0);
    disks.push(d);
    foreign.push({ what: d.name, disk: d });
  }

  // ----- a magic disk in use: GPT with an ext4 partition (mounted during the boots), then the magic
  // written over LBA 0 the documented way (`echo | dd` to the device, after the kernel has the
  // partition). Big enough to be claimed if the in-use check failed.
  let inUse: Disk;
  {
    const image = sparseImage(join(dir, 'magic-in-use.img'), 256 * MiB);
    sh('sgdisk', ['-n', '1:1M:+64M', '-t', '1:8300', '-c', '1:in-use', image]);
    ext4Into(dir, image, MiB, 64 * MiB, 'inuse');
    inUse = attachImage('magic disk with a mounted partition', image, 1);
    disks.push(inUse);
    sh('sh', ['-c', `echo lightwhale-please-format-me | dd of=${inUse.path} conv=notrunc,fsync status=none`]);
  }
  const magic = [magicDisk(dir, 'magic-a'), magicDisk(dir, 'magic-b')];
  disks.push(...magic);

  const watched = [...foreign.map((f) => f.disk), inUse];
  const before = Object.fromEntries(watched.map((d) => [d.path, sha256(d.path)]));
  const root = makeRoot(join(dir, 'root'));
  const mnt = join(dir, 'in-use-mnt');
  const devs = [...foreign.map((f) => f.disk.path), inUse.path, ...magic.map((d) => d.path)];
  writeFileSync(join(dir, 'devices.txt'), devs.join('\n'));

  const bootOnce = (tag: string) =>
    inNamespace(join(dir, tag), [
      { name: 'mount', shell: `mkdir -p ${mnt} && mount -t ext4 -o ro,noload ${inUse.path}p1 ${mnt}` },
      { name: 'boot', args: ['boot', '--json', '--no-swap', '--root', root, '--devices', ...devs] },
      { name: 'status', args: ['status', '--json', '--root', root] },
    ]);

  let uuid: string | null = null;
  for (const tag of ['claim', 'reboot']) {
    await t.test(tag === 'claim' ? 'first boot: claims the two free magic disks' : 'reboot: finds the data filesystem', async (t) => {
      const r = bootOnce(tag);
      t.equal(r.mount!.code, 0, `the in-use disk's partition is mounted in the boot's namespace ${r.mount!.stderr}`);
      const b = r.boot!;
      t.equal(b.code, 0, `boot exits 0 ${b.code ? b.stderr : ''}`);
      t.same(badStderrLines(b.stderr, { boot: true }), [], 'stderr: only step, warning and "lwdisk: <what> : <why>" lines');
      const j = parseJson(b.stdout);
      t.ok(j.ok, 'boot --json is JSON');
      const plan = j.ok ? j.value : {};
      t.equal(plan.result?.mode, 'persistent', 'persistent');
      t.same(plan.result?.errors, [], 'no errors');
      const s = parseJson(r.status!.stdout);
      t.equal(s.ok && s.value.mode, 'persistent', 'status: persistent');
      const fsUuid = s.ok ? s.value.filesystem?.uuid : null;
      if (tag === 'claim') {
        uuid = fsUuid;
        t.same(plan.claims?.map((c: { disk: string }) => c.disk).sort(), magic.map((d) => d.path).sort(), 'claimed exactly the two free magic disks');
        t.same(plan.dataFilesystem?.profile, { data: 'raid1', metadata: 'raid1' }, 'raid1 over the two');
        // The in-use magic disk: skipped, with the reason, in --json and on stderr.
        const skip = (plan.skipped ?? []).find((x: { path: string }) => x.path === inUse.path);
        t.match(skip?.reason, /in use .*mounted at/, 'the in-use magic disk is in skipped[] with why');
        t.ok((plan.warnings ?? []).some((w: string) => w.includes(inUse.path) && /in use/.test(w)), 'and in warnings[]');
        t.match(b.stderr, new RegExp(`^warning: magic disk ${inUse.path} is in use`, 'm'), 'and a warning line on stderr');
      } else {
        t.equal(fsUuid, uuid, 'the same filesystem');
        t.same(plan.claims, [], 'nothing claimed');
      }
      // No silent surprises: every skipped entry is named on stderr.
      for (const sk of plan.skipped ?? []) t.ok(b.stderr.includes(sk.path), `skip of ${sk.path} visible on stderr (${sk.reason})`);
      for (const w of plan.warnings ?? []) t.ok(b.stderr.includes(w), `warning visible on stderr: ${w}`);
      // The foreign disks are not claimed, not formatted, not mounted.
      const touched = JSON.stringify([plan.claims, plan.formatData, plan.formatSwap]);
      for (const f of foreign) t.notOk(touched.includes(`"${f.disk.path}"`), `${f.what}: not planned for writing`);
    });
  }

  swapoffOn(devs);
  let identical = 0;
  for (const d of watched) {
    const same = sha256(d.path) === before[d.path];
    if (same) identical++;
    t.ok(same, `${d.name}: byte-identical after two boots`);
  }
  t.equal(identical, watched.length, `${identical} of ${watched.length} foreign disks byte-identical`);
  t.comment(`${identical} of ${watched.length} foreign disks byte-identical (${foreign.length} foreign + the in-use magic disk, two boots beside 2 magic disks)`);
});
