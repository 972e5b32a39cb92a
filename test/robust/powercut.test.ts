// Issue 5, part 2: power cuts. `boot` on one and on two magic disks (512 MiB sparse loop devices,
// default swap), cut (LWDISK_FAULT, SIGKILL, lib/device/fault.ts) before every single device write
// and before every tool call in turn; then a "reboot" (a new mount namespace) runs `boot` again
// without the fault. Every cut must end in a correct persistent mount: `status --json` mode
// persistent, the expected profile (single/dup, raid1/raid1), the three subvolumes mounted, the
// overlays mounted, swap on every swap partition, one filesystem on the disks, and the bystander
// ext4 disk (in --devices all along) byte-identical.
//
// A clean run with LWDISK_FAULT_LOG first counts the writes (W) and tool calls (T): the crash points
// are write:1..W+1 (W+1 never fires: the uncut control) and tool:1..T. CI runs a deterministic sample
// (every 5th point plus the key ones); `npm run test:powercut:full` (LWDISK_POWERCUT_FULL=1) runs
// them all. The figures go to docs/safety.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { scratchDir, sha256, systemTestGuard } from '../helpers/system.js';
import { badStderrLines, cli, type Disk, detachAll, ext4Disk, inNamespace, magicDisk, makeRoot, MiB, parseJson, ROBUST_TOOLS, swapoffOn } from '../helpers/robust.js';

const FULL = process.env.LWDISK_POWERCUT_FULL === '1';
const EVERY = Number(process.env.LWDISK_POWERCUT_EVERY ?? 5);
const DISK_SIZE = 512 * MiB;

const guard = systemTestGuard(ROBUST_TOOLS);

interface Config {
  label: string;
  disks: number;
  data: string;
  metadata: string;
}

const CONFIGS: Config[] = [
  { label: '1 disk', disks: 1, data: 'single', metadata: 'DUP' },
  { label: '2 disks', disks: 2, data: 'RAID1', metadata: 'RAID1' },
];

/** A fault log text with the scratch root as ROOT and the loop devices as disk1, disk2 (p1, p2). */
function tidy(text: string, root: string, disks: Disk[]): string {
  let out = text.split(root).join('ROOT');
  disks.forEach((d, i) => {
    out = out.replace(new RegExp(`${d.path}(p\\d+)?(?!\\d)`, 'g'), (_m, p: string | undefined) => `disk${i + 1}${p ?? ''}`);
  });
  return out;
}

interface Outcome {
  point: string;
  what: string;
  cut: boolean;
  failures: string[];
}

