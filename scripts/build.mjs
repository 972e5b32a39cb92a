// Bundle the CLI into one self-contained file: dist/lwdisk.mjs (runs with a bare `node`).
// Dynamic imports of commands stay lazy: esbuild wraps them so their code runs only when used.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = new URL('../dist/lwdisk.mjs', import.meta.url).pathname;

await build({
  entryPoints: [new URL('../cli/main.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: process.env.LWDISK_NO_MINIFY !== '1',
  legalComments: 'none',
  define: { __LWDISK_VERSION__: JSON.stringify(pkg.version) },
  // CJS dependencies (buffer-layout, crc-32) need `require` inside an ESM bundle.
  banner: { js: "import { createRequire as __lwdiskCreateRequire } from 'node:module'; const require = __lwdiskCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
