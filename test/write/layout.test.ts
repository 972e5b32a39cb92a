// The Lightwhale layout (SPEC "Partition layout written by lwdisk"), table-driven over both logical
// sector sizes: default swap policy, 1 MiB alignment in bytes, the data partition ending on the last
// 1 MiB boundary before the backup GPT, --no-swap numbering, and the exact too-small boundary.
// Expected numbers are worked out by hand from the SPEC formulas, not from the code.
import t, { type Test } from 'tap';
import { LwdiskError } from '../../lib/errors.js';
import { defaultSwapSize, layoutGpt, type LightwhaleLayout, planLayout } from '../../lib/layout.js';
import { DATA_PARTITION_NAME, LINUX_FS_TYPE, SWAP_PARTITION_NAME, SWAP_TYPE } from '../../lib/names.js';
import { seededRandom } from '../../lib/random.js';
import { cmdlineWantsNoSwap, parseCmdline } from '../../lib/system/proc.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const SECTOR_SIZES = [512, 4096] as const;
/** Entry-array sectors (128 × 128 bytes) per sector size. */
const E = { 512: 32, 4096: 4 } as const;
/** Bytes the backup GPT takes at the end (entries + header). */
const tailBytes = (ss: 512 | 4096): number => (E[ss] + 1) * ss;

t.test('default swap size: min(1 GiB, disk / 8), rounded down to 1 MiB', async (t) => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [7 * MiB, 0],
    [8 * MiB, 1 * MiB],
    [8 * MiB - 1, 0],
    [100 * MiB, 12 * MiB],
    [147 * MiB + 16896, 18 * MiB],
    [512 * MiB, 64 * MiB],
    [GiB, 128 * MiB],
    [8 * GiB - 1, 1023 * MiB],
    [8 * GiB, GiB],
    [20 * GiB, GiB],
    [4 * TiB, GiB],
  ];
  for (const [disk, swap] of cases) t.equal(defaultSwapSize(disk), swap, `${disk} bytes → ${swap / MiB} MiB`);
});

t.test('noswap on the kernel command line', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['console=ttyS0 root=LABEL=rootfs quiet', false],
    ['quiet noswap', true],
    ['lightwhale.noswap', true],
    ['lightwhale.noswap=1 ro', true],
    ['noswap=yes', true],
    ['noswapfile', false],
    ['lightwhale.noswapx', false],
    ['lightwhale.swap=0', false],
    ['init=/sbin/init "lightwhale.noswap"', true],
    ['', false],
  ];
  for (const [line, want] of cases) t.equal(cmdlineWantsNoSwap(parseCmdline(line)), want, JSON.stringify(line));
});

interface Expect {
  swap: [start: number, size: number] | null;
  data: [number: number, start: number, size: number];
}

/** Invariants every layout must satisfy, whatever the size. */
function checkInvariants(t: Test, l: LightwhaleLayout, size: number, ss: 512 | 4096): void {
  const N = BigInt(Math.floor(size / ss));
  t.equal(l.totalSectors, N, 'total sectors');
  const firstUsable = BigInt(2 + E[ss]);
  const lastUsable = N - BigInt(2 + E[ss]);
  const backupEntriesByte = Number(N - BigInt(1 + E[ss])) * ss;
  for (const p of [l.swap, l.data]) {
    if (!p) continue;
    t.equal(p.start % MiB, 0, `partition ${p.number} starts on a 1 MiB boundary`);
    t.equal(p.size % MiB, 0, `partition ${p.number} is whole MiB`);
    t.equal(Number(p.firstLba) * ss, p.start, `partition ${p.number} first LBA × ${ss} = start`);
    t.equal(Number(p.lastLba + 1n) * ss, p.start + p.size, `partition ${p.number} last LBA is inclusive`);
    t.ok(p.firstLba >= firstUsable && p.lastLba <= lastUsable, `partition ${p.number} inside ${firstUsable}..${lastUsable}`);
  }
  const dataEnd = l.data.start + l.data.size;
  t.ok(dataEnd <= backupEntriesByte, 'data ends before the backup entry array');
  t.ok(Number(lastUsable + 1n) * ss - dataEnd < MiB, 'data ends on the LAST 1 MiB boundary before the backup GPT');
  if (l.swap) t.equal(l.data.start, l.swap.start + l.swap.size, 'data follows swap directly');
  t.ok(l.data.size >= 128 * MiB, 'data keeps at least 128 MiB');
}

