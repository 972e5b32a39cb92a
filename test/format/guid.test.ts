import t from 'tap';
import { guidFromBytes, guidToBytes, guidFromRandom, uuidFromBytes, uuidToBytes } from '../../lib/format/guid.js';

t.test('GPT GUIDs are mixed-endian (UEFI EFI_GUID)', async (t) => {
  const cases: Array<[string, string]> = [
    ['0657fd6d-a4ab-43c4-84e5-0933c84b4f4f', '6dfd5706aba4c44384e50933c84b4f4f'],
    ['0fc63daf-8483-4772-8e79-3d69d8477de4', 'af3dc60f838472478e793d69d8477de4'],
    ['c12a7328-f81f-11d2-ba4b-00a0c93ec93b', '28732ac11ff8d211ba4b00a0c93ec93b'],
  ];
  for (const [text, hex] of cases) {
    t.equal(guidToBytes(text).toString('hex'), hex, `${text} → bytes`);
    t.equal(guidFromBytes(Buffer.from(hex, 'hex')), text, `bytes → ${text}`);
  }
});

t.test('plain UUIDs keep RFC-4122 byte order', async (t) => {
  const text = '01234567-89ab-cdef-0123-456789abcdef';
  t.equal(uuidToBytes(text).toString('hex'), '0123456789abcdef0123456789abcdef');
  t.equal(uuidFromBytes(uuidToBytes(text)), text);
  t.throws(() => uuidToBytes('not-a-uuid'));
});

t.test('random GUIDs are version 4, variant 10', async (t) => {
  const g = guidFromRandom(Buffer.alloc(16, 0xff));
  t.match(g, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.throws(() => guidFromRandom(Buffer.alloc(8)));
});
