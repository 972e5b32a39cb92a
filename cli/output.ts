// Output helpers shared by the commands: JSON with bigints, human sizes, aligned tables, colour
// only on a TTY and never with NO_COLOR, diagnostics to stderr.

export const jsonReplacer = (_key: string, value: unknown): unknown => {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= 0n ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
};

export const toJson = (value: unknown): string => `${JSON.stringify(value, jsonReplacer, 2)}\n`;

export function printJson(value: unknown): void {
  process.stdout.write(toJson(value));
}

/** 1536 → "1.5K", 1073741824 → "1G" (powers of 1024, like lsblk). */
export function humanSize(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${bytes}B`;
  const text = v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '');
  return `${text}${units[i]}`;
}

/**
 * Text read from a disk (partition names, labels) can hold control characters: a newline would
 * break the one-line rule, an escape sequence would drive the terminal. Show them escaped.
 */
// eslint-disable-next-line no-control-regex
export const printable = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows.map((r) => r.map(printable))];
  const widths = headers.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export const colourEnabled = (stream: NodeJS.WriteStream = process.stdout): boolean =>
  !!stream.isTTY && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';

const paint = (code: string) => (text: string, stream: NodeJS.WriteStream = process.stdout): string =>
  colourEnabled(stream) ? `\x1b[${code}m${text}\x1b[0m` : text;

export const bold = paint('1');
export const red = paint('31');
export const yellow = paint('33');
export const green = paint('32');

/** One diagnostic line on stderr. */
export function log(line: string): void {
  process.stderr.write(`${printable(line)}\n`);
}

export function warn(line: string, options: { red?: boolean } = {}): void {
  const text = printable(line);
  process.stderr.write(`${yellow('warning:', process.stderr)} ${options.red ? red(text, process.stderr) : text}\n`);
}
