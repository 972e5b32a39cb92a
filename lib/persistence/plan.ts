// Boot step, decided: scan results + mountinfo → a plain Plan (what will be done and why).
// Pure: no I/O. `apply.ts` carries it out; `--dry-run` prints it. SPEC "The boot step" 1–7.
import { defaultSwapSize, type LightwhaleLayout, planLayout } from '../layout.js';
import type { DeviceModel, PartitionModel } from '../model.js';
import {
  DATA_LABEL,
  DATA_MOUNT,
  DOCKER_DIR,
  OVERLAY_DIRS,
  OVERLAY_LOWER_ROOT,
  SNAPSHOTS_DIR,
  STATE_DIR,
  SUBVOL_DATA,
  SUBVOL_SNAPSHOTS,
  SUBVOL_STATE,
} from '../names.js';
import type { MountEntry } from '../system/proc.js';
import { LwdiskError } from '../errors.js';

export const PLAN_SCHEMA = 1;

export type Mode = 'persistent' | 'degraded' | 'volatile';
export type ActionState = 'planned' | 'present' | 'done' | 'skipped' | 'failed';

/** A partition by disk and number; `path` is the /dev node when the kernel has one. */
export interface PartitionRef {
  disk: string;
  number: number;
  path: string | null;
  start: number;
  size: number;
  /** Set by apply on formatSwap entries: what became of the swap header. */
  state?: ActionState;
}

export interface Member {
  path: string;
  devid: number | null;
}

export interface DataFilesystem {
  /** null for one that this boot creates. */
  uuid: string | null;
  label: string;
  create: boolean;
  members: Member[];
  numDevices: number;
  missingDevices: number;
  generation: number | null;
  /** Profiles of a filesystem this boot creates. */
  profile: { data: string; metadata: string } | null;
  /** Set by apply for a filesystem this boot creates: mkfs, then the subvolumes. */
  state?: ActionState;
  subvolumesState?: ActionState;
}

export interface Claim {
  disk: string;
  size: number;
  sectorSize: number;
  layout: LightwhaleLayout;
  /** Set by apply: what became of the partitioning. */
  state?: ActionState;
}

export interface MountAction {
  step: 6 | 7;
  kind: 'subvolume' | 'tmpfs' | 'state-dir' | 'bind' | 'overlay';
  target: string;
  source: string;
  fstype: string;
  options: string[];
  /** Subvolume name for kind 'subvolume'. */
  subvolume?: string;
  state: ActionState;
  detail?: string;
}

export interface SwapAction {
  device: string | PartitionRef;
  state: ActionState;
  detail?: string;
}

export interface Plan {
  schema: typeof PLAN_SCHEMA;
  root: string;
  dryRun: boolean;
  devices: string[];
  unreadable: Array<{ path: string; error: string }>;
  /** What the disks ask for: persistent, degraded, or volatile. */
  mode: Mode;
  dataFilesystem: DataFilesystem | null;
  ignoredFilesystems: Array<{ uuid: string; members: string[]; reason: string }>;
  claims: Claim[];
  skipped: Array<{ path: string; reason: string }>;
  formatSwap: PartitionRef[];
  formatData: PartitionRef[];
  mounts: MountAction[];
  swap: SwapAction[];
  swapDisabled: string | null;
  dockerDir: string;
  /** Set by apply: whether the Docker data root was created or already there. */
  dockerState?: ActionState;
  warnings: string[];
  /** One line per step: what was found, what will be done, why. */
  steps: string[];
}

export interface PlanInput {
  devices: DeviceModel[];
  unreadable: Array<{ path: string; error: string }>;
  mounts: MountEntry[];
  /** Absolute, canonical; '' for the real root. */
  root: string;
  dryRun: boolean;
  /** Why swap is off (--no-swap, noswap on the kernel command line), or null. */
  noSwap: string | null;
}

/** Data/metadata profiles by number of data partitions (SPEC step 5). */
export function profileFor(n: number): { data: string; metadata: string } {
  if (n <= 1) return { data: 'single', metadata: 'dup' };
  if (n === 2) return { data: 'raid1', metadata: 'raid1' };
  if (n === 3) return { data: 'raid1', metadata: 'raid1c3' };
  return { data: 'raid1', metadata: 'raid1c4' };
}

