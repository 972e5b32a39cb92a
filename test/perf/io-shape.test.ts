// The I/O shape of a scan is a performance contract (issue 6): a disk with P partitions costs at
// most 1 + P reads (plus the backup GPT only where the primary is unusable), issued for all devices
// concurrently in two dependent rounds (disk heads, then partition heads). This test counts the
// read calls at the seam for the fixture set and fails if the count grows.
import t from 'tap';
import { type BlockDevice } from '../../lib/device/block-device.js';
import { FileDevice } from '../../lib/device/file.js';
import { ForwardingDevice } from '../../lib/device/recording.js';
import { probeDevice } from '../../lib/probe.js';
import { fixtureNames, unpackFixture, DAMAGED } from '../helpers/fixtures.js';
import { scratchDir } from '../helpers/system.js';

/** Holds every read until the test opens the gate: one opening = one dependent round of I/O. */
class Gate {
  private queue: Array<() => void> = [];
  reads = 0;
  wait(): Promise<void> {
    this.reads++;
    return new Promise((resolve) => this.queue.push(resolve));
  }
  /** Release what is queued now; returns how many reads that round had. */
  open(): number {
    const q = this.queue;
    this.queue = [];
    for (const r of q) r();
    return q.length;
  }
}

class GatedDevice extends ForwardingDevice {
  reads = 0;
  constructor(
    inner: BlockDevice,
    private readonly gate: Gate,
  ) {
    super(inner);
  }
  override async read(offset: number, length: number): Promise<Buffer> {
    this.reads++;
    await this.gate.wait();
    return this.inner.read(offset, length);
  }
  override async write(): Promise<void> {
    throw new Error('read-only');
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Probe devices concurrently behind one gate; returns reads per device and the rounds needed. */
async function gatedScan(devs: BlockDevice[]): Promise<{ perDevice: number[]; rounds: number[]; partitions: number[] }> {
  const gate = new Gate();
  const gated = devs.map((d) => new GatedDevice(d, gate));
  let done = false;
  const all = Promise.all(gated.map((g) => probeDevice(g))).finally(() => (done = true));
  const rounds: number[] = [];
  while (!done) {
    for (let i = 0; i < 20; i++) await tick(); // let every probe issue what it can
    const n = gate.open();
    if (n) rounds.push(n);
    else if (!done) await tick();
  }
  const results = await all;
  return { perDevice: gated.map((g) => g.reads), rounds, partitions: results.map((r) => r.model.table?.partitions.length ?? 0) };
}

// Read calls for a scan of the whole fixture set, recorded once (25 fixtures: 25 heads, 46
// partition heads and entry arrays, 5 backup GPTs). More reads than this is a regression; fewer is
// an improvement (lower it). New fixtures raise it by their own 1 + P.
const EXPECTED_TOTAL_READS = 56;
const EXPECTED_FIXTURES = 25;

t.test('scan reads at most 1 + P per disk, in two concurrent rounds', async (t) => {
  const { dir, cleanup } = scratchDir();
  t.teardown(cleanup);
  const names = fixtureNames();
  t.ok(names.length >= 10, `${names.length} fixtures`);
  const paths = await Promise.all(names.map((n) => unpackFixture(n, dir)));
  const devs = await Promise.all(paths.map((p) => FileDevice.open(p)));
  const { perDevice, rounds, partitions } = await gatedScan(devs);
  await Promise.all(devs.map((d) => d.close()));
  let total = 0;
  names.forEach((name, i) => {
    const reads = perDevice[i]!;
    total += reads;
    const p = partitions[i]!;
    // Damaged primaries fall back to the backup GPT: one more read for it; a primary entry array
    // outside the head (never written by real tools) costs one more too.
    const allowance = name in DAMAGED ? 2 : 0;
    t.ok(reads <= 1 + p + allowance, `${name}: ${reads} reads for ${p} partition(s)`);
  });
  const healthy = names.filter((n) => !(n in DAMAGED));
  // Healthy disks need two rounds (heads, then partition heads); a disk whose primary GPT is
  // unusable needs a third (its backup GPT sits between the two).
  t.ok(rounds.length <= 3, `rounds of dependent reads: ${rounds.join(' + ')}`);
  t.equal(rounds[0], names.length, 'round 1 reads every device head at once');
  t.comment(`${total} reads for ${names.length} fixtures (${healthy.length} healthy); rounds ${rounds.join(', ')}`);
  if (names.length === EXPECTED_FIXTURES) t.ok(total <= EXPECTED_TOTAL_READS, `total reads ${total} ≤ recorded ${EXPECTED_TOTAL_READS}`);
  else t.ok(total <= EXPECTED_TOTAL_READS + (names.length - EXPECTED_FIXTURES) * 3, `total reads ${total} for ${names.length} fixtures (update the recorded count)`);
  for (const name of healthy) {
    const i = names.indexOf(name);
    t.equal(perDevice[i], 1 + partitions[i]!, `${name}: exactly 1 + ${partitions[i]} reads`);
  }
});
