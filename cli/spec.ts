// The commands and their flags, declared once. The fast parser (cli/parse.ts) handles every
// well-formed command line without loading yargs; yargs is built from the same table for help,
// completion and error messages (cli/lwdisk.ts).

export type OptionType = 'boolean' | 'string' | 'number' | 'array';

export interface OptionSpec {
  name: string;
  type: OptionType;
  describe: string;
  alias?: string;
  choices?: number[];
}

export interface PositionalSpec {
  name: string;
  describe: string;
  required: boolean;
  variadic?: boolean;
}

export type Parsed = Record<string, unknown>;

export interface CommandSpec {
  name: string;
  describe: string;
  positionals: PositionalSpec[];
  options: OptionSpec[];
  conflicts?: Array<[string, string]>;
  /** Loads the command module lazily and runs it; returns the exit code. */
  run: (args: Parsed) => Promise<number>;
}

const json = (describe: string): OptionSpec => ({ name: 'json', type: 'boolean', describe });
const WRITE_OPTIONS: OptionSpec[] = [
  { name: 'dry-run', type: 'boolean', describe: 'show what would be written; write nothing' },
  { name: 'yes', alias: 'y', type: 'boolean', describe: 'do not ask for confirmation' },
  json('print what was written as JSON'),
];

const str = (v: unknown): string => String(v);
const optStr = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
const list = (v: unknown): string[] => (v === undefined ? [] : ([] as unknown[]).concat(v).flat().map(String));

export const COMMANDS: CommandSpec[] = [
  {
    name: 'scan',
    describe: 'List disks and partitions with what is on them (read-only)',
    positionals: [{ name: 'paths', describe: 'block devices or image files (default: every whole disk)', required: false, variadic: true }],
    options: [json('print JSON (schema 1)')],
    run: async (a) => (await import('./commands/scan.js')).run({ paths: list(a.paths), json: !!a.json }),
  },
  {
    name: 'inspect',
    describe: 'Show every structure field by field: MBR, both GPT headers, entries, superblocks, problems',
    positionals: [{ name: 'path', describe: 'block device or image file', required: true }],
    options: [json('print JSON'), { name: 'check', type: 'boolean', describe: 'exit 1 when any problem is found' }],
    run: async (a) => (await import('./commands/inspect.js')).run({ path: str(a.path), json: !!a.json, check: !!a.check }),
  },
  {
    name: 'mark',
    describe: 'Write the magic header so the next boot claims the disk (replaces `echo ... | dd`)',
    positionals: [{ name: 'device', describe: 'whole disk (or image file)', required: true }],
    options: [...WRITE_OPTIONS, { name: 'force', type: 'boolean', describe: 'mark even a disk that holds a partition table or filesystem (never one in use)' }],
    run: async (a) => (await import('./commands/mark.js')).runMark({ device: str(a.device), dryRun: !!a['dry-run'], yes: !!a.yes, force: !!a.force, json: !!a.json }),
  },
  {
    name: 'unmark',
    describe: 'Remove a magic header',
    positionals: [{ name: 'device', describe: 'whole disk (or image file)', required: true }],
    options: WRITE_OPTIONS,
    run: async (a) => (await import('./commands/mark.js')).runUnmark({ device: str(a.device), dryRun: !!a['dry-run'], yes: !!a.yes, force: false, json: !!a.json }),
  },
  {
    name: 'partition',
    describe: 'Write the Lightwhale GPT: lightwhale-swap at 1 MiB, lightwhale-data over the rest',
    positionals: [{ name: 'device', describe: 'whole disk (or image file) carrying the magic header', required: true }],
    options: [
      ...WRITE_OPTIONS,
      { name: 'swap-size', type: 'string', describe: 'swap partition size (512, 64M, 1G; default min(1G, disk/8))' },
      { name: 'no-swap', type: 'boolean', describe: 'no swap partition' },
      { name: 'sector-size', type: 'number', choices: [512, 4096], describe: "logical sector size for image files (block devices: the kernel's)" },
      { name: 'force', type: 'boolean', describe: 'partition a disk without the magic header (never one in use)' },
    ],
    conflicts: [['swap-size', 'no-swap']],
    run: async (a) => {
      const { parseSizeOption } = await import('./options.js');
      return (await import('./commands/partition.js')).run({
        device: str(a.device),
        swapSize: parseSizeOption('swap-size', a['swap-size']),
        noSwap: !!a['no-swap'],
        sectorSize: a['sector-size'] as number | undefined,
        dryRun: !!a['dry-run'],
        yes: !!a.yes,
        force: !!a.force,
        json: !!a.json,
      });
    },
  },
  {
    name: 'mkswap',
    describe: 'Write a Linux swap v1 header natively',
    positionals: [{ name: 'path', describe: 'partition, disk or image file', required: true }],
    options: [
      ...WRITE_OPTIONS,
      { name: 'label', type: 'string', describe: 'swap label (at most 15 bytes)' },
      { name: 'uuid', type: 'string', describe: 'swap UUID (default: random)' },
      { name: 'page-size', type: 'number', choices: [4096, 8192, 16384, 32768, 65536], describe: "page size of the kernel that will use it (default: this kernel's)" },
      { name: 'force', type: 'boolean', describe: 'overwrite a filesystem or partition table (never one in use)' },
    ],
    run: async (a) =>
      (await import('./commands/mkswap.js')).run({
        path: str(a.path),
        label: a.label === undefined ? '' : str(a.label),
        uuid: optStr(a.uuid),
        pageSize: a['page-size'] as number | undefined,
        dryRun: !!a['dry-run'],
        yes: !!a.yes,
        force: !!a.force,
        json: !!a.json,
      }),
  },
  {
    name: 'boot',
    describe: 'The persistence step: find or create the data filesystem, mount it and the overlays',
    positionals: [],
    options: [
      { name: 'devices', type: 'array', describe: 'disks (or, with --dry-run, image files) it may look at; repeatable; default: as scan' },
      { name: 'root', type: 'string', describe: 'prefix every mount point and overlay path with DIR' },
      { name: 'dry-run', type: 'boolean', describe: 'print the plan; write and mount nothing' },
      json('print the plan (and the result) as JSON'),
      { name: 'no-swap', type: 'boolean', describe: 'no swap partition, no swapon' },
    ],
    run: async (a) => (await import('./commands/boot.js')).run({ devices: list(a.devices), root: optStr(a.root), dryRun: !!a['dry-run'], json: !!a.json, noSwap: !!a['no-swap'] }),
  },
  {
    name: 'status',
    describe: 'Is persistence active: persistent, degraded or volatile',
    positionals: [],
    options: [json('print JSON'), { name: 'root', type: 'string', describe: 'the root boot used (--root)' }],
    run: async (a) => (await import('./commands/status.js')).run({ root: optStr(a.root), json: !!a.json }),
  },
];