t.test('power cuts during boot', guard, async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-powercut-');
  const bystander = ext4Disk(dir, 'bystander');
  t.teardown(() => {
    detachAll([bystander]);
    cleanup();
  });
  const bystanderSha = sha256(bystander.path);
  const summary: string[] = [];

  for (const cfg of CONFIGS) {
    await t.test(cfg.label, async (t) => {
      let seq = 0;
      /** One crash point: fresh magic disks, a boot cut at `point` (or a clean counting run), a reboot, checks. */
      const attempt = async (point: string | null, logFile?: string): Promise<Outcome> => {
        const tag = `${cfg.disks}d-${String(++seq).padStart(3, '0')}`;
        const work = join(dir, tag);
        const root = makeRoot(join(work, 'root'));
        const disks: Disk[] = [];
        const failures: string[] = [];
        let what = '';
        let cut = false;
        try {
          for (let i = 0; i < cfg.disks; i++) disks.push(magicDisk(dir, `${tag}-m${i}`, DISK_SIZE));
          const devs = [...disks.map((d) => d.path), bystander.path];
          const env: Record<string, string> = { LWDISK_LOCK_WAIT_MS: '20000' };
          if (point) env.LWDISK_FAULT = point;
          if (logFile) env.LWDISK_FAULT_LOG = logFile;
          const first = inNamespace(join(work, 'first'), [{ name: 'boot', args: ['boot', '--root', root, '--devices', ...devs], env }]).boot!;
          swapoffOn(disks.map((d) => d.path));
          const fired = /lwdisk: fault injected : power cut before (\S+ \d+) \((.*)\)$/m.exec(first.stderr);
          cut = !!fired;
          what = fired ? `${fired[1]}: ${tidy(fired[2]!, root, disks)}` : 'no cut (ran to the end)';
          if (cut && first.code !== 137) failures.push(`cut run: exit ${first.code}, expected 137 (SIGKILL)`);
          if (!cut && first.code !== 0) failures.push(`uncut run: exit ${first.code}: ${first.stderr.trim().split('\n').slice(-3).join(' | ')}`);

          const mnt = `${root}/mnt/lightwhale-data`;
          const r = inNamespace(join(work, 'reboot'), [
            { name: 'boot', args: ['boot', '--json', '--root', root, '--devices', ...devs] },
            { name: 'status', args: ['status', '--json', '--root', root] },
            { name: 'df', shell: `btrfs filesystem df ${mnt}` },
            { name: 'subvols', shell: `btrfs subvolume list ${mnt}` },
            { name: 'swaps', shell: 'cat /proc/swaps' },
          ]);
          swapoffOn(disks.map((d) => d.path));
          const boot = r.boot!;
          if (boot.code !== 0) failures.push(`reboot: boot exit ${boot.code}: ${boot.stderr.trim().split('\n').slice(-3).join(' | ')}`);
          for (const l of badStderrLines(boot.stderr, { boot: true })) failures.push(`reboot stderr: ${l}`);
          const bj = parseJson(boot.stdout);
          if (!bj.ok) failures.push(`reboot: boot --json: ${bj.error}`);
          else {
            if (bj.value.result?.mode !== 'persistent' || (bj.value.result?.errors ?? []).length) failures.push(`reboot: result ${JSON.stringify(bj.value.result)}`);
            // No silent surprises: every skip and warning of --json is on stderr too.
            for (const sk of bj.value.skipped ?? []) if (!boot.stderr.includes(sk.path)) failures.push(`skip of ${sk.path} not on stderr`);
            for (const w of bj.value.warnings ?? []) if (!boot.stderr.includes(w)) failures.push(`warning not on stderr: ${w}`);
          }
          const sj = parseJson(r.status!.stdout);
          if (!sj.ok) failures.push(`status --json: ${sj.error}`);
          else {
            const s = sj.value;
            if (s.mode !== 'persistent') failures.push(`status: mode ${s.mode}`);
            if (s.filesystem?.devices?.length !== cfg.disks || s.filesystem?.missingDevices !== 0) failures.push(`status: devices ${JSON.stringify(s.filesystem?.devices)} missing ${s.filesystem?.missingDevices}`);
            for (const sub of ['', '/lightwhale-state', '/lightwhale-state-snapshots']) {
              const m = (s.mounts ?? []).find((x: { target: string }) => x.target === `${mnt}${sub}`);
              if (m?.fstype !== 'btrfs') failures.push(`status: ${mnt}${sub} not a btrfs mount`);
            }
            const notMounted = (s.overlays ?? []).filter((o: { mounted: boolean }) => !o.mounted).map((o: { dir: string }) => o.dir);
            if ((s.overlays ?? []).length !== 3 || notMounted.length) failures.push(`status: overlays not mounted: ${notMounted.join(', ')}`);
            // One filesystem: every magic disk's data partition carries the mounted filesystem.
            const scan = await cli(['scan', '--json', ...disks.map((d) => d.path)]);
            const sc = parseJson(scan.stdout);
            if (!sc.ok) failures.push(`scan after: ${sc.error}`);
            else
              for (const d of sc.value.devices) {
                const parts = d.table?.partitions ?? [];
                const data = parts.find((p: { name: string }) => p.name === 'lightwhale-data');
                const swap = parts.find((p: { name: string }) => p.name === 'lightwhale-swap');
                if (d.magic) failures.push(`${d.path}: still carries the magic header`);
                if (data?.filesystem?.uuid !== s.filesystem?.uuid) failures.push(`${d.path}: data partition holds ${JSON.stringify(data?.filesystem)}, not ${s.filesystem?.uuid}`);
                if (swap?.filesystem?.type !== 'swap' || swap?.filesystem?.label !== 'lightwhale-swap') failures.push(`${d.path}: swap partition holds ${JSON.stringify(swap?.filesystem)}`);
              }
          }
          const df = r.df!.stdout;
          if (!new RegExp(`^Data, ${cfg.data}:`, 'm').test(df) || !new RegExp(`^Metadata, ${cfg.metadata}:`, 'm').test(df)) failures.push(`profile: ${df.replace(/\n/g, ' | ')}`);
          for (const sub of ['@lightwhale-data', '@lightwhale-state', '@lightwhale-state-snapshots'])
            if (!new RegExp(`path ${sub}$`, 'm').test(r.subvols!.stdout)) failures.push(`subvolume ${sub} missing`);
          const swaps = r.swaps!.stdout;
          for (const d of disks) if (!new RegExp(`^${d.path}p1\\s`, 'm').test(swaps)) failures.push(`${d.path}p1: swap not active after the reboot`);
          if (sha256(bystander.path) !== bystanderSha) failures.push('the bystander ext4 disk changed');
        } catch (err) {
          failures.push(`error: ${(err as Error).message}`);
        } finally {
          try {
            detachAll(disks);
          } catch (err) {
            failures.push(`cleanup: ${(err as Error).message}`);
          }
        }
        return { point: point ?? 'none', what, cut, failures };
      };

      // Counting run (no fault): the totals, and the uncut boot + reboot must work too.
      const log = join(dir, `count-${cfg.disks}.log`);
      const count = await attempt(null, log);
      t.same(count.failures, [], 'uncut boot, then a reboot: persistent');
      const events = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      const writes = events.filter((l) => l.startsWith('write ')).length;
      const tools = events.filter((l) => l.startsWith('tool ')).length;
      t.ok(writes > 0 && tools > 0, `${writes} device writes, ${tools} tool calls in a clean boot`);
      const points = [...Array.from({ length: writes + 1 }, (_, i) => `write:${i + 1}`), ...Array.from({ length: tools }, (_, i) => `tool:${i + 1}`)];
      // Key points always run: the last write (LBA 0 of the last disk: erases its magic), the uncut
      // control, mkfs.btrfs, the first mount, the first swapon.
      const key = new Set([`write:${writes}`, `write:${writes + 1}`]);
      for (const [name, re] of [['mkfs', /^tool \d+ mkfs\.btrfs/], ['mount', /^tool \d+ mount /], ['swapon', /^tool \d+ swapon/]] as const) {
        const line = events.find((l) => re.test(l));
        if (line) key.add(`tool:${line.split(' ')[1]}`);
        else t.comment(`no ${name} call in the clean run`);
      }
      const chosen = FULL ? points : points.filter((p, i) => i % EVERY === 0 || key.has(p));
      const outcomes: Outcome[] = [];
      for (const p of chosen) outcomes.push(await attempt(p));
      const recovered = outcomes.filter((o) => o.failures.length === 0).length;
      for (const o of outcomes) {
        if (o.failures.length) t.fail(`${o.point} (${o.what}): ${o.failures.join('; ')}`);
        if (FULL) t.comment(`${o.point.padEnd(9)} ${o.failures.length ? 'FAILED' : 'recovered'}  ${o.what}`);
      }
      t.equal(recovered, outcomes.length, `${recovered} of ${outcomes.length} crash points recovered`);
      const line = `${cfg.label}: ${recovered} of ${outcomes.length} crash points recovered (${FULL ? 'all' : 'sample'} of ${points.length}: ${writes} writes + 1 uncut, ${tools} tool calls)`;
      t.comment(line);
      summary.push(line);
    });
  }
  t.equal(sha256(bystander.path), bystanderSha, 'the bystander ext4 disk is byte-identical after every run');
  for (const s of summary) t.comment(s);
});

