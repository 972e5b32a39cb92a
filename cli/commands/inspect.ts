// lwdisk inspect PATH [--json] [--check]: every structure, field by field; --check exits 1 on problems.
import { LwdiskError } from '../../lib/errors.js';
import { mbrTypeText } from '../../lib/format/mbr.js';
import { inspectReport, type InspectReport } from '../../lib/inspect.js';
import { probePath } from '../../lib/scan.js';
import { humanSize, jsonReplacer, printable, printJson } from '../output.js';

export interface InspectArgs {
  path: string;
  json: boolean;
  check: boolean;
}

const show = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map(show).join(', ') : '-';
  if (typeof v === 'object') return JSON.stringify(v, jsonReplacer);
  return printable(String(v));
};

function fields(obj: object, indent: string, skip: string[] = []): string[] {
  const entries = Object.entries(obj).filter(([k]) => !skip.includes(k));
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${indent}${k.padEnd(width)}  ${show(v)}`);
}

function render(r: InspectReport): string {
  const out: string[] = [];
  out.push(`${r.path}: ${r.kind}, ${r.size} bytes (${humanSize(r.size)}), logical sector ${r.sectorSize}, role ${r.role}`);
  out.push(`  magic header       ${r.magic ? 'yes (lightwhale-please-format-me at byte 0)' : 'no'}`);
  out.push(`  in use             ${r.inUse ? r.inUseReasons.join('; ') : 'no'}`);
  if (r.mbr) {
    out.push('', `MBR (LBA 0): ${r.mbr.kind}`);
    out.push(...fields(r.mbr, '  ', ['records', 'kind']));
    for (const rec of r.mbr.records) if (rec.type !== mbrTypeText(0)) out.push(`  record ${rec.index}: ${fields(rec, '', ['index']).map((l) => l.replace(/\s{2,}/, '=')).join(' ')}`);
  }
  if (r.gpt) {
    for (const which of ['primary', 'backup'] as const) {
      const h = r.gpt[which];
      if (!h) {
        out.push('', `${which === 'primary' ? 'Primary' : 'Backup'} GPT header: ${which === 'backup' ? 'not read' : 'missing'}`);
        continue;
      }
      out.push('', `${which === 'primary' ? 'Primary' : 'Backup'} GPT header (LBA ${h.lba}): ${h.valid ? 'valid' : 'INVALID'}, header CRC ${h.headerCrcOk ? 'ok' : 'BAD'}, entry array CRC ${h.entryArrayCrcOk === null ? 'not checked' : h.entryArrayCrcOk ? 'ok' : 'BAD'}`);
      out.push(...fields(h, '  ', ['lba', 'valid', 'problems', 'headerCrcOk', 'entryArrayCrcOk']));
    }
    out.push('', `GPT entries (${r.gpt.entries.length} used):`);
    for (const e of r.gpt.entries) out.push(`  ${e.number}: ${e.typeGuid} ${e.uniqueGuid} LBA ${e.firstLba}..${e.lastLba} attrs ${e.attributes} name ${JSON.stringify(e.name)}`);
  }
  const contentLines = (c: InspectReport['content'], indent: string): string[] => {
    if (!c || !c.superblocks.length) return [`${indent}no signature found`];
    const lines: string[] = [];
    for (const sb of c.superblocks) {
      lines.push(`${indent}${(sb as { type: string }).type}:`);
      lines.push(...fields(sb, `${indent}  `, ['type', 'problems']));
    }
    return lines;
  };
  if (!r.gpt && !r.table) out.push('', 'Content:', ...contentLines(r.content, '  '));
  else if (r.content?.superblocks.length) out.push('', 'Content outside the partitions:', ...contentLines(r.content, '  '));
  for (const p of r.partitions) {
    out.push('', `Partition ${p.number}${p.path ? ` (${p.path})` : ''}: ${p.start}+${p.size} (${humanSize(p.size)}), type ${p.type}${p.name !== null ? `, name ${JSON.stringify(p.name)}` : ''}, role ${p.role}${p.inUse ? ', IN USE' : ''}`);
    out.push(...contentLines(p.content, '  '));
  }
  out.push('', r.problems.length ? `Problems (${r.problems.length}):` : 'Problems: none');
  for (const p of r.problems) out.push(`  - ${p}`);
  return out.join('\n') + '\n';
}

export async function run(args: InspectArgs): Promise<number> {
  const result = await probePath(args.path, { deep: true, readBackup: true });
  const report = inspectReport(result);
  if (args.json) printJson(report);
  else process.stdout.write(render(report));
  if (args.check && report.problems.length) {
    throw new LwdiskError('ELWD_CHECK', args.path, `${report.problems.length} problem${report.problems.length > 1 ? 's' : ''} found: ${report.problems[0]}`);
  }
  return 0;
}
