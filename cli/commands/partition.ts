// lwdisk partition DEVICE: write the Lightwhale GPT (boot step 3 on one device).
import { examine, layoutWipes, withDeviceLock, openForWrite, refuseInUse, refusePartition, writeGpt, writesOf } from '../../lib/claim.js';
import { waitForPartitions } from '../../lib/discover.js';
import { LwdiskError } from '../../lib/errors.js';
import { defaultSwapSize, layoutGpt, planLayout } from '../../lib/layout.js';
import { MIB } from '../../lib/names.js';
import { cmdlineWantsNoSwap, readCmdline } from '../../lib/system/proc.js';
import { rereadPartitions } from '../../lib/system/tools.js';
import { defaultRandom } from '../../lib/random.js';
import { confirm } from '../confirm.js';
import { humanSize, log } from '../output.js';
import { printWriteReport } from '../writes.js';
import { describeTarget } from './mark.js';

export interface PartitionArgs {
  device: string;
  swapSize?: number;
  noSwap: boolean;
  sectorSize?: number;
  dryRun: boolean;
  yes: boolean;
  force: boolean;
  json: boolean;
}

export const PARTITION_NODE_TIMEOUT_MS = Number(process.env.LWDISK_NODE_TIMEOUT_MS ?? 10_000);

export async function run(args: PartitionArgs): Promise<number> {
  return withDeviceLock(args.device, args.dryRun, () => runLocked(args));
}

async function runLocked(args: PartitionArgs): Promise<number> {
  const t = await examine(args.device);
  refusePartition(t);
  refuseInUse(t);
  if (!t.model.magic && !args.force) throw new LwdiskError('ELWD_NO_MAGIC', t.facts.path, 'no magic header; run `lwdisk mark` first or pass --force (everything on it is erased)');
  let sectorSize = t.model.sectorSize;
  if (args.sectorSize !== undefined) {
    if (t.facts.kind !== 'image' && args.sectorSize !== sectorSize) throw new LwdiskError('ELWD_USAGE', '--sector-size', `the kernel says ${t.facts.path} has ${sectorSize}-byte sectors`);
    sectorSize = args.sectorSize;
  }
  const noSwap = args.noSwap || cmdlineWantsNoSwap(readCmdline());
  const swapSize = noSwap ? 0 : (args.swapSize ?? defaultSwapSize(t.model.size));
  if (swapSize % MIB !== 0) throw new LwdiskError('ELWD_USAGE', '--swap-size', 'must be a whole number of MiB');
  const layout = planLayout(t.facts.path, t.model.size, sectorSize, swapSize);
  const plan = [layout.swap, layout.data]
    .filter((p) => p !== null)
    .map((p) => `${p.number}: ${p.name} ${humanSize(p.size)} at ${humanSize(p.start)}`)
    .join(', ');
  log(describeTarget(t));
  log(`lwdisk will write a new GPT (${sectorSize}-byte sectors): ${plan}. Everything on ${t.facts.path} is lost.`);
  await confirm(t.facts.path, `Partition ${t.facts.path}?`, { yes: args.yes, dryRun: args.dryRun });
  let nodes: Map<number, string> | null = null;
  const dev = await openForWrite(t, args.dryRun);
  try {
    await writeGpt(dev, layoutGpt(layout, defaultRandom()), layoutWipes(layout, t.model.size));
  } finally {
    await dev.close();
  }
  if (!args.dryRun && t.facts.kind === 'disk' && t.facts.sys) {
    await rereadPartitions(t.facts.path, { dropStale: true });
    const expected = [layout.swap, layout.data].filter((p) => p !== null).map((p) => ({ number: p.number, start: p.start, size: p.size }));
    nodes = await waitForPartitions(t.facts.sys.name, expected, PARTITION_NODE_TIMEOUT_MS);
  }
  printWriteReport(
    {
      command: 'partition',
      path: t.facts.path,
      dryRun: args.dryRun,
      summary: `GPT with ${plan}`,
      sectorSize,
      partitions: [layout.swap, layout.data]
        .filter((p) => p !== null)
        .map((p) => ({ number: p.number, name: p.name, type: p.type, start: p.start, size: p.size, path: nodes?.get(p.number) ?? null })),
      writes: writesOf(dev),
    },
    args.json,
  );
  return 0;
}
