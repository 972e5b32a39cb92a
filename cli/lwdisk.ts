// lwdisk: parse flags, dispatch to one command module (loaded lazily), map typed errors to the
// documented exit codes (0 ok, 1 failure, 2 usage, 3 refused) and print one line on failure.
// Well-formed command lines are parsed by cli/parse.ts; yargs (heavier) is loaded only for help,
// completion and usage errors.
import type { Argv } from 'yargs';
import { describeError, exitCodeOf, LwdiskError } from '../lib/errors.js';
import { printable } from './output.js';
import { fastParse } from './parse.js';
import { COMMANDS, type CommandSpec } from './spec.js';

declare const __LWDISK_VERSION__: string | undefined;
export const VERSION = typeof __LWDISK_VERSION__ === 'string' ? __LWDISK_VERSION__ : '0.0.0-dev';

const EPILOG = 'Exit status: 0 success, 1 failure, 2 usage error, 3 refused for safety. Docs: docs/<command>.md.';

function defineCommand(y: Argv, spec: CommandSpec, setExit: (code: number) => void): Argv {
  const pos = spec.positionals.map((p) => (p.required ? `<${p.name}${p.variadic ? '..' : ''}>` : `[${p.name}${p.variadic ? '..' : ''}]`)).join(' ');
  return y.command(
    `${spec.name}${pos ? ` ${pos}` : ''}`,
    spec.describe,
    (c) => {
      for (const p of spec.positionals) c.positional(p.name, { type: 'string', describe: p.describe, ...(p.variadic ? { array: true } : {}) });
      for (const o of spec.options) {
        c.option(o.name, {
          type: o.type === 'array' ? 'string' : o.type,
          ...(o.type === 'array' ? { array: true } : {}),
          describe: o.describe,
          ...(o.alias ? { alias: o.alias } : {}),
          ...(o.choices ? { choices: o.choices } : {}),
        });
      }
      for (const [a, b] of spec.conflicts ?? []) c.conflicts(a, b);
      return c;
    },
    async (a) => setExit(await spec.run(a as Record<string, unknown>)),
  );
}

async function viaYargs(argv: string[]): Promise<number> {
  const { default: yargs } = await import('yargs');
  let exitCode = 0;
  let y: Argv = yargs(argv)
    .scriptName('lwdisk')
    .parserConfiguration({ 'boolean-negation': false })
    .usage('lwdisk <command> [options]\n\nThe Lightwhale disk toolkit: claim, partition, format and mount the persistent data layer.');
  for (const spec of COMMANDS) y = defineCommand(y, spec, (code) => (exitCode = code));
  await y
    .strict()
    .demandCommand(1, 'a command is required')
    .recommendCommands()
    .completion('completion', 'Print a shell completion script (bash/zsh)')
    .help()
    .alias('h', 'help')
    .version(VERSION)
    .epilog(EPILOG)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new LwdiskError('ELWD_USAGE', 'usage', `${String(msg).replace(/\s*\n\s*/g, ' ')} (see lwdisk --help)`);
    })
    .parseAsync();
  return exitCode;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const fast = fastParse(argv);
  if (fast) return fast.command.run(fast.args);
  return viaYargs(argv);
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
