// The whole persistence step: lock the devices (a second boot waits), scan, make sure the kernel
// knows the partitions, plan, and (unless --dry-run) apply.
import { statPath } from '../device/file.js';
import { readHostFacts } from '../discover.js';
import { LwdiskError } from '../errors.js';
import type { DeviceModel } from '../model.js';
import { scanPaths } from '../scan.js';
import { type DeviceLock, lockDevices, releaseAll } from '../system/lock.js';
import { cmdlineWantsNoSwap, readCmdline } from '../system/proc.js';
import { rereadPartitions } from '../system/tools.js';
import { lockKey } from '../claim.js';
import { type ApplyOptions, type ApplyResult, applyPlan } from './apply.js';
import { buildPlan, type Plan } from './plan.js';

export interface BootOptions {
  devices: string[];
  root: string;
  dryRun: boolean;
  noSwap: boolean;
  lockWaitMs: number;
}

export interface BootOutcome {
  plan: Plan;
  result: ApplyResult | null;
}

/**
 * Disks whose table lists Lightwhale partitions (magic-named, or holding the data filesystem) the
 * kernel has no node for. Foreign disks, including their empty partitions, are left alone.
 */
const needsReread = (d: DeviceModel): boolean =>
  d.kind === 'disk' && !d.magic && (d.table?.partitions ?? []).some((p) => p.path === null && ((p.role !== 'foreign' && p.role !== 'empty') || !!p.name?.startsWith('lightwhale-')));

export async function boot(options: BootOptions, apply: ApplyOptions): Promise<BootOutcome> {
  const facts = await Promise.allSettled(options.devices.map((p) => statPath(p)));
  if (!options.dryRun) {
    for (const f of facts) {
      if (f.status === 'fulfilled' && f.value.kind === 'image') throw new LwdiskError('ELWD_USAGE', f.value.path, 'image files work only with --dry-run; boot needs block devices');
    }
  }
  let locks: DeviceLock[] = [];
  const noSwapWords = cmdlineWantsNoSwap(readCmdline());
  const noSwap = options.noSwap ? '--no-swap' : noSwapWords ? 'noswap on the kernel command line' : null;
  if (!options.dryRun) {
    const keys = facts.flatMap((f) => (f.status === 'fulfilled' ? [lockKey(f.value)] : []));
    try {
      locks = await lockDevices(keys, options.lockWaitMs, 'boot');
    } catch (err) {
      if (!(err instanceof LwdiskError) || err.code !== 'ELWD_LOCKED') throw err;
      // Another lwdisk holds the disks for too long: touch none of them, but bring the system up
      // volatile (tmpfs and the overlays), and say so.
      apply.warn(`${err.what} : ${err.why}; leaving every disk alone and running VOLATILE`);
      const plan = buildPlan({ devices: [], unreadable: [], mounts: readHostFacts().mounts, root: options.root, dryRun: false, noSwap });
      const result = await applyPlan(plan, apply);
      result.ok = false;
      result.errors.unshift(`${err.what} : ${err.why}`);
      return { plan, result };
    }
  }
  try {
    const host = readHostFacts();
    let scan = await scanPaths(options.devices, { deep: true, host });
    if (!options.dryRun) {
      // Tell the kernel about Lightwhale partitions it has no node for (kernels without a GPT parser).
      const stale = scan.results.filter((r) => needsReread(r.model));
      if (stale.length) {
        for (const r of stale) await rereadPartitions(r.model.path).catch(() => undefined);
        scan = await scanPaths(options.devices, { deep: true, host: readHostFacts() });
      }
    }
    const plan = buildPlan({
      devices: scan.results.map((r) => r.model),
      unreadable: scan.errors.map((e) => ({ path: e.path, error: e.error })),
      mounts: host.mounts,
      root: options.root,
      dryRun: options.dryRun,
      noSwap,
    });
    if (options.dryRun) return { plan, result: null };
    const result = await applyPlan(plan, apply);
    return { plan, result };
  } finally {
    releaseAll(locks);
  }
}
