// Helpers for the end-to-end boot tests (test/boot/*): a "rig" of image files on loop devices we
// create ourselves, a scratch root with its own etc/, var/ and home/, and `lwdisk boot` run inside
// `unshare -m --propagation private` so every mount vanishes with the process. A "reboot" is a new
// namespace with the same loop devices attached. Swap is global (not namespaced): the rig turns off
// swap on its own loop partitions before detaching them, also on failure.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Test } from 'tap';
import { LWDISK } from './cli.js';
import { createHash } from 'node:crypto';
import { attachLoop, type Loop, run, type RunResult, scratchDir, sh, sparseImage } from './system.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const MAGIC = 'lightwhale-please-format-me\n';

/** Tools every boot test needs (checked by systemTestGuard). */
export const BOOT_TOOLS = ['unshare', 'partx', 'mkfs.btrfs', 'btrfs', 'mount', 'umount', 'swapon', 'swapoff', 'sha256sum', 'truncate'];

export type DiskKind = 'magic' | 'ext4' | 'mbr' | 'blank';

export interface RigDisk {
  name: string;
  image: string;
  size: number;
  kind: DiskKind;
  loop: Loop | null;
}

/** The loop device path of an attached disk. */
export const dev = (d: RigDisk): string => {
  if (!d.loop) throw new Error(`disk ${d.name} is not attached`);
  return d.loop.path;
};

/** Files placed in the scratch root before the first boot (must show through the overlays). */
export const ROOT_FILES: Record<string, string> = {
  'etc/hostname': 'lightwhale-test\n',
  'etc/motd': 'welcome\n',
  'var/lib/marker': 'var marker\n',
  'home/user/.profile': 'export PS1=lw\n',
};

/**
 * The environment for lwdisk runs: tap's own NODE_OPTIONS (a process-tracking loader) stripped, so
 * each node start costs what it costs on a real system (and timings are fair).
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'NODE_OPTIONS' && !k.startsWith('_TAPJS_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * sha256 of a device or file, hashed in-process (OpenSSL uses the CPU's SHA extensions: several
 * times faster than sha256sum, which matters with gigabytes hashed before and after every dry run).
 */
export function sha256Fast(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const h = createHash('sha256');
    const buf = Buffer.alloc(16 * MiB);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(n === buf.length ? buf : buf.subarray(0, n));
    }
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
}

export class Rig {
  readonly dir: string;
  readonly root: string;
  readonly out: string;
  readonly disks: RigDisk[] = [];
  private readonly cleanupDir: () => void;
  private nsCount = 0;

  constructor(prefix = 'lwdisk-boot-') {
    const s = scratchDir(prefix);
    // lwdisk canonicalises --root, so mount points in mountinfo use the real path.
    this.dir = realpathSync(s.dir);
    this.cleanupDir = s.cleanup;
    this.root = join(this.dir, 'root');
    this.out = join(this.dir, 'out');
    mkdirSync(this.out);
    for (const [rel, text] of Object.entries(ROOT_FILES)) {
      mkdirSync(join(this.root, rel, '..'), { recursive: true });
      writeFileSync(join(this.root, rel), text);
    }
  }

  /** Make an image of `size` bytes holding `kind`, and attach it to a new loop device. */
  addDisk(name: string, size: number, kind: DiskKind): RigDisk {
    const image = sparseImage(join(this.dir, `${name}.img`), size);
    if (kind === 'magic') {
      const fd = openSync(image, 'r+');
      try {
        writeSync(fd, Buffer.from(MAGIC, 'ascii'), 0, MAGIC.length, 0);
      } finally {
        closeSync(fd);
      }
    } else if (kind === 'ext4') {
      sh('mkfs.ext4', ['-q', '-F', '-L', 'foreign', image]);
    } else if (kind === 'mbr') {
      sh('sfdisk', ['-q', image], { input: 'label: dos\n,32M,L\n,,b\n' });
    }
    const d: RigDisk = { name, image, size, kind, loop: null };
    this.disks.push(d);
    this.attach(d);
    return d;
  }

  attach(d: RigDisk): void {
    if (!d.loop) d.loop = attachLoop(d.image);
  }

  /** Attached loop devices, in the order the disks were added. */
  devices(): string[] {
    return this.disks.filter((d) => d.loop).map(dev);
  }