export const rooted = (root: string, path: string): string => (root ? `${root.replace(/\/+$/, '')}${path}` : path);

const partLabel = (disk: string, p: { number: number; path: string | null }): string => p.path ?? `${disk} partition ${p.number}`;

const refOf = (d: DeviceModel, p: PartitionModel): PartitionRef => ({ disk: d.path, number: p.number, path: p.path, start: p.start, size: p.size });

interface Candidate {
  uuid: string;
  members: Array<{ path: string; devid: number | null; generation: number }>;
  numDevices: number;
}

/** Every btrfs labelled lightwhale-data outside magic disks (whole disks and partitions). */
function findDataFilesystems(devices: DeviceModel[]): Map<string, Candidate> {
  const byUuid = new Map<string, Candidate>();
  const add = (path: string, fs: NonNullable<DeviceModel['filesystem']>): void => {
    if (fs.type !== 'btrfs' || fs.label !== DATA_LABEL || !fs.uuid) return;
    const c = byUuid.get(fs.uuid) ?? { uuid: fs.uuid, members: [], numDevices: fs.numDevices ?? 1 };
    if (!c.members.some((m) => m.path === path)) c.members.push({ path, devid: fs.devid ?? null, generation: fs.generation ?? 0 });
    c.numDevices = Math.max(c.numDevices, fs.numDevices ?? 1);
    byUuid.set(fs.uuid, c);
  };
  for (const d of devices) {
    if (d.magic) continue; // the magic header asks for a fresh start and wins over stale content
    if (d.role === 'data-filesystem' && d.filesystem && d.otherSignatures.length === 0) add(d.path, d.filesystem);
    for (const p of d.table?.partitions ?? []) {
      if (p.role === 'data-filesystem' && p.filesystem && p.problems.every((x) => !/past the end|overlaps|start LBA/.test(x))) add(p.path ?? `${d.path}#${p.number}`, p.filesystem);
    }
  }
  return byUuid;
}

const presentCount = (c: Candidate): number => new Set(c.members.map((m) => m.devid ?? m.path)).size;
const missingOf = (c: Candidate): number => Math.max(0, c.numDevices - presentCount(c));
const newest = (c: Candidate): number => Math.max(...c.members.map((m) => m.generation));

/** Complete filesystems first, then the highest generation, then the UUID (deterministic). */
export function chooseDataFilesystem(cands: Candidate[]): Candidate[] {
  return [...cands].sort((a, b) => missingOf(a) - missingOf(b) || newest(b) - newest(a) || a.uuid.localeCompare(b.uuid));
}

const findMount = (mounts: MountEntry[], target: string): MountEntry | undefined => [...mounts].reverse().find((m) => m.target === target);

export function buildPlan(input: PlanInput): Plan {
  const plan: Plan = {
    schema: PLAN_SCHEMA,
    root: input.root,
    dryRun: input.dryRun,
    devices: input.devices.map((d) => d.path),
    unreadable: input.unreadable,
    mode: 'volatile',
    dataFilesystem: null,
    ignoredFilesystems: [],
    claims: [],
    skipped: [],
    formatSwap: [],
    formatData: [],
    mounts: [],
    swap: [],
    swapDisabled: input.noSwap,
    dockerDir: rooted(input.root, `${STATE_DIR}/${DOCKER_DIR}`),
    warnings: [],
    steps: [],
  };
  for (const u of input.unreadable) plan.warnings.push(`${u.path} could not be read: ${u.error}`);
  let data = findDataFilesystem(input, plan);
  planClaims(input, plan, data);
  if (!data) {
    planBlankPartitions(input, plan);
    data = planNewFilesystem(plan);
  } else {
    plan.steps.push('step 4: skipped: a data filesystem exists', 'step 5: skipped: a data filesystem exists');
  }
  plan.dataFilesystem = data;
  plan.mode = data ? (data.missingDevices > 0 ? 'degraded' : 'persistent') : 'volatile';
  planMounts(input, plan);
  planSwap(input, plan);
  planOverlays(input, plan);
  return plan;
}

