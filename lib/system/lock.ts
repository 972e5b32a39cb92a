// Advisory locks between lwdisk processes, one per device, so two `mark`s or two `boot`s on the
// same disk never both write. Node has no flock(2), so a lock is a directory created atomically
// with mkdir under /run/lwdisk/locks (LWDISK_LOCK_DIR overrides), holding the owner's pid. A lock
// whose owner is gone is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LwdiskError } from '../errors.js';

// Root (boot, real disks) uses /run; other users (image files) a private directory under the temp dir.
const LOCK_DIR = process.env.LWDISK_LOCK_DIR ?? (process.getuid?.() === 0 ? '/run/lwdisk/locks' : join(process.env.TMPDIR || '/tmp', `lwdisk-${process.getuid?.() ?? 'user'}`, 'locks'));

export interface DeviceLock {
  key: string;
  release(): void;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tryLock(dir: string): boolean {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      // Being created right now, or left half-made by a killed process: judge by age below.
    }
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
    if (!Number.isInteger(owner) || owner <= 0) {
      let age = 0;
      try {
        age = Date.now() - statSync(dir).mtimeMs;
      } catch {
        return tryLock(dir);
      }
      if (age < 2000) return false;
    }
    rmSync(dir, { recursive: true, force: true });
    return tryLock(dir);
  }
  writeFileSync(join(dir, 'pid'), String(process.pid));
  return true;
}

/**
 * Take the locks for `keys` (sorted, so two processes never deadlock), waiting up to `waitMs`.
 * On timeout: ELWD_LOCKED naming who holds it.
 */
export async function lockDevices(keys: string[], waitMs: number, what: string): Promise<DeviceLock[]> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const held: DeviceLock[] = [];
  const deadline = Date.now() + waitMs;
  try {
    for (const key of [...new Set(keys)].sort()) {
      const dir = join(LOCK_DIR, key.replace(/[^A-Za-z0-9:._-]/g, '_'));
      let waited = false;
      while (!tryLock(dir)) {
        if (Date.now() >= deadline) {
          let owner = '?';
          try {
            owner = readFileSync(join(dir, 'pid'), 'utf8');
          } catch {
            // unknown
          }
          throw new LwdiskError('ELWD_LOCKED', what, `another lwdisk (pid ${owner}) is working on this device`);
        }
        if (!waited) process.stderr.write(`lwdisk: ${what} : waiting for another lwdisk to finish\n`);
        waited = true;
        await sleep(100);
      }
      let released = false;
      held.push({
        key,
        release: () => {
          if (released) return;
          released = true;
          rmSync(dir, { recursive: true, force: true });
        },
      });
    }
  } catch (err) {
    for (const l of held) l.release();
    throw err;
  }
  return held;
}

export const releaseAll = (locks: DeviceLock[]): void => {
  for (const l of locks.reverse()) l.release();
};
