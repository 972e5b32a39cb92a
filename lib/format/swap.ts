// Linux swap header v1. Sources: kernel include/linux/swap.h (union swap_header), mm/swapfile.c
// (read_swap_header); util-linux include/swapheader.h (struct swap_header_v1_2), disk-utils/mkswap.c,
// libblkid/src/superblocks/swap.c (probe_swap).
import * as BL from 'buffer-layout';
import { uuidFromBytes, uuidToBytes } from './guid.js';
import { assertOffset, assertSpan, cString } from './layout.js';

export const SWAP_MAGIC_V1 = Buffer.from('SWAPSPACE2', 'ascii');
export const SWAP_MAGIC_V0 = Buffer.from('SWAP-SPACE', 'ascii');
export const SWAP_MAGIC_LENGTH = 10;
/** Hibernation images sit at the same offsets (libblkid swap.c swsuspend magics). */
export const SWSUSPEND_MAGICS = ['S1SUSPEND', 'S2SUSPEND', 'ULSUSPEND', 'LINHIB0001', '\xed\xc3\x02\xe9\x98\x56\xe5\x0c'].map((m) => Buffer.from(m, 'latin1'));
/** Page sizes probed (libblkid: 4K..64K). */
export const SWAP_PAGE_SIZES = [4096, 8192, 16384, 32768, 65536] as const;
export const SWAP_HEADER_OFFSET = 1024;
export const SWAP_LABEL_SIZE = 16;
/** mkswap keeps at most 15 label bytes plus NUL. */
export const SWAP_LABEL_MAX = 15;
/** mkswap's minimum: 10 pages. */
export const SWAP_MIN_PAGES = 10;

/** struct swap_header_v1_2 from byte 1024 (after bootbits[1024]). */
export interface RawSwapHeader {
  version: number;
  lastPage: number;
  nrBadpages: number;
  uuid: Buffer;
  volumeName: Buffer;
  padding: number[];
}

const HEADER = BL.struct<RawSwapHeader>([
  BL.u32('version'),
  BL.u32('lastPage'),
  BL.u32('nrBadpages'),
  BL.blob(16, 'uuid'),
  BL.blob(SWAP_LABEL_SIZE, 'volumeName'),
  BL.seq(BL.u32(), 117, 'padding'),
]);
assertSpan(HEADER, 512, 'swap_header_v1_2 (after bootbits)');
assertOffset(HEADER, 'uuid', 0x40c - SWAP_HEADER_OFFSET, 'swap_header_v1_2');
assertOffset(HEADER, 'volumeName', 0x41c - SWAP_HEADER_OFFSET, 'swap_header_v1_2');

export interface SwapInfo {
  version: number;
  pageSize: number;
  lastPage: number;
  label: string;
  uuid: string;
  magic: 'SWAPSPACE2' | 'SWAP-SPACE';
  problems: string[];
}

/** Where the magic is for a page size. */
export const swapMagicOffset = (pageSize: number): number => pageSize - SWAP_MAGIC_LENGTH;

/** The page size whose magic is present (smallest first), or null. */
export function findSwapMagic(head: Uint8Array): { pageSize: number; magic: 'SWAPSPACE2' | 'SWAP-SPACE' | 'swsuspend' } | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  for (const p of SWAP_PAGE_SIZES) {
    const at = swapMagicOffset(p);
    if (b.length < at + SWAP_MAGIC_LENGTH) break;
    const m = b.subarray(at, at + SWAP_MAGIC_LENGTH);
    if (m.equals(SWAP_MAGIC_V1)) return { pageSize: p, magic: 'SWAPSPACE2' };
    if (m.equals(SWAP_MAGIC_V0)) return { pageSize: p, magic: 'SWAP-SPACE' };
    if (SWSUSPEND_MAGICS.some((s) => b.subarray(at, at + s.length).equals(s))) return { pageSize: p, magic: 'swsuspend' };
  }
  return null;
}

/**
 * Parse a swap area whose first bytes are `head` on a device of `deviceSize` bytes. Returns null
 * when no swap magic is found. Insane fields become problems.
 */
export function parseSwap(head: Uint8Array, deviceSize: number): SwapInfo | null {
  const found = findSwapMagic(head);
  if (!found || found.magic === 'swsuspend') return null;
  const problems: string[] = [];
  if (head.length < SWAP_HEADER_OFFSET + 512) return null;
  const raw = HEADER.decode(head, SWAP_HEADER_OFFSET);
  let version = raw.version;
  let lastPage = raw.lastPage;
  if (version === 0x01000000) {
    version = 1; // written by a machine of the other byte order
    lastPage = swap32(lastPage);
  }
  if (found.magic === 'SWAPSPACE2' && version !== 1) problems.push(`swap version ${raw.version} is not 1`);
  if (found.magic === 'SWAPSPACE2' && lastPage === 0) problems.push('swap last_page is 0');
  const devicePages = Math.floor(deviceSize / found.pageSize);
  if (lastPage >= devicePages && deviceSize > 0) problems.push(`swap last_page ${lastPage} beyond the device (${devicePages} pages)`);
  if (raw.nrBadpages > Math.floor((found.pageSize - 10 - 1536) / 4)) problems.push(`swap nr_badpages ${raw.nrBadpages} too large`);
  // libblkid reports LABEL/UUID only when padding[32] and padding[33] are zero.
  const labelled = raw.padding[32] === 0 && raw.padding[33] === 0;
  const label = labelled ? cString(raw.volumeName, 'utf8').text : '';
  return {
    version,
    pageSize: found.pageSize,
    lastPage,
    label,
    uuid: labelled ? uuidFromBytes(raw.uuid) : '',
    magic: found.magic,
    problems,
  };
}

const swap32 = (x: number): number => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

export interface SwapHeaderSpec {
  pageSize: number;
  /** Bytes of the area; the header uses floor(size / pageSize) pages. */
  size: number;
  uuid: string;
  label: string;
}

/** Validate a label for a swap header: ≤ 15 UTF-8 bytes, no NUL, no control characters. */
export function swapLabelProblem(label: string): string | null {
  const bytes = Buffer.byteLength(label, 'utf8');
  if (bytes > SWAP_LABEL_MAX) return `label is ${bytes} bytes; swap labels hold at most ${SWAP_LABEL_MAX}`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(label)) return 'label contains a control character';
  return null;
}

/** The whole first page of a new swap area (bootbits zero, header, padding zero, magic at P−10). */
export function buildSwapHeader(spec: SwapHeaderSpec): Buffer {
  const { pageSize, size } = spec;
  if (!SWAP_PAGE_SIZES.includes(pageSize as (typeof SWAP_PAGE_SIZES)[number])) throw new RangeError(`unsupported page size ${pageSize}`);
  const pages = Math.floor(size / pageSize);
  if (pages < SWAP_MIN_PAGES) throw new RangeError(`swap area needs at least ${SWAP_MIN_PAGES} pages of ${pageSize} bytes`);
  const labelProblem = swapLabelProblem(spec.label);
  if (labelProblem) throw new RangeError(labelProblem);
  const lastPage = Math.min(pages - 1, 0xffffffff);
  const page = Buffer.alloc(pageSize);
  const volumeName = Buffer.alloc(SWAP_LABEL_SIZE);
  volumeName.write(spec.label, 'utf8');
  HEADER.encode({ version: 1, lastPage, nrBadpages: 0, uuid: uuidToBytes(spec.uuid), volumeName, padding: new Array(117).fill(0) }, page, SWAP_HEADER_OFFSET);
  SWAP_MAGIC_V1.copy(page, swapMagicOffset(pageSize));
  return page;
}
