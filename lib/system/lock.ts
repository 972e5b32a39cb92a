// Advisory locks between lwdisk processes, one per device, so two `mark`s or two `boot`s on the
// same disk never both write. Node has no flock(2), so a lock is a directory created atomically
// with mkdir under /run/lwdisk/locks (LWDISK_LOCK_DIR overrides), holding the owner's pid and
// start time. A lock whose owner is gone (or whose pid now names another process) is taken over.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LwdiskError } from '../errors.js';

// Root (boot, real disks) uses /run; other users (image files) a private directory under the temp dir.
const LOCK_DIR = process.env.LWDISK_LOCK_DIR ?? (process.getuid?.() === 0 ? '/run/lwdisk/locks' : join(process.env.TMPDIR || '/tmp', `lwdisk-${process.getuid?.() ?? 'user'}`, 'locks'));

export interface DeviceLock {
  key: string;
  release(): void;
}

/** Start time of a process (field 22 of /proc/PID/stat), so a reused pid is not mistaken for the owner. */
function startTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const SELF = `${process.pid} ${startTime('self') ?? ''}`.trim();

/** Whether the process recorded as `owner` ("pid starttime") still runs. */
function ownerAlive(owner: string): boolean {
  const [pidText, start] = owner.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = startTime(pid);
  if (now === null) {
    try {
      process.kill(pid, 0);
      return true; // no /proc: trust the pid
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return start === undefined || start === now;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const TOMBSTONE_KEEP_MS = 60_000;

function tryLock(dir: string): boolean {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner: string | null = null;
    try {
      owner = readFileSync(join(dir, 'owner'), 'utf8');
    } catch {
      // Being created right now, or left half-made by a killed process: judge by age below.
    }
    if (owner !== null && ownerAlive(owner)) return false;
    if (owner === null) {
      let age = 0;
      try {
        age = Date.now() - statSync(dir).mtimeMs;
      } catch {
        return tryLock(dir);
      }
      if (age < 2000) return false;
    }
    // Take over atomically: rename the dead owner's lock to a tombstone named after that owner.
    // A second process that saw the same dead owner fails on the existing tombstone instead of
    // removing the lock taken over here. Tombstones are swept after a minute.
    const tombstone = `${dir}.dead-${(owner ?? 'unknown').trim().replace(/\W+/g, '-')}`;
    try {
      renameSync(dir, tombstone);
    } catch {
      return false;
    }
    return tryLock(dir);
  }
  writeFileSync(join(dir, 'owner'), SELF);
  return true;
}

function sweepTombstones(): void {
  for (const name of readdirSync(LOCK_DIR)) {
    if (!name.includes('.dead-')) continue;
    try {
      const path = join(LOCK_DIR, name);
      if (Date.now() - statSync(path).mtimeMs > TOMBSTONE_KEEP_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // someone else swept it
    }
  }
}

/**
 * Take the locks for `keys` (sorted, so two processes never deadlock), waiting up to `waitMs`.
 * On timeout: ELWD_LOCKED naming who holds it.
 */
export async function lockDevices(keys: string[], waitMs: number, what: string): Promise<DeviceLock[]> {
  mkdirSync(LOCK_DIR, { recursive: true });
  sweepTombstones();
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
            owner = readFileSync(join(dir, 'owner'), 'utf8').split(' ')[0] ?? '?';
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
