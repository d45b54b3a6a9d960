// Bundles the CLI with esbuild into one CommonJS file, dist/main.cjs (node
// loads CommonJS faster than ESM); bin/tw.cjs requires it. A command's code
// runs only when that command does (esbuild wraps each lazily imported module),
// so `tw --version` executes almost nothing. better-sqlite3's JavaScript is
// bundled; its addon is loaded by path at run time (src/store/open.ts).
//
// bin/tw.cjs runs the bundle with V8's code cache, dist/main.cache, which the
// build makes by running a launch once (see bin/tw.cjs).
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
rmSync('dist/cache', { recursive: true, force: true }); // node's compile cache, which builds made before
makeCodeCache();

/** Runs a launch of the new build in a store of its own, so that bin/tw.cjs writes V8's code cache. */
function makeCodeCache() {
  const tmp = mkdtempSync(join(tmpdir(), 'tw-build-'));
  const env = { ...process.env, TW_DB: join(tmp, 'tw.db'), TW_BUILD_CODE_CACHE: '1' };
  delete env.NODE_OPTIONS;
  try {
    spawnSync(process.execPath, ['bin/tw.cjs', 'launch', '--', 'true'], { env, stdio: 'ignore', cwd: process.cwd() });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
