// lwdisk status: persistent, degraded or volatile; the filesystem, its members, the mounts.
import { readStatus } from '../../lib/status.js';
import { formatTable, humanSize, printJson } from '../output.js';
import { resolveRootOption } from '../options.js';

export interface StatusArgs {
  root: string | undefined;
  json: boolean;
}


export async function run(args: StatusArgs): Promise<number> {
  const root = resolveRootOption(args.root);
  const s = await readStatus(root);
  if (args.json) {
    printJson(s);
    return 0;
  }
  const out: string[] = [`mode: ${s.mode}`];
  if (s.filesystem) {
    const f = s.filesystem;
    out.push(`data filesystem: ${f.uuid} ${f.label ? `"${f.label}"` : ''}, ${f.devices.length} of ${f.numDevices} device(s) present${f.missingDevices ? `, ${f.missingDevices} MISSING` : ''}`);
    for (const d of f.devices) out.push(`  devid ${d.devid ?? '?'}  ${d.path}`);
    if (f.size !== null && f.free !== null) out.push(`space: ${humanSize(f.free)} free of ${humanSize(f.size)}`);
  } else out.push('data filesystem: none (changes are lost at reboot)');
  out.push(`overlays: ${s.overlays.map((o) => `${o.dir} ${o.mounted ? 'mounted' : 'NOT mounted'}`).join(', ')}`);
  out.push(`swap: ${s.swap.length ? s.swap.map((w) => `${w.path} (${humanSize(w.size)})`).join(', ') : 'none'}`);
  if (s.mounts.length) out.push('', formatTable(['TARGET', 'SOURCE', 'FSTYPE', 'OPTIONS'], s.mounts.map((m) => [m.target, m.source, m.fstype, m.options])).trimEnd());
  for (const p of s.problems) out.push(`problem: ${p}`);
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
