// Boot step, acted: carry out a Plan step by step. Actions already in place (state 'present')
// are left alone, so re-running a satisfied plan changes nothing. A failure on the data path
// still ends with tmpfs and the overlays mounted, so the system comes up; the result says so.
import { existsSync, mkdirSync } from 'node:fs';
import { examine, holdsData, layoutWipes, openForWrite, refuseInUse, writeGpt, writeSwapArea } from '../claim.js';
import { FileDevice } from '../device/file.js';
import { waitForPartitions } from '../discover.js';
import { describeError, LwdiskError } from '../errors.js';
import { layoutGpt } from '../layout.js';
import { DATA_LABEL, DATA_MOUNT, OVERLAY_LOWER_ROOT, STATE_DIR, SUBVOLUMES, SWAP_LABEL } from '../names.js';
import { probeDevice } from '../probe.js';
import { defaultRandom, randomGuid } from '../random.js';
import { pageSize } from '../system/proc.js';
import { btrfsSubvolumeCreate, mkfsBtrfs, mount, rereadPartitions, swapon, umount } from '../system/tools.js';
import { type Member, type MountAction, type PartitionRef, type Plan, profileFor, refText, rooted } from './plan.js';

export interface ApplyOptions {
  log: (line: string) => void;
  warn: (line: string) => void;
  nodeTimeoutMs: number;
}

export interface ApplyResult {
  ok: boolean;
  /** What is mounted now: persistent, degraded or volatile. */
  mode: Plan['mode'];
  errors: string[];
  dataUuid: string | null;
}

const mkdirp = (dir: string): void => {
  mkdirSync(dir, { recursive: true });
};

const pathOf = (p: PartitionRef): string => {
  if (!p.path) throw new LwdiskError('ELWD_NOT_FOUND', refText(p), 'no /dev node for this partition');
  return p.path;
};

/** Step 3 on one disk: write the GPT, tell the kernel, wait for the nodes. */
async function claimDisk(plan: Plan, claim: Plan['claims'][number], options: ApplyOptions): Promise<void> {
  const t = await examine(claim.disk);
  refuseInUse(t);
  if (!t.model.magic) throw new LwdiskError('ELWD_NO_MAGIC', claim.disk, 'the magic header is gone (claimed by someone else?)');
  const dev = await openForWrite(t, false);
  try {
    await writeGpt(dev, layoutGpt(claim.layout, defaultRandom()), layoutWipes(claim.layout, claim.size));
  } finally {
    await dev.close();
  }
  // The disk is not in use (checked above), so the kernel's stale partitions can all be dropped.
  const how = await rereadPartitions(claim.disk, { dropStale: true });
  const parts = [claim.layout.swap, claim.layout.data].filter((p) => p !== null);
  const sysName = t.facts.sys?.name;
  if (!sysName) throw new LwdiskError('ELWD_NOT_A_DEVICE', claim.disk, 'not a block device');
  const nodes = await waitForPartitions(sysName, parts.map((p) => ({ number: p.number, start: p.start, size: p.size })), options.nodeTimeoutMs);
  for (const ref of [...plan.formatSwap, ...plan.formatData]) if (ref.disk === claim.disk) ref.path = nodes.get(ref.number) ?? null;
  for (const s of plan.swap) if (typeof s.device !== 'string' && s.device.disk === claim.disk) s.device.path = nodes.get(s.device.number) ?? null;
  options.log(`lwdisk: step 3: partitioned ${claim.disk}: ${parts.map((p) => `${nodes.get(p.number)} ${p.name}`).join(', ')} (kernel told via ${how})`);
}

/** Step 5, swap: a native header on a partition that must still be blank. */
async function formatSwap(ref: PartitionRef): Promise<string> {
  const path = pathOf(ref);
  const t = await examine(path);
  refuseInUse(t);
  if (holdsData(t.model)) throw new LwdiskError('ELWD_NOT_EMPTY', path, 'no longer blank; left alone');
  const dev = await openForWrite(t, false);
  const uuid = randomGuid(defaultRandom());
  try {
    await writeSwapArea(dev, 0, t.model.size, { pageSize: pageSize(), uuid, label: SWAP_LABEL });
  } finally {
    await dev.close();
  }
  return uuid;
}

