// lwdisk boot: the persistence step (replaces /etc/init.d/S11persistence). Never asks: the magic
// header is the owner's consent. --dry-run prints the plan and writes nothing.
import { defaultDevicePaths } from '../../lib/discover.js';
import { boot } from '../../lib/persistence/boot.js';
import { planActions } from '../../lib/persistence/actions.js';
import { type Plan } from '../../lib/persistence/plan.js';
import { formatTable, log, printJson, warn } from '../output.js';
import { resolveRootOption } from '../options.js';

export interface BootArgs {
  devices: string[];
  root: string | undefined;
  dryRun: boolean;
  json: boolean;
  noSwap: boolean;
}

export const BOOT_LOCK_WAIT_MS = Number(process.env.LWDISK_LOCK_WAIT_MS ?? 300_000);
export const NODE_TIMEOUT_MS = Number(process.env.LWDISK_NODE_TIMEOUT_MS ?? 10_000);

function renderPlan(plan: Plan): string {
  const lines = [`boot plan (dry run, nothing written): expected mode ${plan.mode}`, ...plan.steps.map((s) => `  ${s}`)];
  const actions = planActions(plan);
  lines.push('', formatTable(['STEP', 'ACTION', 'TARGET', 'STATE', 'DETAIL'], actions.map((a) => [String(a.step), a.action, a.target, a.state, a.detail ?? ''])).trimEnd());
  if (plan.skipped.length) lines.push('', 'left alone:', ...plan.skipped.map((s) => `  ${s.path}: ${s.reason}`));
  if (plan.warnings.length) lines.push('', 'warnings:', ...plan.warnings.map((w) => `  ${w}`));
  return lines.join('\n') + '\n';
}


export async function run(args: BootArgs): Promise<number> {
  const root = resolveRootOption(args.root);
  const devices = [...new Set(args.devices.length ? args.devices : defaultDevicePaths())];
  const { plan, result } = await boot(
    { devices, root, dryRun: args.dryRun, noSwap: args.noSwap, lockWaitMs: BOOT_LOCK_WAIT_MS },
    { log, warn: (line) => warn(line, { red: true }), nodeTimeoutMs: NODE_TIMEOUT_MS },
  );
  if (args.dryRun) {
    // The diagnostics a real run starts with (no silent surprises): warnings, then skips no warning names.
    for (const w of plan.warnings) warn(w);
    for (const s of plan.skipped) if (!plan.warnings.some((w) => w.includes(s.path))) log(`lwdisk: ${s.path} : ${s.reason}`);
    if (args.json) printJson({ ...plan, actions: planActions(plan) });
    else process.stdout.write(renderPlan(plan));
    return 0;
  }
  if (args.json) printJson({ ...plan, actions: planActions(plan), result });
  return result?.ok ? 0 : 1;
}
