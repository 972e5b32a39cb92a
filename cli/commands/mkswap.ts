// lwdisk mkswap PATH: a Linux swap v1 header written natively (no mkswap needed).
import { contentSummary, examine, holdsData, withDeviceLock, openForWrite, refuseInUse, writeSwapArea, writesOf } from '../../lib/claim.js';
import { LwdiskError } from '../../lib/errors.js';
import { isGuidText } from '../../lib/format/guid.js';
import { SWAP_MIN_PAGES, SWAP_PAGE_SIZES, swapLabelProblem } from '../../lib/format/swap.js';
import { pageSize as kernelPageSize } from '../../lib/system/proc.js';
import { defaultRandom, randomGuid } from '../../lib/random.js';
import { confirm } from '../confirm.js';
import { log } from '../output.js';
import { printWriteReport } from '../writes.js';
import { describeTarget } from './mark.js';

export interface MkswapArgs {
  path: string;
  label: string;
  uuid?: string;
  pageSize?: number;
  dryRun: boolean;
  yes: boolean;
  force: boolean;
  json: boolean;
}

export async function run(args: MkswapArgs): Promise<number> {
  return withDeviceLock(args.path, args.dryRun, () => runLocked(args));
}

async function runLocked(args: MkswapArgs): Promise<number> {
  const labelProblem = swapLabelProblem(args.label);
  if (labelProblem) throw new LwdiskError('ELWD_USAGE', '--label', labelProblem);
  if (args.uuid !== undefined && !isGuidText(args.uuid)) throw new LwdiskError('ELWD_USAGE', '--uuid', `not a UUID: ${JSON.stringify(args.uuid)}`);
  const pageSize = args.pageSize ?? kernelPageSize();
  if (!SWAP_PAGE_SIZES.includes(pageSize as (typeof SWAP_PAGE_SIZES)[number])) throw new LwdiskError('ELWD_USAGE', '--page-size', `must be one of ${SWAP_PAGE_SIZES.join(', ')}`);
  const t = await examine(args.path);
  refuseInUse(t);
  const m = t.model;
  const onlySwap = !m.table && m.filesystem?.type === 'swap' && m.otherSignatures.length === 0;
  if (holdsData(m) && !onlySwap && !args.force) throw new LwdiskError('ELWD_NOT_EMPTY', t.facts.path, `holds ${contentSummary(m)}; pass --force to overwrite it`);
  if (Math.floor(m.size / pageSize) < SWAP_MIN_PAGES) throw new LwdiskError('ELWD_TOO_SMALL', t.facts.path, `${m.size} bytes; a swap area needs at least ${SWAP_MIN_PAGES} pages of ${pageSize} bytes`);
  const uuid = (args.uuid ?? randomGuid(defaultRandom())).toLowerCase();
  log(describeTarget(t));
  log(`lwdisk will write a swap header (page size ${pageSize}, label ${JSON.stringify(args.label)}, UUID ${uuid}).`);
  await confirm(t.facts.path, `Make ${t.facts.path} a swap area?`, { yes: args.yes, dryRun: args.dryRun });
  const dev = await openForWrite(t, args.dryRun);
  try {
    await writeSwapArea(dev, 0, m.size, { pageSize, uuid, label: args.label });
  } finally {
    await dev.close();
  }
  const pages = Math.floor(m.size / pageSize);
  printWriteReport(
    { command: 'mkswap', path: t.facts.path, dryRun: args.dryRun, summary: `swap v1, ${(pages - 1) * pageSize} bytes usable, label ${JSON.stringify(args.label)}, UUID ${uuid}`, uuid, label: args.label, pageSize, writes: writesOf(dev) },
    args.json,
  );
  return 0;
}