/** Step 1: the data filesystem, chosen among every lightwhale-data btrfs found. */
function findDataFilesystem(input: PlanInput, plan: Plan): DataFilesystem | null {
  const cands = chooseDataFilesystem([...findDataFilesystems(input.devices).values()]);
  if (!cands.length) {
    plan.steps.push(`step 1: no ${DATA_LABEL} filesystem on ${input.devices.length} device${input.devices.length === 1 ? '' : 's'} looked at`);
    return null;
  }
  const [best, ...rest] = cands as [Candidate, ...Candidate[]];
  for (const c of rest) {
    const reason = `another ${DATA_LABEL} filesystem was chosen (${best.uuid}: ${missingOf(best) === 0 ? 'complete' : `${missingOf(best)} missing`}, generation ${newest(best)})`;
    plan.ignoredFilesystems.push({ uuid: c.uuid, members: c.members.map((m) => m.path), reason });
    plan.warnings.push(`two filesystems are labelled ${DATA_LABEL}: using ${best.uuid}, ignoring ${c.uuid} on ${c.members.map((m) => m.path).join(', ')}`);
  }
  const data: DataFilesystem = {
    uuid: best.uuid,
    label: DATA_LABEL,
    create: false,
    members: best.members.map(({ path, devid }) => ({ path, devid })).sort((a, b) => (a.devid ?? 0) - (b.devid ?? 0)),
    numDevices: best.numDevices,
    missingDevices: missingOf(best),
    generation: newest(best),
    profile: null,
  };
  if (data.missingDevices > 0) plan.warnings.push(`DEGRADED: data filesystem ${best.uuid} has ${data.missingDevices} of ${best.numDevices} devices missing; mounting degraded`);
  plan.steps.push(`step 1: found data filesystem ${best.uuid} on ${data.members.map((m) => m.path).join(', ')}${data.missingDevices ? ` (${data.missingDevices} of ${data.numDevices} devices MISSING)` : ''}`);
  return data;
}

/** Steps 2 and 3: magic disks, claimed when there is no data filesystem and they are not in use. */
function planClaims(input: PlanInput, plan: Plan, data: DataFilesystem | null): void {
  const magic = input.devices.filter((d) => d.magic && d.kind !== 'partition');
  for (const d of input.devices.filter((x) => x.magic && x.kind === 'partition')) plan.skipped.push({ path: d.path, reason: 'magic header on a partition, not a whole disk: ignored' });
  if (data) {
    for (const d of magic) {
      plan.skipped.push({ path: d.path, reason: `magic disk not claimed: data filesystem ${data.uuid} exists` });
      plan.warnings.push(`magic disk ${d.path} left alone: a ${DATA_LABEL} filesystem already exists (remove the magic with \`lwdisk unmark\`, or add the disk to the filesystem by hand)`);
    }
    plan.steps.push(magic.length ? `step 2: ${magic.length} magic disk(s) ignored: a data filesystem exists` : 'step 2: skipped: a data filesystem exists');
    plan.steps.push('step 3: skipped: a data filesystem exists');
    return;
  }
  plan.steps.push(magic.length ? `step 2: found magic disk${magic.length > 1 ? 's' : ''} ${magic.map((d) => d.path).join(', ')}` : 'step 2: no magic disks');
  for (const d of magic) {
    if (d.inUse) {
      plan.skipped.push({ path: d.path, reason: `magic disk in use (${d.inUseReasons.join('; ')}): not claimed` });
      plan.warnings.push(`magic disk ${d.path} is in use (${d.inUseReasons.join('; ')}): not claimed`);
      continue;
    }
    try {
      const layout = planLayout(d.path, d.size, d.sectorSize, input.noSwap ? 0 : defaultSwapSize(d.size));
      plan.claims.push({ disk: d.path, size: d.size, sectorSize: d.sectorSize, layout });
    } catch (err) {
      const why = err instanceof LwdiskError ? err.why : String(err);
      plan.skipped.push({ path: d.path, reason: `magic disk not claimed: ${why}` });
      plan.warnings.push(`magic disk ${d.path} not claimed: ${why}`);
    }
  }
  const claimed = plan.claims.map((c) => c.disk);
  plan.steps.push(magic.length ? (claimed.length ? `step 3: will partition ${claimed.join(', ')} (swap + data)` : 'step 3: no magic disk can be claimed') : 'step 3: nothing to partition');
}

