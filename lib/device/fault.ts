// Test-only fault injection, off unless LWDISK_FAULT is set. It simulates a power cut: the
// process is killed (SIGKILL, no cleanup) right before the N-th write or the N-th tool call.
//   LWDISK_FAULT=write:N   kill before the N-th device write (1-based)
//   LWDISK_FAULT=tool:N    kill before the N-th system tool call
//   LWDISK_FAULT_LOG=FILE  append one line per counted event ("write 3 <what>"), to learn the totals
// The writes already done are fsynced, which is what survives a real power cut.
import { appendFileSync } from 'node:fs';

export type FaultKind = 'write' | 'tool';

const counters: Record<FaultKind, number> = { write: 0, tool: 0 };

function parseFault(spec: string | undefined): { kind: FaultKind; n: number } | null {
  const m = /^(write|tool):(\d+)$/.exec(spec ?? '');
  return m ? { kind: m[1] as FaultKind, n: Number(m[2]) } : null;
}

const fault = parseFault(process.env.LWDISK_FAULT);
const log = process.env.LWDISK_FAULT_LOG;

/** Count one event; kill the process when it is the configured cut point. */
export function faultPoint(kind: FaultKind, what: string): void {
  if (!fault && !log) return;
  const n = ++counters[kind];
  if (log) appendFileSync(log, `${kind} ${n} ${what}\n`);
  if (fault && fault.kind === kind && fault.n === n) {
    process.stderr.write(`lwdisk: fault injected : power cut before ${kind} ${n} (${what})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
