// lwdisk: parse flags, dispatch to one command module (loaded lazily), map typed errors to the
// documented exit codes (0 ok, 1 failure, 2 usage, 3 refused) and print one line on failure.
// Well-formed command lines are parsed by cli/parse.ts; yargs (cli/yargs-cli.ts, heavier) is
// loaded only for help, completion and usage errors.
import { describeError, exitCodeOf, LwdiskError } from '../lib/errors.js';
import { printable } from './output.js';
import { fastParse } from './parse.js';
import { COMMANDS } from './spec.js';

declare const __LWDISK_VERSION__: string | undefined;
export const VERSION = typeof __LWDISK_VERSION__ === 'string' ? __LWDISK_VERSION__ : '0.0.0-dev';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const fast = fastParse(argv);
  if (fast) return fast.command.run(fast.args);
  const { viaYargs } = await import('./yargs-cli.js');
  return viaYargs(argv, COMMANDS, VERSION, (msg) => new LwdiskError('ELWD_USAGE', 'usage', `${msg.replace(/\s*\n\s*/g, ' ')} (see lwdisk --help)`));
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    if (process.env.LWDISK_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.stderr.write(`lwdisk: ${printable(describeError(err))}\n`);
    return exitCodeOf(err);
  }
}
