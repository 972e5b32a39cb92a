// The shipped artefact: `npm pack` gives a tarball whose `lwdisk` bin works from a fresh install,
// and dist/lwdisk.mjs alone runs with a bare `node` and no node_modules anywhere.
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LWDISK } from '../helpers/cli.js';
import { unpackFixture } from '../helpers/fixtures.js';
import { run, scratchDir } from '../helpers/system.js';

t.test('npm pack → install into an empty directory → lwdisk --help and scan', async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-pack-');
  t.teardown(cleanup);
  const pack = run('npm', ['pack', '--json', '--pack-destination', dir], { timeout: 180_000 });
  t.equal(pack.code, 0, `npm pack: ${pack.stderr.slice(-300)}`);
  const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0] as { filename: string; files: Array<{ path: string }> };
  const files = info.files.map((f) => f.path);
  t.ok(files.includes('dist/lwdisk.mjs'), 'tarball has dist/lwdisk.mjs');
  t.ok(files.includes('cli/S11persistence'), 'tarball has the init script');
  t.ok(files.includes('package.json') && files.includes('README.md'), 'tarball has package.json and README');
  t.notOk(files.some((f) => f.startsWith('test/') || f.startsWith('lib/') || f.startsWith('fixtures/')), 'no sources, tests or fixtures in the tarball');
  const app = join(dir, 'app');
  const inst = run('npm', ['install', '--prefix', app, '--no-audit', '--no-fund', '--prefer-offline', join(dir, info.filename)], { timeout: 300_000 });
  t.equal(inst.code, 0, `npm install: ${inst.stderr.slice(-300)}`);
  const bin = join(app, 'node_modules', '.bin', 'lwdisk');
  t.ok(existsSync(bin), 'bin lwdisk installed');
  const help = run(bin, ['--help']);
  t.equal(help.code, 0, 'lwdisk --help exits 0');
  t.match(help.stdout, /lwdisk scan/, '--help lists the commands');
  const img = await unpackFixture('gpt-lightwhale-512', dir);
  const scan = run(bin, ['scan', '--json', img]);
  t.equal(scan.code, 0, 'lwdisk scan exits 0');
  t.equal(JSON.parse(scan.stdout).devices[0].table.partitions[1].filesystem.label, 'lightwhale-data', 'scan from the installed package reads the fixture');
});

t.test('dist/lwdisk.mjs alone runs with a bare node (no node_modules)', async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-bare-');
  t.teardown(cleanup);
  const bare = join(dir, 'lwdisk.mjs');
  copyFileSync(LWDISK, bare);
  t.same(readdirSync(dir), ['lwdisk.mjs'], 'nothing else in the directory');
  t.notOk(existsSync(join(dir, '..', 'node_modules')), 'no node_modules above it');
  const version = run(process.execPath, [bare, '--version']);
  t.equal(version.code, 0);
  t.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
  const help = run(process.execPath, [bare, 'scan', '--help']);
  t.equal(help.code, 0, 'yargs (bundled) renders help');
  const img = await unpackFixture('ext4-whole', dir);
  const scan = run(process.execPath, [bare, 'scan', '--json', img]);
  t.equal(scan.code, 0);
  t.equal(JSON.parse(scan.stdout).devices[0].filesystem.type, 'ext4');
  const usage = run(process.execPath, [bare, 'scan', '--bogus']);
  t.equal(usage.code, 2, 'usage errors exit 2');
  t.match(usage.stderr, /^lwdisk: usage : /);
});
