// `status`: is persistence active? From mountinfo, /sys/fs/btrfs and the members' superblocks.
import { existsSync, readdirSync, statfs as statfsCb } from 'node:fs';
import { promisify } from 'node:util';
import { FileDevice } from './device/file.js';
import { probeDevice } from './probe.js';
import { DATA_MOUNT, OVERLAY_DIRS, OVERLAY_LOWER_ROOT, SNAPSHOTS_DIR, STATE_DIR } from './names.js';
import { type MountEntry, readMountinfo, readSwaps } from './system/proc.js';
import { rooted } from './persistence/plan.js';

const statfs = promisify(statfsCb);

export interface StatusReport {
  schema: 1;
  mode: 'persistent' | 'degraded' | 'volatile';
  filesystem: null | {
    uuid: string;
    label: string | null;
    devices: Array<{ path: string; devid: number | null }>;
    numDevices: number;
    missingDevices: number;
    size: number | null;
    free: number | null;
  };
  mounts: Array<{ target: string; source: string; fstype: string; options: string }>;
  overlays: Array<{ dir: string; mounted: boolean }>;
  swap: Array<{ path: string; size: number }>;
  problems: string[];
}

const last = (mounts: MountEntry[], target: string): MountEntry | undefined => [...mounts].reverse().find((m) => m.target === target);

async function superblockOf(path: string): Promise<{ uuid: string | null; label: string | null; devid: number | null; numDevices: number | null }> {
  try {
    const dev = await FileDevice.open(path);
    try {
      const fs = (await probeDevice(dev)).model.filesystem;
      return fs?.type === 'btrfs' ? { uuid: fs.uuid, label: fs.label, devid: fs.devid ?? null, numDevices: fs.numDevices ?? null } : { uuid: null, label: null, devid: null, numDevices: null };
    } finally {
      await dev.close();
    }
  } catch {
    return { uuid: null, label: null, devid: null, numDevices: null };
  }
}

export async function readStatus(root: string): Promise<StatusReport> {
  const mounts = readMountinfo();
  const problems: string[] = [];
  const dataTarget = rooted(root, DATA_MOUNT);
  const watched = [dataTarget, rooted(root, STATE_DIR), rooted(root, SNAPSHOTS_DIR), ...OVERLAY_DIRS.flatMap((d) => [rooted(root, `${OVERLAY_LOWER_ROOT}/${d}`), rooted(root, `/${d}`)])];
  const shown = watched.map((t) => last(mounts, t)).filter((m): m is MountEntry => !!m);
  const report: StatusReport = {
    schema: 1,
    mode: 'volatile',
    filesystem: null,
    mounts: shown.map((m) => ({ target: m.target, source: m.source, fstype: m.fstype, options: [m.options, m.superOptions].filter(Boolean).join(',') })),
    overlays: OVERLAY_DIRS.map((d) => ({ dir: `/${d}`, mounted: last(mounts, rooted(root, `/${d}`))?.fstype === 'overlay' })),
    swap: readSwaps().map((s) => ({ path: s.path, size: s.size })),
    problems,
  };
  const data = last(mounts, dataTarget);
  if (!data || data.fstype !== 'btrfs') {
    if (!data) problems.push(`nothing is mounted on ${dataTarget}`);
    return report;
  }
  const sb = await superblockOf(data.source);
  if (!sb.uuid) {
    problems.push(`cannot read the btrfs superblock of ${data.source}`);
    report.mode = 'persistent';
    return report;
  }
  const sysDir = `/sys/fs/btrfs/${sb.uuid}/devices`;
  const names = existsSync(sysDir) ? readdirSync(sysDir) : [];
  const devices = await Promise.all(names.map(async (n) => ({ path: `/dev/${n}`, devid: (await superblockOf(`/dev/${n}`)).devid })));
  devices.sort((a, b) => (a.devid ?? 0) - (b.devid ?? 0));
  const numDevices = sb.numDevices ?? devices.length;
  const missing = Math.max(0, numDevices - devices.length);
  let size: number | null = null;
  let free: number | null = null;
  try {
    const st = await statfs(dataTarget);
    size = st.blocks * st.bsize;
    free = st.bavail * st.bsize;
  } catch {
    problems.push(`statfs ${dataTarget} failed`);
  }
  report.filesystem = { uuid: sb.uuid, label: sb.label, devices, numDevices, missingDevices: missing, size, free };
  const degradedOption = /(^|,)degraded(,|$)/.test(`${data.options},${data.superOptions}`);
  report.mode = missing > 0 || degradedOption ? 'degraded' : 'persistent';
  if (missing > 0) problems.push(`${missing} of ${numDevices} devices missing`);
  return report;
}