/** The filesystem UUID and devid of a member, read back from its superblock. */
async function readMember(path: string): Promise<{ uuid: string | null; devid: number | null; numDevices: number | null }> {
  const dev = await FileDevice.open(path);
  try {
    const r = await probeDevice(dev);
    const fs = r.model.filesystem;
    return { uuid: fs?.type === 'btrfs' ? fs.uuid : null, devid: fs?.devid ?? null, numDevices: fs?.numDevices ?? null };
  } finally {
    await dev.close();
  }
}

/** Mount the top level (subvolid=5) at a scratch dir, create missing subvolumes, unmount. */
async function ensureSubvolumes(plan: Plan, source: string, deviceOptions: string[], options: ApplyOptions): Promise<string[]> {
  const top = rooted(plan.root, '/run/lightwhale/btrfs-top');
  mkdirp(top);
  await mount(source, top, 'btrfs', ['subvolid=5', ...deviceOptions]);
  const created: string[] = [];
  try {
    for (const s of SUBVOLUMES) {
      if (existsSync(`${top}/${s}`)) continue;
      await btrfsSubvolumeCreate(`${top}/${s}`);
      created.push(s);
    }
  } finally {
    await umount(top);
  }
  if (created.length) options.log(`lwdisk: created subvolume${created.length > 1 ? 's' : ''} ${created.join(', ')}`);
  return created;
}

async function mountTmpfs(plan: Plan): Promise<void> {
  const target = rooted(plan.root, DATA_MOUNT);
  mkdirp(target);
  await mount('tmpfs', target, 'tmpfs', ['mode=0755']);
  mkdirp(rooted(plan.root, STATE_DIR));
}

/** One run of apply: the plan it updates, where it logs, the errors it collects. */
interface Run {
  plan: Plan;
  options: ApplyOptions;
  errors: string[];
  fail: (what: string, err: unknown) => void;
}

export async function applyPlan(plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const errors: string[] = [];
  const run: Run = {
    plan,
    options,
    errors,
    fail: (what, err) => {
      const line = describeError(err);
      errors.push(`${what}: ${line}`);
      options.warn(`FAILED ${what}: ${line}`);
    },
  };
  for (const w of plan.warnings) options.warn(w);
  // Every skip is said on stderr too (no silent surprises), unless a warning already names it.
  for (const s of plan.skipped) if (!plan.warnings.some((w) => w.includes(s.path))) options.log(`lwdisk: ${s.path} : ${s.reason}`);
  options.log(`lwdisk: ${plan.steps[0]}`);
  options.log(`lwdisk: ${plan.steps[1]}`);
  await applyClaims(run);
  options.log(`lwdisk: ${plan.steps[3]}`);
  const members = await applyNewFilesystem(run);
  const mode = await applyDataMounts(run, members);
  await applySwap(run);
  await applyOverlays(run);
  const data = plan.dataFilesystem;
  if (mode === 'degraded') options.warn(`DEGRADED: the data filesystem is mounted with ${data?.missingDevices} device(s) missing; replace the disk (btrfs replace) soon`);
  if (errors.length) options.warn(`lwdisk boot finished with ${errors.length} error(s); the system runs ${mode === 'volatile' ? 'VOLATILE (changes are lost at reboot)' : mode}`);
  return { ok: errors.length === 0, mode, errors, dataUuid: data?.uuid ?? null };
}

/** Step 3 on every magic disk; the partitions of a disk that could not be claimed are dropped. */
async function applyClaims(run: Run): Promise<void> {
  const { plan, options } = run;
  const claimedOk = new Set<string>();
  for (const c of plan.claims) {
    try {
      await claimDisk(plan, c, options);
      claimedOk.add(c.disk);
      c.state = 'done';
    } catch (err) {
      c.state = 'failed';
      run.fail(`step 3 on ${c.disk}`, err);
    }
  }
  if (!plan.claims.length) options.log(`lwdisk: ${plan.steps[2]}`);
  const usable = (p: PartitionRef): boolean => !plan.claims.some((c) => c.disk === p.disk) || claimedOk.has(p.disk);
  for (const p of plan.formatSwap) if (!usable(p)) p.state = 'skipped';
  plan.formatSwap = plan.formatSwap.filter(usable);
  plan.formatData = plan.formatData.filter(usable);
}

