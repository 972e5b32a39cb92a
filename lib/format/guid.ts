// GUID/UUID text <-> bytes. GPT stores GUIDs mixed-endian (UEFI 2.x §5.3, EFI_GUID: time_low,
// time_mid, time_hi_and_version little-endian, the last 8 bytes as-is); btrfs and swap store UUIDs
// in plain RFC-4122 byte order. Never validate version/variant of GUIDs read from disk: util-linux
// 2.32-2.38 wrote random GPT GUIDs in the wrong byte order.

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isGuidText = (text: string): boolean => GUID_RE.test(text);

/** 16 raw bytes in RFC-4122 order → lowercase canonical text. */
export function uuidFromBytes(bytes: Uint8Array): string {
  const h = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Canonical text → 16 raw bytes in RFC-4122 order. */
export function uuidToBytes(text: string): Buffer {
  if (!isGuidText(text)) throw new RangeError(`not a UUID: ${JSON.stringify(text)}`);
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}

/** Swap the first three fields' byte order (its own inverse). */
function mixEndian(b: Buffer): Buffer {
  const out = Buffer.from(b);
  out[0] = b[3]!;
  out[1] = b[2]!;
  out[2] = b[1]!;
  out[3] = b[0]!;
  out[4] = b[5]!;
  out[5] = b[4]!;
  out[6] = b[7]!;
  out[7] = b[6]!;
  return out;
}

/** 16 mixed-endian bytes (EFI_GUID) → lowercase canonical text. */
export const guidFromBytes = (bytes: Uint8Array): string => uuidFromBytes(mixEndian(Buffer.from(bytes.buffer, bytes.byteOffset, 16)));

/** Canonical text → 16 mixed-endian bytes (EFI_GUID). */
export const guidToBytes = (text: string): Buffer => mixEndian(uuidToBytes(text));

export const NIL_GUID = '00000000-0000-0000-0000-000000000000';

/**
 * A random version-4 GUID from 16 random bytes. Taking the bytes as an argument keeps this module
 * pure; callers pass crypto.randomBytes(16) or a seeded source for golden tests.
 */
export function guidFromRandom(random: Uint8Array): string {
  if (random.length < 16) throw new RangeError('need 16 random bytes');
  const b = Buffer.from(random.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return uuidFromBytes(b);
}