t.test('planLayout with the default swap policy', async (t) => {
  const cases: Array<{ size: number; label: string; want: Expect }> = [
    { size: 512 * MiB, label: '512 MiB', want: { swap: [MiB, 64 * MiB], data: [2, 65 * MiB, 446 * MiB] } },
    { size: GiB, label: '1 GiB', want: { swap: [MiB, 128 * MiB], data: [2, 129 * MiB, 894 * MiB] } },
    { size: 20 * GiB, label: '20 GiB', want: { swap: [MiB, GiB], data: [2, 1025 * MiB, (20 * 1024 - 1 - 1025) * MiB] } },
    { size: 4 * TiB, label: '4 TiB', want: { swap: [MiB, GiB], data: [2, 1025 * MiB, (4 * 1024 * 1024 - 1 - 1025) * MiB] } },
    // A size that is not a whole number of sectors or MiB: the data end still lands on a MiB boundary.
    { size: GiB + 1000, label: '1 GiB + 1000 bytes', want: { swap: [MiB, 128 * MiB], data: [2, 129 * MiB, 894 * MiB] } },
  ];
  for (const ss of SECTOR_SIZES) {
    for (const c of cases) {
      t.test(`${c.label} at ${ss}`, async (t) => {
        const l = planLayout('/dev/x', c.size, ss, defaultSwapSize(c.size));
        t.equal(l.sectorSize, ss);
        t.ok(l.swap, 'has swap');
        t.same([l.swap!.number, l.swap!.name, l.swap!.type, l.swap!.start, l.swap!.size], [1, SWAP_PARTITION_NAME, SWAP_TYPE, ...c.want.swap!]);
        t.same([l.data.number, l.data.name, l.data.type, l.data.start, l.data.size], [c.want.data[0], DATA_PARTITION_NAME, LINUX_FS_TYPE, c.want.data[1], c.want.data[2]]);
        t.equal(l.swap!.firstLba, BigInt(MiB / ss), 'swap at LBA 2048 (512) / 256 (4096)');
        checkInvariants(t, l, c.size, ss);
      });
    }
  }
});

t.test('--no-swap: the data partition is number 1 at 1 MiB', async (t) => {
  for (const ss of SECTOR_SIZES) {
    for (const [size, dataMiB] of [
      [512 * MiB, 510],
      [GiB, 1022],
      [20 * GiB, 20 * 1024 - 2],
    ] as const) {
      const l = planLayout('/dev/x', size, ss, 0);
      t.equal(l.swap, null, `${size / MiB} MiB at ${ss}: no swap`);
      t.same([l.data.number, l.data.start, l.data.size], [1, MiB, dataMiB * MiB], `${size / MiB} MiB at ${ss}: data 1 at 1 MiB, ${dataMiB} MiB`);
      checkInvariants(t, l, size, ss);
      // The GPT for it has the data partition in slot 0 (partition number 1).
      const gpt = layoutGpt(l, seededRandom('no-swap'));
      t.notOk(gpt.entries.subarray(0, 16).equals(Buffer.alloc(16)), 'slot 0 used');
      t.ok(gpt.entries.subarray(128, 256).equals(Buffer.alloc(128)), 'slot 1 empty');
    }
  }
});