/**
 * Step 5: swap headers, mkfs.btrfs over the data partitions (checked blank once more), the three
 * subvolumes. Returns the data filesystem's members, or null when there is none to mount.
 */
async function applyNewFilesystem(run: Run): Promise<Member[] | null> {
  const { plan, options } = run;
  const data = plan.dataFilesystem;
  if (!data) {
    options.log(`lwdisk: ${plan.steps[4]}`);
    return null;
  }
  if (!data.create) {
    options.log(`lwdisk: ${plan.steps[4]}`);
    return data.members;
  }
  try {
    if (!plan.formatData.length) throw new LwdiskError('ELWD_NOT_FOUND', 'step 5', 'no data partition left to format');
    for (const ref of plan.formatSwap) {
      try {
        await formatSwap(ref);
        ref.state = 'done';
      } catch (err) {
        ref.state = 'failed';
        run.fail(`swap header on ${refText(ref)}`, err);
      }
    }
    const paths = plan.formatData.map(pathOf);
    for (const p of paths) {
      const t = await examine(p);
      refuseInUse(t);
      if (holdsData(t.model)) throw new LwdiskError('ELWD_NOT_EMPTY', p, 'no longer blank; not formatting');
    }
    const profile = paths.length === data.members.length && data.profile ? data.profile : profileFor(paths.length);
    await mkfsBtrfs(paths, DATA_LABEL, profile.data, profile.metadata);
    data.state = 'done';
    const read = await Promise.all(paths.map(readMember));
    data.uuid = read[0]!.uuid;
    data.profile = profile;
    const members: Member[] = paths.map((path, i) => ({ path, devid: read[i]!.devid }));
    data.members = members;
    data.numDevices = members.length;
    options.log(`lwdisk: step 5: made btrfs ${DATA_LABEL} ${data.uuid} (data ${profile.data}, metadata ${profile.metadata}) on ${paths.join(', ')}`);
    await ensureSubvolumes(plan, paths[0]!, paths.map((p) => `device=${p}`), options);
    data.subvolumesState = 'done';
    return members;
  } catch (err) {
    if (data.state === 'done') data.subvolumesState = 'failed';
    else data.state = 'failed';
    run.fail('step 5 (create the data filesystem)', err);
    return null;
  }
}

/**
 * Step 6, mounts: the three subvolumes with `device=` for every member (and `degraded` when some
 * are missing); on any failure what was mounted here is undone and tmpfs is mounted instead.
 * Returns what the system runs on.
 */
