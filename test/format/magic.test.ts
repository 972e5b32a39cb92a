// The Lightwhale magic header: 27 ASCII bytes at byte 0; byte 27 does not matter.
import t from 'tap';
import { hasMagic, MAGIC, MAGIC_LENGTH, MAGIC_RECORD, MAGIC_TEXT, UNMARK_RECORD } from '../../lib/format/magic.js';
import { fixtureRange } from '../helpers/fixtures.js';

t.test('the bytes', async (t) => {
  t.equal(MAGIC_TEXT, 'lightwhale-please-format-me');
  t.equal(MAGIC_LENGTH, 27);
  // research/formats.md §0
  t.equal(MAGIC.toString('hex'), '6C 69 67 68 74 77 68 61 6C 65 2D 70 6C 65 61 73 65 2D 66 6F 72 6D 61 74 2D 6D 65'.replace(/ /g, '').toLowerCase());
  t.equal(MAGIC_RECORD.toString('latin1'), 'lightwhale-please-format-me\n', 'what `echo … | dd` writes (28 bytes)');
  t.equal(MAGIC_RECORD.length, 28);
  t.same(UNMARK_RECORD, Buffer.alloc(28));
});

t.test('detection on fixtures made with `echo lightwhale-please-format-me | dd conv=notrunc`', async (t) => {
  for (const [name, want] of [
    ['magic-blank', true],
    ['magic-over-gpt', true],
    ['gpt-lightwhale-512', false],
    ['blank-magic-partitions', false],
    ['empty', false],
    ['ext4-whole', false],
  ] as const) {
    const head = await fixtureRange(name, 0, 512);
    t.equal(hasMagic(head), want, name);
  }
  const head = await fixtureRange('magic-over-gpt', 0, 512);
  t.equal(head[27], 0x0a, 'echo leaves a newline at byte 27');
  t.equal(head.readUInt16LE(510), 0xaa55, 'the old protective MBR survives the dd');
});

t.test('only the first 27 bytes count', async (t) => {
  const b = Buffer.alloc(512);
  MAGIC.copy(b);
  t.ok(hasMagic(b));
  for (const x of [0x00, 0x0a, 0x20, 0xff]) {
    b[27] = x;
    t.ok(hasMagic(b), `byte 27 = 0x${x.toString(16)}`);
  }
  t.ok(hasMagic(MAGIC), 'exactly 27 bytes');
  t.notOk(hasMagic(MAGIC.subarray(0, 26)), '26 bytes');
  t.notOk(hasMagic(Buffer.alloc(0)));
  const upper = Buffer.from(MAGIC_TEXT.toUpperCase());
  t.notOk(hasMagic(upper), 'case matters');
  const shifted = Buffer.concat([Buffer.from(' '), MAGIC]);
  t.notOk(hasMagic(shifted), 'at byte 0 only');
  // A view into a larger buffer (as probe passes subarrays).
  const big = Buffer.alloc(100);
  MAGIC.copy(big, 10);
  t.ok(hasMagic(big.subarray(10)));
  t.notOk(hasMagic(big.subarray(9)));
});