  /** Partition nodes the kernel has for an attached disk (/dev/loopNpM). */
  partitions(d: RigDisk): string[] {
    if (!d.loop) return [];
    const name = basename(d.loop.path);
    const sys = `/sys/class/block/${name}`;
    if (!existsSync(sys)) return [];
    return readdirSync(sys)
      .filter((e) => new RegExp(`^${name}p\\d+$`).test(e))
      .map((e) => `/dev/${e}`);
  }

  /** Turn off swap on our own loop partitions (swap is not namespaced). */
  swapoff(d?: RigDisk): void {
    const ours = (d ? [d] : this.disks).flatMap((x) => this.partitions(x));
    const active = readFileSync('/proc/swaps', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0] ?? '')
      .filter(Boolean)
      .map((p) => basename(p));
    for (const p of ours) if (active.includes(basename(p))) run('swapoff', [p]);
  }

  /** Names (loopNpM) of our partitions that are active swap now. */
  activeSwap(): string[] {
    const ours = new Set(this.disks.flatMap((x) => this.partitions(x)).map((p) => basename(p)));
    return readFileSync('/proc/swaps', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => basename(l.split(/\s+/)[0] ?? ''))
      .filter((n) => ours.has(n));
  }

  /**
   * Forget the kernel's partition nodes of a disk, as after a reboot on a kernel without a GPT parser
   * (boot must run partx itself). Also drops btrfs' memory of those devices.
   */
  dropPartitionNodes(d: RigDisk): void {
    for (const p of this.partitions(d)) run('btrfs', ['device', 'scan', '--forget', p]);
    if (d.loop) run('partx', ['-d', d.loop.path]);
  }

  /** Unplug a disk: swap off, forget it in btrfs, drop its partitions, detach the loop device. */
  detach(d: RigDisk): void {
    if (!d.loop) return;
    this.swapoff(d);
    this.dropPartitionNodes(d);
    d.loop.detach();
    d.loop = null;
  }

  /** Run a shell script in a fresh private mount namespace (one "boot" of the machine). */
  ns(script: string, env: NodeJS.ProcessEnv = {}, timeout = 110_000): RunResult {
    this.nsCount++;
    return run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `set -u\n${script}`], {
      env: cleanEnv({ LWDISK: `${process.execPath} ${LWDISK}`, ROOT: this.root, DEVS: this.devices().join(' '), OUT: this.out, ...env }),
      timeout,
    });
  }

  /** `lwdisk boot --root ROOT --devices ...` alone in a fresh namespace. */
  boot(args: string[] = [], env: NodeJS.ProcessEnv = {}): RunResult {
    return run('unshare', ['-m', '--propagation', 'private', process.execPath, LWDISK, 'boot', '--root', this.root, '--devices', ...this.devices(), ...args], {
      env: cleanEnv(env),
      timeout: 110_000,
    });
  }

  /** The first `n` bytes of a disk's image file. */
  head(d: RigDisk, n: number): Buffer {
    const fd = openSync(d.image, 'r');
    try {
      const buf = Buffer.alloc(n);
      readSync(fd, buf, 0, n, 0);
      return buf;
    } finally {
      closeSync(fd);
    }
  }

  read(name: string): string {
    return readFileSync(join(this.out, name), 'utf8');
  }

  readJson<T = any>(name: string): T {
    const text = this.read(name);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`${name} is not JSON: ${text.slice(0, 300)}`);
    }
  }

  has(name: string): boolean {
    return existsSync(join(this.out, name));
  }

  /** sha256 of every attached device. */
  hashes(): Record<string, string> {
    return Object.fromEntries(this.devices().map((p) => [p, sha256Fast(p)]));
  }

  /** Everything under the scratch root (paths relative to it), to prove a dry run created nothing. */
  tree(): string[] {
    const out: string[] = [];
    const walk = (dir: string, rel: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        out.push(r);
        if (e.isDirectory()) walk(join(dir, e.name), r);
      }
    };
    walk(this.root, '');
    return out.sort();
  }

  cleanup(): void {
    const errors: string[] = [];
    for (const d of this.disks) {
      try {
        this.detach(d);
      } catch (err) {
        errors.push(String(err));
      }
    }
    this.cleanupDir();
    if (errors.length) throw new Error(`rig cleanup: ${errors.join('; ')}`);
  }
}

