// BlockDevice over a Node file descriptor: regular image files and block devices.
// Buffered I/O plus fsync (O_DIRECT does not work with Node's unaligned buffers); positions are
// checked to be safe integers before every call; block devices are opened O_EXCL for writing.
// The callback API of node:fs is used (promisified) rather than node:fs/promises, which pulls in
// streams and readline at start-up: lwdisk runs on every boot and its start-up time matters.
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { LwdiskError, fromSystemError } from '../errors.js';
import { splitDev, sysBlockByDev, type MajorMinor, type SysBlock } from '../system/sysfs.js';
import { type BlockDevice, type DeviceKind, checkRange, ioStats } from './block-device.js';
import { faultPoint } from './fault.js';

export interface OpenOptions {
  /** Open for writing (O_RDWR, plus O_EXCL on block devices). */
  write?: boolean;
}

/** What a path is, without opening it (opening a FIFO would block). */
export interface PathFacts {
  path: string;
  kind: DeviceKind;
  size: number;
  dev: MajorMinor | null;
  /** st_dev:st_ino of the path, identifying image files for locks. */
  inode: string;
  sys: SysBlock | null;
}

const fsStat = promisify(fs.stat);
const fsOpen = promisify(fs.open);
const fsFstat = promisify(fs.fstat);
const fsRead = promisify(fs.read);
const fsWrite = promisify(fs.write);
const fsFsync = promisify(fs.fsync);
const fsClose = promisify(fs.close);

export async function statPath(path: string): Promise<PathFacts> {
  let st;
  try {
    st = await fsStat(path, { bigint: true });
  } catch (err) {
    throw fromSystemError(err, path, 'stat');
  }
  const inode = `${st.dev}:${st.ino}`;
  if (st.isDirectory()) throw new LwdiskError('ELWD_NOT_A_DEVICE', path, 'is a directory');
  if (st.isFile()) {
    const size = Number(st.size);
    return { path, kind: 'image', size, dev: null, inode, sys: null };
  }
  if (st.isBlockDevice()) {
    const dev = splitDev(st.rdev);
    const sys = sysBlockByDev(dev);
    if (!sys) throw new LwdiskError('ELWD_NOT_FOUND', path, `the kernel has no block device ${dev.major}:${dev.minor} in /sys`);
    return { path, kind: sys.isPartition ? 'partition' : 'disk', size: sys.size, dev, inode, sys };
  }
  const what = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isSocket() ? 'a socket' : 'not a regular file';
  throw new LwdiskError('ELWD_NOT_A_DEVICE', path, `is ${what}, not a block device or image file`);
}

export class FileDevice implements BlockDevice {
  readonly path: string;
  readonly kind: DeviceKind;
  readonly size: number;
  readonly sectorSize: number;
  readonly sectorSizeKnown: boolean;
  readonly writable: boolean;
  readonly facts: PathFacts;
  private fd: number | null;

  private constructor(facts: PathFacts, fd: number, writable: boolean) {
    this.facts = facts;
    this.path = facts.path;
    this.kind = facts.kind;
    this.size = facts.size;
    this.sectorSize = facts.sys?.logicalBlockSize ?? 512;
    this.sectorSizeKnown = facts.sys !== null;
    this.writable = writable;
    this.fd = fd;
  }

  static async open(path: string, options: OpenOptions = {}): Promise<FileDevice> {
    const facts = await statPath(path);
    const block = facts.kind !== 'image';
    let flags = options.write ? fs.constants.O_RDWR : fs.constants.O_RDONLY;
    if (options.write && block) flags |= fs.constants.O_EXCL;
    if (!options.write) flags |= fs.constants.O_NONBLOCK; // never hang on a path that changed under us
    let fd: number;
    try {
      fd = await fsOpen(path, flags);
    } catch (err) {
      throw fromSystemError(err, path, options.write ? 'opening for writing' : 'opening');
    }
    // The path must still be what we looked at.
    const st = await fsFstat(fd, { bigint: true });
    if (`${st.dev}:${st.ino}` !== facts.inode) {
      await fsClose(fd);
      throw new LwdiskError('ELWD_CHANGED', path, 'changed while being opened');
    }
    return new FileDevice(facts, fd, !!options.write);
  }

  private handle(): number {
    if (this.fd === null) throw new LwdiskError('ELWD_IO', this.path, 'device already closed');
    return this.fd;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this.path, offset, length, null);
    const buf = Buffer.allocUnsafe(length); // only the bytes read are returned
    let done = 0;
    ioStats.reads++;
    try {
      while (done < length) {
        const { bytesRead } = await fsRead(this.handle(), buf, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw fromSystemError(err, this.path, `reading ${length} bytes at ${offset}`);
    }
    ioStats.bytesRead += done;
    return done === length ? buf : buf.subarray(0, done);
  }

  async write(offset: number, data: Uint8Array, what: string): Promise<void> {
    if (!this.writable) throw new LwdiskError('ELWD_IO', this.path, 'not opened for writing');
    checkRange(this.path, offset, data.length, this.size);
    faultPoint('write', `${what} @${offset}+${data.length} ${this.path}`);
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await fsWrite(this.handle(), data, done, data.length - done, offset + done);
        if (bytesWritten === 0) throw new LwdiskError('ELWD_IO', this.path, `short write of ${what}`);
        done += bytesWritten;
      }
      await fsFsync(this.handle());
    } catch (err) {
      throw fromSystemError(err, this.path, `writing ${what} at ${offset}`);
    }
    ioStats.writes++;
    ioStats.syncs++;
    ioStats.bytesWritten += data.length;
    const back = await this.read(offset, data.length);
    if (!back.equals(data)) throw new LwdiskError('ELWD_READBACK', this.path, `${what} at ${offset} did not read back as written`);
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await fsClose(fd);
  }
}
