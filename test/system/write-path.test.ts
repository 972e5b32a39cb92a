// System test of the write path on loop devices we create (SPEC "Partition layout written by
// lwdisk"; issue 3 "Tests"): at logical sector sizes 512 and 4096 and disks of 512 MiB, 1 GiB and a
// sparse 20 GiB, `lwdisk mark` + `lwdisk partition` give a table that sgdisk -v and
// sfdisk --verify accept, that the kernel (via partx) and blkid see with our names, types and
// offsets, and that no longer carries the magic; `lwdisk mkswap` gives a swap area blkid reports
// with our label and UUID and swapon accepts. What the tools said is recorded with t.comment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { lwdisk, lwdiskJson } from '../helpers/cli.js';
import { blkidProbe, run, scratchDir, sparseImage, systemTestGuard } from '../helpers/system.js';
import { attachClean, head, isActiveSwap, kernelName, kernelPartitions, MAGIC_RECORD, swapoffIfActive } from '../helpers/write.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SWAP_UUID = '6c77ddf1-5e4a-4b1d-9a3e-0123456789ab';
const SWAP_TYPE = '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f';
const DATA_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';

// Expected layout per disk size (SPEC: swap min(1 GiB, size/8) at 1 MiB, data to the last 1 MiB
// boundary before the backup GPT), in MiB: [swap start, swap size, data start, data size].
const CASES: Array<{ label: string; size: number; want: [number, number, number, number] }> = [
  { label: '512 MiB', size: 512 * MiB, want: [1, 64, 65, 446] },
  { label: '1 GiB', size: GiB, want: [1, 128, 129, 894] },
  { label: '20 GiB (sparse)', size: 20 * GiB, want: [1, 1024, 1025, 19454] },
];

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';
const oneLine = (s: string): string => s.trim().replace(/\s*\n\s*/g, ' / ');

