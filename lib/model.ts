// The scan model: what `scan --json` prints (SPEC "scan --json schema", schema 1) and what the
// boot planner reads. Sizes and offsets are numbers in bytes.

export const SCAN_SCHEMA = 1;

export type DeviceRole = 'magic-disk' | 'data-filesystem' | 'partitioned' | 'foreign' | 'empty';
export type PartitionRole = 'magic-swap-partition' | 'magic-data-partition' | 'data-filesystem' | 'foreign' | 'empty';

export interface FilesystemModel {
  type: string;
  label: string | null;
  uuid: string | null;
  usage?: string;
  version?: string | number;
  /** btrfs */
  uuidSub?: string;
  devid?: number;
  numDevices?: number;
  generation?: number;
  /** swap */
  pageSize?: number;
  /** Offset of the signature's magic from the start of the device or partition. */
  magicOffset?: number;
}

export interface PartitionModel {
  number: number;
  /** /dev node when the kernel has one; null inside an image file. */
  path: string | null;
  start: number;
  size: number;
  /** GPT type GUID, or "0x83" style MBR type. */
  type: string;
  name: string | null;
  uuid: string | null;
  role: PartitionRole;
  filesystem: FilesystemModel | null;
  inUse: boolean;
  /** Other signatures found beside `filesystem` (ambivalent content). */
  otherSignatures: string[];
  problems: string[];
}

export interface TableModel {
  type: 'gpt' | 'mbr';
  id: string;
  /** Logical sector size the table was found at. */
  sectorSize: number;
  problems: string[];
  partitions: PartitionModel[];
}

export interface DeviceModel {
  path: string;
  kind: 'disk' | 'partition' | 'image';
  size: number;
  sectorSize: number;
  magic: boolean;
  inUse: boolean;
  /** Why the device counts as in use (mounted at …, active swap, held by …, partition N …). */
  inUseReasons: string[];
  role: DeviceRole;
  table: TableModel | null;
  filesystem: FilesystemModel | null;
  otherSignatures: string[];
  model: string | null;
  serial: string | null;
  /** major:minor for block devices. */
  dev: string | null;
  diskseq: string | null;
  problems: string[];
}

export interface ScanModel {
  schema: typeof SCAN_SCHEMA;
  devices: DeviceModel[];
}
