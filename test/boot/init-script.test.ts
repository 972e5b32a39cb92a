// The init script cli/S11persistence: valid busybox sh and dash syntax, and run against a stub
// lwdisk that records its arguments: start → `boot` (+ LWDISK_ARGS), status → `status`, stop
// calls nothing, an unknown verb exits 1 with usage, a failing boot is passed on.
import t from 'tap';
import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { missingTools, run, scratchDir } from '../helpers/system.js';

const SCRIPT = fileURLToPath(new URL('../../cli/S11persistence', import.meta.url));

// Needs no root, only the two shells; under CI (LWDISK_REQUIRE_SYSTEM=1) a missing shell fails.
function guard(): { skip?: string } {
  const missing = missingTools(['dash', 'busybox']);
  if (!missing.length) return {};
  if (process.env.LWDISK_REQUIRE_SYSTEM === '1') throw new Error(`init script test cannot run in CI: missing ${missing.join(', ')}`);
  return { skip: `missing tools: ${missing.join(', ')}` };
}

const SHELLS: Array<[string, string[]]> = [
  ['dash', ['dash']],
  ['busybox sh', ['busybox', 'sh']],
];

t.test('S11persistence is valid dash and busybox sh', guard(), async (t) => {
  for (const [name, argv] of SHELLS) {
    const r = run(argv[0]!, [...argv.slice(1), '-n', SCRIPT]);
    t.equal(r.code, 0, `${name} -n passes ${r.stderr}`);
  }
  t.match(readFileSync(SCRIPT, 'utf8'), /^#!\/bin\/sh\n/, 'starts with #!/bin/sh');
});

t.test('S11persistence calls lwdisk with the right verb', guard(), async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-init-');
  t.teardown(cleanup);
  const stub = join(dir, 'lwdisk-stub');
  const log = join(dir, 'calls');
  writeFileSync(stub, `#!/bin/sh\necho "$*" >> "${log}"\nexit \${STUB_RC:-0}\n`);
  chmodSync(stub, 0o755);
  const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

  for (const [name, argv] of SHELLS) {
    const sh = (verb: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof run> => {
      writeFileSync(log, '');
      return run(argv[0]!, [...argv.slice(1), SCRIPT, verb], { env: { PATH: process.env.PATH, LWDISK: stub, ...env } });
    };
    let r = sh('start');
    t.equal(r.code, 0, `${name}: start exits 0`);
    t.same(calls(), ['boot'], `${name}: start calls "lwdisk boot"`);
    t.match(r.stdout, /Starting persistence: .*OK/s, `${name}: start says OK`);

    r = sh('start', { LWDISK_ARGS: '--no-swap --devices /dev/sdb /dev/sdc' });
    t.same(calls(), ['boot --no-swap --devices /dev/sdb /dev/sdc'], `${name}: LWDISK_ARGS are passed on, word-split`);

    r = sh('start', { STUB_RC: '1' });
    t.equal(r.code, 1, `${name}: a failing boot makes start exit 1`);
    t.match(r.stdout, /FAIL/, `${name}: and say FAIL`);

    r = sh('status');
    t.equal(r.code, 0, `${name}: status exits 0`);
    t.same(calls(), ['status'], `${name}: status calls "lwdisk status"`);

    r = sh('stop');
    t.equal(r.code, 0, `${name}: stop exits 0`);
    t.same(calls(), [], `${name}: stop calls nothing`);

    r = sh('restart');
    t.equal(r.code, 0, `${name}: restart exits 0`);
    t.same(calls(), ['boot'], `${name}: restart calls boot`);

    r = sh('frobnicate');
    t.equal(r.code, 1, `${name}: an unknown verb exits 1`);
    t.match(r.stderr, /^Usage: .*\{start\|stop\|restart\|status\}/m, `${name}: with usage on stderr`);
    t.same(calls(), [], `${name}: and calls nothing`);

    r = run(argv[0]!, [...argv.slice(1), SCRIPT], { env: { PATH: process.env.PATH, LWDISK: stub } });
    t.equal(r.code, 1, `${name}: no verb exits 1`);
  }
});
