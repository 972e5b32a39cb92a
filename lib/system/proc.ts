// /proc facts: mounts, active swap, the kernel command line, the page size. Each file has a pure
// parser (tested against captured text) and a reader.
import { readFileSync } from 'node:fs';
import { MajorMinor } from './sysfs.js';

export interface MountEntry {
  id: number;
  parentId: number;
  dev: MajorMinor;
  /** Path inside the filesystem that is mounted (e.g. /@lightwhale-data for a subvolume). */
  root: string;
  target: string;
  options: string;
  fstype: string;
  source: string;
  superOptions: string;
}

/** Octal escapes (\040 for space, \011, \012, \134) as the kernel writes them in mountinfo and swaps. */
export const unescapeOctal = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** proc(5) mountinfo: `id parent maj:min root target options [optional...] - fstype source superopts`. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) continue;
    const [maj, min] = (fields[2] ?? '').split(':').map(Number);
    out.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      dev: { major: maj ?? -1, minor: min ?? -1 },
      root: unescapeOctal(fields[3] ?? ''),
      target: unescapeOctal(fields[4] ?? ''),
      options: fields[5] ?? '',
      fstype: fields[sep + 1] ?? '',
      source: unescapeOctal(fields[sep + 2] ?? ''),
      superOptions: fields[sep + 3] ?? '',
    });
  }
  return out;
}

export interface SwapEntry {
  path: string;
  type: string;
  size: number;
}

/** /proc/swaps: a header line, then `Filename Type Size Used Priority` (sizes in KiB). */
export function parseSwaps(text: string): SwapEntry[] {
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/))
    .map((f) => ({ path: unescapeOctal(f[0] ?? ''), type: f[1] ?? '', size: Number(f[2] ?? 0) * 1024 }));
}

/** Kernel command-line words, respecting double quotes. */
export function parseCmdline(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/(?:[^\s"]+|"[^"]*")+/g)) words.push(m[0].replace(/"/g, ''));
  return words;
}

/** True when the command line asks for no swap (`noswap` or `lightwhale.noswap`, optionally `=1`). */
export function cmdlineWantsNoSwap(words: readonly string[]): boolean {
  return words.some((w) => /^(lightwhale\.)?noswap(=(1|y|yes|true))?$/.test(w));
}

const readOr = (path: string, fallback: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
};

export const readMountinfo = (): MountEntry[] => parseMountinfo(readOr('/proc/self/mountinfo', ''));
export const readSwaps = (): SwapEntry[] => parseSwaps(readOr('/proc/swaps', ''));
export const readCmdline = (): string[] => parseCmdline(readOr(process.env.LWDISK_CMDLINE ?? '/proc/cmdline', ''));

/** AT_PAGESZ from /proc/self/auxv (pairs of u64 type, u64 value; type 6), 4096 if unreadable. */
export function pageSize(): number {
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let o = 0; o + 16 <= auxv.length; o += 16) {
      const type = auxv.readBigUInt64LE(o);
      if (type === 0n) break;
      if (type === 6n) return Number(auxv.readBigUInt64LE(o + 8));
    }
  } catch {
    // fall through
  }
  return 4096;
}