/** Step 4: blank magic partitions on disks that are not magic, plus those step 3 creates. */
function planBlankPartitions(input: PlanInput, plan: Plan): void {
  const claimedSet = new Set(plan.claims.map((c) => c.disk));
  for (const d of input.devices) {
    if (d.magic || claimedSet.has(d.path)) continue;
    for (const p of d.table?.partitions ?? []) {
      const magicRole = p.role === 'magic-data-partition' || p.role === 'magic-swap-partition';
      const hasName = p.name === 'lightwhale-data' || p.name === 'lightwhale-swap';
      if (!magicRole && !hasName) continue;
      const label = partLabel(d.path, p);
      if (p.filesystem || p.otherSignatures.length) {
        if (hasName && p.role === 'foreign') plan.skipped.push({ path: label, reason: `magic partition holds ${[p.filesystem?.type, ...p.otherSignatures].filter(Boolean).join(', ')}: left alone` });
        continue;
      }
      if (p.problems.length) {
        plan.skipped.push({ path: label, reason: `magic partition not formatted: ${p.problems.join('; ')}` });
        plan.warnings.push(`magic partition ${label} not formatted: ${p.problems.join('; ')}`);
        continue;
      }
      if (p.inUse) {
        plan.skipped.push({ path: label, reason: 'magic partition in use: not formatted' });
        continue;
      }
      // A real run re-reads such a table (boot.ts) before planning, so a node still missing then is
      // a problem; a dry run does not touch the kernel and plans what the re-read will allow.
      if (d.kind === 'disk' && !p.path && !input.dryRun) {
        plan.skipped.push({ path: label, reason: 'the kernel has no node for this partition' });
        plan.warnings.push(`magic partition ${label} has no /dev node: not formatted`);
        continue;
      }
      (p.role === 'magic-data-partition' ? plan.formatData : plan.formatSwap).push(refOf(d, p));
    }
  }
  for (const c of plan.claims) {
    const ref = (p: LightwhaleLayout['data']): PartitionRef => ({ disk: c.disk, number: p.number, path: null, start: p.start, size: p.size });
    if (c.layout.swap) plan.formatSwap.push(ref(c.layout.swap));
    plan.formatData.push(ref(c.layout.data));
  }
  if (plan.formatData.length === 0) {
    // SPEC: no blank data partition → step 6; a blank swap partition alone waits for a later claim.
    plan.skipped.push(...plan.formatSwap.map((p) => ({ path: partLabel(p.disk, p), reason: 'blank magic swap partition without a blank data partition: left for a later claim' })));
    plan.formatSwap = [];
    plan.steps.push('step 4: no blank magic data partition');
  } else {
    plan.steps.push(`step 4: blank magic partitions: data ${plan.formatData.map((p) => partLabel(p.disk, p)).join(', ')}${plan.formatSwap.length ? `; swap ${plan.formatSwap.map((p) => partLabel(p.disk, p)).join(', ')}` : ''}`);
  }
}

/** Step 5: the filesystem this boot creates over the blank data partitions, if any. */
function planNewFilesystem(plan: Plan): DataFilesystem | null {
  if (!plan.formatData.length) {
    plan.steps.push('step 5: nothing to format');
    return null;
  }
  const profile = profileFor(plan.formatData.length);
  const data: DataFilesystem = {
    uuid: null,
    label: DATA_LABEL,
    create: true,
    members: plan.formatData.map((p, i) => ({ path: partLabel(p.disk, p), devid: i + 1 })),
    numDevices: plan.formatData.length,
    missingDevices: 0,
    generation: null,
    profile,
  };
  plan.steps.push(`step 5: will make btrfs ${DATA_LABEL} (data ${profile.data}, metadata ${profile.metadata}) on ${data.members.map((m) => m.path).join(', ')}${plan.formatSwap.length ? ` and swap on ${plan.formatSwap.map((p) => partLabel(p.disk, p)).join(', ')}` : ''}`);
  return data;
}

