// Swap header codec: parse what mkswap wrote (fixtures made with -U and -L), and build the same
// first page byte for byte; page sizes 4K..64K; label limits.
import t from 'tap';
import {
  buildSwapHeader,
  findSwapMagic,
  parseSwap,
  SWAP_PAGE_SIZES,
  swapLabelProblem,
  swapMagicOffset,
} from '../../lib/format/swap.js';
import { expectedScan, fixtureRange } from '../helpers/fixtures.js';

const MIB = 1024 * 1024;

/** mkswap's first page and the area size, for the swap partition or whole-disk swap of a fixture. */
async function mkswapPage(name: string): Promise<{ page: Buffer; size: number; fs: any }> {
  const dev = expectedScan(name).devices[0];
  const area = dev.table ? dev.table.partitions[0] : { start: 0, size: dev.size, filesystem: dev.filesystem };
  return { page: await fixtureRange(name, area.start, 4096), size: area.size, fs: area.filesystem };
}

const MKSWAP = [
  // mkswap -U … -L lightwhale-swap on the loop partition node (512 and 4096-byte sectors)
  { name: 'gpt-lightwhale-512', label: 'lightwhale-swap', uuid: '6c77646b-5a4b-4000-8000-000000000001', size: 8 * MIB },
  { name: 'gpt-lightwhale-4096', label: 'lightwhale-swap', uuid: '6c77646b-5a4b-4000-8000-000000000002', size: 8 * MIB },
  // mkswap -p 4096 -U … -L lw-swap-whole on a whole image file
  { name: 'swap-whole', label: 'lw-swap-whole', uuid: '6c77646b-5a4b-4000-8000-000000000013', size: 8 * MIB },
  // mkswap on a 4 MiB file dd-ed into partition 1
  { name: 'gpt-bad-primary-crc', label: 'lightwhale-swap', uuid: '6c77646b-5a4b-4000-8000-000000000020', size: 4 * MIB },
];

for (const c of MKSWAP) {
  t.test(`mkswap's header (${c.name})`, async (t) => {
    const { page, size, fs } = await mkswapPage(c.name);
    t.equal(size, c.size);
    const info = parseSwap(page, size);
    t.same(info, { version: 1, pageSize: 4096, lastPage: c.size / 4096 - 1, label: c.label, uuid: c.uuid, magic: 'SWAPSPACE2', problems: [] });
    t.match(fs, { type: 'swap', label: c.label, uuid: c.uuid, pageSize: 4096, version: 1 }, 'what scan reported (cross-checked with blkid)');
    const ours = buildSwapHeader({ pageSize: 4096, size, uuid: c.uuid, label: c.label });
    t.equal(ours.length, 4096);
    t.equal(ours.compare(page), 0, 'buildSwapHeader equals mkswap\'s first page byte for byte');
  });
}

t.test('page sizes 4K..64K round trip', async (t) => {
  for (const pageSize of SWAP_PAGE_SIZES) {
    const size = 64 * MIB + 12345;
    const page = buildSwapHeader({ pageSize, size, uuid: '01234567-89ab-cdef-0123-456789abcdef', label: 'x' });
    t.equal(page.length, pageSize);
    t.equal(page.toString('latin1', pageSize - 10), 'SWAPSPACE2', `magic at ${pageSize} - 10`);
    t.equal(swapMagicOffset(pageSize), pageSize - 10);
    t.ok(page.subarray(0, 1024).every((b) => b === 0), 'bootbits zero');
    t.same(findSwapMagic(page), { pageSize, magic: 'SWAPSPACE2' });
    t.same(parseSwap(page, size), {
      version: 1,
      pageSize,
      lastPage: Math.floor(size / pageSize) - 1,
      label: 'x',
      uuid: '01234567-89ab-cdef-0123-456789abcdef',
      magic: 'SWAPSPACE2',
      problems: [],
    });
  }
  t.throws(() => buildSwapHeader({ pageSize: 2048, size: MIB, uuid: '01234567-89ab-cdef-0123-456789abcdef', label: '' }), /unsupported page size/);
  t.throws(() => buildSwapHeader({ pageSize: 4096, size: 9 * 4096, uuid: '01234567-89ab-cdef-0123-456789abcdef', label: '' }), /at least 10 pages/);
  t.ok(buildSwapHeader({ pageSize: 4096, size: 10 * 4096, uuid: '01234567-89ab-cdef-0123-456789abcdef', label: '' }), '10 pages is mkswap\'s minimum');
  t.throws(() => buildSwapHeader({ pageSize: 4096, size: MIB, uuid: 'nope', label: '' }), /not a UUID/);
});

