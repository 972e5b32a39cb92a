// Shared helpers for the struct definitions: a lossless 64-bit field (buffer-layout's nu64 rounds
// above 2^53), span assertions, and safe conversions between bigint fields and byte offsets.
import * as BL from 'buffer-layout';

/** Little-endian unsigned 64-bit field decoded as a bigint. */
class U64LE extends BL.Layout<bigint> {
  constructor(property?: string) {
    super(8, property);
  }
  override decode(b: Uint8Array, offset = 0): bigint {
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64LE(offset);
  }
  override encode(src: bigint, b: Uint8Array, offset = 0): number {
    Buffer.from(b.buffer, b.byteOffset, b.byteLength).writeBigUInt64LE(BigInt.asUintN(64, src), offset);
    return 8;
  }
}

/** Big-endian unsigned 64-bit field decoded as a bigint. */
class U64BE extends BL.Layout<bigint> {
  constructor(property?: string) {
    super(8, property);
  }
  override decode(b: Uint8Array, offset = 0): bigint {
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64BE(offset);
  }
  override encode(src: bigint, b: Uint8Array, offset = 0): number {
    Buffer.from(b.buffer, b.byteOffset, b.byteLength).writeBigUInt64BE(BigInt.asUintN(64, src), offset);
    return 8;
  }
}

export const u64 = (property?: string): BL.Layout<bigint> => new U64LE(property);
export const u64be = (property?: string): BL.Layout<bigint> => new U64BE(property);

/** Throws at module load when a struct definition does not have the size of its C original. */
export function assertSpan(layout: BL.Layout, expected: number, name: string): void {
  if (layout.span !== expected) throw new Error(`${name}: layout span ${layout.span} != ${expected}`);
}

/** Throws at module load when a field is not where the C struct has it. */
export function assertOffset(layout: BL.Structure, field: string, expected: number, name: string): void {
  const at = layout.offsetOf(field);
  if (at !== expected) throw new Error(`${name}.${field}: offset ${at} != ${expected}`);
}

/** A bigint that fits a safe JavaScript number, else null. */
export function toSafeNumber(value: bigint): number | null {
  return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}

/** Copy of a byte range, zero-padded when the source is shorter (truncated reads). */
export function sliceCopy(buf: Uint8Array, start: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  if (start < buf.length) Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).copy(out, 0, start, Math.min(buf.length, start + length));
  return out;
}

/** True when `buf` holds at least `end` bytes. */
export const covers = (buf: Uint8Array, end: number): boolean => buf.length >= end;

/** NUL-terminated byte string → text (latin1 for ASCII fields, utf8 for labels). */
export function cString(bytes: Uint8Array, encoding: 'utf8' | 'latin1' = 'utf8'): { text: string; terminated: boolean } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nul = b.indexOf(0);
  return { text: b.subarray(0, nul < 0 ? b.length : nul).toString(encoding), terminated: nul >= 0 };
}

export const isAllZero = (bytes: Uint8Array): boolean => bytes.every((x) => x === 0);
