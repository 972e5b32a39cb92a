// Wrappers around a BlockDevice. RecordingDevice is what --dry-run runs: reads see the device as
// the real run would (underlying bytes with the recorded writes laid over them); writes are
// recorded, never applied. TracingDevice forwards everything and keeps the list of writes (what a
// real run prints).
import { type BlockDevice, type DeviceKind, type WriteRecord, checkRange } from './block-device.js';

/** Forwards every call to `inner`; subclasses override what they change. */
export class ForwardingDevice implements BlockDevice {
  readonly path: string;
  readonly kind: DeviceKind;
  readonly size: number;
  readonly sectorSize: number;
  readonly sectorSizeKnown: boolean;
  readonly writable: boolean;

  constructor(protected readonly inner: BlockDevice) {
    this.path = inner.path;
    this.kind = inner.kind;
    this.size = inner.size;
    this.sectorSize = inner.sectorSize;
    this.sectorSizeKnown = inner.sectorSizeKnown;
    this.writable = inner.writable;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.inner.read(offset, length);
  }

  write(offset: number, data: Uint8Array, what: string): Promise<void> {
    return this.inner.write(offset, data, what);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export class RecordingDevice extends ForwardingDevice {
  override readonly writable = true;
  readonly writes: WriteRecord[] = [];
  private readonly overlay: Array<{ offset: number; data: Buffer }> = [];

  override async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.from(await this.inner.read(offset, length));
    for (const w of this.overlay) {
      const start = Math.max(offset, w.offset);
      const end = Math.min(offset + out.length, w.offset + w.data.length);
      if (start < end) w.data.copy(out, start - offset, start - w.offset, end - w.offset);
    }
    return out;
  }

  override async write(offset: number, data: Uint8Array, what: string): Promise<void> {
    checkRange(this.path, offset, data.length, this.size);
    this.overlay.push({ offset, data: Buffer.from(data) });
    this.writes.push({ path: this.path, offset, length: data.length, what });
  }
}

export class TracingDevice extends ForwardingDevice {
  readonly writes: WriteRecord[] = [];

  override async write(offset: number, data: Uint8Array, what: string): Promise<void> {
    await this.inner.write(offset, data, what);
    this.writes.push({ path: this.path, offset, length: data.length, what });
  }
}
