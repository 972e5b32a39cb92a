// Run the built CLI (dist/lwdisk.mjs, made by `npm run build`, which `npm test` runs first).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './system.js';

export const LWDISK = fileURLToPath(new URL('../../dist/lwdisk.mjs', import.meta.url));

export function lwdisk(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): RunResult {
  return run(process.execPath, [LWDISK, ...args], { ...options, env: { ...process.env, ...(options.env ?? {}) } });
}

/** Run and parse stdout as JSON (throws with stderr when it is not JSON). */
export function lwdiskJson<T = any>(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): { code: number; json: T; stderr: string } {
  const r = lwdisk(args, options);
  try {
    return { code: r.code, json: JSON.parse(r.stdout) as T, stderr: r.stderr };
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout.slice(0, 200)} / ${r.stderr.slice(0, 500)}`);
  }
}

export interface Spawned {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Run the built CLI; killed after `killMs`. Never throws for a failing exit. */
export function lwdiskAsync(args: string[], options: { killMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(options.env ?? {}) };
    delete env.LWDISK_DEBUG;
    const t0 = performance.now();
    const child = spawn(process.execPath, [LWDISK, ...args], { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.killMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - t0, timedOut });
    });
  });
}

/** Run async jobs with at most `limit` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, job: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
