// Every fixture image (made by the real tools, fixtures/make-fixtures.sh) scans to exactly its
// stored expected JSON; `inspect --check` passes the good ones and fails the damaged ones with the
// expected problem; bad paths fail with one line and never hang.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type CliResult, DAMAGED, expectedScan, fixtureNames, lwdiskIn, lwdiskInAsync, pool, unpackFixture } from '../helpers/fixtures.js';
import { scratchDir } from '../helpers/system.js';

const REQUIRED = [
  'gpt-lightwhale-512',
  'gpt-lightwhale-4096',
  'raid1-a',
  'raid1-b',
  'magic-blank',
  'magic-over-gpt',
  'blank-magic-partitions',
  'ext4-whole',
  'mbr-two',
  'empty',
  'swap-whole',
  'vfat-whole',
  'luks-whole',
  'lvm-pv',
  'md-1.2',
  ...Object.keys(DAMAGED),
];

const names = fixtureNames();
const scratch = scratchDir('lwdisk-fixtures-');
t.teardown(scratch.cleanup);

/** One line `lwdisk: <what> : <why>`, no stack trace. */
const oneLineError = (t: Test, stderr: string, what: string): void => {
  const lines = stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(stderr)}`);
  t.match(lines[0] ?? '', new RegExp(`^lwdisk: ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} : \\S.*$`), 'lwdisk: <what> : <why>');
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
};

// Unpack everything, then run the CLI up front, four processes at a time (each run is mostly Node
// start-up): one `scan --json` of all fixtures (scan takes several paths; each device must equal
// its fixture's expected JSON), a single-path scan of each Lightwhale fixture, and one
// `inspect --json --check` per fixture. The subtests below only assert.
const SINGLE = new Set(['gpt-lightwhale-512', 'gpt-lightwhale-4096', 'raid1-a', 'magic-over-gpt', 'gpt-bad-primary-crc']);
const runs = new Map<string, { device: unknown; single: CliResult | null; inspect: CliResult }>();
let all: CliResult;
t.before(async () => {
  const t0 = Date.now();
  await pool(names, 4, (name) => unpackFixture(name, scratch.dir));
  const t1 = Date.now();
  const [scanAll, ...rest] = await pool(
    [{ args: ['scan', '--json', ...names.map((n) => `${n}.img`)] }, ...names.flatMap((name) => [
      { args: ['inspect', '--json', '--check', `${name}.img`] },
      ...(SINGLE.has(name) ? [{ args: ['scan', '--json', `${name}.img`] }] : []),
    ])],
    4,
    ({ args }) => lwdiskInAsync(scratch.dir, args),
  );
  all = scanAll!;
  const parsed = JSON.parse(all.stdout);
  let i = 0;
  names.forEach((name, n) => {
    const inspect = rest[i++]!;
    const single = SINGLE.has(name) ? rest[i++]! : null;
    runs.set(name, { device: parsed.devices[n], single, inspect });
  });
  t.comment(`${names.length} fixtures: unpacked in ${t1 - t0} ms, scanned and inspected in ${Date.now() - t1} ms`);
});

t.test('one scan of every fixture', async (t) => {
  t.equal(all.code, 0, `scan exits 0 (${all.stderr.trim()})`);
  t.equal(all.stderr, '', 'nothing on stderr');
  const out = JSON.parse(all.stdout);
  t.same(Object.keys(out), ['schema', 'devices'], 'no errors member');
  t.same(out.devices.map((d: any) => d.path), names.map((n) => `${n}.img`), 'devices in the order given');
});

t.test('every required fixture is stored', async (t) => {
  for (const name of REQUIRED) t.ok(names.includes(name), name);
});

t.test('fixtures are unpacked as sparse files of the right size', async (t) => {
  for (const name of ['gpt-lightwhale-512', 'raid1-a', 'blank-magic-partitions']) {
    const st = statSync(join(scratch.dir, `${name}.img`));
    t.equal(st.size, expectedScan(name).devices[0].size, `${name}: size`);
    t.ok(st.blocks * 512 < st.size / 4, `${name}: sparse (${st.blocks * 512} of ${st.size} bytes allocated)`);
  }
});

for (const name of names) {
  t.test(name, async (t) => {
    const expected = expectedScan(name);
    const { device, single, inspect } = runs.get(name)!;
    t.same({ schema: 1, devices: [device] }, expected, 'scan --json equals the stored expected JSON');
    if (single) {
      t.equal(single.code, 0, `single-path scan exits 0 (${single.stderr.trim()})`);
      t.equal(single.stderr, '');
      t.same(JSON.parse(single.stdout), expected, 'single-path scan --json equals the stored expected JSON');
    }
    const dev = device as any;
    t.equal(dev.path, `${name}.img`);
    t.equal(dev.kind, 'image');

    const report = JSON.parse(inspect.stdout);
    t.equal(report.path, `${name}.img`);
    const want = DAMAGED[name];
    if (want) {
      t.equal(inspect.code, 1, 'inspect --check exits 1 on a damaged fixture');
      oneLineError(t, inspect.stderr, `${name}.img`);
      t.match(inspect.stderr, /problems? found: /);
      t.ok(
        report.problems.some((p: string) => want.test(p)),
        `problem ${want} reported (got ${JSON.stringify(report.problems)})`,
      );
    } else {
      t.equal(inspect.code, 0, `inspect --check exits 0 (${inspect.stderr.trim()})`);
      t.same(report.problems, [], 'no problems');
      t.equal(inspect.stderr, '');
    }
  });
}

t.test('what the fixtures say (spot checks against the tools that made them)', async (t) => {
  const dev = (name: string) => expectedScan(name).devices[0];
  for (const [name, ss] of [
    ['gpt-lightwhale-512', 512],
    ['gpt-lightwhale-4096', 4096],
  ] as const) {
    const d = dev(name);
    t.equal(d.sectorSize, ss, `${name}: sector size`);
    t.equal(d.role, 'partitioned');
    t.equal(d.table.type, 'gpt');
    const [swap, data] = d.table.partitions;
    t.match(swap, { number: 1, start: 1048576, size: 8 * 1048576, name: 'lightwhale-swap', type: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f', role: 'magic-swap-partition', filesystem: { type: 'swap', label: 'lightwhale-swap', pageSize: 4096, version: 1 } });
    t.match(data, { number: 2, start: 9 * 1048576, name: 'lightwhale-data', type: '0fc63daf-8483-4772-8e79-3d69d8477de4', role: 'data-filesystem', filesystem: { type: 'btrfs', label: 'lightwhale-data', devid: 1, numDevices: 1 } });
    // sgdisk ends the last partition at the last usable LBA (N-34 / N-6).
    t.equal(data.start + data.size, d.size - (ss === 512 ? 34 : 6) * ss + ss, `${name}: data partition ends at the last usable LBA`);
  }
  const a = dev('raid1-a').table.partitions[1].filesystem;
  const b = dev('raid1-b').table.partitions[1].filesystem;
  t.equal(a.uuid, b.uuid, 'raid1 members share the fsid');
  t.not(a.uuidSub, b.uuidSub, 'raid1 members have their own device UUIDs');
  t.same([a.devid, b.devid, a.numDevices, b.numDevices], [1, 2, 2, 2]);

  t.match(dev('magic-blank'), { magic: true, role: 'magic-disk', table: null, filesystem: null });
  const over = dev('magic-over-gpt');
  t.match(over, { magic: true, role: 'magic-disk', table: { type: 'gpt' } }, 'the magic wins; the stale table stays visible');
  t.equal(over.table.partitions[1].filesystem.type, 'btrfs', 'stale btrfs still visible');
  t.same(
    dev('blank-magic-partitions').table.partitions.map((p: any) => [p.name, p.role, p.filesystem]),
    [
      ['lightwhale-swap', 'magic-swap-partition', null],
      ['lightwhale-data', 'magic-data-partition', null],
    ],
  );
  t.match(dev('mbr-two').table, { type: 'mbr', id: '6c77646b', partitions: [{ type: '0x83', uuid: '6c77646b-01', role: 'foreign', filesystem: { type: 'ext4' } }, { type: '0x82', uuid: '6c77646b-02', role: 'empty' }] });
  t.match(dev('empty'), { role: 'empty', table: null, filesystem: null, magic: false });
  for (const [name, type] of [
    ['ext4-whole', 'ext4'],
    ['swap-whole', 'swap'],
    ['vfat-whole', 'vfat'],
    ['luks-whole', 'crypto_LUKS'],
    ['lvm-pv', 'LVM2_member'],
    ['md-1.2', 'linux_raid_member'],
    ['xfs-whole', 'xfs'],
    ['iso9660', 'iso9660'],
  ] as const) {
    if (!names.includes(name)) continue; // xfs/iso9660 are optional (tools)
    t.match(dev(name), { role: 'foreign', table: null, filesystem: { type } }, `${name} is foreign ${type}`);
  }
  const bad = dev('gpt-bad-primary-crc');
  t.ok(bad.table.problems.some((p: string) => /partitions read from the backup/.test(p)), 'bad primary CRC: scan falls back to the backup and says so');
  t.equal(bad.table.partitions.length, 2, 'partitions from the backup');
  t.same(dev('gpt-absurd-entry-count').table.partitions, [], 'absurd entry count: no partitions, no crash');
  t.same(dev('truncated').table.partitions, []);
});

t.test('bad paths: one line, exit 1, never hang', async (t) => {
  const dir = join(scratch.dir, 'bad');
  mkdirSync(dir);
  writeFileSync(join(dir, 'empty.img'), '');
  writeFileSync(join(dir, 'small.img'), Buffer.alloc(100, 0xa5));
  execFileSync('mkfifo', [join(dir, 'fifo')]);

  const cases = [
    ['missing.img', /no such file/],
    [dir, /is a directory/],
    ['/dev/null', /character device/],
    ['fifo', /FIFO/],
  ] as const;
  const cmds = [['scan', '--json'], ['scan'], ['inspect', '--check']];
  const jobs = cases.flatMap(([path, why]) => cmds.map((cmd) => ({ path, why, cmd })));
  const results = await pool(jobs, 4, ({ path, cmd }) => lwdiskInAsync(dir, [...cmd, path], 10_000));
  jobs.forEach(({ path, why, cmd }, i) => {
    const r = results[i]!;
    t.equal(r.code, 1, `${cmd.join(' ')} ${path}: exit 1`);
    oneLineError(t, r.stderr, path);
    t.match(r.stderr, why);
  });
  const r = lwdiskIn(dir, ['scan', '--json', 'missing.img']);
  t.same(JSON.parse(r.stdout).devices, [], 'JSON still printed, without the unreadable path');

  const readable = [
    ['empty.img', 0, /device is empty \(0 bytes\)/],
    ['small.img', 100, /device is only 100 bytes/],
  ] as const;
  const runs2 = await pool(readable, 2, async ([path]) => [await lwdiskInAsync(dir, ['scan', '--json', path], 10_000), await lwdiskInAsync(dir, ['inspect', '--check', path], 10_000)] as const);
  readable.forEach(([path, size, problem], i) => {
    const [s, ins] = runs2[i]!;
    t.equal(s.code, 0, `${path}: readable, so scan exits 0`);
    const d = JSON.parse(s.stdout).devices[0];
    t.match(d, { path, size, role: 'empty', table: null, filesystem: null, magic: false });
    t.ok(d.problems.some((p: string) => problem.test(p)), `${path}: problem ${problem}`);
    t.equal(ins.code, 1, `${path}: inspect --check exits 1`);
    oneLineError(t, ins.stderr, path);
  });
});

t.test('one unreadable path does not hide the others', async (t) => {
  const r = lwdiskIn(scratch.dir, ['scan', '--json', 'gpt-lightwhale-512.img', 'missing.img', 'empty.img']);
  t.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  t.same(
    out.devices.map((d: any) => d.path),
    ['gpt-lightwhale-512.img', 'empty.img'],
  );
  t.same(out.errors, [{ path: 'missing.img', error: 'missing.img : no such file or device' }]);
  oneLineError(t, r.stderr, 'missing.img');
});
