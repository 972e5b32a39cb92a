// The plan as a list of actions (for --dry-run, --json and the tests that compare a plan with
// what a real run did), in the order apply carries them out.
import { type ActionState, type Plan, refText } from './plan.js';

export interface ActionLine {
  step: number;
  action: string;
  target: string;
  state: ActionState;
  detail?: string;
}

/** The plan as a list of actions, in the order apply carries them out. */
export function planActions(plan: Plan): ActionLine[] {
  const out: ActionLine[] = [];
  for (const c of plan.claims) {
    const parts = [c.layout.swap, c.layout.data].filter((p) => p !== null).map((p) => `${p.number}:${p.name} ${p.size} bytes at ${p.start}`);
    out.push({ step: 3, action: 'partition', target: c.disk, state: c.state ?? 'planned', detail: `GPT (${c.sectorSize}-byte sectors) ${parts.join(', ')}` });
  }
  for (const p of plan.formatSwap) out.push({ step: 5, action: 'mkswap', target: refText(p), state: p.state ?? 'planned', detail: 'label lightwhale-swap' });
  const data = plan.dataFilesystem;
  if (data?.create && data.profile) {
    out.push({ step: 5, action: 'mkfs.btrfs', target: data.members.map((m) => m.path).join(' '), state: data.state ?? 'planned', detail: `-L ${data.label} -d ${data.profile.data} -m ${data.profile.metadata}` });
    out.push({ step: 5, action: 'subvolumes', target: data.members[0]?.path ?? '', state: data.subvolumesState ?? 'planned', detail: '@lightwhale-data @lightwhale-state @lightwhale-state-snapshots' });
  }
  for (const m of plan.mounts.filter((x) => x.step === 6)) {
    const action = m.kind === 'state-dir' ? 'mkdir' : m.kind === 'tmpfs' ? 'mount tmpfs' : `mount ${m.subvolume}`;
    out.push({ step: 6, action, target: m.target, state: m.state, ...(m.detail ? { detail: m.detail } : data?.missingDevices ? { detail: 'degraded' } : {}) });
  }
  for (const s of plan.swap) out.push({ step: 6, action: 'swapon', target: typeof s.device === 'string' ? s.device : refText(s.device), state: s.state, ...(s.detail ? { detail: s.detail } : {}) });
  for (const m of plan.mounts.filter((x) => x.step === 7)) {
    out.push({ step: 7, action: m.kind === 'bind' ? 'bind mount' : 'mount overlay', target: m.target, state: m.state, detail: m.kind === 'bind' ? `from ${m.source}` : m.options.join(',') });
  }
  out.push({ step: 7, action: 'mkdir', target: plan.dockerDir, state: plan.dockerState ?? 'planned', detail: 'Docker data root' });
  return out;
}
