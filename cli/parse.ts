// A small, strict flag parser for well-formed command lines, so the common paths (boot, scan,
// status, inspect) never load yargs. Unknown flags are refused here (naming the flag); anything
// else it does not fully understand (help, missing arguments, bad values) returns null and yargs
// handles it, with its messages.
import { LwdiskError } from '../lib/errors.js';
import { COMMANDS, type CommandSpec, type OptionSpec, type Parsed } from './spec.js';

/** Flags yargs answers itself. */
const YARGS_FLAGS = new Set(['help', 'h', 'version']);

export interface FastParse {
  command: CommandSpec;
  args: Parsed;
}

function optionValue(spec: OptionSpec, raw: string): unknown | undefined {
  if (spec.type === 'number') {
    if (!/^\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return spec.choices && !spec.choices.includes(n) ? undefined : n;
  }
  return raw;
}

export function fastParse(argv: readonly string[]): FastParse | null {
  const command = COMMANDS.find((c) => c.name === argv[0]);
  if (!command) return null;
  const args: Parsed = {};
  const positionals: string[] = [];
  const seen = new Set<string>();
  let i = 1;
  while (i < argv.length) {
    const token = argv[i++]!;
    if (token === '--') {
      positionals.push(...argv.slice(i));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      inline = eq < 0 ? undefined : token.slice(eq + 1);
    } else {
      const alias = token.slice(1);
      const spec = command.options.find((o) => o.alias === alias);
      if (!spec) {
        if (YARGS_FLAGS.has(alias) || /^-?\d/.test(alias)) return null;
        throw new LwdiskError('ELWD_USAGE', 'usage', `Unknown argument: ${alias} (see lwdisk ${command.name} --help)`);
      }
      name = spec.name;
    }
    const spec = command.options.find((o) => o.name === name);
    if (!spec) {
      if (YARGS_FLAGS.has(name)) return null; // --help, --version: yargs
      // Named here: yargs would take the next word as this flag's value and complain about that.
      throw new LwdiskError('ELWD_USAGE', 'usage', `Unknown argument: ${name} (see lwdisk ${command.name} --help)`);
    }
    if (seen.has(name) && spec.type !== 'array') return null;
    seen.add(name);
    if (spec.type === 'boolean') {
      if (inline === undefined || inline === 'true') args[name] = true;
      else if (inline === 'false') args[name] = false;
      else return null;
    } else if (spec.type === 'array') {
      const values: string[] = inline !== undefined ? [inline] : [];
      while (inline === undefined && i < argv.length && !argv[i]!.startsWith('-')) values.push(argv[i++]!);
      if (!values.length) return null;
      args[name] = [...((args[name] as string[] | undefined) ?? []), ...values];
    } else {
      const raw = inline ?? (i < argv.length && !argv[i]!.startsWith('--') ? argv[i++] : undefined);
      if (raw === undefined) return null;
      const value = optionValue(spec, raw);
      if (value === undefined) return null;
      args[name] = value;
    }
  }
  for (const p of command.positionals) {
    if (p.variadic) {
      args[p.name] = positionals.splice(0);
      continue;
    }
    const v = positionals.shift();
    if (v === undefined) {
      if (p.required) return null;
      continue;
    }
    args[p.name] = v;
  }
  if (positionals.length) return null;
  for (const [a, b] of command.conflicts ?? []) if (args[a] !== undefined && args[b] !== undefined) return null;
  return { command, args };
}
