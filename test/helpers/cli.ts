// Run the built CLI (dist/lwdisk.mjs, made by `npm run build`, which `npm test` runs first).
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
