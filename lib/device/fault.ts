// Test-only fault injection, off unless LWDISK_FAULT is set. It simulates a power cut: the
// process is killed (SIGKILL, no cleanup) right before the chosen write or tool call.
//   LWDISK_FAULT=write:N        before the N-th device write (1-based)
//   LWDISK_FAULT=tool:N         before the N-th system tool call
//   LWDISK_FAULT=tool:NAME[:K]  before the K-th (default 1st) call of tool NAME (e.g. tool:mkfs.btrfs)
//   LWDISK_FAULT_LOG=FILE       append one line per counted event ("write 3 <what>"), to learn the totals
// The writes already done are fsynced, which is what survives a real power cut.
import { appendFileSync } from 'node:fs';

export type FaultKind = 'write' | 'tool';

const counters: Record<FaultKind, number> = { write: 0, tool: 0 };
const byName = new Map<string, number>();

interface Fault {
  kind: FaultKind;
  n: number;
  name: string | null;
}

export function parseFault(spec: string | undefined): Fault | null {
  const numeric = /^(write|tool):(\d+)$/.exec(spec ?? '');
  if (numeric) return { kind: numeric[1] as FaultKind, n: Number(numeric[2]), name: null };
  const named = /^tool:([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(spec ?? '');
  if (named) return { kind: 'tool', n: Number(named[2] ?? 1), name: named[1]! };
  return null;
}

const fault = parseFault(process.env.LWDISK_FAULT);
const log = process.env.LWDISK_FAULT_LOG;

/** Count one event; kill the process when it is the configured cut point. `what` starts with the tool name for tools. */
export function faultPoint(kind: FaultKind, what: string): void {
  if (!fault && !log) return;
  const n = ++counters[kind];
  const name = kind === 'tool' ? what.split(' ')[0]! : '';
  const k = kind === 'tool' ? (byName.get(name) ?? 0) + 1 : 0;
  if (kind === 'tool') byName.set(name, k);
  if (log) appendFileSync(log, `${kind} ${n} ${what}\n`);
  const hit = fault && fault.kind === kind && (fault.name === null ? fault.n === n : fault.name === name && fault.n === k);
  if (hit) {
    process.stderr.write(`lwdisk: fault injected : power cut before ${kind} ${n} (${what})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