// Swap is global, mounts are per namespace: a boot in a new namespace while the swap a previous boot
// turned on is still active (listed in /proc/swaps relative to the old namespace's /dev, "/loop3p1")
// must see that swap as active, not try swapon again (EBUSY).
t.test('a second boot in a new namespace while the first boot\'s swap is on', guard, async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-swap-ns-');
  const disks: Disk[] = [];
  t.teardown(() => {
    detachAll(disks);
    cleanup();
  });
  disks.push(magicDisk(dir, 'm0', DISK_SIZE));
  const d = disks[0]!.path;
  const root = makeRoot(join(dir, 'root'));
  const first = inNamespace(join(dir, 'first'), [{ name: 'boot', args: ['boot', '--root', root, '--devices', d] }]).boot!;
  t.equal(first.code, 0, `first boot exits 0 ${first.code ? first.stderr : ''}`);
  const swaps = readFileSync('/proc/swaps', 'utf8');
  t.match(swaps, new RegExp(`^\\S*${d.replace('/dev/', '')}p1\\s`, 'm'), 'its swap is still on after its namespace is gone');
  const second = inNamespace(join(dir, 'second'), [{ name: 'boot', args: ['boot', '--json', '--root', root, '--devices', d] }]).boot!;
  swapoffOn([d]);
  t.equal(second.code, 0, `second boot exits 0 ${second.code ? second.stderr : ''}`);
  const j = parseJson(second.stdout);
  t.same(j.ok && j.value.result?.errors, [], 'no errors');
  t.same(j.ok && j.value.swap.map((s: { state: string }) => s.state), ['present'], 'the swap is seen as already active');
});

