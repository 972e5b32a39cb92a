// lwdisk scan [PATH...] [--json]: read-only overview of disks, partitions and what is on them.
import { defaultDevicePaths } from '../../lib/discover.js';
import type { DeviceModel, FilesystemModel } from '../../lib/model.js';
import { scanJson, scanPaths } from '../../lib/scan.js';
import { formatTable, humanSize, log, printJson } from '../output.js';

export interface ScanArgs {
  paths: string[];
  json: boolean;
}

const fsText = (fs: FilesystemModel | null, others: string[] = []): string => (fs ? [fs.type, ...others].join('+') : '');

function rows(devices: DeviceModel[]): string[][] {
  const out: string[][] = [];
  for (const d of devices) {
    const problems = d.problems.length + (d.table?.problems.length ?? 0);
    out.push([
      d.path,
      d.kind,
      humanSize(d.size),
      String(d.sectorSize),
      d.role,
      d.table?.type ?? '',
      fsText(d.filesystem, d.otherSignatures),
      d.filesystem?.label ?? '',
      d.magic ? 'yes' : 'no',
      d.inUse ? 'yes' : 'no',
      problems ? `${problems} problem${problems > 1 ? 's' : ''}` : '',
    ]);
    for (const p of d.table?.partitions ?? []) {
      out.push([
        `  ${p.path ?? `#${p.number}`}`,
        'part',
        humanSize(p.size),
        '',
        p.role,
        p.name ? `"${p.name}"` : '',
        fsText(p.filesystem, p.otherSignatures),
        p.filesystem?.label ?? '',
        '',
        p.inUse ? 'yes' : 'no',
        p.problems.length ? `${p.problems.length} problem${p.problems.length > 1 ? 's' : ''}` : '',
      ]);
    }
  }
  return out;
}

export async function run(args: ScanArgs): Promise<number> {
  const paths = [...new Set(args.paths.length ? args.paths : defaultDevicePaths())];
  const { results, errors } = await scanPaths(paths);
  const devices = results.map((r) => r.model); // in the order given
  if (args.json) printJson(scanJson(devices, errors));
  else if (devices.length) process.stdout.write(formatTable(['PATH', 'KIND', 'SIZE', 'SECTOR', 'ROLE', 'TABLE/NAME', 'CONTENT', 'LABEL', 'MAGIC', 'IN-USE', 'PROBLEMS'], rows(devices)));
  else if (!errors.length) log('lwdisk: scan : no disks found');
  for (const e of errors) log(`lwdisk: ${e.error}`);
  return errors.length ? 1 : 0;
}
