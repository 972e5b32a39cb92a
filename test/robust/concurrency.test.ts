// Issue 5, part 4: two runs at once on the same devices.
// - Two `lwdisk boot`, each in its own mount namespace, started together on the same two magic
//   disks: exactly one claims (one filesystem UUID results), the other waits for the device lock
//   (lib/system/lock.ts) and then finds the data filesystem; both exit 0 and both end persistent.
// - Two `lwdisk mark --yes` started together on the same blank loop device: one writes, the other
//   waits and reports "already carries the magic header" (exit 0) or refuses with a clear message
//   (exit 3); the device then holds exactly the 28-byte record and nothing else changed.
import { join } from 'node:path';
import t from 'tap';
import { scratchDir, sha256, sparseImage, systemTestGuard } from '../helpers/system.js';
import { badStderrLines, cli, type Disk, detachAll, inNamespaceAsync, magicDisk, makeDisk, MAGIC_RECORD, makeRoot, MiB, parseJson, ROBUST_TOOLS, swapoffOn, writeAt } from '../helpers/robust.js';

const guard = systemTestGuard(ROBUST_TOOLS);
const BOOT_ROUNDS = Number(process.env.LWDISK_CONCURRENT_BOOT_ROUNDS ?? 3);
const MARK_ROUNDS = Number(process.env.LWDISK_CONCURRENT_MARK_ROUNDS ?? 10);

t.test('two boots at once on the same magic disks', guard, async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-concurrent-boot-');
  t.teardown(cleanup);
  let waited = 0;
  let good = 0;
  for (let round = 1; round <= BOOT_ROUNDS; round++) {
    const disks: Disk[] = [];
    try {
      for (const n of ['a', 'b']) disks.push(magicDisk(dir, `r${round}-${n}`));
      const devs = disks.map((d) => d.path);
      const runOne = (who: string) => {
        const root = makeRoot(join(dir, `r${round}-${who}`, 'root'));
        return inNamespaceAsync(join(dir, `r${round}-${who}`), [
          { name: 'boot', args: ['boot', '--json', '--no-swap', '--root', root, '--devices', ...devs], env: { LWDISK_LOCK_WAIT_MS: '60000' } },
          { name: 'status', args: ['status', '--json', '--root', root] },
        ]);
      };
      const [a, b] = await Promise.all([runOne('a'), runOne('b')]);
      const runs = [a!, b!];
      const plans = runs.map((r) => parseJson(r.boot!.stdout));
      const statuses = runs.map((r) => parseJson(r.status!.stdout));
      t.same(runs.map((r) => r.boot!.code), [0, 0], `round ${round}: both exit 0 ${runs.map((r) => r.boot!.stderr).join(' / ').slice(0, 600)}`);
      for (const r of runs) t.same(badStderrLines(r.boot!.stderr, { boot: true }), [], `round ${round}: stderr lines well-formed`);
      const claimed = plans.map((p) => (p.ok ? (p.value.claims ?? []).length : -1));
      t.same([...claimed].sort(), [0, 2], `round ${round}: exactly one run claims (claims per run: ${claimed.join(', ')})`);
      const uuids = statuses.map((s) => (s.ok ? s.value.filesystem?.uuid : null));
      t.ok(uuids[0] && uuids[0] === uuids[1], `round ${round}: one filesystem UUID (${uuids.join(', ')})`);
      t.same(statuses.map((s) => s.ok && s.value.mode), ['persistent', 'persistent'], `round ${round}: both persistent`);
      const loser = claimed.indexOf(0);
      const lp = plans[loser];
      if (lp?.ok) t.equal(lp.value.dataFilesystem?.create, false, `round ${round}: the other run found the data filesystem`);
      if (runs.some((r) => /waiting for another lwdisk to finish/.test(r.boot!.stderr))) waited++;
      // The disks hold one filesystem: both data partitions carry it.
      const scan = parseJson((await cli(['scan', '--json', ...devs])).stdout);
      const onDisk = scan.ok ? scan.value.devices.map((d: any) => d.table?.partitions?.find((p: any) => p.name === 'lightwhale-data')?.filesystem?.uuid) : [];
      t.same(onDisk, [uuids[0], uuids[0]], `round ${round}: both disks carry that one filesystem`);
      if (claimed.includes(2) && claimed.includes(0) && uuids[0] === uuids[1] && runs.every((r) => r.boot!.code === 0)) good++;
    } finally {
      swapoffOn(disks.map((d) => d.path));
      detachAll(disks);
    }
  }
  t.comment(`two boots at once: ${good} of ${BOOT_ROUNDS} rounds with exactly one claim and one filesystem, both exit 0; the second waited for the lock in ${waited} of ${BOOT_ROUNDS}`);
});

t.test('two marks at once on the same loop device', guard, async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-concurrent-mark-');
  t.teardown(cleanup);
  const size = 64 * MiB;
  // What the device must hold afterwards: zeros with the 28-byte record at byte 0.
  const ref = sparseImage(join(dir, 'reference.img'), size);
  writeAt(ref, 0, MAGIC_RECORD);
  const expected = sha256(ref);
  let wrote = 0;
  let already = 0;
  let refusedClearly = 0;
  let overlapped = 0;
  let good = 0;
  for (let round = 1; round <= MARK_ROUNDS; round++) {
    const disk = makeDisk(dir, `mark-${round}`, size);
    try {
      const runs = await Promise.all([cli(['mark', '--yes', disk.path]), cli(['mark', '--yes', disk.path])]);
      const writers = runs.filter((r) => r.code === 0 && /^wrote /m.test(r.stdout));
      const noops = runs.filter((r) => r.code === 0 && !/^wrote /m.test(r.stdout) && /already carries the magic header/.test(r.stdout + r.stderr));
      const refusals = runs.filter((r) => r.code === 3 && /^lwdisk: \S.* : \S/m.test(r.stderr));
      t.equal(writers.length, 1, `round ${round}: exactly one mark writes (${runs.map((r) => `${r.code}: ${r.stderr.trim().split('\n').pop()}`).join(' / ')})`);
      t.equal(noops.length + refusals.length, 1, `round ${round}: the other says the disk is already marked, or refuses clearly`);
      for (const r of runs) t.same(badStderrLines(r.stderr.split('\n').filter((l) => !/^\/dev\/|^lwdisk will write/.test(l)).join('\n')), [], `round ${round}: no stray stderr`);
      const same = sha256(disk.path) === expected;
      t.ok(same, `round ${round}: the device holds exactly the 28-byte record`);
      wrote += writers.length;
      already += noops.length;
      refusedClearly += refusals.length;
      if (runs.some((r) => /waiting for another lwdisk/.test(r.stderr))) overlapped++;
      if (writers.length === 1 && noops.length + refusals.length === 1 && same) good++;
    } finally {
      disk.detach();
    }
  }
  t.comment(`two marks at once: ${good} of ${MARK_ROUNDS} rounds correct (${wrote} wrote, ${already} "already carries the magic header", ${refusedClearly} refused; the second waited for the lock in ${overlapped})`);
});
