// Sizes on the command line: `512`, `64M`, `1G` (powers of 1024; K, M, G, T, P with an optional
// `iB`/`B`). Integers only: `1.5G`, `-1` and unknown suffixes are usage errors.
const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

export function parseSize(text: string): number {
  const m = /^(\d+)\s*([KMGTP]?)(i?B)?$/i.exec(text.trim());
  if (!m || (m[3] && !m[2] && m[3].toLowerCase() !== 'b')) throw new RangeError(`not a size: ${JSON.stringify(text)} (use e.g. 512, 64M, 1G)`);
  const value = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (!Number.isSafeInteger(value)) throw new RangeError(`size too large: ${JSON.stringify(text)}`);
  return value;
}
