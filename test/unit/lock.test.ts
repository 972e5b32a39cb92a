// Per-device locks between lwdisk processes (lib/system/lock.ts): exclusive, waited for, and taken
// over from dead owners (pid gone, or pid reused by another process), atomically.
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { scratchDir } from '../helpers/system.js';

const { dir, cleanup } = scratchDir('lwdisk-lock-');
t.teardown(cleanup);
process.env.LWDISK_LOCK_DIR = dir;
const { lockDevices, releaseAll } = await import('../../lib/system/lock.js');

t.test('a held lock makes the second taker wait, then fail with ELWD_LOCKED', async (t) => {
  const a = await lockDevices(['blk-test0'], 0, 'first');
  const started = Date.now();
  await t.rejects(lockDevices(['blk-test0'], 300, 'second'), { code: 'ELWD_LOCKED' });
  t.ok(Date.now() - started >= 250, 'it waited for the lock');
  releaseAll(a);
  const b = await lockDevices(['blk-test0'], 0, 'third');
  t.pass('free again after release');
  releaseAll(b);
  t.notOk(existsSync(join(dir, 'blk-test0')), 'release removes the lock');
});

t.test('a lock whose owner is dead is taken over', async (t) => {
  mkdirSync(join(dir, 'blk-dead'));
  writeFileSync(join(dir, 'blk-dead', 'owner'), '4194303 12345'); // above any default pid_max
  const l = await lockDevices(['blk-dead'], 0, 'taker');
  t.ok(readdirSync(dir).some((n) => n.startsWith('blk-dead.dead-')), 'the dead lock became a tombstone');
  releaseAll(l);
});

t.test('a pid reused by another process is not the owner (start time differs)', async (t) => {
  mkdirSync(join(dir, 'blk-reused'));
  writeFileSync(join(dir, 'blk-reused', 'owner'), `${process.pid} 1`);
  const l = await lockDevices(['blk-reused'], 0, 'taker');
  t.pass('taken over');
  releaseAll(l);
});

t.test('a half-made lock (no owner yet) is respected while fresh, taken over when old', async (t) => {
  const d = join(dir, 'blk-half');
  mkdirSync(d);
  await t.rejects(lockDevices(['blk-half'], 0, 'early'), { code: 'ELWD_LOCKED' });
  const old = (Date.now() - 10_000) / 1000;
  utimesSync(d, old, old);
  const l = await lockDevices(['blk-half'], 0, 'late');
  t.pass('taken over after its grace period');
  releaseAll(l);
});

t.test('several keys are taken in sorted order and all released on failure', async (t) => {
  const held = await lockDevices(['blk-b'], 0, 'holder');
  await t.rejects(lockDevices(['blk-c', 'blk-a', 'blk-b'], 0, 'many'), { code: 'ELWD_LOCKED' });
  t.notOk(existsSync(join(dir, 'blk-a')), 'the lock taken before the failure was released');
  releaseAll(held);
  const all = await lockDevices(['blk-c', 'blk-a', 'blk-b'], 0, 'many');
  t.same(all.map((l) => l.key), ['blk-a', 'blk-b', 'blk-c']);
  releaseAll(all);
});
