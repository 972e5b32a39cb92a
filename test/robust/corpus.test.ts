// Issue 5, part 1: the malformed-image corpus. Every damaged image of test/helpers/corpus.ts (and six
// special paths) goes through `scan --json`, `inspect --json --check` and `boot --dry-run --devices`:
// each must finish within 2 s, exit with a documented code, print valid JSON, never a stack trace
// (stderr lines are `lwdisk: <what> : <why>`, or boot's step/warning lines), and leave the file
// byte-identical.
//
// Shape (2 cores): every image is timed in-process through the same code the CLI runs
// (probePath → inspectReport / scanJson / buildPlan), and every image goes through the real CLI in
// batches (`scan --json` and `boot --dry-run --devices` take many paths); a deterministic sample
// (every 24th image, plus all special paths) also runs the three commands one image at a time.
// `npm run test:corpus:full` (LWDISK_CORPUS_FULL=1) runs every image one at a time, and also
// compares whole-file sha256 sums.
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { toJson } from '../../cli/output.js';
import { readHostFacts } from '../../lib/discover.js';
import { LwdiskError } from '../../lib/errors.js';
import { inspectReport } from '../../lib/inspect.js';
import { planActions } from '../../lib/persistence/actions.js';
import { buildPlan } from '../../lib/persistence/plan.js';
import { probePath, scanJson } from '../../lib/scan.js';
import { run, scratchDir } from '../helpers/system.js';
import { CORPUS_SEED, corpusCases, prng } from '../helpers/corpus.js';
import { badStderrLines, cli, crashOf, type Fingerprint, fingerprint, makeRoot, parseJson, pool, sameFingerprint, type Spawned } from '../helpers/robust.js';

const FULL = process.env.LWDISK_CORPUS_FULL === '1';
const SAMPLE_EVERY = Number(process.env.LWDISK_CORPUS_SAMPLE_EVERY ?? 24);
const LIMIT_MS = 2000;
const CHUNK = 100;

const { dir, cleanup } = scratchDir('lwdisk-corpus-');
t.teardown(cleanup);
const root = makeRoot(join(dir, 'root'));
const host = readHostFacts();

interface Item {
  name: string;
  path: string;
  /** Regular file we made (fingerprinted); false for missing, directory, /dev/null, FIFO. */
  file: boolean;
  /** Expected `scan` exit status for this path alone. */
  scanExit: 0 | 1;
  ranges: Array<[number, number]>;
  before?: Fingerprint;
}

const failures = { crash: [] as string[], hang: [] as string[], exit: [] as string[], json: [] as string[], stderr: [] as string[], changed: [] as string[], other: [] as string[] };
let tried = 0;
let identical = 0;
let fingerprinted = 0;
let cliRuns = 0;
let slowestInProcess = { ms: 0, name: '' };
let slowestCli = { ms: 0, what: '' };

const note = (kind: keyof typeof failures, text: string): void => {
  failures[kind].push(text);
};

// ---------------------------------------------------------------------------------------------
// In-process: the same code the CLI runs, timed per image

async function inProcess(item: Item): Promise<void> {
  const phases: Array<[string, () => Promise<unknown>]> = [
    ['scan', async () => toJson(scanJson([(await probePath(item.path, { host })).model], []))],
    ['inspect', async () => toJson(inspectReport(await probePath(item.path, { deep: true, readBackup: true, host })))],
    [
      'boot plan',
      async () => {
        const r = await probePath(item.path, { deep: true, host });
        const plan = buildPlan({ devices: [r.model], unreadable: [], mounts: [], root: '/nonexistent-lwdisk-root', dryRun: true, noSwap: null });
        return toJson({ ...plan, actions: planActions(plan) });
      },
    ],
  ];
  for (const [phase, fn] of phases) {
    const t0 = performance.now();
    try {
      const text = (await fn()) as string;
      JSON.parse(text);
      if (!item.file || item.scanExit !== 0) note('exit', `${item.name}: ${phase} in-process read a path that should fail`);
    } catch (err) {
      if (!(err instanceof LwdiskError)) note('crash', `${item.name}: ${phase} in-process threw ${(err as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err)}`);
      else if (item.scanExit === 0) note('exit', `${item.name}: ${phase} in-process refused a readable image: ${err.message}`);
    }
    const ms = performance.now() - t0;
    if (ms > slowestInProcess.ms) slowestInProcess = { ms, name: `${item.name} (${phase})` };
    if (ms > LIMIT_MS) note('hang', `${item.name}: ${phase} in-process took ${ms.toFixed(0)} ms`);
  }
}

