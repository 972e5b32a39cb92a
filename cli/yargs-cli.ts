// The yargs front end, built from the same command table as the fast parser: help, completion
// and usage errors. Loaded only when the fast parser hands over (the bundle keeps this module,
// with yargs, as an embedded string that is compiled only then: see scripts/build.mjs).
import yargs, { type Argv } from 'yargs';
import type { CommandSpec } from './spec.js';

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

/** Parse with yargs and run the command; usage errors become `usageError(message)`. */
export async function viaYargs(argv: string[], commands: CommandSpec[], version: string, usageError: (message: string) => Error): Promise<number> {
  let exitCode = 0;
  let y: Argv = yargs(argv)
    .scriptName('lwdisk')
    .parserConfiguration({ 'boolean-negation': false })
    .usage('lwdisk <command> [options]\n\nThe Lightwhale disk toolkit: claim, partition, format and mount the persistent data layer.');
  for (const spec of commands) y = defineCommand(y, spec, (code) => (exitCode = code));
  await y
    .strict()
    .demandCommand(1, 'a command is required')
    .recommendCommands()
    .completion('completion', 'Print a shell completion script (bash/zsh)')
    .help()
    .alias('h', 'help')
    .version(version)
    .epilog(EPILOG)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? usageError(String(msg));
    })
    .parseAsync();
  return exitCode;
}
