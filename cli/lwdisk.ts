// lwdisk: parse flags, dispatch to one command module (loaded lazily), map typed errors to the
// documented exit codes (0 ok, 1 failure, 2 usage, 3 refused) and print one line on failure.
import type { Argv } from 'yargs';
import { describeError, exitCodeOf, LwdiskError } from '../lib/errors.js';
import { parseSize } from '../lib/size.js';

declare const __LWDISK_VERSION__: string | undefined;
export const VERSION = typeof __LWDISK_VERSION__ === 'string' ? __LWDISK_VERSION__ : '0.0.0-dev';

/** The command's exit code, set by handlers (yargs handlers cannot return one). */
let exitCode = 0;

const EPILOG = 'Exit status: 0 success, 1 failure, 2 usage error, 3 refused for safety. Docs: docs/ in the package.';

const sizeOption = (name: string) => (value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  try {
    return parseSize(String(value));
  } catch (err) {
    throw new LwdiskError('ELWD_USAGE', `--${name}`, (err as Error).message);
  }
};

/** Collect repeatable `--devices A B --devices C` into one flat list. */
const flatList = (value: unknown): string[] => (value === undefined ? [] : ([] as unknown[]).concat(value).flat().map(String));

function defineCommands(y: Argv): Argv {
  return y
    .command(
      'scan [paths..]',
      'List disks and partitions with what is on them (read-only)',
      (c) => c.positional('paths', { type: 'string', array: true, describe: 'block devices or image files (default: every whole disk)' }).option('json', { type: 'boolean', default: false, describe: 'print JSON (schema 1)' }),
      async (a) => {
        const { run } = await import('./commands/scan.js');
        exitCode = await run({ paths: flatList(a.paths), json: !!a.json });
      },
    )
    .command(
      'inspect <path>',
      'Show every structure field by field: MBR, both GPT headers, entries, superblocks, problems',
      (c) =>
        c
          .positional('path', { type: 'string', demandOption: true })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
          .option('check', { type: 'boolean', default: false, describe: 'exit 1 when any problem is found' }),
      async (a) => {
        const { run } = await import('./commands/inspect.js');
        exitCode = await run({ path: String(a.path), json: !!a.json, check: !!a.check });
      },
    )
    .command(
      'mark <device>',
      'Write the magic header so the next boot claims the disk (replaces `echo ... | dd`)',
      (c) => writeOptions(c.positional('device', { type: 'string', demandOption: true, describe: 'whole disk (or image file)' })).option('force', { type: 'boolean', default: false, describe: 'mark even a disk that holds a partition table or filesystem (never one in use)' }),
      async (a) => {
        const { runMark } = await import('./commands/mark.js');
        exitCode = await runMark({ device: String(a.device), dryRun: !!a['dry-run'], yes: !!a.yes, force: !!a.force, json: !!a.json });
      },
    )
    .command(
      'unmark <device>',
      'Remove a magic header',
      (c) => writeOptions(c.positional('device', { type: 'string', demandOption: true })),
      async (a) => {
        const { runUnmark } = await import('./commands/mark.js');
        exitCode = await runUnmark({ device: String(a.device), dryRun: !!a['dry-run'], yes: !!a.yes, force: false, json: !!a.json });
      },
    )
    .command(
      'partition <device>',
      'Write the Lightwhale GPT: lightwhale-swap at 1 MiB, lightwhale-data over the rest',
      (c) =>
        writeOptions(c.positional('device', { type: 'string', demandOption: true }))
          .option('swap-size', { type: 'string', describe: 'swap partition size (512, 64M, 1G; default min(1G, disk/8))' })
          .option('no-swap', { type: 'boolean', describe: 'no swap partition' })
          .option('sector-size', { type: 'number', choices: [512, 4096], describe: 'logical sector size for image files (block devices: the kernel\'s)' })
          .option('force', { type: 'boolean', default: false, describe: 'partition a disk without the magic header (never one in use)' })
          .conflicts('swap-size', 'no-swap'),
      async (a) => {
        const { run } = await import('./commands/partition.js');
        exitCode = await run({
          device: String(a.device),
          swapSize: sizeOption('swap-size')(a['swap-size']),
          noSwap: !!a['no-swap'],
          sectorSize: a['sector-size'] as number | undefined,
          dryRun: !!a['dry-run'],
          yes: !!a.yes,
          force: !!a.force,
          json: !!a.json,
        });
      },
    )
    .command(
      'mkswap <path>',
      'Write a Linux swap v1 header natively',
      (c) =>
        writeOptions(c.positional('path', { type: 'string', demandOption: true }))
          .option('label', { type: 'string', default: '', describe: 'swap label (at most 15 bytes)' })
          .option('uuid', { type: 'string', describe: 'swap UUID (default: random)' })
          .option('page-size', { type: 'number', describe: 'page size of the kernel that will use it (default: this kernel\'s)' })
          .option('force', { type: 'boolean', default: false, describe: 'overwrite a filesystem or partition table (never one in use)' }),
      async (a) => {
        const { run } = await import('./commands/mkswap.js');
        exitCode = await run({
          path: String(a.path),
          label: String(a.label),
          uuid: a.uuid === undefined ? undefined : String(a.uuid),
          pageSize: a['page-size'] as number | undefined,
          dryRun: !!a['dry-run'],
          yes: !!a.yes,
          force: !!a.force,
          json: !!a.json,
        });
      },
    )
    .command(
      'boot',
      'The persistence step: find or create the data filesystem, mount it and the overlays',
      (c) =>
        c
          .option('devices', { type: 'string', array: true, describe: 'disks (or, with --dry-run, image files) it may look at; default: as scan' })
          .option('root', { type: 'string', describe: 'prefix every mount point and overlay path with DIR' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan; write and mount nothing' })
          .option('json', { type: 'boolean', default: false, describe: 'print the plan (and result) as JSON' })
          .option('no-swap', { type: 'boolean', default: false, describe: 'no swap partition, no swapon' }),
      async (a) => {
        const { run } = await import('./commands/boot.js');
        exitCode = await run({ devices: flatList(a.devices), root: a.root === undefined ? undefined : String(a.root), dryRun: !!a['dry-run'], json: !!a.json, noSwap: !!a['no-swap'] });
      },
    )
    .command(
      'status',
      'Is persistence active: persistent, degraded or volatile',
      (c) => c.option('json', { type: 'boolean', default: false, describe: 'print JSON' }).option('root', { type: 'string', describe: 'the root boot used (--root)' }),
      async (a) => {
        const { run } = await import('./commands/status.js');
        exitCode = await run({ root: a.root === undefined ? undefined : String(a.root), json: !!a.json });
      },
    );
}

/** Options every write command shares. */
function writeOptions<T>(c: Argv<T>) {
  return c
    .option('dry-run', { type: 'boolean', default: false, describe: 'show what would be written; write nothing' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'do not ask for confirmation' })
    .option('json', { type: 'boolean', default: false, describe: 'print what was written as JSON' });
}

async function main(argv: string[]): Promise<number> {
  // Fast path: no flag parser needed to print the version.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const { default: yargs } = await import('yargs');
  const parser = defineCommands(
    yargs(argv)
      .scriptName('lwdisk')
      .parserConfiguration({ 'boolean-negation': false })
      .usage('lwdisk <command> [options]\n\nThe Lightwhale disk toolkit: claim, partition, format and mount the persistent data layer.')
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
        throw err ?? new LwdiskError('ELWD_USAGE', 'usage', `${msg} (see lwdisk --help)`);
      }),
  );
  await parser.parseAsync();
  return exitCode;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    if (process.env.LWDISK_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.stderr.write(`lwdisk: ${describeError(err)}\n`);
    return exitCodeOf(err);
  }
}