// ---------------------------------------------------------------------------------------------
// The CLI

/** Run once; when over the limit (a loaded machine), once more alone before calling it a hang. */
async function timed(args: string[], what: string, limit = LIMIT_MS): Promise<Spawned> {
  cliRuns++;
  let r = await cli(args, { killMs: Math.max(10_000, limit * 5) });
  if (r.ms > limit && !r.timedOut) r = await cli(args, { killMs: Math.max(10_000, limit * 5) });
  if (r.ms > slowestCli.ms) slowestCli = { ms: r.ms, what };
  if (r.ms > limit) note('hang', `${what}: ${r.ms.toFixed(0)} ms (limit ${limit})`);
  const crash = crashOf(r);
  if (crash) note(r.timedOut ? 'hang' : 'crash', `${what}: ${crash}`);
  return r;
}

async function perImage(item: Item): Promise<void> {
  const p = item.path;
  // scan --json
  const s = await timed(['scan', '--json', p], `scan ${item.name}`);
  if (s.code !== item.scanExit) note('exit', `scan ${item.name}: exit ${s.code}, expected ${item.scanExit}: ${s.stderr.trim()}`);
  const sj = parseJson(s.stdout);
  if (!sj.ok) note('json', `scan ${item.name}: ${sj.error}`);
  else if ((sj.value.devices?.length ?? -1) + (sj.value.errors?.length ?? 0) !== 1) note('json', `scan ${item.name}: ${sj.value.devices?.length} devices, ${sj.value.errors?.length ?? 0} errors`);
  for (const l of badStderrLines(s.stderr)) note('stderr', `scan ${item.name}: ${l}`);
  if (item.scanExit === 1 && !/^lwdisk: \S.* : \S/m.test(s.stderr)) note('stderr', `scan ${item.name}: failure without a "lwdisk: <what> : <why>" line`);

  // inspect --json --check
  const i = await timed(['inspect', '--json', '--check', p], `inspect ${item.name}`);
  const ij = parseJson(i.stdout);
  if (item.scanExit === 1) {
    if (i.code !== 1) note('exit', `inspect ${item.name}: exit ${i.code} for an unreadable path`);
    if (i.stdout !== '') note('json', `inspect ${item.name}: printed something for an unreadable path`);
  } else if (!ij.ok) {
    note('json', `inspect ${item.name}: ${ij.error}`);
  } else {
    const problems = ij.value.problems?.length ?? 0;
    const want = problems > 0 ? 1 : 0;
    if (i.code !== want) note('exit', `inspect --check ${item.name}: exit ${i.code} with ${problems} problems`);
  }
  const ilines = i.stderr.split('\n').filter(Boolean);
  for (const l of badStderrLines(i.stderr)) note('stderr', `inspect ${item.name}: ${l}`);
  if (i.code === 1 && ilines.length !== 1) note('stderr', `inspect ${item.name}: ${ilines.length} stderr lines for one failure`);
  if (i.code === 0 && ilines.length !== 0) note('stderr', `inspect ${item.name}: stderr on success: ${ilines[0]}`);

  // boot --dry-run --devices
  const b = await timed(['boot', '--dry-run', '--json', '--root', root, '--devices', p], `boot --dry-run ${item.name}`);
  if (b.code !== 0) note('exit', `boot --dry-run ${item.name}: exit ${b.code}: ${b.stderr.trim()}`);
  const bj = parseJson(b.stdout);
  if (!bj.ok) note('json', `boot --dry-run ${item.name}: ${bj.error}`);
  else {
    if (bj.value.dryRun !== true) note('json', `boot --dry-run ${item.name}: dryRun is not true`);
    // No silent surprises: an unreadable device is a warning in the JSON and on stderr.
    if (item.scanExit === 1) {
      if (!(bj.value.warnings ?? []).some((w: string) => w.includes(p))) note('other', `boot --dry-run ${item.name}: no warning about the unreadable path in --json`);
      if (!b.stderr.includes(p)) note('other', `boot --dry-run ${item.name}: no warning about the unreadable path on stderr`);
    }
  }
  for (const l of badStderrLines(b.stderr, { boot: true })) note('stderr', `boot --dry-run ${item.name}: ${l}`);
}

