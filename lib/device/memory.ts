// In-memory BlockDevice for unit tests: sparse (64 KiB chunks, unwritten bytes read as zero), so a
// 20 GiB "disk" costs only what is written. Counts reads and writes like the real one.
import { LwdiskError } from '../errors.js';
import { type BlockDevice, type DeviceKind, checkRange, ioStats } from './block-device.js';

const CHUNK = 64 * 1024;

export class MemoryDevice implements BlockDevice {
  readonly path: string;
  readonly kind: DeviceKind;
  readonly size: number;
  readonly sectorSize: number;
  readonly sectorSizeKnown: boolean;
  readonly writable = true;
  private readonly chunks = new Map<number, Buffer>();
  /** Every read as [offset, length], for I/O-shape tests. */
  readonly readLog: Array<[number, number]> = [];

  constructor(size: number, options: { sectorSize?: number; sectorSizeKnown?: boolean; path?: string; kind?: DeviceKind; content?: Uint8Array } = {}) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('bad size');
    this.size = size;
    this.sectorSize = options.sectorSize ?? 512;
    this.sectorSizeKnown = options.sectorSizeKnown ?? options.sectorSize !== undefined;
    this.path = options.path ?? `memory:${size}`;
    this.kind = options.kind ?? 'image';
    if (options.content) this.poke(0, options.content.subarray(0, size));
  }

  /** Write without counting, checks or fsync semantics (test setup). */
  poke(offset: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const idx = Math.floor(pos / CHUNK);
      const within = pos % CHUNK;
      const n = Math.min(CHUNK - within, data.length - done);
      let chunk = this.chunks.get(idx);
      if (!chunk) {
        chunk = Buffer.alloc(CHUNK);
        this.chunks.set(idx, chunk);
      }
      chunk.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  /** Read without counting (test assertions). */
  peek(offset: number, length: number): Buffer {
    const end = Math.min(this.size, offset + length);
    const out = Buffer.alloc(Math.max(0, end - offset));
    let done = 0;
    while (done < out.length) {
      const pos = offset + done;
      const idx = Math.floor(pos / CHUNK);
      const within = pos % CHUNK;
      const n = Math.min(CHUNK - within, out.length - done);
      const chunk = this.chunks.get(idx);
      if (chunk) chunk.copy(out, done, within, within + n);
      done += n;
    }
    return out;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this.path, offset, length, null);
    ioStats.reads++;
    this.readLog.push([offset, length]);
    const out = this.peek(offset, length);
    ioStats.bytesRead += out.length;
    return out;
  }

  async write(offset: number, data: Uint8Array, what: string): Promise<void> {
    checkRange(this.path, offset, data.length, this.size);
    if (!what) throw new LwdiskError('ELWD_IO', this.path, 'unnamed write');
    ioStats.writes++;
    ioStats.bytesWritten += data.length;
    this.poke(offset, data);
  }

  async close(): Promise<void> {}
}
