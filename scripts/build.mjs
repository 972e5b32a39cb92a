// Bundle the CLI into one self-contained file: dist/lwdisk.mjs (runs with a bare `node`).
// Dynamic imports of commands stay lazy: esbuild wraps them so their code runs only when used.
// Node built-ins are loaded with require() instead of ESM imports: an ESM import of a built-in
// materialises every export (util's lazy parseArgs, MIMEType, …), which costs start-up time on
// every boot. yargs' only use of `assert` gets a two-function shim for the same reason.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { chmodSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = new URL('../dist/lwdisk.mjs', import.meta.url).pathname;
const builtins = new Set(builtinModules);

const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(b) {
    b.onResolve({ filter: /^assert$/ }, () => ({ path: 'assert', namespace: 'assert-shim' }));
    b.onLoad({ filter: /.*/, namespace: 'assert-shim' }, () => ({
      contents: `const fail = (m) => { throw new Error(m || 'assertion failed'); };
export const strictEqual = (a, b, m) => { if (a !== b) fail(m); };
export const notStrictEqual = (a, b, m) => { if (a === b) fail(m); };`,
      loader: 'js',
    }));
    b.onResolve({ filter: /.*/ }, (a) => {
      const name = a.path.replace(/^node:/, '');
      if (!builtins.has(name)) return undefined;
      if (a.namespace === 'builtin') return { path: `node:${name}`, external: true };
      return { path: name, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(`node:${a.path}`)});`, loader: 'js' }));
  },
};

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
  plugins: [builtinsViaRequire],
  // CJS dependencies (buffer-layout, crc-32) and the built-ins need `require` inside an ESM bundle.
  banner: { js: "import { createRequire as __lwdiskCreateRequire } from 'node:module'; const require = __lwdiskCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
