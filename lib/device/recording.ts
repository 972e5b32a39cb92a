// Write-recording BlockDevice: what --dry-run runs. Reads see the device as the real run would
// (underlying bytes with the recorded writes laid over them); writes are recorded, never applied.
import { type BlockDevice, type DeviceKind, type WriteRecord, checkRange } from './block-device.js';

export class RecordingDevice implements BlockDevice {
  readonly path: string;
  readonly kind: DeviceKind;
  readonly size: number;
  readonly sectorSize: number;
  readonly sectorSizeKnown: boolean;
  readonly writable = true;
  readonly writes: WriteRecord[] = [];
  private readonly overlay: Array<{ offset: number; data: Buffer }> = [];

  constructor(private readonly inner: BlockDevice) {
    this.path = inner.path;
    this.kind = inner.kind;
    this.size = inner.size;
    this.sectorSize = inner.sectorSize;
    this.sectorSizeKnown = inner.sectorSizeKnown;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const base = await this.inner.read(offset, length);
    const out = Buffer.from(base);
    for (const w of this.overlay) {
      const start = Math.max(offset, w.offset);
      const end = Math.min(offset + out.length, w.offset + w.data.length);
      if (start < end) w.data.copy(out, start - offset, start - w.offset, end - w.offset);
    }
    return out;
  }

  async write(offset: number, data: Uint8Array, what: string): Promise<void> {
    checkRange(this.path, offset, data.length, this.size);
    this.overlay.push({ offset, data: Buffer.from(data) });
    this.writes.push({ path: this.path, offset, length: data.length, what });
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}

/** Forwards every call to a real device and keeps the list of writes (what a real run prints). */
export class TracingDevice implements BlockDevice {
  readonly path: string;
  readonly kind: DeviceKind;
  readonly size: number;
  readonly sectorSize: number;
  readonly sectorSizeKnown: boolean;
  readonly writable: boolean;
  readonly writes: WriteRecord[] = [];

  constructor(private readonly inner: BlockDevice) {
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

  async write(offset: number, data: Uint8Array, what: string): Promise<void> {
    await this.inner.write(offset, data, what);
    this.writes.push({ path: this.path, offset, length: data.length, what });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
