// `lwdisk scan --json /dev/loopN` against `blkid -p -o export` of the disk and of each partition
// node, on loop devices whose tables and filesystems were made by the real tools (sgdisk, sfdisk,
// mkswap, mkfs.btrfs, mkfs.ext4, mkfs.vfat), at logical sector sizes 512 and 4096; plus a
// two-device btrfs raid1 and an MBR disk. Every field compared is counted; the totals are printed
// with t.comment ("N/M fields agree").
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { lwdiskJson } from '../helpers/cli.js';
import { attachLoop, blkidProbe, type Loop, partxUpdate, scratchDir, sh, sparseImage, systemTestGuard } from '../helpers/system.js';

const MIB = 1024 * 1024;
const SWAP_TYPE = '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f';
const LINUX_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';
const TOOLS = ['sgdisk', 'sfdisk', 'partx', 'blkid', 'mkswap', 'mkfs.btrfs', 'mkfs.ext4', 'mkfs.vfat'];

const guard = systemTestGuard(TOOLS);
const scratch = guard.skip ? null : scratchDir('lwdisk-scan-vs-blkid-');
t.teardown(() => scratch?.cleanup());

const totals = { agreed: 0, compared: 0 };

/** Counts agreements; every comparison is also an assertion. */
class Tally {
  agreed = 0;
  compared = 0;
  constructor(private readonly t: Test) {}
  same(what: string, ours: unknown, theirs: unknown): void {
    this.compared++;
    if (ours === theirs) this.agreed++;
    this.t.equal(ours, theirs, what);
  }
  report(label: string): void {
    this.t.comment(`${label}: ${this.agreed}/${this.compared} fields agree with blkid`);
    totals.agreed += this.agreed;
    totals.compared += this.compared;
  }
}

/** Attach, run `body`, always detach. */
async function withLoops<T>(images: Array<{ path: string; sectorSize: number }>, body: (loops: Loop[]) => Promise<T> | T): Promise<T> {
  const loops: Loop[] = [];
  try {
    for (const i of images) loops.push(attachLoop(i.path, { sectorSize: i.sectorSize, partscan: true }));
    return await body(loops);
  } finally {
    for (const l of loops.reverse()) l.detach();
  }
}

