// Option values that need more than a type: sizes (`512`, `64M`, `1G`), `--root DIR`.
import { realpathSync } from 'node:fs';
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

/** `--root DIR`: canonical (mountinfo holds canonical paths), '' for the real root; a missing DIR is a usage error. */
export function resolveRootOption(root: string | undefined): string {
  if (root === undefined || root === '/' || root === '') return '';
  try {
    return realpathSync(root);
  } catch {
    throw new LwdiskError('ELWD_USAGE', '--root', `${root} does not exist`);
  }
}
