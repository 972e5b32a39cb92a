// --dry-run runs the real code over a write-recording device (issue 3): for mark, unmark,
// partition and mkswap, on image files (no root) and on loop devices (root), `--dry-run --json`
// leaves the device byte-identical and lists exactly the writes (offset, length, what) that the
// real run (`--json --yes`) prints on an identical copy. LWDISK_SEED makes the GUIDs stable, so
// the real run on both copies gives identical bytes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { lwdisk, lwdiskJson } from '../helpers/cli.js';
import { blkidProbe, missingTools, run, scratchDir, sparseImage, systemTestGuard } from '../helpers/system.js';
import { attachClean, head, kernelPartitions, MAGIC_RECORD, sha256Of as sha256 } from '../helpers/write.js';

const MiB = 1024 * 1024;
const SIZE = 160 * MiB;
const SEED = { LWDISK_SEED: 'dry-run-test', LWDISK_CMDLINE: '/dev/null' };
const SWAP_UUID = '3f1e2d3c-4b5a-4697-8877-665544332211';

const { dir, cleanup } = scratchDir('lwdisk-dry-run-');
t.teardown(cleanup);

interface Write {
  offset: number;
  length: number;
  what: string;
}

/**
 * Dry run on `a` (no --yes: a dry run never asks), real run on `b`, then the real run on `a` too.
 * Returns the real run's report.
 */
function dryEqualsReal(t: Test, cmd: string[], a: string, b: string, env: NodeJS.ProcessEnv = SEED): any {
  const before = sha256(a);
  const dry = lwdiskJson([...cmd, '--dry-run', '--json', a], { env });
  t.equal(dry.code, 0, `dry run exits 0 ${dry.stderr}`);
  t.equal(dry.json.dryRun, true, 'reported as a dry run');
  t.equal(sha256(a), before, 'the dry run left the device byte-identical');
  const real = lwdiskJson([...cmd, '--yes', '--json', b], { env });
  t.equal(real.code, 0, `real run exits 0 ${real.stderr}`);
  t.equal(real.json.dryRun, false);
  t.ok(real.json.writes.length > 0, `the real run wrote ${real.json.writes.length} pieces`);
  t.same(dry.json.writes, real.json.writes, 'dry-run writes (offset, length, what) = real writes');
  t.same({ ...dry.json, dryRun: null, path: null, partitions: null }, { ...real.json, dryRun: null, path: null, partitions: null }, 'the rest of the report agrees');
  const again = lwdiskJson([...cmd, '--yes', '--json', a], { env });
  t.equal(again.code, 0, 'real run on the first copy');
  t.same(again.json.writes, real.json.writes, 'same writes on the first copy');
  t.equal(sha256(a), sha256(b), 'both copies are byte-identical after the real runs (seeded GUIDs)');
  return real.json;
}

/** The shape every partition write list has: wipes, backup, primary, LBA 0 last. */
function checkPartitionWrites(t: Test, writes: Write[], ss: number): void {
  const whats = writes.map((w) => w.what);
  const firstNonWipe = whats.findIndex((w) => !w.startsWith('wipe: '));
  t.ok(firstNonWipe > 0, 'wipes come first');
  t.same(whats.slice(firstNonWipe), ['backup GPT entry array', 'backup GPT header', 'primary GPT entry array', 'primary GPT header', 'protective MBR (erases the magic header)'], 'then backup, primary, LBA 0 last');
  const tail = writes.slice(firstNonWipe);
  t.same(
    tail.slice(2).map((w) => [w.offset, w.length]),
    [
      [2 * ss, 16384],
      [ss, ss],
      [0, ss],
    ],
    `primary area at ${ss}-byte sectors`,
  );
  t.equal(tail[1]!.offset, SIZE - ss, 'backup header in the last sector');
}

