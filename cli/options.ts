// Option values that need more than a type: sizes (`512`, `64M`, `1G`).
import { LwdiskError } from '../lib/errors.js';
import { parseSize } from '../lib/size.js';

export function parseSizeOption(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseSize(String(value));
  } catch (err) {
    throw new LwdiskError('ELWD_USAGE', `--${name}`, (err as Error).message);
  }
}
