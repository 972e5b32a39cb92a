// lwdisk mark DEVICE / lwdisk unmark DEVICE: write or remove the magic header, the safe
// replacement for `echo lightwhale-please-format-me | dd conv=notrunc of=/dev/sdx`.
import { contentSummary, eraseMagic, examine, holdsData, withDeviceLock, openForWrite, refuseInUse, refusePartition, type Target, writeMagic, writesOf } from '../../lib/claim.js';
import { LwdiskError } from '../../lib/errors.js';
import { MAGIC_RECORD } from '../../lib/format/magic.js';
import { confirm } from '../confirm.js';
import { humanSize, log } from '../output.js';
import { printWriteReport } from '../writes.js';

export interface MarkArgs {
  device: string;
  dryRun: boolean;
  yes: boolean;
  force: boolean;
  json: boolean;
}

/** path, size, model/serial, what is on it: shown before any change. */
export function describeTarget(t: Target): string {
  const m = t.model;
  const id = [m.model, m.serial].filter(Boolean).join(', ');
  return `${t.facts.path}: ${m.kind}, ${humanSize(m.size)} (${m.size} bytes), ${m.sectorSize}-byte sectors${id ? `, ${id}` : ''}; holds: ${contentSummary(m)}`;
}

export async function runMark(args: MarkArgs): Promise<number> {
  return withDeviceLock(args.device, args.dryRun, () => runMarkLocked(args));
}

async function runMarkLocked(args: MarkArgs): Promise<number> {
  const t = await examine(args.device);
  refusePartition(t);
  refuseInUse(t);
  if (t.model.magic) {
    if (args.json) printWriteReportFor(t, args, 'already marked; nothing to do', []);
    else process.stdout.write(`nothing to do: ${t.facts.path} already carries the magic header\n`);
    return 0;
  }
  if (t.model.size < MAGIC_RECORD.length) throw new LwdiskError('ELWD_TOO_SMALL', t.facts.path, `${t.model.size} bytes; the magic header needs ${MAGIC_RECORD.length}`);
  if (holdsData(t.model) && !args.force)
    throw new LwdiskError('ELWD_NOT_EMPTY', t.facts.path, `holds ${contentSummary(t.model)}; pass --force to mark it anyway (everything on it is erased at the next boot)`);
  log(describeTarget(t));
  log(`lwdisk will write the magic header (28 bytes at offset 0); at the next boot Lightwhale erases ${t.facts.path} and makes it its data disk.`);
  await confirm(t.facts.path, `Mark ${t.facts.path} for Lightwhale?`, { yes: args.yes, dryRun: args.dryRun });
  const dev = await openForWrite(t, args.dryRun);
  try {
    await writeMagic(dev);
  } finally {
    await dev.close();
  }
  printWriteReportFor(t, args, 'magic header lightwhale-please-format-me (claimed at the next boot)', writesOf(dev));
  return 0;
}

export async function runUnmark(markArgs: MarkArgs): Promise<number> {
  return withDeviceLock(markArgs.device, markArgs.dryRun, () => runUnmarkLocked(markArgs));
}

async function runUnmarkLocked(markArgs: MarkArgs): Promise<number> {
  const args = { ...markArgs, command: 'unmark' };
  const t = await examine(args.device);
  refusePartition(t);
  refuseInUse(t);
  if (!t.model.magic) {
    if (args.json) printWriteReportFor(t, args, 'no magic header; nothing to do', []);
    else process.stdout.write(`nothing to do: ${t.facts.path} has no magic header\n`);
    return 0;
  }
  log(describeTarget(t));
  await confirm(t.facts.path, `Remove the magic header from ${t.facts.path}?`, { yes: args.yes, dryRun: args.dryRun });
  const dev = await openForWrite(t, args.dryRun);
  try {
    await eraseMagic(dev);
  } finally {
    await dev.close();
  }
  printWriteReportFor(t, args, 'magic header removed', writesOf(dev));
  return 0;
}

function printWriteReportFor(t: Target, args: MarkArgs & { command?: string }, summary: string, writes: ReturnType<typeof writesOf>): void {
  printWriteReport({ command: args.command ?? 'mark', path: t.facts.path, dryRun: args.dryRun, summary, writes }, args.json);
}
