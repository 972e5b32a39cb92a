// The one I/O seam. Everything that reads or writes device bytes goes through a BlockDevice:
// FileDevice (regular image files and block devices), MemoryDevice (unit tests) and
// RecordingDevice (--dry-run: the real code runs, writes are recorded and not applied).
import { LwdiskError } from '../errors.js';

export type DeviceKind = 'disk' | 'partition' | 'image';

export interface BlockDevice {
  /** What the user named (or a synthetic name for in-memory devices). */
  readonly path: string;
  readonly kind: DeviceKind;
  /** Size in bytes. */
  readonly size: number;
  /** Logical sector size. Image files report 512 until a probe finds a 4096-byte GPT. */
  readonly sectorSize: number;
  /** True when the sector size comes from the kernel (block devices). */
  readonly sectorSizeKnown: boolean;
  readonly writable: boolean;
  /** Read `length` bytes at `offset`; the result is shorter only at the end of the device. */
  read(offset: number, length: number): Promise<Buffer>;
  /** Write, fsync, then read back and compare. `what` names the structure for logs and dry-run. */
  write(offset: number, data: Uint8Array, what: string): Promise<void>;
  close(): Promise<void>;
}

/** One recorded or performed write. */
export interface WriteRecord {
  path: string;
  offset: number;
  length: number;
  what: string;
}

/** Counters at the seam (reads per probe are part of the performance contract). */
export const ioStats = { reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, syncs: 0 };

export function resetIoStats(): void {
  ioStats.reads = 0;
  ioStats.bytesRead = 0;
  ioStats.writes = 0;
  ioStats.bytesWritten = 0;
  ioStats.syncs = 0;
}

/**
 * Positions handed to FileHandle.read/write must be safe non-negative integers: Node 20 silently
 * uses the current file position for a bigint or unsafe number.
 */
export function checkRange(path: string, offset: number, length: number, size: number | null): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new LwdiskError('ELWD_IO', path, `offset ${String(offset)} is not a safe byte position`);
  if (!Number.isSafeInteger(length) || length < 0) throw new LwdiskError('ELWD_IO', path, `length ${String(length)} is not a safe byte count`);
  if (!Number.isSafeInteger(offset + length)) throw new LwdiskError('ELWD_IO', path, 'range end is not a safe byte position');
  if (size !== null && offset + length > size) throw new LwdiskError('ELWD_IO', path, `range ${offset}+${length} past the end of the device (${size} bytes)`);
}

/** Read a range, clamped to the device: reading past the end gives a shorter (maybe empty) buffer. */
export async function readClamped(dev: BlockDevice, offset: number, length: number): Promise<Buffer> {
  if (offset >= dev.size || length <= 0) return Buffer.alloc(0);
  return dev.read(offset, Math.min(length, dev.size - offset));
}