/** Step 6, mounts: the three subvolumes, or tmpfs; what is already mounted is 'present'. */
function planMounts(input: PlanInput, plan: Plan): void {
  const { root, mounts } = input;
  const dataTarget = rooted(root, DATA_MOUNT);
  const stateTarget = rooted(root, STATE_DIR);
  if (plan.dataFilesystem) {
    const subvols: Array<[string, string]> = [
      [SUBVOL_DATA, dataTarget],
      [SUBVOL_STATE, stateTarget],
      [SUBVOL_SNAPSHOTS, rooted(root, SNAPSHOTS_DIR)],
    ];
    for (const [subvol, target] of subvols) {
      const m = findMount(mounts, target);
      let state: ActionState = 'planned';
      let detail: string | undefined;
      if (m) {
        const same = m.fstype === 'btrfs' && m.root === `/${subvol}`;
        state = same ? 'present' : 'skipped';
        detail = same ? `already mounted from ${m.source}` : `${target} already has a ${m.fstype} mount from ${m.source}: not stacking another (reboot to switch)`;
        if (!same) plan.warnings.push(detail);
      }
      plan.mounts.push({ step: 6, kind: 'subvolume', target, source: '', fstype: 'btrfs', options: [`subvol=${subvol}`], subvolume: subvol, state, ...(detail ? { detail } : {}) });
    }
    return;
  }
  const existing = findMount(mounts, dataTarget);
  const state: ActionState = existing ? 'present' : 'planned';
  plan.mounts.push({ step: 6, kind: 'tmpfs', target: dataTarget, source: 'tmpfs', fstype: 'tmpfs', options: ['mode=0755'], state, ...(existing ? { detail: `already mounted (${existing.fstype})` } : {}) });
  plan.mounts.push({ step: 6, kind: 'state-dir', target: stateTarget, source: '', fstype: '', options: [], state });
}

/** Step 6, swap: Lightwhale swap areas not active yet, plus those step 5 creates; none with noswap. */
function planSwap(input: PlanInput, plan: Plan): void {
  const data = plan.dataFilesystem;
  const what = `mount ${data ? `${data.create ? 'the new' : 'the'} data filesystem` : 'tmpfs (volatile)'} on ${rooted(input.root, DATA_MOUNT)}`;
  if (input.noSwap) {
    plan.steps.push(`step 6: ${what}; swap off (${input.noSwap})`);
    return;
  }
  for (const d of input.devices) {
    if (d.magic || plan.claims.some((c) => c.disk === d.path)) continue;
    for (const p of d.table?.partitions ?? []) {
      if (p.role !== 'magic-swap-partition' || p.filesystem?.type !== 'swap') continue;
      if (!p.path) {
        // Dry run only (see step 4): the real run has re-read the table and has the node.
        if (input.dryRun && d.kind === 'disk') plan.swap.push({ device: refOf(d, p), state: 'planned', detail: 'after the kernel re-reads the table' });
        continue;
      }
      plan.swap.push({ device: p.path, state: p.inUse ? 'present' : 'planned', ...(p.inUse ? { detail: 'already active or in use' } : {}) });
    }
  }
  for (const p of plan.formatSwap) plan.swap.push({ device: p, state: 'planned' });
  const swapText = plan.swap.length ? `swap on ${plan.swap.map((s) => (typeof s.device === 'string' ? s.device : partLabel(s.device.disk, s.device))).join(', ')}` : 'no swap partition';
  plan.steps.push(`step 6: ${what}; ${swapText}`);
}

/** Step 7: for /etc, /var, /home a bind of the original as the lower layer, then the overlay. */
function planOverlays(input: PlanInput, plan: Plan): void {
  const { root, mounts } = input;
  const stateTarget = rooted(root, STATE_DIR);
  for (const dir of OVERLAY_DIRS) {
    const target = rooted(root, `/${dir}`);
    const lower = rooted(root, `${OVERLAY_LOWER_ROOT}/${dir}`);
    const upper = `${stateTarget}/overlay/upper/${dir}`;
    const work = `${stateTarget}/overlay/work/${dir}`;
    plan.mounts.push({ step: 7, kind: 'bind', target: lower, source: target, fstype: '', options: ['bind'], state: findMount(mounts, lower) ? 'present' : 'planned' });
    const overlayState: ActionState = findMount(mounts, target)?.fstype === 'overlay' ? 'present' : 'planned';
    plan.mounts.push({ step: 7, kind: 'overlay', target, source: 'overlay', fstype: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`], state: overlayState });
  }
  const pending = plan.mounts.some((m) => m.step === 7 && m.kind === 'overlay' && m.state === 'planned');
  plan.steps.push(pending ? `step 7: overlays on ${OVERLAY_DIRS.map((d) => `/${d}`).join(', ')} (upper in ${stateTarget}/overlay)` : 'step 7: overlays already mounted');
}

/** Display name of a partition reference. */
export const refText = (p: PartitionRef): string => partLabel(p.disk, p);