async function applyDataMounts(run: Run, members: Member[] | null): Promise<Plan['mode']> {
  const { plan, options } = run;
  const data = plan.dataFilesystem;
  const dataTarget = rooted(plan.root, DATA_MOUNT);
  const step6 = plan.mounts.filter((m) => m.step === 6);
  if (data && members) {
    const deviceOptions = members.map((m) => `device=${m.path}`);
    const extra = data.missingDevices > 0 ? ['degraded'] : [];
    const source = members[0]?.path ?? '';
    const mountedNow: MountAction[] = [];
    const mountAll = async (): Promise<void> => {
      for (const m of step6) {
        if (m.state !== 'planned' || m.kind !== 'subvolume') continue;
        mkdirp(m.target);
        await mount(source, m.target, 'btrfs', [...m.options, ...deviceOptions, ...extra]);
        m.state = 'done';
        m.source = source;
        mountedNow.push(m);
      }
    };
    try {
      try {
        await mountAll();
      } catch (first) {
        // A cut after mkfs leaves a filesystem without (some) subvolumes: create them and retry once.
        options.warn(`mount failed (${describeError(first)}); checking subvolumes`);
        const created = await ensureSubvolumes(plan, source, [...deviceOptions, ...extra], options);
        if (!created.length) throw first;
        await mountAll();
      }
      if (step6.every((m) => m.state === 'present')) options.log(`lwdisk: step 6: data filesystem already mounted on ${dataTarget}`);
      else options.log(`lwdisk: step 6: mounted ${data.uuid} (${members.map((m) => m.path).join(', ')}${extra.length ? ', DEGRADED' : ''}) on ${dataTarget} with its state and snapshot subvolumes`);
      // A mount point that already held something else was not mounted over: not persistent.
      if (step6.some((m) => m.state === 'skipped')) return 'volatile';
      return data.missingDevices > 0 ? 'degraded' : 'persistent';
    } catch (err) {
      run.fail('step 6 (mount the data filesystem)', err);
      for (const m of mountedNow.reverse()) {
        await umount(m.target).catch(() => undefined);
        m.state = 'failed';
      }
    }
  }
  if (step6.some((m) => m.kind === 'tmpfs' && m.state === 'present')) {
    options.log(`lwdisk: step 6: tmpfs already mounted on ${dataTarget}`);
    return 'volatile';
  }
  try {
    await mountTmpfs(plan);
    for (const m of step6) if (m.kind === 'tmpfs' || m.kind === 'state-dir') m.state = 'done';
    options.log(`lwdisk: step 6: mounted tmpfs on ${dataTarget}${data ? ' INSTEAD of the data filesystem (see errors above)' : ' (volatile: no data filesystem)'}`);
  } catch (err) {
    run.fail('step 6 (tmpfs fallback)', err);
  }
  return 'volatile';
}

/** Step 6, swap: swapon every planned Lightwhale swap area (a failure is an error, not fatal). */
async function applySwap(run: Run): Promise<void> {
  const { plan, options } = run;
  if (plan.swapDisabled) return;
  for (const s of plan.swap) {
    if (s.state !== 'planned') continue;
    const dev = typeof s.device === 'string' ? s.device : s.device.path;
    if (!dev) continue;
    try {
      await swapon(dev);
      s.state = 'done';
    } catch (err) {
      s.state = 'failed';
      run.fail(`swapon ${dev}`, err);
    }
  }
  const on = plan.swap.filter((s) => s.state === 'done').map((s) => (typeof s.device === 'string' ? s.device : (s.device.path ?? refText(s.device))));
  if (on.length) options.log(`lwdisk: step 6: swap on ${on.join(', ')}`);
}

/** Step 7: the lower binds, the overlays, and the Docker data root. */
async function applyOverlays(run: Run): Promise<void> {
  const { plan, options } = run;
  const stateDir = rooted(plan.root, STATE_DIR);
  let overlays = 0;
  for (const m of plan.mounts.filter((x) => x.step === 7)) {
    if (m.state !== 'planned') continue;
    try {
      if (m.kind === 'bind') {
        mkdirp(m.target);
        mkdirp(m.source);
        await mount(m.source, m.target, null, ['bind']);
      } else {
        const dir = m.target.slice(rooted(plan.root, '').length);
        mkdirp(`${stateDir}/overlay/upper${dir}`);
        mkdirp(`${stateDir}/overlay/work${dir}`);
        await mount('overlay', m.target, 'overlay', m.options);
        overlays++;
      }
      m.state = 'done';
    } catch (err) {
      m.state = 'failed';
      run.fail(`step 7 (${m.kind} on ${m.target})`, err);
    }
  }
  try {
    plan.dockerState = existsSync(plan.dockerDir) ? 'present' : 'done';
    mkdirp(plan.dockerDir);
  } catch (err) {
    plan.dockerState = 'failed';
    run.fail(`create ${plan.dockerDir}`, err);
  }
  options.log(`lwdisk: step 7: ${overlays ? `mounted ${overlays} overlay${overlays > 1 ? 's' : ''}` : 'overlays already mounted'} (lower ${rooted(plan.root, OVERLAY_LOWER_ROOT)}, upper ${stateDir}/overlay/upper)`);
}
