// npm run bench [-- --runs N] [--write]: lwdisk against `node -e 0` (the floor) and `blkid -p`
// (the peer), all measured in the same run; each figure is the median of N runs (default 9).
// Needs sgdisk, mkswap, mkfs.btrfs, blkid, strace; root for the loop-device rows (blkid over
// partitions, steady-state boot). --write puts the table into docs/performance.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LWDISK = join(ROOT, 'dist', 'lwdisk.mjs');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 9;
const WRITE = args.includes('--write');
const isRoot = process.getuid?.() === 0;
const SIZES = [16, 64, 256];
const MIB = 1024 * 1024;

const sh = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

function timeOnce(cmd, argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${argv.slice(0, 4).join(' ')} … exited ${r.status}: ${String(r.stderr).slice(-300)}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function measure(cmd, argv, opts = {}) {
  timeOnce(cmd, argv, opts); // warm-up
  return median(Array.from({ length: RUNS }, () => timeOnce(cmd, argv, opts)));
}

/** read/pread64 syscalls of a command and its children, from `strace -c -f`. */
function readSyscalls(cmd, argv) {
  const out = join(work, `strace-${Math.random().toString(36).slice(2)}.txt`);
  spawnSync('strace', ['-f', '-c', '-o', out, '-e', 'trace=read,pread64,readv,preadv,preadv2', cmd, ...argv], { stdio: 'ignore' });
  let calls = 0;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(read|pread64|readv|preadv2?)\s*$/.exec(line);
    if (m) calls += Number(m[1]);
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Images: one template made by the real tools (GPT: 16 MiB swap + btrfs data), copied sparsely.

const work = mkdtempSync(join(tmpdir(), 'lwdisk-bench-'));
const loops = [];
const cleanup = () => {
  for (const l of loops.reverse()) spawnSync('losetup', ['-d', l]);
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function makeTemplate() {
  const img = join(work, 'template.img');
  const size = 160 * MIB;
  sh('truncate', ['-s', String(size), img]);
  sh('sgdisk', ['-n1:1M:+16M', '-t1:8200', '-c1:lightwhale-swap', '-n2:0:0', '-t2:8300', '-c2:lightwhale-data', img]);
  const swap = join(work, 'swap.part');
  sh('truncate', ['-s', String(16 * MIB), swap]);
  sh('mkswap', ['-L', 'lightwhale-swap', swap]);
  const dataStart = 17 * MIB;
  const data = join(work, 'data.part');
  sh('truncate', ['-s', String(size - dataStart - MIB), data]);
  sh('mkfs.btrfs', ['-q', '-f', '-L', 'lightwhale-data', '-m', 'single', data]);
  sh('dd', [`if=${swap}`, `of=${img}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
  sh('dd', [`if=${data}`, `of=${img}`, 'bs=1M', `seek=${dataStart / MIB}`, 'conv=notrunc,sparse', 'status=none']);
  rmSync(swap);
  rmSync(data);
  return img;
}

// ---------------------------------------------------------------------------------------------

function main() {
  for (const tool of ['sgdisk', 'mkswap', 'mkfs.btrfs', 'blkid']) if (!have(tool)) throw new Error(`bench needs ${tool}`);
  spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const template = makeTemplate();
  const images = Array.from({ length: Math.max(...SIZES) }, (_, i) => {
    const p = join(work, `disk${String(i).padStart(3, '0')}.img`);
    sh('cp', ['--sparse=always', template, p]);
    return p;
  });
  const rows = [];
  const row = (what, ms, note = '') => rows.push({ what, ms, note });
  const node0 = measure(process.execPath, ['-e', '0']);
  row('`node -e 0` (the floor)', node0);
  const version = measure(process.execPath, [LWDISK, '--version']);
  row('`lwdisk --version`', version, `${(version / node0).toFixed(2)}× node (target ≤ 1.2×)`);
  const scan = {};
  const blkid = {};
  for (const n of SIZES) {
    const set = images.slice(0, n);
    scan[n] = measure(process.execPath, [LWDISK, 'scan', '--json', ...set]);
    row(`\`lwdisk scan --json\` ${n} images`, scan[n], `${(scan[n] / node0).toFixed(2)}× node${n === 64 ? ' (target ≤ 1.3×)' : ''}`);
    blkid[n] = measure('blkid', ['-p', ...set], { allowFail: true });
    row(`\`blkid -p\` ${n} images (whole disks only)`, blkid[n]);
  }
  const marg = (t) => (t[256] - t[16]) / 240;
  row('marginal cost per image, lwdisk', marg(scan), 'ms per device: (T(256) − T(16)) / 240');
  row('marginal cost per image, blkid -p', marg(blkid), 'whole disk only (blkid cannot see partitions inside an image)');

  let loopScan = null;
  let loopBlkid = null;
  let loopPaths = [];
  if (isRoot) {
    // Partitions too: loop devices, the kernel told with partx; blkid must probe 3 nodes per disk.
    const n = 64;
    for (const img of images.slice(0, n)) {
      const l = sh('losetup', ['-f', '--show', img]).trim();
      loops.push(l);
      spawnSync('partx', ['-u', l]);
      loopPaths.push(l);
    }
    const nodesOf = (ls) => ls.flatMap((l) => [l, `${l}p1`, `${l}p2`]);
    const few = loopPaths.slice(0, 16);
    const loopScan16 = measure(process.execPath, [LWDISK, 'scan', '--json', ...few]);
    const loopBlkid16 = measure('blkid', ['-p', ...nodesOf(few)], { allowFail: true });
    loopScan = measure(process.execPath, [LWDISK, 'scan', '--json', ...loopPaths]);
    loopBlkid = measure('blkid', ['-p', ...nodesOf(loopPaths)], { allowFail: true });
    row(`\`lwdisk scan --json\` 16 loop disks (+ their partitions)`, loopScan16, `${(loopScan16 / node0).toFixed(2)}× node`);
    row(`\`blkid -p\` 16 loop disks + 32 partitions`, loopBlkid16);
    row(`\`lwdisk scan --json\` ${n} loop disks (+ their partitions)`, loopScan, `${(loopScan / node0).toFixed(2)}× node`);
    row(`\`blkid -p\` ${n} loop disks + ${2 * n} partitions`, loopBlkid, `lwdisk takes ${((loopScan / loopBlkid) * 100).toFixed(0)}% of blkid's time`);
    row('marginal cost per loop disk (disk + 2 partitions), lwdisk', (loopScan - loopScan16) / 48, 'ms per disk: (T(64) − T(16)) / 48');
    row('marginal cost per loop disk (disk + 2 partitions), blkid -p', (loopBlkid - loopBlkid16) / 48, 'ms per disk: 3 nodes probed');
  }

  // Read syscalls per disk, from strace (marginal between 64 and 16 images).
  let straceRows = null;
  if (have('strace')) {
    const l16 = readSyscalls(process.execPath, [LWDISK, 'scan', '--json', ...images.slice(0, 16)]);
    const l64 = readSyscalls(process.execPath, [LWDISK, 'scan', '--json', ...images.slice(0, 64)]);
    const b16 = readSyscalls('blkid', ['-p', ...images.slice(0, 16)]);
    const b64 = readSyscalls('blkid', ['-p', ...images.slice(0, 64)]);
    straceRows = { lwdisk: (l64 - l16) / 48, blkid: (b64 - b16) / 48 };
    if (isRoot && loopPaths.length) {
      const nodes = loopPaths.flatMap((l) => [l, `${l}p1`, `${l}p2`]);
      const ll = readSyscalls(process.execPath, [LWDISK, 'scan', '--json', ...loopPaths]);
      const bl = readSyscalls('blkid', ['-p', ...nodes]);
      const l0 = readSyscalls(process.execPath, [LWDISK, 'scan', '--json', loopPaths[0]]);
      const b0 = readSyscalls('blkid', ['-p', loopPaths[0], `${loopPaths[0]}p1`, `${loopPaths[0]}p2`]);
      straceRows.lwdiskLoop = (ll - l0) / (loopPaths.length - 1);
      straceRows.blkidLoop = (bl - b0) / (loopPaths.length - 1);
    }
  }

  // Steady-state boot on two loop disks that are already persistent.
  let bootRows = null;
  if (isRoot && have('unshare') && have('mkfs.btrfs')) {
    const a = join(work, 'boot-a.img');
    const b = join(work, 'boot-b.img');
    for (const p of [a, b]) {
      sh('truncate', ['-s', String(512 * MIB), p]);
      writeFileSync(p, 'lightwhale-please-format-me\n', { flag: 'r+' });
    }
    const la = sh('losetup', ['-f', '--show', a]).trim();
    loops.push(la);
    const lb = sh('losetup', ['-f', '--show', b]).trim();
    loops.push(lb);
    const root = join(work, 'root');
    for (const d of ['etc', 'var', 'home']) mkdirSync(join(root, d), { recursive: true });
    const bootArgs = [LWDISK, 'boot', '--no-swap', '--root', root, '--devices', la, lb];
    sh('unshare', ['-m', '--propagation', 'private', process.execPath, ...bootArgs]); // first boot: claims and formats
    const fresh = measure('unshare', ['-m', '--propagation', 'private', process.execPath, ...bootArgs]);
    const unshareFloor = measure('unshare', ['-m', '--propagation', 'private', process.execPath, '-e', '0']);
    // No-op re-run inside one namespace where everything is already mounted.
    const inner = join(work, 'inner.mjs');
    writeFileSync(
      inner,
      `import { spawnSync } from 'node:child_process';
const a = ${JSON.stringify(bootArgs)};
spawnSync(process.execPath, a, { stdio: 'ignore' });
const t = [];
for (let i = 0; i < ${RUNS + 1}; i++) { const t0 = process.hrtime.bigint(); const r = spawnSync(process.execPath, a, { stdio: 'ignore' }); if (r.status !== 0) process.exit(1); t.push(Number(process.hrtime.bigint() - t0) / 1e6); }
const n = []; for (let i = 0; i < ${RUNS + 1}; i++) { const t0 = process.hrtime.bigint(); spawnSync(process.execPath, ['-e', '0']); n.push(Number(process.hrtime.bigint() - t0) / 1e6); }
console.log(JSON.stringify({ t: t.slice(1), n: n.slice(1) }));`,
    );
    const res = JSON.parse(sh('unshare', ['-m', '--propagation', 'private', process.execPath, inner]));
    bootRows = { fresh, unshareFloor, noop: median(res.t), nodeInside: median(res.n) };
    row('`lwdisk boot`, 2 disks already persistent, fresh namespace (mounts 3 subvolumes + 3 binds + 3 overlays)', fresh, `own work ${(fresh - unshareFloor).toFixed(1)} ms over \`unshare … node -e 0\` (${unshareFloor.toFixed(1)} ms)`);
    row('`lwdisk boot` again in the same namespace (no-op: everything mounted)', bootRows.noop, `own work ${(bootRows.noop - bootRows.nodeInside).toFixed(1)} ms = ${((bootRows.noop - bootRows.nodeInside) / bootRows.nodeInside).toFixed(2)}× \`node -e 0\` (${bootRows.nodeInside.toFixed(1)} ms; target ≤ 1×)`);
  }

  const lines = [];
  lines.push(`Measured ${new Date().toISOString().slice(0, 10)} on ${sh('uname', ['-srm']).trim()}, Node ${process.version}, ${RUNS} runs each (median), images of 160 MiB (GPT, 16 MiB swap, btrfs).`);
  lines.push('');
  lines.push('| what | median ms | note |');
  lines.push('|---|---:|---|');
  for (const r of rows) lines.push(`| ${r.what} | ${r.ms.toFixed(1)} | ${r.note} |`);
  if (straceRows) {
    lines.push('');
    lines.push('| read syscalls per disk (strace -c -f, marginal) | lwdisk | blkid -p |');
    lines.push('|---|---:|---:|');
    lines.push(`| image files (whole disk; blkid does not look inside) | ${straceRows.lwdisk.toFixed(2)} | ${straceRows.blkid.toFixed(2)} |`);
    if (straceRows.lwdiskLoop !== undefined) lines.push(`| loop disk with 2 partitions (blkid probes 3 nodes) | ${straceRows.lwdiskLoop.toFixed(2)} | ${straceRows.blkidLoop.toFixed(2)} |`);
  }
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (WRITE) {
    const doc = join(ROOT, 'docs', 'performance.md');
    const text = readFileSync(doc, 'utf8');
    const begin = '<!-- bench:begin -->';
    const end = '<!-- bench:end -->';
    const i = text.indexOf(begin);
    const j = text.indexOf(end);
    if (i < 0 || j < 0) throw new Error('docs/performance.md lacks the bench markers');
    writeFileSync(doc, `${text.slice(0, i + begin.length)}\n${table}\n${text.slice(j)}`);
    process.stdout.write('docs/performance.md updated\n');
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = 1;
}
