// The README's "main job on the bundled fixture images": unpack every fixture (sparse) into a temp
// dir, `lwdisk scan` them all, and `lwdisk inspect --check` a good and a damaged one.
// Run with `npm run demo` (it builds first). Read-only on the unpacked copies.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'fixtures');
const lwdisk = join(root, 'dist', 'lwdisk.mjs');
const dir = mkdtempSync(join(tmpdir(), 'lwdisk-demo-'));

async function unpack(name) {
  const out = join(dir, `${name}.img`);
  const fh = await open(out, 'w');
  let pos = 0;
  for await (const chunk of createReadStream(join(fixtures, `${name}.img.gz`)).pipe(createGunzip())) {
    // Skip all-zero chunks so the copy stays sparse.
    if (chunk.some((b) => b !== 0)) await fh.write(chunk, 0, chunk.length, pos);
    pos += chunk.length;
  }
  await fh.truncate(pos);
  await fh.close();
  return `${name}.img`;
}

const run = (args) => {
  process.stdout.write(`\n$ lwdisk ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [lwdisk, ...args], { cwd: dir, stdio: 'inherit' });
  process.stdout.write(`(exit ${r.status})\n`);
  return r.status;
};

try {
  const names = readdirSync(fixtures).filter((f) => f.endsWith('.img.gz')).map((f) => f.slice(0, -'.img.gz'.length)).sort();
  const images = [];
  for (const n of names) images.push(await unpack(n));
  const scan = run(['scan', ...images]);
  const good = run(['inspect', '--check', 'gpt-lightwhale-512.img']);
  const bad = run(['inspect', '--check', 'gpt-bad-primary-crc.img']);
  // A fresh 512 MiB disk marked the documented way (sparse), beside a foreign ext4 disk.
  const marked = join(dir, 'new-disk.img');
  const fh = await open(marked, 'w');
  await fh.truncate(512 * 1024 * 1024);
  await fh.write(Buffer.from('lightwhale-please-format-me\n'), 0, 28, 0);
  await fh.close();
  const plan = run(['boot', '--dry-run', '--devices', 'new-disk.img', 'ext4-whole.img']);
  const ok = scan === 0 && good === 0 && bad === 1 && plan === 0;
  process.stdout.write(`\ndemo ${ok ? 'ok' : 'FAILED'}: scan exit ${scan}, inspect --check exit ${good} (good) and ${bad} (damaged), boot --dry-run exit ${plan}\n`);
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
