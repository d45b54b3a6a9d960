// Bundles the CLI with esbuild into one CommonJS file, dist/main.cjs (node
// loads CommonJS faster than ESM); bin/tw.cjs requires it. A command's code
// runs only when that command does (esbuild wraps each lazily imported module),
// so `tw --version` executes almost nothing. better-sqlite3's JavaScript is
// bundled; its addon is loaded by path at run time (src/store/open.ts).
//
// Where node has module.enableCompileCache (22.1 and later), bin/tw.cjs keeps
// V8's compiled code in dist/cache; the build warms it by running tw once.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const result = await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logOverride: { 'empty-import-meta': 'silent' },
  // import() of a command's module becomes a lazy require() inside the bundle: no ESM loader.
  supported: { 'dynamic-import': false },
  define: { TW_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
  write: false,
});
// One rename: a tw starting meanwhile loads the old bundle or the new one, whole.
// (Older builds made dist a link to a dist-* folder: replace those.)
if (lstatSync('dist', { throwIfNoEntry: false })?.isSymbolicLink()) rmSync('dist');
for (const name of readdirSync('.')) if (/^dist[-.]/.test(name)) rmSync(name, { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
writeFileSync(`dist/main.cjs.${process.pid}`, result.outputFiles[0].contents);
renameSync(`dist/main.cjs.${process.pid}`, 'dist/main.cjs');
rmSync('dist/cache', { recursive: true, force: true });
warmCompileCache();

/** Runs the new build in a store of its own, so that node writes its compile cache (where it has one). */
function warmCompileCache() {
  const tmp = mkdtempSync(join(tmpdir(), 'tw-build-'));
  const env = { ...process.env, TW_DB: join(tmp, 'tw.db') };
  delete env.NODE_OPTIONS;
  try {
    for (const args of [['list'], ['launch', '--', 'true'], ['describe']]) {
      spawnSync(process.execPath, ['bin/tw.cjs', ...args], { env, stdio: 'ignore' });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
