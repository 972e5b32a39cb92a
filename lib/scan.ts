// Scan several paths concurrently: open read-only, probe, close. A path that cannot be read is
// reported beside the others, never stops them.
import { describeError, LwdiskError } from './errors.js';
import { FileDevice } from './device/file.js';
import { type HostFacts, probeContextFor, readHostFacts } from './discover.js';
import { SCAN_SCHEMA, type DeviceModel } from './model.js';
import { probeDevice, type ProbeContext, type ProbeResult } from './probe.js';

export interface ScanError {
  path: string;
  error: string;
  exitCode: number;
}

export interface ScanOutcome {
  results: ProbeResult[];
  errors: ScanError[];
}

export interface ScanOptions {
  deep?: boolean;
  readBackup?: boolean;
  host?: HostFacts;
}

/** Probe one path (read-only). */
export async function probePath(path: string, options: ScanOptions = {}): Promise<ProbeResult> {
  const dev = await FileDevice.open(path);
  try {
    const extra: Partial<ProbeContext> = { deep: !!options.deep, readBackup: !!options.readBackup };
    return await probeDevice(dev, probeContextFor(dev.facts, options.host ?? readHostFacts(), extra));
  } finally {
    await dev.close();
  }
}

export async function scanPaths(paths: readonly string[], options: ScanOptions = {}): Promise<ScanOutcome> {
  const host = options.host ?? readHostFacts();
  const settled = await Promise.allSettled(paths.map((p) => probePath(p, { ...options, host })));
  const results: ProbeResult[] = [];
  const errors: ScanError[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') results.push(s.value);
    else errors.push({ path: paths[i]!, error: describeError(s.reason), exitCode: s.reason instanceof LwdiskError ? s.reason.exitCode : 1 });
  });
  return { results, errors };
}

export const scanJson = (devices: DeviceModel[], errors: ScanError[]): object => ({
  schema: SCAN_SCHEMA,
  devices,
  ...(errors.length ? { errors: errors.map(({ path, error }) => ({ path, error })) } : {}),
});