t.test('image files', async (t) => {
  t.test('mark and unmark', async (t) => {
    const a = sparseImage(join(dir, 'mark-a.img'), 8 * MiB);
    const b = sparseImage(join(dir, 'mark-b.img'), 8 * MiB);
    const mark = dryEqualsReal(t, ['mark'], a, b);
    t.same(mark.writes, [{ offset: 0, length: 28, what: 'magic header (lightwhale-please-format-me\\n)' }], 'mark writes 28 bytes at 0 and nothing else');
    t.ok(head(b, 28).equals(MAGIC_RECORD), 'the record is there');
    const unmark = dryEqualsReal(t, ['unmark'], a, b);
    t.same(unmark.writes, [{ offset: 0, length: 28, what: 'zeros over the magic header' }], 'unmark zeroes the 28 bytes');
    t.ok(head(b, 28).equals(Buffer.alloc(28)), 'gone');
    // Human output of a dry run says "would write" and lists the same offsets.
    const text = lwdisk(['mark', '--dry-run', a]);
    t.equal(text.code, 0);
    t.match(text.stdout, /^would write .*mark-a\.img: /m, 'human dry run says "would write"');
    t.match(text.stdout, /^0\s+28\s/m, 'and lists offset 0, 28 bytes');
  });

  for (const ss of [512, 4096]) {
    t.test(`partition (${ss}-byte sectors${ss === 4096 ? ' via --sector-size' : ''})`, async (t) => {
      const a = sparseImage(join(dir, `part-${ss}-a.img`), SIZE);
      const b = sparseImage(join(dir, `part-${ss}-b.img`), SIZE);
      for (const img of [a, b]) t.equal(lwdisk(['mark', '--yes', img]).code, 0, 'mark');
      const extra = ss === 4096 ? ['--sector-size', '4096'] : [];
      const report = dryEqualsReal(t, ['partition', ...extra], a, b);
      t.equal(report.sectorSize, ss);
      t.same(
        report.partitions.map((p: any) => [p.number, p.name, p.start, p.size, p.path]),
        [
          [1, 'lightwhale-swap', MiB, 20 * MiB, null],
          [2, 'lightwhale-data', 21 * MiB, 138 * MiB, null],
        ],
        'layout: 20 MiB swap (160/8), data to 159 MiB; no partition nodes for an image',
      );
      checkPartitionWrites(t, report.writes, ss);
      t.ok(head(b, 440).equals(Buffer.alloc(440)), 'the magic is gone');
      // Our own reader sees the table at the right sector size.
      const scan = lwdiskJson(['scan', '--json', b]);
      const dev = scan.json.devices[0];
      t.same([dev.sectorSize, dev.table?.type, dev.table?.partitions.length, dev.table?.problems], [ss, 'gpt', 2, []], 'scan reads it back');
      if (ss === 512 && missingTools(['sgdisk']).length === 0) {
        const sg = run('sgdisk', ['-v', b]);
        t.match(sg.stdout, /No problems found/, 'sgdisk -v on the image');
      }
    });
  }

  t.test('partition --no-swap, --swap-size and noswap on the kernel command line', async (t) => {
    const a = sparseImage(join(dir, 'variants-a.img'), SIZE);
    const b = sparseImage(join(dir, 'variants-b.img'), SIZE);
    for (const img of [a, b]) t.equal(lwdisk(['mark', '--yes', img]).code, 0, 'mark');
    const cmdline = join(dir, 'cmdline');
    const layouts: Array<[string, string[], NodeJS.ProcessEnv, Array<[number, string, number, number]>]> = [
      ['--no-swap', ['--no-swap'], SEED, [[1, 'lightwhale-data', MiB, 158 * MiB]]],
      ['--swap-size 8M', ['--swap-size', '8M'], SEED, [[1, 'lightwhale-swap', MiB, 8 * MiB], [2, 'lightwhale-data', 9 * MiB, 150 * MiB]]],
      ['noswap', [], { ...SEED, LWDISK_CMDLINE: cmdline }, [[1, 'lightwhale-data', MiB, 158 * MiB]]],
    ];
    writeFileSync(cmdline, 'console=ttyS0 quiet lightwhale.noswap\n');
    const before = sha256(a);
    for (const [label, flags, env, want] of layouts) {
      const dry = lwdiskJson(['partition', ...flags, '--dry-run', '--json', a], { env });
      t.equal(dry.code, 0, `${label}: dry run ${dry.stderr}`);
      t.same(dry.json.partitions.map((p: any) => [p.number, p.name, p.start, p.size]), want, `${label}: planned layout`);
    }
    t.equal(sha256(a), before, 'no dry run wrote anything');
    const real = dryEqualsReal(t, ['partition'], a, b, { ...SEED, LWDISK_CMDLINE: cmdline });
    t.same(real.partitions.map((p: any) => p.name), ['lightwhale-data'], 'noswap: the real run writes the data partition only');
  });

  t.test('mkswap', async (t) => {
    const SWAP_AREA = 72 * MiB; // holds the btrfs mirror at 64 MiB
    const a = sparseImage(join(dir, 'swap-a.img'), SWAP_AREA);
    const b = sparseImage(join(dir, 'swap-b.img'), SWAP_AREA);
    const report = dryEqualsReal(t, ['mkswap', '--label', 'lightwhale-swap', '--uuid', SWAP_UUID], a, b);
    t.same([report.uuid, report.label], [SWAP_UUID, 'lightwhale-swap']);
    const last = report.writes[report.writes.length - 1];
    t.same([last.offset, last.length], [0, MiB], 'the header (first MiB) is written last');
    t.ok(report.writes.some((w: Write) => w.offset === 64 * MiB && w.length === 4096), 'the btrfs mirror at 64 MiB is wiped');
    t.ok(report.writes.some((w: Write) => w.offset === SWAP_AREA - MiB && w.length === MiB), 'the last MiB is wiped');
    if (missingTools(['blkid']).length === 0) {
      const b2 = blkidProbe(b);
      t.same([b2.TYPE, b2.LABEL, b2.UUID], ['swap', 'lightwhale-swap', SWAP_UUID], 'blkid -p on the image');
    }
    // Without --uuid the seed picks the UUID: still identical.
    const c = sparseImage(join(dir, 'swap-c.img'), SWAP_AREA);
    const d = sparseImage(join(dir, 'swap-d.img'), SWAP_AREA);
    const seeded = dryEqualsReal(t, ['mkswap'], c, d);
    t.match(seeded.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a random v4 UUID from the seed');
  });
});

t.test('loop devices', systemTestGuard(['partx', 'blkid']), async (t) => {
  for (const ss of [512, 4096]) {
    await t.test(`${ss}-byte sectors`, async (t) => {
      const la = attachClean(sparseImage(join(dir, `loop-${ss}-a.img`), SIZE), ss);
      let lb: ReturnType<typeof attachClean> | null = null;
      try {
        lb = attachClean(sparseImage(join(dir, `loop-${ss}-b.img`), SIZE), ss);
        const a = la.path;
        const b = lb.path;
        const mark = dryEqualsReal(t, ['mark'], a, b);
        t.same(mark.writes, [{ offset: 0, length: 28, what: 'magic header (lightwhale-please-format-me\\n)' }]);
        const part = dryEqualsReal(t, ['partition'], a, b);
        checkPartitionWrites(t, part.writes, ss);
        t.same(part.partitions.map((p: any) => p.path), [`${b}p1`, `${b}p2`], "the real run reports the partition nodes");
        t.same(kernelPartitions(b).map((p) => [p.number, p.start, p.size]), [[1, MiB, 20 * MiB], [2, 21 * MiB, 138 * MiB]], 'the kernel sees the partitions');
        const swap = dryEqualsReal(t, ['mkswap', '--label', 'lightwhale-swap', '--uuid', SWAP_UUID], `${a}p1`, `${b}p1`);
        t.same([swap.uuid, swap.label], [SWAP_UUID, 'lightwhale-swap']);
        t.equal(blkidProbe(`${b}p1`).TYPE, 'swap', 'blkid sees the swap');
        t.equal(sha256(a), sha256(b), 'the whole disks are identical');
      } finally {
        lb?.detach();
        la.detach();
      }
    });
  }
});