t.test('mark → partition → mkswap on loop devices', systemTestGuard(['sgdisk', 'sfdisk', 'blkid', 'partx', 'swapon', 'swapoff']), async (t) => {
  const { dir, cleanup } = scratchDir('lwdisk-write-path-');
  t.teardown(cleanup);
  for (const ss of [512, 4096]) {
    for (const c of CASES) {
      await t.test(`${c.label} at ${ss}-byte sectors`, async (t) => {
        const image = sparseImage(join(dir, `disk-${ss}-${c.size}.img`), c.size);
        const loop = attachClean(image, ss);
        const p1 = `${loop.path}p1`;
        try {
          const name = kernelName(loop.path);
          t.equal(Number(readFileSync(`/sys/class/block/${name}/queue/logical_block_size`, 'utf8')), ss, 'loop has the sector size');

          const mark = lwdisk(['mark', '--yes', loop.path]);
          t.equal(mark.code, 0, `mark exits 0 ${mark.stderr}`);
          t.ok(head(loop.path, 28).equals(MAGIC_RECORD), 'mark wrote the 28-byte magic record');

          const part = lwdiskJson(['partition', '--yes', '--json', loop.path]);
          t.equal(part.code, 0, `partition exits 0 ${part.stderr}`);
          t.same(
            part.json.partitions.map((p: any) => [p.number, p.name, p.start, p.size, p.path]),
            [
              [1, 'lightwhale-swap', c.want[0] * MiB, c.want[1] * MiB, p1],
              [2, 'lightwhale-data', c.want[2] * MiB, c.want[3] * MiB, `${loop.path}p2`],
            ],
            'partition reports the layout and the nodes',
          );

          // The table as other tools see it.
          const sg = run('sgdisk', ['-v', loop.path]);
          t.equal(sg.code, 0, 'sgdisk -v exits 0');
          t.match(sg.stdout, /No problems found/, 'sgdisk -v: No problems found');
          const sf = run('sfdisk', ['--verify', loop.path]);
          t.equal(sf.code, 0, 'sfdisk --verify exits 0');
          t.match(sf.stdout, /No errors detected/, 'sfdisk --verify: No errors detected');
          t.notMatch(sf.stdout + sf.stderr, /warning|mismatch|corrupt/i, 'sfdisk has no warnings');

          // The kernel (partitions added by lwdisk's partx run) and blkid.
          const kparts = kernelPartitions(loop.path);
          t.same(
            kparts.map((p) => [p.number, p.start, p.size]),
            [
              [1, c.want[0] * MiB, c.want[1] * MiB],
              [2, c.want[2] * MiB, c.want[3] * MiB],
            ],
            'the kernel has exactly two partitions at our offsets (/sys/class/block/…/start,size)',
          );
          const blkids = [1, 2].map((n) => blkidProbe(`${loop.path}p${n}`));
          for (const [i, [name, type, start, size]] of [
            ['lightwhale-swap', SWAP_TYPE, c.want[0], c.want[1]],
            ['lightwhale-data', DATA_TYPE, c.want[2], c.want[3]],
          ].entries() as IterableIterator<[number, [string, string, number, number]]>) {
            const b = blkids[i]!;
            t.same(
              [b.PART_ENTRY_SCHEME, b.PART_ENTRY_NAME, b.PART_ENTRY_TYPE, b.PART_ENTRY_NUMBER, b.PART_ENTRY_OFFSET, b.PART_ENTRY_SIZE],
              ['gpt', name, type, String(i + 1), String((start * MiB) / 512), String((size * MiB) / 512)],
              `blkid -p partition ${i + 1}: name, type, number, offset and size (512-byte units)`,
            );
            t.notOk(b.TYPE, `partition ${i + 1} is blank (no filesystem signature)`);
          }
          t.ok(head(loop.path, 27).equals(Buffer.alloc(27)), 'the magic is gone (first 27 bytes zero)');
          t.ok(head(loop.path, 440).equals(Buffer.alloc(440)), 'bytes 0..439 zero');

          // mkswap on partition 1.
          const mk = lwdisk(['mkswap', '--label', 'lightwhale-swap', '--uuid', SWAP_UUID, '--yes', p1]);
          t.equal(mk.code, 0, `mkswap exits 0 ${mk.stderr}`);
          const sw = blkidProbe(p1);
          t.same([sw.TYPE, sw.LABEL, sw.UUID, sw.VERSION], ['swap', 'lightwhale-swap', SWAP_UUID, '1'], 'blkid -p: TYPE=swap with our LABEL and UUID');
          const on = run('swapon', [p1]);
          t.equal(on.code, 0, `swapon accepts it ${on.stderr}`);
          t.ok(isActiveSwap(p1), 'listed in /proc/swaps');
          const off = run('swapoff', [p1]);
          t.equal(off.code, 0, 'swapoff');
          t.equal(run('sgdisk', ['-v', loop.path]).code, 0, 'the table is still fine after mkswap');

          const note =
            `${c.label} @ ${ss}: sgdisk -v (exit ${sg.code}): "${oneLine(sg.stdout)}"; ` +
            `sfdisk --verify (exit ${sf.code}): "${oneLine(sf.stdout)}"; ` +
            `blkid p1: PART_ENTRY_NAME=${blkids[0]!.PART_ENTRY_NAME} OFFSET=${blkids[0]!.PART_ENTRY_OFFSET} SIZE=${blkids[0]!.PART_ENTRY_SIZE}, ` +
            `p2: PART_ENTRY_NAME=${blkids[1]!.PART_ENTRY_NAME} OFFSET=${blkids[1]!.PART_ENTRY_OFFSET} SIZE=${blkids[1]!.PART_ENTRY_SIZE}; ` +
            `after mkswap TYPE=${sw.TYPE} LABEL=${sw.LABEL} UUID=${sw.UUID} VERSION=${sw.VERSION}; ` +
            `swapon exit ${on.code}${on.stderr.trim() ? ` "${firstLine(on.stderr)}"` : ''}, swapoff exit ${off.code}`;
          t.comment(note);

          if (c.size === 512 * MiB) {
            // Re-claiming a partitioned disk with --no-swap: the kernel must end up with exactly the
            // new single partition (a stale partition 2 must not survive, nor block the new 1).
            t.equal(lwdisk(['mark', '--yes', '--force', loop.path]).code, 0, 'mark --force over the table');
            const again = lwdisk(['partition', '--yes', '--no-swap', loop.path]);
            t.equal(again.code, 0, `partition --no-swap ${again.stderr}`);
            t.same(kernelPartitions(loop.path).map((p) => [p.number, p.start, p.size]), [[1, MiB, 510 * MiB]], 'the kernel now has one partition: data at 1 MiB');
            const d = blkidProbe(p1);
            t.same([d.PART_ENTRY_NAME, d.PART_ENTRY_TYPE, d.TYPE], ['lightwhale-data', DATA_TYPE, undefined], 'partition 1 is the blank data partition (old swap header wiped)');
            t.match(run('sgdisk', ['-v', loop.path]).stdout, /No problems found/, 'sgdisk -v after re-partitioning');
          }
        } finally {
          swapoffIfActive(p1);
          loop.detach();
        }
      });
    }
  }
});