/** A rig for one tap test, cleaned up in teardown (also on failure). */
export function rigFor(t: Test, prefix?: string): Rig {
  const rig = new Rig(prefix);
  t.teardown(() => rig.cleanup());
  return rig;
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the scenarios

/** `lwdisk status --json` schema (SPEC): {schema:1, mode, filesystem:null|{uuid,label,devices:[{path,devid}],missingDevices}, mounts:[...]}. */
export function checkStatusSchema(t: Test, s: any, mode: 'persistent' | 'degraded' | 'volatile'): void {
  t.equal(s?.schema, 1, 'status: schema 1');
  t.equal(s?.mode, mode, `status: mode ${mode}`);
  t.ok(Array.isArray(s?.mounts), 'status: mounts is an array');
  for (const m of s?.mounts ?? []) {
    const ok = ['target', 'source', 'fstype', 'options'].every((k) => typeof m[k] === 'string');
    if (!ok) t.fail(`status: mount entry has string target/source/fstype/options: ${JSON.stringify(m)}`);
  }
  if (mode === 'volatile') {
    t.equal(s?.filesystem, null, 'status: filesystem null');
    return;
  }
  const f = s?.filesystem;
  t.ok(f && typeof f === 'object', 'status: filesystem object');
  t.match(f?.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'status: filesystem.uuid');
  t.equal(f?.label, 'lightwhale-data', 'status: filesystem.label');
  t.ok(Array.isArray(f?.devices) && f.devices.length > 0, 'status: filesystem.devices');
  for (const d of f?.devices ?? []) {
    t.match(d.path, /^\/dev\//, 'status: device path');
    t.type(d.devid, 'number', 'status: device devid');
  }
  t.type(f?.missingDevices, 'number', 'status: missingDevices is a number');
}

/** Mount points (field 5) of /proc/self/mountinfo text that lie under `root`. */
export function mountTargets(mountinfo: string, root: string): string[] {
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === root || m.startsWith(`${root}/`));
}

/** The fstype of the last mount on `target` in mountinfo text. */
export function fstypeAt(mountinfo: string, target: string): string | null {
  let found: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f[4] !== target) continue;
    const sep = f.indexOf('-');
    found = sep > 0 ? (f[sep + 1] ?? null) : null;
  }
  return found;
}

/** Mount source of the last mount on `target`. */
export function sourceAt(mountinfo: string, target: string): string | null {
  let found: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f[4] !== target) continue;
    const sep = f.indexOf('-');
    found = sep > 0 ? (f[sep + 2] ?? null) : null;
  }
  return found;
}

/**
 * Profiles (subdirectory names under /sys/fs/btrfs/<uuid>/allocation/{data,metadata}) recorded by
 * `recordState(tag)` while the filesystem was mounted in its namespace.
 */
export function allocationProfiles(rig: Rig, tag: string, uuid: string): { data: string[]; metadata: string[] } {
  const read = (kind: string): string[] => (rig.has(`${tag}.alloc.${uuid}.${kind}`) ? rig.read(`${tag}.alloc.${uuid}.${kind}`).split('\n').filter(Boolean) : []);
  return { data: read('data'), metadata: read('metadata') };
}

/** The shell lines that record what a boot left behind, into $OUT/<tag>.*. */
export const recordState = (tag: string): string => `
cat /proc/self/mountinfo > "$OUT/${tag}.mountinfo"
cat /proc/swaps > "$OUT/${tag}.swaps"
$LWDISK status --root "$ROOT" --json > "$OUT/${tag}.status.json" 2> "$OUT/${tag}.status.err"; echo $? > "$OUT/${tag}.status.rc"
for u in /sys/fs/btrfs/*-*; do
  [ -d "$u/allocation" ] || continue
  n=$(basename "$u")
  find "$u/allocation/data" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort > "$OUT/${tag}.alloc.$n.data"
  find "$u/allocation/metadata" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort > "$OUT/${tag}.alloc.$n.metadata"
done
btrfs filesystem df "$ROOT/mnt/lightwhale-data" > "$OUT/${tag}.df" 2>&1 || true
`;

