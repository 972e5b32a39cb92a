// Confirmation before changing a device (SPEC "Confirmation"): on a TTY ask unless --yes; without a
// TTY and without --yes refuse (exit 3, nothing written); --dry-run never asks.
import { LwdiskError } from '../lib/errors.js';

export async function confirm(what: string, question: string, options: { yes: boolean; dryRun: boolean }): Promise<void> {
  if (options.yes || options.dryRun) return;
  if (!process.stdin.isTTY) throw new LwdiskError('ELWD_NOT_CONFIRMED', what, 'not a terminal, nothing written: pass --yes to confirm');
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => {
    rl.question(`${question} [y/N] `, resolve);
    rl.on('close', () => resolve(''));
  });
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new LwdiskError('ELWD_NOT_CONFIRMED', what, 'not confirmed, nothing written');
}
