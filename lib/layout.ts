// The Lightwhale partition layout (SPEC "Partition layout written by lwdisk"), pure arithmetic:
// GPT with 128 entries; starts aligned to 1 MiB in bytes whatever the sector size; partition 1
// `lightwhale-swap` of the swap size at 1 MiB, partition 2 `lightwhale-data` over the rest (to the
// last 1 MiB boundary before the backup GPT, as sfdisk does). The data partition must keep at least 128 MiB.
import { LwdiskError } from './errors.js';
import { buildGpt, type GptImage, type NewPartition, usableRange } from './format/gpt.js';
import { DATA_PARTITION_NAME, GIB, LINUX_FS_TYPE, MIB, MIN_DATA_BYTES, SWAP_PARTITION_NAME, SWAP_TYPE } from './names.js';
import { type RandomSource, randomGuid } from './random.js';

/** Default swap: min(1 GiB, disk / 8), rounded down to 1 MiB (0 means none). */
export const defaultSwapSize = (diskSize: number): number => Math.floor(Math.min(GIB, diskSize / 8) / MIB) * MIB;

export interface PlannedPartition {
  number: number;
  name: string;
  type: string;
  start: number;
  size: number;
  firstLba: bigint;
  lastLba: bigint;
}

export interface LightwhaleLayout {
  sectorSize: number;
  totalSectors: bigint;
  swap: PlannedPartition | null;
  data: PlannedPartition;
}

/**
 * Where the partitions go on a disk of `size` bytes. `swapSize` is in bytes (0 for none) and must be
 * a multiple of 1 MiB. Throws ELWD_TOO_SMALL when the data partition would get less than 128 MiB.
 */
export function planLayout(path: string, size: number, sectorSize: number, swapSize: number): LightwhaleLayout {
  if (sectorSize !== 512 && sectorSize !== 4096) throw new LwdiskError('ELWD_USAGE', path, `unsupported logical sector size ${sectorSize} (512 or 4096)`);
  if (swapSize % MIB !== 0 || swapSize < 0) throw new LwdiskError('ELWD_USAGE', '--swap-size', 'must be a whole number of MiB');
  const totalSectors = BigInt(Math.floor(size / sectorSize));
  const align = BigInt(MIB / sectorSize);
  const { last } = usableRange(sectorSize, totalSectors);
  const ss = BigInt(sectorSize);
  let next = align;
  let swap: PlannedPartition | null = null;
  if (swapSize > 0) {
    const sectors = BigInt(swapSize) / ss;
    swap = { number: 1, name: SWAP_PARTITION_NAME, type: SWAP_TYPE, start: MIB, size: swapSize, firstLba: next, lastLba: next + sectors - 1n };
    next += sectors;
  }
  // End on a 1 MiB boundary too (as sfdisk does), so no tool warns about the alignment.
  const end = ((last + 1n) / align) * align - 1n;
  const dataSectors = end - next + 1n;
  const dataBytes = dataSectors > 0n ? Number(dataSectors * ss) : 0;
  if (dataBytes < MIN_DATA_BYTES) {
    const need = Number(next * ss) + MIN_DATA_BYTES + Number((totalSectors - last) * ss);
    throw new LwdiskError(
      'ELWD_TOO_SMALL',
      path,
      `${size} bytes leave ${Math.max(0, Math.floor(dataBytes / MIB))} MiB for data${swap ? ` after ${swapSize / MIB} MiB of swap` : ''}; btrfs needs at least ${MIN_DATA_BYTES / MIB} MiB (disk of at least ${Math.ceil(need / MIB)} MiB)`,
    );
  }
  const data: PlannedPartition = { number: swap ? 2 : 1, name: DATA_PARTITION_NAME, type: LINUX_FS_TYPE, start: Number(next * ss), size: dataBytes, firstLba: next, lastLba: end };
  return { sectorSize, totalSectors, swap, data };
}

/** The GPT blocks for a layout, with random (or seeded) disk and partition GUIDs. */
export function layoutGpt(layout: LightwhaleLayout, random: RandomSource): GptImage {
  const parts: NewPartition[] = [layout.swap, layout.data]
    .filter((p): p is PlannedPartition => p !== null)
    .map((p) => ({ typeGuid: p.type, uniqueGuid: randomGuid(random), firstLba: p.firstLba, lastLba: p.lastLba, name: p.name }));
  return buildGpt(layout.sectorSize, layout.totalSectors, randomGuid(random), parts);
}
