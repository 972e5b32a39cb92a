// Printing what a write command did (or, with --dry-run, would do): offset, length, structure.
import type { WriteRecord } from '../lib/device/block-device.js';
import { formatTable, humanSize, printJson } from './output.js';

export interface WriteReport {
  command: string;
  path: string;
  dryRun: boolean;
  summary: string;
  writes: WriteRecord[];
  [extra: string]: unknown;
}

export function printWriteReport(r: WriteReport, json: boolean): void {
  if (json) {
    printJson({ schema: 1, ...r, writes: r.writes.map(({ offset, length, what }) => ({ offset, length, what })) });
    return;
  }
  process.stdout.write(`${r.dryRun ? 'would write' : 'wrote'} ${r.path}: ${r.summary}\n`);
  if (r.writes.length) {
    process.stdout.write(formatTable(['OFFSET', 'LENGTH', 'SIZE', 'WHAT'], r.writes.map((w) => [String(w.offset), String(w.length), humanSize(w.length), w.what])));
  }
}