/**
 * `boot --dry-run --json` in a fresh namespace: exit 0, and nothing written (device hashes, mounts,
 * swap, the scratch root's tree unchanged). Returns the plan.
 */
export function dryRun(t: Test, rig: Rig, args: string[] = [], tag = 'dry'): any {
  const before = rig.hashes();
  const treeBefore = rig.tree();
  const swapsBefore = rig.activeSwap();
  const r = rig.ns(`
cat /proc/self/mountinfo > "$OUT/${tag}.mi0"
$LWDISK boot --dry-run --json --root "$ROOT" --devices $DEVS ${args.join(' ')} > "$OUT/${tag}.json" 2> "$OUT/${tag}.err"
echo $? > "$OUT/${tag}.rc"
cat /proc/self/mountinfo > "$OUT/${tag}.mi1"
`);
  t.equal(r.code, 0, 'dry-run namespace ran');
  t.equal(rig.read(`${tag}.rc`).trim(), '0', `dry run exits 0 ${rig.read(`${tag}.err`).trim().slice(0, 300)}`);
  t.equal(rig.read(`${tag}.mi1`), rig.read(`${tag}.mi0`), 'dry run mounts nothing');
  t.same(rig.hashes(), before, 'dry run writes no device byte (sha256 of every device unchanged)');
  t.same(rig.tree(), treeBefore, 'dry run creates no directory under the root');
  t.same(rig.activeSwap(), swapsBefore, 'dry run activates no swap on our devices');
  const plan = rig.readJson(`${tag}.json`);
  t.equal(plan.schema, 1, 'plan schema 1');
  t.equal(plan.dryRun, true, 'plan says dryRun');
  t.ok(Array.isArray(plan.actions), 'plan has actions[]');
  for (const a of plan.actions ?? []) {
    const ok = typeof a.step === 'number' && typeof a.action === 'string' && typeof a.target === 'string' && typeof a.state === 'string';
    if (!ok) t.fail(`action has step/action/target/state: ${JSON.stringify(a)}`);
  }
  return plan;
}

/** A partition reference from a plan as "disk#number". */
export const refKey = (p: { disk: string; number: number }): string => `${p.disk}#${p.number}`;

/**
 * What the dry run said against what the real run (boot --json) did: the same claims, the same
 * partitions formatted, the same profile, the same action list (step + action), every planned mount
 * now done and every present one still present.
 */
export function comparePlan(t: Test, plan: any, real: any): void {
  t.same(
    real.claims.map((c: any) => c.disk),
    plan.claims.map((c: any) => c.disk),
    'the real run claimed the disks the plan named',
  );
  t.same(real.claims.map((c: any) => c.state), plan.claims.map(() => 'done'), 'every claim done');
  t.same(real.formatData.map(refKey), plan.formatData.map(refKey), 'the real run formatted the data partitions the plan named');
  t.same(real.formatSwap.map(refKey), plan.formatSwap.map(refKey), 'the real run wrote the swap headers the plan named');
  t.same(real.dataFilesystem?.profile ?? null, plan.dataFilesystem?.profile ?? null, 'the profile the plan named');
  t.same(
    real.actions.map((a: any) => `${a.step} ${a.action}`),
    plan.actions.map((a: any) => `${a.step} ${a.action}`),
    'the real run took the actions the plan named, in order',
  );
  plan.actions.forEach((a: any, i: number) => {
    const r = real.actions[i];
    if (!r) return;
    // The Docker data root lives on the data filesystem, which the plan cannot look into before it is
    // mounted: the plan always says "planned"; the real run says "done" or "present".
    const want = a.state === 'planned' ? (a.action === 'mkdir' ? ['done', 'present'] : ['done']) : [a.state];
    if (!want.includes(r.state)) t.fail(`action ${a.step} ${a.action} ${a.target}: planned ${a.state}, real ${r.state} ${r.detail ?? ''}`);
  });
  t.pass('each planned action is done, each present one left alone');
}

export interface BootRecord {
  /** Exit status of `lwdisk boot`. */
  code: number;
  /** Its --json output (plan after apply, actions, result), null when there is none. */
  json: any;
  stderr: string;
  mountinfo: string;
  swaps: string;
  status: any;
}

