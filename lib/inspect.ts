// `inspect`: every structure found, field by field, from a probe done with the backup GPT and the
// deep (tail) probes. Pure: ProbeResult → report object.
import type { BtrfsInfo } from './format/btrfs.js';
import type { HeaderCheck } from './format/gpt.js';
import { mbrTypeText } from './format/mbr.js';
import type { SwapInfo } from './format/swap.js';
import type { DeviceModel, FilesystemModel } from './model.js';
import type { ContentProbe, ProbeResult } from './probe.js';

const hex32 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const hex64 = (n: bigint): string => `0x${n.toString(16).padStart(16, '0')}`;

function headerReport(h: (HeaderCheck & { entryCrcOk: boolean | null; lba?: bigint }) | null, lba: bigint) {
  if (!h) return null;
  const x = h.header;
  return {
    lba: h.lba ?? lba,
    valid: h.valid,
    signature: x.signature.toString('latin1').replace(/[^\x20-\x7e]/g, '.'),
    revision: hex32(x.revision),
    headerSize: x.headerSize,
    headerCrc32: hex32(x.headerCrc32),
    headerCrcOk: h.crcOk,
    myLba: x.myLba,
    alternateLba: x.alternateLba,
    firstUsableLba: x.firstUsableLba,
    lastUsableLba: x.lastUsableLba,
    diskGuid: x.diskGuid,
    partitionEntryLba: x.partitionEntryLba,
    numberOfPartitionEntries: x.numberOfPartitionEntries,
    sizeOfPartitionEntry: x.sizeOfPartitionEntry,
    partitionEntryArrayCrc32: hex32(x.partitionEntryArrayCrc32),
    entryArrayCrcOk: h.entryCrcOk,
    problems: h.problems,
  };
}

const btrfsReport = (b: BtrfsInfo) => ({
  type: 'btrfs',
  label: b.label,
  fsid: b.uuid,
  uuidSub: b.uuidSub,
  devid: b.devid,
  numDevices: b.numDevices,
  generation: b.generation,
  bytenr: b.raw.bytenr,
  flags: hex64(b.raw.flags),
  totalBytes: b.totalBytes,
  bytesUsed: b.raw.bytesUsed,
  deviceTotalBytes: b.raw.devItem.totalBytes,
  sectorsize: b.sectorsize,
  nodesize: b.nodesize,
  stripesize: b.raw.stripesize,
  csumType: b.csumType === 0 ? 'crc32c' : b.csumType === 1 ? 'xxhash64' : b.csumType === 2 ? 'sha256' : b.csumType === 3 ? 'blake2b' : `unknown (${b.csumType})`,
  csum: hex32(b.raw.csum.readUInt32LE(0)),
  csumOk: b.csumOk,
  compatRoFlags: hex64(b.raw.compatRoFlags),
  incompatFlags: hex64(b.raw.incompatFlags),
  sysChunkArraySize: b.raw.sysChunkArraySize,
  problems: b.problems,
});

const swapReport = (s: SwapInfo) => ({ type: 'swap', magic: s.magic, version: s.version, pageSize: s.pageSize, lastPage: s.lastPage, label: s.label, uuid: s.uuid, problems: s.problems });

function contentReport(c: ContentProbe | null) {
  if (!c) return null;
  const superblocks: object[] = [];
  if (c.btrfs) superblocks.push(btrfsReport(c.btrfs));
  if (c.swap) superblocks.push(swapReport(c.swap));
  for (const s of c.signatures) superblocks.push({ ...s });
  return { filesystem: c.filesystem as FilesystemModel | null, otherSignatures: c.others, superblocks, problems: c.problems };
}

/** Every problem of a device model (device, table, partitions), each prefixed with where it is. */
export function allProblems(m: DeviceModel): string[] {
  const out = [...m.problems];
  if (m.table) {
    out.push(...m.table.problems);
    for (const p of m.table.partitions) out.push(...p.problems.map((x) => `partition ${p.number}: ${x}`));
  }
  return [...new Set(out)];
}

export function inspectReport(r: ProbeResult) {
  const { model, detail } = r;
  const mbr = detail.mbr
    ? {
        kind: detail.mbrKind,
        signature: hex32(detail.mbr.signature).replace(/^0x0000/, '0x'),
        bootCodeZero: detail.mbr.bootCode.every((b) => b === 0),
        diskSignature: hex32(detail.mbr.uniqueMbrSignature),
        records: detail.mbr.partitions.map((p, index) => ({
          index,
          bootIndicator: `0x${p.bootIndicator.toString(16).padStart(2, '0')}`,
          type: mbrTypeText(p.osType),
          startChs: p.startChs.toString('hex'),
          endChs: p.endChs.toString('hex'),
          startingLba: p.startingLba,
          sizeInLba: p.sizeInLba,
        })),
      }
    : null;
  const gpt =
    detail.primary || detail.backup
      ? {
          sectorSize: detail.sectorSize,
          primary: headerReport(detail.primary, 1n),
          backup: headerReport(detail.backup, detail.backup?.lba ?? 0n),
          entries: detail.entries.map((e) => ({
            number: e.index + 1,
            typeGuid: e.typeGuid,
            uniqueGuid: e.uniqueGuid,
            firstLba: e.firstLba,
            lastLba: e.lastLba,
            attributes: hex64(e.attributes),
            name: e.name,
          })),
        }
      : null;
  return {
    schema: 1,
    path: model.path,
    kind: model.kind,
    size: model.size,
    sectorSize: model.sectorSize,
    magic: model.magic,
    role: model.role,
    inUse: model.inUse,
    inUseReasons: model.inUseReasons,
    mbr,
    gpt,
    table: model.table ? { type: model.table.type, id: model.table.id, problems: model.table.problems } : null,
    content: contentReport(detail.content),
    partitions: (model.table?.partitions ?? []).map((p) => ({
      ...p,
      content: contentReport(detail.partitions.find((x) => x.number === p.number)?.content ?? null),
    })),
    problems: allProblems(model),
  };
}

export type InspectReport = ReturnType<typeof inspectReport>;