t.test('an explicit swap size', async (t) => {
  for (const ss of SECTOR_SIZES) {
    const l = planLayout('/dev/x', GiB, ss, 256 * MiB);
    t.same([l.swap!.size, l.data.start, l.data.size], [256 * MiB, 257 * MiB, 766 * MiB], `256 MiB swap on 1 GiB at ${ss}`);
    const most = planLayout('/dev/x', GiB, ss, 894 * MiB);
    t.equal(most.data.size, 128 * MiB, `894 MiB swap on 1 GiB at ${ss} leaves exactly 128 MiB`);
    t.throws(() => planLayout('/dev/x', GiB, ss, 895 * MiB), { code: 'ELWD_TOO_SMALL' }, `895 MiB swap on 1 GiB at ${ss} refused`);
    t.throws(() => planLayout('/dev/x', GiB, ss, 2 * GiB), { code: 'ELWD_TOO_SMALL' }, `swap bigger than the disk at ${ss} refused`);
    t.throws(() => planLayout('/dev/x', GiB, ss, MiB + 512), { code: 'ELWD_USAGE' }, 'swap not whole MiB refused as usage');
  }
  t.throws(() => planLayout('/dev/x', GiB, 1024, 0), LwdiskError, 'sector size 1024 refused');
});

t.test('the exact too-small boundary (ELWD_TOO_SMALL, exit 3)', async (t) => {
  // Data must keep 128 MiB; the data end is aligned down to 1 MiB before the backup GPT
  // ((E + 1) sectors at the end). Default swap: floor(size / 8) → 18 MiB at 147 MiB, so
  // 1 + 18 + 128 = 147 MiB of aligned space plus the backup GPT is the smallest disk.
  // --no-swap: 1 + 128 = 129 MiB plus the backup GPT.
  for (const ss of SECTOR_SIZES) {
    const cases: Array<{ label: string; min: number; swap: (size: number) => number }> = [
      { label: 'default swap', min: 147 * MiB + tailBytes(ss), swap: defaultSwapSize },
      { label: '--no-swap', min: 129 * MiB + tailBytes(ss), swap: () => 0 },
    ];
    for (const c of cases) {
      const ok = planLayout('/dev/x', c.min, ss, c.swap(c.min));
      t.equal(ok.data.size, 128 * MiB, `${c.label} at ${ss}: ${c.min} bytes leave exactly 128 MiB`);
      const small = c.min - ss;
      let err: unknown;
      try {
        planLayout('/dev/small', small, ss, c.swap(small));
      } catch (e) {
        err = e;
      }
      t.ok(err instanceof LwdiskError, `${c.label} at ${ss}: ${small} bytes refused`);
      const e = err as LwdiskError;
      t.equal(e.code, 'ELWD_TOO_SMALL');
      t.equal(e.exitCode, 3);
      t.equal(e.what, '/dev/small');
      t.match(e.why, /127 MiB for data/, 'says how much is left');
      t.match(e.why, /at least 128 MiB/, 'says what is needed');
    }
  }
  t.throws(() => planLayout('/dev/x', 100 * MiB, 512, defaultSwapSize(100 * MiB)), { code: 'ELWD_TOO_SMALL' }, '100 MiB refused');
  t.throws(() => planLayout('/dev/x', 0, 512, 0), { code: 'ELWD_TOO_SMALL' }, 'empty device refused');
  t.throws(() => planLayout('/dev/x', 40 * 1024, 4096, 0), { code: 'ELWD_TOO_SMALL' }, 'a device smaller than a GPT refused');
});

t.test('layoutGpt is deterministic for a seed and random otherwise', async (t) => {
  for (const ss of SECTOR_SIZES) {
    const l = planLayout('/dev/x', GiB, ss, defaultSwapSize(GiB));
    const a = layoutGpt(l, seededRandom('s'));
    const b = layoutGpt(l, seededRandom('s'));
    const c = layoutGpt(l, seededRandom('other'));
    t.ok(a.primaryHeader.equals(b.primaryHeader) && a.entries.equals(b.entries), `same seed, same bytes (${ss})`);
    t.notOk(a.entries.equals(c.entries), `another seed, other GUIDs (${ss})`);
    t.notOk(a.primaryHeader.subarray(56, 72).equals(c.primaryHeader.subarray(56, 72)), `another seed, other disk GUID (${ss})`);
  }
});