/**
 * One "boot of the machine": a fresh namespace, `lwdisk boot --json` with the rig's devices, then
 * the state it left (mountinfo, swaps, status --json, btrfs profiles) recorded under `tag`, plus
 * `extra` shell lines run in the same namespace. Swap stays on (the caller turns it off).
 */
export function bootAndRecord(rig: Rig, tag: string, args: string[] = [], extra = '', env: NodeJS.ProcessEnv = {}): BootRecord {
  const r = rig.ns(
    `
$LWDISK boot --json --root "$ROOT" --devices $DEVS ${args.join(' ')} > "$OUT/${tag}.json" 2> "$OUT/${tag}.err"
echo $? > "$OUT/${tag}.rc"
${recordState(tag)}
${extra}
`,
    env,
  );
  if (r.code !== 0) throw new Error(`namespace script for ${tag} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
  const text = rig.read(`${tag}.json`);
  let json: any = null;
  try {
    json = text.trim() ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  let status: any = null;
  try {
    status = JSON.parse(rig.read(`${tag}.status.json`));
  } catch {
    status = null;
  }
  return { code: Number(rig.read(`${tag}.rc`).trim()), json, stderr: rig.read(`${tag}.err`), mountinfo: rig.read(`${tag}.mountinfo`), swaps: rig.read(`${tag}.swaps`), status };
}

/** The mountinfo line fields of the last mount on `target`: root (field 4), fstype, source, super options. */
export function mountAt(mountinfo: string, target: string): { root: string; fstype: string; source: string; options: string } | null {
  let found: { root: string; fstype: string; source: string; options: string } | null = null;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f[4] !== target) continue;
    const sep = f.indexOf('-');
    found = { root: f[3] ?? '', fstype: f[sep + 1] ?? '', source: f[sep + 2] ?? '', options: `${f[5] ?? ''},${f[sep + 3] ?? ''}` };
  }
  return found;
}

/**
 * The mounts a persistent (or degraded) boot must leave under `root`: the three subvolumes from
 * the data filesystem, the lower binds and the overlays on etc, var and home.
 */
export function checkPersistentMounts(t: Test, mountinfo: string, root: string, members: string[]): void {
  const subvols: Array<[string, string]> = [
    ['/mnt/lightwhale-data', '/@lightwhale-data'],
    ['/mnt/lightwhale-data/lightwhale-state', '/@lightwhale-state'],
    ['/mnt/lightwhale-data/lightwhale-state-snapshots', '/@lightwhale-state-snapshots'],
  ];
  for (const [dir, subvol] of subvols) {
    const m = mountAt(mountinfo, `${root}${dir}`);
    t.equal(m?.fstype, 'btrfs', `${dir} is btrfs`);
    t.equal(m?.root, subvol, `${dir} is subvolume ${subvol}`);
    t.ok(m && members.includes(m.source), `${dir} mounted from a member (${m?.source})`);
  }
  checkOverlays(t, mountinfo, root);
}

export function checkOverlays(t: Test, mountinfo: string, root: string): void {
  const state = `${root}/mnt/lightwhale-data/lightwhale-state`;
  for (const d of ['etc', 'var', 'home']) {
    const lower = mountAt(mountinfo, `${root}/run/lightwhale/overlay/lower/${d}`);
    t.ok(lower, `lower bind of /${d} on /run/lightwhale/overlay/lower/${d}`);
    const tail = `${root.split('/').slice(-2).join('/')}/${d}`;
    t.ok(lower?.root.endsWith(`/${tail}`), `the lower of /${d} is a bind of the original directory (${lower?.root})`);
    const ov = mountAt(mountinfo, `${root}/${d}`);
    t.equal(ov?.fstype, 'overlay', `overlay on /${d}`);
    t.match(ov?.options ?? '', `upperdir=${state}/overlay/upper/${d}`, `upper of /${d} in the state directory`);
    t.match(ov?.options ?? '', `workdir=${state}/overlay/work/${d}`, `work of /${d} in the state directory`);
  }
}

/** Each mount point appears at most once under root (nothing stacked twice). */
export function checkNoStacking(t: Test, mountinfo: string, root: string): void {
  const targets = mountTargets(mountinfo, root);
  const dup = targets.filter((x, i) => targets.indexOf(x) !== i);
  t.same(dup, [], 'no mount stacked twice');
}