/** Human (non-JSON) output of scan, inspect and boot --dry-run: no raw control character but newline. */
async function humanOutput(item: Item): Promise<void> {
  for (const args of [['scan', item.path], ['inspect', item.path], ['boot', '--dry-run', '--root', root, '--devices', item.path]]) {
    const r = await timed(args, `${args[0]} (human) ${item.name}`);
    // eslint-disable-next-line no-control-regex
    const raw = /[\x00-\x09\x0b-\x1f\x7f]/.exec(r.stdout + r.stderr);
    if (raw) note('other', `${args[0]} (human) ${item.name}: raw control character 0x${raw[0].charCodeAt(0).toString(16)} in the output`);
  }
}

/** Batched runs over many paths: one scan, one boot --dry-run. */
async function batched(items: Item[], label: string): Promise<void> {
  const paths = items.map((x) => x.path);
  const limit = Math.max(LIMIT_MS, LIMIT_MS * items.length);
  const s = await timed(['scan', '--json', ...paths], `scan (batch ${label}, ${items.length} paths)`, limit);
  const wantExit = items.some((x) => x.scanExit === 1) ? 1 : 0;
  if (s.code !== wantExit) note('exit', `scan batch ${label}: exit ${s.code}, expected ${wantExit}: ${s.stderr.split('\n')[0]}`);
  const sj = parseJson(s.stdout);
  if (!sj.ok) note('json', `scan batch ${label}: ${sj.error}`);
  else {
    const seen = [...(sj.value.devices ?? []).map((d: { path: string }) => d.path), ...(sj.value.errors ?? []).map((e: { path: string }) => e.path)];
    if (seen.length !== paths.length || paths.some((p) => !seen.includes(p))) note('json', `scan batch ${label}: ${seen.length} of ${paths.length} paths reported`);
  }
  for (const l of badStderrLines(s.stderr)) note('stderr', `scan batch ${label}: ${l}`);
  const b = await timed(['boot', '--dry-run', '--json', '--root', root, '--devices', ...paths], `boot --dry-run (batch ${label})`, limit);
  if (b.code !== 0) note('exit', `boot --dry-run batch ${label}: exit ${b.code}: ${b.stderr.split('\n')[0]}`);
  const bj = parseJson(b.stdout);
  if (!bj.ok) note('json', `boot --dry-run batch ${label}: ${bj.error}`);
  for (const l of badStderrLines(b.stderr, { boot: true })) note('stderr', `boot --dry-run batch ${label}: ${l}`);
}

function checkAfter(items: Item[]): void {
  for (const item of items) {
    if (!item.file || !item.before) continue;
    fingerprinted++;
    const after = fingerprint(item.path, item.ranges, FULL);
    if (sameFingerprint(item.before, after)) identical++;
    else note('changed', `${item.name}: changed (size ${item.before.size}→${after.size}, blocks ${item.before.blocks}→${after.blocks}, data ${item.before.dataSha.slice(0, 12)}→${after.dataSha.slice(0, 12)})`);
  }
}

// ---------------------------------------------------------------------------------------------