t.test('labels: at most 15 bytes, no control characters', async (t) => {
  const uuid = '01234567-89ab-cdef-0123-456789abcdef';
  t.equal(swapLabelProblem('lightwhale-swap'), null, '15 bytes fit');
  t.match(swapLabelProblem('lightwhale-swap!'), /16 bytes; swap labels hold at most 15/);
  t.match(swapLabelProblem('ääääääää'), /16 bytes/, 'counted in UTF-8 bytes, not characters');
  t.match(swapLabelProblem('a\nb'), /control character/);
  t.match(swapLabelProblem('a\0b'), /control character/);
  t.throws(() => buildSwapHeader({ pageSize: 4096, size: MIB, uuid, label: 'x'.repeat(16) }), /at most 15/);
  const page = buildSwapHeader({ pageSize: 4096, size: MIB, uuid, label: 'x'.repeat(15) });
  t.equal(page[0x41c + 15], 0, 'a 15-byte label keeps its NUL');
  t.equal(parseSwap(page, MIB)!.label, 'x'.repeat(15));
  t.equal(parseSwap(buildSwapHeader({ pageSize: 4096, size: MIB, uuid, label: 'päge' }), MIB)!.label, 'päge');
});

t.test('what parseSwap refuses or flags', async (t) => {
  const uuid = '01234567-89ab-cdef-0123-456789abcdef';
  const good = buildSwapHeader({ pageSize: 4096, size: 8 * MIB, uuid, label: 'lbl' });
  t.equal(parseSwap(Buffer.alloc(4096), MIB), null, 'no magic');
  t.match(parseSwap(good, 4 * MIB)!.problems, [/last_page 2047 beyond the device \(1024 pages\)/], 'header bigger than the device');
  const padded = Buffer.from(good);
  padded.writeUInt32LE(1, 0x42c + 32 * 4);
  t.match(parseSwap(padded, 8 * MIB), { label: '', uuid: '' }, 'padding[32] nonzero: no label/uuid (libblkid rule)');
  const v2 = Buffer.from(good);
  v2.writeUInt32LE(2, 0x400);
  t.match(parseSwap(v2, 8 * MIB)!.problems, ['swap version 2 is not 1']);
  const swapped = Buffer.from(good);
  swapped.writeUInt32BE(1, 0x400);
  swapped.writeUInt32BE(2047, 0x404);
  t.match(parseSwap(swapped, 8 * MIB), { version: 1, lastPage: 2047, problems: [] }, 'written by the other byte order');
  const zeroLast = Buffer.from(good);
  zeroLast.writeUInt32LE(0, 0x404);
  t.match(parseSwap(zeroLast, 8 * MIB)!.problems, ['swap last_page is 0']);
  const bad = Buffer.from(good);
  bad.writeUInt32LE(10000, 0x408);
  t.match(parseSwap(bad, 8 * MIB)!.problems, [/nr_badpages 10000 too large/]);
  const v0 = Buffer.from(good);
  v0.write('SWAP-SPACE', 4086, 'latin1');
  t.match(parseSwap(v0, 8 * MIB), { magic: 'SWAP-SPACE' });
  const suspend = Buffer.from(good);
  suspend.write('S1SUSPEND\0', 4086, 'latin1');
  t.same(findSwapMagic(suspend), { pageSize: 4096, magic: 'swsuspend' });
  t.equal(parseSwap(suspend, 8 * MIB), null, 'a hibernation image is not plain swap');
  t.equal(parseSwap(good.subarray(0, 1500), 8 * MIB), null, 'head too short for the magic');
});
