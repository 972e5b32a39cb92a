// Wall time of a steady-state boot (already persistent, two disks), in a fresh namespace (what
// every reboot costs) and as a no-op re-run in a namespace where everything is mounted, next to
// `node -e 0` measured in the same run. Medians of 5, printed with t.comment.
import t from 'tap';
import { LWDISK } from '../helpers/cli.js';
import { run, systemTestGuard } from '../helpers/system.js';
import { BOOT_TOOLS, bootAndRecord, cleanEnv, comparePlan, checkPersistentMounts, dev, dryRun, MiB, rigFor } from '../helpers/boot.js';

const guard = systemTestGuard(BOOT_TOOLS);
const RUNS = 5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const ms = (x: number): string => `${x.toFixed(0)} ms`;

t.test('steady-state boot timing (two disks, already persistent)', guard, async (t) => {
  const rig = rigFor(t);
  const disks = [rig.addDisk('a', 512 * MiB, 'magic'), rig.addDisk('b', 512 * MiB, 'magic')];
  const plan0 = dryRun(t, rig, ['--no-swap'], 'dry0');
  const first = bootAndRecord(rig, 'first', ['--no-swap']);
  t.equal(first.code, 0, `first boot makes the raid1 ${first.code ? first.stderr : ''}`);
  comparePlan(t, plan0, first.json);
  checkPersistentMounts(t, first.mountinfo, rig.root, disks.map((d) => `${dev(d)}p1`));

  const plan = dryRun(t, rig, ['--no-swap']);
  t.equal(plan.mode, 'persistent', 'steady state: plan persistent, nothing to create');
  t.same(plan.claims, [], 'steady state: no claims');

  // Measured from a small node process (not from the tap worker, whose size makes each spawn slower),
  // with node -e 0 and the boots interleaved so they share the machine's load.
  const inner = `
const { spawnSync } = require('node:child_process');
const args = [process.env.LWDISK_JS, 'boot', '--no-swap', '--root', process.env.ROOT, '--devices', ...process.env.DEVS.split(' ')];
const once = spawnSync(process.execPath, args, { encoding: 'utf8' });
const times = [], codes = [];
for (let i = 0; i < ${RUNS}; i++) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  codes.push(r.status);
}
console.log(JSON.stringify({ once: once.status, onceErr: once.stderr, times, codes }));
`;
  const outer = `
const { spawnSync } = require('node:child_process');
const time = (cmd, args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, code: r.status, stderr: r.stderr, stdout: r.stdout };
};
const ns = ['-m', '--propagation', 'private'];
const bootArgs = [process.env.LWDISK_JS, 'boot', '--no-swap', '--root', process.env.ROOT, '--devices', ...process.env.DEVS.split(' ')];
const out = { nodeZero: [], nsZero: [], fresh: [], freshCodes: [], freshErr: '' };
for (let i = 0; i < ${RUNS}; i++) {
  out.nodeZero.push(time(process.execPath, ['-e', '0']).ms);
  out.nsZero.push(time('unshare', [...ns, process.execPath, '-e', '0']).ms);
  const b = time('unshare', [...ns, process.execPath, ...bootArgs]);
  out.fresh.push(b.ms);
  out.freshCodes.push(b.code);
  if (b.code !== 0) out.freshErr = b.stderr;
}
const n = spawnSync('unshare', [...ns, process.execPath, '-e', process.env.INNER], { encoding: 'utf8' });
out.noop = n.status === 0 ? JSON.parse(n.stdout) : { once: n.status, onceErr: n.stderr, times: [], codes: [] };
console.log(JSON.stringify(out));
`;
  const r = run(process.execPath, ['-e', outer], {
    env: cleanEnv({ LWDISK_JS: LWDISK, ROOT: rig.root, DEVS: rig.devices().join(' '), INNER: inner }),
  });
  t.equal(r.code, 0, `timing script ran ${r.stderr}`);
  const m = JSON.parse(r.stdout) as { nodeZero: number[]; nsZero: number[]; fresh: number[]; freshCodes: number[]; freshErr: string; noop: { once: number; onceErr: string; times: number[]; codes: number[] } };
  const { nodeZero, nsZero, fresh, noop } = m;
  t.same(m.freshCodes, m.freshCodes.map(() => 0), `every steady-state boot in a fresh namespace exits 0 ${m.freshErr}`);
  t.equal(noop.once, 0, `boot in the timing namespace exits 0 ${noop.once ? noop.onceErr : ''}`);
  t.same(noop.codes, noop.codes.map(() => 0), 'every no-op re-run exits 0');
  t.equal(noop.times.length, RUNS, 'no-op re-runs measured');

  t.comment(`node -e 0 (median of ${RUNS}): ${ms(median(nodeZero))}  [${nodeZero.map(ms).join(', ')}]`);
  t.comment(`unshare -m node -e 0 (median of ${RUNS}): ${ms(median(nsZero))}  [${nsZero.map(ms).join(', ')}]`);
  t.comment(`steady-state boot, fresh namespace, two disks (median of ${RUNS}): ${ms(median(fresh))}  [${fresh.map(ms).join(', ')}]`);
  t.comment(`no-op re-run in a booted namespace (median of ${RUNS}): ${ms(median(noop.times))}  [${noop.times.map(ms).join(', ')}]`);
  t.ok(median(fresh) > 0 && median(noop.times) > 0, 'timings measured');
});