t.test('malformed-image corpus', async (t) => {
  const started = performance.now();
  // LWDISK_CORPUS_ONLY=<regex> narrows the run to matching case names (for debugging one case).
  const only = process.env.LWDISK_CORPUS_ONLY ? new RegExp(process.env.LWDISK_CORPUS_ONLY) : null;
  const cases = corpusCases().filter((k) => !only || only.test(k.name));
  if (!only) t.ok(cases.length >= 500, `at least 500 damaged images (${cases.length}, seed 0x${CORPUS_SEED.toString(16)})`);
  const chunkDir = join(dir, 'images');
  const phase: Record<string, number> = { build: 0, inProcess: 0, batched: 0, perImage: 0, verify: 0 };
  const lap = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      phase[name]! += performance.now() - t0;
    }
  };
  for (let c = 0; c < cases.length; c += CHUNK) {
    const chunk = cases.slice(c, c + CHUNK);
    mkdirSync(chunkDir, { recursive: true });
    const items: Item[] = await lap('build', () =>
      chunk.map((k) => {
        const img = k.build();
        const path = join(chunkDir, `${k.name}.img`);
        img.materialize(path);
        const ranges = img.dataRanges();
        return { name: k.name, path, file: true, scanExit: 0 as const, ranges, before: fingerprint(path, ranges, FULL) };
      }),
    );
    tried += items.length;
    await lap('inProcess', async () => {
      for (const item of items) await inProcess(item);
    });
    await lap('batched', () => batched(items, `${c + 1}-${c + chunk.length}`));
    const sample = items.filter((_, k) => FULL || (c + k) % SAMPLE_EVERY === 0);
    // On-disk text with control characters (names, labels) must not reach a terminal raw.
    await lap('perImage', () => pool(items.filter((x) => /control-chars/.test(x.name)), 2, (item) => humanOutput(item)));
    await lap('perImage', () => pool(sample, 2, (item) => perImage(item)));
    await lap('verify', () => checkAfter(items));
    rmSync(chunkDir, { recursive: true, force: true });
  }

  // Special paths.
  const sp = join(dir, 'special');
  mkdirSync(join(sp, 'a-directory'), { recursive: true });
  writeFileSync(join(sp, 'empty.img'), '');
  const rnd = prng(CORPUS_SEED ^ 100);
  writeFileSync(join(sp, 'hundred.img'), Buffer.from(Array.from({ length: 100 }, () => Math.floor(rnd() * 256))));
  const fifo = join(sp, 'a-fifo');
  run('mkfifo', [fifo]);
  const specials: Item[] = [
    { name: 'missing', path: join(sp, 'missing.img'), file: false, scanExit: 1, ranges: [] },
    { name: 'directory', path: join(sp, 'a-directory'), file: false, scanExit: 1, ranges: [] },
    { name: 'empty-file', path: join(sp, 'empty.img'), file: true, scanExit: 0, ranges: [] },
    { name: '/dev/null', path: '/dev/null', file: false, scanExit: 1, ranges: [] },
    { name: '100-byte-file', path: join(sp, 'hundred.img'), file: true, scanExit: 0, ranges: [[0, 100]] },
    { name: 'fifo', path: fifo, file: false, scanExit: 1, ranges: [] },
  ];
  for (const s of specials) if (s.file) s.before = fingerprint(s.path, s.ranges, FULL);
  tried += specials.length;
  for (const s of specials) await inProcess(s);
  await pool(specials, 2, (s) => perImage(s));
  await batched(specials, 'special');
  checkAfter(specials);
  unlinkSync(fifo);

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const crashes = failures.crash.length;
  const hangs = failures.hang.length;
  t.comment(`${tried} images (${cases.length} damaged + ${specials.length} special paths), ${crashes} crashes, ${hangs} hangs, ${identical} of ${fingerprinted} files byte-identical`);
  t.comment(`phases (s): ${Object.entries(phase).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}`);
  t.comment(`${cliRuns} CLI runs (${FULL ? 'every image one at a time' : `batched, plus every ${SAMPLE_EVERY}th image one at a time`}); slowest in-process ${slowestInProcess.ms.toFixed(0)} ms (${slowestInProcess.name}), slowest CLI ${slowestCli.ms.toFixed(0)} ms (${slowestCli.what}); ${seconds} s`);
  for (const [kind, list] of Object.entries(failures)) t.same(list.slice(0, 40), [], `${kind}: ${list.length}`);
  t.equal(identical, fingerprinted, 'every file byte-identical afterwards');
});