/** Ask the kernel for the partitions (partx; this kernel has no table parsers) and wait for the nodes. */
async function partitionNodes(loop: string, n: number): Promise<string[]> {
  partxUpdate(loop);
  const nodes = Array.from({ length: n }, (_, i) => `${loop}p${i + 1}`);
  for (let tries = 0; !nodes.every(existsSync); tries++) {
    if (tries > 100) throw new Error(`partition nodes of ${loop} did not appear: ${nodes.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return nodes;
}

const optional = (v: string | undefined): string | null => (v === undefined ? null : v);

/** Compare one scanned whole disk with blkid of the disk and of each partition node. */
function compareDisk(t: Test, tally: Tally, dev: any, loop: string, sectorSize: number): void {
  t.match(dev, { path: loop, kind: 'disk', sectorSize, inUse: false }, 'disk facts');
  const disk = blkidProbe(loop);
  tally.same('PTTYPE vs table type', dev.table ? (dev.table.type === 'mbr' ? 'dos' : dev.table.type) : null, optional(disk.PTTYPE));
  tally.same('PTUUID vs table id', dev.table?.id ?? null, optional(disk.PTUUID));
  for (const p of dev.table?.partitions ?? []) {
    const node = `${loop}p${p.number}`;
    const b = blkidProbe(node);
    tally.same(`p${p.number} path`, p.path, node);
    tally.same(`p${p.number} PART_ENTRY_NUMBER`, String(p.number), b.PART_ENTRY_NUMBER);
    tally.same(`p${p.number} PART_ENTRY_OFFSET×512 vs start`, p.start, Number(b.PART_ENTRY_OFFSET) * 512);
    tally.same(`p${p.number} PART_ENTRY_SIZE×512 vs size`, p.size, Number(b.PART_ENTRY_SIZE) * 512);
    tally.same(`p${p.number} PART_ENTRY_TYPE`, p.type, b.PART_ENTRY_TYPE);
    tally.same(`p${p.number} PART_ENTRY_UUID`, p.uuid, b.PART_ENTRY_UUID);
    tally.same(`p${p.number} PART_ENTRY_NAME`, p.name, optional(b.PART_ENTRY_NAME));
    tally.same(`p${p.number} TYPE`, p.filesystem?.type ?? null, optional(b.TYPE));
    tally.same(`p${p.number} LABEL`, p.filesystem?.label ?? null, optional(b.LABEL));
    tally.same(`p${p.number} UUID`, p.filesystem?.uuid ?? null, optional(b.UUID));
    tally.same(`p${p.number} UUID_SUB`, p.filesystem?.uuidSub ?? null, optional(b.UUID_SUB));
    t.same(p.problems, [], `p${p.number}: no problems`);
  }
  t.same(dev.problems, [], 'disk: no problems');
  t.same(dev.table?.problems ?? [], [], 'table: no problems');
}

/** Scan partition nodes directly: kind partition, same filesystem as blkid. */
function comparePartitionNodes(t: Test, tally: Tally, nodes: string[], sectorSize: number): void {
  const { code, json } = lwdiskJson(['scan', '--json', ...nodes]);
  t.equal(code, 0, 'scan of the partition nodes exits 0');
  json.devices.forEach((d: any, i: number) => {
    const node = nodes[i]!;
    const b = blkidProbe(node);
    t.match(d, { path: node, kind: 'partition', sectorSize, table: null }, `${node} scanned on its own`);
    tally.same(`${node} TYPE`, d.filesystem?.type ?? null, optional(b.TYPE));
    tally.same(`${node} LABEL`, d.filesystem?.label ?? null, optional(b.LABEL));
    tally.same(`${node} UUID`, d.filesystem?.uuid ?? null, optional(b.UUID));
    tally.same(`${node} UUID_SUB`, d.filesystem?.uuidSub ?? null, optional(b.UUID_SUB));
  });
}

/** GPT with swap + btrfs, written by sgdisk (512) or sfdisk (4096) on the loop device itself. */
function writeGpt(loop: string, tool: 'sgdisk' | 'sfdisk'): void {
  if (tool === 'sgdisk') {
    sh('sgdisk', ['-n', '1:1M:+32M', '-t', '1:8200', '-c', '1:lightwhale-swap', '-n', '2:0:0', '-t', '2:8300', '-c', '2:lightwhale-data', loop]);
  } else {
    sh('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', loop], {
      input: `label: gpt\nsize=32MiB, type=${SWAP_TYPE.toUpperCase()}, name=lightwhale-swap\ntype=${LINUX_TYPE.toUpperCase()}, name=lightwhale-data\n`,
    });
  }
}

t.test('scan vs blkid', guard, async (t) => {
  const dir = scratch!.dir;

  for (const [sectorSize, tool] of [
    [512, 'sgdisk'],
    [4096, 'sfdisk'],
  ] as const) {
    await t.test(`GPT (${tool}) + swap + btrfs at ${sectorSize}-byte sectors`, async (t) => {
      const img = sparseImage(join(dir, `gpt-${sectorSize}.img`), 256 * MIB);
      await withLoops([{ path: img, sectorSize }], async ([loop]) => {
        writeGpt(loop!.path, tool);
        const [p1, p2] = await partitionNodes(loop!.path, 2);
        sh('mkswap', ['-L', 'lightwhale-swap', p1!]);
        sh('mkfs.btrfs', ['-q', '-f', '-L', 'lightwhale-data', p2!]);
        const { code, json } = lwdiskJson(['scan', '--json', loop!.path]);
        t.equal(code, 0);
        const dev = json.devices[0];
        const tally = new Tally(t);
        compareDisk(t, tally, dev, loop!.path, sectorSize);
        comparePartitionNodes(t, tally, [p1!, p2!], sectorSize);
        tally.report(`${sectorSize}-byte sectors (${tool})`);
        t.match(dev, { role: 'partitioned', magic: false, table: { type: 'gpt', sectorSize } });
        t.match(dev.table.partitions, [
          { number: 1, start: MIB, size: 32 * MIB, name: 'lightwhale-swap', type: SWAP_TYPE, role: 'magic-swap-partition', filesystem: { type: 'swap', label: 'lightwhale-swap', pageSize: 4096 } },
          { number: 2, start: 33 * MIB, name: 'lightwhale-data', type: LINUX_TYPE, role: 'data-filesystem', filesystem: { type: 'btrfs', label: 'lightwhale-data', devid: 1, numDevices: 1 } },
        ]);
        // inspect agrees with itself: both headers read and valid.
        const inspect = lwdiskJson(['inspect', '--json', '--check', loop!.path]);
        t.equal(inspect.code, 0, `inspect --check: ${inspect.stderr.trim()}`);
        t.match(inspect.json.gpt, { sectorSize, primary: { valid: true }, backup: { valid: true } });
      });
    });
  }

  await t.test('two-device btrfs raid1 over two GPT disks', async (t) => {
    const images = ['a', 'b'].map((n) => ({ path: sparseImage(join(dir, `raid1-${n}.img`), 160 * MIB), sectorSize: 512 }));
    await withLoops(images, async (loops) => {
      const data: string[] = [];
      for (const l of loops) {
        writeGpt(l.path, 'sgdisk');
        const [p1, p2] = await partitionNodes(l.path, 2);
        sh('mkswap', ['-L', 'lightwhale-swap', p1!]);
        data.push(p2!);
      }
      sh('mkfs.btrfs', ['-q', '-f', '-L', 'lightwhale-data', '-d', 'raid1', '-m', 'raid1', ...data]);
      const { code, json } = lwdiskJson(['scan', '--json', ...loops.map((l) => l.path)]);
      t.equal(code, 0);
      const tally = new Tally(t);
      json.devices.forEach((dev: any, i: number) => compareDisk(t, tally, dev, loops[i]!.path, 512));
      tally.report('raid1 (2 disks)');
      const [a, b] = json.devices.map((d: any) => d.table.partitions[1].filesystem);
      t.equal(a.uuid, b.uuid, 'one filesystem');
      t.not(a.uuidSub, b.uuidSub, 'two devices');
      t.same([a.devid, b.devid, a.numDevices, b.numDevices], [1, 2, 2, 2]);
      t.same(json.devices.map((d: any) => d.table.partitions[1].role), ['data-filesystem', 'data-filesystem']);
    });
  });

  await t.test('MBR (sfdisk) with ext4 and vfat', async (t) => {
    const img = sparseImage(join(dir, 'mbr.img'), 64 * MIB);
    await withLoops([{ path: img, sectorSize: 512 }], async ([loop]) => {
      sh('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', loop!.path], { input: 'label: dos\nlabel-id: 0x1234abcd\n1MiB,32MiB,83\n,,c\n' });
      const [p1, p2] = await partitionNodes(loop!.path, 2);
      sh('mkfs.ext4', ['-q', '-F', '-L', 'lw-ext4', p1!]);
      sh('mkfs.vfat', ['-n', 'LWFAT', p2!]);
      const { code, json } = lwdiskJson(['scan', '--json', loop!.path]);
      t.equal(code, 0);
      const dev = json.devices[0];
      const tally = new Tally(t);
      compareDisk(t, tally, dev, loop!.path, 512);
      comparePartitionNodes(t, tally, [p1!, p2!], 512);
      tally.report('MBR + ext4 + vfat');
      t.match(dev.table, { type: 'mbr', id: '1234abcd', partitions: [{ type: '0x83', uuid: '1234abcd-01', role: 'foreign', filesystem: { type: 'ext4' } }, { type: '0xc', uuid: '1234abcd-02', role: 'foreign', filesystem: { type: 'vfat' } }] });
    });
  });

  t.comment(`all cases: ${totals.agreed}/${totals.compared} fields agree with blkid`);
});
